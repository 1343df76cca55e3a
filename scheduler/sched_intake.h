// How conversations get their windows: INBOUND wake-ups (PULL socket), the recovery at start and the
// periodic sweep of the database (conversations no wake-up reached: lost INBOUND, hand-backs, ended pauses),
// each with its tenant's window settings (cached and refreshed here) and only for this scheduler's shard or owned partitions.
#ifndef SCHED_INTAKE_H
#define SCHED_INTAKE_H

#include <czmq.h>

#include "lull_proc.h"
#include "sched_config.h"
#include "sched_lease.h"
#include "sched_windows.h"

typedef struct sched_intake sched_intake_t;

// Creates the intake with an empty tenant cache and its metrics. cfg, proc and win are borrowed for its life.
// NULL on allocation failure.
sched_intake_t *sched_intake_new(const sched_cfg_t *cfg, lull_proc_t *proc, sched_windows_t *win);
// Stops a sweep in progress and frees the intake; NULL-safe, nulls the pointer.
void sched_intake_destroy(sched_intake_t **self_p);
// Start-up: loads the tenants and rebuilds every window from the database at once (the loop is not serving
// yet); when the database is unreachable the first sweep does it.
void sched_intake_start(sched_intake_t *self);
// Handles one message received on the INBOUND socket (borrowed): opens or resets its conversation's window.
void sched_intake_inbound(sched_intake_t *self, zmsg_t *z);
// Sweep tick: starts a pass over the unanswered conversations, one page per loop turn (none while one runs,
// the database is down, or the previous pass's pause is not over).
void sched_intake_sweep(sched_intake_t *self);
// Tenant refresh tick: reloads every tenant's window settings (kept on a database error, logged).
void sched_intake_refresh_tenants(sched_intake_t *self);
// Lease mode: INBOUND, recovery and the sweep keep to the partitions lease owns (borrowed; NULL: static mode).
void sched_intake_set_lease(sched_intake_t *self, sched_lease_t *lease);
// Rebuilds the windows of the n partitions just claimed, every page at once (logs `recovered`).
void sched_intake_recover(sched_intake_t *self, const int *partitions, int n);
// Tenants cached.
int sched_intake_tenants(const sched_intake_t *self);

#endif
