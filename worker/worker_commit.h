// The commit sink: a job's result committed under the compare-and-swap on conversations.answered_upto, in
// batches (the common results of a batch one set statement, a result with a rare part one statement of its own;
// a batch's statements pipelined as one transaction), then its DONE.
#ifndef WORKER_COMMIT_H
#define WORKER_COMMIT_H

#include "lull_db.h"
#include "lull_metrics.h"
#include "worker_dbq.h"
#include "worker_sink.h"

#define WORKER_COMMIT_BATCH 128  // jobs per commit transaction at most

// Creates the commit sink over db (borrowed); report is called once for every job emitted to it. With dbq
// (borrowed; NULL = none) the batches, the re-reads after a lost compare-and-swap and the failed-attempt updates
// run on the database thread, one batch at a time, and are reported when back on the loop. NULL on allocation
// failure. Free with sink->destroy (which commits and reports what is queued or on the thread first), before
// dbq.
worker_sink_t *worker_commit_new(lull_db_t *db, worker_dbq_t *dbq, lull_metrics_t *metrics, worker_report_fn *report,
                                void *arg);

#endif
