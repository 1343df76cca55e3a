// The settings table of lull-worker.
#include "worker_config.h"

#define W_(name, type, def, help, secret, lo, hi, field) \
    {name, type, def, help, secret, lo, hi, offsetof(worker_cfg_t, field)}

static const lull_setting_t s_settings[] = {
    LULL_COMMON_SETTINGS(worker_cfg_t, "9102"),
    W_("LULL_WORKER_SCHEDULERS", LULL_CFG_LIST, "", "fixed deployments only: ZeroMQ endpoints of the scheduler shards the worker connects to (DEALER); empty = every live scheduler registered in the database (sched_nodes), followed as they join and leave", false, 0, 64, schedulers),
    W_("LULL_SCHED_MAP_REFRESH_MS", LULL_CFG_INT, "2000", "when LULL_WORKER_SCHEDULERS is empty: how often the scheduler map is read again (also at once on NOTIFY lull_sched; the connections follow it on the next heartbeat), milliseconds", false, 10, 3600000, sched_map_refresh_ms),
    W_("LULL_SENDERS", LULL_CFG_LIST, "tcp://127.0.0.1:5552", "ZeroMQ endpoints of the senders that receive OUTBOX wake-ups (PUSH); empty = none (the sender polls)", false, 0, 64, senders),
    W_("LULL_WORKER_NAME", LULL_CFG_STR, "", "worker name announced in READY; empty = host:pid", false, 0, 0, name),
    W_("LULL_WORKER_CONCURRENCY", LULL_CFG_INT, "64", "jobs in flight at once (credit, split evenly across schedulers)", false, 1, 100000, concurrency),
    W_("LULL_HEARTBEAT_MS", LULL_CFG_INT, "1000", "heartbeat interval to each scheduler, milliseconds", false, 10, 600000, heartbeat_ms),
    W_("LULL_HEARTBEAT_LIVENESS", LULL_CFG_INT, "3", "silent heartbeat intervals before a scheduler is considered dead (reconnect)", false, 1, 100, heartbeat_liveness),
    W_("OPENAI_API_KEY", LULL_CFG_STR, "", "OpenAI API key; empty = provider off unless a tenant chain names it", true, 0, 0, openai_key),
    W_("OPENAI_BASE_URL", LULL_CFG_STR, "https://api.openai.com/v1", "OpenAI-compatible base URL (…/chat/completions is appended)", false, 0, 0, openai_base),
    W_("LULL_OPENAI_MODEL", LULL_CFG_STR, "gpt-4o-mini", "OpenAI model when the tenant sets none", false, 0, 0, openai_model),
    W_("ANTHROPIC_API_KEY", LULL_CFG_STR, "", "Anthropic API key", true, 0, 0, anthropic_key),
    W_("ANTHROPIC_BASE_URL", LULL_CFG_STR, "https://api.anthropic.com", "Anthropic base URL (/v1/messages is appended)", false, 0, 0, anthropic_base),
    W_("LULL_ANTHROPIC_MODEL", LULL_CFG_STR, "claude-3-5-haiku-latest", "Anthropic model when the tenant sets none", false, 0, 0, anthropic_model),
    W_("GEMINI_API_KEY", LULL_CFG_STR, "", "Gemini API key (sent as x-goog-api-key)", true, 0, 0, gemini_key),
    W_("GEMINI_BASE_URL", LULL_CFG_STR, "https://generativelanguage.googleapis.com/v1beta", "Gemini base URL (/models/{model}:generateContent is appended)", false, 0, 0, gemini_base),
    W_("LULL_GEMINI_MODEL", LULL_CFG_STR, "gemini-2.0-flash", "Gemini model when the tenant sets none", false, 0, 0, gemini_model),
    W_("LULL_WORKER_LLM_TIMEOUT_MS", LULL_CFG_INT, "60000", "timeout of one provider request, milliseconds", false, 10, 600000, llm_timeout_ms),
    W_("LULL_WORKER_LLM_RETRIES", LULL_CFG_INT, "2", "retries of one provider after 429/5xx/529/timeouts before the next provider", false, 0, 10, llm_retries),
    W_("LULL_WORKER_RETRY_BASE_MS", LULL_CFG_INT, "500", "provider retry backoff base, milliseconds (full jitter)", false, 0, 600000, retry_base_ms),
    W_("LULL_WORKER_RETRY_CAP_MS", LULL_CFG_INT, "10000", "cap of the provider retry backoff and of Retry-After, milliseconds", false, 0, 600000, retry_cap_ms),
    W_("LULL_WORKER_PROVIDER_RPS", LULL_CFG_DOUBLE, "0", "per-provider request rate limit (token bucket, requests/s); 0 = unlimited", false, 0, 1000000, provider_rps),
    W_("LULL_WORKER_PROVIDER_BURST", LULL_CFG_INT, "100", "per-provider token bucket size (requests)", false, 1, 1000000, provider_burst),
    W_("LULL_WORKER_COOLDOWN_FAILURES", LULL_CFG_INT, "5", "consecutive failed requests before a provider cools down", false, 1, 1000, cooldown_failures),
    W_("LULL_WORKER_COOLDOWN_MS", LULL_CFG_INT, "30000", "provider cooldown, milliseconds (reported to the scheduler as backoff_until_ms)", false, 0, 3600000, cooldown_ms),
    W_("LULL_WORKER_TOOL_ROUNDS", LULL_CFG_INT, "3", "maximum tool-call rounds per reply", false, 0, 10, tool_rounds),
    W_("LULL_WORKER_BLOCK_LIMIT_MS", LULL_CFG_INT, "0", "after a blocked message, ignore that contact for this long (contacts.limited_until); 0 = off", false, 0, 2592000000.0, block_limit_ms),
    W_("LULL_WORKER_PRICES_REFRESH_MS", LULL_CFG_INT, "300000", "how often the model prices (table llm_prices) are read again, milliseconds; 0 = at start only", false, 0, 86400000, prices_refresh_ms),
    W_("LULL_WORKER_ANALYSIS", LULL_CFG_BOOL, "1", "run the structured analysis of each burst (sentiment, intent, entities …)", false, 0, 0, analysis),
};

const lull_proc_spec_t WORKER_PROC = {
    .name = "worker",
    .about = "lull-worker turns due conversations into replies: it loads the history, calls the LLM provider chain (with tools and analysis) through libcurl multi, and commits reply, analysis and outbox row in one transaction.",
    .settings = s_settings,
    .nsettings = sizeof s_settings / sizeof s_settings[0],
    .common_offset = offsetof(worker_cfg_t, common),
};
