#!/usr/bin/env bash
# The sender's WhatsApp Cloud API adapter against the fake Graph API: the request (URL, bearer token, body), the
# returned wamid kept, long texts in parts of 4096 characters, the 24-hour window (template or escalation, also
# when Meta answers 131047), each class of Graph errors (retry: 429, 4, 80007, 130429, 131056, 5xx; fail at once:
# 190, 100, 131008, 131026), tenant tokens by env reference, the token never in a log or dead letter, and Cloud API
# retries written back to the queue (never held in memory).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sender_lib.sh"
it_db_create || it_finish
fake_start  # the Twilio fake is unused here; sender_start needs one
GPORT=$(it_free_port)
GRAPH=http://127.0.0.1:$GPORT
META_TOKEN=EAAGm0PX4ZCpsBAfaketoken0123456789
it_start graph "$LULL_FAKES/fake_graph" --port "$GPORT" --token "$META_TOKEN"
it_wait_for "fake graph" 10 it_http_ok "$GRAPH/_fake/ledger"
graph_fault() { curl -fsS -X POST -H 'Content-Type: application/json' -d "$1" "$GRAPH/_fake/faults" >/dev/null; }
graph_key() { curl -fsS "$GRAPH/_fake/ledger" | jq -c --arg k "$1" '.by_key[$k]'; }

export LULL_TENANT_T3_META=$META_TOKEN
it_sql "INSERT INTO tenants (id, slug, meta_template) VALUES (2, 'tpl', '{\"name\":\"order_update\",\"language\":\"en_US\",\"components\":[{\"type\":\"body\",\"parameters\":[{\"type\":\"text\",\"text\":\"Ann\"}]}]}');
        INSERT INTO tenants (id, slug, credentials) VALUES (3, 'own', '{\"meta_access_token_env\":\"LULL_TENANT_T3_META\"}'),
                                                           (4, 'greedy', '{\"meta_access_token_env\":\"LULL_META_ACCESS_TOKEN\"}')" >/dev/null
# conv TENANT WA_ID INBOUND_SQL → conversation id
conv() {
    local c
    c=$(it_sql "INSERT INTO contacts (tenant_id, channel, external_id, last_inbound_at) VALUES ($1, 'whatsapp', 'whatsapp:+$2', $3) RETURNING id")
    it_sql "INSERT INTO conversations (tenant_id, contact_id, channel, wa_window_start, business_address)
            VALUES ($1, $c, 'whatsapp', $3, 'meta:106540352242922') RETURNING id"
}
# wa TENANT CONV WA_ID BODY → outbox id
wa() { outbox_add whatsapp "whatsapp:+$3" meta:106540352242922 "$(jq -cn --arg b "$4" '{body:$b, kind:"reply"}')" "" "$1" "$2"; }
sender_start sender LULL_META_API_BASE="$GRAPH" LULL_META_ACCESS_TOKEN="$META_TOKEN" LULL_MAX_RETRIES=3

# --- a reply inside the window
c1=$(conv 1 16505551234 "now()")
o=$(wa 1 "$c1" 16505551234 'Yes, it comes in blue.')
wait_final "reply" "$o"
it_check_eq "sent" sent "$(outbox_field "$o" status)"
e=$(graph_key "meta:16505551234|Yes, it comes in blue.")
it_check_eq "one delivery" 1 "$(jq -r .deliveries <<<"$e")"
it_check_eq "URL: /{version}/{phone_number_id}/messages" "/v21.0/106540352242922/messages" "$(jq -r .last.path <<<"$e")"
it_check_eq "Authorization: Bearer token" "Bearer $META_TOKEN" "$(jq -r .last.authorization <<<"$e")"
it_check_eq "JSON body, Meta's fields" \
    '{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"text","text":{"body":"Yes, it comes in blue."}}' \
    "$(jq -r .last.body <<<"$e")"
it_check_match "the wamid Meta returned is the provider id" '^wamid\.' "$(outbox_field "$o" provider_message_id)"

# --- a long reply: parts of 4096 characters (é is two bytes, one character), the first wamid kept
long=$(printf 'é%.0s' $(seq 5000))
o=$(wa 1 "$c1" 16505551234 "$long")
wait_final "long reply" "$o"
it_check_eq "long reply sent" sent "$(outbox_field "$o" status)"
p1=$(printf 'é%.0s' $(seq 4096)); p2=$(printf 'é%.0s' $(seq 904))
it_check_eq "two parts of 4096 + 904 characters" "1|1" \
    "$(jq -r .deliveries <<<"$(graph_key "meta:16505551234|$p1")")|$(jq -r .deliveries <<<"$(graph_key "meta:16505551234|$p2")")"

# --- outside the window: the tenant's template, else escalate
c2=$(conv 2 16505552222 "now() - interval '2 days'")
o=$(wa 2 "$c2" 16505552222 'Your order shipped')
wait_final "template" "$o"
it_check_eq "outside the window with a template → sent" sent "$(outbox_field "$o" status)"
e=$(graph_key "meta:16505552222|order_update")
it_check_eq "template body" \
    "$(jq -cS . <<<'{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505552222","type":"template","template":{"name":"order_update","language":{"policy":"deterministic","code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"Ann"}]}]}}')" \
    "$(jq -cS . <<<"$(jq -r .last.body <<<"$e")")"
c3=$(conv 1 16505553333 "now() - interval '2 days'")
o=$(wa 1 "$c3" 16505553333 'Hello again')
wait_final "escalation" "$o"
it_check_eq "no template → dead, conversation escalated" "dead|escalated" "$(outbox_field "$o" status)|$(it_sql "SELECT status FROM conversations WHERE id = $c3")"
it_check_eq "nothing sent" null "$(graph_key "meta:16505553333|Hello again")"

# --- Meta says the window is closed (131047) although lull thought it open
graph_fault '{"mode":"error","status":400,"code":131047,"count":1}'
c4=$(conv 2 16505554444 "now()")
o=$(wa 2 "$c4" 16505554444 'Inside, lull thinks')
wait_final "131047 with template" "$o"
it_check_eq "131047 → the template is sent instead" "sent|1|0" \
    "$(outbox_field "$o" status)|$(jq -r .deliveries <<<"$(graph_key "meta:16505554444|order_update")")|$(jq -r .deliveries <<<"$(graph_key "meta:16505554444|Inside, lull thinks")")"
graph_fault '{"mode":"error","status":400,"code":131047,"count":1}'
c5=$(conv 1 16505555555 "now()")
o=$(wa 1 "$c5" 16505555555 'No template here')
wait_final "131047 without template" "$o"
it_check_eq "131047 without template → dead, escalated" "dead|escalated" "$(outbox_field "$o" status)|$(it_sql "SELECT status FROM conversations WHERE id = $c5")"
it_check_match "reason names the window" '131047' "$(outbox_field "$o" last_error)"

# --- error classes: retried, then sent
for fault in '429 4' '400 4' '400 80007' '400 130429' '400 131056' '500 2' '503 1'; do
    set -- $fault
    graph_fault "{\"mode\":\"error\",\"status\":$1,\"code\":$2,\"count\":2}"
    o=$(wa 1 "$c1" 16505551234 "retry $1 $2")
    wait_final "retry $1/$2" "$o"
    it_check_eq "HTTP $1 code $2 → retried, then sent (3 attempts)" "sent|3" "$(outbox_field "$o" status)|$(outbox_field "$o" attempts)"
done
# --- error classes: fail at once
for fault in '401 190' '400 100' '400 131008' '400 131026' '403 10'; do
    set -- $fault
    graph_fault "{\"mode\":\"error\",\"status\":$1,\"code\":$2,\"count\":1}"
    o=$(wa 1 "$c1" 16505551234 "fail $1 $2")
    wait_final "fail $1/$2" "$o"
    it_check_eq "HTTP $1 code $2 → dead after one attempt" "dead|1" "$(outbox_field "$o" status)|$(outbox_field "$o" attempts)"
    it_check_match "dead letter names the code" "code $2" "$(outbox_field "$o" last_error)"
done
graph_fault '{"mode":"error","status":500,"code":2,"count":-1}'
o=$(wa 1 "$c1" 16505551234 'always failing')
wait_final "retries exhausted" "$o"
it_check_eq "5xx until max retries → unknown (may have been delivered)" "unknown|4" "$(outbox_field "$o" status)|$(outbox_field "$o" attempts)"
curl -fsS -X DELETE "$GRAPH/_fake/faults" >/dev/null

# --- tenant tokens by env reference
c6=$(conv 3 16505556666 "now()")
o=$(wa 3 "$c6" 16505556666 'own token')
wait_final "tenant token" "$o"
it_check_eq "tenant's LULL_TENANT_ token → sent" sent "$(outbox_field "$o" status)"
c7=$(conv 4 16505557777 "now()")
o=$(wa 4 "$c7" 16505557777 'greedy token')
wait_final "refused reference" "$o"
it_check_eq "a reference outside LULL_TENANT_ → dead" dead "$(outbox_field "$o" status)"
it_check_match "with the reason" 'LULL_TENANT_' "$(outbox_field "$o" last_error)"

# --- the fake's media endpoints (for the media fetches that build on this channel): metadata, then the bytes,
# both only with the bearer token
curl -fsS -X POST -H 'Content-Type: application/json' -d '{"id":"1479537139650973","mime_type":"image/jpeg","body":"JPEGBYTES"}' \
    "$GRAPH/_fake/media" >/dev/null
meta=$(curl -s -H "Authorization: Bearer $META_TOKEN" "$GRAPH/v21.0/1479537139650973")
it_check_eq "media metadata: id, mime type, size, sha256, a download URL" \
    "1479537139650973|image/jpeg|9|$(printf JPEGBYTES | sha256sum | cut -c1-64)|$GRAPH/_media/1479537139650973" \
    "$(jq -r '[.id, .mime_type, (.file_size|tostring), .sha256, .url] | join("|")' <<<"$meta")"
it_check_eq "media metadata without the token → 401 with code 190" "401|190" \
    "$(curl -s -o "$IT_TMP/m" -w '%{http_code}' "$GRAPH/v21.0/1479537139650973")|$(jq -r .error.code "$IT_TMP/m")"
it_check_eq "download with the token" "JPEGBYTES" "$(curl -s -H "Authorization: Bearer $META_TOKEN" "$GRAPH/_media/1479537139650973")"
it_check_eq "download without it → 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$GRAPH/_media/1479537139650973")"

# --- the token never in a log or a dead letter
it_check_eq "token not in the sender log" 0 "$(grep -c "$META_TOKEN" "$IT_TMP/sender.jsonl")"
it_check_eq "token not in any last_error" 0 "$(it_sql "SELECT count(*) FROM outbox WHERE last_error LIKE '%$META_TOKEN%'")"
it_check_eq "metrics: the meta adapter counted" 1 \
    "$(curl -fsS "http://127.0.0.1:$SENDER_OPS/metrics" | grep -c 'lull_sender_attempts_total{adapter="meta",result="sent"}')"
it_stop "$SENDER_PID" TERM
it_check_eq "sender exits 0 on SIGTERM (under ASan: no leak)" 0 "$IT_RC"
it_check_eq "no sanitizer report in its output" 0 "$(grep -c -E 'Sanitizer|runtime error' "$IT_TMP/sender.log")"

# --- a Cloud API retry goes back to the queue even when it would end well within the lease (a reply may be
# several requests in turn, so its retries are not held in memory), also with no Cloud API rate limit (a rate
# limit alone keeps a retry out of memory): the row is written back as 'retry', unleased, then claimed again, and
# each part is delivered once
sender_start sender_long LULL_META_API_BASE="$GRAPH" LULL_META_ACCESS_TOKEN="$META_TOKEN" LULL_SENDER_LEASE_MS=60000 \
    LULL_META_RATE_PER_S=0
graph_fault '{"mode":"error","status":503,"code":1,"count":1,"retry_after":3}'
long2="$(printf 'ü%.0s' $(seq 4100))"
o=$(wa 1 "$c1" 16505551234 "$long2")
back_in_queue() { [ "$(outbox_field "$o" "status || '|' || coalesce(lease_owner, '')")" = 'retry|' ]; }
it_wait_for "the Cloud API row's retry written back to the queue" 10 back_in_queue
it_check_eq "written back with its attempt and the 503" 'retry|1|503' \
    "$(outbox_field "$o" "status || '|' || attempts || '|' || last_status")"
wait_final "Cloud API retry" "$o"
q1=$(printf 'ü%.0s' $(seq 4096)); q2=$(printf 'ü%.0s' $(seq 4))
it_check_eq "then sent on the second claim, each part delivered once" 'sent|2|1|1' \
    "$(outbox_field "$o" "status || '|' || attempts")|$(jq -r .deliveries <<<"$(graph_key "meta:16505551234|$q1")")|$(jq -r .deliveries <<<"$(graph_key "meta:16505551234|$q2")")"
it_stop "$SENDER_PID" TERM
it_check_eq "second sender exits 0 on SIGTERM" 0 "$IT_RC"
it_check_eq "no sanitizer report in the second sender's output" 0 \
    "$(grep -c -E 'Sanitizer|runtime error' "$IT_TMP/sender_long.log")"
it_finish
