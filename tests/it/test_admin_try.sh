#!/usr/bin/env bash
# The admin API's test endpoints through the real tiers: POST /api/v1/test/reply and /api/v1/test/analyse go
# lull-admin → scheduler control socket → a worker's dry run → back. The worker runs its real pipeline (tenant
# prompt, content filter, escalation keywords, tools against the inventory table, the provider chain, the
# analysis) and commits nothing: no message, outbox row, analysis, escalation or usage row, no delivery.
# Errors: bad input 400, unknown tenant 404, every provider failing 502, no worker 503; lullctl try/analyse,
# and a prompt set with lullctl prompts set reaching the LLM.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/e2e_lib.sh"
it_db_create || it_finish
it_sql "INSERT INTO inventory (tenant_id, sku, name, description, category, price, status)
        VALUES (1, 'JKT-1', 'Blue rain jacket', 'waterproof jacket', 'jackets', 89.00, 'available')" >/dev/null
it_sql "UPDATE tenants SET escalation_keywords = '{lawyer}', blocked_patterns = '{forbidden phrase}',
        safe_reply = 'We cannot help with that.' WHERE slug = 'default'" >/dev/null
it_sql "INSERT INTO tenants (slug, company_name, provider_chain) VALUES ('acme', 'Acme', '{anthropic}')" >/dev/null
e2e_start LULL_SCHED_TRY_TIMEOUT_MS=3000 LULL_ADMIN_TRY_TIMEOUT_MS=5000 || it_finish
it_wait_for "the worker joined the scheduler" 10 grep -q '"ev":"worker.ready"' "$IT_TMP/scheduler.jsonl"

rows() { it_sql "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM outbox), (SELECT count(*) FROM analyses),
                        (SELECT count(*) FROM escalations), (SELECT count(*) FROM usage), (SELECT count(*) FROM conversations)"; }
before=$(rows)
llm0=$(e2e_llm_count 'true')

# --- a reply with a tool call: the inventory answers, the analysis comes along
e2e_admin POST /api/v1/test/reply '{"text":"Do you have a rain jacket in stock?"}'
it_check_eq "test/reply 200" 200 "$ADM_CODE"
it_check_eq "outcome replied, kind reply" "replied|reply" "$(jq -r '"\(.outcome)|\(.kind)"' <<<"$ADM_BODY")"
it_check_match "the reply quotes the inventory item the tool found" 'Blue rain jacket' "$(jq -r .reply <<<"$ADM_BODY")"
it_check_eq "the reply came from openai (the default chain)" openai "$(jq -r .provider <<<"$ADM_BODY")"
it_check_eq "analysis: intent inquiry, sentiment neutral" "inquiry|neutral" "$(jq -r '"\(.analysis.intent)|\(.analysis.sentiment)"' <<<"$ADM_BODY")"
it_check "usage counts the requests (a tool round, then the combined answer) and their tokens" \
    jq -e '.usage[0].provider == "openai" and .usage[0].requests == 2 and .usage[0].tokens_in > 0 and .usage[0].cached_in >= 0' <<<"$ADM_BODY"
it_check_eq "no escalation" null "$(jq -c .escalation <<<"$ADM_BODY")"
it_check "the fake LLM got the reply call with the tenant's prompt and the text" \
    test "$(e2e_llm_count '.kind == "reply" and ((.body | tostring) | contains("Do you have a rain jacket in stock?"))')" -ge 1

# --- analyse only: one analysis call, no reply call
n_reply=$(e2e_llm_count '.kind == "reply"')
e2e_admin POST /api/v1/test/analyse '{"text":"This is terrible, my order #A123 arrived broken! I want a human.","tenant":"default"}'
it_check_eq "test/analyse 200" 200 "$ADM_CODE"
it_check_eq "analysis: negative complaint, high priority, escalate" "negative|complaint|high|true" \
    "$(jq -r '"\(.analysis.sentiment)|\(.analysis.intent)|\(.analysis.priority)|\(.analysis.escalate)"' <<<"$ADM_BODY")"
it_check_eq "the order number the model extracted is passed through" '["A123"]' "$(jq -c .analysis.entities.order_numbers <<<"$ADM_BODY")"
it_check_eq "analyse mode has no reply field" "analyse|null" "$(jq -r '"\(.mode)|\(.reply)"' <<<"$ADM_BODY")"
it_check_eq "analyse makes no reply call" "$n_reply" "$(e2e_llm_count '.kind == "reply"')"
e2e_admin POST /api/v1/test/analyze '{"text":"I love it, thanks!"}'
it_check_eq "the US spelling works too" "200|positive" "$ADM_CODE|$(jq -r .analysis.sentiment <<<"$ADM_BODY")"

# --- the reply path's escalation and filters, as a real job would take them
e2e_admin POST /api/v1/test/reply '{"text":"I want to talk to a human manager"}'
it_check_eq "model escalation: reply and escalation reported" "escalated|model" "$(jq -r '"\(.outcome)|\(.escalation.source)"' <<<"$ADM_BODY")"
llm1=$(e2e_llm_count 'true')
e2e_admin POST /api/v1/test/reply '{"text":"my lawyer will call"}'
it_check_eq "keyword escalation: no reply, no LLM call" "escalated|keyword|null" "$(jq -r '"\(.outcome)|\(.escalation.source)|\(.reply)"' <<<"$ADM_BODY")"
e2e_admin POST /api/v1/test/reply '{"text":"a forbidden phrase here"}'
it_check_eq "blocked content: the safe reply, no LLM call" "safe|We cannot help with that." "$(jq -r '"\(.kind)|\(.reply)"' <<<"$ADM_BODY")"
it_check_eq "filters made no LLM call" "$llm1" "$(e2e_llm_count 'true')"

# --- another tenant's chain
e2e_admin POST /api/v1/test/reply '{"text":"hello there","tenant":"acme"}'
it_check_eq "tenant acme answers through anthropic" "200|anthropic" "$ADM_CODE|$(jq -r .provider <<<"$ADM_BODY")"

# --- nothing was committed by any of it
it_check_eq "no rows written by the dry runs" "$before" "$(rows)"
it_check_eq "nothing delivered" 0 "$(e2e_delivered)"
it_check "the LLM was called" test "$(e2e_llm_count 'true')" -gt "$llm0"

# --- bad input
e2e_admin POST /api/v1/test/reply '{"tenant":"default"}'
it_check_eq "missing text → 400 bad_field" "400|bad_field" "$ADM_CODE|$(jq -r .error.code <<<"$ADM_BODY")"
it_check_match "the message names the field" "'text'" "$(jq -r .error.message <<<"$ADM_BODY")"
e2e_admin POST /api/v1/test/reply '{"text":""}'
it_check_eq "empty text → 400" 400 "$ADM_CODE"
e2e_admin POST /api/v1/test/reply "{\"text\":\"$(head -c 4001 /dev/zero | tr '\0' a)\"}"
it_check_eq "text over 4000 bytes → 400" 400 "$ADM_CODE"
e2e_admin POST /api/v1/test/reply 'not json'
it_check_eq "not JSON → 400 bad_json" "400|bad_json" "$ADM_CODE|$(jq -r .error.code <<<"$ADM_BODY")"
e2e_admin POST /api/v1/test/reply '{"text":"hi","tenant":"nope"}'
it_check_eq "unknown tenant slug → 404" "404|not_found" "$ADM_CODE|$(jq -r .error.code <<<"$ADM_BODY")"
e2e_admin POST /api/v1/test/reply '{"text":"hi","tenant_id":999999}'
it_check_eq "unknown tenant id → 404 from the worker" "404|not_found" "$ADM_CODE|$(jq -r .error.code <<<"$ADM_BODY")"
e2e_admin GET /api/v1/test/reply
it_check_eq "GET → 405" 405 "$ADM_CODE"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data '{"text":"hi"}' "$ADM/api/v1/test/reply")
it_check_eq "no token → 401" 401 "$code"

# --- lullctl
export LULL_ADMIN_URL=$ADM LULL_ADMIN_TOKEN=$E2E_ADMIN_TOKEN
out=$("$LULL_BIN/lullctl" try "have you got a rain jacket?")
it_check_match "lullctl try prints the reply" 'reply \(reply\): .*Blue rain jacket' "$out"
it_check_match "lullctl try prints the analysis" 'sentiment: neutral  intent: inquiry' "$out"
out=$("$LULL_BIN/lullctl" --json analyse "urgent: it is broken" --tenant default)
it_check_eq "lullctl --json analyse" "negative|urgent" "$(jq -r '"\(.analysis.sentiment)|\(.analysis.priority)"' <<<"$out")"
"$LULL_BIN/lullctl" try >/dev/null 2>&1; rc=$?
it_check_eq "lullctl try without text → usage error 64" 64 "$rc"
"$LULL_BIN/lullctl" prompts set --tenant acme --template 'You are Quill of {{company_name}}, be brief.' >/dev/null; rc=$?
it_check_eq "lullctl prompts set for acme" 0 "$rc"
"$LULL_BIN/lullctl" try "hello again" --tenant acme >/dev/null
it_check_eq "the worker's reply call carries the prompt lullctl set" 1 "$(e2e_llm_reply_has 'You are Quill of Acme, be brief.')"

# --- every provider failing → 502 with the reason
e2e_fake "$LLM/_fake/faults" '{"provider":"openai","mode":"500","count":100}' || it_fail "fault set"
e2e_fake "$LLM/_fake/faults" '{"provider":"anthropic","mode":"500","count":100}' || it_fail "fault set"
e2e_admin POST /api/v1/test/reply '{"text":"hello?"}'
it_check_eq "providers failing → 502 providers_failed" "502|providers_failed" "$ADM_CODE|$(jq -r .error.code <<<"$ADM_BODY")"
it_check_match "the reason names the provider" 'anthropic|openai' "$(jq -r .error.message <<<"$ADM_BODY")"
curl -s -o /dev/null -X DELETE "$LLM/_fake/faults"

# --- no worker: the scheduler answers 503 at once
it_stop "$E2E_WORKER_PID"
it_wait_for "the scheduler noticed the worker is gone" 10 grep -q '"ev":"worker.lost"' "$IT_TMP/scheduler.jsonl"
e2e_admin POST /api/v1/test/reply '{"text":"anyone?"}'
it_check_eq "no worker → 503 unavailable" "503|unavailable" "$ADM_CODE|$(jq -r .error.code <<<"$ADM_BODY")"
it_finish
