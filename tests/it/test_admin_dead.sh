#!/usr/bin/env bash
# Admin API, dead letters (common/lull_dead): list with filters and keyset pagination, replay one, replay by
# filter; 400 on a bad filter or an empty replay filter, 404 on an id that is not dead.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scheduler_lib.sh"
source "$(dirname "$0")/admin_lib.sh"
it_db_create || it_finish
sched_start sched
adm_start admin

dead() {  # CHANNEL KEY STATUS : an outbox row that was given up on; prints its id
    it_sql "INSERT INTO outbox (tenant_id, channel, recipient, payload, status, attempts, last_error, idempotency_key)
            VALUES (1, '$1', 'r', '{\"body\":\"x\",\"kind\":\"reply\"}', '${3:-dead}', 5, 'gave up', '$2') RETURNING id"
}
d1=$(dead sms k1); d2=$(dead generic k2 unknown); d3=$(dead sms k3); ok=$(dead sms k4 sent)

adm GET /api/v1/dead-letters
it_check_eq "list 200" 200 "$ADM_CODE"
it_check_eq "dead and unknown rows, newest first" "$d3 $d2 $d1" "$(jqr '[.dead_letters[].id] | map(tostring) | join(" ")')"
adm GET "/api/v1/dead-letters?channel=sms&limit=1"
it_check_eq "channel filter + limit" "$d3" "$(jqr '[.dead_letters[].id] | map(tostring) | join(" ")')"
it_check_eq "next_before" "$d3" "$(jqr .next_before)"
adm GET "/api/v1/dead-letters?channel=sms&before=$d3"
it_check_eq "keyset page 2" "$d1" "$(jqr '[.dead_letters[].id] | map(tostring) | join(" ")')"
adm GET "/api/v1/dead-letters?tenant=2"
it_check_eq "tenant filter" 0 "$(jqr '.dead_letters | length')"
adm GET "/api/v1/dead-letters?since=2000-01-01T00:00:00Z"
it_check_eq "since filter" 3 "$(jqr '.dead_letters | length')"
adm GET "/api/v1/dead-letters?since=yesterday;drop"
it_check_eq "bad since → 400" 400 "$ADM_CODE"
adm GET "/api/v1/dead-letters?since=2026-13-45"
it_check_eq "impossible date → 400" 400 "$ADM_CODE"
adm GET "/api/v1/dead-letters?channel=fax"
it_check_eq "bad channel → 400" 400 "$ADM_CODE"

adm POST "/api/v1/dead-letters/$d1/replay"
it_check_eq "replay one 200" 200 "$ADM_CODE"
it_check_eq "row pending again, attempts 0, same key" "pending|0|k1" \
    "$(it_sql "SELECT status || '|' || attempts || '|' || idempotency_key FROM outbox WHERE id = $d1")"
adm POST "/api/v1/dead-letters/$d1/replay"
it_check_eq "replay of a row no longer dead → 404" 404 "$ADM_CODE"
adm POST "/api/v1/dead-letters/$ok/replay"
it_check_eq "replay of a sent row → 404" 404 "$ADM_CODE"
adm POST /api/v1/dead-letters/replay '{}'
it_check_eq "empty filter → 400" 400 "$ADM_CODE"
it_check_eq "empty filter code" empty_filter "$(jqr .error.code)"
adm POST /api/v1/dead-letters/replay '{"channel":5}'
it_check_eq "channel of the wrong type → 400" 400 "$ADM_CODE"
adm POST /api/v1/dead-letters/replay '{"channel":"generic"}'
it_check_eq "replay by filter" 1 "$(jqr .replayed)"
it_check_eq "only the generic row" "pending|dead" \
    "$(it_sql "SELECT string_agg(status, '|' ORDER BY id) FROM outbox WHERE id IN ($d2, $d3)")"
adm POST /api/v1/dead-letters/replay '{"all":true}'
it_check_eq "replay all" 1 "$(jqr .replayed)"
adm GET /api/v1/dead-letters
it_check_eq "nothing dead left" 0 "$(jqr '.dead_letters | length')"
it_finish
