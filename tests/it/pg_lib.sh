# Helpers for the PostgreSQL restart and failover tests (sourced after lib.sh): private clusters of the test's
# own (never the worktree's shared cluster of scripts/db), a streaming standby made with pg_basebackup -R, and
# restart / stop / promote. Every cluster listens on 127.0.0.1 only, trust authentication, and is stopped
# (immediate) at the test's end, pass or fail. As root the servers run as the postgres user.
PG_BINDIR=${LULL_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5n | tail -n1)}
# the clusters live outside $IT_TMP (mktemp makes it 0700: the postgres user could not reach it)
PG_ROOT=$(mktemp -d /tmp/lull-pgit.XXXXXX)
chmod 0755 "$PG_ROOT"
PG_DATAS=()
declare -A PG_PORT

# pg_as_server CMD… : runs a server command as the clusters' owner.
pg_as_server() {
    if [ "$EUID" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else (cd / && "$@"); fi
}

# pg_conf NAME PORT : the settings of cluster NAME (rewritten; included from postgresql.conf).
pg_conf() {
    local dir=$PG_ROOT/$1
    cat >"$dir/lull_it.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $2
unix_socket_directories = '$dir'
max_connections = 100
fsync = on
synchronous_commit = on
wal_level = replica
max_wal_senders = 5
wal_keep_size = 64MB
hot_standby = on
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
CONF
    [ "$EUID" -eq 0 ] && chown postgres:postgres "$dir/lull_it.conf"
    grep -q "^include_if_exists = '../lull_it.conf'" "$dir/data/postgresql.conf" ||
        pg_as_server sh -c "printf '\n%s\n' \"include_if_exists = '../lull_it.conf'\" >>'$dir/data/postgresql.conf'"
}

# pg_new NAME : initdb and start cluster NAME on a free port (PG_PORT[NAME]); superuser lull, trust.
pg_new() {
    local name=$1 dir=$PG_ROOT/$1
    mkdir -p "$dir"
    [ "$EUID" -eq 0 ] && chown postgres:postgres "$dir"
    pg_as_server "$PG_BINDIR/initdb" -D "$dir/data" -U lull --auth=trust -E UTF8 --locale=C.UTF-8 --no-instructions \
        >>"$IT_TMP/pg_$name.log" 2>&1 || { it_fail "initdb $name"; return 1; }
    PG_DATAS+=("$dir/data")
    PG_PORT[$name]=$(it_free_port)
    pg_conf "$name" "${PG_PORT[$name]}"
    pg_start "$name"
}

# pg_start NAME : starts cluster NAME and waits until it accepts connections (as primary or standby).
pg_start() {
    local dir=$PG_ROOT/$1
    pg_as_server "$PG_BINDIR/pg_ctl" start -D "$dir/data" -l "$dir/log" -w -t 30 -s >/dev/null ||
        { it_fail "pg_ctl start $1"; tail -n 20 "$dir/log" | sed 's/^/    /'; return 1; }
}

# pg_ctl_do NAME ARGS… : pg_ctl ARGS on cluster NAME (restart -m fast, stop -m immediate, promote …).
pg_ctl_do() {
    local dir=$PG_ROOT/$1; shift
    pg_as_server "$PG_BINDIR/pg_ctl" "$@" -D "$dir/data" -l "$dir/log" -s >/dev/null 2>>"$IT_TMP/check.log"
}

# pg_url NAME [DB] : the libpq URL of database DB (default lull) on cluster NAME.
pg_url() { echo "postgresql://lull@127.0.0.1:${PG_PORT[$1]}/${2:-lull}"; }

# pg_createdb NAME : database lull on cluster NAME, migrated.
pg_createdb() {
    psql "$(pg_url "$1" postgres)" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE lull" >>"$IT_TMP/check.log" 2>&1 &&
        "$LULL_ROOT/scripts/migrate" "$(pg_url "$1")" >>"$IT_TMP/check.log" 2>&1 || { it_fail "create and migrate lull on $1"; return 1; }
}

# pg_standby PRIMARY NAME : a streaming standby of PRIMARY (pg_basebackup -R), started on its own port, made
# the primary's synchronous standby (a commit returns once the standby has flushed it).
pg_standby() {
    local primary=$1 name=$2 dir=$PG_ROOT/$2
    mkdir -p "$dir"
    [ "$EUID" -eq 0 ] && chown postgres:postgres "$dir"
    pg_as_server "$PG_BINDIR/pg_basebackup" -h 127.0.0.1 -p "${PG_PORT[$primary]}" -U lull -D "$dir/data" -R \
        -X stream -c fast -d "application_name=$name" >>"$IT_TMP/pg_$name.log" 2>&1 ||
        { it_fail "pg_basebackup for $name"; return 1; }
    PG_DATAS+=("$dir/data")
    PG_PORT[$name]=${PG_PORT[$name]:-$(it_free_port)}  # (a port may be given beforehand, to be in a URL already)
    # the copy holds the primary's include line (relative: ../lull_it.conf is this cluster's own file)
    pg_conf "$name" "${PG_PORT[$name]}"
    pg_start "$name" || return 1
    psql "$(pg_url "$primary" postgres)" -X -q -v ON_ERROR_STOP=1 \
        -c "ALTER SYSTEM SET synchronous_standby_names = '$name'" -c "SELECT pg_reload_conf()" >>"$IT_TMP/check.log" 2>&1 ||
        { it_fail "synchronous_standby_names on $primary"; return 1; }
    pg_sync_streaming() {
        [ "$(psql "$(pg_url "$primary" postgres)" -X -A -t -c \
            "SELECT sync_state FROM pg_stat_replication WHERE application_name = '$name' AND state = 'streaming'")" = sync ]
    }
    it_wait_for "$name streams from $primary as its synchronous standby" 30 pg_sync_streaming
}

# pg_caught_up PRIMARY NAME : true when standby NAME has replayed everything PRIMARY has written.
pg_caught_up() {
    [ "$(psql "$(pg_url "$1" postgres)" -X -A -t -c "SELECT replay_lsn >= pg_current_wal_lsn() FROM pg_stat_replication
                                                      WHERE application_name = '$2'")" = t ]
}
# pg_sessions NAME : the number of client sessions on database lull of cluster NAME (the tiers' connections).
pg_sessions() {
    psql "$(pg_url "$1" postgres)" -X -A -t -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'lull'
                                                 AND backend_type = 'client backend'"
}

# pg_is_primary NAME : true when cluster NAME accepts writes (not in recovery).
pg_is_primary() { [ "$(psql "$(pg_url "$1" postgres)" -X -A -t -c "SELECT NOT pg_is_in_recovery()" 2>/dev/null)" = t ]; }

# pg_cleanup : stops every cluster this test made (immediate) and removes them.
pg_cleanup() {
    local d
    for d in "${PG_DATAS[@]}"; do
        [ -f "$d/postmaster.pid" ] && pg_as_server "$PG_BINDIR/pg_ctl" stop -D "$d" -m immediate -s >/dev/null 2>&1
    done
    if [ "$IT_FAILED" -ne 0 ] && [ -d "$IT_TMP" ]; then
        for d in "$PG_ROOT"/*/; do cp "$d/log" "$IT_TMP/pg_$(basename "$d").server.log" 2>/dev/null; done
    fi
    rm -rf "$PG_ROOT"
}
trap 'pg_cleanup; it_cleanup' EXIT

# --- traffic and ledger (needs e2e_lib.sh and crash_lib.sh: e2e_start's stack, crash_post's client)

# pg_lane TAG J LANES CONVS : posts conversations J, J+LANES, … ≤ CONVS of contacts TAG-N, bursts of 1–3
# messages with dedupe ids, each message until it is acknowledged (crash_post: a 503 while the database is away
# is posted again).
pg_lane() {
    local tag=$1 j=$2 lanes=$3 convs=$4 n k
    ACK_FILE=$IT_TMP/ack.$tag.$j RETRY_FILE=$IT_TMP/retry.$tag.$j
    : >"$ACK_FILE"; : >"$RETRY_FILE"
    for ((n = j; n <= convs; n += lanes)); do
        for ((k = 1; k <= $(crash_burst "$n"); k++)); do crash_post "$tag-$n" "$tag-m$n-$k"; done
        sleep 0.03
    done
}
# pg_traffic_start TAG CONVS LANES : starts the lanes in the background (PG_LANES: their pids); adds the number
# of messages to PG_TOTAL and the conversations to PG_CONVS.
PG_TOTAL=0
PG_CONVS=0
pg_traffic_start() {
    local tag=$1 convs=$2 lanes=$3 n j
    for ((n = 1; n <= convs; n++)); do PG_TOTAL=$((PG_TOTAL + $(crash_burst "$n"))); done
    PG_CONVS=$((PG_CONVS + convs))
    LANE_DEADLINE=$(( $(date +%s) + 60 ))
    PG_LANES=()
    for ((j = 1; j <= lanes; j++)); do pg_lane "$tag" "$j" "$lanes" "$convs" & PG_LANES+=($!); done
}
pg_traffic_wait() { local p; for p in "${PG_LANES[@]}"; do wait "$p"; done; }
# pg_acked_ge N : true when at least N messages (all phases) are acknowledged.
pg_acked_ge() { [ "$(cat "$IT_TMP"/ack.* 2>/dev/null | wc -l)" -ge "$1" ]; }

# pg_tiers_healthy : true when every tier's /health answers ok (e2e_start's ops ports).
pg_tiers_healthy() {
    local p
    for p in $OPS_S $OPS_W $OPS_X $OPS_I $OPS_A; do it_http_ok "http://127.0.0.1:$p/health" || return 1; done
}
# pg_admin_reads : true when the console answers a request that reads the database.
pg_admin_reads() { e2e_admin GET "/api/v1/conversations?limit=1"; [ "$ADM_CODE" = 200 ]; }

# pg_all_done : every conversation answered, every outbox row sent and delivered at the fake.
pg_all_done() {
    [ "$(it_sql "SELECT (SELECT count(*) FROM conversations WHERE answered_upto < last_inbound_id)
                      + (SELECT count(*) FROM outbox WHERE status <> 'sent')")" -eq 0 ] &&
        [ "$(e2e_delivered)" -ge "$(it_sql "SELECT count(*) FROM outbox")" ]
}

# pg_ledger LABEL : waits until everything is answered and delivered, prints the ledger and checks it: every
# posted message acknowledged, stored once, answered by a delivered reply (lost = 0), no reply delivered twice
# and no burst answered twice (duplicated = 0), nothing delivered that is not a bot reply (unexpected = 0).
pg_ledger() {
    local label=$1 ledger q lost dup unexpected retries gave_up
    it_wait_for "$label: every conversation answered and delivered" 60 pg_all_done
    ledger=$(curl -fsS "$CH/_fake/ledger")
    jq -r '.by_key | to_entries[] | [.key, .value.deliveries, .value.requests] | @tsv' <<<"$ledger" >"$IT_TMP/delivered.tsv"
    cat "$IT_TMP"/ack.* >"$IT_TMP/ack.all"
    psql "$LULL_DATABASE_URL" -X -q -v ON_ERROR_STOP=1 >>"$IT_TMP/check.log" 2>&1 <<SQL
CREATE TEMP TABLE pg_ack (contact text, mid text, message_id bigint, dup boolean);
\copy pg_ack FROM '$IT_TMP/ack.all' WITH (FORMAT text, DELIMITER ' ')
CREATE TABLE pg_ack_$$ AS SELECT * FROM pg_ack;
CREATE TABLE pg_delivered_$$ (key text PRIMARY KEY, deliveries int, requests int);
\copy pg_delivered_$$ FROM '$IT_TMP/delivered.tsv'
SQL
    [ $? -eq 0 ] || it_fail "$label: ledger tables loaded"
    q() { it_sql "$1"; }
    retries=$(cat "$IT_TMP"/retry.* | wc -l)
    gave_up=$(cat "$IT_TMP"/retry.* | grep -c ' gave-up$')
    lost=$(q "SELECT count(*) FROM pg_ack_$$ a JOIN messages m ON m.id = a.message_id
              JOIN conversations v ON v.id = m.conversation_id
              WHERE v.answered_upto < a.message_id OR NOT EXISTS (
                SELECT 1 FROM analyses r JOIN messages b ON b.id = r.message_id AND b.author = 'bot'
                JOIN outbox o ON o.message_id = b.id JOIN pg_delivered_$$ d ON d.key = o.idempotency_key AND d.deliveries > 0
                WHERE r.conversation_id = v.id AND r.upto_message_id >= a.message_id)")
    dup=$(q "SELECT count(*) FROM pg_delivered_$$ WHERE deliveries > 1")
    unexpected=$(q "SELECT count(*) FROM pg_delivered_$$ d WHERE NOT EXISTS (SELECT 1 FROM outbox o
                    JOIN messages b ON b.id = o.message_id AND b.author = 'bot' WHERE o.idempotency_key = d.key)")
    echo "---- $label ledger"
    echo "  posted $PG_TOTAL messages in $PG_CONVS conversations; acknowledged $(q "SELECT count(*) FROM pg_ack_$$")"
    echo "  client POSTs retried: $retries ($(cut -d' ' -f3 "$IT_TMP"/retry.* | sort | uniq -c | tr -s ' \n' ' ')), given up: $gave_up"
    echo "  outbox by status: $(q "SELECT string_agg(status || '=' || n, ' ') FROM (SELECT status, count(*) n FROM outbox GROUP BY 1 ORDER BY 1) s")"
    echo "  delivered keys: $(jq .delivered_keys <<<"$ledger"), deliveries: $(jq .deliveries <<<"$ledger"), requests: $(jq .requests <<<"$ledger")"
    echo "  lost=$lost duplicated=$dup unexpected=$unexpected"
    echo "----"
    it_check_eq "$label: every message posted was acknowledged" "$PG_TOTAL" "$(q "SELECT count(DISTINCT mid) FROM pg_ack_$$")"
    it_check_eq "$label: no POST given up" 0 "$gave_up"
    it_check_eq "$label: each acknowledged message id is the stored message with that dedupe id" 0 \
        "$(q "SELECT count(*) FROM pg_ack_$$ a LEFT JOIN messages m ON m.id = a.message_id
              WHERE m.id IS NULL OR m.provider_message_id IS DISTINCT FROM a.mid OR m.direction <> 'in'")"
    it_check_eq "$label: each message stored once" "$PG_TOTAL" "$(q "SELECT count(*) FROM messages WHERE direction = 'in'")"
    it_check_eq "$label: lost = 0 (every acknowledged message answered by a delivered reply covering it)" 0 "$lost"
    it_check_eq "$label: duplicated = 0 (no reply delivered twice)" 0 "$dup"
    it_check_eq "$label: unexpected = 0 (every delivery is a bot reply's outbox row)" 0 "$unexpected"
    it_check_eq "$label: no two replies answer the same burst" 0 \
        "$(q "SELECT count(*) FROM (SELECT conversation_id, upto_message_id FROM analyses GROUP BY 1, 2 HAVING count(*) > 1) s")"
    it_check_eq "$label: no message has two outbox rows" 0 \
        "$(q "SELECT count(*) FROM (SELECT message_id FROM outbox GROUP BY 1 HAVING count(*) > 1) s")"
}

# pg_stop_tiers : SIGTERMs the five tiers e2e_start started (after its three fakes) and checks each is alive and
# exits 0 (under ASan: without a leak).
pg_stop_tiers() {
    local i names=(scheduler worker sender ingress admin)
    for i in 0 1 2 3 4; do
        it_check "${names[$i]} alive at the end" kill -0 "${IT_PIDS[$((i + 3))]}"
        it_stop "${IT_PIDS[$((i + 3))]}" TERM
        it_check_eq "${names[$i]} exits 0 on SIGTERM" 0 "$IT_RC"
    done
}
