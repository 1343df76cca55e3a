#!/usr/bin/env bash
# GET /api/v1/chat/stream/{session} (Server-Sent Events): a reply the sender marks sent and notifies on
# lull_webchat (simulated here with the same SQL: message + sent outbox row + pg_notify in one transaction)
# arrives as `id/event/data`; Last-Event-ID and ?after= replay what was sent since; keep-alive comments;
# unknown session 404; bad Last-Event-ID 400; the per-session limit 429; the LISTEN connection killed →
# reconnect, LISTEN again, and the reply sent meanwhile still arrives; the database unreachable → 503 for a
# new stream while the open one survives and gets the next reply.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingress_lib.sh"
it_db_create || it_finish
ing_start LULL_CHAT_KEEPALIVE_MS=300 LULL_CHAT_STREAMS_PER_SESSION=2 LULL_LOG_LEVEL=debug || it_finish

ing_json /api/v1/chat/session '{"userId":"u1"}'
sid=$(jq -r .sessionId <<<"$ING_BODY")
it_check_match "session created" '^ws_' "$sid"
ing_json /api/v1/chat/message "{\"sessionId\":\"$sid\",\"message\":\"hello\",\"userId\":\"u1\"}"
it_check_eq "inbound message stored" 200 "$ING_CODE"

# reply BODY_SQL_LITERAL : what the sender does for a web chat reply; prints the message id.
reply() {
    it_sql "WITH m AS (INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, body)
              SELECT id, tenant_id, 'webchat', 'out', 'bot', $1 FROM conversations WHERE external_conversation_id = '$sid'
              RETURNING id, conversation_id, tenant_id),
            o AS (INSERT INTO outbox (tenant_id, conversation_id, message_id, channel, recipient, payload, status,
                                      idempotency_key, sent_at)
              SELECT tenant_id, conversation_id, id, 'webchat', '$sid', '{}', 'sent', 'wc-' || id, now() FROM m
              RETURNING message_id, conversation_id)
            SELECT message_id FROM o, LATERAL (SELECT pg_notify('lull_webchat', json_build_object('conversation_id',
              conversation_id, 'message_id', message_id, 'session', '$sid')::text)) n"
}
# stream NAME [curl args…] : a background SSE client writing to $IT_TMP/NAME.sse
stream() {
    local name=$1; shift
    it_start "curl.$name" sh -c "exec curl -sN --max-time 60 $* '$ING_URL/api/v1/chat/stream/$sid' >'$IT_TMP/$name.sse'"
}
has() { grep -qF -- "$2" "$IT_TMP/$1.sse"; }
count() { grep -cF -- "$2" "$IT_TMP/$1.sse"; }

# --- live: headers, the hello comment, then the notified reply ------------------------------------
stream live "-D '$IT_TMP/live.hdr'"
it_wait_for "the stream opens" 10 has live ": connected"
it_check_match "stream: 200 text/event-stream" 'HTTP/1.1 200.*[Cc]ontent-[Tt]ype: text/event-stream' "$(tr -d '\r' <"$IT_TMP/live.hdr" | tr '\n' ' ')"
r1=$(reply "E'Hi! \"quoted\"\nsecond line'")
it_wait_for "the reply arrives on the stream" 10 has live "id: $r1"
data=$(grep -A2 "^id: $r1\$" "$IT_TMP/live.sse")
it_check_match "event: message" $'event: message' "$data"
json=$(sed -n 's/^data: //p' <<<"$data" | head -1)
it_check_eq "data: id, author, body (newline and quotes kept)" "$r1|bot|Hi! \"quoted\"
second line" "$(jq -r '"\(.id)|\(.author)|\(.body)"' <<<"$json")"
it_check_match "data: created_at is RFC 3339 UTC" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$' "$(jq -r .created_at <<<"$json")"
it_wait_for "a keep-alive comment" 10 has live ": keep-alive"


# --- a notification for another session does not reach this stream --------------------------------
other_sid=$sid
ing_json /api/v1/chat/session '{}'
sid=$(jq -r .sessionId <<<"$ING_BODY")
ing_json /api/v1/chat/message "{\"sessionId\":\"$sid\",\"message\":\"other\"}"
r_other=$(reply "'for the other session'")
sid=$other_sid
r2=$(reply "'second reply'")
it_wait_for "the second reply arrives" 10 has live "id: $r2"
it_check_eq "the other session's reply is not on this stream" 0 "$(count live "id: $r_other")"
it_check_eq "each reply exactly once" "1 1" "$(count live "id: $r1") $(count live "id: $r2")"

# --- Last-Event-ID and ?after= replay --------------------------------------------------------------
stream replay "-H 'Last-Event-ID: $r1'"
it_wait_for "Last-Event-ID: replays what came after" 10 has replay "id: $r2"
it_check_eq "Last-Event-ID: nothing at or before it" 0 "$(count replay "id: $r1")"
it_stop "${IT_PIDS[-1]}"
# a client that went away is noticed at the next write (keep-alive): then its slot is free again
streams_open() { curl -s "$ING_OPS/metrics" | grep -qx "lull_ingress_chat_streams $1"; }
it_wait_for "the closed stream is dropped" 10 streams_open 1
stream after "--url-query after=0"
it_wait_for "?after=0 replays every sent reply" 10 has after "id: $r2"
it_check_eq "?after=0: both replies, in order" "$r1 $r2" "$(sed -n 's/^id: //p' "$IT_TMP/after.sse" | tr '\n' ' ' | sed 's/ $//')"
pending=$(it_sql "WITH m AS (INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, body)
                   SELECT id, tenant_id, 'webchat', 'out', 'bot', 'not sent yet' FROM conversations
                   WHERE external_conversation_id = '$sid' RETURNING id) SELECT id FROM m")

# --- limits and errors -----------------------------------------------------------------------------
ing_req GET "/api/v1/chat/stream/$sid" ""
it_check_eq "a third stream of one session: 429" 429 "$ING_CODE"
it_check_eq "429 body names the limit" too_many_streams "$(jq -r .error.code <<<"$ING_BODY")"
it_stop "${IT_PIDS[-1]}"   # the ?after stream
it_wait_for "a closed stream frees its slot" 10 sh -c "curl -s -o /dev/null -w '%{http_code}' --max-time 1 '$ING_URL/api/v1/chat/stream/$sid' | grep -q '^200'"
ing_req GET "/api/v1/chat/stream/ws_doesnotexist" ""
it_check_eq "unknown session: 404" 404 "$ING_CODE"
it_check_eq "unknown session: JSON error" unknown_session "$(jq -r .error.code <<<"$ING_BODY")"
ing_req GET "/api/v1/chat/stream/bad%20id" ""
it_check_eq "malformed session id: 404" 404 "$ING_CODE"
ing_req GET "/api/v1/chat/stream/$sid" "" -H 'Last-Event-ID: 12abc'
it_check_eq "malformed Last-Event-ID: 400" 400 "$ING_CODE"
ing_req POST "/api/v1/chat/stream/$sid" "x"
it_check_eq "POST on the stream: 405" 405 "$ING_CODE"

# --- the LISTEN connection is killed: reconnect, LISTEN again, catch up ----------------------------
# (every backend of the test database: the listener's and the writer's, like a database restart)
killed=$(it_sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()")
r3=$(reply "'sent while the listener was down'")
it_check_match "the backends were terminated" '^[1-9]' "$killed"
it_wait_for "the reply sent during the reconnect arrives" 10 has live "id: $r3"
it_check_eq "…exactly once" 1 "$(count live "id: $r3")"
it_check_eq "an unsent reply is never streamed" 0 "$(count live "id: $pending")"
it_wait_for "the listener logged the loss and listened again" 10 sh -c \
    "grep -q notify.lost '$ING_LOG' && [ \$(grep -c notify.listening '$ING_LOG') -ge 2 ]"
it_check_match "metrics: events and open streams" 'lull_ingress_chat_events_total [1-9]' "$(curl -s "$ING_OPS/metrics")"

# --- the database unreachable: new streams 503 (the page reopens later), open ones survive --------------
db=${LULL_DATABASE_URL##*/}
admin() { psql "${LULL_DATABASE_URL%/*}/postgres" -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
admin "ALTER DATABASE \"$db\" ALLOW_CONNECTIONS false" >/dev/null
admin "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$db' AND pid <> pg_backend_pid()" >/dev/null
ing_req GET "/api/v1/chat/stream/$sid" "" -D "$IT_TMP/down.hdr"
it_check_eq "database down: a new stream gets 503" 503 "$ING_CODE"
it_check_eq "… database_unavailable" database_unavailable "$(jq -r .error.code <<<"$ING_BODY")"
it_check_match "… with Retry-After" 'Retry-After: 1' "$(cat "$IT_TMP/down.hdr")"
admin "ALTER DATABASE \"$db\" ALLOW_CONNECTIONS true" >/dev/null
r4=$(reply "'after the outage'")
it_wait_for "the open stream survived the outage and gets the next reply" 10 has live "id: $r4"
it_check_eq "… once" 1 "$(count live "id: $r4")"

# --- a person's reply: author person, the agent's display name, never the agent's login name, role or token ----
agent=$(it_sql "INSERT INTO agents (name, display_name, role, token_hash) VALUES ('maria.k', 'Maria', 'agent',
                'pbkdf2-sha256\$1\$x\$y') RETURNING id")
rp=$(it_sql "WITH m AS (INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, body, agent_id, agent_name)
              SELECT id, tenant_id, 'webchat', 'out', 'human', 'Maria here', $agent, 'maria.k' FROM conversations
              WHERE external_conversation_id = '$sid' RETURNING id, conversation_id, tenant_id),
            o AS (INSERT INTO outbox (tenant_id, conversation_id, message_id, channel, recipient, payload, status,
                                      idempotency_key, sent_at)
              SELECT tenant_id, conversation_id, id, 'webchat', '$sid', '{}', 'sent', 'wc-' || id, now() FROM m
              RETURNING message_id, conversation_id)
            SELECT message_id FROM o, LATERAL (SELECT pg_notify('lull_webchat', json_build_object('conversation_id',
              conversation_id, 'message_id', message_id, 'session', '$sid')::text)) n")
it_wait_for "the person's reply arrives on the stream" 10 has live "id: $rp"
pj=$(grep -A2 "^id: $rp\$" "$IT_TMP/live.sse" | sed -n 's/^data: //p' | head -1)
it_check_eq "a person's reply: author person, the agent's display name" "person|Maria|Maria here" \
    "$(jq -r '"\(.author)|\(.name)|\(.body)"' <<<"$pj")"
it_check "the stream never names the agent's login name or role" test -z "$(grep -E 'maria\.k|"role"' "$IT_TMP/live.sse")"

# --- shutdown ends open streams cleanly ------------------------------------------------------------
it_stop "$ING_PID"
it_check_eq "ingress exits 0 with streams open" 0 "$IT_RC"
it_finish
