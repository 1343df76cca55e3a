// libpq wrapper: lazy connection, backoff on failure, parameterised execution, error classification,
// pipelined batches of prepared statements, and LISTEN/NOTIFY.
#include "lull_db.h"
#include "lull_clock.h"
#include "lull_log.h"
#include "lull_mask.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PREPARED 32  // distinct prepared statements per connection (lull_db_batch, lull_db_exec_stmt)
#define PROBE_IDLE_MS 1000  // default: a connection idle this long is checked (an empty query) before it is used

struct lull_db {
    char *url;
    PGconn *conn;
    int64_t next_try_ms;  // monotonic time before which no reconnect is attempted
    int64_t backoff_ms;   // current reconnect backoff
    int64_t backoff_min_ms, backoff_max_ms;
    bool conn_error;      // last failure was a connection failure
    bool was_up;          // for "reconnected" logging
    char error[512];
    char sqlstate[6];
    const lull_db_stmt_t *prepared[MAX_PREPARED];  // statements prepared on the current connection
    int nprepared;
    bool stale_prepared;  // the server may hold statements this handle forgot: DEALLOCATE ALL first
    bool want_rw;         // the connection string asks for a read-write server (target_session_attrs)
    int64_t probe_idle_ms;  // a connection idle this long is checked before use; 0: never
    const char *probe_sql;  // the statement of that check ("" when NULL); not owned
    const char *session_sql;  // run after every connect (NULL: none); not owned
    int64_t last_used_ms;   // monotonic time of the connection's last round trip
    uint64_t conn_gen;      // incremented at every new connection
    uint64_t listen_gen;    // conn_gen of the connection that ran the last LISTEN
    bool schema_refused;  // the last connection was closed because its schema does not fit this build
    int schema_logged;    // the refusal last logged (lull_db_schema_fit_t + 1; 0: none), to log a change once
};

static void s_session(lull_db_t *self);

// The schema version every new connection of this process must fit (0: not checked), and whether the
// "one version ahead" warning was logged (once per process; handles may live on several threads).
static int s_schema_want;
static int s_ahead_warned;

static void s_set_error(lull_db_t *self, const char *msg, const char *state, bool conn_error)
{
    // libpq's messages may echo parts of the connection string (a bad option, a malformed URL): no password
    lull_mask_echo(msg ? msg : "", self->url, self->error, sizeof self->error);
    // libpq messages end with a newline; keep log lines single-line.
    size_t n = strlen(self->error);
    while (n && (self->error[n - 1] == '\n' || self->error[n - 1] == ' ')) self->error[--n] = '\0';
    snprintf(self->sqlstate, sizeof self->sqlstate, "%s", state ? state : "");
    self->conn_error = conn_error;
}

static void s_drop(lull_db_t *self)
{
    if (self->conn) PQfinish(self->conn);
    self->conn = NULL;
    self->nprepared = 0;  // a new connection holds no prepared statement
    self->stale_prepared = false;
    int64_t now = lull_clock_mono_ms();
    self->next_try_ms = now + self->backoff_ms;
    self->backoff_ms = self->backoff_ms * 2 > self->backoff_max_ms ? self->backoff_max_ms : self->backoff_ms * 2;
}

lull_db_t *lull_db_new(const char *url)
{
    lull_db_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->url = strdup(url ? url : "");
    if (!self->url) {
        free(self);
        return NULL;
    }
    self->backoff_min_ms = 100;
    self->backoff_max_ms = 5000;
    self->backoff_ms = self->backoff_min_ms;
    self->probe_idle_ms = PROBE_IDLE_MS;
    (void)lull_db_connect(self);
    return self;
}

void lull_db_destroy(lull_db_t **self_p)
{
    if (!self_p || !*self_p) return;
    lull_db_t *self = *self_p;
    if (self->conn) PQfinish(self->conn);
    free(self->url);
    free(self);
    *self_p = NULL;
}

void lull_db_set_backoff(lull_db_t *self, int64_t min_ms, int64_t max_ms)
{
    self->backoff_min_ms = min_ms > 0 ? min_ms : 1;
    self->backoff_max_ms = max_ms >= self->backoff_min_ms ? max_ms : self->backoff_min_ms;
    self->backoff_ms = self->backoff_min_ms;
}

// libpq's notices (a server's NOTICE or WARNING, and an error that arrives outside a query, such as "FATAL:
// terminating connection due to administrator command") as one log line instead of libpq's plain text on stderr.
static void s_notice(void *arg, const char *message)
{
    const lull_db_t *self = arg;
    char text[1024];
    lull_mask_echo(message ? message : "", self->url, text, sizeof text);
    size_t n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == ' ')) text[--n] = '\0';
    bool bad = strncmp(text, "FATAL", 5) == 0 || strncmp(text, "PANIC", 5) == 0 || strncmp(text, "ERROR", 5) == 0 ||
               strncmp(text, "WARNING", 7) == 0;
    lull_log_at(bad ? LULL_LOG_WARN : LULL_LOG_INFO, "db.notice", text, (const char *)NULL);
}

// True when the server of a connection that asked for a read-write server says it no longer is one: a standby
// (in_hot_standby), or a primary being demoted or fenced (default_transaction_read_only turned on by a reload).
// The server reports both parameters whenever they change (PostgreSQL 14 and later); older servers report
// neither, and then a write's 25006 error is what reconnects.
static bool s_turned_read_only(const lull_db_t *self)
{
    if (!self->want_rw) return false;
    const char *hot = PQparameterStatus(self->conn, "in_hot_standby");
    const char *ro = PQparameterStatus(self->conn, "default_transaction_read_only");
    return (hot && strcmp(hot, "on") == 0) || (ro && strcmp(ro, "on") == 0);
}

// True when target_session_attrs of the connection asks for a server that accepts writes.
static bool s_wants_read_write(PGconn *conn)
{
    bool rw = false;
    PQconninfoOption *opts = PQconninfo(conn);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "target_session_attrs") == 0 && o->val)
            rw = strcmp(o->val, "read-write") == 0 || strcmp(o->val, "primary") == 0;
    PQconninfoFree(opts);
    return rw;
}

void lull_db_set_probe(lull_db_t *self, int64_t idle_ms) { self->probe_idle_ms = idle_ms > 0 ? idle_ms : 0; }

void lull_db_set_probe_sql(lull_db_t *self, const char *sql) { self->probe_sql = sql; }

void lull_db_set_session_sql(lull_db_t *self, const char *sql)
{
    self->session_sql = sql;
    if (lull_db_connected(self)) s_session(self);  // the connection already open gets them too
}

static void s_failed(lull_db_t *self, const PGresult *res);

// A connection idle for probe_idle_ms (outside a transaction) makes one empty round trip before it is used: a
// server restarted or failed over meanwhile shows here (the connection is dropped, and the caller's statement
// runs on a new one instead of failing), and so does a server that turned read-only (its report comes back with
// the answer). False when the connection was dropped.
static bool s_probe(lull_db_t *self)
{
    int64_t now = lull_clock_mono_ms();
    if (self->probe_idle_ms <= 0 || now - self->last_used_ms < self->probe_idle_ms ||
        PQtransactionStatus(self->conn) != PQTRANS_IDLE)
        return true;
    self->last_used_ms = now;
    PGresult *res = PQexec(self->conn, self->probe_sql ? self->probe_sql : "");
    bool ok = res && (PQresultStatus(res) == PGRES_EMPTY_QUERY || PQresultStatus(res) == PGRES_COMMAND_OK);
    if (!ok) s_failed(self, res);  // logs db.connection_lost (masked) and drops it
    PQclear(res);
    return ok;
}

static int s_schema_check(lull_db_t *self, int want, bool quiet_repeat);

// Runs the handle's session settings on its connection (see lull_db_set_session_sql).
static void s_session(lull_db_t *self)
{
    if (!self->session_sql || !self->conn) return;
    PGresult *res = PQexec(self->conn, self->session_sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        char err[512];
        lull_mask_echo(PQerrorMessage(self->conn), self->url, err, sizeof err);
        err[strcspn(err, "\n")] = '\0';
        LOG_WARN("db.session_failed", "the connection's session settings failed; used without them", "error", LS(err));
    }
    PQclear(res);
}

int lull_db_connect(lull_db_t *self)
{
    if (self->conn && PQstatus(self->conn) == CONNECTION_OK) {
        bool alive = s_probe(self);  // (when not, s_failed dropped it)
        if (alive && !s_turned_read_only(self)) return 0;
        if (alive) {
            LOG_WARN("db.read_only", "the server no longer accepts writes (a standby, or a demoted primary): reconnecting");
            self->was_up = true;
        }
        if (self->conn) s_drop(self);  // (before the next line: s_drop schedules the next try)
        self->next_try_ms = 0;  // reconnect now: target_session_attrs finds the server that accepts writes
    }
    if (self->conn) s_drop(self);
    if (lull_clock_mono_ms() < self->next_try_ms) {
        s_set_error(self,
                    self->schema_refused ? "database schema does not fit this build (see db.schema_mismatch)"
                                         : "database unavailable (waiting to reconnect)",
                    "08006", true);
        return -1;
    }
    self->conn = PQconnectdb(self->url);
    if (PQstatus(self->conn) != CONNECTION_OK) {
        s_set_error(self, PQerrorMessage(self->conn), "08006", true);
        if (self->was_up || self->backoff_ms == self->backoff_min_ms)
            LOG_WARN("db.connect_failed", self->error, "retry_ms", LI(self->backoff_ms));
        self->was_up = false;
        s_drop(self);
        return -1;
    }
    PQsetnonblocking(self->conn, 0);
    PQsetNoticeProcessor(self->conn, s_notice, self);
    self->want_rw = s_wants_read_write(self->conn);
    self->last_used_ms = lull_clock_mono_ms();
    self->conn_gen++;
    if (s_schema_want > 0 && s_schema_check(self, s_schema_want, true) != 0) {
        // A database this build must not use (migrated too far, or not far enough): refused like an unreachable
        // one, so that callers keep their data and retry later; /health says why.
        s_drop(self);
        self->was_up = false;
        self->schema_refused = true;
        s_set_error(self, "database schema does not fit this build (see db.schema_mismatch)", "08006", true);
        return -1;
    }
    self->schema_refused = false;
    s_session(self);
    self->backoff_ms = self->backoff_min_ms;  // (a refused schema keeps backing off)
    self->next_try_ms = 0;
    LOG_INFO("db.connected", "connected to the database", "server_version", LI(PQserverVersion(self->conn)));
    self->was_up = true;
    return 0;
}

bool lull_db_connected(lull_db_t *self) { return self->conn && PQstatus(self->conn) == CONNECTION_OK; }

int lull_db_socket(lull_db_t *self) { return lull_db_connected(self) ? PQsocket(self->conn) : -1; }

static void s_lost(lull_db_t *self);

bool lull_db_idle_ok(lull_db_t *self)
{
    if (!lull_db_connected(self)) return false;
    if (PQtransactionStatus(self->conn) != PQTRANS_IDLE) return true;
    struct pollfd p = {.fd = PQsocket(self->conn), .events = POLLIN};
    if (poll(&p, 1, 0) <= 0) return true;  // nothing arrived: as good as it was
    // Something came while nobody asked: a FATAL before the server closed it (a terminated backend, a shutdown), a
    // parameter change, a notice. Read it, and settle it with one round trip.
    if (PQconsumeInput(self->conn) == 0 || PQstatus(self->conn) != CONNECTION_OK) {
        s_set_error(self, PQerrorMessage(self->conn), "08006", true);
        s_lost(self);
        return false;
    }
    self->last_used_ms = 0;  // the probe runs now (when it fails, the connection is dropped)
    return s_probe(self) && lull_db_connected(self);
}

static void s_clear_error(lull_db_t *self)
{
    self->error[0] = '\0';
    self->sqlstate[0] = '\0';
    self->conn_error = false;
}

// True when an error of this SQLSTATE means "this connection (or this server) is no good: connect again",
// not "this statement is wrong": no SQLSTATE at all (libpq lost the server), class 08 (connection exception),
// 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 57P04 database_dropped, 57P05
// idle_session_timeout, and 25006 read_only_sql_transaction: a write reached a standby or a demoted primary
// (with target_session_attrs=read-write in the URL the next connection finds the server that accepts writes).
static bool s_reconnect_state(const char *state)
{
    return !state || !*state || strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
           strcmp(state, "25006") == 0;
}

// Logs and drops a connection that is lost or no good; the caller set the error.
static void s_lost(lull_db_t *self)
{
    if (strcmp(self->sqlstate, "25006") == 0)
        LOG_WARN("db.read_only", "the server refused a write (a standby, or a demoted primary): reconnecting",
                 "error", LS(self->error));
    else
        LOG_WARN("db.connection_lost", self->error, "sqlstate", LS(self->sqlstate));
    self->conn_error = true;
    self->was_up = true;
    s_drop(self);
    self->next_try_ms = 0;  // the first reconnect may be immediate; later ones back off
}

// Records the failure of a statement (res: its result, may be NULL) and drops a lost connection.
static void s_failed(lull_db_t *self, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    bool lost = PQstatus(self->conn) != CONNECTION_OK || s_reconnect_state(state);
    s_set_error(self, res ? PQresultErrorMessage(res) : PQerrorMessage(self->conn), state ? state : "08006", lost);
    if (lost) {
        s_lost(self);
        s_drop(self);
        self->next_try_ms = 0;  // the first reconnect may be immediate; later ones back off
    } else {
        LOG_DEBUG("db.statement_failed", self->error, "sqlstate", LS(self->sqlstate));
    }
}

// A statement's result: kept when it succeeded, else the failure is recorded and NULL returned.
static PGresult *s_result(lull_db_t *self, PGresult *res, const char *sql)
{
    self->last_used_ms = lull_clock_mono_ms();
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        s_clear_error(self);
        if (strncmp(sql, "LISTEN ", 7) == 0) self->listen_gen = self->conn_gen;
        return res;
    }
    s_failed(self, res);
    if (res) PQclear(res);
    return NULL;
}

PGresult *lull_db_exec(lull_db_t *self, const char *sql, int nparams, const char *const *params)
{
    if (lull_db_connect(self) != 0) return NULL;
    return s_result(self, PQexecParams(self->conn, sql, nparams, NULL, params, NULL, NULL, 0), sql);
}

static bool s_prepare(lull_db_t *self, const lull_db_stmt_t *st);

PGresult *lull_db_exec_stmt(lull_db_t *self, const lull_db_stmt_t *st, const char *const *params)
{
    if (lull_db_connect(self) != 0) return NULL;
    if (!s_prepare(self, st))  // (logged): the statement still runs, planned this once
        return s_result(self, PQexecParams(self->conn, st->sql, st->nparams, NULL, params, NULL, NULL, 0), st->sql);
    PGresult *res = s_result(self, PQexecPrepared(self->conn, st->name, st->nparams, params, NULL, NULL, 0), st->sql);
    // the server lost the statement (a pooler's DISCARD ALL) or its plan went stale (the schema changed under
    // it): prepared again on the next call, after DEALLOCATE ALL
    if (!res && (strcmp(self->sqlstate, "26000") == 0 || strcmp(self->sqlstate, "0A000") == 0)) {
        self->nprepared = 0;
        self->stale_prepared = true;
    }
    return res;
}

int lull_db_run_stmt(lull_db_t *self, const lull_db_stmt_t *st, const char *const *params, int64_t *affected)
{
    PGresult *res = lull_db_exec_stmt(self, st, params);
    if (!res) return -1;
    if (affected) {
        const char *n = PQcmdTuples(res);
        *affected = n && *n ? strtoll(n, NULL, 10) : 0;
    }
    PQclear(res);
    return 0;
}

// Prepares st on the connection unless it is already. False when it cannot (it is then sent unprepared).
static bool s_prepare(lull_db_t *self, const lull_db_stmt_t *st)
{
    for (int i = 0; i < self->nprepared; i++)
        if (self->prepared[i] == st) return true;
    if (self->nprepared >= MAX_PREPARED) return false;
    PGresult *r = NULL;
    bool ok = true;
    if (self->stale_prepared) {
        r = PQexec(self->conn, "DEALLOCATE ALL");
        ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        r = NULL;
        if (!ok) goto cleanup;
        self->stale_prepared = false;
        self->nprepared = 0;  // none of them is on the server any more
    }
    r = PQprepare(self->conn, st->name, st->sql, st->nparams, NULL);
    ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (ok) self->prepared[self->nprepared++] = st;
    else {
        LOG_WARN("db.prepare_failed", "cannot prepare a statement", "name", LS(st->name), "error",
                 LS(r ? PQresultErrorMessage(r) : PQerrorMessage(self->conn)));
        self->stale_prepared = true;
    }
cleanup:
    PQclear(r);
    return ok;
}

// lull_db_batch without a pipeline: one statement after the other.
static int s_batch_serial(lull_db_t *self, const lull_db_stmt_t *const *stmts, const char *const *const *params,
                          int n, bool atomic, PGresult **res)
{
    bool ok = !atomic || lull_db_begin(self) == 0;
    for (int i = 0; ok && i < n; i++) {
        res[i] = lull_db_exec(self, stmts[i]->sql, stmts[i]->nparams, params[i]);
        ok = res[i] != NULL || !atomic;
    }
    for (int i = 0; i < n; i++) ok = ok && res[i] != NULL;
    if (atomic && ok) ok = lull_db_commit(self) == 0;
    if (atomic && !ok) lull_db_rollback(self);
    return ok ? 0 : -1;
}

int lull_db_batch(lull_db_t *self, const lull_db_stmt_t *const *stmts, const char *const *const *params, int n,
                  bool atomic, PGresult **res)
{
    for (int i = 0; i < n; i++) res[i] = NULL;
    if (n <= 0) return 0;
    if (n > LULL_DB_BATCH_MAX) {
        s_set_error(self, "too many statements in one batch", "54000", false);
        return -1;
    }
    if (lull_db_connect(self) != 0) return -1;
    s_clear_error(self);
    PGconn *conn = self->conn;
    if (PQpipelineStatus(conn) == PQ_PIPELINE_OFF)
        for (int i = 0; i < n; i++) (void)s_prepare(self, stmts[i]);
    if (PQpipelineStatus(conn) != PQ_PIPELINE_OFF || PQenterPipelineMode(conn) != 1)
        return s_batch_serial(self, stmts, params, n, atomic, res);
    bool ok = true;
    int sent = 0;
    for (; sent < n; sent++) {
        const lull_db_stmt_t *st = stmts[sent];
        bool prepared = false;
        for (int k = 0; k < self->nprepared && !prepared; k++) prepared = self->prepared[k] == st;
        int rc = prepared ? PQsendQueryPrepared(conn, st->name, st->nparams, params[sent], NULL, NULL, 0)
                          : PQsendQueryParams(conn, st->sql, st->nparams, NULL, params[sent], NULL, NULL, 0);
        if (rc != 1) break;
    }
    ok = sent == n;
    if (PQpipelineSync(conn) != 1) ok = false;
    bool alive = true;
    for (int i = 0; i < sent; i++) {
        PGresult *r = PQgetResult(conn);
        if (!r) {  // connection trouble: no more results will come
            alive = ok = false;
            break;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) res[i] = r;
        else {
            if (ok) s_set_error(self, PQresultErrorMessage(r), PQresultErrorField(r, PG_DIAG_SQLSTATE), false);
            ok = false;
            PQclear(r);
        }
        while ((r = PQgetResult(conn))) PQclear(r);  // the NULL that ends this statement's results
    }
    for (PGresult *r; alive && (r = PQgetResult(conn));) {  // up to the sync result
        ExecStatusType st = PQresultStatus(r);
        PQclear(r);
        if (st == PGRES_PIPELINE_SYNC) break;
        ok = false;
    }
    if (PQexitPipelineMode(conn) != 1) ok = false;
    self->last_used_ms = lull_clock_mono_ms();
    if (ok) s_clear_error(self);
    else {
        self->nprepared = 0;  // prepare again on the next batch (a new connection may sit at the same address)
        self->stale_prepared = true;
        if (PQstatus(conn) != CONNECTION_OK || !alive) s_failed(self, NULL);
        else if (!self->error[0]) s_set_error(self, PQerrorMessage(conn), "08006", false);
        else if (s_reconnect_state(self->sqlstate)) s_lost(self);  // e.g. 25006: a write reached a read-only server
    }
    return ok ? 0 : -1;
}

int lull_db_notifications(lull_db_t *self, void (*fn)(const char *channel, const char *payload, void *arg), void *arg)
{
    if (lull_db_connected(self) && self->listen_gen == self->conn_gen && lull_db_connect(self) != 0) return -1;
    if (!lull_db_connected(self) || !PQconsumeInput(self->conn)) {
        s_set_error(self, self->conn ? PQerrorMessage(self->conn) : "not connected", "08006", true);
        return -1;
    }
    if (self->listen_gen != self->conn_gen) {  // a new connection (a failover, a restart): it listens to nothing
        s_set_error(self, "reconnected since LISTEN: LISTEN again", "08006", true);
        return -1;
    }
    for (PGnotify *nt; (nt = PQnotifies(self->conn)) != NULL;) {
        fn(nt->relname, nt->extra ? nt->extra : "", arg);
        PQfreemem(nt);
    }
    return 0;
}

int lull_db_run(lull_db_t *self, const char *sql, int nparams, const char *const *params, int64_t *affected)
{
    PGresult *res = lull_db_exec(self, sql, nparams, params);
    if (!res) return -1;
    if (affected) {
        const char *n = PQcmdTuples(res);
        *affected = n && *n ? strtoll(n, NULL, 10) : 0;
    }
    PQclear(res);
    return 0;
}

int lull_db_begin(lull_db_t *self) { return lull_db_run(self, "BEGIN", 0, NULL, NULL); }

int lull_db_commit(lull_db_t *self) { return lull_db_run(self, "COMMIT", 0, NULL, NULL); }

void lull_db_rollback(lull_db_t *self)
{
    if (!lull_db_connected(self)) return;
    if (PQtransactionStatus(self->conn) == PQTRANS_IDLE) return;
    PGresult *res = PQexec(self->conn, "ROLLBACK");
    if (res) PQclear(res);
}

const char *lull_db_error(const lull_db_t *self) { return self->error; }

const char *lull_db_sqlstate(const lull_db_t *self) { return self->sqlstate; }

bool lull_db_last_was_connection_error(const lull_db_t *self) { return self->conn_error; }

void lull_db_require_schema(int want) { s_schema_want = want > 0 ? want : 0; }

bool lull_db_schema_refused(const lull_db_t *self) { return self->schema_refused; }

lull_db_schema_fit_t lull_db_schema_fit(int64_t have, int want)
{
    if (have == want) return LULL_DB_SCHEMA_SAME;
    if (have == (int64_t)want + 1) return LULL_DB_SCHEMA_NEXT;
    return have < want ? LULL_DB_SCHEMA_OLDER : LULL_DB_SCHEMA_TOO_NEW;
}

// Reads the schema version on the open connection and judges it against want: 0 when this build may use it
// (the same version, or the next one: migrations are expand-only within a release, see docs/operations.md),
// -1 otherwise, logged. quiet_repeat: log a refusal only when it differs from the last one this handle logged
// (a refused reconnect is retried with backoff).
static int s_schema_check(lull_db_t *self, int want, bool quiet_repeat)
{
    PGresult *res = PQexec(self->conn, "SELECT coalesce(max(version), 0) FROM schema_migrations");
    bool ok = res && PQresultStatus(res) == PGRES_TUPLES_OK;
    int64_t have = ok ? lull_db_int(res, 0, 0, &ok) : 0;
    if (!ok) {
        char error[512];
        lull_mask_echo(res ? PQresultErrorMessage(res) : PQerrorMessage(self->conn), self->url, error, sizeof error);
        size_t n = strlen(error);
        while (n && (error[n - 1] == '\n' || error[n - 1] == ' ')) error[--n] = '\0';
        PQclear(res);
        if (!quiet_repeat || self->schema_logged != -1)
            LOG_ERROR("db.schema_unknown",
                      "cannot read schema_migrations: is the database migrated? (run scripts/db migrate)", "error",
                      LS(error));
        self->schema_logged = -1;
        return -1;
    }
    PQclear(res);
    lull_db_schema_fit_t fit = lull_db_schema_fit(have, want);
    if (fit == LULL_DB_SCHEMA_SAME || fit == LULL_DB_SCHEMA_NEXT) {
        self->schema_logged = 0;
        if (fit == LULL_DB_SCHEMA_NEXT && !__atomic_exchange_n(&s_ahead_warned, 1, __ATOMIC_RELAXED))
            LOG_WARN("db.schema_ahead",
                     "database schema is one version ahead of this build: compatible (expand-only migrations); "
                     "upgrade the binaries before the next migration",
                     "have", LI(have), "want", LI(want));
        return 0;
    }
    if (!quiet_repeat || self->schema_logged != (int)fit + 1)
        LOG_ERROR("db.schema_mismatch",
                  fit == LULL_DB_SCHEMA_OLDER
                      ? "database schema is older than this build: run scripts/db migrate"
                      : "database schema is two or more versions newer than this build: upgrade the binaries",
                  "have", LI(have), "want", LI(want));
    self->schema_logged = (int)fit + 1;
    return -1;
}

int lull_db_check_schema(lull_db_t *self, int expected)
{
    if (lull_db_connect(self) != 0) {
        if (!self->schema_refused)
            LOG_ERROR("db.schema_unknown",
                      "cannot read schema_migrations: is the database migrated? (run scripts/db migrate)", "error",
                      LS(self->error));
        return -1;
    }
    return s_schema_check(self, expected, false);
}

int64_t lull_db_int(const PGresult *res, int r, int c, bool *ok)
{
    if (ok) *ok = false;
    if (!res || r < 0 || r >= PQntuples(res) || c < 0 || c >= PQnfields(res) || PQgetisnull(res, r, c)) return 0;
    const char *v = PQgetvalue(res, r, c);
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end) return 0;
    if (ok) *ok = true;
    return x;
}

const char *lull_db_text(const PGresult *res, int r, int c)
{
    if (!res || r < 0 || r >= PQntuples(res) || c < 0 || c >= PQnfields(res) || PQgetisnull(res, r, c)) return NULL;
    return PQgetvalue(res, r, c);
}
