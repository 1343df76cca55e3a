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
// Checks schema_migrations against the version this build expects. 0 when equal; -1 with a clear log
// line when older, newer, missing, or unreachable.
int lull_db_check_schema(lull_db_t *self, int expected) __attribute__((warn_unused_result));
// The raw connection for LISTEN/NOTIFY or pipelining (borrowed; NULL when disconnected).
PGconn *lull_db_conn(lull_db_t *self);
// Sets the reconnect backoff bounds in milliseconds (defaults 100 and 5000).
void lull_db_set_backoff(lull_db_t *self, int64_t min_ms, int64_t max_ms);
// Integer value of row r, column c (0 for NULL or garbage; *ok false then, if ok given).
int64_t lull_db_int(const PGresult *res, int r, int c, bool *ok);
// Text value of row r, column c, or NULL when SQL NULL (borrowed until PQclear).
const char *lull_db_text(const PGresult *res, int r, int c);

#endif
