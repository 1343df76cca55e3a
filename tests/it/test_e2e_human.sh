#!/usr/bin/env bash
# End to end through the real tiers, people taking over. A human agent's reply through the admin API is
# delivered and pauses the bot for the tenant's human_pause_ms: the contact's next message is not answered
# before the pause ends; afterwards messages are answered again. A message with a tenant escalation keyword
# gets no bot reply and escalates the conversation; later messages get no reply; after a handback through the
# admin API the next message is answered.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/e2e_lib.sh"
it_db_create || it_finish
it_sql "UPDATE tenants SET window_ms = 200, max_wait_ms = 2000, human_pause_ms = 1500,
        escalation_keywords = '{cancel my account}' WHERE slug = 'default'" >/dev/null
e2e_start || it_finish
callback_body() { curl -s -G --data-urlencode "key=$1" "$CH/_fake/ledger" | jq -r --arg k "$1" '.by_key[$k].last.body // empty'; }
has_callback() { [ -n "$(callback_body "$1")" ]; }

# 1. a human reply pauses the bot
it_check_eq "Hana's first message accepted" 200 "$(e2e_post hana 'hana says hi')"
HCONV=$(e2e_conv hana)  # the ingress stores before it answers 200
it_check_match "Hana's conversation stored" '^[0-9]+$' "$HCONV"
it_wait_for "Hana's first message answered" 15 e2e_answered "$HCONV"
it_wait_for "the bot reply delivered" 10 e2e_outbox_idle
e2e_admin POST "/api/v1/conversations/$HCONV/reply" '{"body":"Hi Hana, Maria from support here"}'
it_check_eq "human reply through the admin API: 200" 200 "$ADM_CODE"
HMSG=$(jq -r .message_id <<<"$ADM_BODY")
pause=$(it_sql "SELECT (extract(epoch FROM paused_until) * 1000)::bigint FROM conversations WHERE id = $HCONV")
it_check_match "the conversation is paused" '^[0-9]{13}$' "$pause"
it_check_eq "Hana writes during the pause: accepted" 200 "$(e2e_post hana 'thanks maria')"
it_wait_for "the human reply delivered to the callback" 10 has_callback "out_$HMSG"
it_check "the delivered human reply carries its text" grep -q 'Maria from support' <<<"$(callback_body "out_$HMSG")"
it_wait_for "Hana's message sent during the pause answered once the pause is over" 15 e2e_answered "$HCONV"
first_call=$(curl -s "$LLM/_fake/ledger" | jq '[.[] | select(.kind == "reply" and ((.body | tostring) | contains("thanks maria"))) | .t_ms] | min // 0')
it_check "no LLM reply call for it before the pause ended (first call at $first_call ms, pause until $pause ms)" \
    test "${first_call%.*}" -ge "$pause"
it_check_eq "no bot message after the human's before the pause ended" 0 \
    "$(it_sql "SELECT count(*) FROM messages WHERE conversation_id = $HCONV AND author = 'bot' AND id > $HMSG AND created_at < to_timestamp($pause / 1000.0)")"
it_check_eq "a message after the pause is accepted" 200 "$(e2e_post hana 'one more thing')"
it_wait_for "and answered" 15 e2e_answered "$HCONV"
it_wait_for "all of Hana's replies final" 10 e2e_outbox_idle
it_check_eq "Hana's outbox: two bot replies after the first and the human one, all sent" "bot:3 human:1 sent:4" \
    "$(it_sql "SELECT 'bot:' || count(*) FILTER (WHERE payload->>'kind' IS DISTINCT FROM 'human') || ' human:' || count(*) FILTER (WHERE payload->>'kind' = 'human')
               || ' sent:' || count(*) FILTER (WHERE status = 'sent') FROM outbox WHERE conversation_id = $HCONV")"

# 2. escalation stops the bot until a handback
it_check_eq "Esme's escalating message accepted" 200 "$(e2e_post esme 'I want to CANCEL MY ACCOUNT now')"
ECONV=$(e2e_conv esme)
it_check_match "Esme's conversation stored" '^[0-9]+$' "$ECONV"
escalated() { [ "$(it_sql "SELECT status FROM conversations WHERE id = $ECONV")" = escalated ]; }
it_wait_for "the conversation escalated" 15 escalated
it_check_eq "an open keyword escalation recorded" "keyword|t" \
    "$(it_sql "SELECT source, resolved_at IS NULL FROM escalations WHERE conversation_id = $ECONV")"
it_check_eq "Esme's next message accepted" 200 "$(e2e_post esme 'hello? anyone?')"
e2e_settle 1  # window 200 ms: a wrong reply would be generated and stored within this (the checks must be able to fail)
it_check_eq "no LLM reply call for the escalated conversation" 0 "$(e2e_llm_reply_has 'CANCEL MY ACCOUNT')"
it_check_eq "no bot message, no outbox row for the escalated conversation" "0|0" \
    "$(it_sql "SELECT (SELECT count(*) FROM messages WHERE conversation_id = $ECONV AND author = 'bot'), (SELECT count(*) FROM outbox WHERE conversation_id = $ECONV)")"
e2e_admin POST "/api/v1/conversations/$ECONV/handback" '{}'
it_check_eq "handback through the admin API: 200" 200 "$ADM_CODE"
it_check_eq "the conversation is open again, the escalation resolved" "open|t" \
    "$(it_sql "SELECT status, (SELECT bool_and(resolved_at IS NOT NULL) FROM escalations WHERE conversation_id = $ECONV) FROM conversations WHERE id = $ECONV")"
it_check_eq "Esme's message after the handback accepted" 200 "$(e2e_post esme 'ok please call me back tomorrow')"
it_wait_for "it is answered" 15 e2e_answered "$ECONV"
it_wait_for "the reply delivered" 10 e2e_outbox_idle
it_check_eq "exactly one bot reply for Esme, sent" "sent:1" \
    "$(it_sql "SELECT string_agg(status || ':' || n, ',') FROM (SELECT status, count(*) n FROM outbox WHERE conversation_id = $ECONV GROUP BY status) s")"
it_check_eq "the conversation stays open" open "$(it_sql "SELECT status FROM conversations WHERE id = $ECONV")"
it_check_eq "one LLM reply call, its prompt holding the message after the handback" 1 "$(e2e_llm_reply_has 'ok please call me back tomorrow')"
it_check_eq "no reply delivered twice" 0 "$(curl -s "$CH/_fake/ledger?summary=1" | jq -r .duplicated_keys)"
it_finish
