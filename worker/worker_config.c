// The settings table of lull-worker.
#include "worker_config.h"

static const lull_setting_t s_settings[] = {
    LULL_COMMON_SETTINGS(worker_cfg_t, "9102"),
    {"LULL_WORKER_SCHEDULERS", LULL_CFG_STR, "tcp://127.0.0.1:5551", "comma-separated ZeroMQ endpoints of the scheduler shards the worker connects to (DEALER)", false, 0, 0, offsetof(worker_cfg_t, schedulers)},
};

const lull_proc_spec_t WORKER_PROC = {
    .name = "worker",
    .about = "lull-worker turns due conversations into replies: it loads the history, calls the LLM provider chain (with tools and analysis) through libcurl multi, and commits reply, analysis and outbox row in one transaction.",
    .settings = s_settings,
    .nsettings = sizeof s_settings / sizeof s_settings[0],
    .common_offset = offsetof(worker_cfg_t, common),
};
