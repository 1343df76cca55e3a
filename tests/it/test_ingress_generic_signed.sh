#!/usr/bin/env bash
# Signed generic webhooks (Standard Webhooks): a tenant with webhook_secret_env requires webhook-id,
# webhook-timestamp and webhook-signature on POST /webhook; signatures here are computed by the openssl CLI, not
# by lull. Good → stored; missing → 400; wrong key, changed body, stale or future timestamp → 403; the secret
# variable unset → 503; nothing stored on a refusal. A tenant without a secret still takes unsigned webhooks.
# Without message.id, a signed webhook is deduplicated by its webhook-id (a replay within the 5 minutes stores
# nothing).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingress_lib.sh"
it_db_create || it_finish
SECRET="whsec_$(printf 'generic-webhook-test-secret-0123' | base64 -w0)"
OTHER="whsec_$(printf 'some-other-secret-of-32-bytes-xx' | base64 -w0)"
it_sql "INSERT INTO tenants (slug, webhook_secret_env) VALUES ('signed', 'LULL_TENANT_SIGNED_WH'),
                                                              ('unset', 'LULL_TENANT_NOT_SET');
        INSERT INTO tenants (slug) VALUES ('plain')" >/dev/null
ing_start LULL_TENANT_SIGNED_WH="$SECRET"
count() { it_sql "SELECT count(*) FROM messages"; }

# sig SECRET ID TS BODY : "v1,<base64 HMAC-SHA256(key, id.ts.body)>" by openssl
sig() {
    local hexkey
    hexkey=$(printf '%s' "${1#whsec_}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
    printf 'v1,%s' "$(printf '%s.%s.%s' "$2" "$3" "$4" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hexkey" -binary | base64 -w0)"
}
# signed_post BODY ID TS SIGNATURE
signed_post() {
    ing_json /webhook "$1" -H "webhook-id: $2" -H "webhook-timestamp: $3" -H "webhook-signature: $4"
}
now=$(date +%s)
b1='{"tenant":"signed","contact_id":"s1","message":{"body":"signed hello","id":"sg-1"}}'
signed_post "$b1" msg_1 "$now" "$(sig "$SECRET" msg_1 "$now" "$b1")"
it_check_eq "good signature: 200, stored for the tenant" "200|signed|signed hello" \
    "$ING_CODE|$(it_sql "SELECT t.slug || '|' || m.body FROM messages m JOIN tenants t ON t.id = m.tenant_id WHERE provider_message_id = 'sg-1'")"
signed_post "$b1" msg_1 "$now" "$(sig "$SECRET" msg_1 "$now" "$b1")"
it_check_eq "the same signed delivery again: a duplicate" "200 true" "$ING_CODE $(jq -r .duplicate <<<"$ING_BODY")"
b2='{"tenant":"signed","contact_id":"s1","message":{"body":"rotated","id":"sg-2"}}'
signed_post "$b2" msg_2 "$now" "v1,$(printf 'x%.0s' {1..43})= $(sig "$OTHER" msg_2 "$now" "$b2") $(sig "$SECRET" msg_2 "$now" "$b2")"
it_check_eq "several signatures, one good (key rotation): 200" 200 "$ING_CODE"

before=$(count)
b3='{"tenant":"signed","contact_id":"s1","message":{"body":"forged","id":"sg-3"}}'
ing_json /webhook "$b3"
it_check_eq "no signature: 400 missing_signature" "400 missing_signature" "$ING_CODE $(jq -r .error.code <<<"$ING_BODY")"
ing_json /webhook "$b3" -H "webhook-id: msg_3" -H "webhook-timestamp: $now"
it_check_eq "no webhook-signature header: 400" 400 "$ING_CODE"
signed_post "$b3" msg_3 "$now" "$(sig "$OTHER" msg_3 "$now" "$b3")"
it_check_eq "signed with another key: 403 invalid_signature" "403 invalid_signature" "$ING_CODE $(jq -r .error.code <<<"$ING_BODY")"
signed_post "${b3/forged/forgeD}" msg_3 "$now" "$(sig "$SECRET" msg_3 "$now" "$b3")"
it_check_eq "body changed after signing: 403" 403 "$ING_CODE"
signed_post "$b3" msg_4 "$now" "$(sig "$SECRET" msg_3 "$now" "$b3")"
it_check_eq "webhook-id changed after signing: 403" 403 "$ING_CODE"
old=$((now - 600))
signed_post "$b3" msg_3 "$old" "$(sig "$SECRET" msg_3 "$old" "$b3")"
it_check_eq "timestamp 10 minutes old (validly signed): 403" 403 "$ING_CODE"
future=$((now + 600))
signed_post "$b3" msg_3 "$future" "$(sig "$SECRET" msg_3 "$future" "$b3")"
it_check_eq "timestamp 10 minutes ahead: 403" 403 "$ING_CODE"
signed_post "$b3" msg_3 "abc" "$(sig "$SECRET" msg_3 abc "$b3")"
it_check_eq "timestamp not a number: 403" 403 "$ING_CODE"
b4='{"tenant":"unset","contact_id":"u1","message":{"body":"x","id":"un-1"}}'
signed_post "$b4" msg_5 "$now" "$(sig "$SECRET" msg_5 "$now" "$b4")"
it_check_eq "tenant's secret variable unset: 503, retry later" "503 signature_unavailable" "$ING_CODE $(jq -r .error.code <<<"$ING_BODY")"
it_check_eq "… and warned about" 1 "$(jq -c 'select(.ev=="webhook.secret_unavailable" and .lvl=="warn" and .slug=="unset")' "$ING_LOG" | wc -l)"
it_check_eq "nothing stored on any refusal" "$before" "$(count)"
it_check "the log never holds the secret" sh -c "! grep -qF -e '$SECRET' -e '${SECRET#whsec_}' '$ING_LOG'"

ing_json /webhook '{"tenant":"plain","contact_id":"p1","message":{"body":"unsigned","id":"pl-1"}}'
it_check_eq "a tenant without a secret takes unsigned webhooks" 200 "$ING_CODE"
ing_json /webhook '{"contact_id":"d1","message":{"body":"default tenant"}}'
it_check_eq "… so does the default tenant" 200 "$ING_CODE"
it_sql "UPDATE tenants SET webhook_secret_env = 'LULL_TENANT_SIGNED_WH' WHERE slug = 'default'" >/dev/null
b5='{"contact_id":"d1","message":{"body":"now signed"}}'
ing_json /webhook "$b5"
it_check_eq "the default tenant with a secret requires it at once (no cache)" 400 "$ING_CODE"
signed_post "$b5" msg_6 "$now" "$(sig "$SECRET" msg_6 "$now" "$b5")"
it_check_eq "… and takes a signed one" 200 "$ING_CODE"

# --- without message.id, the webhook-id is the dedupe key: a replay of the captured request (within the
# timestamp tolerance) or the sender's retry is a duplicate, a new webhook-id is a new message
b6='{"tenant":"signed","contact_id":"s2","message":{"body":"no id, signed"}}'
signed_post "$b6" msg_7 "$now" "$(sig "$SECRET" msg_7 "$now" "$b6")"
first=$(jq -r .message_id <<<"$ING_BODY")
it_check_eq "signed without message.id: stored, keyed by its webhook-id" "200|false|webhook-id:msg_7" \
    "$ING_CODE|$(jq -r .duplicate <<<"$ING_BODY")|$(it_sql "SELECT provider_message_id FROM messages WHERE id = $first")"
signed_post "$b6" msg_7 "$now" "$(sig "$SECRET" msg_7 "$now" "$b6")"
it_check_eq "the same request replayed: a duplicate of the first, nothing stored" "200|true|$first|1" \
    "$ING_CODE|$(jq -r .duplicate <<<"$ING_BODY")|$(jq -r .message_id <<<"$ING_BODY")|$(it_sql "SELECT count(*) FROM messages WHERE body = 'no id, signed'")"
later=$((now + 1))
signed_post "$b6" msg_7 "$later" "$(sig "$SECRET" msg_7 "$later" "$b6")"
it_check_eq "the sender's retry (same webhook-id, new timestamp): a duplicate" "200|true" \
    "$ING_CODE|$(jq -r .duplicate <<<"$ING_BODY")"
signed_post "$b6" msg_8 "$now" "$(sig "$SECRET" msg_8 "$now" "$b6")"
it_check_eq "the same text under a new webhook-id: a new message" "200|false|2" \
    "$ING_CODE|$(jq -r .duplicate <<<"$ING_BODY")|$(it_sql "SELECT count(*) FROM messages WHERE body = 'no id, signed'")"
ing_json /webhook '{"tenant":"plain","contact_id":"p2","message":{"body":"plain twice"}}' -H "webhook-id: msg_9"
ing_json /webhook '{"tenant":"plain","contact_id":"p2","message":{"body":"plain twice"}}' -H "webhook-id: msg_9"
it_check_eq "an unsigned tenant's webhook-id header keys nothing (no verified sender): two messages" "2|0" \
    "$(it_sql "SELECT count(*), count(provider_message_id) FROM messages WHERE body = 'plain twice'")"
it_check "webhook_secret_env must be LULL_TENANT_… (CHECK)" \
    sh -c "! psql '$LULL_DATABASE_URL' -X -q -c \"UPDATE tenants SET webhook_secret_env = 'LULL_ADMIN_TOKEN' WHERE slug = 'plain'\""
it_stop "$ING_PID" TERM
it_finish
