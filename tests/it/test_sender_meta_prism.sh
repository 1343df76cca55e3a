#!/usr/bin/env bash
# The sender's WhatsApp Cloud API requests are valid for Meta's own OpenAPI description (business-messaging-api
# v23.0): Prism in mock mode answers 200 only to requests that pass validation (bearer token, headers, body) and
# 422 with the violations otherwise. A text reply, a long text in two parts and the 24-hour template.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sender_lib.sh"
PRISM=$LULL_ROOT/tests/node/node_modules/.bin/prism
SPEC=$LULL_ROOT/tests/data/specs/meta_business_messaging_v23.json
it_check "prism is installed (scripts/node-deps)" test -x "$PRISM"
it_db_create || it_finish
fake_start  # the Twilio fake is unused here; sender_start needs one
PP=$(it_free_port)
PRISM_URL=http://127.0.0.1:$PP
PRISM_LOG=$IT_TMP/prism.log  # it_start's output file
it_start prism "$PRISM" mock -h 127.0.0.1 -p "$PP" "$SPEC"
prism_up() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$PRISM_URL/v23.0/1")" != 000 ]; }
it_wait_up prism "$IT_LAST_PID" 60 prism_up || it_finish
META_TOKEN=EAAGm0PX4ZCpsBAfaketoken0123456789
it_sql "INSERT INTO tenants (id, slug, meta_template) VALUES (2, 'tpl', '{\"name\":\"order_update\",\"language\":\"en_US\",\"components\":[{\"type\":\"body\",\"parameters\":[{\"type\":\"text\",\"text\":\"Ann\"}]}]}')" >/dev/null
conv() {
    local c
    c=$(it_sql "INSERT INTO contacts (tenant_id, channel, external_id, last_inbound_at) VALUES ($1, 'whatsapp', 'whatsapp:+$2', $3) RETURNING id")
    it_sql "INSERT INTO conversations (tenant_id, contact_id, channel, wa_window_start, business_address)
            VALUES ($1, $c, 'whatsapp', $3, 'meta:106540352242922') RETURNING id"
}
wa() { outbox_add whatsapp "whatsapp:+$3" meta:106540352242922 "$(jq -cn --arg b "$4" '{body:$b, kind:"reply"}')" "" "$1" "$2"; }
sender_start sender LULL_META_API_BASE="$PRISM_URL" LULL_META_GRAPH_VERSION=v23.0 LULL_META_ACCESS_TOKEN="$META_TOKEN" \
    LULL_MAX_RETRIES=1
# accepted DESC ID : the row is sent with Prism's 200 and its example wamid; on failure, Prism's violations.
accepted() {
    local got
    got=$(outbox_field "$2" "status || '|' || coalesce(last_status::text,'') || '|' || coalesce(provider_message_id,'')")
    if ! it_check_match "$1: Prism accepted it (200, wamid)" '^sent\|200\|wamid\.' "$got"; then
        echo "  outbox: $got; error: $(outbox_field "$2" "coalesce(last_error,'')")"
        grep -E 'Violation|violation|✖|error' "$PRISM_LOG" | tail -20 | sed 's/^/  prism: /'
    fi
}

c1=$(conv 1 16505551234 "now()")
o=$(wa 1 "$c1" 16505551234 'Yes, it comes in blue.')
wait_final "text reply" "$o"; accepted "text reply" "$o"
long=$(printf 'é%.0s' $(seq 5000))
o=$(wa 1 "$c1" 16505551234 "$long")
wait_final "long reply" "$o"; accepted "long reply in two parts" "$o"
it_check_eq "the long reply took two requests (three in all so far)" 3 \
    "$(grep -c 'post /v23.0/106540352242922/messages .*Request received' "$PRISM_LOG")"
c2=$(conv 2 16505552222 "now() - interval '2 days'")
o=$(wa 2 "$c2" 16505552222 'Your order shipped')
wait_final "template" "$o"; accepted "template outside the 24-hour window" "$o"

# Negative controls: the same spec refuses a wrong body (422 with the violation) and a missing token (401), so
# the 200s above mean the requests passed validation.
bad=$(curl -s -w '\n%{http_code}' -X POST -H "Authorization: Bearer $META_TOKEN" -H 'Content-Type: application/json' \
    -d '{"messaging_product":"whatsapp","to":"16505551234","type":"template","template":{"name":"x","language":{"code":"en_US"}}}' \
    "$PRISM_URL/v23.0/106540352242922/messages")
it_check_eq "Prism refuses a template language without policy (422)" 422 "$(tail -n1 <<<"$bad")"
it_check_match "with the violation named" "policy" "$(head -n -1 <<<"$bad")"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d '{"messaging_product":"whatsapp","to":"16505551234","type":"text","text":{"body":"x"}}' \
    "$PRISM_URL/v23.0/106540352242922/messages")
it_check_eq "Prism refuses a request without the bearer token" 401 "$code"
it_finish
