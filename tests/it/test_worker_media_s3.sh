#!/usr/bin/env bash
# The media archive: a fetched image is PUT to an S3-compatible endpoint (fake_s3.js) signed with AWS SigV4 —
# checked there by the AWS SDK's own signer (@smithy/signature-v4), not lull's code — and the object key is
# written on the message's media entry; an archive failure is logged and the job replies anyway; keys named
# by env var never reach the log. This worker has no transcription model: a voice note is only announced.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/worker_env.sh"
w_setup

start_fake() {  # NAME URL CMD... : starts a fake, waits until URL answers
    local name=$1 url=$2; shift 2
    it_start "$name" "$@"
    local pid=$IT_LAST_PID deadline=$(( $(date +%s) + 10 ))
    while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
        curl -s -o /dev/null "$url" && return 0
        sleep 0.05
    done
    it_fail "$name does not start"
    it_finish
}
MP=$(it_free_port)
M_API=http://127.0.0.1:$MP
start_fake media "$M_API/_fake/ledger" "$LULL_FAKES/fake_media" --port "$MP"
SP=$(it_free_port)
S3=http://127.0.0.1:$SP
start_fake s3 "$S3/_fake/ledger" env NODE_PATH="$LULL_ROOT/tests/node/node_modules" \
    node "$LULL_ROOT/tests/fakes/fake_s3.js" "$SP" AKIDLULLTEST s3-secret-key-for-tests eu-west-3

# the verifier can fail: a request signed with another secret is refused
printf 'probe' >"$IT_TMP/probe.bin"
it_check_eq "fake_s3: a wrong signature is refused by the SDK signer's check" 403 \
    "$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary @"$IT_TMP/probe.bin" \
        -H "x-amz-content-sha256: $(sha256sum "$IT_TMP/probe.bin" | cut -c1-64)" \
        --aws-sigv4 aws:amz:eu-west-3:s3 -u AKIDLULLTEST:not-the-secret "$S3/bucket/probe")"
curl -s -o /dev/null -X POST "$S3/_fake/reset"

w_worker IT_S3_AK=AKIDLULLTEST IT_S3_SK=s3-secret-key-for-tests LULL_TWILIO_API_BASE="$M_API" \
    LULL_TWILIO_ACCOUNT_SID=ACmedia LULL_TWILIO_AUTH_TOKEN=tw-secret-token \
    LULL_MEDIA_S3_ENDPOINT="$S3" LULL_MEDIA_S3_BUCKET=lull-media LULL_MEDIA_S3_REGION=eu-west-3 \
    LULL_MEDIA_S3_ACCESS_KEY_ENV=IT_S3_AK LULL_MEDIA_S3_SECRET_KEY_ENV=IT_S3_SK LULL_TRANSCRIBE_MODEL=

curl -s -o /dev/null -d '{"id":"img1","mime":"image/png","body":"archive-me-png"}' "$M_API/_fake/media"
s3_ledger() { curl -s "$S3/_fake/ledger"; }
key_of() { it_sql "SELECT coalesce(media->0->>'s3_key', '') FROM messages WHERE id = $1"; }
key_set() { [ -n "$(key_of "$1")" ]; }

# --- an image of the burst: archived, signed, the key on the message
w_conv whatsapp +15557000001 "photo"
it_sql "UPDATE messages SET media = '[{\"url\":\"$M_API/twilio/img1\",\"content_type\":\"image/png\"}]' WHERE id = $UPTO" >/dev/null
w_job "$CONV" 0 "$UPTO"
it_check_eq "archive: replied" replied "$(w_done "$CONV")"
it_wait_for "the key stored on the message" 10 key_set "$UPTO"
key="media/t1/c$CONV/m$UPTO-0.png"
it_check_eq "archive: the key is on the message's media entry" "$key" "$(key_of "$UPTO")"
it_check_eq "archive: one PUT to /bucket/key, signature valid per the AWS SDK signer" \
    "1|PUT|/lull-media/$key|true|eu-west-3|s3" \
    "$(s3_ledger | jq -r '"\(length)|\(.[0].method)|\(.[0].path)|\(.[0].signature_ok)|\(.[0].region)|\(.[0].service)"')"
it_check_eq "archive: the bytes, their SHA-256 and type as fetched" "14|true|image/png" \
    "$(s3_ledger | jq -r '"\(.[0].bytes)|\(.[0].content_sha256_ok)|\(.[0].content_type)"')"
it_check_match "archive: the payload hash is a signed header" "x-amz-content-sha256" "$(s3_ledger | jq -r '.[0].signed_headers | join(",")')"
it_check_match "archive: the image still reached the model" "data:image/png;base64," "$(w_ledger | jq -c '.[0].body')"

# --- the archive fails: logged, no key, the job replies
curl -s -o /dev/null -d '{"count":1}' "$S3/_fake/fail"
w_conv whatsapp +15557000002 "another photo"
it_sql "UPDATE messages SET media = '[{\"url\":\"$M_API/twilio/img1\",\"content_type\":\"image/png\"}]' WHERE id = $UPTO" >/dev/null
w_job "$CONV" 0 "$UPTO"
it_check_eq "archive failure: replied" replied "$(w_done "$CONV")"
archive_failed() { grep -q '"ev":"media.archive_failed"' "$IT_TMP/worker.jsonl"; }
it_wait_for "the archive failure logged" 10 archive_failed
it_check_eq "archive failure: no key on the message" "" "$(key_of "$UPTO")"

# --- no transcription provider (this worker has no transcription model): the prompt says a voice note came
curl -s -o /dev/null -X POST "$M_API/_fake/reset"
curl -s -o /dev/null -X POST "$W_LLM/_fake/reset"
curl -s -o /dev/null -d '{"id":"voice1","mime":"audio/ogg","body":"hello"}' "$M_API/_fake/media"
w_conv whatsapp +15557000003 ""
it_sql "UPDATE messages SET media = '[{\"url\":\"$M_API/twilio/voice1\",\"content_type\":\"audio/ogg\"}]' WHERE id = $UPTO" >/dev/null
w_job "$CONV" 0 "$UPTO"
it_check_eq "no transcriber: replied" replied "$(w_done "$CONV")"
it_check_match "no transcriber: the prompt says a voice note was received" "the customer sent a voice note \(not transcribed\)" \
    "$(w_ledger | jq -c '.[0].body')"
it_check_eq "no transcriber: nothing downloaded or transcribed" 0 "$(curl -s "$M_API/_fake/ledger" | jq length)"

it_stop "$W_WORKER_PID" TERM
it_check_eq "the worker exits 0 on SIGTERM" 0 "$IT_RC"
it_check "no sanitizer report" bash -c "! grep -q Sanitizer '$IT_TMP/worker.log'"

# --- no key or token in the log
for s in s3-secret-key-for-tests tw-secret-token; do
    it_check "log: $s never logged" bash -c "! grep -q '$s' '$IT_TMP/worker.jsonl' '$IT_TMP/worker.log' 2>/dev/null"
done
it_finish
