// The writer's requests other than storing messages (each on the writer thread's connection): a web chat session,
// a session's history, a delivery status callback, the check of a browser page's origin, and the check of the
// signatures a tenant requires on its generic webhooks.
#include "ingress_ops.h"
#include "lull_clock.h"
#include "lull_config.h"
#include "lull_db.h"
#include "lull_log.h"
#include "lull_stdwebhook.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// A request from a page of another origin: true when the tenant (by slug, or by the web chat session a message
// names) lists the origin in chat_allowed_origins; otherwise the outcome is set (refused, unknown or unavailable).
bool ingress_ops_origin_ok(lull_db_t *db, ingress_item_t *it, const char *slug, const char *session)
{
    if (!it->origin) return true;
    const char *params[2] = {slug ? slug : session, it->origin};
    PGresult *res = lull_db_exec(db,
                                 slug ? "SELECT $2 = ANY(chat_allowed_origins) FROM tenants WHERE slug = $1"
                                      : "SELECT $2 = ANY(t.chat_allowed_origins) FROM contacts k JOIN tenants t"
                                        " ON t.id = k.tenant_id WHERE k.channel = 'webchat' AND k.external_id = $1",
                                 2, params);
    bool ok = false;
    if (!res) {
        it->outcome = INGRESS_OUT_UNAVAILABLE;
        snprintf(it->error, sizeof it->error, "%s", lull_db_error(db));
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

void ingress_ops_session(lull_db_t *db, ingress_item_t *it)
{
    if (!ingress_ops_origin_ok(db, it, it->arg[1] ? it->arg[1] : "default", NULL)) return;
    const char *params[3] = {it->arg[0], it->arg[1] ? it->arg[1] : "default", it->arg[2] ? it->arg[2] : "{}"};
    PGresult *res = lull_db_exec(
        db,
        "WITH t AS (SELECT id FROM tenants WHERE slug = $2), "
        "k AS (INSERT INTO contacts (tenant_id, channel, external_id, metadata) "
        "      SELECT t.id, 'webchat', $1, $3::jsonb FROM t RETURNING id, tenant_id) "
        "INSERT INTO conversations (tenant_id, contact_id, channel, external_conversation_id) "
        "SELECT tenant_id, id, 'webchat', $1 FROM k RETURNING id, tenant_id, contact_id",
        3, params);
    if (!res) {
        it->outcome = lull_db_last_was_connection_error(db) ? INGRESS_OUT_UNAVAILABLE : INGRESS_OUT_FAILED;
        snprintf(it->error, sizeof it->error, "%s", lull_db_error(db));
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
void ingress_ops_status(lull_db_t *db, ingress_item_t *it)
{
    const char *params[4] = {it->arg[0], it->arg[1], it->arg[2], it->arg[3]};
    PGresult *res = lull_db_exec(
        db,
        "UPDATE outbox SET delivery_status = $3, delivery_error = $4, delivery_updated_at = now()"
        " WHERE provider_message_id = $2 AND ($1::bigint IS NULL OR id = $1::bigint) AND channel IN ('sms', 'whatsapp')"
        " AND lull_twilio_status_rank($3) >= lull_twilio_status_rank(delivery_status) RETURNING id",
        4, params);
    if (!res) {
        it->outcome = lull_db_last_was_connection_error(db) ? INGRESS_OUT_UNAVAILABLE : INGRESS_OUT_FAILED;
        snprintf(it->error, sizeof it->error, "%s", lull_db_error(db));
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

void ingress_ops_history(lull_db_t *db, ingress_item_t *it, int limit_n)
{
    char limit[24];
    snprintf(limit, sizeof limit, "%d", limit_n);
    const char *params[2] = {it->arg[0], limit};
    PGresult *res = lull_db_exec(
        db,
        "SELECT v.id, h.id, h.direction, h.author, h.body, h.media::text, "
        "       to_char(h.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
        "FROM contacts k JOIN conversations v ON v.contact_id = k.id "
        "LEFT JOIN LATERAL (SELECT * FROM messages m WHERE m.conversation_id = v.id ORDER BY m.id DESC LIMIT $2::int) h "
        "  ON true "
        "WHERE k.channel = 'webchat' AND k.external_id = $1 ORDER BY h.id",
        2, params);
    if (!res) {
        it->outcome = lull_db_last_was_connection_error(db) ? INGRESS_OUT_UNAVAILABLE : INGRESS_OUT_FAILED;
        snprintf(it->error, sizeof it->error, "%s", lull_db_error(db));
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
void ingress_ops_unkey(ingress_item_t *it)
{
    if (!it->sig_row_) return;
    it->row_json = it->sig_orig_row_;
    it->provider_id = NULL;
    free(it->sig_row_);
    free(it->sig_id_);
    it->sig_row_ = it->sig_id_ = NULL;
}

// The tenants' secrets of a batch: prepared once per connection (it runs before every batch holding a generic
// webhook; parsing and planning it each time cost the backend about as much as executing it).
static const lull_db_stmt_t s_sig_stmt = {
    .name = "lull_ingress_sig_tenants",
    .sql = "SELECT slug, webhook_secret_env FROM tenants"
           " WHERE slug IN (SELECT jsonb_array_elements_text($1::jsonb)) AND webhook_secret_env IS NOT NULL",
    .nparams = 1,
};

// Generic webhooks whose tenant requires a signature (tenants.webhook_secret_env) are verified here, where the
// tenant is known, before anything is stored: one query for the batch's tenants, then HMACs. The items that fail
// keep their outcome and leave items (compacted); returns how many remain.
int ingress_ops_check_signatures(lull_db_t *db, ingress_item_t **items, int n)
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
        res = lull_db_exec_stmt(db, &s_sig_stmt, params);
    }
    for (int i = 0; i < n; i++) {
        ingress_item_t *it = items[i];
        bool ok = !it->check_sig;
        if (!ok && (!res || !slug[i][0])) {
            it->outcome = INGRESS_OUT_UNAVAILABLE;
            snprintf(it->error, sizeof it->error, "%s", text ? lull_db_error(db) : "out of memory");
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
