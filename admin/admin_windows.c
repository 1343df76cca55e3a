// Admin routes over the scheduler's windows: every shard's list merged into keyset pages, and window
// operations forwarded to the conversation's shard.
#include "admin_windows.h"
#include "admin_ctl.h"
#include "lull_json.h"
#include "lull_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_cmp_conv(const void *a, const void *b)
{
    double x = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(*(cJSON *const *)a, "conversation_id"));
    double y = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(*(cJSON *const *)b, "conversation_id"));
    return x < y ? -1 : x > y;
}

// GET /api/v1/windows (seed: GET /timers): keyset pages over every shard's windows. Each shard answers its
// `limit` smallest conversation ids above `after`; the merge of those holds the global first `limit`.
void admin_windows_list(admin_ctx_t *ctx, admin_req_t *req)
{
    bool seed = req->arg != 0;
    admin_page_t pg;
    if (!admin_util_page(req, &pg)) return;
    int64_t limit = pg.limit, after = pg.after;
    admin_ctl_sync(ctx);  // discovery: every live scheduler of the map (none: an empty list)
    size_t nall = 0, cap = (size_t)ctx->nctl * ADMIN_LIMIT_MAX;
    cJSON **all = calloc(cap + 1, sizeof *all);
    if (!all) {
        admin_util_error(req, 500, "out_of_memory", "out of memory");
        return;
    }
    cJSON *docs[ADMIN_MAX_SHARDS] = {0};
    int64_t total = 0, bound = INT64_MAX;
    bool more = false;
    for (int s = 0; s < ctx->nctl; s++) {
        char *body = NULL;
        int st = admin_ctl_call(ctx, s, LULL_CTL_LIST, after, (int32_t)limit, NULL, ctx->ctl_timeout_ms, &body);
        char err[160];
        cJSON *doc = st == 200 && body ? lull_json_parse(body, strlen(body), LULL_JSON_MAX_DEPTH, err, sizeof err) : NULL;
        free(body);
        const cJSON *arr = doc ? cJSON_GetObjectItemCaseSensitive(doc, "windows") : NULL;
        if (!cJSON_IsArray(arr)) {
            cJSON_Delete(doc);
            for (int k = 0; k < s; k++) cJSON_Delete(docs[k]);
            LOG_WARN("admin.scheduler_unavailable", "a scheduler shard did not answer the list", "shard", LI(s), "status",
                     LI(st));
            char msg[160];
            snprintf(msg, sizeof msg, "scheduler shard %d did not answer (status %d)", s, st);
            admin_util_error(req, 503, "scheduler_unavailable", msg);
            free(all);
            return;
        }
        docs[s] = doc;
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "total");
        if (cJSON_IsNumber(t)) total += (int64_t)t->valuedouble;
        const cJSON *w;
        int64_t last = after;
        cJSON_ArrayForEach(w, arr)
        {
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(w, "conversation_id");
            if (!cJSON_IsNumber(c) || (int64_t)c->valuedouble <= after) continue;
            if ((int64_t)c->valuedouble > last) last = (int64_t)c->valuedouble;
            if (nall < cap) all[nall++] = (cJSON *)w;
        }
        // a shard with more windows than its page (LULL_SCHED_LIST_MAX may be below limit): nothing above
        // its last id is known to be complete, so this page ends there
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "more"))) {
            more = true;
            if (last < bound) bound = last;
        }
    }
    qsort(all, nall, sizeof all[0], s_cmp_conv);
    while (nall > 0 && (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(all[nall - 1], "conversation_id")) > bound) {
        nall--;
        more = true;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *out = seed ? cJSON_AddArrayToObject(root, "timers") : cJSON_AddArrayToObject(root, "windows");
    size_t n = nall < (size_t)limit ? nall : (size_t)limit;
    for (size_t i = 0; i < n && out; i++) {
        cJSON *dup = cJSON_Duplicate(all[i], true);
        if (seed && dup) {  // the seed's shape: conversation and seconds left
            cJSON *o = cJSON_CreateObject();
            cJSON_AddItemToObject(o, "conversation_id", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(dup, "conversation_id"), true));
            cJSON_AddItemToObject(o, "seconds_left", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(dup, "seconds_left"), true));
            cJSON_Delete(dup);
            dup = o;
        }
        if (dup) cJSON_AddItemToArray(out, dup);
    }
    cJSON_AddNumberToObject(root, "total", (double)total);
    if (n > 0 && (more || nall > n))
        cJSON_AddItemToObject(root, "next_after",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(all[n - 1], "conversation_id"), true));
    else cJSON_AddNullToObject(root, "next_after");
    for (int k = 0; k < ctx->nctl; k++) cJSON_Delete(docs[k]);
    free(all);
    admin_util_answer(req, 200, lull_json_print(root));
    cJSON_Delete(root);
}

// POST /api/v1/windows/{conv}/cancel|flush (seed: POST /process-chat): forwarded to the conversation's shard.
void admin_windows_op(admin_ctx_t *ctx, admin_req_t *req)
{
    int64_t conv = req->id;
    lull_ctl_op_t op = (lull_ctl_op_t)req->arg;
    int shard = admin_ctl_owner(ctx, conv);
    if (shard < 0) {  // discovery, and no live scheduler holds the partition's lease (a hand-over): retry shortly
        LOG_WARN("admin.no_owner", "no scheduler owns the conversation's partition right now", "conv", LI(conv));
        admin_util_error(req, 503, "no_owner", "no scheduler owns this conversation right now, retry");
        return;
    }
    char *body = NULL;
    int st = admin_ctl_call(ctx, shard, op, conv, 0, NULL, ctx->ctl_timeout_ms, &body);
    if (st < 0) {
        free(body);
        LOG_WARN("admin.scheduler_unavailable", "the scheduler shard did not answer", "conv", LI(conv), "shard", LI(shard));
        admin_util_error(req, 503, "scheduler_unavailable",
                                 "the scheduler did not answer in time; retry later");
        return;
    }
    LOG_INFO("admin.window", "window operation forwarded", "conv", LI(conv), "op", LS(lull_ctl_op_name(op)), "status",
             LI(st));
    if (!body) body = strdup("{}");
    admin_util_answer(req, st, body);
}

void admin_windows_process_chat(admin_ctx_t *ctx, admin_req_t *req)
{
    cJSON *b = admin_util_body(req);
    if (!b) return;
    char err[160];
    int rc = lull_json_int(b, "conversation_id", true, true, 1, INT64_MAX, &req->id, err, sizeof err);
    cJSON_Delete(b);
    if (rc != 0) {
        admin_util_error(req, 400, "bad_field", err);
        return;
    }
    req->arg = LULL_CTL_FLUSH;
    admin_windows_op(ctx, req);
}
