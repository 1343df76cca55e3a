// The scheduler's workers: their credit and heartbeats, the jobs they hold, DONE, and dispatch by credit.
#include "sched_workers.h"
#include "sched_convs.h"
#include "lull_clock.h"
#include "lull_log.h"
#include "lull_retry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CREDIT 100000     // sanity bound on one worker's credit
#define MAX_HINT_MS 3600000   // a worker's retry-after / back-pressure hint is honoured up to one hour
#define DISPATCH_BATCH 64     // due conversations checked against the database in one query
#define DB_RETRY_MS 200       // pause before dispatching again after a database error

typedef struct {
    sched_worker_id_t ident;
    char name[LULL_PROTO_MAX_NAME + 1];
    int32_t credit;          // jobs this worker can take now
    int32_t jobs;            // jobs it holds from us
    int64_t last_recv_ms;    // monotonic
    int64_t last_send_ms;    // monotonic
    int64_t backoff_until;   // wall clock ms: no new jobs before (provider back-pressure)
} s_worker_t;

typedef struct {
    uint64_t job_id;
    int64_t conv;
    int64_t tenant;
    int64_t upto;
    int32_t attempt;
    int32_t worker;          // index into workers
} s_job_t;

struct sched_workers {
    const sched_cfg_t *cfg;
    lull_proc_t *proc;
    sched_windows_t *win;
    zsock_t *router;
    s_worker_t *workers;
    int nworkers;
    int rr_worker;
    s_job_t *jobs;
    size_t njobs, cap_jobs;
    uint64_t next_job_id;
    int64_t db_retry_at;     // monotonic ms: dispatch paused until then after a database error
    sched_workers_relay_fn *relay;
    void *relay_arg;
    sched_workers_owns_fn *owns;  // lease mode: may this conversation be dispatched (NULL: always)
    void *owns_arg;
    lull_counter_t *c_not_owned;
    lull_counter_t *c_dispatched, *c_redispatched, *c_skipped, *c_deferred, *c_lost, *c_bad;
    lull_counter_t *c_done[LULL_OUTCOME_MAX + 1];
};

// ---- the worker table

static s_worker_t *s_worker_find(sched_workers_t *self, const uint8_t *id, size_t len)
{
    for (int i = 0; i < self->nworkers; i++)
        if (self->workers[i].ident.len == len && memcmp(self->workers[i].ident.id, id, len) == 0)
            return &self->workers[i];
    return NULL;
}

// Sends msg to worker w on the ROUTER; 0/-1 (the peer is gone: EHOSTUNREACH with ROUTER_MANDATORY).
static int s_send_worker(sched_workers_t *self, s_worker_t *w, const lull_msg_t *msg)
{
    int rc = -1;
    zframe_t *f = NULL;
    zmsg_t *z = lull_proto_encode(msg);
    if (!z || zmsg_pushmem(z, w->ident.id, w->ident.len) != 0) goto cleanup;
    void *raw = zsock_resolve(self->router);
    size_t n = zmsg_size(z);
    for (size_t i = 0; i < n; i++) {
        f = zmsg_pop(z);
        int more = i + 1 < n ? ZMQ_SNDMORE : 0;
        if (zmq_send(raw, zframe_data(f), zframe_size(f), more | ZMQ_DONTWAIT) < 0) goto cleanup;
        zframe_destroy(&f);
    }
    rc = 0;
    w->last_send_ms = lull_clock_mono_ms();
cleanup:
    zframe_destroy(&f);
    zmsg_destroy(&z);
    return rc;
}

static void s_job_remove_at(sched_workers_t *self, size_t i)
{
    self->jobs[i] = self->jobs[--self->njobs];
}

static s_job_t *s_job_add(sched_workers_t *self)
{
    if (self->njobs == self->cap_jobs) {
        size_t cap = self->cap_jobs ? self->cap_jobs * 2 : 64;
        s_job_t *p = realloc(self->jobs, cap * sizeof *p);
        if (!p) return NULL;
        self->jobs = p;
        self->cap_jobs = cap;
    }
    return &self->jobs[self->njobs++];
}

// A worker is gone (silent or unreachable): its jobs are dispatched again with attempt + 1.
static void s_worker_lost(sched_workers_t *self, int idx, const char *why)
{
    s_worker_t *w = &self->workers[idx];
    int lost = 0;
    for (size_t i = 0; i < self->njobs;) {
        s_job_t *j = &self->jobs[i];
        if (j->worker != idx) {
            i++;
            continue;
        }
        if (sched_windows_job_lost(self->win, j->conv, j->attempt) == 0) {
            lull_counter_add(self->c_redispatched, 1);
            LOG_INFO("job.lost", "job of a lost worker goes back to the ready queue", "conv", LI(j->conv), "job",
                     LI((int64_t)j->job_id), "attempt", LI(j->attempt + 1));
        }
        lost++;
        s_job_remove_at(self, i);
    }
    LOG_WARN("worker.lost", why, "worker", LS(w->name), "jobs", LI(lost));
    if (self->relay) self->relay(self->relay_arg, &w->ident, w->name, NULL);
    lull_counter_add(self->c_lost, 1);
    int last = self->nworkers - 1;
    if (idx != last) {
        self->workers[idx] = self->workers[last];
        for (size_t i = 0; i < self->njobs; i++)
            if (self->jobs[i].worker == last) self->jobs[i].worker = idx;
    }
    self->nworkers--;
    if (self->rr_worker >= self->nworkers) self->rr_worker = 0;
}

// Next worker with credit and no back-pressure, round-robin; -1 when none.
static int s_pick_worker(sched_workers_t *self, int64_t wall)
{
    for (int k = 0; k < self->nworkers; k++) {
        int i = (self->rr_worker + k) % self->nworkers;
        s_worker_t *w = &self->workers[i];
        if (w->credit > 0 && w->backoff_until <= wall) {
            self->rr_worker = (i + 1) % self->nworkers;
            return i;
        }
    }
    return -1;
}

// ---- dispatch

// Sends one checked conversation to worker wi. 0, -1 when the worker is unreachable (the caller drops it).
static int s_send_job(sched_workers_t *self, int wi, const sched_convs_due_t *d, int64_t epoch)
{
    s_job_t *job = s_job_add(self);
    if (!job) {
        (void)sched_windows_requeue(self->win, d->info.conversation_id);
        self->db_retry_at = lull_clock_mono_ms() + DB_RETRY_MS;  // pause dispatch, as after a database error
        LOG_ERROR("dispatch.oom", "cannot record a job");
        return 0;
    }
    // upto is the database's last_inbound_id: exactly what the worker's compare-and-swap checks
    *job = (s_job_t){.job_id = self->next_job_id++, .conv = d->info.conversation_id, .tenant = d->info.tenant_id,
                     .upto = d->upto, .attempt = d->info.attempt, .worker = wi};
    s_worker_t *w = &self->workers[wi];
    lull_msg_t m = {.type = LULL_MSG_JOB};
    m.u.job.job_id = job->job_id;
    m.u.job.conversation_id = job->conv;
    m.u.job.tenant_id = job->tenant;
    m.u.job.expected_upto = d->expected;
    m.u.job.upto = d->upto;
    m.u.job.attempt = job->attempt;
    // A burst open for its whole max wait is answered even if the contact writes on during the LLM call;
    // otherwise such a contact would only ever be answered when they pause.
    bool max_wait = lull_clock_mono_ms() >= d->info.cap_ms;
    m.u.job.flags = max_wait ? LULL_JOB_MAX_WAIT : 0;
    if (s_send_worker(self, w, &m) != 0) {
        self->njobs--;
        return -1;
    }
    (void)sched_windows_start_job(self->win, job->conv, job->upto);
    w->credit--;
    w->jobs++;
    lull_counter_add(self->c_dispatched, 1);
    LOG_INFO("dispatch", "job sent", "conv", LI(job->conv), "job", LI((int64_t)job->job_id), "worker", LS(w->name),
             "attempt", LI(job->attempt), "expected_upto", LI(d->expected), "upto", LI(d->upto), "max_wait",
             LB(max_wait), "epoch", LI(epoch));
    return 0;
}

// Free credit of the workers that may take a job now.
static int64_t s_usable_credit(const sched_workers_t *self, int64_t wall)
{
    int64_t credit = 0;
    for (int i = 0; i < self->nworkers; i++)
        if (self->workers[i].backoff_until <= wall) credit += self->workers[i].credit;
    return credit;
}

// Acts on one checked conversation: drops it (nothing to answer), defers it (paused) or sends it to a worker.
static void s_dispatch_one(sched_workers_t *self, sched_convs_due_t *d, int64_t wall)
{
    int64_t conv = d->info.conversation_id;
    if (d->check == SCHED_CONVS_GONE) {
        (void)sched_windows_drop(self->win, conv);
        lull_counter_add(self->c_skipped, 1);
        LOG_DEBUG("dispatch.skip", "nothing to answer (answered, cancelled, escalated or closed)", "conv", LI(conv));
        return;
    }
    if (d->check == SCHED_CONVS_DEFER) {
        (void)sched_windows_defer(self->win, conv, lull_clock_mono_ms() + d->defer_ms);
        lull_counter_add(self->c_deferred, 1);
        LOG_INFO("dispatch.paused", "conversation paused; window deferred", "conv", LI(conv), "ms", LI(d->defer_ms));
        return;
    }
    int64_t epoch = 0;
    if (self->owns && !self->owns(self->owns_arg, conv, &epoch)) {
        // the partition went (handed over, lost) while the batch was checked: its new owner answers it
        (void)sched_windows_drop(self->win, conv);
        lull_counter_add(self->c_not_owned, 1);
        LOG_INFO("dispatch.not_owned", "partition not owned: window dropped", "conv", LI(conv));
        return;
    }
    int wi = lull_clock_mono_ms() < self->db_retry_at ? -1 : s_pick_worker(self, wall);
    while (wi >= 0 && s_send_job(self, wi, d, epoch) != 0) {
        s_worker_lost(self, wi, "worker unreachable");
        wi = s_pick_worker(self, wall);
    }
    if (wi < 0) (void)sched_windows_requeue(self->win, conv);  // credit vanished with a lost worker
}

void sched_workers_dispatch(sched_workers_t *self)
{
    int64_t now = lull_clock_mono_ms();
    if (now < self->db_retry_at) return;
    int64_t wall = lull_clock_wall_ms();
    sched_convs_due_t due[DISPATCH_BATCH];
    for (;;) {
        if (lull_clock_mono_ms() < self->db_retry_at) return;
        int64_t credit = s_usable_credit(self, wall);
        int n = 0;
        while (n < DISPATCH_BATCH && n < credit && sched_windows_pop_ready(self->win, &due[n].info)) {
            int64_t conv = due[n].info.conversation_id;
            if (self->owns && !self->owns(self->owns_arg, conv, NULL)) {
                (void)sched_windows_drop(self->win, conv);  // never dispatch a partition not owned
                lull_counter_add(self->c_not_owned, 1);
                LOG_INFO("dispatch.not_owned", "partition not owned: window dropped", "conv", LI(conv));
                continue;
            }
            n++;
        }
        if (n == 0) return;
        if (sched_convs_check(self->proc->db, due, n) != 0) {
            for (int i = n - 1; i >= 0; i--) (void)sched_windows_requeue(self->win, due[i].info.conversation_id);
            self->db_retry_at = now + DB_RETRY_MS;
            LOG_WARN("dispatch.db_error", "cannot read the conversations; dispatch paused", "error",
                     LS(lull_db_error(self->proc->db)));
            return;
        }
        for (int i = 0; i < n; i++) s_dispatch_one(self, &due[i], wall);
    }
}

int64_t sched_workers_wait_ms(const sched_workers_t *self)
{
    int64_t now = lull_clock_mono_ms(), wall = lull_clock_wall_ms(), soon = -1;
    if (self->db_retry_at > now) soon = self->db_retry_at - now;
    for (int i = 0; i < self->nworkers; i++) {
        const s_worker_t *w = &self->workers[i];
        if (w->credit > 0 && w->backoff_until > wall) {
            int64_t d = w->backoff_until - wall;
            if (soon < 0 || d < soon) soon = d;
        }
    }
    return soon;
}

// ---- messages from workers

// A permanent failure: the burst up to the job's upto gets no answer (else the sweep would find it again).
static void s_give_up(sched_workers_t *self, const s_job_t *job)
{
    if (sched_convs_record_cancel(self->proc->db, job->conv, job->upto) == 0)
        LOG_WARN("job.given_up", "permanent failure: the burst gets no reply", "conv", LI(job->conv), "job",
                 LI((int64_t)job->job_id), "upto", LI(job->upto));
}

static void s_done(sched_workers_t *self, s_worker_t *from, const lull_msg_t *m)
{
    int64_t wall = lull_clock_wall_ms();
    if (m->u.done.backoff_until_ms > wall) {
        int64_t until = m->u.done.backoff_until_ms;
        from->backoff_until = until - wall > MAX_HINT_MS ? wall + MAX_HINT_MS : until;
        LOG_INFO("worker.backoff", "worker reports provider back-pressure", "worker", LS(from->name), "ms",
                 LI(m->u.done.backoff_until_ms - wall));
    }
    size_t i = 0;
    while (i < self->njobs && self->jobs[i].job_id != m->u.done.job_id) i++;
    if (i == self->njobs) {
        // a job from before a restart of this scheduler: the worker's READY did not count the slot it held
        // as free, so that slot is credit again now
        if (from->credit < MAX_CREDIT) from->credit++;
        LOG_INFO("done.unknown", "DONE for an unknown job ignored", "job", LI((int64_t)m->u.done.job_id), "conv",
                 LI(m->u.done.conversation_id), "outcome", LS(lull_outcome_name(m->u.done.outcome)), "worker",
                 LS(from->name), "credit", LI(from->credit));
        return;
    }
    s_job_t job = self->jobs[i];
    s_job_remove_at(self, i);
    s_worker_t *w = &self->workers[job.worker];
    w->credit++;
    if (w->jobs > 0) w->jobs--;
    lull_outcome_t oc = m->u.done.outcome;
    if (oc >= 1 && oc <= LULL_OUTCOME_MAX) lull_counter_add(self->c_done[oc], 1);
    int64_t delay = -1;
    if (oc == LULL_OUTCOME_FAILED_RETRYABLE) {
        delay = m->u.done.retry_after_ms > 0
                    ? (m->u.done.retry_after_ms < MAX_HINT_MS ? m->u.done.retry_after_ms : MAX_HINT_MS)
                    : lull_retry_delay_ms(job.attempt - 1, self->cfg->retry_base_ms, self->cfg->retry_max_ms, -1);
        lull_counter_add(self->c_redispatched, 1);
    }
    if (oc == LULL_OUTCOME_FAILED_PERMANENT) s_give_up(self, &job);
    int r = sched_windows_job_done(self->win, job.conv, delay, job.attempt);
    LOG_INFO("done", m->u.done.detail[0] ? m->u.done.detail : "job finished", "conv", LI(job.conv), "job",
             LI((int64_t)job.job_id), "worker", LS(w->name), "outcome", LS(lull_outcome_name(oc)), "attempt",
             LI(job.attempt), "retry_ms", LI(delay), "next_window", LB(r == 0));
}

// READY: registers a worker (up to LULL_SCHED_MAX_WORKERS) or resets its credit. The worker, NULL when none.
static s_worker_t *s_ready(sched_workers_t *self, s_worker_t *w, zframe_t *id, const lull_msg_t *m)
{
    if (!w && self->nworkers < self->cfg->max_workers) {
        w = &self->workers[self->nworkers++];
        memset(w, 0, sizeof *w);
        memcpy(w->ident.id, zframe_data(id), zframe_size(id));
        w->ident.len = zframe_size(id);
        w->last_send_ms = lull_clock_mono_ms();
        LOG_INFO("worker.ready", "worker joined", "worker", LS(m->u.ready.name), "credit", LI(m->u.ready.credit));
    }
    if (w) {
        snprintf(w->name, sizeof w->name, "%s", m->u.ready.name);
        w->credit = m->u.ready.credit < MAX_CREDIT ? m->u.ready.credit : MAX_CREDIT;
    } else {
        LOG_WARN("worker.too_many", "READY ignored: LULL_SCHED_MAX_WORKERS reached");
    }
    return w;
}

void sched_workers_handle(sched_workers_t *self, zmsg_t *z)
{
    zframe_t *id = zmsg_pop(z);
    lull_msg_t m;
    char err[160] = "";
    if (!id || zframe_size(id) == 0 || zframe_size(id) > SCHED_MAX_IDENTITY) {
        lull_counter_add(self->c_bad, 1);
        goto cleanup;
    }
    if (lull_proto_decode(z, &m, err, sizeof err) != 0) {
        lull_counter_add(self->c_bad, 1);
        LOG_WARN("worker.bad_message", err);
        goto cleanup;
    }
    s_worker_t *w = s_worker_find(self, zframe_data(id), zframe_size(id));
    if (m.type == LULL_MSG_READY) {
        w = s_ready(self, w, id, &m);
    } else if (!w) {
        LOG_DEBUG("worker.unknown", "message from an unknown worker ignored (it will send READY)", "type",
                  LS(lull_msg_type_name(m.type)));
    } else if (m.type == LULL_MSG_DONE) {
        s_done(self, w, &m);
    } else if (m.type == LULL_MSG_CTL_REP) {
        if (self->relay) self->relay(self->relay_arg, &w->ident, w->name, &m);
    } else if (m.type != LULL_MSG_HEARTBEAT) {
        LOG_WARN("worker.bad_message", "unexpected message type", "type", LS(lull_msg_type_name(m.type)));
    }
    if (w) w->last_recv_ms = lull_clock_mono_ms();
    lull_msg_clear(&m);
cleanup:
    zframe_destroy(&id);
}

void sched_workers_heartbeat(sched_workers_t *self)
{
    int64_t now = lull_clock_mono_ms();
    int64_t dead_after = self->cfg->heartbeat_ms * self->cfg->heartbeat_liveness;
    for (int i = self->nworkers - 1; i >= 0; i--) {
        s_worker_t *w = &self->workers[i];
        if (now - w->last_recv_ms > dead_after) {
            s_worker_lost(self, i, "worker silent for the heartbeat liveness");
            continue;
        }
        if (now - w->last_send_ms >= self->cfg->heartbeat_ms) {
            lull_msg_t hb = {.type = LULL_MSG_HEARTBEAT};
            hb.u.heartbeat.credit = -1;
            if (s_send_worker(self, w, &hb) != 0) s_worker_lost(self, i, "worker unreachable");
        }
    }
}

int sched_workers_send_try(sched_workers_t *self, const lull_msg_t *m, sched_worker_id_t *to, const char **name)
{
    if (self->nworkers == 0) return -1;
    int wi = s_pick_worker(self, lull_clock_wall_ms());
    if (wi < 0) {  // every worker busy or backing off: a dry run takes no credit, so the next one in turn
        wi = self->rr_worker % self->nworkers;
        self->rr_worker = (wi + 1) % self->nworkers;
    }
    s_worker_t *w = &self->workers[wi];
    *to = w->ident;
    *name = w->name;
    return s_send_worker(self, w, m);
}

// ---- life cycle and figures

int sched_workers_count(const sched_workers_t *self)
{
    return self->nworkers;
}

int64_t sched_workers_credit(const sched_workers_t *self)
{
    int64_t credit = 0;
    for (int i = 0; i < self->nworkers; i++) credit += self->workers[i].credit;
    return credit;
}

size_t sched_workers_in_flight(const sched_workers_t *self)
{
    return self->njobs;
}

void sched_workers_set_owner(sched_workers_t *self, sched_workers_owns_fn *fn, void *arg)
{
    self->owns = fn;
    self->owns_arg = arg;
}

void sched_workers_set_relay(sched_workers_t *self, sched_workers_relay_fn *fn, void *arg)
{
    self->relay = fn;
    self->relay_arg = arg;
}

static void s_metrics(sched_workers_t *self)
{
    lull_metrics_t *r = self->proc->metrics;
    self->c_dispatched = lull_metrics_counter(r, "lull_sched_jobs_dispatched_total", NULL, "jobs sent to workers");
    self->c_not_owned = lull_metrics_counter(r, "lull_sched_dispatch_not_owned_total", NULL, "due windows dropped at dispatch: partition not owned (lease mode)");
    self->c_redispatched = lull_metrics_counter(r, "lull_sched_jobs_redispatched_total", NULL, "jobs put back (lost worker or retryable failure)");
    self->c_skipped = lull_metrics_counter(r, "lull_sched_jobs_skipped_total", NULL, "due windows with nothing to answer at dispatch");
    self->c_deferred = lull_metrics_counter(r, "lull_sched_jobs_deferred_total", NULL, "due windows deferred (conversation paused)");
    self->c_lost = lull_metrics_counter(r, "lull_sched_workers_lost_total", NULL, "workers declared dead");
    self->c_bad = lull_metrics_counter(r, "lull_sched_bad_messages_total", NULL, "malformed ZeroMQ messages dropped");
    for (int o = 1; o <= LULL_OUTCOME_MAX; o++) {
        char labels[64];
        snprintf(labels, sizeof labels, "outcome=\"%s\"", lull_outcome_name(o));
        self->c_done[o] = lull_metrics_counter(r, "lull_sched_jobs_done_total", labels, "DONE by outcome");
    }
}

sched_workers_t *sched_workers_new(const sched_cfg_t *cfg, lull_proc_t *proc, sched_windows_t *win, zsock_t *router)
{
    sched_workers_t *self = calloc(1, sizeof *self);
    if (!self) goto fail;
    *self = (sched_workers_t){.cfg = cfg, .proc = proc, .win = win, .router = router};
    self->workers = calloc((size_t)cfg->max_workers, sizeof *self->workers);
    if (!self->workers) goto fail;
    self->next_job_id = (uint64_t)lull_clock_wall_ms() << 20;
    s_metrics(self);
    return self;
fail:
    sched_workers_destroy(&self);
    return NULL;
}

void sched_workers_destroy(sched_workers_t **self_p)
{
    if (!self_p || !*self_p) return;
    sched_workers_t *self = *self_p;
    free(self->workers);
    free(self->jobs);
    free(self);
    *self_p = NULL;
}
