#!/usr/bin/env bash
# Admin API: GET /api/v1/config (effective configuration, secrets masked) and GET /api/v1/health aggregated
# over LULL_HEALTH_TARGETS (503 when a tier is down).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scheduler_lib.sh"
source "$(dirname "$0")/admin_lib.sh"
it_db_create || it_finish
sched_start sched
down=$(it_free_port)
# a password as ?password= / &password= in the URL (the local cluster trusts, so libpq never sends it)
case $LULL_DATABASE_URL in *\?*) db_pw="$LULL_DATABASE_URL&password=db-secret-value" ;; *) db_pw="$LULL_DATABASE_URL?password=db-secret-value" ;; esac
adm_start admin LULL_TWILIO_AUTH_TOKEN=twilio-secret-value LULL_PUBLIC_URL=https://lull.example.com LULL_DATABASE_URL="$db_pw" \
    LULL_HEALTH_TARGETS="scheduler=http://127.0.0.1:$SCHED_OPS/health,sender=http://127.0.0.1:$down/health"

adm GET /api/v1/config
it_check_eq "config 200" 200 "$ADM_CODE"
it_check_eq "a plain setting" "$SCHED_CT" "$(jqr .LULL_SCHEDULER_CONTROLS)"
it_check_eq "lull-admin's own settings (not ingress's)" null "$(jqr .LULL_TWILIO_AUTH_TOKEN)"
it_check_eq "its port" "${ADM_URL##*:}" "$(jqr .LULL_ADMIN_PORT)"
it_check_eq "the admin token masked" '***' "$(jqr .LULL_ADMIN_TOKEN)"
it_check_match "the database password masked in the query" 'password=\*\*\*' "$(jqr .LULL_DATABASE_URL)"
it_check "no secret anywhere in the answer" bash -c '! grep -q -e "$1" -e "$2" -e "$3" <<<"$4"' _ twilio-secret-value "$ADM_TOKEN" db-secret-value "$ADM_BODY"
it_check "no secret in the start-up config lines" bash -c '! grep -q -e twilio-secret-value -e db-secret-value "$1" "$2"' _ "$ADM_LOG" "$ADM_ING_LOG"
adm_noauth GET /api/v1/config
it_check_eq "config needs the token" 401 "$ADM_CODE"
adm GET /config
it_check_eq "GET /config is the same (the issue's name)" "$SCHED_CT" "$(jqr .LULL_SCHEDULER_CONTROLS)"
adm_noauth GET /config
it_check_eq "GET /config needs the token too" 401 "$ADM_CODE"

adm GET /api/v1/health
it_check_eq "a tier down → 503" 503 "$ADM_CODE"
it_check_eq "scheduler ok" ok "$(jqr .tiers.scheduler.status)"
it_check_eq "sender down" down "$(jqr .tiers.sender.status)"
it_check_eq "admin itself" ok "$(jqr .tiers.admin.status)"
it_check_eq "overall" degraded "$(jqr .status)"
it_stop "$ADM_PID"
it_check_eq "lull-admin exits 0" 0 "$IT_RC"

adm_start admin2 LULL_HEALTH_TARGETS="scheduler=http://127.0.0.1:$SCHED_OPS/health"
adm GET /api/v1/health
it_check_eq "all up → 200" 200 "$ADM_CODE"
it_check_eq "overall ok" ok "$(jqr .status)"
it_finish
