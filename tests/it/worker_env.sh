# Helpers for the worker's integration tests (sourced after lib.sh): a fresh database with a helper
# function that creates a conversation, the fake LLM, the fake scheduler fed through a FIFO, and the worker.

# w_setup : database, it_conv() SQL helper, fake LLM ($W_LLM = its base URL), fake scheduler.
w_setup() {
    it_db_create || it_finish
    it_sql "CREATE FUNCTION it_conv(p_tenant bigint, p_channel text, p_ext text, p_bodies text[]) RETURNS text
      LANGUAGE plpgsql AS \$\$
      DECLARE c bigint; cv bigint; m bigint; b text;
      BEGIN
        INSERT INTO contacts (tenant_id, channel, external_id, first_name)
          VALUES (p_tenant, p_channel, p_ext, 'Ann') RETURNING id INTO c;
        INSERT INTO conversations (tenant_id, contact_id, channel, business_address, external_conversation_id)
          VALUES (p_tenant, c, p_channel, '+15550001', 'tkconv-' || p_ext) RETURNING id INTO cv;
        FOREACH b IN ARRAY p_bodies LOOP
          INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, body)
            VALUES (cv, p_tenant, p_channel, 'in', 'contact', b) RETURNING id INTO m;
        END LOOP;
        UPDATE conversations SET last_inbound_id = m, last_inbound_at = now(), first_unanswered_at = now()
          WHERE id = cv;
        RETURN cv || ' ' || m;
      END \$\$" >/dev/null
    w_start_llm || it_finish
    mkfifo "$IT_TMP/jobs"
    exec 7<>"$IT_TMP/jobs"  # read-write: opening never blocks, and the FIFO never reports end of file
    local try
    for try in 1 2 3 4 5; do
        W_SCHED=tcp://127.0.0.1:$(it_free_port)
        W_PULL=tcp://127.0.0.1:$(it_free_port)
        # not it_start: a background command's stdin must be redirected on the command itself
        setsid "$LULL_FAKES/fake_scheduler" --bind "$W_SCHED" --pull "$W_PULL" --heartbeat-ms 100 \
            ${W_SCHED_ARGS:-} <"$IT_TMP/jobs" >"$IT_TMP/sched.log" 2>"$IT_TMP/sched.err" &
        IT_PIDS+=("$!")
        local pid=$! deadline=$(( $(date +%s) + 5 ))
        while kill -0 "$pid" 2>/dev/null && ! grep -qs listening "$IT_TMP/sched.err" && [ "$(date +%s)" -lt "$deadline" ]; do
            sleep 0.02
        done
        grep -qs listening "$IT_TMP/sched.err" && break
    done
    W_SCHED_LOG=$IT_TMP/sched.log
}

# w_start_llm : starts the fake LLM ($W_LLM = its base URL). A port that was a listener moments ago (TIME_WAIT
# without SO_REUSEADDR on the old socket) cannot be bound: try a few ports.
w_start_llm() {
    local try
    for try in 1 2 3 4 5; do
        W_LLM_PORT=$(it_free_port)
        W_LLM=http://127.0.0.1:$W_LLM_PORT
        it_start llm "$LULL_FAKES/fake_llm" --port "$W_LLM_PORT" --latency-ms "${W_LATENCY_MS:-0}" ${W_LLM_ARGS:-}
        local pid=$IT_LAST_PID deadline=$(( $(date +%s) + 5 ))
        while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
            it_http_ok "$W_LLM/_fake/stats" 2>/dev/null && return 0
            sleep 0.02
        done
    done
    it_fail "fake LLM does not start"
    return 1
}

# w_worker [ENV=VALUE...] : starts the worker with every provider pointed at the fake; extra settings override.
w_worker() {
    local try
    for try in 1 2 3 4 5; do
        W_OPS_PORT=$(it_free_port)  # a port in TIME_WAIT cannot be bound: then try another one
        it_start worker env LULL_WORKER_SCHEDULERS="$W_SCHED" LULL_SENDERS="$W_PULL" LULL_OPS_PORT="$W_OPS_PORT" \
            LULL_LOG_FILE="$IT_TMP/worker.jsonl" LULL_LOG_LEVEL=debug LULL_HEARTBEAT_MS=100 \
            LULL_WORKER_RETRY_BASE_MS=10 LULL_WORKER_LLM_TIMEOUT_MS=2000 \
            OPENAI_API_KEY=sk-test OPENAI_BASE_URL="$W_LLM/v1" ANTHROPIC_API_KEY=ak-test ANTHROPIC_BASE_URL="$W_LLM" \
            GEMINI_API_KEY=gk-test GEMINI_BASE_URL="$W_LLM/v1beta" "$@" "$LULL_BIN/lull-worker"
        W_WORKER_PID=$IT_LAST_PID
        local deadline=$(( $(date +%s) + 10 ))
        while kill -0 "$W_WORKER_PID" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
            grep -q '"type":"ready"' "$W_SCHED_LOG" && return 0
            sleep 0.02
        done
    done
    it_fail "worker READY"
    cat "$IT_TMP/worker.log"
    it_finish
}

# w_conv CHANNEL EXTERNAL_ID BODY... : creates a conversation of tenant ${W_TENANT:-1}; sets CONV and UPTO.
w_conv() {
    local channel=$1 ext=$2; shift 2
    local arr="ARRAY[" sep="" b
    for b in "$@"; do arr+="$sep'${b//\'/\'\'}'"; sep=","; done
    arr+="]::text[]"
    read -r CONV UPTO <<<"$(it_sql "SELECT it_conv(${W_TENANT:-1}, '$channel', '$ext', $arr)")"
}

# w_job CONV EXPECTED UPTO [ATTEMPT] [TENANT] : hands a job to the worker through the fake scheduler.
w_job() { echo "job $1 $2 $3 ${4:-1} ${5:-${W_TENANT:-1}} ${6:-0}" >&7; }

# w_done CONV : waits for the DONE of CONV and prints its outcome ($W_DONE has the whole line).
w_done_seen() { grep -q "\"conv\":$1," "$W_SCHED_LOG"; }
w_done() {
    it_wait_for "DONE for conversation $1" "${2:-10}" w_done_seen "$1" || { echo none; return; }
    W_DONE=$(grep "\"conv\":$1," "$W_SCHED_LOG" | tail -1)
    jq -r .outcome <<<"$W_DONE"
}

# w_ledger : the fake LLM's ledger (JSON array).
w_ledger() { curl -s "$W_LLM/_fake/ledger"; }
# w_fault JSON : injects a fault into the fake LLM.
w_fault() { curl -s -o /dev/null -d "$1" "$W_LLM/_fake/faults"; }
