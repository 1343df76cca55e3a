#!/usr/bin/env bash
# The web chat page in a real browser through the whole stack: ingress, scheduler, a worker with the fake
# LLM, the sender. First over curl: /chat is ingress/static/chat.html byte for byte, with its CSP and an ETag
# that If-None-Match turns into a 304. Then headless Chromium (Debian's /usr/bin/chromium, driven by
# playwright-core) opens /chat, types a message, and the bot's reply must appear in the page — delivered over
# the SSE stream. Then a message with an escalation keyword: the page says a person will answer (the stream's
# escalation event), and a person's reply through lull-admin appears live, marked as from a person, never with
# a token or role. The screenshot is kept in the test's tmp dir ($IT_TMP/webchat.png; IT_KEEP_TMP=1 keeps the dir).
source "$(dirname "$0")/lib.sh"
[ -x /usr/bin/chromium ] || { it_fail "/usr/bin/chromium is missing: scripts/install-deps installs it"; it_finish; }
"$LULL_ROOT/scripts/node-deps" >/dev/null || { it_fail "scripts/node-deps"; it_finish; }
it_db_create || it_finish
it_sql "UPDATE tenants SET window_ms = 300, max_wait_ms = 3000, escalation_keywords = '{talk to a manager}' WHERE slug = 'default'" >/dev/null

LLM_PORT=$(it_free_port); HTTP_PORT=$(it_free_port)
Z_IN=tcp://127.0.0.1:$(it_free_port); Z_WK=tcp://127.0.0.1:$(it_free_port)
Z_CTL=tcp://127.0.0.1:$(it_free_port); Z_OUT=tcp://127.0.0.1:$(it_free_port)
LLM=http://127.0.0.1:$LLM_PORT; ING=http://127.0.0.1:$HTTP_PORT
ADMIN_PORT=$(it_free_port); ADM=http://127.0.0.1:$ADMIN_PORT; ADMIN_TOKEN=webchat-admin-token-0123456789
it_start llm "$LULL_FAKES/fake_llm" --port "$LLM_PORT" --latency-ms 20
it_wait_for "fake LLM" 10 it_http_ok "$LLM/_fake/stats" || it_finish

common=(LULL_HEARTBEAT_MS=200)
OPS_S=$(it_free_port); OPS_W=$(it_free_port); OPS_X=$(it_free_port); OPS_I=$(it_free_port); OPS_A=$(it_free_port)
it_start scheduler env "${common[@]}" LULL_OPS_PORT="$OPS_S" LULL_LOG_FILE="$IT_TMP/scheduler.jsonl" \
    LULL_SCHED_INBOUND_BIND="$Z_IN" LULL_SCHED_WORKER_BIND="$Z_WK" LULL_SCHED_CONTROL_BIND="$Z_CTL" \
    "$LULL_BIN/lull-scheduler"
it_start worker env "${common[@]}" LULL_OPS_PORT="$OPS_W" LULL_LOG_FILE="$IT_TMP/worker.jsonl" \
    LULL_WORKER_SCHEDULERS="$Z_WK" LULL_SENDERS="$Z_OUT" OPENAI_API_KEY=sk-test OPENAI_BASE_URL="$LLM/v1" \
    "$LULL_BIN/lull-worker"
it_start sender env "${common[@]}" LULL_OPS_PORT="$OPS_X" LULL_LOG_FILE="$IT_TMP/sender.jsonl" \
    LULL_SENDER_BIND="$Z_OUT" LULL_SENDER_POLL_MS=200 LULL_SENDER_CALLBACK_ALLOW=127.0.0.0/8 "$LULL_BIN/lull-sender"
it_start ingress env "${common[@]}" LULL_OPS_PORT="$OPS_I" LULL_LOG_FILE="$IT_TMP/ingress.jsonl" \
    LULL_HTTP_PORT="$HTTP_PORT" LULL_SCHEDULERS="$Z_IN" LULL_CHAT_STREAM_LIFETIME_MS=1500 "$LULL_BIN/lull-ingress"
it_start admin env "${common[@]}" LULL_OPS_PORT="$OPS_A" LULL_LOG_FILE="$IT_TMP/admin.jsonl" \
    LULL_ADMIN_PORT="$ADMIN_PORT" LULL_SCHEDULER_CONTROLS="$Z_CTL" LULL_SENDERS="$Z_OUT" LULL_ADMIN_TOKEN="$ADMIN_TOKEN" \
    "$LULL_BIN/lull-admin"
for p in $OPS_S $OPS_W $OPS_X $OPS_I $OPS_A; do
    it_wait_for "tier on ops port $p healthy" 10 it_http_ok "http://127.0.0.1:$p/health" || it_finish
done
it_wait_for "ingress HTTP port serving" 10 it_http_ok "$ING/health" || it_finish  # opened after the ops port
it_wait_for "admin HTTP port serving" 10 it_http_ok "$ADM/health" || it_finish

curl -s -D "$IT_TMP/page.hdr" -o "$IT_TMP/page.html" "$ING/chat"
page=$(cat "$IT_TMP/page.html")
it_check_match "GET /chat: text/html" '[Cc]ontent-[Tt]ype: text/html' "$(cat "$IT_TMP/page.hdr")"
it_check_match "GET /chat: no external assets" '^[^@]*$' "$(grep -Eo '(src|href)="(https?:)?//[^"]*"' <<<"$page" | tr '\n' '@')"
it_check "GET /chat: the bytes of ingress/static/chat.html" cmp -s "$IT_TMP/page.html" "$LULL_ROOT/ingress/static/chat.html"
it_check "GET /chat: a Content-Security-Policy" grep -qi "^Content-Security-Policy: default-src 'none';" "$IT_TMP/page.hdr"
etag=$(tr -d '\r' <"$IT_TMP/page.hdr" | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
it_check_match "GET /chat: an ETag" '^"[0-9a-f]{16}"$' "$etag"
: >"$IT_TMP/304.body"  # curl writes no file for an empty body
code=$(curl -s -D "$IT_TMP/304.hdr" -o "$IT_TMP/304.body" -w '%{http_code}' -H "If-None-Match: $etag" "$ING/chat")
it_check_eq "If-None-Match with the ETag: 304, no body, the same ETag" "304 0 $etag" \
    "$code $(stat -c %s "$IT_TMP/304.body") $(tr -d '\r' <"$IT_TMP/304.hdr" | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')"
code=$(curl -s -o "$IT_TMP/other.html" -w '%{http_code}' -H 'If-None-Match: "0000000000000000"' "$ING/chat")
it_check_eq "If-None-Match with another ETag: 200 and the page" "200 $(stat -c %s "$IT_TMP/page.html")" \
    "$code $(stat -c %s "$IT_TMP/other.html")"

out=$(NODE_PATH=$LULL_ROOT/tests/node/node_modules timeout 90 node "$LULL_ROOT/tests/it/webchat_page.js" "$ING" \
      "$IT_TMP/webchat.png" "$IT_TMP/chromium-profile" "$ADM" "$ADMIN_TOKEN" 2>"$IT_TMP/browser.err")
rc=$?
it_check_eq "the browser run succeeded ($(tail -c 600 "$IT_TMP/browser.err" | tr '\n' ' '))" 0 "$rc"
session=$(jq -r .session <<<"$out" 2>/dev/null)
reply=$(jq -r .reply <<<"$out" 2>/dev/null)
it_check_match "a session was opened" '^ws_' "$session"
stored=$(it_sql "SELECT m.body FROM messages m JOIN conversations v ON v.id = m.conversation_id
                 WHERE v.external_conversation_id = '$session' AND m.author = 'bot' ORDER BY m.id LIMIT 1")
it_check_match "the bot's reply is in the database" '.' "$stored"
it_check_eq "the page shows the bot's reply as stored" "$stored" "$reply"
it_check_eq "the message typed in the page was stored" "Hello! Do you have the blue kettle in stock?" \
    "$(it_sql "SELECT m.body FROM messages m JOIN conversations v ON v.id = m.conversation_id
               WHERE v.external_conversation_id = '$session' AND m.direction = 'in' ORDER BY m.id LIMIT 1")"
bubbles=$(jq -r '.bubbles | join("\n")' <<<"$out" 2>/dev/null)
it_check_eq "after a reload: the history once, then the second reply live" "contact:Hello! Do you have the blue kettle in stock?
bot:$stored
contact:And a wool scarf?
bot:$(it_sql "SELECT m.body FROM messages m JOIN conversations v ON v.id = m.conversation_id
               WHERE v.external_conversation_id = '$session' AND m.author = 'bot' ORDER BY m.id DESC LIMIT 1")" "$bubbles"
it_check_match "the reply came over the SSE stream" 'lull_ingress_chat_events_total [1-9]' "$(curl -s "http://127.0.0.1:$OPS_I/metrics")"
it_check "the page reopened its stream after the server ended it (lifetime 1.5 s): at least 3 stream requests" \
    test "$(jq -r '.streams // 0' <<<"$out" 2>/dev/null || echo 0)" -ge 3
it_check "the server ended streams at their lifetime" grep -q 'event: end' <(curl -sN --max-time 5 \
    "$ING/api/v1/chat/stream/$session?after=0")
it_check "a screenshot was taken" test -s "$IT_TMP/webchat.png"
# escalation and a person's reply
it_check_eq "the escalation was recorded for the session's conversation" "escalated|keyword" \
    "$(it_sql "SELECT v.status, e.source FROM conversations v JOIN escalations e ON e.conversation_id = v.id
               WHERE v.external_conversation_id = '$session'")"
it_check_match "the page says a person will answer" 'person from our team will answer' "$(jq -r .notice <<<"$out")"
it_check_eq "the person's reply shown live, marked as from a person" "A person from our team|Hi, Maria here: I can help." \
    "$(jq -r '.person | [.who, .body] | join("|")' <<<"$out")"
it_check_eq "no bot reply to the escalating message" 2 \
    "$(it_sql "SELECT count(*) FROM messages m JOIN conversations v ON v.id = m.conversation_id
               WHERE v.external_conversation_id = '$session' AND m.author = 'bot'")"
stream=$(curl -s -N --max-time 2 "$ING/api/v1/chat/stream/$session?after=0")
it_check_match "the stream marks the person's reply author person" '"author":"person","body":"Hi, Maria here: I can help."' "$stream"
it_check_match "the stream announces the escalation (the conversation waits for a person)" 'event: escalation' "$stream"
it_check "the stream names no token, no role" test -z "$(grep -Eio "$ADMIN_TOKEN|\"role\"|bearer" <<<"$stream")"
[ -n "${IT_KEEP_TMP:-}" ] && echo "screenshot: $IT_TMP/webchat.png"
it_finish
