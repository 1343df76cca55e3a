// The settings table of lull-scheduler.
#include "sched_config.h"

static const lull_setting_t s_settings[] = {
    LULL_COMMON_SETTINGS(sched_cfg_t, "9101"),
    {"LULL_SCHED_INBOUND_BIND", LULL_CFG_STR, "tcp://127.0.0.1:5550", "ZeroMQ endpoint the scheduler binds for INBOUND wake-ups (PULL)", false, 0, 0, offsetof(sched_cfg_t, inbound_endpoint)},
    {"LULL_SCHED_WORKER_BIND", LULL_CFG_STR, "tcp://127.0.0.1:5551", "ZeroMQ endpoint the scheduler binds for workers (ROUTER)", false, 0, 0, offsetof(sched_cfg_t, worker_endpoint)},
};

const lull_proc_spec_t SCHED_PROC = {
    .name = "scheduler",
    .about = "lull-scheduler owns the per-conversation sliding windows, dispatches due conversations to workers (credit-based, with heartbeats), and rebuilds its state from PostgreSQL after a restart.",
    .settings = s_settings,
    .nsettings = sizeof s_settings / sizeof s_settings[0],
    .common_offset = offsetof(sched_cfg_t, common),
};
