// The scheduler's window store: millions of per-conversation sliding windows in ~55 bytes each (a 48-byte
// node in a dense pool + a 32-bit open-addressing index), timed by a hashed timing wheel of 1 ms slots
// (O(1) open/reset/cancel, exact to the millisecond), plus per-tenant round-robin ready queues and the
// in-flight state of each conversation's single job. Pure data structure: no I/O; time comes from
// lull_clock_mono_ms() so tests can replace it.
#ifndef SCHED_WINDOWS_H
#define SCHED_WINDOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lull_channel.h"

typedef struct sched_windows sched_windows_t;

// State of a conversation's pending window (the job in flight is a separate flag).
typedef enum {
    SCHED_WS_NONE = 0,  // no pending window (only possible while a job is in flight)
    SCHED_WS_WAITING,   // in the wheel until its deadline
    SCHED_WS_READY,     // due, in its tenant's ready queue, waiting for credit
    SCHED_WS_DUE,       // due while the previous job is still in flight: queued at that job's DONE
    SCHED_WS_BACKOFF    // a retryable failure: in the wheel until its retry time
} sched_wstate_t;

// A snapshot of one conversation's entry (plain data).
typedef struct {
    int64_t conversation_id;
    int64_t tenant_id;
    int64_t upto;         // newest inbound message id known
    int64_t deadline_ms;  // monotonic deadline (WAITING/BACKOFF), milliseconds
    int64_t cap_ms;       // monotonic max-wait cap of the burst, milliseconds
    lull_channel_t channel;
    int messages;         // messages in the pending burst (saturates at 65535)
    int attempt;          // attempt number of the next dispatch (1 = first)
    sched_wstate_t state;
    bool in_flight;       // a job for this conversation is running
} sched_window_info_t;

// What sched_windows_inbound did.
typedef enum {
    SCHED_IN_IGNORED = 0,  // duplicate or old message id: nothing changed (a duplicate never extends a window)
    SCHED_IN_OPENED,       // a new window opened
    SCHED_IN_RESET,        // the deadline moved (or stayed at the max-wait cap)
    SCHED_IN_ERROR = -1    // out of memory
} sched_inbound_t;

// Called for each window that becomes due in sched_windows_expire (info borrowed for the call).
typedef void(sched_windows_fire_fn)(void *arg, const sched_window_info_t *info, int64_t now_ms);
// Called for each entry by sched_windows_each; return false to stop.
typedef bool(sched_windows_each_fn)(void *arg, const sched_window_info_t *info);

// Name of a window state for the control API: "waiting", "ready", "in_flight", "backoff". Static string.
const char *sched_wstate_name(sched_wstate_t state, bool in_flight);

// Creates an empty store; NULL on allocation failure.
sched_windows_t *sched_windows_new(void);
// Frees the store; NULL-safe, nulls the pointer.
void sched_windows_destroy(sched_windows_t **self_p);

// An inbound message msg_id at now for a conversation: opens a window (deadline now + window_ms, capped at
// now + max_wait_ms) or resets it to min(now + window_ms, cap). While a job is in flight the message opens
// the next window. A msg_id <= the newest known id is ignored.
sched_inbound_t sched_windows_inbound(sched_windows_t *self, int64_t conversation_id, int64_t tenant_id,
                                      lull_channel_t channel, int64_t msg_id, int64_t window_ms, int64_t max_wait_ms);
// Adds a window rebuilt from the database (recovery, sweep) with its monotonic deadline and cap; a deadline
// already past goes straight to the ready queue. 1 added, 0 the conversation is already known, -1 no memory.
int sched_windows_restore(sched_windows_t *self, int64_t conversation_id, int64_t tenant_id, lull_channel_t channel,
                          int64_t upto, int64_t deadline_ms, int64_t cap_ms);
// Moves every window whose deadline has passed to its tenant's ready queue (or to DUE when a job is in
// flight); calls fire (may be NULL) for each. Returns how many fired.
size_t sched_windows_expire(sched_windows_t *self, sched_windows_fire_fn *fire, void *arg);
// Milliseconds until the wheel's next occupied slot (0 = now), -1 when the wheel is empty.
int64_t sched_windows_next_ms(const sched_windows_t *self);

// Takes the next due conversation from the ready queues, round-robin across tenants. false when empty.
// The entry is left with no pending window: the caller then calls start_job, drop, defer or requeue.
bool sched_windows_pop_ready(sched_windows_t *self, sched_window_info_t *out);
// Puts a popped conversation back at the front of its tenant's ready queue (e.g. the database is down).
int sched_windows_requeue(sched_windows_t *self, int64_t conversation_id);
// Re-arms a popped conversation in the wheel until deadline_ms (monotonic), e.g. paused until then.
int sched_windows_defer(sched_windows_t *self, int64_t conversation_id, int64_t deadline_ms);
// Marks a popped conversation's job as started, answering up to upto (newest id now known ≥ upto).
int sched_windows_start_job(sched_windows_t *self, int64_t conversation_id, int64_t upto);
// Forgets a conversation entirely (popped with nothing to answer, or finished). 0, -1 when unknown.
int sched_windows_drop(sched_windows_t *self, int64_t conversation_id);
// The conversation's job finished. retry_delay_ms >= 0: retryable failure, answer again after that delay
// (unless a next window is already pending), with attempt job_attempt + 1. Returns 1 when the entry was
// removed (nothing pending), 0 when a pending window remains, -1 when unknown or no job in flight.
int sched_windows_job_done(sched_windows_t *self, int64_t conversation_id, int64_t retry_delay_ms, int job_attempt);
// The conversation's job was lost (its worker died): due again now with attempt job_attempt + 1. 0/-1.
int sched_windows_job_lost(sched_windows_t *self, int64_t conversation_id, int job_attempt);
// Flush: makes the pending window due now. 0; -1 when there is no pending window.
int sched_windows_flush(sched_windows_t *self, int64_t conversation_id);
// Cancel: drops the pending window, giving its newest message id in *upto. 0; -1 no entry or no pending
// window.
int sched_windows_cancel(sched_windows_t *self, int64_t conversation_id, int64_t *upto);
// Copies a conversation's entry into *out. false when unknown.
bool sched_windows_get(const sched_windows_t *self, int64_t conversation_id, sched_window_info_t *out);
// Calls fn for each entry (in storage order) until it returns false.
void sched_windows_each(const sched_windows_t *self, sched_windows_each_fn *fn, void *arg);
// Entries held (windows pending or jobs in flight).
size_t sched_windows_count(const sched_windows_t *self);
// Conversations waiting in the ready queues.
size_t sched_windows_ready_count(const sched_windows_t *self);
// Bytes allocated by the store (pool capacity, index, wheel), for metrics and the benchmark.
size_t sched_windows_bytes(const sched_windows_t *self);
// Reserves room for n entries up front (bulk loads). 0/-1.
int sched_windows_reserve(sched_windows_t *self, size_t n);

#endif
