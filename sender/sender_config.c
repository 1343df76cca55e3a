// The settings table of lull-sender.
#include "sender_config.h"

static const lull_setting_t s_settings[] = {
    LULL_COMMON_SETTINGS(sender_cfg_t, "9103"),
    {"LULL_SENDER_BIND", LULL_CFG_STR, "tcp://127.0.0.1:5552", "ZeroMQ endpoint the sender binds for OUTBOX wake-ups (PULL)", false, 0, 0, offsetof(sender_cfg_t, outbox_endpoint)},
};

const lull_proc_spec_t SENDER_PROC = {
    .name = "sender",
    .about = "lull-sender delivers committed outbox rows over Twilio, TikTok, callback URLs and web chat, with Celery-style retries and dead letters.",
    .settings = s_settings,
    .nsettings = sizeof s_settings / sizeof s_settings[0],
    .common_offset = offsetof(sender_cfg_t, common),
};
