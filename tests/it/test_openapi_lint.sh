#!/usr/bin/env bash
# The OpenAPI documents both servers serve (lull-ingress and lull-admin GET /openapi.json) pass two independent
# linters with no errors: Redocly CLI with its recommended ruleset (openapi_lint_redocly.yaml) and Spectral
# with spectral:oas (openapi_lint_spectral.yaml). Their warnings are printed, not failed. A negative control
# shows each linter refuses a document with a known error.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingress_lib.sh"
NODE_DIR=$LULL_ROOT/tests/node
REDOCLY=$NODE_DIR/node_modules/.bin/redocly
SPECTRAL=$NODE_DIR/node_modules/.bin/spectral
# Neither linter talks to anything: no telemetry, no update check.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1
it_check "linters installed (scripts/node-deps)" test -x "$REDOCLY" -a -x "$SPECTRAL"
it_db_create || it_finish
ing_start || it_finish
ap=$(it_free_port)
ADM_URL=http://127.0.0.1:$ap
it_start admin env LULL_ADMIN_PORT="$ap" LULL_OPS_PORT="$(it_free_port)" LULL_ADMIN_TOKEN=test-admin-token-lint \
    LULL_SCHEDULER_CONTROLS="tcp://127.0.0.1:$(it_free_port)" LULL_SENDERS="tcp://127.0.0.1:$(it_free_port)" \
    LULL_LOG_FILE="$IT_TMP/admin.jsonl" "$LULL_BIN/lull-admin"
it_wait_for "lull-admin serving" 10 it_http_ok "$ADM_URL/health" || it_finish

# redocly DOC: Redocly's findings on DOC (printed); fails when one is an error.
redocly() {
    (cd "$IT_TMP" && "$REDOCLY" lint --config "$LULL_ROOT/tests/it/openapi_lint_redocly.yaml" --format stylish \
        --max-problems 1000 "$1") 2>&1
}
# spectral DOC: Spectral's findings on DOC (printed); fails when one is an error.
spectral() {
    (cd "$IT_TMP" && "$SPECTRAL" lint --ruleset "$LULL_ROOT/tests/it/openapi_lint_spectral.yaml" --fail-severity error \
        --format text "$1") 2>&1
}
# lint NAME DOC: both linters on DOC, their output printed.
lint() {
    local out rc
    out=$(redocly "$2"); rc=$?
    echo "--- redocly on $1:"; echo "$out" | grep -E 'warning|error' | sed 's/^/    /'
    it_check_eq "$1: redocly (recommended) finds no error" "0 0" "$rc $(grep -cE '\berror\b' <<<"$out")"
    out=$(spectral "$2"); rc=$?
    echo "--- spectral on $1:"; echo "$out" | grep -E 'warning|error' | sed 's/^/    /'
    it_check_eq "$1: spectral (spectral:oas) finds no error" "0 0" "$rc $(grep -cE '^ *[0-9]+:[0-9]+ +error' <<<"$out")"
}
DOC=$IT_TMP/openapi.json ADOC=$IT_TMP/openapi_admin.json
it_check "lull-ingress serves its document" curl -fsS -o "$DOC" --max-time 5 "$ING_URL/openapi.json"
it_check "lull-admin serves its document" curl -fsS -o "$ADOC" --max-time 5 "$ADM_URL/openapi.json"
lint lull-ingress "$DOC"
lint lull-admin "$ADOC"

# negative control: a copy with `allOf` + `nullable` and no `type` (invalid under 3.0.3) and an operation
# with no answers is refused by both
jq '.paths["/webhook"].post.responses = {} |
    .components.schemas.Broken = {"allOf": [{"$ref": "#/components/schemas/Error"}], "nullable": true} |
    .paths["/webhook"].post.requestBody = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Broken"}}}}' \
    "$DOC" >"$IT_TMP/broken.json"
it_check_eq "negative control: redocly refuses a broken copy" refused \
    "$(redocly "$IT_TMP/broken.json" >/dev/null && echo accepted || echo refused)"
it_check_eq "negative control: spectral refuses a broken copy" refused \
    "$(spectral "$IT_TMP/broken.json" >/dev/null && echo accepted || echo refused)"
it_finish
