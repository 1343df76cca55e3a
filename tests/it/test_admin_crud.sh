#!/usr/bin/env bash
# Admin API, tenants / prompts / inventory create-read-update-delete with field validation (types, ranges,
# lengths, unknown fields, credentials as references only), 404/409, inventory upsert; usage report.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scheduler_lib.sh"
source "$(dirname "$0")/admin_lib.sh"
it_db_create || it_finish
sched_start sched
adm_start admin

# --- tenants ---------------------------------------------------------------------------------------------
adm POST /api/v1/tenants '{"slug":"acme","name":"Acme","window_ms":5000,"provider_chain":["openai"],"credentials":{"twilio_auth_token":"LULL_TENANT_ACME_TWILIO_TOKEN"},"callback_url":"https://acme.example/cb"}'
it_check_eq "create tenant 201" 201 "$ADM_CODE"
t=$(jqr .id)
it_check_eq "fields stored" "acme|5000|{openai}" "$(it_sql "SELECT slug || '|' || window_ms || '|' || provider_chain::text FROM tenants WHERE id = $t")"
adm POST /api/v1/tenants '{"slug":"acme"}'
it_check_eq "duplicate slug → 409" 409 "$ADM_CODE"
adm POST /api/v1/tenants '{"name":"no slug"}'
it_check_eq "missing slug → 400" 400 "$ADM_CODE"
it_check_match "says which field" "slug" "$(jqr .error.message)"
adm POST /api/v1/tenants '{"slug":"Bad Slug!"}'
it_check_eq "bad slug → 400" 400 "$ADM_CODE"
adm POST /api/v1/tenants '{"slug":"x1","window_ms":"fast"}'
it_check_eq "wrong type → 400" 400 "$ADM_CODE"
adm POST /api/v1/tenants '{"slug":"x1","temperature":3}'
it_check_eq "out of range → 400" 400 "$ADM_CODE"
it_check_match "range in message" "between 0 and 2" "$(jqr .error.message)"
adm POST /api/v1/tenants "{\"slug\":\"x1\",\"name\":\"$(head -c 300 /dev/zero | tr '\0' a)\"}"
it_check_eq "too long → 400" 400 "$ADM_CODE"
adm POST /api/v1/tenants '{"slug":"x1","credentials":{"twilio_auth_token":"9f8e7d6c5b4a39281706f5e4d3c2b1a0"}}'
it_check_eq "a secret value in credentials → 400" 400 "$ADM_CODE"
it_check_match "credentials are references" "environment variable" "$(jqr .error.message)"
# references are LULL_TENANT_…: never a process setting (the admin token, the database URL) or another variable
for body in '{"slug":"x1","credentials":{"twilio_auth_token_env":"LULL_ADMIN_TOKEN"}}' \
            '{"slug":"x1","credentials":{"twilio_auth_token_env":"LULL_DATABASE_URL"}}' \
            '{"slug":"x1","credentials":{"tiktok_access_token_env":"HOME"}}' \
            '{"slug":"x1","callback_secret_ref":"LULL_ADMIN_TOKEN"}' \
            '{"slug":"x1","webhook_secret_env":"LULL_DATABASE_URL"}' \
            '{"slug":"x1","webhook_secret_env":"LULL_TENANT_"}' \
            '{"slug":"x1","webhook_secret_env":"LULL_TENANT_lower"}'; do
    adm POST /api/v1/tenants "$body"
    it_check_eq "reference outside LULL_TENANT_ → 400 naming the prefix: $body" "400|1" \
        "$ADM_CODE|$(jqr .error.message | grep -c LULL_TENANT_)"
done
adm POST /api/v1/tenants '{"slug":"refs","callback_secret_ref":"LULL_TENANT_REFS_CB","webhook_secret_env":"LULL_TENANT_REFS_WH","credentials":{"tiktok_access_token_env":"LULL_TENANT_REFS_TT"}}'
it_check_eq "LULL_TENANT_ references accepted" "201|LULL_TENANT_REFS_CB|LULL_TENANT_REFS_WH" \
    "$ADM_CODE|$(it_sql "SELECT callback_secret_ref || '|' || webhook_secret_env FROM tenants WHERE slug = 'refs'")"
adm PATCH "/api/v1/tenants/$(jqr .id)" '{"callback_secret_ref":"LULL_ADMIN_TOKEN"}'
it_check_eq "PATCH to a process setting → 400" 400 "$ADM_CODE"
it_sql "DELETE FROM tenants WHERE slug = 'refs'" >/dev/null
# WhatsApp Cloud API fields: number ids (digits, one tenant each), the unsupported-type choice, the template
adm POST /api/v1/tenants '{"slug":"wa1","meta_phone_number_ids":["106540352242922"],"meta_unsupported":"reply","meta_template":{"name":"order_update","language":"en_US"}}'
it_check_eq "meta fields stored" "201|{106540352242922}|reply|order_update" \
    "$ADM_CODE|$(it_sql "SELECT meta_phone_number_ids::text || '|' || meta_unsupported || '|' || (meta_template->>'name') FROM tenants WHERE slug = 'wa1'")"
adm POST /api/v1/tenants '{"slug":"wa2","meta_phone_number_ids":["106540352242922"]}'
it_check_eq "a number id of another tenant → 409 naming it" "409|1" "$ADM_CODE|$(jqr .error.message | grep -c meta_phone_number_ids)"
for body in '{"slug":"wa3","meta_phone_number_ids":["+1555"]}' '{"slug":"wa3","meta_unsupported":"maybe"}' \
            '{"slug":"wa3","meta_template":{"name":"x"}}'; do
    adm POST /api/v1/tenants "$body"
    it_check_eq "invalid meta field → 400: $body" 400 "$ADM_CODE"
done
it_sql "DELETE FROM tenants WHERE slug = 'wa1'" >/dev/null
adm POST /api/v1/tenants '{"slug":"x1","callback_url":"ftp://x"}'
it_check_eq "bad URL → 400" 400 "$ADM_CODE"
adm POST /api/v1/tenants '{"slug":"x1","bogus":1}'
it_check_eq "unknown field → 400" 400 "$ADM_CODE"
adm POST /api/v1/tenants '[1]'
it_check_eq "not an object → 400" 400 "$ADM_CODE"
adm GET "/api/v1/tenants/$t"
it_check_eq "read tenant" acme "$(jqr .slug)"
adm PATCH "/api/v1/tenants/$t" '{"window_ms":7000,"model":null}'
it_check_eq "update 200" 7000 "$(jqr .window_ms)"
adm PATCH "/api/v1/tenants/$t" '{"models":{"anthropic":"claude-x","gemini":"gemini-y"}}'
it_check_eq "models: a model per provider stored" '200|{"gemini": "gemini-y", "anthropic": "claude-x"}' \
    "$ADM_CODE|$(it_sql "SELECT models FROM tenants WHERE id = $t")"
adm PATCH "/api/v1/tenants/$t" '{"models":{"mistral":"m"}}'
it_check_eq "models: an unknown provider → 400 naming it" "400|bad_field" "$ADM_CODE|$(jqr .error.code)"
it_check_match "models: the message names the key" "mistral" "$(jqr .error.message)"
adm PATCH "/api/v1/tenants/$t" '{"models":{"openai":7}}'
it_check_eq "models: a non-string model → 400" 400 "$ADM_CODE"
adm PATCH "/api/v1/tenants/$t" '{}'
it_check_eq "empty update → 400" 400 "$ADM_CODE"
adm PATCH /api/v1/tenants/999999 '{"window_ms":1}'
it_check_eq "update unknown → 404" 404 "$ADM_CODE"
adm GET /api/v1/tenants
it_check_eq "list: default and acme" "default acme" "$(jqr '[.tenants[].slug] | join(" ")')"
adm GET /api/v1/tenants/abc
it_check_eq "bad id → 400" 400 "$ADM_CODE"
adm DELETE /api/v1/tenants/1
it_check_eq "the default tenant cannot be deleted" 404 "$ADM_CODE"

# --- prompts ---------------------------------------------------------------------------------------------
adm POST /api/v1/prompts "{\"tenant_id\":$t,\"template\":\"You are {{agent_name}}.\"}"
it_check_eq "create prompt 201" 201 "$ADM_CODE"
p=$(jqr .id)
adm POST /api/v1/prompts '{"tenant_id":999999,"template":"x"}'
it_check_eq "prompt of an unknown tenant → 400" 400 "$ADM_CODE"
adm PATCH "/api/v1/prompts/$p" '{"active":"yes"}'
it_check_eq "bool field typed → 400" 400 "$ADM_CODE"
adm PATCH "/api/v1/prompts/$p" '{"active":false}'
it_check_eq "prompt updated" false "$(jqr .active)"
adm GET "/api/v1/prompts?tenant=$t"
it_check_eq "prompts of a tenant" "$p" "$(jqr '.prompts[0].id')"
adm DELETE "/api/v1/prompts/$p"
it_check_eq "delete prompt" 200 "$ADM_CODE"
adm GET "/api/v1/prompts/$p"
it_check_eq "deleted prompt → 404" 404 "$ADM_CODE"

# --- inventory -------------------------------------------------------------------------------------------
adm POST /api/v1/inventory "{\"tenant_id\":$t,\"sku\":\"D-1\",\"name\":\"Red dress\",\"price\":49.5,\"status\":\"available\"}"
it_check_eq "create item 201" 201 "$ADM_CODE"
i=$(jqr .id)
adm POST /api/v1/inventory "{\"tenant_id\":$t,\"sku\":\"D-1\"}"
it_check_eq "duplicate sku → 409" 409 "$ADM_CODE"
adm POST "/api/v1/inventory?upsert=true" "{\"tenant_id\":$t,\"sku\":\"D-1\",\"price\":39}"
it_check_eq "upsert 201" 201 "$ADM_CODE"
it_check_eq "upsert updated the same row" "$i|39.00|Red dress" "$(it_sql "SELECT id || '|' || price || '|' || name FROM inventory WHERE tenant_id = $t")"
adm POST /api/v1/inventory "{\"tenant_id\":$t,\"sku\":\"D-2\",\"status\":\"lost\"}"
it_check_eq "bad status → 400" 400 "$ADM_CODE"
adm POST /api/v1/inventory "{\"tenant_id\":$t,\"sku\":\"D-2\",\"price\":-1}"
it_check_eq "negative price → 400" 400 "$ADM_CODE"
adm PATCH "/api/v1/inventory/$i" '{"status":"sold"}'
it_check_eq "item updated" sold "$(jqr .status)"
adm PATCH "/api/v1/inventory/$i" '{"tenant_id":1}'
it_check_eq "tenant_id is read-only on update" 400 "$ADM_CODE"
adm DELETE "/api/v1/inventory/$i"
it_check_eq "delete item" 200 "$ADM_CODE"
adm DELETE "/api/v1/inventory/$i"
it_check_eq "delete again → 404" 404 "$ADM_CODE"

# tenant delete cascades
adm DELETE "/api/v1/tenants/$t"
it_check_eq "delete tenant" 200 "$ADM_CODE"

# --- tenant limits (common/lull_tenant_limits.h): the bound is accepted, one past it refused naming the limit
adm POST /api/v1/tenants '{"slug":"limits","max_tokens":200000,"history_len":500,"provider_chain":["gemini","openai","anthropic"]}'
it_check_eq "limits: max_tokens 200000, history_len 500 and a chain of 3 accepted" 201 "$ADM_CODE"
lt=$(jqr .id)
it_check_eq "limits: stored as given" "200000|500|{gemini,openai,anthropic}" \
    "$(it_sql "SELECT max_tokens || '|' || history_len || '|' || provider_chain::text FROM tenants WHERE id = $lt")"
adm PATCH "/api/v1/tenants/$lt" '{"max_tokens":200001}'
it_check_eq "limits: max_tokens 200001 → 400" 400 "$ADM_CODE"
it_check_match "limits: the message names the max_tokens limit" "'max_tokens' must be an integer between 1 and 200000" "$(jqr .error.message)"
adm PATCH "/api/v1/tenants/$lt" '{"history_len":501}'
it_check_eq "limits: history_len 501 → 400" 400 "$ADM_CODE"
it_check_match "limits: the message names the history_len limit" "between 1 and 500" "$(jqr .error.message)"
adm PATCH "/api/v1/tenants/$lt" '{"history_len":0}'
it_check_eq "limits: history_len 0 → 400 (at least the burst's message)" 400 "$ADM_CODE"
m200=$(head -c 200 /dev/zero | tr '\0' m)
adm PATCH "/api/v1/tenants/$lt" "{\"model\":\"$m200\",\"models\":{\"anthropic\":\"$m200\"}}"
it_check_eq "limits: a model name of 200 bytes accepted (model and models)" 200 "$ADM_CODE"
adm PATCH "/api/v1/tenants/$lt" "{\"model\":\"${m200}m\"}"
it_check_eq "limits: a model name of 201 bytes → 400" 400 "$ADM_CODE"
it_check_match "limits: the message names the model limit" "'model' must be 1 to 200 bytes" "$(jqr .error.message)"
adm PATCH "/api/v1/tenants/$lt" "{\"models\":{\"openai\":\"${m200}m\"}}"
it_check_eq "limits: a models entry of 201 bytes → 400" 400 "$ADM_CODE"
adm PATCH "/api/v1/tenants/$lt" '{"provider_chain":["openai","mistral"]}'
it_check_eq "limits: an unknown provider in the chain → 400" 400 "$ADM_CODE"
it_check_match "limits: the message names the providers" "openai\|anthropic\|gemini" "$(jqr .error.message)"
adm PATCH "/api/v1/tenants/$lt" '{"provider_chain":["openai","openai"]}'
it_check_eq "limits: a repeated provider in the chain → 400" 400 "$ADM_CODE"
it_check_eq "limits: nothing of the refused values stored" "200000|500|$m200" \
    "$(it_sql "SELECT max_tokens || '|' || history_len || '|' || model FROM tenants WHERE id = $lt")"
adm DELETE "/api/v1/tenants/$lt"

# --- usage -------------------------------------------------------------------------------------------------
it_sql "INSERT INTO usage (tenant_id, contact_id, day, provider, model, requests, prompt_tokens, completion_tokens, cost_usd) VALUES
        (1, 5, '2026-11-20', 'openai', 'a', 2, 100, 50, 0.01), (1, 5, '2026-11-20', 'anthropic', 'b', 1, 10, 5, 0.02),
        (1, 6, '2026-11-21', 'openai', 'a', 1, 1, 1, 0.001)" >/dev/null
adm GET "/api/v1/usage?tenant=1&contact=5"
it_check_eq "usage summed per tenant/contact/day" '3|110|55|0.03' "$(jqr '.usage[0] | "\(.requests)|\(.prompt_tokens)|\(.completion_tokens)|\(.cost_usd)"')"
adm GET "/api/v1/usage?from=2026-11-21&to=2026-11-21"
it_check_eq "usage date range" 6 "$(jqr '.usage[0].contact_id')"
adm GET "/api/v1/usage?from=yesterday"
it_check_eq "bad date → 400" 400 "$ADM_CODE"
it_finish
