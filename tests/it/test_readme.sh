#!/usr/bin/env bash
# The README stays true: its configuration tables equal what the binaries print, and it names the two commands.
source "$(dirname "$0")/lib.sh"
it_check "README configuration tables match the binaries (scripts/config-doc --update-readme)" \
    "$LULL_ROOT/scripts/config-doc" --check
it_check "README gives make run" grep -q 'make run' "$LULL_ROOT/README.md"
it_check "README gives make test" grep -q 'make test' "$LULL_ROOT/README.md"
it_check ".ci/run runs make test" grep -q '^make test$' "$LULL_ROOT/.ci/run"
it_finish
