// The fake LLM's prompt cache, as providers keep one: keyed by a hash of the request's stable prefix (the
// body without the conversation and without what changes per tool round), so a prefix seen before is
// reported as cached prompt tokens.
#ifndef FAKE_LLM_CACHE_H
#define FAKE_LLM_CACHE_H

#include <cJSON.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int64_t prefix_tokens;  // estimated tokens of the stable prefix (bytes / 4)
    bool cacheable;         // Anthropic caches only up to a cache_control breakpoint; the others always
    bool hit;               // the prefix was seen before (thread-safe)
} fake_cache_t;

// Looks the prefix of request req of provider p (0 openai, 1 anthropic, 2 gemini) up, remembering it.
fake_cache_t fake_cache_lookup(int p, const cJSON *req);
// Forgets every prefix.
void fake_cache_reset(void);

#endif
