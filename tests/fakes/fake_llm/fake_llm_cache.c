// The fake LLM's prompt cache (see fake_llm_cache.h): an open-addressing set of 64-bit prefix hashes.
#include "fake_llm_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 65536  // prefixes remembered; the set is emptied when it is three quarters full

static pthread_mutex_t s_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t s_slots[SLOTS];
static size_t s_used;

static uint64_t s_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ? h : 1;
}

// True when h was in the set; adds it.
static bool s_seen(uint64_t h)
{
    pthread_mutex_lock(&s_mu);
    if (s_used >= SLOTS / 4 * 3) {
        memset(s_slots, 0, sizeof s_slots);
        s_used = 0;
    }
    size_t i = h % SLOTS;
    bool seen = false;
    while (s_slots[i]) {
        if (s_slots[i] == h) {
            seen = true;
            break;
        }
        i = (i + 1) % SLOTS;
    }
    if (!seen) {
        s_slots[i] = h;
        s_used++;
    }
    pthread_mutex_unlock(&s_mu);
    return seen;
}

static bool s_has_key(const cJSON *node, const char *key)
{
    if (!node) return false;
    if (node->string && strcmp(node->string, key) == 0) return true;
    for (const cJSON *c = node->child; c; c = c->next)
        if (s_has_key(c, key)) return true;
    return false;
}

fake_cache_t fake_cache_lookup(int p, const cJSON *req)
{
    fake_cache_t out = {0, false, false};
    cJSON *copy = cJSON_Duplicate(req, 1);
    if (!copy) return out;
    if (p == 0) {
        cJSON *msgs = cJSON_DetachItemFromObjectCaseSensitive(copy, "messages");
        cJSON *first = cJSON_GetArrayItem(msgs, 0);
        const cJSON *role = first ? cJSON_GetObjectItemCaseSensitive(first, "role") : NULL;
        if (cJSON_IsString(role) && strcmp(role->valuestring, "system") == 0)
            cJSON_AddItemToObject(copy, "system", cJSON_DetachItemFromArray(msgs, 0));
        cJSON_Delete(msgs);
        cJSON_DeleteItemFromObjectCaseSensitive(copy, "tool_choice");
        out.cacheable = true;
    } else if (p == 1) {
        cJSON_DeleteItemFromObjectCaseSensitive(copy, "messages");
        cJSON_DeleteItemFromObjectCaseSensitive(copy, "tool_choice");
        out.cacheable = s_has_key(copy, "cache_control");
    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(copy, "contents");
        cJSON_DeleteItemFromObjectCaseSensitive(copy, "toolConfig");
        out.cacheable = true;
    }
    char *text = cJSON_PrintUnformatted(copy);
    cJSON_Delete(copy);
    if (!text) return out;
    out.prefix_tokens = (int64_t)strlen(text) / 4;
    if (out.cacheable) out.hit = s_seen(s_hash(text));
    free(text);
    return out;
}

void fake_cache_reset(void)
{
    pthread_mutex_lock(&s_mu);
    memset(s_slots, 0, sizeof s_slots);
    s_used = 0;
    pthread_mutex_unlock(&s_mu);
}
