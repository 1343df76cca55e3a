#!/usr/bin/env bash
# The agents' inbox in a real browser through the whole stack (ingress, scheduler, a worker with the fake LLM,
# the sender with the fake channels, lull-admin): headless Chromium (Debian's /usr/bin/chromium, driven by
# playwright-core, tests/it/inbox_page.js) at 375 px signs in (after a wrong token shows its error), sees an
# escalation arrive live, reads the contact's message containing <img src=x onerror=alert(1)> as text, replies
# (the contact receives it: the fake channel's ledger), hands back, and sees the bot answer the next message;
# the overview renders with non-zero figures; no page scrolls sideways. Screenshots: $IT_TMP/inbox-*.png.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/e2e_lib.sh"
[ -x /usr/bin/chromium ] || { it_fail "/usr/bin/chromium is missing: scripts/install-deps installs it"; it_finish; }
[ -d "$LULL_ROOT/tests/node/node_modules/playwright-core" ] || { it_fail "playwright-core is missing: scripts/node-deps"; it_finish; }
it_db_create || it_finish
it_sql "UPDATE tenants SET window_ms = 200, max_wait_ms = 2000, human_pause_ms = 600000,
        escalation_keywords = '{manager}' WHERE slug = 'default'" >/dev/null
e2e_start LULL_ADMIN_INBOX_DEBOUNCE_MS=50 LULL_ADMIN_INBOX_POLL_MS=200 || it_finish

out=$(NODE_PATH=$LULL_ROOT/tests/node/node_modules timeout 150 node "$LULL_ROOT/tests/it/inbox_page.js" "$ADM" "$ING" \
      "$E2E_ADMIN_TOKEN" "$IT_TMP" "$IT_TMP/chromium-profile" 2>"$IT_TMP/browser.err")
rc=$?
it_check_eq "the browser run succeeded ($(tail -c 800 "$IT_TMP/browser.err" | tr '\n' ' '))" 0 "$rc"
j() { jq -r "$1" <<<"$out" 2>/dev/null; }
conv=$(j .conversation)
it_check_match "a wrong token shows a clear error" 'Wrong token' "$(j .wrongToken)"
it_check_eq "the token is kept in sessionStorage while signed in" true "$(j .tokenStored)"
it_check_eq "the escalation appeared without a reload" true "$(j .escalatedLive)"
it_check_match "the list item says escalated, with the keyword reason" 'escalated.*manager' "$(j .listItem)"
it_check_match "a screen reader hears about the new escalation" 'New escalation' "$(j .announced)"
it_check_eq "the conversation shown is the one the keyword escalated" keyword \
    "$(it_sql "SELECT source FROM escalations WHERE conversation_id = ${conv:-0} ORDER BY id LIMIT 1")"
it_check_eq "the contact's message is shown as text" "<img src=x onerror=alert(1)> I need a manager now" "$(j .historyContact)"
it_check_eq "no img element, no dialog" "0 0 0" "$(j .imgs) $(j .imgsAtEnd) $(j '.dialogs | length')"
it_check_eq "the replies as shown" '["Hello Ivy, Sam from support here","Second line\nand more"]' "$(j '.humanTexts | tojson')"
it_check_eq "a double click sent once; Shift+Enter made a new line" "1|1" \
    "$(it_sql "SELECT count(*) FILTER (WHERE body = 'Hello Ivy, Sam from support here') || '|' ||
               count(*) FILTER (WHERE body = E'Second line\nand more') FROM messages WHERE conversation_id = ${conv:-0} AND author = 'human'")"
key=$(it_sql "SELECT o.idempotency_key FROM outbox o JOIN messages m ON m.id = o.message_id
              WHERE m.conversation_id = ${conv:-0} AND m.body = 'Hello Ivy, Sam from support here'")
it_check_match "the reply carried the page's idempotency key" '^human_[0-9]+_inbox-[0-9a-f]{32}$' "$key"
delivered() { curl -s -G --data-urlencode "key=$key" "$CH/_fake/ledger" | jq -e --arg k "$key" '.by_key[$k].last.body | contains("Sam from support")' >/dev/null; }
it_wait_for "the contact received the agent's reply (fake channel ledger)" 15 delivered
it_check_eq "the page's hand-back resolved the keyword escalation" t \
    "$(it_sql "SELECT resolved_at IS NOT NULL FROM escalations WHERE conversation_id = ${conv:-0} ORDER BY id LIMIT 1")"
it_check_eq "the page shows the bot's answer as stored" \
    "$(it_sql "SELECT body FROM messages WHERE conversation_id = ${conv:-0} AND author = 'bot' ORDER BY id LIMIT 1")" "$(j .botReply)"
it_check_match "overview: messages in, non-zero" '^[1-9]' "$(j '.totals["Messages in"]')"
it_check_match "overview: escalations, non-zero" '^[1-9]' "$(j '.totals["Escalations"]')"
it_check_eq "overview: five charts" "conversations inbound outbound escalations delivery_failures" "$(j '.charts | join(" ")')"
it_check_match "overview: bars drawn" '^[1-9]' "$(j .bars)"
it_check_eq "sign out clears the token" null "$(j .tokenAfterSignOut)"
it_check "screenshots taken" test -s "$IT_TMP/inbox-conversation.png" -a -s "$IT_TMP/inbox-overview.png"
it_finish
