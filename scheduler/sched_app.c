// lull-scheduler's life cycle and loop: binds the three sockets, puts the parts together (intake: windows from
// INBOUND and the database; workers: credit, jobs and dispatch; control: list/cancel/flush/try), registers
// them on the loop, fires due windows and dispatches from the loop's deadline provider, publishes the gauges.
#include "sched_app.h"

#include <czmq.h>

#include "sched_control.h"
#include "sched_intake.h"
#include "sched_lease.h"
#include "sched_notify.h"
#include "sched_windows.h"
#include "sched_workers.h"
#include "lull_clock.h"
#include "lull_log.h"
#include "lull_proto.h"

#include <stdlib.h>

#define RECV_BATCH 1000  // messages handled per socket event before timers get a turn

// The three sockets the loop waits on, each handled by one part.
typedef enum { S_INBOUND = 0, S_WORKERS, S_CONTROL, S_NSOCKETS } s_socket_kind_t;

typedef struct {
    sched_app_t *app;
    s_socket_kind_t kind;
    zsock_t *sock;
} s_socket_t;

struct sched_app {
    const sched_cfg_t *cfg;
    lull_proc_t *proc;
    s_socket_t sockets[S_NSOCKETS];
    sched_windows_t *win;
    sched_intake_t *intake;
    sched_workers_t *workers;
    sched_control_t *ctl;
    sched_lease_t *lease;  // lease mode (LULL_SCHED_SHARDS = 1); NULL in static shard mode
    sched_notify_t *notify;  // lease mode: LISTEN lull_sched, rebalance soon after a change
    int timers[4];  // heartbeat, sweep, tenant refresh, lease
    lull_gauge_t *g_live, *g_ready, *g_workers, *g_credit, *g_inflight;
    lull_counter_t *c_fired, *c_tick_timer, *c_tick_notify;
    lull_histogram_t *h_burst, *h_late;
};

static const double s_burst_bounds[] = {1, 2, 3, 5, 8, 13, 21, 50, 100, 1000};

// Handles up to RECV_BATCH messages waiting on a socket (then timers get a turn) by the part that owns it.
static void s_on_socket(lull_loop_t *loop, int fd, int events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)events;
    s_socket_t *s = arg;
    sched_app_t *self = s->app;
    for (int k = 0; k < RECV_BATCH && (zsock_events(s->sock) & ZMQ_POLLIN); k++) {
        zmsg_t *z = zmsg_recv(s->sock);
        if (!z) break;
        if (s->kind == S_INBOUND) sched_intake_inbound(self->intake, z);
        else if (s->kind == S_WORKERS) sched_workers_handle(self->workers, z);
        else sched_control_handle(self->ctl, z);
        zmsg_destroy(&z);
    }
}

// ---- timers

static void s_on_fire(void *arg, const sched_window_info_t *info, int64_t now)
{
    sched_app_t *self = arg;
    lull_counter_add(self->c_fired, 1);
    lull_histogram_observe(self->h_late, (double)(now - info->deadline_ms) / 1000.0);
    lull_histogram_observe(self->h_burst, info->messages);
}

static void s_update_gauges(sched_app_t *self)
{
    lull_gauge_set(self->g_live, (double)sched_windows_count(self->win));
    lull_gauge_set(self->g_ready, (double)sched_windows_ready_count(self->win));
    lull_gauge_set(self->g_workers, sched_workers_count(self->workers));
    lull_gauge_set(self->g_credit, (double)sched_workers_credit(self->workers));
    lull_gauge_set(self->g_inflight, (double)sched_workers_in_flight(self->workers));
}

// Deadline provider of the loop: fires due windows, dispatches, and says when to look again.
static int64_t s_deadline(void *arg)
{
    sched_app_t *self = arg;
    if (self->lease) (void)sched_lease_check(self->lease);  // an expired lease drops everything before dispatch
    sched_windows_expire(self->win, s_on_fire, self);
    sched_workers_dispatch(self->workers);
    s_update_gauges(self);
    int64_t next = sched_windows_next_ms(self->win);
    if (sched_windows_ready_count(self->win) > 0) {
        // waiting for credit, a back-pressure end, or the database: look again soon
        int64_t soon = sched_workers_wait_ms(self->workers);
        if (soon >= 0 && (next < 0 || soon < next)) next = soon;
    }
    return next;
}

static void s_on_heartbeat(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sched_app_t *self = arg;
    sched_workers_heartbeat(self->workers);
    sched_control_expire(self->ctl);
}

static void s_on_sweep(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sched_app_t *self = arg;
    sched_intake_sweep(self->intake);
}

static void s_on_tenants(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sched_app_t *self = arg;
    sched_intake_refresh_tenants(self->intake);
}

static void s_on_lease(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sched_app_t *self = arg;
    lull_counter_add(self->c_tick_timer, 1);
    sched_lease_tick(self->lease);
}

// A change of the cluster was notified (debounced): rebalance now rather than at the next tick.
static void s_on_notify(void *arg)
{
    sched_app_t *self = arg;
    lull_counter_add(self->c_tick_notify, 1);
    LOG_DEBUG("lease.rebalance", "rebalancing after a change of the scheduler cluster", "owned",
              LI(sched_lease_owned(self->lease)));
    sched_lease_tick(self->lease);
}

// ---- lease mode: what the partitions' owner changes do to the windows

static void s_on_claim(void *arg, const int *partitions, int n)
{
    sched_app_t *self = arg;
    sched_intake_recover(self->intake, partitions, n);
}

typedef struct {
    const bool *dropped;
    int partitions;
    int64_t *convs;
    size_t n, cap;
    bool oom;
} s_collect_t;

static bool s_collect(void *arg, const sched_window_info_t *info)
{
    s_collect_t *c = arg;
    if (!c->dropped[lull_proto_partition(info->conversation_id, c->partitions)]) return true;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        int64_t *v = realloc(c->convs, cap * sizeof *v);
        if (!v) {
            c->oom = true;
            return false;
        }
        c->convs = v;
        c->cap = cap;
    }
    c->convs[c->n++] = info->conversation_id;
    return true;
}

// Forgets the windows of the dropped partitions (their jobs in flight are left to the workers: the database
// decides); dispatch already refuses them, since the partitions are no longer owned.
static void s_on_drop(void *arg, const int *partitions, int n)
{
    sched_app_t *self = arg;
    bool dropped[SCHED_LEASE_MAX_PARTITIONS] = {0};
    for (int i = 0; i < n; i++) dropped[partitions[i]] = true;
    s_collect_t c = {.dropped = dropped, .partitions = (int)self->cfg->partitions};
    sched_windows_each(self->win, s_collect, &c);
    for (size_t i = 0; i < c.n; i++) (void)sched_windows_drop(self->win, c.convs[i]);
    if (c.oom) LOG_ERROR("partitions.drop_oom", "cannot list every window to drop; dispatch still refuses them");
    LOG_INFO("windows.dropped", "windows of partitions no longer owned forgotten", "partitions", LI(n), "windows",
             LI((int64_t)c.n));
    free(c.convs);
}

static bool s_owns(void *arg, int64_t conv, int64_t *epoch)
{
    sched_app_t *self = arg;
    bool owned = sched_lease_owns(self->lease, conv);
    if (epoch) *epoch = owned ? sched_lease_epoch(self->lease, conv) : 0;
    return owned;
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
    self->c_fired = lull_metrics_counter(r, "lull_sched_windows_fired_total", NULL, "windows that became due");
    static const char *help_ticks = "lease mode: rebalances (heartbeat, renewal, fair share) by cause: the renewal "
                                    "timer, or a NOTIFY lull_sched";
    self->c_tick_timer = lull_metrics_counter(r, "lull_sched_rebalances_total", "cause=\"timer\"", help_ticks);
    self->c_tick_notify = lull_metrics_counter(r, "lull_sched_rebalances_total", "cause=\"notify\"", help_ticks);
    self->h_burst = lull_metrics_histogram(r, "lull_sched_burst_messages", NULL, "messages per answered burst",
                                           s_burst_bounds, sizeof s_burst_bounds / sizeof s_burst_bounds[0]);
    self->h_late = lull_metrics_histogram(r, "lull_sched_fire_lateness_seconds", NULL, "window fire time minus deadline",
                                          LULL_METRICS_LATENCY_BUCKETS, LULL_METRICS_LATENCY_NBUCKETS);
}

sched_app_t *sched_app_new(const sched_cfg_t *cfg, lull_proc_t *proc)
{
    sched_app_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->cfg = cfg;
    self->proc = proc;
    if (cfg->shard >= cfg->shards) {
        LOG_ERROR("config.shard", "LULL_SCHED_SHARD must be below LULL_SCHED_SHARDS", "shard", LI(cfg->shard),
                  "shards", LI(cfg->shards));
        goto fail;
    }
    s_metrics(self);
    self->win = sched_windows_new();
    self->intake = self->win ? sched_intake_new(cfg, proc, self->win) : NULL;
    if (!self->intake) goto fail;
    static const struct {
        int type;
        const char *what;
    } kinds[S_NSOCKETS] = {{ZMQ_PULL, "inbound"}, {ZMQ_ROUTER, "workers"}, {ZMQ_ROUTER, "control"}};
    const char *endpoints[S_NSOCKETS] = {cfg->inbound_endpoint, cfg->worker_endpoint, cfg->control_endpoint};
    for (int i = 0; i < S_NSOCKETS; i++) {
        self->sockets[i] = (s_socket_t){.app = self, .kind = (s_socket_kind_t)i};
        self->sockets[i].sock = s_bind(kinds[i].type, endpoints[i], kinds[i].what);
        if (!self->sockets[i].sock) goto fail;
    }
    self->workers = sched_workers_new(cfg, proc, self->win, self->sockets[S_WORKERS].sock);
    self->ctl = self->workers
                    ? sched_control_new(cfg, proc, self->win, self->workers, self->sockets[S_CONTROL].sock)
                    : NULL;
    if (!self->ctl) goto fail;
    if (cfg->shards == 1) {
        self->lease = sched_lease_new(cfg, proc, s_on_claim, s_on_drop, self);
        if (!self->lease) goto fail;
        sched_intake_set_lease(self->intake, self->lease);
        sched_workers_set_owner(self->workers, s_owns, self);
        // listening before it joins: no hand-over that its join causes goes unheard
        self->notify = sched_notify_new(proc->loop, cfg->common.database_url, cfg->rebalance_debounce_ms,
                                        proc->metrics, s_on_notify, self);
        if (!self->notify) goto fail;
    }
    sched_intake_start(self->intake);
    if (self->lease && sched_lease_start(self->lease) != 0) goto fail;
    lull_loop_t *loop = proc->loop;
    for (int i = 0; i < S_NSOCKETS; i++)
        if (lull_loop_add_socket(loop, zsock_resolve(self->sockets[i].sock), LULL_LOOP_IN, s_on_socket,
                                 &self->sockets[i]) != 0)
            goto fail;
    if (lull_loop_add_deadline(loop, s_deadline, self) != 0) goto fail;
    self->timers[0] = lull_loop_add_timer(loop, cfg->heartbeat_ms, cfg->heartbeat_ms, s_on_heartbeat, self);
    self->timers[1] = lull_loop_add_timer(loop, cfg->sweep_ms, cfg->sweep_ms, s_on_sweep, self);
    self->timers[2] = lull_loop_add_timer(loop, cfg->tenant_refresh_ms, cfg->tenant_refresh_ms, s_on_tenants, self);
    if (self->lease) {
        int64_t ms = sched_lease_tick_ms(self->lease);
        self->timers[3] = lull_loop_add_timer(loop, ms, ms, s_on_lease, self);
    }
    if (self->timers[0] < 0 || self->timers[1] < 0 || self->timers[2] < 0 || self->timers[3] < 0) goto fail;
    LOG_INFO("scheduler.ready", "scheduler serving", "windows", LI((int64_t)sched_windows_count(self->win)),
             "tenants", LI(sched_intake_tenants(self->intake)), "mode", LS(self->lease ? "lease" : "static"),
             "partitions", LI(self->lease ? sched_lease_owned(self->lease) : 0));
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
    // first: release every partition at once (the others hear it and claim them) and leave sched_nodes
    sched_notify_destroy(&self->notify);
    sched_lease_destroy(&self->lease);
    if (self->intake) sched_intake_set_lease(self->intake, NULL);
    if (self->workers) sched_workers_set_owner(self->workers, NULL, NULL);
    lull_loop_t *loop = self->proc->loop;
    if (loop) {
        for (int i = 0; i < S_NSOCKETS; i++)
            if (self->sockets[i].sock) lull_loop_remove_socket(loop, zsock_resolve(self->sockets[i].sock));
        for (int i = 0; i < 4; i++)
            if (self->timers[i] > 0) lull_loop_cancel_timer(loop, self->timers[i]);
    }
    if (self->workers && sched_workers_in_flight(self->workers) > 0)
        LOG_INFO("scheduler.stop", "jobs in flight left to their workers (the database decides)", "jobs",
                 LI((int64_t)sched_workers_in_flight(self->workers)));
    sched_control_destroy(&self->ctl);
    sched_workers_destroy(&self->workers);
    sched_intake_destroy(&self->intake);
    for (int i = 0; i < S_NSOCKETS; i++) zsock_destroy(&self->sockets[i].sock);
    sched_windows_destroy(&self->win);
    free(self);
    *self_p = NULL;
}
