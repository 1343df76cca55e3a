#!/usr/bin/env bash
# The inbox routes of lull-admin over curl: the page files (/inbox, /inbox.js, /inbox.css: the embedded bytes,
# the Content-Security-Policy and friends, ETag and 304); 401 without the token on every inbox API route; the
# live list over Server-Sent Events (the list at once, then again when it changed: a new inbound message, seen
# by lull-admin's poll of max(messages.id), and an escalation without any message, which only NOTIFY lull_inbox
# can bring; heartbeats; the stream ends after its lifetime; the cap on
# streams answers 503); GET /api/v1/inbox (order escalated → paused → recent, unread counts, seen); and the
# shape and figures of GET /api/v1/stats/overview.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scheduler_lib.sh"
source "$(dirname "$0")/admin_lib.sh"
it_db_create || it_finish

it_sql "UPDATE tenants SET window_ms = 60000, max_wait_ms = 120000, human_pause_ms = 600000 WHERE slug = 'default'" >/dev/null
sched_start sched
adm_start admin LULL_ADMIN_INBOX_HEARTBEAT_MS=300 LULL_ADMIN_INBOX_LIFETIME_MS=10000 LULL_ADMIN_INBOX_DEBOUNCE_MS=50

# --- the page ------------------------------------------------------------------------------------------------
for f in inbox:inbox.html:text/html inbox.js:inbox.js:text/javascript inbox.css:inbox.css:text/css; do
    IFS=: read -r path file type <<<"$f"
    curl -s -D "$IT_TMP/$file.hdr" -o "$IT_TMP/$file" "$ADM_URL/$path"
    hdr=$(tr -d '\r' <"$IT_TMP/$file.hdr")
    it_check "GET /$path: the bytes of admin/static/$file" cmp -s "$IT_TMP/$file" "$LULL_ROOT/admin/static/$file"
    it_check_match "GET /$path: $type" "[Cc]ontent-[Tt]ype: $type" "$hdr"
    it_check_match "GET /$path: CSP: script and style from this server only, no framing" \
        "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self';.* frame-ancestors 'none'" "$hdr"
    it_check_match "GET /$path: nosniff" 'X-Content-Type-Options: nosniff' "$hdr"
    it_check_match "GET /$path: Referrer-Policy" 'Referrer-Policy: no-referrer' "$hdr"
    etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]: //p' <<<"$hdr")
    it_check_eq "GET /$path with If-None-Match: 304" 304 \
        "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$ADM_URL/$path")"
done
page=$(cat "$LULL_ROOT/admin/static/inbox.html")
it_check_eq "the page loads nothing from elsewhere" "" "$(grep -Eo '(src|href)="(https?:)?//[^"]*"' <<<"$page")"
it_check_eq "the page has no inline script" "" "$(grep -Eo '<script>|<script [^>]*>[^<]' <<<"$page")"
it_check_eq "the script never writes HTML" "" "$(grep -En 'innerHTML|outerHTML|insertAdjacentHTML|document\.write' "$LULL_ROOT/admin/static/inbox.js")"

# --- 401 without the token -----------------------------------------------------------------------------------
for r in "GET /api/v1/inbox/events" "GET /api/v1/inbox" "GET /api/v1/stats/overview" "POST /api/v1/inbox/1/seen"; do
    adm_noauth ${r% *} "${r#* }"
    it_check_eq "$r without a token: 401" "401 unauthorized" "$ADM_CODE $(jqr .error.code)"
done
adm_noauth GET /api/v1/inbox/events -H "Authorization: Bearer wrong-token"
it_check_eq "the stream with a wrong token: 401" 401 "$ADM_CODE"

# --- the live list -------------------------------------------------------------------------------------------
# last_list FILE : the data of the last complete "event: list" in FILE, as one JSON text
last_list() { awk 'BEGIN{RS=""} /(^|\n)event: list/{b=$0} END{print b}' "$1" | sed -n 's/^data: \{0,1\}//p'; }
list_has() { last_list "$1" | jq -e "$2" >/dev/null 2>&1; }
m1=$(webhook "+15550101" "hello there")
c1=$(it_sql "SELECT conversation_id FROM messages WHERE id = $m1")
curl -sN --max-time 30 -H "Authorization: Bearer $ADM_TOKEN" "$ADM_URL/api/v1/inbox/events" -D "$IT_TMP/sse.hdr" \
    >"$IT_TMP/sse.txt" 2>/dev/null &
SSE_PID=$!
it_wait_for "the stream sends the list at once" 10 list_has "$IT_TMP/sse.txt" ".conversations[] | select(.id == $c1)"
it_check_match "the stream is text/event-stream" 'text/event-stream' "$(cat "$IT_TMP/sse.hdr")"
it_check_eq "the stream opens with retry and a comment" "retry: 1000" "$(head -1 "$IT_TMP/sse.txt")"
m2=$(webhook "+15550202" "a new contact writes")
c2=$(it_sql "SELECT conversation_id FROM messages WHERE id = $m2")
it_wait_for "an inbound message reaches the stream (the poll of new messages)" 10 \
    list_has "$IT_TMP/sse.txt" ".conversations[] | select(.id == $c2 and .last_message.body == \"a new contact writes\")"
it_sql "UPDATE conversations SET status = 'escalated', escalated_at = now(), escalation_reason = 'keyword: manager'
        WHERE id = $c2" >/dev/null
it_wait_for "an escalation (no new message: NOTIFY lull_inbox) reaches the stream, first in the list" 10 \
    list_has "$IT_TMP/sse.txt" '.conversations[0] | select(.section == "escalated" and .escalation_reason == "keyword: manager")'
it_wait_for "heartbeats" 10 grep -q '^: heartbeat' "$IT_TMP/sse.txt"
ended() { ! kill -0 "$SSE_PID" 2>/dev/null; }
it_wait_for "the stream ends after its lifetime (10 s: long enough for the checks above on a loaded machine)" 25 ended
wait "$SSE_PID"; it_check_eq "curl saw a clean end of the stream" 0 "$?"

# --- an agent's token: verified on an admin thread before the stream starts; a forged one never gets a stream --
out=$(curl -s -H "Authorization: Bearer $ADM_TOKEN" -H 'Content-Type: application/json' \
    --data '{"name":"ines","role":"agent","display_name":"Ines"}' "$ADM_URL/api/v1/agents")
AGENT_TOKEN=$(jq -r .token <<<"$out")
it_check_match "an agent added" '^lla_[0-9]+_' "$AGENT_TOKEN"
curl -sN --max-time 3 -H "Authorization: Bearer $AGENT_TOKEN" "$ADM_URL/api/v1/inbox/events" >"$IT_TMP/agent.txt" 2>/dev/null
it_check "the agent's token opens the stream and gets the list" list_has "$IT_TMP/agent.txt" ".conversations[] | select(.id == $c1)"
forged="${AGENT_TOKEN%_*}_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
code=$(curl -s -o "$IT_TMP/forged.txt" -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $forged" \
    "$ADM_URL/api/v1/inbox/events")
it_check_eq "a forged agent token (right id, wrong secret): 401, no stream" "401|" "$code|$(grep -o '^event: list' "$IT_TMP/forged.txt")"
adm_noauth GET /api/v1/stats/overview -H "Authorization: Bearer $AGENT_TOKEN"
it_check_eq "the overview is for admins: an agent gets 403" 403 "$ADM_CODE"

# the cap on streams: a second lull-admin allowing one stream
cap_port=$(it_free_port)
it_start admin-cap env LULL_ADMIN_PORT="$cap_port" LULL_OPS_PORT="$(it_free_port)" LULL_SCHEDULER_CONTROLS="$SCHED_CT" \
    LULL_ADMIN_TOKEN="$ADM_TOKEN" LULL_ADMIN_INBOX_STREAMS_MAX=1 LULL_LOG_FILE="$IT_TMP/admin-cap.jsonl" \
    "$LULL_BIN/lull-admin"
it_wait_for "admin-cap serving" 10 it_http_ok "http://127.0.0.1:$cap_port/health"
curl -sN --max-time 20 -H "Authorization: Bearer $ADM_TOKEN" "http://127.0.0.1:$cap_port/api/v1/inbox/events" \
    >"$IT_TMP/cap1.txt" 2>/dev/null &
CAP_PID=$!
it_wait_for "the first stream is open" 10 grep -q '^event: list' "$IT_TMP/cap1.txt"
code=$(curl -s -o "$IT_TMP/cap2.json" -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $ADM_TOKEN" \
    "http://127.0.0.1:$cap_port/api/v1/inbox/events")
it_check_eq "a stream over LULL_ADMIN_INBOX_STREAMS_MAX: 503 too_many_streams" "503 too_many_streams" \
    "$code $(jq -r .error.code "$IT_TMP/cap2.json")"
kill "$CAP_PID" 2>/dev/null; wait "$CAP_PID" 2>/dev/null

# --- GET /api/v1/inbox: order, unread, seen ------------------------------------------------------------------
m3=$(webhook "+15550303" "paused one")
c3=$(it_sql "SELECT conversation_id FROM messages WHERE id = $m3")
adm POST "/api/v1/conversations/$c3/reply" '{"body":"a person answers"}'
it_check_eq "a human reply (pauses the bot)" 200 "$ADM_CODE"
webhook "+15550101" "second message" >/dev/null
adm GET /api/v1/inbox
it_check_eq "inbox 200" 200 "$ADM_CODE"
it_check_eq "escalated, then paused, then recent" "$c2:escalated $c3:paused $c1:recent" \
    "$(jqr '[.conversations[] | "\(.id):\(.section)"] | join(" ")')"
it_check_eq "unread: the recent one has two inbound messages unread" 2 "$(jqr ".conversations[] | select(.id == $c1) | .unread")"
it_check_eq "unread: none after the human reply" 0 "$(jqr ".conversations[] | select(.id == $c3) | .unread")"
it_check_match "escalated: time waiting in ms" '^[0-9]+$' "$(jqr ".conversations[0].waiting_ms")"
it_check_eq "contact and last message" "+15550101|second message|contact" \
    "$(jqr ".conversations[] | select(.id == $c1) | \"\(.contact.external_id)|\(.last_message.body)|\(.last_message.author)\"")"
adm POST "/api/v1/inbox/$c1/seen" '{}'
it_check_eq "seen: 200" "200 $c1" "$ADM_CODE $(jqr .id)"
adm GET /api/v1/inbox
it_check_eq "seen: unread 0" 0 "$(jqr ".conversations[] | select(.id == $c1) | .unread")"
webhook "+15550101" "third message" >/dev/null
adm GET /api/v1/inbox
it_check_eq "a new inbound message after seen: unread 1" 1 "$(jqr ".conversations[] | select(.id == $c1) | .unread")"
adm POST "/api/v1/inbox/999999/seen" '{}'
it_check_eq "seen of an unknown conversation: 404" 404 "$ADM_CODE"
adm POST "/api/v1/inbox/abc/seen" '{}'
it_check_eq "seen with a bad id: 400" "400 bad_id" "$ADM_CODE $(jqr .error.code)"

# --- GET /api/v1/stats/overview ------------------------------------------------------------------------------
it_sql "UPDATE conversations SET answered_upto = last_inbound_id WHERE id = $c1" >/dev/null
it_sql "INSERT INTO escalations (conversation_id, tenant_id, reason, source) SELECT id, tenant_id, 'keyword: manager', 'keyword'
        FROM conversations WHERE id = $c2" >/dev/null
it_sql "INSERT INTO outbox (tenant_id, conversation_id, channel, recipient, payload, status, idempotency_key, last_error)
        SELECT tenant_id, id, channel, 'x', '{}', 'dead', 'inbox-test-dead', 'HTTP 500' FROM conversations WHERE id = $c1" >/dev/null
it_sql "INSERT INTO usage (tenant_id, contact_id, requests, prompt_tokens, completion_tokens, cost_usd)
        VALUES (1, 0, 1, 100, 20, 0.0125)" >/dev/null
adm GET /api/v1/stats/overview
it_check_eq "overview 200" 200 "$ADM_CODE"
it_check_eq "24 hours" 24 "$(jqr '.hours | length')"
it_check_eq "totals: conversations, inbound, answered, llm calls, saved, escalations, failures" "3 5 3 1 2 1 1" \
    "$(jqr '.totals | "\(.conversations) \(.inbound) \(.answered) \(.llm_calls) \(.llm_calls_saved) \(.escalations) \(.delivery_failures)"')"
it_check_eq "the current hour holds the messages" 5 "$(jqr '.hours[23].inbound')"
it_check_eq "cost per tenant" "default 1 120 0.0125" "$(jqr '.tenants[0] | "\(.slug) \(.llm_calls) \(.tokens) \(.cost_usd)"')"
it_check_eq "not truncated" false "$(jqr .truncated)"

# --- an orderly stop with a stream open: exit 0 (under the sanitizer: no leak, no error) -----------------------
curl -sN --max-time 20 -H "Authorization: Bearer $ADM_TOKEN" "$ADM_URL/api/v1/inbox/events" >"$IT_TMP/last.txt" 2>/dev/null &
LAST_PID=$!
it_wait_for "a stream is open" 10 grep -q '^event: list' "$IT_TMP/last.txt"
it_stop "$ADM_PID"
it_check_eq "lull-admin stops cleanly with a stream open" 0 "$IT_RC"
it_check_eq "no sanitizer report" "" "$(grep -l 'Sanitizer' "$IT_TMP"/admin*.log 2>/dev/null)"
ended_last() { ! kill -0 "$LAST_PID" 2>/dev/null; }
it_wait_for "the stream ended with the server" 10 ended_last
it_finish
