// The map of the scheduler tier as the database holds it (migration 024): the live scheduler nodes with the
// endpoints they bind, and which node owns each partition. Ingress, workers and lull-admin read it to find the
// owner of a conversation (lull_proto_partition) when their endpoint lists are left empty. A background thread
// with its own connection reloads it every refresh interval and at once on NOTIFY lull_sched; readers take an
// immutable snapshot. A stale map is harmless: the durability rule (sweeps, the worker's compare-and-swap)
// decides, the map only says where to ring the doorbell.
#ifndef LULL_SCHEDMAP_H
#define LULL_SCHEDMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "lull_metrics.h"

#define LULL_SCHEDMAP_MAX_PARTITIONS 4096  // partitions of a cluster at most (sched_cluster's CHECK)
#define LULL_SCHEDMAP_MAX_NODES 1024       // live scheduler nodes read at most
#define LULL_SCHEDMAP_DEFAULT_PARTITIONS 256  // when sched_cluster has no row yet
#define LULL_SCHEDMAP_NAME_MAX 128         // bytes of a node name
#define LULL_SCHEDMAP_ENDPOINT_MAX 255     // bytes of an endpoint

// One live scheduler node (plain data).
typedef struct {
    char name[LULL_SCHEDMAP_NAME_MAX + 1];
    char inbound[LULL_SCHEDMAP_ENDPOINT_MAX + 1];  // PULL endpoint for INBOUND wake-ups (ingress)
    char worker[LULL_SCHEDMAP_ENDPOINT_MAX + 1];   // ROUTER endpoint for workers
    char control[LULL_SCHEDMAP_ENDPOINT_MAX + 1];  // ROUTER endpoint for CTL_REQ (lull-admin)
} lull_schednode_t;

// One immutable version of the map. Plain data to read; refcounted (lull_schedmap_snap_release).
typedef struct lull_schedmap_snap {
    uint64_t version;          // grows with every change seen (1 = the first map)
    int partitions;            // partitions of the cluster (1..LULL_SCHEDMAP_MAX_PARTITIONS)
    int nnodes;                // live nodes, sorted by name
    lull_schednode_t *nodes;
    int16_t *owner;            // [partitions]: index into nodes of the owner, -1 = no live owner
    int owned;                 // partitions with a live owner
    int refs_;                 // private
} lull_schedmap_snap_t;

// A node row as read from sched_nodes (borrowed strings, any may be NULL).
typedef struct {
    const char *name, *inbound, *worker, *control;
} lull_schedmap_node_row_t;

// A partition row as read from sched_partitions (borrowed text; owner NULL = no owner).
typedef struct {
    const char *partition, *owner;
} lull_schedmap_part_row_t;

// True when ep is tcp://HOST:PORT (host: letters, digits, . - _ or a bracketed IPv6 address, or *; port 1..65535)
// or ipc://PATH (a non-empty path of printable characters, 107 bytes at most), LULL_SCHEDMAP_ENDPOINT_MAX bytes
// at most.
bool lull_schedmap_endpoint_ok(const char *ep);
// True when name is a valid node name: 1 to 128 of A-Z a-z 0-9 . _ : @ -.
bool lull_schedmap_name_ok(const char *name);
// Builds a snapshot from rows (pure): nodes with a bad name or endpoint, duplicates and those past
// LULL_SCHEDMAP_MAX_NODES are skipped; partitions out of [0, partitions), repeated, or owned by a node that is not
// in the kept set have no owner. partitions out of range falls back to LULL_SCHEDMAP_DEFAULT_PARTITIONS.
// *skipped (may be NULL) gets the number of rows skipped as invalid (each logged at warn when log is true).
// Returns a snapshot with one reference (version 0: the caller sets it), or NULL when out of memory.
lull_schedmap_snap_t *lull_schedmap_snap_build(int partitions, const lull_schedmap_node_row_t *nodes, int nnodes,
                                               const lull_schedmap_part_row_t *parts, int nparts, bool log,
                                               int *skipped);
// The live node owning conversation conv's partition (borrowed from snap), or NULL when none does.
const lull_schednode_t *lull_schedmap_snap_owner(const lull_schedmap_snap_t *snap, int64_t conv);
// Takes one more reference to snap (thread-safe). Returns snap.
lull_schedmap_snap_t *lull_schedmap_snap_ref(lull_schedmap_snap_t *snap);
// Drops one reference (thread-safe); frees the snapshot with the last. NULL-safe, nulls the pointer.
void lull_schedmap_snap_release(lull_schedmap_snap_t **snap_p);

typedef struct lull_schedmap lull_schedmap_t;

// Starts the reader thread (its own connection to database_url: LISTEN lull_sched, a reload every refresh_ms
// and on each NOTIFY, reconnecting after a loss). metrics may be NULL. NULL on failure.
lull_schedmap_t *lull_schedmap_new(const char *database_url, int64_t refresh_ms, lull_metrics_t *metrics);
// Stops the thread and frees; NULL-safe, nulls the pointer. Snapshots still held stay valid until released.
void lull_schedmap_destroy(lull_schedmap_t **self_p);
// The version of the newest snapshot (0 while none was loaded). Thread-safe and cheap: poll it, and take the
// snapshot only when it changed.
uint64_t lull_schedmap_version(lull_schedmap_t *self);
// The newest snapshot with a reference for the caller (release it), or NULL while none was loaded. Thread-safe.
lull_schedmap_snap_t *lull_schedmap_get(lull_schedmap_t *self);

#endif
