#!/usr/bin/env bash
# lull-ingress deduplication: the same provider message id 5 times in a row and 5 times at once (per channel)
# stores one row, answers 2xx with the same message id every time, changes no conversation state, and wakes the
# scheduler once. A lone webhook is stored by lull_ingress_store_rows (the writer's call for one row), the
# duplicates answered by it too.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingress_lib.sh"
it_db_create || it_finish
# the writer's calls are counted in pg_stat_user_functions
it_sql "DO \$\$ BEGIN EXECUTE format('ALTER DATABASE %I SET track_functions = ''pl''', current_database()); END \$\$" >/dev/null
ing_start

DUPSEQ=$(sm dup-seq)  # an id a Twilio SID could be: the generic webhook and Twilio share it
body='{"contact_id":"d1","message":{"body":"once","id":"'$DUPSEQ'"}}'
ids=()
for i in 1 2 3 4 5; do
    ing_json /webhook "$body"
    [ "$ING_CODE" = 200 ] || it_fail "sequential duplicate $i answered $ING_CODE"
    ids+=("$(jq -r .message_id <<<"$ING_BODY")")
done
it_check_eq "5 sequential copies: one row" 1 "$(it_sql "SELECT count(*) FROM messages WHERE provider_message_id = '$DUPSEQ'")"
it_check_eq "5 sequential copies: the same message_id every time" 1 "$(printf '%s\n' "${ids[@]}" | sort -u | wc -l)"
it_check_eq "the answered id is the stored row" "$(it_sql "SELECT id FROM messages WHERE provider_message_id = '$DUPSEQ'")" "${ids[0]}"
state=$(it_sql "SELECT last_inbound_id, last_inbound_at, updated_at FROM conversations")
ing_json /webhook "$body"
it_check_eq "a duplicate changes no conversation state" "$state" "$(it_sql "SELECT last_inbound_id, last_inbound_at, updated_at FROM conversations")"
calls() { it_sql "SELECT coalesce(sum(calls) FILTER (WHERE funcname = '$1'), 0) FROM pg_stat_user_functions"; }
it_wait_for "the six lone webhooks were stored by lull_ingress_store_rows" 20 sh -c \
    "[ \"\$(psql '$LULL_DATABASE_URL' -X -A -t -c \"SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions WHERE funcname = 'lull_ingress_store_rows'\")\" -ge 6 ]"
it_check "the six lone webhooks were stored by lull_ingress_store_rows" test "$(calls lull_ingress_store_rows)" -ge 6
it_check_eq "… and none by lull_ingress_store" 0 "$(calls lull_ingress_store)"

# 5 concurrent copies, for the generic, Twilio and TikTok channels
conc() {  # name, command (run 5 times at once); checks all answered 200
    local name=$1; shift
    local pids=() i
    for i in 1 2 3 4 5; do
        ( "$@"; echo "$ING_CODE $(jq -r '.message_id // empty' <<<"$ING_BODY" 2>/dev/null)" >"$IT_TMP/conc.$name.$i" ) &
        pids+=($!)
    done
    wait "${pids[@]}"
    local codes
    codes=$(cat "$IT_TMP"/conc."$name".* | awk '{print $1}' | sort -u | tr '\n' ' ')
    it_check_eq "$name: 5 concurrent copies all answered 200" "200 " "$codes"
}
conc generic ing_json /webhook '{"contact_id":"d2","message":{"body":"c","id":"dup-conc"}}'
it_check_eq "generic: 5 concurrent copies, one row" 1 "$(it_sql "SELECT count(*) FROM messages WHERE provider_message_id = 'dup-conc'")"
it_check_eq "generic: concurrent copies answered one message_id" 1 "$(cat "$IT_TMP"/conc.generic.* | awk '{print $2}' | sort -u | wc -l)"
conc twilio twilio_post MessageSid=$(sm dup) From=+15551112222 To=+15553334444 Body=twice
it_check_eq "twilio: 5 concurrent copies, one row" 1 "$(it_sql "SELECT count(*) FROM messages WHERE provider_message_id = '$(sm dup)'")"
tt=$(tiktok_body im_receive_msg 7300000000000000077 "tt dup")
conc tiktok tiktok_post "$tt"
it_check_eq "tiktok: 5 concurrent copies, one row" 1 "$(it_sql "SELECT count(*) FROM messages WHERE provider_message_id = '7300000000000000077'")"

it_check_eq "same id on another channel is another message" 200 "$(twilio_post MessageSid=$DUPSEQ From=+1 To=+2; echo "$ING_CODE")"
it_check_eq "… and stored" 2 "$(it_sql "SELECT count(*) FROM messages WHERE provider_message_id = '$DUPSEQ'")"

# Generic webhook ids are per tenant: tenant A's "order-1001" does not make tenant B's real "order-1001" a
# duplicate, and no answer names the other tenant's rows.
it_sql "INSERT INTO tenants (slug) VALUES ('ta'), ('tb')" >/dev/null
ta=$(it_sql "SELECT id FROM tenants WHERE slug = 'ta'")
tb=$(it_sql "SELECT id FROM tenants WHERE slug = 'tb'")
ing_json /webhook '{"tenant":"ta","contact_id":"x1","message":{"body":"planted by A","id":"order-1001"}}'
a_code=$ING_CODE a_mid=$(jq -r .message_id <<<"$ING_BODY")
ing_json /webhook '{"tenant":"tb","contact_id":"c-b","message":{"body":"the real order","id":"order-1001"}}'
b_mid=$(jq -r .message_id <<<"$ING_BODY")
it_check_eq "cross-tenant: both stored (200, 200)" "200 200" "$a_code $ING_CODE"
it_check_eq "cross-tenant: B's message is new, not a duplicate" "false" "$(jq -r '.duplicate // false' <<<"$ING_BODY")"
it_check_eq "cross-tenant: one row per tenant" "$ta|planted by A
$tb|the real order" "$(it_sql "SELECT tenant_id, body FROM messages WHERE provider_message_id = 'order-1001' ORDER BY tenant_id")"
it_check_eq "cross-tenant: B's answer names B's row" "$tb|the real order" "$(it_sql "SELECT tenant_id, body FROM messages WHERE id = $b_mid")"
it_check "cross-tenant: B's answer is not A's id" test "$b_mid" != "$a_mid"
ing_json /webhook '{"tenant":"tb","contact_id":"c-b","message":{"body":"the real order","id":"order-1001"}}'
it_check_eq "cross-tenant: B's retry is B's duplicate" "200 $b_mid true" \
    "$ING_CODE $(jq -r '.message_id, .duplicate' <<<"$ING_BODY" | tr '\n' ' ' | sed 's/ $//')"
# both tenants at once (likely in one batch): still one row each, each answered its own tenant's id
pids=()
for i in 1 2 3; do
    for t in a b; do
        ( ing_json /webhook "{\"tenant\":\"t$t\",\"contact_id\":\"x2\",\"message\":{\"body\":\"$t\",\"id\":\"order-2002\"}}"
          echo "$ING_CODE $(jq -r '.message_id // empty' <<<"$ING_BODY" 2>/dev/null)" >"$IT_TMP/x.$t.$i" ) &
        pids+=($!)
    done
done
wait "${pids[@]}"
it_check_eq "cross-tenant, concurrent: one row per tenant" "$ta|a
$tb|b" "$(it_sql "SELECT tenant_id, body FROM messages WHERE provider_message_id = 'order-2002' ORDER BY tenant_id")"
for t in a b; do
    it_check_eq "cross-tenant, concurrent: t$t answered 200 and its own row every time" \
        "200 $(it_sql "SELECT m.id FROM messages m JOIN tenants t ON t.id = m.tenant_id WHERE t.slug = 't$t' AND provider_message_id = 'order-2002'")" \
        "$(sort -u "$IT_TMP"/x.$t.*)"
done

rows=$(it_sql "SELECT count(*) FROM messages WHERE direction = 'in'")
it_wait_for "INBOUND for each new message" 5 sh -c "[ \$(wc -l <'$ING_SINK') -ge $rows ]"
sleep 0.2  # would-be extra wake-ups are already in flight by now; none may arrive
it_check_eq "one INBOUND per stored message, none for duplicates" "$rows" "$(sink_count '.type=="inbound"')"
it_check_match "duplicates counted" 'lull_ingress_inbound_total\{channel="generic",outcome="duplicate"\} ([5-9]|1[0-9])' "$(curl -s "$ING_OPS/metrics")"
it_finish
