// Settings of lull-scheduler: the table behind --help, the README and the effective-configuration log line.
#ifndef SCHED_CONFIG_H
#define SCHED_CONFIG_H

#include "lull_config.h"
#include "lull_proc.h"

typedef struct {
    lull_common_cfg_t common;
    char *inbound_endpoint;    // PULL endpoint bound for INBOUND wake-ups
    char *worker_endpoint;     // ROUTER endpoint bound for workers
    char *control_endpoint;    // ROUTER endpoint bound for window control (admin API)
    int64_t heartbeat_ms;      // heartbeat interval, milliseconds
    int64_t heartbeat_liveness;  // intervals of silence after which a worker is dead
    int64_t sweep_ms;          // database sweep interval, milliseconds
    int64_t sweep_page;        // rows per recovery/sweep page
    int64_t tenant_refresh_ms; // tenant settings refresh interval, milliseconds
    int64_t default_window_ms;    // window for a tenant the database does not know
    int64_t default_max_wait_ms;  // max wait for a tenant the database does not know
    int64_t retry_base_ms;     // retryable failure backoff base, milliseconds
    int64_t retry_max_ms;      // retryable failure backoff cap, milliseconds
    int64_t max_workers;       // workers remembered at once
    int64_t list_max;          // most windows a control "list" returns
    int64_t try_timeout_ms;    // a dry run ("try") forwarded to a worker is answered 504 after this long
    int64_t shard;             // this scheduler's shard index, 0 .. shards-1
    int64_t shards;            // number of static scheduler shards (lull_proto_shard); 1 = lease mode
    char *name;                // this scheduler's name in sched_nodes ("" = host:pid)
    int64_t partitions;        // partitions of the cluster (lease mode)
    int64_t lease_ms;          // partition lease, milliseconds
    char *advertise_inbound;   // endpoints told in sched_nodes ("" = derived from the bind endpoints)
    char *advertise_worker;
    char *advertise_control;
    int64_t rebalance_debounce_ms;  // rebalance this long after a NOTIFY lull_sched, milliseconds
    int64_t prune_leases;      // node rows silent for this many of their leases are deleted
} sched_cfg_t;

// The process description (name, about, settings table) for lull_proc_init.
extern const lull_proc_spec_t SCHED_PROC;

#endif
