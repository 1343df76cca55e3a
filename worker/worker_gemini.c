// Gemini generateContent adapter: neutral conversation → request body (functionDeclarations,
// functionCall / functionResponse parts, responseSchema for the analysis and the combined answer, the stable
// part first for the implicit prompt cache) and answer → text / tool calls / usage.
#include "worker_llm.h"
#include "worker_analysis.h"
#include "worker_tools.h"
#include "lull_buf.h"
#include "lull_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_url(const char *base, const char *model, char *buf, size_t len)
{
    for (const char *p = model; *p; p++)  // the model is part of the path
        if (*p == '/' || *p == '?' || *p == '#' || *p == ' ' || *p == '%') return -1;
    char suffix[64 + LULL_TENANT_MODEL_MAX];
    int w = snprintf(suffix, sizeof suffix, "/models/%s:generateContent", model);
    if (w < 0 || (size_t)w >= sizeof suffix) return -1;
    return worker_llm_url(base, suffix, buf, len);
}

static int s_headers(const char *key, const worker_llm_opts_t *opts, char hdrs[][256])
{
    (void)opts;
    snprintf(hdrs[0], 256, "x-goog-api-key: %s", key ? key : "");
    snprintf(hdrs[1], 256, "Content-Type: application/json");
    return 2;
}

// Gemini's schema dialect (Schema, an OpenAPI subset): no additionalProperties, nullable instead of type
// unions, the type one of the Type enum's names (STRING, OBJECT …: upper case).
static void s_schema_fix(cJSON *node)
{
    if (!node) return;
    if (cJSON_IsObject(node)) {
        cJSON_DeleteItemFromObjectCaseSensitive(node, "additionalProperties");
        cJSON *type = cJSON_GetObjectItemCaseSensitive(node, "type");
        if (cJSON_IsArray(type)) {
            const char *first = NULL;
            bool nullable = false;
            cJSON *t;
            cJSON_ArrayForEach(t, type)
            {
                if (!cJSON_IsString(t)) continue;
                if (strcmp(t->valuestring, "null") == 0) nullable = true;
                else if (!first) first = t->valuestring;
            }
            cJSON *repl = cJSON_CreateString(first ? first : "string");
            if (repl) cJSON_ReplaceItemInObjectCaseSensitive(node, "type", repl);
            if (nullable) cJSON_AddBoolToObject(node, "nullable", 1);
            type = cJSON_GetObjectItemCaseSensitive(node, "type");
        }
        if (cJSON_IsString(type))
            for (char *c = type->valuestring; *c; c++)
                if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 'a' + 'A');
    }
    cJSON *child;
    cJSON_ArrayForEach(child, node) s_schema_fix(child);
}

// A schema text in Gemini's dialect (compact); NULL when not JSON or out of memory.
static char *s_schema_gemini(const char *schema)
{
    cJSON *doc = cJSON_Parse(schema);
    if (!doc) return NULL;
    s_schema_fix(doc);
    char *out = lull_json_print(doc);
    cJSON_Delete(doc);
    return out;
}

// The tool table in Gemini's form, [{"functionDeclarations": [...]}] (built once: worker_llm_tools_ref).
static cJSON *s_tools_json(void)
{
    cJSON *tools = cJSON_CreateArray(), *holder = cJSON_CreateObject(), *decls = cJSON_CreateArray();
    if (!tools || !holder || !decls) {
        cJSON_Delete(tools);
        cJSON_Delete(holder);
        cJSON_Delete(decls);
        return NULL;
    }
    cJSON_AddItemToObject(holder, "functionDeclarations", decls);
    cJSON_AddItemToArray(tools, holder);
    for (size_t i = 0; i < worker_tools_count(); i++) {
        const worker_tool_t *wt = worker_tool_at(i);
        cJSON *d = cJSON_CreateObject(), *params = cJSON_Parse(wt->parameters);
        if (!d || !params) {
            cJSON_Delete(d);
            cJSON_Delete(params);
            cJSON_Delete(tools);
            return NULL;
        }
        s_schema_fix(params);
        cJSON_AddStringToObject(d, "name", wt->name);
        cJSON_AddStringToObject(d, "description", wt->description);
        cJSON_AddItemToObject(d, "parameters", params);
        cJSON_AddItemToArray(decls, d);
    }
    return tools;
}

static bool s_tools_on(const worker_conv_t *conv)
{
    return conv->mode != WORKER_MODE_ANALYSIS && conv->tools && worker_tools_count() > 0;
}

// The stable head of the body: generationConfig (with the schema), the system instruction, the tools — "{…"
// without the closing brace; cJSON's print of these members, so the body is byte for byte what printing the
// whole object gave. Gemini's implicit cache matches the longest shared prefix. Kept per settings.
static char *s_head(const worker_conv_t *conv)
{
    char *out = NULL;
    cJSON *root = cJSON_CreateObject(), *gen = cJSON_CreateObject();
    if (!root || !gen) {
        cJSON_Delete(gen);
        goto cleanup;
    }
    cJSON_AddItemToObject(root, "generationConfig", gen);
    cJSON_AddNumberToObject(gen, "temperature", conv->temperature);
    cJSON_AddNumberToObject(gen, "maxOutputTokens", conv->max_tokens);
    if (conv->mode == WORKER_MODE_ANALYSIS || conv->mode == WORKER_MODE_COMBINED) {
        // Converted once per distinct schema (worker_analysis_memo), copied in as is.
        char *text = conv->schema ? worker_analysis_memo(2, conv->schema, s_schema_gemini) : NULL;
        cJSON *schema = text ? cJSON_CreateRaw(text) : NULL;
        free(text);
        if (!schema) goto cleanup;
        cJSON_AddStringToObject(gen, "responseMimeType", "application/json");
        cJSON_AddItemToObject(gen, "responseSchema", schema);
    }
    if (conv->system) {
        cJSON *si = cJSON_CreateObject(), *parts = cJSON_CreateArray(), *p = cJSON_CreateObject();
        if (!si || !parts || !p) {
            cJSON_Delete(si);
            cJSON_Delete(parts);
            cJSON_Delete(p);
            goto cleanup;
        }
        cJSON_AddStringToObject(p, "text", conv->system);
        cJSON_AddItemToArray(parts, p);
        cJSON_AddItemToObject(si, "parts", parts);
        cJSON_AddItemToObject(root, "systemInstruction", si);
    }
    // A combined request offers the tools with the schema (gemini-3 on: worker_combined_capable).
    if (s_tools_on(conv)) {
        cJSON *tools = worker_llm_tools_ref(2, s_tools_json);
        if (!tools) goto cleanup;
        cJSON_AddItemToObject(root, "tools", tools);
    }
    out = worker_llm_head_print(root);
cleanup:
    cJSON_Delete(root);
    return out;
}

// The body: the kept head, then the contents written here (cJSON's escaping, its key order), then toolConfig (it
// changes in the last tool round) — the bytes cJSON printed for the whole object before.
static char *s_build(const worker_conv_t *conv)
{
    char temp[40], num[24], flags[8];
    snprintf(temp, sizeof temp, "%.17g", conv->temperature);
    snprintf(num, sizeof num, "%d", conv->max_tokens);
    snprintf(flags, sizeof flags, "%c%d", s_tools_on(conv) ? 't' : '-', (int)conv->mode);
    const char *parts[] = {temp, num, flags, conv->schema, conv->system};
    static const char *const user = "user", *const model = "model";
    const char *turn = NULL;  // the role of the turn being written (one of the two above), NULL before the first
    lull_buf_t b;
    worker_llm_body_init(&b, conv);
    lull_buf_puts(&b, ",\"contents\":[");
    for (size_t i = 0; i < conv->nitems; i++) {
        const worker_item_t *it = &conv->items[i];
        bool is_user = it->kind == WORKER_ITEM_USER || it->kind == WORKER_ITEM_IMAGE;
        if (!turn && !is_user) continue;
        const char *role = is_user || it->kind == WORKER_ITEM_TOOL_RESULT ? user : model;
        if (turn == role) {  // same-role items merge into one turn
            lull_buf_puts(&b, ",{");
        } else {
            lull_buf_puts(&b, turn ? "]},{\"role\":" : "{\"role\":");
            lull_json_write_str(&b, role);
            lull_buf_puts(&b, ",\"parts\":[{");
            turn = role;
        }
        if (it->kind == WORKER_ITEM_USER || it->kind == WORKER_ITEM_ASSISTANT) {
            lull_buf_puts(&b, "\"text\":");
            lull_json_write_str(&b, it->text ? it->text : "");
        } else if (it->kind == WORKER_ITEM_IMAGE) {
            lull_buf_puts(&b, "\"inline_data\":{\"mime_type\":");
            lull_json_write_str(&b, it->name ? it->name : "");
            lull_buf_puts(&b, ",\"data\":");
            lull_json_write_str(&b, it->text ? it->text : "");
            lull_buf_puts(&b, "}");
        } else {
            bool call = it->kind == WORKER_ITEM_TOOL_CALL;
            lull_buf_puts(&b, call ? "\"functionCall\":{\"name\":" : "\"functionResponse\":{\"name\":");
            lull_json_write_str(&b, it->name ? it->name : "");
            lull_buf_puts(&b, call ? ",\"args\":" : ",\"response\":");
            worker_llm_put_object(&b, call ? it->args : it->text);
            lull_buf_puts(&b, "}");
        }
        lull_buf_puts(&b, "}");
    }
    if (!turn) {  // no user message: nothing to send
        lull_buf_reset(&b);
        return NULL;
    }
    lull_buf_puts(&b, "]}]");
    if (s_tools_on(conv))
        lull_buf_puts(&b, conv->tool_choice_none ? ",\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"NONE\"}}"
                                                 : ",\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"AUTO\"}}");
    lull_buf_puts(&b, "}");
    const char *head = b.failed ? NULL : worker_llm_head(2, parts, sizeof parts / sizeof parts[0], s_head, conv);
    return worker_llm_splice(head, &b);  // the head, then what was written after it
}

static void s_parse(const char *body, size_t len, worker_llm_result_t *out)
{
    char err[96];
    cJSON *doc = lull_json_parse(body, len, LULL_JSON_MAX_DEPTH, err, sizeof err);
    const cJSON *cands = doc ? cJSON_GetObjectItemCaseSensitive(doc, "candidates") : NULL;
    const cJSON *first = cJSON_IsArray(cands) ? cJSON_GetArrayItem(cands, 0) : NULL;
    const cJSON *content = cJSON_IsObject(first) ? cJSON_GetObjectItemCaseSensitive(first, "content") : NULL;
    const cJSON *parts = cJSON_IsObject(content) ? cJSON_GetObjectItemCaseSensitive(content, "parts") : NULL, *part;
    if (!cJSON_IsArray(parts)) {
        out->cls = WORKER_LLM_NEXT;
        snprintf(out->error, sizeof out->error, "malformed answer: %s", doc ? "no candidates[0].content.parts" : err);
        goto cleanup;
    }
    size_t used = 0;
    char *text = NULL;
    cJSON_ArrayForEach(part, parts)
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(part, "text");
        const cJSON *fc = cJSON_GetObjectItemCaseSensitive(part, "functionCall");
        if (cJSON_IsString(t)) {
            size_t n = strlen(t->valuestring);
            if (used + n + 1 > WORKER_LLM_MAX_TEXT) continue;
            char *b = realloc(text, used + n + 1);
            if (!b) continue;
            text = b;
            memcpy(text + used, t->valuestring, n + 1);
            used += n;
        } else if (cJSON_IsObject(fc)) {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(fc, "name");
            const cJSON *args = cJSON_GetObjectItemCaseSensitive(fc, "args");
            if (!cJSON_IsString(name)) continue;
            char *a = cJSON_IsObject(args) ? lull_json_print(args) : NULL;
            (void)worker_llm_result_add_call(out, NULL, name->valuestring, a ? a : "{}");
            free(a);
        }
    }
    out->text = text;
    worker_llm_finish(out, cJSON_GetObjectItemCaseSensitive(doc, "usageMetadata"), "promptTokenCount", "candidatesTokenCount",
                      "no text and no functionCall");
    static const char *const cached[] = {"usageMetadata", "cachedContentTokenCount", NULL};
    out->tokens_cached = worker_llm_count(doc, cached);
cleanup:
    cJSON_Delete(doc);
}

const worker_provider_t WORKER_GEMINI = {"gemini", s_url, s_headers, s_build, s_parse};
