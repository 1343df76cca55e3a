#!/usr/bin/env bash
# lull-ingress with two writer threads, one of them cut from the database (its backend terminated, new connections
# refused so that it cannot reconnect) while the database is up for the other: the webhooks of both writers'
# contacts are answered 200 and stored (the connected writer stores the other's contacts' messages), once each, in
# the order each contact sent them; when the writer can connect again it stores its contacts' messages itself. And
# one writer whose backend is terminated answers the next webhooks after reconnecting, without a 503.
# The cut is made on this test's own database only.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingress_lib.sh"
it_db_create || it_finish
db=${LULL_DATABASE_URL##*/}
admin_url=${LULL_DATABASE_URL%/*}/postgres
admin() { psql "$admin_url" -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
writer_pid() { admin "SELECT pid FROM pg_stat_activity WHERE datname = '$db' AND application_name = 'lull-ingress-writer-$1'"; }
metric() { curl -s "$ING_OPS/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
# (no spill: the second writer commits its own contacts from the start, so its cut is seen at once)
ing_start LULL_INGRESS_WRITERS=2 LULL_INGRESS_WRITER_SPILL=0

# send FIRST LAST : ten contacts at once, each its messages FIRST…LAST one after the other; one answer code per line
send() {
    local c pids=()
    for c in 0 1 2 3 4 5 6 7 8 9; do
        ( for ((n = $1; n <= $2; n++)); do
              ing_json /webhook '{"contact_id":"d'"$c"'","message":{"body":"'"$n"'","id":"d'"$c"'-'"$n"'"}}'
              echo "$ING_CODE" >>"$IT_TMP/codes.$1"
          done ) & pids+=($!)
    done
    wait "${pids[@]}"
    grep -c '^200$' "$IT_TMP/codes.$1"
}

it_check_eq "both writers up: 10 answers 200" 10 "$(send 1 1)"
it_check_eq "each writer has its own backend, named" "1 1" "$(writer_pid 0 | wc -l) $(writer_pid 1 | wc -l)"
it_check_eq "two writers connected" 2 "$(metric lull_ingress_writers_connected)"

# writer 1 cut off: its backend terminated, and no new connection allowed (writer 0 keeps its connection)
pid1=$(writer_pid 1)
admin "ALTER DATABASE \"$db\" ALLOW_CONNECTIONS false" >/dev/null
admin "SELECT pg_terminate_backend($pid1)" >/dev/null
gone() { [ "$(admin "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid1")" = 0 ]; }
it_wait_for "writer 1's backend is gone" 10 gone
it_check_eq "writer 1 down: 50 answers 200 (messages 2-6 of ten contacts)" 50 "$(send 2 6)"
handed=$(metric lull_ingress_handed_over_total)
it_check "messages of writer 1's contacts were stored by writer 0 (handed over: ${handed:-none})" \
    [ "${handed:-0}" -gt 0 ]
it_check_match "writer 1 logged down" '"ev":"ingress.writer_down".*"writer":1' "$(cat "$ING_LOG")"
it_check_eq "one writer connected" 1 "$(metric lull_ingress_writers_connected)"

# writer 1 may connect again: it comes back by itself and stores its contacts' messages again
admin "ALTER DATABASE \"$db\" ALLOW_CONNECTIONS true" >/dev/null
up() { grep -q '"ev":"ingress.writer_up".*"writer":1' "$ING_LOG"; }
it_wait_for "writer 1 reconnects" 10 up
it_check_eq "two writers connected again" 2 "$(metric lull_ingress_writers_connected)"
it_check_eq "writer 1 has a backend again" 1 "$(writer_pid 1 | wc -l)"
it_check_eq "writer 1 back: 20 answers 200 (messages 7-8)" 20 "$(send 7 8)"
it_check_eq "… and no message handed over any more" "$handed" "$(metric lull_ingress_handed_over_total)"

it_check_eq "80 messages, each stored once" "80 80" \
    "$(it_sql "SELECT count(*), count(DISTINCT provider_message_id) FROM messages" | tr '|' ' ')"
it_check_eq "one conversation per contact" 10 "$(it_sql "SELECT count(*) FROM conversations")"
ing_check_order
it_check_eq "no webhook was answered other than 200" 80 "$(cat "$IT_TMP"/codes.* | grep -c '^200$')"
it_stop "$ING_PID" TERM
it_check_eq "exits 0 on SIGTERM" 0 "$IT_RC"

# one writer, its backend terminated (the database up): the next webhooks find it gone before sending anything,
# reconnect and are stored
ing_start LULL_INGRESS_WRITERS=1
ing_json /webhook '{"contact_id":"s","message":{"body":"1","id":"s-1"}}'
it_check_eq "one writer: 200" 200 "$ING_CODE"
pid0=$(writer_pid 0)
admin "SELECT pg_terminate_backend($pid0)" >/dev/null
pid1=$pid0
it_wait_for "the writer's backend is gone" 10 gone
codes=""
for n in 2 3 4; do
    ing_json /webhook '{"contact_id":"s","message":{"body":"'"$n"'","id":"s-'"$n"'"}}'
    codes+="$ING_CODE "
done
it_check_eq "backend terminated: the next webhooks answered 200 after the reconnect" "200 200 200 " "$codes"
it_check_eq "… and stored" "s-1,s-2,s-3,s-4" \
    "$(it_sql "SELECT string_agg(provider_message_id, ',' ORDER BY id) FROM messages WHERE provider_message_id LIKE 's-%'")"
it_check_eq "the writer has a new backend" 1 "$(writer_pid 0 | grep -vc "^$pid0\$")"
it_stop "$ING_PID" TERM
it_check_eq "exits 0 on SIGTERM" 0 "$IT_RC"
it_finish
