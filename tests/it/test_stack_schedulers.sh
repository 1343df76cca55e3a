#!/usr/bin/env bash
# scripts/stack with LULL_STACK_SCHEDULERS=3: three schedulers under the supervisor (scheduler-1..3, own pid
# files, own ports) share the partitions by lease 86/85/85, the workers connect to all of them, and webhooks
# of conversations in every scheduler's partitions are answered (ingress, the worker and lull-admin find the
# schedulers in the database: each INBOUND goes to its partition's owner). A scheduler killed with SIGKILL is restarted under its name and takes its share back.
source "$(dirname "$0")/lib.sh"
it_db_create || it_finish
export LULL_VAR_DIR=$IT_TMP/var LULL_WORKERS=1 LULL_STACK_SCHEDULERS=3
base=$(it_free_port_block 40)          # the stack's ops ports are base + 0 .. 33
export LULL_STACK_OPS_BASE=$base
sched_base=$(it_free_port_block 30)    # scheduler i binds sched_base + 10 (i-1) + 0 / 1 / 3
export LULL_SCHED_INBOUND_BIND="tcp://127.0.0.1:$sched_base" LULL_SCHED_WORKER_BIND="tcp://127.0.0.1:$((sched_base + 1))"
export LULL_SCHED_CONTROL_BIND="tcp://127.0.0.1:$((sched_base + 3))"
unset LULL_SCHEDULERS LULL_SCHEDULER_CONTROLS LULL_WORKER_SCHEDULERS  # ingress, workers, admin: found in the database
export LULL_SENDER_BIND="tcp://127.0.0.1:$(it_free_port)"
export LULL_SENDERS=$LULL_SENDER_BIND LULL_SCHED_LEASE_MS=600 LULL_SCHED_SWEEP_MS=200 LULL_SCHED_NAME_PREFIX=it-
export LULL_HTTP_PORT=$(it_free_port) LULL_ADMIN_PORT=$(it_free_port) LULL_ADMIN_TOKEN=stack-admin-token
export LULL_DEV_ALLOW_UNSIGNED=1 LULL_WINDOW_MS=100 LULL_MAX_WAIT_MS=500
unset OPENAI_API_KEY OPENAI_BASE_URL LULL_CALLBACK_URL LULL_WORKER_SCHEDULERS

stack=$LULL_ROOT/scripts/stack
down() { "$stack" down >/dev/null 2>&1; }
trap 'down; it_cleanup' EXIT

it_check "stack up with 3 schedulers (and the fakes): every tier healthy" env LULL_STACK_FAKES=1 "$stack" up
status=$("$stack" status)
for s in 1 2 3; do
    it_check_match "scheduler-$s is ok in status" "scheduler-$s +[0-9]+ +[0-9]+ +\{\"status\":\"ok\"" "$status"
    it_check "scheduler-$s has its pid file" test -s "$LULL_VAR_DIR/run/scheduler-$s.pid"
done
split() { it_sql "SELECT string_agg(n::text, ' ' ORDER BY owner) FROM (SELECT owner, count(*) n FROM sched_partitions
                  WHERE owner LIKE 'it-scheduler-%' AND lease_until > now() GROUP BY owner) s"; }
it_wait_for "the partitions split 86/85/85" 10 sh -c "[ \"\$(psql '$LULL_DATABASE_URL' -XAtc \"SELECT string_agg(n::text, ' ' ORDER BY owner) FROM (SELECT owner, count(*) n FROM sched_partitions WHERE owner LIKE 'it-scheduler-%' AND lease_until > now() GROUP BY owner) s\")\" = '86 85 85' ]"
it_check_eq "three schedulers hold 86/85/85" "86 85 85" "$(split)"
it_check_eq "each advertises its own worker endpoint" \
    "tcp://127.0.0.1:$((sched_base + 1)) tcp://127.0.0.1:$((sched_base + 11)) tcp://127.0.0.1:$((sched_base + 21))" \
    "$(it_sql "SELECT string_agg(worker_endpoint, ' ' ORDER BY name) FROM sched_nodes WHERE name LIKE 'it-scheduler-%'")"
for s in 1 2 3; do
    it_wait_for "the worker joined scheduler-$s" 10 grep -q '"ev":"worker.ready"' "$LULL_VAR_DIR/log/scheduler-$s.log"
done

# webhooks from 12 contacts: their conversations fall in every scheduler's partitions
for i in $(seq 1 12); do
    # conversation ids 23 apart: they fall in every scheduler's partitions
    it_sql "SELECT setval(pg_get_serial_sequence('conversations', 'id'), nextval(pg_get_serial_sequence('conversations', 'id')) + 22)" >/dev/null
    curl -fsS -o /dev/null -H 'Content-Type: application/json' \
        -d "{\"contact_id\":\"stack-sched-$i\",\"message\":{\"body\":\"hello $i\"}}" "http://127.0.0.1:$LULL_HTTP_PORT/webhook" ||
        it_fail "webhook $i"
done
it_wait_for "every conversation answered" 30 sh -c "[ \"\$(psql '$LULL_DATABASE_URL' -XAtc \"SELECT count(*) FROM conversations c JOIN contacts ct ON ct.id = c.contact_id WHERE ct.external_id LIKE 'stack-sched-%' AND c.answered_upto = c.last_inbound_id AND c.last_inbound_id > 0\")\" = 12 ]"
it_check_eq "answered by the three schedulers' partitions" 3 \
    "$(it_sql "SELECT count(DISTINCT p.owner) FROM conversations c JOIN contacts ct ON ct.id = c.contact_id
               JOIN sched_partitions p ON p.partition = c.partition WHERE ct.external_id LIKE 'stack-sched-%'")"
it_check_eq "one bot reply each" "12 12" \
    "$(it_sql "SELECT count(*) || ' ' || count(*) FILTER (WHERE n = 1) FROM (SELECT (SELECT count(*) FROM messages m
               WHERE m.conversation_id = c.id AND m.author = 'bot') n FROM conversations c JOIN contacts ct
               ON ct.id = c.contact_id WHERE ct.external_id LIKE 'stack-sched-%') s")"

# SIGKILL of scheduler-2: its supervisor restarts it under the same name; it takes its share back
old=$(cat "$LULL_VAR_DIR/run/scheduler-2.pid")
kill -KILL "$old"
restarted() { local p; p=$(cat "$LULL_VAR_DIR/run/scheduler-2.pid" 2>/dev/null) && [ "$p" != "$old" ] && kill -0 "$p"; }
it_wait_for "scheduler-2 restarted by its supervisor" 10 restarted
it_wait_for "the split is back to 86/85/85" 15 sh -c "[ \"\$(psql '$LULL_DATABASE_URL' -XAtc \"SELECT string_agg(n::text, ' ' ORDER BY owner) FROM (SELECT owner, count(*) n FROM sched_partitions WHERE owner LIKE 'it-scheduler-%' AND lease_until > now() GROUP BY owner) s\")\" = '86 85 85' ]"
it_check_eq "after the restart: 86/85/85" "86 85 85" "$(split)"

"$stack" down >/dev/null
it_check_eq "down: every scheduler released its partitions and left" "0 0" \
    "$(it_sql "SELECT (SELECT count(*) FROM sched_partitions WHERE owner IS NOT NULL) || ' ' || (SELECT count(*) FROM sched_nodes)")"
it_finish
