# Helpers for the scheduler integration tests (sourced after lib.sh): tenants, conversations and inbound
# messages written with SQL as ingress would (docs/contracts.md), a scheduler on private ports, fake workers.
SCHED_CTL=$LULL_FAKES/sched_ctl
FAKE_WORKER=$LULL_FAKES/fake_worker
SCHED_IN="tcp://127.0.0.1:$(it_free_port)"
SCHED_WK="tcp://127.0.0.1:$(it_free_port)"
SCHED_CT="tcp://127.0.0.1:$(it_free_port)"
export LULL_HEARTBEAT_MS=${LULL_HEARTBEAT_MS:-100}

# sched_tenant SLUG WINDOW_MS MAX_WAIT_MS [CHANNEL_WINDOWS_JSON] : prints the tenant id.
sched_tenant() {
    it_sql "INSERT INTO tenants (slug, window_ms, max_wait_ms, channel_windows)
            VALUES ('$1', $2, $3, '${4:-{\}}'::jsonb) RETURNING id"
}
# sched_conv TENANT [CHANNEL] : a contact and its conversation; prints the conversation id.
sched_conv() {
    it_sql "WITH ct AS (INSERT INTO contacts (tenant_id, channel, external_id)
              VALUES ($1, '${2:-generic}', 'ext-' || md5(random()::text)) RETURNING id, tenant_id, channel)
            INSERT INTO conversations (tenant_id, contact_id, channel) SELECT tenant_id, id, channel FROM ct RETURNING id"
}
# sched_msg CONV : commits one inbound message as ingress does; prints its id.
sched_msg() {
    it_sql "WITH m AS (INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, body)
              SELECT id, tenant_id, channel, 'in', 'contact', 'hi' FROM conversations WHERE id = $1
              RETURNING id, conversation_id)
            UPDATE conversations c SET last_inbound_id = m.id, last_inbound_at = now(),
              first_unanswered_at = coalesce(c.first_unanswered_at, now())
            FROM m WHERE c.id = m.conversation_id RETURNING m.id"
}
# sched_inbound CONV MSG TENANT [CHANNEL] : pushes the INBOUND wake-up.
sched_inbound() { "$SCHED_CTL" "$SCHED_IN" inbound "$@"; }
# sched_start NAME : starts lull-scheduler on the private endpoints (extra settings from the environment);
# waits until it serves. Sets SCHED_PID.
sched_start() {
    SCHED_OPS=$(it_free_port)  # a fresh ops port per start: a restart never waits for the old one
    it_start "$1" env LULL_OPS_PORT="$SCHED_OPS" LULL_LOG_FILE="$IT_TMP/$1.jsonl" \
        LULL_SCHED_INBOUND_BIND="$SCHED_IN" LULL_SCHED_WORKER_BIND="$SCHED_WK" LULL_SCHED_CONTROL_BIND="$SCHED_CT" \
        LULL_SCHED_SWEEP_MS="${SWEEP_MS:-200}" LULL_SCHED_RETRY_BASE_MS=20 LULL_SCHED_RETRY_MAX_MS=100 \
        LULL_LOG_LEVEL=info "$LULL_BIN/lull-scheduler"
    SCHED_PID=$IT_LAST_PID
    it_wait_for "scheduler $1 serving" 10 grep -q '"ev":"scheduler.ready"' "$IT_TMP/$1.jsonl"
}
# worker_start NAME ARGS... : a fake worker connected to the scheduler. Sets WORKER_PID.
worker_start() {
    local name=$1; shift
    it_start "$name" "$FAKE_WORKER" --endpoint "$SCHED_WK" --name "$name" "$@"
    WORKER_PID=$IT_LAST_PID
}
# jobs FILE [CONV] : number of JOB lines (for one conversation).
jobs() { grep '"ev":"job"' "$1" | grep -c "\"conversation_id\":${2:-[0-9]*}," ; }
# answered CONV : true once the conversation's answered_upto caught up with its last inbound message.
answered() { [ "$(it_sql "SELECT answered_upto = last_inbound_id FROM conversations WHERE id = $1")" = t ]; }
# ge N CMD... : true when CMD prints a number >= N.
ge() { local n=$1; shift; [ "$("$@")" -ge "$n" ]; }
