// OpenAI chat completions adapter: neutral conversation → request body (tools, tool_calls, role "tool",
// response_format json_schema for the analysis and the combined answer, prompt_cache_key) and answer → text / tool calls / usage.
#include "worker_llm.h"
#include "worker_combined.h"
#include "worker_tools.h"
#include "lull_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_url(const char *base, const char *model, char *buf, size_t len)
{
    (void)model;
    return worker_llm_url(base, "/chat/completions", buf, len);
}

static int s_headers(const char *key, const worker_llm_opts_t *opts, char hdrs[][256])
{
    (void)opts;
    snprintf(hdrs[0], 256, "Authorization: Bearer %s", key ? key : "");
    snprintf(hdrs[1], 256, "Content-Type: application/json");
    return 2;
}

static cJSON *s_tools_json(void)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < worker_tools_count(); i++) {
        const worker_tool_t *t = worker_tool_at(i);
        cJSON *tool = cJSON_CreateObject(), *fn = cJSON_CreateObject();
        cJSON *params = cJSON_Parse(t->parameters);
        if (!tool || !fn || !params) {
            cJSON_Delete(tool);
            cJSON_Delete(fn);
            cJSON_Delete(params);
            cJSON_Delete(arr);
            return NULL;
        }
        cJSON_AddStringToObject(tool, "type", "function");
        cJSON_AddStringToObject(fn, "name", t->name);
        cJSON_AddStringToObject(fn, "description", t->description);
        cJSON_AddItemToObject(fn, "parameters", params);
        cJSON_AddItemToObject(tool, "function", fn);
        cJSON_AddItemToArray(arr, tool);
    }
    return arr;
}

static cJSON *s_text_msg(const char *role, const char *text)
{
    cJSON *m = cJSON_CreateObject();
    if (!m) return NULL;
    cJSON_AddStringToObject(m, "role", role);
    cJSON_AddStringToObject(m, "content", text ? text : "");
    return m;
}

// A user message of one image: an image_url content part with a data URL.
static cJSON *s_image_msg(const char *mime, const char *b64)
{
    size_t n = strlen(mime ? mime : "") + strlen(b64 ? b64 : "") + 16;
    char *url = malloc(n);
    cJSON *m = cJSON_CreateObject(), *content = cJSON_CreateArray(), *part = cJSON_CreateObject(),
          *iu = cJSON_CreateObject();
    if (!url || !m || !content || !part || !iu) {
        free(url);
        cJSON_Delete(m);
        cJSON_Delete(content);
        cJSON_Delete(part);
        cJSON_Delete(iu);
        return NULL;
    }
    snprintf(url, n, "data:%s;base64,%s", mime ? mime : "", b64 ? b64 : "");
    cJSON_AddStringToObject(iu, "url", url);
    free(url);
    cJSON_AddStringToObject(part, "type", "image_url");
    cJSON_AddItemToObject(part, "image_url", iu);
    cJSON_AddItemToArray(content, part);
    cJSON_AddStringToObject(m, "role", "user");
    cJSON_AddItemToObject(m, "content", content);
    return m;
}

static char *s_build(const worker_conv_t *conv)
{
    char *out = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *msgs = cJSON_CreateArray();
    if (!root || !msgs) goto cleanup;
    cJSON_AddStringToObject(root, "model", conv->model);
    // Reasoning models (o-series, gpt-5) answer 400 to any sampling setting; max_tokens is the field of older
    // OpenAI-compatible servers (OpenAI itself wants max_completion_tokens, and reasoning models only that).
    if (!worker_llm_is_reasoning(conv->opts, conv->model))
        cJSON_AddNumberToObject(root, "temperature", conv->temperature);
    bool legacy = conv->opts && conv->opts->openai_max_tokens;
    cJSON_AddNumberToObject(root, legacy ? "max_tokens" : "max_completion_tokens", conv->max_tokens);
    cJSON_AddItemToObject(root, "messages", msgs);
    if (conv->system) cJSON_AddItemToArray(msgs, s_text_msg("system", conv->system));
    for (size_t i = 0; i < conv->nitems; i++) {
        const worker_item_t *it = &conv->items[i];
        if (it->kind == WORKER_ITEM_USER) cJSON_AddItemToArray(msgs, s_text_msg("user", it->text));
        else if (it->kind == WORKER_ITEM_IMAGE) {
            cJSON *m = s_image_msg(it->name, it->text);
            if (!m) goto cleanup;
            cJSON_AddItemToArray(msgs, m);
        }
        else if (it->kind == WORKER_ITEM_ASSISTANT) cJSON_AddItemToArray(msgs, s_text_msg("assistant", it->text));
        else if (it->kind == WORKER_ITEM_TOOL_CALL) {
            // Consecutive calls form one assistant message.
            cJSON *m = cJSON_CreateObject(), *calls = cJSON_CreateArray();
            if (!m || !calls) {
                cJSON_Delete(m);
                cJSON_Delete(calls);
                goto cleanup;
            }
            cJSON_AddStringToObject(m, "role", "assistant");
            cJSON_AddItemToObject(m, "tool_calls", calls);
            for (; i < conv->nitems && conv->items[i].kind == WORKER_ITEM_TOOL_CALL; i++) {
                const worker_item_t *c = &conv->items[i];
                cJSON *call = cJSON_CreateObject(), *fn = cJSON_CreateObject();
                if (!call || !fn) {
                    cJSON_Delete(call);
                    cJSON_Delete(fn);
                    cJSON_Delete(m);
                    goto cleanup;
                }
                cJSON_AddStringToObject(call, "id", c->id ? c->id : "call");
                cJSON_AddStringToObject(call, "type", "function");
                cJSON_AddStringToObject(fn, "name", c->name ? c->name : "");
                cJSON_AddStringToObject(fn, "arguments", c->args ? c->args : "{}");
                cJSON_AddItemToObject(call, "function", fn);
                cJSON_AddItemToArray(calls, call);
            }
            i--;
            cJSON_AddItemToArray(msgs, m);
        } else if (it->kind == WORKER_ITEM_TOOL_RESULT) {
            cJSON *m = cJSON_CreateObject();
            if (!m) goto cleanup;
            cJSON_AddStringToObject(m, "role", "tool");
            cJSON_AddStringToObject(m, "tool_call_id", it->id ? it->id : "call");
            cJSON_AddStringToObject(m, "content", it->text ? it->text : "");
            cJSON_AddItemToArray(msgs, m);
        }
    }
    if (conv->cache_key) cJSON_AddStringToObject(root, "prompt_cache_key", conv->cache_key);
    if (conv->mode != WORKER_MODE_ANALYSIS && conv->tools && worker_tools_count() > 0) {
        cJSON *tools = worker_llm_tools_ref(0, s_tools_json);
        if (!tools) goto cleanup;
        cJSON_AddItemToObject(root, "tools", tools);
        cJSON_AddStringToObject(root, "tool_choice", conv->tool_choice_none ? "none" : "auto");
    }
    if (conv->mode == WORKER_MODE_ANALYSIS || conv->mode == WORKER_MODE_COMBINED) {
        // The schema text is cJSON's own compact print (worker_combined_schema): copied in as is, not
        // parsed and printed again for every request.
        cJSON *schema = conv->schema ? cJSON_CreateRaw(conv->schema) : NULL;
        cJSON *rf = cJSON_CreateObject(), *js = cJSON_CreateObject();
        if (!schema || !rf || !js) {
            cJSON_Delete(schema);
            cJSON_Delete(rf);
            cJSON_Delete(js);
            goto cleanup;
        }
        cJSON_AddStringToObject(rf, "type", "json_schema");
        cJSON_AddStringToObject(js, "name", conv->mode == WORKER_MODE_COMBINED ? WORKER_COMBINED_NAME : "conversation_analysis");
        cJSON_AddBoolToObject(js, "strict", 1);
        cJSON_AddItemToObject(js, "schema", schema);
        cJSON_AddItemToObject(rf, "json_schema", js);
        cJSON_AddItemToObject(root, "response_format", rf);
    }
    // The stable part first (model, settings, cache key, tools, schema, then the system message), so that a
    // tenant's requests share their longest prefix; what changes per round (tool_choice) comes last.
    worker_llm_move_last(root, "messages");
    worker_llm_move_last(root, "tool_choice");
    out = lull_json_print(root);
cleanup:
    cJSON_Delete(root);
    return out;
}

static void s_parse(const char *body, size_t len, worker_llm_result_t *out)
{
    char err[96];
    cJSON *doc = lull_json_parse(body, len, LULL_JSON_MAX_DEPTH, err, sizeof err);
    const cJSON *choices = doc ? cJSON_GetObjectItemCaseSensitive(doc, "choices") : NULL;
    const cJSON *first = cJSON_IsArray(choices) ? cJSON_GetArrayItem(choices, 0) : NULL;
    const cJSON *msg = cJSON_IsObject(first) ? cJSON_GetObjectItemCaseSensitive(first, "message") : NULL;
    if (!cJSON_IsObject(msg)) {
        out->cls = WORKER_LLM_NEXT;
        snprintf(out->error, sizeof out->error, "malformed answer: %s", doc ? "no choices[0].message" : err);
        goto cleanup;
    }
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
    if (cJSON_IsString(content) && worker_llm_result_set_text(out, content->valuestring) != 0) goto oom;
    const cJSON *calls = cJSON_GetObjectItemCaseSensitive(msg, "tool_calls"), *call;
    if (cJSON_IsArray(calls)) {
        cJSON_ArrayForEach(call, calls)
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(call, "id");
            const cJSON *fn = cJSON_GetObjectItemCaseSensitive(call, "function");
            const cJSON *name = fn ? cJSON_GetObjectItemCaseSensitive(fn, "name") : NULL;
            const cJSON *args = fn ? cJSON_GetObjectItemCaseSensitive(fn, "arguments") : NULL;
            if (!cJSON_IsString(name)) continue;
            if (worker_llm_result_add_call(out, cJSON_IsString(id) ? id->valuestring : NULL, name->valuestring,
                                           cJSON_IsString(args) ? args->valuestring : "{}") != 0)
                break;
        }
    }
    worker_llm_finish(out, cJSON_GetObjectItemCaseSensitive(doc, "usage"), "prompt_tokens", "completion_tokens",
                      "neither content nor tool calls");
    static const char *const cached[] = {"usage", "prompt_tokens_details", "cached_tokens", NULL};
    out->tokens_cached = worker_llm_count(doc, cached);
    goto cleanup;
oom:
    out->cls = WORKER_LLM_RETRY;
    snprintf(out->error, sizeof out->error, "out of memory");
cleanup:
    cJSON_Delete(doc);
}

const worker_provider_t WORKER_OPENAI = {"openai", s_url, s_headers, s_build, s_parse};
