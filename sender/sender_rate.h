// Token buckets for the sender's rate limits (per channel, per tenant and channel). A send over the limit
// is told how long to wait; successive refusals get successive slots so released rows come back spread out.
#ifndef SENDER_RATE_H
#define SENDER_RATE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sender_rate sender_rate_t;

// Creates a table of at most max_keys buckets; NULL on failure.
sender_rate_t *sender_rate_new(size_t max_keys);
// Frees; NULL-safe, nulls the pointer.
void sender_rate_destroy(sender_rate_t **self_p);
// Takes one token from bucket key (rate_per_s tokens/s, burst max(1, rate_per_s)) at now_ms (monotonic).
// 0 = allowed; > 0 = refused, milliseconds until a slot is free. rate_per_s <= 0 → always allowed. When the
// table is full, new keys are not limited (logged once).
int64_t sender_rate_take(sender_rate_t *self, const char *key, double rate_per_s, int64_t now_ms);

#endif
