// Deletes the rows of usage_tenant_day (the running total of LLM requests per tenant and day, migration 026)
// older than LULL_USAGE_DAYS_KEEP days: a bounded batch every LULL_USAGE_PRUNE_MS, and further batches on the
// next loop turns while a batch comes back full. The table usage keeps the history.
#ifndef WORKER_PRUNE_H
#define WORKER_PRUNE_H

#include "lull_db.h"
#include "lull_loop.h"
#include "lull_metrics.h"
#include "worker_config.h"

typedef struct worker_prune worker_prune_t;

// Starts pruning on loop with db (both borrowed, they outlive it); NULL on failure. With LULL_USAGE_DAYS_KEEP
// 0 it does nothing (no timer).
worker_prune_t *worker_prune_new(const worker_cfg_t *cfg, lull_loop_t *loop, lull_db_t *db, lull_metrics_t *metrics);
// Cancels the timers and frees.
void worker_prune_destroy(worker_prune_t **self_p);
// Deletes one batch at once: the rows deleted, -1 on a database error (logged).
int64_t worker_prune_batch(worker_prune_t *self);

#endif
