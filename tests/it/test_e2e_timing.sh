#!/usr/bin/env bash
# End to end through the real tiers, timing of replies. A contact who keeps writing (a message every 100 ms,
# window 300 ms, max_wait 1000 ms, an LLM that takes 250 ms, so a newer message always arrives during the
# call) is answered by max wait while still writing: the max-wait job commits its reply up to the messages it
# saw, and the next window answers the rest. A reply superseded by a newer message inside the window (slow
# LLM: the second message arrives during the LLM call) is not sent: the job ends `superseded`, no outbox row
# is written for it, and the next reply covers both messages. A burst of three is answered by one combined
# LLM request per reply, with the analysis from the same call.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/e2e_lib.sh"
it_db_create || it_finish
# history_len 60: the first max-wait prompt (about 10 messages) holds the whole conversation
it_sql "UPDATE tenants SET window_ms = 300, max_wait_ms = 1000, history_len = 60 WHERE slug = 'default'" >/dev/null
e2e_start || it_finish

# 1. max wait: 30 messages, 100 ms apart (3 s), far longer than max_wait. The window never closes by itself
# (100 ms < 300 ms), so only max wait can dispatch while Walter writes; the LLM's 250 ms guarantee that each
# reply call overlaps newer messages. One process posts the messages (post_burst.js) and notes when each request
# started and was answered: a shell loop that starts curl, jq and psql between two messages is slower than the
# window on a loaded machine or under the sanitizer, and then the case never happens. The precondition (no pause
# of nearly a window between two messages) is checked on those times; a burst that broke it (the machine stalled)
# is posted again by a new contact, at most 5 times. The fake LLM's ledger and the outbox say when the first
# reply call arrived and when the first reply was sent, measured against the burst.
e2e_fake "$LLM/_fake/config" '{"latency_ms":250}' || it_fail "fake LLM latency set"
MAX_GAP_MS=220  # the window is 300 ms: keep a margin for the scheduler's own delays
walter_burst() {  # TRY : posts walterTRY's 30 messages; sets W, W_POSTS, W_GAP (ms); false when W_GAP is too long
    local texts=() i
    W=walter$1; W_POSTS=$IT_TMP/$W.posts
    for i in $(seq 1 30); do texts+=("$W part $i."); done
    node "$LULL_ROOT/tests/it/post_burst.js" "$ING/webhook" 100 "$W" "${texts[@]}" >"$W_POSTS"
    # the longest the scheduler can have gone without a message: from one request's start to the next one's answer
    W_GAP=$(awk 'NR > 1 && $3 - sent > max { max = $3 - sent } { sent = $2 } END { print max + 0 }' "$W_POSTS")
    [ "$W_GAP" -lt "$MAX_GAP_MS" ]
}
for try in 1 2 3 4 5; do
    walter_burst "$try" && break
    echo "note: $W's messages were up to $W_GAP ms apart (the machine stalled): a new contact posts them again"
done
it_check "Walter's messages came faster than the window (longest gap $W_GAP ms < $MAX_GAP_MS ms, try $try)" \
    test "$W_GAP" -lt "$MAX_GAP_MS"
WCONV=$(e2e_conv "$W")
it_check_eq "all 30 messages accepted" 30 "$(grep -c '^200 ' "$W_POSTS")"
# at_first / at_sent: how many messages had been started when the first reply call arrived at the fake LLM
# (its ledger notes when a request arrives) and when the first reply was sent (the outbox's sent_at)
t_llm=$(curl -s "$LLM/_fake/ledger" | jq "[.[] | select(.kind == \"reply\" and ((.body | tostring) | contains(\"$W part \")))][0].t_ms // 0")
t_sent=$(it_sql "SELECT coalesce((extract(epoch FROM min(sent_at)) * 1000)::bigint, 0) FROM outbox
                 WHERE conversation_id = $WCONV AND status = 'sent'")
at_first=$(awk -v t="$t_llm" 't > 0 && $2 < t { n++ } END { print (t > 0 ? n + 0 : "none") }' "$W_POSTS")
at_sent=$(awk -v t="$t_sent" 't > 0 && $2 < t { n++ } END { print (t > 0 ? n + 0 : "none") }' "$W_POSTS")
it_check_match "max wait dispatched an LLM call while the contact was still writing (after message N < 30)" '^([1-9]|[12][0-9])$' "$at_first"
it_check_match "a reply was delivered while the contact was still writing (after message N < 30)" '^([1-9]|[12][0-9])$' "$at_sent"
first=$(curl -s "$LLM/_fake/ledger" | jq -c "[.[] | select(.kind == \"reply\" and ((.body | tostring) | contains(\"$W part \")))][0].body | tostring")
n=0; while [ $n -lt 30 ] && [[ "$first" == *"$W part $((n + 1))."* ]]; do n=$((n + 1)); done
it_check_match "the first LLM call's prompt holds the first messages in order (holds 1..$n)" '^([2-9]|[12][0-9])$' "$n"
it_check "the first LLM call's prompt does not hold the messages sent after it" test "$(grep -o "$W part [0-9]*\." <<<"$first" | sort -u | wc -l)" -eq "$n"
it_check "the first LLM call's prompt holds at most the messages sent before it arrived" test "$n" -le "${at_first/none/0}"
it_check "the scheduler flagged Walter's first job as max wait" \
    test "$(jq -r "select(.ev == \"dispatch\" and .conv == $WCONV) | .max_wait" "$IT_TMP/scheduler.jsonl" | head -1)" = true
it_wait_for "Walter's last message answered too" 15 e2e_answered "$WCONV"
it_check "max wait dispatched again while Walter kept writing (at least 2 LLM reply calls in 3 s)" \
    test "$(e2e_llm_reply_has "$W part ")" -ge 2
it_check "replies delivered to Walter while he wrote and after (at least 2)" test "$(e2e_bot_msgs "$WCONV")" -ge 2

# 2. superseded: the LLM takes 800 ms; a second message arrives while the first reply is being generated. The
# precondition (the second message stored before the first call's answer) is checked against the fake LLM's
# ledger; a run that missed it (the machine stalled) is set up again with a new contact and a slower LLM.
sam_try() {  # TRY LATENCY_MS : sets S, SCONV, S_LATE (ms from the first call's arrival to the second message's answer)
    local t0
    S=sam$1
    it_wait_for "every reply delivered before $S writes" 10 e2e_outbox_idle
    e2e_fake "$LLM/_fake/config" "{\"latency_ms\":$2}" || it_fail "fake LLM latency set"
    base=$(e2e_delivered); sup0=$(e2e_superseded)
    it_check_eq "$S's first message accepted" 200 "$(e2e_post "$S" "$S asks about opening hours")"
    it_wait_for "the LLM call for $S's first message started" 10 e2e_ge 1 e2e_llm_reply_has "$S asks about opening hours" || it_finish
    it_check_eq "$S's second message accepted during the LLM call" 200 "$(e2e_post "$S" "$S also asks about parking")"
    S_LATE=$(( $(date +%s%3N) - $(curl -s "$LLM/_fake/ledger" |
        jq "[.[] | select(.kind == \"reply\" and ((.body | tostring) | contains(\"$S asks about opening hours\")))][0].t_ms") ))
    SCONV=$(e2e_conv "$S")
    [ "$S_LATE" -lt "$2" ]
}
latency=800
for try in 1 2 3; do
    sam_try "$try" "$latency" && break
    echo "note: $S's second message came $S_LATE ms after the call started (LLM: $latency ms): again, slower LLM"
    it_wait_for "$S answered before the next try" 15 e2e_answered "$SCONV"
    latency=$((latency * 2))
done
it_check "the second message was stored during the first LLM call ($S_LATE ms < $latency ms, try $try)" \
    test "$S_LATE" -lt "$latency"
it_wait_for "a reply delivered to Sam" 15 e2e_delivered_ge $((base + 1))
it_wait_for "Sam's second message answered" 15 e2e_answered "$SCONV"
e2e_settle
it_check_eq "exactly one reply delivered to Sam" $((base + 1)) "$(e2e_delivered)"
it_check_eq "exactly one outbox row for Sam's conversation" 1 "$(it_sql "SELECT count(*) FROM outbox WHERE conversation_id = $SCONV")"
it_check_eq "exactly one bot message in Sam's conversation" 1 "$(e2e_bot_msgs "$SCONV")"
both=$(e2e_llm_count ".kind == \"reply\" and ((.body | tostring) as \$b | (\$b | contains(\"$S asks about opening hours\")) and (\$b | contains(\"$S also asks about parking\")))")
it_check_eq "the second LLM reply call's prompt holds both messages" 1 "$both"
it_check_eq "two LLM reply calls for Sam (the superseded one and the final one)" 2 "$(e2e_llm_reply_has "$S asks about opening hours")"
it_check_eq "the worker logged Sam's first job as superseded (and the second as replied)" "superseded replied" \
    "$(jq -r "select(.ev == \"job.done\" and .conv == $SCONV) | .outcome" "$IT_TMP/worker.jsonl" | tr '\n' ' ' | sed 's/ $//')"
it_check_eq "the worker's superseded counter went up by one" $((sup0 + 1)) "$(e2e_superseded)"

# 3. one LLM call per burst: three messages posted one after the other (inside one window unless the machine
# stalls) are answered by combined requests only, one per reply, and each reply's analysis comes from it
e2e_fake "$LLM/_fake/config" '{"latency_ms":50}'
B="Bea$$"
for i in 1 2 3; do e2e_post "$B" "$B message $i about my order" >/dev/null; done
BCONV=$(e2e_conv "$B")
it_wait_for "Bea's burst answered" 15 e2e_answered "$BCONV"
breplies=$(e2e_bot_msgs "$BCONV")
it_check_eq "Bea: one combined LLM request per reply" "$breplies|$breplies" \
    "$(e2e_llm_count "(.body | tostring) | contains(\"$B message 1\")")|$(e2e_llm_count ".combined and ((.body | tostring) | contains(\"$B message 1\"))")"
it_check_eq "Bea: each reply's analysis stored, from the same provider call" "$breplies|openai" \
    "$(it_sql "SELECT count(*), string_agg(DISTINCT provider, ',') FROM analyses WHERE conversation_id = $BCONV")"
it_check_eq "Bea: the last analysis covers the whole burst" t \
    "$(it_sql "SELECT max(upto_message_id) = (SELECT last_inbound_id FROM conversations WHERE id = $BCONV) FROM analyses WHERE conversation_id = $BCONV")"
it_wait_for "Bea's replies sent" 15 bash -c "[ \"\$(psql \"$LULL_DATABASE_URL\" -X -A -t -c \"SELECT count(*) FROM outbox WHERE conversation_id = $BCONV AND status <> 'sent'\")\" = 0 ]"
it_check_eq "every outbox row sent" "sent" "$(it_sql "SELECT string_agg(DISTINCT status, ',') FROM outbox")"
it_finish
