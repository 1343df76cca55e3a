#!/usr/bin/env bash
# Integration test of the database set-up: scripts/db, scripts/migrate and migrations/*.sql.
# Needs the cluster started by tests/run (scripts/db start) and LULL_VAR_DIR exported.
source "$(dirname "$0")/lib.sh"

DB="$LULL_ROOT/scripts/db"
MIGRATE="$LULL_ROOT/scripts/migrate"

fails() { ! "$@"; }                  # it_check … fails CMD: PASS when CMD fails
sql() { it_sql "$1" 2>>"$IT_TMP/sql.err"; }

# Highest migration version on disk (so new migrations do not break this test).
latest=0
for f in "$LULL_ROOT"/migrations/[0-9]*_*.sql; do
    v=$(basename "$f"); v=$((10#${v%%_*}))
    ((v > latest)) && latest=$v
done

# --- the local cluster -------------------------------------------------------------------------
it_check "scripts/db status: cluster running" env -u LULL_DATABASE_URL "$DB" status
local_url=$(env -u LULL_DATABASE_URL "$DB" url)
it_check_match "scripts/db url prints the local URL" '^postgresql://lull@127\.0\.0\.1:[0-9]+/lull$' "$local_url"
it_check "psql connects to scripts/db url" psql -X -q -At -d "$local_url" -c 'SELECT 1'

# --- a fresh database from the template ----------------------------------------------------------
it_db_create || it_finish
it_check_match "createdb prints a URL of another database" '^postgresql://.+/[A-Za-z0-9_]+$' "$LULL_DATABASE_URL"
it_check "createdb URL is not the main database" fails test "$LULL_DATABASE_URL" = "$local_url"
it_check_eq "scripts/db url honours LULL_DATABASE_URL" "$LULL_DATABASE_URL" "$("$DB" url)"
it_check_eq "created database is at the latest version" "$latest" "$(sql 'SELECT max(version) FROM schema_migrations')"

count_before=$(sql 'SELECT count(*) FROM schema_migrations')
out1=$("$MIGRATE" 2>&1); rc1=$?
out2=$("$MIGRATE" "$LULL_DATABASE_URL" 2>&1); rc2=$?
it_check_eq "migrate on an up-to-date database: exit 0" "0 0" "$rc1 $rc2"
it_check_eq "migrate on an up-to-date database prints nothing" "" "$out1$out2"
it_check_eq "migrate twice: schema_migrations unchanged" "$count_before" "$(sql 'SELECT count(*) FROM schema_migrations')"

# --- migrate applied to an empty database: applies everything once, then nothing ---------------
empty="it_db_empty_$$"
sql "CREATE DATABASE $empty" >/dev/null
empty_url="${LULL_DATABASE_URL%/*}/$empty"
first=$("$MIGRATE" "$empty_url" 2>&1); rc=$?
it_check_eq "migrate on an empty database: exit 0" 0 "$rc"
it_check_match "migrate on an empty database prints applied lines" '^applied 001_init\.sql' "$first"
it_check_eq "one line per migration file" "$(ls "$LULL_ROOT"/migrations/[0-9]*_*.sql | wc -l)" "$(grep -c '^applied ' <<<"$first")"
second=$("$MIGRATE" "$empty_url" 2>&1)
it_check_eq "second migrate run applies nothing" "" "$second"
it_check_eq "version recorded" "$latest|init" \
    "$(psql -X -q -At -d "$empty_url" -c "SELECT max(version) || '|' || min(name) FILTER (WHERE version = 1) FROM schema_migrations")"
"$DB" dropdb "$empty" >/dev/null 2>&1

# --- tables -----------------------------------------------------------------------------------
for t in schema_migrations tenants contacts conversations messages analyses outbox usage prompts inventory escalations; do
    it_check_eq "table $t exists" "$t" "$(sql "SELECT to_regclass('public.$t')")"
done

# --- default tenant ---------------------------------------------------------------------------
it_check_eq "default tenant" "1|default|Default|Lull|Lou" \
    "$(sql "SELECT id, slug, name, company_name, agent_name FROM tenants WHERE slug = 'default'" | tr -d ' ')"
it_check_match "default tenant has a prompt with placeholders" '\{\{company_name\}\}.*' \
    "$(sql "SELECT p.template FROM tenants t JOIN prompts p ON p.id = t.prompt_id WHERE t.id = 1")"
it_check_eq "new tenant gets id 2 (sequence past the seeded row)" 2 \
    "$(sql "INSERT INTO tenants (slug) VALUES ('second') RETURNING id")"

# --- messages: dedupe per channel ---------------------------------------------------------------
conv=$(sql "WITH c AS (INSERT INTO contacts (tenant_id, channel, external_id) VALUES (1, 'sms', '+15550001') RETURNING id)
            INSERT INTO conversations (tenant_id, contact_id, channel) SELECT 1, id, 'sms' FROM c RETURNING id")
ins() { # channel provider_id(or NULL) → rows inserted (ON CONFLICT DO NOTHING)
    sql "WITH i AS (INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, body, provider_message_id)
                    VALUES ($conv, 1, '$1', 'in', 'contact', 'hi', $2) ON CONFLICT DO NOTHING RETURNING 1)
         SELECT count(*) FROM i"
}
it_check_eq "first message with provider id inserted" 1 "$(ins sms "'SM1'")"
it_check_eq "duplicate provider id on the same channel: ON CONFLICT DO NOTHING inserts nothing" 0 "$(ins sms "'SM1'")"
it_check "duplicate provider id on the same channel is rejected" fails sql \
    "INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, provider_message_id) VALUES ($conv, 1, 'sms', 'in', 'contact', 'SM1')"
it_check_eq "same provider id on another channel is a different message" 1 "$(ins whatsapp "'SM1'")"
it_check_eq "NULL provider id inserted" 1 "$(ins sms NULL)"
it_check_eq "second NULL provider id is not deduplicated" 1 "$(ins sms NULL)"
it_check_eq "messages stored" 4 "$(sql "SELECT count(*) FROM messages WHERE conversation_id = $conv")"
it_check "unknown channel is rejected" fails sql \
    "INSERT INTO contacts (tenant_id, channel, external_id) VALUES (1, 'fax', 'x')"

# --- unanswered conversations: one partial index serves the scheduler's recovery and sweep ----------
sql "UPDATE conversations SET last_inbound_id = (SELECT max(id) FROM messages WHERE conversation_id = $conv) WHERE id = $conv" >/dev/null
it_check_eq "unanswered conversation found" "$conv" \
    "$(sql 'SELECT id FROM conversations WHERE last_inbound_id > greatest(answered_upto, cancelled_upto)')"
it_check_eq "one partial index of the unanswered set (028 dropped the one by id)" "conversations_unanswered_partition_idx" \
    "$(sql "SELECT string_agg(indexname, ' ') FROM pg_indexes WHERE tablename = 'conversations' AND indexdef ILIKE '%greatest(answered_upto, cancelled_upto)%'")"
# the sweep's two queries (scheduler/sched_intake.c: every partition, or the owned ones) page in (partition, id)
# order: the index's order, so its condition is the keyset's row comparison, with no sort (on a table this
# small the planner would rather scan the heap and sort: those paths are turned off, a Sort left means that no
# index gives the order)
sweep="SELECT id FROM conversations WHERE last_inbound_id > greatest(answered_upto, cancelled_upto)
       AND (partition, id) > (-1, 0) %s AND status = 'open' ORDER BY partition, id LIMIT 100"
for parts in "" "AND partition = ANY('{1,2,3}'::int[])"; do
    # shellcheck disable=SC2059
    plan=$(sql "SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off;
                EXPLAIN $(printf "$sweep" "$parts")")
    it_check_match "sweep ${parts:+of owned partitions }is an index scan of the partition index" \
        'Index Scan using conversations_unanswered_partition_idx.*Index Cond: \(+ROW\(partition, id\) > ROW\(' \
        "$(echo "$plan" | tr '\n' ' ')"
    it_check_eq "sweep ${parts:+of owned partitions }needs no sort" 0 "$(echo "$plan" | grep -c Sort)"
done

# --- inventory text search ----------------------------------------------------------------------
sql "INSERT INTO inventory (tenant_id, sku, name, description, category, size, price)
     VALUES (1, 'JK-001', 'Blue denim jacket', 'Vintage Levi''s trucker jacket', 'jackets', 'M', 59.00),
            (1, 'DR-002', 'Red summer dress', 'Light cotton dress', 'dresses', 'S', 35.00)" >/dev/null
it_check_eq "inventory search finds the jacket" "JK-001" \
    "$(sql "SELECT sku FROM inventory WHERE tenant_id = 1 AND search @@ websearch_to_tsquery('simple', 'denim jacket')")"
it_check_eq "inventory search by size and category" "DR-002" \
    "$(sql "SELECT sku FROM inventory WHERE search @@ websearch_to_tsquery('simple', 'dresses S')")"
it_check "duplicate sku per tenant is rejected" fails sql \
    "INSERT INTO inventory (tenant_id, sku) VALUES (1, 'JK-001')"

# --- outbox -----------------------------------------------------------------------------------
it_check "outbox row with defaults" sql \
    "INSERT INTO outbox (tenant_id, conversation_id, channel, payload, idempotency_key) VALUES (1, $conv, 'sms', '{}', 'k1')"
it_check "outbox idempotency key is unique" fails sql \
    "INSERT INTO outbox (tenant_id, conversation_id, channel, payload, idempotency_key) VALUES (1, $conv, 'sms', '{}', 'k1')"
it_check_eq "outbox row is pending and due" "pending|true" \
    "$(sql "SELECT status || '|' || (next_attempt_at <= now()) FROM outbox WHERE idempotency_key = 'k1'")"

# --- 016 on existing data: provider ids become unique per tenant; every stored row stays -----------------
pre="it_db_pre016_$$"
sql "CREATE DATABASE $pre" >/dev/null
pre_url="${LULL_DATABASE_URL%/*}/$pre"
mkdir -p "$IT_TMP/pre016"
for f in "$LULL_ROOT"/migrations/0[01][0-5]_*.sql; do cp "$f" "$IT_TMP/pre016/"; done
LULL_MIGRATIONS_DIR="$IT_TMP/pre016" "$MIGRATE" "$pre_url" >/dev/null 2>&1
psql -X -q -At -v ON_ERROR_STOP=1 -d "$pre_url" -c "
  INSERT INTO tenants (id, slug) VALUES (2, 'two');
  INSERT INTO contacts (id, tenant_id, channel, external_id) VALUES (1, 1, 'generic', 'a'), (2, 2, 'generic', 'b'),
                                                                    (3, 1, 'sms', '+1');
  INSERT INTO conversations (id, tenant_id, contact_id, channel) VALUES (1, 1, 1, 'generic'), (2, 2, 2, 'generic'),
                                                                        (3, 1, 3, 'sms');
  INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, provider_message_id) VALUES
    (1, 1, 'generic', 'in', 'contact', 'order-1'), (2, 2, 'generic', 'in', 'contact', 'order-2'),
    (3, 1, 'sms', 'in', 'contact', 'order-1'), (1, 1, 'generic', 'in', 'contact', NULL),
    (1, 1, 'generic', 'in', 'contact', NULL), (1, 1, 'generic', 'out', 'bot', NULL)" >/dev/null 2>>"$IT_TMP/sql.err" \
    || it_fail "data before 016"
it_check_eq "before 016: at version 15" 15 "$(psql -X -q -At -d "$pre_url" -c 'SELECT max(version) FROM schema_migrations')"
"$MIGRATE" "$pre_url" >/dev/null 2>&1
it_check_eq "016 applies on existing data" "$latest" "$(psql -X -q -At -d "$pre_url" -c 'SELECT max(version) FROM schema_migrations')"
it_check_eq "… every message kept" 6 "$(psql -X -q -At -d "$pre_url" -c 'SELECT count(*) FROM messages')"
psql -X -q -At -v ON_ERROR_STOP=1 -d "$pre_url" -c "INSERT INTO messages (conversation_id, tenant_id, channel, direction,
    author, provider_message_id) VALUES (2, 2, 'generic', 'in', 'contact', 'order-1')" >/dev/null 2>&1
it_check_eq "… after it, another tenant's same id is its own message" 2 \
    "$(psql -X -q -At -d "$pre_url" -c "SELECT count(*) FROM messages WHERE channel = 'generic' AND provider_message_id = 'order-1'")"
it_check "… and the same tenant's same id is still refused" fails psql -X -q -v ON_ERROR_STOP=1 -d "$pre_url" -c \
    "INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, provider_message_id)
     VALUES (1, 1, 'generic', 'in', 'contact', 'order-1')"
sql "DROP DATABASE $pre" >/dev/null

# --- usage upsert -------------------------------------------------------------------------------
for _ in 1 2; do
    sql "INSERT INTO usage (tenant_id, day, provider, model, requests, prompt_tokens)
         VALUES (1, current_date, 'openai', 'm', 1, 10)
         ON CONFLICT (tenant_id, contact_id, day, provider, model)
         DO UPDATE SET requests = usage.requests + EXCLUDED.requests,
                       prompt_tokens = usage.prompt_tokens + EXCLUDED.prompt_tokens" >/dev/null
done
it_check_eq "usage upsert accumulates" "2|20" "$(sql "SELECT requests || '|' || prompt_tokens FROM usage WHERE tenant_id = 1")"

it_finish
