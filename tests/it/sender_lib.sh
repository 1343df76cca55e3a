# Helpers for the sender's integration tests (sourced after lib.sh): the fake channel server, a sender
# with test timings, outbox rows inserted with SQL, and waits on row states.
SENDER_SID=AC0123456789abcdef0123456789abcdef
SENDER_TOKEN=twilio-test-token
SENDER_TIKTOK=tiktok-test-token
SENDER_SECRET="whsec_$(printf 'sender-test-secret-0123456789' | base64 -w0)"


# fake_start [ARGS...] : starts the fake on a free port; sets FAKE_PORT and FAKE.
fake_start() {
    FAKE_PORT=$(it_free_port)
    FAKE=http://127.0.0.1:$FAKE_PORT
    it_start fake "$LULL_FAKES/fake_channels" --port "$FAKE_PORT" --twilio-sid "$SENDER_SID" \
        --twilio-token "$SENDER_TOKEN" --tiktok-token "$SENDER_TIKTOK" --callback-secret "$SENDER_SECRET" "$@"
    FAKE_PID=$IT_LAST_PID
    it_wait_for "fake channels" 10 it_http_ok "$FAKE/_fake/ledger?summary=1"
}
fake_post() { curl -fsS -X POST -H 'Content-Type: application/json' -d "$2" "$FAKE$1" >/dev/null; }
fake_fault() { fake_post /_fake/faults "$1"; }
fake_clear() { curl -fsS -X DELETE "$FAKE/_fake/faults" >/dev/null; }
fake_summary() { curl -fsS "$FAKE/_fake/ledger?summary=1"; }
# fake_key KEY : the ledger entry of one key (with the last request's wire form).
fake_key() { curl -fsS -G --data-urlencode "key=$1" "$FAKE/_fake/ledger" | jq -c --arg k "$1" '.by_key[$k]'; }

# form_field LEDGER_ENTRY NAME : value of form field NAME in the entry's last request ("" when absent).
form_field() { jq -r --arg n "$2" '.last.form[]|select(.[0]==$n)[1]' <<<"$1"; }

# sender_start NAME [VAR=VALUE...] : starts lull-sender with test timings against the fake; sets SENDER_PID,
# SENDER_OPS (ops port) and SENDER_BIND (its OUTBOX endpoint). Callbacks may reach the fakes on 127.0.0.0/8.
sender_start() {
    local name=$1; shift
    SENDER_OPS=$(it_free_port)
    SENDER_BIND=tcp://127.0.0.1:$(it_free_port)
    it_start "$name" env LULL_OPS_PORT="$SENDER_OPS" LULL_SENDER_BIND="$SENDER_BIND" \
        LULL_LOG_FILE="$IT_TMP/$name.jsonl" LULL_LOG_LEVEL=info LULL_SENDER_POLL_MS=50 LULL_RETRY_BASE_MS=20 \
        LULL_RETRY_MAX_MS=200 LULL_SENDER_TIMEOUT_MS=2000 LULL_SENDER_LEASE_MS=3000 \
        LULL_TWILIO_API_BASE="$FAKE" LULL_TWILIO_ACCOUNT_SID="$SENDER_SID" LULL_TWILIO_AUTH_TOKEN="$SENDER_TOKEN" \
        LULL_TWILIO_STATUS_CALLBACK="$FAKE/twilio/status" LULL_TIKTOK_API_BASE="$FAKE" \
        LULL_TIKTOK_ACCESS_TOKEN="$SENDER_TIKTOK" LULL_CALLBACK_URL="$FAKE/callback" \
        LULL_CALLBACK_SECRET="$SENDER_SECRET" LULL_SENDER_CALLBACK_ALLOW=127.0.0.0/8 "$@" "$LULL_BIN/lull-sender"
    SENDER_PID=$IT_LAST_PID
}

# sender_sent_count OPS_PORT : deliveries the sender on that ops port counted as sent (all adapters).
sender_sent_count() {
    curl -fsS "http://127.0.0.1:$1/metrics" | awk '/^lull_sender_attempts_total\{.*result="sent"\}/ {s += $2} END {print s + 0}'
}

# outbox_add CHANNEL RECIPIENT SENDER_ADDRESS PAYLOAD_JSON [IDEMPOTENCY_KEY] [TENANT] [CONVERSATION] : prints the id.
outbox_add() {
    local key=${5:-out_$RANDOM$RANDOM$RANDOM} tenant=${6:-1} conv=${7:-NULL}
    it_sql "INSERT INTO outbox (tenant_id, conversation_id, channel, recipient, sender_address, payload, idempotency_key)
            VALUES ($tenant, $conv, '$1', NULLIF('$2',''), NULLIF('$3',''), '$4'::jsonb, '$key') RETURNING id"
}
# outbox_field ID COLUMN
outbox_field() { it_sql "SELECT $2 FROM outbox WHERE id = $1"; }
# outbox_final ID : true when the row reached sent/dead/unknown.
outbox_final() { [[ "$(outbox_field "$1" status)" =~ ^(sent|dead|unknown)$ ]]; }
# wait_final DESC ID
wait_final() { it_wait_for "$1 (outbox $2) to finish" 20 outbox_final "$2"; }
# count_status STATUS : rows in that status.
count_status() { it_sql "SELECT count(*) FROM outbox WHERE status = '$1'"; }
