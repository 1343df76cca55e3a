#!/usr/bin/env bash
# lull-admin holds against slow clients as ingress does: a head or a body trickled byte by byte is cut by its
# deadline (trickled bytes do not extend it; libmicrohttpd's idle timeout would), logged as http.deadline; a
# request waiting for an admin thread is not cut; connections per client address are limited, while another
# address (127.0.0.2) is still served.
source "$(dirname "$0")/lib.sh"
it_db_create || it_finish
port=$(it_free_port); ops=$(it_free_port); mute=$(it_free_port)
# a health target that accepts connections and never answers: GET /api/v1/health waits LULL_ADMIN_CTL_TIMEOUT_MS
it_start mute node -e 'require("net").createServer(() => {}).listen(+process.argv[1], "127.0.0.1")' "$mute"
ADM_URL="http://127.0.0.1:$port"; ADM_LOG="$IT_TMP/admin.jsonl"; TOKEN=test-admin-token-0123456789
# the idle timeout (30 s) is far above the deadlines (1 s), so only the deadlines can cut a trickling client
it_start admin env LULL_ADMIN_PORT="$port" LULL_OPS_PORT="$ops" LULL_ADMIN_TOKEN="$TOKEN" LULL_ADMIN_HTTP_TIMEOUT_S=30 \
    LULL_ADMIN_HEAD_TIMEOUT_MS=1000 LULL_ADMIN_BODY_TIMEOUT_MS=1000 LULL_ADMIN_PER_IP_LIMIT=3 \
    LULL_ADMIN_CTL_TIMEOUT_MS=2500 LULL_HEALTH_TARGETS="mute=http://127.0.0.1:$mute/health" \
    LULL_SCHEDULER_CONTROLS="tcp://127.0.0.1:$(it_free_port)" LULL_SENDERS="" LULL_LOG_FILE="$ADM_LOG" "$LULL_BIN/lull-admin"
ADM_PID=$IT_LAST_PID
it_wait_for "admin serving" 10 it_http_ok "$ADM_URL/health"

# trickle PREFIX BYTES : sends PREFIX, then BYTES one at a time (250 ms apart: 10 s for 40); prints how many
# were sent before the server closed the connection.
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
sent=$(trickle 'GET /api/v1/tenants HTTP/1.1\r\nHost: x\r\nX-Slow: ' 40)
it_check "a header trickled byte by byte is cut by the head deadline (cut after $sent of 40 bytes)" test "$sent" -lt 40
it_check_match "… logged with the phase and the limit" '"ev":"http.deadline".*"phase":"head","limit_ms":1000' "$(cat "$ADM_LOG")"
sent=$(trickle "POST /api/v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $TOKEN\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n" 40)
it_check "a body trickled byte by byte is cut by the body deadline (cut after $sent of 40 bytes)" test "$sent" -lt 40
it_check_match "… logged with the phase" '"ev":"http.deadline".*"phase":"body"' "$(cat "$ADM_LOG")"
it_check_eq "nothing created by the slow body" 0 "$(it_sql "SELECT count(*) FROM tenants WHERE slug = 'aaaaaaaa'")"

# a kept-alive connection: the first request is answered, then the next head has its own deadline
out=$(timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; printf 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n' >&3; cat <&3")
it_check_match "a kept-alive connection is answered, then closed when no next request comes" '^HTTP/1.1 200' "$out"

# a slow answer (an admin thread waiting 2.5 s for a silent tier) is not cut by the deadlines (1 s)
code=$(curl -s -o "$IT_TMP/health.out" -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $TOKEN" "$ADM_URL/api/v1/health")
it_check_eq "a request whose answer takes longer than the deadlines is answered (503: the tier is silent)" 503 "$code"
it_check_eq "… with its body" down "$(jq -r .tiers.mute.status "$IT_TMP/health.out" 2>/dev/null)"

# per-address limit: 3 connections held from 127.0.0.1, a fourth from it is refused, 127.0.0.2 is served
exec 4<>/dev/tcp/127.0.0.1/"$port"; exec 5<>/dev/tcp/127.0.0.1/"$port"; exec 6<>/dev/tcp/127.0.0.1/"$port"
printf 'GET /health HTTP/1.1\r\nHost: x\r\n' >&4; printf 'GET /health HTTP/1.1\r\nHost: x\r\n' >&5
printf 'GET /health HTTP/1.1\r\nHost: x\r\n' >&6
sleep 0.2
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$ADM_URL/health")
it_check_eq "a fourth connection from the same address is refused (limit 3)" 000 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 --interface 127.0.0.2 "$ADM_URL/health")
it_check_eq "… while another address is served" 200 "$code"
exec 4>&- 5>&- 6>&-
it_wait_for "connections freed" 5 it_http_ok "$ADM_URL/health"
it_check_eq "after the others closed, requests are served" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$ADM_URL/health")"
it_finish
