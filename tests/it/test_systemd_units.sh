#!/usr/bin/env bash
# The systemd units in scripts/systemd/ are valid (systemd-analyze verify, with ExecStart pointed at the built
# binary), restart a tier that failed, and do not restart one that exits 64 (bad arguments) or 78 (an invalid
# setting or a refused schema), which the binaries return for exactly those causes (checked here too).
source "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
units=("$LULL_ROOT"/scripts/systemd/*.service)
it_check "there are unit files (${#units[@]})" test "${#units[@]}" -ge 6
for u in "${units[@]}"; do
    name=$(basename "$u")
    tier=$(sed -n 's#^ExecStart=/usr/local/bin/lull-\([a-z]*\).*#\1#p' "$u")
    it_check "$name starts a lull binary ($tier)" test -x "$LULL_BIN/lull-$tier"
    # verify needs the ExecStart binary to exist: the built one stands in for /usr/local/bin
    sed "s#/usr/local/bin/lull-#$LULL_BIN/lull-#" "$u" >"$tmp/$name"
    out=$(systemd-analyze verify "$tmp/$name" 2>&1)
    it_check_eq "$name: systemd-analyze verify reports nothing" "" "$out"
    it_check_eq "$name: Restart=on-failure" "on-failure" "$(sed -n 's/^Restart=//p' "$u")"
    it_check_eq "$name: no restart after exit 64 or 78" "64 78" "$(sed -n 's/^RestartPreventExitStatus=//p' "$u")"
done
for tier in ingress scheduler worker sender admin; do
    LULL_LOG_LEVEL=bogus "$LULL_BIN/lull-$tier" >/dev/null 2>&1
    it_check_eq "lull-$tier exits 78 on an invalid setting" 78 "$?"
    "$LULL_BIN/lull-$tier" --no-such-flag >/dev/null 2>&1
    it_check_eq "lull-$tier exits 64 on a bad argument" 64 "$?"
done
it_finish
