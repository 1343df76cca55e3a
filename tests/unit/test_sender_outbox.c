// Unit tests of the sender's outbox SQL and dead-letter functions against the real test database
// (LULL_TEST_DATABASE_URL): claim with a lease, SKIP LOCKED between owners, batch results with awkward
// error text, the lease guard, release (not an attempt), list / replay / replay all.
#include "lull_test.h"
#include "lull_db.h"
#include "lull_log.h"
#include "lull_dead.h"
#include "../../sender/sender_outbox.h"

#include <libpq-fe.h>
#include <stdlib.h>

static lull_db_t *s_db;

static int64_t s_scalar(const char *sql)
{
    PGresult *r = lull_db_exec(s_db, sql, 0, NULL);
    int64_t v = r && PQntuples(r) == 1 ? lull_db_int(r, 0, 0, NULL) : -1;
    PQclear(r);
    return v;
}

static char *s_text(const char *sql)
{
    PGresult *r = lull_db_exec(s_db, sql, 0, NULL);
    char *v = r && PQntuples(r) == 1 && lull_db_text(r, 0, 0) ? strdup(lull_db_text(r, 0, 0)) : NULL;
    PQclear(r);
    return v;
}

static void s_reset(int n)
{
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "DELETE FROM outbox WHERE idempotency_key LIKE 'unit_sender_%'", 0, NULL, NULL), 0);
    char sn[16];
    snprintf(sn, sizeof sn, "%d", n);
    const char *p[] = {sn};
    LULL_CHECK_EQ_INT(lull_db_run(s_db,
                                  "INSERT INTO outbox (tenant_id, channel, recipient, payload, idempotency_key)"
                                  " SELECT 1, 'generic', 'c' || g, '{\"body\":\"x\"}', 'unit_sender_' || g"
                                  " FROM generate_series(1, $1::int) g",
                                  1, p, NULL),
                      0);
}

LULL_TEST(claim_sets_the_lease_and_skips_locked_rows)
{
    s_reset(5);
    PGresult *a = sender_outbox_claim(s_db, 3, 60000, "owner-a");
    LULL_CHECK(a != NULL);
    LULL_CHECK_EQ_INT(a ? PQntuples(a) : -1, 3);
    LULL_CHECK_EQ_INT(a ? lull_db_int(a, 0, SO_ATTEMPTS, NULL) : -1, 1);
    LULL_CHECK_EQ_STR(a ? lull_db_text(a, 0, SO_IDEM_KEY) : NULL, "unit_sender_1");
    PQclear(a);
    LULL_CHECK_EQ_INT(s_scalar("SELECT count(*) FROM outbox WHERE lease_owner = 'owner-a' AND status = 'sending'"
                               " AND next_attempt_at = lease_until AND lease_until > now() + interval '50 s'"),
                      3);
    PGresult *b = sender_outbox_claim(s_db, 10, 60000, "owner-b");
    LULL_CHECK_EQ_INT(b ? PQntuples(b) : -1, 2);  // the other three are leased
    PQclear(b);
    // An expired lease is claimed again, as a new attempt.
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "UPDATE outbox SET next_attempt_at = now() - interval '1 s', lease_until = now()"
                                        " - interval '1 s' WHERE lease_owner = 'owner-a'", 0, NULL, NULL), 0);
    PGresult *c = sender_outbox_claim(s_db, 10, 60000, "owner-c");
    LULL_CHECK_EQ_INT(c ? PQntuples(c) : -1, 3);
    LULL_CHECK_EQ_INT(c ? lull_db_int(c, 0, SO_ATTEMPTS, NULL) : -1, 2);
    PQclear(c);
}

static const char *AWKWARD = "HTTP 400: a \"quoted\", {braced} \\ back, NULL";

// One result of each kind for ids[0..3]: sent, dead (awkward error text), retry in 5 s, release.
static void s_add_all(sender_results_t *r, const int64_t id[4])
{
    LULL_CHECK_EQ_INT(sender_results_add(r, id[0], SENDER_REC_SENT, 0, 201, NULL, "SMabc"), 0);
    LULL_CHECK_EQ_INT(sender_results_add(r, id[1], SENDER_REC_DEAD, 0, 400, AWKWARD, NULL), 0);
    LULL_CHECK_EQ_INT(sender_results_add(r, id[2], SENDER_REC_RETRY, 5000, 503, "unknown outcome: HTTP 503", NULL), 0);
    LULL_CHECK_EQ_INT(sender_results_add(r, id[3], SENDER_REC_RELEASE, 2000, -1, NULL, NULL), 0);
}

LULL_TEST(results_are_guarded_by_the_lease)
{
    s_reset(4);
    PGresult *a = sender_outbox_claim(s_db, 4, 60000, "owner-a");
    int64_t id[4];
    for (int i = 0; i < 4; i++) id[i] = a ? lull_db_int(a, i, SO_ID, NULL) : 0;
    PQclear(a);
    sender_results_t *r = sender_results_new();
    s_add_all(r, id);
    int64_t applied = -1;
    LULL_CHECK_EQ_INT(sender_results_flush(r, s_db, "owner-b", &applied), 0);  // not the owner: dropped
    LULL_CHECK_EQ_INT(applied, 0);
    LULL_CHECK_EQ_INT(sender_results_count(r), 0);
    s_add_all(r, id);
    LULL_CHECK_EQ_INT(sender_results_flush(r, s_db, "owner-a", &applied), 0);
    LULL_CHECK_EQ_INT(applied, 4);
    LULL_CHECK_EQ_INT(sender_results_count(r), 0);
    char q[256];
    snprintf(q, sizeof q, "SELECT status || '|' || provider_message_id || '|' || last_status || '|' || (sent_at IS NOT NULL) FROM outbox WHERE id = %lld", (long long)id[0]);
    char *t = s_text(q);
    LULL_CHECK_EQ_STR(t, "sent|SMabc|201|true");
    free(t);
    snprintf(q, sizeof q, "SELECT status || '|' || last_error FROM outbox WHERE id = %lld", (long long)id[1]);
    t = s_text(q);
    LULL_CHECK_EQ_STR(t, "dead|HTTP 400: a \"quoted\", {braced} \\ back, NULL");
    free(t);
    snprintf(q, sizeof q, "SELECT status || '|' || (next_attempt_at > now() + interval '4 s') || '|' || (lease_owner IS NULL) FROM outbox WHERE id = %lld", (long long)id[2]);
    t = s_text(q);
    LULL_CHECK_EQ_STR(t, "retry|true|true");
    free(t);
    snprintf(q, sizeof q, "SELECT status || '|' || attempts FROM outbox WHERE id = %lld", (long long)id[3]);
    t = s_text(q);
    LULL_CHECK_EQ_STR(t, "pending|0");  // a release is not an attempt
    free(t);
    sender_results_destroy(&r);
    LULL_CHECK(r == NULL);
}

LULL_TEST(dead_letters_list_and_replay)
{
    s_reset(3);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "UPDATE outbox SET status = 'dead', attempts = 6, last_error = 'x'"
                                        " WHERE idempotency_key IN ('unit_sender_1', 'unit_sender_2')", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "UPDATE outbox SET status = 'unknown', channel = 'sms'"
                                        " WHERE idempotency_key = 'unit_sender_3'", 0, NULL, NULL), 0);
    lull_dead_filter_t f = {.channel = "generic", .limit = 10};
    char *list = lull_dead_list(s_db, &f);
    LULL_CHECK(list && strstr(list, "unit_sender_1") && strstr(list, "unit_sender_2") && !strstr(list, "unit_sender_3"));
    free(list);
    int64_t id2 = s_scalar("SELECT id FROM outbox WHERE idempotency_key = 'unit_sender_2'");
    lull_dead_filter_t page = {.channel = "generic", .limit = 10, .before_id = id2};  // keyset: ids below id2 only
    list = lull_dead_list(s_db, &page);
    LULL_CHECK(list && !strstr(list, "unit_sender_2") && strstr(list, "unit_sender_1"));
    free(list);
    lull_dead_filter_t bad = {.tenant_id = -1};
    LULL_CHECK(lull_dead_list(s_db, &bad) == NULL);
    int64_t id = s_scalar("SELECT id FROM outbox WHERE idempotency_key = 'unit_sender_1'");
    LULL_CHECK_EQ_INT(lull_dead_replay(s_db, id), 1);
    LULL_CHECK_EQ_INT(lull_dead_replay(s_db, id), 0);  // no longer dead
    LULL_CHECK_EQ_INT(s_scalar("SELECT attempts FROM outbox WHERE idempotency_key = 'unit_sender_1' AND status = 'pending'"), 0);
    lull_dead_filter_t all = {.tenant_id = 1};
    LULL_CHECK_EQ_INT(lull_dead_replay_all(s_db, &all), 2);
    LULL_CHECK_EQ_INT(s_scalar("SELECT count(*) FROM outbox WHERE idempotency_key LIKE 'unit_sender_%' AND status = 'pending'"), 3);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "DELETE FROM outbox WHERE idempotency_key LIKE 'unit_sender_%'", 0, NULL, NULL), 0);
}

int main(void)
{
    const char *url = getenv("LULL_TEST_DATABASE_URL");
    if (!url) {
        printf("FAIL setup: LULL_TEST_DATABASE_URL is not set (run through tests/run)\n");
        return 1;
    }
    lull_log_set_level(LULL_LOG_ERROR);
    s_db = lull_db_new(url);
    if (!s_db || !lull_db_connected(s_db)) {
        printf("FAIL setup: cannot connect\n");
        lull_db_destroy(&s_db);
        return 1;
    }
    LULL_RUN(claim_sets_the_lease_and_skips_locked_rows);
    LULL_RUN(results_are_guarded_by_the_lease);
    LULL_RUN(dead_letters_list_and_replay);
    lull_db_destroy(&s_db);
    return lull_test_summary();
}
