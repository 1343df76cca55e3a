// The settings table of lull-ingress.
#include "ingress_config.h"
#include "lull_log.h"

#define S_(name, type, def, help, secret, min, max, field) \
    {name, type, def, help, secret, min, max, offsetof(ingress_cfg_t, field)}

static const lull_setting_t s_settings[] = {
    LULL_COMMON_SETTINGS(ingress_cfg_t, "9100"),
    S_("LULL_SCHEDULERS", LULL_CFG_LIST, "",
       "fixed deployments only: ZeroMQ endpoints of the scheduler shards (INBOUND is pushed to shard"
       " hash(conversation) % N); empty = INBOUND goes to the owner of the conversation's partition, found in the"
       " database (sched_nodes, sched_partitions)",
       false, 0, 64, schedulers),
    S_("LULL_SCHED_MAP_REFRESH_MS", LULL_CFG_INT, "2000",
       "when LULL_SCHEDULERS is empty: how often the scheduler map is read again (it is also read at once on NOTIFY"
       " lull_sched), milliseconds", false, 10, 3600000, sched_map_refresh_ms),
    S_("LULL_HTTP_BIND", LULL_CFG_STR, "127.0.0.1", "IPv4 address the webhook server binds", false, 0, 0, http_bind),
    S_("LULL_HTTP_PORT", LULL_CFG_INT, "8080", "port of the webhook server", false, 1, 65535, http_port),
    S_("LULL_PUBLIC_URL", LULL_CFG_STR, "",
       "scheme://host[:port] the providers call, used to verify X-Twilio-Signature; required when"
       " LULL_TWILIO_AUTH_TOKEN is set (ingress refuses to start without it)",
       false, 0, 0, public_url),
    S_("LULL_TWILIO_AUTH_TOKEN", LULL_CFG_STR, "",
       "Twilio auth token (verifies X-Twilio-Signature); empty = Twilio webhooks refused unless LULL_DEV_ALLOW_UNSIGNED",
       true, 0, 0, twilio_auth_token),
    S_("LULL_TIKTOK_SECRET", LULL_CFG_STR, "",
       "TikTok client secret (verifies Tiktok-Signature); empty = TikTok webhooks refused unless LULL_DEV_ALLOW_UNSIGNED",
       true, 0, 0, tiktok_secret),
    S_("LULL_TIKTOK_TOLERANCE_S", LULL_CFG_INT, "300", "accepted age of a Tiktok-Signature timestamp, seconds", false,
       1, 86400, tiktok_tolerance_s),
    S_("LULL_META_APP_SECRET", LULL_CFG_STR, "",
       "Meta app secret (verifies X-Hub-Signature-256 of POST /webhook/whatsapp); empty = refused unless"
       " LULL_DEV_ALLOW_UNSIGNED", true, 0, 0, meta_app_secret),
    S_("LULL_META_VERIFY_TOKEN", LULL_CFG_STR, "",
       "the verify token of Meta's GET /webhook/whatsapp handshake (hub.verify_token); empty = handshake refused",
       true, 0, 0, meta_verify_token),
    S_("LULL_META_MAX_ITEMS", LULL_CFG_INT, "100",
       "messages and statuses one WhatsApp Cloud API POST may carry; a larger envelope is answered 200 and skipped"
       " (logged)", false, 1, 10000, meta_max_items),
    S_("LULL_DEV_ALLOW_UNSIGNED", LULL_CFG_BOOL, "false",
       "accept unsigned webhooks on channels without a secret (development only; warned at start)", false, 0, 0,
       dev_allow_unsigned),
    S_("LULL_MAX_BODY_BYTES", LULL_CFG_INT, "65536", "largest request body; larger gets 413", false, 256, 16777216,
       max_body_bytes),
    S_("LULL_HTTP_TIMEOUT_S", LULL_CFG_INT, "10", "idle connection timeout (slow clients), seconds", false, 1, 3600,
       http_timeout_s),
    S_("LULL_HTTP_HEAD_TIMEOUT_MS", LULL_CFG_INT, "10000",
       "a request's head (request line and headers) must arrive whole within this, however slowly it trickles in;"
       " also how long a kept-alive connection may wait for its next request, milliseconds", false, 50, 3600000,
       http_head_timeout_ms),
    S_("LULL_HTTP_BODY_TIMEOUT_MS", LULL_CFG_INT, "30000",
       "a request's body must arrive whole within this of its head (web chat streams are exempt once accepted),"
       " milliseconds", false, 50, 3600000, http_body_timeout_ms),
    S_("LULL_HTTP_PER_IP_LIMIT", LULL_CFG_INT, "256",
       "concurrent connections per client IP (raise it behind a reverse proxy); 0 = no limit", false, 0, 100000,
       http_per_ip_limit),
    S_("LULL_HTTP_MAX_CONNECTIONS", LULL_CFG_INT, "4096", "concurrent connections in total", false, 1, 1000000,
       http_max_connections),
    S_("LULL_HTTP_THREADS", LULL_CFG_INT, "1", "HTTP polling threads (poll)", false, 1, 64, http_threads),
    S_("LULL_INGRESS_WRITERS", LULL_CFG_INT, "2",
       "writer threads, each with its own database connection and queue, committing batches in parallel (one contact's "
       "messages always go to the same queue); under light load the first commits every queue "
       "(LULL_INGRESS_WRITER_SPILL)",
       false, 1, 64, writers),
    S_("LULL_INGRESS_WRITER_SPILL", LULL_CFG_INT, "64",
       "requests waiting while a batch commits that wake the second and later writers for a second (each then commits "
       "its own queue); below it the first writer commits all queues in one transaction; 0 = every writer always "
       "commits its own",
       false, 0, 1000000, writer_spill),
    S_("LULL_INGRESS_BATCH_MAX", LULL_CFG_INT, "256", "messages committed in one transaction at most", false, 1,
       10000, batch_max),
    S_("LULL_INGRESS_BATCH_WAIT_US", LULL_CFG_INT, "1000",
       "under load, how long a batch that is not full may wait for more messages, microseconds (a lone request never waits)",
       false, 0, 100000, batch_wait_us),
    S_("LULL_INGRESS_QUEUE_MAX", LULL_CFG_INT, "20000", "requests waiting for the database before new ones get 503",
       false, 1, 10000000, queue_max),
    S_("LULL_INGRESS_INBOUND_HWM", LULL_CFG_INT, "10000",
       "ZMQ_SNDHWM of each INBOUND push socket (beyond it wake-ups are dropped), messages", false, 1, 10000000,
       inbound_hwm),
    S_("LULL_CHAT_HISTORY_LIMIT", LULL_CFG_INT, "200", "messages returned by GET /api/v1/chat/history (newest)", false,
       1, 10000, history_limit),
    // web chat stream (ingress_stream.c)
    S_("LULL_CHAT_STREAMS_PER_SESSION", LULL_CFG_INT, "4",
       "open GET /api/v1/chat/stream connections per web chat session (more get 429)", false, 1, 1000,
       chat_streams_per_session),
    S_("LULL_CHAT_STREAMS_MAX", LULL_CFG_INT, "1000", "open web chat stream connections in total (more get 429)",
       false, 1, 1000000, chat_streams_max),
    S_("LULL_CHAT_KEEPALIVE_MS", LULL_CFG_INT, "15000", "a keep-alive comment on every chat stream this often, ms",
       false, 10, 3600000, chat_keepalive_ms),
    S_("LULL_CHAT_STREAMS_PER_ADDR", LULL_CFG_INT, "8",
       "open web chat stream connections per client address (IPv6: per /64; more get 429); 0 = no limit", false, 0,
       1000000, chat_streams_per_addr),
    S_("LULL_CHAT_STREAM_LIFETIME_MS", LULL_CFG_INT, "900000",
       "a web chat stream ends after this with a final 'end' event and the page reconnects, losing nothing, ms", false,
       50, 86400000, chat_stream_lifetime_ms),
    // rate limits of the unauthenticated routes, per ingress process (ingress_guard.c); a rate of 0 = no limit
    S_("LULL_CHAT_SESSION_RATE", LULL_CFG_INT, "6", "web chat sessions opened per client address, per minute", false,
       0, 1000000, chat_session_rate),
    S_("LULL_CHAT_SESSION_BURST", LULL_CFG_INT, "10", "web chat sessions one address may open at once", false, 1,
       1000000, chat_session_burst),
    S_("LULL_CHAT_MESSAGE_RATE", LULL_CFG_INT, "30", "web chat messages per session, per minute", false, 0, 1000000,
       chat_message_rate),
    S_("LULL_CHAT_MESSAGE_BURST", LULL_CFG_INT, "20", "web chat messages one session may send at once", false, 1,
       1000000, chat_message_burst),
    S_("LULL_CHAT_MESSAGE_ADDR_RATE", LULL_CFG_INT, "120",
       "web chat messages per client address (all its sessions), per minute", false, 0, 1000000,
       chat_message_addr_rate),
    S_("LULL_CHAT_MESSAGE_ADDR_BURST", LULL_CFG_INT, "60", "web chat messages one address may send at once", false, 1,
       1000000, chat_message_addr_burst),
    S_("LULL_CHAT_READ_RATE", LULL_CFG_INT, "120",
       "web chat history reads and stream opens per client address, per minute", false, 0, 1000000, chat_read_rate),
    S_("LULL_CHAT_READ_BURST", LULL_CFG_INT, "60", "web chat history reads and stream opens one address may make at once",
       false, 1, 1000000, chat_read_burst),
    S_("LULL_WEBHOOK_UNSIGNED_RATE", LULL_CFG_INT, "600",
       "POST /webhook requests without a verified signature per client address, per minute (signed ones are not"
       " limited)", false, 0, 10000000, webhook_unsigned_rate),
    S_("LULL_WEBHOOK_UNSIGNED_BURST", LULL_CFG_INT, "200", "unsigned POST /webhook requests one address may make at once",
       false, 1, 10000000, webhook_unsigned_burst),
    S_("LULL_RATELIMIT_KEYS", LULL_CFG_INT, "16384",
       "client addresses or sessions each rate limit remembers (about 100 bytes each; the least recently seen is"
       " forgotten)", false, 16, 10000000, ratelimit_keys),
    S_("LULL_INGRESS_READERS", LULL_CFG_INT, "1",
       "reader threads, each with its own database connection, serving web chat history reads (never the writers)",
       false, 1, 64, readers),
    S_("LULL_INGRESS_READ_QUEUE_MAX", LULL_CFG_INT, "256", "history reads waiting for a reader before new ones get 503",
       false, 1, 1000000, read_queue_max),
};

const lull_proc_spec_t INGRESS_PROC = {
    .name = "ingress",
    .about = "lull-ingress receives webhooks (generic JSON, Twilio, TikTok, WhatsApp Cloud API, web chat), verifies signatures, commits each message to PostgreSQL before answering 2xx, and wakes the scheduler over ZeroMQ.",
    .settings = s_settings,
    .nsettings = sizeof s_settings / sizeof s_settings[0],
    .common_offset = offsetof(ingress_cfg_t, common),
};

int ingress_config_check(const ingress_cfg_t *cfg)
{
    // Without a public URL the Host header, which the caller chooses, would choose the URL signatures are checked
    // against.
    if (cfg->twilio_auth_token && *cfg->twilio_auth_token && !(cfg->public_url && *cfg->public_url)) {
        LOG_ERROR("config.invalid",
                  "LULL_TWILIO_AUTH_TOKEN is set but LULL_PUBLIC_URL is not: set LULL_PUBLIC_URL to the scheme://host[:port]"
                  " Twilio calls (X-Twilio-Signature is checked against it)");
        return -1;
    }
    return 0;
}
