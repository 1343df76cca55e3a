#!/usr/bin/env bash
# lullctl against a running lull-admin + scheduler: tables and --json (parsed with jq), windows/cancel/flush,
# conversations/show/reply/handback/escalations, dead letters and replay, tenants, inventory CSV import,
# usage; exit codes 0 / 1 (API error) / 64 (usage).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scheduler_lib.sh"
source "$(dirname "$0")/admin_lib.sh"
it_db_create || it_finish
it_sql "UPDATE tenants SET window_ms = 60000, max_wait_ms = 120000 WHERE slug = 'default'" >/dev/null
sched_start sched
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
it_finish
