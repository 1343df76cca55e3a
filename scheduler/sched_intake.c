// The scheduler's intake: INBOUND opens and resets windows; recovery and the sweep rebuild them from the
// database. Logs `window.opened` once for each conversation that had no window and now has one (INBOUND or sweep).
#include "sched_intake.h"
#include "sched_lease.h"
#include "sched_tenants.h"
#include "lull_clock.h"
#include "lull_log.h"
#include "lull_proto.h"

#include <stdio.h>
#include <stdlib.h>

// A keyset position in conversations_unanswered_partition_idx (partition, id): pages are read in that order so
// both modes are served by the one partial index of the unanswered set.
typedef struct {
    int64_t partition;  // -1 before the first page
    int64_t id;
} sched_intake_cursor_t;

struct sched_intake {
    const sched_cfg_t *cfg;
    lull_proc_t *proc;
    sched_windows_t *win;
    sched_tenants_t *tenants;
    sched_lease_t *lease;    // lease mode: the partitions owned; NULL in static shard mode
    bool recovered;          // the first full pass (recovery) is done
    bool sweeping;           // a pass is in progress
    sched_intake_cursor_t sweep_cursor;  // keyset: the last (partition, conversation id) read
    int sweep_page_timer;    // loop timer reading the pass's next page, 0 when none
    int64_t sweep_added;     // windows this pass added
    int64_t sweep_started_ms;  // monotonic
    int64_t sweep_next_ms;   // monotonic: no new pass before (a long pass spaces the next ones out)
    lull_counter_t *c_opened, *c_reset, *c_ignored, *c_recovered, *c_bad, *c_not_owned;
    lull_histogram_t *h_window;
};

static const double s_window_bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600};

// Window and max wait of a tenant on a channel, loading a tenant created since the last refresh.
static void s_tenant_window(sched_intake_t *self, int64_t tenant, int channel, int64_t *window, int64_t *max_wait)
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

// True when the conversation belongs to this scheduler: its partition is owned (lease mode) or its shard is
// this scheduler's (static mode).
static bool s_mine(const sched_intake_t *self, int64_t conv)
{
    if (self->lease) return sched_lease_owns(self->lease, conv);
    return lull_proto_shard(conv, (int)self->cfg->shards) == (int)self->cfg->shard;
}

// The log line that starts a conversation's story in this tier (source: "inbound" or "sweep").
static void s_log_opened(int64_t conv, int64_t tenant, int channel, int64_t window, int64_t max_wait,
                         const char *source)
{
    LOG_INFO("window.opened", "window opened", "conv", LI(conv), "tenant", LI(tenant), "channel",
             LS(lull_channel_name(channel)), "window_ms", LI(window), "max_wait_ms", LI(max_wait), "source",
             LS(source));
}

// ---- INBOUND

static void s_inbound(sched_intake_t *self, const lull_msg_t *m)
{
    int64_t conv = m->u.inbound.conversation_id;
    if (self->lease && !s_mine(self, conv)) {
        // a partition owned elsewhere, or in a hand-over: its owner's recovery or sweep finds the message
        lull_counter_add(self->c_not_owned, 1);
        LOG_DEBUG("inbound.not_owned", "INBOUND for a partition this scheduler does not own dropped", "conv",
                  LI(conv));
        return;
    }
    if (!self->lease && !s_mine(self, conv)) {
        // another shard's conversation (ingress's LULL_SCHEDULERS disagrees with LULL_SCHED_SHARD/SHARDS):
        // answering it here could race its own scheduler
        lull_counter_add(self->c_bad, 1);
        LOG_WARN("inbound.wrong_shard", "INBOUND for another shard dropped", "conv", LI(conv), "shard",
                 LI(self->cfg->shard), "shards", LI(self->cfg->shards));
        return;
    }
    int64_t tenant = m->u.inbound.tenant_id;
    int channel = lull_channel_parse(m->u.inbound.channel);
    int64_t window, max_wait;
    s_tenant_window(self, tenant, channel, &window, &max_wait);
    sched_inbound_t r =
        sched_windows_inbound(self->win, conv, tenant, channel, m->u.inbound.message_id, window, max_wait);
    switch (r) {
    case SCHED_IN_OPENED:
        lull_counter_add(self->c_opened, 1);
        lull_histogram_observe(self->h_window, (double)window / 1000.0);
        s_log_opened(conv, tenant, channel, window, max_wait, "inbound");
        return;
    case SCHED_IN_RESET: lull_counter_add(self->c_reset, 1); break;
    case SCHED_IN_IGNORED: lull_counter_add(self->c_ignored, 1); break;
    case SCHED_IN_ERROR:
        LOG_ERROR("window.oom", "cannot open a window; the sweep will retry", "conv", LI(conv));
        return;
    }
    LOG_DEBUG("inbound", r == SCHED_IN_RESET ? "window reset" : "ignored", "conv", LI(conv), "message_id",
              LI(m->u.inbound.message_id), "tenant", LI(tenant));
}

void sched_intake_inbound(sched_intake_t *self, zmsg_t *z)
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

// ---- recovery and sweep

// Reads one keyset page of conversations due for recovery after *cursor (moved on), of the partitions in
// parts (a PostgreSQL int[] literal; NULL: every conversation); adds the unknown ones to *added, logging each
// as window.opened with source (NULL: at debug level only). Rows read, -1 on error. Pages go in (partition, id)
// order, the order of conversations_unanswered_partition_idx, which serves both queries (checked with EXPLAIN:
// an index scan with the row comparison as its condition; docs/scheduler.md).
static int s_sweep_page(sched_intake_t *self, sched_intake_cursor_t *cursor, int64_t *added, const char *parts,
                        const char *source)
{
#define S_SWEEP_COLUMNS                                                                       \
    "SELECT id, tenant_id, channel, last_inbound_id, "                                        \
    "(extract(epoch FROM coalesce(first_unanswered_at, last_inbound_at, now())) * 1000)::bigint, " \
    "(extract(epoch FROM coalesce(last_inbound_at, now())) * 1000)::bigint, "                 \
    "(extract(epoch FROM now()) * 1000)::bigint, partition "                                  \
    "FROM conversations WHERE last_inbound_id > greatest(answered_upto, cancelled_upto) "     \
    "AND (partition, id) > ($1::int, $2::bigint) "
#define S_SWEEP_TAIL \
    "AND status = 'open' AND (paused_until IS NULL OR paused_until <= now()) ORDER BY partition, id LIMIT $3"
    static const char *sql_parts = S_SWEEP_COLUMNS "AND partition = ANY($4::int[]) " S_SWEEP_TAIL;
    static const char *sql = S_SWEEP_COLUMNS S_SWEEP_TAIL;
#undef S_SWEEP_COLUMNS
#undef S_SWEEP_TAIL
    lull_db_t *db = self->proc->db;
    PGresult *res = NULL;
    int n = -1;
    if (!db) goto cleanup;
    char p[24], a[24], b[24];
    snprintf(p, sizeof p, "%lld", (long long)cursor->partition);
    snprintf(a, sizeof a, "%lld", (long long)cursor->id);
    snprintf(b, sizeof b, "%lld", (long long)self->cfg->sweep_page);
    const char *params[4] = {p, a, b, parts};
    res = parts ? lull_db_exec(db, sql_parts, 4, params) : lull_db_exec(db, sql, 3, params);
    if (!res) goto cleanup;
    n = PQntuples(res);
    int64_t mono = lull_clock_mono_ms();
    for (int r = 0; r < n; r++) {
        bool ok[8];
        int64_t v[8];
        for (int c = 0; c < 8; c++) v[c] = c == 2 ? 0 : lull_db_int(res, r, c, &ok[c]);
        if (ok[0] && ok[7]) *cursor = (sched_intake_cursor_t){v[7], v[0]};  // keyset: move on, even past a bad row
        if (!ok[0] || !ok[1] || !ok[3] || !ok[4] || !ok[5] || !ok[6]) continue;
        if (!s_mine(self, v[0])) continue;  // another shard's conversation, or a partition released meanwhile
        if (sched_windows_get(self->win, v[0], NULL)) continue;
        int channel = lull_channel_parse(lull_db_text(res, r, 2));
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
        if (rc == 0) continue;
        (*added)++;
        // recovery at start may rebuild millions: those are counted in the `recovered` line
        if (source) s_log_opened(v[0], v[1], channel, window, max_wait, source);
        else LOG_DEBUG("recover.window", "window rebuilt from the database", "conv", LI(v[0]));
    }
cleanup:
    PQclear(res);
    return n;
}

static void s_sweep_start(sched_intake_t *self)
{
    self->sweeping = true;
    self->sweep_cursor = (sched_intake_cursor_t){-1, 0};
    self->sweep_added = 0;
    self->sweep_started_ms = lull_clock_mono_ms();
}

static void s_sweep_done(sched_intake_t *self)
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

// One page of the pass in progress: every conversation (static mode) or the partitions owned right now.
static int s_pass_page(sched_intake_t *self)
{
    char *parts = NULL;
    if (self->lease) {
        if (sched_lease_owned(self->lease) == 0) return 0;
        if (!(parts = sched_lease_owned_array(self->lease))) return -1;
    }
    int n = s_sweep_page(self, &self->sweep_cursor, &self->sweep_added, parts, self->recovered ? "sweep" : NULL);
    free(parts);
    return n;
}

static void s_on_sweep_page(lull_loop_t *loop, int timer_id, void *arg)
{
    sched_intake_t *self = arg;
    int n = s_pass_page(self);
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

void sched_intake_sweep(sched_intake_t *self)
{
    if (self->sweeping || !self->proc->db || !lull_db_connected(self->proc->db)) return;
    if (lull_clock_mono_ms() < self->sweep_next_ms) return;
    if (self->lease && sched_lease_owned(self->lease) == 0) return;  // nothing owned: nothing to sweep
    if (!self->recovered) (void)sched_tenants_load(self->tenants, self->proc->db);
    s_sweep_start(self);
    // one page per loop turn so INBOUND, DONE and heartbeats keep flowing during a long sweep
    self->sweep_page_timer = lull_loop_add_timer(self->proc->loop, 0, 1, s_on_sweep_page, self);
    if (self->sweep_page_timer < 0) self->sweeping = false;
}

void sched_intake_start(sched_intake_t *self)
{
    lull_db_t *db = self->proc->db;
    if (!db || !lull_db_connected(db)) {
        LOG_WARN("recover.deferred", "database unreachable; the first sweep will rebuild the windows");
        return;
    }
    if (sched_tenants_load(self->tenants, db) != 0)
        LOG_WARN("tenants.load_failed", "tenant settings not loaded; defaults apply", "error", LS(lull_db_error(db)));
    if (self->lease) return;  // lease mode: each claim recovers its partitions (sched_intake_recover)
    // recovery: every page at once (the loop is not serving yet)
    s_sweep_start(self);
    for (;;) {
        int n = s_pass_page(self);
        if (n < 0) {
            self->sweeping = false;
            LOG_WARN("recover.db_error", "recovery interrupted; the sweep will finish it", "error",
                     LS(lull_db_error(db)));
            return;
        }
        if (n < self->cfg->sweep_page) break;
    }
    s_sweep_done(self);
}

void sched_intake_recover(sched_intake_t *self, const int *partitions, int n)
{
    lull_db_t *db = self->proc->db;
    char *parts = sched_lease_array(partitions, n);
    if (!parts || !db) {
        free(parts);
        return;
    }
    int64_t t0 = lull_clock_mono_ms(), added = 0;
    sched_intake_cursor_t cursor = {-1, 0};
    for (;;) {
        int got = s_sweep_page(self, &cursor, &added, parts, NULL);
        if (got < 0) {
            LOG_WARN("recover.db_error", "recovery of claimed partitions interrupted; the sweep will finish it",
                     "error", LS(lull_db_error(db)));
            break;
        }
        if (got < self->cfg->sweep_page) break;
    }
    free(parts);
    lull_counter_add(self->c_recovered, (uint64_t)added);
    self->recovered = true;
    LOG_INFO("recovered", "windows of claimed partitions rebuilt from the database", "partitions", LI(n), "windows",
             LI(added), "ms", LI(lull_clock_mono_ms() - t0), "ready",
             LI((int64_t)sched_windows_ready_count(self->win)));
}

void sched_intake_set_lease(sched_intake_t *self, sched_lease_t *lease)
{
    self->lease = lease;
}

void sched_intake_refresh_tenants(sched_intake_t *self)
{
    lull_db_t *db = self->proc->db;
    if (db && lull_db_connected(db) && sched_tenants_load(self->tenants, db) != 0)
        LOG_WARN("tenants.refresh_failed", "tenant settings not refreshed", "error", LS(lull_db_error(db)));
}

int sched_intake_tenants(const sched_intake_t *self)
{
    return sched_tenants_count(self->tenants);
}

// ---- life cycle

sched_intake_t *sched_intake_new(const sched_cfg_t *cfg, lull_proc_t *proc, sched_windows_t *win)
{
    sched_intake_t *self = calloc(1, sizeof *self);
    if (!self) goto fail;
    *self = (sched_intake_t){.cfg = cfg, .proc = proc, .win = win};
    self->tenants = sched_tenants_new(cfg->default_window_ms, cfg->default_max_wait_ms);
    if (!self->tenants) goto fail;
    lull_metrics_t *r = proc->metrics;
    self->c_opened = lull_metrics_counter(r, "lull_sched_windows_opened_total", NULL, "windows opened by INBOUND");
    self->c_reset = lull_metrics_counter(r, "lull_sched_windows_reset_total", NULL, "windows reset by a new message");
    self->c_ignored = lull_metrics_counter(r, "lull_sched_inbound_ignored_total", NULL, "duplicate or old INBOUND");
    self->c_recovered = lull_metrics_counter(r, "lull_sched_windows_recovered_total", NULL, "windows rebuilt from the database (recovery and sweep)");
    self->c_bad = lull_metrics_counter(r, "lull_sched_bad_messages_total", NULL, "malformed ZeroMQ messages dropped");
    self->c_not_owned = lull_metrics_counter(r, "lull_sched_inbound_not_owned_total", NULL, "INBOUND for a partition this scheduler does not own, dropped (lease mode)");
    self->h_window = lull_metrics_histogram(r, "lull_sched_window_seconds", NULL, "window length of opened windows",
                                            s_window_bounds, sizeof s_window_bounds / sizeof s_window_bounds[0]);
    return self;
fail:
    sched_intake_destroy(&self);
    return NULL;
}

void sched_intake_destroy(sched_intake_t **self_p)
{
    if (!self_p || !*self_p) return;
    sched_intake_t *self = *self_p;
    if (self->sweep_page_timer > 0 && self->proc->loop) lull_loop_cancel_timer(self->proc->loop, self->sweep_page_timer);
    sched_tenants_destroy(&self->tenants);
    free(self);
    *self_p = NULL;
}
