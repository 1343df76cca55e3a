// The job engine: turns a JOB into a reply (load, decisions, provider chain with tools and analysis, the
// commit guarded by the compare-and-swap) and reports one DONE per job; a dry run is the same job with a
// trial sink in place of the commit (worker_sink.h).
#ifndef WORKER_JOB_H
#define WORKER_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "lull_db.h"
#include "lull_loop.h"
#include "lull_metrics.h"
#include "lull_proto.h"
#include "worker_config.h"

typedef struct worker_jobs worker_jobs_t;

// Called once per started job with its DONE (type LULL_MSG_DONE; LULL_MSG_CTL_REP for a dry run), the connection tag given at start, and the
// outbox rows committed (to announce to the senders). Pointers are borrowed for the call.
typedef void(worker_done_fn)(const lull_msg_t *done, int conn, int gen, const int64_t *outbox_ids, size_t noutbox,
                             void *arg);

// Creates the engine on loop and db (both borrowed; cfg too). NULL on failure.
worker_jobs_t *worker_jobs_new(const worker_cfg_t *cfg, lull_loop_t *loop, lull_db_t *db, lull_metrics_t *metrics,
                               worker_done_fn *done, void *arg);
// Commits the jobs that finished, aborts the running ones and reports each with DONE failed_retryable (retry
// after 1 ms: the scheduler re-dispatches it at once; a dry run gets CTL_REP 503), frees; nulls the pointer.
void worker_jobs_destroy(worker_jobs_t **self_p);
// Starts a job (msg->type == LULL_MSG_JOB): queued for the next load batch; done is called exactly once later.
void worker_jobs_start(worker_jobs_t *self, const lull_msg_t *msg, int conn, int gen);
// Starts a dry run (msg: CTL_REQ op try, body {"tenant_id","text","mode":"reply"|"analyse"}): the job pipeline for a
// conversation of just that text, without committing or sending anything. done is called exactly once, with a
// CTL_REP (same req_id): 200 and what would have been sent (reply, escalation, analysis, usage), or an error body.
void worker_jobs_try(worker_jobs_t *self, const lull_msg_t *msg, int conn, int gen);
// Runs the queued database work now: loads of newly started jobs, commits of finished ones (each batch in
// one pipeline). Also run by the engine every few milliseconds; call it after a burst of starts.
void worker_jobs_flush(worker_jobs_t *self);
// Jobs running now.
size_t worker_jobs_running(const worker_jobs_t *self);

#endif
