#!/usr/bin/env bash
# The worker's database thread (LULL_WORKER_DB_THREAD=1): while a commit waits on PostgreSQL (a row
# lock held by a psql session of the test) the loop goes on — heartbeats, LLM answers of other jobs, new jobs
# queued — and after the lock is released every job is committed once; SIGTERM with a commit and a load on the
# thread finishes the commit and hands the unloaded job back; with the thread off the same jobs are committed once.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/worker_env.sh"
w_setup
w_worker LULL_WORKER_DB_THREAD=1

WLOG=$IT_TMP/worker.jsonl
llm_latency() { curl -s -o /dev/null -X POST -H 'Content-Type: application/json' --data "{\"latency_ms\":$1}" "$W_LLM/_fake/config"; }
asked() { [ "$(w_ledger | jq --arg t "$1" '[.[] | select((.body | tostring) | contains($t))] | length')" -ge 1 ]; }
heartbeats() { grep -c '"type":"heartbeat"' "$W_SCHED_LOG"; }
heartbeats_ge() { [ "$(heartbeats)" -ge "$1" ]; }
readies() { grep -c '"type":"ready"' "$W_SCHED_LOG"; }
readies_ge() { [ "$(readies)" -ge "$1" ]; }
dones() { grep -c "\"conv\":$1," "$W_SCHED_LOG"; }
# statements of this database waiting for a lock (the worker's commit behind the test's row lock)
waiting() { [ "$(it_sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")" -ge 1 ]; }
# one_reply CONV : "outcome|bot messages|outbox rows|DONEs|answered"
one_reply() {
    echo "$(grep "\"conv\":$1," "$W_SCHED_LOG" | tail -1 | jq -r .outcome)|$(it_sql "SELECT (SELECT count(*) FROM messages WHERE conversation_id = $1 AND author = 'bot'), (SELECT count(*) FROM outbox WHERE conversation_id = $1)")|$(dones "$1")|$(it_sql "SELECT answered_upto = last_inbound_id FROM conversations WHERE id = $1")"
}

# lock_start CONV : a psql session holds conversation CONV's row (FOR UPDATE) until lock_release.
lock_start() {
    rm -f "$IT_TMP/lock"; mkfifo "$IT_TMP/lock"
    exec 8<>"$IT_TMP/lock"
    psql "$LULL_DATABASE_URL" -X -q -v ON_ERROR_STOP=1 <&8 >>"$IT_TMP/lock.log" 2>&1 &
    LOCK_PID=$!
    echo "BEGIN; SELECT id FROM conversations WHERE id = $1 FOR UPDATE;" >&8
    it_wait_for "the test's session holds the row of $1" 10 bash -c \
        "[ \"\$(psql '$LULL_DATABASE_URL' -X -A -t -c \"SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' AND datname = current_database()\")\" -ge 1 ]"
}
lock_release() {
    echo "COMMIT;" >&8
    echo '\q' >&8
    wait "$LOCK_PID" 2>/dev/null
    exec 8>&-
}

# --- a commit waits on the thread; the loop goes on
llm_latency 1500
w_conv sms +15553000001 "thread B: a slow answer"; B=$CONV
w_job "$B" 0 "$UPTO"
it_wait_for "B's LLM call started" 10 asked "thread B: a slow answer"
llm_latency 0
w_conv sms +15553000002 "thread A: its row is locked"; A=$CONV
lock_start "$A"
w_job "$A" 0 "$UPTO"
it_wait_for "A's commit waits for the lock" 10 waiting
h0=$(heartbeats)
it_wait_for "B's LLM answer is read while A's commit waits" 10 grep -q "\"ev\":\"llm.done\".*\"conv\":$B," "$WLOG"
it_wait_for "heartbeats go on while A's commit waits" 10 heartbeats_ge $((h0 + 5))
w_conv sms +15553000003 "thread C: queued behind"; C=$CONV
w_job "$C" 0 "$UPTO"
it_check "the worker is alive while its commit waits" kill -0 "$W_WORKER_PID"
it_check_eq "no DONE for A while the lock is held" 0 "$(dones "$A")"
it_check "A's commit still waits" waiting
lock_release
for c in "$A" "$B" "$C"; do
    it_wait_for "DONE $c" 10 w_done_seen "$c"
    it_check_eq "after the lock: $c replied once (one bot message, one outbox row, one DONE, answered)" "replied|1|1|1|t" \
        "$(one_reply "$c")"
done

# --- SIGTERM with a commit and a load on the thread: the commit finishes, the unloaded job is handed back
w_conv sms +15553000004 "thread D: committed at shutdown"; D=$CONV; DUP=$UPTO
lock_start "$D"
w_job "$D" 0 "$DUP"
it_wait_for "D's commit waits for the lock" 10 waiting
w_conv sms +15553000005 "thread E: loading at shutdown"; E=$CONV
w_job "$E" 0 "$UPTO"
it_wait_for "E reached the worker (job.start)" 10 grep -q "\"ev\":\"job.start\".*\"conv\":$E," "$WLOG"
kill -TERM "$W_WORKER_PID"
it_wait_for "the worker begins to stop" 10 grep -q '"ev":"stopping"' "$WLOG"
it_check "the stopping worker waits for its commit on the thread" kill -0 "$W_WORKER_PID"
lock_release
wait "$W_WORKER_PID" 2>/dev/null; rc=$?
it_check_eq "worker exits 0 on SIGTERM" 0 "$rc"
it_check_eq "D: committed and reported replied before the exit" "replied|1|1|1|t" "$(one_reply "$D")"
it_check_eq "E: handed back (failed_retryable, retry after 1 ms, worker stopping), nothing committed" \
    "failed_retryable|1|worker stopping|0|0" \
    "$(grep "\"conv\":$E," "$W_SCHED_LOG" | tail -1 | jq -r '"\(.outcome)|\(.retry_after_ms)|\(.detail)"')|$(it_sql "SELECT (SELECT count(*) FROM outbox WHERE conversation_id = $E), answered_upto FROM conversations WHERE id = $E")"
it_check_eq "E: one DONE" 1 "$(dones "$E")"

# --- the thread off: the same waits happen on the loop, and every job is still committed once
r0=$(readies)
w_worker LULL_WORKER_DB_THREAD=0
it_wait_for "the new worker's READY" 10 readies_ge $((r0 + 1))
w_job "$E" 0 "$(it_sql "SELECT last_inbound_id FROM conversations WHERE id = $E")"
it_wait_for "E retried" 10 bash -c "[ \$(grep -c '\"conv\":$E,' '$W_SCHED_LOG') -ge 2 ]"
it_check_eq "off: the retried E replied once" "replied|1|1|2|t" "$(one_reply "$E")"
w_conv sms +15553000006 "thread F: locked, thread off"; F=$CONV
lock_start "$F"
w_job "$F" 0 "$UPTO"
it_wait_for "off: F's commit waits for the lock" 10 waiting
w_conv sms +15553000007 "thread G: behind, thread off"; G=$CONV
w_job "$G" 0 "$UPTO"
lock_release
for c in "$F" "$G"; do
    it_wait_for "DONE $c" 10 w_done_seen "$c"
    it_check_eq "off: $c replied once" "replied|1|1|1|t" "$(one_reply "$c")"
done
it_finish
