// Unit tests of the scheduler's tenant window cache: per-channel overrides, invalid channel_windows,
// defaults for unknown tenants, loading from the database (LULL_TEST_DATABASE_URL, set by tests/run).
#include "lull_test.h"
#include "lull_log.h"
#include "../../scheduler/sched_tenants.h"
#include "../../scheduler/sched_windows.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

LULL_TEST(channel_overrides_and_defaults)
{
    sched_tenants_t *t = sched_tenants_new(30000, 120000);
    LULL_CHECK(t != NULL);
    if (!t) return;
    LULL_CHECK_EQ_INT(sched_tenants_set(t, 5, 1000, 4000, "{\"tiktok\":{\"window_ms\":200,\"max_wait_ms\":900},"
                                                           "\"sms\":{\"window_ms\":300}}"),
                      0);
    int64_t w, m;
    sched_tenants_get(t, 5, LULL_CH_TIKTOK, &w, &m);
    LULL_CHECK_EQ_INT(w, 200);
    LULL_CHECK_EQ_INT(m, 900);
    sched_tenants_get(t, 5, LULL_CH_SMS, &w, &m);
    LULL_CHECK_EQ_INT(w, 300);
    LULL_CHECK_EQ_INT(m, 4000);  // only the window is overridden
    sched_tenants_get(t, 5, LULL_CH_WHATSAPP, &w, &m);
    LULL_CHECK_EQ_INT(w, 1000);
    LULL_CHECK_EQ_INT(m, 4000);
    sched_tenants_get(t, 6, LULL_CH_SMS, &w, &m);  // unknown tenant
    LULL_CHECK_EQ_INT(w, 30000);
    LULL_CHECK_EQ_INT(m, 120000);
    LULL_CHECK(sched_tenants_known(t, 5));
    LULL_CHECK(!sched_tenants_known(t, 6));
    // re-set replaces; several tenants stay sorted and findable
    LULL_CHECK_EQ_INT(sched_tenants_set(t, 5, 10, 20, NULL), 0);
    for (int64_t id = 100; id > 6; id--) LULL_CHECK_EQ_INT(sched_tenants_set(t, id, id, id * 2, "{}"), 0);
    sched_tenants_get(t, 5, LULL_CH_TIKTOK, &w, &m);
    LULL_CHECK_EQ_INT(w, 10);
    sched_tenants_get(t, 42, LULL_CH_GENERIC, &w, &m);
    LULL_CHECK_EQ_INT(w, 42);
    LULL_CHECK_EQ_INT(m, 84);
    LULL_CHECK_EQ_INT(sched_tenants_count(t), 95);
    sched_tenants_destroy(&t);
    LULL_CHECK(t == NULL);
}

LULL_TEST(invalid_overrides_are_skipped)
{
    sched_tenants_t *t = sched_tenants_new(30000, 120000);
    if (!t) return;
    int64_t w, m;
    LULL_CHECK_EQ_INT(sched_tenants_set(t, 1, 500, 600, "{\"tiktok\":{\"window_ms\":-5},\"pigeon\":{},"
                                                          "\"sms\":{\"window_ms\":\"x\"},\"webchat\":7,"
                                                          "\"generic\":{\"max_wait_ms\":700}}"),
                      0);
    sched_tenants_get(t, 1, LULL_CH_TIKTOK, &w, &m);
    LULL_CHECK_EQ_INT(w, 500);
    sched_tenants_get(t, 1, LULL_CH_SMS, &w, &m);
    LULL_CHECK_EQ_INT(w, 500);
    sched_tenants_get(t, 1, LULL_CH_GENERIC, &w, &m);
    LULL_CHECK_EQ_INT(m, 700);
    LULL_CHECK_EQ_INT(sched_tenants_set(t, 2, 500, 600, "not json"), 0);
    sched_tenants_get(t, 2, LULL_CH_SMS, &w, &m);
    LULL_CHECK_EQ_INT(w, 500);
    LULL_CHECK_EQ_INT(sched_tenants_set(t, 3, 1LL << 40, -1, NULL), 0);  // clamped to [0, 1 day]
    sched_tenants_get(t, 3, LULL_CH_SMS, &w, &m);
    LULL_CHECK_EQ_INT(w, 86400000);
    LULL_CHECK_EQ_INT(m, 0);
    sched_tenants_destroy(&t);
}

LULL_TEST(load_from_the_database)
{
    const char *url = getenv("LULL_TEST_DATABASE_URL");
    LULL_CHECK(url != NULL);
    if (!url) return;
    lull_db_t *db = lull_db_new(url);
    LULL_CHECK(db != NULL && lull_db_connected(db));
    char slug[64];
    snprintf(slug, sizeof slug, "sched_tenants_%d", (int)getpid());
    const char *p[1] = {slug};
    PGresult *r = lull_db_exec(db,
                               "INSERT INTO tenants (slug, window_ms, max_wait_ms, channel_windows) VALUES ($1, 111, "
                               "222, '{\"whatsapp\":{\"window_ms\":33}}') RETURNING id",
                               1, p);
    LULL_CHECK(r != NULL);
    if (!r) {
        lull_db_destroy(&db);
        return;
    }
    int64_t id = lull_db_int(r, 0, 0, NULL);
    PQclear(r);
    sched_tenants_t *t = sched_tenants_new(30000, 120000);
    LULL_CHECK_EQ_INT(sched_tenants_load_one(t, db, id), 0);
    LULL_CHECK_EQ_INT(sched_tenants_load_one(t, db, 987654321), 1);
    int64_t w, m;
    sched_tenants_get(t, id, LULL_CH_WHATSAPP, &w, &m);
    LULL_CHECK_EQ_INT(w, 33);
    LULL_CHECK_EQ_INT(m, 222);
    sched_tenants_destroy(&t);
    t = sched_tenants_new(30000, 120000);
    LULL_CHECK_EQ_INT(sched_tenants_load(t, db), 0);
    sched_tenants_get(t, id, LULL_CH_SMS, &w, &m);
    LULL_CHECK_EQ_INT(w, 111);
    LULL_CHECK(sched_tenants_count(t) >= 1);
    LULL_CHECK_EQ_INT(lull_db_run(db, "DELETE FROM tenants WHERE slug = $1", 1, p, NULL), 0);
    sched_tenants_destroy(&t);
    lull_db_destroy(&db);
}

int main(void)
{
    lull_log_set_level(LULL_LOG_ERROR);  // the invalid-override warnings are expected
    LULL_RUN(channel_overrides_and_defaults);
    LULL_RUN(invalid_overrides_are_skipped);
    LULL_RUN(load_from_the_database);
    return lull_test_summary();
}
