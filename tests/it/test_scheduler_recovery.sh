#!/usr/bin/env bash
# lull-scheduler failure handling: a worker that dies loses its job to another worker (attempt 2); a hung
# worker (no heartbeats) is declared dead; kill -9 of the scheduler mid-run → after the restart every
# conversation still unanswered is dispatched exactly once and all end answered; workers find the
# restarted scheduler by themselves.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scheduler_lib.sh"
it_db_create || it_finish

t=$(sched_tenant t1 50 200)
sched_start sched

# --- a worker dies holding a job: the job goes to another worker with attempt 2 --------------------------
worker_start dying --credit 1 --die-after 1
it_wait_for "dying worker joined" 5 grep -q '"ev":"worker.ready".*"worker":"dying"' "$IT_TMP/sched.jsonl"
c1=$(sched_conv "$t"); m1=$(sched_msg "$c1"); sched_inbound "$c1" "$m1" "$t"
it_wait_for "dying worker got the job" 5 grep -q "\"conversation_id\":$c1," "$IT_TMP/dying.log"
worker_start healthy --credit 1 --commit
it_wait_for "job redispatched to the other worker with attempt 2" 10 \
    grep -q "\"conversation_id\":$c1,.*\"attempt\":2,\"worker\":\"healthy\"" "$IT_TMP/healthy.log"
it_wait_for "and answered" 5 answered "$c1"
it_check_match "the lost worker is logged" '"ev":"worker.lost".*"worker":"dying","jobs":1' "$(cat "$IT_TMP/sched.jsonl")"
it_check_eq "answered once by the healthy worker" 1 "$(jobs "$IT_TMP/healthy.log" "$c1")"
it_stop "$WORKER_PID" KILL

# --- a hung worker (no heartbeats, never answers) is declared dead too -----------------------------------
worker_start hung --credit 1 --no-heartbeat --work-ms 600000
it_wait_for "hung worker declared dead" 10 grep -q '"ev":"worker.lost".*"worker":"hung"' "$IT_TMP/sched.jsonl"
it_stop "$WORKER_PID" KILL

# --- kill -9 of the scheduler mid-run --------------------------------------------------------------------
N=30
convs=()
for i in $(seq 1 $N); do c=$(sched_conv "$t"); sched_msg "$c" >/dev/null; convs+=("$c"); done
# no INBOUND at all: the sweep discovers them; one worker answers slowly, 2 at a time
worker_start w --credit 2 --work-ms 80 --commit
W=$IT_TMP/w.log
it_wait_for "some jobs dispatched" 10 sh -c "[ \$(grep -c '\"ev\":\"job\"' '$W') -ge 4 ]"
it_stop "$SCHED_PID" KILL
# let the worker finish (and commit) what it holds, then take the truth from the database
it_wait_for "worker finished the jobs it held" 5 sh -c \
    "[ \$(grep -c '\"ev\":\"done\"' '$W') -eq \$(grep -c '\"ev\":\"job\"' '$W') ]"
ids=$(IFS=,; echo "${convs[*]}")
unanswered=$(it_sql "SELECT id FROM conversations WHERE id IN ($ids) AND answered_upto < last_inbound_id ORDER BY id" | tr '\n' ' ')
before=$(wc -l <"$W")
it_check "some conversations are still unanswered at the kill" test -n "$unanswered"
# pages of 3 rows: the recovery's keyset (partition, id) crosses partitions from page to page
LULL_SCHED_SWEEP_PAGE=3 sched_start sched2
it_wait_for "every conversation answered after the restart" 20 sh -c \
    "[ \$(psql '$LULL_DATABASE_URL' -XAtc 'SELECT count(*) FROM conversations WHERE id IN ($ids) AND answered_upto < last_inbound_id') -eq 0 ]"
after=$(tail -n +"$((before + 1))" "$W" | grep '"ev":"job"' | grep -o '"conversation_id":[0-9]*' | cut -d: -f2 | sort -n)
it_check_eq "after the restart each unanswered conversation is dispatched exactly once" \
    "$(echo "$unanswered" | tr ' ' '\n' | sed '/^$/d' | sort -n | tr '\n' ' ')" "$(echo "$after" | tr '\n' ' ')"
it_check_match "the restarted scheduler logs its recovery" '"ev":"recovered"' "$(cat "$IT_TMP/sched2.jsonl")"
it_check_match "the worker reconnected by itself (second READY)" '"ev":"ready".*' "$(tail -n +"$((before + 1))" "$W")"
it_check_eq "no replied twice: every DONE after the restart is replied" 0 \
    "$(tail -n +"$((before + 1))" "$W" | grep '"ev":"done"' | grep -vc '"outcome":"replied"')"

it_stop "$WORKER_PID" KILL

# --- a restart while the worker holds jobs: its READY offers the free slots only, and the DONEs of the old
# jobs (unknown to the new scheduler) give the held slots back as credit -----------------------------------
worker_start slow --credit 2 --work-ms 1500 --commit
S=$IT_TMP/slow.log
d1=$(sched_conv "$t"); m=$(sched_msg "$d1"); sched_inbound "$d1" "$m" "$t"
d2=$(sched_conv "$t"); m=$(sched_msg "$d2"); sched_inbound "$d2" "$m" "$t"
it_wait_for "the slow worker holds 2 jobs" 5 sh -c "[ \$(grep -c '\"ev\":\"job\"' '$S') -ge 2 ]"
it_stop "$SCHED_PID" KILL
sched_start sched3
it_wait_for "the worker re-announces itself with credit 0" 5 grep -q '"ev":"worker.ready".*"worker":"slow","credit":0' "$IT_TMP/sched3.jsonl"
it_wait_for "the old jobs' DONEs give the credit back" 10 sh -c \
    "curl -s http://127.0.0.1:$SCHED_OPS/metrics | grep -q '^lull_sched_credit 2$'"
it_check_match "those DONEs are logged as unknown jobs" '"ev":"done.unknown".*"worker":"slow"' "$(cat "$IT_TMP/sched3.jsonl")"
it_check "both conversations answered once (by the old jobs)" sh -c "$(declare -f answered it_sql); answered $d1 && answered $d2"
# the new scheduler may dispatch one of them again before the old job commits: the CAS makes it a duplicate
it_check "at most one new job per conversation" test "$(jobs "$S" "$d1")" -le 2 -a "$(jobs "$S" "$d2")" -le 2
it_check_eq "exactly one reply per conversation" "1 1" \
    "$(grep -c "\"conversation_id\":$d1,\"outcome\":\"replied\"" "$S") $(grep -c "\"conversation_id\":$d2,\"outcome\":\"replied\"" "$S")"

it_stop "$WORKER_PID" KILL
it_stop "$SCHED_PID" TERM
it_check_eq "scheduler exits 0 on SIGTERM" 0 "$IT_RC"

# --- shards: scheduler 1 of 2 recovers (pages of 2 over every partition) and accepts only its own conversations
mine=(); theirs=()
for i in $(seq 1 12); do
    c=$(sched_conv "$t"); sched_msg "$c" >/dev/null
    if [ "$("$SCHED_CTL" shard "$c" 2)" = 1 ]; then mine+=("$c"); else theirs+=("$c"); fi
done
it_check "both shards have conversations (${#mine[@]} / ${#theirs[@]})" test "${#mine[@]}" -gt 0 -a "${#theirs[@]}" -gt 0
LULL_SCHED_SHARDS=2 LULL_SCHED_SHARD=1 LULL_SCHED_SWEEP_PAGE=2 sched_start shard1
worker_start sw --credit 4 --commit
for c in "${mine[@]}"; do it_wait_for "shard 1 answers conversation $c" 10 answered "$c"; done
it_check_eq "shard 1 never dispatched shard 0's conversations" 0 \
    "$(for c in "${theirs[@]}"; do jobs "$IT_TMP/sw.log" "$c"; done | awk '{s+=$1} END{print s+0}')"
m=$(sched_msg "${theirs[0]}"); sched_inbound "${theirs[0]}" "$m" "$t"
it_wait_for "an INBOUND for another shard is dropped with a warning" 5 \
    grep -q "\"ev\":\"inbound.wrong_shard\".*\"conv\":${theirs[0]}," "$IT_TMP/shard1.jsonl"
it_stop "$SCHED_PID" TERM
it_check_eq "sharded scheduler exits 0 on SIGTERM" 0 "$IT_RC"
it_finish
