#!/usr/bin/env bash
# Every libFuzzer target (tests/fuzz/fuzz_*.c: the ZeroMQ codec, the JSON helpers, the webhook parsers and
# signature checks, the LLM answer parsers, lull-admin's request readers, the web chat stream's session id and
# Last-Event-ID, common's URL, Standard Webhooks, log, mask and CIDR readers, and any target added later) builds
# and survives a few seconds from its seeds and kept corpus (read only: new inputs go to the test's directory).
# The long runs: `make fuzz` (10 million executions per target, the corpus kept).
source "$(dirname "$0")/lib.sh"
secs=${LULL_FUZZ_SMOKE_SECONDS:-4}
if ! make -C "$LULL_ROOT" --no-print-directory VARIANT=fuzz CC=clang fuzz-build >"$IT_TMP/build.log" 2>&1; then
    tail -20 "$IT_TMP/build.log"
    it_fail "fuzz targets build"
    it_finish
fi
for src in "$LULL_ROOT"/tests/fuzz/fuzz_*.c; do
    n=$(basename "$src" .c)
    t=$LULL_ROOT/build/fuzz/targets/$n
    if [ ! -x "$t" ]; then it_fail "$n was not built"; continue; fi
    mkdir -p "$IT_TMP/corpus-$n"
    dirs=()
    for d in corpus seeds; do [ -d "$LULL_ROOT/tests/fuzz/$d/$n" ] && dirs+=("$LULL_ROOT/tests/fuzz/$d/$n"); done
    if "$t" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$IT_TMP/$n-" "$IT_TMP/corpus-$n" \
        "${dirs[@]}" >"$IT_TMP/$n.log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$IT_TMP/$n.log")
        it_check "$n: no crash in $secs s (${runs:-?} inputs)" test "${runs:-0}" -gt 0
    else
        grep -E "ERROR|SUMMARY|runtime error" "$IT_TMP/$n.log" | head -5
        it_fail "$n crashed (reproducer and log in $IT_TMP)"
    fi
done
it_finish
