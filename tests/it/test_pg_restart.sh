#!/usr/bin/env bash
# PostgreSQL restarts under traffic: the whole stack (ingress, scheduler, worker, sender, admin, with the fake LLM
# and channel servers) on a cluster of the test's own; client lanes post bursts (each message until acknowledged)
# while the cluster is restarted, once with pg_ctl restart -m fast and once with -m immediate (a crash: no
# shutdown checkpoint, every connection cut). Every tier reconnects by itself (its /health is ok again, the
# console reads, new conversations are answered), and the ledger holds: nothing acknowledged is lost, nothing
# is answered or delivered twice, nothing unexpected is delivered.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/e2e_lib.sh"
source "$(dirname "$0")/crash_lib.sh"
source "$(dirname "$0")/pg_lib.sh"
CONVS=${PG_RESTART_CONVS:-40}
LANES=${PG_RESTART_LANES:-4}

pg_new main || it_finish
pg_createdb main || it_finish
LULL_DATABASE_URL=$(pg_url main)
export LULL_DATABASE_URL
it_sql "UPDATE tenants SET window_ms = 200, max_wait_ms = 2000 WHERE slug = 'default'" >/dev/null
e2e_start LULL_LOG_LEVEL=info LULL_SCHED_SWEEP_MS=500 LULL_SCHED_RETRY_BASE_MS=200 LULL_SCHED_RETRY_MAX_MS=1000 \
    LULL_SENDER_TIMEOUT_MS=2000 LULL_SENDER_LEASE_MS=3000 LULL_WEBHOOK_UNSIGNED_RATE=0 || it_finish

for mode in fast immediate; do
    before=$PG_TOTAL
    pg_traffic_start "$mode" "$CONVS" "$LANES"
    it_wait_for "a third of the $mode phase acknowledged" 30 pg_acked_ge $((before + (PG_TOTAL - before) / 3))
    t0=$(date +%s%N)
    it_check "pg_ctl restart -m $mode" pg_ctl_do main restart -m "$mode" -w -t 30
    echo "restarted ($mode) in $(( ($(date +%s%N) - t0) / 1000000 )) ms, $(cat "$IT_TMP"/ack.* | wc -l) acknowledged"
    pg_traffic_wait
    it_wait_for "every tier healthy after the $mode restart" 20 pg_tiers_healthy
    it_wait_for "the console reads the database after the $mode restart" 20 pg_admin_reads
    it_wait_for "the $mode phase answered and delivered" 60 pg_all_done
done
# work flows after both restarts: a new conversation is answered
before=$(e2e_delivered)
LANE_DEADLINE=$(( $(date +%s) + 20 ))
ACK_FILE=$IT_TMP/ack.after RETRY_FILE=$IT_TMP/retry.after crash_post after-restarts after-m1
PG_TOTAL=$((PG_TOTAL + 1)); PG_CONVS=$((PG_CONVS + 1))
it_wait_for "a message after the restarts is answered" 20 e2e_delivered_ge $((before + 1))

pg_ledger restart
it_check "ingress saw the database go away (503 to a client)" grep -q ' 503$' <(cat "$IT_TMP"/retry.*)
for t in scheduler worker sender ingress admin; do
    it_check "$t logged a lost or failed database connection" \
        grep -qE '"ev":"db\.(connection_lost|connect_failed|notice)"' "$IT_TMP/$t.jsonl"
done
pg_stop_tiers
it_finish
