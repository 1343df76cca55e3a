// Admin API of lull-ingress: the bearer-token check on the HTTP thread, the queue, the pool of
// LULL_ADMIN_THREADS admin threads (each owning a database connection, a DEALER socket per scheduler shard and a
// PUSH socket to the senders) and the dispatcher that hands each request to its route module.
#include "ingress_admin.h"
#include "ingress_admin_convs.h"
#include "ingress_admin_crud.h"
#include "ingress_admin_ctl.h"
#include "ingress_admin_dead.h"
#include "ingress_admin_health.h"
#include "ingress_admin_try.h"
#include "ingress_admin_windows.h"
#include "lull_clock.h"
#include "lull_crypto.h"
#include "lull_json.h"
#include "lull_log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_MAX_THREADS 64

// One admin thread: its context (database connection and sockets, which never leave the thread) and start-up.
typedef struct {
    struct ingress_admin *owner;
    pthread_t thread;
    bool started;
    bool init_done;            // the thread created its sockets (init_rc 0) or failed (-1)
    int init_rc;
    ingress_admin_ctx_t ctx;
} s_thread_t;

struct ingress_admin {
    ingress_admin_cfg_t cfg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ingress_admin_req_t *head, *tail;
    int64_t queued;
    bool stopping;
    char *config_json;  // owned copy
    s_thread_t threads[S_MAX_THREADS];
    int nthreads;
};

// ---------------------------------------------------------------------------------------------------------
// Dispatch

static void s_method_not_allowed(ingress_admin_req_t *req)
{
    ingress_admin_util_error(req, 405, "method_not_allowed", "method not allowed on this route");
}

static void s_dispatch(ingress_admin_ctx_t *ctx, ingress_admin_req_t *req)
{
    char path[512];
    size_t pl = strcspn(req->uri, "?#");
    if (pl >= sizeof path) {
        ingress_admin_util_error(req, 404, "not_found", "no such route");
        return;
    }
    memcpy(path, req->uri, pl);
    path[pl] = '\0';
    bool get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
    int64_t id = 0;
    const char *rest = NULL;

    if (strcmp(path, "/timers") == 0 || strcmp(path, "/api/v1/windows") == 0)
        {
            if (get) ingress_admin_windows_list(ctx, req, path[1] == 't');
            else s_method_not_allowed(req);
            return;
        }
    if (strcmp(path, "/process-chat") == 0) {
        if (!post) {
            s_method_not_allowed(req);
            return;
        }
        cJSON *b = ingress_admin_util_body(req);
        if (!b) return;
        char err[160];
        int rc = lull_json_int(b, "conversation_id", true, true, 1, INT64_MAX, &id, err, sizeof err);
        cJSON_Delete(b);
        if (rc != 0) {
            ingress_admin_util_error(req, 400, "bad_field", err);
            return;
        }
        ingress_admin_windows_op(ctx, req, id, LULL_CTL_FLUSH);
        return;
    }
    if (strncmp(path, "/api/v1/windows/", 16) == 0) {
        if (!ingress_admin_util_path_id(path + 16, &id, &rest)) {
            ingress_admin_util_error(req, 400, "bad_id", "the conversation id must be a positive integer");
            return;
        }
        bool cancel = strcmp(rest, "/cancel") == 0, flush = strcmp(rest, "/flush") == 0;
        if (!cancel && !flush) {
            ingress_admin_util_error(req, 404, "not_found", "no such route (cancel or flush)");
            return;
        }
        if (!post) {
            s_method_not_allowed(req);
            return;
        }
        ingress_admin_windows_op(ctx, req, id, cancel ? LULL_CTL_CANCEL : LULL_CTL_FLUSH);
        return;
    }
    if (strcmp(path, "/api/v1/test/reply") == 0 || strcmp(path, "/api/v1/test/analyse") == 0 ||
        strcmp(path, "/api/v1/test/analyze") == 0) {
        if (post) ingress_admin_try_run(ctx, req, path[13] == 'a');
        else s_method_not_allowed(req);
        return;
    }
    if (strcmp(path, "/api/v1/conversations") == 0) {
        if (get) ingress_admin_convs_list(ctx, req);
        else s_method_not_allowed(req);
        return;
    }
    if (strncmp(path, "/api/v1/conversations/", 22) == 0) {
        if (!ingress_admin_util_path_id(path + 22, &id, &rest)) {
            ingress_admin_util_error(req, 400, "bad_id", "the conversation id must be a positive integer");
            return;
        }
        if (!*rest) {
            if (get) ingress_admin_convs_show(ctx, req, id);
            else s_method_not_allowed(req);
            return;
        }
        if (strcmp(rest, "/messages") == 0) {
            if (get) ingress_admin_convs_messages(ctx, req, id);
            else s_method_not_allowed(req);
            return;
        }
        if (strcmp(rest, "/handback") == 0) {
            if (post) ingress_admin_convs_handback(ctx, req, id);
            else s_method_not_allowed(req);
            return;
        }
        if (strcmp(rest, "/reply") == 0) {
            if (post) ingress_admin_convs_reply(ctx, req, id);
            else s_method_not_allowed(req);
            return;
        }
        ingress_admin_util_error(req, 404, "not_found", "no such route");
        return;
    }
    if (strcmp(path, "/api/v1/escalations") == 0) {
        if (get) ingress_admin_convs_escalations(ctx, req);
        else s_method_not_allowed(req);
        return;
    }
    if (strcmp(path, "/api/v1/dead-letters") == 0) {
        if (get) ingress_admin_dead_list(ctx, req);
        else s_method_not_allowed(req);
        return;
    }
    if (strcmp(path, "/api/v1/dead-letters/replay") == 0) {
        if (post) ingress_admin_dead_replay_all(ctx, req);
        else s_method_not_allowed(req);
        return;
    }
    if (strncmp(path, "/api/v1/dead-letters/", 21) == 0) {
        if (!ingress_admin_util_path_id(path + 21, &id, &rest)) {
            ingress_admin_util_error(req, 400, "bad_id", "the dead letter id must be a positive integer");
            return;
        }
        if (strcmp(rest, "/replay") != 0) {
            ingress_admin_util_error(req, 404, "not_found", "no such route (replay)");
            return;
        }
        if (post) ingress_admin_dead_replay(ctx, req, id);
        else s_method_not_allowed(req);
        return;
    }
    bool config = strcmp(path, "/api/v1/config") == 0 || strcmp(path, "/config") == 0;  // "/config": issue #7's name
    if (config || strcmp(path, "/api/v1/health") == 0) {
        if (!get) s_method_not_allowed(req);
        else if (config) ingress_admin_health_config(ctx, req);
        else ingress_admin_health_check(ctx, req);
        return;
    }
    if (ingress_admin_crud_handle(ctx->db, req, path)) return;
    ingress_admin_util_error(req, 404, "not_found", "no such admin route");
}

// ---------------------------------------------------------------------------------------------------------
// Thread and queue

static void *s_thread(void *arg)
{
    s_thread_t *self = arg;
    ingress_admin_t *o = self->owner;
    int rc = ingress_admin_ctl_open(&self->ctx, o->cfg.controls, o->cfg.senders);
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
        if (stop) ingress_admin_util_error(req, 503, "shutting_down", "lull-ingress is shutting down");
        else {
            int64_t t0 = lull_clock_mono_ms();
            LOG_DEBUG("admin.begin", "admin request taken", "method", LS(req->method));
            s_dispatch(&self->ctx, req);
            LOG_INFO("admin.request", "admin request", "method", LS(req->method), "status", LI(req->status), "ms",
                     LI(lull_clock_mono_ms() - t0));
        }
        req->done(req, req->done_arg);
    }
    ingress_admin_ctl_close(&self->ctx);
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
        s_thread_t *c = &self->threads[i];
        c->owner = self;
        c->ctx.ctl_timeout_ms = cfg->ctl_timeout_ms;
        c->ctx.try_timeout_ms = cfg->try_timeout_ms;
        c->ctx.health_targets = cfg->health_targets;
        c->ctx.health_timeout_ms = cfg->health_timeout_ms;
        c->ctx.config_json = self->config_json;
        c->ctx.db = lull_db_new(cfg->database_url);
        if (!c->ctx.db) goto fail;
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
        ingress_admin_util_error(req, 403, "admin_disabled", "the admin API is disabled: LULL_ADMIN_TOKEN is not set");
        return 1;
    }
    const char *a = req->authorization;
    bool ok = a && strncasecmp(a, "Bearer ", 7) == 0 && lull_ct_equal(a + 7, strlen(a + 7), tok, strlen(tok));
    if (!ok) {
        LOG_INFO("admin.unauthorized", "admin request without a valid bearer token", "method", LS(req->method),
                 "token_given", LB(a != NULL));
        ingress_admin_util_error(req, 401, "unauthorized",
                                 a ? "the bearer token is wrong"
                                   : "missing Authorization: Bearer <LULL_ADMIN_TOKEN> header");
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
        ingress_admin_util_error(req, 503, "overloaded", "too many admin requests are waiting; retry later");
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
        if (self->threads[i].started) pthread_join(self->threads[i].thread, NULL);
        self->threads[i].started = false;
    }
}

void ingress_admin_destroy(ingress_admin_t **self_p)
{
    if (!self_p || !*self_p) return;
    ingress_admin_t *self = *self_p;
    ingress_admin_stop(self);
    for (int i = 0; i < self->nthreads; i++) lull_db_destroy(&self->threads[i].ctx.db);
    free(self->config_json);
    pthread_mutex_destroy(&self->mu);
    pthread_cond_destroy(&self->cv);
    free(self);
    *self_p = NULL;
}
