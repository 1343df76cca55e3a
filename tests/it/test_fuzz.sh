#!/usr/bin/env bash
# Every parser survives a few seconds of libFuzzer (ASan + UBSan) from its seeds and saved corpus: the
# ZeroMQ codec, the JSON helpers, the webhook parsers and signature checks, the LLM answer parsers.
# Longer runs: `make fuzz FUZZ_SECONDS=300`.
source "$(dirname "$0")/lib.sh"
secs=${LULL_FUZZ_SMOKE_SECONDS:-4}
if ! make -C "$LULL_ROOT" --no-print-directory VARIANT=fuzz CC=clang fuzz-build >"$IT_TMP/build.log" 2>&1; then
    tail -20 "$IT_TMP/build.log"
    it_fail "fuzz targets build"
    it_finish
fi
for t in "$LULL_ROOT"/build/fuzz/targets/fuzz_*; do
    n=$(basename "$t")
    mkdir -p "$LULL_ROOT/build/fuzz/corpus-$n"
    seeds=()
    [ -d "$LULL_ROOT/tests/fuzz/seeds/$n" ] && seeds=("$LULL_ROOT/tests/fuzz/seeds/$n")
    if "$t" -max_total_time="$secs" -print_final_stats=1 "$LULL_ROOT/build/fuzz/corpus-$n" "${seeds[@]}" \
        >"$IT_TMP/$n.log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$IT_TMP/$n.log")
        it_check "$n: no crash in $secs s (${runs:-?} inputs)" test "${runs:-0}" -gt 0
    else
        grep -E "ERROR|SUMMARY|runtime error" "$IT_TMP/$n.log" | head -5
        it_fail "$n crashed (reproducer and log in $IT_TMP)"
    fi
done
it_finish
