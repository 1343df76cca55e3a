#!/usr/bin/env bash
# End to end through the real tiers, per channel. WhatsApp Cloud API (Meta): a burst in one signed envelope and a
# second envelope inside the window get one reply, posted to the fake Graph API with the bearer token, to the wa_id
# that wrote, from the phone number id the tenant lists. WhatsApp over Twilio: a Twilio webhook from whatsapp:+1… is answered over
# Twilio's Messages API To the whatsapp: address that wrote, From the business number. TikTok: a signed
# im_receive_msg whose client_key routes to a tenant is answered through the TikTok send API to the
# conversation id, as that tenant's business id; then a person answering from the TikTok app (im_send_msg)
# pauses the bot: the contact's next message is not answered before the pause ends (it is afterwards).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/e2e_lib.sh"
it_db_create || it_finish
it_sql "UPDATE tenants SET window_ms = 200, max_wait_ms = 2000, twilio_numbers = '{+15550000001}' WHERE slug = 'default';
        INSERT INTO tenants (slug, window_ms, max_wait_ms, tiktok_client_key, tiktok_business_id, human_pause_ms)
          VALUES ('shop', 200, 2000, 'ck_shop', 'biz_shop', 1500);
        INSERT INTO tenants (slug, window_ms, max_wait_ms, meta_phone_number_ids)
          VALUES ('metashop', 1500, 8000, '{106540352242922}')" >/dev/null
e2e_start || it_finish
# ledger_key PREFIX : the fake channels' first delivered key starting with PREFIX.
ledger_key() { curl -s "$CH/_fake/ledger" | jq -r --arg p "$1" '[.by_key | to_entries[] | select(.key | startswith($p)) | .key][0] // empty'; }
form_field() { jq -r --arg n "$2" '.last.form[] | select(.[0] == $n)[1]' <<<"$1"; }
has_key() { [ -n "$(ledger_key "$1")" ]; }
key_entry() { curl -s -G --data-urlencode "key=$1" "$CH/_fake/ledger" | jq -c --arg k "$1" '.by_key[$k]'; }

# WhatsApp Cloud API: a burst in one POST, then one more POST inside the window → one reply
it_check_eq "WhatsApp Cloud API burst of two accepted" 200 \
    "$(e2e_whatsapp 106540352242922 16505551234 'c1:do you ship to Spain' 'c2:and to Portugal')"
it_check_eq "a third message in another POST accepted" 200 "$(e2e_whatsapp 106540352242922 16505551234 'c3:thanks')"
graph_keys() { curl -s "$GRAPH/_fake/ledger" | jq -r '[.by_key | keys[] | select(startswith("meta:16505551234|"))] | length'; }
it_wait_for "a reply delivered through the Graph API" 15 e2e_ge 1 graph_keys
it_wait_for "replies final" 10 e2e_outbox_idle
e2e_settle
e=$(curl -s "$GRAPH/_fake/ledger" | jq -c '[.by_key | to_entries[] | select(.key | startswith("meta:16505551234|")) | .value]')
it_check_eq "one reply for the three messages, delivered once" "1|1" "$(jq -r 'length' <<<"$e")|$(jq -r '.[0].deliveries' <<<"$e")"
it_check_eq "posted to the tenant's phone number id with the bearer token" "/v21.0/106540352242922/messages|Bearer $E2E_META_TOKEN" \
    "$(jq -r '.[0].last.path + "|" + .[0].last.authorization' <<<"$e")"
it_check_eq "to the wa_id that wrote, as text" "16505551234|text|whatsapp" \
    "$(jq -r '.[0].last.body | fromjson | [.to, .type, .messaging_product] | join("|")' <<<"$e")"
it_check "the LLM saw all three messages in one call" test "$(e2e_llm_count '.kind == "reply" and ((.body | tostring) | (contains("do you ship to Spain") and contains("and to Portugal") and contains("thanks")))')" -ge 1
it_check_eq "routed to metashop; the outbox row keeps the wamid" "metashop|true" \
    "$(it_sql "SELECT t.slug || '|' || (o.provider_message_id LIKE 'wamid.%') FROM outbox o JOIN tenants t ON t.id = o.tenant_id WHERE o.sender_address = 'meta:106540352242922'")"

# WhatsApp over Twilio
it_check_eq "WhatsApp message accepted" 200 \
    "$(e2e_twilio 'whatsapp:+15557654321' 'whatsapp:+15550000001' 'hello over whatsapp' "SM$(printf '%032d' 41)")"
it_wait_for "a WhatsApp reply delivered through Twilio" 15 has_key 'to:whatsapp:+15557654321|'
e=$(key_entry "$(ledger_key 'to:whatsapp:+15557654321|')")
it_check_eq "WhatsApp reply: To is the whatsapp: address that wrote" "whatsapp:+15557654321" "$(form_field "$e" To)"
it_check_eq "WhatsApp reply: From is the business number" "whatsapp:+15550000001" "$(form_field "$e" From)"
it_check_eq "WhatsApp reply: posted to the account's Messages resource" "/2010-04-01/Accounts/$E2E_SID/Messages.json" "$(jq -r '.last.path' <<<"$e")"
it_check_match "WhatsApp reply: a non-empty body" '^.+$' "$(form_field "$e" Body)"
it_check_eq "WhatsApp: the conversation is on the whatsapp channel with the 24-hour window open" "whatsapp|t" \
    "$(it_sql "SELECT channel, wa_window_start IS NOT NULL FROM conversations WHERE business_address LIKE '%15550000001'")"
it_check "WhatsApp: the LLM prompt held the message" test "$(e2e_llm_reply_has 'hello over whatsapp')" -ge 1

# TikTok
U=7000000000000000001; B=7000000000000000999; TC=7100000000000000001
it_check_eq "TikTok message accepted" 200 "$(e2e_tiktok im_receive_msg 7300000000000000001 'hello over tiktok' ck_shop $TC $U $B)"
it_wait_for "a TikTok reply delivered through the send API" 15 has_key "tiktok:$TC|"
e=$(key_entry "$(ledger_key "tiktok:$TC|")")
body=$(jq -r .last.body <<<"$e")
it_check_eq "TikTok reply: to the conversation, as the tenant's business id" "biz_shop|CONVERSATION|$TC|TEXT" \
    "$(jq -r '[.business_id, .recipient_type, .recipient, .message_type] | join("|")' <<<"$body")"
it_check_eq "TikTok reply: Access-Token header" "$E2E_TIKTOK_TOKEN" "$(jq -r '.last.headers["Access-Token"]' <<<"$e")"
it_check_eq "TikTok: the message was routed to the shop tenant by client_key" shop \
    "$(it_sql "SELECT t.slug FROM conversations v JOIN tenants t ON t.id = v.tenant_id WHERE v.external_conversation_id = '$TC'")"
TCONV=$(it_sql "SELECT id FROM conversations WHERE external_conversation_id = '$TC'")
it_wait_for "TikTok reply final in the outbox" 10 e2e_outbox_idle

# TikTok human reply from the app pauses the bot for human_pause_ms (1.5 s).
it_check_eq "TikTok im_send_msg accepted" 200 "$(e2e_tiktok im_send_msg 7300000000000000002 'a person answers from the app' ck_shop $TC $B $U)"
HUMAN=$(it_sql "SELECT id FROM messages WHERE provider_message_id = '7300000000000000002'")
pause=$(it_sql "SELECT (extract(epoch FROM paused_until) * 1000)::bigint FROM conversations WHERE id = $TCONV")
it_check_match "TikTok im_send_msg set paused_until" '^[0-9]{13}$' "$pause"
it_check_eq "the contact writes during the pause: accepted" 200 \
    "$(e2e_tiktok im_receive_msg 7300000000000000003 'are you still there' ck_shop $TC $U $B)"
it_wait_for "the message sent during the pause answered once the pause is over" 15 e2e_answered "$TCONV"
first_call=$(curl -s "$LLM/_fake/ledger" | jq '[.[] | select(.kind == "reply" and ((.body | tostring) | contains("are you still there"))) | .t_ms] | min // 0')
it_check "no LLM reply call for it before the pause ended (first call at $first_call ms, pause until $pause ms)" \
    test "${first_call%.*}" -ge "$pause"
it_check_eq "no bot message stored after the human's before the pause ended" 0 \
    "$(it_sql "SELECT count(*) FROM messages WHERE conversation_id = $TCONV AND author = 'bot' AND id > $HUMAN AND created_at < to_timestamp($pause / 1000.0)")"
it_check_eq "the human message is stored as out/human" "out|human" \
    "$(it_sql "SELECT direction, author FROM messages WHERE provider_message_id = '7300000000000000002'")"
it_check_eq "a new message after the pause is answered" 200 "$(e2e_tiktok im_receive_msg 7300000000000000004 'one more question' ck_shop $TC $U $B)"
it_wait_for "the new message answered" 15 e2e_answered "$TCONV"
it_wait_for "all replies final" 10 e2e_outbox_idle
it_check_eq "three TikTok bot replies sent in all, none dead" "sent:3" \
    "$(it_sql "SELECT status || ':' || count(*) FROM outbox WHERE conversation_id = $TCONV GROUP BY status")"
it_check_eq "no reply delivered twice" 0 "$(curl -s "$CH/_fake/ledger?summary=1" | jq -r .duplicated_keys)"
it_finish
