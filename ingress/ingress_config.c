// The settings table of lull-ingress.
#include "ingress_config.h"

static const lull_setting_t s_settings[] = {
    LULL_COMMON_SETTINGS(ingress_cfg_t, "9100"),
    {"LULL_SCHEDULERS", LULL_CFG_STR, "tcp://127.0.0.1:5550", "comma-separated ZeroMQ endpoints of the scheduler shards (INBOUND is pushed to shard hash(conversation) % N)", false, 0, 0, offsetof(ingress_cfg_t, schedulers)},
};

const lull_proc_spec_t INGRESS_PROC = {
    .name = "ingress",
    .about = "lull-ingress receives webhooks (generic JSON, Twilio, TikTok, web chat), verifies signatures, commits each message to PostgreSQL before answering 2xx, and wakes the scheduler over ZeroMQ.",
    .settings = s_settings,
    .nsettings = sizeof s_settings / sizeof s_settings[0],
    .common_offset = offsetof(ingress_cfg_t, common),
};
