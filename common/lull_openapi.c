// The OpenAPI 3.0.3 document of an HTTP server, built once at start-up from its parts:
//  - the server's route table (lull_route.h, from its <tier>_routes.def): one operation per row, its
//    parameters, request body and answers by component name; bearer rows get 401, 403, 429 and 503, the
//    bearer security requirement and x-required-role (admin or agent);
//  - embedded JSON files (common/static/openapi_shared.json and the server's own), merged: everything else,
//    chiefly what the operations refer to (a name two files define is an error);
//  - schemas the server renders from its own tables (e.g. the admin field tables), through a callback.
// The operations' descriptions live in the embedded files, under "x-operation-descriptions" (operationId: text);
// that member is taken out of the document, and a description naming no operation is an error.
#include "lull_openapi.h"
#include "lull_json.h"
#include "lull_log.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------------------------------------------------
// Building

// Copies the next space-separated word of *list into out (cap bytes) and advances *list; false at the end.
static bool s_word(const char **list, char *out, size_t cap)
{
    const char *p = *list ? *list : "";
    while (*p == ' ') p++;
    size_t n = strcspn(p, " ");
    if (n == 0 || n >= cap) return false;
    memcpy(out, p, n);
    out[n] = '\0';
    *list = p + n;
    return true;
}

static cJSON *s_ref(const char *section, const char *name)
{
    char ref[128];
    snprintf(ref, sizeof ref, "#/components/%s/%s", section, name);
    cJSON *o = cJSON_CreateObject();
    if (o && !cJSON_AddStringToObject(o, "$ref", ref)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

typedef struct {
    int status;
    char name[64];
} s_answer_t;

static int s_cmp_answer(const void *a, const void *b)
{
    return ((const s_answer_t *)a)->status - ((const s_answer_t *)b)->status;
}

// The responses object of op: its own answers, plus 401, 403, 429 and 503 for the bearer routes, by status.
static cJSON *s_responses(const lull_route_t *op)
{
    s_answer_t a[24];
    size_t n = 0;
    char word[80];
    for (const char *p = op->responses; n < 21 && s_word(&p, word, sizeof word);) {
        char *eq = strchr(word, '=');
        a[n].status = atoi(word);
        if (eq) snprintf(a[n].name, sizeof a[n].name, "%s", eq + 1);
        else snprintf(a[n].name, sizeof a[n].name, "Error%d", a[n].status);
        n++;
    }
    static const int admin_statuses[] = {401, 403, 429, 503};
    for (size_t k = 0; op->auth != LULL_AUTH_NONE && k < 4; k++) {
        bool have = false;
        for (size_t i = 0; i < n; i++) have = have || a[i].status == admin_statuses[k];
        if (have) continue;
        a[n].status = admin_statuses[k];
        snprintf(a[n].name, sizeof a[n].name, "Error%d", a[n].status);
        n++;
    }
    qsort(a, n, sizeof a[0], s_cmp_answer);
    cJSON *r = cJSON_CreateObject();
    for (size_t i = 0; r && i < n; i++) {
        char key[8];
        snprintf(key, sizeof key, "%d", a[i].status);
        cJSON_AddItemToObject(r, key, s_ref("responses", a[i].name));
    }
    return r;
}

// Adds op to paths (under its path, created on first use). 0/-1.
static int s_add_op(cJSON *paths, const lull_route_t *op)
{
    char method[8];
    size_t ml = strlen(op->method);
    if (ml >= sizeof method) return -1;
    for (size_t i = 0; i <= ml; i++) method[i] = (char)tolower((unsigned char)op->method[i]);  // OpenAPI keys
    cJSON *item = cJSON_GetObjectItemCaseSensitive(paths, op->path);
    if (!item) item = cJSON_AddObjectToObject(paths, op->path);
    cJSON *o = item ? cJSON_AddObjectToObject(item, method) : NULL;
    if (!o) return -1;
    cJSON_AddStringToObject(o, "operationId", op->op_id);
    cJSON *tags = cJSON_AddArrayToObject(o, "tags");
    if (tags) cJSON_AddItemToArray(tags, cJSON_CreateString(op->tag));
    cJSON_AddStringToObject(o, "summary", op->summary);
    cJSON *security = cJSON_AddArrayToObject(o, "security");  // [] = public
    if (op->auth != LULL_AUTH_NONE && security) {
        cJSON *req = cJSON_CreateObject();
        cJSON_AddArrayToObject(req, "bearer");
        cJSON_AddItemToArray(security, req);
        cJSON_AddStringToObject(o, "x-required-role", op->auth == LULL_AUTH_AGENT ? "agent" : "admin");
    }
    char word[64];
    if (op->params) {
        cJSON *params = cJSON_AddArrayToObject(o, "parameters");
        for (const char *p = op->params; params && s_word(&p, word, sizeof word);)
            cJSON_AddItemToArray(params, s_ref("parameters", word));
    }
    if (op->body) cJSON_AddItemToObject(o, "requestBody", s_ref("requestBodies", op->body));
    return cJSON_AddItemToObject(o, "responses", s_responses(op)) ? 0 : -1;
}

// Moves every member of src into dst: an array is appended to dst's array of the same name, an object merged
// into dst's (levels deep: 2 = components, their sections, then the names in a section), any other name that
// both hold is a clash. 0, or -1 with *clash naming it (borrowed until src is deleted).
static int s_merge(cJSON *dst, cJSON *src, int levels, const char **clash)
{
    for (cJSON *item = src->child, *next; item; item = next) {
        next = item->next;
        cJSON *have = cJSON_GetObjectItemCaseSensitive(dst, item->string);
        if (!have) {
            cJSON_DetachItemViaPointer(src, item);
            if (!cJSON_AddItemToObject(dst, item->string, item)) {
                cJSON_Delete(item);
                return -1;
            }
        } else if (cJSON_IsArray(have) && cJSON_IsArray(item)) {
            for (cJSON *e; (e = cJSON_DetachItemFromArray(item, 0)) != NULL;) cJSON_AddItemToArray(have, e);
        } else if (levels > 0 && cJSON_IsObject(have) && cJSON_IsObject(item)) {
            if (s_merge(have, item, levels - 1, clash) != 0) return -1;
        } else {
            *clash = item->string;
            return -1;
        }
    }
    return 0;
}

// One embedded JSON file, parsed; NULL (logged) when it does not parse.
static cJSON *s_parse(const char *file, const unsigned char *text, size_t len)
{
    char err[160];
    cJSON *doc = lull_json_parse((const char *)text, len, 64, err, sizeof err);
    if (!doc)
        LOG_ERROR("openapi.invalid", "an embedded OpenAPI file does not parse", "file", LS(file), "error", LS(err));
    return doc;
}

// The parts merged in order, with an empty paths object; NULL (logged) when a part does not parse or two define
// the same thing.
static cJSON *s_parse_parts(const lull_openapi_part_t *parts, size_t nparts)
{
    cJSON *out = NULL, *doc = NULL;
    const char *clash = NULL;
    for (size_t i = 0; i < nparts; i++) {
        cJSON *part = s_parse(parts[i].file, parts[i].text, parts[i].len);
        if (!part || !cJSON_IsObject(part)) {
            cJSON_Delete(part);
            goto cleanup;
        }
        if (!doc) {
            doc = part;
            continue;
        }
        int rc = s_merge(doc, part, 2, &clash);
        if (rc != 0)
            LOG_ERROR("openapi.invalid", "the embedded OpenAPI files do not merge", "file", LS(parts[i].file), "clash",
                      LS(clash ? clash : "-"));
        cJSON_Delete(part);
        if (rc != 0) goto cleanup;
    }
    if (!doc || cJSON_HasObjectItem(doc, "paths") || !cJSON_AddObjectToObject(doc, "paths")) goto cleanup;
    out = doc;
    doc = NULL;
cleanup:
    cJSON_Delete(doc);
    return out;
}

// The operation of paths whose operationId is id, or NULL.
static cJSON *s_find_op(cJSON *paths, const char *id)
{
    cJSON *path, *op;
    cJSON_ArrayForEach(path, paths)
    {
        cJSON_ArrayForEach(op, path)
        {
            const char *have = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(op, "operationId"));
            if (have && strcmp(have, id) == 0) return op;
        }
    }
    return NULL;
}

// Moves each text of the "x-operation-descriptions" member of doc to its operation in paths as "description",
// and drops the member. 0, or -1 (logged) when a text is not a string or names no operation.
static int s_add_descriptions(cJSON *doc, cJSON *paths)
{
    int rc = -1;
    cJSON *texts = cJSON_DetachItemFromObjectCaseSensitive(doc, "x-operation-descriptions");
    const cJSON *text;
    cJSON_ArrayForEach(text, texts)
    {
        cJSON *op = s_find_op(paths, text->string);
        if (!op || !cJSON_IsString(text) || !cJSON_AddStringToObject(op, "description", text->valuestring)) {
            LOG_ERROR("openapi.invalid", "an operation description names no operation", "operation", LS(text->string));
            goto cleanup;
        }
    }
    rc = 0;
cleanup:
    cJSON_Delete(texts);
    return rc;
}

char *lull_openapi_json(const lull_openapi_part_t *parts, size_t nparts, const lull_route_t *rows, size_t nrows,
                        int (*schemas_fn)(cJSON *schemas))
{
    char *out = NULL;
    cJSON *doc = s_parse_parts(parts, nparts);
    cJSON *paths = doc ? cJSON_GetObjectItemCaseSensitive(doc, "paths") : NULL;
    cJSON *schemas = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "components"), "schemas");
    if (!paths || !schemas) goto cleanup;
    for (size_t i = 0; i < nrows; i++)
        if (s_add_op(paths, &rows[i]) != 0) goto cleanup;
    if (s_add_descriptions(doc, paths) != 0) goto cleanup;
    if (schemas_fn && schemas_fn(schemas) != 0) goto cleanup;
    out = cJSON_PrintUnformatted(doc);
cleanup:
    cJSON_Delete(doc);
    return out;
}

struct MHD_Response *lull_openapi_response(char *doc)
{
    if (!doc) {
        LOG_ERROR("openapi.failed", "cannot build the OpenAPI document");
        return NULL;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(doc), doc, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(doc);
        return NULL;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Cache-Control", "public, max-age=300");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    return r;
}
