// In-memory retries of the sender: a delivery that failed with a retryable answer keeps its request
// (lull_http_keep) and waits here, in a min-heap by due time with one loop timer, until its backoff delay has
// passed; then the due ones start their next attempt together in one statement (sender_outbox_resume: counted,
// cancelled if a person answered over the bot reply) and are sent again without a new claim.
#ifndef SENDER_HOLD_H
#define SENDER_HOLD_H

#include <stddef.h>
#include <stdint.h>

#include "lull_db.h"
#include "lull_loop.h"

// One held delivery (embedded in the caller's job).
typedef struct {
    int64_t id;             // outbox row
    int64_t due_ms;         // monotonic time of the next attempt
    int64_t lease_end_ms;   // monotonic end of the claim's lease: the retry must be done by then
    long fail_status;       // the failed attempt's HTTP status (< 0: none) and error, written when the retry starts
    char fail_error[256];
    void *job;              // the caller's
} sender_held_t;

typedef struct sender_hold sender_hold_t;

// What became of a held delivery at its due time.
typedef enum {
    SENDER_RESUME_GO,         // its next attempt is counted: send it again (attempts = the row's new count)
    SENDER_RESUME_CANCELLED,  // a person answered over the bot reply: the row is cancelled (logged outbox.cancelled)
    SENDER_RESUME_LOST,       // the row's lease was taken over: drop it
    SENDER_RESUME_EXPIRED     // too close to the lease's end to retry in memory: hand it back to the queue
} sender_resume_t;
typedef void(sender_resume_fn)(sender_held_t *h, sender_resume_t what, int attempts, void *arg);

// Creates a heap holding at most cap deliveries (allocated at once: a push below cap cannot fail); when one
// comes due, due(arg) is called from loop. NULL on failure.
sender_hold_t *sender_hold_new(lull_loop_t *loop, size_t cap, void (*due)(void *arg), void *arg);
// Cancels the timer and frees the heap (not the held ones); NULL-safe, nulls the pointer.
void sender_hold_destroy(sender_hold_t **self_p);
// Holds h (borrowed until it comes out) until h->due_ms. 0, or -1 when full.
int sender_hold_push(sender_hold_t *self, sender_held_t *h) __attribute__((warn_unused_result));
// Deliveries held.
size_t sender_hold_count(const sender_hold_t *self);
// Takes up to max due deliveries (at now_ms) out: those whose lease ends within margin_ms get EXPIRED, the others
// start their next attempt in one sender_outbox_resume and get GO, CANCELLED or LOST; fn is called for each.
// Returns how many were taken, or -1 on a database error (they are held again, due after retry_ms).
int sender_hold_resume(sender_hold_t *self, lull_db_t *db, const char *owner, int64_t now_ms, int64_t margin_ms,
                       size_t max, int64_t retry_ms, sender_resume_fn *fn, void *arg);
// Takes any one delivery out (at shutdown), or NULL when none is held.
sender_held_t *sender_hold_take(sender_hold_t *self);

#endif
