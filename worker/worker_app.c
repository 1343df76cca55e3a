// The dispatch side of lull-worker (protocol in docs/worker.md): one DEALER per scheduler shard, each
// with a random identity, READY{credit} on connect, a JOB per credit, a DONE per job, heartbeats both
// ways, and a fresh DEALER (new identity, READY again) when a scheduler falls silent.
#include "worker_app.h"
#include "lull_proto.h"
#include "lull_clock.h"
#include "lull_crypto.h"
#include "lull_log.h"
#include "worker_job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SCHEDULERS 64
#define MAX_SENDERS 64
#define RECV_BATCH 256
#define PUSH_HWM 10000

typedef struct {
    worker_app_t *app;
    int index;
    const char *endpoint;  // borrowed from the config
    zsock_t *sock;
    int gen;               // bumps on every reconnect
    int quota;             // credit share of this scheduler
    int held;              // jobs running that came from this scheduler (any generation)
    int64_t last_send_ms;  // monotonic
    int64_t last_recv_ms;  // monotonic
} s_conn_t;

struct worker_app {
    lull_proc_t *proc;
    const worker_cfg_t *cfg;
    char name[LULL_PROTO_MAX_NAME + 1];
    s_conn_t conns[MAX_SCHEDULERS];
    int nconns;
    zsock_t *push;
    worker_jobs_t *jobs;
    int hb_timer;
    lull_counter_t *m_reconnects, *m_bad_frames, *m_outbox_dropped;
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
    c->gen++;
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

static void s_on_heartbeat(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    worker_app_t *self = arg;
    int64_t now = lull_clock_mono_ms(), hb = self->cfg->heartbeat_ms;
    for (int i = 0; i < self->nconns; i++) {
        s_conn_t *c = &self->conns[i];
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
    self->jobs = worker_jobs_new(cfg, proc->loop, proc->db, proc->metrics, s_job_done, self);
    if (!self->jobs) goto fail;
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
    if (n <= 0 || n > MAX_SCHEDULERS) {
        LOG_ERROR("config.schedulers", "LULL_WORKER_SCHEDULERS must list 1 to 64 endpoints");
        goto fail;
    }
    self->nconns = n;
    int quota = (int)(cfg->concurrency / n);
    for (int i = 0; i < n; i++) {
        s_conn_t *c = &self->conns[i];
        c->app = self;
        c->index = i;
        c->endpoint = cfg->schedulers.items[i];
        c->quota = quota > 0 ? quota : 1;
    }
    for (int i = 0; i < n; i++)
        if (s_connect(&self->conns[i]) != 0) goto fail;
    self->hb_timer = lull_loop_add_timer(proc->loop, cfg->heartbeat_ms, cfg->heartbeat_ms, s_on_heartbeat, self);
    if (self->hb_timer < 0) goto fail;
    LOG_INFO("worker.ready", "worker running", "name", LS(self->name), "schedulers", LI(n), "concurrency",
             LI(cfg->concurrency));
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
    worker_jobs_destroy(&self->jobs);  // DONE for every job still held
    for (int i = 0; i < self->nconns; i++) {
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
    free(self);
    *self_p = NULL;
}
