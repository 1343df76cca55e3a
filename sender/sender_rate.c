// Token buckets with slot scheduling for refused sends (see sender_rate.h).
#include "sender_rate.h"
#include "lull_log.h"

#include <math.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 64

typedef struct {
    char key[KEY_MAX];
    double tokens;
    int64_t last_ms;     // last refill, monotonic ms
    double next_slot_ms; // first free slot for a refused send, monotonic ms
} s_bucket_t;

struct sender_rate {
    s_bucket_t *b;
    size_t n, max;
    bool warned;
};

sender_rate_t *sender_rate_new(size_t max_keys)
{
    sender_rate_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->max = max_keys ? max_keys : 1;
    self->b = calloc(self->max, sizeof *self->b);
    if (!self->b) {
        free(self);
        return NULL;
    }
    return self;
}

void sender_rate_destroy(sender_rate_t **self_p)
{
    if (!self_p || !*self_p) return;
    free((*self_p)->b);
    free(*self_p);
    *self_p = NULL;
}

static s_bucket_t *s_find(sender_rate_t *self, const char *key, double burst, int64_t now_ms)
{
    for (size_t i = 0; i < self->n; i++)
        if (strncmp(self->b[i].key, key, KEY_MAX - 1) == 0) return &self->b[i];
    if (self->n == self->max) {
        if (!self->warned) LOG_WARN("sender.rate_table_full", "rate-limit table full; new keys unlimited", "max", LI(self->max));
        self->warned = true;
        return NULL;
    }
    s_bucket_t *b = &self->b[self->n++];
    snprintf(b->key, sizeof b->key, "%s", key);
    b->tokens = burst;
    b->last_ms = now_ms;
    b->next_slot_ms = 0;
    return b;
}

int64_t sender_rate_take(sender_rate_t *self, const char *key, double rate_per_s, int64_t now_ms)
{
    if (rate_per_s <= 0) return 0;
    double burst = rate_per_s < 1 ? 1 : rate_per_s;
    s_bucket_t *b = s_find(self, key, burst, now_ms);
    if (!b) return 0;
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * rate_per_s / 1000.0;
        if (b->tokens > burst) b->tokens = burst;
        b->last_ms = now_ms;
    }
    if (b->tokens >= 1) {
        b->tokens -= 1;
        return 0;
    }
    double interval = 1000.0 / rate_per_s;
    double ready = (double)now_ms + (1 - b->tokens) * interval;
    double slot = b->next_slot_ms > ready ? b->next_slot_ms : ready;
    b->next_slot_ms = slot + interval;
    int64_t wait = (int64_t)ceil(slot - (double)now_ms);
    return wait > 0 ? wait : 1;
}
