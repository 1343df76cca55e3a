#!/usr/bin/env bash
# Worker failure handling against the fake LLM: fallback from a failing first provider, Retry-After honoured,
# spend-limit 429 not retried, malformed output (no crash, next provider), every provider failing (retryable,
# then apology + escalation at the tenant's last attempt), the tool round trip over real inventory rows,
# keyword/model escalation, the content filter and the daily limit.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/worker_env.sh"
w_setup
w_worker LULL_WORKER_COOLDOWN_FAILURES=1000

ledger_count() { w_ledger | jq "[.[] | select($1)] | length"; }

# --- fallback: OpenAI answers 500 to every try of the reply → Anthropic answers
w_fault '{"provider":"openai","mode":"500","count":3,"kind":"reply"}'
w_conv sms +15552000001 "hello, fallback please"
w_job "$CONV" 0 "$UPTO"
it_check_eq "fallback: replied" replied "$(w_done "$CONV")"
it_check_eq "fallback: 3 OpenAI tries (1 + 2 retries) before Anthropic" 3 "$(ledger_count '.provider == "openai" and .kind == "reply"')"
it_check_eq "fallback: the reply came from Anthropic" 1 "$(ledger_count '.provider == "anthropic" and .kind == "reply"')"
it_check_eq "fallback: usage has both providers" "anthropic|openai" "$(it_sql "SELECT string_agg(provider, '|' ORDER BY provider) FROM usage WHERE contact_id = (SELECT contact_id FROM conversations WHERE id = $CONV)")"

# --- a model per provider (tenants.models): the fallback provider uses the tenant's model for it too
curl -s -o /dev/null -X POST "$W_LLM/_fake/reset"
it_sql "UPDATE tenants SET model = 'gpt-tenant-model', models = '{\"anthropic\":\"claude-tenant-model\"}' WHERE id = 1" >/dev/null
w_fault '{"provider":"openai","mode":"500","count":3,"kind":"reply"}'
w_conv sms +15552000019 "hello, models please"
w_job "$CONV" 0 "$UPTO"
it_check_eq "models: replied" replied "$(w_done "$CONV")"
it_check_eq "models: OpenAI asked with tenants.model, Anthropic with tenants.models.anthropic" "gpt-tenant-model|claude-tenant-model" \
    "$(w_ledger | jq -r '[([.[] | select(.provider == "openai" and .kind == "reply")][0].body.model), ([.[] | select(.provider == "anthropic" and .kind == "reply")][0].body.model)] | join("|")')"
it_check_eq "models: usage recorded per model" "anthropic:claude-tenant-model|openai:gpt-tenant-model" \
    "$(it_sql "SELECT string_agg(provider || ':' || model, '|' ORDER BY provider) FROM usage WHERE contact_id = (SELECT contact_id FROM conversations WHERE id = $CONV) AND provider IN ('openai', 'anthropic') AND model LIKE '%tenant-model'")"
it_sql "UPDATE tenants SET model = NULL, models = '{}' WHERE id = 1" >/dev/null

# --- Retry-After: a 429 asking for 1 s; the retry is not earlier
curl -s -o /dev/null -X POST "$W_LLM/_fake/reset"
w_fault '{"provider":"openai","mode":"429","count":1,"retry_after":"1","kind":"reply"}'
w_conv sms +15552000002 "hello, rate limit"
w_job "$CONV" 0 "$UPTO"
it_check_eq "retry-after: replied" replied "$(w_done "$CONV")"
gap=$(w_ledger | jq '[.[] | select(.provider == "openai" and .kind == "reply") | .t_ms] | .[1] - .[0]')
# (the fake stamps each request in whole milliseconds when it reads it, and the worker counts Retry-After from the
# moment the 429 came back: the two clocks' rounding can make 1,000 ms show as 999)
it_check "retry-after: the retry came a second after the 429 (gap $gap ms, >= 990)" test "$gap" -ge 990

# --- spend limit: insufficient_quota is not retried, the next provider answers
curl -s -o /dev/null -X POST "$W_LLM/_fake/reset"
w_fault '{"provider":"openai","mode":"insufficient_quota","count":5,"kind":"reply"}'
w_conv sms +15552000003 "hello, no quota"
w_job "$CONV" 0 "$UPTO"
it_check_eq "insufficient_quota: replied" replied "$(w_done "$CONV")"
it_check_eq "insufficient_quota: OpenAI asked once" 1 "$(ledger_count '.provider == "openai" and .kind == "reply"')"

# --- malformed and truncated answers: no crash, the next provider answers (two calls: llm_mode separate)
curl -s -o /dev/null -X POST "$W_LLM/_fake/reset"
it_sql "UPDATE tenants SET llm_mode = 'separate' WHERE id = 1" >/dev/null
w_fault '{"provider":"openai","mode":"malformed","count":1,"kind":"reply"}'
w_fault '{"provider":"anthropic","mode":"truncated","count":1,"kind":"reply"}'
w_fault '{"provider":"openai","mode":"malformed","count":1,"kind":"analysis"}'
w_conv sms +15552000004 "hello, nonsense"
w_job "$CONV" 0 "$UPTO"
it_check_eq "malformed: replied" replied "$(w_done "$CONV")"
it_check_eq "malformed: Gemini gave the reply" 1 "$(ledger_count '.provider == "gemini" and .kind == "reply"')"
it_check_eq "malformed analysis: the next provider's analysis is stored" "anthropic" "$(it_sql "SELECT provider FROM analyses WHERE conversation_id = $CONV")"
it_check "worker still alive after malformed answers" kill -0 "$W_WORKER_PID"
it_sql "UPDATE tenants SET llm_mode = 'combined' WHERE id = 1" >/dev/null

# --- every provider failing: retryable, nothing committed; at the last attempt: apology + escalation
curl -s -o /dev/null -X POST "$W_LLM/_fake/reset"
for p in openai anthropic gemini; do w_fault "{\"provider\":\"$p\",\"mode\":\"503\",\"count\":3,\"kind\":\"reply\"}"; done
w_conv sms +15552000005 "hello, all down"
w_job "$CONV" 0 "$UPTO" 1
it_check_eq "all failing: failed_retryable" failed_retryable "$(w_done "$CONV")"
it_check_eq "all failing: nothing committed, failed_attempts counted" "0|0|1" "$(it_sql "SELECT (SELECT count(*) FROM outbox WHERE conversation_id = $CONV), answered_upto, failed_attempts FROM conversations WHERE id = $CONV")"
for p in openai anthropic gemini; do w_fault "{\"provider\":\"$p\",\"mode\":\"400\",\"count\":1,\"kind\":\"reply\"}"; done
w_job "$CONV" 0 "$UPTO" 3
it_wait_for "second DONE" 10 bash -c "[ \$(grep -c '\"conv\":$CONV,' '$W_SCHED_LOG') -ge 2 ]"
it_check_eq "last attempt: escalated" escalated "$(grep "\"conv\":$CONV," "$W_SCHED_LOG" | tail -1 | jq -r .outcome)"
it_check_eq "last attempt: apology sent, conversation escalated" "apology|escalated|failure" "$(it_sql "SELECT o.payload->>'kind', c.status, e.source FROM outbox o JOIN conversations c ON c.id = o.conversation_id JOIN escalations e ON e.conversation_id = c.id WHERE c.id = $CONV")"

# --- tool round trip over real inventory rows
curl -s -o /dev/null -X POST "$W_LLM/_fake/reset"
it_sql "INSERT INTO inventory (tenant_id, sku, name, description, size, price, status) VALUES
  (1, 'JK-1', 'Brown Leather Jacket', 'vintage leather jacket', 'M', 120, 'available'),
  (1, 'JK-2', 'Denim Jacket Sold', 'denim jacket', 'L', 80, 'sold'),
  (1, 'BT-1', 'Chelsea Boots', 'black boots', '42', 95, 'available')" >/dev/null
w_conv sms +15552000006 "Hi! Have you got a jacket in size M?"
w_job "$CONV" 0 "$UPTO"
it_check_eq "tools: replied" replied "$(w_done "$CONV")"
reply=$(it_sql "SELECT body FROM messages WHERE conversation_id = $CONV AND author = 'bot'")
it_check_match "tools: the reply quotes a real item" "Brown Leather Jacket \(JK-1" "$reply"
if [[ "$reply" == *"Denim Jacket Sold"* ]]; then it_fail "tools: a sold item was offered"; else echo "PASS tools: sold items are not offered"; fi
req=$(w_ledger | jq -c '[.[] | select(.provider == "openai" and .kind == "reply")] | last | .body.messages | map(.role)')
it_check_eq "tools: second request carries the tool call and its result" '["system","user","assistant","tool"]' "$req"
w_conv sms +15552000007 "have you got a unicorn costume?"
w_job "$CONV" 0 "$UPTO"
it_check_eq "tools: unknown item replied" replied "$(w_done "$CONV")"
it_check_match "tools: an item not in inventory is not invented" "don't have that" "$(it_sql "SELECT body FROM messages WHERE conversation_id = $CONV AND author = 'bot'")"
for t in 2:anthropic 3:gemini; do
    it_sql "INSERT INTO tenants (id, slug, provider_chain) VALUES (${t%%:*}, 't${t%%:*}', '{${t#*:}}') ON CONFLICT DO NOTHING;
            INSERT INTO inventory (tenant_id, sku, name, price) VALUES (${t%%:*}, 'BT-9', 'Hiking Boots', 60)" >/dev/null
    W_TENANT=${t%%:*} w_conv sms "+1555300000${t%%:*}" "do you have boots?"
    w_job "$CONV" 0 "$UPTO" 1 "${t%%:*}"
    it_check_eq "tools (${t#*:}): replied" replied "$(w_done "$CONV")"
    it_check_match "tools (${t#*:}): reply quotes the tenant's item" "Hiking Boots \(BT-9" "$(it_sql "SELECT body FROM messages WHERE conversation_id = $CONV AND author = 'bot'")"
done

# --- keyword escalation: no LLM call, no bot reply
it_sql "UPDATE tenants SET escalation_keywords = '{lawyer,\"speak to someone\"}', blocked_patterns = '{badword}', daily_limit_contact = 1 WHERE id = 1" >/dev/null
before=$(w_ledger | jq length)
w_conv sms +15552000008 "I will call my LAWYER"
w_job "$CONV" 0 "$UPTO"
it_check_eq "keyword: escalated" escalated "$(w_done "$CONV")"
it_check_eq "keyword: status escalated, no bot reply, escalations row" "escalated|0|keyword|0" "$(it_sql "SELECT status, (SELECT count(*) FROM messages WHERE conversation_id = $CONV AND direction = 'out'), (SELECT source FROM escalations WHERE conversation_id = $CONV), (SELECT count(*) FROM outbox WHERE conversation_id = $CONV) FROM conversations WHERE id = $CONV")"
it_check_eq "keyword: no LLM call" "$before" "$(w_ledger | jq length)"

# --- model escalation: the analysis asks for a human; the reply goes out and the conversation escalates;
# with a callback URL the escalation is also queued for the sender
it_sql "UPDATE tenants SET callback_url = 'http://127.0.0.1:9/hook' WHERE id = 1" >/dev/null
w_conv sms +15552000009 "this is terrible, I want a human"
w_job "$CONV" 0 "$UPTO"
it_check_eq "model escalation: escalated" escalated "$(w_done "$CONV")"
it_check_eq "model escalation: reply sent, source model" "escalated|1|model" "$(it_sql "SELECT status, (SELECT count(*) FROM outbox WHERE conversation_id = $CONV AND payload->>'kind' = 'reply'), (SELECT source FROM escalations WHERE conversation_id = $CONV) FROM conversations WHERE id = $CONV")"
it_check_eq "model escalation: callback queued as an escalation outbox row" "generic|http://127.0.0.1:9/hook|model|t" "$(it_sql "SELECT o.channel, o.recipient, o.payload->>'source', o.idempotency_key = 'esc_' || e.id FROM outbox o JOIN escalations e ON e.conversation_id = o.conversation_id WHERE o.conversation_id = $CONV AND o.payload->>'kind' = 'escalation'")"
# (one INSERT writes both outbox rows: the reply's first, carrying its message; the escalation's without one)
it_check_eq "model escalation: reply row then escalation row, only the reply names a message" "reply:true|escalation:false" \
    "$(it_sql "SELECT string_agg(o.payload->>'kind' || ':' || (o.message_id IS NOT DISTINCT FROM m.id), '|' ORDER BY o.id)
               FROM outbox o LEFT JOIN messages m ON m.conversation_id = o.conversation_id AND m.author = 'bot'
               WHERE o.conversation_id = $CONV")"
it_sql "UPDATE tenants SET callback_url = NULL WHERE id = 1" >/dev/null

# --- low confidence (the fake answers 0.2 for "mumble") escalates below the tenant threshold
w_conv sms +15552000012 "mumble mumble"
w_job "$CONV" 0 "$UPTO"
it_check_eq "low confidence: escalated" escalated "$(w_done "$CONV")"
it_check_eq "low confidence: source" "low_confidence" "$(it_sql "SELECT source FROM escalations WHERE conversation_id = $CONV")"

# --- content filter: safe reply, nothing unsafe stored
w_conv sms +15552000010 "you are a BADWORD"
w_job "$CONV" 0 "$UPTO"
it_check_eq "blocked: replied with the safe reply" replied "$(w_done "$CONV")"
it_check_eq "blocked: safe reply stored" "safe|Sorry, I can't help with that here. A member of our team will get back to you." "$(it_sql "SELECT o.payload->>'kind', m.body FROM outbox o JOIN messages m ON m.id = o.message_id WHERE o.conversation_id = $CONV")"

# --- daily limit per contact (1 request/day): the second burst gets no LLM call and no reply
w_conv sms +15552000011 "first question"
w_job "$CONV" 0 "$UPTO"
it_check_eq "daily limit: first burst replied" replied "$(w_done "$CONV")"
second=$(it_sql "INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, body) VALUES ($CONV, 1, 'sms', 'in', 'contact', 'second question') RETURNING id")
it_sql "UPDATE conversations SET last_inbound_id = $second WHERE id = $CONV" >/dev/null
before=$(w_ledger | jq length)
w_job "$CONV" "$UPTO" "$second"
it_wait_for "second DONE" 10 bash -c "[ \$(grep -c '\"conv\":$CONV,' '$W_SCHED_LOG') -ge 2 ]"
it_check_match "daily limit: failed_permanent" 'failed_permanent.*daily limit' "$(grep "\"conv\":$CONV," "$W_SCHED_LOG" | tail -1 | jq -r '.outcome + " " + .detail')"
it_check_eq "daily limit: no LLM call, no second reply, burst closed" "$before|1|$second" "$(w_ledger | jq length)|$(it_sql "SELECT count(*) FROM outbox WHERE conversation_id = $CONV")|$(it_sql "SELECT answered_upto FROM conversations WHERE id = $CONV")"

it_check "no crash through all faults" kill -0 "$W_WORKER_PID"
it_finish
