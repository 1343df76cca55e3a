// Text helpers of a job: the system prompt from the tenant's template, the per-channel length hint, and
// case-insensitive phrase matching for the content filter and escalation keywords.
#ifndef WORKER_PROMPT_H
#define WORKER_PROMPT_H

#include <stdbool.h>
#include <stddef.h>

#include "lull_tenant_limits.h"

// Bytes of a rendered system prompt: room for a template of LULL_PROMPT_TEMPLATE_MAX bytes made only of
// {{agent_name}} (14 bytes) each replaced by a name of 200 bytes, so a template within the limit is whole.
#define WORKER_PROMPT_MAX ((LULL_PROMPT_TEMPLATE_MAX / 14 + 1) * 200 + 1024)

typedef struct {
    const char *company_name;
    const char *agent_name;
    const char *customer_name;
    const char *channel;
} worker_prompt_vars_t;

// Renders template with {{company_name}}, {{agent_name}}, {{customer_name}}, {{channel}} (whitespace inside
// the braces allowed); unknown {{variables}} are removed; then appends the channel's length hint. The
// result is capped at WORKER_PROMPT_MAX bytes. Caller frees; NULL when out of memory.
char *worker_prompt_render(const char *tmpl, const worker_prompt_vars_t *vars);
// The length hint for a channel ("sms", "tiktok" short; others a few sentences). Static string.
const char *worker_prompt_length_hint(const char *channel);
// True when text contains needle, ASCII case-insensitively (an empty needle never matches).
bool worker_text_contains(const char *text, const char *needle);
// Index of the first phrase of a PostgreSQL text[] literal ("{a,\"b c\"}") contained in text, or -1;
// the phrase is copied into found (may be NULL). Malformed arrays match nothing.
int worker_text_match_array(const char *text, const char *pg_array, char *found, size_t found_len);

#endif
