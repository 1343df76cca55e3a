// Admin API of lull-ingress: routing, validation and the SQL / control-socket work behind each route. Runs on
// a pool of LULL_ADMIN_THREADS threads, each owning a database connection, a DEALER socket per scheduler shard
// and a PUSH socket to the senders; the HTTP thread only checks the token and queues the request.
#include "ingress_admin.h"
#include "ingress_admin_crud.h"
#include "lull_clock.h"
#include "lull_crypto.h"
#include "lull_db.h"
#include "lull_dead.h"
#include "lull_channel.h"
#include "lull_json.h"
#include "lull_log.h"
#include "lull_url.h"
#include "lull_proto.h"

#include <curl/curl.h>
#include <czmq.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_SHARDS 64
#define S_MAX_THREADS 64
#define S_LIMIT_DEFAULT 50
#define S_LIMIT_MAX 1000
#define S_RECENT 20      // messages / analyses in GET /conversations/{id}
#define S_BODY_MAX 4096  // a human reply's body, bytes
// The delivery of an outbound message (messages aliased x): its outbox row's state; null for inbound ones.
#define S_DELIVERY                                                                                              \
    "(SELECT json_build_object('outbox_id', o.id, 'status', o.status, 'attempts', o.attempts, 'sent_at', o.sent_at," \
    " 'last_error', o.last_error, 'delivery_status', o.delivery_status, 'delivery_error', o.delivery_error)"    \
    " FROM outbox o WHERE o.message_id = x.id ORDER BY o.id LIMIT 1) AS delivery"

// What one admin thread owns: its database connection and sockets (they never leave the thread).
typedef struct {
    struct ingress_admin *owner;
    ingress_admin_cfg_t cfg;   // copy of the owner's
    const char *config_json;   // the owner's
    pthread_t thread;
    bool started;
    bool init_done;            // the thread created its sockets (init_rc 0) or failed (-1)
    int init_rc;
    lull_db_t *db;
    zsock_t *ctl[S_MAX_SHARDS];
    int nctl;
    zsock_t *senders;
    uint64_t next_req_id;
} s_ctx_t;

struct ingress_admin {
    ingress_admin_cfg_t cfg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ingress_admin_req_t *head, *tail;
    int64_t queued;
    bool stopping;
    char *config_json;  // owned copy
    s_ctx_t ctx[S_MAX_THREADS];
    int nthreads;
};

// ---------------------------------------------------------------------------------------------------------
// Answers

static void s_set(ingress_admin_req_t *req, int status, char *body)
{
    free(req->answer);
    req->status = body ? status : 500;
    req->answer = body ? body : lull_json_error_body("out_of_memory", "out of memory");
}

static void s_err(ingress_admin_req_t *req, int status, const char *code, const char *message)
{
    s_set(req, status, lull_json_error_body(code, message));
}

static void s_db_err(s_ctx_t *self, ingress_admin_req_t *req)
{
    LOG_WARN("admin.db_failed", "admin query failed", "error", LS(lull_db_error(self->db)));
    if (lull_db_last_was_connection_error(self->db)) s_err(req, 503, "database_unavailable", "the database is unavailable; retry later");
    else s_err(req, 500, "query_failed", "the database refused the query");
}

// Runs sql (returning one text column, one row) and answers it with status 200; NULL row → 404 not_found.
static void s_sql_answer(s_ctx_t *self, ingress_admin_req_t *req, const char *sql, int n, const char *const *p,
                         const char *not_found)
{
    PGresult *r = lull_db_exec(self->db, sql, n, p);
    if (!r) {
        s_db_err(self, req);
        return;
    }
    const char *v = PQntuples(r) == 1 ? lull_db_text(r, 0, 0) : NULL;
    if (!v) s_err(req, 404, "not_found", not_found ? not_found : "not found");
    else s_set(req, 200, strdup(v));
    PQclear(r);
}

// ---------------------------------------------------------------------------------------------------------
// Query strings and paths

// Copies the percent-decoded value of key from the query of uri into out; false when absent, undecodable or
// longer than cap - 1.
static bool s_query(const char *uri, const char *key, char *out, size_t cap) { return lull_url_query(uri, key, out, cap); }

// Reads an integer query parameter in [min, max]; absent → *out = def. false (answered 400) when invalid.
static bool s_query_int(ingress_admin_req_t *req, const char *key, int64_t def, int64_t min, int64_t max, int64_t *out)
{
    char buf[32];
    *out = def;
    if (!s_query(req->uri, key, buf, sizeof buf)) {
        const char *q = strchr(req->uri, '?');
        char pat[40];
        snprintf(pat, sizeof pat, "%s=", key);
        if (q && (strstr(q, pat) != NULL)) goto bad;  // present but unreadable
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
    s_err(req, 400, "bad_parameter", msg);
    return false;
}

// Parses a positive id at p (up to '/', '?' or end); *rest points after it. false when not an id.
static bool s_path_id(const char *p, int64_t *id, const char **rest)
{
    char *end = NULL;
    if (*p < '1' || *p > '9') return false;
    long long v = strtoll(p, &end, 10);
    if (v <= 0 || (*end && *end != '/' && *end != '?' && *end != '#')) return false;
    *id = v;
    *rest = end;
    return true;
}

static bool s_one_of(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(v, *set) == 0) return true;
    return false;
}

// True when channel names an input channel; else answers 400 naming the accepted ones.
static bool s_channel_ok(ingress_admin_req_t *req, const char *channel)
{
    if (lull_channel_is_input(lull_channel_parse(channel))) return true;
    char names[128], msg[160];
    lull_channel_input_names(names, sizeof names);
    snprintf(msg, sizeof msg, "'channel' must be one of %s", names);
    s_err(req, 400, "bad_parameter", msg);
    return false;
}

static const char *const s_statuses[] = {"open", "escalated", "paused", "closed", NULL};

void ingress_admin_answer(ingress_admin_req_t *req, int status, char *body) { s_set(req, status, body); }
void ingress_admin_error(ingress_admin_req_t *req, int status, const char *code, const char *message)
{
    s_err(req, status, code, message);
}
bool ingress_admin_query(const char *uri, const char *key, char *out, size_t cap) { return s_query(uri, key, out, cap); }
bool ingress_admin_query_int(ingress_admin_req_t *req, const char *key, int64_t def, int64_t min, int64_t max,
                             int64_t *out)
{
    return s_query_int(req, key, def, min, max, out);
}

// ---------------------------------------------------------------------------------------------------------
// Scheduler control

// Sends one CTL_REQ (reqbody: the TRY body, else NULL) to shard and waits up to timeout_ms for its CTL_REP.
// Returns the status (body owned by the caller) or -1 on timeout / bad reply.
static int s_ctl(s_ctx_t *self, int shard, lull_ctl_op_t op, int64_t conv, int32_t limit, const char *reqbody,
                 int64_t timeout_ms, char **body)
{
    *body = NULL;
    lull_msg_t m = {.type = LULL_MSG_CTL_REQ};
    m.u.ctl_req.req_id = ++self->next_req_id;
    m.u.ctl_req.op = op;
    m.u.ctl_req.conversation_id = conv;
    m.u.ctl_req.limit = limit;
    m.u.ctl_req.body = (char *)reqbody;
    void *sock = zsock_resolve(self->ctl[shard]);
    if (lull_proto_send(sock, &m, ZMQ_DONTWAIT) != 0) return -1;
    int64_t deadline = lull_clock_mono_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - lull_clock_mono_ms();
        if (left <= 0) return -1;
        zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};
        int n = zmq_poll(&it, 1, (long)left);
        if (n < 0) return -1;
        if (n == 0) continue;
        zmsg_t *z = zmsg_recv_nowait(self->ctl[shard]);
        if (!z) continue;
        lull_msg_t rep;
        char err[160];
        int rc = lull_proto_decode(z, &rep, err, sizeof err);
        zmsg_destroy(&z);
        if (rc != 0 || rep.type != LULL_MSG_CTL_REP) {
            if (rc == 0) lull_msg_clear(&rep);
            LOG_WARN("admin.ctl_bad_reply", rc ? err : "not a CTL_REP", "shard", LI(shard));
            continue;
        }
        if (rep.u.ctl_rep.req_id != m.u.ctl_req.req_id) {  // a late answer to a request that timed out
            lull_msg_clear(&rep);
            continue;
        }
        int status = rep.u.ctl_rep.status;
        *body = rep.u.ctl_rep.body;
        rep.u.ctl_rep.body = NULL;
        lull_msg_clear(&rep);
        return status;
    }
}

static int s_cmp_conv(const void *a, const void *b)
{
    double x = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(*(cJSON *const *)a, "conversation_id"));
    double y = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(*(cJSON *const *)b, "conversation_id"));
    return x < y ? -1 : x > y;
}

// GET /api/v1/windows (seed: GET /timers): keyset pages over every shard's windows. Each shard answers its
// `limit` smallest conversation ids above `after`; the merge of those holds the global first `limit`.
static void s_windows_list(s_ctx_t *self, ingress_admin_req_t *req, bool seed)
{
    int64_t limit, after;
    if (!s_query_int(req, "limit", S_LIMIT_DEFAULT, 1, S_LIMIT_MAX, &limit) ||
        !s_query_int(req, "after", 0, 0, INT64_MAX, &after))
        return;
    size_t nall = 0, cap = (size_t)self->nctl * S_LIMIT_MAX;
    cJSON **all = calloc(cap, sizeof *all);
    if (!all) {
        s_err(req, 500, "out_of_memory", "out of memory");
        return;
    }
    cJSON *docs[S_MAX_SHARDS] = {0};
    int64_t total = 0, bound = INT64_MAX;
    bool more = false;
    for (int s = 0; s < self->nctl; s++) {
        char *body = NULL;
        int st = s_ctl(self, s, LULL_CTL_LIST, after, (int32_t)limit, NULL, self->cfg.ctl_timeout_ms, &body);
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
            s_err(req, 503, "scheduler_unavailable", msg);
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
    for (int k = 0; k < self->nctl; k++) cJSON_Delete(docs[k]);
    free(all);
    s_set(req, 200, lull_json_print(root));
    cJSON_Delete(root);
}

// POST /api/v1/windows/{conv}/cancel|flush (seed: POST /process-chat): forwarded to the conversation's shard.
static void s_window_op(s_ctx_t *self, ingress_admin_req_t *req, int64_t conv, lull_ctl_op_t op)
{
    int shard = lull_proto_shard(conv, self->nctl);
    char *body = NULL;
    int st = s_ctl(self, shard, op, conv, 0, NULL, self->cfg.ctl_timeout_ms, &body);
    if (st < 0) {
        free(body);
        LOG_WARN("admin.scheduler_unavailable", "the scheduler shard did not answer", "conv", LI(conv), "shard", LI(shard));
        s_err(req, 503, "scheduler_unavailable", "the scheduler did not answer in time; retry later");
        return;
    }
    LOG_INFO("admin.window", "window operation forwarded", "conv", LI(conv), "op", LS(lull_ctl_op_name(op)), "status",
             LI(st));
    if (!body) body = strdup("{}");
    s_set(req, st, body);
}

// ---------------------------------------------------------------------------------------------------------
// Conversations

static const char s_sql_conv_list[] =
    "SELECT json_build_object('conversations', coalesce(json_agg(r ORDER BY r.id), '[]'::json),"
    " 'next_after', CASE WHEN count(*) = $5::int THEN max(r.id) END)::text FROM ("
    " SELECT c.id, c.tenant_id, c.channel, c.status, c.last_inbound_id, c.answered_upto, c.cancelled_upto,"
    "  c.paused_until, c.last_inbound_at, c.last_reply_at, c.escalated_at, c.escalation_reason,"
    "  json_build_object('id', ct.id, 'external_id', ct.external_id, 'first_name', ct.first_name,"
    "   'last_name', ct.last_name, 'profile_name', ct.profile_name) AS contact"
    " FROM conversations c JOIN contacts ct ON ct.id = c.contact_id"
    " WHERE c.id > $3::bigint AND ($1::text IS NULL OR c.status = $1) AND ($2::text IS NULL OR c.channel = $2)"
    "  AND ($4::text IS NULL OR strpos(lower(ct.external_id), lower($4)) > 0"
    "   OR strpos(lower(coalesce(ct.first_name, '') || ' ' || coalesce(ct.last_name, '')), lower($4)) > 0"
    "   OR strpos(lower(coalesce(ct.profile_name, '')), lower($4)) > 0)"
    " ORDER BY c.id LIMIT $5::int) r";

static void s_conv_list(s_ctx_t *self, ingress_admin_req_t *req)
{
    char status[16], channel[16], q[256];
    int64_t limit, after;
    bool has_status = s_query(req->uri, "status", status, sizeof status) && *status;
    bool has_channel = s_query(req->uri, "channel", channel, sizeof channel) && *channel;
    bool has_q = s_query(req->uri, "q", q, sizeof q) && *q;
    if (has_status && !s_one_of(status, s_statuses))
        {
            s_err(req, 400, "bad_parameter", "'status' must be one of open, escalated, paused, closed");
            return;
        }
    if (has_channel && !s_channel_ok(req, channel)) return;
    if (!s_query_int(req, "limit", S_LIMIT_DEFAULT, 1, S_LIMIT_MAX, &limit) ||
        !s_query_int(req, "after", 0, 0, INT64_MAX, &after))
        return;
    char sa[24], sl[24];
    snprintf(sa, sizeof sa, "%lld", (long long)after);
    snprintf(sl, sizeof sl, "%lld", (long long)limit);
    const char *p[5] = {has_status ? status : NULL, has_channel ? channel : NULL, sa, has_q ? q : NULL, sl};
    s_sql_answer(self, req, s_sql_conv_list, 5, p, NULL);
}

static const char s_sql_conv_show[] =
    "SELECT json_build_object('id', c.id, 'tenant_id', c.tenant_id, 'channel', c.channel, 'status', c.status,"
    " 'last_inbound_id', c.last_inbound_id, 'answered_upto', c.answered_upto, 'cancelled_upto', c.cancelled_upto,"
    " 'paused_until', c.paused_until, 'business_address', c.business_address,"
    " 'external_conversation_id', c.external_conversation_id, 'last_inbound_at', c.last_inbound_at,"
    " 'last_reply_at', c.last_reply_at, 'escalated_at', c.escalated_at, 'escalation_reason', c.escalation_reason,"
    " 'failed_attempts', c.failed_attempts, 'created_at', c.created_at,"
    " 'contact', (SELECT json_build_object('id', ct.id, 'channel', ct.channel, 'external_id', ct.external_id,"
    "   'first_name', ct.first_name, 'last_name', ct.last_name, 'profile_name', ct.profile_name, 'phone', ct.phone,"
    "   'metadata', ct.metadata) FROM contacts ct WHERE ct.id = c.contact_id),"
    " 'messages', (SELECT coalesce(json_agg(m ORDER BY m.id), '[]'::json) FROM (SELECT id, direction, author, body,"
    "   media, created_at, " S_DELIVERY " FROM messages x WHERE conversation_id = c.id ORDER BY id DESC"
    "   LIMIT $2::int) m),"
    " 'analyses', (SELECT coalesce(json_agg(a ORDER BY a.id), '[]'::json) FROM (SELECT id, message_id,"
    "   upto_message_id, sentiment, sentiment_confidence, intent, priority, escalate, escalate_reason, entities,"
    "   extracted, provider, model, created_at FROM analyses WHERE conversation_id = c.id ORDER BY id DESC"
    "   LIMIT $2::int) a),"
    " 'escalations', (SELECT coalesce(json_agg(e ORDER BY e.id), '[]'::json) FROM (SELECT id, reason, source,"
    "   created_at, resolved_at FROM escalations WHERE conversation_id = c.id ORDER BY id DESC LIMIT $2::int) e)"
    ")::text FROM conversations c WHERE c.id = $1::bigint";

static const char s_sql_conv_messages[] =
    "SELECT CASE WHEN EXISTS (SELECT 1 FROM conversations WHERE id = $1::bigint) THEN"
    " json_build_object('messages', coalesce(json_agg(m ORDER BY m.id), '[]'::json),"
    "  'next_after', CASE WHEN count(*) = $3::int THEN max(m.id) END)::text END FROM ("
    " SELECT id, direction, author, body, media, provider_message_id, created_at, " S_DELIVERY " FROM messages x"
    " WHERE conversation_id = $1::bigint AND id > $2::bigint ORDER BY id LIMIT $3::int) m";

static void s_conv_messages(s_ctx_t *self, ingress_admin_req_t *req, int64_t conv)
{
    int64_t limit, after;
    if (!s_query_int(req, "limit", S_LIMIT_DEFAULT, 1, S_LIMIT_MAX, &limit) ||
        !s_query_int(req, "after", 0, 0, INT64_MAX, &after))
        return;
    char sc[24], sa[24], sl[24];
    snprintf(sc, sizeof sc, "%lld", (long long)conv);
    snprintf(sa, sizeof sa, "%lld", (long long)after);
    snprintf(sl, sizeof sl, "%lld", (long long)limit);
    const char *p[3] = {sc, sa, sl};
    s_sql_answer(self, req, s_sql_conv_messages, 3, p, "no such conversation");
}

// Parses the JSON body (empty = {}); NULL with a 400 answered.
static cJSON *s_body(ingress_admin_req_t *req)
{
    char err[160];
    if (req->len == 0) return cJSON_CreateObject();
    cJSON *o = lull_json_parse(req->body, req->len, LULL_JSON_MAX_DEPTH, err, sizeof err);
    if (!o) {
        char msg[200];
        snprintf(msg, sizeof msg, "the body is not valid JSON: %s", err);
        s_err(req, 400, "bad_json", msg);
        return NULL;
    }
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        s_err(req, 400, "bad_json", "the body must be a JSON object");
        return NULL;
    }
    return o;
}

static const char s_sql_handback[] =
    "WITH u AS (UPDATE conversations c SET status = 'open', paused_until = NULL, updated_at = now(),"
    "  cancelled_upto = CASE WHEN $2::bool THEN c.cancelled_upto ELSE greatest(c.cancelled_upto, c.last_inbound_id) END"
    "  WHERE c.id = $1::bigint AND (c.status IN ('escalated', 'paused') OR c.paused_until IS NOT NULL)"
    "  RETURNING c.id, c.cancelled_upto, c.last_inbound_id, c.answered_upto),"
    " e AS (UPDATE escalations SET resolved_at = now() WHERE conversation_id IN (SELECT id FROM u)"
    "  AND resolved_at IS NULL RETURNING id)"
    " SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM e), (SELECT status FROM conversations WHERE id = $1::bigint),"
    "  (SELECT json_build_object('id', id, 'status', 'open', 'cancelled_upto', cancelled_upto, 'last_inbound_id',"
    "   last_inbound_id, 'answered_upto', answered_upto) FROM u)";

// POST /api/v1/conversations/{id}/handback {"answer_pending":false}
static void s_handback(s_ctx_t *self, ingress_admin_req_t *req, int64_t conv)
{
    cJSON *b = s_body(req);
    if (!b) return;
    bool pending = false;
    char err[160];
    if (lull_json_bool(b, "answer_pending", false, &pending, err, sizeof err) != 0) {
        cJSON_Delete(b);
        {
            s_err(req, 400, "bad_field", err);
            return;
        }
    }
    cJSON_Delete(b);
    char sc[24];
    snprintf(sc, sizeof sc, "%lld", (long long)conv);
    const char *p[2] = {sc, pending ? "true" : "false"};
    PGresult *r = lull_db_exec(self->db, s_sql_handback, 2, p);
    if (!r) {
        s_db_err(self, req);
        return;
    }
    int64_t updated = lull_db_int(r, 0, 0, NULL), resolved = lull_db_int(r, 0, 1, NULL);
    const char *old = lull_db_text(r, 0, 2);
    if (updated == 0 && !old) s_err(req, 404, "not_found", "no such conversation");
    else if (updated == 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "the conversation is %s and not paused: nothing to hand back", old);
        s_err(req, 409, "not_handed_over", msg);
    } else {
        char *body = NULL;
        char err2[160];
        const char *j = lull_db_text(r, 0, 3);
        cJSON *o = j ? lull_json_parse(j, strlen(j), LULL_JSON_MAX_DEPTH, err2, sizeof err2) : NULL;
        if (o) {
            cJSON_AddNumberToObject(o, "escalations_resolved", (double)resolved);
            cJSON_AddBoolToObject(o, "answer_pending", pending);
            body = lull_json_print(o);
            cJSON_Delete(o);
        }
        LOG_INFO("admin.handback", "conversation handed back to the bot", "conv", LI(conv), "resolved", LI(resolved));
        s_set(req, 200, body);
    }
    PQclear(r);
}

static const char s_sql_reply[] =
    "WITH c AS (SELECT c.id, c.tenant_id, c.channel, c.business_address, c.external_conversation_id,"
    "  ct.external_id, t.human_pause_ms FROM conversations c JOIN contacts ct ON ct.id = c.contact_id"
    "  JOIN tenants t ON t.id = c.tenant_id WHERE c.id = $1::bigint FOR UPDATE OF c),"
    " m AS (INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, body)"
    "  SELECT id, tenant_id, channel, 'out', 'human', $2 FROM c RETURNING id, conversation_id),"
    " o AS (INSERT INTO outbox (tenant_id, conversation_id, message_id, channel, recipient, sender_address, payload,"
    "   idempotency_key)"
    "  SELECT c.tenant_id, c.id, m.id, c.channel,"
    "   CASE WHEN c.channel = 'tiktok' THEN c.external_conversation_id ELSE c.external_id END,"
    "   CASE WHEN c.channel IN ('sms', 'whatsapp', 'tiktok') THEN c.business_address END,"
    "   jsonb_build_object('body', $2::text, 'kind', 'human'), coalesce($3::text, 'out_' || m.id) FROM c, m"
    "  RETURNING id, message_id),"
    " u AS (UPDATE conversations x SET paused_until = now() + c.human_pause_ms * interval '1 millisecond',"
    "   cancelled_upto = greatest(x.cancelled_upto, x.last_inbound_id), last_reply_at = now(), updated_at = now()"
    "  FROM c WHERE x.id = c.id RETURNING x.paused_until)"
    " SELECT o.message_id, o.id, (SELECT paused_until FROM u) FROM o";

// A human reply sent before under the same idempotency key: 1 and the answer set (the same ids, or 409 when the
// key came with another body or conversation), 0 when there is none, -1 on a database error (answered).
static int s_reply_replayed(s_ctx_t *self, ingress_admin_req_t *req, const char *okey, int64_t conv,
                            const char *text)
{
    const char *p[1] = {okey};
    PGresult *r = lull_db_exec(self->db,
                               "SELECT o.message_id, o.id, o.payload->>'body', o.conversation_id, c.paused_until,"
                               " o.status FROM outbox o JOIN conversations c ON c.id = o.conversation_id"
                               " WHERE o.idempotency_key = $1", 1, p);
    if (!r) {
        s_db_err(self, req);
        return -1;
    }
    if (PQntuples(r) != 1) {
        PQclear(r);
        return 0;
    }
    const char *body = lull_db_text(r, 0, 2);
    if (!body || strcmp(body, text) != 0 || lull_db_int(r, 0, 3, NULL) != conv) {
        PQclear(r);
        s_err(req, 409, "idempotency_conflict", "this Idempotency-Key was used for another reply (other body or conversation)");
        return 1;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "message_id", (double)lull_db_int(r, 0, 0, NULL));
    cJSON_AddNumberToObject(o, "outbox_id", (double)lull_db_int(r, 0, 1, NULL));
    const char *until = lull_db_text(r, 0, 4), *status = lull_db_text(r, 0, 5);
    cJSON_AddStringToObject(o, "paused_until", until ? until : "");
    cJSON_AddStringToObject(o, "status", status ? status : "");
    cJSON_AddTrueToObject(o, "replayed");
    PQclear(r);
    LOG_INFO("admin.human_reply_replayed", "human reply already queued under this idempotency key", "conv", LI(conv));
    s_set(req, 200, lull_json_print(o));
    cJSON_Delete(o);
    return 1;
}

// True when key is a usable idempotency key: 1..128 bytes of [A-Za-z0-9._:-].
static bool s_key_ok(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > 128) return false;
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == ':' || c == '-'))
            return false;
    }
    return true;
}

// POST /api/v1/conversations/{id}/reply {"body", "idempotency_key"?} (or the Idempotency-Key header): a human
// agent's message, sent through the outbox. A retry with the same key answers the first reply's ids.
static void s_reply(s_ctx_t *self, ingress_admin_req_t *req, int64_t conv)
{
    cJSON *b = s_body(req);
    if (!b) return;
    const char *text = NULL, *key = NULL;
    char err[160];
    if (lull_json_str(b, "body", true, S_BODY_MAX, &text, err, sizeof err) != 0 || !*text) {
        cJSON_Delete(b);
        {
            s_err(req, 400, "bad_field", text ? "'body' must not be empty" : err);
            return;
        }
    }
    if (lull_json_str(b, "idempotency_key", false, 128, &key, err, sizeof err) != 0) {
        cJSON_Delete(b);
        s_err(req, 400, "bad_field", err);
        return;
    }
    if (key && req->idempotency_key && strcmp(key, req->idempotency_key) != 0) {
        cJSON_Delete(b);
        s_err(req, 400, "bad_field", "'idempotency_key' and the Idempotency-Key header differ");
        return;
    }
    if (!key) key = req->idempotency_key;
    if (key && !s_key_ok(key)) {
        cJSON_Delete(b);
        s_err(req, 400, "bad_field", "the idempotency key must be 1 to 128 characters of A-Z a-z 0-9 . _ : -");
        return;
    }
    char sc[24], okey[200];
    snprintf(sc, sizeof sc, "%lld", (long long)conv);
    if (key) snprintf(okey, sizeof okey, "human_%lld_%s", (long long)conv, key);
    if (key && s_reply_replayed(self, req, okey, conv, text) != 0) {
        cJSON_Delete(b);
        return;
    }
    const char *p[3] = {sc, text, key ? okey : NULL};
    PGresult *r = lull_db_exec(self->db, s_sql_reply, 3, p);
    if (!r && key && strcmp(lull_db_sqlstate(self->db), "23505") == 0) {  // the same key, concurrently
        if (s_reply_replayed(self, req, okey, conv, text) == 0) s_err(req, 409, "idempotency_conflict", "retry");
        cJSON_Delete(b);
        return;
    }
    cJSON_Delete(b);
    if (!r) {
        s_db_err(self, req);
        return;
    }
    if (PQntuples(r) != 1) {
        PQclear(r);
        {
            s_err(req, 404, "not_found", "no such conversation");
            return;
        }
    }
    int64_t mid = lull_db_int(r, 0, 0, NULL), oid = lull_db_int(r, 0, 1, NULL);
    const char *until = lull_db_text(r, 0, 2);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "message_id", (double)mid);
    cJSON_AddNumberToObject(o, "outbox_id", (double)oid);
    cJSON_AddStringToObject(o, "paused_until", until ? until : "");
    PQclear(r);
    if (self->senders) {  // a lost wake-up is fine: the sender polls the table
        lull_msg_t w = {.type = LULL_MSG_OUTBOX};
        w.u.outbox.outbox_id = oid;
        if (lull_proto_send(zsock_resolve(self->senders), &w, ZMQ_DONTWAIT) != 0)
            LOG_WARN("admin.outbox_wake_dropped", "OUTBOX wake-up not sent (sender busy or absent)", "outbox", LI(oid));
    }
    LOG_INFO("admin.human_reply", "human reply queued", "conv", LI(conv), "msg", LI(mid), "outbox", LI(oid));
    s_set(req, 200, lull_json_print(o));
    cJSON_Delete(o);
}

static const char s_sql_escalations[] =
    "SELECT json_build_object('escalations', coalesce(json_agg(r ORDER BY r.id), '[]'::json),"
    " 'next_after', CASE WHEN count(*) = $3::int THEN max(r.id) END)::text FROM ("
    " SELECT e.id, e.conversation_id, e.tenant_id, e.reason, e.source, e.created_at, e.resolved_at, c.status"
    " FROM escalations e JOIN conversations c ON c.id = e.conversation_id"
    " WHERE e.id > $2::bigint AND ($1::bool IS NULL OR (e.resolved_at IS NULL) = $1::bool)"
    " ORDER BY e.id LIMIT $3::int) r";

static void s_escalations(s_ctx_t *self, ingress_admin_req_t *req)
{
    char open[8];
    const char *po = NULL;
    if (s_query(req->uri, "open", open, sizeof open)) {
        if (strcmp(open, "true") == 0) po = "true";
        else if (strcmp(open, "false") == 0) po = "false";
        else {
            s_err(req, 400, "bad_parameter", "'open' must be true or false");
            return;
        }
    }
    int64_t limit, after;
    if (!s_query_int(req, "limit", S_LIMIT_DEFAULT, 1, S_LIMIT_MAX, &limit) ||
        !s_query_int(req, "after", 0, 0, INT64_MAX, &after))
        return;
    char sa[24], sl[24];
    snprintf(sa, sizeof sa, "%lld", (long long)after);
    snprintf(sl, sizeof sl, "%lld", (long long)limit);
    const char *p[3] = {po, sa, sl};
    s_sql_answer(self, req, s_sql_escalations, 3, p, NULL);
}


// ---------------------------------------------------------------------------------------------------------
// Dead letters (common/lull_dead)

// Fills f from the query (tenant, channel, since) or, when obj is given, from its fields. false when answered 400.
static bool s_dead_filter(ingress_admin_req_t *req, const cJSON *obj, lull_dead_filter_t *f, char *channel, char *since)
{
    char err[160];
    memset(f, 0, sizeof *f);
    *channel = *since = '\0';
    if (obj) {
        const char *ch = NULL, *si = NULL;
        if (lull_json_int(obj, "tenant", false, true, 1, INT64_MAX, &f->tenant_id, err, sizeof err) != 0 ||
            lull_json_str(obj, "channel", false, 15, &ch, err, sizeof err) != 0 ||
            lull_json_str(obj, "since", false, 63, &si, err, sizeof err) != 0) {
            s_err(req, 400, "bad_field", err);
            return false;
        }
        if (ch) snprintf(channel, 16, "%s", ch);
        if (si) snprintf(since, 64, "%s", si);
    } else {
        if (!s_query_int(req, "tenant", 0, 1, INT64_MAX, &f->tenant_id)) return false;
        if (!s_query(req->uri, "channel", channel, 16)) *channel = '\0';
        if (!s_query(req->uri, "since", since, 64)) *since = '\0';
    }
    if (*channel && !s_channel_ok(req, channel)) return false;
    for (const char *p = since; *p; p++)  // an ISO timestamp: digits, separators, T/Z, zone offset
        if (!strchr("0123456789-:.TZ +", *p)) {
            s_err(req, 400, "bad_parameter", "'since' must be an ISO 8601 timestamp (2026-11-23T10:00:00Z)");
            return false;
        }
    f->channel = *channel ? channel : NULL;
    f->since = *since ? since : NULL;
    return true;
}

// The database refused a filter value (e.g. an impossible date): 400, otherwise the usual database error.
static void s_dead_db_err(s_ctx_t *self, ingress_admin_req_t *req)
{
    if (strncmp(lull_db_sqlstate(self->db), "22", 2) == 0) {
        s_err(req, 400, "bad_parameter", "'since' is not a valid timestamp");
        return;
    }
    s_db_err(self, req);
}

static void s_dead_list(s_ctx_t *self, ingress_admin_req_t *req)
{
    lull_dead_filter_t f;
    char channel[16], since[64];
    int64_t limit, before;
    if (!s_dead_filter(req, NULL, &f, channel, since) ||
        !s_query_int(req, "limit", S_LIMIT_DEFAULT, 1, S_LIMIT_MAX, &limit) ||
        !s_query_int(req, "before", 0, 0, INT64_MAX, &before))
        return;
    f.limit = (int)limit;
    f.before_id = before;
    char *list = lull_dead_list(self->db, &f);
    if (!list) {
        s_dead_db_err(self, req);
        return;
    }
    char err[160];
    cJSON *arr = lull_json_parse(list, strlen(list), LULL_JSON_MAX_DEPTH, err, sizeof err);
    free(list);
    cJSON *root = cJSON_CreateObject();
    if (!arr || !root) {
        cJSON_Delete(arr);
        cJSON_Delete(root);
        s_err(req, 500, "bad_result", "the dead-letter list could not be read");
        return;
    }
    int n = cJSON_GetArraySize(arr);
    const cJSON *last = n > 0 ? cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, n - 1), "id") : NULL;
    cJSON_AddItemToObject(root, "dead_letters", arr);
    if (n == limit && cJSON_IsNumber(last)) cJSON_AddNumberToObject(root, "next_before", last->valuedouble);
    else cJSON_AddNullToObject(root, "next_before");
    s_set(req, 200, lull_json_print(root));
    cJSON_Delete(root);
}

static void s_dead_replay(s_ctx_t *self, ingress_admin_req_t *req, int64_t id)
{
    int rc = lull_dead_replay(self->db, id);
    if (rc < 0) {
        s_db_err(self, req);
        return;
    }
    if (rc == 0) {
        s_err(req, 404, "not_found", "no dead or unknown outbox row has this id");
        return;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "{\"replayed\":1,\"id\":%lld}", (long long)id);
    LOG_INFO("admin.dead_replayed", "dead letter replayed", "outbox", LI(id));
    s_set(req, 200, strdup(buf));
}

// POST /api/v1/dead-letters/replay {"tenant"?, "channel"?, "since"?, "all"?}: an empty filter must say all:true.
static void s_dead_replay_all(s_ctx_t *self, ingress_admin_req_t *req)
{
    cJSON *b = s_body(req);
    if (!b) return;
    lull_dead_filter_t f;
    char channel[16], since[64], err[160];
    bool all = false;
    bool ok = s_dead_filter(req, b, &f, channel, since);
    if (ok && lull_json_bool(b, "all", false, &all, err, sizeof err) != 0) {
        s_err(req, 400, "bad_field", err);
        ok = false;
    }
    cJSON_Delete(b);
    if (!ok) return;
    if (!f.tenant_id && !f.channel && !f.since && !all) {
        s_err(req, 400, "empty_filter", "give tenant, channel or since, or {\"all\":true} to replay every dead letter");
        return;
    }
    int64_t n = lull_dead_replay_all(self->db, &f);
    if (n < 0) {
        s_dead_db_err(self, req);
        return;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "{\"replayed\":%lld}", (long long)n);
    LOG_INFO("admin.dead_replayed_all", "dead letters replayed by filter", "count", LI(n));
    s_set(req, 200, strdup(buf));
}


// ---------------------------------------------------------------------------------------------------------
// Health (libcurl multi on the admin thread: lull_http needs a lull_loop, whose signal fd belongs to the
// main loop)

#define S_MAX_TARGETS 16

typedef struct {
    char name[64];
    char url[512];
    CURL *h;
    long status;
    char body[512];
    size_t len;
} s_target_t;

static size_t s_health_write(char *p, size_t sz, size_t n, void *arg)
{
    s_target_t *t = arg;
    size_t want = sz * n, room = sizeof t->body - 1 - t->len;
    size_t take = want < room ? want : room;
    memcpy(t->body + t->len, p, take);
    t->len += take;
    t->body[t->len] = '\0';
    return want;
}

// GET /api/v1/health: every LULL_HEALTH_TARGETS entry fetched in parallel; 503 when any is down.
static void s_health(s_ctx_t *self, ingress_admin_req_t *req)
{
    s_target_t t[S_MAX_TARGETS];
    int nt = 0;
    const lull_cfg_list_t *targets = self->cfg.health_targets;
    for (size_t i = 0; targets && i < targets->n && nt < S_MAX_TARGETS; i++) {
        const char *p = targets->items[i], *eq = strchr(p, '=');
        size_t len = strlen(p);
        if (eq && eq > p && (size_t)(eq - p) < sizeof t[nt].name && len - (size_t)(eq - p) - 1 < sizeof t[nt].url) {
            memset(&t[nt], 0, sizeof t[nt]);
            snprintf(t[nt].name, sizeof t[nt].name, "%.*s", (int)(eq - p), p);
            snprintf(t[nt].url, sizeof t[nt].url, "%s", eq + 1);
            nt++;
        }
    }
    CURLM *m = curl_multi_init();
    for (int i = 0; m && i < nt; i++) {
        t[i].h = curl_easy_init();
        if (!t[i].h) continue;
        curl_easy_setopt(t[i].h, CURLOPT_URL, t[i].url);
        curl_easy_setopt(t[i].h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(t[i].h, CURLOPT_TIMEOUT_MS, (long)self->cfg.health_timeout_ms);
        curl_easy_setopt(t[i].h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(t[i].h, CURLOPT_WRITEFUNCTION, s_health_write);
        curl_easy_setopt(t[i].h, CURLOPT_WRITEDATA, &t[i]);
        curl_easy_setopt(t[i].h, CURLOPT_PRIVATE, &t[i]);
        curl_multi_add_handle(m, t[i].h);
    }
    int running = 1;
    while (m && running) {
        if (curl_multi_perform(m, &running) != CURLM_OK) break;
        if (running) curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *tiers = cJSON_AddObjectToObject(root, "tiers");
    cJSON *me = cJSON_AddObjectToObject(tiers, "ingress");
    cJSON_AddStringToObject(me, "status", "ok");
    bool all_ok = true;
    for (int i = 0; i < nt; i++) {
        if (t[i].h) curl_easy_getinfo(t[i].h, CURLINFO_RESPONSE_CODE, &t[i].status);
        bool ok = t[i].status >= 200 && t[i].status < 300;
        all_ok = all_ok && ok;
        cJSON *o = cJSON_AddObjectToObject(tiers, t[i].name);
        cJSON_AddStringToObject(o, "status", ok ? "ok" : "down");
        cJSON_AddNumberToObject(o, "http_status", (double)t[i].status);
        char err[64];
        cJSON *b = t[i].len ? lull_json_parse(t[i].body, t[i].len, 8, err, sizeof err) : NULL;
        if (b) cJSON_AddItemToObject(o, "detail", b);
        if (m && t[i].h) curl_multi_remove_handle(m, t[i].h);
        if (t[i].h) curl_easy_cleanup(t[i].h);
    }
    if (m) curl_multi_cleanup(m);
    cJSON_AddStringToObject(root, "status", all_ok ? "ok" : "degraded");
    s_set(req, all_ok ? 200 : 503, lull_json_print(root));
    cJSON_Delete(root);
}

// ---------------------------------------------------------------------------------------------------------
// Test endpoints: a dry run of the reply pipeline on a worker, through a scheduler shard

// POST /api/v1/test/reply | /api/v1/test/analyse {"text", "tenant"? (slug, default "default") | "tenant_id"?}
static void s_try(s_ctx_t *self, ingress_admin_req_t *req, bool analyse)
{
    cJSON *b = s_body(req);
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
        s_err(req, 400, "bad_field", err);
        return;
    }
    if (tenant == 0) {  // by slug
        const char *p[] = {slug ? slug : "default"};
        PGresult *r = lull_db_exec(self->db, "SELECT id FROM tenants WHERE slug = $1", 1, p);
        if (!r) {
            cJSON_Delete(b);
            s_db_err(self, req);
            return;
        }
        bool ok = false;
        tenant = PQntuples(r) == 1 ? lull_db_int(r, 0, 0, &ok) : 0;
        PQclear(r);
        if (!ok || tenant <= 0) {
            cJSON_Delete(b);
            s_err(req, 404, "not_found", "no tenant with this slug");
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
        s_err(req, 500, "out_of_memory", "out of memory");
        return;
    }
    // any shard will do: start at the next one, move on while a shard has no worker or does not answer
    char *body = NULL;
    int st = -1;
    int first = (int)(self->next_req_id % (uint64_t)self->nctl);  // spreads dry runs over the shards
    for (int k = 0; k < self->nctl; k++) {
        int shard = (first + k) % self->nctl;
        free(body);
        st = s_ctl(self, shard, LULL_CTL_TRY, 0, 0, qs, self->cfg.try_timeout_ms, &body);
        if (st != -1 && st != 503) break;
    }
    free(qs);
    LOG_INFO("admin.try", "dry run", "tenant", LI(tenant), "mode", LS(analyse ? "analyse" : "reply"), "status", LI(st));
    if (st < 0) {
        free(body);
        s_err(req, 504, "timeout", "no scheduler shard answered the dry run in time");
        return;
    }
    if (!body) body = lull_json_error_body("bad_gateway", "the worker answered without a body");
    s_set(req, st, body);
}

// ---------------------------------------------------------------------------------------------------------
// Dispatch

static void s_method_not_allowed(ingress_admin_req_t *req) { s_err(req, 405, "method_not_allowed", "method not allowed on this route"); }

static void s_dispatch(s_ctx_t *self, ingress_admin_req_t *req)
{
    char path[512];
    size_t pl = strcspn(req->uri, "?#");
    if (pl >= sizeof path) {
        s_err(req, 404, "not_found", "no such route");
        return;
    }
    memcpy(path, req->uri, pl);
    path[pl] = '\0';
    bool get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
    int64_t id = 0;
    const char *rest = NULL;

    if (strcmp(path, "/timers") == 0 || strcmp(path, "/api/v1/windows") == 0)
        {
            if (get) s_windows_list(self, req, path[1] == 't');
            else s_method_not_allowed(req);
            return;
        }
    if (strcmp(path, "/process-chat") == 0) {
        if (!post) {
            s_method_not_allowed(req);
            return;
        }
        cJSON *b = s_body(req);
        if (!b) return;
        char err[160];
        int rc = lull_json_int(b, "conversation_id", true, true, 1, INT64_MAX, &id, err, sizeof err);
        cJSON_Delete(b);
        if (rc != 0) {
            s_err(req, 400, "bad_field", err);
            return;
        }
        s_window_op(self, req, id, LULL_CTL_FLUSH);
        return;
    }
    if (strncmp(path, "/api/v1/windows/", 16) == 0) {
        if (!s_path_id(path + 16, &id, &rest)) {
            s_err(req, 400, "bad_id", "the conversation id must be a positive integer");
            return;
        }
        bool cancel = strcmp(rest, "/cancel") == 0, flush = strcmp(rest, "/flush") == 0;
        if (!cancel && !flush) {
            s_err(req, 404, "not_found", "no such route (cancel or flush)");
            return;
        }
        if (!post) {
            s_method_not_allowed(req);
            return;
        }
        s_window_op(self, req, id, cancel ? LULL_CTL_CANCEL : LULL_CTL_FLUSH);
        return;
    }
    if (strcmp(path, "/api/v1/test/reply") == 0 || strcmp(path, "/api/v1/test/analyse") == 0 ||
        strcmp(path, "/api/v1/test/analyze") == 0) {
        if (post) s_try(self, req, path[13] == 'a');
        else s_method_not_allowed(req);
        return;
    }
    if (strcmp(path, "/api/v1/conversations") == 0) {
        if (get) s_conv_list(self, req);
        else s_method_not_allowed(req);
        return;
    }
    if (strncmp(path, "/api/v1/conversations/", 22) == 0) {
        if (!s_path_id(path + 22, &id, &rest)) {
            s_err(req, 400, "bad_id", "the conversation id must be a positive integer");
            return;
        }
        char sc[24], sn[8];
        snprintf(sc, sizeof sc, "%lld", (long long)id);
        snprintf(sn, sizeof sn, "%d", S_RECENT);
        if (!*rest) {
            if (!get) {
                s_method_not_allowed(req);
                return;
            }
            const char *p[2] = {sc, sn};
            s_sql_answer(self, req, s_sql_conv_show, 2, p, "no such conversation");
            return;
        }
        if (strcmp(rest, "/messages") == 0) {
            if (get) s_conv_messages(self, req, id);
            else s_method_not_allowed(req);
            return;
        }
        if (strcmp(rest, "/handback") == 0) {
            if (post) s_handback(self, req, id);
            else s_method_not_allowed(req);
            return;
        }
        if (strcmp(rest, "/reply") == 0) {
            if (post) s_reply(self, req, id);
            else s_method_not_allowed(req);
            return;
        }
        s_err(req, 404, "not_found", "no such route");
        return;
    }
    if (strcmp(path, "/api/v1/escalations") == 0) {
        if (get) s_escalations(self, req);
        else s_method_not_allowed(req);
        return;
    }
    if (strcmp(path, "/api/v1/dead-letters") == 0) {
        if (get) s_dead_list(self, req);
        else s_method_not_allowed(req);
        return;
    }
    if (strcmp(path, "/api/v1/dead-letters/replay") == 0) {
        if (post) s_dead_replay_all(self, req);
        else s_method_not_allowed(req);
        return;
    }
    if (strncmp(path, "/api/v1/dead-letters/", 21) == 0) {
        if (!s_path_id(path + 21, &id, &rest)) {
            s_err(req, 400, "bad_id", "the dead letter id must be a positive integer");
            return;
        }
        if (strcmp(rest, "/replay") != 0) {
            s_err(req, 404, "not_found", "no such route (replay)");
            return;
        }
        if (post) s_dead_replay(self, req, id);
        else s_method_not_allowed(req);
        return;
    }
    bool config = strcmp(path, "/api/v1/config") == 0 || strcmp(path, "/config") == 0;  // "/config": issue #7's name
    if (config || strcmp(path, "/api/v1/health") == 0) {
        if (!get) s_method_not_allowed(req);
        else if (config) s_set(req, 200, strdup(self->config_json ? self->config_json : "{}"));
        else s_health(self, req);
        return;
    }
    if (ingress_admin_crud_handle(self->db, req, path)) return;
    s_err(req, 404, "not_found", "no such admin route");
}

// ---------------------------------------------------------------------------------------------------------
// Thread and queue

// Connects to every endpoint of list: one socket per endpoint into out[] (shared = false), or one socket
// connected to all of them in out[0] (shared = true). Returns the number of endpoints, -1 on error.
static int s_connect_list(const lull_cfg_list_t *list, int type, bool shared, zsock_t **out, int max)
{
    int n = 0;
    for (size_t i = 0; list && i < list->n; i++) {
        const char *ep = list->items[i];
        if (n >= max && !shared) return -1;
        zsock_t *s = shared && out[0] ? out[0] : NULL;
        if (!s) {
            s = zsock_new(type);
            if (!s) return -1;
            zsock_set_linger(s, 0);
            zsock_set_sndhwm(s, 1000);
            zsock_set_immediate(s, 1);  // never queue for a peer that is not there (no stale cancel later)
            out[shared ? 0 : n] = s;
        }
        if (zsock_connect(s, "%s", ep) != 0) {
            LOG_ERROR("admin.endpoint_invalid", "cannot connect to an endpoint", "endpoint", LS(ep));
            return -1;
        }
        n++;
    }
    return n;
}

// Creates the thread's sockets (they never leave the admin thread). 0/-1.
static int s_open_sockets(s_ctx_t *self)
{
    self->nctl = s_connect_list(self->cfg.controls, ZMQ_DEALER, false, self->ctl, S_MAX_SHARDS);
    if (self->nctl <= 0) {
        LOG_ERROR("admin.controls_invalid", "LULL_SCHEDULER_CONTROLS needs 1 to 64 valid endpoints");
        self->nctl = 0;
        return -1;
    }
    zsock_t *snd[1] = {NULL};
    int ns = s_connect_list(self->cfg.senders, ZMQ_PUSH, true, snd, 1);
    self->senders = snd[0];
    if (ns < 0) {
        LOG_ERROR("admin.senders_invalid", "LULL_SENDERS holds an invalid endpoint");
        return -1;
    }
    return 0;
}

static void s_close_sockets(s_ctx_t *self)
{
    for (int i = 0; i < S_MAX_SHARDS; i++) zsock_destroy(&self->ctl[i]);
    zsock_destroy(&self->senders);
}

static void *s_thread(void *arg)
{
    s_ctx_t *self = arg;
    ingress_admin_t *o = self->owner;
    int rc = s_open_sockets(self);
    pthread_mutex_lock(&o->mu);
    self->init_rc = rc;
    self->init_done = true;
    pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->mu);
    for (;;) {
        pthread_mutex_lock(&o->mu);
        while (!o->head && !o->stopping) pthread_cond_wait(&o->cv, &o->mu);
        ingress_admin_req_t *req = o->head;
        if (req) {
            o->head = req->next;
            if (!o->head) o->tail = NULL;
            o->queued--;
        }
        bool stop = o->stopping;
        pthread_mutex_unlock(&o->mu);
        if (!req) break;
        req->next = NULL;
        if (stop) s_err(req, 503, "shutting_down", "lull-ingress is shutting down");
        else {
            int64_t t0 = lull_clock_mono_ms();
            LOG_DEBUG("admin.begin", "admin request taken", "method", LS(req->method));
            s_dispatch(self, req);
            LOG_INFO("admin.request", "admin request", "method", LS(req->method), "status", LI(req->status), "ms",
                     LI(lull_clock_mono_ms() - t0));
        }
        req->done(req, req->done_arg);
    }
    s_close_sockets(self);
    return NULL;
}

bool ingress_admin_route(const char *path)
{
    if (strcmp(path, "/timers") == 0 || strcmp(path, "/process-chat") == 0 || strcmp(path, "/config") == 0) return true;
    return strncmp(path, "/api/v1/", 8) == 0 && strncmp(path, "/api/v1/chat/", 13) != 0 &&
           strcmp(path, "/api/v1/chat") != 0;
}

ingress_admin_t *ingress_admin_new(const ingress_admin_cfg_t *cfg)
{
    ingress_admin_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->cfg = *cfg;
    pthread_mutex_init(&self->mu, NULL);
    pthread_cond_init(&self->cv, NULL);
    self->config_json = strdup(cfg->config_json ? cfg->config_json : "{}");
    if (!self->config_json) goto fail;
    int n = cfg->threads < 1 ? 1 : cfg->threads > S_MAX_THREADS ? S_MAX_THREADS : (int)cfg->threads;
    for (int i = 0; i < n; i++) {
        s_ctx_t *c = &self->ctx[i];
        c->owner = self;
        c->cfg = *cfg;
        c->config_json = self->config_json;
        c->db = lull_db_new(cfg->database_url);
        if (!c->db) goto fail;
        self->nthreads = i + 1;
        if (pthread_create(&c->thread, NULL, s_thread, c) != 0) goto fail;
        c->started = true;
        pthread_mutex_lock(&self->mu);
        while (!c->init_done) pthread_cond_wait(&self->cv, &self->mu);
        int rc = c->init_rc;
        pthread_mutex_unlock(&self->mu);
        if (rc != 0) goto fail;
    }
    if (!cfg->token || !*cfg->token) LOG_INFO("admin.disabled", "LULL_ADMIN_TOKEN is not set: admin routes answer 403");
    return self;
fail:
    ingress_admin_destroy(&self);
    return NULL;
}

int ingress_admin_submit(ingress_admin_t *self, ingress_admin_req_t *req)
{
    const char *tok = self->cfg.token;
    req->next = NULL;
    if (!tok || !*tok) {
        s_err(req, 403, "admin_disabled", "the admin API is disabled: LULL_ADMIN_TOKEN is not set");
        return 1;
    }
    const char *a = req->authorization;
    bool ok = a && strncasecmp(a, "Bearer ", 7) == 0 && lull_ct_equal(a + 7, strlen(a + 7), tok, strlen(tok));
    if (!ok) {
        LOG_INFO("admin.unauthorized", "admin request without a valid bearer token", "method", LS(req->method),
                 "token_given", LB(a != NULL));
        s_err(req, 401, "unauthorized",
              a ? "the bearer token is wrong" : "missing Authorization: Bearer <LULL_ADMIN_TOKEN> header");
        return 1;
    }
    pthread_mutex_lock(&self->mu);
    bool full = self->queued >= self->cfg.queue_max || self->stopping;
    if (!full) {
        if (self->tail) self->tail->next = req;
        else self->head = req;
        self->tail = req;
        self->queued++;
        pthread_cond_signal(&self->cv);
    }
    pthread_mutex_unlock(&self->mu);
    if (full) {
        s_err(req, 503, "overloaded", "too many admin requests are waiting; retry later");
        return 1;
    }
    return 0;
}

void ingress_admin_stop(ingress_admin_t *self)
{
    if (!self) return;
    pthread_mutex_lock(&self->mu);
    self->stopping = true;
    pthread_cond_broadcast(&self->cv);
    pthread_mutex_unlock(&self->mu);
    for (int i = 0; i < self->nthreads; i++) {
        if (self->ctx[i].started) pthread_join(self->ctx[i].thread, NULL);
        self->ctx[i].started = false;
    }
}

void ingress_admin_destroy(ingress_admin_t **self_p)
{
    if (!self_p || !*self_p) return;
    ingress_admin_t *self = *self_p;
    ingress_admin_stop(self);
    for (int i = 0; i < self->nthreads; i++) lull_db_destroy(&self->ctx[i].db);
    free(self->config_json);
    pthread_mutex_destroy(&self->mu);
    pthread_cond_destroy(&self->cv);
    free(self);
    *self_p = NULL;
}
