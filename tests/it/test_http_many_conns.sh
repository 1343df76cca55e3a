#!/usr/bin/env bash
# Many kept-alive connections turning readable at once. Debian 12's libmicrohttpd (0.9.75) in its epoll mode stopped
# answering when 128 or more connections had a request at the same moment (256 connections: no answer in 15 s,
# until the clients gave up), and its select mode (the ops servers') refused every connection whose descriptor is
# 1024 or more, so a process holding a thousand connections answered no /health or /metrics. lull-ingress,
# lull-admin and the ops servers now use poll: every round of 256 and of 1,000 simultaneous requests is answered,
# and the ops server answers while 1,100 connections are held. Every tier raises its soft open-file limit to the
# hard one at start (lull_proc), so a login shell's 1024 does not hold a server to a thousand connections.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingress_lib.sh"
it_db_create || it_finish
node -e 'process.exit(0)' 2>/dev/null || { it_fail "node is not installed"; it_finish; }
conns="node $LULL_ROOT/tests/it/many_conns.js"

# The client holds 1,100 connections: this test needs an open-file limit above that (it raises its own soft limit).
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null
lim=$(ulimit -Sn)
[ "$lim" = unlimited ] || [ "$lim" -ge 4096 ] || { it_fail "needs an open-file limit of 4096 or more (ulimit -Hn: $lim)"; it_finish; }

# The ingress starts with a soft limit of 512 (a login shell's is 1024): it raises it to the hard limit itself, or
# the rounds of 1,000 connections below could not be served. The idle timeout and the head deadline (60 s) are far
# above the wait of a round (15 s): only an answer ends it.
ulimit -Sn 512
ing_start LULL_HTTP_PER_IP_LIMIT=2000 LULL_HTTP_MAX_CONNECTIONS=4000 LULL_HTTP_TIMEOUT_S=60 \
    LULL_HTTP_HEAD_TIMEOUT_MS=60000 || it_finish
ulimit -Sn "$lim"
port=${ING_URL##*:}
it_check_match "lull-ingress started with 512 open files raises its limit" '"ev":"proc.nofile".*"from":512' "$(cat "$ING_LOG")"
soft=$(awk '/^Max open files/ {print $4}' "/proc/$ING_PID/limits")
it_check "… to the hard limit or 1,048,576 ($soft)" test "$soft" = "$(awk '/^Max open files/ {print ($5 == "unlimited" || $5 > 1048576) ? 1048576 : $5}' "/proc/$ING_PID/limits")"

# rounds PORT N ROUNDS PATH DESC : N connections, ROUNDS rounds of one request on each at once; all answered 200.
rounds() {
    local out
    out=$($conns "$1" "$2" "$3" "$4" 2>&1)
    it_check_eq "$5: $2 connections, $3 rounds, every request answered (${out:0:120})" \
        "$2 $3 $(( $2 * $3 )) 0 0 0" \
        "$(jq -r '"\(.connected) \(.rounds) \(.answered) \(.non200) \(.closed) \(.missing)"' <<<"$out" 2>/dev/null)"
}
for n in 64 128 256 512; do rounds "$port" "$n" 10 /health "lull-ingress /health"; done
rounds "$port" 1000 5 /health "lull-ingress /health"

# 1,100 connections held open: the ingress's descriptors pass 1,024, and its ops server still answers.
hold="$IT_TMP/held.json"
it_start holder $conns "$port" 1100 1 /health "$hold"
HOLD_PID=$IT_LAST_PID
it_wait_for "1,100 connections open and answered" 60 test -s "$hold"
it_check_eq "1,100 connections held, each answered once" "1100 1100 0" \
    "$(jq -r '"\(.connected) \(.answered) \(.closed)"' "$hold" 2>/dev/null)"
fds=$(ls "/proc/$ING_PID/fd" 2>/dev/null | wc -l)
it_check "lull-ingress holds more than 1,024 descriptors ($fds)" test "$fds" -gt 1024
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$ING_OPS/health")
it_check_eq "… and its ops server answers /health" 200 "$code"
code=$(curl -s -o "$IT_TMP/metrics" -w '%{http_code}' --max-time 5 "$ING_OPS/metrics")
it_check_eq "… and /metrics" 200 "$code"
it_check_match "… with the ingress's metrics" 'lull_' "$(head -c 20000 "$IT_TMP/metrics")"
it_check "… and no select() refusal was logged" bash -c "! grep -q 'FD_SETSIZE' '$ING_LOG'"
it_stop "$HOLD_PID"

# lull-admin serves its console the same way.
aport=$(it_free_port); aops=$(it_free_port)
it_start admin env LULL_ADMIN_PORT="$aport" LULL_OPS_PORT="$aops" LULL_ADMIN_TOKEN=test-admin-token-0123456789 \
    LULL_ADMIN_PER_IP_LIMIT=2000 LULL_ADMIN_MAX_CONNECTIONS=2000 LULL_ADMIN_HTTP_TIMEOUT_S=60 LULL_ADMIN_HEAD_TIMEOUT_MS=60000 \
    LULL_SCHEDULER_CONTROLS="tcp://127.0.0.1:$(it_free_port)" LULL_SENDERS="" LULL_LOG_FILE="$IT_TMP/admin.jsonl" \
    "$LULL_BIN/lull-admin"
it_wait_up admin "$IT_LAST_PID" 10 it_http_ok "http://127.0.0.1:$aport/health" || it_finish
for n in 128 256 1000; do rounds "$aport" "$n" 10 /health "lull-admin /health"; done
it_finish
