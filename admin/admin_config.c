// The settings table of lull-admin.
#include "admin_config.h"

#define S_(name, type, def, help, secret, min, max, field) \
    {name, type, def, help, secret, min, max, offsetof(admin_cfg_t, field)}

static const lull_setting_t s_settings[] = {
    LULL_COMMON_SETTINGS(admin_cfg_t, "9104"),
    S_("LULL_ADMIN_BIND", LULL_CFG_STR, "127.0.0.1",
       "IPv4 address the admin server binds (keep it on a private network or behind a proxy)", false, 0, 0, bind),
    S_("LULL_ADMIN_PORT", LULL_CFG_INT, "8081", "port of the admin server", false, 1, 65535, port),
    S_("LULL_ADMIN_TOKEN", LULL_CFG_STR, "",
       "bearer token of the admin API (/api/v1/windows, conversations, …); empty = admin routes answer 403", true, 0,
       0, token),
    S_("LULL_MAX_BODY_BYTES", LULL_CFG_INT, "65536", "largest request body; larger gets 413", false, 256, 16777216,
       max_body_bytes),
    S_("LULL_ADMIN_HTTP_TIMEOUT_S", LULL_CFG_INT, "30", "idle connection timeout of the admin server, seconds", false,
       1, 3600, http_timeout_s),
    S_("LULL_ADMIN_MAX_CONNECTIONS", LULL_CFG_INT, "256", "concurrent connections to the admin server in total", false,
       1, 100000, max_connections),
    S_("LULL_ADMIN_HEAD_TIMEOUT_MS", LULL_CFG_INT, "10000",
       "a request's head (request line and headers) must arrive whole within this, however slowly it trickles in;"
       " also how long a kept-alive connection may wait for its next request, milliseconds", false, 50, 3600000,
       head_timeout_ms),
    S_("LULL_ADMIN_BODY_TIMEOUT_MS", LULL_CFG_INT, "30000",
       "a request's body must arrive whole within this of its head, milliseconds", false, 50, 3600000,
       body_timeout_ms),
    S_("LULL_ADMIN_PER_IP_LIMIT", LULL_CFG_INT, "64",
       "concurrent connections to the admin server per client IP (raise it behind a reverse proxy); 0 = no limit",
       false, 0, 100000, per_ip_limit),
    S_("LULL_SCHEDULER_CONTROLS", LULL_CFG_LIST, "tcp://127.0.0.1:5553",
       "control endpoints of the scheduler shards, in shard order (windows routes)", false, 1, 64, scheduler_controls),
    S_("LULL_SENDERS", LULL_CFG_LIST, "tcp://127.0.0.1:5552",
       "sender endpoints woken (OUTBOX) after a human reply; empty = none (the sender polls)", false, 0, 64, senders),
    S_("LULL_ADMIN_CTL_TIMEOUT_MS", LULL_CFG_INT, "2000",
       "how long the admin API waits for a scheduler shard before answering 503, milliseconds", false, 10, 60000,
       ctl_timeout_ms),
    S_("LULL_ADMIN_TRY_TIMEOUT_MS", LULL_CFG_INT, "65000",
       "how long the admin test endpoints (/api/v1/test/reply, /api/v1/test/analyse) wait for a worker's dry run before"
       " answering 504, milliseconds (keep above the scheduler's LULL_SCHED_TRY_TIMEOUT_MS)", false, 100, 600000,
       try_timeout_ms),
    S_("LULL_ADMIN_THREADS", LULL_CFG_INT, "4",
       "admin API threads, each with its own database connection: how many admin requests (a slow dry run, a"
       " silent scheduler) are served at once", false, 1, 64, threads),
    S_("LULL_ADMIN_QUEUE_MAX", LULL_CFG_INT, "256", "admin requests waiting for a free admin thread before new ones get 503",
       false, 1, 100000, queue_max),
    S_("LULL_HEALTH_TARGETS", LULL_CFG_LIST, "",
       "name=http://host:port/health of the other tiers, aggregated by GET /api/v1/health", false, 0, 16,
       health_targets),
};

const lull_proc_spec_t ADMIN_PROC = {
    .name = "admin",
    .about = "lull-admin is the operators' console: the admin API (windows, conversations, escalations, dead letters, tenants, prompts, inventory, usage, dry runs, the tiers' health) and its OpenAPI document, on its own port, private by default.",
    .settings = s_settings,
    .nsettings = sizeof s_settings / sizeof s_settings[0],
    .common_offset = offsetof(admin_cfg_t, common),
};
