#!/usr/bin/env bash
# GET /openapi.json describes lull-ingress as it is: it is served (200 JSON, OpenAPI 3.0.3, cacheable, no
# token), it is a valid OpenAPI 3 document (swagger-parser), it lists the same routes as the code both ways
# (every documented operation is routed, every other method of a documented path is 405, every route of the
# route tables is documented), and Prism, mocking from the served document, accepts and refuses the same
# requests as ingress.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingress_lib.sh"
NODE_DIR=$LULL_ROOT/tests/node
PRISM=$NODE_DIR/node_modules/.bin/prism
PARSER=$NODE_DIR/node_modules/@apidevtools/swagger-parser
TOKEN=test-admin-token-openapi
DOC=$IT_TMP/openapi.json
it_check "test tools installed (scripts/node-deps)" test -x "$PRISM" -a -d "$PARSER"
it_db_create || it_finish
# no scheduler and no sender: window and dry-run routes answer 503 / 504 at once (ZMQ_IMMEDIATE)
ing_start LULL_ADMIN_TOKEN="$TOKEN" LULL_SCHEDULER_CONTROLS="tcp://127.0.0.1:$(it_free_port)" \
    LULL_SENDERS="tcp://127.0.0.1:$(it_free_port)" || it_finish

# --- served -----------------------------------------------------------------------------------------------
code=$(curl -s -D "$IT_TMP/doc.headers" -o "$DOC" -w '%{http_code}' --max-time 5 "$ING_URL/openapi.json")
it_check_eq "GET /openapi.json answers 200 without a token" 200 "$code"
it_check "it is application/json" grep -qi '^Content-Type: application/json' "$IT_TMP/doc.headers"
it_check "it may be cached for 5 minutes" grep -qi '^Cache-Control: public, max-age=300' "$IT_TMP/doc.headers"
it_check_eq "openapi is 3.0.3" 3.0.3 "$(jq -r .openapi "$DOC" 2>/dev/null)"
it_check_eq "servers name no host" "" \
    "$(jq -r '.servers[]?.url | select(test("://") or (startswith("/") | not))' "$DOC")"
code=$(curl -s -I -o "$IT_TMP/head.headers" -w '%{http_code}' --max-time 5 "$ING_URL/openapi.json")
hlen=$(tr -d '\r' <"$IT_TMP/head.headers" | sed -n 's/^[Cc]ontent-[Ll]ength: //p')
it_check_eq "HEAD /openapi.json: 200 with the length of the document" "200 $(stat -c %s "$DOC")" "$code $hlen"

# Prism boots while the rest runs (a few seconds): it mocks from the document ingress served.
PP=$(it_free_port)
PRISM_URL=http://127.0.0.1:$PP
it_start prism "$PRISM" mock -h 127.0.0.1 -p "$PP" "$DOC"
PRISM_PID=$IT_LAST_PID

# --- a valid OpenAPI 3 document -------------------------------------------------------------------------
validate() {  # FILE: swagger-parser checks it against the OpenAPI 3.0 schema (Prism itself loads invalid ones)
    node -e 'require(process.argv[1]).validate(process.argv[2]).then(() => console.log("valid"),
        e => { console.error(e.message); process.exit(1); })' "$PARSER" "$1"
}
it_check "the document is valid OpenAPI 3.0 (swagger-parser)" validate "$DOC"
jq '.paths["/webhook"].post.parameters = [{"name": "x", "in": "query", "schema": {"type": "strin"}}]' "$DOC" \
    >"$IT_TMP/broken.json"
it_check_eq "negative control: swagger-parser refuses a broken copy" invalid \
    "$(validate "$IT_TMP/broken.json" >/dev/null 2>&1 && echo valid || echo invalid)"

# --- every documented operation is a route, and no other method is --------------------------------------
# (METHOD PATH) pairs of the document, path templates filled with values that exist nowhere
ops=$(jq -r '.paths | to_entries[] | .key as $p | .value | keys[] | "\(ascii_upcase) \($p)"' "$DOC")
nops=$(wc -l <<<"$ops")
declare -A documented_op
while read -r m p; do documented_op["$m $p"]=1; done <<<"$ops"
# call METHOD PATH: sets r to "status body" of ingress's answer (a JSON body for the methods that take one)
call() {
    local out="$IT_TMP/call.out" path=${2/\{conversation_id\}/987654321} code body
    path=${path/\{id\}/987654321}
    path=${path/\{sessionId\}/ws_nosuchsession}
    local args=(-s -o "$out" -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $TOKEN")
    case $1 in
        HEAD) args+=(-I) ;;
        GET) args+=(-X GET) ;;
        *) args+=(-X "$1" -H 'Content-Type: application/json' --data-binary '{}') ;;
    esac
    : >"$out"
    code=$(curl "${args[@]}" "$ING_URL$path")
    body=$(<"$out")
    r="$code ${body//$'\n'/ }"
}
# not routed: 405, no answer, or the routers' own 404 ("no such route", "no such admin route", "no such route (…)")
re_unrouted='^(405|000)|^404 .*"message":"no such (admin )?route'
unrouted="" wrong_method=""
while read -r m p; do
    call "$m" "$p"
    [[ "$r" =~ $re_unrouted ]] && unrouted+=" [$m $p: $r]"
done <<<"$ops"
it_check_eq "every documented operation ($nops) is routed by ingress" "" "$unrouted"
nother=0
for p in $(jq -r '.paths | keys[]' "$DOC"); do
    for m in GET HEAD POST PUT PATCH DELETE; do
        [ -n "${documented_op["$m $p"]:-}" ] && continue
        nother=$((nother + 1))
        call "$m" "$p"
        [[ "$r" =~ ^405 ]] || wrong_method+=" [$m $p: $r]"
    done
done
it_check_eq "every other method of a documented path ($nother) answers 405" "" "$wrong_method"

# --- every route of the code is documented --------------------------------------------------------------
# documented PATH [METHOD]: an exact path of the document (with METHOD), or, for a path ending in "/", a
# documented path that continues with a template; for a "/segment" of the admin dispatcher, also a
# documented path ending in "}/segment".
documented() {
    jq -e --arg l "$1" --arg m "${2:-}" '[.paths | to_entries[]
        | select(.key == $l or ($l | endswith("/")) and (.key | startswith($l + "{")) or (.key | endswith("}" + $l)))
        | select($m == "" or (.value | has($m)))] | length > 0' "$DOC" >/dev/null
}
missing="" n=0
# ingress_http.c's route table: {"/path", prefix, "METHOD", R_…}
while IFS='|' read -r path prefix method; do
    n=$((n + 1))
    documented "$path" "${method,,}" || missing+=" [$method $path]"
done < <(grep -oE '\{"/[^"]*", (true|false), "[A-Z]+", R_[A-Z_]+\}' "$LULL_ROOT/ingress/ingress_http.c" |
    sed -E 's/^\{"([^"]*)", (true|false), "([A-Z]+)".*/\1|\2|\3/')
it_check "ingress_http.c's route table was read ($n rows)" test "$n" -ge 10
# the admin dispatcher's path literals (ingress_admin.c s_dispatch) and the resource routes (ingress_admin_crud.c)
ADMIN_C=$LULL_ROOT/ingress/ingress_admin.c CRUD_C=$LULL_ROOT/ingress/ingress_admin_crud.c
lits=$(sed -n '/^static void s_dispatch(/,/^}/p' "$ADMIN_C" | grep -oE '"/[^"]*"' | tr -d '"' | sort -u)
lits+=$'\n'$(grep -oE 'strcmp\(path, "/[^"]*"\)' "$CRUD_C" | grep -oE '"/[^"]*"' | tr -d '"')
for r in $(sed -n '/^static const s_resource_t s_resources\[\]/,/^};/p' "$CRUD_C" |
    grep -oE '^ *\{"[a-z_]+"' | tr -d ' {"'); do
    lits+=$'\n'"/api/v1/$r"$'\n'"/api/v1/$r/"
done
nl=0
for l in $lits; do
    nl=$((nl + 1))
    documented "$l" || missing+=" [$l]"
done
it_check "the admin route literals were read ($nl)" test "$nl" -ge 25
it_check_eq "every route of the route tables is documented" "" "$missing"

# --- Prism validates from the document what ingress validates ---------------------------------------------
prism_up() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$PRISM_URL/health")" = 200 ]; }
it_wait_up prism "$PRISM_PID" 60 prism_up || it_finish
# agree DESC PATH BODY PRISM INGRESS [curl args…]: the same POST to both. PRISM is its status, "+violations"
# when it found the request invalid (its sl-violations header names the request; it then answers the
# document's 400, or 401 for the security scheme). Its violations of its own mocked answers do not count.
agree() {
    local desc=$1 path=$2 body=$3 want="$4 $5" p i h="$IT_TMP/prism.headers"; shift 5
    p=$(curl -s -D "$h" -o /dev/null -w '%{http_code}' --max-time 10 -X POST "$@" ${body:+--data-binary "$body"} \
        "$PRISM_URL$path")
    grep -i '^sl-violations:' "$h" >>"$IT_TMP/check.log"
    grep -qi '^sl-violations:.*"location":\["request"' "$h" && p+=+violations
    i=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST "$@" ${body:+--data-binary "$body"} \
        "$ING_URL$path")
    it_check_eq "prism / ingress: $desc" "$want" "$p $i"
}
R=400+violations  # refused by Prism's validation
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
# admin: ingress answers 504 for a valid dry run here (no scheduler), 400 for an invalid body
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
