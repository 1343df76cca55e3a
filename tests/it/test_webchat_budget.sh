#!/usr/bin/env bash
# A web chat conversation whose tenant's daily LLM budget is used up is never left in silence: the worker answers,
# without calling the LLM, "The assistant is unavailable right now, please try again later.", and the widget's
# stream shows it. The default budget of a new tenant is 5000 LLM requests a day (migration 018).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/e2e_lib.sh"
it_db_create || it_finish
it_check_eq "a new tenant's default daily budget: 5000" 5000 \
    "$(it_sql "INSERT INTO tenants (slug) VALUES ('fresh') RETURNING daily_limit_tenant")"
it_check_eq "the default tenant got it too (it had none)" 5000 "$(it_sql "SELECT daily_limit_tenant FROM tenants WHERE slug = 'default'")"
it_sql "UPDATE tenants SET window_ms = 200, max_wait_ms = 2000, daily_limit_tenant = 0 WHERE slug = 'default'" >/dev/null

e2e_start || it_finish

post() { curl -s --max-time 10 -H 'Content-Type: application/json' --data-binary "$2" "$ING$1"; }
sid=$(post /api/v1/chat/session '{}' | jq -r '.sessionId // empty')
it_check_match "a session" '^ws_' "$sid"
it_start stream sh -c "exec curl -sN --max-time 60 '$ING/api/v1/chat/stream/$sid?after=0' >'$IT_TMP/stream.sse'"
it_wait_for "the stream opens" 10 grep -qF ': connected' "$IT_TMP/stream.sse"
it_check_eq "a message accepted" 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
    --data-binary "{\"sessionId\":\"$sid\",\"message\":\"Do you ship to Canada?\"}" "$ING/api/v1/chat/message")"
it_wait_for "the widget is told on its stream" 30 grep -qF 'The assistant is unavailable right now, please try again later.' \
    "$IT_TMP/stream.sse"
it_check_eq "the notice is the bot's message, stored with its kind" "bot|unavailable" \
    "$(it_sql "SELECT m.author || '|' || (o.payload->>'kind') FROM messages m JOIN outbox o ON o.message_id = m.id
               JOIN conversations v ON v.id = m.conversation_id WHERE v.external_conversation_id = '$sid' AND m.direction = 'out'")"
it_check_eq "no LLM call was made" 0 "$(curl -s "$LLM/_fake/stats" | jq -r .requests)"
it_check "the worker logged the limit" grep -q '"ev":"job.daily_limit"' "$IT_TMP/worker.jsonl"
it_finish
