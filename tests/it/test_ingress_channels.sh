#!/usr/bin/env bash
# lull-ingress, every channel: the generic JSON webhook, Twilio SMS and WhatsApp (media, every field kept),
# TikTok (inbound and a human reply that pauses the bot), web chat (session, message, history); tenant routing;
# rows asserted in the database; INBOUND received by a test PULL socket for new inbound messages only.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingress_lib.sh"
it_db_create || it_finish
it_sql "INSERT INTO tenants (slug, window_ms, twilio_numbers, tiktok_client_key, tiktok_business_id, human_pause_ms,
          channel_windows)
        VALUES ('acme', 12000, '{+15550001111}', 'ck_acme', 'biz_acme', 60000, '{\"generic\": {\"window_ms\": 5000}}')" >/dev/null
it_sql "INSERT INTO tenants (slug, window_ms) VALUES ('blink', 500), ('slowblink', 1500)" >/dev/null
acme=$(it_sql "SELECT id FROM tenants WHERE slug = 'acme'")
ing_start

# --- generic JSON ---------------------------------------------------------------------------------
ing_json /webhook '{"contact_id":"12345","message":{"body":"hi there","id":"g-1"},"first_name":"John","last_name":"Doe"}'
it_check_eq "generic: 200" 200 "$ING_CODE"
it_check_match "generic: success body with window" '^\{"status":"success","contact_id":"12345","message_id":[0-9]+,"window":\{"active":true,"seconds":30,"ms":30000\}' "$ING_BODY"
mid=$(jq -r .message_id <<<"$ING_BODY")
it_check_eq "generic: message row" "generic|in|contact|hi there|g-1|1" \
    "$(it_sql "SELECT channel, direction, author, body, provider_message_id, tenant_id FROM messages WHERE id = $mid")"
it_check_eq "generic: contact row with names and last_inbound_at" "12345|John|Doe|t" \
    "$(it_sql "SELECT external_id, first_name, last_name, last_inbound_at IS NOT NULL FROM contacts WHERE channel = 'generic'")"
it_check_eq "generic: conversation state" "$mid|t|t|open" \
    "$(it_sql "SELECT last_inbound_id, last_inbound_at IS NOT NULL, first_unanswered_at IS NOT NULL, status FROM conversations WHERE channel = 'generic'")"
it_check_eq "generic: raw keeps the body" "12345" "$(it_sql "SELECT raw->>'contact_id' FROM messages WHERE id = $mid")"
ing_json /webhook '{"contact_id":"12345","message":{"body":"second"}}'
it_check_eq "generic without message.id: stored" 200 "$ING_CODE"
mid2=$(jq -r .message_id <<<"$ING_BODY")
it_check_eq "generic: same conversation, last_inbound_id grows" "1|$mid2" \
    "$(it_sql "SELECT count(*), max(last_inbound_id) FROM conversations WHERE channel = 'generic'")"
ing_json /webhook '{"contact_id":777,"message":{"body":"x","id":"g-acme"},"tenant":"acme"}'
it_check_match "generic explicit tenant: its channel window in seconds and ms" '"contact_id":"777".*"seconds":5,"ms":5000' "$ING_BODY"
ing_json /webhook '{"contact_id":"778","message":{"body":"x"},"tenant":"blink"}'
it_check_eq "a 500 ms window: 1 s rounded up, never 0, and its ms" '{"active":true,"seconds":1,"ms":500}' "$(jq -c .window <<<"$ING_BODY")"
ing_json /webhook '{"contact_id":"779","message":{"body":"x"},"tenant":"slowblink"}'
it_check_eq "a 1,500 ms window: 2 s rounded up, and its ms" '{"active":true,"seconds":2,"ms":1500}' "$(jq -c .window <<<"$ING_BODY")"
it_check_eq "generic explicit tenant: routed" "$acme" "$(it_sql "SELECT tenant_id FROM messages WHERE provider_message_id = 'g-acme'")"
ing_json /webhook '{"contact_id":"1","message":{"body":"x"},"tenant":"nope"}'
it_check_eq "generic unknown tenant: 404" 404 "$ING_CODE"
it_check_match "generic unknown tenant: names it" '"code":"unknown_tenant"' "$ING_BODY"
sql_payload="'); DROP TABLE messages;--"
ing_json /webhook "$(jq -cn --arg b "$sql_payload" '{contact_id:"sqli", message:{body:$b, id:"g-sqli"}, first_name:$b}')"
it_check_eq "SQL payload: 200" 200 "$ING_CODE"
it_check_eq "SQL payload stored byte-exact" "$sql_payload" "$(it_sql "SELECT body FROM messages WHERE provider_message_id = 'g-sqli'")"
it_check_eq "SQL payload: name byte-exact" "$sql_payload" "$(it_sql "SELECT first_name FROM contacts WHERE external_id = 'sqli'")"

# --- Twilio ---------------------------------------------------------------------------------------
twilio_post MessageSid=$(sm 100) From=+15551234567 To=+15550001111 Body="hello from sms" NumMedia=0 NewField=kept
it_check_eq "twilio sms: 200" 200 "$ING_CODE"
it_check_match "twilio sms: empty TwiML" '<Response/>' "$ING_BODY"
it_check_eq "twilio sms: row routed by To" "sms|hello from sms|$acme|kept" \
    "$(it_sql "SELECT channel, body, tenant_id, raw->>'NewField' FROM messages WHERE provider_message_id = '$(sm 100)'")"
it_check_eq "twilio sms: contact and business address" "+15551234567|+15551234567|+15550001111" \
    "$(it_sql "SELECT k.external_id, k.phone, v.business_address FROM contacts k JOIN conversations v ON v.contact_id = k.id WHERE k.channel = 'sms'")"
twilio_post MessageSid=$(sm 200) From=whatsapp:+15557654321 To=whatsapp:+15550001111 Body="wa with media" NumMedia=2 \
    MediaUrl0=https://media.example.com/a.jpg MediaContentType0=image/jpeg MediaUrl1=https://media.example.com/b.pdf \
    MediaContentType1=application/pdf ProfileName="Ana María" WaId=15557654321
it_check_eq "twilio whatsapp: 200" 200 "$ING_CODE"
it_check_eq "twilio whatsapp: channel, routing without the prefix, media" \
    "whatsapp|$acme|2|https://media.example.com/b.pdf|application/pdf|15557654321" \
    "$(it_sql "SELECT channel, tenant_id, jsonb_array_length(media), media->1->>'url', media->1->>'content_type', raw->>'WaId' FROM messages WHERE provider_message_id = '$(sm 200)'")"
it_check_eq "twilio whatsapp: contact keeps the prefix, profile name" "whatsapp:+15557654321|Ana María|+15557654321" \
    "$(it_sql "SELECT external_id, profile_name, phone FROM contacts WHERE channel = 'whatsapp'")"
it_check_eq "twilio whatsapp: 24-hour window start and business address" "t|whatsapp:+15550001111" \
    "$(it_sql "SELECT wa_window_start IS NOT NULL, business_address FROM conversations WHERE channel = 'whatsapp'")"
twilio_post MessageSid=$(sm 300) From=+15550000000 To=+19999999999 Body="unknown number"
it_check_eq "twilio unknown To: default tenant" "200|1" "$ING_CODE|$(it_sql "SELECT tenant_id FROM messages WHERE provider_message_id = '$(sm 300)'")"

# --- TikTok ---------------------------------------------------------------------------------------
body=$(tiktok_body im_receive_msg 7300000000000000001 "tiktok hello" ck_acme)
tiktok_post "$body"
it_check_eq "tiktok inbound: 200" 200 "$ING_CODE"
it_check_eq "tiktok inbound: row (19-digit ids kept as strings)" "tiktok|in|contact|tiktok hello|$acme|7000000000000000001" \
    "$(it_sql "SELECT m.channel, m.direction, m.author, m.body, m.tenant_id, k.external_id FROM messages m JOIN conversations v ON v.id = m.conversation_id JOIN contacts k ON k.id = v.contact_id WHERE m.provider_message_id = '7300000000000000001'")"
it_check_eq "tiktok inbound: conversation id and business id" "7100000000000000001|biz_acme" \
    "$(it_sql "SELECT external_conversation_id, business_address FROM conversations WHERE channel = 'tiktok'")"
body=$(tiktok_body im_send_msg 7300000000000000002 "a human answers" ck_acme 7000000000000000999 7000000000000000001)
tiktok_post "$body"
it_check_eq "tiktok human reply: 200" 200 "$ING_CODE"
it_check_eq "tiktok human reply: stored out/human in the same conversation" "out|human|1" \
    "$(it_sql "SELECT direction, author, (SELECT count(DISTINCT conversation_id) FROM messages WHERE channel = 'tiktok') FROM messages WHERE provider_message_id = '7300000000000000002'")"
it_check_eq "tiktok human reply: bot paused for human_pause_ms, burst cancelled, last_inbound_id kept" "t|t|t" \
    "$(it_sql "SELECT paused_until BETWEEN now() + interval '50 s' AND now() + interval '70 s', cancelled_upto = last_inbound_id, last_inbound_id = (SELECT id FROM messages WHERE provider_message_id = '7300000000000000001') FROM conversations WHERE channel = 'tiktok'")"
tiktok_post "$(jq -cn '{client_key:"ck_acme", event:"im_mark_read", create_time:1, user_openid:"x", content:"{}"}')"
it_check_eq "tiktok other events: 200, ignored" "200|ignored" "$ING_CODE|$(jq -r .status <<<"$ING_BODY")"

# --- web chat ---------------------------------------------------------------------------------------
ing_json /api/v1/chat/session '{"userId":"u-1","metadata":{"page":"/shop"}}'
it_check_eq "chat session: 200" 200 "$ING_CODE"
sid=$(jq -r .sessionId <<<"$ING_BODY")
it_check_match "chat session: an id" '^ws_[0-9a-f]{32}$' "$sid"
it_check_eq "chat session: contact with metadata" "u-1|/shop" \
    "$(it_sql "SELECT metadata->>'userId', metadata->'metadata'->>'page' FROM contacts WHERE channel = 'webchat' AND external_id = '$sid'")"
ing_json /api/v1/chat/message "$(jq -cn --arg s "$sid" '{sessionId:$s, message:"hello chat", userId:"u-1"}')"
it_check_eq "chat message: 200" 200 "$ING_CODE"
ing_json /api/v1/chat/message "$(jq -cn --arg s "$sid" '{sessionId:$s, message:"second line"}')"
cmid=$(jq -r .messageId <<<"$ING_BODY")
it_sql "INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, body)
        SELECT conversation_id, tenant_id, channel, 'out', 'bot', 'bot reply' FROM messages WHERE id = $cmid" >/dev/null
ing_req GET "/api/v1/chat/history/$sid" ""
it_check_eq "chat history: 200" 200 "$ING_CODE"
it_check_eq "chat history: both directions, in order" "hello chat/in,second line/in,bot reply/out" \
    "$(jq -r '[.messages[] | .body + "/" + .direction] | join(",")' <<<"$ING_BODY")"
ing_req GET "/api/v1/chat/history/$sid?from=a/b" ""
it_check_eq "chat history: a query string (even with a slash) does not change the session" "200|3" \
    "$ING_CODE|$(jq '.messages | length' <<<"$ING_BODY")"
ing_json /api/v1/chat/message "$(jq -cn --arg s "$sid" '{sessionId:$s, message:"x", userId:"someone-else"}')"
it_check_eq "chat message from another user: 404" 404 "$ING_CODE"
ing_json /api/v1/chat/message '{"sessionId":"ws_nope","message":"x"}'
it_check_eq "chat message to an unknown session: 404" "404" "$ING_CODE"
ing_req GET /api/v1/chat/history/ws_nope ""
it_check_eq "chat history of an unknown session: 404" 404 "$ING_CODE"

# --- INBOUND ----------------------------------------------------------------------------------------
inbound_new=$(it_sql "SELECT count(*) FROM messages WHERE direction = 'in'")
it_wait_for "INBOUND for every new inbound message" 5 sh -c "[ \$(jq -c 'select(.type==\"inbound\")' '$ING_SINK' | wc -l) -ge $inbound_new ]"
it_check_eq "INBOUND: one per new inbound message, none for the human reply" "$inbound_new" "$(sink_count '.type=="inbound"')"
conv=$(it_sql "SELECT conversation_id FROM messages WHERE provider_message_id = '$(sm 200)'")
it_check_eq "INBOUND carries conversation, message, tenant, channel" "1" \
    "$(sink_count ".conversation_id==$conv and .tenant_id==$acme and .channel==\"whatsapp\" and .message_id==$(it_sql "SELECT id FROM messages WHERE provider_message_id = '$(sm 200)'") and .received_ms > 1700000000000")"

# --- metrics ----------------------------------------------------------------------------------------
metrics=$(curl -s "$ING_OPS/metrics")
it_check_match "metrics: accepted by channel" 'lull_ingress_inbound_total\{channel="whatsapp",outcome="accepted"\} 1' "$metrics"
it_check_match "metrics: rejected by reason" 'lull_ingress_rejected_total\{channel="generic",reason="unknown_tenant"\} 1' "$metrics"
it_check_match "metrics: batch sizes and commits" 'lull_ingress_batch_size_count [1-9]' "$metrics"
it_check_match "metrics: INBOUND pushed" 'lull_ingress_inbound_pushed_total [1-9]' "$metrics"
it_check_match "metrics: request latency" 'lull_ingress_request_seconds_bucket\{route="twilio"' "$metrics"

it_stop "$ING_PID" TERM
it_check_eq "ingress exits 0 on SIGTERM" 0 "$IT_RC"
it_finish
