#!/usr/bin/env bash
# Worker happy paths against the real database and the fakes: each provider answers, the reply, analysis,
# outbox row, usage and the compare-and-swap are committed in one transaction, OUTBOX reaches the sender,
# duplicate and superseded jobs commit nothing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/worker_env.sh"
w_setup
w_worker

# --- OpenAI (the default chain starts with it)
w_conv sms +15551000001 "Hello there" "is anyone around?"
w_job "$CONV" 0 "$UPTO"; out=$(w_done "$CONV")
it_check_eq "openai: job replied" replied "$out"
row=$(it_sql "SELECT answered_upto = $UPTO, first_unanswered_at IS NULL, status FROM conversations WHERE id = $CONV")
it_check_eq "openai: answered_upto moved by the CAS" "t|t|open" "$row"
it_check_match "openai: bot message stored" "fake reply to" "$(it_sql "SELECT body FROM messages WHERE conversation_id = $CONV AND direction = 'out' AND author = 'bot'")"
ob=$(it_sql "SELECT o.idempotency_key = 'out_' || o.message_id, o.recipient, o.sender_address, o.payload->>'kind', o.status, o.channel FROM outbox o WHERE conversation_id = $CONV")
it_check_eq "openai: outbox row per contracts (sms)" "t|+15551000001|+15550001|reply|pending|sms" "$ob"
obid=$(it_sql "SELECT id FROM outbox WHERE conversation_id = $CONV")
it_wait_for "OUTBOX wake-up for $obid" 5 grep -q "\"outbox_id\":$obid}" "$W_SCHED_LOG"
an=$(it_sql "SELECT sentiment, intent, provider, message_id IS NOT NULL, upto_message_id = $UPTO FROM analyses WHERE conversation_id = $CONV")
it_check_eq "openai: analysis stored" "neutral|inquiry|openai|t|t" "$an"
us=$(it_sql "SELECT provider, model, requests, prompt_tokens > 0, completion_tokens > 0 FROM usage WHERE contact_id = (SELECT contact_id FROM conversations WHERE id = $CONV)")
it_check_eq "openai: usage counted (one combined call for the reply and the analysis)" "openai|gpt-4o-mini|1|t|t" "$us"

# --- duplicate: the same job again commits nothing
n_before=$(it_sql "SELECT count(*) FROM outbox")
w_job "$CONV" 0 "$UPTO"
it_wait_for "second DONE" 10 bash -c "[ \$(grep -c '\"conv\":$CONV,' '$W_SCHED_LOG') -ge 2 ]"
it_check_eq "duplicate job reported" duplicate "$(grep "\"conv\":$CONV," "$W_SCHED_LOG" | tail -1 | jq -r .outcome)"
it_check_eq "duplicate job commits no outbox row" "$n_before" "$(it_sql "SELECT count(*) FROM outbox")"

# --- superseded: a newer message arrived after the job's upto
w_conv sms +15551000002 "first"
old=$UPTO
newer=$(it_sql "INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, body) VALUES ($CONV, 1, 'sms', 'in', 'contact', 'second') RETURNING id")
it_sql "UPDATE conversations SET last_inbound_id = $newer WHERE id = $CONV" >/dev/null
w_job "$CONV" 0 "$old"
it_check_eq "superseded job reported" superseded "$(w_done "$CONV")"
it_check_eq "superseded job: nothing committed" "0|0|0" "$(it_sql "SELECT (SELECT count(*) FROM messages WHERE conversation_id = $CONV AND direction = 'out'), (SELECT count(*) FROM outbox WHERE conversation_id = $CONV), answered_upto FROM conversations WHERE id = $CONV")"

# --- max wait (flag LULL_JOB_MAX_WAIT = 1): the same stale job now answers up to its upto; the newer message
# stays unanswered for the next window, which then answers it
w_job "$CONV" 0 "$old" 1 1 1
it_wait_for "DONE of the max-wait job" 10 bash -c "[ \$(grep -c '\"conv\":$CONV,' '$W_SCHED_LOG') -ge 2 ]"
it_check_eq "max-wait job replied despite the newer message" replied "$(grep "\"conv\":$CONV," "$W_SCHED_LOG" | tail -1 | jq -r .outcome)"
it_check_eq "max-wait job: answered up to its upto, the newer message still unanswered since its own arrival" "$old|$newer|t" \
    "$(it_sql "SELECT answered_upto, last_inbound_id, first_unanswered_at = (SELECT created_at FROM messages WHERE id = $newer) FROM conversations WHERE id = $CONV")"
it_check_eq "max-wait job: one bot message and one outbox row" "1|1" "$(it_sql "SELECT (SELECT count(*) FROM messages WHERE conversation_id = $CONV AND direction = 'out'), (SELECT count(*) FROM outbox WHERE conversation_id = $CONV)")"
mw=$(w_ledger | jq -c '[.[] | select(.kind == "reply") | .body | tostring | select(contains("first"))] | last')
it_check "max-wait job: its prompt holds the first message, not the newer one" \
    bash -c '[[ "$1" == *first* && "$1" != *second* ]]' _ "$mw"
w_job "$CONV" "$old" "$newer"
it_wait_for "DONE of the next window's job" 10 bash -c "[ \$(grep -c '\"conv\":$CONV,' '$W_SCHED_LOG') -ge 3 ]"
it_check_eq "the next window answers the newer message" "replied|$newer|t" \
    "$(grep "\"conv\":$CONV," "$W_SCHED_LOG" | tail -1 | jq -r .outcome)|$(it_sql "SELECT answered_upto, first_unanswered_at IS NULL FROM conversations WHERE id = $CONV")"

# --- Anthropic and Gemini happy paths (tenant chains)
it_sql "INSERT INTO tenants (id, slug, company_name, provider_chain) VALUES (2, 'anth', 'Acme', '{anthropic}'), (3, 'gem', 'Gemco', '{gemini}')" >/dev/null
for t in 2:anthropic 3:gemini; do
    W_TENANT=${t%%:*}; prov=${t#*:}
    w_conv whatsapp "whatsapp:+1555200000$W_TENANT" "Hi, I love your shop"
    w_job "$CONV" 0 "$UPTO"
    it_check_eq "$prov: job replied" replied "$(w_done "$CONV")"
    it_check_match "$prov: reply stored" "fake reply to: Hi, I love" "$(it_sql "SELECT body FROM messages WHERE conversation_id = $CONV AND author = 'bot'")"
    it_check_eq "$prov: analysis stored from $prov" "positive|$prov" "$(it_sql "SELECT sentiment, provider FROM analyses WHERE conversation_id = $CONV")"
    it_check_eq "$prov: whatsapp outbox addresses" "whatsapp:+1555200000$W_TENANT|+15550001" "$(it_sql "SELECT recipient, sender_address FROM outbox WHERE conversation_id = $CONV")"
done
W_TENANT=1
it_check_match "anthropic combined request carries the answer tool and a cache breakpoint" '"reply_with_analysis","ephemeral"' "$(w_ledger | jq -c '[.[] | select(.provider == "anthropic" and .combined) | .body.tools[-1].name, .body.system[0].cache_control.type]')"
# the default Gemini model (gemini-3.1-flash-lite; gemini-2.0 with tools, which cannot combine, is in
# test_worker_combined) answers with tools in one combined request, its schema in responseSchema
it_check_eq "gemini: the default model answers in one combined request" \
    '["/v1beta/models/gemini-3.1-flash-lite:generateContent",true,"application/json"]' \
    "$(w_ledger | jq -c '[.[] | select(.provider == "gemini")] | last | [.path, .combined, .body.generationConfig.responseMimeType]')"
it_check_eq "gemini: no analysis request of its own" 0 \
    "$(w_ledger | jq '[.[] | select(.provider == "gemini" and .kind == "analysis")] | length')"

# --- TikTok addressing and the prompt template variables
w_conv tiktok tkuser1 "hey"
w_job "$CONV" 0 "$UPTO"
it_check_eq "tiktok: replied" replied "$(w_done "$CONV")"
it_check_eq "tiktok: outbox to the TikTok conversation" "tkconv-tkuser1" "$(it_sql "SELECT recipient FROM outbox WHERE conversation_id = $CONV")"
sys=$(w_ledger | jq -r '[.[] | select(.provider == "openai" and .kind == "reply")] | last | .body.messages[0].content')
it_check_match "prompt: variables filled" "You are Lou, a customer service assistant for Lull, talking with Ann over tiktok" "$sys"
it_check_match "prompt: short length hint for tiktok" "very short" "$sys"

# --- inventory questions in a customer's words, over the sample inventory of `make run` (scripts/seed): the
# fake LLM asks the worker to run search_inventory and answers with what the tool returned
psql "$LULL_DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -f "$LULL_ROOT/scripts/seed/020_inventory.sql" >/dev/null
tool_query() {  # the search_inventory query of the last tool call that mentions TEXT in its request
    w_ledger | jq -r --arg t "$1" '[.[] | select(.provider == "openai" and .kind == "reply" and ((.body | tostring) | contains($t)))
        | .body.messages[] | select(.role == "assistant") | .tool_calls[]?.function.arguments | fromjson | .query] | last'
}
w_conv sms +15551000010 "do you have that in size M?"
w_job "$CONV" 0 "$UPTO"
it_check_eq "size question: replied" replied "$(w_done "$CONV")"
it_check_eq "size question: the tool searched for the size (\"that\" is not a hat)" "M" "$(tool_query "that in size M")"
it_check_eq "size question: the reply names the rain jacket with its SKU, size and price" \
    "Yes, we have the Blue rain jacket (JK-100) in size M for 89.00 USD." \
    "$(it_sql "SELECT body FROM messages WHERE conversation_id = $CONV AND author = 'bot'")"
w_conv sms +15551000011 "Hi, I'm looking for a rain jacket" "do you have that in size L?"
w_job "$CONV" 0 "$UPTO"
it_check_eq "size question after naming the item: replied" replied "$(w_done "$CONV")"
it_check_eq "size question after naming the item: the tool searched for that item in that size" "jacket L" \
    "$(tool_query "that in size L")"
it_check_eq "size question after naming the item: only the size-L jacket, with its price" \
    "Yes, we have the Blue rain jacket (JK-101) in size L for 89.00 USD." \
    "$(it_sql "SELECT body FROM messages WHERE conversation_id = $CONV AND author = 'bot'")"
w_conv sms +15551000012 "What about those JACKETS?"
w_job "$CONV" 0 "$UPTO"
it_check_eq "plural, any case: replied" replied "$(w_done "$CONV")"
it_check_eq "plural, any case: every available jacket, none sold" \
    "Yes, we have the Blue rain jacket (JK-100) in size M for 89.00 USD and the Blue rain jacket (JK-101) in size L for 89.00 USD." \
    "$(it_sql "SELECT body FROM messages WHERE conversation_id = $CONV AND author = 'bot'")"
w_conv sms +15551000013 "what's that?"
w_job "$CONV" 0 "$UPTO"
it_check_eq "no item named: replied" replied "$(w_done "$CONV")"
it_check_eq "no item named: no tool call" "null" "$(tool_query "what's that?")"

# --- the worker stops cleanly, handing the job it is running back to the scheduler at once
curl -s -o /dev/null -X POST -H 'Content-Type: application/json' --data '{"latency_ms":5000}' "$W_LLM/_fake/config"
w_conv sms +15551000009 "a slow one"
w_job "$CONV" 0 "$UPTO"
it_wait_for "the LLM call of the slow job started" 10 bash -c "w_ledger() { curl -s '$W_LLM/_fake/ledger'; }; [ \$(w_ledger | jq '[.[] | select((.body | tostring) | contains(\"a slow one\"))] | length') -ge 1 ]"
it_stop "$W_WORKER_PID" TERM
it_check_eq "worker exits 0 on SIGTERM" 0 "$IT_RC"
it_check_eq "the running job was reported failed_retryable (retry after 1 ms) before the exit" "failed_retryable|1|worker stopping" \
    "$(grep "\"conv\":$CONV," "$W_SCHED_LOG" | tail -1 | jq -r '"\(.outcome)|\(.retry_after_ms)|\(.detail)"')"
it_check_eq "then READY with credit 0, so no new job is sent to the stopping worker" 0 \
    "$(sed -n "/\"conv\":$CONV,/,\$p" "$W_SCHED_LOG" | jq -r 'select(.type == "ready") | .credit' | tail -1)"
it_check_eq "nothing committed for it" "0|0" "$(it_sql "SELECT answered_upto, (SELECT count(*) FROM outbox WHERE conversation_id = $CONV) FROM conversations WHERE id = $CONV")"
it_finish
