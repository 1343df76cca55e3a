// Per-provider health: a token bucket (request rate limit) and a cooldown after consecutive failures.
#ifndef WORKER_LIMIT_H
#define WORKER_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    double rate;          // tokens per second; 0 = unlimited
    double burst;         // bucket size
    double tokens;        // current tokens
    int64_t last_ms;      // monotonic time of the last refill, milliseconds
    int64_t fail_limit;   // consecutive failures before a cooldown
    int64_t cooldown_ms;  // cooldown length, milliseconds
    int64_t failures;     // consecutive failures so far
    int64_t cool_until;   // monotonic ms until which the provider is skipped; 0 = none
} worker_limit_t;

// Initialises a limit (plain data, nothing to free).
void worker_limit_init(worker_limit_t *l, double rate, int64_t burst, int64_t fail_limit, int64_t cooldown_ms,
                       int64_t now_ms);
// Takes one token at now_ms: 0 when taken, else milliseconds until one is available.
int64_t worker_limit_take(worker_limit_t *l, int64_t now_ms);
// Milliseconds of cooldown left at now_ms (0 = usable).
int64_t worker_limit_cooling(const worker_limit_t *l, int64_t now_ms);
// Records a request outcome; a failure streak of fail_limit starts a cooldown. True when it just started.
bool worker_limit_record(worker_limit_t *l, bool ok, int64_t now_ms);

#endif
