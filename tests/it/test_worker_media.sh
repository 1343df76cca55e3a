#!/usr/bin/env bash
# Media the model can see and hear, against fake_media (Twilio media with basic auth, Meta Graph API media
# with the bearer token, a CDN on another host, a transcription endpoint) and the fake LLM: an image of the
# burst reaches each provider's request in its own format; a Twilio redirect to another host carries no
# credentials; a host that is neither Twilio's nor allowed is never contacted; oversized, failing and refused
# media become a note and the job still replies; a voice note is transcribed into the prompt and stored, a
# stored transcript is reused; documents are described by type; older images are mentioned as text; no
# credential reaches the log.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/worker_env.sh"
w_setup

# two media servers: Twilio/Meta/transcription on 127.0.0.1, a "CDN" on 127.0.0.2
start_media() {  # NAME HOST → sets M_<NAME> (base URL)
    local try port
    for try in 1 2 3 4 5; do
        port=$(it_free_port)
        it_start "media_$1" "$LULL_FAKES/fake_media" --host "$2" --port "$port"
        local pid=$IT_LAST_PID deadline=$(( $(date +%s) + 5 ))
        while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
            if curl -s -o /dev/null "http://$2:$port/_fake/ledger"; then
                printf -v "M_$1" '%s' "http://$2:$port"
                return 0
            fi
            sleep 0.02
        done
    done
    it_fail "fake_media on $2 does not start"
    it_finish
}
start_media API 127.0.0.1
start_media CDN 127.0.0.2

w_worker LULL_TWILIO_API_BASE="$M_API" LULL_TWILIO_ACCOUNT_SID=ACmedia LULL_TWILIO_AUTH_TOKEN=tw-secret-token \
    LULL_META_API_BASE="$M_API" LULL_META_GRAPH_VERSION=v21.0 LULL_META_ACCESS_TOKEN=meta-secret-token \
    LULL_TRANSCRIBE_BASE_URL="$M_API/v1" LULL_TRANSCRIBE_API_KEY=tr-secret-key LULL_MEDIA_HOSTS=127.0.0.2 \
    LULL_MEDIA_MAX_BYTES=4096 LULL_WORKER_COOLDOWN_FAILURES=1000

media() { curl -s -o /dev/null -d "$2" "$1/_fake/media"; }  # BASE JSON
media_ledger() { curl -s "$1/_fake/ledger"; }
reset() {
    curl -s -o /dev/null -X POST "$W_LLM/_fake/reset"
    curl -s -o /dev/null -X POST "$M_API/_fake/reset"
    curl -s -o /dev/null -X POST "$M_CDN/_fake/reset"
}
# set_media JSON : the media of the burst's last message ($UPTO)
set_media() { it_sql "UPDATE messages SET media = '$1'::jsonb WHERE id = $UPTO" >/dev/null; }
prompt() { w_ledger | jq -c '.[0].body'; }  # the first LLM request of the job
PNG=$(printf 'fake-png-bytes' | base64)

it_sql "INSERT INTO tenants (id, slug, provider_chain) VALUES (5, 't5', '{anthropic}'), (6, 't6', '{gemini}')" >/dev/null
media "$M_API" '{"id":"img1","mime":"image/png","body":"fake-png-bytes"}'

# --- OpenAI: an image_url content part with a data URL; Twilio media fetched with basic auth
run_image() {  # TENANT EXT
    reset
    media "$M_API" '{"id":"img1","mime":"image/png","body":"fake-png-bytes"}'
    W_TENANT=$1 w_conv whatsapp "$2" "what is this?"
    set_media "[{\"url\":\"$M_API/twilio/img1\",\"content_type\":\"image/png\"}]"
    w_job "$CONV" 0 "$UPTO" 1 "$1"
    it_check_eq "tenant $1: replied with an image" replied "$(w_done "$CONV")"
}
run_image 1 +15556000001
it_check_eq "openai: image_url part with the data URL" "data:image/png;base64,$PNG" \
    "$(prompt | jq -r '[.messages[] | select(.role == "user") | .content | arrays | .[] | select(.type == "image_url") | .image_url.url][0]')"
it_check_eq "openai: the image follows the text it came with" "user|user" \
    "$(prompt | jq -r '[.messages[-2:][] | .role] | join("|")')"
it_check_match "twilio: the download carried basic auth (ACmedia:…)" "^Basic $(printf 'ACmedia:tw-secret-token' | base64)$" \
    "$(media_ledger "$M_API" | jq -r '[.[] | select(.path == "/twilio/img1")][0].authorization')"
it_check_match "openai: the text says an image is attached" "image: attached" "$(prompt | jq -r '.messages | tostring')"

# --- Anthropic: an image block with a base64 source
run_image 5 +15556000005
it_check_eq "anthropic: image block (base64, media_type, data)" "base64|image/png|$PNG" \
    "$(prompt | jq -r '[.messages[] | .content | arrays | .[] | select(.type == "image") | .source | "\(.type)|\(.media_type)|\(.data)"][0]')"

# --- Gemini: an inline_data part
run_image 6 +15556000006
it_check_eq "gemini: inline_data part (mime_type, data)" "image/png|$PNG" \
    "$(prompt | jq -r '[.contents[] | .parts[] | select(.inline_data) | .inline_data | "\(.mime_type)|\(.data)"][0]')"

# --- a Twilio redirect to another (allowed) host: followed without the credentials
reset
media "$M_API" "{\"id\":\"img-r\",\"redirect\":\"$M_CDN/cdn/img-cdn\"}"
media "$M_CDN" '{"id":"img-cdn","mime":"image/jpeg","body":"cdn-jpeg-bytes"}'
w_conv whatsapp +15556000010 "look"
set_media "[{\"url\":\"$M_API/twilio/img-r\",\"content_type\":\"image/jpeg\"}]"
w_job "$CONV" 0 "$UPTO"
it_check_eq "redirect: replied" replied "$(w_done "$CONV")"
it_check_match "redirect: the Twilio host got basic auth" "^Basic " "$(media_ledger "$M_API" | jq -r '.[0].authorization')"
it_check_eq "redirect: the other host saw the request, with no Authorization header" "1|null" \
    "$(media_ledger "$M_CDN" | jq -r '"\(length)|\(.[0].authorization)"')"
it_check_eq "redirect: the image from the CDN reached the model" "data:image/jpeg;base64,$(printf 'cdn-jpeg-bytes' | base64)" \
    "$(prompt | jq -r '[.messages[] | .content | arrays | .[] | select(.type == "image_url") | .image_url.url][0]')"

# --- a redirect to a host that is not allowed: not followed
reset
media "$M_API" "{\"id\":\"img-bad\",\"redirect\":\"http://localhost:${M_CDN##*:}/cdn/img-cdn\"}"
w_conv whatsapp +15556000011 "and this"
set_media "[{\"url\":\"$M_API/twilio/img-bad\",\"content_type\":\"image/jpeg\"}]"
w_job "$CONV" 0 "$UPTO"
it_check_eq "redirect elsewhere: replied" replied "$(w_done "$CONV")"
it_check_eq "redirect elsewhere: not followed" 0 "$(media_ledger "$M_CDN" | jq length)"
it_check_match "redirect elsewhere: the prompt says the image could not be read" "could not be read" "$(prompt | jq -r tostring)"

# --- a media URL on a host that is neither Twilio's nor allowed: never contacted
reset
w_conv whatsapp +15556000012 "pic"
set_media "[{\"url\":\"http://localhost:${M_API##*:}/twilio/img1\",\"content_type\":\"image/png\"}]"
w_job "$CONV" 0 "$UPTO"
it_check_eq "foreign host: replied" replied "$(w_done "$CONV")"
it_check_eq "foreign host: no request reached it" 0 "$(media_ledger "$M_API" | jq length)"
it_check_match "foreign host: note in the prompt" "could not be read" "$(prompt | jq -r tostring)"

# --- oversized, failing, refused type: a note, and the job replies
for c in "big:{\"id\":\"big\",\"mime\":\"image/png\",\"body\":\"x\",\"pad\":20000}" \
         "fail:{\"id\":\"fail\",\"mime\":\"image/png\",\"status\":500}" \
         "html:{\"id\":\"html\",\"mime\":\"text/html\",\"body\":\"<html>\"}"; do
    reset
    id=${c%%:*}
    media "$M_API" "${c#*:}"
    w_conv whatsapp "+1555600002${#id}$id" "see attached"
    set_media "[{\"url\":\"$M_API/twilio/$id\",\"content_type\":\"image/png\"}]"
    w_job "$CONV" 0 "$UPTO"
    it_check_eq "$id: replied" replied "$(w_done "$CONV")"
    it_check_match "$id: the prompt says the image could not be read" "the customer sent an image that could not be read" "$(prompt | jq -r tostring)"
    it_check_eq "$id: no image in the request" 0 "$(prompt | jq '[.. | objects | select(.type? == "image_url")] | length')"
done
it_check_eq "oversized: logged as too large (the download aborted)" 1 \
    "$(grep '"ev":"media.failed"' "$IT_TMP/worker.jsonl" | grep -c 'larger than LULL_MEDIA_MAX_BYTES')"

# --- Meta: GET /{version}/{media-id} then the download, the bearer token on both
reset
media "$M_API" '{"id":"9876543210","mime":"image/jpeg","body":"meta-jpeg"}'
w_conv whatsapp +15556000030 ""
set_media '[{"provider":"meta","kind":"image","media_id":"9876543210","mime_type":"image/jpeg"}]'
w_job "$CONV" 0 "$UPTO"
it_check_eq "meta: replied" replied "$(w_done "$CONV")"
it_check_eq "meta: metadata then download, both with the bearer token" \
    "/v21.0/9876543210|Bearer meta-secret-token|/_media/9876543210|Bearer meta-secret-token" \
    "$(media_ledger "$M_API" | jq -r '[.[] | .path, .authorization] | join("|")')"
it_check_eq "meta: the image reached the model" "data:image/jpeg;base64,$(printf 'meta-jpeg' | base64)" \
    "$(prompt | jq -r '[.messages[] | .content | arrays | .[] | select(.type == "image_url") | .image_url.url][0]')"

# --- a voice note: transcribed (multipart: model + file), used as the text, stored once
reset
media "$M_API" '{"id":"voice1","mime":"audio/ogg","body":"I need a refund for order 42"}'
w_conv whatsapp +15556000040 ""
set_media "[{\"url\":\"$M_API/twilio/voice1\",\"content_type\":\"audio/ogg\"}]"
w_job "$CONV" 0 "$UPTO"
it_check_eq "voice: replied" replied "$(w_done "$CONV")"
it_check_eq "voice: transcription request (model, file name, type, bytes, bearer)" \
    "gpt-4o-mini-transcribe|voice.ogg|audio/ogg|28|Bearer tr-secret-key" \
    "$(media_ledger "$M_API" | jq -r '[.[] | select(.path == "/v1/audio/transcriptions")][0] | "\(.model)|\(.filename)|\(.file_type)|\(.file)|\(.authorization)"')"
it_check_match "voice: the transcript is the message's text in the prompt" "voice note, transcribed\] I need a refund for order 42" \
    "$(prompt | jq -r tostring)"
it_check_eq "voice: the transcript is stored" "I need a refund for order 42" "$(it_sql "SELECT transcript FROM messages WHERE id = $UPTO")"
# a stored transcript is reused: no second transcription
reset
w_conv whatsapp +15556000041 ""
set_media "[{\"url\":\"$M_API/twilio/voice1\",\"content_type\":\"audio/ogg\"}]"
it_sql "UPDATE messages SET transcript = 'already transcribed: where is my parcel' WHERE id = $UPTO" >/dev/null
w_job "$CONV" 0 "$UPTO"
it_check_eq "stored transcript: replied" replied "$(w_done "$CONV")"
it_check_eq "stored transcript: nothing fetched or transcribed" 0 "$(media_ledger "$M_API" | jq length)"
it_check_match "stored transcript: in the prompt" "already transcribed: where is my parcel" "$(prompt | jq -r tostring)"

# --- a document: described by name and type, not fetched; an older image: mentioned as text
reset
w_conv whatsapp +15556000050 "here is the invoice"
set_media '[{"provider":"meta","kind":"document","media_id":"555","mime_type":"application/pdf","filename":"invoice-7.pdf"}]'
w_job "$CONV" 0 "$UPTO"
it_check_eq "document: replied" replied "$(w_done "$CONV")"
it_check_match "document: described by name and type" 'the customer sent a document \\"invoice-7.pdf\\" \(application/pdf\)' "$(prompt | jq -c .)"
it_check_eq "document: not fetched" 0 "$(media_ledger "$M_API" | jq length)"
reset
w_conv whatsapp +15556000051 "old picture" "new question"
first=$((UPTO - 1))
it_sql "UPDATE messages SET media = '[{\"url\":\"$M_API/twilio/img1\",\"content_type\":\"image/png\"}]' WHERE id = $first;
        UPDATE conversations SET answered_upto = $first WHERE id = $CONV" >/dev/null
w_job "$CONV" "$first" "$UPTO"
it_check_eq "older image: replied" replied "$(w_done "$CONV")"
it_check_match "older image: mentioned as text" "the customer sent an image earlier" "$(prompt | jq -r tostring)"
it_check_eq "older image: not fetched" 0 "$(media_ledger "$M_API" | jq length)"

# --- stopping while a download is in flight: the job is handed back, the fetch abandoned, a clean exit
reset
media "$M_API" '{"id":"slow","mime":"image/png","body":"slow-png","delay_ms":5000}'
w_conv whatsapp +15556000060 "slow picture"
set_media "[{\"url\":\"$M_API/twilio/slow\",\"content_type\":\"image/png\"}]"
w_job "$CONV" 0 "$UPTO"
slow_seen() { [ "$(media_ledger "$M_API" | jq '[.[] | select(.path == "/twilio/slow")] | length')" = 1 ]; }
it_wait_for "the slow download started" 10 slow_seen
it_stop "$W_WORKER_PID" TERM
it_check_eq "stop during a download: the worker exits 0" 0 "$IT_RC"
it_check_eq "stop during a download: the job was handed back" "failed_retryable|worker stopping" \
    "$(grep "\"conv\":$CONV," "$W_SCHED_LOG" | tail -1 | jq -r '"\(.outcome)|\(.detail)"')"
it_check "stop during a download: no sanitizer report" bash -c "! grep -q Sanitizer '$IT_TMP/worker.log'"
it_check_eq "stop during a download: no LLM request for it" 0 "$(w_ledger | jq length)"

# --- no credential in the worker's log
for s in tw-secret-token meta-secret-token tr-secret-key; do
    it_check "log: $s never logged" bash -c "! grep -q '$s' '$IT_TMP/worker.jsonl' '$IT_TMP/worker.log' 2>/dev/null"
done
it_finish
