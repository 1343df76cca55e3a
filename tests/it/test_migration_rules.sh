#!/usr/bin/env bash
# The rule for migrations (docs/operations.md, "Upgrades without downtime"), enforced by
# tests/it/migration_rules.js: the repository's migrations after 027 are expand-only or carry a valid
# "-- contract: <what> unused since schema <N>" header; and the checker itself, on the samples of
# tests/data/migration-rules/ (good/ pass, each file of bad/ fails with the reason its first line names).
source "$(dirname "$0")/lib.sh"
CHECK=(node "$LULL_ROOT/tests/it/migration_rules.js")
D=$LULL_ROOT/tests/data/migration-rules

out=$("${CHECK[@]}" 2>&1); rc=$?
echo "$out" | sed 's/^/    /'
it_check_eq "migrations/ follow the expand-then-contract rule" 0 "$rc"
it_check_match "the migrations up to 027 are grandfathered, the others checked" \
    '^migration_rules: [0-9]+ checked, [0-9]+ grandfathered \(<= 27\), 0 with violations$' "$(tail -1 <<<"$out")"

# (one run per directory: node starts slowly on a loaded machine)
out=$("${CHECK[@]}" "$D/good" 2>&1); rc=$?
it_check_eq "the good samples pass${out:+ ($(head -1 <<<"$out"))}" 0 "$rc"
it_check_match "… both of them checked" '^migration_rules: 2 checked' "$(tail -1 <<<"$out")"
out=$("${CHECK[@]}" "$D/bad" 2>&1); rc=$?
it_check_eq "the bad samples fail" 1 "$rc"
n=0
for f in "$D"/bad/*.sql; do
    n=$((n + 1))
    want=$(head -1 "$f"); want=${want#-- expect: }
    if grep -F -- "$want" <<<"$out" | grep -qF "/bad/$(basename "$f"):"; then echo "PASS bad sample $(basename "$f"): says '$want'"
    else it_fail "bad sample $(basename "$f"): expected '$want' in: $(grep -F "/bad/$(basename "$f"):" <<<"$out")"; fi
done
it_check_match "every bad sample is a file with violations" "^migration_rules: $n checked, 0 grandfathered \\(<= 27\\), $n with violations\$" "$(tail -1 <<<"$out")"
it_check "at least 12 bad samples" test "$n" -ge 12
# the grandfather line: the same DROP COLUMN sample numbered 027 is not checked, with --grandfathered 0 it is
cp "$D/bad/040_drop_column.sql" "$IT_TMP/027_drop_column.sql"
it_check "a migration numbered 027 is grandfathered" "${CHECK[@]}" "$IT_TMP/027_drop_column.sql"
it_check "… and checked with --grandfathered 0" sh -c "! node '$LULL_ROOT/tests/it/migration_rules.js' --grandfathered 0 '$IT_TMP/027_drop_column.sql'"
# a contract header two versions back is accepted, one version back is not
printf -- '-- contract: conversations.sample_label unused since schema 58\nALTER TABLE conversations DROP COLUMN sample_label;\n' >"$IT_TMP/060_ok.sql"
printf -- '-- contract: conversations.sample_label unused since schema 59\nALTER TABLE conversations DROP COLUMN sample_label;\n' >"$IT_TMP/060_late.sql"
it_check "header N = V-2 accepted" "${CHECK[@]}" "$IT_TMP/060_ok.sql"
it_check "header N = V-1 refused" sh -c "! node '$LULL_ROOT/tests/it/migration_rules.js' '$IT_TMP/060_late.sql'"
# the next-release migration of test_upgrade is written by the rule
it_check "tests/data/upgrade/next.sql is expand-only" sh -c "cp '$LULL_ROOT/tests/data/upgrade/next.sql' '$IT_TMP/099_next.sql' && node '$LULL_ROOT/tests/it/migration_rules.js' '$IT_TMP/099_next.sql'"
it_finish
