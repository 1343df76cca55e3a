# Helpers for integration tests (sourced): checks that print PASS/FAIL, fresh databases, free ports,
# background processes in their own process group that are always killed at exit, readiness polling.
set -uo pipefail
IT_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
LULL_ROOT=${LULL_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LULL_BIN=${LULL_BIN:-$LULL_ROOT/bin}
LULL_BUILD=${LULL_BUILD:-build/release}
LULL_FAKES=${LULL_FAKES:-$LULL_ROOT/$LULL_BUILD/fakes}
LULL_VAR_DIR=${LULL_VAR_DIR:-$LULL_ROOT/var}
IT_TMP=$(mktemp -d "${LULL_TEST_TMP:-/tmp}/$IT_NAME.XXXXXX")
export LULL_ROOT LULL_BIN LULL_FAKES LULL_VAR_DIR IT_TMP
IT_FAILED=0
IT_PIDS=()
IT_DBS=()

# it_check DESC CMD... : PASS when CMD exits 0.
it_check() {
    local desc=$1; shift
    if "$@" >>"$IT_TMP/check.log" 2>&1; then echo "PASS $desc"; else echo "FAIL $desc"; IT_FAILED=1; fi
}
# it_check_eq DESC EXPECTED ACTUAL
it_check_eq() {
    if [ "$2" == "$3" ]; then echo "PASS $1"; else echo "FAIL $1: expected '$2', got '$3'"; IT_FAILED=1; fi
}
# it_check_match DESC REGEX ACTUAL
it_check_match() {
    if [[ "$3" =~ $2 ]]; then echo "PASS $1"; else echo "FAIL $1: '$3' does not match /$2/"; IT_FAILED=1; fi
}
# it_fail DESC : record a failure explicitly.
it_fail() { echo "FAIL $1"; IT_FAILED=1; }

# it_db_create : a fresh database with every migration; exports LULL_DATABASE_URL.
it_db_create() {
    local name="it_${IT_NAME//[^a-zA-Z0-9_]/_}_$$_${#IT_DBS[@]}"
    LULL_DATABASE_URL=$("$LULL_ROOT/scripts/db" createdb "$name") || { it_fail "createdb $name"; return 1; }
    export LULL_DATABASE_URL
    IT_DBS+=("$name")
}
# it_sql SQL : runs SQL on $LULL_DATABASE_URL, prints unaligned tuples.
it_sql() { psql "$LULL_DATABASE_URL" -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }

# it_free_port : prints a TCP port that nothing listens on right now and that this test has not handed
# out before (ports given out are remembered in a file, since callers run it in a subshell). The port is
# below the kernel's ephemeral range (32768+ by default): a client connection's local port there (thousands
# sit in TIME_WAIT after a test run) would make a later bind fail with "Address already in use".
it_free_port() {
    local p
    while :; do
        p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 12000 ))
        grep -qx "$p" "$IT_TMP/.ports" 2>/dev/null && continue
        (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && continue
        echo "$p" >>"$IT_TMP/.ports"
        echo "$p"
        return
    done
}

# it_free_port_block N : prints a port p such that p .. p+N are all free now and none was handed out before (for a
# tool that derives several ports from one base, e.g. scripts/stack's ops ports).
it_free_port_block() {
    local n=$1 p q busy
    while :; do
        p=$(( 20000 + (RANDOM * 32768 + RANDOM) % (12000 - n) ))
        busy=0
        for ((q = p; q <= p + n; q++)); do
            if grep -qx "$q" "$IT_TMP/.ports" 2>/dev/null || (exec 3<>/dev/tcp/127.0.0.1/$q) 2>/dev/null; then
                busy=1; break
            fi
        done
        [ "$busy" = 1 ] && continue
        for ((q = p; q <= p + n; q++)); do echo "$q" >>"$IT_TMP/.ports"; done
        echo "$p"
        return
    done
}

# it_start NAME CMD... : starts CMD in the background in its own process group, output to $IT_TMP/NAME.log.
# Sets IT_LAST_PID.
it_start() {
    local name=$1; shift
    setsid "$@" >>"$IT_TMP/$name.log" 2>&1 &
    IT_LAST_PID=$!
    IT_PIDS+=("$IT_LAST_PID")
    it_note_logs "$name" "$@"
}
# it_note_logs NAME CMD... : when CMD runs a lull tier, lists its logs (its output NAME.log and LULL_LOG_FILE) in
# $IT_TMP/.process-logs; it_cleanup copies them to $LULL_LOG_KEEP/<test>.<pid>/ for tests/run's JSON-lines check.
it_note_logs() {
    local name=$1 a tier=0 files=("$IT_TMP/$name.log"); shift
    for a in "$@"; do
        case $a in
            LULL_LOG_FILE=?*) files+=("${a#LULL_LOG_FILE=}") ;;
            */lull-ingress | */lull-admin | */lull-scheduler | */lull-worker | */lull-sender) tier=1 ;;
        esac
    done
    [ "$tier" -eq 0 ] || printf '%s\n' "${files[@]}" >>"$IT_TMP/.process-logs"
}
# it_stop PID [SIGNAL] : signals the process group, waits for exit; sets IT_RC to the exit status
# (128+N when killed by signal N). Not for use in $(…): a subshell cannot wait for the test's children.
it_stop() {
    local pid=$1 sig=${2:-TERM}
    kill -"$sig" -- "-$pid" 2>/dev/null || kill -"$sig" "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    IT_RC=$?
}
# it_wait_for DESC TIMEOUT_S CMD... : polls CMD until it succeeds (every 20 ms); FAIL on timeout.
it_wait_for() {
    local desc=$1 timeout=$2; shift 2
    local deadline=$(( $(date +%s%N) + timeout * 1000000000 ))
    while [ "$(date +%s%N)" -lt "$deadline" ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.02
    done
    it_fail "timed out after ${timeout}s waiting for: $desc"
    return 1
}
# it_wait_up NAME PID TIMEOUT_S CMD... : polls CMD until the process it_start started as NAME (PID) is ready;
# FAIL at once when it has exited (a tool that cannot start), or on timeout, with the end of its log.
it_wait_up() {
    local name=$1 pid=$2 timeout=$3; shift 3
    local deadline=$(( $(date +%s%N) + timeout * 1000000000 )) why="timed out after ${timeout}s waiting for $name"
    while [ "$(date +%s%N)" -lt "$deadline" ]; do
        "$@" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || { why="$name exited before it was ready"; break; }
        sleep 0.02
    done
    it_fail "$why; the end of its log:"
    tail -n 20 "$IT_TMP/$name.log" | sed 's/^/    /'
    return 1
}
# it_http_ok URL : true when URL answers 2xx.
it_http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }

it_cleanup() {
    local pid
    for pid in "${IT_PIDS[@]}"; do
        kill -KILL -- "-$pid" 2>/dev/null; kill -KILL "$pid" 2>/dev/null
    done
    wait 2>/dev/null
    for db in "${IT_DBS[@]}"; do "$LULL_ROOT/scripts/db" dropdb "$db" >/dev/null 2>&1; done
    if [ -n "${LULL_LOG_KEEP:-}" ] && [ -f "$IT_TMP/.process-logs" ]; then
        local keep="$LULL_LOG_KEEP/$IT_NAME.$$" f
        mkdir -p "$keep"
        sort -u "$IT_TMP/.process-logs" | while read -r f; do [ -f "$f" ] && cp "$f" "$keep/"; done
    fi
    [ "$IT_FAILED" -eq 0 ] && [ -z "${IT_KEEP_TMP:-}" ] && rm -rf "$IT_TMP"
}
trap it_cleanup EXIT

# it_finish : exit status of the whole script.
it_finish() { exit "$IT_FAILED"; }
