// Pruning of usage_tenant_day. Every worker prunes (they share the database and any one may be running);
// FOR UPDATE SKIP LOCKED lets two of them work on different rows instead of waiting on each other's, and a
// batch is small (LULL_USAGE_PRUNE_BATCH rows, found by usage_tenant_day_day_idx), so the loop is not held.
#include "worker_prune.h"
#include "lull_log.h"

#include <stdio.h>
#include <stdlib.h>

struct worker_prune {
    const worker_cfg_t *cfg;
    lull_loop_t *loop;
    lull_db_t *db;
    int timer;       // the periodic timer, 0 when none
    int more_timer;  // the next batch of a pass (the last one was full), 0 when none
    int64_t pass_rows;  // rows deleted by the pass in progress
    lull_counter_t *m_rows, *m_errors;
};

int64_t worker_prune_batch(worker_prune_t *self)
{
    static const char *sql =
        "DELETE FROM usage_tenant_day d USING (SELECT tenant_id, day, backend FROM usage_tenant_day"
        " WHERE day < current_date - $1::int ORDER BY day LIMIT $2 FOR UPDATE SKIP LOCKED) o"
        " WHERE d.tenant_id = o.tenant_id AND d.day = o.day AND d.backend = o.backend";
    char keep[24], batch[24];
    snprintf(keep, sizeof keep, "%lld", (long long)self->cfg->usage_days_keep);
    snprintf(batch, sizeof batch, "%lld", (long long)self->cfg->usage_prune_batch);
    const char *params[2] = {keep, batch};
    int64_t rows = 0;
    if (lull_db_run(self->db, sql, 2, params, &rows) != 0) {
        lull_counter_add(self->m_errors, 1);
        LOG_WARN("usage.prune_failed", "old rows of usage_tenant_day not deleted; the next pass retries", "error",
                 LS(lull_db_error(self->db)));
        return -1;
    }
    lull_counter_add(self->m_rows, (uint64_t)rows);
    return rows;
}

static void s_pass_end(worker_prune_t *self)
{
    if (self->pass_rows > 0)
        LOG_INFO("usage.pruned", "old rows of usage_tenant_day deleted", "rows", LI(self->pass_rows), "days_keep",
                 LI(self->cfg->usage_days_keep));
    self->pass_rows = 0;
}

// One batch of the pass; true when it was full (more to delete), else the pass ends here (last batch or error).
static bool s_step(worker_prune_t *self)
{
    int64_t n = worker_prune_batch(self);
    if (n > 0) self->pass_rows += n;
    if (n >= self->cfg->usage_prune_batch) return true;
    s_pass_end(self);
    return false;
}

static void s_on_more(lull_loop_t *loop, int timer_id, void *arg)
{
    worker_prune_t *self = arg;
    if (s_step(self)) return;
    lull_loop_cancel_timer(loop, timer_id);
    self->more_timer = 0;
}

static void s_on_tick(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)timer_id;
    worker_prune_t *self = arg;
    if (self->more_timer || !lull_db_connected(self->db)) return;  // a pass in progress, or no database now
    if (!s_step(self)) return;
    // a full batch: the next ones on the following loop turns, so jobs and heartbeats keep flowing
    self->more_timer = lull_loop_add_timer(loop, 0, 1, s_on_more, self);
    if (self->more_timer < 0) {
        self->more_timer = 0;
        s_pass_end(self);
    }
}

worker_prune_t *worker_prune_new(const worker_cfg_t *cfg, lull_loop_t *loop, lull_db_t *db, lull_metrics_t *metrics)
{
    worker_prune_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->cfg = cfg;
    self->loop = loop;
    self->db = db;
    self->m_rows = lull_metrics_counter(metrics, "lull_worker_usage_pruned_total", NULL,
                                        "rows of usage_tenant_day deleted past LULL_USAGE_DAYS_KEEP");
    self->m_errors = lull_metrics_counter(metrics, "lull_worker_usage_prune_errors_total", NULL,
                                          "prune batches of usage_tenant_day that failed");
    if (cfg->usage_days_keep > 0 && db) {
        // the first pass soon after start (not at once: the first jobs come first), then every period
        int64_t first = cfg->usage_prune_ms < 1000 ? cfg->usage_prune_ms : 1000;
        self->timer = lull_loop_add_timer(loop, first, cfg->usage_prune_ms, s_on_tick, self);
        if (self->timer < 0) {
            free(self);
            return NULL;
        }
    }
    return self;
}

void worker_prune_destroy(worker_prune_t **self_p)
{
    if (!self_p || !*self_p) return;
    worker_prune_t *self = *self_p;
    if (self->timer > 0) lull_loop_cancel_timer(self->loop, self->timer);
    if (self->more_timer > 0) lull_loop_cancel_timer(self->loop, self->more_timer);
    free(self);
    *self_p = NULL;
}
