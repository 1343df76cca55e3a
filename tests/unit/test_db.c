// Unit tests of lull_db against the real test database (LULL_TEST_DATABASE_URL, set by tests/run):
// parameters, transactions, error classification, reconnect after the backend is killed, schema check.
#include "lull_test.h"
#include "lull_db.h"
#include "lull_log.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

static const char *s_url;

LULL_TEST(parameters_are_never_interpolated)
{
    lull_db_t *db = lull_db_new(s_url);
    LULL_CHECK(lull_db_connected(db));
    const char *evil = "'); DROP TABLE messages;--";
    const char *p[] = {evil, NULL};
    PGresult *r = lull_db_exec(db, "SELECT $1::text, $2::text IS NULL", 2, p);
    LULL_CHECK(r != NULL);
    LULL_CHECK_EQ_STR(lull_db_text(r, 0, 0), evil);
    LULL_CHECK_EQ_STR(lull_db_text(r, 0, 1), "t");
    LULL_CHECK(lull_db_text(r, 5, 0) == NULL);  // out of range is NULL, not a crash
    PQclear(r);
    lull_db_destroy(&db);
    LULL_CHECK(db == NULL);
}

LULL_TEST(transactions_and_errors)
{
    lull_db_t *db = lull_db_new(s_url);
    LULL_CHECK_EQ_INT(lull_db_run(db, "CREATE TEMP TABLE t (id int primary key)", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_begin(db), 0);
    LULL_CHECK_EQ_INT(lull_db_run(db, "INSERT INTO t VALUES (1), (2)", 0, NULL, NULL), 0);
    lull_db_rollback(db);
    int64_t n = -1;
    LULL_CHECK_EQ_INT(lull_db_run(db, "INSERT INTO t VALUES (3)", 0, NULL, &n), 0);
    LULL_CHECK_EQ_INT(n, 1);
    PGresult *r = lull_db_exec(db, "SELECT count(*) FROM t", 0, NULL);
    LULL_CHECK_EQ_INT(lull_db_int(r, 0, 0, NULL), 1);
    PQclear(r);
    LULL_CHECK_EQ_INT(lull_db_run(db, "INSERT INTO t VALUES (3)", 0, NULL, NULL), -1);
    LULL_CHECK_EQ_STR(lull_db_sqlstate(db), "23505");
    LULL_CHECK(!lull_db_last_was_connection_error(db));
    LULL_CHECK(strstr(lull_db_error(db), "duplicate key") != NULL);
    LULL_CHECK(lull_db_connected(db));
    LULL_CHECK_EQ_INT(lull_db_run(db, "SELEC 1", 0, NULL, NULL), -1);
    LULL_CHECK_EQ_STR(lull_db_sqlstate(db), "42601");
    bool ok = true;
    r = lull_db_exec(db, "SELECT NULL::int, 'x'", 0, NULL);
    LULL_CHECK_EQ_INT(lull_db_int(r, 0, 0, &ok), 0);
    LULL_CHECK(!ok);
    LULL_CHECK_EQ_INT(lull_db_int(r, 0, 1, &ok), 0);
    LULL_CHECK(!ok);
    PQclear(r);
    lull_db_destroy(&db);
}

LULL_TEST(reconnects_after_the_backend_dies)
{
    lull_db_t *db = lull_db_new(s_url);
    lull_db_t *killer = lull_db_new(s_url);
    lull_db_set_backoff(db, 1, 10);
    PGresult *r = lull_db_exec(db, "SELECT pg_backend_pid()", 0, NULL);
    char pid[32];
    snprintf(pid, sizeof pid, "%s", lull_db_text(r, 0, 0));
    PQclear(r);
    const char *p[] = {pid};
    LULL_CHECK_EQ_INT(lull_db_run(killer, "SELECT pg_terminate_backend($1::int)", 1, p, NULL), 0);
    usleep(50000);
    LULL_CHECK_EQ_INT(lull_db_run(db, "SELECT 1", 0, NULL, NULL), -1);
    LULL_CHECK(lull_db_last_was_connection_error(db));
    int rc = -1;
    for (int i = 0; i < 100 && rc != 0; i++) {
        rc = lull_db_run(db, "SELECT 1", 0, NULL, NULL);
        if (rc) usleep(5000);
    }
    LULL_CHECK_EQ_INT(rc, 0);
    lull_db_destroy(&db);
    lull_db_destroy(&killer);
}

// An idle connection whose backend was terminated is noticed without a statement: lull_db_idle_ok reads the FATAL
// and the close, drops the connection, and the next connect gets a new backend; a live idle connection stays.
LULL_TEST(idle_ok_notices_a_terminated_backend)
{
    lull_db_t *db = lull_db_new(s_url);
    lull_db_t *killer = lull_db_new(s_url);
    LULL_CHECK(lull_db_idle_ok(db));
    PGresult *r = lull_db_exec(db, "SELECT pg_backend_pid()", 0, NULL);
    char pid[32];
    snprintf(pid, sizeof pid, "%s", r ? lull_db_text(r, 0, 0) : "0");
    PQclear(r);
    LULL_CHECK(lull_db_idle_ok(db));  // nothing arrived: no round trip, still connected
    LULL_CHECK(lull_db_connected(db));
    const char *p[] = {pid};
    LULL_CHECK_EQ_INT(lull_db_run(killer, "SELECT pg_terminate_backend($1::int, 5000)", 1, p, NULL), 0);
    bool ok = true;
    for (int i = 0; i < 200 && ok; i++) {  // the FATAL and the close reach the socket soon after the backend exits
        ok = lull_db_idle_ok(db);
        if (ok) usleep(5000);
    }
    LULL_CHECK(!ok);
    LULL_CHECK(!lull_db_connected(db));
    LULL_CHECK(lull_db_last_was_connection_error(db));
    LULL_CHECK_EQ_INT(lull_db_connect(db), 0);  // at once, no backoff wait
    r = lull_db_exec(db, "SELECT pg_backend_pid()::text <> $1", 1, p);
    LULL_CHECK(r && strcmp(lull_db_text(r, 0, 0), "t") == 0);
    PQclear(r);
    lull_db_destroy(&db);
    lull_db_destroy(&killer);
}

// The backend pid of db's connection (0 when the statement fails).
static long s_backend_pid(lull_db_t *db)
{
    PGresult *r = lull_db_exec(db, "SELECT pg_backend_pid()", 0, NULL);
    long pid = r ? (long)lull_db_int(r, 0, 0, NULL) : 0;
    PQclear(r);
    return pid;
}

// The session's setting of plan_cache_mode ("" when the statement fails).
static void s_plan_mode(lull_db_t *db, char *out, size_t n)
{
    PGresult *r = lull_db_exec(db, "SHOW plan_cache_mode", 0, NULL);
    snprintf(out, n, "%s", r ? lull_db_text(r, 0, 0) : "");
    PQclear(r);
}

// Session settings: run on the open connection when set, and on every new one after a lost backend; a setting
// the server refuses is logged and the connection is used without it.
LULL_TEST(session_settings_on_every_connection)
{
    lull_db_t *db = lull_db_new(s_url);
    lull_db_t *killer = lull_db_new(s_url);
    lull_db_set_backoff(db, 1, 10);
    char mode[64];
    s_plan_mode(db, mode, sizeof mode);
    LULL_CHECK_EQ_STR(mode, "auto");  // the server's default
    lull_db_set_session_sql(db, "SET plan_cache_mode = force_generic_plan");
    s_plan_mode(db, mode, sizeof mode);
    LULL_CHECK_EQ_STR(mode, "force_generic_plan");  // the open connection
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", s_backend_pid(db));
    const char *p[] = {pid};
    LULL_CHECK_EQ_INT(lull_db_run(killer, "SELECT pg_terminate_backend($1::int)", 1, p, NULL), 0);
    usleep(50000);
    mode[0] = '\0';
    for (int i = 0; i < 100 && !mode[0]; i++) {
        s_plan_mode(db, mode, sizeof mode);
        if (!mode[0]) usleep(5000);
    }
    LULL_CHECK(s_backend_pid(db) != atol(pid));     // a new backend
    LULL_CHECK_EQ_STR(mode, "force_generic_plan");  // with the setting again
    lull_db_t *bad = lull_db_new(s_url);
    lull_db_set_session_sql(bad, "SET no_such_setting_here = 1");
    LULL_CHECK_EQ_INT(lull_db_run(bad, "SELECT 1", 0, NULL, NULL), 0);  // refused setting: still usable
    lull_db_destroy(&bad);
    lull_db_destroy(&db);
    lull_db_destroy(&killer);
}

// A write refused by a read-only server (25006 read_only_sql_transaction: a standby, or a demoted primary) is a
// connection failure: the connection is dropped and the next call gets a new one, in a plain statement and in a
// pipelined batch alike. (The session's default_transaction_read_only stands in for a server gone read-only.)
LULL_TEST(read_only_server_means_reconnect)
{
    lull_db_t *db = lull_db_new(s_url);
    lull_db_set_backoff(db, 1, 10);
    long pid = s_backend_pid(db);
    LULL_CHECK(pid > 0);
    LULL_CHECK_EQ_INT(lull_db_run(db, "SET default_transaction_read_only = on", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_run(db, "CREATE TEMP TABLE ro_t (id int)", 0, NULL, NULL), -1);
    LULL_CHECK_EQ_STR(lull_db_sqlstate(db), "25006");
    LULL_CHECK(lull_db_last_was_connection_error(db));
    LULL_CHECK(!lull_db_connected(db));
    LULL_CHECK_EQ_INT(lull_db_run(db, "CREATE TEMP TABLE ro_t (id int)", 0, NULL, NULL), 0);  // a new session
    LULL_CHECK(s_backend_pid(db) != pid);

    // (a temporary table may be written in a read-only transaction: the batch writes a plain one)
    LULL_CHECK_EQ_INT(lull_db_run(db, "CREATE TABLE IF NOT EXISTS test_db_ro (id int)", 0, NULL, NULL), 0);
    static const lull_db_stmt_t ins = {"test_ro_insert", "INSERT INTO test_db_ro VALUES ($1::int)", 1};
    const lull_db_stmt_t *stmts[] = {&ins};
    const char *one[] = {"1"};
    const char *const *params[] = {one};
    PGresult *res[1];
    pid = s_backend_pid(db);
    LULL_CHECK_EQ_INT(lull_db_run(db, "SET default_transaction_read_only = on", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_batch(db, stmts, params, 1, true, res), -1);
    LULL_CHECK_EQ_STR(lull_db_sqlstate(db), "25006");
    LULL_CHECK(lull_db_last_was_connection_error(db));
    LULL_CHECK(!lull_db_connected(db));
    LULL_CHECK(s_backend_pid(db) != pid);
    lull_db_destroy(&db);
}

// With target_session_attrs=read-write in the URL, a connection whose server reports it no longer accepts
// writes (default_transaction_read_only or in_hot_standby turned on) is replaced before the next statement,
// even a read: a stale primary is not read from.
LULL_TEST(read_write_url_leaves_a_server_gone_read_only)
{
    char url[512];
    snprintf(url, sizeof url, "%s%ctarget_session_attrs=read-write", s_url, strchr(s_url, '?') ? '&' : '?');
    lull_db_t *db = lull_db_new(url);
    LULL_CHECK(lull_db_connected(db));
    long pid = s_backend_pid(db);
    LULL_CHECK_EQ_INT(lull_db_run(db, "SET default_transaction_read_only = on", 0, NULL, NULL), 0);
    LULL_CHECK(s_backend_pid(db) != pid);  // the read ran on a new connection
    PGresult *r = lull_db_exec(db, "SHOW default_transaction_read_only", 0, NULL);
    LULL_CHECK_EQ_STR(lull_db_text(r, 0, 0), "off");
    PQclear(r);
    lull_db_destroy(&db);

    db = lull_db_new(s_url);  // without it, a read-only session is kept (it may be what the caller wants)
    pid = s_backend_pid(db);
    LULL_CHECK_EQ_INT(lull_db_run(db, "SET default_transaction_read_only = on", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(s_backend_pid(db), pid);
    lull_db_destroy(&db);
}

// A statement run through lull_db_exec_stmt is prepared once per connection and then only executed; a server
// that lost it (DEALLOCATE ALL, as a pooler's DISCARD ALL does) or a plan gone stale (the result's columns
// changed) costs one failed call, and the next one prepares it again.
LULL_TEST(prepared_single_statements)
{
    lull_db_t *db = lull_db_new(s_url);
    static const lull_db_stmt_t st = {"test_exec_stmt", "SELECT $1::int + 1 AS n", 1};
    static const lull_db_stmt_t count = {"test_exec_stmt_count",
                                         "SELECT count(*) FROM pg_prepared_statements WHERE name = 'test_exec_stmt'", 0};
    const char *two[] = {"2"};
    for (int i = 0; i < 3; i++) {
        PGresult *r = lull_db_exec_stmt(db, &st, two);
        LULL_CHECK(r != NULL && strcmp(lull_db_text(r, 0, 0), "3") == 0);
        PQclear(r);
    }
    PGresult *r = lull_db_exec_stmt(db, &count, NULL);
    LULL_CHECK(r != NULL && strcmp(lull_db_text(r, 0, 0), "1") == 0);  // prepared on the server, once
    PQclear(r);
    int64_t n = -1;
    LULL_CHECK_EQ_INT(lull_db_run_stmt(db, &st, two, &n), 0);
    LULL_CHECK(n == 1);  // one row
    LULL_CHECK_EQ_INT(lull_db_run(db, "DEALLOCATE ALL", 0, NULL, NULL), 0);
    LULL_CHECK(lull_db_exec_stmt(db, &st, two) == NULL);
    LULL_CHECK_EQ_STR(lull_db_sqlstate(db), "26000");
    LULL_CHECK(lull_db_connected(db));  // a statement error, not a lost connection
    r = lull_db_exec_stmt(db, &st, two);
    LULL_CHECK(r != NULL && strcmp(lull_db_text(r, 0, 0), "3") == 0);
    PQclear(r);
    // the plan goes stale: a table's columns change under a prepared SELECT *
    LULL_CHECK_EQ_INT(lull_db_run(db, "CREATE TEMP TABLE stale_t (a int)", 0, NULL, NULL), 0);
    static const lull_db_stmt_t star = {"test_exec_stmt_star", "SELECT * FROM stale_t", 0};
    r = lull_db_exec_stmt(db, &star, NULL);
    LULL_CHECK(r != NULL && PQnfields(r) == 1);
    PQclear(r);
    LULL_CHECK_EQ_INT(lull_db_run(db, "ALTER TABLE stale_t ADD COLUMN b int", 0, NULL, NULL), 0);
    LULL_CHECK(lull_db_exec_stmt(db, &star, NULL) == NULL);
    LULL_CHECK_EQ_STR(lull_db_sqlstate(db), "0A000");
    r = lull_db_exec_stmt(db, &star, NULL);
    LULL_CHECK(r != NULL && PQnfields(r) == 2);
    PQclear(r);
    // a bad statement: an error each time, the connection kept
    static const lull_db_stmt_t bad = {"test_exec_stmt_bad", "SELECT nonsense FROM nowhere", 0};
    LULL_CHECK(lull_db_exec_stmt(db, &bad, NULL) == NULL);
    LULL_CHECK(lull_db_connected(db));
    r = lull_db_exec_stmt(db, &st, two);  // the others still run
    LULL_CHECK(r != NULL);
    PQclear(r);
    // after the failed prepare the handle cleans the server's statements up before the next prepare, and
    // forgets them too: no call fails for it
    static const lull_db_stmt_t other = {"test_exec_stmt_other", "SELECT 7", 0};
    r = lull_db_exec_stmt(db, &other, NULL);
    LULL_CHECK(r != NULL && strcmp(lull_db_text(r, 0, 0), "7") == 0);
    PQclear(r);
    r = lull_db_exec_stmt(db, &st, two);
    LULL_CHECK(r != NULL && strcmp(lull_db_text(r, 0, 0), "3") == 0);
    PQclear(r);
    lull_db_destroy(&db);
}

static void s_ignore(const char *channel, const char *payload, void *arg)
{
    (void)channel;
    (void)payload;
    (void)arg;
}

// A connection idle past the probe interval is checked before use: a backend that died meanwhile (a server
// restart, a failover) costs the caller nothing, its statement runs on a new connection. A LISTEN connection that
// was replaced so reports -1 from lull_db_notifications, so that its owner LISTENs again.
LULL_TEST(idle_connection_is_probed_before_use)
{
    lull_db_t *db = lull_db_new(s_url);
    lull_db_t *killer = lull_db_new(s_url);
    lull_db_set_backoff(db, 1, 10);
    lull_db_set_probe(db, 20);
    LULL_CHECK_EQ_INT(lull_db_run(db, "LISTEN lull_test_probe", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_notifications(db, s_ignore, NULL), 0);
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", s_backend_pid(db));
    const char *p[] = {pid};
    LULL_CHECK_EQ_INT(lull_db_run(killer, "SELECT pg_terminate_backend($1::int)", 1, p, NULL), 0);
    usleep(100000);
    LULL_CHECK_EQ_INT(lull_db_run(db, "SELECT 1", 0, NULL, NULL), 0);  // on a new connection, no error
    LULL_CHECK(s_backend_pid(db) != atol(pid));
    LULL_CHECK_EQ_INT(lull_db_notifications(db, s_ignore, NULL), -1);  // the new one listens to nothing
    LULL_CHECK_EQ_INT(lull_db_run(db, "LISTEN lull_test_probe", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_notifications(db, s_ignore, NULL), 0);
    lull_db_destroy(&db);
    lull_db_destroy(&killer);
}

// The server's goodbye to an idle connection ("FATAL: terminating connection due to administrator command")
// reaches libpq outside a query: it is one JSON log line, not libpq's plain text on stderr (found by the suite's
// check that every log line is JSON).
LULL_TEST(notices_are_log_lines)
{
    char path[] = "/tmp/lull_test_db_log_XXXXXX";
    int fd = mkstemp(path);
    LULL_CHECK(fd >= 0);
    LULL_CHECK_EQ_INT(lull_log_open("unit", path, LULL_LOG_INFO), 0);
    char errpath[] = "/tmp/lull_test_db_err_XXXXXX";  // stderr, where libpq's own printing would go
    int saved = dup(2), efd = mkstemp(errpath);
    dup2(efd, 2);
    lull_db_t *db = lull_db_new(s_url);
    lull_db_t *killer = lull_db_new(s_url);
    LULL_CHECK_EQ_INT(lull_db_run(db, "LISTEN lull_test_notices", 0, NULL, NULL), 0);
    PGresult *r = lull_db_exec(db, "SELECT pg_backend_pid()", 0, NULL);
    const char *p[] = {r ? lull_db_text(r, 0, 0) : "0"};
    LULL_CHECK_EQ_INT(lull_db_run(killer, "SELECT pg_terminate_backend($1::int)", 1, p, NULL), 0);
    PQclear(r);
    usleep(100000);
    int rc = lull_db_notifications(db, s_ignore, NULL);  // reads what the server sent while idle
    LULL_CHECK(rc == 0 || rc == -1);                     // -1 when it saw the connection end too
    lull_db_destroy(&db);
    lull_db_destroy(&killer);
    dup2(saved, 2);
    close(saved);
    lull_log_close();
    lull_log_set_level(LULL_LOG_ERROR);
    char buf[8192] = "";
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = '\0';
    if (f) fclose(f);
    LULL_CHECK(strstr(buf, "\"ev\":\"db.notice\",\"msg\":\"FATAL:  terminating connection") != NULL);
    char ebuf[1024];
    ssize_t en = pread(efd, ebuf, sizeof ebuf - 1, 0);
    ebuf[en > 0 ? en : 0] = '\0';
    LULL_CHECK(strstr(ebuf, "FATAL") == NULL);  // nothing of libpq's own on stderr
    close(efd);
    unlink(path);
    unlink(errpath);
}

LULL_TEST(unreachable_server_is_not_fatal)
{
    lull_db_t *db = lull_db_new("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1");
    LULL_CHECK(db != NULL);
    LULL_CHECK(!lull_db_connected(db));
    LULL_CHECK_EQ_INT(lull_db_run(db, "SELECT 1", 0, NULL, NULL), -1);
    LULL_CHECK(lull_db_last_was_connection_error(db));
    LULL_CHECK_EQ_INT(lull_db_check_schema(db, 1), -1);
    lull_db_destroy(&db);
}

static void s_on_notify(const char *channel, const char *payload, void *arg)
{
    char *got = arg;
    snprintf(got, 64, "%s:%s", channel, payload);
}

LULL_TEST(batches_and_notifications)
{
    lull_db_t *db = lull_db_new(s_url);
    LULL_CHECK_EQ_INT(lull_db_run(db, "CREATE TEMP TABLE b (id int primary key)", 0, NULL, NULL), 0);
    static const lull_db_stmt_t ins = {"test_ins", "INSERT INTO b VALUES ($1::int) RETURNING id", 1};
    static const lull_db_stmt_t cnt = {"test_cnt", "SELECT count(*) FROM b WHERE id <= $1::int", 1};
    const char *one[] = {"1"}, *two[] = {"2"}, *dup[] = {"1"};
    const lull_db_stmt_t *stmts[] = {&ins, &ins, &cnt};
    const char *const *params[] = {one, two, two};
    PGresult *res[3];
    for (int round = 0; round < 2; round++) {  // the second round runs the statements prepared
        LULL_CHECK_EQ_INT(lull_db_batch(db, stmts, params, 3, true, res), 0);
        LULL_CHECK_EQ_INT(lull_db_int(res[2], 0, 0, NULL), 2);
        for (int i = 0; i < 3; i++) PQclear(res[i]);
        LULL_CHECK_EQ_INT(lull_db_run(db, "DELETE FROM b", 0, NULL, NULL), 0);
    }
    // a failing statement fails the batch, and nothing of it is committed
    const char *const *bad[] = {two, dup, dup};
    const lull_db_stmt_t *bad_stmts[] = {&ins, &ins, &ins};
    LULL_CHECK_EQ_INT(lull_db_run(db, "INSERT INTO b VALUES (1)", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_batch(db, bad_stmts, bad, 3, true, res), -1);
    LULL_CHECK(res[1] == NULL && res[2] == NULL);
    for (int i = 0; i < 3; i++) PQclear(res[i]);
    LULL_CHECK_EQ_STR(lull_db_sqlstate(db), "23505");
    PGresult *r = lull_db_exec(db, "SELECT count(*) FROM b", 0, NULL);
    LULL_CHECK_EQ_INT(lull_db_int(r, 0, 0, NULL), 1);
    PQclear(r);
    // the statements are prepared again after the failure
    const char *const *ok[] = {two};
    LULL_CHECK_EQ_INT(lull_db_batch(db, bad_stmts, ok, 1, true, res), 0);
    PQclear(res[0]);
    // LISTEN / NOTIFY
    char got[64] = "";
    LULL_CHECK(lull_db_socket(db) >= 0);
    LULL_CHECK_EQ_INT(lull_db_run(db, "LISTEN test_chan", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_run(db, "NOTIFY test_chan, 'hello'", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_notifications(db, s_on_notify, got), 0);
    LULL_CHECK_EQ_STR(got, "test_chan:hello");
    lull_db_destroy(&db);
}

static char *s_slurp(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, size - 1, f) : 0;
    buf[n] = '\0';
    if (f) fclose(f);
    return buf;
}

static int s_count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

// A build runs against its own schema version and the next one; older, or two and more ahead, are refused.
LULL_TEST(schema_version_check)
{
    LULL_CHECK_EQ_INT(lull_db_schema_fit(27, 27), LULL_DB_SCHEMA_SAME);
    LULL_CHECK_EQ_INT(lull_db_schema_fit(28, 27), LULL_DB_SCHEMA_NEXT);
    LULL_CHECK_EQ_INT(lull_db_schema_fit(29, 27), LULL_DB_SCHEMA_TOO_NEW);
    LULL_CHECK_EQ_INT(lull_db_schema_fit(26, 27), LULL_DB_SCHEMA_OLDER);
    LULL_CHECK_EQ_INT(lull_db_schema_fit(0, 27), LULL_DB_SCHEMA_OLDER);
    LULL_CHECK_EQ_INT(lull_db_schema_fit(INT64_MAX, 27), LULL_DB_SCHEMA_TOO_NEW);

    char path[] = "/tmp/lull_test_db_schema_XXXXXX";
    int fd = mkstemp(path);
    LULL_CHECK(fd >= 0);
    LULL_CHECK_EQ_INT(lull_log_open("unit", path, LULL_LOG_INFO), 0);
    lull_db_t *db = lull_db_new(s_url);
    LULL_CHECK_EQ_INT(lull_db_check_schema(db, LULL_SCHEMA_VERSION), 0);
    LULL_CHECK_EQ_INT(lull_db_check_schema(db, LULL_SCHEMA_VERSION - 1), 0);  // the database is one ahead
    LULL_CHECK_EQ_INT(lull_db_check_schema(db, LULL_SCHEMA_VERSION - 1), 0);  // (warned once per process)
    LULL_CHECK_EQ_INT(lull_db_check_schema(db, LULL_SCHEMA_VERSION - 2), -1);
    LULL_CHECK_EQ_INT(lull_db_check_schema(db, LULL_SCHEMA_VERSION + 1), -1);
    lull_db_destroy(&db);

    // Required for every connection: a refused schema fails the connect (a connection error: retried later),
    // logged once for repeated refusals; a fitting one connects.
    lull_db_require_schema(LULL_SCHEMA_VERSION - 2);
    db = lull_db_new(s_url);
    LULL_CHECK(!lull_db_connected(db));
    LULL_CHECK(lull_db_schema_refused(db));
    lull_db_set_backoff(db, 1, 1);
    usleep(3000);
    LULL_CHECK_EQ_INT(lull_db_run(db, "SELECT 1", 0, NULL, NULL), -1);
    LULL_CHECK(lull_db_last_was_connection_error(db));
    LULL_CHECK(strstr(lull_db_error(db), "schema") != NULL);
    lull_db_destroy(&db);
    lull_db_require_schema(LULL_SCHEMA_VERSION - 1);
    db = lull_db_new(s_url);
    LULL_CHECK(lull_db_connected(db));
    LULL_CHECK(!lull_db_schema_refused(db));
    // a reconnect is checked again: the backend killed, then the requirement changed under it
    lull_db_t *killer = lull_db_new(s_url);
    lull_db_set_backoff(db, 1, 1);
    PGresult *r = lull_db_exec(db, "SELECT pg_backend_pid()", 0, NULL);
    const char *p[] = {r ? lull_db_text(r, 0, 0) : "0"};
    LULL_CHECK_EQ_INT(lull_db_run(killer, "SELECT pg_terminate_backend($1::int)", 1, p, NULL), 0);
    PQclear(r);
    lull_db_require_schema(LULL_SCHEMA_VERSION + 1);
    usleep(50000);
    for (int i = 0; i < 3; i++) {
        LULL_CHECK_EQ_INT(lull_db_run(db, "SELECT 1", 0, NULL, NULL), -1);
        usleep(3000);
    }
    LULL_CHECK(lull_db_schema_refused(db));
    lull_db_require_schema(0);
    lull_db_destroy(&db);
    lull_db_destroy(&killer);
    lull_log_close();
    lull_log_set_level(LULL_LOG_ERROR);
    close(fd);
    static char buf[65536];
    s_slurp(path, buf, sizeof buf);
    unlink(path);
    LULL_CHECK_EQ_INT(s_count(buf, "\"ev\":\"db.schema_ahead\""), 1);
    LULL_CHECK(strstr(buf, "one version ahead of this build") != NULL);
    // explicit checks: older (want +1) and too new (want -2); the required check: too new once (repeats quiet),
    // then older once after the reconnect
    LULL_CHECK_EQ_INT(s_count(buf, "two or more versions newer than this build: upgrade the binaries"), 2);
    LULL_CHECK_EQ_INT(s_count(buf, "older than this build: run scripts/db migrate"), 2);
    const char *ahead = strstr(buf, "\"ev\":\"db.schema_ahead\"");
    const char *line = ahead;
    while (line && line > buf && line[-1] != '\n') line--;
    LULL_CHECK(line && strncmp(strstr(line, "\"lvl\":"), "\"lvl\":\"warn\"", 12) == 0);
}

int main(void)
{
    s_url = getenv("LULL_TEST_DATABASE_URL");
    if (!s_url) {
        printf("FAIL setup: LULL_TEST_DATABASE_URL is not set (run through tests/run)\n");
        return 1;
    }
    lull_log_set_level(LULL_LOG_ERROR);
    LULL_RUN(parameters_are_never_interpolated);
    LULL_RUN(transactions_and_errors);
    LULL_RUN(reconnects_after_the_backend_dies);
    LULL_RUN(read_only_server_means_reconnect);
    LULL_RUN(read_write_url_leaves_a_server_gone_read_only);
    LULL_RUN(idle_connection_is_probed_before_use);
    LULL_RUN(idle_ok_notices_a_terminated_backend);
    LULL_RUN(notices_are_log_lines);
    LULL_RUN(unreachable_server_is_not_fatal);
    LULL_RUN(schema_version_check);
    LULL_RUN(batches_and_notifications);
    LULL_RUN(prepared_single_statements);
    LULL_RUN(session_settings_on_every_connection);
    return lull_test_summary();
}
