#!/usr/bin/env bash
# The request bodies the worker sends to each provider (plain reply, tool round with the tool's result,
# structured analysis) type-check against the official SDKs' request types (npm openai, @anthropic-ai/sdk,
# @google/genai) with the TypeScript compiler; requests carry what today's models accept: OpenAI
# max_completion_tokens and no temperature for a reasoning model, Anthropic's temperature only when the tenant
# chose one, the anthropic-version a setting.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/worker_env.sh"
w_setup
w_worker LULL_ANTHROPIC_VERSION=2023-06-01
it_sql "INSERT INTO inventory (tenant_id, sku, name, price) VALUES (1, 'JK-1', 'Rain Jacket', 50)" >/dev/null
it_sql "UPDATE tenants SET extraction_fields = '[{\"name\":\"product_name\",\"description\":\"the product the customer talks about\"}]' WHERE id = 1" >/dev/null

# one conversation per provider, with a tool round (the inventory) and the analysis
n=0
for p in openai anthropic gemini; do
    temp=0.7
    [ "$p" = anthropic ] && temp=0.4  # a temperature the tenant chose
    it_sql "UPDATE tenants SET provider_chain = '{$p}', temperature = $temp WHERE id = 1" >/dev/null
    n=$((n + 1))
    w_conv webchat "sess-$p" "hello" "have you got a rain jacket?"
    w_job "$CONV" 0 "$UPTO"
    it_check_eq "$p: job with tools replied" replied "$(w_done "$CONV")"
done
# Gemini's default model answers in one combined call: its separate reply and analysis bodies, too
it_sql "UPDATE tenants SET provider_chain = '{gemini}', llm_mode = 'separate' WHERE id = 1" >/dev/null
w_conv webchat sess-gemini-separate "hello" "have you got a rain jacket?"
w_job "$CONV" 0 "$UPTO"
it_check_eq "gemini, separate calls: replied" replied "$(w_done "$CONV")"
it_check_eq "gemini, separate calls: an analysis request of its own" 1 \
    "$(w_ledger | jq '[.[] | select(.provider == "gemini" and .kind == "analysis")] | length')"
it_sql "UPDATE tenants SET llm_mode = 'combined' WHERE id = 1" >/dev/null
# a reasoning model: no temperature; and Anthropic at the column default: none either
it_sql "UPDATE tenants SET provider_chain = '{openai,anthropic}', temperature = 0.7, models = '{\"openai\":\"gpt-5-mini\"}' WHERE id = 1" >/dev/null
w_conv webchat sess-reasoning "hello there"
w_job "$CONV" 0 "$UPTO"
it_check_eq "reasoning model: replied" replied "$(w_done "$CONV")"
it_sql "UPDATE tenants SET provider_chain = '{anthropic}' WHERE id = 1" >/dev/null
w_conv webchat sess-default "good morning"
w_job "$CONV" 0 "$UPTO"
it_check_eq "anthropic at the default temperature: replied" replied "$(w_done "$CONV")"

w_ledger >"$IT_TMP/ledger.json"
for p in openai anthropic gemini; do
    it_check "$p: reply, tool round and analysis in the ledger" \
        test "$(jq --arg p "$p" '[.[] | select(.provider == $p)] | length' "$IT_TMP/ledger.json")" -ge 3
done
it_check_eq "OpenAI asks with max_completion_tokens, never max_tokens" "0" \
    "$(jq '[.[] | select(.provider == "openai") | .body | select(.max_completion_tokens == null or .max_tokens != null)] | length' "$IT_TMP/ledger.json")"
it_check_eq "the reasoning model gets no temperature" "null" \
    "$(jq -c '[.[] | select(.provider == "openai" and .body.model == "gpt-5-mini")] | first | .body.temperature' "$IT_TMP/ledger.json")"
it_check_eq "a gpt-4o-mini reply keeps the tenant's temperature" "0.7" \
    "$(jq -c '[.[] | select(.provider == "openai" and .body.model == "gpt-4o-mini" and .body.tools != null)] | first | .body.temperature' "$IT_TMP/ledger.json")"
it_check_eq "Anthropic gets the temperature the tenant chose" "0.4" \
    "$(jq -c '[.[] | select(.provider == "anthropic" and .body.tools[0].name == "search_inventory")] | first | .body.temperature' "$IT_TMP/ledger.json")"
it_check_eq "Anthropic gets no temperature otherwise (the default, the analysis)" "0" \
    "$(jq '[.[] | select(.provider == "anthropic" and .body.tools[0].name != "search_inventory" and .body.temperature != null)] | length' "$IT_TMP/ledger.json")"

nm=$LULL_ROOT/tests/node/node_modules
out=$(NODE_PATH=$nm node "$LULL_ROOT/tests/it/check_sdk_types.js" "$nm" "$IT_TMP/ledger.json" "$IT_TMP/ts" 2>&1)
rc=$?
it_check_eq "every body type-checks against its SDK's request type" 0 "$rc"
for p in openai anthropic gemini; do
    it_check_match "$p bodies checked" "^$p ok [0-9]" "$(grep "^$p " <<<"$out")"
done
[ "$rc" = 0 ] || echo "$out" | head -40

# bodies that must not type-check prove the checker bites: a wrong role, a misspelled field, a wrong enum
cat >"$IT_TMP/bad.json" <<'JSON'
[{"provider":"openai","body":{"model":"x","messages":[{"role":"wizard","content":"x"}]}},
 {"provider":"anthropic","body":{"model":"x","max_tokens":5,"messages":[{"role":"user","content":"x"}],"temprature":1}},
 {"provider":"gemini","body":{"contents":[{"role":"user","parts":[{"text":"x"}]}],"toolConfig":{"functionCallingConfig":{"mode":"SOMETIMES"}}}}]
JSON
bad=$(NODE_PATH=$nm node "$LULL_ROOT/tests/it/check_sdk_types.js" "$nm" "$IT_TMP/bad.json" "$IT_TMP/ts-bad" 2>&1)
it_check_eq "the checker rejects invalid bodies" 1 "$?"
for p in openai anthropic gemini; do
    it_check_match "$p: an invalid body is reported" "^$p errors 1 in 1 bodies" "$(grep "^$p " <<<"$bad")"
done
it_check_match "the compiler's diagnostic names the misspelled field" "temprature" "$bad"
it_finish
