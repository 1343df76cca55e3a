// libpq wrapper: lazy connection, backoff on failure, parameterised execution, error classification.
#include "lull_db.h"
#include "lull_clock.h"
#include "lull_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
};

static void s_set_error(lull_db_t *self, const char *msg, const char *state, bool conn_error)
{
    snprintf(self->error, sizeof self->error, "%s", msg ? msg : "");
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

int lull_db_connect(lull_db_t *self)
{
    if (self->conn && PQstatus(self->conn) == CONNECTION_OK) return 0;
    if (self->conn) s_drop(self);
    if (lull_clock_mono_ms() < self->next_try_ms) {
        s_set_error(self, "database unavailable (waiting to reconnect)", "08006", true);
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
    self->backoff_ms = self->backoff_min_ms;
    self->next_try_ms = 0;
    LOG_INFO("db.connected", "connected to the database", "server_version", LI(PQserverVersion(self->conn)));
    self->was_up = true;
    return 0;
}

bool lull_db_connected(lull_db_t *self) { return self->conn && PQstatus(self->conn) == CONNECTION_OK; }

PGconn *lull_db_conn(lull_db_t *self) { return lull_db_connected(self) ? self->conn : NULL; }

PGresult *lull_db_exec(lull_db_t *self, const char *sql, int nparams, const char *const *params)
{
    if (lull_db_connect(self) != 0) return NULL;
    PGresult *res = PQexecParams(self->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        self->error[0] = '\0';
        self->sqlstate[0] = '\0';
        self->conn_error = false;
        return res;
    }
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    bool lost = PQstatus(self->conn) != CONNECTION_OK || !state || strncmp(state, "08", 2) == 0 ||
                strncmp(state, "57P", 3) == 0;  // admin shutdown / crash shutdown / cannot connect now
    s_set_error(self, res ? PQresultErrorMessage(res) : PQerrorMessage(self->conn), state ? state : "08006", lost);
    if (res) PQclear(res);
    if (lost) {
        LOG_WARN("db.connection_lost", self->error);
        self->was_up = true;
        s_drop(self);
        self->next_try_ms = 0;  // the first reconnect may be immediate; later ones back off
    } else {
        LOG_DEBUG("db.statement_failed", self->error, "sqlstate", LS(self->sqlstate));
    }
    return NULL;
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

int lull_db_check_schema(lull_db_t *self, int expected)
{
    PGresult *res = lull_db_exec(self, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL);
    if (!res) {
        LOG_ERROR("db.schema_unknown",
                  "cannot read schema_migrations: is the database migrated? (run scripts/db migrate)", "error",
                  LS(self->error));
        return -1;
    }
    int64_t have = lull_db_int(res, 0, 0, NULL);
    PQclear(res);
    if (have != expected) {
        LOG_ERROR("db.schema_mismatch",
                  have < expected ? "database schema is older than this build: run scripts/db migrate"
                                  : "database schema is newer than this build: upgrade the binaries",
                  "have", LI(have), "want", LI(expected));
        return -1;
    }
    return 0;
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
