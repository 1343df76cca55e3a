// The settings table of lull-scheduler.
#include "sched_config.h"

static const lull_setting_t s_settings[] = {
    LULL_COMMON_SETTINGS(sched_cfg_t, "9101"),
    {"LULL_SCHED_INBOUND_BIND", LULL_CFG_STR, "tcp://127.0.0.1:5550", "ZeroMQ endpoint the scheduler binds for INBOUND wake-ups (PULL)", false, 0, 0, offsetof(sched_cfg_t, inbound_endpoint)},
    {"LULL_SCHED_WORKER_BIND", LULL_CFG_STR, "tcp://127.0.0.1:5551", "ZeroMQ endpoint the scheduler binds for workers (ROUTER)", false, 0, 0, offsetof(sched_cfg_t, worker_endpoint)},
    {"LULL_SCHED_CONTROL_BIND", LULL_CFG_STR, "tcp://127.0.0.1:5553", "ZeroMQ endpoint the scheduler binds for control: list, cancel and flush windows, forward dry runs to a worker (ROUTER)", false, 0, 0, offsetof(sched_cfg_t, control_endpoint)},
    {"LULL_HEARTBEAT_MS", LULL_CFG_INT, "1000", "heartbeat interval between scheduler and workers, milliseconds", false, 10, 600000, offsetof(sched_cfg_t, heartbeat_ms)},
    {"LULL_HEARTBEAT_LIVENESS", LULL_CFG_INT, "3", "heartbeat intervals of silence after which a worker is dead (its jobs are dispatched again)", false, 1, 100, offsetof(sched_cfg_t, heartbeat_liveness)},
    {"LULL_SCHED_SWEEP_MS", LULL_CFG_INT, "5000", "interval of the database sweep for conversations no INBOUND reached, milliseconds", false, 10, 3600000, offsetof(sched_cfg_t, sweep_ms)},
    {"LULL_SCHED_SWEEP_PAGE", LULL_CFG_INT, "10000", "conversations read per recovery/sweep page (keyset pagination)", false, 1, 1000000, offsetof(sched_cfg_t, sweep_page)},
    {"LULL_SCHED_TENANT_REFRESH_MS", LULL_CFG_INT, "30000", "interval at which tenant window settings are reloaded, milliseconds", false, 100, 86400000, offsetof(sched_cfg_t, tenant_refresh_ms)},
    {"LULL_SCHED_DEFAULT_WINDOW_MS", LULL_CFG_INT, "30000", "window for a tenant the database does not know, milliseconds", false, 0, 86400000, offsetof(sched_cfg_t, default_window_ms)},
    {"LULL_SCHED_DEFAULT_MAX_WAIT_MS", LULL_CFG_INT, "120000", "max wait for a tenant the database does not know, milliseconds", false, 0, 86400000, offsetof(sched_cfg_t, default_max_wait_ms)},
    {"LULL_SCHED_RETRY_BASE_MS", LULL_CFG_INT, "1000", "backoff base after a retryable job failure without retry-after, milliseconds", false, 0, 3600000, offsetof(sched_cfg_t, retry_base_ms)},
    {"LULL_SCHED_RETRY_MAX_MS", LULL_CFG_INT, "60000", "backoff cap after a retryable job failure, milliseconds", false, 0, 86400000, offsetof(sched_cfg_t, retry_max_ms)},
    {"LULL_SCHED_MAX_WORKERS", LULL_CFG_INT, "1024", "most workers connected at once (READY from more is ignored)", false, 1, 100000, offsetof(sched_cfg_t, max_workers)},
    {"LULL_SCHED_SHARD", LULL_CFG_INT, "0", "this scheduler's shard index (0 .. LULL_SCHED_SHARDS-1): it recovers, sweeps and accepts only conversations with lull_proto_shard(id, shards) = shard", false, 0, 1023, offsetof(sched_cfg_t, shard)},
    {"LULL_SCHED_SHARDS", LULL_CFG_INT, "1", "number of static scheduler shards (the length of ingress's LULL_SCHEDULERS); 1 = lease mode: partitions held by lease in the database", false, 1, 1024, offsetof(sched_cfg_t, shards)},
    {"LULL_SCHED_NAME", LULL_CFG_STR, "", "this scheduler's name in sched_nodes (lease mode; letters, digits and ._:@-, up to 128); empty = host:pid", false, 0, 0, offsetof(sched_cfg_t, name)},
    {"LULL_SCHED_PARTITIONS", LULL_CFG_INT, "256", "partitions of the scheduler cluster (lease mode): recorded by the first scheduler; one started with another value refuses to start", false, 1, 4096, offsetof(sched_cfg_t, partitions)},
    {"LULL_SCHED_LEASE_MS", LULL_CFG_INT, "5000", "lease of a scheduler's partitions (lease mode), renewed every quarter of it; a scheduler that cannot renew stops dispatching before it ends, milliseconds", false, 100, 600000, offsetof(sched_cfg_t, lease_ms)},
    {"LULL_SCHED_ADVERTISE_INBOUND", LULL_CFG_STR, "", "INBOUND endpoint other processes are told in sched_nodes; empty = LULL_SCHED_INBOUND_BIND with * or 0.0.0.0 replaced by the host name", false, 0, 0, offsetof(sched_cfg_t, advertise_inbound)},
    {"LULL_SCHED_ADVERTISE_WORKER", LULL_CFG_STR, "", "worker endpoint told in sched_nodes; empty = LULL_SCHED_WORKER_BIND with * or 0.0.0.0 replaced by the host name", false, 0, 0, offsetof(sched_cfg_t, advertise_worker)},
    {"LULL_SCHED_ADVERTISE_CONTROL", LULL_CFG_STR, "", "control endpoint told in sched_nodes; empty = LULL_SCHED_CONTROL_BIND with * or 0.0.0.0 replaced by the host name", false, 0, 0, offsetof(sched_cfg_t, advertise_control)},
    {"LULL_SCHED_LIST_MAX", LULL_CFG_INT, "1000", "most windows one control list returns", false, 1, 10000, offsetof(sched_cfg_t, list_max)},
    {"LULL_SCHED_REBALANCE_DEBOUNCE_MS", LULL_CFG_INT, "100", "lease mode: after a NOTIFY lull_sched (a scheduler joined, left or handed partitions over) the scheduler rebalances this long later, once for every notification within it; 0 = at the next loop turn, milliseconds", false, 0, 60000, offsetof(sched_cfg_t, rebalance_debounce_ms)},
    {"LULL_SCHED_PRUNE_LEASES", LULL_CFG_INT, "10", "lease mode: a scheduler node row whose heartbeat is older than this many of its leases is deleted by any live scheduler (the console and the map stop listing it)", false, 2, 100000, offsetof(sched_cfg_t, prune_leases)},
    {"LULL_SCHED_TRY_TIMEOUT_MS", LULL_CFG_INT, "60000", "how long a dry run (the admin API's test endpoints) may take on a worker before the scheduler answers 504, milliseconds", false, 100, 600000, offsetof(sched_cfg_t, try_timeout_ms)},
};

const lull_proc_spec_t SCHED_PROC = {
    .name = "scheduler",
    .about = "lull-scheduler owns the per-conversation sliding windows, dispatches due conversations to workers (credit-based, with heartbeats), and rebuilds its state from PostgreSQL after a restart.",
    .settings = s_settings,
    .nsettings = sizeof s_settings / sizeof s_settings[0],
    .common_offset = offsetof(sched_cfg_t, common),
};
