# Helpers for the admin API integration tests (sourced after lib.sh and scheduler_lib.sh): a real
# lull-scheduler on private ports, lull-ingress sending INBOUND to it and lull-admin with its controls.
ADM_TOKEN=test-admin-token-0123456789

# adm_start NAME [VAR=value …] : starts lull-ingress (INBOUND to the scheduler) and lull-admin (controls to the
# scheduler), both given the VARs (each reads its own); sets ADM_URL, ADM_PID, ADM_LOG (lull-admin) and
# ADM_ING_URL, ADM_ING_PID, ADM_ING_LOG (lull-ingress).
adm_start() {
    local name=$1 port ops aport aops; shift
    port=$(it_free_port); ops=$(it_free_port); aport=$(it_free_port); aops=$(it_free_port)
    ADM_ING_URL="http://127.0.0.1:$port"; ADM_ING_LOG="$IT_TMP/$name.ingress.jsonl"
    ADM_URL="http://127.0.0.1:$aport"; ADM_LOG="$IT_TMP/$name.jsonl"
    it_start "$name.ingress" env LULL_HTTP_PORT="$port" LULL_OPS_PORT="$ops" LULL_SCHEDULERS="$SCHED_IN" \
        LULL_LOG_FILE="$ADM_ING_LOG" "$@" "$LULL_BIN/lull-ingress"
    ADM_ING_PID=$IT_LAST_PID
    it_start "$name" env LULL_ADMIN_PORT="$aport" LULL_OPS_PORT="$aops" LULL_SCHEDULER_CONTROLS="$SCHED_CT" \
        LULL_SENDERS="tcp://127.0.0.1:$(it_free_port)" LULL_ADMIN_TOKEN="$ADM_TOKEN" LULL_ADMIN_CTL_TIMEOUT_MS=500 \
        LULL_LOG_FILE="$ADM_LOG" "$@" "$LULL_BIN/lull-admin"
    ADM_PID=$IT_LAST_PID
    it_wait_for "ingress $name serving" 10 it_http_ok "$ADM_ING_URL/health"
    it_wait_for "admin $name serving" 10 it_http_ok "$ADM_URL/health"
}
# adm METHOD PATH [BODY] [curl args…] : an authorised admin request; sets ADM_CODE and ADM_BODY.
adm() {
    local method=$1 path=$2 body=${3:-} out="$IT_TMP/adm.$BASHPID"; shift; shift; [ $# -gt 0 ] && shift
    ADM_CODE=$(curl -s -o "$out" -w '%{http_code}' -X "$method" --max-time 10 -H "Authorization: Bearer $ADM_TOKEN" \
        -H 'Content-Type: application/json' "$@" ${body:+--data-binary "$body"} "$ADM_URL$path")
    ADM_BODY=$(cat "$out" 2>/dev/null)
}
# adm_noauth METHOD PATH [curl args…] : the same without the token.
adm_noauth() {
    local method=$1 path=$2 out="$IT_TMP/adm.$BASHPID"; shift 2
    ADM_CODE=$(curl -s -o "$out" -w '%{http_code}' -X "$method" --max-time 10 "$@" "$ADM_URL$path")
    ADM_BODY=$(cat "$out" 2>/dev/null)
}
# jqr FILTER : applies jq -r FILTER to $ADM_BODY.
jqr() { jq -r "$1" <<<"$ADM_BODY"; }
# webhook CONTACT TEXT [TENANT] : posts a generic webhook through the ingress; prints the message id.
webhook() {
    curl -s --max-time 10 -H 'Content-Type: application/json' "$ADM_ING_URL/webhook" \
        --data-binary "$(jq -cn --arg c "$1" --arg t "$2" --arg te "${3:-default}" '{contact_id:$c, message:{body:$t}, first_name:"Ada", last_name:"Lovelace", tenant:$te}')" |
        jq -r .message_id
}
