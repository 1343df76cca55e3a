#!/usr/bin/env bash
# One LLM call per burst against the fake LLM: a burst of three messages answered by one combined request
# whose answer gives the reply and the stored analysis; llm_mode separate makes two requests, off one and no
# analysis; every kind of malformed combined answer is a provider error (the next provider answers, no reply
# made of JSON, no crash); the prompt cache: a tenant's second request reports cached prompt tokens, stored
# in usage; Gemini 3 answers combined, Gemini 2.0 with tools falls back to two calls; the history bounded by
# the tenant's token budget (the burst always sent).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/worker_env.sh"
w_setup
w_worker LULL_WORKER_COOLDOWN_FAILURES=1000

reset() { curl -s -o /dev/null -X POST "$W_LLM/_fake/reset"; }
ledger_count() { w_ledger | jq "[.[] | select($1)] | length"; }
contact_of() { it_sql "SELECT contact_id FROM conversations WHERE id = $1"; }

# --- combined (the default): a burst of three, one request, the analysis from its answer
reset
w_conv sms +15554000001 "hi there" "I want to order" "my email is ann@example.com"
w_job "$CONV" 0 "$UPTO"
it_check_eq "combined: replied" replied "$(w_done "$CONV")"
it_check_eq "combined: one LLM request for the burst of three" "1|1" "$(w_ledger | jq -r '[length, ([.[] | select(.combined)] | length)] | join("|")')"
it_check_eq "combined: the request asks for the strict combined schema" "reply_with_analysis|true|reply" \
    "$(w_ledger | jq -r '.[0].body.response_format.json_schema | [.name, .strict, .schema.required[0]] | join("|")')"
it_check_eq "combined: the analysis stored from the same answer" "openai|ann@example.com" \
    "$(it_sql "SELECT provider, entities->'emails'->>0 FROM analyses WHERE conversation_id = $CONV")"
it_check_match "combined: the reply is the text, not the JSON" "^Thanks for your message" \
    "$(it_sql "SELECT body FROM messages WHERE conversation_id = $CONV AND author = 'bot'")"
it_check_eq "combined: usage counts one request" "1" "$(it_sql "SELECT requests FROM usage WHERE contact_id = $(contact_of "$CONV")")"
it_check_eq "combined: the prompt cache key is the tenant's" "lull-t1" "$(w_ledger | jq -r '.[0].body.prompt_cache_key')"

# --- the prompt cache: the same tenant's next request shares the stable prefix; cached tokens stored
w_conv sms +15554000002 "something else"
w_job "$CONV" 0 "$UPTO"
it_check_eq "cache: replied" replied "$(w_done "$CONV")"
it_check "cache: cached prompt tokens stored in usage" test "$(it_sql "SELECT cached_prompt_tokens FROM usage WHERE contact_id = $(contact_of "$CONV")")" -gt 0
it_check "cache: cached tokens are part of the prompt tokens" test "$(it_sql "SELECT (cached_prompt_tokens < prompt_tokens)::int FROM usage WHERE contact_id = $(contact_of "$CONV")")" -eq 1
it_check_eq "cache: the first request of the tenant had none" 0 "$(it_sql "SELECT sum(cached_prompt_tokens) FROM usage WHERE contact_id = (SELECT contact_id FROM conversations c JOIN contacts ct ON ct.id = c.contact_id WHERE ct.external_id = '+15554000001')")"

# --- separate: two requests (reply, analysis); off: one request, no analysis
it_sql "UPDATE tenants SET llm_mode = 'separate' WHERE id = 1" >/dev/null
reset
w_conv sms +15554000003 "hello, two calls please"
w_job "$CONV" 0 "$UPTO"
it_check_eq "separate: replied" replied "$(w_done "$CONV")"
it_check_eq "separate: a reply and an analysis request" "reply,analysis" "$(w_ledger | jq -r '[.[] | .kind] | sort_by(. != "reply") | join(",")')"
it_check_eq "separate: analysis stored" 1 "$(it_sql "SELECT count(*) FROM analyses WHERE conversation_id = $CONV")"
it_sql "UPDATE tenants SET llm_mode = 'off' WHERE id = 1" >/dev/null
reset
w_conv sms +15554000004 "hello, no analysis"
w_job "$CONV" 0 "$UPTO"
it_check_eq "off: replied" replied "$(w_done "$CONV")"
it_check_eq "off: one plain reply request" "1|0" "$(w_ledger | jq -r '[length, ([.[] | select(.combined or .kind == "analysis")] | length)] | join("|")')"
it_check_eq "off: no analysis stored" 0 "$(it_sql "SELECT count(*) FROM analyses WHERE conversation_id = $CONV")"
it_sql "UPDATE tenants SET llm_mode = 'combined' WHERE id = 1" >/dev/null

# --- Gemini: from gemini-3 on, one combined request (responseSchema with the tools); gemini-2.0 with tools
# cannot, and the job falls back to two calls
it_sql "INSERT INTO tenants (id, slug, provider_chain, models) VALUES (3, 't3', '{gemini}', '{\"gemini\":\"gemini-3-flash\"}'),
        (4, 't4', '{gemini}', '{\"gemini\":\"gemini-2.0-flash\"}')" >/dev/null
for t in 3:1 4:2; do
    reset
    W_TENANT=${t%%:*} w_conv sms "+155540003${t%%:*}" "hello gemini"
    w_job "$CONV" 0 "$UPTO" 1 "${t%%:*}"
    it_check_eq "gemini tenant ${t%%:*}: replied" replied "$(w_done "$CONV")"
    it_check_eq "gemini tenant ${t%%:*}: ${t#*:} request(s)" "${t#*:}" "$(ledger_count '.provider == "gemini"')"
    it_check_eq "gemini tenant ${t%%:*}: analysis from gemini" gemini "$(it_sql "SELECT provider FROM analyses WHERE conversation_id = $CONV")"
done
reset
W_TENANT=3 w_conv sms +15554000039 "hi again"
w_job "$CONV" 0 "$UPTO" 1 3
it_check_eq "gemini 3: replied again" replied "$(w_done "$CONV")"
it_check_eq "gemini 3: the combined request has responseSchema with reply, and the tools" "application/json|reply|search_inventory" \
    "$(w_ledger | jq -r '.[0].body | [.generationConfig.responseMimeType, .generationConfig.responseSchema.required[0], .tools[0].functionDeclarations[0].name] | join("|")')"

# --- malformed combined answers: the next provider answers; never a reply made of JSON
n=5
for mode in combined_not_json combined_no_reply combined_json_reply combined_wrong_types; do
    reset
    w_fault "{\"provider\":\"openai\",\"mode\":\"$mode\",\"count\":1,\"kind\":\"combined\"}"
    w_conv sms "+1555400001$n" "hello, $mode"
    n=$((n + 1))
    w_job "$CONV" 0 "$UPTO"
    it_check_eq "$mode: replied" replied "$(w_done "$CONV")"
    it_check_eq "$mode: OpenAI asked once, then Anthropic" "1|1" \
        "$(w_ledger | jq -r '[([.[] | select(.provider == "openai")] | length), ([.[] | select(.provider == "anthropic" and .combined)] | length)] | join("|")')"
    it_check_eq "$mode: reply and analysis from Anthropic" "anthropic" "$(it_sql "SELECT provider FROM analyses WHERE conversation_id = $CONV")"
    body=$(it_sql "SELECT body FROM messages WHERE conversation_id = $CONV AND author = 'bot'")
    if [[ "$body" == \{* ]]; then it_fail "$mode: a reply made of JSON: $body"; else echo "PASS $mode: the reply is text"; fi
done
it_check_match "malformed combined answers logged as provider errors" 'malformed combined answer' "$(cat "$IT_TMP/worker.jsonl")"
it_check "worker still alive after malformed combined answers" kill -0 "$W_WORKER_PID"

# --- history by token budget: old messages past the budget are dropped, the burst always goes
long=$(printf 'an old message about the weather %.0s' {1..20})
for budget in 3000 100; do
    it_sql "UPDATE tenants SET history_tokens = $budget WHERE id = 1" >/dev/null
    reset
    w_conv sms "+155540002$budget" "$long one" "$long two" "$long three" "the new question"
    it_sql "UPDATE conversations SET answered_upto = $UPTO - 1 WHERE id = $CONV" >/dev/null
    w_job "$CONV" $((UPTO - 1)) "$UPTO"
    it_check_eq "budget $budget: replied" replied "$(w_done "$CONV")"
    sent=$(w_ledger | jq -r '[.[0].body.messages[] | select(.role != "system") | .content] | [length, last] | join("|")')
    expect=$([ "$budget" = 3000 ] && echo 4 || echo 1)
    it_check_eq "budget $budget: $expect message(s) sent, the burst last" "$expect|the new question" "$sent"
done
it_sql "UPDATE tenants SET history_tokens = 3000 WHERE id = 1" >/dev/null
it_finish
