// Group commit: requests queue up while the previous transaction runs; the writer takes them all (up to
// batch_max) and stores them with one lull_ingress_store() call, so under load many webhooks share one commit
// while a lone request is committed at once. A batch the database refuses is retried row by row so one bad row
// only fails itself.
#include "ingress_writer.h"
#include "ingress_wake.h"
#include "lull_clock.h"
#include "lull_config.h"
#include "lull_db.h"
#include "lull_log.h"
#include "lull_proto.h"
#include "lull_stdwebhook.h"

#include <cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

// One writer thread: its own database connection, its own queue and its own INBOUND push sockets.
typedef struct {
    struct ingress_writer *w;
    pthread_t thread;
    bool started;
    lull_db_t *db;
    ingress_wake_t *wake;         // the thread's INBOUND push sockets (NULL: a reader pool, or out of memory)
    pthread_cond_t ready;         // items queued for this thread, or stopping (under the writer's lock)
    ingress_item_t *head, *tail;  // FIFO of the items given to this thread
    int queued;
    int last_batch;               // size of the previous batch (load indicator)
} s_conn_t;

struct ingress_writer {
    ingress_writer_cfg_t cfg;
    char *database_url;
    s_conn_t *conns;              // one per writer thread
    int nconns;
    bool started;
    pthread_mutex_t lock;
    int queued;                   // items queued, all threads
    bool stopping;
    void *zctx;                   // ZeroMQ context (thread-safe; the sockets are per thread)
    // metrics
    lull_counter_t *commits, *pushed, *dropped, *db_errors, *unowned;
    lull_histogram_t *batch_size, *commit_seconds;
    lull_gauge_t *queue_depth;
};

const char *ingress_outcome_name(ingress_outcome_t o)
{
    switch (o) {
    case INGRESS_OUT_NEW: return "accepted";
    case INGRESS_OUT_DUPLICATE: return "duplicate";
    case INGRESS_OUT_UNKNOWN_TENANT: return "unknown_tenant";
    case INGRESS_OUT_UNKNOWN_SESSION: return "unknown_session";
    case INGRESS_OUT_UNAVAILABLE: return "unavailable";
    case INGRESS_OUT_FAILED: return "failed";
    case INGRESS_OUT_OK: return "ok";
    case INGRESS_OUT_SIG_MISSING: return "signature_missing";
    case INGRESS_OUT_SIG_INVALID: return "signature_invalid";
    case INGRESS_OUT_SIG_UNAVAILABLE: return "signature_unavailable";
    case INGRESS_OUT_ORIGIN_REFUSED: return "origin_refused";
    }
    return "unknown";
}

// ---------------------------------------------------------------------------------------------------------
// INBOUND pushes (writer thread only)

static void s_push_inbound(s_conn_t *c, const ingress_item_t *it)
{
    if (!c->wake) return;
    lull_msg_t m = {.type = LULL_MSG_INBOUND};
    m.u.inbound.conversation_id = it->conversation_id;
    m.u.inbound.message_id = it->message_id;
    m.u.inbound.tenant_id = it->tenant_id;
    m.u.inbound.received_ms = it->received_ms;
    snprintf(m.u.inbound.channel, sizeof m.u.inbound.channel, "%s", it->channel ? it->channel : "");
    ingress_wake_inbound(c->wake, &m);
}

// ---------------------------------------------------------------------------------------------------------
// Storing

static void s_fail_all(ingress_item_t **items, int n, ingress_outcome_t o, const char *why)
{
    for (int i = 0; i < n; i++) {
        items[i]->outcome = o;
        snprintf(items[i]->error, sizeof items[i]->error, "%s", why);
    }
}

static void s_buf_add(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (!*buf) return;
    if (*len + n + 1 > *cap) {
        size_t c = *cap * 2;
        while (*len + n + 1 > c) c *= 2;
        char *nb = realloc(*buf, c);
        if (!nb) {
            free(*buf);
            *buf = NULL;
            return;
        }
        *buf = nb;
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
}

// The store call, prepared once per connection (parsing and planning the call itself was ~5 % of the backend's
// CPU per batch).
static const lull_db_stmt_t s_store_stmt = {
    .name = "lull_ingress_store",
    .sql = "SELECT i, outcome, tenant_id, contact_id, conversation_id, message_id, window_ms "
           "FROM lull_ingress_store($1::jsonb)",
    .nparams = 1,
};

// Runs lull_ingress_store over items[0..n) in one transaction. 0 when the outcomes are set; -1 when the
// database refused the statement (not a connection problem): the caller retries row by row.
static int s_store(s_conn_t *c, ingress_item_t **items, int n)
{
    ingress_writer_t *self = c->w;
    size_t len = 0, cap = 1024;
    char *json = malloc(cap);
    if (json) json[0] = '\0';
    s_buf_add(&json, &len, &cap, "[", 1);
    for (int i = 0; i < n; i++) {
        char pre[32];
        int pl = snprintf(pre, sizeof pre, "%s{\"i\":%d,", i ? "," : "", i);
        s_buf_add(&json, &len, &cap, pre, (size_t)pl);
        s_buf_add(&json, &len, &cap, items[i]->row_json + 1, strlen(items[i]->row_json + 1));
    }
    s_buf_add(&json, &len, &cap, "]", 1);
    if (!json) {
        s_fail_all(items, n, INGRESS_OUT_UNAVAILABLE, "out of memory");
        return 0;
    }
    const char *params[1] = {json};
    const char *const *pp[1] = {params};
    const lull_db_stmt_t *stmts[1] = {&s_store_stmt};
    PGresult *res = NULL;
    int64_t t0 = lull_clock_mono_us();
    if (lull_db_batch(c->db, stmts, pp, 1, false, &res) != 0 && res) {  // answered, but the sync failed
        PQclear(res);
        res = NULL;
    }
    free(json);
    if (!res) {
        lull_counter_add(self->db_errors, 1);
        if (lull_db_last_was_connection_error(c->db) || n == 1) {
            bool conn = lull_db_last_was_connection_error(c->db);
            s_fail_all(items, n, conn ? INGRESS_OUT_UNAVAILABLE : INGRESS_OUT_FAILED, lull_db_error(c->db));
            if (!conn)
                LOG_WARN("store.rejected", "the database refused a message", "sqlstate", LS(lull_db_sqlstate(c->db)),
                         "error", LS(lull_db_error(c->db)));
            return 0;
        }
        return -1;
    }
    lull_counter_add(self->commits, 1);
    lull_histogram_observe(self->batch_size, n);
    lull_histogram_observe(self->commit_seconds, (double)(lull_clock_mono_us() - t0) / 1e6);
    s_fail_all(items, n, INGRESS_OUT_UNAVAILABLE, "no result for this row");
    for (int r = 0; r < PQntuples(res); r++) {
        int64_t i = lull_db_int(res, r, 0, NULL);
        if (i < 0 || i >= n) continue;
        ingress_item_t *it = items[i];
        const char *o = lull_db_text(res, r, 1);
        it->tenant_id = lull_db_int(res, r, 2, NULL);
        it->contact_id = lull_db_int(res, r, 3, NULL);
        it->conversation_id = lull_db_int(res, r, 4, NULL);
        it->message_id = lull_db_int(res, r, 5, NULL);
        it->window_ms = lull_db_int(res, r, 6, NULL);
        it->error[0] = '\0';
        if (!o) continue;
        if (strcmp(o, "new") == 0) it->outcome = INGRESS_OUT_NEW;
        else if (strcmp(o, "quiet") == 0) it->outcome = INGRESS_OUT_NEW, it->wake = false;  // stored, nothing to answer
        else if (strcmp(o, "duplicate") == 0) it->outcome = INGRESS_OUT_DUPLICATE;
        else if (strcmp(o, "unknown_tenant") == 0) it->outcome = INGRESS_OUT_UNKNOWN_TENANT;
        else if (strcmp(o, "unknown_session") == 0) it->outcome = INGRESS_OUT_UNKNOWN_SESSION;
        else snprintf(it->error, sizeof it->error, "%s", o);  // retry: stays UNAVAILABLE
    }
    PQclear(res);
    return 0;
}

// The stored id of a duplicate whose original committed while this batch ran (not visible to its snapshot), in
// the duplicate's own tenant: provider message ids are unique per tenant, and an answer never names another's.
static void s_lookup_duplicate(s_conn_t *c, ingress_item_t *it)
{
    char tenant[24];
    snprintf(tenant, sizeof tenant, "%lld", (long long)it->tenant_id);
    const char *params[3] = {it->channel, it->provider_id, tenant};
    PGresult *res = lull_db_exec(c->db,
                                 "SELECT id, conversation_id FROM messages"
                                 " WHERE tenant_id = $3::bigint AND channel = $1 AND provider_message_id = $2",
                                 3, params);
    if (res && PQntuples(res) == 1) {
        it->message_id = lull_db_int(res, 0, 0, NULL);
        it->conversation_id = lull_db_int(res, 0, 1, NULL);
    }
    if (res) PQclear(res);
}

// The tenant slug a generic webhook row names ("default" when none), into out. false when the row is not JSON.
static bool s_row_slug(const ingress_item_t *it, char *out, size_t cap)
{
    cJSON *row = cJSON_Parse(it->row_json);
    const cJSON *route = cJSON_GetObjectItemCaseSensitive(row, "route");
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(row, "route_key");
    bool by_slug = cJSON_IsString(route) && strcmp(route->valuestring, "slug") == 0 && cJSON_IsString(key);
    int len = row ? snprintf(out, cap, "%s", by_slug ? key->valuestring : "default") : -1;
    cJSON_Delete(row);
    return len > 0 && (size_t)len < cap;
}

// Checks one request against the secret a tenant's reference names; sets its outcome when it fails.
static bool s_signature_ok(ingress_item_t *it, const char *env, const char *slug)
{
    bool refused = false;
    const char *secret = lull_config_tenant_env(env, "tenants.webhook_secret_env", 0, &refused);
    uint8_t key[LULL_STDWEBHOOK_KEY_MAX];
    int klen = secret ? lull_stdwebhook_key(secret, key, sizeof key) : -1;
    if (klen <= 0) {
        if (!refused)
            LOG_WARN("webhook.secret_unavailable", "a tenant requires signed webhooks but its secret variable is unset or invalid",
                     "slug", LS(slug), "name", LS(env));
        it->outcome = INGRESS_OUT_SIG_UNAVAILABLE;
        return false;
    }
    lull_stdwebhook_verdict_t v = lull_stdwebhook_verify(key, (size_t)klen, it->sig_headers[0], it->sig_headers[1],
                                                         it->sig_headers[2], it->body, it->body_len,
                                                         lull_clock_wall_ms() / 1000);
    if (v == LULL_STDWEBHOOK_OK) return true;
    it->outcome = v == LULL_STDWEBHOOK_MISSING ? INGRESS_OUT_SIG_MISSING : INGRESS_OUT_SIG_INVALID;
    return false;
}

// A verified generic webhook without message.id gets its webhook-id as its dedupe key ("webhook-id:<id>"): the
// Standard Webhooks idempotency key, the same on the sender's retries and on a replay of the captured request
// within the timestamp tolerance, so either is a duplicate instead of a second message. Out of memory: left
// unkeyed (stored as it would have been).
static void s_key_by_webhook_id(ingress_item_t *it)
{
    const char *id = it->sig_headers[0];
    if (it->provider_id || !id || !*id) return;
    cJSON *row = cJSON_Parse(it->row_json);
    size_t len = strlen("webhook-id:") + strlen(id) + 1;
    char *key = malloc(len);
    char *text = NULL;
    if (row && key) {
        snprintf(key, len, "webhook-id:%s", id);
        cJSON_DeleteItemFromObjectCaseSensitive(row, "provider_message_id");
        if (cJSON_AddStringToObject(row, "provider_message_id", key)) text = cJSON_PrintUnformatted(row);
    }
    cJSON_Delete(row);
    if (!text) {
        free(key);
        return;
    }
    it->sig_orig_row_ = it->row_json;
    it->row_json = it->sig_row_ = text;
    it->provider_id = it->sig_id_ = key;
}

// Restores what s_key_by_webhook_id changed and frees its copies.
static void s_unkey(ingress_item_t *it)
{
    if (!it->sig_row_) return;
    it->row_json = it->sig_orig_row_;
    it->provider_id = NULL;
    free(it->sig_row_);
    free(it->sig_id_);
    it->sig_row_ = it->sig_id_ = NULL;
}

// Generic webhooks whose tenant requires a signature (tenants.webhook_secret_env) are verified here, where the
// tenant is known, before anything is stored: one query for the batch's tenants, then HMACs. The items that fail
// keep their outcome and leave items (compacted); returns how many remain.
static int s_check_signatures(s_conn_t *c, ingress_item_t **items, int n)
{
    int nsig = 0;
    for (int i = 0; i < n; i++) nsig += items[i]->check_sig;
    if (nsig == 0) return n;
    char (*slug)[256] = calloc((size_t)n, sizeof *slug);  // "" = unknown: refused, never taken as unsigned
    cJSON *slugs = cJSON_CreateArray();
    char *text = NULL;
    PGresult *res = NULL;
    int kept = 0;
    for (int i = 0; slug && slugs && i < n; i++)
        if (items[i]->check_sig && !s_row_slug(items[i], slug[i], sizeof slug[i])) slug[i][0] = '\0';
        else if (items[i]->check_sig) cJSON_AddItemToArray(slugs, cJSON_CreateString(slug[i]));
    text = slug && slugs ? cJSON_PrintUnformatted(slugs) : NULL;
    if (text) {
        const char *params[1] = {text};
        res = lull_db_exec(c->db,
                           "SELECT slug, webhook_secret_env FROM tenants"
                           " WHERE slug IN (SELECT jsonb_array_elements_text($1::jsonb)) AND webhook_secret_env IS NOT NULL",
                           1, params);
    }
    for (int i = 0; i < n; i++) {
        ingress_item_t *it = items[i];
        bool ok = !it->check_sig;
        if (!ok && (!res || !slug[i][0])) {
            it->outcome = INGRESS_OUT_UNAVAILABLE;
            snprintf(it->error, sizeof it->error, "%s", text ? lull_db_error(c->db) : "out of memory");
        } else if (!ok) {
            const char *env = NULL;
            for (int r = 0; r < PQntuples(res) && !env; r++)
                if (strcmp(lull_db_text(res, r, 0), slug[i]) == 0) env = lull_db_text(res, r, 1);
            ok = !env || s_signature_ok(it, env, slug[i]);  // no secret: the tenant takes unsigned webhooks
            it->sig_verified = env && ok;
            if (it->sig_verified) s_key_by_webhook_id(it);
        }
        if (ok) items[kept++] = it;
    }
    if (res) PQclear(res);
    free(text);
    cJSON_Delete(slugs);
    free(slug);
    return kept;
}

static void s_store_batch(s_conn_t *c, ingress_item_t **items, int n)
{
    // Two copies of one delivery in a batch: only the first is stored, the others share its outcome. Rows that
    // only share the provider id may belong to different tenants: the database decides (ids are per tenant).
    ingress_item_t **uniq = malloc((size_t)n * sizeof *uniq);
    if (!uniq) {
        s_fail_all(items, n, INGRESS_OUT_UNAVAILABLE, "out of memory");
        return;
    }
    int nu = 0;
    for (int i = 0; i < n; i++) {
        items[i]->dup_of_ = NULL;
        if (items[i]->provider_id)
            for (int j = 0; j < nu; j++)
                if (uniq[j]->provider_id && strcmp(uniq[j]->provider_id, items[i]->provider_id) == 0 &&
                    strcmp(uniq[j]->channel, items[i]->channel) == 0 &&
                    strcmp(uniq[j]->row_json, items[i]->row_json) == 0) {
                    items[i]->dup_of_ = uniq[j];
                    break;
                }
        if (!items[i]->dup_of_) uniq[nu++] = items[i];
    }
    int rc = -1;
    for (int attempt = 0; attempt < 3 && rc != 0; attempt++) {
        rc = s_store(c, uniq, nu);
        // deadlock / serialization failure with another ingress: the whole call rolled back, try again
        if (rc != 0 && strcmp(lull_db_sqlstate(c->db), "40P01") != 0 && strcmp(lull_db_sqlstate(c->db), "40001") != 0)
            break;
    }
    if (rc != 0) {  // the database refused the batch: each row alone, so a bad row fails only itself
        LOG_WARN("store.batch_refused", "batch refused; storing its rows one by one", "rows", LI(nu), "sqlstate",
                 LS(lull_db_sqlstate(c->db)), "error", LS(lull_db_error(c->db)));
        for (int i = 0; i < nu; i++) (void)s_store(c, &uniq[i], 1);
    }
    for (int i = 0; i < nu; i++)
        if (uniq[i]->outcome == INGRESS_OUT_DUPLICATE && uniq[i]->message_id == 0) s_lookup_duplicate(c, uniq[i]);
    for (int i = 0; i < n; i++) {
        ingress_item_t *it = items[i], *d = it->dup_of_;
        if (!d) continue;
        it->outcome = d->outcome == INGRESS_OUT_NEW ? INGRESS_OUT_DUPLICATE : d->outcome;
        it->tenant_id = d->tenant_id;
        it->contact_id = d->contact_id;
        it->conversation_id = d->conversation_id;
        it->message_id = d->message_id;
        it->window_ms = d->window_ms;
        snprintf(it->error, sizeof it->error, "%s", d->error);
    }
    free(uniq);
}

// A request from a page of another origin: true when the tenant (by slug, or by the web chat session a message
// names) lists the origin in chat_allowed_origins; otherwise the outcome is set (refused, unknown or unavailable).
static bool s_origin_ok(s_conn_t *c, ingress_item_t *it, const char *slug, const char *session)
{
    if (!it->origin) return true;
    const char *params[2] = {slug ? slug : session, it->origin};
    PGresult *res = lull_db_exec(c->db,
                                 slug ? "SELECT $2 = ANY(chat_allowed_origins) FROM tenants WHERE slug = $1"
                                      : "SELECT $2 = ANY(t.chat_allowed_origins) FROM contacts k JOIN tenants t"
                                        " ON t.id = k.tenant_id WHERE k.channel = 'webchat' AND k.external_id = $1",
                                 2, params);
    bool ok = false;
    if (!res) {
        it->outcome = INGRESS_OUT_UNAVAILABLE;
        snprintf(it->error, sizeof it->error, "%s", lull_db_error(c->db));
    } else if (PQntuples(res) == 0) {
        it->outcome = slug ? INGRESS_OUT_UNKNOWN_TENANT : INGRESS_OUT_UNKNOWN_SESSION;
    } else if (!(ok = lull_db_text(res, 0, 0) && strcmp(lull_db_text(res, 0, 0), "t") == 0)) {  // NULL: refused
        it->outcome = INGRESS_OUT_ORIGIN_REFUSED;
        LOG_INFO("chat.origin_refused", "a web chat request from an origin the tenant does not list", "origin",
                 LS(it->origin));
    }
    if (res) PQclear(res);
    return ok;
}

static void s_session(s_conn_t *c, ingress_item_t *it)
{
    if (!s_origin_ok(c, it, it->arg[1] ? it->arg[1] : "default", NULL)) return;
    const char *params[3] = {it->arg[0], it->arg[1] ? it->arg[1] : "default", it->arg[2] ? it->arg[2] : "{}"};
    PGresult *res = lull_db_exec(
        c->db,
        "WITH t AS (SELECT id FROM tenants WHERE slug = $2), "
        "k AS (INSERT INTO contacts (tenant_id, channel, external_id, metadata) "
        "      SELECT t.id, 'webchat', $1, $3::jsonb FROM t RETURNING id, tenant_id) "
        "INSERT INTO conversations (tenant_id, contact_id, channel, external_conversation_id) "
        "SELECT tenant_id, id, 'webchat', $1 FROM k RETURNING id, tenant_id, contact_id",
        3, params);
    if (!res) {
        it->outcome = lull_db_last_was_connection_error(c->db) ? INGRESS_OUT_UNAVAILABLE : INGRESS_OUT_FAILED;
        snprintf(it->error, sizeof it->error, "%s", lull_db_error(c->db));
        return;
    }
    if (PQntuples(res) == 1) {
        it->outcome = INGRESS_OUT_OK;
        it->conversation_id = lull_db_int(res, 0, 0, NULL);
        it->tenant_id = lull_db_int(res, 0, 1, NULL);
        it->contact_id = lull_db_int(res, 0, 2, NULL);
    } else {
        it->outcome = INGRESS_OUT_UNKNOWN_TENANT;
    }
    PQclear(res);
}

// A Twilio status callback: the delivery status of the outbox row Twilio's message came from. Statuses only move
// forward (Twilio may call out of order: "sent" after "delivered" changes nothing), by
// lull_twilio_status_rank (migration 013).
static void s_status(s_conn_t *c, ingress_item_t *it)
{
    const char *params[4] = {it->arg[0], it->arg[1], it->arg[2], it->arg[3]};
    PGresult *res = lull_db_exec(
        c->db,
        "UPDATE outbox SET delivery_status = $3, delivery_error = $4, delivery_updated_at = now()"
        " WHERE provider_message_id = $2 AND ($1::bigint IS NULL OR id = $1::bigint) AND channel IN ('sms', 'whatsapp')"
        " AND lull_twilio_status_rank($3) >= lull_twilio_status_rank(delivery_status) RETURNING id",
        4, params);
    if (!res) {
        it->outcome = lull_db_last_was_connection_error(c->db) ? INGRESS_OUT_UNAVAILABLE : INGRESS_OUT_FAILED;
        snprintf(it->error, sizeof it->error, "%s", lull_db_error(c->db));
        return;
    }
    bool updated = PQntuples(res) > 0;
    int64_t id = updated ? lull_db_int(res, 0, 0, NULL) : 0;
    PQclear(res);
    bool meta = it->channel && strcmp(it->channel, "meta") == 0;
    if (!updated)
        LOG_INFO(meta ? "whatsapp.status_ignored" : "twilio.status_ignored",
                 "status callback for no outbox row, or older than the status held", "sid", LS(it->arg[1]), "status",
                 LS(it->arg[2]));
    else if (strcmp(it->arg[2], "failed") == 0 || strcmp(it->arg[2], "undelivered") == 0)
        LOG_WARN(meta ? "whatsapp.undelivered" : "twilio.undelivered", "the provider could not deliver a message",
                 "outbox", LI(id), "sid", LS(it->arg[1]), "status", LS(it->arg[2]), "error_code",
                 LS(it->arg[3] ? it->arg[3] : ""));
    char buf[96];
    if (updated) snprintf(buf, sizeof buf, "{\"updated\":true,\"outbox_id\":%lld}", (long long)id);
    else snprintf(buf, sizeof buf, "{\"updated\":false}");
    it->result_json = strdup(buf);
    it->outcome = it->result_json ? INGRESS_OUT_OK : INGRESS_OUT_UNAVAILABLE;
}

static void s_history(s_conn_t *c, ingress_item_t *it)
{
    ingress_writer_t *self = c->w;
    char limit[24];
    snprintf(limit, sizeof limit, "%d", self->cfg.history_limit);
    const char *params[2] = {it->arg[0], limit};
    PGresult *res = lull_db_exec(
        c->db,
        "SELECT v.id, h.id, h.direction, h.author, h.body, h.media::text, "
        "       to_char(h.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
        "FROM contacts k JOIN conversations v ON v.contact_id = k.id "
        "LEFT JOIN LATERAL (SELECT * FROM messages m WHERE m.conversation_id = v.id ORDER BY m.id DESC LIMIT $2::int) h "
        "  ON true "
        "WHERE k.channel = 'webchat' AND k.external_id = $1 ORDER BY h.id",
        2, params);
    if (!res) {
        it->outcome = lull_db_last_was_connection_error(c->db) ? INGRESS_OUT_UNAVAILABLE : INGRESS_OUT_FAILED;
        snprintf(it->error, sizeof it->error, "%s", lull_db_error(c->db));
        return;
    }
    if (PQntuples(res) == 0) {
        it->outcome = INGRESS_OUT_UNKNOWN_SESSION;
        PQclear(res);
        return;
    }
    cJSON *root = cJSON_CreateObject(), *arr = cJSON_CreateArray();
    cJSON_AddStringToObject(root, "sessionId", it->arg[0]);
    cJSON_AddNumberToObject(root, "conversationId", (double)lull_db_int(res, 0, 0, NULL));
    for (int r = 0; r < PQntuples(res); r++) {
        if (!lull_db_text(res, r, 1)) continue;  // a session without messages yet
        cJSON *m = cJSON_CreateObject();
        const char *dir = lull_db_text(res, r, 2), *author = lull_db_text(res, r, 3);
        cJSON_AddNumberToObject(m, "id", (double)lull_db_int(res, r, 1, NULL));
        cJSON_AddStringToObject(m, "role", strcmp(dir, "in") == 0 ? "user" : "assistant");
        cJSON_AddStringToObject(m, "direction", dir);
        cJSON_AddStringToObject(m, "author", author);
        cJSON_AddStringToObject(m, "body", lull_db_text(res, r, 4));
        cJSON *media = cJSON_Parse(lull_db_text(res, r, 5));
        cJSON_AddItemToObject(m, "media", media ? media : cJSON_CreateArray());
        cJSON_AddStringToObject(m, "createdAt", lull_db_text(res, r, 6));
        cJSON_AddItemToArray(arr, m);
    }
    PQclear(res);
    cJSON_AddItemToObject(root, "messages", arr);
    it->result_json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    it->outcome = it->result_json ? INGRESS_OUT_OK : INGRESS_OUT_UNAVAILABLE;
}

// ---------------------------------------------------------------------------------------------------------
// The thread

// One info line per stored message, with the ids that join the tiers' logs (never the body). A message from the
// contact (wake) logs inbound.accepted; a person's reply the provider echoed (a TikTok im_send_msg) logs it with
// "author":"human". A delivery already stored logs inbound.duplicate with the stored row's ids when known.
static void s_log_stored(const ingress_item_t *it)
{
    bool dup = it->outcome == INGRESS_OUT_DUPLICATE;
    if (it->op != INGRESS_OP_STORE || (!dup && it->outcome != INGRESS_OUT_NEW)) return;
    // A NULL key ends the fields: a duplicate whose stored id is unknown stops before message_id, and only an
    // echoed reply gets an author.
    lull_log_at(LULL_LOG_INFO, dup ? "inbound.duplicate" : "inbound.accepted", NULL, "tenant", LI(it->tenant_id),
                "channel", LS(it->channel), "conv", LI(it->conversation_id),
                it->message_id > 0 ? "message_id" : (const char *)NULL, LI(it->message_id),
                !dup && !it->wake ? "author" : (const char *)NULL, LS("human"), (const char *)NULL);
}

// A MULTI item's outcome once its subs are done: unavailable or failed when one of them is (Meta sends the whole
// request again; what was stored is then a duplicate), else new.
static void s_multi_outcome(ingress_item_t *it)
{
    it->outcome = INGRESS_OUT_NEW;
    for (size_t k = 0; k < it->nsubs; k++) {
        ingress_outcome_t o = it->subs[k].outcome;
        if (o == INGRESS_OUT_UNAVAILABLE || (o == INGRESS_OUT_FAILED && it->outcome != INGRESS_OUT_UNAVAILABLE)) {
            it->outcome = o;
            snprintf(it->error, sizeof it->error, "%s", it->subs[k].error);
        }
    }
}

static void s_process(s_conn_t *c, ingress_item_t **items, int n)
{
    int total = n;
    for (int i = 0; i < n; i++) total += items[i]->op == INGRESS_OP_MULTI ? (int)items[i]->nsubs : 0;
    bool connected = lull_db_connect(c->db) == 0;
    if (!connected) {
        s_fail_all(items, n, INGRESS_OUT_UNAVAILABLE, lull_db_error(c->db));
    } else {
        ingress_item_t **store = malloc((size_t)total * sizeof *store);
        int ns = 0;
        for (int i = 0; i < n; i++) {
            // a web chat message from another origin (arg[0]: its session): the tenant must list the origin
            if (items[i]->op == INGRESS_OP_STORE && items[i]->origin && !s_origin_ok(c, items[i], NULL, items[i]->arg[0]))
                continue;
            for (size_t k = 0; items[i]->op == INGRESS_OP_MULTI && k < items[i]->nsubs; k++) {
                ingress_item_t *sub = &items[i]->subs[k];
                sub->outcome = INGRESS_OUT_UNAVAILABLE;
                if (sub->op == INGRESS_OP_STORE && store) store[ns++] = sub;
                else if (sub->op == INGRESS_OP_STATUS) s_status(c, sub);
            }
            if (items[i]->op == INGRESS_OP_MULTI) continue;
            if (items[i]->op == INGRESS_OP_STORE && store) store[ns++] = items[i];
            else if (items[i]->op == INGRESS_OP_SESSION) s_session(c, items[i]);
            else if (items[i]->op == INGRESS_OP_HISTORY) s_history(c, items[i]);
            else if (items[i]->op == INGRESS_OP_STATUS) s_status(c, items[i]);
            else s_fail_all(&items[i], 1, INGRESS_OUT_UNAVAILABLE, "out of memory");
        }
        if (ns) ns = s_check_signatures(c, store, ns);
        if (ns) s_store_batch(c, store, ns);
        free(store);
    }
    for (int i = 0; i < n; i++) {
        ingress_item_t *it = items[i];
        for (size_t k = 0; it->op == INGRESS_OP_MULTI && k < it->nsubs; k++) {
            ingress_item_t *sub = &it->subs[k];
            s_log_stored(sub);
            if (sub->op == INGRESS_OP_STORE && sub->outcome == INGRESS_OUT_NEW && sub->wake) s_push_inbound(c, sub);
        }
        if (it->op == INGRESS_OP_MULTI && connected) s_multi_outcome(it);
        s_log_stored(it);
        if (it->op == INGRESS_OP_STORE && it->outcome == INGRESS_OUT_NEW && it->wake) s_push_inbound(c, it);
        s_unkey(it);
        it->done(it, it->done_arg);  // the item may be freed from here on
    }
}

static void *s_run(void *arg)
{
    s_conn_t *c = arg;
    ingress_writer_t *self = c->w;
    c->db = lull_db_new(self->database_url);
    if (c->db) lull_db_set_backoff(c->db, 50, 1000);
    if (self->zctx) {
        ingress_wake_cfg_t wc = {.zctx = self->zctx, .schedulers = self->cfg.schedulers, .map = self->cfg.schedmap,
                                 .hwm = self->cfg.inbound_hwm, .pushed = self->pushed, .dropped = self->dropped,
                                 .unowned = self->unowned};
        c->wake = ingress_wake_new(&wc);
    }
    ingress_item_t **batch = calloc((size_t)self->cfg.batch_max, sizeof *batch);
    for (;;) {
        pthread_mutex_lock(&self->lock);
        while (!c->head && !self->stopping) pthread_cond_wait(&c->ready, &self->lock);
        if (!c->head && self->stopping) {
            pthread_mutex_unlock(&self->lock);
            break;
        }
        // Under load (the last batch had company), let a batch that is not full gather for batch_wait_us.
        if (c->last_batch > 1 && self->cfg.batch_wait_us > 0 && c->queued < self->cfg.batch_max && !self->stopping) {
            int64_t deadline_us = lull_clock_mono_us() + self->cfg.batch_wait_us;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t ns = (int64_t)ts.tv_nsec + self->cfg.batch_wait_us * 1000;
            ts.tv_sec += ns / 1000000000;
            ts.tv_nsec = ns % 1000000000;
            while (c->queued < self->cfg.batch_max && !self->stopping && lull_clock_mono_us() < deadline_us)
                if (pthread_cond_timedwait(&c->ready, &self->lock, &ts) == ETIMEDOUT) break;
        }
        int n = 0;
        while (c->head && n < self->cfg.batch_max) {
            batch[n++] = c->head;
            c->head = c->head->next_;
        }
        if (!c->head) c->tail = NULL;
        c->queued -= n;
        self->queued -= n;
        c->last_batch = n;
        lull_gauge_set(self->queue_depth, self->queued);
        pthread_mutex_unlock(&self->lock);
        if (batch) s_process(c, batch, n);
    }
    free(batch);
    ingress_wake_destroy(&c->wake);
    lull_db_destroy(&c->db);
    return NULL;
}

ingress_writer_t *ingress_writer_new(const ingress_writer_cfg_t *cfg)
{
    ingress_writer_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->cfg = *cfg;
    if (self->cfg.batch_max < 1) self->cfg.batch_max = 1;
    self->database_url = strdup(cfg->database_url ? cfg->database_url : "");
    pthread_mutex_init(&self->lock, NULL);
    lull_metrics_t *m = cfg->metrics;
    // a reader pool's metrics carry pool="reader"; the writers' keep their unlabelled names
    char pool_label[64] = "";
    if (cfg->pool) snprintf(pool_label, sizeof pool_label, "pool=\"%s\"", cfg->pool);
    const char *L = cfg->pool ? pool_label : NULL;
    self->commits = lull_metrics_counter(m, "lull_ingress_commits_total", L, "group-commit transactions committed");
    self->db_errors = lull_metrics_counter(m, "lull_ingress_db_errors_total", L, "failed database calls");
    self->pushed = lull_metrics_counter(m, "lull_ingress_inbound_pushed_total", L, "INBOUND wake-ups queued to a scheduler shard");
    self->dropped = lull_metrics_counter(m, "lull_ingress_inbound_dropped_total", L,
                                         "INBOUND wake-ups dropped (shard slow or absent; its sweep recovers)");
    self->unowned = lull_metrics_counter(m, "lull_ingress_inbound_unowned_total", L,
                                         "INBOUND wake-ups dropped because no live scheduler owned the conversation's"
                                         " partition (its owner's recovery finds the message)");
    static const double sizes[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
    self->batch_size = lull_metrics_histogram(m, "lull_ingress_batch_size", L, "messages per group commit", sizes,
                                              sizeof sizes / sizeof sizes[0]);
    self->commit_seconds = lull_metrics_histogram(m, "lull_ingress_commit_seconds", L,
                                                  "duration of one group-commit transaction", LULL_METRICS_LATENCY_BUCKETS,
                                                  LULL_METRICS_LATENCY_NBUCKETS);
    self->queue_depth = lull_metrics_gauge(m, "lull_ingress_queue_depth", L, "requests waiting for the writer");
    self->zctx = cfg->pool ? NULL : zmq_ctx_new();  // a reader pool wakes no scheduler
    self->nconns = cfg->writers > 0 ? cfg->writers : 1;
    self->conns = calloc((size_t)self->nconns, sizeof *self->conns);
    if (!self->database_url || (!cfg->pool && !self->zctx) || !self->conns) goto fail;
    self->started = true;
    for (int i = 0; i < self->nconns; i++) pthread_cond_init(&self->conns[i].ready, NULL);
    for (int i = 0; i < self->nconns; i++) {
        self->conns[i].w = self;
        if (pthread_create(&self->conns[i].thread, NULL, s_run, &self->conns[i]) != 0) goto fail;
        self->conns[i].started = true;
    }
    return self;
fail:
    ingress_writer_destroy(&self);
    return NULL;
}

void ingress_writer_stop(ingress_writer_t *self)
{
    if (!self || !self->started) return;
    pthread_mutex_lock(&self->lock);
    self->stopping = true;
    for (int i = 0; i < self->nconns; i++) pthread_cond_broadcast(&self->conns[i].ready);
    pthread_mutex_unlock(&self->lock);
    for (int i = 0; i < self->nconns; i++)
        if (self->conns[i].started) pthread_join(self->conns[i].thread, NULL);
    self->started = false;
}

void ingress_writer_destroy(ingress_writer_t **self_p)
{
    if (!self_p || !*self_p) return;
    ingress_writer_t *self = *self_p;
    ingress_writer_stop(self);
    if (self->zctx) zmq_ctx_term(self->zctx);
    pthread_mutex_destroy(&self->lock);
    for (int i = 0; self->conns && i < self->nconns; i++) pthread_cond_destroy(&self->conns[i].ready);
    free(self->conns);
    free(self->database_url);
    free(self);
    *self_p = NULL;
}

// The thread an item goes to: its contact's (affinity), so that one contact's messages are stored by one
// connection in arrival order and two writers never wait for each other's locks on the same contact and
// conversation rows; an item without one goes to the thread with the shortest queue. Under the lock.
static s_conn_t *s_pick(ingress_writer_t *self, const ingress_item_t *item)
{
    if (item->affinity) return &self->conns[item->affinity % (uint32_t)self->nconns];
    s_conn_t *best = &self->conns[0];
    for (int i = 1; i < self->nconns; i++)
        if (self->conns[i].queued < best->queued) best = &self->conns[i];
    return best;
}

int ingress_writer_submit(ingress_writer_t *self, ingress_item_t *item)
{
    item->next_ = NULL;
    item->outcome = INGRESS_OUT_UNAVAILABLE;
    item->error[0] = '\0';
    pthread_mutex_lock(&self->lock);
    if (self->stopping || self->queued >= self->cfg.queue_max) {
        pthread_mutex_unlock(&self->lock);
        return -1;
    }
    s_conn_t *c = s_pick(self, item);
    if (c->tail) c->tail->next_ = item;
    else c->head = item;
    c->tail = item;
    c->queued++;
    self->queued++;
    if (c->queued == 1 || c->queued >= self->cfg.batch_max) pthread_cond_signal(&c->ready);
    pthread_mutex_unlock(&self->lock);
    return 0;
}

bool ingress_writer_has_room(ingress_writer_t *self)
{
    pthread_mutex_lock(&self->lock);
    bool room = !self->stopping && self->queued < self->cfg.queue_max;
    pthread_mutex_unlock(&self->lock);
    return room;
}
