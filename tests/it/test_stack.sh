#!/usr/bin/env bash
# scripts/stack: up starts every tier healthy with its own log and pid file, a tier killed with SIGKILL is
# restarted by its supervisor while the others keep running, down stops everything. Fakes mode
# (LULL_STACK_FAKES=1): the fake LLM and channel server run under the same supervisor, the tiers point at them.
source "$(dirname "$0")/lib.sh"
it_db_create || it_finish
export LULL_VAR_DIR=$IT_TMP/var LULL_WORKERS=2
base=$(it_free_port_block 40)  # the stack's ops ports are base + offsets
export LULL_STACK_OPS_BASE=$base
export LULL_SCHEDULERS="tcp://127.0.0.1:$(it_free_port)" LULL_SCHED_WORKER_BIND="tcp://127.0.0.1:$(it_free_port)"
export LULL_SCHED_INBOUND_BIND=$LULL_SCHEDULERS LULL_WORKER_SCHEDULERS=$LULL_SCHED_WORKER_BIND
export LULL_SENDER_BIND="tcp://127.0.0.1:$(it_free_port)" LULL_SCHED_CONTROL_BIND="tcp://127.0.0.1:$(it_free_port)"
export LULL_SENDERS=$LULL_SENDER_BIND LULL_SCHEDULER_CONTROLS=$LULL_SCHED_CONTROL_BIND
export LULL_HTTP_PORT=$(it_free_port) LULL_ADMIN_PORT=$(it_free_port) LULL_ADMIN_TOKEN=stack-admin-token LULL_DEV_ALLOW_UNSIGNED=1 LULL_WINDOW_MS=250 LULL_MAX_WAIT_MS=1000

stack=$LULL_ROOT/scripts/stack
down() { "$stack" down >/dev/null 2>&1; }
trap 'down; it_cleanup' EXIT

it_check "stack up: every tier healthy" "$stack" up
status=$("$stack" status)
for tier in scheduler worker-1 worker-2 sender ingress admin; do
    it_check_match "$tier is ok in status" "$tier +[0-9]+ +[0-9]+ +\{\"status\":\"ok\"" "$status"
    it_check "$tier has its own log" test -s "$LULL_VAR_DIR/log/$tier.log"
done
it_check_eq "lull-admin serves the admin API on its own port" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer stack-admin-token' "http://127.0.0.1:$LULL_ADMIN_PORT/api/v1/health")"
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
for tier in scheduler worker-1 worker-2 sender ingress admin; do
    it_check_match "$tier logged an orderly stop" '"ev":"stop"' "$(tail -3 "$LULL_VAR_DIR/log/$tier.log")"
done

# --- fakes mode ------------------------------------------------------------------------------------
unset OPENAI_API_KEY OPENAI_BASE_URL LULL_CALLBACK_URL
export LULL_WORKERS=1
LULL_STACK_FAKES=1 "$stack" up >/dev/null
it_check_eq "fakes mode: up" 0 "$?"
status=$("$stack" status)   # without LULL_STACK_FAKES: the stack remembers it runs the fakes
for tier in fake-llm fake-channels scheduler worker-1 sender ingress admin; do
    it_check_match "fakes mode: $tier ok in status" "$tier +[0-9]+ +[0-9]+ +\{\"status\":\"ok\"" "$status"
done
wpid=$(cat "$LULL_VAR_DIR/run/worker-1.pid")
it_check_eq "fakes mode: the worker talks to the fake LLM" "OPENAI_BASE_URL=http://127.0.0.1:$((base + 20))/v1" \
    "$(tr '\0' '\n' <"/proc/$wpid/environ" | grep '^OPENAI_BASE_URL=')"
spid=$(cat "$LULL_VAR_DIR/run/sender.pid")
it_check_eq "fakes mode: the sender delivers to the fake channel server" "LULL_CALLBACK_URL=http://127.0.0.1:$((base + 21))/callback" \
    "$(tr '\0' '\n' <"/proc/$spid/environ" | grep '^LULL_CALLBACK_URL=')"
fpid=$(cat "$LULL_VAR_DIR/run/fake-llm.pid")
kill -KILL "$fpid"
frestarted() { local p; p=$(cat "$LULL_VAR_DIR/run/fake-llm.pid" 2>/dev/null) && [ "$p" != "$fpid" ] &&
    curl -fsS -o /dev/null "http://127.0.0.1:$((base + 20))/_fake/stats"; }
it_wait_for "the fake LLM is restarted by its supervisor" 10 frestarted && echo "PASS the fake LLM restarted after SIGKILL"
"$stack" down >/dev/null
fgone() { ! curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$((base + 20))/_fake/stats" &&
          ! curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$((base + 21))/_fake/ledger?summary=1"; }
it_wait_for "down stops the fakes" 10 fgone && echo "PASS down stops the fakes"
it_check "down forgets fakes mode" test ! -e "$LULL_VAR_DIR/run/fakes.on"
it_finish
