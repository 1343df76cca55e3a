# Helpers for the end-to-end tests (sourced after lib.sh): the whole stack on private ports — the fake LLM
# (OpenAI + Anthropic), the fake channel server (Twilio, TikTok, the callback receiver), lull-scheduler,
# lull-worker, lull-sender, lull-ingress and lull-admin — plus small request and ledger helpers.
# E2E_WORKER_PID is the worker's pid.
# Configure the tenants with it_sql BEFORE e2e_start: the scheduler caches tenants in memory.
E2E_SECRET="whsec_$(printf 'e2e-test-callback-secret-0123456789' | base64 -w0)"
E2E_SID=AC0123456789abcdef0123456789abcdef
E2E_TWILIO_TOKEN=e2e-twilio-token
E2E_TIKTOK_TOKEN=e2e-tiktok-token
E2E_TIKTOK_SECRET=e2e-tiktok-secret
E2E_ADMIN_TOKEN=e2e-admin-token-0123456789
E2E_META_SECRET=e2e-meta-app-secret
E2E_META_TOKEN=e2e-meta-access-token

# e2e_start [VAR=value …] : starts every tier and both fakes, waits until all are healthy. The extra
# variables go to every tier. Sets LLM, CH, GRAPH (the fake Graph API), ING, ADM (base URLs) and OPS_S/OPS_W/OPS_X/OPS_I/OPS_A (ops ports).
e2e_start() {
    local llm_port ch_port http_port admin_port z_in z_wk z_ctl z_out p
    llm_port=$(it_free_port); ch_port=$(it_free_port); http_port=$(it_free_port); admin_port=$(it_free_port)
    z_in=tcp://127.0.0.1:$(it_free_port); z_wk=tcp://127.0.0.1:$(it_free_port)
    z_ctl=tcp://127.0.0.1:$(it_free_port); z_out=tcp://127.0.0.1:$(it_free_port)
    LLM=http://127.0.0.1:$llm_port; CH=http://127.0.0.1:$ch_port; ING=http://127.0.0.1:$http_port
    ADM=http://127.0.0.1:$admin_port
    it_start llm "$LULL_FAKES/fake_llm" --port "$llm_port" --latency-ms "${E2E_LLM_LATENCY_MS:-50}"
    it_start channels "$LULL_FAKES/fake_channels" --port "$ch_port" --callback-secret "$E2E_SECRET" \
        --twilio-sid "$E2E_SID" --twilio-token "$E2E_TWILIO_TOKEN" --tiktok-token "$E2E_TIKTOK_TOKEN"
    it_wait_for "fake LLM" 10 it_http_ok "$LLM/_fake/stats" || return 1
    it_wait_for "fake channels" 10 it_http_ok "$CH/_fake/ledger?summary=1" || return 1
    p=$(it_free_port); GRAPH=http://127.0.0.1:$p
    it_start graph "$LULL_FAKES/fake_graph" --port "$p" --token "$E2E_META_TOKEN"
    it_wait_for "fake Graph API" 10 it_http_ok "$GRAPH/_fake/ledger" || return 1

    local common=(LULL_HEARTBEAT_MS=200 LULL_LOG_LEVEL=debug "$@")
    OPS_S=$(it_free_port); OPS_W=$(it_free_port); OPS_X=$(it_free_port); OPS_I=$(it_free_port); OPS_A=$(it_free_port)
    it_start scheduler env LULL_OPS_PORT="$OPS_S" LULL_LOG_FILE="$IT_TMP/scheduler.jsonl" \
        LULL_SCHED_INBOUND_BIND="$z_in" LULL_SCHED_WORKER_BIND="$z_wk" LULL_SCHED_CONTROL_BIND="$z_ctl" \
        "${common[@]}" "$LULL_BIN/lull-scheduler"
    it_start worker env LULL_OPS_PORT="$OPS_W" LULL_LOG_FILE="$IT_TMP/worker.jsonl" \
        LULL_WORKER_SCHEDULERS="$z_wk" LULL_SENDERS="$z_out" OPENAI_API_KEY=sk-test OPENAI_BASE_URL="$LLM/v1" \
        ANTHROPIC_API_KEY=ak-test ANTHROPIC_BASE_URL="$LLM" LULL_WORKER_RETRY_BASE_MS=20 \
        "${common[@]}" "$LULL_BIN/lull-worker"
    E2E_WORKER_PID=$IT_LAST_PID
    it_start sender env LULL_OPS_PORT="$OPS_X" LULL_LOG_FILE="$IT_TMP/sender.jsonl" \
        LULL_SENDER_BIND="$z_out" LULL_CALLBACK_URL="$CH/callback" LULL_CALLBACK_SECRET="$E2E_SECRET" LULL_SENDER_CALLBACK_ALLOW=127.0.0.0/8 \
        LULL_TWILIO_API_BASE="$CH" LULL_TWILIO_ACCOUNT_SID="$E2E_SID" LULL_TWILIO_AUTH_TOKEN="$E2E_TWILIO_TOKEN" \
        LULL_TIKTOK_API_BASE="$CH" LULL_TIKTOK_ACCESS_TOKEN="$E2E_TIKTOK_TOKEN" \
        LULL_META_API_BASE="$GRAPH" LULL_META_ACCESS_TOKEN="$E2E_META_TOKEN" \
        LULL_SENDER_POLL_MS=200 "${common[@]}" "$LULL_BIN/lull-sender"
    it_start ingress env LULL_OPS_PORT="$OPS_I" LULL_LOG_FILE="$IT_TMP/ingress.jsonl" \
        LULL_HTTP_PORT="$http_port" LULL_SCHEDULERS="$z_in" \
        LULL_TIKTOK_SECRET="$E2E_TIKTOK_SECRET" LULL_META_APP_SECRET="$E2E_META_SECRET" LULL_DEV_ALLOW_UNSIGNED=1 \
        "${common[@]}" "$LULL_BIN/lull-ingress"
    it_start admin env LULL_OPS_PORT="$OPS_A" LULL_LOG_FILE="$IT_TMP/admin.jsonl" \
        LULL_ADMIN_PORT="$admin_port" LULL_SCHEDULER_CONTROLS="$z_ctl" LULL_SENDERS="$z_out" \
        LULL_ADMIN_TOKEN="$E2E_ADMIN_TOKEN" "${common[@]}" "$LULL_BIN/lull-admin"
    for p in $OPS_S $OPS_W $OPS_X $OPS_I $OPS_A; do
        it_wait_for "tier on ops port $p healthy" 10 it_http_ok "http://127.0.0.1:$p/health" || return 1
    done
    # ingress and admin open their ops ports before their HTTP ports (60 ms apart under the sanitizer): wait for
    # the ones tests use
    it_wait_for "ingress HTTP port serving" 10 it_http_ok "$ING/health" || return 1
    it_wait_for "admin HTTP port serving" 10 it_http_ok "$ADM/health" || return 1
}

# e2e_post CONTACT TEXT : a generic webhook message; prints the HTTP status.
e2e_post() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' "$ING/webhook" \
        --data-binary "$(jq -cn --arg c "$1" --arg t "$2" '{contact_id:$c, message:{body:$t}}')"
}
# e2e_twilio FROM TO BODY SID : a Twilio (SMS or WhatsApp) webhook, unsigned (dev mode); prints the status.
e2e_twilio() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 --data-urlencode "MessageSid=$4" \
        --data-urlencode "From=$1" --data-urlencode "To=$2" --data-urlencode "Body=$3" "$ING/webhook/twilio"
}
# e2e_tiktok EVENT MSG_ID TEXT CLIENT_KEY CONV FROM TO : a signed TikTok Business event; prints the status.
e2e_tiktok() {
    local content body t sig
    content=$(jq -cn --arg m "$2" --arg x "$3" --arg cv "$5" --arg f "$6" --arg to "$7" \
        '{conversation_id:$cv, message_id:$m, timestamp:1700000000000, type:"text", text:{body:$x},
          from_user:{id:$f}, to_user:{id:$to}}')
    body=$(jq -cn --arg e "$1" --arg c "$content" --arg k "$4" \
        '{client_key:$k, event:$e, create_time:1700000000, user_openid:"biz", content:$c}')
    t=$(date +%s)
    sig=$(printf '%s.%s' "$t" "$body" | openssl dgst -sha256 -hmac "$E2E_TIKTOK_SECRET" | sed 's/^.*= //')
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
        -H "Tiktok-Signature: t=$t,s=$sig" --data-binary "$body" "$ING/webhook/tiktok"
}
# e2e_whatsapp PHONE_NUMBER_ID FROM ID:TEXT… : a signed WhatsApp Cloud API envelope with one text message per
# argument (wamid.<ID>); prints the HTTP status.
e2e_whatsapp() {
    local pid=$1 from=$2 body; shift 2
    body=$(printf '%s\n' "$@" | jq -Rnc --arg p "$pid" --arg f "$from" \
        '{object:"whatsapp_business_account", entry:[{id:"1", changes:[{field:"messages", value:{messaging_product:"whatsapp",
          metadata:{phone_number_id:$p}, contacts:[{profile:{name:"Wes"}, wa_id:$f}],
          messages:[inputs | select(length > 0) | (index(":")) as $i |
                    {from:$f, id:("wamid." + .[:$i]), timestamp:"1700000000", type:"text", text:{body:.[$i + 1:]}}]}}]}]}')
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
        -H "X-Hub-Signature-256: sha256=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$E2E_META_SECRET" | sed 's/^.*= //')" \
        --data-binary "$body" "$ING/webhook/whatsapp"
}
# e2e_admin METHOD PATH [BODY] : an authorised admin request; sets ADM_CODE and ADM_BODY.
e2e_admin() {
    local out="$IT_TMP/adm.$BASHPID"
    ADM_CODE=$(curl -s -o "$out" -w '%{http_code}' -X "$1" --max-time 10 -H "Authorization: Bearer $E2E_ADMIN_TOKEN" \
        -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$ADM$2")
    ADM_BODY=$(cat "$out" 2>/dev/null)
}
# e2e_fake URL JSON : POST a control request to a fake; true on 2xx.
e2e_fake() { curl -fsS -o /dev/null --max-time 5 -H 'Content-Type: application/json' --data-binary "$2" "$1"; }

# e2e_delivered : number of distinct keys the fake channels delivered.
e2e_delivered() { curl -s --max-time 5 "$CH/_fake/ledger?summary=1" | jq -r .delivered_keys; }
# e2e_delivered_ge N : true when at least N keys were delivered.
e2e_delivered_ge() { [ "$(e2e_delivered)" -ge "$1" ]; }
# e2e_llm_count JQ_CONDITION : number of fake LLM ledger entries matching (e.g. '.kind == "reply"').
e2e_llm_count() { curl -s --max-time 5 "$LLM/_fake/ledger" | jq "[.[] | select($1)] | length"; }
# e2e_llm_reply_has TEXT : number of LLM reply calls whose body contains TEXT.
e2e_llm_reply_has() { e2e_llm_count ".kind == \"reply\" and ((.body | tostring) | contains(\"$1\"))"; }
# e2e_ge N CMD… : true when CMD prints a number >= N.
e2e_ge() { local n=$1; shift; [ "$("$@")" -ge "$n" ]; }
# e2e_conv CONTACT_EXTERNAL_ID : the conversation id of that contact.
e2e_conv() { it_sql "SELECT v.id FROM conversations v JOIN contacts c ON c.id = v.contact_id WHERE c.external_id = '$1'"; }
# e2e_bot_msgs CONV : number of bot messages stored in the conversation.
e2e_bot_msgs() { it_sql "SELECT count(*) FROM messages WHERE conversation_id = $1 AND author = 'bot'"; }
# e2e_settle : lets a wrong extra delivery show up before "no more" assertions (they must be able to fail).
e2e_settle() { sleep "${1:-1}"; }
# e2e_answered CONV : true when the conversation's newest inbound message is answered.
e2e_answered() { [ "$(it_sql "SELECT answered_upto = last_inbound_id FROM conversations WHERE id = $1")" = t ]; }
# e2e_superseded : the worker's count of jobs finished `superseded` (metrics).
e2e_superseded() {
    curl -s --max-time 5 "http://127.0.0.1:$OPS_W/metrics" |
        awk '/^lull_worker_jobs_total\{.*outcome="superseded"/ { n += $NF } END { printf "%d\n", n }'
}
# e2e_outbox_idle : true when every outbox row is final (sent, dead or cancelled), so ledger counts are stable.
e2e_outbox_idle() { [ "$(it_sql "SELECT count(*) FROM outbox WHERE status NOT IN ('sent', 'dead', 'cancelled')")" = 0 ]; }
