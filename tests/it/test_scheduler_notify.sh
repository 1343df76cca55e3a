#!/usr/bin/env bash
# lull-scheduler hears the cluster change (LISTEN lull_sched): with 600 s leases its renewal timer ticks every
# 150 s, far beyond this test's waits, so every hand-over below happens on a NOTIFY, and the schedulers' own
# counters show it (lull_sched_rebalances_total{cause="timer"} stays 0, cause="notify" grows): a joining
# scheduler gets its share, a stopping one's partitions are taken back, and after its LISTEN connection was
# killed a scheduler listens again and still hands over on the next join. A node row silent for
# LULL_SCHED_PRUNE_LEASES of its leases is deleted by a live scheduler (with NOTIFY); a row silent for fewer
# stays.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scheduler_lib.sh"
it_db_create || it_finish

export LULL_SCHED_LEASE_MS=600000 LULL_SCHED_REBALANCE_DEBOUNCE_MS=20 LULL_SCHED_PRUNE_LEASES=10
declare -A OPS PID

# lstart NAME : a scheduler named NAME on its own endpoints; waits until it serves.
lstart() {
    local name=$1
    OPS[$name]=$(it_free_port)
    it_start "$name" env LULL_OPS_PORT="${OPS[$name]}" LULL_LOG_FILE="$IT_TMP/$name.jsonl" LULL_SCHED_NAME="$name" \
        LULL_SCHED_INBOUND_BIND="tcp://127.0.0.1:$(it_free_port)" LULL_SCHED_WORKER_BIND="tcp://127.0.0.1:$(it_free_port)" \
        LULL_SCHED_CONTROL_BIND="tcp://127.0.0.1:$(it_free_port)" LULL_LOG_LEVEL=info "$LULL_BIN/lull-scheduler"
    PID[$name]=$IT_LAST_PID
    it_wait_up "$name" "${PID[$name]}" 10 grep -q '"ev":"scheduler.ready"' "$IT_TMP/$name.jsonl"
}
# shares : "owner:count ..." of the live leases, by owner.
shares() {
    it_sql "SELECT string_agg(owner || ':' || n, ' ' ORDER BY owner) FROM (SELECT owner, count(*) n
            FROM sched_partitions WHERE owner IS NOT NULL AND lease_until > now() GROUP BY owner) s"
}
# wait_shares WANT WHAT : waits until shares prints WANT.
wait_shares() {
    it_wait_for "$2" 20 sh -c "[ \"\$(psql '$LULL_DATABASE_URL' -XAtc \"SELECT string_agg(owner || ':' || n, ' ' ORDER BY owner) FROM (SELECT owner, count(*) n FROM sched_partitions WHERE owner IS NOT NULL AND lease_until > now() GROUP BY owner) s\")\" = '$1' ]"
}
# metric NAME SERIES : a value of NAME's metrics (0 when absent).
metric() { curl -s "http://127.0.0.1:${OPS[$1]}/metrics" | awk -v s="$2" '$1 == s { v = $2 } END { print v + 0 }'; }
ticks() { metric "$1" 'lull_sched_rebalances_total{cause="'"$2"'"}'; }

# --- one scheduler holds everything ------------------------------------------------------------------------
lstart a
wait_shares "a:256" "a holds all 256 partitions"

# --- pruning: a row silent for 10 leases goes, one silent for 5 stays -----------------------------------------
it_sql "INSERT INTO sched_nodes (name, inbound_endpoint, worker_endpoint, control_endpoint, lease_ms, heartbeat_at)
        VALUES ('ghost', 'tcp://127.0.0.1:1', 'tcp://127.0.0.1:2', 'tcp://127.0.0.1:3', 1000, now() - interval '11 seconds'),
               ('sleepy', 'tcp://127.0.0.1:4', 'tcp://127.0.0.1:5', 'tcp://127.0.0.1:6', 1000, now() - interval '5 seconds');
        NOTIFY lull_sched" >/dev/null
it_wait_for "a prunes the row silent for 11 leases" 20 sh -c \
    "[ \"\$(psql '$LULL_DATABASE_URL' -XAtc \"SELECT count(*) FROM sched_nodes WHERE name = 'ghost'\")\" = 0 ]"
it_check_match "the prune is logged" '"ev":"node.pruned".*"node":"ghost".*"prune_leases":10' "$(cat "$IT_TMP/a.jsonl")"
it_check_eq "the row silent for 5 leases stays (not live, not pruned)" 1 \
    "$(it_sql "SELECT count(*) FROM sched_nodes WHERE name = 'sleepy'")"
it_check_eq "a counts one pruned row" 1 "$(metric a lull_sched_nodes_pruned_total)"
it_check_eq "a never pruned itself" 1 "$(it_sql "SELECT count(*) FROM sched_nodes WHERE name = 'a'")"
it_sql "DELETE FROM sched_nodes WHERE name = 'sleepy'" >/dev/null

# --- a second joins: the hand-over runs on NOTIFY, not on the 150 s renewal timer -----------------------------
lstart b
wait_shares "a:128 b:128" "a hands 128 partitions to b"
it_check_eq "a's renewal timer has not ticked (every rebalance so far was notified)" 0 "$(ticks a timer)"
it_check_eq "b's renewal timer has not ticked" 0 "$(ticks b timer)"
it_check "a rebalanced on notifications" test "$(ticks a notify)" -ge 1
it_check "b rebalanced on notifications" test "$(ticks b notify)" -ge 1
it_check_match "a handed over on b's join" '"ev":"partitions.released".*"partitions":128,.*"reason":"fair_share"' \
    "$(cat "$IT_TMP/a.jsonl")"
rel=$(grep '"ev":"partitions.released"' "$IT_TMP/a.jsonl" | head -1 | sed 's/.*"ts":"\([^"]*\)".*/\1/')
clm=$(grep '"ev":"partitions.claimed".*"partitions":128' "$IT_TMP/b.jsonl" | head -1 | sed 's/.*"ts":"\([^"]*\)".*/\1/')
it_check "b claimed after a released (order of the log lines: $rel, then $clm)" \
    test "$(date -d "$rel" +%s%6N)" -le "$(date -d "$clm" +%s%6N)"

# --- b stops: a takes its partitions back on the NOTIFY of the release ----------------------------------------
it_stop "${PID[b]}" TERM
wait_shares "a:256" "a takes b's partitions back"
it_check_eq "still no timer rebalance on a" 0 "$(ticks a timer)"

# --- a's LISTEN connection is killed: a listens again and hears the next join --------------------------------
killed=$(it_sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE datname = current_database() AND query = 'LISTEN lull_sched' AND pid <> pg_backend_pid()")
it_check_eq "one LISTEN connection (a's) was terminated" 1 "$killed"
it_wait_for "a notices the loss and listens again" 20 sh -c \
    "grep -q '\"ev\":\"notify.lost\"' '$IT_TMP/a.jsonl' && [ \$(grep -c '\"ev\":\"notify.listening\"' '$IT_TMP/a.jsonl') -ge 2 ]"
lstart c
wait_shares "a:128 c:128" "a hands 128 partitions to c after listening again"
it_check_eq "a's renewal timer still has not ticked" 0 "$(ticks a timer)"
it_check_eq "c's renewal timer has not ticked" 0 "$(ticks c timer)"

it_finish
