// The dispatch side of lull-worker (protocol in docs/worker.md): one DEALER per scheduler (the fixed list of
// LULL_WORKER_SCHEDULERS, or every live node of the scheduler map, followed as nodes join and leave), each with
// a random identity, READY{credit} on connect, a JOB per credit, a DONE per job, heartbeats both ways, and a
// fresh DEALER (new identity, READY again) when a scheduler falls silent. Credit is split evenly across the
// schedulers of the moment.
#include "worker_app.h"
#include "lull_proto.h"
#include "lull_clock.h"
#include "lull_crypto.h"
#include "lull_log.h"
#include "lull_schedmap.h"
#include "worker_job.h"
#include "worker_prune.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SCHEDULERS LULL_SCHEDMAP_MAX_NODES  // connections at most (the fixed list: 64, its setting's bound)
#define MAX_SENDERS 64
#define RECV_BATCH 256
#define PUSH_HWM 10000

typedef struct {
    worker_app_t *app;
    int index;
    bool active;           // this slot holds a scheduler (a discovered one that left frees it)
    char endpoint[LULL_SCHEDMAP_ENDPOINT_MAX + 1];
    zsock_t *sock;
    int gen;               // connection generation, unique in the process: new on every (re)connect
    int first_gen;         // the first generation of this slot's scheduler: older jobs came from a previous one
    int quota;             // credit share of this scheduler
    int held;              // jobs running that came from this scheduler (any generation)
    int64_t last_send_ms;  // monotonic
    int64_t last_recv_ms;  // monotonic
} s_conn_t;

struct worker_app {
    lull_proc_t *proc;
    const worker_cfg_t *cfg;
    char name[LULL_PROTO_MAX_NAME + 1];
    s_conn_t *conns;       // [MAX_SCHEDULERS]
    int nconns;            // slots used (active or freed)
    int gen_seq;           // the last generation handed out
    lull_schedmap_t *map;  // the scheduler map when LULL_WORKER_SCHEDULERS is empty, else NULL (owned)
    uint64_t map_version;  // the map version the connections follow
    zsock_t *push;
    worker_jobs_t *jobs;
    worker_prune_t *prune;  // old rows of usage_tenant_day
    int hb_timer;
    lull_counter_t *m_reconnects, *m_bad_frames, *m_outbox_dropped, *m_joined, *m_left;
};

static void s_on_dealer(lull_loop_t *loop, int fd, int events, void *arg);

static int s_send(s_conn_t *c, const lull_msg_t *msg)
{
    int rc = lull_proto_send(c->sock, msg, ZMQ_DONTWAIT);
    if (rc == 0) c->last_send_ms = lull_clock_mono_ms();
    else LOG_WARN("sched.send_failed", "cannot send to scheduler", "endpoint", LS(c->endpoint), "type",
                  LS(lull_msg_type_name(msg->type)));
    return rc;
}

static void s_send_ready(s_conn_t *c)
{
    lull_msg_t ready = {.type = LULL_MSG_READY};
    int credit = c->quota - c->held;
    ready.u.ready.credit = credit > 0 ? credit : 0;
    snprintf(ready.u.ready.name, sizeof ready.u.ready.name, "%s", c->app->name);
    (void)s_send(c, &ready);
    LOG_DEBUG("sched.ready", NULL, "endpoint", LS(c->endpoint), "credit", LI(ready.u.ready.credit));
}

// Opens (or reopens) the DEALER of c with a new identity and announces the credit.
static int s_connect(s_conn_t *c)
{
    lull_loop_t *loop = c->app->proc->loop;
    if (c->sock) {
        lull_loop_remove_socket(loop, zsock_resolve(c->sock));
        zsock_destroy(&c->sock);
    }
    char id[40];
    if (!lull_random_id("w", 12, id, sizeof id)) {
        LOG_ERROR("sched.identity_failed", "no random bytes for the DEALER identity (RAND_bytes failed)", "endpoint",
                  LS(c->endpoint));
        return -1;
    }
    c->sock = zsock_new(ZMQ_DEALER);
    if (!c->sock) return -1;
    zsock_set_identity(c->sock, id);
    zsock_set_linger(c->sock, 0);
    zsock_set_sndhwm(c->sock, 100000);
    zsock_set_rcvhwm(c->sock, 100000);
    if (zsock_connect(c->sock, "%s", c->endpoint) != 0 ||
        lull_loop_add_socket(loop, zsock_resolve(c->sock), LULL_LOOP_IN, s_on_dealer, c) != 0) {
        LOG_ERROR("sched.connect_failed", "cannot connect to scheduler", "endpoint", LS(c->endpoint));
        zsock_destroy(&c->sock);
        return -1;
    }
    c->gen = ++c->app->gen_seq;
    c->last_recv_ms = lull_clock_mono_ms();
    s_send_ready(c);
    LOG_INFO("sched.connected", "connected to scheduler", "endpoint", LS(c->endpoint), "identity", LS(id),
             "credit", LI(c->quota - c->held));
    return 0;
}

static void s_job_done(const lull_msg_t *done, int conn, int gen, const int64_t *outbox_ids, size_t noutbox, void *arg)
{
    worker_app_t *self = arg;
    for (size_t i = 0; i < noutbox && self->push; i++) {
        lull_msg_t ob = {.type = LULL_MSG_OUTBOX};
        ob.u.outbox.outbox_id = outbox_ids[i];
        if (lull_proto_send(self->push, &ob, ZMQ_DONTWAIT) != 0) lull_counter_add(self->m_outbox_dropped, 1);
    }
    if (conn < 0 || conn >= self->nconns) return;
    s_conn_t *c = &self->conns[conn];
    if (!c->active || gen < c->first_gen) return;  // its scheduler left: the database decides, as on a silent one
    if (done->type != LULL_MSG_DONE) {  // a dry run's CTL_REP: it held no credit
        if (c->sock && gen == c->gen) (void)s_send(c, done);
        return;
    }
    if (c->held > 0) c->held--;
    if (!c->sock) return;
    (void)s_send(c, done);
    // A job from an older connection: the scheduler behind the new one never counted it, so its DONE
    // returns no credit there; restate the absolute credit instead.
    if (gen != c->gen) s_send_ready(c);
}

static void s_on_dealer(lull_loop_t *loop, int fd, int events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)events;
    s_conn_t *c = arg;
    worker_app_t *self = c->app;
    for (int i = 0; i < RECV_BATCH && c->sock && (zsock_events(c->sock) & ZMQ_POLLIN); i++) {
        zmsg_t *zm = zmsg_recv(c->sock);
        if (!zm) break;
        lull_msg_t msg;
        char err[128];
        c->last_recv_ms = lull_clock_mono_ms();
        if (lull_proto_decode(zm, &msg, err, sizeof err) != 0) {
            lull_counter_add(self->m_bad_frames, 1);
            LOG_WARN("sched.bad_message", "dropping an invalid message from the scheduler", "endpoint",
                     LS(c->endpoint), "error", LS(err));
            zmsg_destroy(&zm);
            continue;
        }
        zmsg_destroy(&zm);
        if (msg.type == LULL_MSG_JOB) {
            c->held++;
            worker_jobs_start(self->jobs, &msg, c->index, c->gen);  // may send its DONE right away
        } else if (msg.type == LULL_MSG_CTL_REQ && msg.u.ctl_req.op == LULL_CTL_TRY) {
            worker_jobs_try(self->jobs, &msg, c->index, c->gen);
        } else if (msg.type != LULL_MSG_HEARTBEAT) {
            LOG_DEBUG("sched.ignored", NULL, "type", LS(lull_msg_type_name(msg.type)));
        }
        lull_msg_clear(&msg);
    }
    worker_jobs_flush(self->jobs);  // load the jobs of this batch together
}

// Closes the DEALER of c and frees its slot (its jobs in flight finish; their DONE goes nowhere).
static void s_drop(s_conn_t *c)
{
    if (c->sock) {
        lull_loop_remove_socket(c->app->proc->loop, zsock_resolve(c->sock));
        zsock_destroy(&c->sock);
    }
    c->active = false;
    c->held = 0;
}

// Takes a free slot for endpoint (not connected yet). NULL when every slot is busy.
static s_conn_t *s_add(worker_app_t *self, const char *endpoint)
{
    int i = 0;
    while (i < self->nconns && self->conns[i].active) i++;
    if (i == MAX_SCHEDULERS) return NULL;
    if (i == self->nconns) self->nconns++;
    s_conn_t *c = &self->conns[i];
    memset(c, 0, sizeof *c);
    c->app = self;
    c->index = i;
    c->active = true;
    c->first_gen = self->gen_seq + 1;
    snprintf(c->endpoint, sizeof c->endpoint, "%s", endpoint);
    return c;
}

// Splits the credit evenly across the active schedulers; a changed share is announced (READY is absolute).
static void s_split_credit(worker_app_t *self)
{
    int n = 0;
    for (int i = 0; i < self->nconns; i++) n += self->conns[i].active;
    if (n == 0) return;
    int quota = (int)(self->cfg->concurrency / n);
    if (quota < 1) quota = 1;
    for (int i = 0; i < self->nconns; i++) {
        s_conn_t *c = &self->conns[i];
        if (!c->active || c->quota == quota) continue;
        c->quota = quota;
        if (c->sock) s_send_ready(c);
    }
}

// Discovery: when the map changed, connects to the worker endpoint of every live node not connected yet and drops
// the connections whose node left; then re-splits the credit.
static void s_follow_map(worker_app_t *self)
{
    uint64_t v = lull_schedmap_version(self->map);
    if (!self->map || v == 0 || v == self->map_version) return;
    lull_schedmap_snap_t *snap = lull_schedmap_get(self->map);
    if (!snap) return;
    self->map_version = snap->version;
    int joined = 0, left = 0;
    for (int i = 0; i < self->nconns; i++) {
        s_conn_t *c = &self->conns[i];
        bool listed = false;
        for (int k = 0; c->active && k < snap->nnodes && !listed; k++) listed = strcmp(snap->nodes[k].worker, c->endpoint) == 0;
        if (!c->active || listed) continue;
        LOG_INFO("sched.left", "a scheduler left the map; dropping its connection (its jobs in flight finish)",
                 "endpoint", LS(c->endpoint), "held", LI(c->held));
        s_drop(c);
        left++;
    }
    for (int k = 0; k < snap->nnodes; k++) {
        const char *ep = snap->nodes[k].worker;
        bool have = false;
        for (int i = 0; i < self->nconns && !have; i++) have = self->conns[i].active && strcmp(self->conns[i].endpoint, ep) == 0;
        if (have || !s_add(self, ep)) continue;
        LOG_INFO("sched.joined", "a scheduler joined the map", "node", LS(snap->nodes[k].name), "endpoint", LS(ep));
        joined++;
    }
    lull_counter_add(self->m_joined, (uint64_t)joined);
    lull_counter_add(self->m_left, (uint64_t)left);
    s_split_credit(self);  // first, so that a new connection's READY states its share
    for (int i = 0; i < self->nconns; i++)
        if (self->conns[i].active && self->conns[i].gen == 0) (void)s_connect(&self->conns[i]);  // failed: heartbeat
    LOG_INFO("worker.schedulers", "connected to the schedulers of the map", "version", LI(snap->version), "nodes",
             LI(snap->nnodes), "joined", LI(joined), "left", LI(left));
    lull_schedmap_snap_release(&snap);
}

static void s_on_heartbeat(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    worker_app_t *self = arg;
    int64_t now = lull_clock_mono_ms(), hb = self->cfg->heartbeat_ms;
    s_follow_map(self);
    for (int i = 0; i < self->nconns; i++) {
        s_conn_t *c = &self->conns[i];
        if (!c->active) continue;
        if (!c->sock || now - c->last_recv_ms >= hb * self->cfg->heartbeat_liveness) {
            lull_counter_add(self->m_reconnects, 1);
            LOG_WARN("sched.silent", "scheduler silent; reconnecting with a new identity", "endpoint", LS(c->endpoint),
                     "ms", LI(now - c->last_recv_ms));
            (void)s_connect(c);
            continue;
        }
        if (now - c->last_send_ms >= hb) {
            lull_msg_t beat = {.type = LULL_MSG_HEARTBEAT};
            beat.u.heartbeat.credit = -1;
            (void)s_send(c, &beat);
        }
    }
}

worker_app_t *worker_app_new(lull_proc_t *proc, const worker_cfg_t *cfg)
{
    worker_app_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->proc = proc;
    self->cfg = cfg;
    if (cfg->name && *cfg->name) snprintf(self->name, sizeof self->name, "%s", cfg->name);
    else {
        char host[48] = "worker";
        gethostname(host, sizeof host - 1);
        snprintf(self->name, sizeof self->name, "%.40s:%d", host, (int)getpid());
    }
    self->m_reconnects = lull_metrics_counter(proc->metrics, "lull_worker_sched_reconnects_total", NULL,
                                              "DEALER connections reopened after a silent scheduler");
    self->m_bad_frames = lull_metrics_counter(proc->metrics, "lull_worker_bad_messages_total", NULL,
                                              "invalid ZeroMQ messages dropped");
    self->m_outbox_dropped = lull_metrics_counter(proc->metrics, "lull_worker_outbox_wakeups_dropped_total", NULL,
                                                  "OUTBOX wake-ups not sent (the sender's sweep finds the rows)");
    self->m_joined = lull_metrics_counter(proc->metrics, "lull_worker_sched_joined_total", NULL,
                                          "schedulers connected because they joined the scheduler map");
    self->m_left = lull_metrics_counter(proc->metrics, "lull_worker_sched_left_total", NULL,
                                        "scheduler connections dropped because their node left the scheduler map");
    self->conns = calloc(MAX_SCHEDULERS, sizeof *self->conns);
    if (!self->conns) goto fail;
    self->jobs = worker_jobs_new(cfg, proc->loop, proc->db, proc->metrics, s_job_done, self);
    if (!self->jobs) goto fail;
    self->prune = worker_prune_new(cfg, proc->loop, proc->db, proc->metrics);
    if (!self->prune) goto fail;
    if (cfg->senders.n > MAX_SENDERS) {
        LOG_ERROR("config.senders", "too many sender endpoints", "max", LI(MAX_SENDERS));
        goto fail;
    }
    self->push = zsock_new(ZMQ_PUSH);
    if (!self->push) goto fail;
    zsock_set_linger(self->push, 0);
    zsock_set_sndhwm(self->push, PUSH_HWM);
    bool push_ok = true;
    for (size_t i = 0; i < cfg->senders.n; i++) {
        if (zsock_connect(self->push, "%s", cfg->senders.items[i]) != 0) {
            LOG_ERROR("sender.connect_failed", "cannot connect to sender", "endpoint", LS(cfg->senders.items[i]));
            push_ok = false;
        }
    }
    if (!push_ok) goto fail;
    int n = (int)cfg->schedulers.n;
    for (int i = 0; i < n; i++)  // the fixed list (at most 64: its setting's bound)
        if (!s_add(self, cfg->schedulers.items[i])) goto fail;
    s_split_credit(self);
    for (int i = 0; i < n; i++)
        if (s_connect(&self->conns[i]) != 0) goto fail;
    if (n == 0) {  // discover: every live scheduler of the map, followed on the heartbeat
        self->map = lull_schedmap_new(cfg->common.database_url, cfg->sched_map_refresh_ms, proc->metrics);
        if (!self->map) goto fail;
    }
    self->hb_timer = lull_loop_add_timer(proc->loop, cfg->heartbeat_ms, cfg->heartbeat_ms, s_on_heartbeat, self);
    if (self->hb_timer < 0) goto fail;
    LOG_INFO("worker.ready", "worker running", "name", LS(self->name), "schedulers", LI(n), "discover", LB(n == 0),
             "concurrency", LI(cfg->concurrency));
    return self;
fail:
    worker_app_destroy(&self);
    return NULL;
}

void worker_app_destroy(worker_app_t **self_p)
{
    if (!self_p || !*self_p) return;
    worker_app_t *self = *self_p;
    if (self->hb_timer > 0) lull_loop_cancel_timer(self->proc->loop, self->hb_timer);
    worker_prune_destroy(&self->prune);
    worker_jobs_destroy(&self->jobs);  // DONE for every job still held
    for (int i = 0; self->conns && i < self->nconns; i++) {
        s_conn_t *c = &self->conns[i];
        if (c->sock) {
            // credit 0 after the DONEs (which each returned a credit), so no new job comes here; then give the
            // queued messages a moment to leave before the socket closes
            lull_msg_t ready = {.type = LULL_MSG_READY};
            snprintf(ready.u.ready.name, sizeof ready.u.ready.name, "%s", self->name);
            (void)s_send(c, &ready);
            zsock_set_linger(c->sock, 1000);
            lull_loop_remove_socket(self->proc->loop, zsock_resolve(c->sock));
            zsock_destroy(&c->sock);
        }
    }
    zsock_destroy(&self->push);
    lull_schedmap_destroy(&self->map);
    free(self->conns);
    free(self);
    *self_p = NULL;
}
