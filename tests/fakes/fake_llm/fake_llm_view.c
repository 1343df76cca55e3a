// The fake LLM's reading of a request (see fake_llm_view.h).
#include "fake_llm_view.h"
#include "fake_llm_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Flattens a text-or-blocks content value into text (borrowed or allocated into buf).
static void s_content_text(const cJSON *content, char *buf, size_t len)
{
    buf[0] = '\0';
    if (cJSON_IsString(content)) {
        snprintf(buf, len, "%s", content->valuestring);
        return;
    }
    const cJSON *b;
    size_t used = 0;
    cJSON_ArrayForEach(b, content)
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(b, "text");
        if (cJSON_IsString(t) && used < len) used += (size_t)snprintf(buf + used, len - used, "%s ", t->valuestring);
    }
}



// Takes the text of the next user message (text or blocks) as the last one, remembering the item the
// one before named.
static void s_view_user(fake_view_t *v, const cJSON *content)
{
    const char *item = fake_item_named(v->user);
    if (item) v->earlier_item = item;
    s_content_text(content, v->user, sizeof v->user);
}

// Reads the neutral facts the fake needs from a request of provider p.
int fake_view(int p, const cJSON *req, fake_view_t *v)
{
    memset(v, 0, sizeof *v);
    if (p == 0) {
        const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(req, "messages"), *m;
        if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0) return -1;
        const cJSON *rf = cJSON_GetObjectItemCaseSensitive(req, "response_format");
        v->analysis = rf != NULL;
        if (rf) {
            const cJSON *js = cJSON_GetObjectItemCaseSensitive(rf, "json_schema");
            v->schema = js ? cJSON_GetObjectItemCaseSensitive(js, "schema") : NULL;
        }
        v->tools = cJSON_GetObjectItemCaseSensitive(req, "tools") != NULL;
        cJSON_ArrayForEach(m, msgs)
        {
            const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
            if (!cJSON_IsString(role)) return -1;
            free(v->tool_result);
            v->tool_result = NULL;
            if (strcmp(role->valuestring, "user") == 0)
                s_view_user(v, cJSON_GetObjectItemCaseSensitive(m, "content"));
            else if (strcmp(role->valuestring, "tool") == 0) {
                const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "content");
                v->tool_result = strdup(cJSON_IsString(c) ? c->valuestring : "{}");
            }
        }
    } else if (p == 1) {
        const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(req, "messages"), *m, *b;
        if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0 || !cJSON_GetObjectItemCaseSensitive(req, "max_tokens"))
            return -1;
        const cJSON *tc = cJSON_GetObjectItemCaseSensitive(req, "tool_choice");
        const cJSON *tct = tc ? cJSON_GetObjectItemCaseSensitive(tc, "type") : NULL;
        const cJSON *tcn = tc ? cJSON_GetObjectItemCaseSensitive(tc, "name") : NULL;
        const cJSON *tools = cJSON_GetObjectItemCaseSensitive(req, "tools"), *t;
        bool forced = cJSON_IsString(tct) && strcmp(tct->valuestring, "tool") == 0;
        bool any = cJSON_IsString(tct) && strcmp(tct->valuestring, "any") == 0;
        v->tools = false;
        cJSON_ArrayForEach(t, tools)  // the answer tool: the forced one, or under "any" the reply_with_analysis tool
        {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
            if (!cJSON_IsString(name)) continue;
            bool answer = forced ? cJSON_IsString(tcn) && strcmp(name->valuestring, tcn->valuestring) == 0
                                 : any && strcmp(name->valuestring, "reply_with_analysis") == 0;
            if (answer) v->schema = cJSON_GetObjectItemCaseSensitive(t, "input_schema");
            else v->tools = true;
        }
        v->analysis = v->schema != NULL;
        cJSON_ArrayForEach(m, msgs)
        {
            const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
            const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
            if (!cJSON_IsString(role)) return -1;
            free(v->tool_result);
            v->tool_result = NULL;
            if (strcmp(role->valuestring, "user") != 0) continue;
            bool is_result = false;
            cJSON_ArrayForEach(b, content)
            {
                const cJSON *type = cJSON_GetObjectItemCaseSensitive(b, "type");
                if (cJSON_IsString(type) && strcmp(type->valuestring, "tool_result") == 0) {
                    const cJSON *c = cJSON_GetObjectItemCaseSensitive(b, "content");
                    free(v->tool_result);
                    v->tool_result = strdup(cJSON_IsString(c) ? c->valuestring : "{}");
                    is_result = true;
                }
            }
            if (!is_result) s_view_user(v, content);
        }
    } else {
        const cJSON *contents = cJSON_GetObjectItemCaseSensitive(req, "contents"), *c, *part;
        if (!cJSON_IsArray(contents) || cJSON_GetArraySize(contents) == 0) return -1;
        const cJSON *gen = cJSON_GetObjectItemCaseSensitive(req, "generationConfig");
        v->schema = gen ? cJSON_GetObjectItemCaseSensitive(gen, "responseSchema") : NULL;
        v->analysis = v->schema != NULL;
        v->tools = cJSON_GetObjectItemCaseSensitive(req, "tools") != NULL;
        cJSON_ArrayForEach(c, contents)
        {
            const cJSON *role = cJSON_GetObjectItemCaseSensitive(c, "role");
            const cJSON *parts = cJSON_GetObjectItemCaseSensitive(c, "parts");
            free(v->tool_result);
            v->tool_result = NULL;
            if (cJSON_IsString(role) && strcmp(role->valuestring, "model") == 0) continue;
            v->user[0] = v->user[0];
            bool is_result = false;
            cJSON_ArrayForEach(part, parts)
            {
                const cJSON *fr = cJSON_GetObjectItemCaseSensitive(part, "functionResponse");
                if (fr) {
                    char *r = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(fr, "response"));
                    free(v->tool_result);
                    v->tool_result = r;
                    is_result = true;
                }
            }
            if (!is_result) s_view_user(v, parts);
        }
    }
    const cJSON *props = v->schema ? cJSON_GetObjectItemCaseSensitive(v->schema, "properties") : NULL;
    v->combined = props && cJSON_GetObjectItemCaseSensitive(props, "reply") != NULL;
    return 0;
}
