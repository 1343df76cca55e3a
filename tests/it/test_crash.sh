#!/usr/bin/env bash
# Crash test (issue #7): about 1,000 conversations (some of them bursts of 2–3 messages) through the real
# stack — ingress, scheduler, two workers, sender, with the fake LLM, the fake channel server and the fake Graph
# API (every fifth conversation is a WhatsApp Cloud API contact) — while each
# tier (ingress, scheduler, worker-1, sender) is killed with SIGKILL once and restarted. Then a ledger:
# acknowledged inbound, answered conversations, deliveries per reply; and the assertions: nothing
# acknowledged is lost, nothing unexpected is delivered, every burst is answered once, and a reply is
# delivered twice only when the sender was killed with it in flight (the same idempotency key both times).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/crash_lib.sh"
CONVS=${CRASH_CONVS:-1000}
LANES=${CRASH_LANES:-8}
PAUSE=${CRASH_PAUSE:-0.08}
it_db_create || it_finish
: >"$IT_TMP/inflight"
it_sql "UPDATE tenants SET window_ms = 200, max_wait_ms = 2000 WHERE slug = 'default'" >/dev/null

SECRET="whsec_$(printf 'crash-test-secret-0123456789' | base64 -w0)"
LLM_PORT=$(it_free_port); CH_PORT=$(it_free_port); HTTP_PORT=$(it_free_port)
Z_IN=tcp://127.0.0.1:$(it_free_port); Z_WK=tcp://127.0.0.1:$(it_free_port)
Z_CTL=tcp://127.0.0.1:$(it_free_port); Z_OUT=tcp://127.0.0.1:$(it_free_port)
LLM=http://127.0.0.1:$LLM_PORT; CH=http://127.0.0.1:$CH_PORT; ING=http://127.0.0.1:$HTTP_PORT
for t in scheduler worker1 worker2 sender ingress; do TIER_OPS[$t]=$(it_free_port); done

it_start llm "$LULL_FAKES/fake_llm" --port "$LLM_PORT" --latency-ms 100
it_start channels "$LULL_FAKES/fake_channels" --port "$CH_PORT" --callback-secret "$SECRET" --latency-ms 150
it_wait_for "fake LLM" 10 it_http_ok "$LLM/_fake/stats" || it_finish
it_wait_for "fake channels" 10 it_http_ok "$CH/_fake/ledger?summary=1" || it_finish
GRAPH_PORT=$(it_free_port); GRAPH=http://127.0.0.1:$GRAPH_PORT
it_start graph "$LULL_FAKES/fake_graph" --port "$GRAPH_PORT" --token crash-meta-token --latency-ms 150
it_wait_for "fake Graph API" 10 it_http_ok "$GRAPH/_fake/ledger" || it_finish

common=(LULL_HEARTBEAT_MS=200 LULL_LOG_LEVEL=info)
start_scheduler() {
    it_start scheduler env "${common[@]}" LULL_OPS_PORT="${TIER_OPS[scheduler]}" LULL_SCHED_SWEEP_MS=500 \
        LULL_SCHED_INBOUND_BIND="$Z_IN" LULL_SCHED_WORKER_BIND="$Z_WK" LULL_SCHED_CONTROL_BIND="$Z_CTL" \
        LULL_SCHED_RETRY_BASE_MS=200 LULL_SCHED_RETRY_MAX_MS=1000 "$LULL_BIN/lull-scheduler"
}
s_start_worker() {
    it_start "$1" env "${common[@]}" LULL_OPS_PORT="${TIER_OPS[$1]}" LULL_WORKER_SCHEDULERS="$Z_WK" \
        LULL_SENDERS="$Z_OUT" OPENAI_API_KEY=sk-test OPENAI_BASE_URL="$LLM/v1" "$LULL_BIN/lull-worker"
}
start_worker1() { s_start_worker worker1; }
start_worker2() { s_start_worker worker2; }
start_sender() {
    it_start sender env "${common[@]}" LULL_OPS_PORT="${TIER_OPS[sender]}" LULL_SENDER_BIND="$Z_OUT" \
        LULL_CALLBACK_URL="$CH/callback" LULL_CALLBACK_SECRET="$SECRET" LULL_SENDER_CALLBACK_ALLOW=127.0.0.0/8 LULL_SENDER_POLL_MS=200 \
        LULL_SENDER_TIMEOUT_MS=2000 LULL_SENDER_LEASE_MS=3000 LULL_META_API_BASE="$GRAPH" \
        LULL_META_ACCESS_TOKEN=crash-meta-token "$LULL_BIN/lull-sender"
}
start_ingress() {
    it_start ingress env "${common[@]}" LULL_OPS_PORT="${TIER_OPS[ingress]}" LULL_HTTP_PORT="$HTTP_PORT" \
        LULL_SCHEDULERS="$Z_IN" LULL_DEV_ALLOW_UNSIGNED=1 LULL_WEBHOOK_UNSIGNED_RATE=0 "$LULL_BIN/lull-ingress"
}
for t in scheduler worker1 worker2 sender ingress; do crash_tier_start "$t" || it_finish; done

# --- traffic: LANES client lanes, each posting its share of the conversations
TOTAL=0
for ((n = 1; n <= CONVS; n++)); do TOTAL=$((TOTAL + $(crash_burst "$n"))); done
LANE_DEADLINE=$(( $(date +%s) + 300 ))  # a budget for a slow machine (sanitizer build under load), not a target
t0=$(date +%s%N)
lane_pids=()
for ((j = 1; j <= LANES; j++)); do crash_lane "$j" "$LANES" "$CONVS" "$PAUSE" & lane_pids+=($!); done

# --- the kills, placed by progress (share of the messages acknowledged), each tier down for a second
reached() { [ "$(crash_acked)" -ge "$1" ]; }
sending() { [ "$(it_sql "SELECT count(*) FROM outbox WHERE status = 'sending'")" -gt 0 ]; }
declare -A KILL_AT_ACKED
for step in "ingress 15" "scheduler 35" "worker1 55" "sender 75"; do
    set -- $step
    it_wait_for "$2% of the messages acknowledged before killing $1" 60 reached $((TOTAL * $2 / 100)) || break
    if [ "$1" = sender ]; then
        it_wait_for "a delivery in flight before killing the sender" 10 sending
    fi
    crash_kill "$1"
    KILL_AT_ACKED[$1]=$(crash_acked)
    if [ "$1" = sender ]; then
        # Rows the dead sender held (in flight, or delivered but not written yet): nobody touches them until
        # their lease (3 s) expires, so this is the set that may legitimately be delivered twice.
        it_sql "SELECT idempotency_key FROM outbox WHERE status = 'sending'" >"$IT_TMP/inflight"
    fi
    echo "killed $1 (exit $IT_RC) at $(( (TIER_KILL_MS[$1] - t0 / 1000000) ))ms, ${KILL_AT_ACKED[$1]}/$TOTAL acknowledged"
    sleep 1
    crash_tier_start "$1" || it_finish
    TIER_DOWN_MS[$1]=$(( $(date +%s%N) / 1000000 - TIER_KILL_MS[$1] ))
done
for p in "${lane_pids[@]}"; do wait "$p"; done
t_traffic=$(( ($(date +%s%N) - t0) / 1000000 ))

# --- wait until every acknowledged conversation is answered and every reply delivered
done_all() {
    [ "$(it_sql "SELECT (SELECT count(*) FROM conversations WHERE answered_upto < last_inbound_id)
                      + (SELECT count(*) FROM outbox WHERE status <> 'sent')")" -eq 0 ] &&
    [ $(( $(curl -fsS "$CH/_fake/ledger?summary=1" | jq .delivered_keys) + $(curl -fsS "$GRAPH/_fake/ledger" |
          jq '[.by_key[] | select(.deliveries > 0)] | length') )) -ge "$(it_sql "SELECT count(*) FROM outbox")" ]
}
it_wait_for "every conversation answered and delivered" 60 done_all
t_total=$(( ($(date +%s%N) - t0) / 1000000 ))

# --- the ledger
ledger=$(curl -fsS "$CH/_fake/ledger")
jq -r '.by_key | to_entries[] | [.key, .value.deliveries, .value.requests, (.value.log[0].t_ms // 0)] | @tsv' \
    <<<"$ledger" >"$IT_TMP/delivered.tsv"
# the Graph API's keys are meta:<wa_id>|<text>: mapped to the outbox row (idempotency key) they deliver below
curl -fsS "$GRAPH/_fake/ledger" | jq -r '.by_key | to_entries[] | [.key, .value.deliveries, .value.requests, .value.first_t_ms] | @tsv' \
    >"$IT_TMP/delivered_meta.tsv"
cat "$IT_TMP"/ack.* >"$IT_TMP/ack.all"
psql "$LULL_DATABASE_URL" -X -q -v ON_ERROR_STOP=1 >>"$IT_TMP/check.log" 2>&1 <<EOF
CREATE TABLE crash_ack (contact text, mid text, message_id bigint, dup boolean);
CREATE TABLE crash_delivered (key text PRIMARY KEY, deliveries int, requests int, first_t_ms bigint);
CREATE TABLE crash_inflight (key text PRIMARY KEY);
\copy crash_ack FROM '$IT_TMP/ack.all' WITH (FORMAT text, DELIMITER ' ')
\copy crash_delivered FROM '$IT_TMP/delivered.tsv'
\copy crash_inflight FROM '$IT_TMP/inflight'
CREATE TABLE crash_delivered_meta (key text PRIMARY KEY, deliveries int, requests int, first_t_ms bigint);
\copy crash_delivered_meta FROM '$IT_TMP/delivered_meta.tsv'
INSERT INTO crash_delivered SELECT coalesce(o.idempotency_key, m.key), m.deliveries, m.requests, m.first_t_ms
  FROM crash_delivered_meta m LEFT JOIN outbox o ON o.channel = 'whatsapp'
   AND 'meta:' || substr(o.recipient, 11) || '|' || (o.payload ->> 'body') = m.key
  ON CONFLICT (key) DO NOTHING;
EOF
[ $? -eq 0 ] || it_fail "ledger tables loaded"
q() { it_sql "$1"; }
retries=$(cat "$IT_TMP"/retry.* | wc -l)
gave_up=$(cat "$IT_TMP"/retry.* | grep -c ' gave-up$')
acked=$(q "SELECT count(*) FROM crash_ack")
echo "---- crash ledger (traffic ${t_traffic} ms, all delivered after ${t_total} ms; loaded machine: figures are noisy)"
for t in ingress scheduler worker1 sender; do
    echo "  $t: killed at $((TIER_KILL_MS[$t] - t0 / 1000000)) ms after ${KILL_AT_ACKED[$t]} acks, back after ${TIER_DOWN_MS[$t]} ms"
done
echo "  client POSTs retried: $retries ($(cut -d' ' -f3 "$IT_TMP"/retry.* | sort | uniq -c | tr -s ' \n' ' ')), given up: $gave_up"
echo "  acknowledged inbound messages: $acked of $TOTAL posted ($(q "SELECT count(*) FROM crash_ack WHERE dup") acknowledged as duplicates of a stored one)"
echo "  conversations: $(q "SELECT count(*) FROM conversations"), acknowledged contacts: $(q "SELECT count(DISTINCT contact) FROM crash_ack")"
echo "  conversations answered (answered_upto = last_inbound_id): $(q "SELECT count(*) FROM conversations WHERE answered_upto = last_inbound_id")"
echo "  inbound messages stored: $(q "SELECT count(*) FROM messages WHERE direction = 'in'"), bot messages: $(q "SELECT count(*) FROM messages WHERE author = 'bot'"), analyses: $(q "SELECT count(*) FROM analyses")"
echo "  outbox by status: $(q "SELECT string_agg(status || '=' || n, ' ') FROM (SELECT status, count(*) n FROM outbox GROUP BY 1 ORDER BY 1) s")"
echo "  delivered keys: $(jq .delivered_keys <<<"$ledger"), deliveries: $(jq .deliveries <<<"$ledger"), requests: $(jq .requests <<<"$ledger")"
echo "  jobs the killed worker held, dispatched again (scheduler job.lost): $(grep -c '"ev":"job.lost"' "$IT_TMP/scheduler.log")"
echo "  in flight at the sender's kill: $(wc -l <"$IT_TMP/inflight") ($(tr '\n' ' ' <"$IT_TMP/inflight"))"
echo "  duplicated keys: $(jq .duplicated_keys <<<"$ledger") ($(q "SELECT coalesce(string_agg(key || 'x' || deliveries, ' '), '') FROM crash_delivered WHERE deliveries > 1"))"
echo "----"

it_check_eq "every message posted was acknowledged (the client retried through the ingress kill)" "$TOTAL" \
    "$(q "SELECT count(DISTINCT mid) FROM crash_ack")"
it_check_eq "no POST given up" 0 "$gave_up"
it_check "the ingress kill made the client retry ($retries)" test "$retries" -gt 0
it_check_eq "each acknowledged message id is the stored message with that dedupe id" 0 \
    "$(q "SELECT count(*) FROM crash_ack a LEFT JOIN messages m ON m.id = a.message_id
          WHERE m.id IS NULL OR m.provider_message_id IS DISTINCT FROM a.mid OR m.direction <> 'in'")"
it_check_eq "each message stored once" "$TOTAL" "$(q "SELECT count(*) FROM messages WHERE direction = 'in'")"
it_check_eq "one conversation per acknowledged contact" "$CONVS" "$(q "SELECT count(*) FROM conversations")"
lost=$(q "SELECT count(*) FROM crash_ack a JOIN messages m ON m.id = a.message_id
          JOIN conversations v ON v.id = m.conversation_id
          WHERE v.answered_upto < a.message_id OR NOT EXISTS (
            SELECT 1 FROM analyses r JOIN messages b ON b.id = r.message_id AND b.author = 'bot'
            JOIN outbox o ON o.message_id = b.id JOIN crash_delivered d ON d.key = o.idempotency_key AND d.deliveries > 0
            WHERE r.conversation_id = v.id AND r.upto_message_id >= a.message_id)")
it_check_eq "lost = 0: every acknowledged message is answered (answered_upto >= it) by a delivered reply whose range covers it" 0 "$lost"
it_check_eq "every conversation answered up to its newest message" 0 \
    "$(q "SELECT count(*) FROM conversations WHERE answered_upto <> last_inbound_id")"
unexpected=$(q "SELECT count(*) FROM crash_delivered d WHERE NOT EXISTS (SELECT 1 FROM outbox o
                JOIN messages b ON b.id = o.message_id AND b.author = 'bot' WHERE o.idempotency_key = d.key)")
it_check_eq "unexpected = 0: every delivered key is the idempotency key of a bot reply's outbox row" 0 "$unexpected"
it_check_eq "no delivery for a conversation that was never acknowledged" 0 \
    "$(q "SELECT count(*) FROM crash_delivered d JOIN outbox o ON o.idempotency_key = d.key
          JOIN conversations v ON v.id = o.conversation_id JOIN contacts c ON c.id = v.contact_id
          WHERE c.external_id NOT IN (SELECT contact FROM crash_ack)")"
it_check_eq "every outbox row delivered" 0 \
    "$(q "SELECT count(*) FROM outbox o LEFT JOIN crash_delivered d ON d.key = o.idempotency_key
          WHERE o.status <> 'sent' OR coalesce(d.deliveries, 0) = 0")"
it_check_eq "no message has two outbox rows" 0 \
    "$(q "SELECT count(*) FROM (SELECT message_id FROM outbox GROUP BY 1 HAVING count(*) > 1) s")"
it_check_eq "no two replies cover the same burst (conversation, answered range)" 0 \
    "$(q "SELECT count(*) FROM (SELECT conversation_id, upto_message_id FROM analyses GROUP BY 1, 2 HAVING count(*) > 1) s")"
it_check_eq "bot messages per conversation = answered bursts (each reply has its analysis)" 0 \
    "$(q "SELECT count(*) FROM conversations v WHERE
            (SELECT count(*) FROM messages b WHERE b.conversation_id = v.id AND b.author = 'bot') <>
            (SELECT count(DISTINCT a.upto_message_id) FROM analyses a JOIN messages b ON b.id = a.message_id
              AND b.author = 'bot' WHERE a.conversation_id = v.id)")"
it_check_eq "answered ranges of a conversation's replies are increasing (no reply answers an older range)" 0 \
    "$(q "SELECT count(*) FROM (SELECT upto_message_id, lag(upto_message_id) OVER (PARTITION BY conversation_id
          ORDER BY message_id) AS prev FROM analyses) s WHERE upto_message_id <= prev")"
it_check "the scheduler noticed the killed worker (worker.lost)" grep -q '"ev":"worker.lost"' "$IT_TMP/scheduler.log"
it_check "WhatsApp Cloud API replies delivered through the Graph API ($(q "SELECT count(*) FROM crash_delivered_meta WHERE deliveries > 0"))" \
    test "$(q "SELECT count(*) FROM crash_delivered_meta WHERE deliveries > 0")" -ge "$(( CONVS / 5 ))"
it_check "requests were in flight when the sender was killed ($(wc -l <"$IT_TMP/inflight"))" test -s "$IT_TMP/inflight"
it_check_eq "duplicated keys are a subset of those in flight at the sender's kill" 0 \
    "$(q "SELECT count(*) FROM crash_delivered WHERE deliveries > 1 AND key NOT IN (SELECT key FROM crash_inflight)")"
# (the fake stamps a request when it reads it: one the sender wrote just before its SIGKILL can be read a little
# after the kill on a busy machine; a request of the restarted sender comes well over a second later)
it_check_eq "every duplicated key was first requested before the sender's kill (within 500 ms of it)" 0 \
    "$(q "SELECT count(*) FROM crash_delivered WHERE deliveries > 1 AND first_t_ms > ${TIER_KILL_MS[sender]} + 500")"
it_check_eq "no reply delivered more than twice" 0 "$(q "SELECT count(*) FROM crash_delivered WHERE deliveries > 2")"
# Every tier, restarted or not, is still up and shuts down cleanly (under ASan: without a leak).
for t in ingress scheduler worker1 worker2 sender; do
    it_check "$t alive at the end" kill -0 "${TIER_PID[$t]}"
    it_stop "${TIER_PID[$t]}" TERM
    it_check_eq "$t exits 0 on SIGTERM" 0 "$IT_RC"
done
it_finish
