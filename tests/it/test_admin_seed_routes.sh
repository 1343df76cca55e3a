#!/usr/bin/env bash
# The operator routes of the bots lull replaces, through the real tiers (a worker on the fake LLM for the dry
# runs): the Flask SMS bot's /cancel-timer, /test-openai, /analyze-sentiment, /generate-response; the Rust
# WhatsApp assistant's /api/v1/ai/{chat,analyze,classify,prompts,usage/{user_id}}; the FastAPI feedback bot's
# /reply/. Each answers in its documented shape, needs the bearer token, and is documented as an alias.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/e2e_lib.sh"
it_db_create || it_finish
# windows long enough to be cancelled by hand
it_sql "UPDATE tenants SET window_ms = 60000, max_wait_ms = 120000 WHERE slug = 'default'" >/dev/null
it_sql "INSERT INTO tenants (slug, company_name, window_ms, max_wait_ms) VALUES ('acme', 'Acme', 60000, 120000)" >/dev/null
e2e_start LULL_SCHED_TRY_TIMEOUT_MS=3000 LULL_ADMIN_TRY_TIMEOUT_MS=5000 || it_finish
it_wait_for "the worker joined the scheduler" 10 grep -q '"ev":"worker.ready"' "$IT_TMP/scheduler.jsonl"
bad() { jq -r '"\(.error.code)|\(.error.message)"' <<<"$ADM_BODY"; }

# --- the Flask SMS bot
it_check_eq "a generic webhook opens a window" 200 "$(e2e_post seed-c1 'hello, anyone there?')"
conv=$(e2e_conv seed-c1)
it_wait_for "its window is open" 10 grep -q "\"ev\":\"window.opened\".*\"conv\":$conv" "$IT_TMP/scheduler.jsonl"
e2e_admin POST /cancel-timer '{"contact_id":"seed-c1"}'
it_check_eq "cancel-timer: the contact's window is cancelled" "200|$conv" "$ADM_CODE|$(jq -r .cancelled <<<"$ADM_BODY")"
e2e_admin GET /api/v1/windows
it_check_eq "no window is left" 0 "$(jq '.windows | length' <<<"$ADM_BODY")"
e2e_admin POST /cancel-timer '{"contact_id":"seed-c1"}'
it_check_eq "cancel-timer again: no window → 404" 404 "$ADM_CODE"
e2e_admin POST /cancel-timer '{"contact_id":"nobody"}'
it_check_eq "cancel-timer, unknown contact → 404 not_found" "404|not_found" "$ADM_CODE|$(jq -r .error.code <<<"$ADM_BODY")"
e2e_admin POST /cancel-timer '{"contact_id":"seed-c1","tenant":"acme"}'
it_check_eq "cancel-timer looks in the given tenant only" 404 "$ADM_CODE"
e2e_admin POST /cancel-timer '{}'
it_check_match "cancel-timer without contact_id → 400 naming it" "^bad_field\|.*contact_id" "$(bad)"
e2e_admin POST /cancel-timer '{"contact_id":true}'
it_check_eq "cancel-timer, boolean contact_id → 400" 400 "$ADM_CODE"

e2e_admin POST /api/v1/test/reply '{"text":"What are your opening hours?"}'
want=$(jq -r .reply <<<"$ADM_BODY")
it_check "lull's own dry run answers a reply" test -n "$want" -a "$want" != null
for r in /test-openai /generate-response; do
    e2e_admin POST "$r" '{"message":"What are your opening hours?","contact_info":{"name":"Ada"}}'
    it_check_eq "$r: 200 {response} with the dry run's reply" "200|[\"response\"]|$want" \
        "$ADM_CODE|$(jq -c keys <<<"$ADM_BODY")|$(jq -r .response <<<"$ADM_BODY")"
done
e2e_admin POST /generate-response '{"message":""}'
it_check_match "generate-response, empty message → 400 naming it" "^bad_field\|.*message" "$(bad)"
e2e_admin POST /test-openai '{"text":"lull shape"}'
it_check_match "test-openai without message → 400 naming it" "^bad_field\|.*message" "$(bad)"
e2e_admin POST /test-openai "{\"message\":\"$(head -c 4001 /dev/zero | tr '\0' a)\"}"
it_check_eq "message over 4000 bytes → 400" 400 "$ADM_CODE"
e2e_admin POST /test-openai '{"message":"hi","tenant":"nope"}'
it_check_eq "unknown tenant → 404" 404 "$ADM_CODE"
e2e_admin POST /analyze-sentiment '{"message":"This is terrible, my order arrived broken!"}'
it_check_eq "analyze-sentiment: lull's analysis" "200|negative|analyse" \
    "$ADM_CODE|$(jq -r .analysis.sentiment <<<"$ADM_BODY")|$(jq -r .mode <<<"$ADM_BODY")"

# --- the Rust WhatsApp assistant
e2e_admin POST /api/v1/ai/chat '{"message":"What are your opening hours?"}'
it_check_eq "ai/chat: lull's dry run" "200|replied|$want" "$ADM_CODE|$(jq -r .outcome <<<"$ADM_BODY")|$(jq -r .reply <<<"$ADM_BODY")"
e2e_admin POST /api/v1/ai/analyze '{"message":"I love it, thanks!"}'
it_check_eq "ai/analyze: the analysis" "200|positive" "$ADM_CODE|$(jq -r .analysis.sentiment <<<"$ADM_BODY")"
e2e_admin POST /api/v1/ai/classify '{"message":"This is terrible, my order arrived broken!"}'
it_check_eq "ai/classify: {intent, confidence}" '200|["confidence","intent"]|complaint' \
    "$ADM_CODE|$(jq -c keys <<<"$ADM_BODY")|$(jq -r .intent <<<"$ADM_BODY")"
it_check "ai/classify: the confidence is a number" jq -e '.confidence | type == "number"' <<<"$ADM_BODY"
e2e_admin POST /api/v1/ai/prompts '{"tenant_id":1,"name":"seed","template":"You are the seed bot."}'
pid=$(jq -r .id <<<"$ADM_BODY")
it_check_eq "ai/prompts POST creates a prompt" "201|seed" "$ADM_CODE|$(jq -r .name <<<"$ADM_BODY")"
e2e_admin GET "/api/v1/ai/prompts?tenant=1"
it_check_eq "ai/prompts GET lists the tenant's prompts" 1 "$(jq "[.prompts[] | select(.id == $pid)] | length" <<<"$ADM_BODY")"
e2e_admin POST /api/v1/ai/prompts '{"tenant_id":1,"colour":"red"}'
it_check_eq "ai/prompts POST refuses an unknown field" 400 "$ADM_CODE"
kid=$(it_sql "SELECT id FROM contacts WHERE external_id = 'seed-c1'")
it_sql "INSERT INTO usage (tenant_id, contact_id, day, provider, model, requests, prompt_tokens, completion_tokens, cost_usd)
        VALUES (1, $kid, current_date, 'openai', 'gpt-4o-mini', 3, 100, 20, 0.01)" >/dev/null
e2e_admin GET "/api/v1/ai/usage/$kid"
it_check_eq "ai/usage/{user_id}: that contact's usage" "200|$kid|3" \
    "$ADM_CODE|$(jq -r '[.usage[].contact_id] | unique | join(",")' <<<"$ADM_BODY")|$(jq -r '[.usage[].requests] | add' <<<"$ADM_BODY")"
e2e_admin GET "/api/v1/ai/usage/$((kid + 1000))?contact=$kid"
it_check_eq "ai/usage: the path's contact wins over ?contact=" 0 "$(jq '.usage | length' <<<"$ADM_BODY")"
e2e_admin GET /api/v1/ai/usage/abc
it_check_eq "ai/usage, not an id → 400 bad_id" "400|bad_id" "$ADM_CODE|$(jq -r .error.code <<<"$ADM_BODY")"

# --- the FastAPI feedback bot
n0=$(it_sql "SELECT count(*) FROM messages")
e2e_admin POST /reply/ '{"sender_id":"seed-r1","message":"What are your opening hours?"}'
it_check_eq "reply/: 200 with the dry run's reply" "200|$want" "$ADM_CODE|$(jq -r .response <<<"$ADM_BODY")"
rconv=$(e2e_conv seed-r1)
it_check_eq "reply/: the message is stored as the contact's inbound generic message" \
    "$rconv|$(it_sql "SELECT max(id) FROM messages WHERE direction = 'in'")|in|contact|generic|What are your opening hours?" \
    "$(jq -r .conversation_id <<<"$ADM_BODY")|$(jq -r .message_id <<<"$ADM_BODY")|$(it_sql "SELECT direction || '|' || author || '|' || channel || '|' || body FROM messages WHERE id = $(jq -r .message_id <<<"$ADM_BODY")")"
it_check_eq "reply/: the message and the reply stored, nothing else" $((n0 + 2)) "$(it_sql "SELECT count(*) FROM messages")"
it_check_eq "reply/: the answer is kept as the bot's reply in the conversation" "out|bot|$want" \
    "$(it_sql "SELECT direction || '|' || author || '|' || body FROM messages WHERE conversation_id = $rconv AND id > $(jq -r .message_id <<<"$ADM_BODY")")"
# answered once: the HTTP answer is the delivery, the pipeline has nothing left to answer (the sweep's predicate
# is false, and a job of it would be refused by the worker's compare-and-swap on cancelled_upto)
it_check_eq "reply/: answered up to the message, not in the unanswered set" "t|f" \
    "$(it_sql "SELECT answered_upto = last_inbound_id AND cancelled_upto = last_inbound_id, last_inbound_id > greatest(answered_upto, cancelled_upto) FROM conversations WHERE id = $rconv")"
it_check_eq "reply/: no delivery queued (the HTTP answer was it)" 0 \
    "$(it_sql "SELECT count(*) FROM outbox WHERE conversation_id = $rconv")"
# a later webhook of another contact is answered by the pipeline: the sweeps ran meanwhile, and still nothing
# was sent for the /reply/ conversation
it_check_eq "a webhook of another contact" 200 "$(e2e_post seed-r3 'and you?')"
r3=$(e2e_conv seed-r3)
it_wait_for "its window is open" 10 grep -q "\"ev\":\"window.opened\".*\"conv\":$r3," "$IT_TMP/scheduler.jsonl"
e2e_admin POST "/api/v1/windows/$r3/flush" '{}'
it_wait_for "is answered through the pipeline" 30 \
    sh -c "[ \"\$(psql '$LULL_DATABASE_URL' -XAtc \"SELECT count(*) FROM outbox WHERE conversation_id = (SELECT v.id FROM conversations v JOIN contacts c ON c.id = v.contact_id WHERE c.external_id = 'seed-r3')\")\" = 1 ]"
it_check_eq "reply/: still no delivery and one bot message for its conversation" "0|1" \
    "$(it_sql "SELECT (SELECT count(*) FROM outbox WHERE conversation_id = $rconv) || '|' || (SELECT count(*) FROM messages WHERE conversation_id = $rconv AND author = 'bot')")"
it_check "reply/: logged inbound.accepted with the ids" \
    grep -q "\"ev\":\"inbound.accepted\".*\"conv\":$rconv" "$IT_TMP/admin.jsonl"
e2e_admin POST /reply/ '{"sender_id":42,"message":"hi","tenant":"acme"}'
it_check_eq "reply/: an integer sender_id, another tenant" "200|acme" \
    "$ADM_CODE|$(it_sql "SELECT t.slug FROM contacts k JOIN tenants t ON t.id = k.tenant_id WHERE k.external_id = '42'")"
e2e_admin POST /reply/ '{"sender_id":"seed-r2","message":"hi","tenant":"nope"}'
it_check_eq "reply/: unknown tenant → 404, nothing stored" "404|0" \
    "$ADM_CODE|$(it_sql "SELECT count(*) FROM contacts WHERE external_id = 'seed-r2'")"
e2e_admin POST /reply/ '{"message":"hi"}'
it_check_match "reply/ without sender_id → 400 naming it" "^bad_field\|.*sender_id" "$(bad)"
e2e_admin POST /reply '{"sender_id":"x","message":"hi"}'
it_check_eq "reply without the slash is not a route" 404 "$ADM_CODE"

# --- every seed route needs the token, and is documented as an alias
for r in "POST /cancel-timer" "POST /test-openai" "POST /analyze-sentiment" "POST /generate-response" \
    "POST /api/v1/ai/chat" "POST /api/v1/ai/analyze" "POST /api/v1/ai/classify" "GET /api/v1/ai/prompts" \
    "POST /api/v1/ai/prompts" "GET /api/v1/ai/usage/1" "POST /reply/"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X "${r% *}" --max-time 5 -H 'Content-Type: application/json' \
        --data-binary '{}' "$ADM${r#* }")
    it_check_eq "$r without a token → 401" 401 "$code"
done
curl -s --max-time 5 "$ADM/openapi.json" >"$IT_TMP/openapi.json"
it_check_eq "the OpenAPI document describes the 11 seed operations as aliases" 11 \
    "$(jq '[.paths[][] | select(.tags == ["admin: seed routes"]) | select(.summary | test("alias of"; "i"))] | length' "$IT_TMP/openapi.json")"
it_finish
