#!/usr/bin/env bash
# Crash safety of lull-sender: kill -9 mid-run with requests in flight and restart → every row is
# delivered, duplicates only for requests that were in flight at the kill, each with the same
# idempotency key; two senders at once never deliver a row twice; SIGTERM lets requests in flight finish for
# LULL_SENDER_DRAIN_MS, then hands the rest back.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sender_lib.sh"
it_db_create || it_finish
fake_start --latency-ms 200
N=400
it_sql "INSERT INTO outbox (tenant_id, channel, recipient, payload, idempotency_key)
        SELECT 1, 'generic', 'c' || g, json_build_object('body', 'crash ' || g)::jsonb, 'out_crash_' || g
        FROM generate_series(1, $N) g" >/dev/null
# --- kill -9 while up to 64 requests are in flight (each takes 200 ms at the fake)
sender_start a LULL_SENDER_MAX_IN_FLIGHT=64 LULL_SENDER_BATCH=32 LULL_SENDER_LEASE_MS=2500
some_sent() { [ "$(count_status sent)" -ge 60 ]; }
it_wait_for "some rows sent" 20 some_sent
kill -KILL "$SENDER_PID"
wait "$SENDER_PID" 2>/dev/null
kill_ms=$(( $(date +%s%N) / 1000000 ))
inflight=$(count_status sending)
it_check "rows were in flight at the kill ($inflight)" test "$inflight" -gt 0
sender_start b LULL_SENDER_MAX_IN_FLIGHT=64 LULL_SENDER_BATCH=32 LULL_SENDER_LEASE_MS=2500
all_sent() { [ "$(count_status sent)" -eq "$N" ]; }
it_wait_for "every row sent after the restart" 30 all_sent
it_check_eq "every row sent" "$N" "$(count_status sent)"
ledger=$(curl -fsS "$FAKE/_fake/ledger")
it_check_eq "every row delivered" "$N" "$(jq .delivered_keys <<<"$ledger")"
it_check_eq "ledger keys are exactly the rows' idempotency keys" "$N" \
    "$(jq -r '.by_key|keys[]' <<<"$ledger" | grep -c '^out_crash_[0-9]*$')"
dups=$(jq .duplicated_keys <<<"$ledger")
it_check "duplicates ($dups) <= rows in flight at the kill ($inflight)" test "$dups" -le "$inflight"
# A duplicated key was first requested before the kill (it was in flight then) and delivered twice.
late=$(jq --argjson k "$kill_ms" '[.by_key[]|select(.deliveries > 1)|select(.log[0].t_ms > $k)]|length' <<<"$ledger")
it_check_eq "no duplicate started after the kill" 0 "$late"
twice=$(jq '[.by_key[]|select(.deliveries > 2)]|length' <<<"$ledger")
it_check_eq "no row delivered more than twice" 0 "$twice"
it_stop "$SENDER_PID" TERM
it_check_eq "sender exits 0" 0 "$IT_RC"

# --- two senders at once: no row delivered twice
curl -fsS -X POST "$FAKE/_fake/reset" >/dev/null
fake_post /_fake/config '{"latency_ms":5}'
M=600
it_sql "INSERT INTO outbox (tenant_id, channel, recipient, payload, idempotency_key)
        SELECT 1, 'generic', 'd' || g, json_build_object('body', 'pair ' || g)::jsonb, 'out_pair_' || g
        FROM generate_series(1, $M) g" >/dev/null
sender_start p1 LULL_SENDER_BATCH=20
p1=$SENDER_PID; ops1=$SENDER_OPS
sender_start p2 LULL_SENDER_BATCH=20
p2=$SENDER_PID; ops2=$SENDER_OPS
all_pairs() { [ "$(it_sql "SELECT count(*) FROM outbox WHERE idempotency_key LIKE 'out_pair_%' AND status = 'sent'")" -eq "$M" ]; }
it_wait_for "both senders deliver everything" 30 all_pairs
ledger=$(curl -fsS "$FAKE/_fake/ledger?summary=1")
it_check_eq "two senders: every row delivered" "$M" "$(jq .delivered_keys <<<"$ledger")"
it_check_eq "two senders: no row delivered twice" 0 "$(jq .duplicated_keys <<<"$ledger")"
it_check_eq "two senders: deliveries = rows" "$M" "$(jq .deliveries <<<"$ledger")"
s1=$(sender_sent_count "$ops1"); s2=$(sender_sent_count "$ops2")
it_check_eq "the senders' sent counts add up to the rows ($s1 + $s2)" "$M" "$((s1 + s2))"
it_stop "$p1" TERM; it_check_eq "p1 exits 0" 0 "$IT_RC"

# --- SIGTERM with a request in flight: the sender lets it finish (LULL_SENDER_DRAIN_MS, default 5 s) and records
# it, so no other sender repeats it
fake_post /_fake/config '{"latency_ms":1500}'
r=$(outbox_add generic e1 '' '{"body":"drained"}' out_drained)
busy() { [ "$(outbox_field "$r" status)" = sending ]; }
it_wait_for "row in flight" 10 busy
it_stop "$p2" TERM
it_check_eq "p2 exits 0 after letting its request finish" 0 "$IT_RC"
it_check_eq "the request in flight finished and was recorded sent" sent "$(outbox_field "$r" status)"
it_check_eq "… delivered once" 1 "$(curl -fsS "$FAKE/_fake/ledger" | jq '.by_key.out_drained.deliveries')"
it_check_match "the drain is logged" '"ev":"sender.drained".*"finished":1,"left":0' "$(cat "$IT_TMP/p2.jsonl")"

# --- a request slower than the drain: handed back for a retry now, the lease released
sender_start p3 LULL_SENDER_BATCH=20 LULL_SENDER_DRAIN_MS=200
r=$(outbox_add generic e1 '' '{"body":"handed back"}' out_handback)
it_wait_for "row in flight" 10 busy
it_stop "$SENDER_PID" TERM
it_check_eq "p3 exits 0 with a request in flight" 0 "$IT_RC"
it_check_match "handed back for a retry now" 'retry|.*sender stopped' "$(outbox_field "$r" "status || '|' || coalesce(last_error,'')")"
it_check_eq "lease released" '' "$(outbox_field "$r" "coalesce(lease_owner,'')")"
it_check_match "the drain says what was left" '"ev":"sender.drained".*"finished":0,"left":1' "$(cat "$IT_TMP/p3.jsonl")"
it_finish
