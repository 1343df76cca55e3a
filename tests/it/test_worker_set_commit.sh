#!/usr/bin/env bash
# The worker loads and commits a batch of jobs as set statements (one for the rows of every job, one for their
# histories, one for the common results; a result with an escalation keeps its own statement): jobs handed over
# together, answered together, each get their own conversation's history, their own reply, analysis and outbox
# row; two jobs of the same burst in one batch commit once (the other is a duplicate); an escalation in the same
# batch is written too; a job of a conversation that does not exist writes nothing; usage_tenant_day (kept by
# statement triggers since migration 030) still sums usage exactly.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/worker_env.sh"
W_LATENCY_MS=300 w_setup  # the fake LLM answers every request after 300 ms: the jobs end, and commit, together
w_worker
it_sql "UPDATE tenants SET escalation_keywords = '{lawyer}' WHERE id = 1" >/dev/null

w_conv sms +15552000001 "alpha one" "alpha two"; A=$CONV; UA=$UPTO
w_conv sms +15552000002 "bravo words"; B=$CONV; UB=$UPTO
w_conv whatsapp +15552000003 "charlie words"; C=$CONV; UC=$UPTO
w_conv sms +15552000004 "I want my lawyer"; D=$CONV; UD=$UPTO
missing=$(( D + 1000000 ))
w_job "$A" 0 "$UA"; w_job "$A" 0 "$UA"; w_job "$B" 0 "$UB"; w_job "$C" 0 "$UC"; w_job "$D" 0 "$UD"
w_job "$missing" 0 1
for c in "$B" "$C" "$D" "$missing"; do w_done "$c" >/dev/null; done
it_wait_for "both DONEs of the doubled job" 10 bash -c "[ \$(grep -c '\"conv\":$A,' '$W_SCHED_LOG') -ge 2 ]"
outcome() { grep "\"conv\":$1," "$W_SCHED_LOG" | jq -r 'select(.type == "done") | .outcome' | sort | paste -sd' '; }

it_check_eq "doubled job: one replied, one duplicate" "duplicate replied" "$(outcome "$A")"
for c in "$A" "$B" "$C"; do
    it_check_eq "conversation $c: answered up to its burst, one reply, one analysis of it, one outbox row of it" \
        "t|1|1|1|t|t" "$(it_sql "SELECT c.answered_upto = c.last_inbound_id,
            (SELECT count(*) FROM messages WHERE conversation_id = c.id AND direction = 'out'),
            (SELECT count(*) FROM analyses WHERE conversation_id = c.id AND message_id = (SELECT id FROM messages
              WHERE conversation_id = c.id AND direction = 'out')),
            (SELECT count(*) FROM outbox o JOIN messages m ON m.id = o.message_id WHERE o.conversation_id = c.id
              AND o.payload->>'body' = m.body AND o.idempotency_key = 'out_' || m.id AND o.channel = c.channel),
            (SELECT sum(requests) >= 1 FROM usage WHERE contact_id = c.contact_id),
            c.first_unanswered_at IS NULL AND c.last_reply_at IS NOT NULL
            FROM conversations c WHERE c.id = $c")"
done
want=$(it_sql "SELECT string_agg(id::text, ' ' ORDER BY id) FROM outbox WHERE conversation_id IN ($A, $B, $C)")
it_wait_for "the outbox rows announced to the sender" 10 bash -c \
    "[ \"\$(jq -r 'select(.type == \"outbox\") | .outbox_id' '$W_SCHED_LOG' | sort -n | paste -sd' ')\" = '$want' ]"
it_check_eq "each reply's outbox row announced once" "$want" \
    "$(jq -r 'select(.type == "outbox") | .outbox_id' "$W_SCHED_LOG" | sort -n | paste -sd' ')"
it_check_eq "escalation in the same batch: escalated, its row written" "escalated|escalated|1" \
    "$(it_sql "SELECT '$(outcome "$D")', status, (SELECT count(*) FROM escalations WHERE conversation_id = $D) FROM conversations WHERE id = $D")"
it_check "a job of a missing conversation reports" test -n "$(outcome "$missing")"
it_check_eq "it writes nothing" "0|0" "$(it_sql "SELECT (SELECT count(*) FROM messages WHERE conversation_id = $missing), (SELECT count(*) FROM usage WHERE contact_id NOT IN (SELECT contact_id FROM conversations))")"

# each request carried its own conversation's history, loaded by the one history statement of the batch
ledger=$(w_ledger)
for pair in "alpha two:bravo" "bravo words:alpha" "charlie words:bravo"; do
    own=${pair%%:*}; other=${pair#*:}
    it_check_eq "request with '$own' holds no '$other' message" 0 \
        "$(jq --arg o "$own" --arg x "$other" '[.[] | tostring | select(contains($o)) | select(contains($x))] | length' <<<"$ledger")"
    it_check "a request with '$own' was sent" test "$(jq --arg o "$own" '[.[] | tostring | select(contains($o))] | length' <<<"$ledger")" -ge 1
done
it_check_eq "the doubled job's two requests both hold the whole burst" 2 \
    "$(jq '[.[] | tostring | select(contains("alpha one")) | select(contains("alpha two"))] | length' <<<"$ledger")"

it_check_eq "usage_tenant_day sums usage (statement triggers)" \
    "$(it_sql "SELECT coalesce(sum(requests), 0) FROM usage WHERE tenant_id = 1 AND day = current_date")" \
    "$(it_sql "SELECT coalesce(sum(requests), 0) FROM usage_tenant_day WHERE tenant_id = 1 AND day = current_date")"
it_finish
