// lull-worker's application: DEALER connections to every scheduler shard (READY/credit, JOB, DONE,
// heartbeats, reconnect), the PUSH to the senders, and the job engine.
#ifndef WORKER_APP_H
#define WORKER_APP_H

#include "lull_proc.h"
#include "worker_config.h"

typedef struct worker_app worker_app_t;

// Creates the sockets and the job engine on the process kit (borrowed, as is cfg). NULL on failure (logged).
worker_app_t *worker_app_new(lull_proc_t *proc, const worker_cfg_t *cfg);
// Closes the sockets (jobs in flight are dropped: the scheduler re-dispatches them) and frees; nulls the pointer.
void worker_app_destroy(worker_app_t **self_p);

#endif
