// The tenant limits of common/lull_tenant_limits.h against the database's CHECK constraints (migration 015),
// through SQL on the test database (LULL_TEST_DATABASE_URL, set by tests/run): every boundary is accepted,
// one step past it is refused with a check violation. A limit changed in the header without a migration (or
// the other way round) fails here.
#include "lull_test.h"
#include "lull_db.h"
#include "lull_log.h"
#include "lull_tenant_limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_url;
static lull_db_t *s_db;
static char s_tenant[24], s_prompt[24];

// Writes value (text, cast to the column's type by cast) into table.column of the test rows inside a
// savepoint. "ok", the SQLSTATE of the failure, or "error".
static const char *s_try(const char *table, const char *column, const char *cast, const char *value)
{
    static char state[8];
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE %s SET %s = $1::%s WHERE id = $2::bigint", table, column, cast);
    const char *p[] = {value, strcmp(table, "prompts") == 0 ? s_prompt : s_tenant};
    if (lull_db_run(s_db, "SAVEPOINT lim", 0, NULL, NULL) != 0) return "error";
    int64_t n = 0;
    int rc = lull_db_run(s_db, sql, 2, p, &n);
    snprintf(state, sizeof state, "%s", rc == 0 ? (n == 1 ? "ok" : "none") : lull_db_sqlstate(s_db));
    if (lull_db_run(s_db, "ROLLBACK TO SAVEPOINT lim", 0, NULL, NULL) != 0) return "error";
    return state;
}

// A string of n bytes 'm'; model map {"openai": <n bytes>}. Caller frees.
static char *s_bytes(long long n, bool map)
{
    char *s = malloc((size_t)n + 32);
    if (!s) return NULL;
    size_t o = map ? (size_t)snprintf(s, 32, "{\"openai\":\"") : 0;
    memset(s + o, 'm', (size_t)n);
    snprintf(s + o + (size_t)n, 8, "%s", map ? "\"}" : "");
    return s;
}

static void s_check(const char *table, const char *column, const char *type, double lo, double hi)
{
    char v[64];
    bool integer = strcmp(type, "bigint") == 0, real = strcmp(type, "real") == 0;
    bool text = strcmp(type, "bytes") == 0, map = strcmp(type, "model map") == 0;
    if (integer || real) {
        double step = integer ? 1 : 0.001;
        const double ok[] = {lo, hi}, bad[] = {lo - step, hi + step};
        for (int i = 0; i < 2; i++) {
            snprintf(v, sizeof v, integer ? "%.0f" : "%.3f", ok[i]);
            LULL_CHECK_EQ_STR(s_try(table, column, integer ? "bigint" : "real", v), "ok");
            snprintf(v, sizeof v, integer ? "%.0f" : "%.3f", bad[i]);
            LULL_CHECK_EQ_STR(s_try(table, column, integer ? "bigint" : "real", v), "23514");
        }
    } else if (text || map) {
        const long long ok[] = {(long long)lo, (long long)hi}, bad[] = {(long long)lo - 1, (long long)hi + 1};
        for (int i = 0; i < 2; i++) {
            char *s = s_bytes(ok[i], map), *b = bad[i] >= 0 ? s_bytes(bad[i], map) : NULL;
            LULL_CHECK_EQ_STR(s ? s_try(table, column, map ? "jsonb" : "text", s) : "oom", "ok");
            if (bad[i] >= 0) {
                LULL_CHECK_EQ_STR(b ? s_try(table, column, map ? "jsonb" : "text", b) : "oom", "23514");
            }
            free(s);
            free(b);
        }
    } else {  // provider array: up to hi distinct names of openai, anthropic, gemini
        LULL_CHECK_EQ_STR(s_try(table, column, "text[]", "{openai,anthropic,gemini}"), "ok");
        LULL_CHECK_EQ_STR(s_try(table, column, "text[]", "{}"), "ok");
        LULL_CHECK_EQ_STR(s_try(table, column, "text[]", "{openai,anthropic,gemini,openai}"), "23514");
        LULL_CHECK_EQ_STR(s_try(table, column, "text[]", "{mistral}"), "23514");
        LULL_CHECK_EQ_STR(s_try(table, column, "text[]", "{openai,openai}"), "23514");
    }
}

// Runs s_check for one limit as a test of its own (one PASS or FAIL line per limit).
static void s_run(const char *table, const char *column, const char *type, double lo, double hi)
{
    char name[128];
    snprintf(name, sizeof name, "%s.%s within [%g, %g] and not past it", table, column, lo, hi);
    lull_test_cur_name_ = name;
    lull_test_cur_failed_ = 0;
    s_check(table, column, type, lo, hi);
    if (lull_test_cur_failed_) lull_test_failed_++;
    else {
        lull_test_passed_++;
        printf("PASS %s\n", name);
    }
    lull_test_cur_name_ = "";
}

LULL_TEST(header_bounds_equal_the_checks)
{
    s_db = lull_db_new(s_url);
    LULL_CHECK(s_db != NULL && lull_db_begin(s_db) == 0);
    PGresult *r = lull_db_exec(s_db, "INSERT INTO tenants (slug) VALUES ('limits-test') RETURNING id", 0, NULL);
    snprintf(s_tenant, sizeof s_tenant, "%s", r ? PQgetvalue(r, 0, 0) : "0");
    PQclear(r);
    const char *p[] = {s_tenant};
    r = lull_db_exec(s_db, "INSERT INTO prompts (tenant_id, template) VALUES ($1::bigint, 'x') RETURNING id", 1, p);
    snprintf(s_prompt, sizeof s_prompt, "%s", r ? PQgetvalue(r, 0, 0) : "0");
    PQclear(r);
#define X(table, column, type, lo, hi) s_run(table, column, type, (double)(lo), (double)(hi));
    LULL_TENANT_LIMITS(X)
#undef X
    lull_test_cur_name_ = "header_bounds_equal_the_checks";
    lull_db_rollback(s_db);
    lull_db_destroy(&s_db);
}

int main(void)
{
    s_url = getenv("LULL_TEST_DATABASE_URL");
    if (!s_url) {
        printf("FAIL setup: LULL_TEST_DATABASE_URL is not set (run through tests/run)\n");
        return 1;
    }
    lull_log_set_level(LULL_LOG_ERROR);
    LULL_RUN(header_bounds_equal_the_checks);
    return lull_test_summary();
}
