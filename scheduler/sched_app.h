// The lull-scheduler process: INBOUND wake-ups open and reset windows, due windows are dispatched to
// workers by credit (READY/JOB/DONE/HEARTBEAT over ROUTER), the control socket lists/cancels/flushes, and
// the database rebuilds everything after a restart (recovery) and repairs lost wake-ups (sweep).
#ifndef SCHED_APP_H
#define SCHED_APP_H

#include "lull_proc.h"
#include "sched_config.h"

typedef struct sched_app sched_app_t;

// Binds the sockets, loads tenants, rebuilds windows from the database (when reachable; otherwise the
// first sweep does it) and registers everything on proc's loop. cfg and proc are borrowed for the app's
// life. NULL on failure (logged).
sched_app_t *sched_app_new(const sched_cfg_t *cfg, lull_proc_t *proc);
// Closes the sockets and frees everything; NULL-safe, nulls the pointer.
void sched_app_destroy(sched_app_t **self_p);

#endif
