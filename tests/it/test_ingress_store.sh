#!/usr/bin/env bash
# lull_ingress_store() (011, per-tenant dedupe since 016) against the one of 010, and under concurrency.
# 1. The same batches (new and existing contacts and conversations, every channel, a TikTok person's reply
#    on a new and on an existing conversation, duplicates, unknown tenant and session, a contact made outside
#    ingress without a conversation) go through 011 in one database and through 010's function in another:
#    the per-row outcomes and message ids, and then the contacts, conversations and messages, must be the same.
# 2. Two sessions store messages of the same new contact at once (as two ingress processes on one database
#    would): one contact, one conversation, both messages stored, the conversation state names the newest.
# 3. Its cached plans never scan a whole table.
# 4. lull_ingress_store_rows (031, the writer's call for batches of one or two rows): the same batches whole through
#    it (a batch naming one contact twice is handed to lull_ingress_store), and every row of them alone through it
#    and through lull_ingress_store, each in a database of its own: the same outcomes, message ids and state; its
#    plans never scan a whole table; and the race of 2 through it.
source "$(dirname "$0")/lib.sh"
it_db_create || it_finish
new_url=$LULL_DATABASE_URL
it_db_create || it_finish
old_url=$LULL_DATABASE_URL
it_db_create || it_finish
one_url=$LULL_DATABASE_URL   # lull_ingress_store_rows, one row per call
it_db_create || it_finish
per_url=$LULL_DATABASE_URL   # lull_ingress_store, one row per call
it_db_create || it_finish
whole_url=$LULL_DATABASE_URL  # lull_ingress_store_rows, whole batches

# 010's function under another name, in the second database, with the per-tenant dedupe key of 016
# shellcheck disable=SC2016 # (a sed address, not an expansion)
sed -n '/^CREATE FUNCTION lull_ingress_store/,/^\$fn\$;/p' "$LULL_ROOT/migrations/010_ingress.sql" |
    sed -e 's/^CREATE FUNCTION lull_ingress_store(/CREATE FUNCTION lull_ingress_store_010(/' \
        -e 's/ON CONFLICT (channel, provider_message_id)/ON CONFLICT (tenant_id, channel, provider_message_id)/' \
        -e 's/WHERE m.id IS NULL AND e.channel = u.channel/WHERE m.id IS NULL AND e.tenant_id = u.tenant_id AND e.channel = u.channel/' |
    psql "$old_url" -X -q -v ON_ERROR_STOP=1 >/dev/null || it_fail "loading 010's lull_ingress_store"

both() {  # SQL run on every database
    LULL_DATABASE_URL=$new_url it_sql "$1" >/dev/null || it_fail "new db: $1"
    LULL_DATABASE_URL=$old_url it_sql "$1" >/dev/null || it_fail "old db: $1"
    LULL_DATABASE_URL=$one_url it_sql "$1" >/dev/null || it_fail "one-row db: $1"
    LULL_DATABASE_URL=$per_url it_sql "$1" >/dev/null || it_fail "per-row db: $1"
    LULL_DATABASE_URL=$whole_url it_sql "$1" >/dev/null || it_fail "whole-batch db: $1"
}
both "INSERT INTO tenants (slug, window_ms, channel_windows, twilio_numbers, tiktok_client_key, tiktok_business_id,
                           human_pause_ms)
      VALUES ('two', 5000, '{\"tiktok\": {\"window_ms\": 7000}}', '{+15550002222}', 'ck-two', 'biz-two', 60000)"

n=0
store() {  # batch JSON: runs it through both functions and compares the outcomes
    n=$((n + 1))
    local q="SELECT i, outcome, tenant_id, message_id, window_ms, conversation_id IS NULL FROM %s(\$\$$1\$\$::jsonb) ORDER BY i"
    local a b
    # shellcheck disable=SC2059
    a=$(LULL_DATABASE_URL=$new_url it_sql "$(printf "$q" lull_ingress_store)") || it_fail "batch $n on 011"
    # shellcheck disable=SC2059
    b=$(LULL_DATABASE_URL=$old_url it_sql "$(printf "$q" lull_ingress_store_010)") || it_fail "batch $n on 010"
    it_check_eq "batch $n: same outcomes as 010" "$b" "$a"
    LAST=$a
    # shellcheck disable=SC2059
    b=$(LULL_DATABASE_URL=$whole_url it_sql "$(printf "$q" lull_ingress_store_rows)") || it_fail "batch $n on 031"
    it_check_eq "batch $n: lull_ingress_store_rows, the same outcomes" "$a" "$b"
    # each row alone, through lull_ingress_store_rows and through lull_ingress_store
    local e q1="SELECT i, outcome, tenant_id, message_id, window_ms, conversation_id IS NULL, contact_id IS NULL FROM %s(\$\$[%s]\$\$::jsonb)"
    a= b=
    while IFS= read -r e; do
        # shellcheck disable=SC2059
        a+=$(LULL_DATABASE_URL=$one_url it_sql "$(printf "$q1" lull_ingress_store_rows "$e")")$'\n' || it_fail "batch $n row on 031"
        # shellcheck disable=SC2059
        b+=$(LULL_DATABASE_URL=$per_url it_sql "$(printf "$q1" lull_ingress_store "$e")")$'\n' || it_fail "batch $n row on 030"
    done < <(LULL_DATABASE_URL=$one_url it_sql "SELECT e::text FROM jsonb_array_elements(\$\$$1\$\$::jsonb) e")
    it_check_eq "batch $n row by row: lull_ingress_store_rows as lull_ingress_store" "$b" "$a"
    ROWS_OUT=$a
}

store '[
 {"i":0,"route":"default","channel":"generic","external_id":"g1","direction":"in","author":"contact","body":"hi","first_name":"Ann","provider_message_id":"g-1","raw":{"a":1}},
 {"i":1,"route":"default","channel":"generic","external_id":"g1","direction":"in","author":"contact","body":"again","last_name":"Lee","provider_message_id":"g-2"},
 {"i":2,"route":"twilio","route_key":"whatsapp:+15550002222","route_key2":"+15550002222","channel":"whatsapp","external_id":"+15551110001","direction":"in","author":"contact","body":"wa","profile_name":"Wes","phone":"+15551110001","business_address":"whatsapp:+15550002222","media":[{"url":"https://x/1"}],"provider_message_id":"SMw1"},
 {"i":3,"route":"twilio","route_key":"+15559999999","route_key2":"+15559999999","channel":"sms","external_id":"+15551110002","direction":"in","author":"contact","body":"sms to an unknown number","phone":"+15551110002","business_address":"+15559999999","provider_message_id":"SMs1"},
 {"i":4,"route":"tiktok","route_key":"ck-two","channel":"tiktok","external_id":"tt-user-1","direction":"in","author":"contact","body":"tt","business_address":"biz-other","external_conversation_id":"conv-1","provider_message_id":"tt-1"},
 {"i":5,"route":"tiktok","route_key":"ck-two","channel":"tiktok","external_id":"tt-user-2","direction":"out","author":"human","body":"a person answers first","external_conversation_id":"conv-2","provider_message_id":"tt-2"},
 {"i":6,"route":"slug","route_key":"nobody","channel":"generic","external_id":"g9","direction":"in","author":"contact","body":"x","provider_message_id":"g-9"},
 {"i":7,"route":"session","route_key":"ws_missing","channel":"webchat","external_id":"ws_missing","direction":"in","author":"contact","body":"x"},
 {"i":8,"route":"slug","route_key":"two","channel":"generic","external_id":"g1","direction":"in","author":"contact","body":"same id, other tenant","provider_message_id":"g-3"}
]'
it_check_eq "batch 1: outcomes" "new new new new new new unknown_tenant unknown_session new" \
    "$(awk -F'|' '{printf "%s%s", (NR > 1 ? " " : ""), $2}' <<<"$LAST")"
it_check_eq "batch 1 row by row: outcomes" "new new new new new new unknown_tenant unknown_session new" \
    "$(awk -F'|' 'NF {printf "%s%s", (n++ ? " " : ""), $2}' <<<"$ROWS_OUT")"

# a contact made outside ingress, without a conversation
both "INSERT INTO contacts (tenant_id, channel, external_id, first_name) VALUES (1, 'sms', '+15551110003', 'Out')"

store '[
 {"i":0,"route":"default","channel":"generic","external_id":"g1","direction":"in","author":"contact","body":"third","first_name":"Anne","provider_message_id":"g-4"},
 {"i":1,"route":"tiktok","route_key":"ck-two","channel":"tiktok","external_id":"tt-user-1","direction":"out","author":"human","body":"a person answers","external_conversation_id":"conv-1","provider_message_id":"tt-3"},
 {"i":2,"route":"twilio","route_key":"whatsapp:+15550002222","route_key2":"+15550002222","channel":"whatsapp","external_id":"+15551110001","direction":"in","author":"contact","body":"wa","provider_message_id":"SMw1"},
 {"i":3,"route":"twilio","route_key":"+15559999999","route_key2":"+15559999999","channel":"sms","external_id":"+15551110003","direction":"in","author":"contact","body":"outside contact","provider_message_id":"SMs3"},
 {"i":4,"route":"default","channel":"generic","external_id":"g1","direction":"in","author":"contact","body":"no provider id"},
 {"i":5,"route":"default","channel":"generic","external_id":"g1","direction":"in","author":"contact","body":"again","provider_message_id":"g-2"}
]'
it_check_eq "batch 2: outcomes" "new new duplicate new new duplicate" \
    "$(awk -F'|' '{printf "%s%s", (NR > 1 ? " " : ""), $2}' <<<"$LAST")"
it_check_eq "batch 2 row by row: outcomes" "new new duplicate new new duplicate" \
    "$(awk -F'|' 'NF {printf "%s%s", (n++ ? " " : ""), $2}' <<<"$ROWS_OUT")"

store '[
 {"i":0,"route":"twilio","route_key":"whatsapp:+15550002222","route_key2":"+15550002222","channel":"whatsapp","external_id":"+15551110001","direction":"in","author":"contact","body":"wa 2","profile_name":"Wesley","provider_message_id":"SMw2"},
 {"i":1,"route":"tiktok","route_key":"ck-two","channel":"tiktok","external_id":"tt-user-2","direction":"in","author":"contact","body":"after the person","external_conversation_id":"conv-2","provider_message_id":"tt-4"}
]'

# new contacts' attributes come from their latest inbound row (one with an older inbound row carrying other names
# and a later outbound one; one with outbound rows only: no attributes, no last_inbound_at)
store '[
 {"i":0,"route":"default","channel":"generic","external_id":"g20","direction":"in","author":"contact","body":"a","first_name":"Old","last_name":"Name","phone":"+15550000020","provider_message_id":"g-20"},
 {"i":1,"route":"default","channel":"generic","external_id":"g20","direction":"in","author":"contact","body":"b","first_name":"New","profile_name":"Newer","provider_message_id":"g-21"},
 {"i":2,"route":"default","channel":"generic","external_id":"g20","direction":"out","author":"human","body":"c","first_name":"Agent","provider_message_id":"g-22"},
 {"i":3,"route":"default","channel":"generic","external_id":"g21","direction":"out","author":"human","body":"d","first_name":"Agent","phone":"+15550000021","provider_message_id":"g-23"},
 {"i":4,"route":"default","channel":"generic","external_id":"g21","direction":"out","author":"human","body":"e","provider_message_id":"g-24"}
]'
it_check_eq "new contacts: the latest inbound row's attributes; none without an inbound row" \
    "g20|New||Newer||f g21|||||t" \
    "$(LULL_DATABASE_URL=$new_url it_sql "SELECT string_agg(format('%s|%s|%s|%s|%s|%s', external_id, first_name, last_name, profile_name,
                                          phone, last_inbound_at IS NULL), ' ' ORDER BY external_id)
                                          FROM contacts WHERE external_id IN ('g20', 'g21')")"

# distinct contacts in one batch (lull_ingress_store_rows stores them one after the other): new and returning
# contacts, a person's reply on an existing conversation, an unknown tenant, a delivery stored before
store '[
 {"i":0,"route":"default","channel":"generic","external_id":"g30","direction":"in","author":"contact","body":"new","first_name":"Gia","provider_message_id":"g-30"},
 {"i":1,"route":"default","channel":"generic","external_id":"g1","direction":"in","author":"contact","body":"back","profile_name":"Annie","provider_message_id":"g-31"},
 {"i":2,"route":"twilio","route_key":"+15550002222","route_key2":"+15550002222","channel":"sms","external_id":"+15551110009","direction":"in","author":"contact","body":"sms","phone":"+15551110009","business_address":"+15550002222","provider_message_id":"SMs9"},
 {"i":3,"route":"tiktok","route_key":"ck-two","channel":"tiktok","external_id":"tt-user-1","direction":"out","author":"human","body":"a person again","external_conversation_id":"conv-1","provider_message_id":"tt-5"},
 {"i":4,"route":"slug","route_key":"nobody","channel":"generic","external_id":"g31","direction":"in","author":"contact","body":"x","provider_message_id":"g-32"},
 {"i":5,"route":"twilio","route_key":"+15559999999","route_key2":"+15559999999","channel":"sms","external_id":"+15551110003","direction":"in","author":"contact","body":"outside contact","provider_message_id":"SMs3"}
]'
it_check_eq "batch 5: outcomes" "new new new new unknown_tenant duplicate" \
    "$(awk -F'|' '{printf "%s%s", (NR > 1 ? " " : ""), $2}' <<<"$LAST")"

state() {  # everything the tiers read, without ids that depend on sequence gaps
    psql "$1" -X -q -A -t -v ON_ERROR_STOP=1 -c "
      SELECT 'k', tenant_id, channel, external_id, first_name, last_name, profile_name, phone, metadata,
             last_inbound_at IS NULL FROM contacts ORDER BY tenant_id, channel, external_id" -c "
      SELECT 'v', v.tenant_id, k.channel, k.external_id, v.channel, v.status, v.answered_upto, v.cancelled_upto,
             v.paused_until IS NULL, v.business_address, v.external_conversation_id, v.last_inbound_id,
             v.last_inbound_at IS NULL, v.first_unanswered_at IS NULL, v.wa_window_start IS NULL,
             v.last_reply_at IS NULL, v.failed_attempts
      FROM conversations v JOIN contacts k ON k.id = v.contact_id ORDER BY v.tenant_id, k.channel, k.external_id" -c "
      SELECT 'm', m.id, m.tenant_id, k.external_id, m.channel, m.direction, m.author, m.body, m.media,
             m.provider_message_id, m.raw
      FROM messages m JOIN conversations v ON v.id = m.conversation_id JOIN contacts k ON k.id = v.contact_id
      ORDER BY m.id"
}
new_state=$(state "$new_url")
it_check_eq "contacts, conversations and messages as with 010" "$(state "$old_url")" "$new_state"
it_check_eq "whole batches: contacts, conversations and messages of lull_ingress_store_rows as of lull_ingress_store" \
    "$new_state" "$(state "$whole_url")"
one_state=$(state "$one_url")
it_check_eq "row by row: contacts, conversations and messages of lull_ingress_store_rows as of lull_ingress_store" \
    "$(state "$per_url")" "$one_state"
it_check_match "row by row: the TikTok person's reply on an existing conversation cancelled its burst" \
    "v\|2\|tiktok\|tt-user-1\|tiktok\|open\|0\|[1-9][0-9]*\|f\|biz-two\|conv-1\|" "$one_state"
it_check_match "row by row: a new contact gets its first row's attributes, later rows update them" \
    "k\|1\|generic\|g20\|New\|Name\|Newer\|\+15550000020\|" "$one_state"
it_check_match "the WhatsApp conversation names its newest message and opened the window" \
    "v\|2\|whatsapp\|\+15551110001\|whatsapp\|open\|0\|0\|t\|whatsapp:\+15550002222\|\|[0-9]+\|f\|f\|f" "$new_state"
it_check_match "TikTok: the person's reply on a new conversation paused it without cancelling" \
    "v\|2\|tiktok\|tt-user-2\|tiktok\|open\|0\|0\|f\|biz-two\|conv-2\|[1-9][0-9]*\|f\|f\|t" "$new_state"
tt1=$(LULL_DATABASE_URL=$new_url it_sql "SELECT id FROM messages WHERE provider_message_id = 'tt-1'")
it_check_match "TikTok: the person's reply on an existing conversation cancelled its burst" \
    "v\|2\|tiktok\|tt-user-1\|tiktok\|open\|0\|$tt1\|f\|biz-two\|conv-1\|$tt1\|" "$new_state"

# The function's cached plans never scan a whole table (plans made while the tables were small used to
# seq-scan contacts/conversations on every batch): count sequential scans over nine calls in one session.
seqscans() {  # URL FUNCTION: sequential scans of contacts, conversations and messages over nine calls
    psql "$1" -X -q -A -t -v ON_ERROR_STOP=1 <<SQL | tail -1
SELECT count(*) FROM $2('[{"i":0,"route":"default","channel":"generic","external_id":"seq-0","direction":"in","author":"contact","body":"x","provider_message_id":"seq-m0"}]'::jsonb);
SELECT pg_stat_force_next_flush();
SELECT pg_stat_clear_snapshot();
CREATE TEMP TABLE s0 AS
  SELECT sum(seq_scan) AS n FROM pg_stat_user_tables WHERE relname IN ('contacts', 'conversations', 'messages');
SELECT (SELECT count(*) FROM $2(('[{"i":0,"route":"default","channel":"generic","external_id":"seq-'
        || g % 3 || '","direction":"in","author":"contact","body":"x","provider_message_id":"seq-m1' || g || '"}]')::jsonb))
FROM generate_series(1, 8) g;
SELECT pg_stat_force_next_flush();
SELECT pg_stat_clear_snapshot();
SELECT sum(seq_scan) - (SELECT n FROM s0) FROM pg_stat_user_tables WHERE relname IN ('contacts', 'conversations', 'messages');
SQL
}
it_check_eq "no sequential scan of contacts, conversations or messages by lull_ingress_store" 0 "$(seqscans "$new_url" lull_ingress_store)"
it_check_eq "… nor by lull_ingress_store_rows" 0 "$(seqscans "$one_url" lull_ingress_store_rows)"

# 2. Two sessions, the same new contact, at once: the first holds its transaction open until the second is
#    waiting for it.
race() {  # URL FUNCTION: two sessions store the first messages of one new contact at once through FUNCTION
    export LULL_DATABASE_URL=$1
    local f=$2 a_pid b
    row() { printf '[{"i":0,"route":"default","channel":"generic","external_id":"race","direction":"in","author":"contact","body":"%s","provider_message_id":"%s"}]' "$1" "$2"; }
    psql "$1" -X -q -A -t -v ON_ERROR_STOP=1 >"$IT_TMP/race.$f" 2>&1 <<SQL &
BEGIN;
SELECT outcome FROM $f('$(row first race-1)'::jsonb);
DO \$\$ BEGIN FOR k IN 1..100 LOOP
  EXIT WHEN EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted); PERFORM pg_sleep(0.05);
END LOOP; END \$\$;
COMMIT;
SQL
    a_pid=$!
    it_wait_for "the first session holds the new contact" 5 sh -c \
        "[ \"\$(psql '$1' -X -A -t -c \"SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(0.05)%' AND pid <> pg_backend_pid()\")\" = 1 ]"
    b=$(it_sql "SELECT outcome, message_id FROM $f('$(row second race-2)'::jsonb)")
    wait "$a_pid" || it_fail "first session: $(cat "$IT_TMP/race.$f")"
    it_check_eq "race ($f): the first session stored its message" "new" "$(head -1 "$IT_TMP/race.$f")"
    it_check_match "race ($f): the second one too" "^new\|[0-9]+$" "$b"
    it_check_eq "race ($f): one contact" 1 "$(it_sql "SELECT count(*) FROM contacts WHERE external_id = 'race'")"
    it_check_eq "race ($f): one conversation with both messages" "1|2" \
        "$(it_sql "SELECT count(DISTINCT m.conversation_id), count(*) FROM messages m WHERE provider_message_id LIKE 'race-%'")"
    it_check_eq "race ($f): the conversation's last_inbound_id is the newest message" "${b#new|}" \
        "$(it_sql "SELECT v.last_inbound_id FROM conversations v JOIN contacts k ON k.id = v.contact_id WHERE k.external_id = 'race'")"
}
race "$new_url" lull_ingress_store
race "$one_url" lull_ingress_store_rows
it_finish
