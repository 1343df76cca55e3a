#!/usr/bin/env bash
# Rate limits of the unauthenticated public routes, per client address (curl binds 127.0.0.2, 127.0.0.3 … as its
# source address) and per web chat session: an abusive client gets 429 with Retry-After and the JSON error
# while a legitimate client from another address is still served; a flood of refusals logs a few sampled lines;
# a signed generic webhook is never limited per address, and a forged signature header does not escape the
# unsigned limit; the history reads and stream opens are limited; streams are capped per address.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingress_lib.sh"
it_db_create || it_finish
SECRET="whsec_$(printf 'generic-webhook-test-secret-0123' | base64 -w0)"
it_sql "INSERT INTO tenants (slug, webhook_secret_env) VALUES ('signed', 'LULL_TENANT_SIGNED_WH');
        INSERT INTO tenants (slug) VALUES ('plain')" >/dev/null
# rates of one a minute: nothing refills during the test, so each bucket holds exactly its burst
ing_start LULL_TENANT_SIGNED_WH="$SECRET" LULL_CHAT_SESSION_RATE=1 LULL_CHAT_SESSION_BURST=3 \
    LULL_CHAT_MESSAGE_RATE=1 LULL_CHAT_MESSAGE_BURST=3 LULL_CHAT_MESSAGE_ADDR_RATE=1 LULL_CHAT_MESSAGE_ADDR_BURST=6 \
    LULL_CHAT_READ_RATE=1 LULL_CHAT_READ_BURST=4 LULL_WEBHOOK_UNSIGNED_RATE=1 LULL_WEBHOOK_UNSIGNED_BURST=5 \
    LULL_CHAT_STREAMS_PER_ADDR=2 || it_finish

# from ADDR METHOD PATH BODY [curl args…] : a request from source address ADDR; sets ING_CODE, ING_BODY, HDR.
from() {
    local addr=$1 method=$2 path=$3 body=$4 out="$IT_TMP/resp.$BASHPID" hdr="$IT_TMP/hdr.$BASHPID"; shift 4
    ING_CODE=$(curl -s -o "$out" -D "$hdr" -w '%{http_code}' --interface "$addr" -X "$method" \
        --max-time 10 "$@" ${body:+--data-binary "$body"} "$ING_URL$path")
    ING_BODY=$(cat "$out" 2>/dev/null)
    HDR=$(tr -d '\r' <"$hdr" 2>/dev/null)
}
json() { local a=$1 p=$2 b=$3; shift 3; from "$a" POST "$p" "$b" -H 'Content-Type: application/json' "$@"; }
# codes N ADDR PATH BODY : the statuses of N POSTs, space-separated
codes() {
    local n=$1 a=$2 p=$3 b=$4 out="" i
    for i in $(seq 1 "$n"); do json "$a" "$p" "$b"; out+="$ING_CODE "; done
    echo "${out% }"
}
session() { json "$1" /api/v1/chat/session '{}'; jq -r '.sessionId // empty' <<<"$ING_BODY"; }
retry_after() { sed -n 's/^[Rr]etry-[Aa]fter: //p' <<<"$HDR"; }

# --- sessions per address ------------------------------------------------------------------------------
it_check_eq "sessions from one address: the burst, then 429" "200 200 200 429 429" \
    "$(codes 5 127.0.0.2 /api/v1/chat/session '{}')"
json 127.0.0.2 /api/v1/chat/session '{}'
it_check_eq "429: JSON error rate_limited" "429 rate_limited" "$ING_CODE $(jq -r .error.code <<<"$ING_BODY")"
it_check_match "429: Retry-After in whole seconds (about a minute at one a minute)" '^[1-6][0-9]$' "$(retry_after)"
it_check_eq "a legitimate client from another address is served meanwhile" 200 \
    "$(json 127.0.0.3 /api/v1/chat/session '{}'; echo "$ING_CODE")"

# --- messages per session and per address --------------------------------------------------------------
s1=$(session 127.0.0.4)
it_check_eq "messages of one session: its burst, then 429" "200 200 200 429" \
    "$(codes 4 127.0.0.4 /api/v1/chat/message "{\"sessionId\":\"$s1\",\"message\":\"hi\"}")"
s2=$(session 127.0.0.4)
it_check_eq "another session of the same address is served" 200 \
    "$(json 127.0.0.4 /api/v1/chat/message "{\"sessionId\":\"$s2\",\"message\":\"hi\"}"; echo "$ING_CODE")"
# the address's bucket (6) paid for every message above, the refused one too: 4 + 1, then one more
it_check_eq "…until the address's own limit (6 messages, refused ones included)" "200 429" \
    "$(codes 2 127.0.0.4 /api/v1/chat/message "{\"sessionId\":\"$s2\",\"message\":\"hi\"}")"
it_check_eq "what was refused was not stored" 5 \
    "$(it_sql "SELECT count(*) FROM messages m JOIN conversations v ON v.id = m.conversation_id
               WHERE v.external_conversation_id IN ('$s1', '$s2')")"

# --- unsigned generic webhook ----------------------------------------------------------------------------
gen='{"tenant":"plain","contact_id":"c1","message":{"body":"hello"}}'
it_check_eq "unsigned POST /webhook from one address: the burst, then 429" "200 200 200 200 200 429" \
    "$(codes 6 127.0.0.5 /webhook "$gen")"
it_check_eq "unsigned POST /webhook from another address is served" 200 \
    "$(json 127.0.0.6 /webhook "$gen"; echo "$ING_CODE")"
# a made-up signature header for a tenant without a secret: stored unsigned, so it counts after the fact
forged=""
for i in $(seq 1 8); do json 127.0.0.7 /webhook "$gen" -H "webhook-id: m$i" -H "webhook-timestamp: 1" -H "webhook-signature: v1,Zm9yZ2Vk"; forged+="$ING_CODE "; done
it_check_match "a forged signature header does not escape the unsigned limit" '^(200 ){5,6}429' "$forged"
# signed deliveries of a tenant with a secret: never limited per address
sig() {
    local hexkey
    hexkey=$(printf '%s' "${1#whsec_}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
    printf 'v1,%s' "$(printf '%s.%s.%s' "$2" "$3" "$4" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hexkey" -binary | base64 -w0)"
}
now=$(date +%s); signed=""
for i in $(seq 1 12); do
    b="{\"tenant\":\"signed\",\"contact_id\":\"s1\",\"message\":{\"body\":\"signed $i\",\"id\":\"sg-$i\"}}"
    json 127.0.0.5 /webhook "$b" -H "webhook-id: msg_$i" -H "webhook-timestamp: $now" -H "webhook-signature: $(sig "$SECRET" "msg_$i" "$now" "$b")"
    signed+="$ING_CODE "
done
it_check_eq "12 signed webhooks from the limited address: all 200" "$(printf '200 %.0s' {1..12})" "$signed"
# Twilio's signed webhooks are not limited per address either
tw=""
for i in $(seq 1 8); do twilio_post "MessageSid=$(sm "rl$i")" From=+15550001111 To=+15550002222 "Body=hi $i"; tw+="$ING_CODE "; done
it_check_eq "8 signed Twilio webhooks in a row: all 200" "$(printf '200 %.0s' {1..8})" "$tw"

# --- history reads and stream opens per address -----------------------------------------------------------
s3=$(session 127.0.0.8)
reads=""
for i in $(seq 1 5); do from 127.0.0.8 GET "/api/v1/chat/history/$s3" ""; reads+="$ING_CODE "; done
it_check_eq "history reads from one address: the burst, then 429" "200 200 200 200 429 " "$reads"
from 127.0.0.9 GET "/api/v1/chat/history/$s3" ""
it_check_eq "the same history from another address is served" 200 "$ING_CODE"

# --- streams per address -------------------------------------------------------------------------------
s4=$(session 127.0.0.10)
for n in a b; do
    it_start "curl.$n" sh -c "exec curl -sN --interface 127.0.0.10 --max-time 60 '$ING_URL/api/v1/chat/stream/$s4' >'$IT_TMP/$n.sse'"
done
open() { grep -qF ': connected' "$IT_TMP/$1.sse"; }
it_wait_for "two streams from one address open" 10 open a && it_wait_for "…both" 10 open b
from 127.0.0.10 GET "/api/v1/chat/stream/$s4" ""
it_check_eq "a third stream from the same address: 429 too_many_streams" "429 too_many_streams" \
    "$ING_CODE $(jq -r .error.code <<<"$ING_BODY")"
it_check_match "…saying it is the address's limit" 'this address' "$(jq -r .error.message <<<"$ING_BODY")"
s5=$(session 127.0.0.11)
it_start "curl.c" sh -c "exec curl -sN --interface 127.0.0.11 --max-time 60 '$ING_URL/api/v1/chat/stream/$s5' >'$IT_TMP/c.sse'"
it_wait_for "a stream from another address opens" 10 open c

# --- the log: sampled, JSON; the metrics count every refusal ------------------------------------------------
json 127.0.0.2 /api/v1/chat/session '{}'  # one more refusal, at least, for the flood below
for i in $(seq 1 40); do json 127.0.0.2 /api/v1/chat/session '{}'; done
lines=$(grep -c '"ev":"http.rate_limited"' "$ING_LOG")
refused=$(curl -s "$ING_OPS/metrics" | awk '/^lull_ingress_rate_limited_total/ {s += $2} END {print s + 0}')
it_check "every refusal is counted (at least 48)" test "$refused" -ge 48
it_check "the log holds far fewer rate_limited lines than refusals ($lines of $refused)" test "$lines" -lt $((refused / 2))
it_check "…and at least one" test "$lines" -ge 1
it_check "every log line is one JSON object" sh -c "jq -c . '$ING_LOG' >/dev/null"
it_check_match "a rate_limited line names the route and the limit" '"route":"chat_session".*"limit":"chat_session_addr"' \
    "$(grep '"ev":"http.rate_limited"' "$ING_LOG" | head -1)"

it_finish
