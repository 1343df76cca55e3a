#!/usr/bin/env bash
# End to end through the real tiers, failures. Provider fallback: with the tenant's chain openai → anthropic
# and OpenAI answering 500 to everything, the reply is still delivered and Anthropic generated it. A dead
# letter: the callback target answers 401 once, so the reply dies (outbox dead); replayed through the admin
# API it is delivered exactly once, with the same idempotency key.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/e2e_lib.sh"
it_db_create || it_finish
it_sql "UPDATE tenants SET window_ms = 200, max_wait_ms = 2000, provider_chain = '{openai,anthropic}' WHERE slug = 'default'" >/dev/null
e2e_start LULL_WORKER_LLM_RETRIES=1 || it_finish

# 1. provider fallback
e2e_fake "$LLM/_fake/faults" '{"provider":"openai","mode":"500","count":100}' || it_fail "fault injected into the fake LLM"
it_check_eq "Fay's message accepted" 200 "$(e2e_post fay 'fay asks about delivery times')"
FCONV=$(e2e_conv fay)
it_wait_for "Fay's message answered" 15 e2e_answered "$FCONV"
it_wait_for "Fay's reply delivered" 10 e2e_delivered_ge 1
it_check_eq "OpenAI was tried first (and failed)" 1 \
    "$(e2e_ge 1 e2e_llm_count '.provider == "openai" and .kind == "reply" and ((.body | tostring) | contains("fay asks"))' && echo 1)"
it_check_eq "Anthropic generated the reply" 1 \
    "$(e2e_llm_count '.provider == "anthropic" and .kind == "reply" and ((.body | tostring) | contains("fay asks"))')"
it_check_eq "the reply delivered and sent" "sent:1" "$(it_sql "SELECT status || ':' || count(*) FROM outbox WHERE conversation_id = $FCONV GROUP BY status")"
it_check_eq "usage booked on Anthropic for the reply" 1 \
    "$(it_sql "SELECT count(*) FROM usage WHERE provider = 'anthropic' AND contact_id = (SELECT contact_id FROM conversations WHERE id = $FCONV)")"
curl -s -o /dev/null -X DELETE "$LLM/_fake/faults"
e2e_fake "$LLM/_fake/reset" '{}' || true
it_wait_for "Fay's reply final" 10 e2e_outbox_idle

# 2. a dead letter replayed
e2e_fake "$CH/_fake/faults" '{"target":"callback","mode":"401","count":1}' || it_fail "fault injected into the fake channels"
it_check_eq "Dan's message accepted" 200 "$(e2e_post dan 'dan asks about returns')"
DCONV=$(e2e_conv dan)
dead() { [ "$(it_sql "SELECT count(*) FROM outbox WHERE conversation_id = $DCONV AND status = 'dead'")" = 1 ]; }
it_wait_for "Dan's reply died on the 401" 15 dead
OID=$(it_sql "SELECT id FROM outbox WHERE conversation_id = $DCONV")
KEY=$(it_sql "SELECT idempotency_key FROM outbox WHERE id = $OID")
it_check_match "the dead row says why" '401' "$(it_sql "SELECT last_error FROM outbox WHERE id = $OID")"
e2e_admin GET "/api/v1/dead-letters"
it_check_eq "the dead letter is listed by the admin API" "$OID" "$(jq -r '[.dead_letters[] | .id] | join(",")' <<<"$ADM_BODY")"
e2e_admin POST "/api/v1/dead-letters/$OID/replay"
it_check_eq "replay through the admin API: 200" 200 "$ADM_CODE"
sent() { [ "$(it_sql "SELECT status FROM outbox WHERE id = $OID")" = sent ]; }
it_wait_for "the replayed reply sent" 15 sent
e2e_settle 1  # a second delivery, if any, would show up in the ledger now (the checks must be able to fail)
log=$(curl -s -G --data-urlencode "key=$KEY" "$CH/_fake/ledger" | jq -c --arg k "$KEY" '.by_key[$k].log')
it_check_eq "the key was refused once (401), then delivered once" "401:false 200:true" \
    "$(jq -r '[.[] | "\(.status):\(.delivered)"] | join(" ")' <<<"$log")"
it_check_eq "no reply delivered twice" 0 "$(curl -s "$CH/_fake/ledger?summary=1" | jq -r .duplicated_keys)"
it_check_eq "still one outbox row for Dan, same idempotency key" "1|$KEY" \
    "$(it_sql "SELECT count(*) || '|' || max(idempotency_key) FROM outbox WHERE conversation_id = $DCONV")"
e2e_admin GET "/api/v1/dead-letters"
it_check_eq "no dead letters left" 0 "$(jq -r '.dead_letters | length' <<<"$ADM_BODY")"
it_finish
