#!/usr/bin/env bash
# The OpenAPI documents both servers serve (lull-ingress and lull-admin GET /openapi.json) pass two independent
# linters with no errors: Redocly CLI with its recommended ruleset (openapi_lint_redocly.yaml) and Spectral
# with spectral:oas (openapi_lint_spectral.yaml). Their warnings are printed, not failed. Negative controls
# show each linter refuses a document with an error it knows.
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
    it_check_eq "$1: redocly (recommended) finds no error" "0 0" "$rc $(grep -cE '[0-9]+:[0-9]+ +error ' <<<"$out")"
    out=$(spectral "$2"); rc=$?
    echo "--- spectral on $1:"; echo "$out" | grep -E 'warning|error' | sed 's/^/    /'
    it_check_eq "$1: spectral (spectral:oas) finds no error" "0 0" "$rc $(grep -cE '[0-9]+:[0-9]+ +error ' <<<"$out")"
}
DOC=$IT_TMP/openapi.json ADOC=$IT_TMP/openapi_admin.json
it_check "lull-ingress serves its document" curl -fsS -o "$DOC" --max-time 5 "$ING_URL/openapi.json"
it_check "lull-admin serves its document" curl -fsS -o "$ADOC" --max-time 5 "$ADM_URL/openapi.json"
lint lull-ingress "$DOC"
lint lull-admin "$ADOC"

# negative controls: each linter refuses a copy with an error it knows. Redocly: `allOf` + `nullable` without
# `type` (invalid under 3.0.3; spectral:oas does not check it); both: two operations with one operationId.
refused() {  # LINTER DOC: "refused" when the linter fails on DOC
    "$1" "$2" >/dev/null && echo accepted || echo refused
}
jq '.components.schemas.TryReply.properties.analysis |= del(.type)' "$ADOC" >"$IT_TMP/untyped.json"
it_check_eq "negative control: redocly refuses allOf + nullable without type" refused \
    "$(refused redocly "$IT_TMP/untyped.json")"
jq '.paths["/health"].get.operationId = "openapi"' "$DOC" >"$IT_TMP/dup_id.json"
it_check_eq "negative control: redocly refuses a repeated operationId" refused "$(refused redocly "$IT_TMP/dup_id.json")"
it_check_eq "negative control: spectral refuses a repeated operationId" refused "$(refused spectral "$IT_TMP/dup_id.json")"
it_finish
