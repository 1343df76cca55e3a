#!/usr/bin/env bash
# PostgreSQL restarts while the worker's database thread holds a commit (waiting for a row lock of the test) and
# a load queued behind it, on a cluster of the test's own: the commit fails as a whole and is reported
# failed_retryable, the thread reconnects by itself, and the retried jobs are answered once (no duplicate reply).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/worker_env.sh"
source "$(dirname "$0")/pg_lib.sh"
it_db_create() {  # w_setup's database: on the private cluster
    pg_new main && pg_createdb main || return 1
    LULL_DATABASE_URL=$(pg_url main)
    export LULL_DATABASE_URL
}
w_setup
w_worker LULL_WORKER_DB_THREAD=1

dones() { grep -c "\"conv\":$1," "$W_SCHED_LOG"; }
dones_ge() { [ "$(dones "$1")" -ge "$2" ]; }
last_outcome() { grep "\"conv\":$1," "$W_SCHED_LOG" | tail -1 | jq -r .outcome; }
waiting() { [ "$(it_sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")" -ge 1 ]; }
holding() { [ "$(it_sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'")" -ge 1 ]; }
sql_ok() { it_sql "SELECT 1" >/dev/null 2>&1; }

w_conv sms +15554000001 "restart A: its commit is on the thread"; A=$CONV; AUP=$UPTO
w_conv sms +15554000002 "restart B: its load is behind"; B=$CONV; BUP=$UPTO
mkfifo "$IT_TMP/lock"
exec 8<>"$IT_TMP/lock"
psql "$LULL_DATABASE_URL" -X -q <&8 >>"$IT_TMP/lock.log" 2>&1 &
LOCK_PID=$!
echo "BEGIN; SELECT id FROM conversations WHERE id = $A FOR UPDATE;" >&8
it_wait_for "the test's session holds A's row" 10 holding
w_job "$A" 0 "$AUP"
it_wait_for "A's commit waits for the lock on the thread" 10 waiting
w_job "$B" 0 "$BUP"
it_wait_for "B reached the worker" 10 grep -q "\"ev\":\"job.start\".*\"conv\":$B," "$IT_TMP/worker.jsonl"
# -m immediate: every backend quits at once, so the test's lock is never released to the waiting commit first (with -m
# fast, the session holding it may end a moment before the commit's backend, which then commits: also correct)
it_check "pg_ctl restart -m immediate with the commit on the thread" pg_ctl_do main restart -m immediate -w -t 30
kill "$LOCK_PID" 2>/dev/null; wait "$LOCK_PID" 2>/dev/null  # (its session was cut; psql would wait on its input)
it_wait_for "A's DONE after the restart" 20 dones_ge "$A" 1
it_check_eq "A: the interrupted commit is reported failed_retryable" failed_retryable "$(last_outcome "$A")"
it_wait_for "B's DONE after the restart" 20 dones_ge "$B" 1
b1=$(last_outcome "$B")
it_check "B: replied, or failed_retryable when its load met the restart (got $b1)" \
    bash -c '[ "$1" = replied ] || [ "$1" = failed_retryable ]' _ "$b1"
it_check_eq "nothing of A was committed by the interrupted batch" "0|0" \
    "$(it_sql "SELECT (SELECT count(*) FROM outbox WHERE conversation_id = $A), (SELECT count(*) FROM messages WHERE conversation_id = $A AND author = 'bot')")"
it_wait_for "the database accepts statements again" 20 sql_ok
# the scheduler's retries, as it makes them: again after each failed_retryable (the thread's connection may still
# be waiting to reconnect: "database unavailable"), until replied
retry_until_replied() {  # CONV UPTO
    local c=$1 up=$2 n i
    for i in $(seq 20); do
        n=$(dones "$c")
        w_job "$c" 0 "$up"
        it_wait_for "DONE of $c's retry" 20 dones_ge "$c" $((n + 1)) || return 1
        [ "$(last_outcome "$c")" = replied ] && return 0
        [ "$(last_outcome "$c")" = failed_retryable ] || return 1
        sleep 0.2
    done
    return 1
}
it_check "A: a retry replied" retry_until_replied "$A" "$AUP"
[ "$b1" = replied ] || it_check "B: a retry replied" retry_until_replied "$B" "$BUP"
# a duplicate job after all that commits nothing more
na=$(dones "$A")
w_job "$A" 0 "$AUP"
it_wait_for "A's duplicate" 20 dones_ge "$A" $((na + 1))
it_check_eq "A again: duplicate" duplicate "$(last_outcome "$A")"
for c in "$A" "$B"; do
    it_check_eq "$c: one bot message, one outbox row, answered" "1|1|t" \
        "$(it_sql "SELECT (SELECT count(*) FROM messages WHERE conversation_id = $c AND author = 'bot'), (SELECT count(*) FROM outbox WHERE conversation_id = $c), answered_upto = last_inbound_id FROM conversations WHERE id = $c")"
done
it_check_eq "the thread logged the lost connection and reconnected" "t" \
    "$(grep -q '"ev":"db.connection_lost"' "$IT_TMP/worker.jsonl" && echo t)"
it_stop "$W_WORKER_PID" TERM
it_check_eq "worker exits 0 on SIGTERM" 0 "$IT_RC"
it_finish
