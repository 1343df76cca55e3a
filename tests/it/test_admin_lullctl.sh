#!/usr/bin/env bash
# lullctl against a running lull-admin + scheduler: tables and --json (parsed with jq), windows/cancel/flush,
# conversations/show/reply/handback/escalations, dead letters and replay, tenants, inventory CSV import,
# usage; tenants create/show/update and prompts set/show/list (flags to fields, the API's 400 message
# printed), the created tenant's window used by the scheduler; exit codes 0 / 1 (API error) / 64 (usage).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scheduler_lib.sh"
source "$(dirname "$0")/admin_lib.sh"
it_db_create || it_finish
it_sql "UPDATE tenants SET window_ms = 60000, max_wait_ms = 120000 WHERE slug = 'default'" >/dev/null
LULL_SCHED_TENANT_REFRESH_MS=200 sched_start sched
adm_start admin LULL_HEALTH_TARGETS="scheduler=http://127.0.0.1:$SCHED_OPS/health"
export LULL_ADMIN_URL=$ADM_URL LULL_ADMIN_TOKEN=$ADM_TOKEN
CTL="$LULL_BIN/lullctl"
ctl() { CTL_OUT=$("$CTL" "$@" 2>"$IT_TMP/ctl.err"); CTL_RC=$?; CTL_ERR=$(cat "$IT_TMP/ctl.err"); }

# --- usage and errors ----------------------------------------------------------------------------------
ctl --help
it_check_eq "--help exits 0" 0 "$CTL_RC"
it_check_match "--help lists the commands" "inventory import FILE.csv" "$CTL_OUT"
ctl
it_check_eq "no command → 64" 64 "$CTL_RC"
ctl frobnicate
it_check_eq "unknown command → 64" 64 "$CTL_RC"
ctl cancel abc
it_check_eq "bad id → 64" 64 "$CTL_RC"
ctl conversations --bogus
it_check_eq "unknown option → 64" 64 "$CTL_RC"
ctl --token wrong windows
it_check_eq "wrong token → 1" 1 "$CTL_RC"
it_check_match "error says why" "unauthorized \\(HTTP 401\\)" "$CTL_ERR"
ctl --url "http://127.0.0.1:$(it_free_port)" windows
it_check_eq "nothing listening → 1" 1 "$CTL_RC"

# --- status / windows --------------------------------------------------------------------------------------
ctl status
it_check_eq "status ok" 0 "$CTL_RC"
it_check_match "status table" "scheduler +ok" "$CTL_OUT"
m1=$(webhook "+15557770001" "hello")
c1=$(it_sql "SELECT conversation_id FROM messages WHERE id = $m1")
it_wait_for "window listed" 5 sh -c "'$CTL' --json windows | jq -e '.windows | length == 1'"
ctl windows
it_check_match "windows table" "^CONV +TENANT +CHANNEL" "$CTL_OUT"
it_check_match "windows row" "$c1 +1 +generic +1 " "$CTL_OUT"
ctl --json windows
it_check_eq "--json parses" "$c1" "$(jq -r '.windows[0].conversation_id' <<<"$CTL_OUT")"
ctl flush "$c1"
it_check_eq "flush ok" 0 "$CTL_RC"
ctl cancel "$c1"
it_check_eq "cancel ok" 0 "$CTL_RC"
ctl cancel "$c1"
it_check_eq "cancel again → 1 (404)" 1 "$CTL_RC"
it_check_match "404 explained" "not_found" "$CTL_ERR"

# --- conversations -------------------------------------------------------------------------------------------
ctl conversations --status open
it_check_match "conversations table" "$c1 +1 +generic +open +\\+15557770001" "$CTL_OUT"
ctl --json conversations --q 7770001
it_check_eq "search through lullctl" "$c1" "$(jq -r '.conversations[0].id' <<<"$CTL_OUT")"
ctl reply "$c1" "A person here, with \"quotes\""
it_check_eq "reply ok" 0 "$CTL_RC"
it_check_eq "reply stored verbatim" 'A person here, with "quotes"' \
    "$(it_sql "SELECT body FROM messages WHERE conversation_id = $c1 AND author = 'human'")"
ctl reply "$c1" "Keyed reply" --key tk-1
ctl reply "$c1" "Keyed reply" --key tk-1
it_check_eq "reply --key twice: ok, one message" "0|1" \
    "$CTL_RC|$(it_sql "SELECT count(*) FROM messages WHERE conversation_id = $c1 AND body = 'Keyed reply'")"
ctl show "$c1"
it_check_match "show prints the messages" "human +A person here" "$CTL_OUT"
ctl handback "$c1"
it_check_eq "handback ok" 0 "$CTL_RC"
ctl escalations
it_check_match "no open escalations" "\\(none\\)" "$CTL_OUT"

# --- dead letters -----------------------------------------------------------------------------------------------
d=$(it_sql "INSERT INTO outbox (tenant_id, channel, recipient, payload, status, attempts, last_error, idempotency_key)
            VALUES (1, 'sms', 'r', '{\"body\":\"x\",\"kind\":\"reply\"}', 'dead', 5, 'HTTP 400 from Twilio', 'kx') RETURNING id")
ctl dead-letters --channel sms
it_check_match "dead letters table" "$d +1 +sms +dead +5 +HTTP 400 from Twilio" "$CTL_OUT"
ctl replay
it_check_eq "replay without id or --all → 64" 64 "$CTL_RC"
ctl replay "$d"
it_check_eq "replay ok" 0 "$CTL_RC"
it_check_eq "pending again" pending "$(it_sql "SELECT status FROM outbox WHERE id = $d")"
it_sql "UPDATE outbox SET status = 'dead' WHERE id = $d" >/dev/null
ctl --json replay --all --channel sms
it_check_eq "replay --all --channel" 1 "$(jq -r .replayed <<<"$CTL_OUT")"

# --- tenants, inventory import, usage ------------------------------------------------------------------------------
ctl tenants
it_check_match "tenants table" "^ID +SLUG" "$CTL_OUT"
it_check_match "default tenant listed" "default" "$CTL_OUT"
cat >"$IT_TMP/inv.csv" <<'CSV'
sku,name,description,category,size,measurements,price,status
D-1,Red dress,"Silk, knee length",dresses,M,"bust 90cm",49.90,available
D-2,Blue shirt,,shirts,L,,19,reserved
CSV
ctl inventory import "$IT_TMP/inv.csv"
it_check_eq "import ok" 0 "$CTL_RC"
it_check_match "import summary" "imported 2 item\\(s\\), 0 failed" "$CTL_OUT"
it_check_eq "quoted field with a comma" "Silk, knee length|49.90|available" \
    "$(it_sql "SELECT description || '|' || price || '|' || status FROM inventory WHERE sku = 'D-1'")"
printf 'sku,name,price,status\nD-1,Red dress v2,45,available\nD-3,Hat,abc,available\nD-4,Sock,1,lost\n' >"$IT_TMP/inv2.csv"
ctl inventory import "$IT_TMP/inv2.csv"
it_check_eq "import with bad rows → 1" 1 "$CTL_RC"
it_check_match "bad rows reported with their line" "inv2.csv:3: price 'abc'" "$CTL_ERR"
it_check_match "API errors reported with their line" "inv2.csv:4: bad_field" "$CTL_ERR"
it_check_eq "good rows upserted by sku" "Red dress v2|45.00" "$(it_sql "SELECT name || '|' || price FROM inventory WHERE sku = 'D-1'")"
printf 'sku,colour\nX,red\n' >"$IT_TMP/inv3.csv"
ctl inventory import "$IT_TMP/inv3.csv"
it_check_eq "unknown column → 64" 64 "$CTL_RC"
ctl --json inventory list
it_check_eq "inventory --json" 2 "$(jq '.inventory | length' <<<"$CTL_OUT")"
ctl usage --from 2026-01-01
it_check_eq "usage ok" 0 "$CTL_RC"
ctl usage --from notadate
it_check_eq "usage bad date → 1" 1 "$CTL_RC"
# --- tenants create / show / update ---------------------------------------------------------------------------
ctl tenants --help
it_check_match "tenants --help lists the field flags" "--window-ms MS +window_ms" "$CTL_OUT"
ctl tenants create --slug shop --name "Shop" --company-name "Shop Co" --agent-name Zed --window-ms 60000 \
    --max-wait-ms 90000 --channel-window sms=5000 --provider-chain openai --model openai=gpt-4o-mini \
    --keywords manager,human --numbers +15550009999 --callback-url https://example.com/cb --max-tokens 800 \
    --daily-limit-contact null --credential openai=LULL_TENANT_SHOP_OPENAI_KEY --set human_pause_ms=60000
it_check_eq "tenants create ok" 0 "$CTL_RC"
it_check_match "create says which tenant" "^tenant [0-9]+ \\(shop\\) created" "$CTL_OUT"
tid=$(it_sql "SELECT id FROM tenants WHERE slug = 'shop'")
it_check_eq "every flag reached its column" \
    "Shop Co|Zed|60000|90000|{openai}|{manager,human}|{+15550009999}|https://example.com/cb|800|60000|gpt-4o-mini|5000|LULL_TENANT_SHOP_OPENAI_KEY" \
    "$(it_sql "SELECT company_name || '|' || agent_name || '|' || window_ms || '|' || max_wait_ms || '|' || provider_chain::text
                  || '|' || escalation_keywords::text || '|' || twilio_numbers::text || '|' || callback_url || '|' || max_tokens
                  || '|' || human_pause_ms || '|' || (models->>'openai') || '|' || (channel_windows->'sms'->>'window_ms')
                  || '|' || (credentials->>'openai') FROM tenants WHERE id = $tid")"
ctl tenants show shop
it_check_eq "tenants show ok" 0 "$CTL_RC"
it_check_match "show: readable window" "window_ms +60000" "$CTL_OUT"
it_check_match "show: lists joined" "escalation_keywords +manager, human" "$CTL_OUT"
it_check_match "show: null as -" "daily_limit_contact +-" "$CTL_OUT"
ctl tenants show "$tid" --json
it_check_eq "show --json by id" "shop|gpt-4o-mini" "$(jq -r '"\(.slug)|\(.models.openai)"' <<<"$CTL_OUT")"
ctl tenants update shop --window-ms 1500 --provider-chain anthropic,openai --model anthropic=claude-test \
    --channel-max-wait sms=7000
it_check_eq "tenants update ok" 0 "$CTL_RC"
it_check_eq "window and chain updated, the maps merged" '1500|{anthropic,openai}|{"openai": "gpt-4o-mini", "anthropic": "claude-test"}|{"sms": {"window_ms": 5000, "max_wait_ms": 7000}}' \
    "$(it_sql "SELECT window_ms || '|' || provider_chain::text || '|' || models::text || '|' || channel_windows::text FROM tenants WHERE id = $tid")"
ctl tenants update shop --max-tokens 999999
it_check_eq "a value over the limit → 1" 1 "$CTL_RC"
it_check_match "the API's message is printed" "bad_field \\(HTTP 400\\): 'max_tokens' must be an integer between 1 and" "$CTL_ERR"
it_check_eq "nothing changed" 800 "$(it_sql "SELECT max_tokens FROM tenants WHERE id = $tid")"
ctl tenants update shop --provider-chain openai,openai
it_check_match "chain refused by the API" "'provider_chain' must be an array of at most" "$CTL_ERR"
ctl tenants update shop --set colour=red
it_check_eq "unknown field through --set → 1" "1" "$CTL_RC"
it_check_match "the API names the field" "unknown or read-only field 'colour'" "$CTL_ERR"
ctl tenants update shop --callback-url ftp://x
it_check_match "callback URL refused" "'callback_url' must be an http:// or https:// URL" "$CTL_ERR"
ctl tenants update shop --unset callback_url
it_check_eq "--unset → null" "0|t" "$CTL_RC|$(it_sql "SELECT callback_url IS NULL FROM tenants WHERE id = $tid")"
ctl tenants create --slug shop
it_check_eq "duplicate slug → 1 (409)" 1 "$CTL_RC"
it_check_match "conflict explained" "conflict \\(HTTP 409\\)" "$CTL_ERR"
ctl tenants update
it_check_eq "update without a tenant → 64" 64 "$CTL_RC"
ctl tenants create --slug x --frobnicate 1
it_check_eq "unknown flag → 64" 64 "$CTL_RC"
ctl tenants create --slug x --channel-window 5000
it_check_eq "CHANNEL=MS missing its channel → 64" 64 "$CTL_RC"
ctl tenants show no-such-tenant
it_check_eq "unknown slug → 1" 1 "$CTL_RC"
printf '{"slug":"filed","window_ms":2000,"escalation_keywords":["refund"]}' >"$IT_TMP/tenant.json"
ctl tenants create --file "$IT_TMP/tenant.json" --window-ms 2500
it_check_eq "create from a file, a flag over it" "0|2500|{refund}" \
    "$CTL_RC|$(it_sql "SELECT window_ms || '|' || escalation_keywords::text FROM tenants WHERE slug = 'filed'")"
ctl tenants list
it_check_match "list shows the chain" "shop +Shop +1500 +90000 +\\[\"anthropic\",\"openai\"\\]" "$CTL_OUT"

# --- prompts set / show / list -------------------------------------------------------------------------------
printf 'You are {{agent_name}} of {{company_name}}.\nKeep it short.\n' >"$IT_TMP/prompt.txt"
ctl prompts set --tenant shop --template-file "$IT_TMP/prompt.txt" --name shop-main
it_check_eq "prompts set ok" 0 "$CTL_RC"
pid=$(it_sql "SELECT id FROM prompts WHERE tenant_id = $tid AND name = 'shop-main'")
it_check_match "set says the tenant uses it" "prompt $pid \\(tenant $tid, version 1\\) saved; tenant $tid uses it" "$CTL_OUT"
it_check_eq "the tenant's prompt_id points at it" "$pid" "$(it_sql "SELECT prompt_id FROM tenants WHERE id = $tid")"
ctl prompts show "$pid"
it_check_match "show prints the template whole" $'template:\nYou are \\{\\{agent_name\\}\\} of \\{\\{company_name\\}\\}.\nKeep it short.' "$CTL_OUT"
ctl prompts set "$pid" --version 2 --no-use
it_check_eq "prompts set ID changes it" "0|2" "$CTL_RC|$(it_sql "SELECT version FROM prompts WHERE id = $pid")"
ctl prompts set --tenant shop --template ""
it_check_eq "an empty template → 1" 1 "$CTL_RC"
it_check_match "the API's message for the template" "'template' must be 1 to" "$CTL_ERR"
ctl prompts list --tenant shop
it_check_match "prompts list --tenant SLUG" "$pid +$tid +shop-main +2 " "$CTL_OUT"
ctl prompts show abc
it_check_eq "prompts show with a bad id → 64" 64 "$CTL_RC"

# --- the tenant answers with its settings: a webhook opens a window of the tenant's window_ms -----------------
# The scheduler reloads tenants every 200 ms here: a new contact per try until a window carries the update.
SHOP_N=0
shop_window() {
    SHOP_N=$((SHOP_N + 1))
    local m c
    m=$(webhook "+1555777200$SHOP_N" "hello shop" shop)
    c=$(it_sql "SELECT conversation_id FROM messages WHERE id = $m")
    it_wait_for "window.opened for $c" 5 grep -q "\"ev\":\"window.opened\".*\"conv\":$c," "$IT_TMP/sched.jsonl"
    SHOP_LINE=$(grep "\"ev\":\"window.opened\".*\"conv\":$c," "$IT_TMP/sched.jsonl")
    grep -q '"window_ms":1500,' <<<"$SHOP_LINE"
}
it_wait_for "a window with the tenant's window_ms" 10 shop_window
it_check_match "the window is the tenant's (set by lullctl)" "\"tenant\":$tid,.*\"window_ms\":1500,\"max_wait_ms\":90000" "$SHOP_LINE"
it_finish
