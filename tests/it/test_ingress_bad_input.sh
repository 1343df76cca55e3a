#!/usr/bin/env bash
# lull-ingress bad input: every class gets its status and a JSON error naming the problem, logs one line, and
# stores nothing — body too large (413, declared or chunked), malformed JSON / form, missing fields, wrong types,
# invalid UTF-8 and NUL bytes, malformed provider ids (400), wrong method (405 + Allow), unknown path (404), wrong content type (415);
# slow clients are cut by the connection timeout and the per-IP connection limit holds.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingress_lib.sh"
it_db_create || it_finish
ing_start LULL_MAX_BODY_BYTES=2048 LULL_DEV_ALLOW_UNSIGNED=1 LULL_TWILIO_AUTH_TOKEN= LULL_TIKTOK_SECRET=

expect() {  # DESC STATUS CODE_REGEX
    it_check_eq "$1: status" "$2" "$ING_CODE"
    it_check_match "$1: JSON error" "^\\{\"error\":\\{\"code\":\"$3\",\"message\":\"[^\"]+\"\\}\\}$" "$ING_BODY"
}
big=$(head -c 3000 /dev/zero | tr '\0' a)
ing_json /webhook "{\"contact_id\":\"1\",\"message\":{\"body\":\"$big\"}}"
expect "body over LULL_MAX_BODY_BYTES" 413 payload_too_large
ing_json /webhook "{\"contact_id\":\"1\",\"message\":{\"body\":\"$big\"}}" -H 'Transfer-Encoding: chunked'
expect "chunked body over the limit" 413 payload_too_large
ing_json /webhook '{"contact_id":"1","message":{"body":"x"'
expect "malformed JSON" 400 malformed_json
ing_json /webhook '[1,2]'
expect "JSON that is not an object" 400 malformed_json
ing_json /webhook '{"contact_id":"1","message":{"body":"x"}} trailing'
expect "trailing garbage" 400 malformed_json
ing_json /webhook ''
expect "empty body" 400 malformed_json
ing_json /webhook '{"message":{"body":"x"}}'
expect "missing contact_id" 400 missing_field
it_check_match "… names the field" "contact_id" "$ING_BODY"
ing_json /webhook '{"contact_id":"1"}'
expect "missing message" 400 missing_field
ing_json /webhook '{"contact_id":"1","message":{}}'
expect "missing message.body" 400 missing_field
it_check_match "… names the field" "body" "$ING_BODY"
ing_json /webhook '{"contact_id":true,"message":{"body":"x"}}'
expect "contact_id of the wrong type" 400 invalid_field
ing_json /webhook '{"contact_id":"1","message":"x"}'
expect "message of the wrong type" 400 invalid_field
ing_json /webhook '{"contact_id":"1","message":{"body":42}}'
expect "message.body of the wrong type" 400 invalid_field
ing_json /webhook '{"contact_id":"1","message":{"body":"x"},"tenant":7}'
expect "tenant of the wrong type" 400 invalid_field
printf '{"contact_id":"1","message":{"body":"bad \xc3\x28 utf8"}}' >"$IT_TMP/badutf8"
ing_json /webhook "" --data-binary @"$IT_TMP/badutf8"
expect "invalid UTF-8" 400 invalid_text
printf '{"contact_id":"1","message":{"body":"nul \x00 byte"}}' >"$IT_TMP/nul"
ing_json /webhook "" --data-binary @"$IT_TMP/nul"
expect "raw NUL byte" 400 invalid_text
ing_json /webhook '{"contact_id":"1","message":{"body":"escaped \u0000 nul"}}'
expect "\\u0000 escape" 400 invalid_text
ing_json /webhook '{"contact_id":"1","message":{"body":"a literal \\u0000 is text"}}'
it_check_eq "an escaped backslash before u0000 is fine" 200 "$ING_CODE"
ing_req GET /webhook ""
expect "wrong method" 405 method_not_allowed
it_check_match "405 says Allow: POST" 'Allow: POST' "$(curl -si "$ING_URL/webhook")"
ing_req DELETE /api/v1/chat/history/x ""
it_check_eq "wrong method on a prefix route" 405 "$ING_CODE"
ing_req GET /nope ""
expect "unknown path" 404 not_found
ing_req POST /webhook/ ""
expect "unknown path (trailing slash)" 404 not_found

# Twilio forms
ing_req POST /webhook/twilio 'MessageSid='$(sm 1)'&From=%zz&To=%2B2'
expect "form with a bad %-escape" 400 malformed_form
ing_req POST /webhook/twilio 'MessageSid='$(sm 1)'&From=a%00b&To=%2B2'
expect "form with %00" 400 malformed_form
ing_req POST /webhook/twilio 'MessageSid='$(sm 1)'&From=%C3%28&To=%2B2'
expect "form with invalid UTF-8" 400 malformed_form
ing_req POST /webhook/twilio 'From=%2B1&To=%2B2&Body=x'
expect "form without MessageSid" 400 missing_field
it_check_match "… names it" MessageSid "$ING_BODY"
ing_req POST /webhook/twilio 'MessageSid='$(sm 1)'&From=%2B1&To=%2B2&NumMedia=lots'
expect "NumMedia not a number" 400 invalid_field
ing_req POST /webhook/twilio 'MessageSid=SMnothex&From=%2B1&To=%2B2'
expect "MessageSid not a Twilio SID" 400 invalid_field
it_check_match "… names it" "'MessageSid'" "$ING_BODY"
ing_req POST /webhook/twilio 'MessageSid='$(sm 1)'NumMedia0&From=%2B1&To=%2B2'
expect "MessageSid with the next parameter glued on (a replayed signature)" 400 invalid_field
ing_json /webhook/twilio '{"MessageSid":"'$(sm 1)'"}'
expect "Twilio with a JSON body" 415 unsupported_media_type

# TikTok
ing_json /webhook/tiktok '{"client_key":"k","event":"im_receive_msg","content":{"message_id":"1"}}'
expect "tiktok content not a string" 400 invalid_field
ing_json /webhook/tiktok '{"client_key":"k","event":"im_receive_msg","content":"{not json"}'
expect "tiktok content not JSON" 400 malformed_json
ing_json /webhook/tiktok "$(jq -cn '{client_key:"k", event:"im_receive_msg", content:({conversation_id:"1", message_id:7300000000000000001, from_user:{id:"1"}, to_user:{id:"2"}} | tojson)}')"
expect "tiktok numeric message_id (ids are strings)" 400 invalid_field
ing_json /webhook/tiktok "$(jq -cn '{client_key:"k", event:"im_receive_msg", content:({conversation_id:"1", message_id:"73 <x>", from_user:{id:"1"}, to_user:{id:"2"}} | tojson)}')"
expect "tiktok message_id not an id" 400 invalid_field
it_check_match "… names it" "content.message_id" "$ING_BODY"
ing_json /webhook/tiktok "$(jq -cn --arg c "$(head -c 200 /dev/zero | tr '\0' 7)" '{client_key:"k", event:"im_receive_msg", content:({conversation_id:$c, message_id:"7300", from_user:{id:"1"}, to_user:{id:"2"}} | tojson)}')"
expect "tiktok conversation_id too long" 400 invalid_field
it_check_match "… names it" "content.conversation_id" "$ING_BODY"
ing_json /webhook/tiktok '{"event":"im_receive_msg","content":"{}"}'
expect "tiktok without client_key" 400 missing_field

# web chat
ing_json /api/v1/chat/session '{"metadata":"x"}'
expect "chat session metadata not an object" 400 invalid_field
ing_json /api/v1/chat/message '{"message":"x"}'
expect "chat message without sessionId" 400 missing_field

it_check_eq "nothing stored for any of them" 1 "$(it_sql "SELECT count(*) FROM messages")"
log=$(cat "$ING_LOG")
it_check_eq "every error (37 requests) logged one line" 37 "$(grep -c '"ev":"http.rejected"' "$ING_LOG")"
it_check_match "the log line has status and code" '"ev":"http.rejected".*"status":413,"code":"payload_too_large"' "$log"
if grep -q 'bad.*utf8\|nul.*byte' "$ING_LOG"; then it_fail "message bodies appear in the info log"; else echo "PASS no message bodies in the log"; fi
it_stop "$ING_PID" TERM

# Slow clients: the connection timeout cuts an idle half-sent request; the per-IP limit refuses extra connections.
ing_start LULL_HTTP_TIMEOUT_S=1 LULL_HTTP_PER_IP_LIMIT=2
port=${ING_URL##*:}
start=$(date +%s%N)
out=$(timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; printf 'POST /webhook HTTP/1.1\r\nHost: x\r\n' >&3; cat <&3")
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
it_check_eq "a slow client is disconnected by the timeout (not by our 10 s guard)" 0 "$rc"
it_check "… after about LULL_HTTP_TIMEOUT_S (took ${ms} ms)" test "$ms" -lt 8000
exec 4<>/dev/tcp/127.0.0.1/"$port"; exec 5<>/dev/tcp/127.0.0.1/"$port"
printf 'GET /health HTTP/1.1\r\nHost: x\r\n' >&4; printf 'GET /health HTTP/1.1\r\nHost: x\r\n' >&5
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$ING_URL/health")
it_check_eq "a third connection from the same IP is refused (limit 2)" 000 "$code"
exec 4>&- 5>&-
it_wait_for "connections freed" 5 it_http_ok "$ING_URL/health"
it_check_eq "after the others closed, requests are served" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$ING_URL/health")"
it_finish
