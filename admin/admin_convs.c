// Admin routes over conversations, their messages, hand-backs, human replies (an outbox row and an OUTBOX
// wake-up to the senders) and escalations: one SQL statement each, the JSON built by PostgreSQL.
#include "admin_convs.h"
#include "admin_agents.h"
#include "lull_json.h"
#include "lull_log.h"
#include "lull_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_RECENT 20      // messages / analyses in GET /conversations/{id}
#define S_BODY_MAX 4096  // a human reply's body, bytes
// The delivery of an outbound message (messages aliased x): its outbox row's state; null for inbound ones.
#define S_DELIVERY                                                                                              \
    "(SELECT json_build_object('outbox_id', o.id, 'status', o.status, 'attempts', o.attempts, 'sent_at', o.sent_at," \
    " 'last_error', o.last_error, 'delivery_status', o.delivery_status, 'delivery_error', o.delivery_error,"     \
    " 'cancel_reason', o.cancel_reason, 'cancelled_at', o.cancelled_at)"                                        \
    " FROM outbox o WHERE o.message_id = x.id ORDER BY o.id LIMIT 1) AS delivery"

// The agent of a message (messages aliased x) or of an agent_actions row (aliased x): null when no person acted.
#define S_AGENT                                                                                                 \
    "CASE WHEN x.agent_name IS NOT NULL THEN json_build_object('id', x.agent_id, 'name', x.agent_name,"          \
    " 'display_name', coalesce((SELECT nullif(g.display_name, '') FROM agents g WHERE g.id = x.agent_id),"       \
    " x.agent_name)) END"
// The latest agent_actions row of conversation c among the actions list, as JSON (or null).
#define S_LAST_ACTION(list)                                                                                     \
    "(SELECT json_build_object('id', x.id, 'action', x.action, 'agent', " S_AGENT ", 'message_id', x.message_id," \
    " 'created_at', x.created_at) FROM agent_actions x WHERE x.conversation_id = c.id AND x.action IN (" list ")" \
    " ORDER BY x.id DESC LIMIT 1)"

static const char *const s_statuses[] = {"open", "escalated", "paused", "closed", NULL};

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

void admin_convs_list(admin_ctx_t *ctx, admin_req_t *req)
{
    char status[16], channel[16], q[256];
    admin_page_t pg;
    bool has_status = admin_util_query(req->uri, "status", status, sizeof status) && *status;
    bool has_channel = admin_util_query(req->uri, "channel", channel, sizeof channel) && *channel;
    bool has_q = admin_util_query(req->uri, "q", q, sizeof q) && *q;
    if (has_status && !admin_util_one_of(status, s_statuses)) {
        admin_util_error(req, 400, "bad_parameter", "'status' must be one of open, escalated, paused, closed");
        return;
    }
    if (has_channel && !admin_util_channel_ok(req, channel)) return;
    if (!admin_util_page(req, &pg)) return;
    const char *p[5] = {has_status ? status : NULL, has_channel ? channel : NULL, pg.after_s, has_q ? q : NULL,
                        pg.limit_s};
    admin_util_sql_answer(ctx, req, s_sql_conv_list, 5, p, NULL);
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
    "   media, transcript, created_at, " S_DELIVERY ", " S_AGENT " AS agent FROM messages x WHERE conversation_id = c.id"
    "   ORDER BY id DESC LIMIT $2::int) m),"
    " 'analyses', (SELECT coalesce(json_agg(a ORDER BY a.id), '[]'::json) FROM (SELECT id, message_id,"
    "   upto_message_id, sentiment, sentiment_confidence, intent, priority, escalate, escalate_reason, entities,"
    "   extracted, provider, model, created_at FROM analyses WHERE conversation_id = c.id ORDER BY id DESC"
    "   LIMIT $2::int) a),"
    " 'escalations', (SELECT coalesce(json_agg(e ORDER BY e.id), '[]'::json) FROM (SELECT id, reason, source,"
    "   created_at, resolved_at FROM escalations WHERE conversation_id = c.id ORDER BY id DESC LIMIT $2::int) e),"
    " 'agent_actions', (SELECT coalesce(json_agg(a ORDER BY a.id), '[]'::json) FROM (SELECT x.id, x.action,"
    "   " S_AGENT " AS agent, x.message_id, x.created_at FROM agent_actions x WHERE x.conversation_id = c.id"
    "   ORDER BY x.id DESC LIMIT $2::int) a),"
    " 'paused_by', " S_LAST_ACTION("'reply', 'takeover'") ", 'handed_back_by', " S_LAST_ACTION("'handback'")
    ")::text FROM conversations c WHERE c.id = $1::bigint";

void admin_convs_show(admin_ctx_t *ctx, admin_req_t *req)
{
    int64_t conv = req->id;
    char sc[24], sn[8];
    snprintf(sc, sizeof sc, "%lld", (long long)conv);
    snprintf(sn, sizeof sn, "%d", S_RECENT);
    const char *p[2] = {sc, sn};
    admin_util_sql_answer(ctx, req, s_sql_conv_show, 2, p, "no such conversation");
}

static const char s_sql_conv_messages[] =
    "SELECT CASE WHEN EXISTS (SELECT 1 FROM conversations WHERE id = $1::bigint) THEN"
    " json_build_object('messages', coalesce(json_agg(m ORDER BY m.id), '[]'::json),"
    "  'next_after', CASE WHEN count(*) = $3::int THEN max(m.id) END)::text END FROM ("
    " SELECT id, direction, author, body, media, transcript, provider_message_id, created_at, " S_DELIVERY ", " S_AGENT " AS agent"
    " FROM messages x"
    " WHERE conversation_id = $1::bigint AND id > $2::bigint ORDER BY id LIMIT $3::int) m";

void admin_convs_messages(admin_ctx_t *ctx, admin_req_t *req)
{
    int64_t conv = req->id;
    admin_page_t pg;
    if (!admin_util_page(req, &pg)) return;
    char sc[24];
    snprintf(sc, sizeof sc, "%lld", (long long)conv);
    const char *p[3] = {sc, pg.after_s, pg.limit_s};
    admin_util_sql_answer(ctx, req, s_sql_conv_messages, 3, p, "no such conversation");
}

// Adds {"id","name","display_name"} of who under key to o.
static void s_add_agent(cJSON *o, const char *key, const admin_agent_t *who)
{
    cJSON *a = cJSON_AddObjectToObject(o, key);
    if (!a) return;
    if (who->id > 0) cJSON_AddNumberToObject(a, "id", (double)who->id);
    else cJSON_AddNullToObject(a, "id");
    cJSON_AddStringToObject(a, "name", who->name);
    cJSON_AddStringToObject(a, "display_name", *who->display_name ? who->display_name : who->name);
}

static const char s_sql_handback[] =
    "WITH u AS (UPDATE conversations c SET status = 'open', paused_until = NULL, updated_at = now(),"
    "  cancelled_upto = CASE WHEN $2::bool THEN c.cancelled_upto ELSE greatest(c.cancelled_upto, c.last_inbound_id) END"
    "  WHERE c.id = $1::bigint AND (c.status IN ('escalated', 'paused') OR c.paused_until IS NOT NULL)"
    "  RETURNING c.id, c.cancelled_upto, c.last_inbound_id, c.answered_upto),"
    " e AS (UPDATE escalations SET resolved_at = now() WHERE conversation_id IN (SELECT id FROM u)"
    "  AND resolved_at IS NULL RETURNING id),"
    " a AS (INSERT INTO agent_actions (conversation_id, agent_id, agent_name, action)"
    "  SELECT id, $3::bigint, $4, 'handback' FROM u)"
    " SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM e), (SELECT status FROM conversations WHERE id = $1::bigint),"
    "  (SELECT json_build_object('id', id, 'status', 'open', 'cancelled_upto', cancelled_upto, 'last_inbound_id',"
    "   last_inbound_id, 'answered_upto', answered_upto) FROM u)";

// POST /api/v1/conversations/{id}/handback {"answer_pending":false}
void admin_convs_handback(admin_ctx_t *ctx, admin_req_t *req)
{
    int64_t conv = req->id;
    cJSON *b = admin_util_body(req);
    if (!b) return;
    bool pending = false;
    char err[160];
    if (lull_json_bool(b, "answer_pending", false, &pending, err, sizeof err) != 0) {
        cJSON_Delete(b);
        {
            admin_util_error(req, 400, "bad_field", err);
            return;
        }
    }
    cJSON_Delete(b);
    char sc[24];
    snprintf(sc, sizeof sc, "%lld", (long long)conv);
    char sa[24];
    const admin_agent_t *who = admin_req_agent(req);
    const char *p[4] = {sc, pending ? "true" : "false", admin_agents_id_param(req, sa, sizeof sa), who->name};
    PGresult *r = lull_db_exec(ctx->db, s_sql_handback, 4, p);
    if (!r) {
        admin_util_db_error(ctx, req);
        return;
    }
    int64_t updated = lull_db_int(r, 0, 0, NULL), resolved = lull_db_int(r, 0, 1, NULL);
    const char *old = lull_db_text(r, 0, 2);
    if (updated == 0 && !old) admin_util_error(req, 404, "not_found", "no such conversation");
    else if (updated == 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "the conversation is %s and not paused: nothing to hand back", old);
        admin_util_error(req, 409, "not_handed_over", msg);
    } else {
        char *body = NULL;
        char err2[160];
        const char *j = lull_db_text(r, 0, 3);
        cJSON *o = j ? lull_json_parse(j, strlen(j), LULL_JSON_MAX_DEPTH, err2, sizeof err2) : NULL;
        if (o) {
            cJSON_AddNumberToObject(o, "escalations_resolved", (double)resolved);
            cJSON_AddBoolToObject(o, "answer_pending", pending);
            s_add_agent(o, "handed_back_by", who);
            body = lull_json_print(o);
            cJSON_Delete(o);
        }
        LOG_INFO("admin.handback", "conversation handed back to the bot", "conv", LI(conv), "resolved", LI(resolved),
                 "agent", LS(who->name));
        admin_util_answer(req, 200, body);
    }
    PQclear(r);
}

#define S_PAUSE_MAX_MS 2592000000LL  // a take over's pause_ms: at most 30 days

// Take over: the bot stops (status paused) without a reply being sent; the burst waiting is never answered
// (cancelled_upto). A closed conversation cannot be taken over.
static const char s_sql_takeover[] =
    "WITH c AS (SELECT c.id, t.human_pause_ms FROM conversations c JOIN tenants t ON t.id = c.tenant_id"
    "  WHERE c.id = $1::bigint FOR UPDATE OF c),"
    " u AS (UPDATE conversations x SET status = 'paused', updated_at = now(),"
    "   paused_until = now() + coalesce($2::bigint, c.human_pause_ms) * interval '1 millisecond',"
    "   cancelled_upto = greatest(x.cancelled_upto, x.last_inbound_id)"
    "  FROM c WHERE x.id = c.id AND x.status <> 'closed'"
    "  RETURNING x.id, x.status, x.paused_until, x.cancelled_upto, x.last_inbound_id, x.answered_upto),"
    " a AS (INSERT INTO agent_actions (conversation_id, agent_id, agent_name, action)"
    "  SELECT id, $3::bigint, $4, 'takeover' FROM u)"
    " SELECT (SELECT count(*) FROM u), (SELECT status FROM conversations WHERE id = $1::bigint),"
    "  (SELECT json_build_object('id', id, 'status', status, 'paused_until', paused_until, 'cancelled_upto',"
    "   cancelled_upto, 'last_inbound_id', last_inbound_id, 'answered_upto', answered_upto)::text FROM u)";

// POST /api/v1/conversations/{id}/takeover {"pause_ms"?}
void admin_convs_takeover(admin_ctx_t *ctx, admin_req_t *req)
{
    int64_t conv = req->id, pause_ms = -1;
    cJSON *b = admin_util_body(req);
    if (!b) return;
    char err[160];
    int rc = lull_json_int(b, "pause_ms", false, false, 1, S_PAUSE_MAX_MS, &pause_ms, err, sizeof err);
    cJSON_Delete(b);
    if (rc != 0) {
        admin_util_error(req, 400, "bad_field", err);
        return;
    }
    const admin_agent_t *who = admin_req_agent(req);
    char sc[24], sp[24], sa[24];
    snprintf(sc, sizeof sc, "%lld", (long long)conv);
    snprintf(sp, sizeof sp, "%lld", (long long)pause_ms);
    const char *p[4] = {sc, pause_ms > 0 ? sp : NULL, admin_agents_id_param(req, sa, sizeof sa), who->name};
    PGresult *r = lull_db_exec(ctx->db, s_sql_takeover, 4, p);
    if (!r) {
        admin_util_db_error(ctx, req);
        return;
    }
    const char *old = lull_db_text(r, 0, 1), *j = lull_db_text(r, 0, 2);
    if (lull_db_int(r, 0, 0, NULL) == 0 && !old) admin_util_error(req, 404, "not_found", "no such conversation");
    else if (!j) admin_util_error(req, 409, "closed", "the conversation is closed: nothing to take over");
    else {
        char perr[160];
        cJSON *o = lull_json_parse(j, strlen(j), LULL_JSON_MAX_DEPTH, perr, sizeof perr);
        char *body = NULL;
        if (o) {
            s_add_agent(o, "taken_over_by", who);
            body = lull_json_print(o);
            cJSON_Delete(o);
        }
        LOG_INFO("admin.takeover", "a person took the conversation over: the bot is silent until hand back", "conv",
                 LI(conv), "agent", LS(who->name));
        admin_util_answer(req, 200, body);
    }
    PQclear(r);
}

static const char s_sql_reply[] =
    "WITH c AS (SELECT c.id, c.tenant_id, c.channel, c.business_address, c.external_conversation_id,"
    "  ct.external_id, t.human_pause_ms FROM conversations c JOIN contacts ct ON ct.id = c.contact_id"
    "  JOIN tenants t ON t.id = c.tenant_id WHERE c.id = $1::bigint FOR UPDATE OF c),"
    " m AS (INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, body, agent_id, agent_name)"
    "  SELECT id, tenant_id, channel, 'out', 'human', $2, $4::bigint, $5 FROM c RETURNING id, conversation_id),"
    " a AS (INSERT INTO agent_actions (conversation_id, agent_id, agent_name, action, message_id)"
    "  SELECT conversation_id, $4::bigint, $5, 'reply', id FROM m),"
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
static int s_reply_replayed(admin_ctx_t *ctx, admin_req_t *req, const char *okey, int64_t conv,
                            const char *text)
{
    const char *p[1] = {okey};
    PGresult *r = lull_db_exec(ctx->db,
                               "SELECT o.message_id, o.id, o.payload->>'body', o.conversation_id, c.paused_until,"
                               " o.status FROM outbox o JOIN conversations c ON c.id = o.conversation_id"
                               " WHERE o.idempotency_key = $1", 1, p);
    if (!r) {
        admin_util_db_error(ctx, req);
        return -1;
    }
    if (PQntuples(r) != 1) {
        PQclear(r);
        return 0;
    }
    const char *body = lull_db_text(r, 0, 2);
    if (!body || strcmp(body, text) != 0 || lull_db_int(r, 0, 3, NULL) != conv) {
        PQclear(r);
        admin_util_error(req, 409, "idempotency_conflict",
                                 "this Idempotency-Key was used for another reply (other body or conversation)");
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
    admin_util_answer(req, 200, lull_json_print(o));
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
void admin_convs_reply(admin_ctx_t *ctx, admin_req_t *req)
{
    int64_t conv = req->id;
    cJSON *b = admin_util_body(req);
    if (!b) return;
    const char *text = NULL, *key = NULL;
    char err[160];
    if (lull_json_str(b, "body", true, S_BODY_MAX, &text, err, sizeof err) != 0 || !*text) {
        cJSON_Delete(b);
        {
            admin_util_error(req, 400, "bad_field", text ? "'body' must not be empty" : err);
            return;
        }
    }
    if (lull_json_str(b, "idempotency_key", false, 128, &key, err, sizeof err) != 0) {
        cJSON_Delete(b);
        admin_util_error(req, 400, "bad_field", err);
        return;
    }
    if (key && req->idempotency_key && strcmp(key, req->idempotency_key) != 0) {
        cJSON_Delete(b);
        admin_util_error(req, 400, "bad_field", "'idempotency_key' and the Idempotency-Key header differ");
        return;
    }
    if (!key) key = req->idempotency_key;
    if (key && !s_key_ok(key)) {
        cJSON_Delete(b);
        admin_util_error(req, 400, "bad_field",
                                 "the idempotency key must be 1 to 128 characters of A-Z a-z 0-9 . _ : -");
        return;
    }
    char sc[24], okey[200];
    snprintf(sc, sizeof sc, "%lld", (long long)conv);
    if (key) snprintf(okey, sizeof okey, "human_%lld_%s", (long long)conv, key);
    if (key && s_reply_replayed(ctx, req, okey, conv, text) != 0) {
        cJSON_Delete(b);
        return;
    }
    char sa[24];
    const admin_agent_t *who = admin_req_agent(req);
    const char *p[5] = {sc, text, key ? okey : NULL, admin_agents_id_param(req, sa, sizeof sa), who->name};
    PGresult *r = lull_db_exec(ctx->db, s_sql_reply, 5, p);
    if (!r && key && strcmp(lull_db_sqlstate(ctx->db), "23505") == 0) {  // the same key, concurrently
        if (s_reply_replayed(ctx, req, okey, conv, text) == 0)
            admin_util_error(req, 409, "idempotency_conflict", "retry");
        cJSON_Delete(b);
        return;
    }
    cJSON_Delete(b);
    if (!r) {
        admin_util_db_error(ctx, req);
        return;
    }
    if (PQntuples(r) != 1) {
        PQclear(r);
        {
            admin_util_error(req, 404, "not_found", "no such conversation");
            return;
        }
    }
    int64_t mid = lull_db_int(r, 0, 0, NULL), oid = lull_db_int(r, 0, 1, NULL);
    const char *until = lull_db_text(r, 0, 2);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "message_id", (double)mid);
    cJSON_AddNumberToObject(o, "outbox_id", (double)oid);
    cJSON_AddStringToObject(o, "paused_until", until ? until : "");
    s_add_agent(o, "agent", who);
    PQclear(r);
    if (ctx->senders) {  // a lost wake-up is fine: the sender polls the table
        lull_msg_t w = {.type = LULL_MSG_OUTBOX};
        w.u.outbox.outbox_id = oid;
        if (lull_proto_send(zsock_resolve(ctx->senders), &w, ZMQ_DONTWAIT) != 0)
            LOG_WARN("admin.outbox_wake_dropped", "OUTBOX wake-up not sent (sender busy or absent)", "outbox", LI(oid));
    }
    LOG_INFO("admin.human_reply", "human reply queued", "conv", LI(conv), "msg", LI(mid), "outbox", LI(oid), "agent",
             LS(who->name));
    admin_util_answer(req, 200, lull_json_print(o));
    cJSON_Delete(o);
}

static const char s_sql_escalations[] =
    "SELECT json_build_object('escalations', coalesce(json_agg(r ORDER BY r.id), '[]'::json),"
    " 'next_after', CASE WHEN count(*) = $3::int THEN max(r.id) END)::text FROM ("
    " SELECT e.id, e.conversation_id, e.tenant_id, e.reason, e.source, e.created_at, e.resolved_at, c.status"
    " FROM escalations e JOIN conversations c ON c.id = e.conversation_id"
    " WHERE e.id > $2::bigint AND ($1::bool IS NULL OR (e.resolved_at IS NULL) = $1::bool)"
    " ORDER BY e.id LIMIT $3::int) r";

void admin_convs_escalations(admin_ctx_t *ctx, admin_req_t *req)
{
    char open[8];
    const char *po = NULL;
    if (admin_util_query(req->uri, "open", open, sizeof open)) {
        if (strcmp(open, "true") == 0) po = "true";
        else if (strcmp(open, "false") == 0) po = "false";
        else {
            admin_util_error(req, 400, "bad_parameter", "'open' must be true or false");
            return;
        }
    }
    admin_page_t pg;
    if (!admin_util_page(req, &pg)) return;
    const char *p[3] = {po, pg.after_s, pg.limit_s};
    admin_util_sql_answer(ctx, req, s_sql_escalations, 3, p, NULL);
}
