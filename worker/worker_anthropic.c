// Anthropic messages adapter: neutral conversation → request body (tools, tool_use / tool_result blocks,
// the analysis and the combined answer as forced tools, cache_control on the stable prefix) and answer → text / tool calls / usage.
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
    return worker_llm_url(base, "/v1/messages", buf, len);
}

static int s_headers(const char *key, const worker_llm_opts_t *opts, char hdrs[][256])
{
    snprintf(hdrs[0], 256, "x-api-key: %s", key ? key : "");
    snprintf(hdrs[1], 256, "anthropic-version: %s", worker_llm_anthropic_version(opts));
    snprintf(hdrs[2], 256, "Content-Type: application/json");
    return 3;
}

// A tool object; schema is JSON text, parsed (the static tool table's texts), or copied in as is when raw
// (the analysis and combined schemas, cJSON's own compact print: no parse and print per request).
static cJSON *s_tool(const char *name, const char *description, const char *schema, bool raw)
{
    cJSON *t = cJSON_CreateObject(), *in = !schema ? NULL : raw ? cJSON_CreateRaw(schema) : cJSON_Parse(schema);
    if (!t || !in) {
        cJSON_Delete(t);
        cJSON_Delete(in);
        return NULL;
    }
    cJSON_AddStringToObject(t, "name", name);
    cJSON_AddStringToObject(t, "description", description);
    cJSON_AddItemToObject(t, "input_schema", in);
    return t;
}

// The tool table in Anthropic's form (built once: worker_llm_tools_ref).
static cJSON *s_tools_json(void)
{
    cJSON *tools = cJSON_CreateArray();
    for (size_t i = 0; tools && i < worker_tools_count(); i++) {
        const worker_tool_t *wt = worker_tool_at(i);
        cJSON *t = s_tool(wt->name, wt->description, wt->parameters, false);
        if (!t) {
            cJSON_Delete(tools);
            return NULL;
        }
        cJSON_AddItemToArray(tools, t);
    }
    return tools;
}

// Prompt caching: the stable part (tools, then the system prompt as one text block marked
// cache_control ephemeral, Anthropic's cache breakpoint) before the messages, and tool_choice (it changes in
// the last tool round) after them. Without a system prompt the last tool carries the breakpoint. 0/-1.
static int s_cache_layout(cJSON *root, const worker_conv_t *conv)
{
    cJSON *mark = cJSON_CreateObject();
    if (!mark) return -1;
    cJSON_AddStringToObject(mark, "type", "ephemeral");
    if (conv->system) {
        cJSON *arr = cJSON_CreateArray(), *block = cJSON_CreateObject();
        if (!arr || !block) {
            cJSON_Delete(arr);
            cJSON_Delete(block);
            cJSON_Delete(mark);
            return -1;
        }
        cJSON_AddStringToObject(block, "type", "text");
        cJSON_AddStringToObject(block, "text", conv->system);
        cJSON_AddItemToObject(block, "cache_control", mark);
        cJSON_AddItemToArray(arr, block);
        cJSON_AddItemToObject(root, "system", arr);
    } else {
        // The breakpoint goes on the last tool. The tools may be references to the worker's static table
        // (worker_llm_tools_ref): marking one of those would change every later request, so this head's
        // tools become its own copy first (a rare path: a tenant without a system prompt).
        cJSON *shared = cJSON_DetachItemFromObjectCaseSensitive(root, "tools");
        cJSON *tools = shared ? cJSON_Duplicate(shared, 1) : NULL;
        cJSON_Delete(shared);  // a reference array frees none of the table's items
        cJSON *last = tools ? cJSON_GetArrayItem(tools, cJSON_GetArraySize(tools) - 1) : NULL;
        if (shared && !tools) {
            cJSON_Delete(mark);
            return -1;
        }
        if (last) cJSON_AddItemToObject(last, "cache_control", mark);
        else cJSON_Delete(mark);
        if (tools) cJSON_AddItemToObject(root, "tools", tools);
    }
    return 0;
}

// Whether the request carries tools (and so a tool_choice), and the inventory tools among them.
static bool s_inventory(const worker_conv_t *conv)
{
    return conv->tools && worker_tools_count() > 0;
}

static bool s_has_tools(const worker_conv_t *conv)
{
    return conv->mode == WORKER_MODE_ANALYSIS || conv->mode == WORKER_MODE_COMBINED || s_inventory(conv);
}

// The stable head of the body: model, settings, tools (with the answer tool and its schema), the system prompt
// with its cache breakpoint — "{…" without the closing brace; cJSON's print of these members, so the body is byte
// for byte what printing the whole object gave. Kept per settings (worker_llm_head).
static char *s_head(const worker_conv_t *conv)
{
    char *out = NULL;
    cJSON *root = cJSON_CreateObject(), *tools = NULL;
    if (!root) return NULL;
    cJSON_AddStringToObject(root, "model", conv->model);
    cJSON_AddNumberToObject(root, "max_tokens", conv->max_tokens);
    // Newer models refuse sampling settings: the temperature goes only when the tenant chose one.
    if (conv->temperature_set)
        cJSON_AddNumberToObject(root, "temperature", conv->temperature > 1 ? 1 : conv->temperature);
    if (conv->mode == WORKER_MODE_ANALYSIS) {
        tools = cJSON_CreateArray();
        cJSON *t = s_tool(WORKER_ANALYSIS_TOOL, "Record the analysis of the customer's latest messages.", conv->schema, true);
        if (!tools || !t) {
            cJSON_Delete(t);
            cJSON_Delete(tools);
            goto cleanup;
        }
        cJSON_AddItemToArray(tools, t);
    } else if (conv->mode == WORKER_MODE_COMBINED) {
        // The inventory tools and the answer tool, the same list in every round (a stable cached prefix).
        // The inventory tools are references to the static table (worker_llm_tools_ref), not parsed again.
        cJSON *table = s_inventory(conv) ? worker_llm_tools_ref(1, s_tools_json) : NULL, *ti;
        tools = cJSON_CreateArray();
        cJSON_ArrayForEach(ti, table) if (tools) cJSON_AddItemToArray(tools, cJSON_CreateObjectReference(ti->child));
        cJSON_Delete(table);
        cJSON *t = s_tool(WORKER_COMBINED_NAME, "Answer the customer and record the analysis of their latest messages.",
                          conv->schema, true);
        if (!tools || !t) {
            cJSON_Delete(t);
            cJSON_Delete(tools);
            goto cleanup;
        }
        cJSON_AddItemToArray(tools, t);
    } else if (s_inventory(conv)) {
        tools = worker_llm_tools_ref(1, s_tools_json);
        if (!tools) goto cleanup;
    }
    if (tools) cJSON_AddItemToObject(root, "tools", tools);
    if (s_cache_layout(root, conv) != 0) goto cleanup;
    out = worker_llm_head_print(root);
cleanup:
    cJSON_Delete(root);
    return out;
}

// Opens a block in the turn of role: a new turn when the last one has another role (same-role items merge).
static void s_block(lull_buf_t *b, const char **turn, const char *role)
{
    if (*turn == role) {
        lull_buf_puts(b, ",{");
        return;
    }
    lull_buf_puts(b, *turn ? "]},{\"role\":" : "{\"role\":");
    lull_json_write_str(b, role);
    lull_buf_puts(b, ",\"content\":[{");
    *turn = role;
}

// The body: the kept head, then the messages written here (cJSON's escaping, its key order), then tool_choice
// (it changes in the last tool round) — the bytes cJSON printed for the whole object before.
static char *s_build(const worker_conv_t *conv)
{
    char num[24], temp[40], flags[8];
    snprintf(num, sizeof num, "%d", conv->max_tokens);
    snprintf(temp, sizeof temp, "%.17g", conv->temperature > 1 ? 1 : conv->temperature);
    snprintf(flags, sizeof flags, "%c%d", s_inventory(conv) ? 't' : '-', (int)conv->mode);
    const char *parts[] = {conv->model, num, conv->temperature_set ? temp : NULL, flags, conv->schema, conv->system};
    static const char *const user = "user", *const assistant = "assistant";
    const char *turn = NULL;  // the role of the turn being written (one of the two above), NULL before the first
    lull_buf_t b;
    worker_llm_body_init(&b, conv);
    lull_buf_puts(&b, ",\"messages\":[");
    for (size_t i = 0; i < conv->nitems; i++) {
        const worker_item_t *it = &conv->items[i];
        // The conversation must start with the user; same-role items merge into one turn.
        bool is_user = it->kind == WORKER_ITEM_USER || it->kind == WORKER_ITEM_IMAGE;
        if (!turn && !is_user) continue;
        s_block(&b, &turn, is_user || it->kind == WORKER_ITEM_TOOL_RESULT ? user : assistant);
        if (it->kind == WORKER_ITEM_USER || it->kind == WORKER_ITEM_ASSISTANT) {
            lull_buf_puts(&b, "\"type\":\"text\",\"text\":");
            lull_json_write_str(&b, it->text && *it->text ? it->text : "(empty)");
        } else if (it->kind == WORKER_ITEM_IMAGE) {
            lull_buf_puts(&b, "\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":");
            lull_json_write_str(&b, it->name ? it->name : "");
            lull_buf_puts(&b, ",\"data\":");
            lull_json_write_str(&b, it->text ? it->text : "");
            lull_buf_puts(&b, "}");
        } else if (it->kind == WORKER_ITEM_TOOL_CALL) {
            lull_buf_puts(&b, "\"type\":\"tool_use\",\"id\":");
            lull_json_write_str(&b, it->id ? it->id : "call");
            lull_buf_puts(&b, ",\"name\":");
            lull_json_write_str(&b, it->name ? it->name : "");
            lull_buf_puts(&b, ",\"input\":");
            worker_llm_put_object(&b, it->args);
        } else {
            lull_buf_puts(&b, "\"type\":\"tool_result\",\"tool_use_id\":");
            lull_json_write_str(&b, it->id ? it->id : "call");
            lull_buf_puts(&b, ",\"content\":");
            lull_json_write_str(&b, it->text ? it->text : "");
        }
        lull_buf_puts(&b, "}");
    }
    if (!turn) {  // no user message: nothing to send
        lull_buf_reset(&b);
        return NULL;
    }
    lull_buf_puts(&b, "]}]");
    if (s_has_tools(conv)) {
        bool forced = conv->mode == WORKER_MODE_ANALYSIS ||
                      (conv->mode == WORKER_MODE_COMBINED && (!s_inventory(conv) || conv->tool_choice_none));
        const char *name = conv->mode == WORKER_MODE_ANALYSIS ? WORKER_ANALYSIS_TOOL : WORKER_COMBINED_NAME;
        lull_buf_puts(&b, ",\"tool_choice\":{\"type\":");
        if (forced) {
            lull_buf_puts(&b, "\"tool\",\"name\":");
            lull_json_write_str(&b, name);
        } else {
            lull_buf_puts(&b, conv->mode == WORKER_MODE_COMBINED ? "\"any\"" : conv->tool_choice_none ? "\"none\"" : "\"auto\"");
        }
        lull_buf_puts(&b, "}");
    }
    lull_buf_puts(&b, "}");
    const char *head = b.failed ? NULL : worker_llm_head(1, parts, sizeof parts / sizeof parts[0], s_head, conv);
    return worker_llm_splice(head, &b);  // the head, then what was written after it
}

static void s_parse(const char *body, size_t len, worker_llm_result_t *out)
{
    char err[96];
    cJSON *doc = lull_json_parse(body, len, LULL_JSON_MAX_DEPTH, err, sizeof err);
    const cJSON *content = doc ? cJSON_GetObjectItemCaseSensitive(doc, "content") : NULL, *block;
    if (!cJSON_IsArray(content)) {
        out->cls = WORKER_LLM_NEXT;
        snprintf(out->error, sizeof out->error, "malformed answer: %s", doc ? "no content array" : err);
        goto cleanup;
    }
    size_t cap = 0, used = 0;
    char *text = NULL;
    cJSON_ArrayForEach(block, content)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(block, "type");
        if (!cJSON_IsString(type)) continue;
        if (strcmp(type->valuestring, "text") == 0) {
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(block, "text");
            if (!cJSON_IsString(t)) continue;
            size_t n = strlen(t->valuestring);
            if (used + n + 1 > WORKER_LLM_MAX_TEXT) continue;
            if (used + n + 1 > cap) {
                cap = used + n + 1;
                char *b = realloc(text, cap);
                if (!b) continue;
                text = b;
            }
            memcpy(text + used, t->valuestring, n + 1);
            used += n;
        } else if (strcmp(type->valuestring, "tool_use") == 0) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(block, "id");
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(block, "name");
            const cJSON *input = cJSON_GetObjectItemCaseSensitive(block, "input");
            if (!cJSON_IsString(name) || !cJSON_IsObject(input)) continue;
            char *args = lull_json_print(input);
            if (!args) continue;
            if (strcmp(name->valuestring, WORKER_ANALYSIS_TOOL) == 0 || strcmp(name->valuestring, WORKER_COMBINED_NAME) == 0) {
                free(text);
                text = args;  // the forced analysis (or combined answer) tool carries the answer object
                used = strlen(args);
                cap = used + 1;
                continue;
            }
            (void)worker_llm_result_add_call(out, cJSON_IsString(id) ? id->valuestring : NULL, name->valuestring, args);
            free(args);
        }
    }
    out->text = text;
    worker_llm_finish(out, cJSON_GetObjectItemCaseSensitive(doc, "usage"), "input_tokens", "output_tokens",
                      "neither text nor tool_use");
    // input_tokens leaves out the tokens read from and written to the cache: tokens_in counts them all.
    static const char *const read[] = {"usage", "cache_read_input_tokens", NULL};
    static const char *const write[] = {"usage", "cache_creation_input_tokens", NULL};
    out->tokens_cached = worker_llm_count(doc, read);
    out->tokens_cache_write = worker_llm_count(doc, write);
    out->tokens_in += out->tokens_cached + out->tokens_cache_write;
cleanup:
    cJSON_Delete(doc);
}

const worker_provider_t WORKER_ANTHROPIC = {"anthropic", s_url, s_headers, s_build, s_parse};
