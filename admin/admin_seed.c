// The operator routes of the bots lull replaces: each reads its seed's body, resolves the contact on the generic
// channel, runs lull-admin's own handler with a body in lull's shape, and reshapes the answer.
#include "admin_seed.h"
#include "admin_crud.h"
#include "admin_try.h"
#include "admin_windows.h"
#include "lull_json.h"
#include "lull_log.h"
#include "lull_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Runs handler h (argument arg) on req with body b (owned, deleted here) in place of the request's own.
static void s_with_body(admin_ctx_t *ctx, admin_req_t *req, cJSON *b, admin_handler_fn *h, int arg)
{
    char *s = lull_json_print(b);
    cJSON_Delete(b);
    if (!s) {
        admin_util_error(req, 500, "out_of_memory", "out of memory");
        return;
    }
    const char *body = req->body;
    size_t len = req->len;
    req->body = s;
    req->len = strlen(s);
    req->arg = arg;
    h(ctx, req);
    req->body = body;
    req->len = len;
    free(s);
}

// Reads a contact id (a string, or an integer as ingress's generic webhook takes it) into buf.
static int s_contact(const cJSON *b, const char *key, char *buf, size_t cap, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, key);
    const char *s = NULL;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d != (double)(long long)d || d < -9.0e15 || d > 9.0e15) {
            snprintf(err, errlen, "field '%s' must be a string or an integer", key);
            return -1;
        }
        snprintf(buf, cap, "%lld", (long long)d);
        return 0;
    }
    if (lull_json_str(b, key, true, ADMIN_SEED_CONTACT_MAX, &s, err, errlen) != 0) return -1;
    if (!*s) {
        snprintf(err, errlen, "field '%s' must not be empty", key);
        return -1;
    }
    snprintf(buf, cap, "%s", s);
    return 0;
}

// Reads the seed's "message" (1..ADMIN_SEED_MESSAGE_MAX bytes) and "tenant"? (slug) of b.
static int s_message(const cJSON *b, const char **text, const char **slug, char *err, size_t errlen)
{
    if (lull_json_str(b, "message", true, ADMIN_SEED_MESSAGE_MAX, text, err, errlen) != 0 ||
        lull_json_str(b, "tenant", false, 64, slug, err, errlen) != 0)
        return -1;
    if (!**text) {
        snprintf(err, errlen, "field 'message' must not be empty");
        return -1;
    }
    return 0;
}

// A dry run's body in lull's shape: {"text", "tenant"?} or {"text", "tenant_id"} when tenant > 0.
static cJSON *s_try_body(const char *text, const char *slug, int64_t tenant)
{
    cJSON *q = cJSON_CreateObject();
    bool ok = q && cJSON_AddStringToObject(q, "text", text);
    if (ok && tenant > 0) ok = cJSON_AddNumberToObject(q, "tenant_id", (double)tenant) != NULL;
    if (ok && tenant <= 0 && slug) ok = cJSON_AddStringToObject(q, "tenant", slug) != NULL;
    if (!ok) {
        cJSON_Delete(q);
        q = NULL;
    }
    return q;
}

// Replaces a 200 dry-run answer of req with out (owned): out[map[i][0]] = the answer's map[i][1] ("a.b" is
// the member b of the object a; absent → null).
static void s_reshape(admin_req_t *req, cJSON *out, const char *const (*map)[2], size_t n)
{
    char err[160];
    cJSON *a = NULL;
    if (req->status != 200 || !req->answer) goto cleanup;
    a = lull_json_parse(req->answer, strlen(req->answer), LULL_JSON_MAX_DEPTH, err, sizeof err);
    if (!a || !out) {
        admin_util_error(req, 502, "bad_gateway", "the worker's dry run answer is not JSON");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        const char *from = map[i][1], *dot = strchr(from, '.');
        const cJSON *v = a;
        if (dot) {
            char head[64];
            snprintf(head, sizeof head, "%.*s", (int)(dot - from), from);
            v = cJSON_GetObjectItemCaseSensitive(v, head);
            from = dot + 1;
        }
        v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, from) : NULL;
        cJSON_AddItemToObject(out, map[i][0], v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
    }
    admin_util_answer(req, 200, lull_json_print(out));
cleanup:
    cJSON_Delete(a);
    cJSON_Delete(out);
}

void admin_seed_try(admin_ctx_t *ctx, admin_req_t *req)
{
    static const char *const response[][2] = {{"response", "reply"}};
    static const char *const classify[][2] = {{"intent", "analysis.intent"}, {"confidence", "analysis.confidence"}};
    admin_seed_shape_t shape = (admin_seed_shape_t)req->arg;
    char err[160];
    const char *text = NULL, *slug = NULL;
    cJSON *b = admin_util_body(req), *q = NULL;
    if (!b) return;
    if (s_message(b, &text, &slug, err, sizeof err) != 0) {
        admin_util_error(req, 400, "bad_field", err);
        goto cleanup;
    }
    q = s_try_body(text, slug, 0);
    if (!q) {
        admin_util_error(req, 500, "out_of_memory", "out of memory");
        goto cleanup;
    }
    bool analyse = shape == ADMIN_SEED_ANALYSIS || shape == ADMIN_SEED_CLASSIFY;
    s_with_body(ctx, req, q, admin_try_run, analyse ? 1 : 0);
    if (shape == ADMIN_SEED_RESPONSE) s_reshape(req, cJSON_CreateObject(), response, 1);
    if (shape == ADMIN_SEED_CLASSIFY) s_reshape(req, cJSON_CreateObject(), classify, 2);
cleanup:
    cJSON_Delete(b);
}

void admin_seed_cancel_timer(admin_ctx_t *ctx, admin_req_t *req)
{
    char err[160], contact[ADMIN_SEED_CONTACT_MAX + 1];
    const char *slug = NULL;
    PGresult *r = NULL;
    cJSON *b = admin_util_body(req);
    if (!b) return;
    if (s_contact(b, "contact_id", contact, sizeof contact, err, sizeof err) != 0 ||
        lull_json_str(b, "tenant", false, 64, &slug, err, sizeof err) != 0) {
        admin_util_error(req, 400, "bad_field", err);
        goto cleanup;
    }
    const char *p[] = {slug ? slug : "default", contact};
    r = lull_db_exec(ctx->db,
                     "SELECT v.id FROM tenants t JOIN contacts k ON k.tenant_id = t.id AND k.channel = 'generic'"
                     " AND k.external_id = $2 JOIN conversations v ON v.contact_id = k.id WHERE t.slug = $1"
                     " ORDER BY v.id LIMIT 1",
                     2, p);
    if (!r) {
        admin_util_db_error(ctx, req);
        goto cleanup;
    }
    bool ok = false;
    int64_t conv = PQntuples(r) == 1 ? lull_db_int(r, 0, 0, &ok) : 0;
    if (!ok || conv <= 0) {
        admin_util_error(req, 404, "not_found", "no generic conversation of this contact_id in this tenant");
        goto cleanup;
    }
    req->id = conv;
    req->arg = LULL_CTL_CANCEL;
    admin_windows_op(ctx, req);
cleanup:
    PQclear(r);
    cJSON_Delete(b);
}

void admin_seed_usage(admin_ctx_t *ctx, admin_req_t *req)
{
    const char *q = strchr(req->uri, '?');
    char *uri = NULL;
    size_t cap = strlen(req->uri) + 64;
    uri = malloc(cap);
    if (!uri) {
        admin_util_error(req, 500, "out_of_memory", "out of memory");
        return;
    }
    // the path's contact first: a ?contact= of the query string cannot change it
    snprintf(uri, cap, "/api/v1/usage?contact=%lld%s%s", (long long)req->id, q ? "&" : "", q ? q + 1 : "");
    const char *own = req->uri;
    req->uri = uri;
    admin_crud_usage(ctx, req);
    req->uri = own;
    free(uri);
}

// The dry run's reply to a /reply/ message, kept as the bot's answer in the conversation (history of the
// contact's next messages; answered_upto moves to the message): the HTTP answer is its only delivery (no
// outbox row). A failure is logged; the caller still gets the reply.
static void s_store_reply(admin_ctx_t *ctx, const admin_req_t *req, int64_t tenant, int64_t conv, int64_t mid)
{
    char err[160];
    cJSON *a = NULL;
    if (req->status != 200 || !req->answer) return;
    a = lull_json_parse(req->answer, strlen(req->answer), LULL_JSON_MAX_DEPTH, err, sizeof err);
    const cJSON *reply = a ? cJSON_GetObjectItemCaseSensitive(a, "reply") : NULL;
    if (cJSON_IsString(reply) && reply->valuestring[0]) {
        char ts[24], cs[24], ms[24];
        snprintf(ts, sizeof ts, "%lld", (long long)tenant);
        snprintf(cs, sizeof cs, "%lld", (long long)conv);
        snprintf(ms, sizeof ms, "%lld", (long long)mid);
        const char *p[] = {ts, cs, ms, reply->valuestring};
        if (lull_db_run(ctx->db,
                        "WITH m AS (INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, body)"
                        " VALUES ($2::bigint, $1::bigint, 'generic', 'out', 'bot', $4) RETURNING id)"
                        " UPDATE conversations SET answered_upto = greatest(answered_upto, $3::bigint),"
                        " last_reply_at = now(), updated_at = now() FROM m WHERE conversations.id = $2::bigint",
                        4, p, NULL) != 0)
            LOG_WARN("seed.reply_not_kept", "the dry run's reply was answered but not stored", "conv", LI(conv),
                     "error", LS(lull_db_error(ctx->db)));
    }
    cJSON_Delete(a);
}

void admin_seed_reply(admin_ctx_t *ctx, admin_req_t *req)
{
    static const char *const response[][2] = {{"response", "reply"}};
    char err[160], sender[ADMIN_SEED_CONTACT_MAX + 1], *batch = NULL;
    const char *text = NULL, *slug = NULL;
    PGresult *r = NULL;
    cJSON *b = admin_util_body(req), *rows = NULL, *row = NULL, *out = NULL;
    if (!b) return;
    if (s_contact(b, "sender_id", sender, sizeof sender, err, sizeof err) != 0 ||
        s_message(b, &text, &slug, err, sizeof err) != 0) {
        admin_util_error(req, 400, "bad_field", err);
        goto cleanup;
    }
    // one row of lull_ingress_store, as ingress's generic webhook builds it
    rows = cJSON_CreateArray();
    row = cJSON_CreateObject();
    if (!rows || !row || !cJSON_AddItemToArray(rows, row)) {
        cJSON_Delete(row);
        admin_util_error(req, 500, "out_of_memory", "out of memory");
        goto cleanup;
    }
    cJSON_AddNumberToObject(row, "i", 0);
    cJSON_AddStringToObject(row, "route", slug ? "slug" : "default");
    if (slug) cJSON_AddStringToObject(row, "route_key", slug);
    cJSON_AddStringToObject(row, "channel", "generic");
    cJSON_AddStringToObject(row, "external_id", sender);
    cJSON_AddStringToObject(row, "direction", "in");
    cJSON_AddStringToObject(row, "author", "contact");
    cJSON_AddStringToObject(row, "body", text);
    cJSON_AddItemReferenceToObject(row, "raw", b);
    batch = lull_json_print(rows);
    if (!batch) {
        admin_util_error(req, 500, "out_of_memory", "out of memory");
        goto cleanup;
    }
    // stored and taken out of the pipeline's hands in one transaction (cancelled_upto: no bot job answers up to
    // this message), so the scheduler's sweep never finds it and the answer is the dry run's, once
    const char *p[] = {batch};
    if (lull_db_begin(ctx->db) != 0) {
        admin_util_db_error(ctx, req);
        goto cleanup;
    }
    r = lull_db_exec(ctx->db, "SELECT outcome, tenant_id, conversation_id, message_id FROM lull_ingress_store($1::jsonb)",
                     1, p);
    const char *outcome = r && PQntuples(r) == 1 ? lull_db_text(r, 0, 0) : NULL;
    bool stored = outcome && strcmp(outcome, "new") == 0;
    int64_t tenant = stored ? lull_db_int(r, 0, 1, NULL) : 0, conv = stored ? lull_db_int(r, 0, 2, NULL) : 0;
    int64_t mid = stored ? lull_db_int(r, 0, 3, NULL) : 0;
    if (stored) {
        char cs[24], ms[24];
        snprintf(cs, sizeof cs, "%lld", (long long)conv);
        snprintf(ms, sizeof ms, "%lld", (long long)mid);
        const char *q[] = {cs, ms};
        stored = lull_db_run(ctx->db,
                             "UPDATE conversations SET cancelled_upto = greatest(cancelled_upto, $2::bigint),"
                             " first_unanswered_at = CASE WHEN last_inbound_id <= $2::bigint THEN NULL"
                             " ELSE first_unanswered_at END, updated_at = now() WHERE id = $1::bigint",
                             2, q, NULL) == 0 &&
                 lull_db_commit(ctx->db) == 0;
    }
    if (!stored) {
        lull_db_rollback(ctx->db);
        if (!r || (outcome && strcmp(outcome, "new") == 0)) {
            admin_util_db_error(ctx, req);
            goto cleanup;
        }
        bool unknown = outcome && strcmp(outcome, "unknown_tenant") == 0;
        admin_util_error(req, unknown ? 404 : 503, unknown ? "not_found" : "unavailable",
                         unknown ? "no tenant with this slug" : "the message was not stored; retry");
        goto cleanup;
    }
    LOG_INFO("inbound.accepted", "seed reply stored", "tenant", LI(tenant), "channel", LS("generic"), "conv", LI(conv),
             "message_id", LI(mid));
    s_with_body(ctx, req, s_try_body(text, NULL, tenant), admin_try_run, 0);
    s_store_reply(ctx, req, tenant, conv, mid);
    out = cJSON_CreateObject();
    if (out) {
        cJSON_AddNumberToObject(out, "conversation_id", (double)conv);
        cJSON_AddNumberToObject(out, "message_id", (double)mid);
    }
    s_reshape(req, out, response, 1);
    out = NULL;
cleanup:
    free(batch);
    PQclear(r);
    cJSON_Delete(rows);
    cJSON_Delete(b);
}
