#!/usr/bin/env bash
# Twilio status callbacks (POST /webhook/twilio/status?outbox=ID, signed like the inbound webhook): the outbox
# row's delivery_status / delivery_error move forward only (out-of-order callbacks change nothing), the SID
# must match the row, failures are logged; unsigned, tampered and malformed callbacks are refused.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingress_lib.sh"
it_db_create || it_finish
ing_start || it_finish

SID=SM0123456789abcdef0123456789abcdef
SID2=MMfedcba9876543210fedcba9876543210
o1=$(it_sql "INSERT INTO outbox (tenant_id, channel, recipient, payload, idempotency_key, status, provider_message_id)
             VALUES (1, 'sms', '+15550001111', '{\"body\":\"hi\",\"kind\":\"reply\"}', 'k1', 'sent', '$SID') RETURNING id")
o2=$(it_sql "INSERT INTO outbox (tenant_id, channel, recipient, payload, idempotency_key, status, provider_message_id)
             VALUES (1, 'whatsapp', 'whatsapp:+15550002222', '{\"body\":\"hi\",\"kind\":\"reply\"}', 'k2', 'sent', '$SID2') RETURNING id")

# status_post QUERY NAME=VALUE… : a signed status callback to /webhook/twilio/status$QUERY
status_post() {
    local q=$1 args=() kv; shift
    for kv in "$@"; do args+=(--data-urlencode "$kv"); done
    ing_req POST "/webhook/twilio/status$q" "" \
        -H "X-Twilio-Signature: $(twilio_sig "https://lull.example.com/webhook/twilio/status$q" "$@")" "${args[@]}"
}
row() { it_sql "SELECT coalesce(delivery_status, '') || '|' || coalesce(delivery_error, '') FROM outbox WHERE id = $1"; }

status_post "?outbox=$o1" MessageSid=$SID MessageStatus=sent AccountSid=AC1 To=+15550001111
it_check_eq "sent → 200 updated" "200|true|$o1" "$ING_CODE|$(jq -r .updated <<<"$ING_BODY")|$(jq -r .outbox_id <<<"$ING_BODY")"
it_check_eq "delivery_status sent" "sent|" "$(row "$o1")"
status_post "?outbox=$o1" MessageSid=$SID MessageStatus=delivered
it_check_eq "delivered moves it forward" "delivered|" "$(row "$o1")"
status_post "?outbox=$o1" MessageSid=$SID MessageStatus=sent
it_check_eq "a late 'sent' after 'delivered' is 200 but changes nothing" "200|false|delivered|" \
    "$ING_CODE|$(jq -r .updated <<<"$ING_BODY")|$(row "$o1")"
status_post "?outbox=$o1" MessageSid=$SID MessageStatus=read
it_check_eq "read after delivered (WhatsApp)" "read|" "$(row "$o1")"

# without the query parameter the SID alone finds the row; a failure keeps its error code and is logged
status_post "" MessageSid=$SID2 MessageStatus=undelivered ErrorCode=63016
it_check_eq "undelivered with error code, matched by SID" "200|undelivered|63016" "$ING_CODE|$(row "$o2")"
it_wait_for "the failure is logged with the code" 5 grep -q '"ev":"twilio.undelivered".*"error_code":"63016"' "$ING_LOG"
it_check_eq "delivery_updated_at set" t "$(it_sql "SELECT delivery_updated_at > now() - interval '1 minute' FROM outbox WHERE id = $o2")"

# the SID must belong to the row named in the query
status_post "?outbox=$o2" MessageSid=$SID MessageStatus=failed
it_check_eq "SID of another row → 200, nothing updated" "200|false|read|" "$ING_CODE|$(jq -r .updated <<<"$ING_BODY")|$(row "$o1")"

# refused
ing_req POST "/webhook/twilio/status?outbox=$o1" "" --data-urlencode "MessageSid=$SID" --data-urlencode MessageStatus=failed
it_check_eq "unsigned (no X-Twilio-Signature) → 400, nothing changed" "400|read|" "$ING_CODE|$(row "$o1")"
ing_req POST "/webhook/twilio/status?outbox=$o1" "" --data-urlencode "MessageSid=$SID" --data-urlencode MessageStatus=failed \
    -H "X-Twilio-Signature: $(twilio_sig "https://lull.example.com/webhook/twilio/status?outbox=$o2" MessageSid=$SID MessageStatus=failed)"
it_check_eq "signed for another URL (outbox id changed) → 403" 403 "$ING_CODE"
status_post "?outbox=$o1" MessageSid=SMnothex MessageStatus=sent
it_check_eq "malformed SID → 400" "400|invalid_field" "$ING_CODE|$(jq -r .error.code <<<"$ING_BODY")"
status_post "?outbox=$o1" MessageSid=$SID MessageStatus=exploded
it_check_eq "unknown status → 400" "400|invalid_field" "$ING_CODE|$(jq -r .error.code <<<"$ING_BODY")"
status_post "?outbox=$o1" MessageSid=$SID
it_check_eq "missing MessageStatus → 400" "400|missing_field" "$ING_CODE|$(jq -r .error.code <<<"$ING_BODY")"
status_post "?outbox=abc" MessageSid=$SID MessageStatus=sent
it_check_eq "bad outbox parameter → 400" 400 "$ING_CODE"
status_post "?outbox=$o1" MessageSid=$SID MessageStatus=failed ErrorCode=12ab
it_check_eq "non-numeric ErrorCode → 400" 400 "$ING_CODE"
ing_req GET /webhook/twilio/status ""
it_check_eq "GET → 405" 405 "$ING_CODE"
it_check_eq "nothing of the refused callbacks reached the rows" "read||undelivered|63016" "$(row "$o1")|$(row "$o2")"

it_stop "$ING_PID"
it_check_eq "ingress exits 0" 0 "$IT_RC"
it_finish
