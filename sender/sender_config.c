// The settings table of lull-sender.
#include "sender_config.h"

#define C(f) offsetof(sender_cfg_t, f)
static const lull_setting_t s_settings[] = {
    LULL_COMMON_SETTINGS(sender_cfg_t, "9103"),
    {"LULL_SENDER_BIND", LULL_CFG_STR, "tcp://127.0.0.1:5552", "ZeroMQ endpoint the sender binds for OUTBOX wake-ups (PULL)", false, 0, 0, C(outbox_endpoint)},
    {"LULL_SENDER_POLL_MS", LULL_CFG_INT, "1000", "poll the outbox for due rows every this many ms (wake-ups come sooner)", false, 1, 3600000, C(poll_ms)},
    {"LULL_SENDER_BATCH", LULL_CFG_INT, "200", "outbox rows claimed per query", false, 1, 10000, C(batch)},
    {"LULL_SENDER_MAX_IN_FLIGHT", LULL_CFG_INT, "512", "deliveries in flight at once", false, 1, 100000, C(max_in_flight)},
    {"LULL_SENDER_LEASE_MS", LULL_CFG_INT, "60000", "claim lease in ms; must exceed LULL_SENDER_TIMEOUT_MS (a dead sender's rows are retried after it)", false, 100, 86400000, C(lease_ms)},
    {"LULL_SENDER_TIMEOUT_MS", LULL_CFG_INT, "15000", "whole HTTP request timeout of one delivery, ms", false, 10, 3600000, C(timeout_ms)},
    {"LULL_SENDER_DRAIN_MS", LULL_CFG_INT, "5000", "on SIGTERM, let requests in flight finish for up to this many ms before handing the rest back (0: hand back at once)", false, 0, 600000, C(drain_ms)},
    {"LULL_SENDER_FLUSH_MS", LULL_CFG_INT, "10", "results are written in one UPDATE per batch, at most this many ms after they arrive (or when a batch is full)", false, 0, 10000, C(flush_ms)},
    {"LULL_RETRY_BASE_MS", LULL_CFG_INT, "1000", "retry backoff base in ms (delay = max(Retry-After, uniform(0, min(max, base*2^attempt))))", false, 0, 86400000, C(retry_base_ms)},
    {"LULL_RETRY_MAX_MS", LULL_CFG_INT, "600000", "retry backoff cap in ms", false, 0, 86400000, C(retry_max_ms)},
    {"LULL_MAX_RETRIES", LULL_CFG_INT, "5", "retries after the first attempt before a row is dead-lettered", false, 0, 1000, C(max_retries)},
    {"LULL_WHATSAPP_WINDOW_MS", LULL_CFG_INT, "86400000", "WhatsApp customer-service window in ms; outside it only a template may be sent", false, 1, 864000000, C(wa_window_ms)},
    {"LULL_TWILIO_API_BASE", LULL_CFG_STR, "https://api.twilio.com", "Twilio REST API base URL", false, 0, 0, C(twilio_base)},
    {"LULL_TWILIO_ACCOUNT_SID", LULL_CFG_STR, "", "default Twilio Account SID (a tenant may name its own env vars)", false, 0, 0, C(twilio_sid)},
    {"LULL_TWILIO_AUTH_TOKEN", LULL_CFG_STR, "", "default Twilio Auth Token", true, 0, 0, C(twilio_token)},
    {"LULL_TWILIO_MESSAGING_SERVICE_SID", LULL_CFG_STR, "", "send with this MessagingServiceSid instead of From; empty = From", false, 0, 0, C(twilio_msid)},
    {"LULL_TWILIO_STATUS_CALLBACK", LULL_CFG_STR, "", "StatusCallback URL sent with every Twilio message (?outbox=<id> appended); empty = none", false, 0, 0, C(twilio_status_cb)},
    {"LULL_TIKTOK_API_BASE", LULL_CFG_STR, "https://business-api.tiktok.com", "TikTok Business API base URL", false, 0, 0, C(tiktok_base)},
    {"LULL_TIKTOK_ACCESS_TOKEN", LULL_CFG_STR, "", "default TikTok Business Access-Token", true, 0, 0, C(tiktok_token)},
    {"LULL_TIKTOK_RATE_PER_MIN", LULL_CFG_DOUBLE, "30", "TikTok messages per minute (all tenants); 0 = unlimited", false, 0, 1e6, C(tiktok_per_min)},
    {"LULL_META_API_BASE", LULL_CFG_STR, "https://graph.facebook.com", "Meta Graph API base URL (WhatsApp Cloud API sends)", false, 0, 0, C(meta_base)},
    {"LULL_META_GRAPH_VERSION", LULL_CFG_STR, "v21.0", "Graph API version in the send URL ({base}/{version}/{phone_number_id}/messages)", false, 0, 0, C(meta_version)},
    {"LULL_META_ACCESS_TOKEN", LULL_CFG_STR, "", "default WhatsApp Cloud API access token (Authorization: Bearer); a tenant may name its own env var (credentials.meta_access_token_env)", true, 0, 0, C(meta_token)},
    {"LULL_META_RATE_PER_S", LULL_CFG_DOUBLE, "80", "WhatsApp Cloud API messages per second (all tenants); 0 = unlimited", false, 0, 1e6, C(meta_per_s)},
    {"LULL_TWILIO_RATE_PER_S", LULL_CFG_DOUBLE, "0", "Twilio messages per second; 0 = unlimited", false, 0, 1e6, C(twilio_per_s)},
    {"LULL_CALLBACK_RATE_PER_S", LULL_CFG_DOUBLE, "0", "callback POSTs per second; 0 = unlimited", false, 0, 1e6, C(callback_per_s)},
    {"LULL_SENDER_TENANT_RATE_PER_S", LULL_CFG_DOUBLE, "0", "deliveries per second per tenant and channel; 0 = unlimited", false, 0, 1e6, C(tenant_per_s)},
    {"LULL_CALLBACK_URL", LULL_CFG_STR, "", "default callback URL for generic-channel replies (tenants.callback_url wins)", false, 0, 0, C(callback_url)},
    {"LULL_SENDER_CALLBACK_ALLOW", LULL_CFG_LIST, "", "CIDR ranges callback URLs may reach although not public (e.g. 10.0.0.0/8,127.0.0.1); empty = public addresses only", false, 0, 64, C(callback_allow)},
    {"LULL_ADMIN_PUBLIC_URL", LULL_CFG_STR, "", "lull-admin's public base URL (scheme://host[:port]); a conversation.escalated event carries inbox_url = it + /inbox#/conversations/{id}; empty = no link", false, 0, 0, C(admin_public_url)},
    {"LULL_CALLBACK_SECRET", LULL_CFG_STR, "", "default Standard Webhooks signing secret (whsec_<base64> or raw); empty = unsigned", true, 0, 0, C(callback_secret)},
};
#undef C

const lull_proc_spec_t SENDER_PROC = {
    .name = "sender",
    .about = "lull-sender delivers committed outbox rows over Twilio, the WhatsApp Cloud API (Meta), TikTok, callback URLs and web chat, with Celery-style retries and dead letters.",
    .settings = s_settings,
    .nsettings = sizeof s_settings / sizeof s_settings[0],
    .common_offset = offsetof(sender_cfg_t, common),
};
