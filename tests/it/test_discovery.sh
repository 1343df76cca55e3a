#!/usr/bin/env bash
# Every tier finds the scheduler that owns a conversation from the database (sched_nodes, sched_partitions) when
# its endpoint list is left empty. Two fake "schedulers" a and b (rows written by the test; 2 partitions: even
# conversations in partition 0, odd in 1):
# 1. ingress pushes each conversation's INBOUND to its partition owner's inbound endpoint; follows an ownership
#    change at once on NOTIFY lull_sched (with a refresh an hour away) and, without NOTIFY (a lease that runs
#    out), within the refresh; a partition with no owner: the INBOUND is dropped and counted, the message stored
#    and acknowledged.
# 2. a worker connects to both schedulers' worker endpoints with the credit split in two, drops b when its node
#    row goes stale (a gets the whole credit) and takes it back when b is live again.
# 3. lull-admin's windows list merges both schedulers' windows; cancel goes to the owner of the conversation's
#    partition; a partition with no owner answers 503 no_owner.
source "$(dirname "$0")/lib.sh"
it_db_create || it_finish

P() { echo "tcp://127.0.0.1:$(it_free_port)"; }
A_IN=$(P); A_WK=$(P); A_CT=$(P); B_IN=$(P); B_WK=$(P); B_CT=$(P)
it_sql "INSERT INTO sched_cluster (partitions) VALUES (2);
        INSERT INTO sched_nodes (name, inbound_endpoint, worker_endpoint, control_endpoint, lease_ms) VALUES
          ('a', '$A_IN', '$A_WK', '$A_CT', 600000), ('b', '$B_IN', '$B_WK', '$B_CT', 600000),
          ('bad', 'tcp://127.0.0.1:0', 'nope', 'tcp://127.0.0.1:1', 600000);
        INSERT INTO sched_partitions (partition, owner, lease_until) VALUES
          (0, 'a', now() + interval '1 hour'), (1, 'b', now() + interval '1 hour')" >/dev/null ||
    it_fail "map rows"
own() {  # own PARTITION OWNER|none [notify]
    local set="owner = '$2', lease_until = now() + interval '1 hour'"
    [ "$2" = none ] && set="lease_until = now() - interval '1 second'"
    it_sql "UPDATE sched_partitions SET $set, epoch = epoch + 1 WHERE partition = $1" >/dev/null
    [ "${3:-}" = notify ] && it_sql "NOTIFY lull_sched" >/dev/null
}
count() { grep -c "$2" "$1" 2>/dev/null || true; }  # count FILE REGEX
metric() { curl -s --max-time 2 "$1/metrics" | awk -v m="$2" '$1 == m {print $2}'; }

# --- 1. ingress -----------------------------------------------------------------------------------------------
it_start sink_a sh -c "exec '$LULL_FAKES/zmq_sink' '$A_IN' --bind >'$IT_TMP/a.in'"
it_start sink_b sh -c "exec '$LULL_FAKES/zmq_sink' '$B_IN' --bind >'$IT_TMP/b.in'"
ING=() ING_OPS=() ING_PID=()
for i in 1 2; do  # 1: refresh far away (only NOTIFY moves it); 2: a short refresh
    port=$(it_free_port) ops=$(it_free_port)
    it_start "ingress$i" env LULL_HTTP_PORT="$port" LULL_OPS_PORT="$ops" LULL_SCHEDULERS= LULL_DEV_ALLOW_UNSIGNED=1 \
        LULL_WEBHOOK_UNSIGNED_RATE=0 LULL_SCHED_MAP_REFRESH_MS=$([ $i = 1 ] && echo 3600000 || echo 100) \
        LULL_LOG_FILE="$IT_TMP/ingress$i.jsonl" "$LULL_BIN/lull-ingress"
    ING_PID[$i]=$IT_LAST_PID
    it_wait_up "ingress$i" "$IT_LAST_PID" 10 it_http_ok "http://127.0.0.1:$port/health"
    ING[$i]="http://127.0.0.1:$port" ING_OPS[$i]="http://127.0.0.1:$ops"
done
it_wait_for "both ingress read the map" 10 sh -c "grep -q schedmap.changed '$IT_TMP/ingress1.jsonl' && grep -q schedmap.changed '$IT_TMP/ingress2.jsonl'"
it_check_match "the bad node row is skipped and logged" 'schedmap.bad_node.*"node":"bad"' "$(cat "$IT_TMP/ingress1.jsonl")"
post() {  # post INGRESS_INDEX CONTACT
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Content-Type: application/json' \
        --data "{\"contact_id\":\"$2\",\"message\":{\"body\":\"hello\"}}" "${ING[$1]}/webhook"
}
for c in c1 c2 c3 c4; do it_check_eq "webhook $c accepted" 200 "$(post 1 $c)"; done
conv() { it_sql "SELECT v.id FROM conversations v JOIN contacts k ON k.id = v.contact_id WHERE k.external_id = '$1'"; }
even=() odd=()
for c in c1 c2 c3 c4; do id=$(conv $c); if [ $((id % 2)) = 0 ]; then even+=("$c"); else odd+=("$c"); fi; done
it_wait_for "4 INBOUND delivered" 10 sh -c "[ \$(cat '$IT_TMP/a.in' '$IT_TMP/b.in' | grep -c inbound) -ge 4 ]"
a_ids=$(jq -r 'select(.type=="inbound") | .conversation_id % 2' "$IT_TMP/a.in" | sort -u | tr '\n' ' ')
b_ids=$(jq -r 'select(.type=="inbound") | .conversation_id % 2' "$IT_TMP/b.in" | sort -u | tr '\n' ' ')
it_check_eq "a (owner of partition 0) got the even conversations, ${#even[@]} of them" "0 :${#even[@]}" \
    "$a_ids:$(count "$IT_TMP/a.in" inbound)"
it_check_eq "b (owner of partition 1) got the odd conversations, ${#odd[@]} of them" "1 :${#odd[@]}" \
    "$b_ids:$(count "$IT_TMP/b.in" inbound)"

# partition 0 moves to b, with NOTIFY: ingress1 (refresh in an hour) follows at once
own 0 b notify
it_wait_for "ingress1 saw the change (NOTIFY)" 10 sh -c "[ \$(grep -c schedmap.changed '$IT_TMP/ingress1.jsonl') -ge 2 ]"
nb=$(count "$IT_TMP/b.in" inbound)
it_check_eq "an even conversation's next message accepted" 200 "$(post 1 "${even[0]}")"
it_wait_for "the even conversation's INBOUND now goes to b" 10 sh -c "[ \$(grep -c inbound '$IT_TMP/b.in') -gt $nb ]"
it_check_eq "a got nothing more" "${#even[@]}" "$(count "$IT_TMP/a.in" inbound)"

# partition 0's lease runs out in 1.5 s and nobody renews it: no NOTIFY marks that moment. ingress2 sees it within
# its refresh (unowned: dropped and counted); ingress1 (no refresh for an hour) keeps its map, and its stale owner
# still gets the wake-up (harmless: the owner's recovery and the worker's compare-and-swap decide)
c2=$(grep -c schedmap.changed "$IT_TMP/ingress2.jsonl")
it_sql "UPDATE sched_partitions SET lease_until = now() + interval '1500 milliseconds' WHERE partition = 0; NOTIFY lull_sched" >/dev/null
it_wait_for "ingress2 saw the lease run out (refresh)" 10 sh -c "[ \$(grep -c schedmap.changed '$IT_TMP/ingress2.jsonl') -gt $c2 ]"
it_check_eq "via ingress2: accepted" 200 "$(post 2 "${even[0]}")"
it_wait_for "via ingress2: counted as unowned" 5 sh -c \
    "curl -s '${ING_OPS[2]}/metrics' | grep -q '^lull_ingress_inbound_unowned_total 1\$'"
nb=$(count "$IT_TMP/b.in" inbound)
it_check_eq "via ingress1: accepted" 200 "$(post 1 "${even[0]}")"
it_wait_for "via ingress1: the stale owner b still gets it" 10 sh -c "[ \$(grep -c inbound '$IT_TMP/b.in') -gt $nb ]"
it_check_eq "ingress1 read nothing new (it follows NOTIFY or its hourly refresh)" 2 \
    "$(grep -c schedmap.changed "$IT_TMP/ingress1.jsonl")"

# partition 1 without an owner too, with NOTIFY: ingress1 drops and counts, the message is still stored
own 1 none notify
it_wait_for "ingress1 saw partition 1 unowned" 10 sh -c "[ \$(grep -c schedmap.changed '$IT_TMP/ingress1.jsonl') -ge 3 ]"
before=$(it_sql "SELECT count(*) FROM messages")
it_check_eq "an odd conversation's message accepted while nobody owns it" 200 "$(post 1 "${odd[0]}")"
it_check_eq "the message is stored" $((before + 1)) "$(it_sql "SELECT count(*) FROM messages")"
it_wait_for "the INBOUND is counted as unowned" 5 sh -c \
    "curl -s '${ING_OPS[1]}/metrics' | grep -q '^lull_ingress_inbound_unowned_total 1\$'"
it_check_eq "refreshes are counted" 1 "$([ "$(metric "${ING_OPS[1]}" lull_schedmap_refreshes_total)" -ge 3 ] && echo 1)"
it_check_eq "nodes seen: a and b" 2 "$(metric "${ING_OPS[1]}" lull_schedmap_nodes)"
own 0 a notify
own 1 b notify

# --- 2. worker ------------------------------------------------------------------------------------------------
for n in a b; do
    mkfifo "$IT_TMP/jobs.$n"
    exec {fd}<>"$IT_TMP/jobs.$n"
    wk=$([ $n = a ] && echo "$A_WK" || echo "$B_WK")
    setsid "$LULL_FAKES/fake_scheduler" --bind "$wk" --pull "tcp://127.0.0.1:$(it_free_port)" --heartbeat-ms 100 \
        <"$IT_TMP/jobs.$n" >"$IT_TMP/sched.$n" 2>"$IT_TMP/sched.$n.err" &
    IT_PIDS+=("$!")
done
it_start worker env LULL_WORKER_SCHEDULERS= LULL_SENDERS= LULL_OPS_PORT="$(it_free_port)" LULL_HEARTBEAT_MS=100 \
    LULL_SCHED_MAP_REFRESH_MS=100 LULL_WORKER_CONCURRENCY=8 LULL_LOG_FILE="$IT_TMP/worker.jsonl" \
    OPENAI_API_KEY=sk-test OPENAI_BASE_URL=http://127.0.0.1:9/v1 "$LULL_BIN/lull-worker"
WORKER_PID=$IT_LAST_PID
it_wait_for "the worker connects to a with half the credit" 10 sh -c "grep -q '\"type\":\"ready\",\"credit\":4,' '$IT_TMP/sched.a'"
it_wait_for "the worker connects to b with half the credit" 10 sh -c "grep -q '\"type\":\"ready\",\"credit\":4,' '$IT_TMP/sched.b'"
it_check_eq "the bad node is not connected to" 0 "$(grep -c '"endpoint":"nope"' "$IT_TMP/worker.jsonl")"
# b stops heartbeating: its row goes stale a second later, a moment no NOTIFY marks (the refresh finds it)
it_sql "UPDATE sched_nodes SET lease_ms = 1000, heartbeat_at = now() WHERE name = 'b'" >/dev/null
it_wait_for "b is stale: a gets the whole credit" 10 sh -c "grep -q '\"type\":\"ready\",\"credit\":8,' '$IT_TMP/sched.a'"
it_check_match "the worker dropped b" "sched.left.*\"endpoint\":\"$B_WK\"" "$(cat "$IT_TMP/worker.jsonl")"
b_readies=$(grep -c '"type":"ready"' "$IT_TMP/sched.b")
it_sql "UPDATE sched_nodes SET lease_ms = 600000, heartbeat_at = now() WHERE name = 'b'; NOTIFY lull_sched" >/dev/null
it_wait_for "b is back: a new connection to b with half the credit" 10 sh -c \
    "[ \$(grep -c '\"type\":\"ready\"' '$IT_TMP/sched.b') -gt $b_readies ] && grep '\"type\":\"ready\"' '$IT_TMP/sched.b' | tail -1 | grep -q '\"credit\":4,'"
it_wait_for "and a is back to half" 10 sh -c "grep '\"type\":\"ready\"' '$IT_TMP/sched.a' | tail -1 | grep -q '\"credit\":4,'"

# --- 3. lull-admin --------------------------------------------------------------------------------------------
it_start ctl_a "$LULL_FAKES/fake_sched_ctl" --bind "$A_CT" --name a --windows 2,4,6
it_start ctl_b "$LULL_FAKES/fake_sched_ctl" --bind "$B_CT" --name b --windows 3,5,7
aport=$(it_free_port)
TOKEN=discovery-admin-token
it_start admin env LULL_ADMIN_PORT="$aport" LULL_OPS_PORT="$(it_free_port)" LULL_SCHEDULER_CONTROLS= LULL_SENDERS= \
    LULL_ADMIN_TOKEN="$TOKEN" LULL_SCHED_MAP_REFRESH_MS=100 LULL_ADMIN_CTL_TIMEOUT_MS=2000 \
    LULL_LOG_FILE="$IT_TMP/admin.jsonl" "$LULL_BIN/lull-admin"
ADMIN_PID=$IT_LAST_PID
it_wait_up admin "$IT_LAST_PID" 10 it_http_ok "http://127.0.0.1:$aport/health"
it_wait_for "the fakes listen" 5 sh -c "grep -q listening '$IT_TMP/ctl_a.log' && grep -q listening '$IT_TMP/ctl_b.log'"
it_wait_for "lull-admin read the map" 10 grep -q schedmap.changed "$IT_TMP/admin.jsonl"
adm() {  # adm METHOD PATH: sets CODE and BODY
    BODY=$(curl -s -w '\n%{http_code}' --max-time 10 -X "$1" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$aport$2")
    CODE=${BODY##*$'\n'} BODY=${BODY%$'\n'*}
}
adm GET "/api/v1/windows?limit=100"
it_check_eq "windows list: 200" 200 "$CODE"
it_check_eq "windows list merges both schedulers in order" "2 3 4 5 6 7|6|a b a b a b" \
    "$(jq -r '[.windows[].conversation_id] | map(tostring) | join(" ")' <<<"$BODY")|$(jq -r .total <<<"$BODY")|$(jq -r '[.windows[].node] | join(" ")' <<<"$BODY")"
adm GET "/api/v1/windows?limit=4"
it_check_eq "a page of 4 ends at 5, next_after 5" "2 3 4 5|5" "$(jq -r '[.windows[].conversation_id] | map(tostring) | join(" ")' <<<"$BODY")|$(jq -r .next_after <<<"$BODY")"
adm POST /api/v1/windows/4/cancel
it_check_eq "cancel 4 goes to a (owner of partition 0)" "200 a" "$CODE $(jq -r .node <<<"$BODY")"
adm POST /api/v1/windows/5/cancel
it_check_eq "cancel 5 goes to b (owner of partition 1)" "200 b" "$CODE $(jq -r .node <<<"$BODY")"
it_check_eq "a was asked to cancel only 4, b only 5" "4|5" \
    "$(jq -r 'select(.op=="cancel") | .conversation_id' "$IT_TMP/ctl_a.log" | tr '\n' ' ' | xargs)|$(jq -r 'select(.op=="cancel") | .conversation_id' "$IT_TMP/ctl_b.log" | tr '\n' ' ' | xargs)"
own 0 b notify
it_wait_for "lull-admin follows partition 0 to b" 10 sh -c \
    "curl -s --max-time 5 -X POST -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$aport/api/v1/windows/6/flush | grep -q '\"node\":\"b\"'"
own 1 none notify
it_wait_for "partition 1 unowned: cancel answers 503" 10 sh -c \
    "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$aport/api/v1/windows/7/cancel)\" = 503 ]"
adm POST /api/v1/windows/7/cancel
it_check_eq "503 no_owner with the reason" "503|no_owner|no scheduler owns this conversation right now, retry" \
    "$CODE|$(jq -r .error.code <<<"$BODY")|$(jq -r .error.message <<<"$BODY")"
it_check_eq "b was never asked about 7" 0 "$(jq -r 'select(.conversation_id==7 and .op=="cancel")' "$IT_TMP/ctl_b.log" | grep -c . || true)"

# every process that read the map stops cleanly (its map thread and sockets closed; sanitizer builds: no leak)
for name in ingress1:${ING_PID[1]} ingress2:${ING_PID[2]} worker:$WORKER_PID admin:$ADMIN_PID; do
    it_stop "${name#*:}" TERM
    it_check_eq "${name%%:*} exits 0 on SIGTERM" 0 "$IT_RC"
done
it_finish
