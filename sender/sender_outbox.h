// The sender's outbox queries: claim due rows under a lease (FOR UPDATE SKIP LOCKED), record a batch of
// results with one guarded UPDATE, mark web chat rows sent with their pg_notify, and dead-letter a
// WhatsApp reply outside the 24-hour window while escalating its conversation.
#ifndef SENDER_OUTBOX_H
#define SENDER_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lull_db.h"

// Columns of the result of sender_outbox_claim.
enum {
    SO_ID = 0, SO_TENANT, SO_CONV, SO_MESSAGE, SO_CHANNEL, SO_RECIPIENT, SO_SENDER_ADDR, SO_PAYLOAD,
    SO_ATTEMPTS, SO_MAX_RETRIES, SO_RETRY_BASE, SO_RETRY_MAX, SO_IDEM_KEY, SO_CREDENTIALS, SO_CALLBACK_URL,
    SO_CALLBACK_SECRET_REF, SO_WA_TEMPLATE_SID, SO_WA_TEMPLATE_VARS, SO_TIKTOK_BUSINESS, SO_CONTACT_EXT,
    SO_INBOUND_AGE_MS, SO_CREATED_AT, SO_CANCELLED, SO_CANCEL_REASON, SO_CONV_CHANNEL, SO_CONTACT_JSON, SO_META_TEMPLATE,
    SO_NCOLS
};

// A batch of attempt results waiting to be written.
typedef struct sender_results sender_results_t;
// What a batch of results written with another statement did.
typedef struct {
    size_t queued;    // results written (0: none)
    int64_t applied;  // rows they changed (fewer than queued = leases lost)
} sender_flushed_t;

// Claims up to n due rows (pending/retry due, or sending with an expired lease) for owner: status
// 'sending', lease_until = next_attempt_at = now() + lease_ms, attempts + 1; a bot reply a person answered over
// since it was committed is marked 'cancelled' instead (SO_CANCELLED true: do not send it). Returns the rows joined with
// their tenant's settings and the contact's last inbound age (columns SO_*; the caller PQclear()s), NULL
// on a database error. When first (may be NULL) holds results, they are written before, as sender_results_flush
// writes them, in the same round trip and transaction: on success first is emptied and *flushed (may be NULL) says
// how many were queued and written; on error nothing is written and first keeps them.
PGresult *sender_outbox_claim(lull_db_t *db, int n, int64_t lease_ms, const char *owner, sender_results_t *first,
                              sender_flushed_t *flushed) __attribute__((warn_unused_result));

// True when claimed row r was not claimed but cancelled (a bot reply a person answered over); logs it.
bool sender_outbox_row_cancelled(const PGresult *res, int r);

// What to do with a claimed row.
typedef enum {
    SENDER_REC_SENT = 1,   // delivered (provider id kept)
    SENDER_REC_RETRY,      // schedule attempt after delay_ms
    SENDER_REC_DEAD,       // permanent failure or retries exhausted
    SENDER_REC_UNKNOWN,    // retries exhausted and the last attempt's outcome is unknown
    SENDER_REC_RELEASE     // rate limited before sending: back to the queue, attempt not counted
} sender_rec_t;

// Creates an empty batch; NULL on allocation failure.
sender_results_t *sender_results_new(void);
// Frees the batch; NULL-safe, nulls the pointer.
void sender_results_destroy(sender_results_t **self_p);
// Queues a result (strings copied; error/provider_id may be NULL; last_status < 0 = leave as is). 0/-1.
int sender_results_add(sender_results_t *self, int64_t id, sender_rec_t rec, int64_t delay_ms, long last_status,
                       const char *error, const char *provider_id) __attribute__((warn_unused_result));
// The same, for a row that made extra_attempts attempts in memory since its claim (in-memory retries, which
// sender_outbox_resume does not write): they are added to its attempts (not for SENDER_REC_RELEASE). 0/-1.
int sender_results_add_n(sender_results_t *self, int64_t id, sender_rec_t rec, int64_t delay_ms, long last_status,
                         const char *error, const char *provider_id, int extra_attempts)
    __attribute__((warn_unused_result));
// Results queued.
size_t sender_results_count(const sender_results_t *self);
// Writes every queued result in one UPDATE guarded by lease_owner = owner AND status = 'sending' and
// empties the batch. *applied gets the rows written (fewer than queued = leases lost). 0/-1 (kept on error).
int sender_results_flush(sender_results_t *self, lull_db_t *db, const char *owner, int64_t *applied)
    __attribute__((warn_unused_result));

// Checks before the next attempt of n rows this sender holds and retries in memory (rows it claimed and still
// leases) that each is still held and, for a bot reply, that no person answered over it since; a row that goes on
// is only read (nothing written: its attempts made in memory, statuses[i] and errors[i] go with its final result,
// sender_results_add_n). A bot reply a person answered over is cancelled instead, as sender_outbox_claim does, with
// its attempts made in memory added and last_status = statuses[i] (unless < 0), last_error = errors[i] (unless
// NULL). Returns (id, cancelled, attempts once this attempt is counted, conversation id) of the rows still held,
// by id (a row missing lost its lease); NULL on a database error. The caller PQclear()s. first/flushed: as for
// the claim. (Attempts made in memory: none here; sender_outbox_pump takes them in sender_resume_t.)
PGresult *sender_outbox_resume(lull_db_t *db, const char *owner, const int64_t *ids, const long *statuses,
                               const char *const *errors, size_t n, sender_results_t *first, sender_flushed_t *flushed)
    __attribute__((warn_unused_result));

// Held rows whose next attempt starts (sender_outbox_resume's ids, statuses, errors and n; ids ascending).
typedef struct {
    const int64_t *ids;
    const long *statuses;       // the failed attempt's HTTP status (< 0: keep the row's)
    const char *const *errors;  // its error (NULL: keep the row's)
    const int *unwritten;       // attempts made in memory since the claim, not written yet (NULL: none)
    size_t n;
} sender_resume_t;

// A pump's statements in one round trip and one transaction (lull_db_batch, after the sender's planner setting,
// sender_outbox.c): the queued results of first (may be NULL; run when it holds any), the resume of resume's rows (run when
// resumed is not NULL: *resumed gets sender_outbox_resume's result), then a claim of up to claim_n rows (run when
// claimed is not NULL: *claimed gets sender_outbox_claim's result). 0 when they committed: first is emptied,
// *flushed (may be NULL) says what it did; -1 on a database error: nothing is written, first keeps its results.
// The caller PQclear()s what it gets.
int sender_outbox_pump(lull_db_t *db, const char *owner, sender_results_t *first, const sender_resume_t *resume,
                       int claim_n, int64_t lease_ms, PGresult **resumed, PGresult **claimed,
                       sender_flushed_t *flushed) __attribute__((warn_unused_result));

// Called for each web chat row written sent: its id, conversation id and attempt (the claim's count).
typedef void(sender_sent_fn)(int64_t id, int64_t conv, int attempt, void *arg);
// Marks claimed web chat rows sent and notifies channel lull_webchat for each, in one statement; calls sent (may be
// NULL) for every row written. 0/-1.
int sender_outbox_webchat_sent(lull_db_t *db, const char *owner, const int64_t *ids, size_t n, sender_sent_fn *sent,
                               void *arg) __attribute__((warn_unused_result));

// In one transaction: dead-letters row id with reason (guarded by the lease) and, when it still held the
// lease, escalates conversation conv (status 'escalated', escalation_reason, an escalations row with
// source 'sender'). 0/-1.
int sender_outbox_escalate(lull_db_t *db, const char *owner, int64_t id, int64_t conv, int64_t tenant,
                           const char *reason) __attribute__((warn_unused_result));

#endif
