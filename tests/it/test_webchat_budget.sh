#!/usr/bin/env bash
# A web chat conversation whose tenant's daily LLM budget is used up is never left in silence: the worker answers,
# without calling the LLM, "The assistant is unavailable right now, please try again later.", and the widget's
# stream shows it. The default budget of a new tenant is 5000 LLM requests a day (migration 018).
source "$(dirname "$0")/lib.sh"
it_db_create || it_finish
it_check_eq "a new tenant's default daily budget: 5000" 5000 \
    "$(it_sql "INSERT INTO tenants (slug) VALUES ('fresh') RETURNING daily_limit_tenant")"
it_check_eq "the default tenant got it too (it had none)" 5000 "$(it_sql "SELECT daily_limit_tenant FROM tenants WHERE slug = 'default'")"
it_sql "UPDATE tenants SET window_ms = 200, max_wait_ms = 2000, daily_limit_tenant = 0 WHERE slug = 'default'" >/dev/null

LLM_PORT=$(it_free_port); HTTP_PORT=$(it_free_port)
Z_IN=tcp://127.0.0.1:$(it_free_port); Z_WK=tcp://127.0.0.1:$(it_free_port)
Z_CTL=tcp://127.0.0.1:$(it_free_port); Z_OUT=tcp://127.0.0.1:$(it_free_port)
LLM=http://127.0.0.1:$LLM_PORT; ING=http://127.0.0.1:$HTTP_PORT
it_start llm "$LULL_FAKES/fake_llm" --port "$LLM_PORT" --latency-ms 20
it_wait_for "fake LLM" 10 it_http_ok "$LLM/_fake/stats" || it_finish
common=(LULL_HEARTBEAT_MS=200)
OPS_S=$(it_free_port); OPS_W=$(it_free_port); OPS_X=$(it_free_port); OPS_I=$(it_free_port)
it_start scheduler env "${common[@]}" LULL_OPS_PORT="$OPS_S" LULL_LOG_FILE="$IT_TMP/scheduler.jsonl" \
    LULL_SCHED_INBOUND_BIND="$Z_IN" LULL_SCHED_WORKER_BIND="$Z_WK" LULL_SCHED_CONTROL_BIND="$Z_CTL" \
    "$LULL_BIN/lull-scheduler"
it_start worker env "${common[@]}" LULL_OPS_PORT="$OPS_W" LULL_LOG_FILE="$IT_TMP/worker.jsonl" \
    LULL_WORKER_SCHEDULERS="$Z_WK" LULL_SENDERS="$Z_OUT" OPENAI_API_KEY=sk-test OPENAI_BASE_URL="$LLM/v1" \
    "$LULL_BIN/lull-worker"
it_start sender env "${common[@]}" LULL_OPS_PORT="$OPS_X" LULL_LOG_FILE="$IT_TMP/sender.jsonl" \
    LULL_SENDER_BIND="$Z_OUT" LULL_SENDER_POLL_MS=200 "$LULL_BIN/lull-sender"
it_start ingress env "${common[@]}" LULL_OPS_PORT="$OPS_I" LULL_LOG_FILE="$IT_TMP/ingress.jsonl" \
    LULL_HTTP_PORT="$HTTP_PORT" LULL_SCHEDULERS="$Z_IN" "$LULL_BIN/lull-ingress"
for p in $OPS_S $OPS_W $OPS_X $OPS_I; do
    it_wait_for "tier on ops port $p healthy" 10 it_http_ok "http://127.0.0.1:$p/health" || it_finish
done
it_wait_for "ingress HTTP port serving" 10 it_http_ok "$ING/health" || it_finish

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
