#!/usr/bin/env bash
# Upgrades without downtime (docs/operations.md, "Upgrades without downtime"): a binary runs against its own schema
# version and the next one. The current binaries ($LULL_BIN, schema CUR = the highest migration) and "next
# release" workers and scheduler built here from the same sources with SCHEMA_VERSION=CUR+1 (the only difference
# a test can build without a real next release) run the checks of tests/it/upgrade_lib.sh: the next migration
# (tests/data/upgrade/next.sql, expand-only) under the running stack, restarts on it, a mixed cluster of old and
# next-release workers and schedulers under traffic with SIGTERM/SIGKILL of old ones (nothing lost, nothing
# answered twice), and a CUR+2 schema refused by the old binaries. scripts/upgrade-check runs the same checks
# with a previous release's real binaries.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/crash_lib.sh"
source "$(dirname "$0")/upgrade_lib.sh"

if [ -n "${UP_OLD_BIN:-}" ]; then  # scripts/upgrade-check: binaries given
    CUR=$UP_CUR OLD_BIN=$UP_OLD_BIN NEW_BIN=$UP_NEW_BIN
else
    CUR=0
    for f in "$LULL_ROOT"/migrations/[0-9]*_*.sql; do v=$(basename "$f"); v=$((10#${v%%_*})); ((v > CUR)) && CUR=$v; done
    OLD_BIN=$LULL_BIN
    build=$LULL_BUILD; [[ "$build" = /* ]] || build=$LULL_ROOT/$build
    variant=$(basename "$build"); cc=${CC:-cc}; [ "$variant" = asan ] && cc=clang
    NEW_BIN=$IT_TMP/next/bin
    # the library and objects of this build, with lull_proc.o (where the schema version is compiled in) rebuilt
    # (named as a goal: the Makefile's .SECONDARY would not remake a missing object otherwise)
    mkdir -p "$IT_TMP/next"
    cp -a "$build" "$IT_TMP/next/build" && rm -f "$IT_TMP/next/build/obj/common/lull_proc.o"
    it_check "next-release worker and scheduler built with SCHEMA_VERSION=$((CUR + 1))" \
        make -s -C "$LULL_ROOT" VARIANT="$variant" CC="$cc" BUILD="$IT_TMP/next/build" BIN="$NEW_BIN" \
        SCHEMA_VERSION=$((CUR + 1)) "$IT_TMP/next/build/obj/common/lull_proc.o" "$NEW_BIN/lull-worker" "$NEW_BIN/lull-scheduler"
    [ -x "$NEW_BIN/lull-scheduler" ] || it_finish
fi
upgrade_run
it_finish
