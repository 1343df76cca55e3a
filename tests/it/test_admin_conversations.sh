#!/usr/bin/env bash
# Admin API, conversations: list with filters, search and keyset pagination; show with contact, messages,
# analyses and escalations; messages; a human reply (message + outbox row + OUTBOX wake-up, bot paused);
# handback (escalated → open, escalations resolved, pending burst cancelled unless answer_pending);
# escalations list; 400/404/409 errors.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scheduler_lib.sh"
source "$(dirname "$0")/admin_lib.sh"
it_db_create || it_finish

it_sql "UPDATE tenants SET window_ms = 60000, max_wait_ms = 120000, human_pause_ms = 600000 WHERE slug = 'default'" >/dev/null
sched_start sched
sp=$(it_free_port)
it_start sink sh -c "exec '$LULL_FAKES/zmq_sink' tcp://127.0.0.1:$sp --bind >'$IT_TMP/sender.jsonl'"
# two senders, one of them absent: the wake-up goes to the one that is there
adm_start admin LULL_SENDERS="tcp://127.0.0.1:$(it_free_port),tcp://127.0.0.1:$sp"

m1=$(webhook "+15550001" "first")
m2=$(webhook "+15550002" "second")
m3=$(webhook "grace-77" "third")
c1=$(it_sql "SELECT conversation_id FROM messages WHERE id = $m1")
c2=$(it_sql "SELECT conversation_id FROM messages WHERE id = $m2")
c3=$(it_sql "SELECT conversation_id FROM messages WHERE id = $m3")
it_sql "UPDATE contacts SET first_name = 'Grace', last_name = 'Hopper' WHERE external_id = 'grace-77'" >/dev/null

# --- list ------------------------------------------------------------------------------------------------
adm GET /api/v1/conversations
it_check_eq "list 200" 200 "$ADM_CODE"
it_check_eq "three conversations, by id" "$c1 $c2 $c3" "$(jqr '[.conversations[].id] | map(tostring) | join(" ")')"
it_check_eq "contact inside" "+15550001" "$(jqr '.conversations[0].contact.external_id')"
adm GET "/api/v1/conversations?limit=2"
it_check_eq "limit 2" 2 "$(jqr '.conversations | length')"
it_check_eq "next_after" "$c2" "$(jqr .next_after)"
adm GET "/api/v1/conversations?limit=2&after=$c2"
it_check_eq "page 2" "$c3" "$(jqr '[.conversations[].id] | map(tostring) | join(" ")')"
it_check_eq "last page has no next_after" null "$(jqr .next_after)"
adm GET "/api/v1/conversations?q=hopp"
it_check_eq "q searches names" "$c3" "$(jqr '[.conversations[].id] | map(tostring) | join(" ")')"
adm GET "/api/v1/conversations?q=%2B1555000"
it_check_eq "q searches external ids (percent-decoded)" 2 "$(jqr '.conversations | length')"
adm GET "/api/v1/conversations?q=%25"
it_check_eq "q is literal, not a LIKE pattern" 0 "$(jqr '.conversations | length')"
adm GET "/api/v1/conversations?status=bogus"
it_check_eq "bad status → 400" 400 "$ADM_CODE"
it_check_match "400 names the field" "status" "$(jqr .error.message)"
adm GET "/api/v1/conversations?channel=generic&status=open"
it_check_eq "filters" 3 "$(jqr '.conversations | length')"
adm GET "/api/v1/conversations?after=-1"
it_check_eq "negative after → 400" 400 "$ADM_CODE"

# --- show / messages ---------------------------------------------------------------------------------------
it_sql "INSERT INTO analyses (conversation_id, tenant_id, sentiment, intent) VALUES ($c1, 1, 'negative', 'complaint')" >/dev/null
it_sql "INSERT INTO escalations (conversation_id, tenant_id, reason, source) VALUES ($c1, 1, 'angry', 'sentiment')" >/dev/null
it_sql "UPDATE conversations SET status = 'escalated', escalated_at = now() WHERE id = $c1" >/dev/null
adm GET "/api/v1/conversations/$c1"
it_check_eq "show 200" 200 "$ADM_CODE"
it_check_eq "show: contact" "+15550001" "$(jqr .contact.external_id)"
it_check_eq "show: messages" first "$(jqr '.messages[0].body')"
it_check_eq "show: analyses" negative "$(jqr '.analyses[0].sentiment')"
it_check_eq "show: escalations" angry "$(jqr '.escalations[0].reason')"
adm GET /api/v1/conversations/999999
it_check_eq "unknown conversation → 404" 404 "$ADM_CODE"
adm GET /api/v1/conversations/abc
it_check_eq "bad id → 400" 400 "$ADM_CODE"
it_sql "UPDATE messages SET transcript = 'a voice note, transcribed' WHERE id = $m1" >/dev/null
adm GET "/api/v1/conversations/$c1/messages"
it_check_eq "messages 200" "$m1" "$(jqr '.messages[0].id')"
it_check_eq "messages: a voice note's transcript" "a voice note, transcribed" "$(jqr '.messages[0].transcript')"
adm GET "/api/v1/conversations/$c1"
it_check_eq "show: the transcript too" "a voice note, transcribed" "$(jqr '.messages[0].transcript')"
adm GET /api/v1/conversations/999999/messages
it_check_eq "messages of unknown → 404" 404 "$ADM_CODE"

# --- escalations -----------------------------------------------------------------------------------------------
adm GET "/api/v1/escalations?open=true"
it_check_eq "one open escalation" "$c1" "$(jqr '[.escalations[].conversation_id] | map(tostring) | join(" ")')"
adm GET "/api/v1/escalations?open=maybe"
it_check_eq "open=maybe → 400" 400 "$ADM_CODE"

# --- handback -----------------------------------------------------------------------------------------------------
m1b=$(webhook "+15550001" "still there?")   # arrives while escalated
adm POST "/api/v1/conversations/$c1/handback" '{"answer_pending":"yes"}'
it_check_eq "answer_pending must be a bool → 400" 400 "$ADM_CODE"
adm POST "/api/v1/conversations/$c1/handback"
it_check_eq "handback 200" 200 "$ADM_CODE"
it_check_eq "one escalation resolved" 1 "$(jqr .escalations_resolved)"
it_check_eq "open again" open "$(it_sql "SELECT status FROM conversations WHERE id = $c1")"
it_check_eq "messages that arrived while escalated are not answered late" "$m1b" \
    "$(it_sql "SELECT cancelled_upto FROM conversations WHERE id = $c1")"
adm GET "/api/v1/escalations?open=true"
it_check_eq "no open escalation left" 0 "$(jqr '.escalations | length')"
adm POST "/api/v1/conversations/$c1/handback"
it_check_eq "handback of an open conversation → 409" 409 "$ADM_CODE"
adm POST /api/v1/conversations/999999/handback
it_check_eq "handback unknown → 404" 404 "$ADM_CODE"
it_sql "UPDATE conversations SET status = 'paused' WHERE id = $c2" >/dev/null
adm POST "/api/v1/conversations/$c2/handback" '{"answer_pending":true}'
it_check_eq "answer_pending keeps the burst pending" 0 "$(it_sql "SELECT cancelled_upto FROM conversations WHERE id = $c2")"

# --- human reply -----------------------------------------------------------------------------------------------
adm POST "/api/v1/conversations/$c3/reply" '{"body":""}'
it_check_eq "empty body → 400" 400 "$ADM_CODE"
adm POST "/api/v1/conversations/$c3/reply" '{"text":"x"}'
it_check_eq "missing body → 400" 400 "$ADM_CODE"
adm POST /api/v1/conversations/999999/reply '{"body":"x"}'
it_check_eq "reply to unknown → 404" 404 "$ADM_CODE"
adm POST "/api/v1/conversations/$c3/reply" '{"body":"Hello from a human"}'
it_check_eq "reply 200" 200 "$ADM_CODE"
mid=$(jqr .message_id); oid=$(jqr .outbox_id)
it_check_eq "message out/human" "out|human|Hello from a human" \
    "$(it_sql "SELECT direction || '|' || author || '|' || body FROM messages WHERE id = $mid")"
it_check_eq "outbox row" "$mid|generic|grace-77|human|out_$mid|pending" \
    "$(it_sql "SELECT message_id || '|' || channel || '|' || recipient || '|' || (payload->>'kind') || '|' || idempotency_key || '|' || status FROM outbox WHERE id = $oid")"
it_check_eq "bot paused for the tenant's pause time" t \
    "$(it_sql "SELECT paused_until BETWEEN now() + interval '590 s' AND now() + interval '610 s' FROM conversations WHERE id = $c3")"
it_check_eq "the burst the human answered is cancelled" "$m3" "$(it_sql "SELECT cancelled_upto FROM conversations WHERE id = $c3")"
it_wait_for "OUTBOX wake-up pushed to the sender" 5 grep -q "\"outbox_id\":$oid" "$IT_TMP/sender.jsonl"
# idempotency: a retried reply (same Idempotency-Key) answers the first one's ids and queues nothing new
n_out=$(it_sql "SELECT count(*) FROM outbox"); n_msg=$(it_sql "SELECT count(*) FROM messages")
adm POST "/api/v1/conversations/$c3/reply" '{"body":"Your parcel left today"}' -H 'Idempotency-Key: agent7-ticket42'
it_check_eq "reply with Idempotency-Key 200" 200 "$ADM_CODE"
kmid=$(jqr .message_id); koid=$(jqr .outbox_id)
it_check_eq "the outbox row carries the key (scoped to the conversation)" "human_${c3}_agent7-ticket42" \
    "$(it_sql "SELECT idempotency_key FROM outbox WHERE id = $koid")"
adm POST "/api/v1/conversations/$c3/reply" '{"body":"Your parcel left today"}' -H 'Idempotency-Key: agent7-ticket42'
it_check_eq "the retry answers 200 with the same ids, marked replayed" "200|$kmid|$koid|true" "$ADM_CODE|$(jqr .message_id)|$(jqr .outbox_id)|$(jqr .replayed)"
adm POST "/api/v1/conversations/$c3/reply" '{"body":"Your parcel left today","idempotency_key":"agent7-ticket42"}'
it_check_eq "the key in the body works the same" "200|$koid" "$ADM_CODE|$(jqr .outbox_id)"
it_check_eq "one message and one outbox row for the three requests" "$((n_msg + 1))|$((n_out + 1))" \
    "$(it_sql "SELECT count(*) FROM messages")|$(it_sql "SELECT count(*) FROM outbox")"
# the messages carry their delivery: the outbox row's state and what Twilio reported (status callbacks)
it_sql "UPDATE outbox SET status = 'sent', sent_at = now(), delivery_status = 'undelivered', delivery_error = '30003' WHERE id = $koid" >/dev/null
adm GET "/api/v1/conversations/$c3/messages"
it_check_eq "an outbound message's delivery in the messages list" "$koid|sent|undelivered|30003" \
    "$(jq -r ".messages[] | select(.id == $kmid) | .delivery | \"\\(.outbox_id)|\\(.status)|\\(.delivery_status)|\\(.delivery_error)\"" <<<"$ADM_BODY")"
it_check_eq "inbound messages have no delivery" null "$(jq -c '[.messages[] | select(.direction == "in") | .delivery] | unique | .[0]' <<<"$ADM_BODY")"
adm GET "/api/v1/conversations/$c3"
it_check_eq "the conversation view shows it too" undelivered "$(jq -r ".messages[] | select(.id == $kmid) | .delivery.delivery_status" <<<"$ADM_BODY")"
adm POST "/api/v1/conversations/$c3/reply" '{"body":"something else"}' -H 'Idempotency-Key: agent7-ticket42'
it_check_eq "the same key with another body → 409" "409|idempotency_conflict" "$ADM_CODE|$(jqr .error.code)"
adm POST "/api/v1/conversations/$c3/reply" '{"body":"x"}' -H 'Idempotency-Key: bad key!'
it_check_eq "a key with a space → 400" 400 "$ADM_CODE"
adm POST "/api/v1/conversations/$c3/reply" '{"body":"x","idempotency_key":"a"}' -H 'Idempotency-Key: b'
it_check_eq "header and body keys that differ → 400" 400 "$ADM_CODE"

adm POST "/api/v1/conversations/$c3/handback"
it_check_eq "handback clears the human pause" "open|" "$(it_sql "SELECT status || '|' || coalesce(paused_until::text, '') FROM conversations WHERE id = $c3")"

it_stop "$ADM_PID"
it_check_eq "lull-admin exits 0" 0 "$IT_RC"
it_finish
