#!/usr/bin/env bash
# lull-ingress signatures: Twilio (good, port variant, bad, missing, a tampered parameter) and TikTok (good, bad,
# missing, stale) with secrets configured — nothing stored on a refusal; without secrets both channels refuse
# (403 "not configured") unless LULL_DEV_ALLOW_UNSIGNED=1, which is warned about at start.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingress_lib.sh"
it_db_create || it_finish
ing_start
count() { it_sql "SELECT count(*) FROM messages"; }

twilio_post MessageSid=$(sm s1) From=+15550000001 To=+15550000002 Body="signed"
it_check_eq "twilio good signature: 200" 200 "$ING_CODE"
url="https://lull.example.com:443/webhook/twilio"
ing_req POST /webhook/twilio "" -H "X-Twilio-Signature: $(twilio_sig "$url" MessageSid=$(sm s2) From=+1 To=+2)" \
    --data-urlencode MessageSid=$(sm s2) --data-urlencode From=+1 --data-urlencode To=+2
it_check_eq "twilio signature over the URL with :443: 200" 200 "$ING_CODE"
before=$(count)
sig=$(twilio_sig "https://lull.example.com/webhook/twilio" MessageSid=$(sm s3) From=+1 To=+2)
ing_req POST /webhook/twilio "" -H "X-Twilio-Signature: $sig" --data-urlencode MessageSid=$(sm s3) --data-urlencode From=+1 --data-urlencode To=+3
it_check_eq "twilio tampered parameter: 403" 403 "$ING_CODE"
it_check_match "… says the signature is invalid" '"code":"invalid_signature"' "$ING_BODY"
ing_req POST /webhook/twilio "" -H "X-Twilio-Signature: ${sig%?}A" --data-urlencode MessageSid=$(sm s3) --data-urlencode From=+1 --data-urlencode To=+2
it_check_eq "twilio wrong signature: 403" 403 "$ING_CODE"
ing_req POST /webhook/twilio "" --data-urlencode MessageSid=$(sm s3) --data-urlencode From=+1 --data-urlencode To=+2
it_check_eq "twilio missing signature: 400" 400 "$ING_CODE"
it_check_match "… names the header" 'X-Twilio-Signature' "$ING_BODY"
ing_req POST "/webhook/twilio?x=1" "" -H "X-Twilio-Signature: $sig" --data-urlencode MessageSid=$(sm s3) --data-urlencode From=+1 --data-urlencode To=+2
it_check_eq "twilio signature for another URL (query added): 403" 403 "$ING_CODE"
it_check_eq "nothing stored for refused Twilio requests" "$before" "$(count)"

body=$(tiktok_body im_receive_msg 7300000000000000101 "signed tiktok")
tiktok_post "$body"
it_check_eq "tiktok good signature: 200" 200 "$ING_CODE"
before=$(count)
body=$(tiktok_body im_receive_msg 7300000000000000102 "bad")
good=$(tiktok_sig "$body")
# Change the last hex digit to a different one (replacing it with a fixed digit would send the good
# signature whenever it already ended in that digit, and store the message).
last=${good: -1}
[ "$last" = 0 ] && other=1 || other=0
ing_json /webhook/tiktok "$body" -H "Tiktok-Signature: ${good%?}$other"
it_check_eq "tiktok wrong signature: 403" 403 "$ING_CODE"
ing_json /webhook/tiktok "$body" -H "Tiktok-Signature: $(tiktok_sig "${body/bad/BAD}")"
it_check_eq "tiktok signature of another body: 403" 403 "$ING_CODE"
ing_json /webhook/tiktok "$body" -H "Tiktok-Signature: $(tiktok_sig "$body" $(( $(date +%s) - 400 )))"
it_check_eq "tiktok stale timestamp (400 s old, tolerance 300): 403" 403 "$ING_CODE"
it_check_match "… says stale" 'stale' "$ING_BODY"
ing_json /webhook/tiktok "$body"
it_check_eq "tiktok missing signature: 400" 400 "$ING_CODE"
ing_json /webhook/tiktok "$body" -H "Tiktok-Signature: garbage"
it_check_eq "tiktok malformed signature: 403" 403 "$ING_CODE"
it_check_eq "nothing stored for refused TikTok requests" "$before" "$(count)"
it_check_match "refusals counted" 'lull_ingress_rejected_total\{channel="tiktok",reason="invalid_signature"\} [3-9]' "$(curl -s "$ING_OPS/metrics")"
it_stop "$ING_PID" TERM

# No secrets: refused, with a message saying the channel is not configured.
ing_start LULL_TWILIO_AUTH_TOKEN= LULL_TIKTOK_SECRET=
before=$(count)
twilio_post MessageSid=$(sm u1) From=+1 To=+2
it_check_eq "twilio without a token: 403" 403 "$ING_CODE"
it_check_match "… not configured" '"code":"channel_not_configured".*LULL_TWILIO_AUTH_TOKEN' "$ING_BODY"
tiktok_post "$(tiktok_body im_receive_msg 7300000000000000201 x)"
it_check_eq "tiktok without a secret: 403" 403 "$ING_CODE"
it_check_match "… not configured" 'LULL_TIKTOK_SECRET' "$ING_BODY"
it_check_eq "nothing stored" "$before" "$(count)"
it_stop "$ING_PID" TERM

# Development mode: unsigned accepted, and a warning at start.
ing_start LULL_TWILIO_AUTH_TOKEN= LULL_TIKTOK_SECRET= LULL_DEV_ALLOW_UNSIGNED=1
ing_req POST /webhook/twilio "" --data-urlencode MessageSid=$(sm u2) --data-urlencode From=+1 --data-urlencode To=+2
it_check_eq "dev-allow: unsigned Twilio accepted" 200 "$ING_CODE"
ing_json /webhook/tiktok "$(tiktok_body im_receive_msg 7300000000000000202 x)"
it_check_eq "dev-allow: unsigned TikTok accepted" 200 "$ING_CODE"
it_check_match "dev-allow is warned about at start" '"lvl":"warn".*"ev":"dev.allow_unsigned"' "$(cat "$ING_LOG")"
it_stop "$ING_PID" TERM

# A Twilio token without LULL_PUBLIC_URL: the Host header would choose the signed URL, so ingress refuses to start.
# (through it_start, so its log is in the end-of-run check that every log line is JSON)
it_start no_public_url env LULL_HTTP_PORT="$(it_free_port)" LULL_OPS_PORT="$(it_free_port)" \
    LULL_TWILIO_AUTH_TOKEN="$ING_TOKEN" LULL_PUBLIC_URL= LULL_LOG_FILE="$IT_TMP/no_public_url.jsonl" \
    timeout 10 "$LULL_BIN/lull-ingress"
rc=0
wait "$IT_LAST_PID" || rc=$?
it_check_eq "a Twilio token without LULL_PUBLIC_URL: exit 78" 78 "$rc"
it_check_match "… saying why" '"ev":"config.invalid".*LULL_PUBLIC_URL' "$(cat "$IT_TMP/no_public_url.jsonl")"
it_finish
