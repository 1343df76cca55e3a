// The combined answer: schema, validation (a malformed answer is a provider error, never a reply made of
// JSON), provider capability, and the history budget.
#include "worker_combined.h"
#include "lull_json.h"
#include "worker_llm.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *s_schema_build(const char *extraction_fields)
{
    char *analysis = worker_analysis_schema(extraction_fields), *out = NULL;
    cJSON *schema = analysis ? cJSON_Parse(analysis) : NULL;
    cJSON *props = schema ? cJSON_GetObjectItemCaseSensitive(schema, "properties") : NULL;
    cJSON *req = schema ? cJSON_GetObjectItemCaseSensitive(schema, "required") : NULL;
    cJSON *reply = cJSON_CreateObject(), *name = cJSON_CreateString("reply");
    if (!props || !req || !reply || !name) {
        cJSON_Delete(reply);
        cJSON_Delete(name);
        goto cleanup;
    }
    cJSON_AddStringToObject(reply, "type", "string");
    cJSON_AddStringToObject(reply, "description",
                            "Your message to the customer, as plain text (never JSON), answering their latest messages.");
    cJSON_InsertItemInArray(props, 0, reply);  // first: the model writes the reply before analysing it
    reply->string = strdup("reply");
    if (!reply->string) goto cleanup;
    cJSON_InsertItemInArray(req, 0, name);
    out = lull_json_print(schema);
cleanup:
    cJSON_Delete(schema);
    free(analysis);
    return out;
}

char *worker_combined_schema(const char *extraction_fields)
{
    return worker_analysis_memo(1, extraction_fields, s_schema_build);
}

// True when s (after blanks) is a JSON object or array: a model that nested its answer in the reply.
static bool s_looks_json(const char *s)
{
    while (isspace((unsigned char)*s)) s++;
    if (*s != '{' && *s != '[') return false;
    char err[32];
    cJSON *doc = lull_json_parse(s, strlen(s), LULL_JSON_MAX_DEPTH, err, sizeof err);
    bool json = cJSON_IsObject(doc) || cJSON_IsArray(doc);
    cJSON_Delete(doc);
    return json;
}

int worker_combined_parse(const char *text, const char *extraction_fields, char **reply, worker_analysis_t *a,
                          char *err, size_t errlen)
{
    *reply = NULL;
    memset(a, 0, sizeof *a);
    if (!text || !*text) {
        snprintf(err, errlen, "combined: no answer");
        return -1;
    }
    char perr[96];
    cJSON *doc = lull_json_parse(text, strlen(text), 8, perr, sizeof perr);
    const cJSON *r = cJSON_IsObject(doc) ? cJSON_GetObjectItemCaseSensitive(doc, "reply") : NULL;
    int rc = -1;
    if (!cJSON_IsObject(doc)) snprintf(err, errlen, "combined: not a JSON object");
    else if (!r) snprintf(err, errlen, "combined: no reply");
    else if (!cJSON_IsString(r)) snprintf(err, errlen, "combined: reply is not a string");
    else if (!*r->valuestring || strspn(r->valuestring, " \t\r\n") == strlen(r->valuestring))
        snprintf(err, errlen, "combined: empty reply");
    else if (strlen(r->valuestring) > WORKER_COMBINED_MAX_REPLY) snprintf(err, errlen, "combined: reply too long");
    else if (s_looks_json(r->valuestring)) snprintf(err, errlen, "combined: the reply is itself JSON");
    else if (strlen(text) > WORKER_ANALYSIS_MAX_ANSWER) snprintf(err, errlen, "analysis: no answer or too long");
    else if (worker_analysis_from(doc, extraction_fields, a, err, errlen) == 0) {
        *reply = strdup(r->valuestring);
        if (*reply) rc = 0;
        else {
            worker_analysis_clear(a);
            snprintf(err, errlen, "out of memory");
        }
    }
    cJSON_Delete(doc);
    return rc;
}

bool worker_combined_capable(int pi, const char *model, bool tools)
{
    const char *m = model ? model : "";
    if (pi == 0) {  // OpenAI: structured outputs from gpt-4o on (and the o-series, gpt-5 …)
        if (strncmp(m, "gpt-3", 5) == 0) return false;
        if (strncmp(m, "gpt-4", 5) == 0 && strncmp(m, "gpt-4o", 6) != 0 && strncmp(m, "gpt-4.", 6) != 0) return false;
        return true;
    }
    if (pi == 1) return true;
    if (pi == 2) {
        if (!tools) return true;
        if (strncmp(m, "gemini-", 7) != 0) return false;
        return atoi(m + 7) >= 3;
    }
    return false;
}

int64_t worker_tokens_estimate(const char *text)
{
    return (text ? (int64_t)strlen(text) + 3 : 3) / 4 + 4;
}

size_t worker_history_first(const worker_hist_t *h, size_t n, int64_t answered_upto, int64_t budget)
{
    int64_t used = 0;
    size_t first = n;
    while (first > 0) {
        const worker_hist_t *m = &h[first - 1];
        int64_t t = worker_tokens_estimate(m->body);
        if (m->id > answered_upto) {  // the burst: always sent
            used += t;
            first--;
            continue;
        }
        if (used + t > budget) break;
        used += t;
        first--;
    }
    return first;
}
