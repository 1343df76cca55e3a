#!/usr/bin/env bash
# Once a person answers, the bot is silent — end to end through the real tiers, the fake LLM holding its answer
# until the person's answer is in (no race with the machine's speed). A person answers while the bot is
# generating: through lull-admin's reply route, from the TikTok app (an im_send_msg echo), through take over:
# the job commits nothing (job.superseded, reason person; its LLM usage still recorded) and the channel fake's
# ledger shows no bot delivery. A bot reply waiting in the outbox for a retry when the person answers is
# cancelled (superseded_by_person, shown in the conversation view) and never delivered; the person's reply is.
# An admin reply racing the window's expiry: no bot reply after it. An escalation goes to the tenant's callback
# URL as a conversation.escalated event, signed per Standard Webhooks (checked here with openssl) with a
# webhook-id that is the same on every retry.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/e2e_lib.sh"
it_db_create || it_finish
it_sql "UPDATE tenants SET window_ms = 200, max_wait_ms = 2000, human_pause_ms = 600000,
        escalation_keywords = '{talk to a manager}' WHERE slug = 'default';
        INSERT INTO tenants (slug, window_ms, max_wait_ms, tiktok_client_key, tiktok_business_id, human_pause_ms)
          VALUES ('shop', 200, 2000, 'ck_shop', 'biz_shop', 600000)" >/dev/null
e2e_start LULL_ADMIN_PUBLIC_URL=https://console.example.test/ || it_finish
it_sql "UPDATE tenants SET callback_url = '$CH/callback'" >/dev/null

ledger() { curl -s --max-time 5 "$CH/_fake/ledger"; }
# deliveries KEY : how many times the fake channels delivered KEY.
deliveries() { ledger | jq -r --arg k "$1" '.by_key[$k].deliveries // 0'; }
delivered() { [ "$(deliveries "$1")" -ge 1 ]; }
# bot_keys_delivered CONV : ledger deliveries of the conversation's bot replies (callback keys out_<message id>).
bot_keys_delivered() {
    local keys
    keys=$(it_sql "SELECT coalesce(json_agg('out_' || id), '[]') FROM messages WHERE conversation_id = $1 AND author = 'bot'")
    ledger | jq -r --argjson ks "$keys" '[.by_key | to_entries[] | select(.key as $k | $ks | index($k)) | .value.deliveries] | add // 0'
}
generating() { [ "$(e2e_llm_reply_has "$1")" -ge 1 ]; }
# llm_hold true|false : the fake LLM keeps every answer until llm_release (sections 1-3: the person's answer is
# committed while the bot's request is still waiting, however slow the machine is).
llm_hold() { e2e_fake "$LLM/_fake/config" "{\"hold\":$1}" || it_fail "fake LLM hold $1"; }
llm_release() { it_check_match "the fake LLM answers the held request" '"released":[1-9]' \
    "$(curl -s --max-time 5 -X POST "$LLM/_fake/release")"; }
superseded_by_person() { grep -q "\"ev\":\"job.superseded\".*\"conv\":$1,.*\"reason\":\"person\"" "$IT_TMP/worker.jsonl"; }
job_done() { grep -q "\"ev\":\"job.done\".*\"conv\":$1[,}]" "$IT_TMP/worker.jsonl"; }
status_is() { [ "$(it_sql "SELECT status FROM outbox WHERE id = $1")" = "$2" ]; }

# 1. a human reply through lull-admin while the LLM is generating
llm_hold true
it_check_eq "Ada's message accepted" 200 "$(e2e_post ada 'ada asks about her parcel')"
ACONV=$(e2e_conv ada)
it_wait_for "the bot is generating Ada's reply (LLM called)" 15 generating 'ada asks about her parcel'
e2e_admin POST "/api/v1/conversations/$ACONV/reply" '{"body":"Hi Ada, Sam from support: it left today"}'
it_check_eq "the person's reply through the admin API: 200" 200 "$ADM_CODE"
AH=$(jq -r .message_id <<<"$ADM_BODY")
llm_release
it_wait_for "the job finished, superseded by a person" 20 superseded_by_person "$ACONV"
it_wait_for "the person's reply delivered" 10 delivered "out_$AH"
e2e_settle 1
it_check_eq "no bot message, no bot outbox row for Ada" "0|0" \
    "$(it_sql "SELECT (SELECT count(*) FROM messages WHERE conversation_id = $ACONV AND author = 'bot'),
                      (SELECT count(*) FROM outbox WHERE conversation_id = $ACONV AND payload->>'kind' <> 'human')")"
it_check_eq "the ledger: the person's reply once, no bot reply" "1|0" "$(deliveries "out_$AH")|$(bot_keys_delivered "$ACONV")"
it_check_eq "Ada's burst not answered by the bot (answered_upto 0, cancelled_upto = the message)" "0|t" \
    "$(it_sql "SELECT answered_upto, cancelled_upto = last_inbound_id FROM conversations WHERE id = $ACONV")"
it_check_match "the LLM call's usage is recorded although nothing was sent" '^[1-9]' \
    "$(it_sql "SELECT coalesce(sum(u.requests), 0) FROM usage u JOIN conversations c ON c.contact_id = u.contact_id WHERE c.id = $ACONV")"
it_check_match "the job's DONE says superseded (person)" '"outcome":"superseded"' \
    "$(grep "\"ev\":\"job.done\".*\"conv\":$ACONV," "$IT_TMP/worker.jsonl" | tail -n 1)"

# 2. a person answers from the TikTok app (im_send_msg) while the LLM is generating
U=7000000000000000001; B=7000000000000000999; TC=7100000000000000001
it_check_eq "TikTok message accepted" 200 "$(e2e_tiktok im_receive_msg 7300000000000000001 'tiktok user asks for a refund' ck_shop $TC $U $B)"
TCONV=$(it_sql "SELECT id FROM conversations WHERE external_conversation_id = '$TC'")
it_wait_for "the bot is generating the TikTok reply" 15 generating 'tiktok user asks for a refund'
it_check_eq "TikTok im_send_msg accepted" 200 "$(e2e_tiktok im_send_msg 7300000000000000002 'a person answers from the app' ck_shop $TC $B $U)"
llm_release
it_wait_for "the TikTok job finished, superseded by a person" 20 superseded_by_person "$TCONV"
e2e_settle 1
it_check_eq "no TikTok delivery at all for the conversation (the person wrote from the app)" 0 \
    "$(ledger | jq --arg p "tiktok:$TC|" '[.by_key | to_entries[] | select(.key | startswith($p)) | .value.deliveries] | add // 0')"
it_check_eq "no bot message, no outbox row for the TikTok conversation" "0|0" \
    "$(it_sql "SELECT (SELECT count(*) FROM messages WHERE conversation_id = $TCONV AND author = 'bot'),
                      (SELECT count(*) FROM outbox WHERE conversation_id = $TCONV)")"

# 3. take over while the LLM is generating
it_check_eq "Bo's message accepted" 200 "$(e2e_post bo 'bo wants to change his address')"
BCONV=$(e2e_conv bo)
it_wait_for "the bot is generating Bo's reply" 15 generating 'bo wants to change his address'
e2e_admin POST "/api/v1/conversations/$BCONV/takeover" '{"pause_ms":120000}'
it_check_eq "take over: 200" 200 "$ADM_CODE"
llm_release
it_check_eq "take over: paused, nothing answered, the burst cancelled" "paused|0|true" \
    "$(jq -r '[.status, .answered_upto, (.cancelled_upto == .last_inbound_id)] | map(tostring) | join("|")' <<<"$ADM_BODY")"
# measured from the take-over's own transaction (its agent_actions row), not from this query's time: on a loaded
# machine the query may come seconds later
it_check_eq "take over: paused_until = the take-over's time + pause_ms" 120000 \
    "$(it_sql "SELECT (extract(epoch FROM c.paused_until - a.created_at) * 1000)::bigint FROM conversations c
               JOIN agent_actions a ON a.conversation_id = c.id AND a.action = 'takeover' WHERE c.id = $BCONV")"
it_wait_for "Bo's job finished, superseded by a person" 20 superseded_by_person "$BCONV"
it_check_eq "take over recorded with its agent (the bootstrap token acts as admin)" "takeover|admin|admin" \
    "$(it_sql "SELECT action, agent_name, coalesce(agent_id::text, 'admin') FROM agent_actions WHERE conversation_id = $BCONV")"
it_check_eq "take over: the answer names who took over" admin "$(jq -r .taken_over_by.name <<<"$ADM_BODY")"
it_check_eq "Bo writes again while taken over: accepted" 200 "$(e2e_post bo 'hello? still there?')"
e2e_settle 2
it_check_eq "no bot message, no outbox row for Bo" "0|0" \
    "$(it_sql "SELECT (SELECT count(*) FROM messages WHERE conversation_id = $BCONV AND author = 'bot'),
                      (SELECT count(*) FROM outbox WHERE conversation_id = $BCONV)")"
it_check_eq "no LLM call for Bo's message sent while taken over" 0 "$(e2e_llm_reply_has 'hello? still there?')"
e2e_admin POST "/api/v1/conversations/$BCONV/takeover" '{"pause_ms":0}'
it_check_eq "take over with pause_ms 0: 400" 400 "$ADM_CODE"
e2e_admin POST "/api/v1/conversations/99999999/takeover" '{}'
it_check_eq "take over of an unknown conversation: 404" 404 "$ADM_CODE"
e2e_admin POST "/api/v1/conversations/$BCONV/handback" '{}'
it_check_eq "hand back after take over: 200, open" "200|open" "$ADM_CODE|$(jq -r .status <<<"$ADM_BODY")"
out=$(LULL_ADMIN_URL=$ADM LULL_ADMIN_TOKEN=$E2E_ADMIN_TOKEN "$LULL_BIN/lullctl" takeover "$BCONV" --pause-ms 90000 2>&1)
it_check_match "lullctl takeover: taken over" '^taken over:' "$out"
it_check_eq "lullctl takeover: the conversation paused for about 90 s" "paused|t" \
    "$(it_sql "SELECT status, paused_until BETWEEN now() + interval '80 s' AND now() + interval '91 s' FROM conversations WHERE id = $BCONV")"
out=$(LULL_ADMIN_URL=$ADM LULL_ADMIN_TOKEN=$E2E_ADMIN_TOKEN "$LULL_BIN/lullctl" takeover "$BCONV" --pause-ms soon 2>&1)
it_check_eq "lullctl takeover with a bad --pause-ms: usage error (exit 64)" 64 "$?"
e2e_admin POST "/api/v1/conversations/$BCONV/handback" '{}'
it_check_eq "hand back again: 200" 200 "$ADM_CODE"

# 4. a bot reply waiting in the outbox for a retry when the person answers: cancelled, never delivered
curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary '{"latency_ms":20,"hold":false}' "$LLM/_fake/config"
# Retry-After 12 s: the person's reply must be committed before the retry; on a loaded machine the steps below
# took 6 s (with 4 s the retry went out first and the bot reply was delivered, as it should then be)
e2e_fake "$CH/_fake/faults" '{"target":"callback","mode":"503","count":1,"retry_after":"12"}' || it_fail "fault injected"
it_check_eq "Cy's message accepted" 200 "$(e2e_post cy 'cy asks for the opening hours')"
CCONV=$(e2e_conv cy)
bot_row() { it_sql "SELECT o.id FROM outbox o JOIN messages m ON m.id = o.message_id WHERE o.conversation_id = $CCONV AND m.author = 'bot'"; }
# Waiting for its retry: in the table ('retry') or, within its lease, in the sender's memory ('sending'); either way
# one attempt, and the fake answered it 503.
retry_waiting() {
    local mid
    mid=$(it_sql "SELECT o.message_id FROM outbox o JOIN messages m ON m.id = o.message_id WHERE o.conversation_id = $CCONV
                  AND m.author = 'bot' AND o.status IN ('retry', 'sending') AND o.attempts = 1")
    [ -n "$mid" ] && [ "$(ledger | jq -r --arg k "out_$mid" '.by_key[$k].log[0].status // empty')" = 503 ]
}
it_wait_for "Cy's bot reply failed once (503) and waits for its retry" 20 retry_waiting
CB=$(bot_row)
e2e_admin POST "/api/v1/conversations/$CCONV/reply" '{"body":"Cy, we open at nine"}'
it_check_eq "the person's reply: 200" 200 "$ADM_CODE"
CH_MSG=$(jq -r .message_id <<<"$ADM_BODY")
it_wait_for "the person's reply delivered" 10 delivered "out_$CH_MSG"
it_wait_for "the bot reply cancelled at its retry" 30 status_is "$CB" cancelled
e2e_settle 1
it_check_eq "the bot row: cancelled, superseded_by_person, one attempt" "cancelled|superseded_by_person|1" \
    "$(it_sql "SELECT status, cancel_reason, attempts FROM outbox WHERE id = $CB")"
bot_msg=$(it_sql "SELECT message_id FROM outbox WHERE id = $CB")
it_check_eq "the ledger: the bot reply requested once (the 503), never delivered; the person's once" "1|0|1" \
    "$(ledger | jq -r --arg b "out_$bot_msg" --arg h "out_$CH_MSG" '[.by_key[$b].requests, .by_key[$b].deliveries, .by_key[$h].deliveries] | map(tostring) | join("|")')"
grep -q "\"ev\":\"outbox.cancelled\".*\"outbox\":$CB,.*superseded_by_person" "$IT_TMP/sender.jsonl"
it_check_eq "the sender logged outbox.cancelled" 0 $?
e2e_admin GET "/api/v1/conversations/$CCONV"
it_check_eq "the conversation view: the bot reply cancelled with its reason, the person's sent" \
    "bot:cancelled:superseded_by_person human:sent:" \
    "$(jq -r '[.messages[] | select(.direction == "out") | "\(.author):\(.delivery.status):\(.delivery.cancel_reason // "")"] | join(" ")' <<<"$ADM_BODY")"

# 5. an admin reply racing the window's expiry: whatever wins, no bot reply after the person's
for i in 1 2 3 4; do
    c="race$i"
    it_check_eq "$c: message accepted" 200 "$(e2e_post "$c" "$c needs help")"
    sleep "0.$((13 + i * 3))"  # 160..250 ms after it: around the 200 ms window's end
    RCONV=$(e2e_conv "$c")
    e2e_admin POST "/api/v1/conversations/$RCONV/reply" "{\"body\":\"a person answers $c\"}"
    it_check_eq "$c: the person's reply 200" 200 "$ADM_CODE"
    eval "RH$i=$(jq -r .message_id <<<"$ADM_BODY") RC$i=$RCONV"
done
for i in 1 2 3 4; do
    eval "h=\$RH$i c=\$RC$i"
    it_wait_for "race$i: the person's reply delivered" 10 delivered "out_$h"
done
e2e_settle 2
for i in 1 2 3 4; do
    eval "h=\$RH$i c=\$RC$i"
    # "after the person's message" = after it reached the channel: a bot reply the sender claimed while the
    # person's reply was still being committed (its created_at is the transaction's start) may reach the channel
    # after that created_at, but never after the person's own message (docs/contracts.md: a reply already handed
    # to the provider cannot be taken back)
    t_h=$(ledger | jq --arg k "out_$h" '[.by_key[$k].log[] | select(.delivered) | .t_ms] | min')
    keys=$(it_sql "SELECT coalesce(json_agg('out_' || id), '[]') FROM messages WHERE conversation_id = $c AND author = 'bot'")
    late=$(ledger | jq --argjson ks "$keys" --argjson t "$t_h" \
        '[.by_key | to_entries[] | select(.key as $k | $ks | index($k)) | .value.log[] | select(.delivered and .t_ms >= $t)] | length')
    it_check_eq "race$i: no bot delivery in the ledger after the person's message" 0 "$late"
    # (outbox.sent_at is written when the channel's answer is back: a bot reply whose request was already on its
    # way when the person answered has a later sent_at, though the channel took it before; the ledger above says
    # when the channel took each delivery)
    it_check_eq "race$i: no bot message after the person's, no bot row still waiting to be sent" "0|0" \
        "$(it_sql "SELECT (SELECT count(*) FROM messages WHERE conversation_id = $c AND author = 'bot' AND id > $h),
                          (SELECT count(*) FROM outbox o JOIN messages m ON m.id = o.message_id WHERE o.conversation_id = $c
                            AND m.author = 'bot' AND o.status IN ('pending', 'retry', 'sending'))")"
done
it_check_eq "no delivery duplicated" 0 "$(ledger | jq -r .duplicated_keys)"

# 6. the escalation event to the tenant's callback URL
e2e_fake "$CH/_fake/faults" '{"target":"callback","mode":"500","count":1}' || it_fail "fault injected"
it_check_eq "Di's escalating message accepted" 200 "$(e2e_post di 'I want to TALK TO A MANAGER')"
DCONV=$(e2e_conv di)
escalated() { [ "$(it_sql "SELECT status FROM conversations WHERE id = $DCONV")" = escalated ]; }
it_wait_for "Di's conversation escalated" 15 escalated
ESC=$(it_sql "SELECT id FROM escalations WHERE conversation_id = $DCONV")
it_wait_for "the escalation event delivered (after one 500)" 15 delivered "esc_$ESC"
e=$(curl -s -G --data-urlencode "key=esc_$ESC" "$CH/_fake/ledger" | jq -c --arg k "esc_$ESC" '.by_key[$k]')
body=$(jq -j .last.body <<<"$e")
it_check_eq "event: type, conversation, channel, source, escalation id, id" \
    "conversation.escalated|$DCONV|generic|keyword|$ESC|esc_$ESC" \
    "$(jq -r '[.type, .conversation_id, .channel, .source, .escalation_id, .id] | map(tostring) | join("|")' <<<"$body")"
it_check_eq "event: the contact, not the callback URL" "di|$(it_sql "SELECT contact_id FROM conversations WHERE id = $DCONV")" \
    "$(jq -r '[.contact.external_id, .contact.id] | map(tostring) | join("|")' <<<"$body")"
it_check_match "event: the reason" 'keyword' "$(jq -r .reason <<<"$body")"
it_check_eq "event: the inbox link" "https://console.example.test/inbox#/conversations/$DCONV" "$(jq -r .inbox_url <<<"$body")"
it_check_eq "event: no reply fields" "null|null" "$(jq -r '[.message_id, .body] | map(tostring) | join("|")' <<<"$body")"
it_check_eq "the event was requested twice (500, then delivered) under one webhook-id" "2|1|esc_$ESC" \
    "$(jq -r '[.requests, .deliveries, .last.headers["webhook-id"]] | map(tostring) | join("|")' <<<"$e")"
ts=$(jq -r '.last.headers["webhook-timestamp"]' <<<"$e")
hexkey=$(printf '%s' "${E2E_SECRET#whsec_}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
want="v1,$(printf '%s.%s.%s' "esc_$ESC" "$ts" "$body" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hexkey" -binary | base64 -w0)"
it_check_eq "the Standard Webhooks signature verifies (openssl)" "$want" "$(jq -r '.last.headers["webhook-signature"]' <<<"$e")"
it_finish
