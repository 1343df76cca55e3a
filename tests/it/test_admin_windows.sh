#!/usr/bin/env bash
# Admin API on lull-admin against a real lull-scheduler: bearer auth (401 without / wrong, 403 disabled),
# windows list (and the seed's /timers), cancel and flush (and /process-chat), 404/400, 503 when the
# scheduler does not answer.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scheduler_lib.sh"
source "$(dirname "$0")/admin_lib.sh"
it_db_create || it_finish

it_sql "UPDATE tenants SET window_ms = 60000, max_wait_ms = 120000 WHERE slug = 'default'" >/dev/null
export LULL_SCHED_LIST_MAX=3  # a shard pages at most 3 windows: paging must go past it
sched_start sched
unset LULL_SCHED_LIST_MAX
adm_start admin LULL_LOG_LEVEL=debug LULL_ADMIN_CTL_TIMEOUT_MS=2000  # long enough to see a second request served meanwhile

# --- auth ----------------------------------------------------------------------------------------------
adm_noauth GET /api/v1/windows
it_check_eq "no token → 401" 401 "$ADM_CODE"
it_check_eq "401 says why" unauthorized "$(jqr .error.code)"
adm_noauth GET /api/v1/windows -H "Authorization: Bearer wrong-token"
it_check_eq "wrong token → 401" 401 "$ADM_CODE"
it_check_match "wrong token message" 'bearer token is wrong' "$ADM_BODY"
adm_noauth GET /timers -H "Authorization: Bearer ${ADM_TOKEN}x"
it_check_eq "longer token → 401 on the seed alias too" 401 "$ADM_CODE"
adm_noauth GET /api/v1/chat/history/ws_nope
it_check_eq "chat routes stay outside the admin API: 404 on lull-admin" 404 "$ADM_CODE"
# the admin API is lull-admin's only: lull-ingress answers 404 to each of its routes, with or without a token
on_ingress=""
for p in /api/v1/windows /timers /process-chat /config /api/v1/config /api/v1/health /api/v1/tenants \
    /api/v1/conversations/1 /api/v1/test/reply /api/v1/dead-letters; do
    for m in GET POST; do
        on_ingress+=" $(curl -s -o /dev/null -w '%{http_code}' -X "$m" --max-time 5 \
            -H "Authorization: Bearer $ADM_TOKEN" "$ADM_ING_URL$p")"
    done
done
it_check_eq "lull-ingress answers 404 to every admin route" "$(printf ' 404%.0s' {1..20})" "$on_ingress"

# lull-admin refuses unsound framing as lull-ingress does, before the body is read and before the token is checked
aport=${ADM_URL##*:}
framed() {  # HEADERS : the status and error code lull-admin answers a POST /process-chat with those headers
    timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$aport"'; printf "$1" >&3; cat <&3' _ \
        "POST /process-chat HTTP/1.1\r\nHost: x\r\nConnection: close\r\n$1\r\n" | tr -d '\r' |
        awk 'NR == 1 { s = $2 } /^\{/ { print s, $0 }' | sed -E 's/^([0-9]+) .*"code":"([a-z_]+)".*/\1 \2/'
}
it_check_eq "lull-admin: duplicate Content-Length → 400 bad_framing" "400 bad_framing" \
    "$(framed 'Content-Length: 2\r\nContent-Length: 2\r\n')"
it_check_eq "lull-admin: a coding other than chunked → 501" "501 unsupported_transfer_encoding" \
    "$(framed 'Transfer-Encoding: gzip\r\n')"

# --- windows -----------------------------------------------------------------------------------------------
m1=$(webhook alice "hello")
m2=$(webhook alice "anyone?")
m3=$(webhook bob "hi")
ca=$(it_sql "SELECT conversation_id FROM messages WHERE id = $m1")
cb=$(it_sql "SELECT conversation_id FROM messages WHERE id = $m3")
it_wait_for "two windows listed" 5 sh -c "curl -s -H 'Authorization: Bearer $ADM_TOKEN' '$ADM_URL/api/v1/windows' | jq -e '.windows | length == 2'"
adm GET /api/v1/windows
it_check_eq "list 200" 200 "$ADM_CODE"
it_check_eq "alice's window has 2 messages" 2 "$(jqr ".windows[] | select(.conversation_id == $ca) | .messages")"
it_check "seconds_left within the window" jq -e ".windows[0].seconds_left > 0 and .windows[0].seconds_left <= 60" <<<"$ADM_BODY"
it_check_eq "total" 2 "$(jqr .total)"
it_check_eq "ordered by conversation" "$ca $cb" "$(jqr '[.windows[].conversation_id] | map(tostring) | join(" ")')"
adm GET "/api/v1/windows?limit=1"
it_check_eq "limit=1 gives one" 1 "$(jqr '.windows | length')"
it_check_eq "next_after is the last id" "$ca" "$(jqr .next_after)"
adm GET "/api/v1/windows?limit=1&after=$ca"
it_check_eq "after pages on" "$cb" "$(jqr '.windows[0].conversation_id')"
adm GET "/api/v1/windows?limit=5000"
it_check_eq "limit > 1000 → 400" 400 "$ADM_CODE"
it_check_eq "bad limit code" bad_parameter "$(jqr .error.code)"
adm GET /timers
it_check_eq "seed /timers 200" 200 "$ADM_CODE"
it_check_eq "seed shape: conversation and seconds left" '["conversation_id","seconds_left"]' "$(jq -c '.timers[0] | keys' <<<"$ADM_BODY")"

# cancel alice: her burst is never answered
adm POST "/api/v1/windows/$ca/cancel"
it_check_eq "cancel 200" 200 "$ADM_CODE"
it_check_eq "cancel upto her newest message" "$m2" "$(jqr .upto)"
it_check_eq "cancelled_upto recorded" "$m2" "$(it_sql "SELECT cancelled_upto FROM conversations WHERE id = $ca")"
adm POST "/api/v1/windows/$ca/cancel"
it_check_eq "cancel again → 404" 404 "$ADM_CODE"
adm GET /api/v1/windows
it_check_eq "one window left" "$cb" "$(jqr '[.windows[].conversation_id] | map(tostring) | join(" ")')"

# flush bob through the seed alias; with no worker it stays (ready), but leaves the waiting state
adm POST /process-chat "{\"conversation_id\":$cb}"
it_check_eq "process-chat 200" 200 "$ADM_CODE"
it_check_eq "flushed" "$cb" "$(jqr .flushed)"
adm GET /api/v1/windows
it_check_eq "flushed window no longer waits" 0 "$(jqr '.windows[0].seconds_left')"
adm POST "/api/v1/windows/$cb/flush"
it_check_eq "flush via /api/v1 200" 200 "$ADM_CODE"
adm POST /process-chat '{"conversation_id":"abc"}'
it_check_eq "process-chat bad id → 400" 400 "$ADM_CODE"
adm POST /process-chat 'not json'
it_check_eq "process-chat bad json → 400" 400 "$ADM_CODE"
it_check_eq "bad json code" bad_json "$(jqr .error.code)"
adm POST /api/v1/windows/0/cancel
it_check_eq "id 0 → 400" 400 "$ADM_CODE"
adm POST /api/v1/windows/99999/flush
it_check_eq "unknown window → 404" 404 "$ADM_CODE"
adm GET "/api/v1/windows/$cb/cancel"
it_check_eq "GET on cancel → 405" 405 "$ADM_CODE"
adm GET /api/v1/nothing
it_check_eq "unknown admin route → 404 JSON" not_found "$(jqr .error.code)"

# --- paging past the scheduler's page size (LULL_SCHED_LIST_MAX=3): 6 windows, pages of 4 -------------------
for c in dave erin fred gina hank; do webhook "$c" "hello from $c" >/dev/null; done
it_wait_for "six windows held" 5 sh -c "curl -s -H 'Authorization: Bearer $ADM_TOKEN' '$ADM_URL/api/v1/windows' | jq -e '.total == 6'"
want=$(it_sql "SELECT string_agg(id::text, ' ' ORDER BY id) FROM conversations WHERE last_inbound_id > greatest(answered_upto, cancelled_upto)")
seen=""; after=0; pages=0
while [ "$pages" -lt 10 ]; do
    adm GET "/api/v1/windows?limit=4&after=$after"
    [ "$ADM_CODE" = 200 ] || break
    pages=$((pages + 1))
    it_check "page $pages holds at most 4 windows" test "$(jqr '.windows | length')" -le 4
    seen="$seen $(jqr '[.windows[].conversation_id] | map(tostring) | join(" ")')"
    after=$(jqr .next_after)
    [ "$after" = null ] && break
done
it_check_eq "every window seen once, in order, across the pages" "$want" "$(echo $seen)"
it_check "more than one page was needed" test "$pages" -ge 2

# --- a scheduler that does not answer (stopped: connected, silent) → 503 after LULL_ADMIN_CTL_TIMEOUT_MS, and
# the webhook routes are served meanwhile ----------------------------------------------------------------------
kill -STOP "$SCHED_PID"
n0=$(grep -c '"ev":"admin.begin"' "$ADM_LOG")
( adm GET /api/v1/windows; echo "$ADM_CODE" >"$IT_TMP/slow.code" ) &
slow=$!
it_wait_for "the admin request is waiting for the scheduler" 5 sh -c "[ \$(grep -c '\"ev\":\"admin.begin\"' '$ADM_LOG') -gt $n0 ]"
it_check "webhooks answer while the admin thread waits" it_http_ok "$ADM_ING_URL/health"
it_check "lull-admin answers its liveness while its admin thread waits" it_http_ok "$ADM_URL/health"
adm GET "/api/v1/conversations?limit=1"
it_check_eq "another admin request is served meanwhile by another admin thread" "200|waiting" \
    "$ADM_CODE|$([ -s "$IT_TMP/slow.code" ] && echo done || echo waiting)"
m4=$(webhook carol "while the admin waits")
it_check "a webhook is stored while the admin thread waits" test -n "$m4" -a "$m4" != null
wait "$slow"
it_check_eq "silent scheduler → 503" 503 "$(cat "$IT_TMP/slow.code")"
adm POST "/api/v1/windows/$cb/flush"
it_check_eq "flush with a silent scheduler → 503" 503 "$ADM_CODE"
it_check_eq "503 code" scheduler_unavailable "$(jqr .error.code)"

# --- shutdown while admin requests wait for the silent scheduler: each is answered, the exit is clean ----------
n0=$(grep -c '"ev":"admin.begin"' "$ADM_LOG")
( adm GET /api/v1/windows; echo "$ADM_CODE" >"$IT_TMP/shutdown1.code" ) &
s1=$!
( adm POST "/api/v1/windows/$cb/cancel"; echo "$ADM_CODE" >"$IT_TMP/shutdown2.code" ) &
s2=$!
it_wait_for "an admin request is waiting for the scheduler" 5 sh -c "[ \$(grep -c '\"ev\":\"admin.begin\"' '$ADM_LOG') -gt $n0 ]"
it_stop "$ADM_PID"
it_check_eq "lull-admin exits 0 with admin requests in flight (no leak, no crash)" 0 "$IT_RC"
wait "$s1" "$s2"
it_check_match "the waiting requests were answered 503 (or their connection closed), never hung" \
    '^(503|000) (503|000)$' "$(cat "$IT_TMP/shutdown1.code") $(cat "$IT_TMP/shutdown2.code")"
kill -CONT "$SCHED_PID"

# --- disabled ----------------------------------------------------------------------------------------------
adm_start admin2 LULL_ADMIN_TOKEN=
adm GET /api/v1/windows
it_check_eq "no LULL_ADMIN_TOKEN → 403" 403 "$ADM_CODE"
it_check_eq "403 code" admin_disabled "$(jqr .error.code)"
it_finish
