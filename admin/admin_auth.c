// Lockout of failing addresses and the cache of verified agent tokens (admin_auth.h).
#include "admin_auth.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PROBE 16  // slots looked at for one address before the least recently seen one is replaced

typedef struct {
    char addr[ADMIN_AUTH_ADDR_MAX];  // "" = free
    int64_t window_start_ms;         // the first failure of the current window, monotonic
    int64_t failures;                // within the window
    int64_t locked_until_ms;         // monotonic; 0 = not locked
    int64_t seen_ms;                 // the last failure, monotonic
} s_addr_t;

typedef struct {
    uint8_t token[32];  // SHA-256 of the token
    uint8_t hash[32];   // SHA-256 of the stored hash it was verified against
    int64_t agent_id;   // 0 = free
    int64_t until_ms;   // monotonic
} s_cached_t;

struct admin_auth {
    admin_auth_cfg_t cfg;
    pthread_mutex_t mu;
    s_addr_t *addrs;     // cfg.addresses slots
    s_cached_t *cache;   // cfg.cache_max slots
};

admin_auth_t *admin_auth_new(const admin_auth_cfg_t *cfg)
{
    admin_auth_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->cfg = *cfg;
    if (self->cfg.addresses < 1) self->cfg.addresses = 1;
    if (self->cfg.cache_max < 1) self->cfg.cache_max = 1;
    self->addrs = calloc((size_t)self->cfg.addresses, sizeof *self->addrs);
    self->cache = calloc((size_t)self->cfg.cache_max, sizeof *self->cache);
    pthread_mutex_init(&self->mu, NULL);
    if (!self->addrs || !self->cache) admin_auth_destroy(&self);
    return self;
}

void admin_auth_destroy(admin_auth_t **self_p)
{
    if (!self_p || !*self_p) return;
    admin_auth_t *self = *self_p;
    pthread_mutex_destroy(&self->mu);
    if (self->cache) OPENSSL_cleanse(self->cache, (size_t)self->cfg.cache_max * sizeof *self->cache);
    free(self->cache);
    free(self->addrs);
    free(self);
    *self_p = NULL;
}

// ---------------------------------------------------------------------------------------------------------
// Lockout

static uint64_t s_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;  // FNV-1a
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

// True when e holds nothing worth keeping at now_ms: its window and its lock are over.
static bool s_stale(const admin_auth_t *self, const s_addr_t *e, int64_t now_ms)
{
    return !e->addr[0] || (e->locked_until_ms <= now_ms && now_ms - e->window_start_ms >= self->cfg.window_ms);
}

// addr's slot (mu held); with create, a stale or the least recently seen slot of its probe run is taken over.
static s_addr_t *s_find(admin_auth_t *self, const char *addr, bool create, int64_t now_ms)
{
    size_t n = (size_t)self->cfg.addresses, start = (size_t)(s_hash(addr) % n);
    s_addr_t *spare = NULL;
    for (size_t k = 0; k < S_PROBE && k < n; k++) {
        s_addr_t *e = &self->addrs[(start + k) % n];
        if (e->addr[0] && strcmp(e->addr, addr) == 0) return e;
        if (!spare || (!s_stale(self, spare, now_ms) && (s_stale(self, e, now_ms) || e->seen_ms < spare->seen_ms)))
            spare = e;
    }
    if (!create || !spare) return NULL;
    memset(spare, 0, sizeof *spare);
    snprintf(spare->addr, sizeof spare->addr, "%s", addr);
    spare->window_start_ms = now_ms;
    return spare;
}

int64_t admin_auth_locked_ms(admin_auth_t *self, const char *addr, int64_t now_ms)
{
    pthread_mutex_lock(&self->mu);
    s_addr_t *e = s_find(self, addr, false, now_ms);
    int64_t left = e && e->locked_until_ms > now_ms ? e->locked_until_ms - now_ms : 0;
    pthread_mutex_unlock(&self->mu);
    return left;
}

int64_t admin_auth_failed(admin_auth_t *self, const char *addr, int64_t now_ms)
{
    int64_t locked = 0;
    pthread_mutex_lock(&self->mu);
    s_addr_t *e = s_find(self, addr, true, now_ms);
    if (e) {
        if (now_ms - e->window_start_ms >= self->cfg.window_ms) {
            e->window_start_ms = now_ms;
            e->failures = 0;
        }
        e->seen_ms = now_ms;
        if (++e->failures > self->cfg.fail_max) {
            e->locked_until_ms = now_ms + self->cfg.lock_ms;
            e->window_start_ms = e->locked_until_ms;  // counting starts again when the lock ends
            e->failures = 0;
            locked = self->cfg.lock_ms;
        }
    }
    pthread_mutex_unlock(&self->mu);
    return locked;
}

// ---------------------------------------------------------------------------------------------------------
// Verified tokens

bool admin_auth_cache_hit(admin_auth_t *self, const uint8_t token_digest[32], int64_t agent_id,
                          const uint8_t hash_digest[32], int64_t now_ms)
{
    bool hit = false;
    if (self->cfg.cache_ms <= 0) return false;
    pthread_mutex_lock(&self->mu);
    for (int64_t i = 0; i < self->cfg.cache_max && !hit; i++) {
        const s_cached_t *c = &self->cache[i];
        hit = c->agent_id == agent_id && c->until_ms > now_ms && CRYPTO_memcmp(c->token, token_digest, 32) == 0 &&
              CRYPTO_memcmp(c->hash, hash_digest, 32) == 0;
    }
    pthread_mutex_unlock(&self->mu);
    return hit;
}

void admin_auth_cache_put(admin_auth_t *self, const uint8_t token_digest[32], int64_t agent_id,
                          const uint8_t hash_digest[32], int64_t now_ms)
{
    if (self->cfg.cache_ms <= 0) return;
    pthread_mutex_lock(&self->mu);
    s_cached_t *slot = &self->cache[0];
    for (int64_t i = 0; i < self->cfg.cache_max; i++) {
        s_cached_t *c = &self->cache[i];
        if (c->agent_id == 0 || c->until_ms <= now_ms || CRYPTO_memcmp(c->token, token_digest, 32) == 0) {
            slot = c;
            break;
        }
        if (c->until_ms < slot->until_ms) slot = c;
    }
    memcpy(slot->token, token_digest, 32);
    memcpy(slot->hash, hash_digest, 32);
    slot->agent_id = agent_id;
    slot->until_ms = now_ms + self->cfg.cache_ms;
    pthread_mutex_unlock(&self->mu);
}

void admin_auth_cache_forget(admin_auth_t *self, int64_t agent_id)
{
    pthread_mutex_lock(&self->mu);
    for (int64_t i = 0; i < self->cfg.cache_max; i++)
        if (self->cache[i].agent_id == agent_id) memset(&self->cache[i], 0, sizeof self->cache[i]);
    pthread_mutex_unlock(&self->mu);
}
