// The limits of the tenant settings, stated once: the admin API refuses a value outside them (400 naming
// the limit), the worker honours every value inside them, and the database CHECK constraints
// (migrations/015_tenant_limits.sql) state the same bounds — tests/unit/test_tenant_limits.c proves the
// last by writing each boundary, and one step past it, through SQL. Change a limit here and in a new
// migration together.
#ifndef LULL_TENANT_LIMITS_H
#define LULL_TENANT_LIMITS_H

// Integer settings (columns of tenants), inclusive bounds.
#define LULL_TENANT_WINDOW_MS_MAX 86400000LL        // window_ms, max_wait_ms (and channel_windows): one day
#define LULL_TENANT_HISTORY_LEN_MIN 1               // messages given to the model (the burst included)
#define LULL_TENANT_HISTORY_LEN_MAX 500
#define LULL_TENANT_MAX_TOKENS_MAX 200000           // max_tokens of a reply, from 1
#define LULL_TENANT_HUMAN_PAUSE_MS_MAX 2592000000LL // 30 days
#define LULL_TENANT_MAX_ATTEMPTS_MAX 100            // from 0 (0 = never apologise)
#define LULL_TENANT_DAILY_LIMIT_MAX 1000000000LL    // daily_limit_tenant, daily_limit_contact (LLM requests)
#define LULL_TENANT_RETRY_MS_MAX 86400000LL         // retry_base_ms, retry_max_ms
#define LULL_TENANT_MAX_RETRIES_MAX 1000
#define LULL_TENANT_HISTORY_TOKENS_MIN 100          // history_tokens: estimated tokens of history sent
#define LULL_TENANT_HISTORY_TOKENS_MAX 1000000
// Real settings.
#define LULL_TENANT_TEMPERATURE_MAX 2.0             // from 0 (Anthropic's own range ends at 1: sent as 1 there)
#define LULL_TENANT_CONFIDENCE_MAX 1.0              // confidence_threshold, from 0
// Texts, in bytes.
#define LULL_TENANT_MODEL_MAX 200                   // model, and each model of models; from 1
#define LULL_TENANT_CHAIN_MAX 3                     // provider_chain: distinct names of openai, anthropic, gemini
#define LULL_PROMPT_TEMPLATE_MAX 100000             // prompts.template, from 1

// Every bounded column, for code that walks them all (the boundary test):
// X(table, column, sql type, min, max).
#define LULL_TENANT_LIMITS(X)                                                              \
    X("tenants", "window_ms", "bigint", 0, LULL_TENANT_WINDOW_MS_MAX)                      \
    X("tenants", "max_wait_ms", "bigint", 0, LULL_TENANT_WINDOW_MS_MAX)                    \
    X("tenants", "history_len", "bigint", LULL_TENANT_HISTORY_LEN_MIN, LULL_TENANT_HISTORY_LEN_MAX) \
    X("tenants", "max_tokens", "bigint", 1, LULL_TENANT_MAX_TOKENS_MAX)                    \
    X("tenants", "human_pause_ms", "bigint", 0, LULL_TENANT_HUMAN_PAUSE_MS_MAX)            \
    X("tenants", "max_attempts", "bigint", 0, LULL_TENANT_MAX_ATTEMPTS_MAX)                \
    X("tenants", "daily_limit_tenant", "bigint", 0, LULL_TENANT_DAILY_LIMIT_MAX)           \
    X("tenants", "daily_limit_contact", "bigint", 0, LULL_TENANT_DAILY_LIMIT_MAX)          \
    X("tenants", "retry_base_ms", "bigint", 0, LULL_TENANT_RETRY_MS_MAX)                   \
    X("tenants", "retry_max_ms", "bigint", 0, LULL_TENANT_RETRY_MS_MAX)                    \
    X("tenants", "max_retries", "bigint", 0, LULL_TENANT_MAX_RETRIES_MAX)                  \
    X("tenants", "history_tokens", "bigint", LULL_TENANT_HISTORY_TOKENS_MIN, LULL_TENANT_HISTORY_TOKENS_MAX) \
    X("tenants", "temperature", "real", 0, LULL_TENANT_TEMPERATURE_MAX)                    \
    X("tenants", "confidence_threshold", "real", 0, LULL_TENANT_CONFIDENCE_MAX)            \
    X("tenants", "model", "bytes", 1, LULL_TENANT_MODEL_MAX)                               \
    X("tenants", "models", "model map", 1, LULL_TENANT_MODEL_MAX)                          \
    X("tenants", "provider_chain", "provider array", 0, LULL_TENANT_CHAIN_MAX)             \
    X("prompts", "template", "bytes", 1, LULL_PROMPT_TEMPLATE_MAX)

#endif
