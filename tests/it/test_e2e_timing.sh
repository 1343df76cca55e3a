#!/usr/bin/env bash
# End to end through the real tiers, timing of replies. A contact who keeps writing (a message every 100 ms,
# window 300 ms, max_wait 1000 ms, an LLM that takes 250 ms, so a newer message always arrives during the
# call) is answered by max wait while still writing: the max-wait job commits its reply up to the messages it
# saw, and the next window answers the rest. A reply superseded by a newer message inside the window (slow
# LLM: the second message arrives during the LLM call) is not sent: the job ends `superseded`, no outbox row
# is written for it, and the next reply covers both messages.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/e2e_lib.sh"
it_db_create || it_finish
it_sql "UPDATE tenants SET window_ms = 300, max_wait_ms = 1000 WHERE slug = 'default'" >/dev/null
e2e_start || it_finish

# 1. max wait: 30 messages, 100 ms apart (3 s), far longer than max_wait. The window never closes by itself
# (100 ms < 300 ms), so only max wait can dispatch while Walter writes; the LLM's 250 ms guarantee that each
# reply call overlaps newer messages. Note after which message the first LLM reply call arrived at the fake
# (its ledger records a request when it arrives) and after which one the first reply was delivered.
e2e_fake "$LLM/_fake/config" '{"latency_ms":250}' || it_fail "fake LLM latency set"
sent=0; at_first=; at_sent=; WCONV=
for i in $(seq 1 30); do
    [ "$(e2e_post walter "walter part $i.")" = 200 ] && sent=$((sent + 1))
    [ -z "$WCONV" ] && WCONV=$(e2e_conv walter)
    [ -z "$at_first" ] && [ "$(e2e_llm_reply_has 'walter part 1.')" -ge 1 ] && at_first=$i
    [ -z "$at_sent" ] && [ "$(it_sql "SELECT count(*) FROM outbox WHERE conversation_id = ${WCONV:-0} AND status = 'sent'")" -ge 1 ] && at_sent=$i
    sleep 0.1
done
it_check_eq "all 30 messages accepted" 30 "$sent"
it_check_match "max wait dispatched an LLM call while the contact was still writing (after message N < 30)" '^([1-9]|[12][0-9])$' "$at_first"
it_check_match "a reply was delivered while the contact was still writing (after message N < 30)" '^([1-9]|[12][0-9])$' "$at_sent"
first=$(curl -s "$LLM/_fake/ledger" | jq -c '[.[] | select(.kind == "reply")][0].body | tostring')
n=0; while [ $n -lt 30 ] && [[ "$first" == *"walter part $((n + 1))."* ]]; do n=$((n + 1)); done
it_check_match "the first LLM call's prompt holds the first messages in order (holds 1..$n)" '^([2-9]|[12][0-9])$' "$n"
it_check "the first LLM call's prompt does not hold the messages sent after it" test "$(grep -o 'walter part [0-9]*\.' <<<"$first" | sort -u | wc -l)" -eq "$n"
it_check "the first LLM call's prompt holds at most the messages sent before it arrived" test "$n" -le "$at_first"
it_check "the scheduler flagged Walter's first job as max wait" \
    test "$(jq -r "select(.ev == \"dispatch\" and .conv == $WCONV) | .max_wait" "$IT_TMP/scheduler.jsonl" | head -1)" = true
it_wait_for "Walter's last message answered too" 15 e2e_answered "$WCONV"
it_check "max wait dispatched again while Walter kept writing (at least 2 LLM reply calls in 3 s)" \
    test "$(e2e_llm_reply_has 'walter part ')" -ge 2
it_check "replies delivered to Walter while he wrote and after (at least 2)" test "$(e2e_bot_msgs "$WCONV")" -ge 2
e2e_fake "$LLM/_fake/config" '{"latency_ms":50}' || it_fail "fake LLM latency reset"

# 2. superseded: the LLM takes 800 ms; a second message arrives while the first reply is being generated.
it_wait_for "Walter's replies all delivered" 10 e2e_outbox_idle
e2e_fake "$LLM/_fake/config" '{"latency_ms":800}' || it_fail "fake LLM latency set"
base=$(e2e_delivered); sup0=$(e2e_superseded)
it_check_eq "Sam's first message accepted" 200 "$(e2e_post sam 'sam asks about opening hours')"
it_wait_for "the LLM call for Sam's first message started" 10 e2e_ge 1 e2e_llm_reply_has 'sam asks about opening hours' || it_finish
it_check_eq "Sam's second message accepted during the LLM call" 200 "$(e2e_post sam 'sam also asks about parking')"
it_wait_for "a reply delivered to Sam" 15 e2e_delivered_ge $((base + 1))
SCONV=$(e2e_conv sam)
it_wait_for "Sam's second message answered" 15 e2e_answered "$SCONV"
e2e_settle
it_check_eq "exactly one reply delivered to Sam" $((base + 1)) "$(e2e_delivered)"
it_check_eq "exactly one outbox row for Sam's conversation" 1 "$(it_sql "SELECT count(*) FROM outbox WHERE conversation_id = $SCONV")"
it_check_eq "exactly one bot message in Sam's conversation" 1 "$(e2e_bot_msgs "$SCONV")"
both=$(e2e_llm_count '.kind == "reply" and ((.body | tostring) as $b | ($b | contains("sam asks about opening hours")) and ($b | contains("sam also asks about parking")))')
it_check_eq "the second LLM reply call's prompt holds both messages" 1 "$both"
it_check_eq "two LLM reply calls for Sam (the superseded one and the final one)" 2 "$(e2e_llm_reply_has 'sam asks about opening hours')"
it_check_eq "the worker logged Sam's first job as superseded (and the second as replied)" "superseded replied" \
    "$(jq -r "select(.ev == \"job.done\" and .conv == $SCONV) | .outcome" "$IT_TMP/worker.jsonl" | tr '\n' ' ' | sed 's/ $//')"
it_check_eq "the worker's superseded counter went up by one" $((sup0 + 1)) "$(e2e_superseded)"
it_check_eq "every outbox row sent" "sent" "$(it_sql "SELECT string_agg(DISTINCT status, ',') FROM outbox")"
it_finish
