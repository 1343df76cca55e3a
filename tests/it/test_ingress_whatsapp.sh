#!/usr/bin/env bash
# WhatsApp Cloud API (Meta) webhook: the GET handshake; X-Hub-Signature-256 (the vectors of
# tests/data/vectors/signatures.json, bodies signed here with openssl); every message type stored with its text
# and media; several messages of one POST in order; duplicates; routing by phone_number_id; reactions and
# unsupported types stored without a wake-up (unless the tenant says reply); statuses moving outbox rows forward.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingress_lib.sh"
it_db_create || it_finish
META_SECRET=test-app-secret
VERIFY=verify-me-123
ing_start LULL_META_APP_SECRET="$META_SECRET" LULL_META_VERIFY_TOKEN="$VERIFY" LULL_META_MAX_ITEMS=20 || it_finish
it_sql "INSERT INTO tenants (slug, meta_phone_number_ids) VALUES ('acme', '{106540352242922}');
        INSERT INTO tenants (slug, meta_phone_number_ids, meta_unsupported) VALUES ('talky', '{200000000000001}', 'reply')" >/dev/null

meta_sig() { printf 'sha256=%s' "$(printf '%s' "$1" | openssl dgst -sha256 -hmac "${2:-$META_SECRET}" | sed 's/^.*= //')"; }
wa_post() { ing_json /webhook/whatsapp "$1" -H "X-Hub-Signature-256: $(meta_sig "$1")"; }
# envelope PHONE_ID MESSAGES_JSON [STATUSES_JSON] [CONTACTS_JSON]
envelope() {
    jq -cn --arg p "$1" --argjson m "$2" --argjson s "${3:-null}" --argjson c "${4:-[]}" \
        '{object:"whatsapp_business_account", entry:[{id:"102290129340398", changes:[{field:"messages", value:(
          {messaging_product:"whatsapp", metadata:{display_phone_number:"15550783881", phone_number_id:$p},
           contacts:$c} + (if $m == null then {} else {messages:$m} end) + (if $s == null then {} else {statuses:$s} end))}]}]}'
}
msg() {  # msg WAMID_SUFFIX FROM TYPE CONTENT_JSON
    jq -cn --arg id "wamid.$1" --arg f "$2" --arg t "$3" --argjson c "$4" '{from:$f, id:$id, timestamp:"1749416383", type:$t} + {($t):$c}'
}
stored() { it_sql "SELECT $2 FROM messages WHERE provider_message_id = 'wamid.$1'"; }

# --- the handshake
ing_req GET "/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=$VERIFY&hub.challenge=1158201444" ""
it_check_eq "handshake: 200 with the challenge as text" "200|1158201444" "$ING_CODE|$ING_BODY"
ct=$(curl -s -o /dev/null -w '%{content_type}' "$ING_URL/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=$VERIFY&hub.challenge=abc")
it_check_match "handshake answers text/plain" '^text/plain' "$ct"
ing_req GET "/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444" ""
it_check_eq "wrong verify token → 403" "403|verification_failed" "$ING_CODE|$(jq -r .error.code <<<"$ING_BODY")"
ing_req GET "/webhook/whatsapp?hub.mode=unsubscribe&hub.verify_token=$VERIFY&hub.challenge=1" ""
it_check_eq "mode other than subscribe → 403" "403" "$ING_CODE"
ing_req GET "/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=$VERIFY&hub.challenge=%3Cscript%3E%20x" ""
it_check_eq "a challenge with spaces → 403 (never echoed)" "403" "$ING_CODE"
ing_req GET "/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=$VERIFY&hub.challenge=$(printf 'x%.0s' $(seq 200))" ""
it_check_eq "a challenge over 128 bytes → 403" "403" "$ING_CODE"

# --- signatures: the published vector, missing, wrong
vbody=$(jq -r '.meta_whatsapp.vectors[] | select(.name=="self_generated") | .raw_body' tests/data/vectors/signatures.json)
vsig=$(jq -r '.meta_whatsapp.vectors[] | select(.name=="self_generated") | .header' tests/data/vectors/signatures.json)
ing_json /webhook/whatsapp "$vbody" -H "X-Hub-Signature-256: $vsig"
it_check_eq "the signatures.json vector is accepted (an empty entry list)" "200|0|0" \
    "$ING_CODE|$(jq -r .messages <<<"$ING_BODY")|$(jq -r .skipped <<<"$ING_BODY")"
b=$(envelope 106540352242922 "[$(msg sig1 16505551234 text '{"body":"hello"}')]")
ing_json /webhook/whatsapp "$b"
it_check_eq "missing signature → 400" "400|missing_signature" "$ING_CODE|$(jq -r .error.code <<<"$ING_BODY")"
ing_json /webhook/whatsapp "$b" -H "X-Hub-Signature-256: $(meta_sig "$b" other-secret)"
it_check_eq "wrong secret → 403" "403|invalid_signature" "$ING_CODE|$(jq -r .error.code <<<"$ING_BODY")"
ing_json /webhook/whatsapp "$b " -H "X-Hub-Signature-256: $(meta_sig "$b")"
it_check_eq "one byte more than what was signed → 403" "403" "$ING_CODE"
it_check_eq "nothing stored by refused requests" "0" "$(it_sql "SELECT count(*) FROM messages WHERE channel = 'whatsapp'")"

# --- a text, routed by phone_number_id, with the profile name
wa_post "$(envelope 106540352242922 "[$(msg t1 16505551234 text '{"body":"Does it come in blue?"}')]" null \
          '[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}]')"
it_check_eq "a text → 200, 1 new" "200|1|0" "$ING_CODE|$(jq -r .messages <<<"$ING_BODY")|$(jq -r .duplicates <<<"$ING_BODY")"
it_check_eq "stored body and tenant acme" "Does it come in blue?|acme" \
    "$(it_sql "SELECT m.body || '|' || t.slug FROM messages m JOIN tenants t ON t.id = m.tenant_id WHERE provider_message_id = 'wamid.t1'")"
it_check_eq "contact: Twilio's identity (whatsapp:+wa_id), profile name, phone" "whatsapp:+16505551234|Sheena Nelson|+16505551234" \
    "$(it_sql "SELECT external_id || '|' || profile_name || '|' || phone FROM contacts WHERE channel = 'whatsapp'")"
it_check_eq "conversation: business address meta:<phone_number_id>, window start, last inbound" "meta:106540352242922|true|true" \
    "$(it_sql "SELECT business_address || '|' || (wa_window_start IS NOT NULL) || '|' || (last_inbound_id > 0) FROM conversations WHERE channel = 'whatsapp'")"
it_wait_for "one INBOUND wake-up" 5 test "$(sink_count '.channel=="whatsapp"')" -ge 1

# --- a repeated wamid
wa_post "$(envelope 106540352242922 "[$(msg t1 16505551234 text '{"body":"Does it come in blue?"}')]")"
it_check_eq "the same wamid again → 200, duplicate" "200|0|1" "$ING_CODE|$(jq -r .messages <<<"$ING_BODY")|$(jq -r .duplicates <<<"$ING_BODY")"
it_check_eq "still one row" "1" "$(it_sql "SELECT count(*) FROM messages WHERE provider_message_id = 'wamid.t1'")"

# --- a burst in one POST, stored in order; a number id no tenant lists goes to the default tenant
burst="[$(msg b1 16505550001 text '{"body":"hi"}'),$(msg b2 16505550001 text '{"body":"I ordered a jacket"}'),$(msg b3 16505550001 text '{"body":"it has not arrived"}'),$(msg b2 16505550001 text '{"body":"I ordered a jacket"}')]"
wa_post "$(envelope 999999999 "$burst")"
it_check_eq "burst: 3 new, the repeat inside the POST a duplicate" "200|3|1" "$ING_CODE|$(jq -r .messages <<<"$ING_BODY")|$(jq -r .duplicates <<<"$ING_BODY")"
it_check_eq "stored in order, in the default tenant, one conversation" "hi,I ordered a jacket,it has not arrived|default|1" \
    "$(it_sql "SELECT string_agg(m.body, ',' ORDER BY m.id) || '|' || min(t.slug) || '|' || count(DISTINCT m.conversation_id)
               FROM messages m JOIN tenants t ON t.id = m.tenant_id WHERE provider_message_id IN ('wamid.b1','wamid.b2','wamid.b3')")"

# --- every type
types="[$(msg img 16505552000 image '{"id":"1479537139650973","mime_type":"image/jpeg","sha256":"abc=","caption":"this one"}'),
 $(msg aud 16505552000 audio '{"id":"9876543210","mime_type":"audio/ogg; codecs=opus","voice":true}'),
 $(msg vid 16505552000 video '{"id":"555","mime_type":"video/mp4"}'),
 $(msg doc 16505552000 document '{"id":"777","mime_type":"application/pdf","filename":"invoice.pdf","caption":"my invoice"}'),
 $(msg stk 16505552000 sticker '{"id":"888","mime_type":"image/webp","animated":false}'),
 $(msg loc 16505552000 location '{"latitude":37.483872,"longitude":-122.148358,"name":"Main St","address":"1 Main St"}'),
 $(msg con 16505552000 contacts '[{"name":{"formatted_name":"Ann Lee"},"phones":[{"phone":"+15551234567"}]}]'),
 $(msg btn 16505552000 interactive '{"type":"button_reply","button_reply":{"id":"b1","title":"Track my order"}}'),
 $(msg lst 16505552000 interactive '{"type":"list_reply","list_reply":{"id":"l1","title":"Size M","description":"medium"}}'),
 $(msg qr 16505552000 button '{"payload":"STOP","text":"Stop promotions"}')]"
wa_post "$(envelope 106540352242922 "$types")"
it_check_eq "10 types → 10 new, none skipped" "200|10|0" "$ING_CODE|$(jq -r .messages <<<"$ING_BODY")|$(jq -r .skipped <<<"$ING_BODY")"
it_check_eq "image: caption is the text, media id and mime kept" "this one|1479537139650973|image/jpeg|image" \
    "$(stored img "body || '|' || (media->0->>'media_id') || '|' || (media->0->>'mime_type') || '|' || (media->0->>'kind')")"
it_check_eq "voice note: media with voice true, no text" "|audio|true" "$(stored aud "body || '|' || (media->0->>'kind') || '|' || (media->0->>'voice')")"
it_check_eq "document: filename and caption" "my invoice|invoice.pdf" "$(stored doc "body || '|' || (media->0->>'filename')")"
it_check_eq "video and sticker keep their media id" "555|888" "$(stored vid "media->0->>'media_id'")|$(stored stk "media->0->>'media_id'")"
it_check_match "location rendered as text" '^\[location\] 37\.483872, -122\.148358 Main St, 1 Main St$' "$(stored loc body)"
it_check_match "contacts rendered as text" 'Ann Lee \+15551234567' "$(stored con body)"
it_check_eq "interactive replies: the chosen titles" "Track my order|Size M" "$(stored btn body)|$(stored lst body)"
it_check_eq "template quick reply: its text" "Stop promotions" "$(stored qr body)"
it_check_eq "raw JSON kept" "STOP" "$(stored qr "raw->'button'->>'payload'")"

# --- a reaction: stored, no wake-up, the conversation's last inbound message does not move
before=$(it_sql "SELECT last_inbound_id FROM conversations v JOIN contacts k ON k.id = v.contact_id WHERE k.external_id = 'whatsapp:+16505551234'")
wakes=$(sink_count '.channel=="whatsapp"')
wa_post "$(envelope 106540352242922 "[$(msg r1 16505551234 reaction '{"message_id":"wamid.t1","emoji":"👍"}')]")"
it_check_eq "reaction stored with its emoji" "200|1|👍" "$ING_CODE|$(jq -r .messages <<<"$ING_BODY")|$(stored r1 body)"
it_check_eq "reaction: last_inbound_id unchanged (nothing to answer)" "$before" \
    "$(it_sql "SELECT last_inbound_id FROM conversations v JOIN contacts k ON k.id = v.contact_id WHERE k.external_id = 'whatsapp:+16505551234'")"
# --- unsupported: ignored by default, answered when the tenant says reply
wa_post "$(envelope 106540352242922 "[$(msg u1 16505551234 unsupported '{}' | jq -c '. + {errors:[{code:131051,title:"Message type unknown"}]}')]")"
it_check_eq "unsupported stored with raw errors" "200|131051" "$ING_CODE|$(stored u1 "raw->'errors'->0->>'code'")"
it_check_eq "unsupported (tenant ignores): last_inbound_id unchanged" "$before" \
    "$(it_sql "SELECT last_inbound_id FROM conversations v JOIN contacts k ON k.id = v.contact_id WHERE k.external_id = 'whatsapp:+16505551234'")"
wa_post "$(envelope 200000000000001 "[$(msg u2 16505553000 somethingnew '{"x":1}')]")"
it_check_eq "unknown type for a 'reply' tenant: last_inbound_id is that message" "$(stored u2 id)" \
    "$(it_sql "SELECT last_inbound_id FROM conversations v JOIN contacts k ON k.id = v.contact_id WHERE k.external_id = 'whatsapp:+16505553000'")"
it_wait_for "the reply tenant's message woke the scheduler" 5 test "$(sink_count '.channel=="whatsapp"')" -gt "$wakes"
it_check_eq "no wake-up for the reaction or the ignored type" "0" \
    "$(jq -c --argjson a "$(stored r1 id)" --argjson b "$(stored u1 id)" 'select(.message_id == $a or .message_id == $b)' "$ING_SINK" | wc -l)"

# --- unusable items are skipped, the rest stored; another shape → 200 skipped; not JSON → 400
mixed="[$(msg ok1 16505554000 text '{"body":"fine"}'), {\"from\":\"16505554000\",\"id\":\"not-a-wamid\",\"type\":\"text\",\"text\":{\"body\":\"x\"}},
        $(msg bad2 abc text '{"body":"x"}'), $(msg bad3 16505554000 text '{"nobody":1}')]"
wa_post "$(envelope 106540352242922 "$mixed")"
it_check_eq "1 stored, 3 skipped" "200|1|3" "$ING_CODE|$(jq -r .messages <<<"$ING_BODY")|$(jq -r .skipped <<<"$ING_BODY")"
it_wait_for "skips are logged" 5 grep -q '"ev":"whatsapp.skipped"' "$ING_LOG"
wa_post '{"object":"page","entry":[]}'
it_check_eq "another object → 200, skipped, nothing stored" "200|1" "$ING_CODE|$(jq -r .skipped <<<"$ING_BODY")"
wa_post 'not json'
it_check_eq "not JSON → 400" "400|malformed_json" "$ING_CODE|$(jq -r .error.code <<<"$ING_BODY")"
many=$(jq -cn '[range(21) | {from:"16505555000", id:("wamid.many\(.)"), type:"text", text:{body:"x"}}]')
wa_post "$(envelope 106540352242922 "$many")"
it_check_eq "more than LULL_META_MAX_ITEMS → 200, all skipped, none stored" "200|21|0" \
    "$ING_CODE|$(jq -r .skipped <<<"$ING_BODY")|$(it_sql "SELECT count(*) FROM messages WHERE provider_message_id LIKE 'wamid.many%'")"

# --- statuses: forward only, errors kept, by wamid
WAMID=wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3QzQ3
o=$(it_sql "INSERT INTO outbox (tenant_id, channel, recipient, sender_address, payload, idempotency_key, status, provider_message_id)
            VALUES (1, 'whatsapp', 'whatsapp:+16505551234', 'meta:106540352242922', '{\"body\":\"hi\"}', 'wk1', 'sent', '$WAMID') RETURNING id")
st() { jq -cn --arg id "$WAMID" --arg s "$1" --argjson e "${2:-null}" '[{id:$id, status:$s, timestamp:"1749416400", recipient_id:"16505551234"} + (if $e == null then {} else {errors:$e} end)]'; }
row() { it_sql "SELECT coalesce(delivery_status, '') || '|' || coalesce(delivery_error, '') FROM outbox WHERE id = $o"; }
wa_post "$(envelope 106540352242922 null "$(st sent)")"
it_check_eq "status sent → 200, 1 status" "200|1|sent|" "$ING_CODE|$(jq -r .statuses <<<"$ING_BODY")|$(row)"
wa_post "$(envelope 106540352242922 null "$(st read)")"
it_check_eq "read" "read|" "$(row)"
wa_post "$(envelope 106540352242922 null "$(st delivered)")"
it_check_eq "a late delivered after read changes nothing" "read|" "$(row)"
WAMID=wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3QzQ4
o=$(it_sql "INSERT INTO outbox (tenant_id, channel, recipient, sender_address, payload, idempotency_key, status, provider_message_id)
            VALUES (1, 'whatsapp', 'whatsapp:+16505551234', 'meta:106540352242922', '{\"body\":\"hi\"}', 'wk2', 'sent', '$WAMID') RETURNING id")
wa_post "$(envelope 106540352242922 null "$(st failed '[{"code":131026,"title":"Message undeliverable"}]')")"
it_check_eq "failed keeps code and title" "failed|131026: Message undeliverable" "$(row)"
it_wait_for "the failure is logged" 5 grep -q '"ev":"whatsapp.undelivered".*"error_code":"131026: Message undeliverable"' "$ING_LOG"
wa_post "$(envelope 106540352242922 null '[{"id":"wamid.nobody","status":"delivered"},{"id":"wamid.x","status":"deleted"}]')"
it_check_eq "a status for no row is 200; an unknown status is skipped" "200|1|1" \
    "$ING_CODE|$(jq -r .statuses <<<"$ING_BODY")|$(jq -r .skipped <<<"$ING_BODY")"

# --- a number id belongs to one tenant
if it_sql "UPDATE tenants SET meta_phone_number_ids = '{106540352242922}' WHERE slug = 'talky'" >/dev/null 2>&1; then
    it_fail "a phone number id taken by two tenants was accepted"
else
    it_check "two tenants cannot share a phone number id" true
fi

# --- the ingress that took all of the above stops cleanly (under ASan: no leak, no error)
it_stop "$ING_PID" TERM
it_check_eq "ingress exits 0 on SIGTERM" 0 "$IT_RC"
it_check_eq "no sanitizer report in its output" 0 "$(cat "$IT_TMP"/ingress.*.log | grep -c -E 'Sanitizer|runtime error')"

# --- no secret: refused unless LULL_DEV_ALLOW_UNSIGNED
ing_start LULL_META_APP_SECRET= || it_finish
ing_json /webhook/whatsapp "$b"
it_check_eq "no LULL_META_APP_SECRET → 403 channel_not_configured" "403|channel_not_configured" "$ING_CODE|$(jq -r .error.code <<<"$ING_BODY")"
ing_req GET "/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=&hub.challenge=1" ""
it_check_eq "no LULL_META_VERIFY_TOKEN: the handshake fails, even with an empty token" "403" "$ING_CODE"
ing_start LULL_META_APP_SECRET= LULL_DEV_ALLOW_UNSIGNED=true || it_finish
ing_json /webhook/whatsapp "$(envelope 106540352242922 "[$(msg dev1 16505556000 text '{"body":"unsigned"}')]")"
it_check_eq "dev: unsigned accepted" "200|1" "$ING_CODE|$(jq -r .messages <<<"$ING_BODY")"
it_finish
