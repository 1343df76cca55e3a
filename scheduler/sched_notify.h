// Lease mode: the scheduler hears the cluster change at once. A connection of its own LISTENs on lull_sched
// (a scheduler joined, left, handed partitions over, claimed them; a stale node was pruned), its socket watched
// by the loop; a notification arms a one-shot timer and fn runs when it fires (every notification within the
// debounce interval: one call), so a joining scheduler gets its share within a round trip or two instead of
// waiting for the renewal ticks. A lost connection is retried every LULL_DB_LISTEN_RETRY_MS (with the
// connection's backoff); listening again counts as a change (what was notified meanwhile went unheard).
#ifndef SCHED_NOTIFY_H
#define SCHED_NOTIFY_H

#include <stdint.h>

#include "lull_loop.h"
#include "lull_metrics.h"

typedef struct sched_notify sched_notify_t;

// Runs the rebalance (the lease tick).
typedef void(sched_notify_fn)(void *arg);

// Creates the listener on url and watches it on loop (connected at once when the database answers); fn(arg)
// runs debounce_ms after a notification. metrics may be NULL. NULL on failure.
sched_notify_t *sched_notify_new(lull_loop_t *loop, const char *url, int64_t debounce_ms, lull_metrics_t *metrics,
                                 sched_notify_fn *fn, void *arg);
// Stops watching, cancels a pending call, closes the connection; NULL-safe, nulls the pointer.
void sched_notify_destroy(sched_notify_t **self_p);
#endif
