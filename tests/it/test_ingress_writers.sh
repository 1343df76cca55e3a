#!/usr/bin/env bash
# lull-ingress with several writer threads (LULL_INGRESS_WRITERS=3), each with its own queue: eight contacts send
# five messages each, the contacts at once and each contact's messages one after the other, plus copies of one
# delivery at once. Every message is stored once, in its contact's one conversation, in the order it was sent
# (message ids rise with the sequence number in the body), each conversation names its newest message, and the
# copies are one row answered with one id.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingress_lib.sh"
it_db_create || it_finish
ing_start LULL_INGRESS_WRITERS=3

send() {  # contact: its five messages, one after the other; one line per answer
    local c=$1 n
    for n in 1 2 3 4 5; do
        ing_json /webhook '{"contact_id":"w'"$c"'","message":{"body":"'"$n"'","id":"w'"$c"'-'"$n"'"}}'
        echo "$ING_CODE" >>"$IT_TMP/writers.$c"
    done
}
pids=()
for c in 1 2 3 4 5 6 7 8; do send "$c" & pids+=($!); done
for i in 1 2 3 4; do
    ( ing_json /webhook '{"contact_id":"w9","message":{"body":"copy","id":"w9-copy"}}'
      echo "$ING_CODE $(jq -r '.message_id // empty' <<<"$ING_BODY" 2>/dev/null)" >"$IT_TMP/copy.$i" ) & pids+=($!)
done
wait "${pids[@]}"

it_check_eq "40 messages answered 200" "40" "$(cat "$IT_TMP"/writers.* | grep -c '^200$')"
it_check_eq "40 messages stored" 40 "$(it_sql "SELECT count(*) FROM messages WHERE provider_message_id LIKE 'w_-_'")"
it_check_eq "one contact and one conversation per sender" "9 9" \
    "$(it_sql "SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM conversations)" | tr '|' ' ')"
ing_check_order 'w_-_'
it_check_eq "4 copies at once: all answered 200" "200" "$(cat "$IT_TMP"/copy.* | awk '{print $1}' | sort -u | tr -d '\n')"
it_check_eq "4 copies at once: one row" 1 "$(it_sql "SELECT count(*) FROM messages WHERE provider_message_id = 'w9-copy'")"
it_check_eq "4 copies at once: one message_id, the stored one" \
    "$(it_sql "SELECT id FROM messages WHERE provider_message_id = 'w9-copy'")" \
    "$(cat "$IT_TMP"/copy.* | awk '{print $2}' | sort -u | tr -d '\n')"
it_finish
