#!/usr/bin/env bash
# scripts/demo against `scripts/stack up` in fakes mode (LULL_STACK_FAKES=1, seeds applied, short windows):
# the burst, the lone message, the inventory answer, the escalation and the analyses; its exit status and
# key lines are asserted, and a demo run against a stack that is not running fails clearly.
source "$(dirname "$0")/lib.sh"
it_db_create || it_finish
export LULL_VAR_DIR=$IT_TMP/var LULL_WORKERS=1
base=$(it_free_port_block 40)  # the stack's ops ports are base + offsets
export LULL_STACK_OPS_BASE=$base LULL_FAKES
export LULL_SCHEDULERS="tcp://127.0.0.1:$(it_free_port)" LULL_SCHED_WORKER_BIND="tcp://127.0.0.1:$(it_free_port)"
export LULL_SCHED_INBOUND_BIND=$LULL_SCHEDULERS LULL_WORKER_SCHEDULERS=$LULL_SCHED_WORKER_BIND
export LULL_SENDER_BIND="tcp://127.0.0.1:$(it_free_port)" LULL_SCHED_CONTROL_BIND="tcp://127.0.0.1:$(it_free_port)"
export LULL_SENDERS=$LULL_SENDER_BIND LULL_SCHEDULER_CONTROLS=$LULL_SCHED_CONTROL_BIND
export LULL_HTTP_PORT=$(it_free_port) LULL_WINDOW_MS=1000 LULL_MAX_WAIT_MS=4000 LULL_HEARTBEAT_MS=200 LULL_SENDER_POLL_MS=200
export LULL_STACK_FAKES=1 LULL_STACK_SEED=1 LULL_DEMO_TIMEOUT_S=30
unset OPENAI_API_KEY ANTHROPIC_API_KEY GEMINI_API_KEY OPENAI_BASE_URL

out=$("$LULL_ROOT/scripts/demo" 2>&1)
it_check_eq "demo without a stack: exit 2" 2 "$?"
it_check_match "demo without a stack: says to start it" 'start the stack first' "$out"

stack=$LULL_ROOT/scripts/stack
trap '"$stack" down >/dev/null 2>&1; it_cleanup' EXIT
it_check "stack up in fakes mode" "$stack" up
it_check_eq "seed: the sample inventory" 6 "$(it_sql "SELECT count(*) FROM inventory")"
it_check_eq "seed: the sample prompt is the tenant's" "t" \
    "$(it_sql "SELECT prompt_id IS NOT NULL AND escalation_keywords @> '{manager}' FROM tenants WHERE slug = 'default'")"
it_check_eq "LULL_WINDOW_MS wins over the seed's 30 s" 1000 "$(it_sql "SELECT window_ms FROM tenants WHERE slug = 'default'")"

out=$("$LULL_ROOT/scripts/demo" 2>&1)
rc=$?
echo "$out" >"$IT_TMP/demo.out"
it_check_eq "demo exits 0 (output: $IT_TMP/demo.out)" 0 "$rc"
for line in 'ok    ana: 3 messages -> 1 reply' 'ok    ana: the reply covers all three messages' \
            'ok    ben: 1 message -> 1 reply' "ok    cleo: the reply offers 'Blue rain jacket' from the inventory" \
            'ok    cleo: nothing sold or reserved is offered' 'ok    dan: conversation escalated' \
            'ok    dan: no bot reply' 'demo: all checks passed'; do
    it_check "demo prints: $line" grep -qF -- "$line" "$IT_TMP/demo.out"
done
it_check_match "demo prints the analyses" 'ok +ana +sentiment [a-z]+, intent [a-z]+' "$out"
it_check_eq "the database agrees: one bot reply per answered session, none for the escalated one" "0,1,1,1" \
    "$(it_sql "SELECT string_agg(n::text, ',' ORDER BY n) FROM (SELECT count(m.id) FILTER (WHERE m.author = 'bot') n
               FROM conversations v LEFT JOIN messages m ON m.conversation_id = v.id WHERE v.channel = 'webchat'
               GROUP BY v.id) x")"
it_check "the replies went through the fake LLM" sh -c \
    "curl -s 'http://127.0.0.1:$((base + 20))/_fake/stats' | jq -e '[.. | numbers] | add > 0'"
"$stack" down >/dev/null
it_check "down stops the fakes too" sh -c "! curl -s --max-time 1 'http://127.0.0.1:$((base + 20))/_fake/stats'"
it_finish
