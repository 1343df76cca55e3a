// The load queue of lull-worker: jobs queued for loading go to PostgreSQL together, as two set statements for
// them all (WORKER_LOAD_ROWS and WORKER_LOAD_HISTORIES) in one pipeline, whose rows are split into each job's
// two results: on the loop's connection at once, or as one task on the database thread (one at a time: the
// jobs queued while it runs go as the next).
#ifndef WORKER_LOADQ_H
#define WORKER_LOADQ_H

#include <stdint.h>

#include "lull_db.h"
#include "worker_dbq.h"

// Embedded in the caller's job (no allocation per job). The queue reads conv_id and upto on the loop only.
typedef struct worker_loadq_item {
    int64_t conv_id, upto;
    struct worker_loadq_item *next;  // private
} worker_loadq_item_t;

typedef struct worker_loadq worker_loadq_t;

// Called on the loop once per item loaded, with the results of its two statements (taken; NULL when a
// statement failed).
typedef void(worker_loadq_fn)(worker_loadq_item_t *item, PGresult *row, PGresult *history, void *arg);

// db: the loop's connection; dbq: the database thread, NULL = none (both borrowed). NULL when out of memory.
worker_loadq_t *worker_loadq_new(lull_db_t *db, worker_dbq_t *dbq, worker_loadq_fn *fn, void *arg);
// Queues an item for the next flush (the caller keeps it alive until fn is called or the queue is stopped).
void worker_loadq_add(worker_loadq_t *self, worker_loadq_item_t *item);
// Loads what is queued: fn is called for each item now (no thread) or when the task is back.
void worker_loadq_flush(worker_loadq_t *self);
// From now on fn is never called: the queued items are forgotten, and a task back from the thread only frees
// its results. The caller still frees its jobs, after worker_dbq_drain when a task may be on the thread.
void worker_loadq_stop(worker_loadq_t *self);
// Frees (after worker_dbq_drain when there is a thread); NULL-safe, nulls the pointer.
void worker_loadq_destroy(worker_loadq_t **self_p);

#endif
