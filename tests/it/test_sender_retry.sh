#!/usr/bin/env bash
# lull-sender retries like Celery's autoretry: 429 honours Retry-After, 5xx three times then success is
# delivered once, 401 / 63016 / TikTok refusals are dead at once, exhausted retries end dead (429) or
# unknown (5xx: may have been delivered), and a dead letter replayed with the dead-letter functions is
# delivered. A retry due within the claim's lease waits in memory (row still leased, its attempts counted with
# the result), is cancelled when a person answered over the bot reply meanwhile, is handed back at its due time on
# SIGTERM, and after a kill -9 is delivered once by the next sender.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sender_lib.sh"
it_db_create || it_finish
fake_start
sender_start sender LULL_RETRY_BASE_MS=10 LULL_RETRY_MAX_MS=50

# --- 429 with Retry-After: 1 → the second request is not earlier than 1 s after the first
fake_fault '{"target":"callback","mode":"429","count":1,"retry_after":"1"}'
r=$(outbox_add generic c1 '' '{"body":"rate limited"}' out_ra)
wait_final "429" "$r"
it_check_eq "429 then sent" sent "$(outbox_field "$r" status)"
e=$(fake_key out_ra)
it_check_eq "two requests: 429 then 200" '429,200' "$(jq -r '[.log[].status]|map(tostring)|join(",")' <<<"$e")"
gap=$(jq '.log[1].t_ms - .log[0].t_ms' <<<"$e")
it_check "second attempt waited for Retry-After (gap ${gap} ms >= 1000)" test "$gap" -ge 1000
it_check_eq "delivered once" 1 "$(jq .deliveries <<<"$e")"
it_check_eq "429 is counted as an attempt" 2 "$(outbox_field "$r" attempts)"
fake_clear

# --- 500 three times then success → delivered once, attempts 4
fake_fault '{"target":"twilio","mode":"500","count":3}'
r=$(outbox_add sms '+15550001000' '+15559990000' '{"body":"five hundred"}')
wait_final "500x3" "$r"
it_check_eq "500 x3 then sent" 'sent|4' "$(outbox_field "$r" "status || '|' || attempts")"
e=$(fake_key "outbox:$r")
it_check_eq "four requests" '500,500,500,201' "$(jq -r '[.log[].status]|map(tostring)|join(",")' <<<"$e")"
it_check_eq "delivered exactly once" 1 "$(jq .deliveries <<<"$e")"
it_check_match "last error remembers the unknown outcome" 'unknown outcome: HTTP 500' "$(outbox_field "$r" last_error)"
fake_clear

# --- 401 → dead at once
fake_fault '{"target":"twilio","mode":"401","count":1}'
dead401=$(outbox_add sms '+15550001001' '+15559990000' '{"body":"unauthorised"}')
wait_final "401" "$dead401"
it_check_eq "401 → dead after one attempt" 'dead|1|401' "$(outbox_field "$dead401" "status || '|' || attempts || '|' || last_status")"
it_check_match "401 error kept" 'HTTP 401 code 20003' "$(outbox_field "$dead401" last_error)"
it_check_eq "one request for 401" 1 "$(fake_key "outbox:$dead401" | jq .requests)"
fake_clear

# --- Twilio 63016 (WhatsApp outside the window) → dead at once
fake_fault '{"target":"twilio","mode":"63016","count":1}'
r=$(outbox_add sms '+15550001002' '+15559990000' '{"body":"window"}')
wait_final "63016" "$r"
it_check_eq "63016 → dead after one attempt" 'dead|1' "$(outbox_field "$r" "status || '|' || attempts")"
it_check_match "63016 reason" '63016.*24-hour window' "$(outbox_field "$r" last_error)"
fake_clear

# --- TikTok: rate-limit code retries, invalid-parameter code is permanent
fake_fault '{"target":"tiktok","mode":"tiktok_code","code":40100,"count":1}'
r=$(outbox_add tiktok conv_r1 biz_1 '{"body":"tiktok retry"}')
wait_final "tiktok 40100" "$r"
it_check_eq "tiktok 40100 then sent" 'sent|2' "$(outbox_field "$r" "status || '|' || attempts")"
fake_fault '{"target":"tiktok","mode":"tiktok_code","code":40002,"count":1}'
r=$(outbox_add tiktok conv_r2 biz_1 '{"body":"tiktok refused"}')
wait_final "tiktok 40002" "$r"
it_check_eq "tiktok 40002 → dead at once" 'dead|1' "$(outbox_field "$r" "status || '|' || attempts")"
it_check_match "tiktok code in the error" 'tiktok code 40002' "$(outbox_field "$r" last_error)"
fake_clear

# --- transport failures after the request went out: unknown outcome, retried with the same key
fake_fault '{"target":"callback","mode":"reset","count":1}'
r=$(outbox_add generic c5 '' '{"body":"reset"}' out_reset)
wait_final "reset" "$r"
# On a reused keep-alive connection libcurl itself resends once (same attempt); on a fresh one the
# sender's retry does: either way two requests with the same key, one delivery.
it_check_eq "connection reset → resent → sent" sent "$(outbox_field "$r" status)"
it_check_eq "reset: two requests with the same key, delivered once" '2|1' "$(fake_key out_reset | jq -r '"\(.requests)|\(.deliveries)"')"
fake_fault '{"target":"callback","mode":"hang","count":1,"hang_ms":3000}'
r=$(outbox_add generic c6 '' '{"body":"hang"}' out_hang)
wait_final "hang" "$r"
it_check_eq "timeout (the fake hangs 3 s, the sender waits 2 s) → retried → sent" 'sent|2' "$(outbox_field "$r" "status || '|' || attempts")"
it_check_match "timeout recorded as an unknown outcome" '^unknown outcome: Timeout' "$(outbox_field "$r" last_error)"
it_check_eq "both attempts carried the same key; delivered once" '2|1' "$(fake_key out_hang | jq -r '"\(.requests)|\(.deliveries)"')"
fake_clear

# --- max retries: 429 forever → dead after 1 + max_retries attempts, with its last error
fake_fault '{"target":"callback","mode":"429","count":1000}'
r=$(it_sql "INSERT INTO outbox (tenant_id, channel, recipient, payload, idempotency_key, max_retries)
            VALUES (1, 'generic', 'c2', '{\"body\":\"always limited\"}', 'out_max', 2) RETURNING id")
wait_final "max retries" "$r"
it_check_eq "exhausted retries (429) → dead after 3 attempts" 'dead|3|429' "$(outbox_field "$r" "status || '|' || attempts || '|' || last_status")"
it_check_match "dead with its last error" 'max retries reached: HTTP 429' "$(outbox_field "$r" last_error)"
fake_fault '{"target":"callback","mode":"503","count":1000}'
r=$(it_sql "INSERT INTO outbox (tenant_id, channel, recipient, payload, idempotency_key, max_retries)
            VALUES (1, 'generic', 'c3', '{\"body\":\"always down\"}', 'out_unknown', 1) RETURNING id")
wait_final "max retries 503" "$r"
it_check_eq "exhausted retries on 503 → unknown (may have been delivered)" 'unknown|2' "$(outbox_field "$r" "status || '|' || attempts")"
it_check_match "unknown outcome said" 'unknown outcome: HTTP 503' "$(outbox_field "$r" last_error)"
e=$(fake_key out_unknown)
it_check_eq "every attempt carried the same idempotency key" 2 "$(jq .requests <<<"$e")"
fake_clear

# --- tenant retry settings override the process defaults
it_sql "UPDATE tenants SET max_retries = 0 WHERE id = 1" >/dev/null
fake_fault '{"target":"callback","mode":"429","count":1}'
r=$(outbox_add generic c4 '' '{"body":"tenant zero retries"}' out_tenant0)
wait_final "tenant max_retries" "$r"
it_check_eq "tenant max_retries = 0 → dead after one attempt" 'dead|1' "$(outbox_field "$r" "status || '|' || attempts")"
it_sql "UPDATE tenants SET max_retries = NULL WHERE id = 1" >/dev/null
fake_clear

# --- dead letters: list, replay one, replay all
DL="$LULL_FAKES/dead_letters"
list=$("$DL" "$LULL_DATABASE_URL" list)
it_check_match "list shows the 401 dead letter" "\"id\":$dead401,.*\"status\":\"dead\"" "$(jq -c '.[]' <<<"$list" | grep "\"id\":$dead401,")"
it_check_eq "list filters by channel" 1 "$("$DL" "$LULL_DATABASE_URL" list --channel tiktok | jq length)"
it_check_eq "list includes unknown outcomes" unknown "$("$DL" "$LULL_DATABASE_URL" list --channel generic | jq -r '[.[]|select(.idempotency_key=="out_unknown")][0].status')"
it_check_eq "replay of a live row does nothing" 'replayed 0' "$("$DL" "$LULL_DATABASE_URL" replay 999999)"
it_check_eq "replay one" 'replayed 1' "$("$DL" "$LULL_DATABASE_URL" replay "$dead401")"
wait_final "replayed" "$dead401"
it_check_eq "replayed dead letter is delivered" 'sent|1' "$(outbox_field "$dead401" "status || '|' || attempts")"
it_check_eq "delivered once after replay" 1 "$(fake_key "outbox:$dead401" | jq .deliveries)"
n=$(it_sql "SELECT count(*) FROM outbox WHERE status IN ('dead','unknown') AND channel = 'generic'")
it_check_eq "replay-all by channel" "replayed $n" "$("$DL" "$LULL_DATABASE_URL" replay-all --channel generic)"
generic_done() { [ "$(it_sql "SELECT count(*) FROM outbox WHERE channel = 'generic' AND status <> 'sent'")" -eq 0 ]; }
it_wait_for "replayed callbacks delivered" 20 generic_done
it_check_eq "all replayed callbacks sent" 0 "$(it_sql "SELECT count(*) FROM outbox WHERE channel = 'generic' AND status <> 'sent'")"
it_check_match "dead letters were logged" '"ev":"delivery.dead"' "$(cat "$IT_TMP/sender.jsonl")"
it_stop "$SENDER_PID" TERM

# --- retries in memory: a retry due well within the claim's lease keeps its request and the row (still 'sending';
# the attempts made in memory are counted with the result); a bot reply a person answered over meanwhile is cancelled, not sent; SIGTERM
# hands a waiting retry back at its due time with the failed attempt's status.
sender_start held LULL_SENDER_LEASE_MS=60000 LULL_RETRY_BASE_MS=10
requests_of() { local n; n=$(fake_key "$1" | jq '.requests // 0'); echo "${n:-0}"; }
first_request() { [ "$(requests_of "$1")" -ge 1 ]; }
fake_fault '{"target":"callback","mode":"503","count":1,"retry_after":"4"}'
r=$(outbox_add generic c7 '' '{"body":"held"}' out_held)
it_wait_for "first attempt (503)" 10 first_request out_held
sleep 0.3
it_check_eq "while its retry waits in memory the row stays leased, one attempt counted" 'sending|1' \
    "$(outbox_field "$r" "status || '|' || attempts")"
wait_final "held retry" "$r"
it_check_eq "held retry → sent on the second attempt" 'sent|2' "$(outbox_field "$r" "status || '|' || attempts")"
it_check_eq "503 then 200, same key, delivered once" '503,200|1' \
    "$(fake_key out_held | jq -r '"\([.log[].status]|map(tostring)|join(","))|\(.deliveries)"')"
it_check_match "the failed attempt's error was recorded" 'unknown outcome: HTTP 503' "$(outbox_field "$r" last_error)"
fake_clear

# Two retries in memory: the resume only reads the row, so while they wait it shows the claim's one attempt; the
# result counts all three, with the last failure's error.
fake_fault '{"target":"callback","mode":"503","count":2,"retry_after":"1"}'
r=$(outbox_add generic c7b '' '{"body":"held twice"}' out_held2)
two_requests() { [ "$(requests_of out_held2)" -ge 2 ]; }
it_wait_for "two attempts (503, 503)" 10 two_requests
it_check_eq "while its second retry waits in memory the row still counts the claim's attempt" 'sending|1' \
    "$(outbox_field "$r" "status || '|' || attempts")"
wait_final "twice-held retry" "$r"
it_check_eq "sent on the third attempt, all three counted" 'sent|3|200' \
    "$(outbox_field "$r" "status || '|' || attempts || '|' || last_status")"
it_check_match "the last failed attempt's error kept" 'unknown outcome: HTTP 503' "$(outbox_field "$r" last_error)"
it_check_eq "503,503,200, same key, delivered once" '503,503,200|1' \
    "$(fake_key out_held2 | jq -r '"\([.log[].status]|map(tostring)|join(","))|\(.deliveries)"')"
fake_clear

conv=$(it_sql "WITH k AS (INSERT INTO contacts (tenant_id, channel, external_id) VALUES (1, 'generic', 'held_person')
               RETURNING id) INSERT INTO conversations (tenant_id, contact_id, channel) SELECT 1, id, 'generic' FROM k
               RETURNING id")
mid=$(it_sql "INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, body)
              VALUES ($conv, 1, 'generic', 'out', 'bot', 'bot reply') RETURNING id")
fake_fault '{"target":"callback","mode":"503","count":1,"retry_after":"4"}'
r=$(it_sql "INSERT INTO outbox (tenant_id, conversation_id, message_id, channel, recipient, payload, idempotency_key)
            VALUES (1, $conv, $mid, 'generic', 'held_person', '{\"body\":\"bot reply\",\"kind\":\"reply\"}', 'out_answered')
            RETURNING id")
it_wait_for "bot reply's first attempt (503)" 10 first_request out_answered
it_sql "INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, body)
        VALUES ($conv, 1, 'generic', 'out', 'human', 'a person answers')" >/dev/null
cancelled() { [ "$(outbox_field "$r" status)" = cancelled ]; }
it_wait_for "bot reply cancelled when its retry starts" 10 cancelled
it_check_eq "answered over while its retry waited → cancelled, one attempt" 'cancelled|superseded_by_person|1' \
    "$(outbox_field "$r" "status || '|' || cancel_reason || '|' || attempts")"
sleep 0.3
it_check_eq "never sent again" 1 "$(requests_of out_answered)"
fake_clear

fake_fault '{"target":"callback","mode":"503","count":1,"retry_after":"8"}'
r=$(outbox_add generic c8 '' '{"body":"held at shutdown"}' out_held_term)
it_wait_for "first attempt before shutdown (503)" 10 first_request out_held_term
sleep 0.3
it_stop "$SENDER_PID" TERM
it_check_eq "sender exits 0 with a retry waiting" 0 "$IT_RC"
it_check_eq "a waiting retry is handed back at its due time, with its failed attempt" 'retry|1|503|true|' \
    "$(outbox_field "$r" "status || '|' || attempts || '|' || last_status || '|' ||
                        (next_attempt_at > now() + interval '2 s') || '|' || coalesce(lease_owner, '')")"
it_check_eq "one request before shutdown" 1 "$(requests_of out_held_term)"
it_sql "UPDATE outbox SET next_attempt_at = now() WHERE id = $r" >/dev/null
sender_start held2 LULL_SENDER_LEASE_MS=60000
wait_final "handed-back retry" "$r"
it_check_eq "delivered by the next sender, same key" 'sent|2|2' \
    "$(outbox_field "$r" "status || '|' || attempts")|$(requests_of out_held_term)"
it_stop "$SENDER_PID" TERM
fake_clear

# --- a sender killed (kill -9) while a retry waits in memory: the row stays leased until its lease ends, then the
# next sender claims it and delivers it once. The attempt made in memory before the kill was never written: the row
# counts the two claims (the undercount docs/sender.md describes), the fake saw three requests.
sender_start killed LULL_SENDER_LEASE_MS=4000 LULL_SENDER_TIMEOUT_MS=500
fake_fault '{"target":"callback","mode":"503","count":2,"retry_after":"1"}'
r=$(outbox_add generic c9 '' '{"body":"held at a kill"}' out_held_kill)
two_requests() { [ "$(requests_of out_held_kill)" -ge 2 ]; }
it_wait_for "two attempts before the kill (503, 503)" 10 two_requests
it_stop "$SENDER_PID" KILL
it_check_eq "killed mid-hold: the row is still leased with the claim's attempt" 'sending|1' \
    "$(outbox_field "$r" "status || '|' || attempts")"
sender_start killed2 LULL_SENDER_LEASE_MS=4000 LULL_SENDER_TIMEOUT_MS=500
wait_final "retry after the kill" "$r"
it_check_eq "delivered by the next sender after the lease: attempts 2 (the one in memory lost), 3 requests, once" \
    'sent|2|503,503,200|1' \
    "$(outbox_field "$r" "status || '|' || attempts")|$(fake_key out_held_kill | jq -r '"\([.log[].status]|map(tostring)|join(","))|\(.deliveries)"')"
it_stop "$SENDER_PID" TERM
fake_clear

# --- rate limit: TikTok at 60/min → three rows go out one second apart; a wait is not an attempt
sender_start limited LULL_TIKTOK_RATE_PER_MIN=60
ids=()
for i in 1 2 3; do ids+=("$(outbox_add tiktok "conv_rate_$i" biz_1 "{\"body\":\"rate $i\"}")"); done
for id in "${ids[@]}"; do wait_final "rate limited tiktok" "$id"; done
it_check_eq "rate-limited rows all sent with one attempt each" 'sent|1,sent|1,sent|1' \
    "$(it_sql "SELECT string_agg(status || '|' || attempts, ',' ORDER BY id) FROM outbox WHERE id IN (${ids[0]}, ${ids[1]}, ${ids[2]})")"
t=$(curl -fsS "$FAKE/_fake/ledger" | jq '[.by_key|to_entries[]|select(.key|startswith("tiktok:conv_rate_"))|.value.log[0].t_ms]|sort')
span=$(jq '.[2] - .[0]' <<<"$t")
it_check "three sends at 1/s span at least 1.5 s (span ${span} ms)" test "$span" -ge 1500
it_finish
