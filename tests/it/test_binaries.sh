#!/usr/bin/env bash
# Each binary: --help, a bad setting exits 78, starts against a fresh migrated database, serves /health and
# /metrics on its ops port, logs JSON lines with its effective configuration (secrets masked), exits 0 on
# SIGTERM; refuses a database whose schema is at another version.
source "$(dirname "$0")/lib.sh"
it_db_create || it_finish

for tier in ingress admin scheduler worker sender; do
    bin=$LULL_BIN/lull-$tier
    it_check "$tier --help exits 0" "$bin" --help
    it_check_match "$tier --help lists LULL_DATABASE_URL" "LULL_DATABASE_URL" "$("$bin" --help)"
    LULL_OPS_PORT=notaport "$bin" 2>"$IT_TMP/$tier.err"; rc=$?
    it_check_eq "$tier bad setting exits 78" 78 "$rc"
    it_check_match "$tier bad setting names it" "LULL_OPS_PORT" "$(cat "$IT_TMP/$tier.err")"
    "$bin" --bogus 2>/dev/null; it_check_eq "$tier unknown argument exits 64" 64 "$?"

    port=$(it_free_port)
    # Every ZeroMQ endpoint gets a private port so tiers of parallel tests never collide.
    zp1=$(it_free_port); zp2=$(it_free_port); zp3=$(it_free_port)
    it_start "$tier" env LULL_OPS_PORT="$port" LULL_LOG_FILE="$IT_TMP/$tier.jsonl" LULL_TEST_SECRET=x \
        LULL_SCHEDULERS="tcp://127.0.0.1:$zp1" LULL_SCHED_INBOUND_BIND="tcp://127.0.0.1:$zp1" \
        LULL_SCHED_WORKER_BIND="tcp://127.0.0.1:$zp2" LULL_WORKER_SCHEDULERS="tcp://127.0.0.1:$zp2" \
        LULL_SENDER_BIND="tcp://127.0.0.1:$zp3" LULL_SENDERS="tcp://127.0.0.1:$zp3" \
        LULL_SCHED_CONTROL_BIND="tcp://127.0.0.1:$(it_free_port)" \
        LULL_HTTP_PORT="$(it_free_port)" LULL_ADMIN_PORT="$(it_free_port)" LULL_DEV_ALLOW_UNSIGNED=1 \
        LULL_DATABASE_URL="${LULL_DATABASE_URL/lull@/lull:s3cret@}" "$bin"
    pid=$IT_LAST_PID
    it_wait_for "$tier /health" 10 it_http_ok "http://127.0.0.1:$port/health" || { cat "$IT_TMP/$tier.log"; continue; }
    health=$(curl -s "http://127.0.0.1:$port/health")
    it_check_match "$tier /health says ok with a db check" '"status":"ok".*"db":\{"ok":true' "$health"
    it_check_match "$tier /health names the process" "\"proc\":\"$tier\"" "$health"
    metrics=$(curl -s -D "$IT_TMP/$tier.hdr" "http://127.0.0.1:$port/metrics")
    it_check_match "$tier /metrics is Prometheus text" 'text/plain; version=0.0.4' "$(cat "$IT_TMP/$tier.hdr")"
    it_check_match "$tier /metrics has HELP/TYPE lines or is empty" '^(# HELP|$)' "$metrics"
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")
    it_check_eq "$tier ops unknown path is 404" 404 "$code"
    it_stop "$pid" TERM
    it_check_eq "$tier exits 0 on SIGTERM" 0 "$IT_RC"
    log=$(cat "$IT_TMP/$tier.jsonl")
    it_check_match "$tier logs its effective configuration" '"ev":"config"' "$log"
    it_check_match "$tier masks the database password" 'lull:\*\*\*@' "$log"
    if grep -q 's3cret' "$IT_TMP/$tier.jsonl"; then it_fail "$tier log leaks the database password"; fi
    it_check_match "$tier logs an orderly stop" '"ev":"stop".*"exit_code":0' "$log"
    if jq -e . "$IT_TMP/$tier.jsonl" >/dev/null 2>&1; then echo "PASS $tier log is JSON lines"; else it_fail "$tier log is JSON lines"; fi
done

# A schema at another version is refused with a clear message.
it_sql "INSERT INTO schema_migrations(version, name) VALUES (9999, 'from the future')" >/dev/null
# through it_start, so its output is in the end-of-run check that every log line is JSON
it_start future env LULL_OPS_PORT=0 "$LULL_BIN/lull-worker"
wait "$IT_LAST_PID"; rc=$?
it_check_eq "worker refuses a schema two or more versions newer (exit 78)" 78 "$rc"
it_check_match "and says why" 'schema is two or more versions newer than this build: upgrade the binaries' "$(cat "$IT_TMP/future.log")"

it_finish
