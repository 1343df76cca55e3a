// lull-scheduler's work: sockets, workers and their credit, jobs in flight, the database checks at
// dispatch, recovery and sweep, control requests, metrics. The windows themselves live in sched_windows.
#include "sched_app.h"
#include "lull_proto.h"

#include <czmq.h>

#include "sched_tenants.h"
#include "sched_windows.h"
#include "lull_clock.h"
#include "lull_json.h"
#include "lull_log.h"
#include "lull_retry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IDENTITY 255
#define RECV_BATCH 1000       // messages handled per socket event before timers get a turn
#define MAX_CREDIT 100000     // sanity bound on one worker's credit
#define MAX_HINT_MS 3600000   // a worker's retry-after / back-pressure hint is honoured up to one hour
#define DISPATCH_BATCH 64     // due conversations checked against the database in one query
#define DB_RETRY_MS 200       // pause before dispatching again after a database error
#define MAX_TRIES 64          // dry runs forwarded to workers at once

typedef struct {
    uint8_t id[MAX_IDENTITY];
    size_t idlen;
    char name[LULL_PROTO_MAX_NAME + 1];
    int32_t credit;          // jobs this worker can take now
    int32_t jobs;            // jobs it holds from us
    int64_t last_recv_ms;    // monotonic
    int64_t last_send_ms;    // monotonic
    int64_t backoff_until;   // wall clock ms: no new jobs before (provider back-pressure)
} s_worker_t;

// A dry run ("try") forwarded to a worker, waiting for its CTL_REP.
typedef struct {
    uint64_t wreq_id;            // the req_id the worker answers
    uint64_t client_req_id;      // the admin API's req_id
    uint8_t client[MAX_IDENTITY];  // the control client's identity
    size_t clientlen;
    bool delim;                  // the client is a REQ socket (empty delimiter frame)
    uint8_t worker[MAX_IDENTITY];  // the worker it went to
    size_t workerlen;
    int64_t deadline_ms;         // monotonic
} s_try_t;

typedef struct {
    uint64_t job_id;
    int64_t conv;
    int64_t tenant;
    int64_t upto;
    int32_t attempt;
    int32_t worker;          // index into workers
} s_job_t;

struct sched_app {
    const sched_cfg_t *cfg;
    lull_proc_t *proc;
    zsock_t *inbound, *router, *control;
    sched_windows_t *win;
    sched_tenants_t *tenants;
    s_worker_t *workers;
    int nworkers;
    int rr_worker;
    s_job_t *jobs;
    size_t njobs, cap_jobs;
    uint64_t next_job_id;
    s_try_t tries[MAX_TRIES];
    int ntries;
    uint64_t next_try_id;
    int64_t db_retry_at;     // monotonic ms: dispatch paused until then after a database error
    // sweep / recovery
    bool recovered;
    bool sweeping;
    int64_t sweep_cursor;
    int sweep_page_timer;
    int64_t sweep_added;
    int64_t sweep_started_ms;
    int64_t sweep_next_ms;   // monotonic: no new pass before (a long pass spaces the next ones out)
    int timers[3];
    // metrics
    lull_gauge_t *g_live, *g_ready, *g_workers, *g_credit, *g_inflight;
    lull_counter_t *c_opened, *c_reset, *c_ignored, *c_fired, *c_recovered, *c_cancelled, *c_flushed;
    lull_counter_t *c_dispatched, *c_redispatched, *c_skipped, *c_deferred, *c_lost, *c_done[LULL_OUTCOME_MAX + 1];
    lull_counter_t *c_bad, *c_tries;
    lull_histogram_t *h_burst, *h_window, *h_late;
};

static void s_try_expire(sched_app_t *self, const s_worker_t *w);
static void s_try_answer(sched_app_t *self, const s_worker_t *from, const lull_msg_t *m);

static const double s_burst_bounds[] = {1, 2, 3, 5, 8, 13, 21, 50, 100, 1000};
static const double s_window_bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600};

// ---- helpers

static s_worker_t *s_worker_find(sched_app_t *self, const uint8_t *id, size_t len, int *idx)
{
    for (int i = 0; i < self->nworkers; i++)
        if (self->workers[i].idlen == len && memcmp(self->workers[i].id, id, len) == 0) {
            if (idx) *idx = i;
            return &self->workers[i];
        }
    return NULL;
}

// Sends msg to worker w on the ROUTER; 0/-1 (the peer is gone: EHOSTUNREACH with ROUTER_MANDATORY).
static int s_send_worker(sched_app_t *self, s_worker_t *w, const lull_msg_t *msg)
{
    zmsg_t *z = lull_proto_encode(msg);
    if (!z) return -1;
    if (zmsg_pushmem(z, w->id, w->idlen) != 0) {
        zmsg_destroy(&z);
        return -1;
    }
    void *raw = zsock_resolve(self->router);
    size_t n = zmsg_size(z);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        zframe_t *f = zmsg_pop(z);
        int more = i + 1 < n ? ZMQ_SNDMORE : 0;
        if (zmq_send(raw, zframe_data(f), zframe_size(f), more | ZMQ_DONTWAIT) < 0) rc = -1;
        zframe_destroy(&f);
        if (rc != 0) break;
    }
    zmsg_destroy(&z);
    if (rc == 0) w->last_send_ms = lull_clock_mono_ms();
    return rc;
}

static void s_job_remove_at(sched_app_t *self, size_t i)
{
    self->jobs[i] = self->jobs[--self->njobs];
}

static s_job_t *s_job_add(sched_app_t *self)
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
static void s_worker_lost(sched_app_t *self, int idx, const char *why)
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
    s_try_expire(self, w);
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
static int s_pick_worker(sched_app_t *self, int64_t wall)
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

typedef enum { CHECK_GONE = 0, CHECK_GO, CHECK_DEFER } s_check_t;

// One due conversation taken from the ready queue, with what its row says.
typedef struct {
    sched_window_info_t info;
    s_check_t check;
    int64_t expected;  // answered_upto
    int64_t upto;      // last_inbound_id
    int64_t defer_ms;  // paused for this long
} s_due_t;

// Reads the rows of n due conversations in one query and decides each: dispatch, nothing to answer
// (answered, cancelled, not open, gone), or paused. 0, -1 on a database error.
static int s_check_convs(sched_app_t *self, s_due_t *due, int n)
{
    static const char *sql =
        "SELECT id, status = 'open' AND last_inbound_id > greatest(answered_upto, cancelled_upto), answered_upto, "
        "last_inbound_id, CASE WHEN paused_until > now() THEN "
        "ceil(extract(epoch FROM paused_until - now()) * 1000)::bigint ELSE 0 END "
        "FROM conversations WHERE id = ANY($1::bigint[])";
    lull_db_t *db = self->proc->db;
    if (!db) return -1;
    char *ids = malloc((size_t)n * 21 + 3);
    if (!ids) return -1;
    size_t len = 0;
    ids[len++] = '{';
    for (int i = 0; i < n; i++) {
        due[i].check = CHECK_GONE;  // a conversation without a row has nothing to answer
        len += (size_t)snprintf(ids + len, 22, "%s%lld", i ? "," : "", (long long)due[i].info.conversation_id);
    }
    ids[len++] = '}';
    ids[len] = '\0';
    const char *params[1] = {ids};
    PGresult *res = lull_db_exec(db, sql, 1, params);
    free(ids);
    if (!res) return -1;
    for (int r = 0; r < PQntuples(res); r++) {
        bool ok1, ok2, ok3, ok4;
        int64_t id = lull_db_int(res, r, 0, &ok1), expected = lull_db_int(res, r, 2, &ok2);
        int64_t upto = lull_db_int(res, r, 3, &ok3), paused = lull_db_int(res, r, 4, &ok4);
        const char *open = lull_db_text(res, r, 1);
        if (!ok1 || !ok2 || !ok3 || !ok4 || !open) {
            LOG_ERROR("conv.bad_row", "unexpected conversation row", "conv", LI(id));
            continue;
        }
        for (int i = 0; i < n; i++) {
            if (due[i].info.conversation_id != id) continue;
            if (strcmp(open, "t") != 0) {
                due[i].check = CHECK_GONE;
            } else if (paused > 0) {
                due[i].check = CHECK_DEFER;
                due[i].defer_ms = paused;
            } else {
                due[i].check = CHECK_GO;
                due[i].expected = expected;
                due[i].upto = upto;
            }
        }
    }
    PQclear(res);
    return 0;
}

// Sends one checked conversation to worker wi. 0, -1 when the worker is unreachable (the caller drops it).
static int s_send_job(sched_app_t *self, int wi, const s_due_t *d)
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
             LB(max_wait));
    return 0;
}

// Free credit of the workers that may take a job now.
static int64_t s_usable_credit(const sched_app_t *self, int64_t wall)
{
    int64_t credit = 0;
    for (int i = 0; i < self->nworkers; i++)
        if (self->workers[i].backoff_until <= wall) credit += self->workers[i].credit;
    return credit;
}

// Sends due conversations to workers while there is credit, checking them against the database in batches
// of up to DISPATCH_BATCH (one query per batch).
static void s_dispatch(sched_app_t *self)
{
    int64_t now = lull_clock_mono_ms();
    if (now < self->db_retry_at) return;
    int64_t wall = lull_clock_wall_ms();
    s_due_t due[DISPATCH_BATCH];
    for (;;) {
        if (lull_clock_mono_ms() < self->db_retry_at) return;
        int64_t credit = s_usable_credit(self, wall);
        int n = 0;
        while (n < DISPATCH_BATCH && n < credit && sched_windows_pop_ready(self->win, &due[n].info)) n++;
        if (n == 0) return;
        if (s_check_convs(self, due, n) != 0) {
            for (int i = n - 1; i >= 0; i--) (void)sched_windows_requeue(self->win, due[i].info.conversation_id);
            self->db_retry_at = now + DB_RETRY_MS;
            LOG_WARN("dispatch.db_error", "cannot read the conversations; dispatch paused", "error",
                     LS(lull_db_error(self->proc->db)));
            return;
        }
        for (int i = 0; i < n; i++) {
            int64_t conv = due[i].info.conversation_id;
            if (due[i].check == CHECK_GONE) {
                (void)sched_windows_drop(self->win, conv);
                lull_counter_add(self->c_skipped, 1);
                LOG_DEBUG("dispatch.skip", "nothing to answer (answered, cancelled, escalated or closed)", "conv",
                          LI(conv));
                continue;
            }
            if (due[i].check == CHECK_DEFER) {
                (void)sched_windows_defer(self->win, conv, lull_clock_mono_ms() + due[i].defer_ms);
                lull_counter_add(self->c_deferred, 1);
                LOG_INFO("dispatch.paused", "conversation paused; window deferred", "conv", LI(conv), "ms",
                         LI(due[i].defer_ms));
                continue;
            }
            int wi = lull_clock_mono_ms() < self->db_retry_at ? -1 : s_pick_worker(self, wall);
            while (wi >= 0 && s_send_job(self, wi, &due[i]) != 0) {
                s_worker_lost(self, wi, "worker unreachable");
                wi = s_pick_worker(self, wall);
            }
            if (wi < 0) (void)sched_windows_requeue(self->win, conv);  // credit vanished with a lost worker
        }
    }
}

// Handles up to RECV_BATCH messages waiting on sock (then timers get a turn); handle borrows each message.
static void s_drain(sched_app_t *self, zsock_t *sock, void (*handle)(sched_app_t *, zmsg_t *))
{
    for (int k = 0; k < RECV_BATCH && (zsock_events(sock) & ZMQ_POLLIN); k++) {
        zmsg_t *z = zmsg_recv(sock);
        if (!z) break;
        handle(self, z);
        zmsg_destroy(&z);
    }
}

// ---- windows

static void s_on_fire(void *arg, const sched_window_info_t *info, int64_t now)
{
    sched_app_t *self = arg;
    lull_counter_add(self->c_fired, 1);
    lull_histogram_observe(self->h_late, (double)(now - info->deadline_ms) / 1000.0);
    lull_histogram_observe(self->h_burst, info->messages);
}

static void s_update_gauges(sched_app_t *self)
{
    int64_t credit = 0;
    for (int i = 0; i < self->nworkers; i++) credit += self->workers[i].credit;
    lull_gauge_set(self->g_live, (double)sched_windows_count(self->win));
    lull_gauge_set(self->g_ready, (double)sched_windows_ready_count(self->win));
    lull_gauge_set(self->g_workers, self->nworkers);
    lull_gauge_set(self->g_credit, (double)credit);
    lull_gauge_set(self->g_inflight, (double)self->njobs);
}

// Deadline provider of the loop: fires due windows, dispatches, and says when to look again.
static int64_t s_deadline(void *arg)
{
    sched_app_t *self = arg;
    sched_windows_expire(self->win, s_on_fire, self);
    s_dispatch(self);
    s_update_gauges(self);
    int64_t next = sched_windows_next_ms(self->win);
    if (sched_windows_ready_count(self->win) > 0) {
        // waiting for credit, a back-pressure end, or the database: look again soon
        int64_t now = lull_clock_mono_ms(), wall = lull_clock_wall_ms(), soon = -1;
        if (self->db_retry_at > now) soon = self->db_retry_at - now;
        for (int i = 0; i < self->nworkers; i++) {
            s_worker_t *w = &self->workers[i];
            if (w->credit > 0 && w->backoff_until > wall) {
                int64_t d = w->backoff_until - wall;
                if (soon < 0 || d < soon) soon = d;
            }
        }
        if (soon >= 0 && (next < 0 || soon < next)) next = soon;
    }
    return next;
}

// Window and max wait of a tenant on a channel, loading a tenant created since the last refresh.
static void s_tenant_window(sched_app_t *self, int64_t tenant, int channel, int64_t *window, int64_t *max_wait)
{
    if (!sched_tenants_known(self->tenants, tenant) && self->proc->db && lull_db_connected(self->proc->db)) {
        // one the database does not have gets the defaults until the next refresh (so a bogus tenant id
        // costs one query per refresh, not one per message)
        if (sched_tenants_load_one(self->tenants, self->proc->db, tenant) == 1)
            (void)sched_tenants_set(self->tenants, tenant, self->cfg->default_window_ms,
                                    self->cfg->default_max_wait_ms, NULL);
    }
    sched_tenants_get(self->tenants, tenant, channel, window, max_wait);
}

// True when the conversation belongs to this scheduler's shard.
static bool s_mine(const sched_app_t *self, int64_t conv)
{
    return lull_proto_shard(conv, (int)self->cfg->shards) == (int)self->cfg->shard;
}

static void s_inbound(sched_app_t *self, const lull_msg_t *m)
{
    if (!s_mine(self, m->u.inbound.conversation_id)) {
        // another shard's conversation (ingress's LULL_SCHEDULERS disagrees with LULL_SCHED_SHARD/SHARDS):
        // answering it here could race its own scheduler
        lull_counter_add(self->c_bad, 1);
        LOG_WARN("inbound.wrong_shard", "INBOUND for another shard dropped", "conv",
                 LI(m->u.inbound.conversation_id), "shard", LI(self->cfg->shard), "shards", LI(self->cfg->shards));
        return;
    }
    int64_t tenant = m->u.inbound.tenant_id;
    int channel = sched_channel_from_name(m->u.inbound.channel);
    int64_t window, max_wait;
    s_tenant_window(self, tenant, channel, &window, &max_wait);
    sched_inbound_t r = sched_windows_inbound(self->win, m->u.inbound.conversation_id, tenant, channel,
                                              m->u.inbound.message_id, window, max_wait);
    switch (r) {
    case SCHED_IN_OPENED:
        lull_counter_add(self->c_opened, 1);
        lull_histogram_observe(self->h_window, (double)window / 1000.0);
        break;
    case SCHED_IN_RESET: lull_counter_add(self->c_reset, 1); break;
    case SCHED_IN_IGNORED: lull_counter_add(self->c_ignored, 1); break;
    case SCHED_IN_ERROR:
        LOG_ERROR("window.oom", "cannot open a window; the sweep will retry", "conv",
                  LI(m->u.inbound.conversation_id));
        break;
    }
    LOG_DEBUG("inbound", r == SCHED_IN_OPENED ? "window opened" : r == SCHED_IN_RESET ? "window reset" : "ignored",
              "conv", LI(m->u.inbound.conversation_id), "msg", LI(m->u.inbound.message_id), "tenant", LI(tenant));
}

static void s_handle_inbound(sched_app_t *self, zmsg_t *z)
{
    lull_msg_t m;
    char err[160] = "";
    if (lull_proto_decode(z, &m, err, sizeof err) != 0 || m.type != LULL_MSG_INBOUND) {
        lull_counter_add(self->c_bad, 1);
        LOG_WARN("inbound.bad", err[0] && m.type == 0 ? err : "not an INBOUND message");
    } else {
        s_inbound(self, &m);
    }
    lull_msg_clear(&m);
}

static void s_on_inbound(lull_loop_t *loop, int fd, int events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)events;
    sched_app_t *self = arg;
    s_drain(self, self->inbound, s_handle_inbound);
}

// ---- workers

// Records that a burst will get no answer (cancel, permanent failure): cancelled_upto = greatest(…, upto), so
// recovery and the sweep do not dispatch it again. 0/-1 (database error, logged).
static int s_record_cancel(sched_app_t *self, int64_t conv, int64_t upto)
{
    char id[24], up[24];
    snprintf(id, sizeof id, "%lld", (long long)conv);
    snprintf(up, sizeof up, "%lld", (long long)upto);
    const char *params[2] = {id, up};
    if (!self->proc->db ||
        lull_db_run(self->proc->db,
                    "UPDATE conversations SET cancelled_upto = greatest(cancelled_upto, $2::bigint), updated_at = now() "
                    "WHERE id = $1",
                    2, params, NULL) != 0) {
        LOG_WARN("cancel.db_error", "cannot record cancelled_upto", "conv", LI(conv), "upto", LI(upto));
        return -1;
    }
    return 0;
}

// A permanent failure: the burst up to the job's upto gets no answer (else the sweep would find it again).
static void s_give_up(sched_app_t *self, const s_job_t *job)
{
    if (s_record_cancel(self, job->conv, job->upto) == 0)
        LOG_WARN("job.given_up", "permanent failure: the burst gets no reply", "conv", LI(job->conv), "job",
                 LI((int64_t)job->job_id), "upto", LI(job->upto));
}

static void s_done(sched_app_t *self, s_worker_t *from, const lull_msg_t *m)
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

static void s_handle_worker(sched_app_t *self, zmsg_t *z)
{
    zframe_t *id = zmsg_pop(z);
    lull_msg_t m;
    char err[160] = "";
    if (!id || zframe_size(id) == 0 || zframe_size(id) > MAX_IDENTITY) {
        lull_counter_add(self->c_bad, 1);
    } else if (lull_proto_decode(z, &m, err, sizeof err) != 0) {
        lull_counter_add(self->c_bad, 1);
        LOG_WARN("worker.bad_message", err);
    } else {
        int idx = -1;
        s_worker_t *w = s_worker_find(self, zframe_data(id), zframe_size(id), &idx);
        if (m.type == LULL_MSG_READY) {
            if (!w && self->nworkers < self->cfg->max_workers) {
                w = &self->workers[self->nworkers++];
                memset(w, 0, sizeof *w);
                memcpy(w->id, zframe_data(id), zframe_size(id));
                w->idlen = zframe_size(id);
                w->last_send_ms = lull_clock_mono_ms();
                LOG_INFO("worker.ready", "worker joined", "worker", LS(m.u.ready.name), "credit",
                         LI(m.u.ready.credit));
            }
            if (w) {
                snprintf(w->name, sizeof w->name, "%s", m.u.ready.name);
                w->credit = m.u.ready.credit < MAX_CREDIT ? m.u.ready.credit : MAX_CREDIT;
            } else {
                LOG_WARN("worker.too_many", "READY ignored: LULL_SCHED_MAX_WORKERS reached");
            }
        } else if (!w) {
            LOG_DEBUG("worker.unknown", "message from an unknown worker ignored (it will send READY)", "type",
                      LS(lull_msg_type_name(m.type)));
        } else if (m.type == LULL_MSG_DONE) {
            s_done(self, w, &m);
        } else if (m.type == LULL_MSG_CTL_REP) {
            s_try_answer(self, w, &m);
        } else if (m.type != LULL_MSG_HEARTBEAT) {
            LOG_WARN("worker.bad_message", "unexpected message type", "type", LS(lull_msg_type_name(m.type)));
        }
        if (w) w->last_recv_ms = lull_clock_mono_ms();
        lull_msg_clear(&m);
    }
    zframe_destroy(&id);
}

static void s_on_router(lull_loop_t *loop, int fd, int events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)events;
    sched_app_t *self = arg;
    s_drain(self, self->router, s_handle_worker);
}

static void s_on_heartbeat(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sched_app_t *self = arg;
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
    s_try_expire(self, NULL);
}

// ---- recovery and sweep

// Reads one keyset page of conversations due for recovery; adds the unknown ones. Rows read, -1 on error.
static int s_sweep_page(sched_app_t *self, int64_t *cursor, int64_t *added)
{
    static const char *sql =
        "SELECT id, tenant_id, channel, last_inbound_id, "
        "(extract(epoch FROM coalesce(first_unanswered_at, last_inbound_at, now())) * 1000)::bigint, "
        "(extract(epoch FROM coalesce(last_inbound_at, now())) * 1000)::bigint, "
        "(extract(epoch FROM now()) * 1000)::bigint "
        "FROM conversations WHERE last_inbound_id > greatest(answered_upto, cancelled_upto) AND id > $1 "
        "AND status = 'open' AND (paused_until IS NULL OR paused_until <= now()) ORDER BY id LIMIT $2";
    lull_db_t *db = self->proc->db;
    if (!db) return -1;
    char a[24], b[24];
    snprintf(a, sizeof a, "%lld", (long long)*cursor);
    snprintf(b, sizeof b, "%lld", (long long)self->cfg->sweep_page);
    const char *params[2] = {a, b};
    PGresult *res = lull_db_exec(db, sql, 2, params);
    if (!res) return -1;
    int n = PQntuples(res);
    int64_t mono = lull_clock_mono_ms();
    for (int r = 0; r < n; r++) {
        bool ok[7];
        int64_t v[7];
        for (int c = 0; c < 7; c++) v[c] = c == 2 ? 0 : lull_db_int(res, r, c, &ok[c]);
        if (ok[0] && v[0] > *cursor) *cursor = v[0];  // keyset: always move on, even past a bad row
        if (!ok[0] || !ok[1] || !ok[3] || !ok[4] || !ok[5] || !ok[6]) continue;
        if (!s_mine(self, v[0])) continue;  // another shard's conversation
        if (sched_windows_get(self->win, v[0], NULL)) continue;
        int channel = sched_channel_from_name(lull_db_text(res, r, 2));
        int64_t window, max_wait;
        s_tenant_window(self, v[1], channel, &window, &max_wait);
        int64_t cap = v[4] + max_wait, deadline = v[5] + window;
        if (deadline > cap) deadline = cap;
        // wall → monotonic, against the database's own now() (no skew between the two clocks)
        int64_t dl_mono = mono + (deadline - v[6]), cap_mono = mono + (cap - v[6]);
        int rc = sched_windows_restore(self->win, v[0], v[1], channel, v[3], dl_mono, cap_mono);
        if (rc < 0) {
            LOG_ERROR("recover.oom", "cannot hold another window", "conv", LI(v[0]));
            break;
        }
        if (rc == 1) {
            (*added)++;
            LOG_DEBUG("recover.window", "window rebuilt from the database", "conv", LI(v[0]));
        }
    }
    PQclear(res);
    return n;
}

static void s_sweep_done(sched_app_t *self)
{
    int64_t ms = lull_clock_mono_ms() - self->sweep_started_ms;
    lull_counter_add(self->c_recovered, (uint64_t)self->sweep_added);
    if (!self->recovered) {
        self->recovered = true;
        LOG_INFO("recovered", "windows rebuilt from the database", "windows", LI(self->sweep_added), "ms", LI(ms),
                 "ready", LI((int64_t)sched_windows_ready_count(self->win)));
    } else if (self->sweep_added > 0) {
        LOG_INFO("sweep.found", "conversations no INBOUND reached", "windows", LI(self->sweep_added), "ms", LI(ms));
    }
    self->sweeping = false;
    // a pass over a large backlog is costly: keep the sweep under ~10% of the time
    self->sweep_next_ms = lull_clock_mono_ms() + 9 * ms;
}

static void s_on_sweep_page(lull_loop_t *loop, int timer_id, void *arg)
{
    sched_app_t *self = arg;
    int n = s_sweep_page(self, &self->sweep_cursor, &self->sweep_added);
    if (n >= 0 && n < self->cfg->sweep_page) s_sweep_done(self);
    if (n < 0) {
        self->sweeping = false;  // database error: the next sweep tick starts over
        LOG_WARN("sweep.db_error", "sweep interrupted", "error", LS(lull_db_error(self->proc->db)));
    }
    if (!self->sweeping) {
        lull_loop_cancel_timer(loop, timer_id);
        self->sweep_page_timer = 0;
    }
}

static void s_sweep_start(sched_app_t *self)
{
    self->sweeping = true;
    self->sweep_cursor = 0;
    self->sweep_added = 0;
    self->sweep_started_ms = lull_clock_mono_ms();
}

static void s_on_sweep(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)timer_id;
    sched_app_t *self = arg;
    if (self->sweeping || !self->proc->db || !lull_db_connected(self->proc->db)) return;
    if (lull_clock_mono_ms() < self->sweep_next_ms) return;
    if (!self->recovered) (void)sched_tenants_load(self->tenants, self->proc->db);
    s_sweep_start(self);
    // one page per loop turn so INBOUND, DONE and heartbeats keep flowing during a long sweep
    self->sweep_page_timer = lull_loop_add_timer(loop, 0, 1, s_on_sweep_page, self);
    if (self->sweep_page_timer < 0) self->sweeping = false;
}

// Recovery at start: every page at once (the loop is not serving yet).
static void s_recover(sched_app_t *self)
{
    if (!self->proc->db || !lull_db_connected(self->proc->db)) {
        LOG_WARN("recover.deferred", "database unreachable; the first sweep will rebuild the windows");
        return;
    }
    s_sweep_start(self);
    for (;;) {
        int n = s_sweep_page(self, &self->sweep_cursor, &self->sweep_added);
        if (n < 0) {
            self->sweeping = false;
            LOG_WARN("recover.db_error", "recovery interrupted; the sweep will finish it", "error",
                     LS(lull_db_error(self->proc->db)));
            return;
        }
        if (n < self->cfg->sweep_page) break;
    }
    s_sweep_done(self);
}

static void s_on_tenants(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sched_app_t *self = arg;
    if (self->proc->db && lull_db_connected(self->proc->db) && sched_tenants_load(self->tenants, self->proc->db) != 0)
        LOG_WARN("tenants.refresh_failed", "tenant settings not refreshed", "error", LS(lull_db_error(self->proc->db)));
}

// ---- control

// The `limit` windows with the smallest conversation ids above `after`, kept in a max-heap while every entry is
// visited once (O(n log limit)): keyset paging over millions of windows without sorting them all.
typedef struct {
    sched_window_info_t *heap;
    int n, limit;
    int64_t after;
    int64_t matched;  // windows above `after`, page or not
} s_list_ctx_t;

static void s_heap_swap(sched_window_info_t *a, sched_window_info_t *b)
{
    sched_window_info_t t = *a;
    *a = *b;
    *b = t;
}

static void s_heap_down(sched_window_info_t *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l].conversation_id > h[m].conversation_id) m = l;
        if (r < n && h[r].conversation_id > h[m].conversation_id) m = r;
        if (m == i) return;
        s_heap_swap(&h[i], &h[m]);
        i = m;
    }
}

static bool s_list_one(void *arg, const sched_window_info_t *info)
{
    s_list_ctx_t *ctx = arg;
    if (info->conversation_id <= ctx->after) return true;
    ctx->matched++;
    sched_window_info_t *h = ctx->heap;
    if (ctx->n < ctx->limit) {
        int i = ctx->n++;
        h[i] = *info;
        while (i > 0 && h[(i - 1) / 2].conversation_id < h[i].conversation_id) {
            s_heap_swap(&h[i], &h[(i - 1) / 2]);
            i = (i - 1) / 2;
        }
    } else if (info->conversation_id < h[0].conversation_id) {
        h[0] = *info;
        s_heap_down(h, ctx->n, 0);
    }
    return true;
}

static cJSON *s_list_json(const sched_window_info_t *info, int64_t now)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "conversation_id", (double)info->conversation_id);
    cJSON_AddNumberToObject(o, "tenant_id", (double)info->tenant_id);
    cJSON_AddStringToObject(o, "channel", sched_channel_name(info->channel));
    cJSON_AddNumberToObject(o, "messages", info->messages);
    double left = 0;
    if (info->state == SCHED_WS_WAITING || info->state == SCHED_WS_BACKOFF)
        left = info->deadline_ms > now ? (double)(info->deadline_ms - now) / 1000.0 : 0;
    cJSON_AddNumberToObject(o, "seconds_left", left);
    cJSON_AddStringToObject(o, "state", sched_wstate_name(info->state, info->in_flight));
    return o;
}

// Runs one control request; returns the status and sets *body (owned; may stay NULL).
static int s_control(sched_app_t *self, const lull_msg_t *m, char **body)
{
    int64_t conv = m->u.ctl_req.conversation_id;
    char buf[160];
    switch (m->u.ctl_req.op) {
    case LULL_CTL_LIST: {
        int limit = m->u.ctl_req.limit > 0 ? m->u.ctl_req.limit : 100;
        if (limit > self->cfg->list_max) limit = (int)self->cfg->list_max;
        s_list_ctx_t ctx = {.heap = malloc((size_t)limit * sizeof *ctx.heap), .limit = limit, .after = conv};
        cJSON *root = cJSON_CreateObject();
        cJSON *arr = root ? cJSON_AddArrayToObject(root, "windows") : NULL;
        if (!ctx.heap || !arr) {
            free(ctx.heap);
            cJSON_Delete(root);
            return 500;
        }
        sched_windows_each(self->win, s_list_one, &ctx);
        for (int n = ctx.n; n > 1; n--) {  // heap sort: ascending conversation ids
            s_heap_swap(&ctx.heap[0], &ctx.heap[n - 1]);
            s_heap_down(ctx.heap, n - 1, 0);
        }
        int64_t now = lull_clock_mono_ms();
        for (int i = 0; i < ctx.n; i++) {
            cJSON *o = s_list_json(&ctx.heap[i], now);
            if (o) cJSON_AddItemToArray(arr, o);
        }
        free(ctx.heap);
        cJSON_AddNumberToObject(root, "total", (double)sched_windows_count(self->win));
        cJSON_AddBoolToObject(root, "more", ctx.matched > ctx.n);
        *body = lull_json_print(root);
        cJSON_Delete(root);
        return *body ? 200 : 500;
    }
    case LULL_CTL_CANCEL: {
        sched_window_info_t info;
        if (!sched_windows_get(self->win, conv, &info) || info.state == SCHED_WS_NONE) {
            *body = lull_json_error_body("not_found", "no window for this conversation");
            return 404;
        }
        // record it first, so recovery does not resurrect the burst
        if (s_record_cancel(self, conv, info.upto) != 0) {
            *body = lull_json_error_body("unavailable", "database unavailable; window kept");
            return 503;
        }
        int64_t upto = 0;
        (void)sched_windows_cancel(self->win, conv, &upto);
        lull_counter_add(self->c_cancelled, 1);
        LOG_INFO("window.cancelled", "window cancelled over the control socket", "conv", LI(conv), "upto", LI(upto));
        snprintf(buf, sizeof buf, "{\"cancelled\":%lld,\"upto\":%lld}", (long long)conv, (long long)upto);
        *body = strdup(buf);
        return 200;
    }
    case LULL_CTL_FLUSH:
        if (sched_windows_flush(self->win, conv) != 0) {
            *body = lull_json_error_body("not_found", "no window for this conversation");
            return 404;
        }
        lull_counter_add(self->c_flushed, 1);
        LOG_INFO("window.flushed", "window flushed over the control socket", "conv", LI(conv));
        snprintf(buf, sizeof buf, "{\"flushed\":%lld}", (long long)conv);
        *body = strdup(buf);
        return 200;
    case LULL_CTL_TRY:  // forwarded to a worker by s_try_forward
        break;
    }
    *body = lull_json_error_body("bad_request", "unknown operation");
    return 400;
}

// Sends a CTL_REP to a control client (its identity, and the empty delimiter of a REQ client).
static void s_control_reply(sched_app_t *self, const uint8_t *id, size_t idlen, bool delim, uint64_t req_id,
                            int status, char *body)
{
    lull_msg_t rep = {.type = LULL_MSG_CTL_REP};
    rep.u.ctl_rep.req_id = req_id;
    rep.u.ctl_rep.status = status;
    rep.u.ctl_rep.body = body;
    zmsg_t *out = lull_proto_encode(&rep);
    if (out && delim) zmsg_pushmem(out, NULL, 0);
    if (out) zmsg_pushmem(out, id, idlen);
    if (!out || zmsg_send(&out, self->control) != 0) LOG_WARN("control.reply_failed", "cannot reply");
    zmsg_destroy(&out);
}

// Answers the dry run at index i with status and an error body, and forgets it.
static void s_try_fail(sched_app_t *self, int i, int status, const char *code, const char *message)
{
    s_try_t *t = &self->tries[i];
    char *body = lull_json_error_body(code, message);
    s_control_reply(self, t->client, t->clientlen, t->delim, t->client_req_id, status, body);
    free(body);
    LOG_WARN("try.failed", message, "status", LI(status));
    self->tries[i] = self->tries[--self->ntries];
}

// Forwards a dry run to a worker (the next one with free credit, as dispatch picks, else any); the
// worker's CTL_REP is relayed by s_try_answer. Returns 0 when forwarded, else the status of the error
// written into *body.
static int s_try_forward(sched_app_t *self, zframe_t *id, bool delim, const lull_msg_t *m, char **body)
{
    if (!m->u.ctl_req.body || !*m->u.ctl_req.body) {
        *body = lull_json_error_body("bad_request", "try needs a JSON body");
        return 400;
    }
    if (zframe_size(id) > MAX_IDENTITY) {
        *body = lull_json_error_body("bad_request", "control identity too long");
        return 400;
    }
    if (self->nworkers == 0) {
        *body = lull_json_error_body("unavailable", "no worker is connected to this scheduler");
        return 503;
    }
    if (self->ntries >= MAX_TRIES) {
        *body = lull_json_error_body("busy", "too many dry runs in progress; try again shortly");
        return 503;
    }
    int wi = s_pick_worker(self, lull_clock_wall_ms());
    if (wi < 0) {  // every worker busy or backing off: a dry run takes no credit, so the next one in turn
        wi = self->rr_worker % self->nworkers;
        self->rr_worker = (wi + 1) % self->nworkers;
    }
    s_worker_t *w = &self->workers[wi];
    s_try_t *t = &self->tries[self->ntries];
    *t = (s_try_t){.wreq_id = ++self->next_try_id, .client_req_id = m->u.ctl_req.req_id, .delim = delim,
                   .deadline_ms = lull_clock_mono_ms() + self->cfg->try_timeout_ms};
    t->clientlen = zframe_size(id);
    memcpy(t->client, zframe_data(id), t->clientlen);
    memcpy(t->worker, w->id, w->idlen);
    t->workerlen = w->idlen;
    lull_msg_t fwd = *m;
    fwd.u.ctl_req.req_id = t->wreq_id;
    if (s_send_worker(self, w, &fwd) != 0) {
        *body = lull_json_error_body("unavailable", "the worker is unreachable");
        return 503;
    }
    self->ntries++;
    lull_counter_add(self->c_tries, 1);
    LOG_INFO("try.forwarded", "dry run sent to a worker", "worker", LS(w->name), "req", LI((int64_t)t->wreq_id));
    return 0;
}

// Relays a worker's CTL_REP to the control client of the dry run it answers.
static void s_try_answer(sched_app_t *self, const s_worker_t *from, const lull_msg_t *m)
{
    for (int i = 0; i < self->ntries; i++) {
        s_try_t *t = &self->tries[i];
        if (t->wreq_id != m->u.ctl_rep.req_id || t->workerlen != from->idlen ||
            memcmp(t->worker, from->id, from->idlen) != 0)
            continue;
        s_control_reply(self, t->client, t->clientlen, t->delim, t->client_req_id, m->u.ctl_rep.status,
                        m->u.ctl_rep.body);
        LOG_INFO("try.answered", "dry run answered", "worker", LS(from->name), "status", LI(m->u.ctl_rep.status));
        self->tries[i] = self->tries[--self->ntries];
        return;
    }
    LOG_INFO("try.unknown", "answer to an unknown or expired dry run ignored", "worker", LS(from->name));
}

// Answers 504 for dry runs past their deadline, and 503 for those of worker w when w is not NULL (lost).
static void s_try_expire(sched_app_t *self, const s_worker_t *w)
{
    int64_t now = lull_clock_mono_ms();
    for (int i = self->ntries - 1; i >= 0; i--) {
        s_try_t *t = &self->tries[i];
        if (w && t->workerlen == w->idlen && memcmp(t->worker, w->id, w->idlen) == 0)
            s_try_fail(self, i, 503, "unavailable", "the worker running the dry run was lost");
        else if (!w && now >= t->deadline_ms)
            s_try_fail(self, i, 504, "timeout", "the worker did not answer the dry run in time");
    }
}

static void s_handle_control(sched_app_t *self, zmsg_t *z)
{
    zframe_t *id = zmsg_pop(z);
    zframe_t *delim = NULL;
    zframe_t *first = zmsg_first(z);
    if (first && zframe_size(first) == 0) delim = zmsg_pop(z);  // REQ clients add an empty delimiter
    lull_msg_t m;
    char err[160] = "";
    if (!id || lull_proto_decode(z, &m, err, sizeof err) != 0 || m.type != LULL_MSG_CTL_REQ) {
        lull_counter_add(self->c_bad, 1);
        LOG_WARN("control.bad_request", err[0] ? err : "not a CTL_REQ");
        if (id) lull_msg_clear(&m);
    } else {
        char *body = NULL;
        int status = m.u.ctl_req.op == LULL_CTL_TRY ? s_try_forward(self, id, delim != NULL, &m, &body)
                                                    : s_control(self, &m, &body);
        if (status != 0)
            s_control_reply(self, zframe_data(id), zframe_size(id), delim != NULL, m.u.ctl_req.req_id, status, body);
        free(body);
        lull_msg_clear(&m);
    }
    zframe_destroy(&delim);
    zframe_destroy(&id);
}

static void s_on_control(lull_loop_t *loop, int fd, int events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)events;
    sched_app_t *self = arg;
    s_drain(self, self->control, s_handle_control);
}

// ---- life cycle

static zsock_t *s_bind(int type, const char *endpoint, const char *what)
{
    zsock_t *s = zsock_new(type);
    if (!s) return NULL;
    zsock_set_linger(s, 0);
    zsock_set_rcvhwm(s, 100000);
    if (type == ZMQ_ROUTER) zsock_set_router_mandatory(s, 1);
    if (zsock_bind(s, "%s", endpoint) < 0) {
        LOG_ERROR("bind_failed", zmq_strerror(zmq_errno()), "socket", LS(what), "endpoint", LS(endpoint));
        zsock_destroy(&s);
    }
    return s;
}

static void s_metrics(sched_app_t *self)
{
    lull_metrics_t *r = self->proc->metrics;
    self->g_live = lull_metrics_gauge(r, "lull_sched_windows_live", NULL, "conversations with a window or a job in flight");
    self->g_ready = lull_metrics_gauge(r, "lull_sched_ready_queue", NULL, "due windows waiting for worker credit");
    self->g_workers = lull_metrics_gauge(r, "lull_sched_workers", NULL, "workers connected");
    self->g_credit = lull_metrics_gauge(r, "lull_sched_credit", NULL, "free worker credit");
    self->g_inflight = lull_metrics_gauge(r, "lull_sched_jobs_in_flight", NULL, "jobs sent and not done");
    self->c_opened = lull_metrics_counter(r, "lull_sched_windows_opened_total", NULL, "windows opened by INBOUND");
    self->c_reset = lull_metrics_counter(r, "lull_sched_windows_reset_total", NULL, "windows reset by a new message");
    self->c_ignored = lull_metrics_counter(r, "lull_sched_inbound_ignored_total", NULL, "duplicate or old INBOUND");
    self->c_fired = lull_metrics_counter(r, "lull_sched_windows_fired_total", NULL, "windows that became due");
    self->c_recovered = lull_metrics_counter(r, "lull_sched_windows_recovered_total", NULL, "windows rebuilt from the database (recovery and sweep)");
    self->c_cancelled = lull_metrics_counter(r, "lull_sched_windows_cancelled_total", NULL, "windows cancelled");
    self->c_flushed = lull_metrics_counter(r, "lull_sched_windows_flushed_total", NULL, "windows flushed");
    self->c_dispatched = lull_metrics_counter(r, "lull_sched_jobs_dispatched_total", NULL, "jobs sent to workers");
    self->c_redispatched = lull_metrics_counter(r, "lull_sched_jobs_redispatched_total", NULL, "jobs put back (lost worker or retryable failure)");
    self->c_skipped = lull_metrics_counter(r, "lull_sched_jobs_skipped_total", NULL, "due windows with nothing to answer at dispatch");
    self->c_deferred = lull_metrics_counter(r, "lull_sched_jobs_deferred_total", NULL, "due windows deferred (conversation paused)");
    self->c_lost = lull_metrics_counter(r, "lull_sched_workers_lost_total", NULL, "workers declared dead");
    self->c_bad = lull_metrics_counter(r, "lull_sched_bad_messages_total", NULL, "malformed ZeroMQ messages dropped");
    self->c_tries = lull_metrics_counter(r, "lull_sched_tries_total", NULL, "dry runs forwarded to workers");
    for (int o = 1; o <= LULL_OUTCOME_MAX; o++) {
        char labels[64];
        snprintf(labels, sizeof labels, "outcome=\"%s\"", lull_outcome_name(o));
        self->c_done[o] = lull_metrics_counter(r, "lull_sched_jobs_done_total", labels, "DONE by outcome");
    }
    self->h_burst = lull_metrics_histogram(r, "lull_sched_burst_messages", NULL, "messages per answered burst",
                                           s_burst_bounds, sizeof s_burst_bounds / sizeof s_burst_bounds[0]);
    self->h_window = lull_metrics_histogram(r, "lull_sched_window_seconds", NULL, "window length of opened windows",
                                            s_window_bounds, sizeof s_window_bounds / sizeof s_window_bounds[0]);
    self->h_late = lull_metrics_histogram(r, "lull_sched_fire_lateness_seconds", NULL, "window fire time minus deadline",
                                          LULL_METRICS_LATENCY_BUCKETS, LULL_METRICS_LATENCY_NBUCKETS);
}

sched_app_t *sched_app_new(const sched_cfg_t *cfg, lull_proc_t *proc)
{
    sched_app_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->cfg = cfg;
    self->proc = proc;
    self->win = sched_windows_new();
    self->tenants = sched_tenants_new(cfg->default_window_ms, cfg->default_max_wait_ms);
    self->workers = calloc((size_t)cfg->max_workers, sizeof *self->workers);
    if (!self->win || !self->tenants || !self->workers) goto fail;
    if (cfg->shard >= cfg->shards) {
        LOG_ERROR("config.shard", "LULL_SCHED_SHARD must be below LULL_SCHED_SHARDS", "shard", LI(cfg->shard),
                  "shards", LI(cfg->shards));
        goto fail;
    }
    self->next_job_id = (uint64_t)lull_clock_wall_ms() << 20;
    s_metrics(self);
    self->inbound = s_bind(ZMQ_PULL, cfg->inbound_endpoint, "inbound");
    self->router = s_bind(ZMQ_ROUTER, cfg->worker_endpoint, "workers");
    self->control = s_bind(ZMQ_ROUTER, cfg->control_endpoint, "control");
    if (!self->inbound || !self->router || !self->control) goto fail;
    if (proc->db && lull_db_connected(proc->db)) {
        if (sched_tenants_load(self->tenants, proc->db) != 0)
            LOG_WARN("tenants.load_failed", "tenant settings not loaded; defaults apply", "error",
                     LS(lull_db_error(proc->db)));
        s_recover(self);
    } else {
        LOG_WARN("recover.deferred", "database unreachable; the first sweep will rebuild the windows");
    }
    lull_loop_t *loop = proc->loop;
    if (lull_loop_add_socket(loop, zsock_resolve(self->inbound), LULL_LOOP_IN, s_on_inbound, self) != 0 ||
        lull_loop_add_socket(loop, zsock_resolve(self->router), LULL_LOOP_IN, s_on_router, self) != 0 ||
        lull_loop_add_socket(loop, zsock_resolve(self->control), LULL_LOOP_IN, s_on_control, self) != 0 ||
        lull_loop_add_deadline(loop, s_deadline, self) != 0)
        goto fail;
    self->timers[0] = lull_loop_add_timer(loop, cfg->heartbeat_ms, cfg->heartbeat_ms, s_on_heartbeat, self);
    self->timers[1] = lull_loop_add_timer(loop, cfg->sweep_ms, cfg->sweep_ms, s_on_sweep, self);
    self->timers[2] = lull_loop_add_timer(loop, cfg->tenant_refresh_ms, cfg->tenant_refresh_ms, s_on_tenants, self);
    if (self->timers[0] < 0 || self->timers[1] < 0 || self->timers[2] < 0) goto fail;
    LOG_INFO("scheduler.ready", "scheduler serving", "windows", LI((int64_t)sched_windows_count(self->win)),
             "tenants", LI(sched_tenants_count(self->tenants)));
    return self;
fail:
    LOG_ERROR("scheduler.init_failed", "cannot start the scheduler");
    sched_app_destroy(&self);
    return NULL;
}

void sched_app_destroy(sched_app_t **self_p)
{
    if (!self_p || !*self_p) return;
    sched_app_t *self = *self_p;
    lull_loop_t *loop = self->proc->loop;
    if (loop) {
        if (self->inbound) lull_loop_remove_socket(loop, zsock_resolve(self->inbound));
        if (self->router) lull_loop_remove_socket(loop, zsock_resolve(self->router));
        if (self->control) lull_loop_remove_socket(loop, zsock_resolve(self->control));
        for (int i = 0; i < 3; i++)
            if (self->timers[i] > 0) lull_loop_cancel_timer(loop, self->timers[i]);
        if (self->sweep_page_timer > 0) lull_loop_cancel_timer(loop, self->sweep_page_timer);
    }
    if (self->njobs > 0)
        LOG_INFO("scheduler.stop", "jobs in flight left to their workers (the database decides)", "jobs",
                 LI((int64_t)self->njobs));
    zsock_destroy(&self->inbound);
    zsock_destroy(&self->router);
    zsock_destroy(&self->control);
    sched_windows_destroy(&self->win);
    sched_tenants_destroy(&self->tenants);
    free(self->workers);
    free(self->jobs);
    free(self);
    *self_p = NULL;
}
