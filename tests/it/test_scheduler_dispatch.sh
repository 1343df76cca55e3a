#!/usr/bin/env bash
# lull-scheduler with fake workers: a window waits, resets and dispatches once; credit 1 serialises jobs;
# JOB carries expected_upto/upto/attempt; list/cancel/flush over the control socket; the sweep finds a
# conversation whose INBOUND was never sent; a retryable failure comes back with attempt 2.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scheduler_lib.sh"
it_db_create || it_finish

fast=$(sched_tenant fast 150 400)
slow=$(sched_tenant slow 60000 120000)
sched_start sched

# --- a window waits, resets on a new message, then one job answers the burst ------------------------
c1=$(sched_conv "$fast" sms)
m1=$(sched_msg "$c1"); sched_inbound "$c1" "$m1" "$fast" sms
m2=$(sched_msg "$c1"); sched_inbound "$c1" "$m2" "$fast" sms
sched_inbound "$c1" "$m1" "$fast" sms   # a late duplicate changes nothing
it_wait_for "window listed with 2 messages" 5 sh -c "'$SCHED_CTL' '$SCHED_CT' list | grep -q '\"messages\":2'"
list=$("$SCHED_CTL" "$SCHED_CT" list)
it_check_match "list shows the waiting window" "\"conversation_id\":$c1,\"tenant_id\":$fast,\"channel\":\"sms\",\"messages\":2,\"seconds_left\":[0-9.]+,\"state\":\"(waiting|ready)\"" "$list"
it_check_match "list has a total" '"total":1' "$list"

# three more conversations; a worker with credit 1 takes them one at a time
c2=$(sched_conv "$fast"); c3=$(sched_conv "$fast")
for c in "$c2" "$c3"; do m=$(sched_msg "$c"); sched_inbound "$c" "$m" "$fast"; done
worker_start w1 --credit 1 --work-ms 60 --commit
W1=$IT_TMP/w1.log
it_wait_for "3 conversations answered" 10 sh -c "[ \$(grep -c '\"ev\":\"done\"' '$W1') -ge 3 ]"
it_check_eq "c1 dispatched once" 1 "$(jobs "$W1" "$c1")"
it_check_eq "c2 dispatched once" 1 "$(jobs "$W1" "$c2")"
it_check_eq "c3 dispatched once" 1 "$(jobs "$W1" "$c3")"
it_check_match "c1's job answers up to its newest message from 0, attempt 1" \
    "\"conversation_id\":$c1,\"tenant_id\":$fast,\"expected_upto\":0,\"upto\":$m2,\"attempt\":1" "$(grep '"ev":"job"' "$W1")"
seq=$(grep -o '"ev":"[a-z]*"' "$W1" | grep -v ready | tr -d '\n')
it_check_eq "credit 1: one job at a time (job, done, job, done, job, done)" \
    '"ev":"job""ev":"done""ev":"job""ev":"done""ev":"job""ev":"done"' "$seq"
it_check "c1 answered in the database" answered "$c1"
it_check_match "a log line per dispatch names conv, job, worker, attempt" \
    "\"ev\":\"dispatch\".*\"conv\":$c1,\"job\":[0-9]+,\"worker\":\"w1\",\"attempt\":1" "$(cat "$IT_TMP/sched.jsonl")"
# c1's story at info level: one window.opened (not again on the reset nor on the duplicate), dispatch, done
it_wait_for "c1's DONE logged" 5 grep -q "\"ev\":\"done\".*\"conv\":$c1," "$IT_TMP/sched.jsonl"
it_check_eq "c1's log lines: window.opened, dispatch, done" '"ev":"window.opened""ev":"dispatch""ev":"done"' \
    "$(grep "\"conv\":$c1," "$IT_TMP/sched.jsonl" | grep -o '"ev":"[a-z._]*"' | tr -d '\n')"
it_check_match "window.opened names the tenant, channel and window lengths" \
    "\"ev\":\"window.opened\"[^}]*\"conv\":$c1,\"tenant\":$fast,\"channel\":\"sms\",\"window_ms\":150,\"max_wait_ms\":400," \
    "$(cat "$IT_TMP/sched.jsonl")"
it_check_match "done names conv, job, outcome, attempt" \
    "\"ev\":\"done\"[^}]*\"conv\":$c1,\"job\":[0-9]+,\"worker\":\"w1\",\"outcome\":\"replied\",\"attempt\":1" \
    "$(cat "$IT_TMP/sched.jsonl")"

# --- control: cancel and flush --------------------------------------------------------------------
s1=$(sched_conv "$slow"); s2=$(sched_conv "$slow")
sm1=$(sched_msg "$s1"); sched_inbound "$s1" "$sm1" "$slow"
sm2=$(sched_msg "$s2"); sched_inbound "$s2" "$sm2" "$slow"
it_wait_for "two slow windows listed" 5 sh -c "'$SCHED_CTL' '$SCHED_CT' list | grep -q '\"total\":2'"
it_check_match "a REQ client (empty delimiter frame) gets the same answer" '"total":2' "$("$SCHED_CTL" --req "$SCHED_CT" list 2>/dev/null)"
it_check_match "list limit bounds the rows: the smallest id first, more to come" \
    "^\\{\"windows\":\\[\\{\"conversation_id\":$s1,[^]]*\\}\\],\"total\":2,\"more\":true\\}\$" "$("$SCHED_CTL" "$SCHED_CT" list 1)"
it_check_match "list after the first id: the second, no more" \
    "^\\{\"windows\":\\[\\{\"conversation_id\":$s2,[^]]*\\}\\],\"total\":2,\"more\":false\\}\$" "$("$SCHED_CTL" "$SCHED_CT" list 1 "$s1")"
out=$("$SCHED_CTL" "$SCHED_CT" cancel "$s1" 2>/dev/null); rc=$?
it_check_eq "cancel answers 200" 0 "$rc"
it_check_match "cancel names the burst" "\"cancelled\":$s1,\"upto\":$sm1" "$out"
it_check_eq "cancel recorded cancelled_upto" "$sm1" "$(it_sql "SELECT cancelled_upto FROM conversations WHERE id = $s1")"
"$SCHED_CTL" "$SCHED_CT" cancel "$s1" >/dev/null 2>&1; it_check_eq "cancel again is 404" 4 "$?"
"$SCHED_CTL" "$SCHED_CT" flush 999999 >/dev/null 2>&1; it_check_eq "flush of an unknown window is 404" 4 "$?"
out=$("$SCHED_CTL" "$SCHED_CT" flush "$s2" 2>/dev/null); rc=$?
it_check_eq "flush answers 200" 0 "$rc"
it_wait_for "flushed window dispatched at once" 5 sh -c "grep -q '\"conversation_id\":$s2,' '$W1'"
it_wait_for "flushed conversation answered" 5 answered "$s2"

# --- the sweep finds a conversation whose INBOUND was lost -------------------------------------------
c4=$(sched_conv "$fast"); sched_msg "$c4" >/dev/null
it_wait_for "sweep dispatches the conversation no INBOUND announced" 10 sh -c "grep -q '\"conversation_id\":$c4,' '$W1'"
it_wait_for "swept conversation answered" 5 answered "$c4"
it_check_eq "the cancelled burst is not resurrected by the sweep" 0 "$(jobs "$W1" "$s1")"
it_check_eq "swept conversation dispatched once" 1 "$(jobs "$W1" "$c4")"
it_check_match "the sweep's window is logged as opened by the sweep" \
    "\"ev\":\"window.opened\"[^}]*\"conv\":$c4,\"tenant\":$fast,[^}]*\"source\":\"sweep\"" "$(cat "$IT_TMP/sched.jsonl")"
# a tenant created after the start: the sweep loads its settings (not the 30 s default window)
late=$(sched_tenant late 100 300)
c4b=$(sched_conv "$late"); sched_msg "$c4b" >/dev/null
it_wait_for "swept conversation of a new tenant answered on its own window" 8 answered "$c4b"

it_stop "$WORKER_PID" KILL

# --- a message during a running job opens the next window, answered by a second job after DONE ---------
# the job works 4 s: the in_flight state below must be seen while it runs, also on a loaded machine
worker_start w3 --credit 1 --work-ms 4000 --commit
W3=$IT_TMP/w3.log
c6=$(sched_conv "$fast"); m6=$(sched_msg "$c6"); sched_inbound "$c6" "$m6" "$fast"
it_wait_for "first job of c6" 5 grep -q "\"conversation_id\":$c6," "$W3"
m7=$(sched_msg "$c6"); sched_inbound "$c6" "$m7" "$fast"
it_wait_for "next window due while the job runs (in_flight)" 5 sh -c \
    "'$SCHED_CTL' '$SCHED_CT' list | grep -q '\"conversation_id\":$c6,[^}]*\"messages\":1,[^}]*\"state\":\"in_flight\"'"
it_wait_for "second job of c6 after the first DONE" 10 sh -c "[ \$(grep '\"ev\":\"job\"' '$W3' | grep -c '\"conversation_id\":$c6,') -ge 2 ]"
it_wait_for "c6 answered" 10 answered "$c6"
it_check_match "the first reply was superseded" "\"conversation_id\":$c6,\"outcome\":\"superseded\"" "$(grep '"ev":"done"' "$W3")"
it_check_match "the second job answers the whole burst" "\"conversation_id\":$c6,\"tenant_id\":$fast,\"expected_upto\":0,\"upto\":$m7,\"attempt\":1" "$(grep '"ev":"job"' "$W3")"
it_check_eq "c6 dispatched exactly twice" 2 "$(jobs "$W3" "$c6")"

# --- paused: deferred until paused_until; escalated: skipped ------------------------------------------
# (the pause outlasts the 150 ms window by far, so that it still holds at dispatch on a slow, loaded machine)
c7=$(sched_conv "$fast"); it_sql "UPDATE conversations SET paused_until = now() + interval '2 s' WHERE id = $c7" >/dev/null
m=$(sched_msg "$c7"); sched_inbound "$c7" "$m" "$fast"
c8=$(sched_conv "$fast"); it_sql "UPDATE conversations SET status = 'escalated' WHERE id = $c8" >/dev/null
m=$(sched_msg "$c8"); sched_inbound "$c8" "$m" "$fast"
it_wait_for "paused conversation dispatched once the pause ends" 8 grep -q "\"conversation_id\":$c7," "$W3"
it_check_match "the pause was logged" "\"ev\":\"dispatch.paused\".*\"conv\":$c7" "$(cat "$IT_TMP/sched.jsonl")"
it_wait_for "escalated conversation skipped" 5 sh -c \
    "curl -s http://127.0.0.1:$SCHED_OPS/metrics | grep -q '^lull_sched_jobs_skipped_total [1-9]'"
it_check_eq "escalated conversation never dispatched" 0 "$(jobs "$W3" "$c8")"
it_stop "$WORKER_PID" KILL

# --- back-pressure: DONE with backoff_until holds the worker's next job until then ----------------------
worker_start w4 --credit 1 --backoff-ms 300 --commit
c9=$(sched_conv "$fast"); c10=$(sched_conv "$fast")
for c in "$c9" "$c10"; do m=$(sched_msg "$c"); sched_inbound "$c" "$m" "$fast"; done
it_wait_for "both answered despite back-pressure" 10 sh -c "psql '$LULL_DATABASE_URL' -XAtc \
    'SELECT count(*) FROM conversations WHERE id IN ($c9, $c10) AND answered_upto = last_inbound_id' | grep -qx 2"
log=$(grep -n '"ev":"worker.backoff"\|"ev":"dispatch".*"worker":"w4"' "$IT_TMP/sched.jsonl" | cut -d: -f1 | tr '\n' ' ')
first_backoff=$(grep -n '"ev":"worker.backoff"' "$IT_TMP/sched.jsonl" | head -1 | cut -d: -f1)
second_dispatch=$(grep -n '"ev":"dispatch".*"worker":"w4"' "$IT_TMP/sched.jsonl" | sed -n 2p | cut -d: -f1)
it_check "back-pressure is reported before the worker's second job ($log)" test "${first_backoff:-999999}" -lt "${second_dispatch:-0}"

# --- per-channel windows: the INBOUND's channel selects the tenant's override ----------------------------
chan=$(sched_tenant chan 60000 120000 '{"tiktok":{"window_ms":100,"max_wait_ms":1000}}')
ct=$(sched_conv "$chan" tiktok); cs=$(sched_conv "$chan" sms)
m=$(sched_msg "$ct"); sched_inbound "$ct" "$m" "$chan" tiktok
m=$(sched_msg "$cs"); sched_inbound "$cs" "$m" "$chan" sms
it_wait_for "the tiktok conversation (100 ms override) is answered" 10 answered "$ct"
it_check_match "the sms conversation still waits on the tenant's 60 s window" \
    "\"conversation_id\":$cs,\"tenant_id\":$chan,\"channel\":\"sms\",\"messages\":1,\"seconds_left\":[1-5][0-9](\.[0-9]+)?,\"state\":\"waiting\"" \
    "$("$SCHED_CTL" "$SCHED_CT" list 2>/dev/null)"
it_stop "$WORKER_PID" KILL

# --- a retryable failure comes back with attempt 2 (after a worker that only fails) -------------------
worker_start w2 --credit 1 --outcome retryable --retry-after-ms 30
W2=$IT_TMP/w2.log
c5=$(sched_conv "$fast"); m5=$(sched_msg "$c5"); sched_inbound "$c5" "$m5" "$fast"
it_wait_for "retried with attempt 2" 10 grep -q "\"conversation_id\":$c5,.*\"attempt\":2" "$W2"
it_stop "$WORKER_PID" KILL

# --- a permanent failure: the burst gets no reply (cancelled_upto), so the sweep does not bring it back ---
worker_start w5 --credit 1 --outcome permanent
c11=$(sched_conv "$fast"); m11=$(sched_msg "$c11"); sched_inbound "$c11" "$m11" "$fast"
it_wait_for "permanent failure recorded as cancelled_upto" 5 sh -c \
    "psql '$LULL_DATABASE_URL' -XAtc 'SELECT cancelled_upto FROM conversations WHERE id = $c11' | grep -qx $m11"
it_check_match "and logged" "\"ev\":\"job.given_up\".*\"conv\":$c11" "$(cat "$IT_TMP/sched.jsonl")"
metrics=$(curl -s "http://127.0.0.1:$SCHED_OPS/metrics")
it_check_match "metrics count dispatched jobs" 'lull_sched_jobs_dispatched_total [1-9]' "$metrics"
it_check_match "metrics have the fire lateness histogram" 'lull_sched_fire_lateness_seconds_count [1-9]' "$metrics"
it_check_match "metrics count resets" 'lull_sched_windows_reset_total [1-9]' "$metrics"
it_stop "$WORKER_PID" KILL

it_stop "$SCHED_PID" TERM
it_check_eq "scheduler exits 0 on SIGTERM" 0 "$IT_RC"
it_finish
