// Token buckets in a bounded table: a fixed array of entries, a chained hash index over them (FNV-1a) and a
// doubly linked list in order of use; when every entry is taken, the least recently used one is reused.
#include "lull_ratelimit.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t key[LULL_RATELIMIT_KEY_MAX];
    uint8_t keylen;
    int32_t chain;       // next entry in the same hash slot, -1 = none
    int32_t newer, older;  // use order, -1 = none
    double tokens;       // may be negative (owed) after a charge
    int64_t at_ms;       // when tokens was last brought up to date
} s_entry_t;

struct lull_ratelimit {
    pthread_mutex_t mu;
    double per_ms;       // tokens added per millisecond; 0 = no limit
    double burst;        // bucket size, tokens
    size_t max, used;
    s_entry_t *e;
    int32_t *slot;       // hash slots: first entry, -1 = none
    size_t nslots;       // power of two
    int32_t newest, oldest;
};

static uint32_t s_hash(const uint8_t *k, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ k[i]) * 16777619u;
    return h;
}

lull_ratelimit_t *lull_ratelimit_new(double per_min, double burst, size_t max_keys)
{
    lull_ratelimit_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    pthread_mutex_init(&self->mu, NULL);
    self->per_ms = per_min > 0 ? per_min / 60000.0 : 0;
    self->burst = burst >= 1 ? burst : 1;
    self->max = max_keys ? max_keys : 1;
    self->newest = self->oldest = -1;
    if (self->per_ms > 0) {
        self->nslots = 16;
        while (self->nslots < 2 * self->max) self->nslots *= 2;
        self->e = calloc(self->max, sizeof *self->e);
        self->slot = malloc(self->nslots * sizeof *self->slot);
        if (!self->e || !self->slot) {
            lull_ratelimit_destroy(&self);
            return NULL;
        }
        for (size_t i = 0; i < self->nslots; i++) self->slot[i] = -1;
    }
    return self;
}

void lull_ratelimit_destroy(lull_ratelimit_t **self_p)
{
    if (!self_p || !*self_p) return;
    lull_ratelimit_t *self = *self_p;
    pthread_mutex_destroy(&self->mu);
    free(self->e);
    free(self->slot);
    free(self);
    *self_p = NULL;
}

bool lull_ratelimit_enabled(const lull_ratelimit_t *self) { return self && self->per_ms > 0; }

static void s_unlink_use(lull_ratelimit_t *self, int32_t i)
{
    s_entry_t *x = &self->e[i];
    if (x->newer >= 0) self->e[x->newer].older = x->older;
    else self->newest = x->older;
    if (x->older >= 0) self->e[x->older].newer = x->newer;
    else self->oldest = x->newer;
    x->newer = x->older = -1;
}

static void s_link_newest(lull_ratelimit_t *self, int32_t i)
{
    s_entry_t *x = &self->e[i];
    x->newer = -1;
    x->older = self->newest;
    if (self->newest >= 0) self->e[self->newest].newer = i;
    self->newest = i;
    if (self->oldest < 0) self->oldest = i;
}

// The entry of key, brought up to date at now_ms and made the newest; created (full) when absent. Caller holds mu.
static s_entry_t *s_find(lull_ratelimit_t *self, const void *key, size_t keylen, int64_t now_ms)
{
    if (keylen > LULL_RATELIMIT_KEY_MAX) keylen = LULL_RATELIMIT_KEY_MAX;
    size_t h = s_hash(key, keylen) & (self->nslots - 1);
    int32_t i = self->slot[h];
    while (i >= 0 && !(self->e[i].keylen == keylen && memcmp(self->e[i].key, key, keylen) == 0)) i = self->e[i].chain;
    if (i < 0) {
        if (self->used < self->max) {
            i = (int32_t)self->used++;
        } else {  // forget the least recently used key
            i = self->oldest;
            s_unlink_use(self, i);
            size_t oh = s_hash(self->e[i].key, self->e[i].keylen) & (self->nslots - 1);
            int32_t *pp = &self->slot[oh];
            while (*pp != i) pp = &self->e[*pp].chain;
            *pp = self->e[i].chain;
        }
        s_entry_t *x = &self->e[i];
        memcpy(x->key, key, keylen);
        x->keylen = (uint8_t)keylen;
        x->tokens = self->burst;
        x->at_ms = now_ms;
        x->chain = self->slot[h];
        self->slot[h] = i;
        x->newer = x->older = -1;
    } else {
        s_unlink_use(self, i);
    }
    s_link_newest(self, i);
    s_entry_t *x = &self->e[i];
    if (now_ms > x->at_ms) {
        x->tokens += (double)(now_ms - x->at_ms) * self->per_ms;
        if (x->tokens > self->burst) x->tokens = self->burst;
        x->at_ms = now_ms;
    }
    return x;
}

// Milliseconds until the bucket holds `want` tokens (at least 1 when it does not yet).
static int64_t s_wait_ms(const lull_ratelimit_t *self, const s_entry_t *x, double want)
{
    if (x->tokens >= want) return 0;
    int64_t ms = (int64_t)((want - x->tokens) / self->per_ms) + 1;
    return ms > 0 ? ms : 1;
}

int64_t lull_ratelimit_take(lull_ratelimit_t *self, const void *key, size_t keylen, int64_t now_ms)
{
    if (!lull_ratelimit_enabled(self)) return 0;
    pthread_mutex_lock(&self->mu);
    s_entry_t *x = s_find(self, key, keylen, now_ms);
    int64_t wait = s_wait_ms(self, x, 1.0);
    if (wait == 0) x->tokens -= 1.0;
    pthread_mutex_unlock(&self->mu);
    return wait;
}

void lull_ratelimit_charge(lull_ratelimit_t *self, const void *key, size_t keylen, int64_t now_ms)
{
    if (!lull_ratelimit_enabled(self)) return;
    pthread_mutex_lock(&self->mu);
    s_entry_t *x = s_find(self, key, keylen, now_ms);
    x->tokens -= 1.0;
    if (x->tokens < -self->burst) x->tokens = -self->burst;
    pthread_mutex_unlock(&self->mu);
}

int64_t lull_ratelimit_owed_ms(lull_ratelimit_t *self, const void *key, size_t keylen, int64_t now_ms)
{
    if (!lull_ratelimit_enabled(self)) return 0;
    pthread_mutex_lock(&self->mu);
    s_entry_t *x = s_find(self, key, keylen, now_ms);
    int64_t wait = s_wait_ms(self, x, 0.0);
    pthread_mutex_unlock(&self->mu);
    return wait;
}

size_t lull_ratelimit_size(lull_ratelimit_t *self)
{
    if (!self) return 0;
    pthread_mutex_lock(&self->mu);
    size_t n = self->used;
    pthread_mutex_unlock(&self->mu);
    return n;
}

size_t lull_ratelimit_addr_key(const struct sockaddr *sa, uint8_t out[LULL_RATELIMIT_ADDR_KEY])
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!sa) return 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)(const void *)sa;
        out[0] = 4;
        memcpy(out + 1, &v4->sin_addr, 4);
        return 5;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)(const void *)sa;
        const uint8_t *a = v6->sin6_addr.s6_addr;
        if (memcmp(a, mapped, sizeof mapped) == 0) {
            out[0] = 4;
            memcpy(out + 1, a + 12, 4);
            return 5;
        }
        out[0] = 6;
        memcpy(out + 1, a, 8);  // the /64
        return 9;
    }
    return 0;
}
