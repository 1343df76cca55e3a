#!/usr/bin/env bash
# lull-ingress with the database gone: every webhook gets 503 with a JSON error and nothing is acknowledged or
# stored; when the database is back the ingress recovers by itself. The outage is made on this test's own
# database only (ALLOW_CONNECTIONS false + pg_terminate_backend), never on the shared cluster.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingress_lib.sh"
it_db_create || it_finish
db=${LULL_DATABASE_URL##*/}
admin_url=${LULL_DATABASE_URL%/*}/postgres
admin() { psql "$admin_url" -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
ing_start

ing_json /webhook '{"contact_id":"c","message":{"body":"before","id":"before-1"}}'
it_check_eq "database up: 200" 200 "$ING_CODE"

admin "ALTER DATABASE \"$db\" ALLOW_CONNECTIONS false" >/dev/null
admin "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$db' AND pid <> pg_backend_pid()" >/dev/null
codes=""
for i in 1 2 3; do
    ing_json /webhook "{\"contact_id\":\"c\",\"message\":{\"body\":\"down\",\"id\":\"down-$i\"}}"
    codes+="$ING_CODE "
done
it_check_eq "database down: every webhook 503" "503 503 503 " "$codes"
it_check_match "… with a JSON error" '^\{"error":\{"code":"database_unavailable","message":"[^"]+"\}\}$' "$ING_BODY"
twilio_post MessageSid=$(sm down) From=+1 To=+2 Body=down
it_check_eq "database down: Twilio 503 too" 503 "$ING_CODE"
it_check_match "503 says Retry-After" 'Retry-After: 1' "$(curl -si -H 'Content-Type: application/json' --data '{"contact_id":"c","message":{"body":"x"}}' "$ING_URL/webhook")"

admin "ALTER DATABASE \"$db\" ALLOW_CONNECTIONS true" >/dev/null
recovered() { ing_json /webhook '{"contact_id":"c","message":{"body":"after","id":"after-1"}}'; [ "$ING_CODE" = 200 ]; }
it_wait_for "ingress recovers when the database is back" 10 recovered
it_check_eq "recovered: 200" 200 "$ING_CODE"
it_check_eq "nothing from the outage was stored; before and after were" "after-1,before-1" \
    "$(it_sql "SELECT string_agg(provider_message_id, ',' ORDER BY provider_message_id) FROM messages")"
it_check_match "503s counted" 'lull_ingress_rejected_total\{channel="generic",reason="database_unavailable"\} [3-9]' "$(curl -s "$ING_OPS/metrics")"
it_stop "$ING_PID" TERM
it_check_eq "exits 0 on SIGTERM" 0 "$IT_RC"
it_finish
