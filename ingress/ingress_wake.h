// INBOUND wake-ups of one ingress writer thread: its PUSH sockets to the schedulers, either the fixed shards of
// LULL_SCHEDULERS (shard lull_proto_shard(conversation, N)) or, with the scheduler map, one PUSH per distinct
// inbound endpoint of the live nodes, the wake-up going to the owner of the conversation's partition. Sockets are
// opened and closed as the map changes. Writer thread only: the sockets never leave it.
#ifndef INGRESS_WAKE_H
#define INGRESS_WAKE_H

#include "lull_config.h"
#include "lull_metrics.h"
#include "lull_proto.h"
#include "lull_schedmap.h"

typedef struct ingress_wake ingress_wake_t;

typedef struct {
    void *zctx;                         // ZeroMQ context (borrowed)
    const lull_cfg_list_t *schedulers;  // the fixed shards (at most 64 used), or NULL / empty with map
    lull_schedmap_t *map;               // the scheduler map (borrowed), NULL = the fixed shards
    int hwm;                            // ZMQ_SNDHWM of each PUSH, messages
    lull_counter_t *pushed;             // wake-ups queued
    lull_counter_t *dropped;            // wake-ups not queued (scheduler slow or absent)
    lull_counter_t *unowned;            // wake-ups dropped: no live owner of the partition (map only)
} ingress_wake_cfg_t;

// Opens the fixed shards' sockets (the map's are opened on first use). NULL when out of memory.
ingress_wake_t *ingress_wake_new(const ingress_wake_cfg_t *cfg);
// Closes every socket and frees; NULL-safe, nulls the pointer.
void ingress_wake_destroy(ingress_wake_t **self_p);
// Pushes an INBOUND message (non-blocking) to the conversation's shard or partition owner; counted either way.
void ingress_wake_inbound(ingress_wake_t *self, const lull_msg_t *msg);

#endif
