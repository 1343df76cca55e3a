// A connection that keeps LISTENing on one channel: connects (with reconnect backoff), LISTENs, drains the
// notifications, and after a lost connection reconnects and LISTENs again, reporting the restart as a change
// (whatever was notified while nobody listened is missed: the owner re-reads). One thread owns a listener: a
// poll loop of its own or lull_loop; between steps it may run its reads on the same connection.
#ifndef LULL_DB_LISTEN_H
#define LULL_DB_LISTEN_H

#include <stdbool.h>

#include "lull_db.h"

#define LULL_DB_LISTEN_RETRY_MS 100  // poll again after this when not listening (reconnect), milliseconds

typedef struct lull_db_listen lull_db_listen_t;

// Creates a listener on channel (1 to 63 of a-z 0-9 _, starting with a letter) with its own connection to url
// (tried at the first step); what names it in the log lines ("scheduler map changes"). NULL on a bad channel
// or allocation failure. Strings are copied.
lull_db_listen_t *lull_db_listen_new(const char *url, const char *channel, const char *what);
// Closes the connection and frees the listener; NULL-safe, nulls the pointer.
void lull_db_listen_destroy(lull_db_listen_t **self_p);
// Connects and LISTENs when not listening, then drains the notifications. 1 when a notification on the channel
// came or listening (re)started; 0 when nothing came; -1 when not listening (call again within
// LULL_DB_LISTEN_RETRY_MS).
int lull_db_listen_step(lull_db_listen_t *self);
// The socket to poll for notifications (readable: call lull_db_listen_step); -1 when not listening.
int lull_db_listen_fd(lull_db_listen_t *self);
// True while listening.
bool lull_db_listen_up(const lull_db_listen_t *self);
// The connection, for the owner's reads between steps (borrowed for the listener's life).
lull_db_t *lull_db_listen_db(lull_db_listen_t *self);
// Optional hooks, called inside lull_db_listen_step on the owner's thread (either may be NULL): on_start after
// every (re)LISTEN and before the notifications are drained, so the owner can catch up on what it missed with
// reads on lull_db_listen_db before any newer payload reaches it; on_payload with each notification's payload
// on the channel, in order (the payload is valid during the call only).
void lull_db_listen_set_hooks(lull_db_listen_t *self, void (*on_start)(void *arg),
                              void (*on_payload)(const char *payload, void *arg), void *arg);
// For an owner thread with a poll loop of its own (not lull_loop): lull_db_listen_wait sleeps until a
// notification is readable, another thread calls lull_db_listen_wake, or timeout_ms pass (at most
// LULL_DB_LISTEN_RETRY_MS while not listening, so that the next step reconnects), and drains the wake-ups.
// lull_db_listen_wake may be called from any thread while the listener exists (a write on a non-blocking pipe;
// a full pipe already wakes the owner).
void lull_db_listen_wait(lull_db_listen_t *self, int64_t timeout_ms);
void lull_db_listen_wake(lull_db_listen_t *self);

#endif
