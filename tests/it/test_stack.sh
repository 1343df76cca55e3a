#!/usr/bin/env bash
# scripts/stack: up starts every tier healthy with its own log and pid file, a tier killed with SIGKILL is
# restarted by its supervisor while the others keep running, down stops everything.
source "$(dirname "$0")/lib.sh"
it_db_create || it_finish
export LULL_VAR_DIR=$IT_TMP/var LULL_WORKERS=2
base=$(it_free_port)
while [ "$base" -gt 60000 ]; do base=$(it_free_port); done
for off in 1 3 11 12; do
    (exec 3<>/dev/tcp/127.0.0.1/$((base + off))) 2>/dev/null && { base=$(it_free_port); }
done
export LULL_STACK_OPS_BASE=$base
export LULL_SCHEDULERS="tcp://127.0.0.1:$(it_free_port)" LULL_SCHED_WORKER_BIND="tcp://127.0.0.1:$(it_free_port)"
export LULL_SCHED_INBOUND_BIND=$LULL_SCHEDULERS LULL_WORKER_SCHEDULERS=$LULL_SCHED_WORKER_BIND
export LULL_SENDER_BIND="tcp://127.0.0.1:$(it_free_port)" LULL_SCHED_CONTROL_BIND="tcp://127.0.0.1:$(it_free_port)"
export LULL_SENDERS=$LULL_SENDER_BIND LULL_SCHEDULER_CONTROLS=$LULL_SCHED_CONTROL_BIND
export LULL_HTTP_PORT=$(it_free_port) LULL_DEV_ALLOW_UNSIGNED=1 LULL_WINDOW_MS=250 LULL_MAX_WAIT_MS=1000

stack=$LULL_ROOT/scripts/stack
down() { "$stack" down >/dev/null 2>&1; }
trap 'down; it_cleanup' EXIT

it_check "stack up: every tier healthy" "$stack" up
status=$("$stack" status)
for tier in scheduler worker-1 worker-2 sender ingress; do
    it_check_match "$tier is ok in status" "$tier +[0-9]+ +[0-9]+ +\{\"status\":\"ok\"" "$status"
    it_check "$tier has its own log" test -s "$LULL_VAR_DIR/log/$tier.log"
done
it_check_eq "LULL_WINDOW_MS became the default tenant's window" "250|1000" \
    "$(it_sql "SELECT window_ms || '|' || max_wait_ms FROM tenants WHERE slug = 'default'")"

old=$(cat "$LULL_VAR_DIR/run/worker-1.pid")
sched=$(cat "$LULL_VAR_DIR/run/scheduler.pid")
kill -KILL "$old"
restarted() { local p; p=$(cat "$LULL_VAR_DIR/run/worker-1.pid" 2>/dev/null) && [ "$p" != "$old" ] &&
    curl -fsS "http://127.0.0.1:$((base + 11))/health" >/dev/null; }
it_wait_for "worker-1 restarted after SIGKILL" 10 restarted && echo "PASS worker-1 restarted after SIGKILL"
it_check_eq "the scheduler kept running" "$sched" "$(cat "$LULL_VAR_DIR/run/scheduler.pid")"
it_check_match "the restart is logged" '"ev":"tier.exited"' "$(cat "$LULL_VAR_DIR/log/worker-1.log")"

pids=$(cat "$LULL_VAR_DIR"/run/*.pid)
"$stack" down >/dev/null
gone() { local p; for p in $pids; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
it_wait_for "every tier stopped" 10 gone && echo "PASS down stops every tier"
for tier in scheduler worker-1 worker-2 sender ingress; do
    it_check_match "$tier logged an orderly stop" '"ev":"stop"' "$(tail -3 "$LULL_VAR_DIR/log/$tier.log")"
done
it_finish
