// In-memory retries of the sender: a delivery that failed with a retryable answer keeps its request
// (lull_http_keep) and waits here, in a min-heap by due time with one loop timer, until its backoff delay has
// passed; then the due ones are checked together in one statement (sender_outbox_resume, in the pump's batch: still
// held, cancelled if a person answered over the bot reply; nothing written for the others, their attempts are
// counted with their result) and are sent again without a new claim.
#ifndef SENDER_HOLD_H
#define SENDER_HOLD_H

#include <stddef.h>
#include <stdint.h>

#include "lull_db.h"
#include "lull_http.h"
#include "lull_loop.h"
#include "lull_metrics.h"
#include "sender_outbox.h"

// One held delivery (embedded in the caller's job).
typedef struct {
    int64_t id;             // outbox row
    int64_t due_ms;         // monotonic time of the next attempt
    int64_t lease_end_ms;   // monotonic end of the claim's lease: the retry must be done by then
    long fail_status;       // the failed attempt's HTTP status (< 0: none) and error, written with the row's result
    char fail_error[256];
    int unwritten;          // attempts made since the claim that the row does not count yet (the failed one among them)
    lull_http_t *client;    // the client that sent it …
    lull_http_kept_t *kept; // … and its request, kept to be sent again
    void *job;              // the caller's, malloc'ed: freed here when the delivery does not go on
} sender_held_t;

typedef struct sender_hold sender_hold_t;

// Called for a held delivery whose next attempt was counted (attempts = the row's new count): send h->kept again.
typedef void(sender_resume_fn)(sender_held_t *h, int attempts, void *arg);

// Creates a heap holding at most cap deliveries (allocated at once: a push below cap cannot fail); when one
// comes due, due(arg) is called from loop. NULL on failure.
sender_hold_t *sender_hold_new(lull_loop_t *loop, size_t cap, void (*due)(void *arg), void *arg);
// Cancels the timer and frees the heap (not the held ones); NULL-safe, nulls the pointer.
void sender_hold_destroy(sender_hold_t **self_p);
// Holds h (borrowed until it comes out) until h->due_ms. 0, or -1 when full.
int sender_hold_push(sender_hold_t *self, sender_held_t *h) __attribute__((warn_unused_result));
// Deliveries held.
size_t sender_hold_count(const sender_hold_t *self);
// Takes up to max due deliveries (at now_ms) out. One whose lease ends within margin_ms goes back to the queue
// (a retry result in results, due now, with its failed attempt). The others make the batch to start: *in gets
// their resume arguments (ids ascending; borrowed until sender_hold_started, which must come before the next
// take). Returns how many were taken (both kinds).
size_t sender_hold_take(sender_hold_t *self, int64_t now_ms, int64_t margin_ms, size_t max, sender_results_t *results,
                        sender_resume_t *in);
// Ends the batch taken, given res, the result of its sender_outbox_resume (or of sender_outbox_pump's resume): fn
// is called for each that goes on; a bot reply a person answered over is cancelled and a row whose lease was taken
// over is dropped (counted in lease_lost, may be NULL). res NULL (a database error): they are held again, due
// after retry_ms.
void sender_hold_started(sender_hold_t *self, const PGresult *res, int64_t now_ms, int64_t retry_ms,
                         sender_results_t *results, lull_counter_t *lease_lost, sender_resume_fn *fn, void *arg);
// At shutdown: every held delivery back to the queue at its due time (retry results in results). How many.
size_t sender_hold_hand_back(sender_hold_t *self, sender_results_t *results, int64_t now_ms);

#endif
