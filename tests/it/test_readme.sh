#!/usr/bin/env bash
# The README stays true: its configuration tables equal what the binaries print, and it names the two commands.
source "$(dirname "$0")/lib.sh"
it_check "README's generated blocks (configuration tables, tier sections) are current (scripts/readme-sync)" \
    "$LULL_ROOT/scripts/readme-sync" --check
it_check "README gives make run" grep -q 'make run' "$LULL_ROOT/README.md"
it_check "README gives make test" grep -q 'make test' "$LULL_ROOT/README.md"
it_check ".ci/run runs make test" grep -q '^make test$' "$LULL_ROOT/.ci/run"
it_finish
