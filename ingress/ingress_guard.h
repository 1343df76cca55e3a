// What keeps strangers from abusing the unauthenticated public routes cheaply: token-bucket rate limits per
// client address and per web chat session (lull_ratelimit tables, one per limit), the 429 answer with
// Retry-After (logged sampled, so that a flood does not flood the log), and the same-origin test of a web chat
// request's Origin header.
#ifndef INGRESS_GUARD_H
#define INGRESS_GUARD_H

#include "ingress_config.h"
#include "lull_metrics.h"
#include "lull_ratelimit.h"

#include <microhttpd.h>

typedef enum {
    INGRESS_LIMIT_SESSION = 0,   // POST /api/v1/chat/session, per address
    INGRESS_LIMIT_MESSAGE,       // POST /api/v1/chat/message, per session
    INGRESS_LIMIT_MESSAGE_ADDR,  // POST /api/v1/chat/message, per address
    INGRESS_LIMIT_READ,          // GET history and stream, per address
    INGRESS_LIMIT_UNSIGNED,      // POST /webhook without a verified signature, per address
    INGRESS_LIMIT_COUNT
} ingress_limit_t;

typedef enum {
    INGRESS_ORIGIN_NONE = 0,  // no Origin header (not a browser, or a same-origin GET)
    INGRESS_ORIGIN_SAME,      // the request's own scheme://host, or LULL_PUBLIC_URL
    INGRESS_ORIGIN_FOREIGN    // another origin: allowed only when the tenant lists it
} ingress_origin_t;

typedef struct ingress_guard ingress_guard_t;

// The tables of cfg's limits. NULL when out of memory.
ingress_guard_t *ingress_guard_new(const ingress_cfg_t *cfg, lull_metrics_t *metrics);
// Frees; NULL-safe, nulls the pointer.
void ingress_guard_destroy(ingress_guard_t **self_p);
// The rate-limit key of the connection's client address (lull_ratelimit_addr_key); 0 when unknown.
size_t ingress_guard_addr(struct MHD_Connection *conn, uint8_t key[LULL_RATELIMIT_ADDR_KEY]);
// Takes a token of limit for key: 0, or how long until one is there (ms) — then answer with
// ingress_guard_refuse.
int64_t ingress_guard_take(ingress_guard_t *self, ingress_limit_t limit, const void *key, size_t keylen);
// How long until key owes nothing in limit's bucket (ms), 0 when it does not owe. Takes nothing.
int64_t ingress_guard_owed(ingress_guard_t *self, ingress_limit_t limit, const void *key, size_t keylen);
// Takes a token of limit for key after the fact (the bucket may owe).
void ingress_guard_charge(ingress_guard_t *self, ingress_limit_t limit, const void *key, size_t keylen);
// Queues 429 rate_limited with Retry-After (whole seconds, rounded up) and the JSON error; counts it by route and
// limit, and logs one "http.rate_limited" line per second at most (with how many were not logged).
enum MHD_Result ingress_guard_refuse(ingress_guard_t *self, struct MHD_Connection *conn, ingress_limit_t limit,
                                     const char *route, int64_t retry_ms);
// Classifies the request's Origin against its Host header and public_url (borrowed; may be "").
ingress_origin_t ingress_guard_origin(struct MHD_Connection *conn, const char *public_url);
// The name of a limit, for logs and metrics.
const char *ingress_guard_limit_name(ingress_limit_t limit);

#endif
