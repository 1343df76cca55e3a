#!/usr/bin/env bash
# End to end through the real tiers: ingress → scheduler → worker → sender, with the fake LLM and the fake
# channel server. A burst of three messages from one contact inside the window gets exactly one LLM reply
# call whose prompt holds all three, and exactly one delivered reply; a lone message from another contact
# gets its own; a Twilio SMS is answered over Twilio's Messages API to the number that wrote.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/e2e_lib.sh"
it_db_create || it_finish
it_sql "UPDATE tenants SET window_ms = 400, max_wait_ms = 4000, twilio_numbers = '{+15550000001}' WHERE slug = 'default'" >/dev/null

e2e_start || it_finish

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
