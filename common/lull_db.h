// PostgreSQL access over libpq: one connection, parameterised statements only, transactions, and
// reconnection with backoff after the server restarts.
#ifndef LULL_DB_H
#define LULL_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct lull_db lull_db_t;

// Creates a handle for url and tries to connect once; the handle is valid even when the server is down
// (later calls reconnect with backoff). NULL only on allocation failure. url is copied.
lull_db_t *lull_db_new(const char *url);
// Closes the connection and frees the handle; NULL-safe, nulls the pointer.
void lull_db_destroy(lull_db_t **self_p);
// Connects now unless connected or inside the backoff interval. 0 when connected, -1 otherwise.
int lull_db_connect(lull_db_t *self);
// True when the connection is up (as far as libpq knows).
bool lull_db_connected(lull_db_t *self);
// Runs one parameterised statement (text parameters; NULL entries are SQL NULL). Returns the result when it
// succeeded (the caller PQclear()s it), NULL on error (logged; last error and SQLSTATE kept; a lost
// connection is dropped and reconnected later).
PGresult *lull_db_exec(lull_db_t *self, const char *sql, int nparams, const char *const *params)
    __attribute__((warn_unused_result));
// Runs a statement whose rows are not needed. 0/-1; *affected (may be NULL) gets the row count.
int lull_db_run(lull_db_t *self, const char *sql, int nparams, const char *const *params, int64_t *affected)
    __attribute__((warn_unused_result));
// BEGIN / COMMIT / ROLLBACK. 0/-1. Rollback is safe to call after any failure.
int lull_db_begin(lull_db_t *self) __attribute__((warn_unused_result));
int lull_db_commit(lull_db_t *self) __attribute__((warn_unused_result));
void lull_db_rollback(lull_db_t *self);
// The last error message (borrowed until the next call on self); "" when none.
const char *lull_db_error(const lull_db_t *self);
// The last SQLSTATE ("23505" unique violation, "08006" connection failure…); "" when none.
const char *lull_db_sqlstate(const lull_db_t *self);
// True when the last failure was the connection (not the statement): the caller may retry later.
bool lull_db_last_was_connection_error(const lull_db_t *self);
// How a database's schema version (have) fits the version a build expects (want). A build runs against its own
// version and the next one (migrations are expand-then-contract: see docs/operations.md).
typedef enum {
    LULL_DB_SCHEMA_SAME,     // have == want
    LULL_DB_SCHEMA_NEXT,     // have == want + 1: usable; warned once (db.schema_ahead)
    LULL_DB_SCHEMA_OLDER,    // have < want: refused (run scripts/db migrate)
    LULL_DB_SCHEMA_TOO_NEW,  // have >= want + 2: refused (upgrade the binaries)
} lull_db_schema_fit_t;
lull_db_schema_fit_t lull_db_schema_fit(int64_t have, int want);
// Checks schema_migrations against the version this build expects. 0 when the same or the next one (the next
// one logs db.schema_ahead once per process); -1 with a clear log line when older, two or more newer,
// missing, or unreachable.
int lull_db_check_schema(lull_db_t *self, int expected) __attribute__((warn_unused_result));
// From now on every new connection of every handle of this process is checked as lull_db_check_schema does
// (want > 0; 0 turns the check off): a connection whose schema does not fit is closed at once and counts as a
// connection failure (retried with backoff; a refusal is logged once per handle until it changes). Call once at
// start, before the first handle.
void lull_db_require_schema(int want);
// True when the handle's last connection attempt reached the server and was refused for its schema.
bool lull_db_schema_refused(const lull_db_t *self);
// A statement run through lull_db_batch: prepared once per connection under name (plain data, static).
typedef struct {
    const char *name;  // server-side name of the prepared statement, unique in the process
    const char *sql;
    int nparams;
} lull_db_stmt_t;

// lull_db_exec / lull_db_run of a statement prepared once per connection (a statement run often: it is parsed
// and planned once, not at every call). A statement the server lost or whose plan went stale fails this once
// and is prepared again at the next call.
PGresult *lull_db_exec_stmt(lull_db_t *self, const lull_db_stmt_t *st, const char *const *params)
    __attribute__((warn_unused_result));
int lull_db_run_stmt(lull_db_t *self, const lull_db_stmt_t *st, const char *const *params, int64_t *affected)
    __attribute__((warn_unused_result));

// Runs n statements (stmts[i] with the text parameters params[i]) in one libpq pipeline with one sync point:
// one round trip, and PostgreSQL runs them as one implicit transaction (a failing statement aborts the ones
// after it). Each statement is prepared once per connection. When the connection cannot pipeline, they run
// one by one (inside BEGIN/COMMIT when atomic). res[i] gets statement i's result when it succeeded (the
// caller PQclear()s it), else NULL. Returns 0 when every statement succeeded (and, atomic, committed), -1
// otherwise (error kept as for lull_db_exec). At most LULL_DB_BATCH_MAX statements.
#define LULL_DB_BATCH_MAX 1024
int lull_db_batch(lull_db_t *self, const lull_db_stmt_t *const *stmts, const char *const *const *params, int n,
                  bool atomic, PGresult **res) __attribute__((warn_unused_result));
// Calls fn(channel, payload, arg) for each NOTIFY the server sent (after LISTEN through lull_db_run). 0, or
// -1 when the connection is lost or was replaced since the LISTEN (the error is kept; the caller LISTENs again).
int lull_db_notifications(lull_db_t *self, void (*fn)(const char *channel, const char *payload, void *arg), void *arg)
    __attribute__((warn_unused_result));
// The connection's socket, to poll for NOTIFY; -1 when disconnected.
int lull_db_socket(lull_db_t *self);
// Without a round trip unless the server sent something unasked: false when the connection is down or, being idle,
// was closed by the server meanwhile (a terminated backend, a shutdown: the connection is dropped, and the next
// lull_db_connect tries a new one at once). Lets a caller learn before it sends a statement that the statement would
// find the connection gone. Never connects.
bool lull_db_idle_ok(lull_db_t *self);
// A connection idle for idle_ms or longer makes one empty round trip before it is used (and before NOTIFYs are
// read), so that a server restarted, failed over or turned read-only meanwhile is noticed there and the
// connection replaced, instead of failing (or reading stale data on) the caller's statement. 0: never.
// Default 1000.
void lull_db_set_probe(lull_db_t *self, int64_t idle_ms);
// The statement that check runs instead of the empty one (e.g. a listener's own LISTEN, so that the connection
// keeps showing what it is for); must return no rows. NULL: the empty statement. Not copied: must outlive self.
void lull_db_set_probe_sql(lull_db_t *self, const char *sql);
// Settings every new connection of this handle runs once, right after it connects (e.g. "SET plan_cache_mode =
// force_generic_plan"): session state, so a reconnected server gets them again. A failure is logged
// (db.session_failed) and the connection used without them; a connection already open runs them now. NULL:
// none. Not copied: must outlive self.
void lull_db_set_session_sql(lull_db_t *self, const char *sql);
// Sets the reconnect backoff bounds in milliseconds (defaults 100 and 5000).
void lull_db_set_backoff(lull_db_t *self, int64_t min_ms, int64_t max_ms);
// Integer value of row r, column c (0 for NULL or garbage; *ok false then, if ok given).
int64_t lull_db_int(const PGresult *res, int r, int c, bool *ok);
// Text value of row r, column c, or NULL when SQL NULL (borrowed until PQclear).
const char *lull_db_text(const PGresult *res, int r, int c);

#endif
