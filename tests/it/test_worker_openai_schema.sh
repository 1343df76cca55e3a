#!/usr/bin/env bash
# The OpenAI request bodies the worker sends (the combined answer: a tool round trip with tool_calls and a
# tool message, then response_format json_schema with the reply and the analysis, prompt_cache_key; and in
# llm_mode separate the plain reply, its tool round and the structured analysis) validate against CreateChatCompletionRequest
# of the OpenAI OpenAPI description (ajv); and a worker whose scheduler falls silent reconnects with a new
# identity and announces its credit again. The scheduler beats until the job is done: a worker that reconnects
# while a job is on its way loses it, however fast the machine is.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/worker_env.sh"
w_setup
w_worker
it_sql "INSERT INTO inventory (tenant_id, sku, name, price) VALUES (1, 'JK-1', 'Rain Jacket', 50)" >/dev/null
it_sql "UPDATE tenants SET extraction_fields = '[{\"name\":\"product_name\",\"description\":\"the product the customer talks about\"}]' WHERE id = 1" >/dev/null
w_conv webchat sess-1 "hello" "have you got a rain jacket?"
w_job "$CONV" 0 "$UPTO"
it_check_eq "job with tools replied" replied "$(w_done "$CONV")"
it_check_eq "extraction field stored" "jacket" "$(it_sql "SELECT extracted->>'product_name' FROM analyses WHERE conversation_id = $CONV")"
it_check_eq "webchat outbox addressed to the session" "sess-1|" "$(it_sql "SELECT recipient, coalesce(sender_address, '') FROM outbox WHERE conversation_id = $CONV")"
it_check_eq "combined: a tool round, then the answer, both combined requests" "2|2" "$(w_ledger | jq -r '[[.[] | select(.provider == "openai")] | length, ([.[] | select(.provider == "openai" and .combined)] | length)] | join("|")')"
it_sql "UPDATE tenants SET llm_mode = 'separate' WHERE id = 1" >/dev/null
w_conv webchat sess-2 "hello" "have you got a rain jacket?"
w_job "$CONV" 0 "$UPTO"
it_check_eq "separate: job with tools replied" replied "$(w_done "$CONV")"
it_check_eq "separate: extraction field stored" "jacket" "$(it_sql "SELECT extracted->>'product_name' FROM analyses WHERE conversation_id = $CONV")"
w_ledger >"$IT_TMP/ledger.json"
it_check_eq "ledger has combined, reply, tool round and analysis requests" 5 "$(jq '[.[] | select(.provider == "openai")] | length' "$IT_TMP/ledger.json")"
spec=$LULL_ROOT/tests/data/specs/openai_openapi.json
out=$(NODE_PATH=$LULL_ROOT/tests/node/node_modules node "$LULL_ROOT/tests/it/validate_openai.js" "$spec" "$IT_TMP/ledger.json" 2>&1)
it_check_eq "OpenAI request bodies validate against CreateChatCompletionRequest" "ok 5" "$out"
[ "$out" == "ok 5" ] || echo "$out" | head -30
# a body that must not validate proves the validator bites
echo '[{"provider":"openai","body":{"model":"x","messages":[{"role":"wizard","content":"x"}]}}]' >"$IT_TMP/bad.json"
NODE_PATH=$LULL_ROOT/tests/node/node_modules node "$LULL_ROOT/tests/it/validate_openai.js" "$spec" "$IT_TMP/bad.json" >/dev/null 2>&1
it_check_eq "the validator rejects an invalid body" 1 "$?"

# reconnect: the fake scheduler stops its heartbeats; after 3 silent intervals the worker reconnects
echo "heartbeat off" >&7
it_wait_for "a second READY with a new identity" 10 bash -c "[ \$(jq -r 'select(.type == \"ready\") | .identity' '$W_SCHED_LOG' | sort -u | wc -l) -ge 2 ]"
it_check_match "reconnect logged" '"ev":"sched.silent"' "$(cat "$IT_TMP/worker.jsonl")"
it_check_eq "READY after reconnect states the full credit" 64 "$(jq -r 'select(.type == "ready") | .credit' "$W_SCHED_LOG" | tail -1)"
it_finish
