#!/usr/bin/env bash
# GET /openapi.json describes each server as it is (lull-ingress: the public routes; lull-admin: the admin
# API): it is served (200 JSON, OpenAPI 3.0.3, cacheable, no token), it is a valid OpenAPI 3 document
# (swagger-parser), it lists what the server answers both ways (every documented operation is routed, every
# other method of a documented path is 405, an undocumented path is 404, the rows of the server's route table
# are the document's operations), neither server answers the other's routes, and Prism, mocking from each
# served document, accepts and refuses the same requests as the server.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingress_lib.sh"
NODE_DIR=$LULL_ROOT/tests/node
PRISM=$NODE_DIR/node_modules/.bin/prism
PARSER=$NODE_DIR/node_modules/@apidevtools/swagger-parser
TOKEN=test-admin-token-openapi
it_check "test tools installed (scripts/node-deps)" test -x "$PRISM" -a -d "$PARSER"
it_db_create || it_finish
ing_start || it_finish
# lull-admin without scheduler or sender: window and dry-run routes answer 503 / 504 at once (ZMQ_IMMEDIATE)
ap=$(it_free_port)
ADM_URL=http://127.0.0.1:$ap
it_start admin env LULL_ADMIN_PORT="$ap" LULL_OPS_PORT="$(it_free_port)" LULL_ADMIN_TOKEN="$TOKEN" \
    LULL_SCHEDULER_CONTROLS="tcp://127.0.0.1:$(it_free_port)" LULL_SENDERS="tcp://127.0.0.1:$(it_free_port)" \
    LULL_LOG_FILE="$IT_TMP/admin.jsonl" "$LULL_BIN/lull-admin"
it_wait_for "lull-admin serving" 10 it_http_ok "$ADM_URL/health" || it_finish

validate() {  # FILE: swagger-parser checks it against the OpenAPI 3.0 schema (Prism itself loads invalid ones)
    node -e 'require(process.argv[1]).validate(process.argv[2]).then(() => console.log("valid"),
        e => { console.error(e.message); process.exit(1); })' "$PARSER" "$1"
}
# call BASE METHOD PATH: sets r to "status body" of the server's answer (a JSON body for the methods that take one)
call() {
    local out="$IT_TMP/call.out" path=${3/\{conversation_id\}/987654321} code body
    path=${path/\{id\}/987654321}
    path=${path/\{sessionId\}/ws_nosuchsession}
    local args=(-s -o "$out" -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $TOKEN")
    case $2 in
        HEAD) args+=(-I) ;;
        GET) args+=(-X GET) ;;
        *) args+=(-X "$2" -H 'Content-Type: application/json' --data-binary '{}') ;;
    esac
    : >"$out"
    code=$(curl "${args[@]}" "$1$path")
    body=$(<"$out")
    r="$code ${body//$'\n'/ }"
}
# not routed: 405, no answer, or the dispatcher's own 404
re_unrouted='^(405|000)|^404 .*"message":"no such route'

# check_server NAME BASE DEF DOC: the document BASE serves (saved in DOC) against the server and its route table
check_server() {
    local name=$1 base=$2 def=$3 doc=$4 code hlen
    code=$(curl -s -D "$IT_TMP/doc.headers" -o "$doc" -w '%{http_code}' --max-time 5 "$base/openapi.json")
    it_check_eq "$name: GET /openapi.json answers 200 without a token" 200 "$code"
    it_check "$name: it is application/json" grep -qi '^Content-Type: application/json' "$IT_TMP/doc.headers"
    it_check "$name: it may be cached for 5 minutes" grep -qi '^Cache-Control: public, max-age=300' "$IT_TMP/doc.headers"
    it_check_eq "$name: openapi is 3.0.3" 3.0.3 "$(jq -r .openapi "$doc" 2>/dev/null)"
    it_check_eq "$name: the title names the server" "$name" "$(jq -r .info.title "$doc")"
    it_check_eq "$name: servers name no host" "" \
        "$(jq -r '.servers[]?.url | select(test("://") or (startswith("/") | not))' "$doc")"
    code=$(curl -s -I -o "$IT_TMP/head.headers" -w '%{http_code}' --max-time 5 "$base/openapi.json")
    hlen=$(tr -d '\r' <"$IT_TMP/head.headers" | sed -n 's/^[Cc]ontent-[Ll]ength: //p')
    it_check_eq "$name: HEAD /openapi.json: 200 with the length of the document" "200 $(stat -c %s "$doc")" "$code $hlen"
    it_check "$name: the document is valid OpenAPI 3.0 (swagger-parser)" validate "$doc"

    # every documented operation is a route, and no other method is
    local ops nops unrouted="" wrong_method="" nother=0 m p
    ops=$(jq -r '.paths | to_entries[] | .key as $p | .value | keys[] | "\(ascii_upcase) \($p)"' "$doc")
    nops=$(wc -l <<<"$ops")
    declare -A documented_op
    while read -r m p; do documented_op["$m $p"]=1; done <<<"$ops"
    while read -r m p; do
        call "$base" "$m" "$p"
        [[ "$r" =~ $re_unrouted ]] && unrouted+=" [$m $p: $r]"
    done <<<"$ops"
    it_check_eq "$name: every documented operation ($nops) is routed" "" "$unrouted"
    for p in $(jq -r '.paths | keys[]' "$doc"); do
        for m in GET HEAD POST PUT PATCH DELETE; do
            [ -n "${documented_op["$m $p"]:-}" ] && continue
            nother=$((nother + 1))
            call "$base" "$m" "$p"
            [[ "$r" =~ ^405 ]] || wrong_method+=" [$m $p: $r]"
        done
    done
    it_check_eq "$name: every other method of a documented path ($nother) answers 405" "" "$wrong_method"
    local undocumented=""
    for p in /nope /api/v1 /api/v1/nope /health/x /openapi.json/x /webhook/nope /api/v1/tenants/1/x; do
        call "$base" GET "$p"
        [[ "$r" =~ ^404\ .*\"not_found\" ]] || undocumented+=" [$p: $r]"
    done
    it_check_eq "$name: undocumented paths answer 404 not_found" "" "$undocumented"
    # the route table's rows are the document's operations, no more, no less
    local rows
    rows=$(grep -oE '^ROUTE\([A-Z_]+, "[A-Z]+", "[^"]*"' "$LULL_ROOT/$def" | sed -E 's/^ROUTE\([A-Z_]+, "([A-Z]+)", "([^"]*)"/\1 \2/' | sort)
    it_check "$name: its route table was read ($(wc -l <<<"$rows") rows)" test "$(wc -l <<<"$rows")" -ge 10
    it_check_eq "$name: the route table and the document list the same operations" "$rows" "$(sort <<<"$ops")"
}
DOC=$IT_TMP/openapi.json ADOC=$IT_TMP/openapi_admin.json
check_server lull-ingress "$ING_URL" ingress/ingress_routes.def "$DOC"
check_server lull-admin "$ADM_URL" admin/admin_routes.def "$ADOC"
it_check_eq "lull-ingress documents no bearer route" 0 "$(jq '[.paths[][] | select(.security | length > 0)] | length' "$DOC")"
it_check "lull-admin documents the admin API" test "$(jq '[.paths[][] | select(.security | length > 0)] | length' "$ADOC")" -ge 35
jq '.paths["/webhook"].post.parameters = [{"name": "x", "in": "query", "schema": {"type": "strin"}}]' "$DOC" \
    >"$IT_TMP/broken.json"
it_check_eq "negative control: swagger-parser refuses a broken copy" invalid \
    "$(validate "$IT_TMP/broken.json" >/dev/null 2>&1 && echo valid || echo invalid)"

# neither server answers the other's routes (its own /health and /openapi.json aside)
cross() {  # BASE DOC: the operations of DOC that BASE routes
    local m p out=""
    while read -r m p; do
        case $p in /health | /openapi.json) continue ;; esac
        call "$1" "$m" "$p"
        [[ "$r" =~ ^404\ .*\"no\ such\ route ]] || out+=" [$m $p: $r]"
    done < <(jq -r '.paths | to_entries[] | .key as $p | .value | keys[] | "\(ascii_upcase) \($p)"' "$2")
    echo "$out"
}
it_check_eq "lull-ingress answers 404 to every lull-admin operation" "" "$(cross "$ING_URL" "$ADOC")"
it_check_eq "lull-admin answers 404 to every lull-ingress operation" "" "$(cross "$ADM_URL" "$DOC")"

# Prism boots (a few seconds each), mocking from the documents the servers served.
PP=$(it_free_port) PA=$(it_free_port)
PRISM_URL=http://127.0.0.1:$PP PRISM_ADMIN_URL=http://127.0.0.1:$PA
it_start prism "$PRISM" mock -h 127.0.0.1 -p "$PP" "$DOC"
PRISM_PID=$IT_LAST_PID
it_start prism_admin "$PRISM" mock -h 127.0.0.1 -p "$PA" "$ADOC"
PRISM_ADMIN_PID=$IT_LAST_PID

# --- Prism validates from each document what its server validates ---------------------------------------------
prism_up() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1/health")" = 200 ]; }
it_wait_up prism "$PRISM_PID" 60 prism_up "$PRISM_URL" || it_finish
it_wait_up prism_admin "$PRISM_ADMIN_PID" 60 prism_up "$PRISM_ADMIN_URL" || it_finish
# agree DESC PATH BODY PRISM SERVER [curl args…]: the same POST to Prism ($AG_PRISM) and the server ($AG_SERVER). PRISM is its status, "+violations"
# when it found the request invalid (its sl-violations header names the request; it then answers the
# document's 400, or 401 for the security scheme). Its violations of its own mocked answers do not count.
agree() {
    local desc=$1 path=$2 body=$3 want="$4 $5" p i h="$IT_TMP/prism.headers"; shift 5
    p=$(curl -s -D "$h" -o /dev/null -w '%{http_code}' --max-time 10 -X POST "$@" ${body:+--data-binary "$body"} \
        "$AG_PRISM$path")
    grep -i '^sl-violations:' "$h" >>"$IT_TMP/check.log"
    grep -qi '^sl-violations:.*"location":\["request"' "$h" && p+=+violations
    i=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST "$@" ${body:+--data-binary "$body"} \
        "$AG_SERVER$path")
    it_check_eq "prism / $AG_NAME: $desc" "$want" "$p $i"
}
R=400+violations  # refused by Prism's validation
AG_PRISM=$PRISM_URL AG_SERVER=$ING_URL AG_NAME=ingress
J=(-H 'Content-Type: application/json')
A=(-H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN")
agree "generic webhook accepted" /webhook \
    '{"contact_id":"c-oa","message":{"body":"hello","id":"oa-1"},"first_name":"Ada"}' 200 200 "${J[@]}"
agree "generic webhook, integer contact_id" /webhook '{"contact_id":42,"message":{"body":"hi"}}' 200 200 "${J[@]}"
agree "generic webhook without contact_id refused" /webhook '{"message":{"body":"x"}}' $R 400 "${J[@]}"
agree "generic webhook, empty contact_id refused" /webhook '{"contact_id":"","message":{"body":"x"}}' $R 400 "${J[@]}"
agree "generic webhook, boolean contact_id refused" /webhook '{"contact_id":true,"message":{"body":"x"}}' $R 400 "${J[@]}"
agree "generic webhook without message.body refused" /webhook '{"contact_id":"c","message":{}}' $R 400 "${J[@]}"
agree "generic webhook, numeric first_name refused" /webhook '{"contact_id":"c","message":{"body":"x"},"first_name":7}' \
    $R 400 "${J[@]}"
agree "chat message without sessionId refused" /api/v1/chat/message '{"message":"x"}' $R 400 "${J[@]}"
tw=(MessageSid=$(sm oa1) From=+15550001111 To=+15559990000 Body=hello)
tw_args=(); for kv in "${tw[@]}"; do tw_args+=(--data-urlencode "$kv"); done
agree "Twilio form accepted" /webhook/twilio "" 200 200 "${tw_args[@]}" \
    -H "X-Twilio-Signature: $(twilio_sig https://lull.example.com/webhook/twilio "${tw[@]}")"
agree "Twilio form without MessageSid refused" /webhook/twilio "" $R 400 "${tw_args[@]:2}" \
    -H "X-Twilio-Signature: $(twilio_sig https://lull.example.com/webhook/twilio "${tw[@]:1}")"
body=$(tiktok_body im_receive_msg 7300000000000000001 hello)
agree "TikTok event accepted" /webhook/tiktok "$body" 200 200 "${J[@]}" -H "Tiktok-Signature: $(tiktok_sig "$body")"
body=$(jq -c 'del(.event)' <<<"$body")
agree "TikTok event without event refused" /webhook/tiktok "$body" $R 400 "${J[@]}" \
    -H "Tiktok-Signature: $(tiktok_sig "$body")"
# admin: lull-admin answers 504 for a valid dry run here (no scheduler), 400 for an invalid body
AG_PRISM=$PRISM_ADMIN_URL AG_SERVER=$ADM_URL AG_NAME=admin
agree "dry run accepted (4000 bytes)" /api/v1/test/reply "{\"text\":\"$(printf 'a%.0s' {1..4000})\"}" 200 504 "${A[@]}"
agree "dry run over 4000 bytes refused" /api/v1/test/reply "{\"text\":\"$(printf 'a%.0s' {1..4001})\"}" $R 400 "${A[@]}"
agree "dry run, empty text refused" /api/v1/test/analyse '{"text":""}' $R 400 "${A[@]}"
agree "dry run, tenant_id 0 refused" /api/v1/test/analyze '{"text":"hi","tenant_id":0}' $R 400 "${A[@]}"
agree "dry run without a token refused" /api/v1/test/reply '{"text":"hi"}' 401+violations 401 "${J[@]}"
agree "human reply, malformed Idempotency-Key refused" /api/v1/conversations/1/reply '{"body":"hi"}' $R 400 \
    "${A[@]}" -H 'Idempotency-Key: not a key!'
agree "tenant created" /api/v1/tenants '{"slug":"openapi-t","window_ms":1000}' 201 201 "${A[@]}"
agree "tenant with a bad slug refused" /api/v1/tenants '{"slug":"Not A Slug"}' $R 400 "${A[@]}"
agree "tenant with an unknown field refused" /api/v1/tenants '{"slug":"openapi-u","colour":"red"}' $R 400 "${A[@]}"
agree "inventory item with an unknown status refused" /api/v1/inventory '{"tenant_id":1,"sku":"s1","status":"lost"}' \
    $R 400 "${A[@]}"
it_finish
