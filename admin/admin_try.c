// Admin dry runs: the tenant resolved by slug or id, then a TRY control request to the scheduler shards in turn
// (the next one while a shard has no worker or does not answer) until one answers.
#include "admin_try.h"
#include "admin_ctl.h"
#include "lull_json.h"
#include "lull_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void admin_try_run(admin_ctx_t *ctx, admin_req_t *req)
{
    bool analyse = req->arg != 0;
    cJSON *b = admin_util_body(req);
    if (!b) return;
    char err[160];
    const char *text = NULL, *slug = NULL;
    int64_t tenant = 0;
    int rc = lull_json_str(b, "text", true, 4000, &text, err, sizeof err);
    if (rc == 0) rc = lull_json_str(b, "tenant", false, 64, &slug, err, sizeof err);
    if (rc == 0) rc = lull_json_int(b, "tenant_id", false, false, 1, INT64_MAX, &tenant, err, sizeof err);
    if (rc == 0 && !*text) {
        snprintf(err, sizeof err, "text: must not be empty");
        rc = -1;
    }
    if (rc != 0) {
        cJSON_Delete(b);
        admin_util_error(req, 400, "bad_field", err);
        return;
    }
    if (tenant == 0) {  // by slug
        const char *p[] = {slug ? slug : "default"};
        PGresult *r = lull_db_exec(ctx->db, "SELECT id FROM tenants WHERE slug = $1", 1, p);
        if (!r) {
            cJSON_Delete(b);
            admin_util_db_error(ctx, req);
            return;
        }
        bool ok = false;
        tenant = PQntuples(r) == 1 ? lull_db_int(r, 0, 0, &ok) : 0;
        PQclear(r);
        if (!ok || tenant <= 0) {
            cJSON_Delete(b);
            admin_util_error(req, 404, "not_found", "no tenant with this slug");
            return;
        }
    }
    cJSON *q = cJSON_CreateObject();
    cJSON_AddNumberToObject(q, "tenant_id", (double)tenant);
    cJSON_AddStringToObject(q, "text", text);
    cJSON_AddStringToObject(q, "mode", analyse ? "analyse" : "reply");
    char *qs = lull_json_print(q);
    cJSON_Delete(q);
    cJSON_Delete(b);
    if (!qs) {
        admin_util_error(req, 500, "out_of_memory", "out of memory");
        return;
    }
    // any shard will do: start at the next one, move on while a shard has no worker or does not answer
    char *body = NULL;
    int st = -1;
    admin_ctl_sync(ctx);  // discovery: any live scheduler of the map
    if (ctx->nctl == 0) {
        free(qs);
        admin_util_error(req, 503, "no_scheduler", "no scheduler is live right now, retry");
        return;
    }
    int first = (int)(ctx->next_req_id % (uint64_t)ctx->nctl);  // spreads dry runs over the shards
    for (int k = 0; k < ctx->nctl; k++) {
        int shard = (first + k) % ctx->nctl;
        free(body);
        st = admin_ctl_call(ctx, shard, LULL_CTL_TRY, 0, 0, qs, ctx->try_timeout_ms, &body);
        if (st != -1 && st != 503) break;
    }
    free(qs);
    LOG_INFO("admin.try", "dry run", "tenant", LI(tenant), "mode", LS(analyse ? "analyse" : "reply"), "status", LI(st));
    if (st < 0) {
        free(body);
        admin_util_error(req, 504, "timeout", "no scheduler shard answered the dry run in time");
        return;
    }
    if (!body) body = lull_json_error_body("bad_gateway", "the worker answered without a body");
    admin_util_answer(req, st, body);
}
