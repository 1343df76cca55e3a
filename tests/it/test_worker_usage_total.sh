#!/usr/bin/env bash
# The tenant's LLM requests of the day (usage_tenant_day, kept by a trigger on usage) against the sum of the
# usage rows after the worker's commits and after rows written, moved, deleted and truncated by hand; the
# tenant's daily limit read from it (rows written by hand count, a truncated usage table counts nothing).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/worker_env.sh"
w_setup
w_worker

# The per-(tenant, day) sums of usage and of usage_tenant_day, rows that differ (empty when equal).
totals_diff() {
    it_sql "(SELECT tenant_id, day, sum(requests) FROM usage GROUP BY 1, 2 HAVING sum(requests) <> 0
             EXCEPT SELECT tenant_id, day, sum(requests) FROM usage_tenant_day GROUP BY 1, 2 HAVING sum(requests) <> 0)
            UNION ALL
            (SELECT tenant_id, day, sum(requests) FROM usage_tenant_day GROUP BY 1, 2 HAVING sum(requests) <> 0
             EXCEPT SELECT tenant_id, day, sum(requests) FROM usage GROUP BY 1, 2 HAVING sum(requests) <> 0)"
}
tenant_total() { it_sql "SELECT coalesce(sum(requests), 0) FROM usage_tenant_day WHERE tenant_id = 1 AND day = current_date"; }

w_conv sms +15557000001 "hello, first"
w_job "$CONV" 0 "$UPTO"
it_check_eq "replied" replied "$(w_done "$CONV")"
w_conv sms +15557000002 "hello, second"
w_job "$CONV" 0 "$UPTO"
it_check_eq "second replied" replied "$(w_done "$CONV")"
it_check_eq "the worker's commits: the running total is the sum of usage" "" "$(totals_diff)"
it_check_eq "the worker's commits: two requests today" 2 "$(tenant_total)"

it_sql "INSERT INTO usage (tenant_id, contact_id, provider, model, requests) VALUES (1, 0, 'openai', 'by-hand', 5)" >/dev/null
it_check_eq "a row by hand counts" 7 "$(tenant_total)"
it_sql "UPDATE usage SET requests = requests + 3 WHERE model = 'by-hand'" >/dev/null
it_check_eq "an update by hand counts" 10 "$(tenant_total)"
it_sql "UPDATE usage SET day = current_date - 1 WHERE model = 'by-hand'" >/dev/null
it_check_eq "a row moved to another day leaves today's total" 2 "$(tenant_total)"
it_check_eq "and counts on that day" "" "$(totals_diff)"
it_sql "DELETE FROM usage WHERE model = 'by-hand'" >/dev/null
it_check_eq "a deleted row is taken off" "" "$(totals_diff)"

# --- the tenant's daily limit reads the running total
it_sql "INSERT INTO usage (tenant_id, contact_id, provider, model, requests) VALUES (1, 0, 'openai', 'by-hand', 8)" >/dev/null
it_sql "UPDATE tenants SET daily_limit_tenant = 10 WHERE id = 1" >/dev/null
before=$(w_ledger | jq length)
w_conv sms +15557000003 "hello, over the limit"
w_job "$CONV" 0 "$UPTO"
it_wait_for "DONE" 10 bash -c "grep -q '\"conv\":$CONV,' '$W_SCHED_LOG'"
it_check_match "tenant limit reached: failed_permanent" 'failed_permanent.*daily limit \(tenant\)' \
    "$(grep "\"conv\":$CONV," "$W_SCHED_LOG" | tail -1 | jq -r '.outcome + " " + .detail')"
it_check_eq "tenant limit reached: no LLM call, no reply" "$before|0" \
    "$(w_ledger | jq length)|$(it_sql "SELECT count(*) FROM outbox WHERE conversation_id = $CONV")"

it_sql "TRUNCATE usage" >/dev/null
it_check_eq "truncate: the running total is empty" 0 "$(it_sql "SELECT count(*) FROM usage_tenant_day")"
w_conv sms +15557000004 "hello, after the truncate"
w_job "$CONV" 0 "$UPTO"
it_check_eq "truncate: under the limit again, replied" replied "$(w_done "$CONV")"
it_check_eq "truncate: the running total is the sum of usage" "" "$(totals_diff)"

it_check "no crash" kill -0 "$W_WORKER_PID"
it_finish
