#!/usr/bin/env bash
# Agents of lull-admin: lullctl agents add/list/revoke (the token printed once, never listed, only its salted
# hash stored); role agent on the conversation routes and 403 on the admin ones; an admin agent everywhere;
# a revoked token refused at once; wrong tokens 401; more than LULL_ADMIN_AUTH_FAIL_MAX failures from one
# address → 429 with Retry-After for LULL_ADMIN_AUTH_LOCK_MS (other addresses unaffected), then it recovers;
# human replies and hand-backs record their agent and the API shows it; no token or hash in any log.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scheduler_lib.sh"
source "$(dirname "$0")/admin_lib.sh"
it_db_create || it_finish

it_sql "UPDATE tenants SET window_ms = 60000, max_wait_ms = 120000, human_pause_ms = 600000 WHERE slug = 'default'" >/dev/null
sched_start sched
# the lockout counts over a 30 s window; a locked address is refused for 5 s (the real default: 10, a minute each)
adm_start admin LULL_ADMIN_AUTH_WINDOW_MS=30000 LULL_ADMIN_AUTH_LOCK_MS=5000
export LULL_ADMIN_URL=$ADM_URL LULL_ADMIN_TOKEN=$ADM_TOKEN
CTL="$LULL_BIN/lullctl"
ctl() { CTL_OUT=$("$CTL" "$@" 2>"$IT_TMP/ctl.err"); CTL_RC=$?; CTL_ERR=$(cat "$IT_TMP/ctl.err"); }
# as TOKEN METHOD PATH [BODY] [curl args…] : a request with TOKEN; sets ADM_CODE, ADM_BODY and ADM_HEAD.
as() {
    local tok=$1 method=$2 path=$3 body=${4:-} out="$IT_TMP/as.$BASHPID"; shift 3; [ $# -gt 0 ] && shift
    ADM_CODE=$(curl -s -o "$out" -D "$out.h" -w '%{http_code}' -X "$method" --max-time 10 \
        -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' "$@" ${body:+--data-binary "$body"} \
        "$ADM_URL$path")
    ADM_BODY=$(cat "$out" 2>/dev/null); ADM_HEAD=$(cat "$out.h" 2>/dev/null)
}
TOKEN_RE='^lla_[1-9][0-9]*_[A-Za-z0-9_-]{43}$'

# --- add ---------------------------------------------------------------------------------------------------
ctl agents add alice --display-name "Alice A."
it_check_eq "agents add exits 0" 0 "$CTL_RC"
it_check_match "the token alone on stdout" "$TOKEN_RE" "$CTL_OUT"
it_check_match "stderr says it is shown once" "shown this once" "$CTL_ERR"
ALICE=$CTL_OUT
ctl agents add boss --role admin
BOSS=$CTL_OUT
it_check_match "admin agent added" "$TOKEN_RE" "$BOSS"
ctl agents add "carol.b_c-d 2" --role agent
it_check_eq "names take . _ - space and digits" 0 "$CTL_RC"
CAROL=$CTL_OUT
ctl agents add alice
it_check_eq "a taken name → 1" 1 "$CTL_RC"
it_check_match "409 name_taken" "name_taken" "$CTL_ERR"
ctl agents add "bad/name"
it_check_eq "a bad name → 1" 1 "$CTL_RC"
it_check_match "400 names the rule" "'name' must be 1 to 64" "$CTL_ERR"
ctl agents add "$(printf 'x%.0s' {1..65})"
it_check_eq "a 65-character name → 1" 1 "$CTL_RC"
ctl agents add dave --role root
it_check_match "a bad role → 400" "'role' must be agent or admin" "$CTL_ERR"
adm POST /api/v1/agents '{"name":"eve","token_hash":"x"}'
it_check_eq "an unknown field → 400" 400 "$ADM_CODE"
ctl agents add
it_check_eq "add without a name → 64" 64 "$CTL_RC"
alice_id=$(it_sql "SELECT id FROM agents WHERE name = 'alice'")
it_check_match "the token carries the agent's id" "^lla_${alice_id}_" "$ALICE"
it_check_match "only a salted PBKDF2 hash is stored" '^pbkdf2-sha256\$210000\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$' \
    "$(it_sql "SELECT token_hash FROM agents WHERE name = 'alice'")"
it_check_eq "the stored hash holds no part of the token" 0 \
    "$(it_sql "SELECT count(*) FROM agents WHERE strpos(token_hash, '${ALICE#lla_*_}') > 0")"

# --- list ---------------------------------------------------------------------------------------------------
ctl agents list
it_check_eq "agents list exits 0" 0 "$CTL_RC"
it_check_match "the table lists alice with her role" "alice +Alice A\. +agent" "$CTL_OUT"
it_check_match "and boss as admin" "boss .* admin" "$CTL_OUT"
ctl --json agents list
it_check_eq "--json: three agents" "alice boss carol.b_c-d 2" "$(jq -r '[.agents[].name] | join(" ")' <<<"$CTL_OUT")"
it_check_eq "no token, no hash in the list" "" "$(grep -E 'lla_|pbkdf2|token' <<<"$CTL_OUT")"
it_check_eq "the fields" "created_at display_name id last_used_at name revoked_at role" \
    "$(jq -r '.agents[0] | keys | join(" ")' <<<"$CTL_OUT")"

# --- roles ---------------------------------------------------------------------------------------------------
m1=$(webhook "+15550001" "where is my order?")
c1=$(it_sql "SELECT conversation_id FROM messages WHERE id = $m1")
as "$ALICE" GET /api/v1/agents/me
it_check_eq "me: 200" 200 "$ADM_CODE"
it_check_eq "me: alice, role agent" "alice Alice A. agent $alice_id" "$(jqr '"\(.name) \(.display_name) \(.role) \(.id)"')"
for path in /api/v1/conversations "/api/v1/conversations/$c1" "/api/v1/conversations/$c1/messages" /api/v1/escalations; do
    as "$ALICE" GET "$path"
    it_check_eq "an agent may GET $path" 200 "$ADM_CODE"
done
for route in "GET /api/v1/tenants" "POST /api/v1/tenants" "GET /api/v1/agents" "GET /api/v1/windows" \
    "GET /api/v1/dead-letters" "GET /api/v1/usage" "GET /api/v1/config" "POST /api/v1/test/reply" "GET /timers"; do
    as "$ALICE" $route '{}'
    it_check_eq "an agent on $route → 403" 403 "$ADM_CODE"
    it_check_eq "  forbidden: requires role admin" "forbidden: this route requires role admin" \
        "$(jqr '"\(.error.code): \(.error.message)"')"
done
it_check_eq "the tenant row untouched by the refused POST" 1 "$(it_sql "SELECT count(*) FROM tenants")"
LULL_ADMIN_TOKEN=$ALICE ctl agents add mallory --role admin
it_check_eq "lullctl with an agent's token cannot add agents" 1 "$CTL_RC"
it_check_match "  and says why" "requires role admin" "$CTL_ERR"
as "$BOSS" GET /api/v1/tenants
it_check_eq "an admin agent may list tenants" 200 "$ADM_CODE"
LULL_ADMIN_TOKEN=$BOSS ctl agents me
it_check_eq "lullctl agents me as boss" "boss (boss), role admin" "$CTL_OUT"
ctl agents me
it_check_eq "the bootstrap token is the admin" "admin (admin), role admin" "$CTL_OUT"
it_check_match "last_used_at is recorded" "t" "$(it_sql "SELECT last_used_at IS NOT NULL FROM agents WHERE name = 'alice'")"

# --- the OpenAPI document says which role each operation needs ----------------------------------------------
adm_noauth GET /openapi.json
it_check_eq "reply: role agent" agent "$(jqr '.paths["/api/v1/conversations/{conversation_id}/reply"].post["x-required-role"]')"
it_check_eq "tenants: role admin" admin "$(jqr '.paths["/api/v1/tenants"].get["x-required-role"]')"
it_check_eq "agents me: role agent" agent "$(jqr '.paths["/api/v1/agents/me"].get["x-required-role"]')"
it_check_eq "health: public" null "$(jqr '.paths["/health"].get["x-required-role"]')"
it_check_eq "429 documented" Error429 "$(jqr '.paths["/api/v1/agents"].post.responses["429"]["$ref"] | split("/") | last')"

# --- the agent acting is recorded ----------------------------------------------------------------------------
as "$ALICE" POST "/api/v1/conversations/$c1/reply" '{"body":"Let me check, one moment."}'
it_check_eq "alice replies: 200" 200 "$ADM_CODE"
it_check_eq "the answer names her" "alice Alice A. $alice_id" "$(jqr '"\(.agent.name) \(.agent.display_name) \(.agent.id)"')"
mid=$(jqr .message_id)
it_check_eq "messages.agent_id / agent_name" "$alice_id|alice" "$(it_sql "SELECT agent_id, agent_name FROM messages WHERE id = $mid")"
adm POST "/api/v1/conversations/$c1/reply" '{"body":"(the owner) Hello!"}'
mid2=$(jqr .message_id)
it_check_eq "the bootstrap token is recorded as admin, no agent row" "|admin" \
    "$(it_sql "SELECT agent_id, agent_name FROM messages WHERE id = $mid2")"
as "$ALICE" GET "/api/v1/conversations/$c1"
it_check_eq "view: the inbound message has no agent" null "$(jqr '.messages[0].agent')"
it_check_eq "view: alice's reply shows her display name" "Alice A." "$(jqr ".messages[] | select(.id == $mid) | .agent.display_name")"
it_check_eq "view: the bootstrap reply shows admin" "admin null" "$(jqr ".messages[] | select(.id == $mid2) | \"\(.agent.name) \(.agent.id)\"")"
it_check_eq "view: paused by the latest reply" "reply admin" "$(jqr '"\(.paused_by.action) \(.paused_by.agent.name)"')"
it_check_eq "view: the actions, oldest first" "reply:alice reply:admin" \
    "$(jqr '[.agent_actions[] | "\(.action):\(.agent.name)"] | join(" ")')"
it_check_eq "view: nothing handed back yet" null "$(jqr .handed_back_by)"
as "$ALICE" GET "/api/v1/conversations/$c1/messages"
it_check_eq "messages list shows the agent" "Alice A." "$(jqr ".messages[] | select(.id == $mid) | .agent.display_name")"
it_check_eq "no token or hash in any answer" "" "$(grep -E 'lla_|pbkdf2|token_hash' <<<"$ADM_BODY")"
as "$ALICE" POST "/api/v1/conversations/$c1/handback"
it_check_eq "alice hands back: 200" 200 "$ADM_CODE"
it_check_eq "the answer names her" alice "$(jqr .handed_back_by.name)"
as "$ALICE" GET "/api/v1/conversations/$c1"
it_check_eq "view: handed back by alice" "handback alice Alice A." \
    "$(jqr '"\(.handed_back_by.action) \(.handed_back_by.agent.name) \(.handed_back_by.agent.display_name)"')"
it_check_eq "agent_actions rows" "reply:alice reply:admin handback:alice" \
    "$(it_sql "SELECT string_agg(action || ':' || agent_name, ' ' ORDER BY id) FROM agent_actions WHERE conversation_id = $c1")"

# --- revoke --------------------------------------------------------------------------------------------------
ctl agents revoke alice
it_check_eq "agents revoke exits 0" 0 "$CTL_RC"
it_check_eq "  and says so" "agent alice revoked" "$CTL_OUT"
as "$ALICE" GET /api/v1/conversations
it_check_eq "a revoked token → 401 at once (though verified a moment ago)" 401 "$ADM_CODE"
ctl agents revoke alice
it_check_eq "revoking again → 1 (404)" 1 "$CTL_RC"
ctl --json agents list
it_check_eq "the list shows the revocation" true "$(jq -r '.agents[] | select(.name == "alice") | .revoked_at != null' <<<"$CTL_OUT")"
ctl agents add alice --display-name "Alice B."
it_check_eq "a revoked name can be given again" 0 "$CTL_RC"
ALICE2=$CTL_OUT
as "$ALICE2" GET /api/v1/agents/me
it_check_eq "the new alice signs in" "Alice B." "$(jqr .display_name)"
as "$ALICE" GET /api/v1/agents/me
it_check_eq "the old token still refused" 401 "$ADM_CODE"
as "$BOSS" GET "/api/v1/conversations/$c1"
it_check_eq "the old reply stays attributed to the old alice" "$alice_id" "$(jqr ".messages[] | select(.id == $mid) | .agent.id")"

# --- wrong tokens ---------------------------------------------------------------------------------------------
boss_id=$(it_sql "SELECT id FROM agents WHERE name = 'boss'")
as "lla_${boss_id}_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" GET /api/v1/conversations
it_check_eq "a well-formed token with a wrong secret → 401" 401 "$ADM_CODE"
it_check_eq "  unauthorized" unauthorized "$(jqr .error.code)"
as "lla_999999_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" GET /api/v1/conversations
it_check_eq "an unknown agent → 401" 401 "$ADM_CODE"
as "${BOSS}x" GET /api/v1/conversations
it_check_eq "a token with a byte more → 401" 401 "$ADM_CODE"
as "wrong" GET /api/v1/conversations
it_check_eq "a wrong bootstrap token → 401" 401 "$ADM_CODE"
adm_noauth GET /api/v1/conversations
it_check_eq "no token → 401" 401 "$ADM_CODE"

# --- lockout -----------------------------------------------------------------------------------------------------
# the failures above came from 127.0.0.1; this client is 127.0.0.2: 10 failures are 401, the 11th 429. Requests
# without any Authorization header are refused but not counted (nothing was guessed).
for i in $(seq 1 12); do adm_noauth GET /api/v1/conversations --interface 127.0.0.2; done
it_check_eq "twelve requests without a token: still 401" 401 "$ADM_CODE"
codes=""
for i in $(seq 1 10); do
    if [ $((i % 2)) -eq 0 ]; then tok="lla_${boss_id}_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"; else tok="nope-$i"; fi
    as "$tok" GET /api/v1/conversations "" --interface 127.0.0.2
    codes="$codes $ADM_CODE"
done
it_check_eq "ten failures: 401 each" " 401 401 401 401 401 401 401 401 401 401" "$codes"
as "nope-11" GET /api/v1/conversations "" --interface 127.0.0.2
it_check_eq "the 11th failure → 429" 429 "$ADM_CODE"
it_check_eq "  too_many_failures" too_many_failures "$(jqr .error.code)"
it_check_match "  with Retry-After" "Retry-After: [1-5]" "$ADM_HEAD"
as "$BOSS" GET /api/v1/conversations "" --interface 127.0.0.2
it_check_eq "while locked, even the right token → 429" 429 "$ADM_CODE"
as "$BOSS" GET /api/v1/conversations
it_check_eq "another address is not locked" 200 "$ADM_CODE"
adm_noauth GET /health --interface 127.0.0.2
it_check_eq "public routes still answer the locked address" 200 "$ADM_CODE"
boss_ok() { as "$BOSS" GET /api/v1/agents/me "" --interface 127.0.0.2; [ "$ADM_CODE" = 200 ]; }
it_wait_for "the lock ends (LULL_ADMIN_AUTH_LOCK_MS)" 30 boss_ok
it_check_eq "then the right token works again" 200 "$ADM_CODE"
it_check_match "the lock was logged" '"ev":"admin.auth_locked".*"client":"127.0.0.2"' "$(cat "$ADM_LOG")"

# --- a lull-admin without a bootstrap token: agents still sign in ------------------------------------------------
p2=$(it_free_port)
it_start admin2 env LULL_ADMIN_PORT="$p2" LULL_OPS_PORT="$(it_free_port)" LULL_SCHEDULER_CONTROLS="$SCHED_CT" \
    LULL_SENDERS= LULL_ADMIN_TOKEN= LULL_LOG_FILE="$IT_TMP/admin2.jsonl" "$LULL_BIN/lull-admin"
it_wait_for "admin2 serving" 10 it_http_ok "http://127.0.0.1:$p2/health"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $BOSS" "http://127.0.0.1:$p2/api/v1/tenants")
it_check_eq "LULL_ADMIN_TOKEN empty: an admin agent still works" 200 "$code"
body=$(curl -s -H "Authorization: Bearer $ADM_TOKEN" "http://127.0.0.1:$p2/api/v1/tenants")
it_check_eq "  and any other token is admin_disabled" admin_disabled "$(jq -r .error.code <<<"$body")"

# --- secrets never logged ----------------------------------------------------------------------------------------
leaks=""
for t in "$ALICE" "$ALICE2" "$BOSS" "$CAROL"; do
    for f in "$IT_TMP"/*; do
        [ -f "$f" ] || continue
        case "$f" in "$IT_TMP"/ctl.err | "$IT_TMP"/as.* | "$IT_TMP"/adm.*) continue ;; esac
        grep -qF -- "${t#lla_*_}" "$f" && leaks="$leaks $(basename "$f")"
    done
done
it_check_eq "no token in any log file" "" "$leaks"
it_check_eq "no hash in any log file" "" "$(grep -l 'pbkdf2' "$IT_TMP"/*.jsonl "$IT_TMP"/*.log 2>/dev/null)"
it_check "the logs were written" test -s "$ADM_LOG"
it_finish
