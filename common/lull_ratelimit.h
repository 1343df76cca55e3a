// Token buckets keyed by a short byte string (a client address, a chat session), in a table of bounded size: the
// least recently used key is forgotten when the table is full, so a flood of distinct keys costs a fixed amount
// of memory (a forgotten key starts again with a full bucket). Time is passed in (milliseconds, any monotonic
// origin), so the module is pure; a mutex makes one table usable from several threads.
#ifndef LULL_RATELIMIT_H
#define LULL_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define LULL_RATELIMIT_KEY_MAX 64  // bytes of one key; longer keys are cut
#define LULL_RATELIMIT_ADDR_KEY 20 // bytes lull_ratelimit_addr_key writes at most

typedef struct lull_ratelimit lull_ratelimit_t;

// A table of at most max_keys buckets, each refilled at per_min tokens a minute up to burst tokens.
// per_min <= 0 means no limit (every take succeeds, nothing is stored). NULL when out of memory.
lull_ratelimit_t *lull_ratelimit_new(double per_min, double burst, size_t max_keys);
// Frees the table; NULL-safe, nulls the pointer.
void lull_ratelimit_destroy(lull_ratelimit_t **self_p);
// Takes one token from key's bucket: 0 when taken, else how long until one is there, milliseconds (>= 1).
int64_t lull_ratelimit_take(lull_ratelimit_t *self, const void *key, size_t keylen, int64_t now_ms);
// Takes one token even when the bucket is empty (the bucket may owe up to burst tokens): for a cost known only
// after the request was served.
void lull_ratelimit_charge(lull_ratelimit_t *self, const void *key, size_t keylen, int64_t now_ms);
// How long until key's bucket owes nothing, milliseconds; 0 when it holds zero or more tokens. Takes nothing.
int64_t lull_ratelimit_owed_ms(lull_ratelimit_t *self, const void *key, size_t keylen, int64_t now_ms);
// Keys held now (at most max_keys).
size_t lull_ratelimit_size(lull_ratelimit_t *self);
// True when the table limits anything (per_min > 0).
bool lull_ratelimit_enabled(const lull_ratelimit_t *self);
// The bucket key of a client address: IPv4 (and IPv4-mapped IPv6) by the whole address, IPv6 by its /64 (one
// subscriber's whole network). Returns the key's length (written to out, which holds LULL_RATELIMIT_ADDR_KEY
// bytes), 0 for another family or NULL.
size_t lull_ratelimit_addr_key(const struct sockaddr *sa, uint8_t out[LULL_RATELIMIT_ADDR_KEY]);

#endif
