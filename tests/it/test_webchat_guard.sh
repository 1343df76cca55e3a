#!/usr/bin/env bash
# Web chat strictness: the POSTs require Content-Type: application/json (a cross-site text/plain or form POST gets
# 415 and stores nothing); Origin is checked: none (not a browser) and the ingress's own origin pass, another
# origin gets 403 unless the tenant lists it in chat_allowed_origins (for sessions, and for messages of its
# sessions). Streams end after their lifetime with a final "end" event carrying the last id, and a stream resumed
# from that id gets what was sent meanwhile, once. History reads run on the reader pool.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingress_lib.sh"
it_db_create || it_finish
it_sql "INSERT INTO tenants (slug, chat_allowed_origins) VALUES ('shop', '{https://shop.example}')" >/dev/null
# the rate limits have their own test (test_ingress_ratelimit): off here
ing_start LULL_CHAT_STREAM_LIFETIME_MS=400 LULL_CHAT_SESSION_RATE=0 || it_finish
contacts() { it_sql "SELECT count(*) FROM contacts WHERE channel = 'webchat'"; }
code() { jq -r '.error.code // empty' <<<"$ING_BODY"; }

# --- Content-Type -------------------------------------------------------------------------------------------
before=$(contacts)
ing_req POST /api/v1/chat/session '{}' -H 'Content-Type: text/plain' -H 'Origin: https://evil.example'
it_check_eq "a cross-site text/plain session POST: 415" "415 unsupported_media_type" "$ING_CODE $(code)"
ing_req POST /api/v1/chat/session '{}'  # curl's default: application/x-www-form-urlencoded, as an HTML form
it_check_eq "a form-encoded session POST: 415" 415 "$ING_CODE"
ing_req POST /api/v1/chat/session '' -H 'Content-Type:'
it_check_eq "a session POST without Content-Type: 415" 415 "$ING_CODE"
it_check_eq "nothing was stored" "$before" "$(contacts)"
ing_json /api/v1/chat/session '{}' -H 'Content-Type: application/json; charset=utf-8'
it_check_eq "application/json with a charset: 200" 200 "$ING_CODE"
sid=$(jq -r .sessionId <<<"$ING_BODY")
ing_req POST /api/v1/chat/message "{\"sessionId\":\"$sid\",\"message\":\"hi\"}" -H 'Content-Type: text/plain'
it_check_eq "a text/plain message POST: 415" "415 unsupported_media_type" "$ING_CODE $(code)"
it_check_eq "…not stored" 0 "$(it_sql "SELECT count(*) FROM messages m JOIN conversations v ON v.id = m.conversation_id
                                         WHERE v.external_conversation_id = '$sid'")"

# --- Origin -------------------------------------------------------------------------------------------------
before=$(contacts)
ing_json /api/v1/chat/session '{}' -H 'Origin: https://evil.example'
it_check_eq "another origin's page: 403 origin_not_allowed" "403 origin_not_allowed" "$ING_CODE $(code)"
it_check_eq "…no session stored" "$before" "$(contacts)"
ing_json /api/v1/chat/session '{}' -H "Origin: $ING_URL"
it_check_eq "the ingress's own origin (Host): 200" 200 "$ING_CODE"
ing_json /api/v1/chat/session '{}' -H 'Origin: https://lull.example.com'
it_check_eq "the origin of LULL_PUBLIC_URL: 200" 200 "$ING_CODE"
ing_json /api/v1/chat/message "{\"sessionId\":\"$sid\",\"message\":\"from evil\"}" -H 'Origin: https://evil.example'
it_check_eq "a message from another origin: 403" "403 origin_not_allowed" "$ING_CODE $(code)"
ing_json /api/v1/chat/message "{\"sessionId\":\"$sid\",\"message\":\"no origin\"}"
it_check_eq "a message without Origin (not a browser): 200" 200 "$ING_CODE"
# the tenant lists https://shop.example
ing_json /api/v1/chat/session '{"tenant":"shop"}' -H 'Origin: https://shop.example'
it_check_eq "a listed origin opens a session of its tenant" 200 "$ING_CODE"
shop=$(jq -r .sessionId <<<"$ING_BODY")
ing_json /api/v1/chat/message "{\"sessionId\":\"$shop\",\"message\":\"from the shop\"}" -H 'Origin: https://shop.example'
it_check_eq "…and sends its messages" 200 "$ING_CODE"
ing_json /api/v1/chat/message "{\"sessionId\":\"$shop\",\"message\":\"x\"}" -H 'Origin: https://shop.example.evil'
it_check_eq "a look-alike origin: 403" 403 "$ING_CODE"
ing_json /api/v1/chat/session '{}' -H 'Origin: https://shop.example'
it_check_eq "a listed origin of another tenant cannot use the default tenant" 403 "$ING_CODE"
ing_json /api/v1/chat/message "{\"sessionId\":\"$sid\",\"message\":\"x\"}" -H 'Origin: https://shop.example'
it_check_eq "…nor post into its sessions" 403 "$ING_CODE"
it_check_eq "only the allowed messages were stored" "from the shop|no origin" \
    "$(it_sql "SELECT string_agg(body, '|' ORDER BY body) FROM messages WHERE channel = 'webchat'")"
it_check "every refusal logged as JSON" sh -c "jq -c . '$ING_LOG' >/dev/null"

# --- history on the reader pool ---------------------------------------------------------------------------
ing_req GET "/api/v1/chat/history/$shop" ""
it_check_eq "history read: 200 with the message" "200 from the shop" "$ING_CODE $(jq -r '.messages[0].body' <<<"$ING_BODY")"
it_check_match "the reader pool served it (its own metrics)" 'lull_ingress_queue_depth\{pool="reader"\} 0' \
    "$(curl -s "$ING_OPS/metrics")"

# --- stream lifetime ------------------------------------------------------------------------------------------
# reply BODY : what the sender does for a web chat reply of the shop session; prints the message id
reply() {
    it_sql "WITH m AS (INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, body)
              SELECT id, tenant_id, 'webchat', 'out', 'bot', '$1' FROM conversations WHERE external_conversation_id = '$shop'
              RETURNING id, conversation_id, tenant_id),
            o AS (INSERT INTO outbox (tenant_id, conversation_id, message_id, channel, recipient, payload, status,
                                      idempotency_key, sent_at)
              SELECT tenant_id, conversation_id, id, 'webchat', '$shop', '{}', 'sent', 'wc-' || id, now() FROM m
              RETURNING message_id, conversation_id)
            SELECT message_id FROM o, LATERAL (SELECT pg_notify('lull_webchat', json_build_object('conversation_id',
              conversation_id, 'message_id', message_id, 'session', '$shop')::text)) n"
}
r1=$(reply first)
timeout 20 curl -sN --max-time 15 "$ING_URL/api/v1/chat/stream/$shop?after=0" >"$IT_TMP/life.sse"
rc=$?
it_check_eq "a stream ends by itself after its lifetime (curl exit 0, not a timeout)" 0 "$rc"
it_check "…after the replay of the first reply" grep -qx "id: $r1" "$IT_TMP/life.sse"
it_check_eq "…with a final end event carrying the last id" "id: $r1|event: end|data: {\"reason\":\"lifetime\"}" \
    "$(grep -A2 -x 'event: end' -B1 "$IT_TMP/life.sse" | head -3 | tr '\n' '|' | sed 's/|$//')"
r2=$(reply second)
curl -sN --max-time 15 -H "Last-Event-ID: $r1" "$ING_URL/api/v1/chat/stream/$shop" >"$IT_TMP/resume.sse"
it_check_eq "resumed from that id: the reply sent meanwhile, once, and not the first again" "1 0" \
    "$(grep -c "^data: {\"id\":$r2," "$IT_TMP/resume.sse") $(grep -c "^data: {\"id\":$r1," "$IT_TMP/resume.sse")"
it_finish
