// The pool of LULL_ADMIN_THREADS admin threads of lull-admin (each owning a database connection, a DEALER
// socket per scheduler shard and a PUSH socket to the senders) and their queue: each request, routed and
// authorised by the HTTP thread, runs its route's handler (admin_routes.def) on one of them.
#include "admin_pool.h"
#include "admin_ctl.h"
#include "admin_agents.h"
#include "admin_routes.h"
#include "lull_clock.h"
#include "lull_log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_THREADS 64

// One admin thread: its context (database connection and sockets, which never leave the thread) and start-up.
typedef struct {
    struct admin_pool *owner;
    pthread_t thread;
    bool started;
    bool init_done;            // the thread created its sockets (init_rc 0) or failed (-1)
    int init_rc;
    admin_ctx_t ctx;
} s_thread_t;

struct admin_pool {
    admin_pool_cfg_t cfg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    admin_req_t *head, *tail;
    int64_t queued;
    bool stopping;
    char *config_json;  // owned copy
    s_thread_t threads[S_MAX_THREADS];
    int nthreads;
    lull_schedmap_t *map;  // the scheduler map when LULL_SCHEDULER_CONTROLS is empty, else NULL
};

// ---------------------------------------------------------------------------------------------------------
// Thread and queue

static void *s_thread(void *arg)
{
    s_thread_t *self = arg;
    admin_pool_t *o = self->owner;
    int rc = admin_ctl_open(&self->ctx, o->cfg.controls, o->cfg.senders);
    pthread_mutex_lock(&o->mu);
    self->init_rc = rc;
    self->init_done = true;
    pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->mu);
    for (;;) {
        pthread_mutex_lock(&o->mu);
        while (!o->head && !o->stopping) pthread_cond_wait(&o->cv, &o->mu);
        admin_req_t *req = o->head;
        if (req) {
            o->head = req->next;
            if (!o->head) o->tail = NULL;
            o->queued--;
        }
        bool stop = o->stopping;
        pthread_mutex_unlock(&o->mu);
        if (!req) break;
        req->next = NULL;
        if (stop) admin_util_error(req, 503, "shutting_down", "lull-admin is shutting down");
        else {
            int64_t t0 = lull_clock_mono_ms();
            LOG_DEBUG("admin.begin", "admin request taken", "method", LS(req->method));
            if (admin_agents_authorise(&self->ctx, req)) admin_route_handlers[req->route](&self->ctx, req);
            LOG_INFO("admin.request", "admin request", "method", LS(req->method), "status", LI(req->status), "ms",
                     LI(lull_clock_mono_ms() - t0));
        }
        req->done(req, req->done_arg);
    }
    admin_ctl_close(&self->ctx);
    return NULL;
}

admin_pool_t *admin_pool_new(const admin_pool_cfg_t *cfg)
{
    admin_pool_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->cfg = *cfg;
    pthread_mutex_init(&self->mu, NULL);
    pthread_cond_init(&self->cv, NULL);
    self->config_json = strdup(cfg->config_json ? cfg->config_json : "{}");
    if (!self->config_json) goto fail;
    if (!cfg->controls || cfg->controls->n == 0) {  // discover: window operations go to the partition's owner
        self->map = lull_schedmap_new(cfg->database_url, cfg->sched_map_refresh_ms, cfg->metrics);
        if (!self->map) goto fail;
    }
    int n = cfg->threads < 1 ? 1 : cfg->threads > S_MAX_THREADS ? S_MAX_THREADS : (int)cfg->threads;
    for (int i = 0; i < n; i++) {
        s_thread_t *c = &self->threads[i];
        c->owner = self;
        c->ctx.map = self->map;
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
    return self;
fail:
    admin_pool_destroy(&self);
    return NULL;
}

int admin_pool_submit(admin_pool_t *self, admin_req_t *req)
{
    req->next = NULL;
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
        admin_util_error(req, 503, "overloaded", "too many admin requests are waiting; retry later");
        return 1;
    }
    return 0;
}

void admin_pool_stop(admin_pool_t *self)
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

void admin_pool_destroy(admin_pool_t **self_p)
{
    if (!self_p || !*self_p) return;
    admin_pool_t *self = *self_p;
    admin_pool_stop(self);
    for (int i = 0; i < self->nthreads; i++) lull_db_destroy(&self->threads[i].ctx.db);
    free(self->config_json);
    lull_schedmap_destroy(&self->map);  // after the threads, which held its snapshots
    pthread_mutex_destroy(&self->mu);
    pthread_cond_destroy(&self->cv);
    free(self);
    *self_p = NULL;
}
