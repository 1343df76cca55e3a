# Helpers for the lull-ingress integration tests (sourced after lib.sh): start the ingress with a test PULL
# socket as its only scheduler shard, POST and sign requests.
ING_TOKEN=test-twilio-token
ING_SECRET=test-tiktok-secret


# ing_start [VAR=value …] : starts zmq_sink and lull-ingress on free ports; sets ING_URL, ING_OPS, ING_PID,
# ING_SINK (file with the INBOUND lines), ING_SINK_PID.
ing_start() {
    local port ops zp try
    for try in 1 2 3 4 5; do  # a free port can be taken by someone else before we bind it: try again
        port=$(it_free_port); ops=$(it_free_port); zp=$(it_free_port)
        ING_URL="http://127.0.0.1:$port"; ING_OPS="http://127.0.0.1:$ops"
        ING_SINK="$IT_TMP/sink.$port.jsonl"
        it_start "sink.$port" sh -c "exec '$LULL_FAKES/zmq_sink' tcp://127.0.0.1:$zp --bind >'$ING_SINK'"
        ING_SINK_PID=$IT_LAST_PID
        it_start "ingress.$port" env LULL_HTTP_PORT="$port" LULL_OPS_PORT="$ops" LULL_SCHEDULERS="tcp://127.0.0.1:$zp" \
            LULL_PUBLIC_URL="https://lull.example.com" LULL_TWILIO_AUTH_TOKEN="$ING_TOKEN" LULL_TIKTOK_SECRET="$ING_SECRET" \
            LULL_LOG_FILE="$IT_TMP/ingress.$port.jsonl" "$@" "$LULL_BIN/lull-ingress"
        ING_PID=$IT_LAST_PID
        ING_LOG="$IT_TMP/ingress.$port.jsonl"
        local deadline=$(( $(date +%s) + 10 ))
        while [ "$(date +%s)" -lt "$deadline" ]; do
            if it_http_ok "$ING_URL/health" 2>/dev/null; then
                kill -0 "$ING_SINK_PID" 2>/dev/null && return 0
                break  # the sink could not bind its port
            fi
            kill -0 "$ING_PID" 2>/dev/null || break
            sleep 0.02
        done
        kill -KILL -- "-$ING_SINK_PID" 2>/dev/null; kill -KILL -- "-$ING_PID" 2>/dev/null
    done
    it_fail "lull-ingress did not start (log: $ING_LOG)"
    return 1
}

# ing_req METHOD PATH BODY [curl args…] : sets ING_CODE and ING_BODY.
ing_req() {
    local method=$1 path=$2 body=$3 out="$IT_TMP/resp.$BASHPID"; shift 3
    ING_CODE=$(curl -s -o "$out" -w '%{http_code}' -X "$method" --max-time 10 "$@" \
        ${body:+--data-binary "$body"} "$ING_URL$path")
    ING_BODY=$(cat "$out" 2>/dev/null)
}
# ing_json PATH BODY [curl args…]
ing_json() { local p=$1 b=$2; shift 2; ing_req POST "$p" "$b" -H 'Content-Type: application/json' "$@"; }

# sm NAME : a well-formed Twilio message SID (SM + 32 hex digits) made from NAME, the same for the same NAME.
sm() { printf 'SM%s' "$(printf '%s' "$1" | md5sum | cut -c1-32)"; }
# twilio_sig URL NAME=VALUE… : the X-Twilio-Signature for decoded params.
twilio_sig() {
    local url=$1; shift
    { printf '%s' "$url"; printf '%s\n' "$@" | LC_ALL=C sort -u | while IFS= read -r kv; do printf '%s%s' "${kv%%=*}" "${kv#*=}"; done; } |
        openssl dgst -sha1 -hmac "$ING_TOKEN" -binary | base64
}
# twilio_post NAME=VALUE… : a signed Twilio webhook (values are form-encoded by curl).
twilio_post() {
    local args=() kv
    for kv in "$@"; do args+=(--data-urlencode "$kv"); done
    ing_req POST /webhook/twilio "" -H "X-Twilio-Signature: $(twilio_sig "https://lull.example.com/webhook/twilio" "$@")" "${args[@]}"
}
# tiktok_sig BODY [T] : the Tiktok-Signature header value.
tiktok_sig() {
    local t=${2:-$(date +%s)}
    printf 't=%s,s=%s' "$t" "$(printf '%s.%s' "$t" "$1" | openssl dgst -sha256 -hmac "$ING_SECRET" | sed 's/^.*= //')"
}
# tiktok_body EVENT MSG_ID TEXT [CLIENT_KEY] [FROM] [TO]
tiktok_body() {
    local content
    content=$(jq -cn --arg m "$2" --arg t "$3" --arg f "${5:-7000000000000000001}" --arg to "${6:-7000000000000000999}" \
        '{conversation_id:"7100000000000000001", message_id:$m, timestamp:1700000000000, type:"text", text:{body:$t},
          from_user:{id:$f}, to_user:{id:$to}}')
    jq -cn --arg e "$1" --arg c "$content" --arg k "${4:-ck_test}" \
        '{client_key:$k, event:$e, create_time:1700000000, user_openid:"biz", content:$c}'
}
tiktok_post() { ing_json /webhook/tiktok "$1" -H "Tiktok-Signature: $(tiktok_sig "$1")"; }

# sink_count JQ_FILTER : number of sink lines matching (jq select expression).
sink_count() { jq -c "select($1)" "$ING_SINK" 2>/dev/null | wc -l; }

# ing_check_order [LIKE] : each contact's messages (those whose provider_message_id is LIKE the pattern; default all)
# were stored in the order sent (their bodies are 1, 2, 3 … in sending order), and each conversation names its
# newest message as last_inbound_id.
ing_check_order() {
    local like=${1:-%}
    it_check_eq "each contact's messages stored in the order sent" 0 "$(it_sql "
        SELECT count(*) FROM (SELECT body, row_number() OVER (PARTITION BY conversation_id ORDER BY id) AS k
                              FROM messages WHERE provider_message_id LIKE '$like') m WHERE m.body <> m.k::text")"
    it_check_eq "each conversation names its newest message" 0 "$(it_sql "
        SELECT count(*) FROM conversations v
        WHERE v.last_inbound_id <> (SELECT max(id) FROM messages m WHERE m.conversation_id = v.id)")"
}
