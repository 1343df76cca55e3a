#!/usr/bin/env bash
# Twilio webhooks signed by the official `twilio` npm library (tests/it/twilio_lib.js). For every request the
# library's own validateRequest / validateRequestWithBody gives the verdict and lull-ingress must agree: 200 when
# the library accepts, 403 when it refuses. Covers a query whose apostrophe arrives as %27 while Twilio signed
# o'brien (and the other rewrites of Node's legacy querystring), ports, JSON bodies signed by bodySHA256 on
# /webhook/twilio and /webhook/twilio/status, and the receiving/received status callbacks.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingress_lib.sh"
export NODE_PATH=$LULL_ROOT/tests/node/node_modules
it_check "the twilio npm library is installed" test -f "$NODE_PATH/twilio/package.json"
it_db_create || it_finish
ing_start || it_finish

# lib_run : signs the cases of $IT_TMP/cases.jsonl with the library into $IT_TMP/signed.jsonl.
lib_run() { node "$LULL_ROOT/tests/it/twilio_lib.js" "$ING_TOKEN" <"$IT_TMP/cases.jsonl" >"$IT_TMP/signed.jsonl"; }
# lib_field N FIELD : FIELD of the N-th (from 1) signed case.
lib_field() { sed -n "${1}p" "$IT_TMP/signed.jsonl" | jq -r ".$2"; }
# verdict VALID : the answer lull owes a request the library judged VALID.
verdict() { if [ "$1" = true ]; then echo 200; else echo 403; fi; }

# --- the query, as the library rewrites it: NAME|QUERY SENT|QUERY SIGNED|LIBRARY'S VERDICT ----------------
cases=(
    "apostrophe sent as %27, signed as '|?name=o%27brien|?name=o'brien|true"
    "apostrophe sent as %27, signed as %27|?name=o%27brien|?name=o%27brien|true"
    "apostrophe sent raw, signed as %27|?name=o'brien|?name=o%27brien|true"
    "apostrophe sent as %27, signed for another name|?name=o%27brien|?name=o'brian|false"
    "repeated names grouped at the first|?a=1&b=2&a=3|?a=1&a=3&b=2|true"
    "array-index names first|?b=1&2=x&10=y|?2=x&10=y&b=1|true"
    "a reordered query|?a=1&b=2|?b=2&a=1|false"
    "+ signed as %20|?q=a+b|?q=a%20b|true"
    "a name without a value signed with =|?flag|?flag=|true"
    "a colon sent raw, signed encoded|?x=:|?x=%3A|true"
    "a colon sent encoded, signed raw|?x=%3A|?x=:|false"
    "UTF-8 sent encoded, signed raw|?e=%C3%A9|?e=é|false"
    "a malformed escape signed as %25|?p=100%|?p=100%25|true"
    "the query signed with :443 (the library drops a default port)|?name=o%27brien|:443?name=o'brien|false"
)
path=/webhook/twilio
: >"$IT_TMP/cases.jsonl"
for i in "${!cases[@]}"; do
    IFS='|' read -r _ sent signed _ <<<"${cases[$i]}"
    port=""
    if [ "${signed:0:4}" = ":443" ]; then port=:443; signed=${signed:4}; fi
    jq -cn --arg s "https://lull.example.com$port$path$signed" --arg r "https://lull.example.com$path$sent" \
        --arg sid "SM11b0$(printf %028d "$i")" --arg from "+1555000200$i" \
        '{signed:$s, received:$r, params:{MessageSid:$sid, From:$from, To:"+15550009999", Body:"query case"}}' \
        >>"$IT_TMP/cases.jsonl"
done
lib_run
accepted=0
for i in "${!cases[@]}"; do
    IFS='|' read -r name sent _ want <<<"${cases[$i]}"
    valid=$(lib_field $((i + 1)) valid)
    it_check_eq "$name: the library says $want" "$want" "$valid"
    ing_req POST "$path$sent" "" -H "X-Twilio-Signature: $(lib_field $((i + 1)) sig)" \
        --data-urlencode "MessageSid=SM11b0$(printf %028d "$i")" --data-urlencode "From=+1555000200$i" \
        --data-urlencode "To=+15550009999" --data-urlencode "Body=query case"
    it_check_eq "$name: lull agrees" "$(verdict "$valid")" "$ING_CODE"
    [ "$valid" = true ] && accepted=$((accepted + 1))
done
it_check_eq "each accepted query case stored once, no refused one" "$accepted" \
    "$(it_sql "SELECT count(*) FROM messages WHERE provider_message_id LIKE 'SM11b0%'")"

# --- JSON bodies signed by bodySHA256 ----------------------------------------------------------------------
j1='{"MessageSid":"SM50500000000000000000000000000001","From":"+15550003001","To":"+15550009999","Body":"hello as JSON","NumMedia":0,"ProfileName":null}'
j2='{"MessageSid":"SM50500000000000000000000000000002","From":"+15550003002","To":"+15550009999","Body":"tampered"}'
j3='{"MessageSid":"SM50500000000000000000000000000003","From":"+15550003003","To":"+15550009999","Body":"more query","SmsStatus":"received"}'
{
    jq -cn --arg b "$j1" '{signed:"https://lull.example.com/webhook/twilio?bodySHA256={sha}",
                           received:"https://lull.example.com/webhook/twilio?bodySHA256={sha}", body:$b}'
    jq -cn --arg b "$j2" --arg h "$j1" '{signed:"https://lull.example.com/webhook/twilio?bodySHA256={sha}",
                           received:"https://lull.example.com/webhook/twilio?bodySHA256={sha}", body:$b, hashed:$h}'
    jq -cn --arg b "$j3" '{signed:"https://lull.example.com/webhook/twilio?tag=o%27brien&bodySHA256={sha}",
                           received:"https://lull.example.com/webhook/twilio?tag=o%27brien&bodySHA256={sha}", body:$b}'
} >"$IT_TMP/cases.jsonl"
lib_run
json_post() {  # N : the N-th signed JSON case, sent with body $2
    local url; url=$(lib_field "$1" received)
    ing_json "${url#https://lull.example.com}" "$2" -H "X-Twilio-Signature: $(lib_field "$1" sig)"
}
it_check_eq "JSON: the library accepts the signed body, refuses the tampered one, accepts with a query" \
    "true false true" "$(lib_field 1 valid) $(lib_field 2 valid) $(lib_field 3 valid)"
json_post 1 "$j1"
it_check_eq "JSON body with bodySHA256 → 200" 200 "$ING_CODE"
it_check_eq "JSON body stored like the form (numbers as text, nulls left out)" "sms|in|hello as JSON|+15550003001|0|f" \
    "$(it_sql "SELECT m.channel, m.direction, m.body, c.external_id, m.raw->>'NumMedia', m.raw ? 'ProfileName'
               FROM messages m JOIN conversations v ON v.id = m.conversation_id JOIN contacts c ON c.id = v.contact_id
               WHERE m.provider_message_id = 'SM50500000000000000000000000000001'")"
json_post 2 "$j2"
it_check_eq "JSON body that does not hash to bodySHA256 → 403" "403|invalid_signature" \
    "$ING_CODE|$(jq -r .error.code <<<"$ING_BODY")"
json_post 3 "$j3"
it_check_eq "JSON body with bodySHA256 after a %27 query → 200" 200 "$ING_CODE"
json_post 1 "[$j1]"
it_check_eq "a JSON array is not Twilio's → 400 (before any signature check)" "400|malformed_json" \
    "$ING_CODE|$(jq -r .error.code <<<"$ING_BODY")"
json_post 1 '{"MessageSid":"SM50500000000000000000000000000004","From":{"phone":"+1"},"To":"+15550009999"}'
it_check_eq "a JSON object value → 400 invalid_field" "400|invalid_field" "$ING_CODE|$(jq -r .error.code <<<"$ING_BODY")"
ing_json /webhook/twilio "$j1" -H "X-Twilio-Signature: $(lib_field 1 sig)"
it_check_eq "JSON without bodySHA256 in the URL → 415 as before" "415|unsupported_media_type" \
    "$ING_CODE|$(jq -r .error.code <<<"$ING_BODY")"
it_check_eq "only the two valid JSON messages were stored" 2 \
    "$(it_sql "SELECT count(*) FROM messages WHERE provider_message_id LIKE 'SM5050%'")"

# --- status callbacks: receiving and received rank below sent --------------------------------------------
SID=SM00112233445566778899aabbccddeeff
SID2=SMffeeddccbbaa99887766554433221100
o1=$(it_sql "INSERT INTO outbox (tenant_id, channel, recipient, payload, idempotency_key, status, provider_message_id)
             VALUES (1, 'sms', '+15550001111', '{\"body\":\"hi\",\"kind\":\"reply\"}', 'lib1', 'sent', '$SID') RETURNING id")
o2=$(it_sql "INSERT INTO outbox (tenant_id, channel, recipient, payload, idempotency_key, status, provider_message_id)
             VALUES (1, 'sms', '+15550001112', '{\"body\":\"hi\",\"kind\":\"reply\"}', 'lib2', 'sent', '$SID2') RETURNING id")
statuses=(receiving received receiving sent received delivered)
: >"$IT_TMP/cases.jsonl"
for st in "${statuses[@]}"; do
    jq -cn --arg u "https://lull.example.com/webhook/twilio/status?outbox=$o1" --arg sid "$SID" --arg st "$st" \
        '{signed:$u, received:$u, params:{MessageSid:$sid, MessageStatus:$st, AccountSid:"AC1"}}' >>"$IT_TMP/cases.jsonl"
done
jq -cn --arg b "{\"MessageSid\":\"$SID2\",\"MessageStatus\":\"received\"}" \
    '{signed:"https://lull.example.com/webhook/twilio/status?bodySHA256={sha}",
      received:"https://lull.example.com/webhook/twilio/status?bodySHA256={sha}", body:$b}' >>"$IT_TMP/cases.jsonl"
lib_run
status_post() {  # N STATUS : the N-th signed status case
    ing_req POST "/webhook/twilio/status?outbox=$o1" "" -H "X-Twilio-Signature: $(lib_field "$1" sig)" \
        --data-urlencode "MessageSid=$SID" --data-urlencode "MessageStatus=$2" --data-urlencode "AccountSid=AC1"
    echo "$ING_CODE|$(jq -r .updated <<<"$ING_BODY")|$(it_sql "SELECT delivery_status FROM outbox WHERE id = $o1")"
}
it_check_eq "receiving on a row with none → 200, moves" "200|true|receiving" "$(status_post 1 receiving)"
it_check_eq "received after receiving moves forward" "200|true|received" "$(status_post 2 received)"
it_check_eq "receiving after received changes nothing" "200|false|received" "$(status_post 3 receiving)"
it_check_eq "sent after received moves forward" "200|true|sent" "$(status_post 4 sent)"
it_check_eq "received after sent changes nothing" "200|false|sent" "$(status_post 5 received)"
it_check_eq "delivered after sent" "200|true|delivered" "$(status_post 6 delivered)"
json_status=$(lib_field 7 received)
ing_json "${json_status#https://lull.example.com}" "{\"MessageSid\":\"$SID2\",\"MessageStatus\":\"received\"}" \
    -H "X-Twilio-Signature: $(lib_field 7 sig)"
it_check_eq "a JSON status callback signed by bodySHA256 → 200, received" "200|true|received" \
    "$ING_CODE|$(jq -r .updated <<<"$ING_BODY")|$(it_sql "SELECT delivery_status FROM outbox WHERE id = $o2")"
it_stop "$ING_PID"
it_check_eq "ingress exits 0" 0 "$IT_RC"

# --- a public URL with a port that is not the scheme's: the library tries the rewrite with and without it ----
ing_start LULL_PUBLIC_URL=https://lull.example.com:8443 || it_finish
port_cases=(
    "port kept, apostrophe signed as '|https://lull.example.com:8443|true"
    "port dropped, apostrophe signed as '|https://lull.example.com|true"
    "another port, apostrophe signed as '|https://lull.example.com:9443|false"
)
: >"$IT_TMP/cases.jsonl"
for i in "${!port_cases[@]}"; do
    IFS='|' read -r _ base _ <<<"${port_cases[$i]}"
    jq -cn --arg s "$base/webhook/twilio?name=o'brien" --arg r "https://lull.example.com:8443/webhook/twilio?name=o%27brien" \
        --arg sid "SM9047$(printf %028d "$i")" --arg from "+1555000400$i" \
        '{signed:$s, received:$r, params:{MessageSid:$sid, From:$from, To:"+15550009999"}}' >>"$IT_TMP/cases.jsonl"
done
lib_run
for i in "${!port_cases[@]}"; do
    IFS='|' read -r name _ want <<<"${port_cases[$i]}"
    valid=$(lib_field $((i + 1)) valid)
    it_check_eq "$name: the library says $want" "$want" "$valid"
    ing_req POST "/webhook/twilio?name=o%27brien" "" -H "X-Twilio-Signature: $(lib_field $((i + 1)) sig)" \
        --data-urlencode "MessageSid=SM9047$(printf %028d "$i")" --data-urlencode "From=+1555000400$i" --data-urlencode "To=+15550009999"
    it_check_eq "$name: lull agrees" "$(verdict "$valid")" "$ING_CODE"
done
it_stop "$ING_PID"
it_check_eq "second ingress exits 0" 0 "$IT_RC"
it_finish
