// The admin route modules' shared pieces: JSON answers and errors, the database error answer, query-string,
// path-id and body readers.
#include "admin_util.h"
#include "lull_channel.h"
#include "lull_json.h"
#include "lull_log.h"
#include "lull_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------------------------------------------------
// Answers

void admin_util_answer(admin_req_t *req, int status, char *body)
{
    free(req->answer);
    req->status = body ? status : 500;
    req->answer = body ? body : lull_json_error_body("out_of_memory", "out of memory");
}

void admin_util_error(admin_req_t *req, int status, const char *code, const char *message)
{
    admin_util_answer(req, status, lull_json_error_body(code, message));
}

void admin_util_db_error(admin_ctx_t *ctx, admin_req_t *req)
{
    LOG_WARN("admin.db_failed", "admin query failed", "error", LS(lull_db_error(ctx->db)));
    if (lull_db_last_was_connection_error(ctx->db))
        admin_util_error(req, 503, "database_unavailable", "the database is unavailable; retry later");
    else admin_util_error(req, 500, "query_failed", "the database refused the query");
}

void admin_util_sql_answer(admin_ctx_t *ctx, admin_req_t *req, const char *sql, int n,
                                   const char *const *p, const char *not_found)
{
    PGresult *r = lull_db_exec(ctx->db, sql, n, p);
    if (!r) {
        admin_util_db_error(ctx, req);
        return;
    }
    const char *v = PQntuples(r) == 1 ? lull_db_text(r, 0, 0) : NULL;
    if (!v) admin_util_error(req, 404, "not_found", not_found ? not_found : "not found");
    else admin_util_answer(req, 200, strdup(v));
    PQclear(r);
}

// ---------------------------------------------------------------------------------------------------------
// Query strings and paths

bool admin_util_query(const char *uri, const char *key, char *out, size_t cap)
{
    return lull_url_query(uri, key, out, cap);
}

bool admin_util_query_int(admin_req_t *req, const char *key, int64_t def, int64_t min, int64_t max,
                                  int64_t *out)
{
    char buf[32];
    *out = def;
    if (!admin_util_query(req->uri, key, buf, sizeof buf)) {
        size_t len;
        if (lull_url_query_raw(req->uri, key, &len)) goto bad;  // present but unreadable
        return true;
    }
    char *end = NULL;
    long long v = strtoll(buf, &end, 10);
    if (!*buf || *end || v < min || v > max) goto bad;
    *out = v;
    return true;
bad:;
    char msg[160];
    snprintf(msg, sizeof msg, "'%s' must be an integer between %lld and %lld", key, (long long)min, (long long)max);
    admin_util_error(req, 400, "bad_parameter", msg);
    return false;
}

bool admin_util_page(admin_req_t *req, admin_page_t *page)
{
    if (!admin_util_query_int(req, "limit", ADMIN_LIMIT_DEFAULT, 1, ADMIN_LIMIT_MAX,
                                      &page->limit) ||
        !admin_util_query_int(req, "after", 0, 0, INT64_MAX, &page->after))
        return false;
    snprintf(page->limit_s, sizeof page->limit_s, "%lld", (long long)page->limit);
    snprintf(page->after_s, sizeof page->after_s, "%lld", (long long)page->after);
    return true;
}

bool admin_util_path_id(const char *p, int64_t *id, const char **rest)
{
    char *end = NULL;
    if (*p < '1' || *p > '9') return false;
    long long v = strtoll(p, &end, 10);
    if (v <= 0 || (*end && *end != '/' && *end != '?' && *end != '#')) return false;
    *id = v;
    *rest = end;
    return true;
}

bool admin_util_one_of(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(v, *set) == 0) return true;
    return false;
}

bool admin_util_channel_ok(admin_req_t *req, const char *channel)
{
    if (lull_channel_is_input(lull_channel_parse(channel))) return true;
    char names[128], msg[160];
    lull_channel_input_names(names, sizeof names);
    snprintf(msg, sizeof msg, "'channel' must be one of %s", names);
    admin_util_error(req, 400, "bad_parameter", msg);
    return false;
}

cJSON *admin_util_body(admin_req_t *req)
{
    char err[160];
    if (req->len == 0) return cJSON_CreateObject();
    cJSON *o = lull_json_parse(req->body, req->len, LULL_JSON_MAX_DEPTH, err, sizeof err);
    if (!o) {
        char msg[200];
        snprintf(msg, sizeof msg, "the body is not valid JSON: %s", err);
        admin_util_error(req, 400, "bad_json", msg);
        return NULL;
    }
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        admin_util_error(req, 400, "bad_json", "the body must be a JSON object");
        return NULL;
    }
    return o;
}
