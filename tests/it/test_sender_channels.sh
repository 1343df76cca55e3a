#!/usr/bin/env bash
# lull-sender over each channel against the fake channel server: rows end sent with the provider id, the
# fake saw the exact wire format (Twilio form + basic auth, TikTok JSON + Access-Token, signed callback,
# web chat pg_notify); WhatsApp outside 24 h sends the template or escalates; unsendable rows are
# dead-lettered at once with a clear reason; tenant credential references must be LULL_TENANT_…; callbacks never
# reach loopback or private addresses unless LULL_SENDER_CALLBACK_ALLOW says so.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sender_lib.sh"
it_db_create || it_finish
fake_start
export LULL_TENANT_T4_SID=$SENDER_SID LULL_TENANT_T4_TOKEN=$SENDER_TOKEN
it_sql "INSERT INTO tenants (id, slug, whatsapp_template_sid, whatsapp_template_vars) VALUES (2, 'tpl', 'HX0123456789abcdef0123456789abcdef', '{\"1\":\"Ann\"}');
        INSERT INTO tenants (id, slug, credentials) VALUES (4, 'own', '{\"twilio_account_sid_env\":\"LULL_TENANT_T4_SID\",\"twilio_auth_token_env\":\"LULL_TENANT_T4_TOKEN\"}'),
                                                           (5, 'broken', '{\"twilio_auth_token_env\":\"LULL_TENANT_NO_SUCH_VAR\"}'),
                                                           (6, 'greedy', '{\"twilio_auth_token_env\":\"LULL_TWILIO_AUTH_TOKEN\"}')" >/dev/null
# conversation helper: conv TENANT CHANNEL EXTERNAL WINDOW_START_SQL → conversation id
conv() {
    local c
    c=$(it_sql "INSERT INTO contacts (tenant_id, channel, external_id, last_inbound_at) VALUES ($1, '$2', '$3', $4) RETURNING id")
    it_sql "INSERT INTO conversations (tenant_id, contact_id, channel, wa_window_start) VALUES ($1, $c, '$2', $4) RETURNING id"
}
sender_start sender

# --- SMS (Twilio), with media
sms=$(outbox_add sms '+15550001111' '+15559990000' '{"body":"hello & welcome, 100%","media":["https://cdn.example/a.jpg"],"kind":"reply"}')
wait_final "sms" "$sms"
it_check_eq "sms row sent" sent "$(outbox_field "$sms" status)"
it_check_match "sms keeps the Twilio sid" '^SM[0-9a-f]{32}$' "$(outbox_field "$sms" provider_message_id)"
it_check_eq "sms sent_at set" t "$(outbox_field "$sms" 'sent_at IS NOT NULL')"
e=$(fake_key "outbox:$sms")
it_check_eq "sms delivered once" 1 "$(jq .deliveries <<<"$e")"
it_check_eq "sms To" '+15550001111' "$(form_field "$e" To)"
it_check_eq "sms From is the business number" '+15559990000' "$(form_field "$e" From)"
it_check_eq "sms Body" 'hello & welcome, 100%' "$(form_field "$e" Body)"
it_check_eq "sms MediaUrl" 'https://cdn.example/a.jpg' "$(form_field "$e" MediaUrl)"
it_check_eq "sms basic auth user is the Account SID" "$SENDER_SID" "$(form_field "$e" _auth_user)"
it_check_eq "sms path" "/2010-04-01/Accounts/$SENDER_SID/Messages.json" "$(jq -r .last.path <<<"$e")"
it_check_match "sms is form-encoded" '^application/x-www-form-urlencoded' "$(jq -r '.last.headers["Content-Type"]' <<<"$e")"
it_check_match "sms body is percent-encoded" 'Body=hello\+%26\+welcome%2C\+100%25' "$(jq -r .last.body <<<"$e")"

# --- tenant credentials by reference (env var names)
own=$(outbox_add sms '+15550002222' '+15559990000' '{"body":"tenant creds"}' "" 4)
wait_final "tenant creds" "$own"
it_check_eq "tenant credentials resolved from env names" sent "$(outbox_field "$own" status)"
bad=$(outbox_add sms '+15550002223' '+15559990000' '{"body":"broken creds"}' "" 5)
wait_final "broken creds" "$bad"
it_check_eq "unset credential env → dead" dead "$(outbox_field "$bad" status)"
it_check_match "and says which env var" 'LULL_TENANT_NO_SUCH_VAR.*not set' "$(outbox_field "$bad" last_error)"
# a reference to one of the process's own settings (not LULL_TENANT_…) is never read
greedy=$(outbox_add sms '+15550002224' '+15559990000' '{"body":"greedy creds"}' "" 6)
wait_final "greedy creds" "$greedy"
it_check_eq "credential naming a process setting → dead" dead "$(outbox_field "$greedy" status)"
it_check_match "… saying what a reference must be" 'must name a LULL_TENANT_' "$(outbox_field "$greedy" last_error)"
it_check_eq "… nothing sent with the process token" 0 "$(jq -r '.deliveries // 0' <<<"$(fake_key "outbox:$greedy")")"
it_check_eq "… and a warn log" 1 "$(jq -c 'select(.ev=="tenant.ref_refused" and .lvl=="warn" and .tenant==6 and .name=="LULL_TWILIO_AUTH_TOKEN")' "$IT_TMP/sender.jsonl" | wc -l)"

# --- WhatsApp inside the window
c1=$(conv 1 whatsapp 'whatsapp:+15550003333' "now() - interval '1 hour'")
wa=$(outbox_add whatsapp 'whatsapp:+15550003333' 'whatsapp:+15559990000' '{"body":"hi on whatsapp"}' "" 1 "$c1")
wait_final "whatsapp" "$wa"
it_check_eq "whatsapp in window sent" sent "$(outbox_field "$wa" status)"
e=$(fake_key "outbox:$wa")
it_check_eq "whatsapp To keeps the prefix" 'whatsapp:+15550003333' "$(form_field "$e" To)"
it_check_eq "whatsapp From keeps the prefix" 'whatsapp:+15559990000' "$(form_field "$e" From)"

# --- WhatsApp outside the window, tenant with a template → ContentSid + ContentVariables, no Body
c2=$(conv 2 whatsapp 'whatsapp:+15550004444' "now() - interval '25 hours'")
tpl=$(outbox_add whatsapp 'whatsapp:+15550004444' 'whatsapp:+15559990000' '{"body":"late reply"}' "" 2 "$c2")
wait_final "whatsapp template" "$tpl"
it_check_eq "whatsapp outside window with template sent" sent "$(outbox_field "$tpl" status)"
e=$(fake_key "outbox:$tpl")
it_check_eq "template ContentSid" 'HX0123456789abcdef0123456789abcdef' "$(form_field "$e" ContentSid)"
it_check_eq "template ContentVariables" '{"1": "Ann"}' "$(form_field "$e" ContentVariables)"
it_check_eq "template has no free-form Body" "" "$(form_field "$e" Body)"

# --- WhatsApp outside the window, no template → dead + escalation, nothing sent
c3=$(conv 1 whatsapp 'whatsapp:+15550005555' "now() - interval '25 hours'")
esc=$(outbox_add whatsapp 'whatsapp:+15550005555' 'whatsapp:+15559990000' '{"body":"too late"}' "" 1 "$c3")
wait_final "whatsapp escalation" "$esc"
it_check_eq "whatsapp outside window without template → dead" dead "$(outbox_field "$esc" status)"
it_check_match "with the reason" '24-hour window' "$(outbox_field "$esc" last_error)"
it_check_eq "conversation escalated" escalated "$(it_sql "SELECT status FROM conversations WHERE id = $c3")"
it_check_eq "escalation row from the sender" 1 "$(it_sql "SELECT count(*) FROM escalations WHERE conversation_id = $c3 AND source = 'sender'")"
it_check_eq "nothing reached Twilio" 0 "$(curl -fsS "$FAKE/_fake/ledger" | jq '[.by_key|to_entries[]|select(.key|contains("5550005555"))]|length')"
it_check_eq "no key for the escalated row" null "$(fake_key "outbox:$esc")"

# --- TikTok
tt=$(outbox_add tiktok 'conv_tt_1' 'biz_777' '{"body":"hi from tiktok"}')
wait_final "tiktok" "$tt"
it_check_eq "tiktok sent" sent "$(outbox_field "$tt" status)"
it_check_match "tiktok keeps message_id" '^tt[0-9a-f]+$' "$(outbox_field "$tt" provider_message_id)"
e=$(fake_key 'tiktok:conv_tt_1|hi from tiktok')
it_check_eq "tiktok Access-Token header" "$SENDER_TIKTOK" "$(jq -r '.last.headers["Access-Token"]' <<<"$e")"
it_check_eq "tiktok body shape" '{"business_id":"biz_777","recipient_type":"CONVERSATION","recipient":"conv_tt_1","message_type":"TEXT","text":{"body":"hi from tiktok"}}' "$(jq -r .last.body <<<"$e" | jq -c .)"

# --- generic channel → signed callback
cb=$(outbox_add generic 'cust-42' '' '{"body":"callback body","kind":"human"}' 'out_777')
wait_final "callback" "$cb"
it_check_eq "callback sent (the fake verified the signature)" sent "$(outbox_field "$cb" status)"
e=$(fake_key out_777)
it_check_eq "callback Idempotency-Key" out_777 "$(jq -r '.last.headers["Idempotency-Key"]' <<<"$e")"
it_check_eq "callback webhook-id" out_777 "$(jq -r '.last.headers["webhook-id"]' <<<"$e")"
it_check_match "callback signature v1" '^v1,[A-Za-z0-9+/]{43}=$' "$(jq -r '.last.headers["webhook-signature"]' <<<"$e")"
body=$(jq -r .last.body <<<"$e")
it_check_eq "callback body fields" 'message.reply|out_777|cust-42|callback body|human' "$(jq -r '[.type,.id,.contact_id,.body,.kind]|join("|")' <<<"$body")"
it_check_match "callback created_at" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$(jq -r .created_at <<<"$body")"
# a bad signature is refused by the receiver: a sender with the wrong secret dead-letters on 401
# (checked in test_sender_retry.sh via the 401 path)

# --- web chat: sent + pg_notify in the same transaction
psql "$LULL_DATABASE_URL" -X -q -c "LISTEN lull_webchat" -c "SELECT pg_sleep(2)" -c "SELECT 1" >"$IT_TMP/listen.out" 2>&1 &
listen=$!
listening() { [ "$(it_sql "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(2)'")" -ge 1 ]; }
it_wait_for "the listener" 5 listening   # LISTEN is registered before the row exists
wc=$(outbox_add webchat 'sess_abc' '' '{"body":"hi web"}')
wait_final "webchat" "$wc"
it_check_eq "webchat sent" sent "$(outbox_field "$wc" status)"
wait "$listen"
it_check_match "webchat notification" "lull_webchat.*\"session\" : \"sess_abc\"" "$(cat "$IT_TMP/listen.out")"

# --- rows that cannot be sent
r1=$(outbox_add sms '' '+15559990000' '{"body":"no recipient"}')
r2=$(outbox_add generic 'c' '' '{"body":42}')
r3=$(outbox_add sms '+15550006666' '+15559990000' '{"kind":"reply"}')
wait_final "no recipient" "$r1"; wait_final "bad payload" "$r2"; wait_final "empty payload" "$r3"
it_check_eq "missing recipient → dead at once" 'dead|1' "$(outbox_field "$r1" "status || '|' || attempts")"
it_check_match "missing recipient reason" 'recipient' "$(outbox_field "$r1" last_error)"
it_check_match "non-string body → dead" 'dead' "$(outbox_field "$r2" status)"
it_check_match "reason names the field" 'invalid payload.*body' "$(outbox_field "$r2" last_error)"
it_check_match "empty payload → dead" 'neither body nor media' "$(outbox_field "$r3" last_error)"

metrics=$(curl -fsS "http://127.0.0.1:$SENDER_OPS/metrics")
it_check_match "metrics count sent attempts" 'lull_sender_attempts_total\{adapter="twilio",result="sent"\} [1-9]' "$metrics"
it_stop "$SENDER_PID" TERM
it_check_eq "sender exits 0" 0 "$IT_RC"

# --- an OUTBOX wake-up alone starts a delivery (the poll is 10 minutes away)
canary=$(outbox_add generic 'cust-canary' '' '{"body":"first poll"}' out_canary)
sender_start woken LULL_SENDER_POLL_MS=600000
wait_final "the first poll (at start) delivers the canary" "$canary"
wk=$(outbox_add generic 'cust-wake' '' '{"body":"woken"}' out_wake)
it_check_eq "push one OUTBOX message" 'pushed 1' "$("$LULL_ROOT/$LULL_BUILD/bench/bench_sender_push" "$SENDER_BIND" "$wk")"
wait_final "woken" "$wk"
it_check_eq "woken by OUTBOX: sent" sent "$(outbox_field "$wk" status)"
it_stop "$SENDER_PID" TERM

# --- callbacks never reach loopback, link-local or private addresses unless allowed (the other senders here
# allow 127.0.0.0/8 for the fake); a refused address dead-letters with one generic error, whatever is there
export LULL_TENANT_CB_SECRET=$SENDER_SECRET
sender_start strict LULL_SENDER_CALLBACK_ALLOW=
it_sql "INSERT INTO tenants (id, slug, callback_url, callback_secret_ref) VALUES
          (7, 'loop', '$FAKE/callback', 'LULL_TENANT_CB_SECRET'),
          (8, 'closed', 'http://127.0.0.1:1/hook', NULL),
          (9, 'meta', 'http://169.254.169.254/latest/meta-data/', NULL),
          (10, 'named', 'http://localhost:$FAKE_PORT/callback', NULL),
          (11, 'mapped', 'http://[::ffff:127.0.0.1]:$FAKE_PORT/callback', NULL),
          (12, 'admin', 'https://cb.example/hook', 'LULL_ADMIN_TOKEN')" >/dev/null
for t in 7 8 9 10 11; do
    id=$(outbox_add generic "cust-$t" '' '{"body":"inward"}' "out_inward_$t" "$t")
    wait_final "inward callback of tenant $t" "$id"
    it_check_eq "callback to tenant $t's inward URL: dead, 'address not allowed', one attempt" \
        'dead|address not allowed|1' "$(outbox_field "$id" "status || '|' || last_error || '|' || attempts")"
    it_check_eq "… and the fake received nothing" 0 "$(jq -r '.deliveries // 0' <<<"$(fake_key "out_inward_$t")")"
done
adm=$(outbox_add generic 'cust-12' '' '{"body":"x"}' out_admin_ref 12)
wait_final "secret ref naming a process setting" "$adm"
it_check_match "callback_secret_ref naming a process setting → dead" 'dead\|callback_secret_ref must name a LULL_TENANT_' \
    "$(outbox_field "$adm" "status || '|' || last_error")"
it_finish
