#!/usr/bin/env bash
# lull-ingress with two writer threads and the spill (LULL_INGRESS_WRITER_SPILL=8). Under light load (one webhook at
# a time) the first writer commits every contact's messages and the second commits nothing. When a table lock holds
# the commits while thirty contacts send at once, the waiting webhooks wake the second writer (a spill, counted) and
# it commits its own contacts' messages. Every message is answered 200 and stored once, in the order each contact
# sent them, and each conversation names its newest message. A dormant writer whose backend is terminated notices
# it by itself (it checks its idle connection every 5 s) and connects again.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingress_lib.sh"
it_db_create || it_finish
metric() { curl -s "$ING_OPS/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
commits() { metric "lull_ingress_writer_commits_total{writer=\"$1\"}"; }
ing_start LULL_INGRESS_WRITERS=2 LULL_INGRESS_WRITER_SPILL=8

# light: twenty contacts, one webhook at a time
for c in $(seq 1 20); do
    ing_json /webhook '{"contact_id":"l'"$c"'","message":{"body":"1","id":"l'"$c"'-1"}}'
    echo "$ING_CODE" >>"$IT_TMP/codes.light"
done
it_check_eq "light: 20 answers 200" 20 "$(grep -c '^200$' "$IT_TMP/codes.light")"
it_check_eq "light: 20 messages stored" 20 "$(it_sql "SELECT count(*) FROM messages WHERE provider_message_id LIKE 'l%'")"
it_check "light: the first writer committed them (${c0:=$(commits 0)} transactions)" [ "${c0:-0}" -ge 1 ]
it_check_eq "light: the second writer committed nothing" 0 "$(commits 1)"
it_check_eq "light: no spill" 0 "$(metric lull_ingress_writer_spills_total)"
it_check_eq "light: nothing handed over (a dormant writer is not down)" 0 "$(metric lull_ingress_handed_over_total)"

# heavy: a lock on messages holds every commit for 1.5 s while thirty contacts send three messages each, one after
# the other; their first messages wait at once
it_start lock psql "$LULL_DATABASE_URL" -X -q -v ON_ERROR_STOP=1 \
    -c "BEGIN; LOCK TABLE messages IN EXCLUSIVE MODE; SELECT pg_sleep(1.5); COMMIT;"
locked() { [ "$(it_sql "SELECT count(*) FROM pg_locks WHERE relation = 'messages'::regclass AND mode = 'ExclusiveLock' AND granted")" = 1 ]; }
it_wait_for "the lock is held" 10 locked
pids=()
for c in $(seq 1 30); do
    ( for n in 1 2 3; do
          ing_json /webhook '{"contact_id":"h'"$c"'","message":{"body":"'"$n"'","id":"h'"$c"'-'"$n"'"}}'
          echo "$ING_CODE" >>"$IT_TMP/codes.heavy"
      done ) & pids+=($!)
done
wait "${pids[@]}"
it_check_eq "heavy: 90 answers 200" 90 "$(grep -c '^200$' "$IT_TMP/codes.heavy")"
it_check "heavy: the queue spilled ($(metric lull_ingress_writer_spills_total) times)" \
    [ "$(metric lull_ingress_writer_spills_total)" -ge 1 ]
it_check "heavy: the second writer committed its contacts' messages ($(commits 1) transactions)" [ "$(commits 1)" -ge 1 ]
it_check_eq "heavy: nothing handed over" 0 "$(metric lull_ingress_handed_over_total)"

it_check_eq "110 messages, each stored once" "110 110" \
    "$(it_sql "SELECT count(*), count(DISTINCT provider_message_id) FROM messages" | tr '|' ' ')"
it_check_eq "one conversation per contact" 50 "$(it_sql "SELECT count(*) FROM conversations")"
ing_check_order
# dormant again (a second after the last spill): its backend terminated, writer 1 notices by itself within its
# check interval (5 s) and connects again, without a webhook asking
sleep 1.5
pid1=$(it_sql "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'lull-ingress-writer-1'")
it_check "writer 1 has a backend (${pid1:-none})" [ -n "$pid1" ]
it_sql "SELECT pg_terminate_backend(${pid1:-0})" >/dev/null
down() { grep -q '"ev":"ingress.writer_down".*"writer":1' "$ING_LOG"; }
it_wait_for "the dormant writer 1 notices its lost connection" 10 down
up() { grep -q '"ev":"ingress.writer_up".*"writer":1' "$ING_LOG"; }
it_wait_for "… and connects again" 10 up
it_check_eq "writer 1 has a new backend" 1 "$(it_sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
    AND application_name = 'lull-ingress-writer-1' AND pid <> ${pid1:-0}")"
it_check_eq "two writers connected" 2 "$(metric lull_ingress_writers_connected)"
it_stop "$ING_PID" TERM
it_check_eq "exits 0 on SIGTERM" 0 "$IT_RC"
it_finish
