# The upgrade checks (sourced after lib.sh and crash_lib.sh) shared by tests/it/test_upgrade.sh and
# scripts/upgrade-check: binaries of the schema version CUR in $OLD_BIN, binaries of CUR+1 in $NEW_BIN (the
# "next release": workers and a scheduler), this tree's migrations.
#   a) the stack of old binaries (ingress, scheduler, 2 workers, sender, fakes) under traffic; the next migration
#      (tests/data/upgrade/next.sql as CUR+1) applied: the running binaries keep answering, restarted ones start
#      and answer;
#   b) a mixed cluster: a next-release scheduler and 2 next-release workers join the old ones under traffic while
#      old ones are stopped with SIGTERM and SIGKILL (and restarted): nothing lost, nothing answered twice;
#   then a CUR+2 schema (tests/data/upgrade/after.sql): an old binary refuses it with the clear message, a next
#   one runs.
# Before it all: a next-release binary refuses the CUR schema ("run scripts/db migrate").
# Needs: CUR OLD_BIN NEW_BIN; uses LULL_FAKES, LULL_ROOT, IT_TMP.
UP_CONVS=${UP_CONVS:-100}
# the migrations applied as CUR+1 and CUR+2 (scripts/upgrade-check passes the release's real ones)
UP_NEXT_SQL=${UP_NEXT_SQL:-$LULL_ROOT/tests/data/upgrade/next.sql}
UP_AFTER_SQL=${UP_AFTER_SQL:-$LULL_ROOT/tests/data/upgrade/after.sql}

up_t0=$(date +%s%N)
up_mark() { echo "  [$(( ($(date +%s%N) - up_t0) / 1000000 )) ms] $*"; }
upgrade_run() {
    local mig=$IT_TMP/migrations
    mkdir -p "$mig"
    cp "$LULL_ROOT"/migrations/*.sql "$mig/"
    local n f
    for f in "$mig"/*.sql; do n=$(basename "$f"); n=$((10#${n%%_*})); [ "$n" -le "$CUR" ] || rm -f "$f"; done
    it_db_create || it_finish
    local tree_max=0
    for f in "$LULL_ROOT"/migrations/[0-9]*_*.sql; do n=$(basename "$f"); n=$((10#${n%%_*})); ((n > tree_max)) && tree_max=$n; done
    if [ "$CUR" -ne "$tree_max" ]; then  # (scripts/upgrade-check: an older release) a database migrated up to CUR only
        local empty="${LULL_DATABASE_URL##*/}_at_$CUR"
        it_sql "CREATE DATABASE $empty" >/dev/null || it_fail "create database $empty"
        LULL_DATABASE_URL="${LULL_DATABASE_URL%/*}/$empty"
        IT_DBS+=("$empty")
    fi
    LULL_MIGRATIONS_DIR=$mig "$LULL_ROOT/scripts/migrate" "$LULL_DATABASE_URL" >/dev/null 2>&1
    it_check_eq "the database is at schema $CUR" "$CUR" "$(it_sql 'SELECT max(version) FROM schema_migrations')"
    it_sql "UPDATE tenants SET window_ms = 150, max_wait_ms = 1500 WHERE slug = 'default'" >/dev/null

    LLM_PORT=$(it_free_port); CH_PORT=$(it_free_port); HTTP_PORT=$(it_free_port)
    Z_OUT=tcp://127.0.0.1:$(it_free_port)
    LLM=http://127.0.0.1:$LLM_PORT; CH=http://127.0.0.1:$CH_PORT; ING=http://127.0.0.1:$HTTP_PORT
    SECRET="whsec_$(printf 'upgrade-test-secret-0123456789' | base64 -w0)"
    local t
    declare -gA Z_IN Z_WK Z_CTL
    for t in sched_old sched_new; do
        Z_IN[$t]=tcp://127.0.0.1:$(it_free_port); Z_WK[$t]=tcp://127.0.0.1:$(it_free_port)
        Z_CTL[$t]=tcp://127.0.0.1:$(it_free_port)
    done
    for t in sched_old sched_new wk_old1 wk_old2 wk_new1 wk_new2 sender ingress probe; do TIER_OPS[$t]=$(it_free_port); done
    it_start llm "$LULL_FAKES/fake_llm" --port "$LLM_PORT" --latency-ms 60
    it_start channels "$LULL_FAKES/fake_channels" --port "$CH_PORT" --callback-secret "$SECRET" --latency-ms 40
    it_wait_for "fake LLM" 10 it_http_ok "$LLM/_fake/stats" || it_finish
    it_wait_for "fake channels" 10 it_http_ok "$CH/_fake/ledger?summary=1" || it_finish

    up_mark "# --- a next-release binary refuses"
    # --- a next-release binary refuses the current schema
    up_refused probe "$NEW_BIN/lull-worker" "schema $CUR, a next-release worker (built for $((CUR + 1))) refuses to start" \
        "older than this build: run scripts/db migrate" "$CUR" "$((CUR + 1))"

    up_mark "# --- a) the old stack"
    # --- a) the old stack, traffic, the next migration under it
    for t in sched_old wk_old1 wk_old2 sender ingress; do crash_tier_start "$t" || it_finish; done
    it_wait_for "the old scheduler holds every partition" 15 up_owned_by up-sched_old 256 || it_finish
    up_mark "phase 1 traffic"
    up_traffic 1 16 4 0.02
    up_wait_answered "phase 1 (old binaries, schema $CUR): every conversation answered" || it_finish
    up_mark "cp UP_NEXT_SQL"
    cp "$UP_NEXT_SQL" "$mig/$(printf '%03d' $((CUR + 1)))_upgrade_next.sql"
    local out
    out=$(LULL_MIGRATIONS_DIR=$mig "$LULL_ROOT/scripts/migrate" "$LULL_DATABASE_URL" 2>&1)
    it_check_match "the next migration ($((CUR + 1))) applied while the old stack runs" "applied 0*$((CUR + 1))_upgrade_next.sql" "$out"
    up_mark "phase 2 traffic"
    up_traffic 41 56 4 0.02
    up_wait_answered "schema $((CUR + 1)): the running old binaries keep answering" || it_finish
    if [ "$UP_NEXT_SQL" = "$LULL_ROOT/tests/data/upgrade/next.sql" ]; then
        it_check_eq "the next migration's trigger fills its column for the rows old binaries write" 0 \
            "$(it_sql "SELECT count(*) FROM messages WHERE upgrade_body_bytes IS DISTINCT FROM octet_length(body)")"
    fi
    up_mark "local lines"
    local lines
    for t in ingress wk_old2 sender; do
        it_stop "${TIER_PID[$t]}" TERM
        it_check_eq "old $t stops cleanly (exit 0) on schema $((CUR + 1))" 0 "$IT_RC"
        lines=$(wc -l <"$IT_TMP/$t.log")
        crash_tier_start "$t" || it_finish
        tail -n +$((lines + 1)) "$IT_TMP/$t.log" >"$IT_TMP/$t.restart.log"
        it_check_eq "restarted old $t started on schema $((CUR + 1)) with one db.schema_ahead warning" 1 \
            "$(grep -c '"ev":"db.schema_ahead"' "$IT_TMP/$t.restart.log")"
    done
    it_check_match "the warning names both versions" "\"have\":$((CUR + 1)),\"want\":$CUR" \
        "$(grep '"ev":"db.schema_ahead"' "$IT_TMP/ingress.restart.log" | head -1)"
    up_mark "phase 3 traffic"
    up_traffic 81 92 4 0.02
    up_wait_answered "restarted old binaries on schema $((CUR + 1)) answer" || it_finish

    up_mark "# --- b) the mixed"
    # --- b) the mixed cluster: next-release scheduler and workers join; old ones stopped and killed under traffic
    for t in sched_new wk_new1 wk_new2; do crash_tier_start "$t" || it_finish; done
    it_wait_for "the partitions split between the old and the next-release scheduler" 15 up_split || it_finish
    local first=1000 last=$((1000 + UP_CONVS - 1)) total=0
    for ((n = first; n <= last; n++)); do up_burst "$n"; total=$((total + UP_B)); done
    LANE_DEADLINE=$(( $(date +%s) + 90 ))
    up_traffic "$first" "$last" 6 0.03 &
    local lanes=$!
    local base acked
    base=$(crash_acked)
    up_reached() { [ $(( $(crash_acked) - base )) -ge "$1" ]; }
    it_wait_for "25% of the mixed traffic acknowledged" 60 up_reached $((total / 4))
    it_stop "${TIER_PID[wk_old1]}" TERM
    it_check_eq "old worker 1 stopped with SIGTERM under traffic (exit 0)" 0 "$IT_RC"
    it_wait_for "45% of the mixed traffic acknowledged" 60 up_reached $((total * 45 / 100))
    crash_kill sched_old
    echo "killed the old scheduler at $(( $(crash_acked) - base ))/$total acknowledged"
    it_wait_for "the next-release scheduler took every partition of the killed old one" 15 up_owned_by up-sched_new 256
    crash_tier_start sched_old || it_finish
    it_wait_for "65% of the mixed traffic acknowledged" 60 up_reached $((total * 65 / 100))
    crash_kill wk_old2
    echo "killed old worker 2 at $(( $(crash_acked) - base ))/$total acknowledged"
    crash_tier_start wk_old2 || it_finish
    wait "$lanes"
    up_mark "up_wait_answered mixed cluster"
    up_wait_answered "mixed cluster: every conversation answered and delivered" || it_finish
    up_ledger
    local w
    for w in wk_new1 wk_new2; do
        it_check "next-release $w answered jobs ($(grep -c '"ev":"job.done"' "$IT_TMP/$w.log"))" grep -q '"ev":"job.done"' "$IT_TMP/$w.log"
    done
    it_check_eq "the next-release scheduler runs schema $((CUR + 1))" 1 \
        "$(grep -c "\"ev\":\"start\".*\"schema_version\":$((CUR + 1))" "$IT_TMP/sched_new.log")"
    it_check "old workers answered jobs after the migration ($(cat "$IT_TMP/wk_old1.log" "$IT_TMP/wk_old2.log" | grep -c '"ev":"job.done"'))" \
        sh -c "cat '$IT_TMP/wk_old1.log' '$IT_TMP/wk_old2.log' | grep -q '\"ev\":\"job.done\"'"
    it_check "the next-release scheduler dispatched ($(grep -c '"ev":"dispatch"' "$IT_TMP/sched_new.log"))" grep -q '"ev":"dispatch"' "$IT_TMP/sched_new.log"
    it_check "the old scheduler dispatched on schema $((CUR + 1)) ($(grep -c '"ev":"dispatch"' "$IT_TMP/sched_old.log"))" grep -q '"ev":"dispatch"' "$IT_TMP/sched_old.log"

    up_mark "# --- CUR+2"
    # --- CUR+2: old binaries refuse it; next-release ones run
    cp "$UP_AFTER_SQL" "$mig/$(printf '%03d' $((CUR + 2)))_upgrade_after.sql"
    out=$(LULL_MIGRATIONS_DIR=$mig "$LULL_ROOT/scripts/migrate" "$LULL_DATABASE_URL" 2>&1)
    it_check_match "migration $((CUR + 2)) applied" "applied 0*$((CUR + 2))_upgrade_after.sql" "$out"
    up_refused probe "$OLD_BIN/lull-scheduler" "schema $((CUR + 2)): an old scheduler (built for $CUR) refuses to start" \
        "two or more versions newer than this build: upgrade the binaries" "$((CUR + 2))" "$CUR"
    up_refused probe "$OLD_BIN/lull-ingress" "schema $((CUR + 2)): an old ingress refuses to start" \
        "upgrade the binaries" "$((CUR + 2))" "$CUR"
    it_stop "${TIER_PID[wk_new1]}" TERM
    crash_tier_start wk_new1 || it_finish
    it_check "schema $((CUR + 2)): a next-release worker (built for $((CUR + 1))) starts" kill -0 "${TIER_PID[wk_new1]}"
    for t in ingress sched_old sched_new wk_old2 wk_new1 wk_new2 sender; do
        it_stop "${TIER_PID[$t]}" TERM
        it_check_eq "$t exits 0 on SIGTERM" 0 "$IT_RC"
    done
}

common=(LULL_HEARTBEAT_MS=200 LULL_LOG_LEVEL=info LULL_SCHED_MAP_REFRESH_MS=200)
up_sched() {  # NAME BIN
    it_start "$1" env "${common[@]}" LULL_OPS_PORT="${TIER_OPS[$1]}" LULL_SCHED_NAME="up-$1" LULL_SCHED_LEASE_MS=600 \
        LULL_SCHED_SWEEP_MS=200 LULL_SCHED_INBOUND_BIND="${Z_IN[$1]}" LULL_SCHED_WORKER_BIND="${Z_WK[$1]}" \
        LULL_SCHED_CONTROL_BIND="${Z_CTL[$1]}" LULL_SCHED_RETRY_BASE_MS=200 LULL_SCHED_RETRY_MAX_MS=1000 "$2/lull-scheduler"
}
up_worker() {  # NAME BIN
    it_start "$1" env "${common[@]}" LULL_OPS_PORT="${TIER_OPS[$1]}" LULL_WORKER_NAME="up-$1" LULL_WORKER_SCHEDULERS= \
        LULL_SENDERS="$Z_OUT" OPENAI_API_KEY=sk-test OPENAI_BASE_URL="$LLM/v1" "$2/lull-worker"
}
start_sched_old() { up_sched sched_old "$OLD_BIN"; }
start_sched_new() { up_sched sched_new "$NEW_BIN"; }
start_wk_old1() { up_worker wk_old1 "$OLD_BIN"; }
start_wk_old2() { up_worker wk_old2 "$OLD_BIN"; }
start_wk_new1() { up_worker wk_new1 "$NEW_BIN"; }
start_wk_new2() { up_worker wk_new2 "$NEW_BIN"; }
start_sender() {
    it_start sender env "${common[@]}" LULL_OPS_PORT="${TIER_OPS[sender]}" LULL_SENDER_BIND="$Z_OUT" \
        LULL_CALLBACK_URL="$CH/callback" LULL_CALLBACK_SECRET="$SECRET" LULL_SENDER_CALLBACK_ALLOW=127.0.0.0/8 \
        LULL_SENDER_POLL_MS=200 LULL_SENDER_TIMEOUT_MS=2000 LULL_SENDER_LEASE_MS=3000 "$OLD_BIN/lull-sender"
}
start_ingress() {
    it_start ingress env "${common[@]}" LULL_OPS_PORT="${TIER_OPS[ingress]}" LULL_HTTP_PORT="$HTTP_PORT" \
        LULL_SCHEDULERS= LULL_DEV_ALLOW_UNSIGNED=1 LULL_WEBHOOK_UNSIGNED_RATE=0 "$OLD_BIN/lull-ingress"
}

# up_refused NAME BINARY DESC MESSAGE HAVE WANT : BINARY exits 78 at start, its log saying MESSAGE (have/want).
up_refused() {
    local name=$1 bin=$2 desc=$3 msg=$4 have=$5 want=$6
    : >"$IT_TMP/$name.log"
    it_start "$name" env "${common[@]}" LULL_OPS_PORT="${TIER_OPS[probe]}" LULL_HTTP_PORT="$(it_free_port)" \
        LULL_SENDERS="$Z_OUT" OPENAI_API_KEY=sk-test OPENAI_BASE_URL="$LLM/v1" LULL_SCHED_NAME=up-probe \
        LULL_SCHED_INBOUND_BIND="tcp://127.0.0.1:$(it_free_port)" LULL_SCHED_WORKER_BIND="tcp://127.0.0.1:$(it_free_port)" \
        LULL_SCHED_CONTROL_BIND="tcp://127.0.0.1:$(it_free_port)" "$bin"
    local pid=$IT_LAST_PID rc
    (sleep 20; kill -KILL -- "-$pid" 2>/dev/null) &
    local watchdog=$!
    wait "$pid" 2>/dev/null
    rc=$?
    kill "$watchdog" 2>/dev/null; wait "$watchdog" 2>/dev/null
    it_check_eq "$desc: exit 78" 78 "$rc"
    local line
    line=$(grep '"ev":"db.schema_mismatch"' "$IT_TMP/$name.log" | head -1)
    it_check_match "$desc: the log says '$msg'" "\"lvl\":\"error\".*$msg.*\"have\":$have,\"want\":$want" "$line"
}

# up_traffic FIRST LAST LANES PAUSE : conversations FIRST..LAST (bursts of 1–3, crash_burst) posted by LANES lanes
# until acknowledged (crash_post: retried through restarts, with the dedupe id).
up_traffic() {
    local first=$1 last=$2 lanes=$3 pause=$4 j pids=()
    [ -n "${LANE_DEADLINE:-}" ] && [ "$LANE_DEADLINE" -gt "$(date +%s)" ] || LANE_DEADLINE=$(( $(date +%s) + 60 ))
    for ((j = 0; j < lanes; j++)); do
        (
            ACK_FILE=$IT_TMP/ack.$first.$j RETRY_FILE=$IT_TMP/retry.$first.$j
            : >"$RETRY_FILE"
            for ((n = first + j; n <= last; n += lanes)); do
                up_burst "$n"
                for ((k = 1; k <= UP_B; k++)); do crash_post "u$n" "m$n-$k"; done
                sleep "$pause"
            done
        ) &
        pids+=($!)
    done
    for j in "${pids[@]}"; do wait "$j"; done
}

up_owned_by() {  # OWNER N : OWNER holds N live partitions
    [ "$(it_sql "SELECT count(*) FROM sched_partitions WHERE owner = '$1' AND lease_until > now()")" -eq "$2" ]
}
up_split() {
    [ "$(it_sql "SELECT count(DISTINCT owner) FROM sched_partitions WHERE owner IN ('up-sched_old', 'up-sched_new')
                 AND lease_until > now()")" -eq 2 ]
}
up_done() {
    [ "$(it_sql "SELECT (SELECT count(*) FROM conversations WHERE answered_upto < last_inbound_id)
                      + (SELECT count(*) FROM outbox WHERE status <> 'sent')")" -eq 0 ] &&
    [ "$(curl -fsS "$CH/_fake/ledger?summary=1" | jq .delivered_keys)" -ge "$(it_sql "SELECT count(*) FROM outbox")" ]
}
up_wait_answered() {  # DESC : polls up_done every 200 ms (each poll runs psql, curl and jq) for up to 90 s
    local deadline=$(( $(date +%s) + 90 ))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        up_done 2>/dev/null && { echo "PASS $1"; return 0; }
        sleep 0.2
    done
    it_fail "timed out after 90 s: $1"
    return 1
}
up_burst() {  # N : UP_B = the messages of conversation N (1, 2 or 3, as crash_burst), without a subshell
    if (($1 % 7 == 0)); then UP_B=3; elif (($1 % 3 == 0)); then UP_B=2; else UP_B=1; fi
}

# The ledger of everything posted so far: lost, duplicated, unexpected.
up_ledger() {
    local ledger
    ledger=$(curl -fsS "$CH/_fake/ledger")
    jq -r '.by_key | to_entries[] | [.key, .value.deliveries, .value.requests] | @tsv' <<<"$ledger" >"$IT_TMP/delivered.tsv"
    cat "$IT_TMP"/ack.* >"$IT_TMP/ledger_ack"
    psql "$LULL_DATABASE_URL" -X -q -v ON_ERROR_STOP=1 >>"$IT_TMP/check.log" 2>&1 <<EOF
CREATE TABLE up_ack (contact text, mid text, message_id bigint, dup boolean);
CREATE TABLE up_delivered (key text PRIMARY KEY, deliveries int, requests int);
\copy up_ack FROM '$IT_TMP/ledger_ack' WITH (FORMAT text, DELIMITER ' ')
\copy up_delivered FROM '$IT_TMP/delivered.tsv'
EOF
    [ $? -eq 0 ] || it_fail "ledger tables loaded"
    local q=it_sql
    local acked lost dup unexpected
    acked=$($q "SELECT count(DISTINCT mid) FROM up_ack")
    lost=$($q "SELECT count(*) FROM up_ack a JOIN messages m ON m.id = a.message_id
          JOIN conversations v ON v.id = m.conversation_id
          WHERE v.answered_upto < a.message_id OR NOT EXISTS (
            SELECT 1 FROM analyses r JOIN messages b ON b.id = r.message_id AND b.author = 'bot'
            JOIN outbox o ON o.message_id = b.id JOIN up_delivered d ON d.key = o.idempotency_key AND d.deliveries > 0
            WHERE r.conversation_id = v.id AND r.upto_message_id >= a.message_id)")
    dup=$($q "SELECT count(*) FROM up_delivered WHERE deliveries > 1")
    unexpected=$($q "SELECT count(*) FROM up_delivered d WHERE NOT EXISTS (SELECT 1 FROM outbox o
                JOIN messages b ON b.id = o.message_id AND b.author = 'bot' WHERE o.idempotency_key = d.key)")
    echo "---- upgrade ledger: acknowledged $acked, conversations $($q "SELECT count(*) FROM conversations"), bot replies $($q "SELECT count(*) FROM messages WHERE author = 'bot'"), lost $lost, duplicated $dup, unexpected $unexpected, client retries $(cat "$IT_TMP"/retry.* | wc -l)"
    local posted=0 n
    for n in $(seq 1 16) $(seq 41 56) $(seq 81 92) $(seq 1000 $((1000 + UP_CONVS - 1))); do
        up_burst "$n"; posted=$((posted + UP_B))
    done
    it_check_eq "every message posted was acknowledged" "$posted" "$acked"
    it_check_eq "each message stored once" "$posted" "$($q "SELECT count(*) FROM messages WHERE direction = 'in'")"
    it_check_eq "lost = 0: every acknowledged message is covered by a delivered reply" 0 "$lost"
    it_check_eq "duplicated = 0: no reply delivered twice" 0 "$dup"
    it_check_eq "unexpected = 0: every delivery is a bot reply's outbox row" 0 "$unexpected"
    it_check_eq "no two replies answer the same burst (conversation, answered range)" 0 \
        "$($q "SELECT count(*) FROM (SELECT conversation_id, upto_message_id FROM analyses GROUP BY 1, 2 HAVING count(*) > 1) s")"
    it_check_eq "no message has two outbox rows" 0 \
        "$($q "SELECT count(*) FROM (SELECT message_id FROM outbox GROUP BY 1 HAVING count(*) > 1) s")"
}
