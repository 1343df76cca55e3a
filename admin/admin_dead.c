// Admin routes over dead letters: filters read from the query or the body and checked here, the list and the
// replays done by common/lull_dead.
#include "admin_dead.h"
#include "lull_dead.h"
#include "lull_json.h"
#include "lull_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Fills f from the query (tenant, channel, since) or, when obj is given, from its fields. false when answered 400.
static bool s_dead_filter(admin_req_t *req, const cJSON *obj, lull_dead_filter_t *f, char *channel, char *since)
{
    char err[160];
    memset(f, 0, sizeof *f);
    *channel = *since = '\0';
    if (obj) {
        const char *ch = NULL, *si = NULL;
        if (lull_json_int(obj, "tenant", false, true, 1, INT64_MAX, &f->tenant_id, err, sizeof err) != 0 ||
            lull_json_str(obj, "channel", false, 15, &ch, err, sizeof err) != 0 ||
            lull_json_str(obj, "since", false, 63, &si, err, sizeof err) != 0) {
            admin_util_error(req, 400, "bad_field", err);
            return false;
        }
        if (ch) snprintf(channel, 16, "%s", ch);
        if (si) snprintf(since, 64, "%s", si);
    } else {
        if (!admin_util_query_int(req, "tenant", 0, 1, INT64_MAX, &f->tenant_id)) return false;
        if (!admin_util_query(req->uri, "channel", channel, 16)) *channel = '\0';
        if (!admin_util_query(req->uri, "since", since, 64)) *since = '\0';
    }
    if (*channel && !admin_util_channel_ok(req, channel)) return false;
    for (const char *p = since; *p; p++)  // an ISO timestamp: digits, separators, T/Z, zone offset
        if (!strchr("0123456789-:.TZ +", *p)) {
            admin_util_error(req, 400, "bad_parameter",
                                     "'since' must be an ISO 8601 timestamp (2026-11-23T10:00:00Z)");
            return false;
        }
    f->channel = *channel ? channel : NULL;
    f->since = *since ? since : NULL;
    return true;
}

// The database refused a filter value (e.g. an impossible date): 400, otherwise the usual database error.
static void s_dead_db_err(admin_ctx_t *ctx, admin_req_t *req)
{
    if (strncmp(lull_db_sqlstate(ctx->db), "22", 2) == 0) {
        admin_util_error(req, 400, "bad_parameter", "'since' is not a valid timestamp");
        return;
    }
    admin_util_db_error(ctx, req);
}

void admin_dead_list(admin_ctx_t *ctx, admin_req_t *req)
{
    lull_dead_filter_t f;
    char channel[16], since[64];
    int64_t limit, before;
    if (!s_dead_filter(req, NULL, &f, channel, since) ||
        !admin_util_query_int(req, "limit", ADMIN_LIMIT_DEFAULT, 1, ADMIN_LIMIT_MAX, &limit) ||
        !admin_util_query_int(req, "before", 0, 0, INT64_MAX, &before))
        return;
    f.limit = (int)limit;
    f.before_id = before;
    char *list = lull_dead_list(ctx->db, &f);
    if (!list) {
        s_dead_db_err(ctx, req);
        return;
    }
    char err[160];
    cJSON *arr = lull_json_parse(list, strlen(list), LULL_JSON_MAX_DEPTH, err, sizeof err);
    free(list);
    cJSON *root = cJSON_CreateObject();
    if (!arr || !root) {
        cJSON_Delete(arr);
        cJSON_Delete(root);
        admin_util_error(req, 500, "bad_result", "the dead-letter list could not be read");
        return;
    }
    int n = cJSON_GetArraySize(arr);
    const cJSON *last = n > 0 ? cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, n - 1), "id") : NULL;
    cJSON_AddItemToObject(root, "dead_letters", arr);
    if (n == limit && cJSON_IsNumber(last)) cJSON_AddNumberToObject(root, "next_before", last->valuedouble);
    else cJSON_AddNullToObject(root, "next_before");
    admin_util_answer(req, 200, lull_json_print(root));
    cJSON_Delete(root);
}

void admin_dead_replay(admin_ctx_t *ctx, admin_req_t *req)
{
    int64_t id = req->id;
    int rc = lull_dead_replay(ctx->db, id);
    if (rc < 0) {
        admin_util_db_error(ctx, req);
        return;
    }
    if (rc == 0) {
        admin_util_error(req, 404, "not_found", "no dead or unknown outbox row has this id");
        return;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "{\"replayed\":1,\"id\":%lld}", (long long)id);
    LOG_INFO("admin.dead_replayed", "dead letter replayed", "outbox", LI(id));
    admin_util_answer(req, 200, strdup(buf));
}

void admin_dead_replay_all(admin_ctx_t *ctx, admin_req_t *req)
{
    cJSON *b = admin_util_body(req);
    if (!b) return;
    lull_dead_filter_t f;
    char channel[16], since[64], err[160];
    bool all = false;
    bool ok = s_dead_filter(req, b, &f, channel, since);
    if (ok && lull_json_bool(b, "all", false, &all, err, sizeof err) != 0) {
        admin_util_error(req, 400, "bad_field", err);
        ok = false;
    }
    cJSON_Delete(b);
    if (!ok) return;
    if (!f.tenant_id && !f.channel && !f.since && !all) {
        admin_util_error(req, 400, "empty_filter",
                                 "give tenant, channel or since, or {\"all\":true} to replay every dead letter");
        return;
    }
    int64_t n = lull_dead_replay_all(ctx->db, &f);
    if (n < 0) {
        s_dead_db_err(ctx, req);
        return;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "{\"replayed\":%lld}", (long long)n);
    LOG_INFO("admin.dead_replayed_all", "dead letters replayed by filter", "count", LI(n));
    admin_util_answer(req, 200, strdup(buf));
}
