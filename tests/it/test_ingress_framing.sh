#!/usr/bin/env bash
# lull-ingress against strangers on the wire: framing refused before the body is read (duplicate or conflicting
# Content-Length, Content-Length with Transfer-Encoding, codings other than chunked), head and body deadlines that
# trickled bytes do not extend (web chat streams exempt once accepted), and libmicrohttpd's own complaints logged
# as JSON lines with session ids masked.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingress_lib.sh"
it_db_create || it_finish
# the idle timeout (30 s) is far above the deadlines (1 s), so only the deadlines can cut a trickling client
ing_start LULL_HTTP_TIMEOUT_S=30 LULL_HTTP_HEAD_TIMEOUT_MS=1000 LULL_HTTP_BODY_TIMEOUT_MS=1000 \
    LULL_CHAT_KEEPALIVE_MS=200 || it_finish
port=${ING_URL##*:}
count() { it_sql "SELECT count(*) FROM messages"; }

# raw REQUEST : sends REQUEST (printf escapes) on a new connection; RAW_STATUS is the status code, RAW_BODY the body.
raw() {
    local out
    out=$(timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$port"'; printf "$1" >&3; cat <&3' _ "$1" | tr -d '\r')
    RAW_STATUS=$(head -1 <<<"$out" | awk '{print $2}')
    RAW_BODY=$(sed '1,/^$/d' <<<"$out")
}
refused() {  # DESC STATUS CODE
    it_check_eq "$1: status" "$2" "$RAW_STATUS"
    it_check_match "$1: JSON error" "^\\{\"error\":\\{\"code\":\"$3\",\"message\":\"[^\"]+\"\\}\\}$" "$RAW_BODY"
}
H='POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n'
B='{"contact_id":"f1","message":{"body":"framed"}}'
n=${#B}
before=$(count)

# --- framing (a refused request is sent without its body: the answer comes from the head alone, and no unread
# bytes make the kernel reset the connection under the answer)
raw "${H}Content-Length: $n\r\n\r\n$B"
it_check_eq "a well-framed request is served" 200 "$RAW_STATUS"
stored=$(count)
raw "${H}Content-Length: $n\r\nContent-Length: 5\r\n\r\n"
refused "conflicting Content-Length" 400 bad_framing
raw "${H}Content-Length: $n\r\nContent-Length: $n\r\n\r\n"
refused "duplicate Content-Length (same value)" 400 bad_framing
raw "${H}Content-Length: $n\r\nTransfer-Encoding: chunked\r\n\r\n"
refused "Content-Length with Transfer-Encoding" 400 bad_framing
raw "${H}Transfer-Encoding: gzip\r\n\r\n"
refused "Transfer-Encoding: gzip" 501 unsupported_transfer_encoding
raw "${H}Transfer-Encoding: gzip, chunked\r\n\r\n"
refused "Transfer-Encoding: gzip, chunked" 501 unsupported_transfer_encoding
raw "${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
refused "Transfer-Encoding twice" 400 bad_framing
raw "POST /webhook HTTP/1.0\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
refused "Transfer-Encoding in HTTP/1.0" 400 bad_framing
it_check_eq "nothing stored for the refused ones" "$stored" "$(count)"
raw "${H}Transfer-Encoding: Chunked\r\n\r\n$(printf %x "$n")\r\n$B\r\n0\r\n\r\n"
it_check_eq "chunked alone (any case) is served" 200 "$RAW_STATUS"
it_check_eq "… and stored" $((stored + 1)) "$(count)"
it_check_eq "one stored before the refusals" $((before + 1)) "$stored"

# --- slow clients: a byte every 250 ms would take 10 s for 40 bytes; the deadline (1 s) cuts it early.
# trickle PREFIX BYTES : sends PREFIX, then BYTES one at a time; prints how many were sent before the server closed.
trickle() {
    timeout 20 bash -c '
        exec 3<>/dev/tcp/127.0.0.1/'"$port"'
        (cat <&3 >/dev/null; touch "$3") &
        printf "$1" >&3
        sent=0
        while [ "$sent" -lt "$2" ] && [ ! -e "$3" ]; do
            printf a >&3 2>/dev/null || break
            sent=$((sent + 1)); sleep 0.25
        done
        echo "$sent"' _ "$1" "$2" "$IT_TMP/closed.$RANDOM"
}
sent=$(trickle 'POST /webhook HTTP/1.1\r\nHost: x\r\nX-Slow: ' 40)
it_check "a header trickled byte by byte is cut by the head deadline (cut after $sent of 40 bytes)" test "$sent" -lt 40
it_check_match "… logged with the phase" '"ev":"http.deadline".*"phase":"head"' "$(cat "$ING_LOG")"
sent=$(trickle "${H}Content-Length: 40\r\n\r\n" 40)
it_check "a body trickled byte by byte is cut by the body deadline (cut after $sent of 40 bytes)" test "$sent" -lt 40
it_check_match "… logged with the phase" '"ev":"http.deadline".*"phase":"body"' "$(cat "$ING_LOG")"
it_check_eq "nothing stored from the slow clients" $((stored + 1)) "$(count)"
ing_json /api/v1/chat/session '{}'
sid=$(jq -r .sessionId <<<"$ING_BODY")
rc=0
curl -s -N --max-time 3 -o "$IT_TMP/stream.out" "$ING_URL/api/v1/chat/stream/$sid" || rc=$?
it_check_eq "a web chat stream outlives the body deadline (curl's own 3 s limit ends it)" 28 "$rc"
it_check "… and it was answered" test -s "$IT_TMP/stream.out"

# --- libmicrohttpd's complaints: JSON lines, credentials masked
big=$(head -c 40000 /dev/zero | tr '\0' a)
raw "GET /api/v1/chat/history/ws_leakcheck0123456789 HTTP/1.1\r\nHost: x\r\nX-Big: $big\r\n\r\n"
it_check "a header too large: refused by libmicrohttpd (431, or a reset under it)" test "${RAW_STATUS:-431}" = 431
raw "GET /api/v1/chat/history/ws_leakcheck0123456789 HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n"
it_check_eq "a malformed header line: 400 from libmicrohttpd" 400 "$RAW_STATUS"
it_wait_for "libmicrohttpd's message logged" 5 grep -q '"ev":"http.mhd"' "$ING_LOG"
it_check_match "… as a warn line of the JSON log" '"lvl":"warn".*"ev":"http.mhd"' "$(cat "$ING_LOG")"
it_stop "$ING_PID" TERM
bad=$(cat "$ING_LOG" "$IT_TMP/ingress.$port.log" | while IFS= read -r l; do jq -e . >/dev/null 2>&1 <<<"$l" || echo "$l"; done)
it_check_eq "every line of the log (and of stderr) is one JSON object" "" "$bad"
it_check "the session id never reaches the log" bash -c '! grep -q leakcheck "$@"' _ "$ING_LOG" "$IT_TMP/ingress.$port.log"
it_finish
