#!/usr/bin/env bash
# The worker honours every tenant value the limits allow (common/lull_tenant_limits.h): a reply asked with
# max_tokens 150,000, a history of 120 messages, a model name of 200 bytes and a prompt template of 100,000
# bytes reaches the provider as set (the fake LLM's recorded request shows it), where the worker used to
# send 512 tokens, 60 messages, the default model and a prompt cut at 32 KB. A burst longer than history_len is
# sent whole.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/worker_env.sh"
w_setup
w_worker LULL_WORKER_ANALYSIS=0

model="gpt-$(head -c 196 /dev/zero | tr '\0' m)"
prompt=$(it_sql "INSERT INTO prompts (tenant_id, name, template) VALUES (1, 'limits', 'You help {{company_name}}. ' || repeat('x', 100000 - 27)) RETURNING id")
it_sql "UPDATE tenants SET max_tokens = 150000, history_len = 120, model = '$model', provider_chain = '{openai}',
        prompt_id = $prompt WHERE id = 1" >/dev/null
bodies=()
for i in $(seq 1 130); do bodies+=("message $i"); done
w_conv sms +15557000001 "${bodies[@]}"
# Messages 1..125 were answered already: the burst is 126..130, so history_len decides what is sent.
it_sql "UPDATE conversations SET answered_upto = $((UPTO - 5)) WHERE id = $CONV" >/dev/null
w_job "$CONV" "$((UPTO - 5))" "$UPTO"
it_check_eq "replied" replied "$(w_done "$CONV")"
req=$(w_ledger | jq -c '[.[] | select(.provider == "openai" and .kind == "reply")] | last | .body')
it_check_eq "max_tokens 150000 is sent as set (OpenAI's max_completion_tokens)" 150000 "$(jq -r .max_completion_tokens <<<"$req")"
it_check_eq "a history of 120 messages (and the system prompt) is sent" 121 "$(jq -r '.messages | length' <<<"$req")"
it_check_eq "the history is the newest 120 messages" "message 11|message 130" \
    "$(jq -r '[.messages[1].content, .messages[-1].content] | join("|")' <<<"$req")"
it_check_eq "the model name of 200 bytes is used" "$model" "$(jq -r .model <<<"$req")"
it_check_eq "the whole prompt template is rendered" 1 \
    "$(jq -r '.messages[0].content | (length > 100000 and contains("xxxxx\n\n"))' <<<"$req" | grep -c true)"
it_check_eq "usage is recorded under that model" "$model" \
    "$(it_sql "SELECT model FROM usage WHERE provider = 'openai' AND contact_id = (SELECT contact_id FROM conversations WHERE id = $CONV)")"

# A burst longer than history_len is sent whole: the model never answers a message it did not see.
it_sql "UPDATE tenants SET history_len = 3, max_tokens = 512 WHERE id = 1" >/dev/null
w_conv sms +15557000002 "burst 1" "burst 2" "burst 3" "burst 4" "burst 5" "burst 6"
w_job "$CONV" 0 "$UPTO"
it_check_eq "a burst of 6 with history_len 3: replied" replied "$(w_done "$CONV")"
req=$(w_ledger | jq -c '[.[] | select(.provider == "openai" and .kind == "reply")] | last | .body')
it_check_eq "a burst of 6 with history_len 3: every message of the burst is in the prompt" \
    "burst 1|burst 2|burst 3|burst 4|burst 5|burst 6" \
    "$(jq -r '[.messages[] | select(.role == "user") | .content] | join("|")' <<<"$req")"
it_finish
