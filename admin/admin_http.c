// The HTTP server of lull-admin. The HTTP thread reads the body (capped), finds the row of admin_routes.def
// (404, 405 with Allow), checks the bearer token when the row asks for it (here, once: handlers never do),
// reads the path's id, answers /health and /openapi.json itself and queues everything else to the admin
// threads while the connection is suspended.
#include "admin_http.h"
#include "admin_agents.h"
#include "admin_crud.h"
#include "admin_inbox.h"
#include "admin_pool.h"
#include "admin_routes.h"
#include "lull_clock.h"
#include "lull_crypto.h"
#include "lull_deadline.h"
#include "lull_json.h"
#include "lull_httpd.h"
#include "lull_log.h"
#include "lull_mask.h"
#include "lull_openapi.h"
#include "admin_static.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


#define S_ROUTE_NONE ADMIN_R_COUNT  // no route: 404 or 405

struct admin_http {
    const admin_cfg_t *cfg;
    struct MHD_Daemon *daemon;
    admin_pool_t *pool;
    admin_auth_t *auth;  // lockout of failing addresses, verified agent tokens
    struct MHD_Response *openapi;  // GET /openapi.json
    lull_histogram_t *latency[ADMIN_R_COUNT + 1];  // by route (operationId), the last: no route
    lull_metrics_t *metrics;
    admin_inbox_t *inbox;  // the inbox page and its event streams (borrowed)
    lull_deadline_t *deadlines;    // head and body deadlines of slow clients
};

typedef enum { ST_READING = 0, ST_WAITING, ST_DONE } s_state_t;

typedef struct {
    admin_http_t *srv;
    struct MHD_Connection *conn;
    char *uri;  // raw request URI (path + query), owned
    int route;  // admin_route_t, or S_ROUTE_NONE
    bool routed;
    bool verify_pending;  // an agent token: verified on an admin thread before anything is served
    lull_httpd_body_t in;     // the request body
    _Atomic int state;
    int64_t start_us;
    admin_req_t admin;  // the request the admin threads answer
} s_req_t;

// ---------------------------------------------------------------------------------------------------------
// Answers


static const char *s_route_name(int route) { return route < ADMIN_R_COUNT ? admin_routes[route].op_id : "none"; }

// Answers an error {"error":{"code","message"}}, counts it and logs one line.
static enum MHD_Result s_error(s_req_t *req, unsigned status, const char *code, const char *message, const char *allow)
{
    char labels[128];
    snprintf(labels, sizeof labels, "reason=\"%s\"", code);
    lull_counter_add(lull_metrics_counter(req->srv->metrics, "lull_admin_rejected_total", labels,
                                          "admin requests refused before a handler ran, by reason"),
                     1);
    lull_log_at(status >= 500 ? LULL_LOG_WARN : LULL_LOG_INFO, "http.rejected", message, "status", LI(status), "code",
                LS(code), "route", LS(s_route_name(req->route)), (const char *)NULL);
    return lull_httpd_send(req->conn, status, "application/json", lull_json_error_body(code, message), allow);
}

// ---------------------------------------------------------------------------------------------------------
// Dispatch

static void s_admin_done(admin_req_t *a, void *arg)
{
    (void)a;
    s_req_t *req = arg;
    atomic_store(&req->state, ST_DONE);
    MHD_resume_connection(req->conn);
}

// Queues a 429 with Retry-After (seconds), counted like the other refusals; logged by the caller (sampled).
static enum MHD_Result s_too_many(s_req_t *req, int64_t retry_after_s)
{
    lull_counter_add(lull_metrics_counter(req->srv->metrics, "lull_admin_rejected_total", "reason=\"too_many_failures\"",
                                          "admin requests refused before a handler ran, by reason"),
                     1);
    char *body = lull_json_error_body("too_many_failures",
                                      "too many failed authentications from this address: try again after Retry-After seconds");
    struct MHD_Response *r = body ? MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!r) {
        free(body);
        return MHD_NO;
    }
    char secs[24];
    snprintf(secs, sizeof secs, "%lld", (long long)(retry_after_s > 0 ? retry_after_s : 1));
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Retry-After", secs);
    enum MHD_Result ret = MHD_queue_response(req->conn, 429, r);
    MHD_destroy_response(r);
    return ret;
}

// The credentials check of a row that needs a token (admin_agents_check): true when the request may go on (an
// agent's token is verified on the admin thread), else the answer is queued.
static bool s_authorised(s_req_t *req, enum MHD_Result *ret)
{
    admin_req_t *a = &req->admin;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, a->client, sizeof a->client);
    else if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, a->client, sizeof a->client);
    const char *h = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Authorization");
    switch (admin_agents_check(req->srv->auth, req->srv->cfg->token, h, a)) {
    case ADMIN_AGENTS_OK: return true;
    case ADMIN_AGENTS_VERIFY: req->verify_pending = true; return true;
    case ADMIN_AGENTS_DISABLED:
        *ret = s_error(req, 403, "admin_disabled",
                       "the admin API is disabled: LULL_ADMIN_TOKEN is not set (agent tokens still work)", NULL);
        return false;
    case ADMIN_AGENTS_LOCKED: *ret = s_too_many(req, a->retry_after_s); return false;
    case ADMIN_AGENTS_REFUSED: break;
    }
    LOG_INFO("admin.unauthorized", "admin request without a valid bearer token", "route", LS(s_route_name(req->route)),
             "token_given", LB(h != NULL));
    *ret = s_error(req, 401, "unauthorized",
                   h ? "the bearer token is wrong" : "missing Authorization: Bearer <token> header", NULL);
    return false;
}

// Reads the path's first {…} segment as a positive id into req->admin (none: id 0); false when it is not one.
static bool s_path_id(s_req_t *req, const lull_route_args_t *args)
{
    admin_req_t *a = &req->admin;
    if (args->nargs == 0) return true;
    size_t n = args->len[0];
    const char *rest = NULL;
    if (n >= sizeof a->id_s || !admin_util_path_id(args->arg[0], &a->id, &rest) || rest != args->arg[0] + n)
        return false;
    memcpy(a->id_s, args->arg[0], n);
    a->id_s[n] = '\0';
    return true;
}

static enum MHD_Result s_dispatch(s_req_t *req)
{
    admin_http_t *srv = req->srv;
    if (req->route == ADMIN_R_OPENAPI || req->route == ADMIN_R_OPENAPI_HEAD)
        return MHD_queue_response(req->conn, 200, srv->openapi);
    if (req->route == ADMIN_R_INBOX_PAGE || req->route == ADMIN_R_INBOX_JS || req->route == ADMIN_R_INBOX_CSS)
        return admin_inbox_page(req->conn, req->route == ADMIN_R_INBOX_PAGE ? 0 : req->route == ADMIN_R_INBOX_JS ? 1 : 2);
    // the event stream is served by this thread; an agent's token is verified on an admin thread first (the stream
    // starts when that answers 200: admin_inbox_events_check)
    if (req->route == ADMIN_R_INBOX_EVENTS && !req->verify_pending) return admin_inbox_stream(srv->inbox, req->conn);
    if (!admin_route_handlers[req->route]) {  // /health
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "status", "ok");
        char *body = lull_json_print(o);
        cJSON_Delete(o);
        return lull_httpd_send(req->conn, 200, "application/json", body, NULL);
    }
    admin_req_t *a = &req->admin;
    a->uri = req->uri;
    a->idempotency_key = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Idempotency-Key");
    a->body = req->in.data;
    a->len = req->in.len;
    a->route = req->route;
    a->arg = admin_route_args[req->route];
    a->done = s_admin_done;
    a->done_arg = req;
    atomic_store(&req->state, ST_WAITING);
    MHD_suspend_connection(req->conn);
    if (admin_pool_submit(srv->pool, a) != 0) s_admin_done(a, req);  // answered at once (overloaded, stopping)
    return MHD_YES;
}

// The first call of a request (headers only): its route, the auth and the path's id. MHD_YES to read the body.
static enum MHD_Result s_route(s_req_t *req, const char *method, const char *version)
{
    unsigned fstatus;
    const char *fcode, *fwhy;
    req->admin.method = method;
    if (lull_httpd_framing_refused(req->conn, version, &fstatus, &fcode, &fwhy))
        return s_error(req, fstatus, fcode, fwhy, NULL);
    char path[1024];
    snprintf(path, sizeof path, "%.*s", (int)strcspn(req->uri, "?#"), req->uri);
    char allow[LULL_ROUTE_ALLOW_MAX];
    lull_route_args_t args;
    int r = lull_route_find(admin_routes, ADMIN_R_COUNT, method, path, &args, allow, sizeof allow);
    req->route = r >= 0 ? r : S_ROUTE_NONE;
    req->admin.method = method;
    if (r == -2) return s_error(req, 405, "method_not_allowed", "method not allowed on this route", allow);
    if (r < 0) return s_error(req, 404, "not_found", "no such route", NULL);
    enum MHD_Result ret = MHD_NO;
    if (admin_routes[r].auth != LULL_AUTH_NONE && !s_authorised(req, &ret)) return ret;
    if (!s_path_id(req, &args))
        return s_error(req, 400, "bad_id", "the id in the path must be a positive integer", NULL);
    const char *cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoll(cl, NULL, 10) > req->srv->cfg->max_body_bytes)
        return s_error(req, 413, "payload_too_large", "request body is larger than LULL_MAX_BODY_BYTES", NULL);
    return MHD_YES;
}

// ---------------------------------------------------------------------------------------------------------
// libmicrohttpd callbacks

static void *s_uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
    s_req_t *req = calloc(1, sizeof *req);
    if (!req) return NULL;
    req->srv = cls;
    req->conn = conn;
    req->route = S_ROUTE_NONE;
    req->uri = strdup(uri ? uri : "/");
    req->start_us = lull_clock_mono_us();
    return req;
}

static enum MHD_Result s_handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                const char *version, const char *upload_data, size_t *upload_data_size,
                                void **req_cls)
{
    (void)cls;
    (void)conn;
    (void)url;
    s_req_t *req = *req_cls;
    if (!req || !req->uri) return MHD_NO;
    if (!req->routed) {
        req->routed = true;
        lull_deadline_head_done(req->srv->deadlines, conn);
        return s_route(req, method, version);
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        int rc = lull_httpd_body_add(&req->in, upload_data, n, (size_t)req->srv->cfg->max_body_bytes);
        return rc == 0 ? MHD_YES : MHD_NO;
    }
    int st = atomic_load(&req->state);
    if (st == ST_DONE) {
        char *body = req->admin.answer;
        req->admin.answer = NULL;
        if (req->admin.status == 429) {  // an agent's token failed once too often (admin_agents_authorise)
            free(body);
            return s_too_many(req, req->admin.retry_after_s);
        }
        if (req->route == ADMIN_R_INBOX_EVENTS && req->admin.status == 200) {  // the agent's token verified
            free(body);
            return admin_inbox_stream(req->srv->inbox, req->conn);
        }
        return lull_httpd_send(req->conn, (unsigned)req->admin.status, "application/json", body, NULL);
    }
    if (st == ST_WAITING) return MHD_YES;  // spurious call while suspended
    lull_deadline_body_done(req->srv->deadlines, conn);  // read whole: an admin thread's answer takes its time
    if (req->in.too_large)
        return s_error(req, 413, "payload_too_large", "request body is larger than LULL_MAX_BODY_BYTES", NULL);
    if (lull_httpd_body_end(&req->in) != 0) return MHD_NO;
    return s_dispatch(req);
}

static void s_completed(void *cls, struct MHD_Connection *conn, void **req_cls, enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    admin_http_t *self = cls;
    lull_deadline_request_done(self->deadlines, conn);
    s_req_t *req = *req_cls;
    if (!req) return;
    lull_histogram_observe(self->latency[req->route], (double)(lull_clock_mono_us() - req->start_us) / 1e6);
    free(req->admin.answer);
    free(req->in.data);
    free(req->uri);
    free(req);
    *req_cls = NULL;
}

// ---------------------------------------------------------------------------------------------------------
// Life

char *admin_http_openapi_json(void)
{
    const lull_openapi_part_t parts[] = {
        {"common/static/openapi_shared.json", common_static_openapi_shared_json, common_static_openapi_shared_json_len},
        {"admin/static/openapi_admin.json", admin_static_openapi_admin_json, admin_static_openapi_admin_json_len},
    };
    return lull_openapi_json(parts, sizeof parts / sizeof parts[0], admin_routes, ADMIN_R_COUNT, admin_crud_schemas);
}

admin_http_t *admin_http_new(const admin_cfg_t *cfg, lull_metrics_t *metrics, admin_inbox_t *inbox)
{
    admin_http_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->cfg = cfg;
    self->inbox = inbox;
    self->metrics = metrics;
    for (int r = 0; r <= ADMIN_R_COUNT; r++) {
        char labels[96];
        snprintf(labels, sizeof labels, "route=\"%s\"", s_route_name(r));
        self->latency[r] = lull_metrics_histogram(metrics, "lull_admin_request_seconds", labels,
                                                  "admin request latency, arrival to answer", LULL_METRICS_LATENCY_BUCKETS,
                                                  LULL_METRICS_LATENCY_NBUCKETS);
    }
    if (!cfg->token || !*cfg->token) LOG_INFO("admin.disabled", "LULL_ADMIN_TOKEN is not set: admin routes answer 403");
    char *config_json = lull_config_to_json(ADMIN_PROC.settings, ADMIN_PROC.nsettings, cfg);
    admin_pool_cfg_t pc = {.database_url = cfg->common.database_url,
                           .controls = &cfg->scheduler_controls,
                           .sched_map_refresh_ms = cfg->sched_map_refresh_ms,
                           .metrics = metrics,
                           .senders = &cfg->senders,
                           .ctl_timeout_ms = cfg->ctl_timeout_ms,
                           .try_timeout_ms = cfg->try_timeout_ms,
                           .threads = cfg->threads,
                           .queue_max = cfg->queue_max,
                           .config_json = config_json,
                           .health_targets = &cfg->health_targets,
                           .health_timeout_ms = cfg->ctl_timeout_ms};
    admin_auth_cfg_t ac = {.fail_max = cfg->auth_fail_max,
                           .window_ms = cfg->auth_window_ms,
                           .lock_ms = cfg->auth_lock_ms,
                           .addresses = cfg->auth_addresses,
                           .cache_ms = cfg->agent_cache_ms,
                           .cache_max = 256};
    self->auth = admin_auth_new(&ac);
    self->pool = config_json && self->auth ? admin_pool_new(&pc) : NULL;
    free(config_json);
    self->openapi = lull_openapi_response(admin_http_openapi_json());
    self->deadlines = lull_deadline_new(cfg->head_timeout_ms, cfg->body_timeout_ms);
    if (!self->pool || !self->openapi || !self->deadlines) goto fail;

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)cfg->port);
    if (inet_pton(AF_INET, cfg->bind, &addr.sin_addr) != 1) {
        LOG_ERROR("http.bind_invalid", "LULL_ADMIN_BIND is not an IPv4 address", "bind", LS(cfg->bind));
        goto fail;
    }
    unsigned flags = LULL_HTTPD_POLLING | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    // the logger first, so that libmicrohttpd prints nothing of its own before it is set
    self->daemon = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, s_handle, self, MHD_OPTION_EXTERNAL_LOGGER,
                                    lull_mask_mhd_log, (void *)"http", MHD_OPTION_SOCK_ADDR, &addr,
                                    MHD_OPTION_URI_LOG_CALLBACK, s_uri_log, self, MHD_OPTION_NOTIFY_COMPLETED,
                                    s_completed, self, MHD_OPTION_NOTIFY_CONNECTION, lull_deadline_notify,
                                    self->deadlines, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->http_timeout_s,
                                    MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
                                    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->per_ip_limit, MHD_OPTION_END);
    if (!self->daemon) {
        LOG_ERROR("http.listen_failed", "cannot start the admin server (port in use?)", "port", LI(cfg->port));
        goto fail;
    }
    LOG_INFO("http.listen", "admin server listening", "bind", LS(cfg->bind), "port", LI(cfg->port), "threads",
             LI(cfg->threads));
    return self;
fail:
    admin_http_destroy(&self);
    return NULL;
}

void admin_http_destroy(admin_http_t **self_p)
{
    if (!self_p || !*self_p) return;
    admin_http_t *self = *self_p;
    if (self->daemon) (void)MHD_quiesce_daemon(self->daemon);  // no new connections
    admin_pool_stop(self->pool);  // answers what it holds (resumes those connections); later ones get 503
    admin_inbox_stop(self->inbox);  // ends the event streams (resumes those connections)
    if (self->daemon) MHD_stop_daemon(self->daemon);
    admin_pool_destroy(&self->pool);
    admin_auth_destroy(&self->auth);
    if (self->openapi) MHD_destroy_response(self->openapi);
    lull_deadline_destroy(&self->deadlines);  // after the server: no connection is left to notify
    free(self);
    *self_p = NULL;
}
