#!/usr/bin/env bash
# End to end through the real tiers: ingress → scheduler → worker → sender, with the fake LLM and the fake
# channel server. A burst of three messages from one contact inside the window gets exactly one LLM reply
# call whose prompt holds all three, and exactly one delivered reply; a lone message from another contact
# gets its own; a Twilio SMS is answered over Twilio's Messages API to the number that wrote.
source "$(dirname "$0")/lib.sh"
it_db_create || it_finish
it_sql "UPDATE tenants SET window_ms = 400, max_wait_ms = 4000, twilio_numbers = '{+15550000001}' WHERE slug = 'default'" >/dev/null

SECRET="whsec_$(printf 'pipeline-test-secret-0123456789' | base64 -w0)"
SID=AC0123456789abcdef0123456789abcdef
TOKEN=pipeline-twilio-token
LLM_PORT=$(it_free_port); CH_PORT=$(it_free_port); HTTP_PORT=$(it_free_port)
Z_IN=tcp://127.0.0.1:$(it_free_port); Z_WK=tcp://127.0.0.1:$(it_free_port)
Z_CTL=tcp://127.0.0.1:$(it_free_port); Z_OUT=tcp://127.0.0.1:$(it_free_port)
LLM=http://127.0.0.1:$LLM_PORT; CH=http://127.0.0.1:$CH_PORT; ING=http://127.0.0.1:$HTTP_PORT

it_start llm "$LULL_FAKES/fake_llm" --port "$LLM_PORT" --latency-ms 50
it_start channels "$LULL_FAKES/fake_channels" --port "$CH_PORT" --callback-secret "$SECRET" \
    --twilio-sid "$SID" --twilio-token "$TOKEN"
it_wait_for "fake LLM" 10 it_http_ok "$LLM/_fake/stats" || it_finish
it_wait_for "fake channels" 10 it_http_ok "$CH/_fake/ledger?summary=1" || it_finish

common=(LULL_HEARTBEAT_MS=200 LULL_LOG_LEVEL=debug)
OPS_S=$(it_free_port); OPS_W=$(it_free_port); OPS_X=$(it_free_port); OPS_I=$(it_free_port)
it_start scheduler env "${common[@]}" LULL_OPS_PORT="$OPS_S" LULL_LOG_FILE="$IT_TMP/scheduler.jsonl" \
    LULL_SCHED_INBOUND_BIND="$Z_IN" LULL_SCHED_WORKER_BIND="$Z_WK" LULL_SCHED_CONTROL_BIND="$Z_CTL" \
    "$LULL_BIN/lull-scheduler"
it_start worker env "${common[@]}" LULL_OPS_PORT="$OPS_W" LULL_LOG_FILE="$IT_TMP/worker.jsonl" \
    LULL_WORKER_SCHEDULERS="$Z_WK" LULL_SENDERS="$Z_OUT" OPENAI_API_KEY=sk-test OPENAI_BASE_URL="$LLM/v1" \
    "$LULL_BIN/lull-worker"
it_start sender env "${common[@]}" LULL_OPS_PORT="$OPS_X" LULL_LOG_FILE="$IT_TMP/sender.jsonl" \
    LULL_SENDER_BIND="$Z_OUT" LULL_CALLBACK_URL="$CH/callback" LULL_CALLBACK_SECRET="$SECRET" \
    LULL_TWILIO_API_BASE="$CH" LULL_TWILIO_ACCOUNT_SID="$SID" LULL_TWILIO_AUTH_TOKEN="$TOKEN" \
    LULL_SENDER_POLL_MS=200 "$LULL_BIN/lull-sender"
it_start ingress env "${common[@]}" LULL_OPS_PORT="$OPS_I" LULL_LOG_FILE="$IT_TMP/ingress.jsonl" \
    LULL_HTTP_PORT="$HTTP_PORT" LULL_SCHEDULERS="$Z_IN" LULL_DEV_ALLOW_UNSIGNED=1 "$LULL_BIN/lull-ingress"
for p in $OPS_S $OPS_W $OPS_X $OPS_I; do
    it_wait_for "tier on ops port $p healthy" 10 it_http_ok "http://127.0.0.1:$p/health" || it_finish
done

post() { curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$1" "$ING/webhook"; }
for i in 1 2 3; do
    code=$(post "{\"contact_id\":\"alice\",\"first_name\":\"Alice\",\"message\":{\"body\":\"alice burst part $i\"}}")
    it_check_eq "burst message $i accepted" 200 "$code"
done
it_check_eq "lone message accepted" 200 "$(post '{"contact_id":"bob","message":{"body":"bob says hello"}}')"
code=$(curl -s -o /dev/null -w '%{http_code}' --data-urlencode "MessageSid=SM$(printf '%032d' 7)" \
    --data-urlencode "From=+15557654321" --data-urlencode "To=+15550000001" \
    --data-urlencode "Body=carol over sms" "$ING/webhook/twilio")
it_check_eq "Twilio SMS accepted" 200 "$code"

delivered() { [ "$(curl -s "$CH/_fake/ledger?summary=1" | jq -r .delivered_keys)" -ge "$1" ]; }
it_wait_for "three replies delivered" 30 delivered 3
sleep 1  # a duplicate, if any, would show up in the ledger now (the assertion below must be able to fail)
ledger=$(curl -s "$CH/_fake/ledger")
it_check_eq "three replies delivered, no more" 3 "$(jq -r .delivered_keys <<<"$ledger")"
it_check_eq "no reply delivered twice" 0 "$(jq -r .duplicated_keys <<<"$ledger")"

llm=$(curl -s "$LLM/_fake/ledger")
alice_calls=$(jq '[.[] | select(.kind == "reply") | select((.body | tostring) | contains("alice burst"))] | length' <<<"$llm")
it_check_eq "one LLM reply call for Alice's burst of three" 1 "$alice_calls"
all3=$(jq '[.[] | select(.kind == "reply") | select((.body | tostring) as $b | ($b | contains("alice burst part 1")) and ($b | contains("alice burst part 2")) and ($b | contains("alice burst part 3")))] | length' <<<"$llm")
it_check_eq "that call's prompt holds all three messages" 1 "$all3"
it_check_eq "one LLM reply call for Bob" 1 \
    "$(jq '[.[] | select(.kind == "reply") | select((.body | tostring) | contains("bob says hello"))] | length' <<<"$llm")"

rows=$(it_sql "SELECT c.external_id || ':' || count(m.*) FROM contacts c JOIN conversations v ON v.contact_id = c.id
               JOIN messages m ON m.conversation_id = v.id AND m.author = 'bot' GROUP BY c.external_id ORDER BY 1" | tr '\n' ' ')
it_check_eq "one bot message per conversation" "+15557654321:1 alice:1 bob:1 " "$rows"
it_check_eq "every outbox row sent" "sent:3" "$(it_sql "SELECT status || ':' || count(*) FROM outbox GROUP BY status")"
it_check_eq "answered_upto reached the newest inbound message everywhere" 0 \
    "$(it_sql "SELECT count(*) FROM conversations WHERE answered_upto <> last_inbound_id")"
twilio=$(jq -r '.by_key | to_entries[] | select(.value.log[0].target == "twilio") | .key' <<<"$ledger")
it_check_match "the SMS reply went to Twilio, to the number that wrote" '^to:\+15557654321\|' "$twilio"
it_check_eq "analysis stored for each answered burst" 3 "$(it_sql "SELECT count(DISTINCT conversation_id) FROM analyses")"

it_finish
