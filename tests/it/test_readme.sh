#!/usr/bin/env bash
# The README and docs/ stay true: the README is short and names the two commands, CI runs exactly the README's
# test command, docs/configuration.md equals what the binaries print, every relative link in README.md and
# docs/*.md points at a file that exists, and the documents carry no tracker issue numbers.
source "$(dirname "$0")/lib.sh"
readme=$LULL_ROOT/README.md
lines=$(wc -l <"$readme")
it_check "README is at most 300 lines ($lines)" test "$lines" -le 300
it_check "README gives make run" grep -q '^make run ' "$readme"
it_check "README gives make test" grep -q '^make test ' "$readme"
it_check_eq ".ci/run runs exactly make test" "make test" \
    "$(grep -vE '^[[:space:]]*(#|$|set -euo pipefail$|cd "\$\(dirname "\$0"\)/\.\."$)' "$LULL_ROOT/.ci/run")"
it_check "docs/configuration.md is current (scripts/config-doc --update)" "$LULL_ROOT/scripts/config-doc" --check
it_check "every relative link in README.md and docs/*.md resolves (scripts/readme-sync --links)" \
    "$LULL_ROOT/scripts/readme-sync" --links
# "#7", "issue 9", "issues #3 and #4" — but not "#!/bin/sh", colours or a "# heading"
issues=$(grep -nE '(^|[^&[:alnum:]/])#[0-9]+([^[:alnum:]]|$)|[Ii]ssues? #?[0-9]' "$readme" "$LULL_ROOT"/docs/*.md || true)
it_check_eq "README.md and docs/*.md name no tracker issue numbers" "" "$issues"
it_finish
