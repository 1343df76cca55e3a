// Lease mode of the scheduler tier (LULL_SCHED_SHARDS = 1): the cluster's partitions held by lease in
// PostgreSQL. The scheduler registers in sched_nodes with its advertised endpoints, heartbeats and renews its
// leases every LULL_SCHED_LEASE_MS / 4, takes its fair share of the partitions (live nodes ordered by name:
// P / n each, one more for the first P % n), hands the excess over (windows dropped first, then the rows
// freed) and claims free or expired partitions (their windows recovered by the caller). The local lease
// deadline runs from the moment a renewal was sent (monotonic) plus the lease minus a margin: past it,
// every partition is dropped before anything else is done. Each tick also deletes the rows of nodes silent for
// LULL_SCHED_PRUNE_LEASES of their leases. The tick runs on the timer and, debounced, on NOTIFY lull_sched
// (sched_notify). Talks to the database synchronously (proc->db).
#ifndef SCHED_LEASE_H
#define SCHED_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "lull_proc.h"
#include "sched_config.h"

#define SCHED_LEASE_MAX_PARTITIONS 4096

typedef struct sched_lease sched_lease_t;

// Told which partitions were just claimed (recover their windows) or dropped (forget their windows: handed
// over, lost or expired); partitions borrowed for the call.
typedef void(sched_lease_fn)(void *arg, const int *partitions, int n);

// Fair share of node index (0-based, in name order) among nodes live nodes: partitions / nodes, plus one for
// the first partitions % nodes. 0 for an index outside 0 .. nodes-1 or nodes <= 0.
int sched_lease_share(int partitions, int nodes, int index);
// The endpoint advertised for a bind endpoint: "*" or "0.0.0.0" as the host becomes host; anything else is
// copied. 0, -1 when it does not fit in out (size bytes).
int sched_lease_advertise(const char *bind, const char *host, char *out, size_t size);
// True when name is a valid node name (letters, digits, ._:@- ; 1 to 128 characters).
bool sched_lease_name_ok(const char *name);

// Creates the lease state (nothing owned) and its metrics. cfg and proc are borrowed for its life. NULL on
// failure (bad name or advertised endpoint, no memory: logged).
sched_lease_t *sched_lease_new(const sched_cfg_t *cfg, lull_proc_t *proc, sched_lease_fn *on_claim,
                               sched_lease_fn *on_drop, void *arg);
// Releases every partition at once and deletes the node row (when the database answers), then frees;
// NULL-safe, nulls the pointer.
void sched_lease_destroy(sched_lease_t **self_p);
// Start-up: checks (or writes) the cluster row, registers, takes a first share. 0; -1 when the cluster was
// created with another LULL_SCHED_PARTITIONS (the scheduler must refuse to start). An unreachable database
// is 0: the ticks retry.
int sched_lease_start(sched_lease_t *self) __attribute__((warn_unused_result));
// Lease tick (every lease / 4): heartbeat, renewal, fair share (release or claim).
void sched_lease_tick(sched_lease_t *self);
// Drops every partition when the local lease deadline has passed (logged). true while the leases hold.
bool sched_lease_check(sched_lease_t *self);
// True when this node owns the conversation's partition and its lease holds (checks the deadline first).
bool sched_lease_owns(sched_lease_t *self, int64_t conversation_id);
// Epoch of the conversation's partition when owned, else 0.
int64_t sched_lease_epoch(const sched_lease_t *self, int64_t conversation_id);
// Partitions owned.
int sched_lease_owned(const sched_lease_t *self);
// The owned partitions as a PostgreSQL int[] literal ("{0,5,9}"); the caller frees it. NULL on no memory.
char *sched_lease_owned_array(const sched_lease_t *self);
// A PostgreSQL int[] literal of n partitions; the caller frees it. NULL on no memory.
char *sched_lease_array(const int *partitions, int n);
// Milliseconds between ticks (lease / 4, at least 1).
int64_t sched_lease_tick_ms(const sched_lease_t *self);

#endif
