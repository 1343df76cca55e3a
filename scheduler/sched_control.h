// The scheduler's control socket (ROUTER; DEALER or REQ clients, the admin API): list, cancel and flush
// windows, and dry runs ("try") relayed to a worker and back, answered 503/504 when that worker is lost or
// late.
#ifndef SCHED_CONTROL_H
#define SCHED_CONTROL_H

#include <czmq.h>

#include "lull_proc.h"
#include "sched_config.h"
#include "sched_windows.h"
#include "sched_workers.h"

typedef struct sched_control sched_control_t;

// Creates the control handler and becomes workers' dry-run relay. cfg, proc, win, workers and control (the
// bound socket) are borrowed for its life. NULL on allocation failure.
sched_control_t *sched_control_new(const sched_cfg_t *cfg, lull_proc_t *proc, sched_windows_t *win,
                                   sched_workers_t *workers, zsock_t *control);
// Stops relaying and frees the handler (dry runs in progress get no answer); NULL-safe, nulls the pointer.
void sched_control_destroy(sched_control_t **self_p);
// Handles one message received on the control socket (borrowed) and answers it, or forwards a dry run.
void sched_control_handle(sched_control_t *self, zmsg_t *z);
// Answers 504 for the dry runs past LULL_SCHED_TRY_TIMEOUT_MS and forgets them.
void sched_control_expire(sched_control_t *self);

#endif
