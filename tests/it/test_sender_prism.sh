#!/usr/bin/env bash
# The sender's Twilio requests are valid for Twilio's own OpenAPI description: Prism (mock mode, which
# answers 201 only for requests that pass validation, basic auth included) accepts them.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sender_lib.sh"
PRISM=$LULL_ROOT/tests/node/node_modules/.bin/prism
SPEC=$LULL_ROOT/tests/data/specs/twilio_api_v2010.json
it_check "prism is installed (scripts/node-deps)" test -x "$PRISM"
it_db_create || it_finish
PP=$(it_free_port)
it_start prism "$PRISM" mock -h 127.0.0.1 -p "$PP" "$SPEC"
prism_up() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PP/2010-04-01/Accounts.json")" != 000 ]; }
it_wait_up prism "$IT_LAST_PID" 60 prism_up || it_finish
FAKE=http://127.0.0.1:$PP   # sender_start points every adapter at $FAKE
sender_start sender LULL_TWILIO_STATUS_CALLBACK="https://status.example.com/twilio"
c=$(it_sql "INSERT INTO contacts (tenant_id, channel, external_id, last_inbound_at) VALUES (1, 'whatsapp', 'whatsapp:+15550007777', now()) RETURNING id")
conv=$(it_sql "INSERT INTO conversations (tenant_id, contact_id, channel, wa_window_start) VALUES (1, $c, 'whatsapp', now()) RETURNING id")
a=$(outbox_add sms '+15550007000' '+15559990000' '{"body":"prism sms","media":["https://cdn.example.com/p.png"]}')
b=$(outbox_add whatsapp 'whatsapp:+15550007777' 'whatsapp:+15559990000' '{"body":"prism whatsapp"}' "" 1 "$conv")
wait_final "prism sms" "$a"; wait_final "prism whatsapp" "$b"
it_check_eq "Prism accepted the SMS request (201)" 'sent|201' "$(outbox_field "$a" "status || '|' || coalesce(last_status::text,'')")"
it_check_eq "Prism accepted the WhatsApp request (201)" 'sent|201' "$(outbox_field "$b" "status || '|' || coalesce(last_status::text,'')")"
it_check_match "the sid from Twilio's example is kept" '^SM[0-9a-fA-F]{32}$' "$(outbox_field "$a" provider_message_id)"
# Negative control: without credentials Prism refuses (401), so the 201s above mean the requests passed.
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d 'To=%2B1555&From=%2B1444&Body=x' \
    "http://127.0.0.1:$PP/2010-04-01/Accounts/$SENDER_SID/Messages.json")
it_check_eq "Prism refuses a request without basic auth" 401 "$code"
it_finish
