// OpenAI chat completions adapter: neutral conversation → request body (tools, tool_calls, role "tool",
// response_format json_schema for the analysis and the combined answer, prompt_cache_key) and answer → text / tool calls / usage.
#include "worker_llm.h"
#include "worker_combined.h"
#include "worker_tools.h"
#include "lull_buf.h"
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

static bool s_tools_on(const worker_conv_t *conv)
{
    return conv->mode != WORKER_MODE_ANALYSIS && conv->tools && worker_tools_count() > 0;
}

// The stable head of the body: model, settings, cache key, tools, schema — "{…" without the closing brace.
// It is cJSON's print of these members (so the body is byte for byte what printing the whole object gave).
static char *s_head(const worker_conv_t *conv)
{
    char *out = NULL;
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    cJSON_AddStringToObject(root, "model", conv->model);
    // Reasoning models (o-series, gpt-5) answer 400 to any sampling setting; max_tokens is the field of older
    // OpenAI-compatible servers (OpenAI itself wants max_completion_tokens, and reasoning models only that).
    if (!worker_llm_is_reasoning(conv->opts, conv->model))
        cJSON_AddNumberToObject(root, "temperature", conv->temperature);
    bool legacy = conv->opts && conv->opts->openai_max_tokens;
    cJSON_AddNumberToObject(root, legacy ? "max_tokens" : "max_completion_tokens", conv->max_tokens);
    if (conv->cache_key) cJSON_AddStringToObject(root, "prompt_cache_key", conv->cache_key);
    if (s_tools_on(conv)) {
        cJSON *tools = worker_llm_tools_ref(0, s_tools_json);
        if (!tools) goto cleanup;
        cJSON_AddItemToObject(root, "tools", tools);
    }
    if (conv->mode == WORKER_MODE_ANALYSIS || conv->mode == WORKER_MODE_COMBINED) {
        // The schema text is cJSON's own compact print (worker_combined_schema): copied in as is.
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
    out = worker_llm_head_print(root);
cleanup:
    cJSON_Delete(root);
    return out;
}

// Appends {"role":ROLE,"content":TEXT} (a comma first unless it is the first message).
static void s_text_msg(lull_buf_t *b, bool *first, const char *role, const char *text)
{
    lull_buf_puts(b, *first ? "{\"role\":" : ",{\"role\":");
    *first = false;
    lull_json_write_str(b, role);
    lull_buf_puts(b, ",\"content\":");
    lull_json_write_str(b, text);
    lull_buf_puts(b, "}");
}

// A user message of one image: an image_url content part with a data URL.
static void s_image_msg(lull_buf_t *b, bool *first, const char *mime, const char *b64)
{
    size_t n = strlen(mime ? mime : "") + strlen(b64 ? b64 : "") + 16;
    char *url = malloc(n);
    if (!url) {
        b->failed = true;
        return;
    }
    snprintf(url, n, "data:%s;base64,%s", mime ? mime : "", b64 ? b64 : "");
    lull_buf_puts(b, *first ? "{" : ",{");
    *first = false;
    lull_buf_puts(b, "\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":");
    lull_json_write_str(b, url);
    lull_buf_puts(b, "}}]}");
    free(url);
}

// The body: the tenant's stable head (built once per settings, worker_llm_head), then the messages written
// here, then what changes per round (tool_choice) last — the order cJSON printed before, byte for byte.
static char *s_build(const worker_conv_t *conv)
{
    bool reasoning = worker_llm_is_reasoning(conv->opts, conv->model);
    bool legacy = conv->opts && conv->opts->openai_max_tokens;
    bool tools = s_tools_on(conv);
    char temp[40], num[24], flags[8];
    snprintf(temp, sizeof temp, "%.17g", conv->temperature);
    snprintf(num, sizeof num, "%d", conv->max_tokens);
    snprintf(flags, sizeof flags, "%c%c%c%d", reasoning ? 'r' : '-', legacy ? 'l' : '-', tools ? 't' : '-', (int)conv->mode);
    const char *parts[] = {conv->model, reasoning ? NULL : temp, num, flags, conv->cache_key, conv->schema};
    const char *head = worker_llm_head(0, parts, sizeof parts / sizeof parts[0], s_head, conv);
    if (!head) return NULL;
    lull_buf_t b;
    lull_buf_init(&b, 0, false);
    size_t guess = strlen(head) + 64 + (conv->system ? strlen(conv->system) * 9 / 8 + 32 : 0);
    for (size_t i = 0; i < conv->nitems; i++)  // the texts (a little escaping) and each message's own members
        guess += 64 + (conv->items[i].text ? strlen(conv->items[i].text) * 9 / 8 : 0) +
                 (conv->items[i].args ? strlen(conv->items[i].args) * 9 / 8 : 0);
    lull_buf_reserve(&b, guess);
    lull_buf_puts(&b, head);
    lull_buf_puts(&b, ",\"messages\":[");
    bool first = true;
    if (conv->system) s_text_msg(&b, &first, "system", conv->system);
    for (size_t i = 0; i < conv->nitems; i++) {
        const worker_item_t *it = &conv->items[i];
        if (it->kind == WORKER_ITEM_USER) s_text_msg(&b, &first, "user", it->text);
        else if (it->kind == WORKER_ITEM_IMAGE) s_image_msg(&b, &first, it->name, it->text);
        else if (it->kind == WORKER_ITEM_ASSISTANT) s_text_msg(&b, &first, "assistant", it->text);
        else if (it->kind == WORKER_ITEM_TOOL_CALL) {
            // Consecutive calls form one assistant message.
            lull_buf_puts(&b, first ? "{\"role\":\"assistant\",\"tool_calls\":[" : ",{\"role\":\"assistant\",\"tool_calls\":[");
            first = false;
            for (bool one = true; i < conv->nitems && conv->items[i].kind == WORKER_ITEM_TOOL_CALL; i++, one = false) {
                const worker_item_t *c = &conv->items[i];
                lull_buf_puts(&b, one ? "{\"id\":" : ",{\"id\":");
                lull_json_write_str(&b, c->id ? c->id : "call");
                lull_buf_puts(&b, ",\"type\":\"function\",\"function\":{\"name\":");
                lull_json_write_str(&b, c->name ? c->name : "");
                lull_buf_puts(&b, ",\"arguments\":");
                lull_json_write_str(&b, c->args ? c->args : "{}");
                lull_buf_puts(&b, "}}");
            }
            i--;
            lull_buf_puts(&b, "]}");
        } else if (it->kind == WORKER_ITEM_TOOL_RESULT) {
            lull_buf_puts(&b, first ? "{\"role\":\"tool\",\"tool_call_id\":" : ",{\"role\":\"tool\",\"tool_call_id\":");
            first = false;
            lull_json_write_str(&b, it->id ? it->id : "call");
            lull_buf_puts(&b, ",\"content\":");
            lull_json_write_str(&b, it->text ? it->text : "");
            lull_buf_puts(&b, "}");
        }
    }
    lull_buf_puts(&b, "]");
    if (tools) lull_buf_puts(&b, conv->tool_choice_none ? ",\"tool_choice\":\"none\"}" : ",\"tool_choice\":\"auto\"}");
    else lull_buf_puts(&b, "}");
    if (b.failed) {
        lull_buf_reset(&b);
        return NULL;
    }
    return lull_buf_take(&b);
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
