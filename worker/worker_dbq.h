// A database thread for lull-worker: batches of statements run in one libpq pipeline (one round trip, one
// implicit transaction) on the thread's own connection, so the loop thread goes on with LLM I/O while
// PostgreSQL works. Completions come back on the loop (an eventfd watched by lull_loop).
#ifndef WORKER_DBQ_H
#define WORKER_DBQ_H

#include <stdbool.h>

#include "lull_db.h"
#include "lull_loop.h"

typedef struct worker_dbq worker_dbq_t;

// A statement prepared on every connection of the thread.
typedef struct {
    const char *name;
    const char *sql;
    int nparams;
} worker_dbq_prep_t;

// One statement of a batch. name (a prepared statement), nparams and params (text, NULL = SQL NULL) are
// borrowed until the batch's callback; result is set by the thread: the TUPLES_OK/COMMAND_OK result (the
// callback owns it and must PQclear() it) or NULL when the statement failed or never ran.
typedef struct {
    const char *name;
    int nparams;
    const char *const *params;
    PGresult *result;
} worker_dbq_stmt_t;

// Called on the loop thread when a batch has run: ok is true when every statement succeeded and the batch
// committed; error is the first failure ("" when ok; borrowed for the call).
typedef void(worker_dbq_done_fn)(worker_dbq_stmt_t *stmts, int n, bool ok, const char *error, void *arg);

// Starts the thread with its own connection to url (connected lazily, reconnected with backoff) and the
// statements to prepare (borrowed; static). NULL on failure.
worker_dbq_t *worker_dbq_new(lull_loop_t *loop, const char *url, const worker_dbq_prep_t *preps, int npreps);
// Runs every pending batch to completion (callbacks included, on the calling thread), stops the thread,
// closes the connection and frees; NULL-safe, nulls the pointer.
void worker_dbq_destroy(worker_dbq_t **self_p);
// Queues a batch of n statements (1..WORKER_DBQ_MAX_BATCH); fn runs later on the loop. 0, or -1 when
// the queue cannot take it (then fn is not called).
#define WORKER_DBQ_MAX_BATCH 1024
int worker_dbq_submit(worker_dbq_t *self, worker_dbq_stmt_t *stmts, int n, worker_dbq_done_fn *fn, void *arg);
// Blocks until every batch submitted so far has run and its callback has been called (on this thread).
void worker_dbq_drain(worker_dbq_t *self);
// Batches submitted and not yet reported.
int worker_dbq_pending(const worker_dbq_t *self);

#endif
