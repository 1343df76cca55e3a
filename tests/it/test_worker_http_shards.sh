#!/usr/bin/env bash
# A worker with a high concurrency spreads its LLM requests over several libcurl multi handles (one per
# 256 requests in flight): every job of a burst still gets its reply, analysis, outbox row and DONE, and
# a second burst reuses the keep-alive connections of every multi handle.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/worker_env.sh"
w_setup
w_worker LULL_WORKER_CONCURRENCY=300

it_check_eq "concurrency 300: three multi handles" 3 \
    "$(jq -r 'select(.ev == "jobs.http") | .multis' "$IT_TMP/worker.jsonl" 2>/dev/null | head -1)"

convs=()
for round in 1 2; do
    for i in 1 2 3 4 5 6 7; do
        w_conv sms "+1555300${round}00$i" "Hello number $i of round $round"
        convs+=("$CONV")
        w_job "$CONV" 0 "$UPTO"
    done
    for c in "${convs[@]}"; do w_done "$c" >/dev/null; done
done
replied=0
for c in "${convs[@]}"; do
    [ "$(grep "\"conv\":$c," "$W_SCHED_LOG" | tail -1 | jq -r .outcome)" = replied ] && replied=$((replied + 1))
done
it_check_eq "every job of both bursts replied" 14 "$replied"
in_list=$(IFS=,; echo "${convs[*]}")
it_check_eq "one reply, one outbox row and one analysis per job" "14|14|14" \
    "$(it_sql "SELECT (SELECT count(*) FROM messages WHERE author = 'bot' AND conversation_id IN ($in_list)),
                      (SELECT count(*) FROM outbox WHERE conversation_id IN ($in_list)),
                      (SELECT count(*) FROM analyses WHERE conversation_id IN ($in_list))")"
it_check_eq "one LLM request per job (reply and analysis combined)" 14 "$(w_ledger | jq '[.[] | select(.combined)] | length')"

it_stop "$W_WORKER_PID" TERM
it_check_eq "worker exits 0 on SIGTERM" 0 "$IT_RC"
it_finish
