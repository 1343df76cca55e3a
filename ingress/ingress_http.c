// The public HTTP server of lull-ingress on libmicrohttpd: webhooks, the web chat and its page, /health and
// /openapi.json, one row each in ingress_routes.def (dispatch, 404/405, OpenAPI paths). Each request gets a
// context (created by the URI-log callback, so the raw request URI is kept for signatures); bodies are capped;
// a valid message goes to the writer while the connection is suspended, and the writer's done callback
// resumes it.
#include "ingress_http.h"
#include "lull_deadline.h"
#include "ingress_guard.h"
#include "ingress_meta.h"
#include "ingress_page.h"
#include "ingress_parse.h"
#include "ingress_sig.h"
#include "ingress_static.h"
#include "ingress_stream.h"
#include "lull_channel.h"
#include "lull_clock.h"
#include "lull_crypto.h"
#include "lull_json.h"
#include "lull_httpd.h"
#include "lull_log.h"
#include "lull_mask.h"
#include "lull_openapi.h"
#include "lull_route.h"
#include "lull_url.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
#define ROUTE(id, m, p, h, a, op, tag, sum, par, body, resp, name, ch) R_##id,
#include "ingress_routes.def"
#undef ROUTE
    R_NONE,  // no route: 404 or 405
    R_COUNT
} s_route_t;

// The rows of ingress_routes.def, in route order (lull_route_find's index is the route).
static const lull_route_t s_routes[R_NONE] = {
#define ROUTE(id, m, p, h, a, op, tag, sum, par, body, resp, name, ch) [R_##id] = {m, p, a, op, tag, sum, par, body, resp},
#include "ingress_routes.def"
#undef ROUTE
};
static const char *const s_route_names[R_COUNT] = {
#define ROUTE(id, m, p, h, a, op, tag, sum, par, body, resp, name, ch) [R_##id] = name,
#include "ingress_routes.def"
#undef ROUTE
    [R_NONE] = "none",
};
static const char *const s_route_channel[R_COUNT] = {
#define ROUTE(id, m, p, h, a, op, tag, sum, par, body, resp, name, ch) [R_##id] = ch,
#include "ingress_routes.def"
#undef ROUTE
    [R_NONE] = "none",
};

struct ingress_http {
    const ingress_cfg_t *cfg;
    ingress_writer_t *writer;
    ingress_writer_t *readers;  // history reads (never on a writer's connection)
    ingress_guard_t *guard;     // rate limits of the unauthenticated routes
    lull_metrics_t *metrics;
    struct MHD_Daemon *daemon;
    char public_url[512];
    lull_histogram_t *latency[R_COUNT];
    lull_counter_t *accepted[LULL_CH_COUNT], *duplicate[LULL_CH_COUNT];  // by lull_channel_t
    struct MHD_Response *twiml;
    ingress_stream_t *streams;  // web chat SSE
    struct MHD_Response *page;  // GET /chat
    struct MHD_Response *openapi;  // GET /openapi.json
    lull_deadline_t *deadlines;  // head and body deadlines of slow clients
};

typedef enum { ST_READING = 0, ST_WAITING, ST_DONE } s_state_t;

typedef struct {
    ingress_http_t *srv;
    struct MHD_Connection *conn;
    char *uri;                // raw request URI (path + query), owned
    s_route_t route;
    bool routed;              // the first call (headers) happened
    lull_httpd_body_t in;     // the request body
    _Atomic int state;
    int64_t start_us;
    int64_t received_ms;
    ingress_item_t item;
    ingress_row_t row;
    const char *method;       // the request method (libmicrohttpd's, valid for the connection)
    char *session_arg[4];     // session id, tenant, metadata; status callback fields (owned)
    void *stream_ctx;         // R_CHAT_STREAM: ingress_stream_request state
    char path[1024];          // the request path (no query), which args point into
    lull_route_args_t args;   // the route's {name} segments
    uint8_t addr[LULL_RATELIMIT_ADDR_KEY];  // the client address's rate-limit key
    size_t addrlen;
    bool sig_claimed;         // R_GENERIC: carries webhook-signature (limited after the fact unless verified)
    ingress_meta_t meta;      // R_WHATSAPP: the parsed envelope (its items are req->item's subs)
} s_req_t;

// ---------------------------------------------------------------------------------------------------------
// Responses


// Answers an error {"error":{"code","message"}}, counts it and logs one line.
static enum MHD_Result s_error(s_req_t *req, unsigned status, const char *code, const char *message, const char *allow)
{
    const char *channel = req->row.channel[0] ? req->row.channel : s_route_channel[req->route];
    char labels[128];
    snprintf(labels, sizeof labels, "channel=\"%s\",reason=\"%s\"", channel, code);
    lull_counter_add(lull_metrics_counter(req->srv->metrics, "lull_ingress_rejected_total", labels,
                                          "requests rejected, by channel and reason"),
                     1);
    lull_log_at(status >= 500 ? LULL_LOG_WARN : LULL_LOG_INFO, "http.rejected", message, "status", LI(status), "code",
                LS(code), "route", LS(s_route_names[req->route]), (const char *)NULL);
    return lull_httpd_send(req->conn, status, "application/json", lull_json_error_body(code, message), allow);
}

static enum MHD_Result s_json(struct MHD_Connection *conn, unsigned status, cJSON *obj)
{
    char *body = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    return lull_httpd_send(conn, status, "application/json", body, NULL);
}

// ---------------------------------------------------------------------------------------------------------
// Hand-off to the writer

static void s_item_done(ingress_item_t *item, void *arg)
{
    (void)item;
    s_req_t *req = arg;
    atomic_store(&req->state, ST_DONE);
    MHD_resume_connection(req->conn);
}

static enum MHD_Result s_submit(s_req_t *req)
{
    // history reads go to the reader pool, so that a flood of them never delays a commit
    ingress_writer_t *to = req->item.op == INGRESS_OP_HISTORY ? req->srv->readers : req->srv->writer;
    req->item.received_ms = req->received_ms;
    req->item.done = s_item_done;
    req->item.done_arg = req;
    if (!ingress_writer_has_room(to))
        return s_error(req, 503, "overloaded", "too many requests are waiting for the database; retry later", NULL);
    atomic_store(&req->state, ST_WAITING);
    MHD_suspend_connection(req->conn);
    if (ingress_writer_submit(to, &req->item) != 0) {
        // filled up (or stopping) since the check: answered 503 once resumed, never queued while suspended
        req->item.outcome = INGRESS_OUT_UNAVAILABLE;
        s_item_done(&req->item, req);
    }
    return MHD_YES;
}

static enum MHD_Result s_submit_row(s_req_t *req)
{
    if (req->row.ignored) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "status", "ignored");
        return s_json(req->conn, 200, o);
    }
    req->item.op = INGRESS_OP_STORE;
    req->item.row_json = req->row.row_json;
    req->item.channel = req->row.channel;
    req->item.provider_id = req->row.provider_id;
    req->item.wake = req->row.wake;
    req->item.affinity = req->row.affinity;
    return s_submit(req);
}

// POST /webhook/whatsapp once stored: how many messages were new and duplicate, statuses applied, items skipped.
static enum MHD_Result s_whatsapp_answer(s_req_t *req)
{
    size_t fresh = 0, dup = 0;
    cJSON *o = cJSON_CreateObject(), *ids = cJSON_CreateArray();
    for (size_t k = 0; k < req->meta.nrows; k++) {
        bool d = req->meta.items[k].outcome == INGRESS_OUT_DUPLICATE;
        fresh += !d;
        dup += d;
        lull_counter_add(d ? req->srv->duplicate[LULL_CH_WHATSAPP] : req->srv->accepted[LULL_CH_WHATSAPP], 1);
        cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)req->meta.items[k].message_id));
    }
    cJSON_AddStringToObject(o, "status", "success");
    cJSON_AddNumberToObject(o, "messages", (double)fresh);
    cJSON_AddNumberToObject(o, "duplicates", (double)dup);
    cJSON_AddNumberToObject(o, "statuses", (double)req->meta.nstatuses);
    cJSON_AddNumberToObject(o, "skipped", (double)req->meta.skipped);
    cJSON_AddItemToObject(o, "message_ids", ids);
    return s_json(req->conn, 200, o);
}

// The answer once the writer is done with the request.
static enum MHD_Result s_answer(s_req_t *req)
{
    ingress_item_t *it = &req->item;
    if (req->route == R_WHATSAPP && it->outcome == INGRESS_OUT_NEW) return s_whatsapp_answer(req);
    switch (it->outcome) {
    case INGRESS_OUT_NEW:
    case INGRESS_OUT_DUPLICATE: {
        // a POST /webhook that claimed a signature no tenant secret verified is an unsigned one: it counts now
        if (req->route == R_GENERIC && req->sig_claimed && !it->sig_verified)
            ingress_guard_charge(req->srv->guard, INGRESS_LIMIT_UNSIGNED, req->addr, req->addrlen);
        lull_channel_t ci = lull_channel_parse(req->row.channel);
        lull_counter_add(it->outcome == INGRESS_OUT_NEW ? req->srv->accepted[ci] : req->srv->duplicate[ci], 1);
        if (req->route == R_TWILIO) return MHD_queue_response(req->conn, 200, req->srv->twiml);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "status", "success");
        if (req->route == R_GENERIC) {
            cJSON_AddStringToObject(o, "contact_id", req->row.echo ? req->row.echo : "");
            cJSON_AddNumberToObject(o, "message_id", (double)it->message_id);
            cJSON *w = cJSON_AddObjectToObject(o, "window");
            cJSON_AddBoolToObject(w, "active", true);
            // whole seconds rounded up (a live 500 ms window is 1 s, never 0), and the exact milliseconds
            cJSON_AddNumberToObject(w, "seconds", (double)((it->window_ms + 999) / 1000));
            cJSON_AddNumberToObject(w, "ms", (double)it->window_ms);
        } else if (req->route == R_CHAT_MESSAGE) {
            cJSON_AddStringToObject(o, "sessionId", req->row.echo ? req->row.echo : "");
            cJSON_AddNumberToObject(o, "messageId", (double)it->message_id);
        } else {
            cJSON_AddNumberToObject(o, "message_id", (double)it->message_id);
        }
        cJSON_AddBoolToObject(o, "duplicate", it->outcome == INGRESS_OUT_DUPLICATE);
        return s_json(req->conn, 200, o);
    }
    case INGRESS_OUT_OK:
        if (req->route == R_CHAT_HISTORY || req->route == R_TWILIO_STATUS) {
            char *body = it->result_json;
            it->result_json = NULL;
            return lull_httpd_send(req->conn, 200, "application/json", body, NULL);
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "sessionId", req->session_arg[0]);
            return s_json(req->conn, 200, o);
        }
    case INGRESS_OUT_UNKNOWN_TENANT: return s_error(req, 404, "unknown_tenant", "the tenant does not exist", NULL);
    case INGRESS_OUT_SIG_MISSING:
        return s_error(req, 400, "missing_signature",
                       "this tenant requires signed webhooks: webhook-id, webhook-timestamp and webhook-signature", NULL);
    case INGRESS_OUT_SIG_INVALID:
        return s_error(req, 403, "invalid_signature", "the webhook signature is invalid or its timestamp too old", NULL);
    case INGRESS_OUT_SIG_UNAVAILABLE:
        return s_error(req, 503, "signature_unavailable", "the tenant's signing secret is not configured; retry later", NULL);
    case INGRESS_OUT_ORIGIN_REFUSED:
        return s_error(req, 403, "origin_not_allowed",
                       "this page's origin may not use the tenant's web chat (tenants.chat_allowed_origins)", NULL);
    case INGRESS_OUT_UNKNOWN_SESSION:
        return s_error(req, 404, "unknown_session", "the chat session does not exist (or belongs to another user)", NULL);
    case INGRESS_OUT_FAILED:
        LOG_WARN("store.failed", "the database refused the message", "error", LS(it->error));
        return s_error(req, 500, "store_failed", "the message could not be stored", NULL);
    case INGRESS_OUT_UNAVAILABLE:
    default:
        LOG_DEBUG("store.unavailable", it->error);
        return s_error(req, 503, "database_unavailable", "the database is unavailable; nothing was stored, retry later",
                       NULL);
    }
}

// ---------------------------------------------------------------------------------------------------------
// Routes

// The URL the provider called: LULL_PUBLIC_URL (or http://Host) + the raw request URI.
static char *s_public_url(s_req_t *req)
{
    const char *base = req->srv->public_url;
    char host_base[300];
    if (!*base) {
        const char *host = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Host");
        snprintf(host_base, sizeof host_base, "http://%s", host ? host : "localhost");
        base = host_base;
    }
    size_t n = strlen(base) + strlen(req->uri) + 1;
    char *url = malloc(n);
    if (url) snprintf(url, n, "%s%s", base, req->uri);
    return url;
}

static bool s_is_content_type(s_req_t *req, const char *want)
{
    const char *ct = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Content-Type");
    size_t n = strlen(want);
    return ct && strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

// Refuses a channel without a secret unless LULL_DEV_ALLOW_UNSIGNED; true when the request may go on unsigned
// (*refused set when an answer was queued).
static bool s_unsigned_ok(s_req_t *req, const char *secret, const char *setting, enum MHD_Result *ret)
{
    if (secret && *secret) return false;
    if (req->srv->cfg->dev_allow_unsigned) return true;
    char msg[160];
    snprintf(msg, sizeof msg, "this channel is not configured: %s is not set", setting);
    *ret = s_error(req, 403, "channel_not_configured", msg, NULL);
    return false;
}

static enum MHD_Result s_sig_error(s_req_t *req, ingress_sig_result_t r, const char *header)
{
    char msg[160];
    if (r == INGRESS_SIG_MISSING) {
        snprintf(msg, sizeof msg, "missing %s header", header);
        return s_error(req, 400, "missing_signature", msg, NULL);
    }
    snprintf(msg, sizeof msg, "%s is invalid (%s)", header, ingress_sig_result_name(r));
    return s_error(req, 403, "invalid_signature", msg, NULL);
}

// A Twilio request's form, parsed and its X-Twilio-Signature verified: true, or false with the answer queued
// in *ret (the form is then freed).
static bool s_twilio_form(s_req_t *req, ingress_form_t *form, enum MHD_Result *ret)
{
    *ret = MHD_NO;
    size_t hash_len;  // a JSON body is signed by its SHA-256 in the URL (bodySHA256), checked with the signature
    bool json = s_is_content_type(req, "application/json") && lull_url_query_raw(req->uri, "bodySHA256", &hash_len);
    if (!json && !s_is_content_type(req, "application/x-www-form-urlencoded")) {
        *ret = s_error(req, 415, "unsupported_media_type",
                       "Twilio webhooks are application/x-www-form-urlencoded, or application/json with bodySHA256 "
                       "in the URL", NULL);
        return false;
    }
    ingress_err_t err;
    if ((json ? ingress_form_from_json : ingress_form_parse)(req->in.data ? req->in.data : "", req->in.len, form, &err) != 0) {
        *ret = s_error(req, (unsigned)err.status, err.code, err.message, NULL);
        return false;
    }
    const char *token = req->srv->cfg->twilio_auth_token;
    bool unsigned_ok = s_unsigned_ok(req, token, "LULL_TWILIO_AUTH_TOKEN", ret);
    if (!unsigned_ok && !(token && *token)) {  // refused: ret holds the answer
        ingress_form_free(form);
        return false;
    }
    if (!unsigned_ok) {
        char *url = s_public_url(req);
        ingress_sig_result_t r = ingress_sig_twilio(token, url ? url : "", form->p, form->n, req->in.data, req->in.len,
                                                    MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                                                                "X-Twilio-Signature"));
        free(url);
        if (r != INGRESS_SIG_OK) {
            *ret = s_sig_error(req, r, "X-Twilio-Signature");
            ingress_form_free(form);
            return false;
        }
    }
    return true;
}

static enum MHD_Result s_twilio(s_req_t *req)
{
    enum MHD_Result ret;
    ingress_form_t form;
    if (!s_twilio_form(req, &form, &ret)) return ret;
    ingress_err_t err;
    if (ingress_parse_twilio(&form, &req->row, &err) != 0) ret = s_error(req, (unsigned)err.status, err.code, err.message, NULL);
    else ret = s_submit_row(req);
    ingress_form_free(&form);
    return ret;
}

// POST /webhook/twilio/status[?outbox=ID]: Twilio's message status callback (the sender asks for it with
// LULL_TWILIO_STATUS_CALLBACK). Signed like the inbound webhook; the outbox row's delivery status moves forward.
static enum MHD_Result s_twilio_status(s_req_t *req)
{
    enum MHD_Result ret;
    ingress_form_t form;
    if (!s_twilio_form(req, &form, &ret)) return ret;
    ingress_err_t err;
    char outbox[24] = "";
    if (ingress_parse_twilio_status(&form, req->uri, outbox, sizeof outbox, req->session_arg, &err) != 0) {
        ret = s_error(req, (unsigned)err.status, err.code, err.message, NULL);
    } else {
        req->item.op = INGRESS_OP_STATUS;
        req->session_arg[0] = outbox[0] ? strdup(outbox) : NULL;
        for (int i = 0; i < 4; i++) req->item.arg[i] = req->session_arg[i];
        ret = s_submit(req);
    }
    ingress_form_free(&form);
    return ret;
}

static enum MHD_Result s_tiktok(s_req_t *req)
{
    enum MHD_Result ret = MHD_NO;
    const char *secret = req->srv->cfg->tiktok_secret;
    bool unsigned_ok = s_unsigned_ok(req, secret, "LULL_TIKTOK_SECRET", &ret);
    if (!unsigned_ok && !(secret && *secret)) return ret;
    if (!unsigned_ok) {
        ingress_sig_result_t r = ingress_sig_tiktok(
            secret, MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Tiktok-Signature"), req->in.data, req->in.len,
            lull_clock_wall_ms() / 1000, req->srv->cfg->tiktok_tolerance_s);
        if (r != INGRESS_SIG_OK) return s_sig_error(req, r, "Tiktok-Signature");
    }
    ingress_err_t err;
    if (ingress_parse_tiktok(req->in.data, req->in.len, &req->row, &err) != 0)
        return s_error(req, (unsigned)err.status, err.code, err.message, NULL);
    return s_submit_row(req);
}

// GET /webhook/whatsapp: Meta's subscription handshake; the challenge comes back as text/plain.
static enum MHD_Result s_whatsapp_verify(s_req_t *req)
{
    char challenge[INGRESS_META_CHALLENGE_MAX + 1];
    if (!ingress_meta_verify(req->uri, req->srv->cfg->meta_verify_token, challenge, sizeof challenge))
        return s_error(req, 403, "verification_failed",
                       "hub.mode must be subscribe, hub.verify_token must match LULL_META_VERIFY_TOKEN and hub.challenge"
                       " must be 1..128 printable ASCII characters", NULL);
    LOG_INFO("whatsapp.verified", "Meta webhook subscription verified");
    return lull_httpd_send(req->conn, 200, "text/plain", strdup(challenge), NULL);
}

// POST /webhook/whatsapp: X-Hub-Signature-256 over the raw body, then every message and status of the envelope
// in one writer item (one transaction for the messages, in order).
static enum MHD_Result s_whatsapp(s_req_t *req)
{
    enum MHD_Result ret = MHD_NO;
    const char *secret = req->srv->cfg->meta_app_secret;
    bool unsigned_ok = s_unsigned_ok(req, secret, "LULL_META_APP_SECRET", &ret);
    if (!unsigned_ok && !(secret && *secret)) return ret;
    if (!unsigned_ok) {
        ingress_sig_result_t r = ingress_sig_meta(
            secret, MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Hub-Signature-256"), req->in.data,
            req->in.len);
        if (r != INGRESS_SIG_OK) return s_sig_error(req, r, "X-Hub-Signature-256");
    }
    ingress_err_t err;
    if (ingress_meta_parse(req->in.data, req->in.len, (size_t)req->srv->cfg->meta_max_items, &req->meta, &err) != 0)
        return s_error(req, (unsigned)err.status, err.code, err.message, NULL);
    if (ingress_meta_items(&req->meta, req->received_ms) != 0)
        return s_error(req, 503, "out_of_memory", "out of memory", NULL);
    if (req->meta.nrows + req->meta.nstatuses == 0) {
        req->item.outcome = INGRESS_OUT_NEW;
        return s_whatsapp_answer(req);
    }
    snprintf(req->row.channel, sizeof req->row.channel, "%s", lull_channel_name(LULL_CH_WHATSAPP));
    req->item.op = INGRESS_OP_MULTI;
    req->item.subs = req->meta.items;
    req->item.nsubs = req->meta.nrows + req->meta.nstatuses;
    req->item.affinity = req->meta.nrows ? req->meta.items[0].affinity : 0;  // one contact's, usually
    return s_submit(req);
}

static enum MHD_Result s_health(s_req_t *req)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "ok");
    return s_json(req->conn, 200, o);
}

static enum MHD_Result s_generic(s_req_t *req)
{
    ingress_err_t err;
    if (ingress_parse_generic(req->in.data, req->in.len, &req->row, &err) != 0)
        return s_error(req, (unsigned)err.status, err.code, err.message, NULL);
    // the writer checks the signature when the tenant requires one (it knows the tenant)
    req->item.check_sig = true;
    req->item.sig_headers[0] = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "webhook-id");
    req->item.sig_headers[1] = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "webhook-timestamp");
    req->item.sig_headers[2] = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "webhook-signature");
    req->item.body = req->in.data;
    req->item.body_len = req->in.len;
    return s_submit_row(req);
}

static enum MHD_Result s_chat_message(s_req_t *req)
{
    ingress_err_t err;
    if (ingress_parse_chat_message(req->in.data, req->in.len, &req->row, &err) != 0)
        return s_error(req, (unsigned)err.status, err.code, err.message, NULL);
    int64_t wait = ingress_guard_take(req->srv->guard, INGRESS_LIMIT_MESSAGE, req->row.echo, strlen(req->row.echo));
    if (wait > 0) return ingress_guard_refuse(req->srv->guard, req->conn, INGRESS_LIMIT_MESSAGE, "chat_message", wait);
    req->item.arg[0] = req->row.echo;  // the session, for the origin check
    return s_submit_row(req);
}

static enum MHD_Result s_chat_session(s_req_t *req)
{
    ingress_err_t err;
    char id[64];
    if (ingress_parse_chat_session(req->in.data, req->in.len, &req->session_arg[2], &req->session_arg[1], &err) != 0)
        return s_error(req, (unsigned)err.status, err.code, err.message, NULL);
    if (!lull_random_id("ws_", 16, id, sizeof id))
        return s_error(req, 503, "random_unavailable", "no random bytes for a session id; retry later", NULL);
    req->session_arg[0] = strdup(id);
    if (!req->session_arg[0]) return s_error(req, 503, "out_of_memory", "out of memory", NULL);
    req->item.op = INGRESS_OP_SESSION;
    for (int i = 0; i < 3; i++) req->item.arg[i] = req->session_arg[i];
    return s_submit(req);
}

static enum MHD_Result s_chat_history(s_req_t *req)
{
    size_t n = req->args.len[0];  // {sessionId}
    req->session_arg[0] = strndup(req->args.arg[0], n);
    if (!req->session_arg[0]) return s_error(req, 503, "out_of_memory", "out of memory", NULL);
    if (n > 128 || !lull_utf8_valid(req->session_arg[0], n))
        return s_error(req, 404, "unknown_session", "the chat session does not exist", NULL);
    req->item.op = INGRESS_OP_HISTORY;
    req->item.arg[0] = req->session_arg[0];
    return s_submit(req);
}

static enum MHD_Result s_chat_stream(s_req_t *req)
{
    return ingress_stream_request(req->srv->streams, req->conn, req->uri, &req->stream_ctx);
}

static enum MHD_Result s_chat_page(s_req_t *req) { return ingress_page_queue(req->conn, req->srv->page); }

static enum MHD_Result s_openapi(s_req_t *req) { return MHD_queue_response(req->conn, 200, req->srv->openapi); }

// The checks of the unauthenticated routes made on the request head, before any body is read: per-address rate
// limits, and for web chat POSTs a JSON content type (a cross-site form or text/plain POST fails) and the Origin
// (another origin's page must be listed by the tenant: checked by the writer, which knows the tenant).
static enum MHD_Result s_guard(s_req_t *req)
{
    ingress_limit_t limit;
    switch (req->route) {
    case R_CHAT_SESSION: limit = INGRESS_LIMIT_SESSION; break;
    case R_CHAT_MESSAGE: limit = INGRESS_LIMIT_MESSAGE_ADDR; break;
    case R_CHAT_HISTORY:
    case R_CHAT_STREAM: limit = INGRESS_LIMIT_READ; break;
    case R_GENERIC: limit = INGRESS_LIMIT_UNSIGNED; break;
    default: return MHD_YES;  // signed provider webhooks are never limited per address
    }
    // the limit first: a flood of malformed requests is refused cheaply, and logged sampled
    req->addrlen = ingress_guard_addr(req->conn, req->addr);
    int64_t wait;
    if (req->route == R_GENERIC &&
        (req->sig_claimed = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "webhook-signature") != NULL))
        wait = ingress_guard_owed(req->srv->guard, limit, req->addr, req->addrlen);  // charged after, unless verified
    else
        wait = ingress_guard_take(req->srv->guard, limit, req->addr, req->addrlen);
    if (wait > 0) return ingress_guard_refuse(req->srv->guard, req->conn, limit, s_route_names[req->route], wait);
    if (req->route == R_CHAT_SESSION || req->route == R_CHAT_MESSAGE) {
        if (!s_is_content_type(req, "application/json"))
            return s_error(req, 415, "unsupported_media_type", "web chat requests are Content-Type: application/json",
                           NULL);
        if (ingress_guard_origin(req->conn, req->srv->public_url) == INGRESS_ORIGIN_FOREIGN)
            req->item.origin = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Origin");
    }
    return MHD_YES;
}

// The handlers of ingress_routes.def, in route order.
static enum MHD_Result (*const s_handlers[R_NONE])(s_req_t *req) = {
#define ROUTE(id, m, p, h, a, op, tag, sum, par, body, resp, name, ch) [R_##id] = h,
#include "ingress_routes.def"
#undef ROUTE
};

// ---------------------------------------------------------------------------------------------------------
// libmicrohttpd callbacks

static void *s_uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
    s_req_t *req = calloc(1, sizeof *req);
    if (!req) return NULL;
    req->srv = cls;
    req->conn = conn;
    req->uri = strdup(uri ? uri : "/");
    req->start_us = lull_clock_mono_us();
    req->received_ms = lull_clock_wall_ms();
    return req;
}

static enum MHD_Result s_handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                const char *version, const char *upload_data, size_t *upload_data_size,
                                void **req_cls)
{
    (void)cls;
    (void)url;
    s_req_t *req = *req_cls;
    if (!req || !req->uri) return MHD_NO;
    if (!req->routed) {  // headers only
        req->routed = true;
        lull_deadline_head_done(req->srv->deadlines, conn);
        unsigned fstatus;
        const char *fcode, *fwhy;
        if (lull_httpd_framing_refused(conn, version, &fstatus, &fcode, &fwhy))
            return s_error(req, fstatus, fcode, fwhy, NULL);
        snprintf(req->path, sizeof req->path, "%.*s", (int)strcspn(req->uri, "?#"), req->uri);
        char allow[LULL_ROUTE_ALLOW_MAX];
        int r = lull_route_find(s_routes, R_NONE, method, req->path, &req->args, allow, sizeof allow);
        req->route = r >= 0 ? (s_route_t)r : R_NONE;
        req->method = method;
        if (r == -2) return s_error(req, 405, "method_not_allowed", "method not allowed on this route", allow);
        if (r < 0) return s_error(req, 404, "not_found", "no such route", NULL);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoll(cl, NULL, 10) > req->srv->cfg->max_body_bytes)
            return s_error(req, 413, "payload_too_large", "request body is larger than LULL_MAX_BODY_BYTES", NULL);
        return s_guard(req);
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        int rc = lull_httpd_body_add(&req->in, upload_data, n, (size_t)req->srv->cfg->max_body_bytes);
        return rc == 0 ? MHD_YES : MHD_NO;
    }
    int st = atomic_load(&req->state);
    if (st == ST_DONE) return s_answer(req);
    if (st == ST_WAITING) return MHD_YES;  // spurious call while suspended
    lull_deadline_body_done(req->srv->deadlines, conn);  // read whole: answering (or streaming) takes its time
    if (req->in.too_large)
        return s_error(req, 413, "payload_too_large", "request body is larger than LULL_MAX_BODY_BYTES", NULL);
    if (lull_httpd_body_end(&req->in) != 0) return MHD_NO;
    return s_handlers[req->route](req);
}

static void s_completed(void *cls, struct MHD_Connection *conn, void **req_cls, enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    ingress_http_t *self = cls;
    lull_deadline_request_done(self->deadlines, conn);
    s_req_t *req = *req_cls;
    if (!req) return;
    if (req->route != R_CHAT_STREAM)  // a stream lasts as long as the page is open
        lull_histogram_observe(self->latency[req->route], (double)(lull_clock_mono_us() - req->start_us) / 1e6);
    ingress_stream_request_done(self->streams, &req->stream_ctx);
    ingress_row_free(&req->row);
    ingress_meta_free(&req->meta);
    free(req->item.result_json);
    for (int i = 0; i < 4; i++) free(req->session_arg[i]);
    free(req->in.data);
    free(req->uri);
    free(req);
    *req_cls = NULL;
}

char *ingress_http_openapi_json(void)
{
    const lull_openapi_part_t parts[] = {
        {"common/static/openapi_shared.json", common_static_openapi_shared_json, common_static_openapi_shared_json_len},
        {"ingress/static/openapi.json", ingress_static_openapi_json, ingress_static_openapi_json_len},
    };
    return lull_openapi_json(parts, sizeof parts / sizeof parts[0], s_routes, R_NONE, NULL);
}

ingress_http_t *ingress_http_new(const ingress_cfg_t *cfg, ingress_writer_t *writer, ingress_writer_t *readers,
                                 lull_metrics_t *metrics)
{
    ingress_http_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->cfg = cfg;
    self->writer = writer;
    self->readers = readers ? readers : writer;
    self->metrics = metrics;
    snprintf(self->public_url, sizeof self->public_url, "%s", cfg->public_url ? cfg->public_url : "");
    size_t pl = strlen(self->public_url);
    while (pl && self->public_url[pl - 1] == '/') self->public_url[--pl] = '\0';
    for (int r = 0; r < R_COUNT; r++) {
        char labels[64];
        snprintf(labels, sizeof labels, "route=\"%s\"", s_route_names[r]);
        self->latency[r] = lull_metrics_histogram(metrics, "lull_ingress_request_seconds", labels,
                                                  "webhook request latency, arrival to answer", LULL_METRICS_LATENCY_BUCKETS,
                                                  LULL_METRICS_LATENCY_NBUCKETS);
    }
    for (int c = 0; c < LULL_CH_COUNT; c++) {
        char labels[64];
        snprintf(labels, sizeof labels, "channel=\"%s\",outcome=\"accepted\"", lull_channel_name((lull_channel_t)c));
        self->accepted[c] = lull_metrics_counter(metrics, "lull_ingress_inbound_total", labels,
                                                 "messages received, by channel and outcome (accepted = stored)");
        snprintf(labels, sizeof labels, "channel=\"%s\",outcome=\"duplicate\"", lull_channel_name((lull_channel_t)c));
        self->duplicate[c] = lull_metrics_counter(metrics, "lull_ingress_inbound_total", labels,
                                                  "messages received, by channel and outcome (accepted = stored)");
    }
    static const char twiml[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";
    self->twiml = MHD_create_response_from_buffer(strlen(twiml), (void *)twiml, MHD_RESPMEM_PERSISTENT);
    if (!self->twiml) goto fail;
    MHD_add_response_header(self->twiml, "Content-Type", "text/xml");
    self->page = ingress_page_response();
    self->openapi = lull_openapi_response(ingress_http_openapi_json());
    ingress_stream_cfg_t sc = {.database_url = cfg->common.database_url,
                               .max_per_session = cfg->chat_streams_per_session,
                               .max_total = cfg->chat_streams_max,
                               .keepalive_ms = cfg->chat_keepalive_ms,
                               .replay_max = cfg->history_limit,
                               .max_per_addr = cfg->chat_streams_per_addr,
                               .lifetime_ms = cfg->chat_stream_lifetime_ms,
                               .metrics = metrics};
    self->streams = ingress_stream_new(&sc);
    self->deadlines = lull_deadline_new(cfg->http_head_timeout_ms, cfg->http_body_timeout_ms);
    self->guard = ingress_guard_new(cfg, metrics);
    if (!self->page || !self->openapi || !self->streams || !self->deadlines || !self->guard) goto fail;

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)cfg->http_port);
    if (inet_pton(AF_INET, cfg->http_bind, &addr.sin_addr) != 1) {
        LOG_ERROR("http.bind_invalid", "LULL_HTTP_BIND is not an IPv4 address", "bind", LS(cfg->http_bind));
        goto fail;
    }
    unsigned flags = LULL_HTTPD_POLLING | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    self->daemon = MHD_start_daemon(
        // the logger first, so that libmicrohttpd prints nothing of its own before it is set
        flags, (uint16_t)cfg->http_port, NULL, NULL, s_handle, self, MHD_OPTION_EXTERNAL_LOGGER, lull_mask_mhd_log,
        (void *)"http", MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_URI_LOG_CALLBACK, s_uri_log, self, MHD_OPTION_NOTIFY_COMPLETED, s_completed, self,
        MHD_OPTION_NOTIFY_CONNECTION, lull_deadline_notify, self->deadlines,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->http_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg->http_max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->http_per_ip_limit,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
        // last, so that one polling thread (no pool) ends the list here
        cfg->http_threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (unsigned)cfg->http_threads,
        MHD_OPTION_END);
    if (!self->daemon) {
        LOG_ERROR("http.listen_failed", "cannot start the webhook server (port in use?)", "port", LI(cfg->http_port));
        goto fail;
    }
    LOG_INFO("http.listen", "webhook server listening", "bind", LS(cfg->http_bind), "port", LI(cfg->http_port),
             "threads", LI(cfg->http_threads));
    return self;
fail:
    ingress_http_destroy(&self);
    return NULL;
}

void ingress_http_quiesce(ingress_http_t *self)
{
    if (self && self->daemon) (void)MHD_quiesce_daemon(self->daemon);
    if (self) ingress_stream_stop(self->streams);  // every open chat stream ends its response
}

void ingress_http_destroy(ingress_http_t **self_p)
{
    if (!self_p || !*self_p) return;
    ingress_http_t *self = *self_p;
    if (self->daemon) MHD_stop_daemon(self->daemon);
    if (self->twiml) MHD_destroy_response(self->twiml);
    if (self->page) MHD_destroy_response(self->page);
    if (self->openapi) MHD_destroy_response(self->openapi);
    ingress_stream_destroy(&self->streams);
    lull_deadline_destroy(&self->deadlines);  // after the server: no connection is left to notify
    ingress_guard_destroy(&self->guard);
    free(self);
    *self_p = NULL;
}
