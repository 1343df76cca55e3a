// The trial sink: a dry run (CTL_REQ op try, the admin API's test endpoints) is a job whose outcome becomes
// a CTL_REP with what would have been sent (reply, escalation, analysis, usage), and nothing is written.
#ifndef WORKER_TRIAL_H
#define WORKER_TRIAL_H

#include <stdbool.h>
#include <stdint.h>

#include "lull_metrics.h"
#include "worker_job.h"
#include "worker_sink.h"

// Creates the sink of one dry run: its answer goes through done (conn and gen as given at start) with the
// request's req_id; analyse: mode "analyse" (the analysis call only). tries (may be NULL) counts answers.
// NULL on allocation failure. The engine destroys it after its emit.
worker_sink_t *worker_trial_new(uint64_t req_id, int conn, int gen, bool analyse, worker_done_fn *done, void *arg,
                                lull_counter_t *tries);
// Answers a dry run that never became a job: status and body (owned JSON, freed here; NULL = out of memory,
// answered 500) in a CTL_REP for req_id through done.
void worker_trial_reply(worker_done_fn *done, void *arg, lull_counter_t *tries, uint64_t req_id, int conn, int gen,
                        int status, char *body);

#endif
