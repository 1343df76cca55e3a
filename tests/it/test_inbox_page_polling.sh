#!/usr/bin/env bash
# The agents' inbox page when lull-admin refuses its live stream: LULL_ADMIN_INBOX_STREAMS_MAX=1 and that one
# stream held by curl. In headless Chromium (tests/it/inbox_polling.js) the page signs in, says "polling" instead
# of "offline", lists a conversation escalated meanwhile without a reload (it reads GET /api/v1/inbox at each
# retry), and says "live" once the slot is free (a closed stream frees its slot at its next heartbeat: 300 ms
# here). Before, such an agent saw an empty list marked offline.
source "$(dirname "$0")/lib.sh"
[ -x /usr/bin/chromium ] || { it_fail "/usr/bin/chromium is missing: scripts/install-deps installs it"; it_finish; }
[ -d "$LULL_ROOT/tests/node/node_modules/playwright-core" ] || { it_fail "playwright-core is missing: scripts/node-deps"; it_finish; }
it_db_create || it_finish
token=test-admin-token-0123456789
port=$(it_free_port)
ADM="http://127.0.0.1:$port"
it_start admin env LULL_ADMIN_PORT="$port" LULL_OPS_PORT="$(it_free_port)" LULL_ADMIN_TOKEN="$token" \
    LULL_ADMIN_INBOX_STREAMS_MAX=1 LULL_ADMIN_INBOX_POLL_MS=200 LULL_ADMIN_INBOX_DEBOUNCE_MS=50 \
    LULL_ADMIN_INBOX_HEARTBEAT_MS=300 \
    LULL_LOG_FILE="$IT_TMP/admin.jsonl" "$LULL_BIN/lull-admin"
it_wait_for "lull-admin serving" 10 it_http_ok "$ADM/health"

# the only stream slot, held
curl -sN --max-time 120 -H "Authorization: Bearer $token" "$ADM/api/v1/inbox/events" >"$IT_TMP/held.txt" 2>/dev/null &
held=$!
it_wait_for "the one stream slot is taken" 10 grep -q '^event: list' "$IT_TMP/held.txt"

dir=$IT_TMP/steps; mkdir -p "$dir"
NODE_PATH=$LULL_ROOT/tests/node/node_modules timeout 120 node "$LULL_ROOT/tests/it/inbox_polling.js" "$ADM" "$token" \
    "$dir" "$IT_TMP/chromium-profile" >"$IT_TMP/browser.out" 2>"$IT_TMP/browser.err" &
browser=$!
it_wait_for "the page polls" 30 test -f "$dir/polling"
it_sql "WITH c AS (INSERT INTO contacts (tenant_id, channel, external_id, first_name)
                   VALUES (1, 'sms', '+15550001234', 'Pia') RETURNING id)
        INSERT INTO conversations (tenant_id, contact_id, channel, business_address, status, escalated_at,
                                   escalation_reason)
        SELECT 1, id, 'sms', '+15559990000', 'escalated', now(), 'asked for a manager' FROM c" >/dev/null
it_wait_for "the escalation is listed" 30 test -f "$dir/listed"
kill "$held" 2>/dev/null; wait "$held" 2>/dev/null
wait "$browser"; rc=$?
out=$(cat "$IT_TMP/browser.out")
it_check_eq "the browser run succeeded ($(tail -c 800 "$IT_TMP/browser.err" | tr '\n' ' '))" 0 "$rc"
j() { jq -r "$1" <<<"$out" 2>/dev/null; }
it_check_eq "refused a stream, the badge says polling" polling "$(j .badge)"
it_check_eq "nothing escalated at first" 0 "$(j .listedBefore)"
it_check_eq "the escalation appeared without a reload" true "$(j .noReload)"
it_check_match "the list item: escalated, with its reason" 'escalated.*asked for a manager' "$(j .listItem)"
it_check_eq "still polling while the slot is taken" polling "$(j .stillPolling)"
it_check_eq "the slot free: live again" live "$(j .badgeAfter)"
it_check_match "lull-admin logged the refused streams" '"ev":"http.rejected".*"code":"too_many_streams"' \
    "$(cat "$IT_TMP/admin.jsonl")"
it_finish
