# Helpers for the crash test (sourced after lib.sh): the four tiers started from functions so a killed tier
# can be restarted with the same environment and ports, SIGKILL of a tier, and the client lanes that POST
# generic messages (with a dedupe id), and every fifth conversation as WhatsApp Cloud API envelopes (the wamid
# the dedupe id), until each is acknowledged.

# crash_tier_start NAME : runs start_NAME (which must it_start the tier and set TIER_PID[NAME]) and waits
# until its ops port answers /health. A restart right after a SIGKILL may fail to bind: the process exits
# and is started again (bounded).
declare -A TIER_PID TIER_OPS TIER_KILL_MS TIER_DOWN_MS
crash_tier_start() {
    local name=$1 try deadline
    for try in $(seq 1 25); do
        "start_$name"
        TIER_PID[$name]=$IT_LAST_PID
        deadline=$(( $(date +%s%N) + 10000000000 ))
        while [ "$(date +%s%N)" -lt "$deadline" ]; do
            it_http_ok "http://127.0.0.1:${TIER_OPS[$name]}/health" 2>/dev/null && return 0
            kill -0 "${TIER_PID[$name]}" 2>/dev/null || break
            sleep 0.05
        done
        kill -KILL -- "-${TIER_PID[$name]}" 2>/dev/null
        wait "${TIER_PID[$name]}" 2>/dev/null
        sleep 0.2
    done
    it_fail "$name did not start (try $try)"
    return 1
}

# crash_kill NAME : SIGKILL the tier's process group, waits for it; records the kill time (ms since epoch).
crash_kill() {
    local name=$1
    kill -KILL -- "-${TIER_PID[$name]}" 2>/dev/null || kill -KILL "${TIER_PID[$name]}" 2>/dev/null
    wait "${TIER_PID[$name]}" 2>/dev/null
    IT_RC=$?
    TIER_KILL_MS[$name]=$(( $(date +%s%N) / 1000000 ))
}

# crash_post CONTACT MID : POSTs one generic message until it is acknowledged (200) or the lane's deadline
# passes. A 200 appends "CONTACT MID MESSAGE_ID DUPLICATE" to $ACK_FILE; every other outcome (connection
# refused while ingress is down, an empty reply when it died mid-request, a 5xx) appends "CONTACT MID CODE" to
# $RETRY_FILE and posts again: the dedupe id makes that safe.
crash_post() {
    local contact=$1 mid=$2 out code body id dup
    while [ "$(date +%s)" -lt "$LANE_DEADLINE" ]; do
        out=$(curl -s --max-time 5 -w '\n%{http_code}' -H 'Content-Type: application/json' \
            -d "{\"contact_id\":\"$contact\",\"message\":{\"body\":\"crash test $mid\",\"id\":\"$mid\"}}" \
            "$ING/webhook")
        code=${out##*$'\n'}
        body=${out%$'\n'*}
        if [ "$code" = 200 ] && [[ "$body" =~ \"message_id\":([0-9]+) ]]; then
            id=${BASH_REMATCH[1]}
            dup=false; [[ "$body" =~ \"duplicate\":true ]] && dup=true
            echo "$contact $mid $id $dup" >>"$ACK_FILE"
            return 0
        fi
        echo "$contact $mid ${code:-000}" >>"$RETRY_FILE"
        sleep 0.05
    done
    echo "$contact $mid gave-up" >>"$RETRY_FILE"
    return 1
}

# crash_post_wa N MID : as crash_post, for WhatsApp Cloud API envelope (unsigned: the crash stack runs with
# LULL_DEV_ALLOW_UNSIGNED) of contact whatsapp:+1555<N>; the wamid is wamid.MID.
crash_post_wa() {
    local wa mid="wamid.$2" out code body
    wa=1555$(printf '%07d' "$1")
    body=$(printf '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"106540352242922"},"messages":[{"from":"%s","id":"%s","type":"text","text":{"body":"crash test %s"}}]}}]}]}' "$wa" "$mid" "$2")
    while [ "$(date +%s)" -lt "$LANE_DEADLINE" ]; do
        out=$(curl -s --max-time 5 -w '\n%{http_code}' -H 'Content-Type: application/json' -d "$body" "$ING/webhook/whatsapp")
        code=${out##*$'\n'}
        if [ "$code" = 200 ] && [[ "${out%$'\n'*}" =~ \"message_ids\":\[([0-9]+)\] ]]; then
            local id=${BASH_REMATCH[1]} dup=false
            [[ "$out" =~ \"duplicates\":1 ]] && dup=true
            echo "whatsapp:+$wa $mid $id $dup" >>"$ACK_FILE"
            return 0
        fi
        echo "whatsapp:+$wa $mid ${code:-000}" >>"$RETRY_FILE"
        sleep 0.05
    done
    echo "whatsapp:+$wa $mid gave-up" >>"$RETRY_FILE"
    return 1
}

# crash_burst N : the number of messages conversation N gets (1, 2 or 3).
crash_burst() { if [ $(($1 % 7)) -eq 0 ]; then echo 3; elif [ $(($1 % 3)) -eq 0 ]; then echo 2; else echo 1; fi; }

# crash_lane J LANES CONVS PAUSE : posts conversations J, J+LANES, … ≤ CONVS, each message of a burst right
# after the previous one, PAUSE seconds between conversations.
crash_lane() {
    local j=$1 lanes=$2 convs=$3 pause=$4 n k
    ACK_FILE=$IT_TMP/ack.$j RETRY_FILE=$IT_TMP/retry.$j
    : >"$ACK_FILE"; : >"$RETRY_FILE"
    for ((n = j; n <= convs; n += lanes)); do
        for ((k = 1; k <= $(crash_burst "$n"); k++)); do
            if [ $((n % 5)) -eq 0 ]; then crash_post_wa "$n" "m$n-$k"; else crash_post "c$n" "m$n-$k"; fi
        done
        sleep "$pause"
    done
}

# crash_acked : acknowledged messages so far (all lanes).
crash_acked() { cat "$IT_TMP"/ack.* 2>/dev/null | wc -l; }
