// Ops HTTP server on libmicrohttpd: /health with named checks and /metrics from a registry.
#include "lull_ops.h"
#include "lull_clock.h"
#include "lull_httpd.h"
#include "lull_log.h"
#include "lull_mask.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char name[32];
    bool ok;
    char detail[160];
} s_check_t;

struct lull_ops {
    struct MHD_Daemon *daemon;
    lull_metrics_t *metrics;
    char proc[32];
    int port;
    int64_t started_ms;
    pthread_mutex_t lock;
    size_t nchecks;
    s_check_t checks[LULL_OPS_MAX_CHECKS];
};

static enum MHD_Result s_reply(struct MHD_Connection *conn, unsigned status, const char *type, char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static char *s_health_json(lull_ops_t *self, bool *ok)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *checks = cJSON_CreateObject();
    *ok = true;
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->nchecks; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddBoolToObject(c, "ok", self->checks[i].ok);
        if (self->checks[i].detail[0]) cJSON_AddStringToObject(c, "detail", self->checks[i].detail);
        cJSON_AddItemToObject(checks, self->checks[i].name, c);
        if (!self->checks[i].ok) *ok = false;
    }
    pthread_mutex_unlock(&self->lock);
    cJSON_AddStringToObject(root, "status", *ok ? "ok" : "degraded");
    cJSON_AddStringToObject(root, "proc", self->proc);
    cJSON_AddNumberToObject(root, "pid", getpid());
    cJSON_AddNumberToObject(root, "uptime_s", (double)(lull_clock_mono_ms() - self->started_ms) / 1000.0);
    cJSON_AddItemToObject(root, "checks", checks);
    char *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return out;
}

static enum MHD_Result s_handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                const char *version, const char *upload_data, size_t *upload_data_size,
                                void **req_cls)
{
    (void)version;
    (void)upload_data;
    lull_ops_t *self = cls;
    if (*req_cls == NULL) {  // first call: headers only
        *req_cls = self;
        return MHD_YES;
    }
    if (*upload_data_size) {  // ignore any body
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return s_reply(conn, 405, "application/json",
                       strdup("{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"use GET\"}}"));
    if (strcmp(url, "/health") == 0) {
        bool ok;
        char *body = s_health_json(self, &ok);
        if (!body) return MHD_NO;
        return s_reply(conn, ok ? 200 : 503, "application/json", body);
    }
    if (strcmp(url, "/metrics") == 0) {
        char *body = self->metrics ? lull_metrics_render(self->metrics) : strdup("");
        if (!body) return MHD_NO;
        return s_reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8", body);
    }
    return s_reply(conn, 404, "application/json",
                   strdup("{\"error\":{\"code\":\"not_found\",\"message\":\"ops server serves /health and "
                          "/metrics\"}}"));
}

lull_ops_t *lull_ops_new(const char *proc, const char *bind, int port, lull_metrics_t *metrics)
{
    lull_ops_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    pthread_mutex_init(&self->lock, NULL);
    snprintf(self->proc, sizeof self->proc, "%s", proc);
    self->metrics = metrics;
    self->started_ms = lull_clock_mono_ms();
    if (port <= 0) return self;

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, bind && *bind ? bind : "127.0.0.1", &addr.sin_addr) != 1) {
        LOG_ERROR("ops.bind_invalid", "LULL_OPS_BIND is not an IPv4 address", "bind", LS(bind));
        lull_ops_destroy(&self);
        return NULL;
    }
    self->daemon = MHD_start_daemon(LULL_HTTPD_POLLING | MHD_USE_ERROR_LOG, (uint16_t)port, NULL,
                                    NULL, s_handle, self, MHD_OPTION_EXTERNAL_LOGGER, lull_mask_mhd_log,
                                    (void *)"ops", MHD_OPTION_SOCK_ADDR, &addr,
                                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_CONNECTION_LIMIT,
                                    (unsigned)64, MHD_OPTION_END);
    if (!self->daemon) {
        LOG_ERROR("ops.listen_failed", "cannot start the ops server (port in use?)", "port", LI(port));
        lull_ops_destroy(&self);
        return NULL;
    }
    self->port = port;
    LOG_INFO("ops.listen", "ops server listening", "bind", LS(bind), "port", LI(port));
    return self;
}

void lull_ops_destroy(lull_ops_t **self_p)
{
    if (!self_p || !*self_p) return;
    lull_ops_t *self = *self_p;
    if (self->daemon) MHD_stop_daemon(self->daemon);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

void lull_ops_set_check(lull_ops_t *self, const char *name, bool ok, const char *detail)
{
    if (!self || !name) return;
    pthread_mutex_lock(&self->lock);
    size_t i = 0;
    while (i < self->nchecks && strcmp(self->checks[i].name, name) != 0) i++;
    if (i < LULL_OPS_MAX_CHECKS) {
        if (i == self->nchecks) {
            self->nchecks++;
            snprintf(self->checks[i].name, sizeof self->checks[i].name, "%s", name);
        }
        self->checks[i].ok = ok;
        snprintf(self->checks[i].detail, sizeof self->checks[i].detail, "%s", detail ? detail : "");
    }
    pthread_mutex_unlock(&self->lock);
}

int lull_ops_port(const lull_ops_t *self) { return self ? self->port : 0; }
