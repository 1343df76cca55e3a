#!/usr/bin/env bash
# lull-scheduler in lease mode, several schedulers on one database with 600 ms leases: two and three split
# the 256 partitions fairly; a third joining takes its share from the others with no partition owned by two
# at any sampled moment; a claim recovers only its partitions' windows; SIGTERM releases at once; SIGKILL →
# claimed once the lease has expired; SIGSTOP past the lease then SIGCONT → the frozen one drops its
# partitions before it dispatches anything, and (real workers, fake LLM) no conversation is answered twice;
# a scheduler started with another LULL_SCHED_PARTITIONS refuses to start.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scheduler_lib.sh"
it_db_create || it_finish

export LULL_SCHED_LEASE_MS=600
declare -A IN WK CT OPS PID

# lstart NAME [ENV=VALUE...] : a scheduler named NAME on its own endpoints; waits until it serves.
lstart() {
    local name=$1; shift
    IN[$name]=tcp://127.0.0.1:$(it_free_port); WK[$name]=tcp://127.0.0.1:$(it_free_port)
    CT[$name]=tcp://127.0.0.1:$(it_free_port); OPS[$name]=${OPS[$name]:-$(it_free_port)}
    it_start "$name" env LULL_OPS_PORT="${OPS[$name]}" LULL_LOG_FILE="$IT_TMP/$name.jsonl" LULL_SCHED_NAME="$name" \
        LULL_SCHED_INBOUND_BIND="${IN[$name]}" LULL_SCHED_WORKER_BIND="${WK[$name]}" \
        LULL_SCHED_CONTROL_BIND="${CT[$name]}" LULL_SCHED_SWEEP_MS=200 LULL_LOG_LEVEL=info "$@" \
        "$LULL_BIN/lull-scheduler"
    PID[$name]=$IT_LAST_PID
    it_wait_up "$name" "${PID[$name]}" 10 grep -q '"ev":"scheduler.ready"' "$IT_TMP/$name.jsonl"
}
# owned NAME : partitions NAME holds in the database (lease not expired).
owned() { it_sql "SELECT count(*) FROM sched_partitions WHERE owner = '$1' AND lease_until > now()"; }
# shares : "owner:count ..." of the live leases, by owner.
shares() {
    it_sql "SELECT string_agg(owner || ':' || n, ' ' ORDER BY owner) FROM (SELECT owner, count(*) n
            FROM sched_partitions WHERE owner IS NOT NULL AND lease_until > now() GROUP BY owner) s"
}
# gauge NAME : the partitions NAME holds by its own account (metrics).
gauge() { curl -s "http://127.0.0.1:${OPS[$1]}/metrics" | awk '$1 == "lull_sched_partitions_owned" { print $2 }'; }
# windows NAME : conversation ids of NAME's windows, sorted, one line.
windows() { "$SCHED_CTL" "${CT[$1]}" list 1000 2>/dev/null | grep -o '"conversation_id":[0-9]*' | cut -d: -f2 | sort -n | tr '\n' ' '; }
# ownership NAME... : the partitions.claimed / released / lost lines of those schedulers' logs replayed in time
# order (a release before a claim of the same millisecond); prints each partition claimed by one while
# another still held it by its own account, then "events=N overlaps=M".
ownership() {
    local n
    for n in "$@"; do
        sed -n 's/.*"ts":"\([^"]*\)".*"ev":"partitions\.\(claimed\|released\|lost\)".*"list":"\([^"]*\)".*/\1 \2 \3/p' \
            "$IT_TMP/$n.jsonl" | sed "s/\$/ $n/"
    done | awk '{ print $1, ($2 == "claimed" ? 1 : 0), $3, $4 }' | sort -k1,1 -k2,2n | awk '
        { events++; nr = split($3, rs, ",")
          for (i = 1; i <= nr; i++) {
              k = split(rs[i], ab, "-"); lo = ab[1] + 0; hi = (k == 2 ? ab[2] : ab[1]) + 0
              for (p = lo; p <= hi; p++) {
                  if ($2 == 1) {
                      if (own[p] != "" && own[p] != $4) { print "partition " p " claimed by " $4 " at " $1 " while " own[p] " holds it"; bad++ }
                      own[p] = $4
                  } else if (own[p] == $4) own[p] = ""
              } } }
        END { print "events=" events + 0 " overlaps=" bad + 0 }'
}
# ms_of_ts TS : milliseconds since the epoch of a log line's ts.
ms_of_ts() { date -d "$1" +%s%3N; }

t=$(sched_tenant t1 100000 200000)  # windows that stay open while the partitions move

# --- the cluster row, one scheduler holds every partition -------------------------------------------------
lstart a
it_wait_for "a holds all 256 partitions" 5 sh -c "[ \"\$(psql '$LULL_DATABASE_URL' -XAtc \"SELECT count(*) FROM sched_partitions WHERE owner = 'a' AND lease_until > now()\")\" = 256 ]"
it_check_eq "the cluster row records 256 partitions" 256 "$(it_sql "SELECT partitions FROM sched_cluster")"
it_check_eq "sched_nodes has a with its advertised endpoints" "${IN[a]} ${WK[a]} ${CT[a]} 600" \
    "$(it_sql "SELECT concat_ws(' ', inbound_endpoint, worker_endpoint, control_endpoint, lease_ms) FROM sched_nodes WHERE name = 'a'")"
it_check_match "the claim is logged with its epoch range" '"ev":"partitions.claimed".*"partitions":256,"epoch_min":1,"epoch_max":1' \
    "$(cat "$IT_TMP/a.jsonl")"

# --- conversations of every partition, then a second scheduler: each recovers only its partitions ---------
convs=()
for i in $(seq 1 12); do
    # ids 41 apart: the conversations fall in both halves of the partitions
    it_sql "SELECT setval(pg_get_serial_sequence('conversations', 'id'), nextval(pg_get_serial_sequence('conversations', 'id')) + 40)" >/dev/null
    c=$(sched_conv "$t"); sched_msg "$c" >/dev/null; convs+=("$c")
done
ids=$(IFS=,; echo "${convs[*]}")
it_check_eq "conversations get partition = id % 256" 0 \
    "$(it_sql "SELECT count(*) FROM conversations WHERE id IN ($ids) AND partition <> id % 256")"
it_wait_for "a's sweep finds the 12 conversations" 5 sh -c "[ \$(grep -c '\"ev\":\"window.opened\".*\"source\":\"sweep\"' '$IT_TMP/a.jsonl') -ge 12 ]"
lstart b
it_wait_for "a and b hold 128 each" 10 sh -c "[ \"\$(psql '$LULL_DATABASE_URL' -XAtc \"SELECT string_agg(owner || ':' || n, ' ' ORDER BY owner) FROM (SELECT owner, count(*) n FROM sched_partitions WHERE owner IS NOT NULL AND lease_until > now() GROUP BY owner) s\")\" = 'a:128 b:128' ]"
it_check_eq "two schedulers split the 256 partitions 128/128" "a:128 b:128" "$(shares)"
sleep 0.5  # let b's claim recovery and a's drop settle (both are logged before the next tick)
want_b=$(it_sql "SELECT string_agg(c.id::text, ' ' ORDER BY c.id) FROM conversations c JOIN sched_partitions p
                 ON p.partition = c.partition WHERE c.id IN ($ids) AND p.owner = 'b'")
want_a=$(it_sql "SELECT string_agg(c.id::text, ' ' ORDER BY c.id) FROM conversations c JOIN sched_partitions p
                 ON p.partition = c.partition WHERE c.id IN ($ids) AND p.owner = 'a'")
it_check "both schedulers hold some of these conversations" test -n "$want_a" -a -n "$want_b"
it_check_eq "b recovered exactly the windows of its partitions" "${want_b:+$want_b }" "$(windows b)"
it_check_eq "a kept exactly the windows of the partitions it still owns" "${want_a:+$want_a }" "$(windows a)"
it_check_match "a handed over the excess (log)" '"ev":"partitions.released".*"partitions":128,.*"reason":"fair_share"' \
    "$(cat "$IT_TMP/a.jsonl")"
it_check_match "b's claim recovered its windows (log)" '"ev":"recovered".*"partitions":128' "$(cat "$IT_TMP/b.jsonl")"

# --- a third joins: fair share 86/85/85, never a partition held by two (sampled during the hand-over) -------
OPS[c]=$(it_free_port)
# sample the three schedulers' own accounts from before c starts until the shares settle: the gainer (c) is
# read first, and the others only lose partitions meanwhile, so a sum above 256 is a real overlap
( while [ ! -e "$IT_TMP/sampling.stop" ]; do
      gc=$(gauge c); ga=$(gauge a); gb=$(gauge b)
      echo "$(( ${gc:-0} + ${ga:-0} + ${gb:-0} )) a=$ga b=$gb c=$gc"
  done >"$IT_TMP/samples" ) &
sampler=$!
lstart c
it_wait_for "the shares settle at 86/85/85" 10 sh -c "[ \"\$(psql '$LULL_DATABASE_URL' -XAtc \"SELECT string_agg(owner || ':' || n, ' ' ORDER BY owner) FROM (SELECT owner, count(*) n FROM sched_partitions WHERE owner IS NOT NULL AND lease_until > now() GROUP BY owner) s\")\" = 'a:86 b:85 c:85' ]"
sleep 0.4
touch "$IT_TMP/sampling.stop"; wait "$sampler"
samples=$(wc -l <"$IT_TMP/samples")
overlap=$(awk '$1 > 256' "$IT_TMP/samples" | head -3)
it_check "c's share grew during the sampling (first sample c=0 or empty, last c=85)" sh -c \
    "head -1 '$IT_TMP/samples' | grep -q 'c=0*\$' && tail -1 '$IT_TMP/samples' | grep -q 'c=85\$'"
it_check_eq "three schedulers split the 256 partitions 86/85/85 (name order)" "a:86 b:85 c:85" "$(shares)"
it_check_eq "no partition held by two schedulers at any of the $samples samples" "" "$overlap"
it_check_eq "each partition has one row and every one is owned" "256 256" \
    "$(it_sql "SELECT count(*) || ' ' || count(DISTINCT partition) FILTER (WHERE owner IS NOT NULL) FROM sched_partitions")"

# --- SIGTERM: released at once, claimed by the others -----------------------------------------------------
it_stop "${PID[c]}" TERM
it_check_eq "c exited cleanly" 0 "$IT_RC"
it_check_eq "c's partitions were released at its stop (none left to expire)" 0 \
    "$(it_sql "SELECT count(*) FROM sched_partitions WHERE owner = 'c'")"
it_check_eq "c left sched_nodes" 0 "$(it_sql "SELECT count(*) FROM sched_nodes WHERE name = 'c'")"
it_wait_for "a and b take c's partitions" 10 sh -c "[ \"\$(psql '$LULL_DATABASE_URL' -XAtc \"SELECT count(*) FROM sched_partitions WHERE owner IN ('a','b') AND lease_until > now()\")\" = 256 ]"
it_check_eq "back to 128/128" "a:128 b:128" "$(shares)"

ownership a b c >"$IT_TMP/ownership"
it_check_match "replayed from the logs (joins, hand-overs, SIGTERM), no partition was ever held by two" \
    '^events=([6-9]|[1-9][0-9]+) overlaps=0$' "$(tail -1 "$IT_TMP/ownership")"

# --- SIGKILL: claimed only after the lease expired --------------------------------------------------------
lease_b=$(it_sql "SELECT (extract(epoch FROM max(lease_until)) * 1000)::bigint FROM sched_partitions WHERE owner = 'b'")
before=$(wc -l <"$IT_TMP/a.jsonl")
it_stop "${PID[b]}" KILL
it_wait_for "a claims b's partitions" 10 sh -c "[ \"\$(psql '$LULL_DATABASE_URL' -XAtc \"SELECT count(*) FROM sched_partitions WHERE owner = 'a' AND lease_until > now()\")\" = 256 ]"
claim=$(tail -n +"$((before + 1))" "$IT_TMP/a.jsonl" | grep '"ev":"partitions.claimed"' | head -1 | sed 's/.*"ts":"\([^"]*\)".*/\1/')
it_check "a claimed them after b's lease ended (claim $claim, lease until $lease_b ms)" test "$(ms_of_ts "$claim")" -ge "$lease_b"

# --- another number of partitions refuses to start --------------------------------------------------------
it_start bad env LULL_OPS_PORT="$(it_free_port)" LULL_LOG_FILE="$IT_TMP/bad.jsonl" LULL_SCHED_NAME=bad \
    LULL_SCHED_PARTITIONS=128 LULL_SCHED_INBOUND_BIND="tcp://127.0.0.1:$(it_free_port)" \
    LULL_SCHED_WORKER_BIND="tcp://127.0.0.1:$(it_free_port)" LULL_SCHED_CONTROL_BIND="tcp://127.0.0.1:$(it_free_port)" \
    "$LULL_BIN/lull-scheduler"
bad=$IT_LAST_PID
wait "$bad"; rc=$?
it_check "LULL_SCHED_PARTITIONS=128 against a 256 cluster exits with an error" test "$rc" -ne 0
it_check_match "and says why" '"ev":"cluster.partitions_mismatch".*"cluster_partitions":256,"LULL_SCHED_PARTITIONS":128' \
    "$(cat "$IT_TMP/bad.jsonl")"
it_check_eq "it took no partition" 0 "$(it_sql "SELECT count(*) FROM sched_partitions WHERE owner = 'bad'")"

# --- SIGSTOP past the lease, SIGCONT: the frozen one drops everything before dispatching; real workers and
# the fake LLM answer each conversation once ----------------------------------------------------------------
source "$(dirname "$0")/worker_env.sh"
w_start_llm || it_finish
lstart d
it_wait_for "a and d hold 128 each" 10 sh -c "[ \"\$(psql '$LULL_DATABASE_URL' -XAtc \"SELECT string_agg(owner || ':' || n, ' ' ORDER BY owner) FROM (SELECT owner, count(*) n FROM sched_partitions WHERE owner IS NOT NULL AND lease_until > now() GROUP BY owner) s\")\" = 'a:128 d:128' ]"
it_sql "UPDATE conversations SET cancelled_upto = last_inbound_id WHERE id IN ($ids)" >/dev/null  # not these
t2=$(sched_tenant t2 1500 3000)
wstart() {
    it_start "$1" env LULL_WORKER_SCHEDULERS="${WK[a]},${WK[d]}" LULL_SENDERS="tcp://127.0.0.1:$(it_free_port)" \
        LULL_OPS_PORT="$(it_free_port)" LULL_LOG_FILE="$IT_TMP/$1.jsonl" LULL_HEARTBEAT_MS=100 LULL_WORKER_NAME="$1" \
        OPENAI_API_KEY=sk-test OPENAI_BASE_URL="$W_LLM/v1" "$LULL_BIN/lull-worker"
}
wstart w1
wstart w2
it_wait_for "the workers joined both schedulers" 10 sh -c \
    "grep -q '\"ev\":\"worker.ready\"' '$IT_TMP/a.jsonl' && grep -q '\"ev\":\"worker.ready\"' '$IT_TMP/d.jsonl'"
# conversations in both halves, their windows due while d is frozen
fz=()
for i in $(seq 1 16); do c=$(sched_conv "$t2"); m=$(sched_msg "$c"); fz+=("$c"); done
fids=$(IFS=,; echo "${fz[*]}")
for c in "${fz[@]}"; do
    m=$(it_sql "SELECT last_inbound_id FROM conversations WHERE id = $c")
    "$SCHED_CTL" "${IN[a]}" inbound "$c" "$m" "$t2"; "$SCHED_CTL" "${IN[d]}" inbound "$c" "$m" "$t2"
done
d_owned=$(it_sql "SELECT count(*) FROM conversations c JOIN sched_partitions p ON p.partition = c.partition
                  WHERE c.id IN ($fids) AND p.owner = 'd'")
it_check "some of these conversations are in d's partitions" test "$d_owned" -gt 0
kill -STOP "${PID[d]}"
stopped=$(wc -l <"$IT_TMP/d.jsonl")
it_wait_for "a claims d's partitions once the lease expired" 10 sh -c "[ \"\$(psql '$LULL_DATABASE_URL' -XAtc \"SELECT count(*) FROM sched_partitions WHERE owner = 'a' AND lease_until > now()\")\" = 256 ]"
it_wait_for "a's workers answer every conversation" 20 sh -c \
    "[ \$(psql '$LULL_DATABASE_URL' -XAtc 'SELECT count(*) FROM conversations WHERE id IN ($fids) AND answered_upto < last_inbound_id') -eq 0 ]"
kill -CONT "${PID[d]}"
it_wait_for "d logs the loss of its partitions" 5 sh -c "tail -n +$((stopped + 1)) '$IT_TMP/d.jsonl' | grep -q '\"ev\":\"partitions.lost\"'"
after=$(tail -n +"$((stopped + 1))" "$IT_TMP/d.jsonl")
first=$(echo "$after" | grep -o '"ev":"\(dispatch\|partitions.lost\)"' | head -1)
it_check_eq "after SIGCONT d drops its partitions before dispatching anything" '"ev":"partitions.lost"' "$first"
it_check_match "d had windows to drop when it woke" '"ev":"windows.dropped".*"partitions":128,"windows":[1-9]' "$after"
it_check_match "the loss is logged with counts and epochs" '"ev":"partitions.lost".*"partitions":128,"epoch_min"' "$after"
it_wait_for "d takes its share again" 10 sh -c "[ \"\$(psql '$LULL_DATABASE_URL' -XAtc \"SELECT count(*) FROM sched_partitions WHERE owner = 'd' AND lease_until > now()\")\" = 128 ]"
sleep 1  # d recovers its partitions: nothing of them may be answered again
it_check_eq "every conversation answered exactly once (one bot message each)" "16 16" \
    "$(it_sql "SELECT count(*) || ' ' || count(*) FILTER (WHERE n = 1) FROM (SELECT c.id, (SELECT count(*) FROM messages m
               WHERE m.conversation_id = c.id AND m.direction = 'out' AND m.author = 'bot') n FROM conversations c
               WHERE c.id IN ($fids)) s")"

it_finish
