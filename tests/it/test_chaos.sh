#!/usr/bin/env bash
# scripts/chaos --quick: lull on network-namespace "hosts" behind HAProxy, under bursty traffic and faults
# (SIGKILL of a host, a cut link, a frozen scheduler, a PostgreSQL restart, a rolling restart), then its ledger:
# nothing acknowledged lost, nothing duplicated beyond the unknown-outcome case, nothing unexpected, every
# scheduler fault healed within lease + window + 2 s. First a run killed with SIGKILL while its hosts are up:
# the next run must clean its left-overs and work; after each run nothing of it is left.
# Needs root and network namespaces; otherwise it says why it is skipped (the one skip the suite allows).
source "$(dirname "$0")/lib.sh"
skip() { echo "SKIP chaos: $1 (scripts/chaos needs root, ip netns and haproxy)"; exit 0; }
[ "$(id -u)" = 0 ] || skip "not root"
command -v haproxy >/dev/null || skip "haproxy not installed (scripts/install-deps)"
probe_ns=lullc-probe-$$
ip netns add "$probe_ns" 2>/dev/null || skip "ip netns add does not work here"
ip netns del "$probe_ns"
chaos=$LULL_ROOT/scripts/chaos
leftovers() {  # prints what a run left behind: namespaces, the bridge, veths, a postgres of var/chaos
    ip netns list | awk '{print $1}' | grep '^lullc-'
    ip link show lullc-br0 2>/dev/null | head -1
    ip -o link show | awk -F': ' '{print $2}' | grep '^vc-'
    pgrep -f 'var/chaos/pg/data|lull-chaos-pg' | head -3
    return 0
}

# --- a first run killed with SIGKILL once its hosts are up (nothing tears it down)
setsid "$chaos" --quick >"$IT_TMP/killed.out" 2>&1 &
killed=$!
it_wait_for "the first run's hosts are up" 120 grep -q 'hosts up' "$IT_TMP/killed.out"
kill -KILL -- "-$killed" 2>/dev/null; wait "$killed" 2>/dev/null
it_check "the killed run left namespaces behind" test -n "$(ip netns list | grep '^lullc-')"

# --- the real run
"$chaos" --quick >"$IT_TMP/chaos.out" 2>&1
rc=$?
cat "$IT_TMP/chaos.out"
last=$(tail -1 "$IT_TMP/chaos.out")
it_check_eq "scripts/chaos --quick exits 0 (targets hold)" 0 "$rc"
it_check_match "last line: 0 lost, 0 duplicated, 0 unexpected" \
    '^chaos: conversations=[0-9]+ lost=0 duplicated=0 unexpected=0 heal_p99_s=[0-9]+\.[0-9]+$' "$last"
convs=$(sed -E 's/.*conversations=([0-9]+).*/\1/' <<<"$last")
it_check "every conversation of the run acknowledged (600 + the probes: $convs)" test "${convs:-0}" -ge 600
it_check "the left-overs of the killed run were cleaned first" grep -q 'network: bridge lullc-br0, 13 namespaces' "$IT_TMP/chaos.out"
for f in "SIGKILL every process of host s1" "cut the link of host s2" "SIGSTOP the scheduler of host s3" \
         "restart PostgreSQL" "SIGKILL every process of host snd1" "SIGKILL every process of host in1" \
         "rolling restart"; do
    it_check "fault done: $f" grep -q "fault [0-9]*: $f" "$IT_TMP/chaos.out"
done
# the fixed schedule times three (s1, s2, s3); the kill loop after it may add more, as time allows
healed=$(grep -cE '^    fault [0-9]+: [0-9]+ ms \(' "$IT_TMP/chaos.out")
it_check "at least three scheduler faults timed (heal: $healed)" test "$healed" -ge 3
it_check "the client's POSTs were retried through the faults" \
    grep -qE 'retried [1-9][0-9]* POSTs, gave up 0' "$IT_TMP/chaos.out"
it_check_eq "torn down: no namespace, bridge, veth or database left" "" "$(leftovers)"
it_finish
