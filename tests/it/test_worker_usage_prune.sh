#!/usr/bin/env bash
# The worker deletes the rows of usage_tenant_day older than LULL_USAGE_DAYS_KEEP days (the running total is
# read for today only; usage keeps the history): in batches of LULL_USAGE_PRUNE_BATCH rows, a full batch
# followed by the next one; rows of the kept days stay, the day's limit still reads today's total.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/worker_env.sh"
w_setup

it_sql "INSERT INTO tenants (id, slug) VALUES (2, 't2')" >/dev/null
# 2 tenants × 3 backends × days 0..45 ago and a year ago: kept are the days 0..35 ago (35 = the limit)
it_sql "INSERT INTO usage_tenant_day (tenant_id, day, backend, requests)
        SELECT t, current_date - d, b, 1 FROM generate_series(1, 2) t, generate_series(1, 3) b,
          (SELECT generate_series(0, 45) AS d UNION ALL SELECT 365) days" >/dev/null
old=$(it_sql "SELECT count(*) FROM usage_tenant_day WHERE day < current_date - 35")
kept=$(it_sql "SELECT count(*) FROM usage_tenant_day WHERE day >= current_date - 35")
it_check_eq "old rows written (days 36..45 and 365 ago)" 66 "$old"

w_worker LULL_USAGE_DAYS_KEEP=35 LULL_USAGE_PRUNE_MS=200 LULL_USAGE_PRUNE_BATCH=7
it_wait_for "the old rows are deleted" 10 \
    sh -c "[ \"\$(psql '$LULL_DATABASE_URL' -XAtc 'SELECT count(*) FROM usage_tenant_day WHERE day < current_date - 35')\" = 0 ]"
it_check_eq "the kept days are all there" "$kept" \
    "$(it_sql "SELECT count(*) FROM usage_tenant_day WHERE day >= current_date - 35")"
it_check_eq "day 35 ago is kept, day 36 ago is not" "35" \
    "$(it_sql "SELECT current_date - min(day) FROM usage_tenant_day")"
it_wait_for "the pass is logged" 5 grep -q '"ev":"usage.pruned"' "$IT_TMP/worker.jsonl"
it_check_eq "the passes logged every deleted row" "$old" \
    "$(grep '"ev":"usage.pruned"' "$IT_TMP/worker.jsonl" | jq -s 'map(.rows) | add')"
it_check_eq "the metric counts them" "lull_worker_usage_pruned_total $old" \
    "$(curl -s "http://127.0.0.1:$W_OPS_PORT/metrics" | grep '^lull_worker_usage_pruned_total ')"
it_check_eq "66 rows in batches of 7: 10 batches, the first full batch followed at once (one pass)" 1 \
    "$(grep -c '"ev":"usage.pruned"' "$IT_TMP/worker.jsonl")"

# a row of an old day written later (a correction of an old usage row by hand: the trigger writes that day's
# total) goes at a following pass
it_sql "INSERT INTO usage (tenant_id, contact_id, provider, model, requests, day)
        VALUES (1, 0, 'openai', 'by-hand', 4, current_date - 50)" >/dev/null
it_wait_for "and a following pass deletes it (the metric counts one more row)" 10 \
    sh -c "curl -s 'http://127.0.0.1:$W_OPS_PORT/metrics' | grep -qx 'lull_worker_usage_pruned_total $((old + 1))'"
it_check_eq "no old row is left" 0 "$(it_sql "SELECT count(*) FROM usage_tenant_day WHERE day < current_date - 35")"
it_check_eq "usage keeps the history" 1 "$(it_sql "SELECT count(*) FROM usage WHERE day = current_date - 50")"

# the day's limit still reads today's total (3 rows of 1 request: a limit of 3 is reached)
it_sql "UPDATE tenants SET daily_limit_tenant = 3 WHERE id = 1" >/dev/null
w_conv sms +15557000001 "hello"
w_job "$CONV" 0 "$UPTO"
it_wait_for "DONE" 10 bash -c "grep -q '\"conv\":$CONV,' '$W_SCHED_LOG'"
it_check_match "today's rows count against the limit" 'failed_permanent.*daily limit \(tenant\)' \
    "$(grep "\"conv\":$CONV," "$W_SCHED_LOG" | tail -1 | jq -r '.outcome + " " + .detail')"
it_check "no crash" kill -0 "$W_WORKER_PID"
it_finish
