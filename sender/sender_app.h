// The sender process: claims due outbox rows (woken by OUTBOX messages and a poll timer), delivers them
// through the channel adapters with many requests in flight on the loop, and records every result.
#ifndef SENDER_APP_H
#define SENDER_APP_H

#include "lull_proc.h"
#include "sender_config.h"

typedef struct sender_app sender_app_t;

// Creates the sender on proc's loop and database (both borrowed; cfg too, for the app's life): binds the
// OUTBOX PULL socket, arms the poll timer. NULL on failure (logged).
sender_app_t *sender_app_new(const sender_cfg_t *cfg, lull_proc_t *proc);
// After the loop stopped (SIGTERM): claims nothing more and runs the loop until the requests in flight have
// finished and their results are written, or LULL_SENDER_DRAIN_MS has passed; retries waiting in memory are not
// waited for (destroy hands them back). A delivery that finishes here is recorded as usual, so a rolling restart
// does not make another sender repeat it. NULL-safe.
void sender_app_drain(sender_app_t *self);
// Hands every in-flight delivery back to the queue (same idempotency key, next attempt now), writes the
// pending results, closes the socket and frees; NULL-safe, nulls the pointer.
void sender_app_destroy(sender_app_t **self_p);

#endif
