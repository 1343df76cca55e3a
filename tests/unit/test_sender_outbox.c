// Unit tests of the sender's outbox SQL and dead-letter functions against the real test database
// (LULL_TEST_DATABASE_URL): claim with a lease, SKIP LOCKED between owners, batch results with awkward
// error text, the lease guard, release (not an attempt), list / replay / replay all; the claim cancels a bot
// reply a person answered over (never a person's reply or an escalation), and the conversation.escalated body;
// an in-memory retry's resume (a read: nothing written, the attempts made in memory written with the result; lease kept, lease guard, a bot reply answered over cancelled) and
// the held deliveries' heap; queued results written with a resume or a claim (both or neither); under statistics that say the due index is almost empty, the claim reads only the
// rows it takes and the statements by id reach their rows by primary key.
#include "lull_test.h"
#include "lull_db.h"
#include "lull_log.h"
#include "lull_loop.h"
#include "lull_dead.h"
#include "../../sender/sender_event.h"
#include "../../sender/sender_hold.h"
#include "../../sender/sender_outbox.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

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
    PGresult *a = sender_outbox_claim(s_db, 3, 60000, "owner-a", NULL, NULL);
    LULL_CHECK(a != NULL);
    LULL_CHECK_EQ_INT(a ? PQntuples(a) : -1, 3);
    LULL_CHECK_EQ_INT(a ? lull_db_int(a, 0, SO_ATTEMPTS, NULL) : -1, 1);
    LULL_CHECK_EQ_STR(a ? lull_db_text(a, 0, SO_IDEM_KEY) : NULL, "unit_sender_1");
    PQclear(a);
    LULL_CHECK_EQ_INT(s_scalar("SELECT count(*) FROM outbox WHERE lease_owner = 'owner-a' AND status = 'sending'"
                               " AND next_attempt_at = lease_until AND lease_until > now() + interval '50 s'"),
                      3);
    PGresult *b = sender_outbox_claim(s_db, 10, 60000, "owner-b", NULL, NULL);
    LULL_CHECK_EQ_INT(b ? PQntuples(b) : -1, 2);  // the other three are leased
    PQclear(b);
    // An expired lease is claimed again, as a new attempt.
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "UPDATE outbox SET next_attempt_at = now() - interval '1 s', lease_until = now()"
                                        " - interval '1 s' WHERE lease_owner = 'owner-a'", 0, NULL, NULL), 0);
    PGresult *c = sender_outbox_claim(s_db, 10, 60000, "owner-c", NULL, NULL);
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
    PGresult *a = sender_outbox_claim(s_db, 4, 60000, "owner-a", NULL, NULL);
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

// Three conversations of a unit contact each: a bot reply followed by a person's message (cancelled), a bot
// reply in a paused conversation (cancelled), a bot reply after an older person's message (sent); plus the
// person's reply and an escalation row (never cancelled).
static const char s_person_fixture[] =
    "WITH k AS (INSERT INTO contacts (tenant_id, channel, external_id, first_name)"
    "  SELECT 1, 'generic', 'unit_person_' || g, 'Una' FROM generate_series(1, 3) g RETURNING id, external_id),"
    " v AS (INSERT INTO conversations (tenant_id, contact_id, channel, paused_until)"
    "  SELECT 1, k.id, 'generic', CASE WHEN k.external_id = 'unit_person_2' THEN now() + interval '1 hour' END FROM k"
    "  RETURNING id, contact_id)"
    " SELECT 1 FROM v";

static int64_t s_msg(const char *who, const char *author)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, body)"
             " SELECT v.id, 1, 'generic', 'out', '%s', 'x' FROM conversations v JOIN contacts k ON k.id = v.contact_id"
             " WHERE k.external_id = 'unit_person_%s' RETURNING id", author, who);
    return s_scalar(sql);
}

static void s_out(int64_t mid, const char *kind, const char *key)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO outbox (tenant_id, conversation_id, message_id, channel, recipient, payload, idempotency_key)"
             " SELECT 1, conversation_id, id, 'generic', 'r', jsonb_build_object('body', 'x', 'kind', '%s'), '%s'"
             " FROM messages WHERE id = %lld", kind, key, (long long)mid);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, sql, 0, NULL, NULL), 0);
}

LULL_TEST(claim_cancels_bot_replies_a_person_answered_over)
{
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "DELETE FROM contacts WHERE external_id LIKE 'unit_person_%'", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, s_person_fixture, 0, NULL, NULL), 0);
    s_out(s_msg("1", "bot"), "reply", "unit_person_bot1");
    int64_t human = s_msg("1", "human");
    s_out(human, "human", "unit_person_human1");
    s_out(s_msg("2", "bot"), "reply", "unit_person_bot2");
    s_msg("3", "human");
    s_out(s_msg("3", "bot"), "reply", "unit_person_bot3");
    LULL_CHECK_EQ_INT(lull_db_run(s_db,
                                  "INSERT INTO escalations (conversation_id, tenant_id, reason, source) SELECT v.id, 1,"
                                  " 'keyword: manager', 'keyword' FROM conversations v JOIN contacts k ON k.id = v.contact_id"
                                  " WHERE k.external_id = 'unit_person_2'",
                                  0, NULL, NULL),
                      0);
    LULL_CHECK_EQ_INT(lull_db_run(s_db,
                                  "INSERT INTO outbox (tenant_id, conversation_id, channel, recipient, payload, idempotency_key)"
                                  " SELECT 1, e.conversation_id, 'generic', 'https://cb.example/x', jsonb_build_object("
                                  " 'kind', 'escalation', 'body', e.reason, 'conversation_id', e.conversation_id,"
                                  " 'escalation_id', e.id, 'source', e.source), 'unit_person_esc' FROM escalations e"
                                  " JOIN conversations v ON v.id = e.conversation_id JOIN contacts k ON k.id = v.contact_id"
                                  " WHERE k.external_id = 'unit_person_2'",
                                  0, NULL, NULL),
                      0);
    PGresult *r = sender_outbox_claim(s_db, 100, 60000, "owner-p", NULL, NULL);
    LULL_CHECK(r != NULL);
    int cancelled = 0, claimed = 0;
    for (int i = 0; r && i < PQntuples(r); i++) {
        bool c = sender_outbox_row_cancelled(r, i);
        const char *key = lull_db_text(r, i, SO_IDEM_KEY);
        if (c) cancelled++;
        else claimed++;
        if (strcmp(key, "unit_person_bot1") == 0 || strcmp(key, "unit_person_bot2") == 0) LULL_CHECK(c);
        else LULL_CHECK(!c);
        if (strcmp(key, "unit_person_esc") == 0) {
            cJSON *ev = sender_event_escalated(r, i, "https://console.example/");
            char *t = ev ? cJSON_PrintUnformatted(ev) : NULL;
            LULL_CHECK(t && strstr(t, "\"type\":\"conversation.escalated\""));
            LULL_CHECK(t && strstr(t, "\"external_id\":\"unit_person_2\""));
            LULL_CHECK(t && strstr(t, "\"reason\":\"keyword: manager\",\"source\":\"keyword\""));
            LULL_CHECK(t && strstr(t, "\"channel\":\"generic\""));
            LULL_CHECK(t && strstr(t, "\"inbox_url\":\"https://console.example/inbox#/conversations/"));
            LULL_CHECK(t && !strstr(t, "cb.example"));  // the callback URL is not the contact
            free(t);
            cJSON_Delete(ev);
            ev = sender_event_escalated(r, i, "");
            t = ev ? cJSON_PrintUnformatted(ev) : NULL;
            LULL_CHECK(t && !strstr(t, "inbox_url"));
            free(t);
            cJSON_Delete(ev);
        }
    }
    PQclear(r);
    LULL_CHECK_EQ_INT(cancelled, 2);
    LULL_CHECK_EQ_INT(claimed, 3);
    char *st = s_text("SELECT string_agg(idempotency_key || ':' || status || ':' || coalesce(cancel_reason, '') || ':'"
                      " || attempts, ' ' ORDER BY idempotency_key) FROM outbox WHERE idempotency_key LIKE 'unit_person_%'");
    LULL_CHECK_EQ_STR(st, "unit_person_bot1:cancelled:superseded_by_person:0 unit_person_bot2:cancelled:superseded_by_person:0"
                          " unit_person_bot3:sending::1 unit_person_esc:sending::1 unit_person_human1:sending::1");
    free(st);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "DELETE FROM contacts WHERE external_id LIKE 'unit_person_%'", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(s_scalar("SELECT count(*) FROM outbox WHERE idempotency_key LIKE 'unit_person_%'"), 0);
}

typedef struct {
    int go;
    int attempts;
    int64_t id;
} s_resumed_t;

static void s_on_resume(sender_held_t *h, int attempts, void *arg)
{
    s_resumed_t *r = arg;
    r->go++;
    r->attempts = attempts;
    r->id = h->id;
    free(h->job);
}

static sender_held_t *s_held(int64_t id, int64_t due, int64_t lease_end, long status)
{
    sender_held_t *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    *h = (sender_held_t){.id = id, .due_ms = due, .lease_end_ms = lease_end, .fail_status = status, .job = h};
    return h;
}

static void s_noop(void *arg) { (void)arg; }

// What the sender's pump does with due retries and nothing to claim: take them, start them in one statement
// (with the results of first), end the batch. How many were taken, or -1 on a database error.
static int s_hold_resume(sender_hold_t *hold, const char *owner, int64_t now, int64_t margin, size_t max,
                         int64_t retry_ms, sender_results_t *results, s_resumed_t *r, sender_results_t *first,
                         sender_flushed_t *f)
{
    sender_resume_t in;
    int taken = (int)sender_hold_take(hold, now, margin, max, results, &in);
    if (in.n == 0) return taken;
    PGresult *res = NULL;
    int rc = sender_outbox_pump(s_db, owner, first, &in, 0, 0, &res, NULL, f);
    sender_hold_started(hold, rc == 0 ? res : NULL, now, retry_ms, results, NULL, s_on_resume, r);
    PQclear(res);
    return rc == 0 && res ? taken : -1;
}

LULL_TEST(resume_writes_nothing_keeps_the_lease_and_cancels_answered_bot_replies)
{
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "DELETE FROM contacts WHERE external_id LIKE 'unit_person_%'", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "DELETE FROM outbox WHERE lease_owner IS NOT NULL OR status IN ('pending','retry')",
                                  0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, s_person_fixture, 0, NULL, NULL), 0);
    s_reset(3);
    s_out(s_msg("3", "bot"), "reply", "unit_person_bot3");
    PGresult *c = sender_outbox_claim(s_db, 10, 60000, "owner-r", NULL, NULL);
    LULL_CHECK_EQ_INT(c ? PQntuples(c) : -1, 4);
    PQclear(c);
    int64_t id1 = s_scalar("SELECT id FROM outbox WHERE idempotency_key = 'unit_sender_1'");
    int64_t id2 = s_scalar("SELECT id FROM outbox WHERE idempotency_key = 'unit_sender_2'");
    int64_t id3 = s_scalar("SELECT id FROM outbox WHERE idempotency_key = 'unit_sender_3'");
    int64_t bot = s_scalar("SELECT id FROM outbox WHERE idempotency_key = 'unit_person_bot3'");
    s_msg("3", "human");  // a person answered over the bot reply while its retry waited
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "UPDATE outbox SET lease_owner = 'owner-x' WHERE idempotency_key = 'unit_sender_2'",
                                  0, NULL, NULL), 0);
    // The held deliveries come out in due order; only the due ones; one too close to its lease's end expires.
    lull_loop_t *loop = lull_loop_new();
    sender_hold_t *hold = sender_hold_new(loop, 8, s_noop, NULL);
    LULL_CHECK(hold != NULL);
    if (!hold) return;
    sender_held_t *h[5] = {
        s_held(bot, 30, 100000, 500),   // a person answered over it: cancelled (after two attempts: one in memory)
        s_held(id1, 10, 100000, 503),   // goes on
        s_held(id2, 20, 100000, 429),   // another owner holds it now: dropped
        s_held(id3, 40, 1000, 503),     // its lease ends within the margin: back to the queue
        s_held(id3, 5000, 100000, 503), // not due yet
    };
    snprintf(h[1]->fail_error, sizeof h[1]->fail_error, "unknown outcome: HTTP 503: %s", AWKWARD);
    if (h[0]) h[0]->unwritten = 1;
    if (h[3]) h[3]->unwritten = 2;  // attempts 2 and 3 made in memory
    if (h[4]) h[4]->unwritten = 2;
    for (int i = 0; i < 5; i++) LULL_CHECK_EQ_INT(h[i] ? sender_hold_push(hold, h[i]) : -1, 0);
    LULL_CHECK_EQ_INT(sender_hold_count(hold), 5);
    s_resumed_t r = {0};
    sender_results_t *res = sender_results_new();
    LULL_CHECK_EQ_INT(s_hold_resume(hold, "owner-r", 100, 5000, 100, 50, res, &r, NULL, NULL), 4);
    LULL_CHECK_EQ_INT(sender_hold_count(hold), 1);  // due at 5000: not yet
    LULL_CHECK_EQ_INT(r.go, 1);
    LULL_CHECK_EQ_INT(r.id, id1);
    LULL_CHECK_EQ_INT(r.attempts, 2);                 // its second attempt, counted once its result is written
    LULL_CHECK_EQ_INT(sender_results_count(res), 1);  // the expired one, as a retry due now
    LULL_CHECK_EQ_INT(sender_hold_hand_back(hold, res, 100), 1);  // the one not due yet, at shutdown
    LULL_CHECK_EQ_INT(sender_hold_count(hold), 0);
    LULL_CHECK_EQ_INT(sender_results_count(res), 2);
    // The resume wrote nothing for the row that goes on: the claim's count, its lease, its status.
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT status || '|' || attempts || '|' || coalesce(last_status, 0) || '|' || (last_error IS NULL) || '|' ||"
             " (lease_until > now() + interval '50 s' AND next_attempt_at = lease_until) FROM outbox WHERE id = %lld",
             (long long)id1);
    char *t = s_text(sql);
    LULL_CHECK_EQ_STR(t, "sending|1|0|true|true");
    free(t);
    // Both results for id3 (back to the queue) carry the two attempts made in memory: 1 + 2.
    int64_t applied = 0;
    LULL_CHECK_EQ_INT(sender_results_flush(res, s_db, "owner-r", &applied), 0);
    LULL_CHECK_EQ_INT(applied, 1);
    LULL_CHECK_EQ_INT(s_scalar("SELECT attempts FROM outbox WHERE idempotency_key = 'unit_sender_3' AND status = 'retry'"), 3);
    // Its result, once the retry in memory succeeded: the attempt made in memory and the failure it follows.
    char fail[256];
    snprintf(fail, sizeof fail, "unknown outcome: HTTP 503: %s", AWKWARD);
    LULL_CHECK_EQ_INT(sender_results_add_n(res, id1, SENDER_REC_SENT, 0, 200, fail, "p1", 1), 0);
    LULL_CHECK_EQ_INT(sender_results_flush(res, s_db, "owner-r", &applied), 0);
    LULL_CHECK_EQ_INT(applied, 1);
    sender_results_destroy(&res);
    sender_hold_destroy(&hold);
    lull_loop_destroy(&loop);
    snprintf(sql, sizeof sql,
             "SELECT status || '|' || attempts || '|' || last_status || '|' || last_error || '|' ||"
             " (lease_owner IS NULL) FROM outbox WHERE id = %lld", (long long)id1);
    t = s_text(sql);
    char want[256];
    snprintf(want, sizeof want, "sent|2|200|unknown outcome: HTTP 503: %s|true", AWKWARD);
    LULL_CHECK_EQ_STR(t, want);
    free(t);
    t = s_text("SELECT status || '|' || attempts || '|' || lease_owner FROM outbox WHERE idempotency_key = 'unit_sender_2'");
    LULL_CHECK_EQ_STR(t, "sending|1|owner-x");  // untouched
    free(t);
    t = s_text("SELECT status || '|' || attempts || '|' || cancel_reason || '|' || (lease_owner IS NULL)"
               " FROM outbox WHERE idempotency_key = 'unit_person_bot3'");
    LULL_CHECK_EQ_STR(t, "cancelled|2|superseded_by_person|true");  // the attempt made in memory counted
    free(t);
    t = s_text("SELECT last_status FROM outbox WHERE idempotency_key = 'unit_person_bot3'");
    LULL_CHECK_EQ_STR(t, "500");
    free(t);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "DELETE FROM contacts WHERE external_id LIKE 'unit_person_%'", 0, NULL, NULL), 0);
}

// Results queued when held retries come due are written with their resume, else with the claim, in one transaction:
// both or neither.
LULL_TEST(results_go_with_the_resume_or_the_claim_both_or_neither)
{
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "DELETE FROM outbox", 0, NULL, NULL), 0);
    s_reset(3);
    PGresult *c = sender_outbox_claim(s_db, 10, 60000, "owner-f", NULL, NULL);
    LULL_CHECK_EQ_INT(c ? PQntuples(c) : -1, 3);
    PQclear(c);
    int64_t id[3];
    for (int i = 0; i < 3; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT id FROM outbox WHERE idempotency_key = 'unit_sender_%d'", i + 1);
        id[i] = s_scalar(sql);
    }
    lull_loop_t *loop = lull_loop_new();
    sender_hold_t *hold = sender_hold_new(loop, 8, s_noop, NULL);
    sender_results_t *res = sender_results_new();
    LULL_CHECK(hold != NULL && res != NULL);
    if (!hold || !res) return;
    // A result the database refuses (not UTF-8): the batch fails, nothing is written, both are kept.
    LULL_CHECK_EQ_INT(sender_results_add(res, id[0], SENDER_REC_SENT, 0, 200, "bad \xff text", "p1"), 0);
    LULL_CHECK_EQ_INT(sender_hold_push(hold, s_held(id[2], 10, 100000, 503)), 0);
    s_resumed_t r = {0};
    sender_flushed_t f = {0};
    LULL_CHECK_EQ_INT(s_hold_resume(hold, "owner-f", 100, 5000, 10, 50, res, &r, res, &f), -1);
    LULL_CHECK_EQ_INT(r.go, 0);
    LULL_CHECK_EQ_INT((int64_t)f.queued, 0);
    LULL_CHECK_EQ_INT(sender_results_count(res), 1);
    LULL_CHECK_EQ_INT(sender_hold_count(hold), 1);  // held again
    LULL_CHECK_EQ_INT(s_scalar("SELECT count(*) FROM outbox WHERE lease_owner = 'owner-f' AND status = 'sending'"
                               " AND attempts = 1"), 3);
    sender_results_destroy(&res);
    res = sender_results_new();
    LULL_CHECK_EQ_INT(sender_results_add(res, id[0], SENDER_REC_SENT, 0, 200, NULL, "p1"), 0);
    LULL_CHECK_EQ_INT(sender_results_add(res, id[1], SENDER_REC_RETRY, 0, 429, "rate limited", NULL), 0);
    LULL_CHECK_EQ_INT(s_hold_resume(hold, "owner-f", 200, 5000, 10, 50, res, &r, res, &f), 1);
    LULL_CHECK_EQ_INT(r.go, 1);
    LULL_CHECK_EQ_INT(r.attempts, 2);
    LULL_CHECK_EQ_INT((int64_t)f.queued, 2);
    LULL_CHECK_EQ_INT(f.applied, 2);
    LULL_CHECK_EQ_INT(sender_results_count(res), 0);
    char *t = s_text("SELECT string_agg(idempotency_key || ':' || status || ':' || attempts || ':' || coalesce(last_status, 0),"
                     " ' ' ORDER BY id) FROM outbox WHERE idempotency_key LIKE 'unit_sender_%'");
    LULL_CHECK_EQ_STR(t, "unit_sender_1:sent:1:200 unit_sender_2:retry:1:429 unit_sender_3:sending:1:0");  // resume: read only
    free(t);
    // And with the claim: the queued result is written, the new rows claimed, in one transaction.
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "UPDATE outbox SET next_attempt_at = now() + interval '1 hour'"
                                        " WHERE idempotency_key = 'unit_sender_2'", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "INSERT INTO outbox (tenant_id, channel, recipient, payload, idempotency_key)"
                                        " SELECT 1, 'generic', 'c', '{}', 'unit_sender_b' || g FROM generate_series(1, 2) g",
                                  0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(sender_results_add_n(res, id[2], SENDER_REC_SENT, 0, 200, NULL, "p3", 1), 0);  // + the one in memory
    c = sender_outbox_claim(s_db, 10, 60000, "owner-f", res, &f);
    LULL_CHECK_EQ_INT(c ? PQntuples(c) : -1, 2);
    PQclear(c);
    LULL_CHECK_EQ_INT((int64_t)f.queued, 1);
    LULL_CHECK_EQ_INT(f.applied, 1);
    LULL_CHECK_EQ_INT(sender_results_count(res), 0);
    t = s_text("SELECT string_agg(idempotency_key || ':' || status || ':' || attempts, ' ' ORDER BY id) FROM outbox"
               " WHERE idempotency_key LIKE 'unit_sender_%'");
    LULL_CHECK_EQ_STR(t, "unit_sender_1:sent:1 unit_sender_2:retry:1 unit_sender_3:sent:2 unit_sender_b1:sending:1"
                         " unit_sender_b2:sending:1");
    free(t);
    // A refused result: neither it nor the claim.
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "INSERT INTO outbox (tenant_id, channel, recipient, payload, idempotency_key)"
                                        " VALUES (1, 'generic', 'c', '{}', 'unit_sender_b3')", 0, NULL, NULL), 0);
    int64_t b1 = s_scalar("SELECT id FROM outbox WHERE idempotency_key = 'unit_sender_b1'");
    LULL_CHECK_EQ_INT(sender_results_add(res, b1, SENDER_REC_SENT, 0, 200, "bad \xff text", NULL), 0);
    LULL_CHECK(sender_outbox_claim(s_db, 10, 60000, "owner-f", res, &f) == NULL);
    LULL_CHECK_EQ_INT(sender_results_count(res), 1);
    LULL_CHECK_EQ_INT(s_scalar("SELECT count(*) FROM outbox WHERE status = 'pending' AND idempotency_key = 'unit_sender_b3'"), 1);
    LULL_CHECK_EQ_INT(s_scalar("SELECT count(*) FROM outbox WHERE status = 'sending' AND idempotency_key = 'unit_sender_b1'"), 1);
    sender_results_destroy(&res);
    sender_hold_destroy(&hold);
    lull_loop_destroy(&loop);
}

// A pump with queued results, retries held in memory that came due and new rows due writes the results, starts the
// retries and claims the new rows in one transaction (one commit, one round trip): every row it wrote has the
// same xmin, and the retried row is not written. The claim does not take the rows being retried. A refused result:
// none of the three is done.
LULL_TEST(a_pump_with_results_due_retries_and_new_rows_is_one_transaction)
{
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "DELETE FROM outbox", 0, NULL, NULL), 0);
    s_reset(2);
    PGresult *c = sender_outbox_claim(s_db, 10, 60000, "owner-p", NULL, NULL);
    LULL_CHECK_EQ_INT(c ? PQntuples(c) : -1, 2);
    PQclear(c);
    int64_t id1 = s_scalar("SELECT id FROM outbox WHERE idempotency_key = 'unit_sender_1'");
    int64_t id2 = s_scalar("SELECT id FROM outbox WHERE idempotency_key = 'unit_sender_2'");
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "INSERT INTO outbox (tenant_id, channel, recipient, payload, idempotency_key)"
                                        " SELECT 1, 'generic', 'c', '{}', 'unit_sender_n' || g FROM generate_series(1, 3) g",
                                  0, NULL, NULL), 0);
    char *x2 = s_text("SELECT xmin::text FROM outbox WHERE idempotency_key = 'unit_sender_2'");
    lull_loop_t *loop = lull_loop_new();
    sender_hold_t *hold = sender_hold_new(loop, 8, s_noop, NULL);
    sender_results_t *res = sender_results_new();
    LULL_CHECK(hold != NULL && res != NULL);
    if (!hold || !res) return;
    for (int pass = 0; pass < 2; pass++) {  // first with a result the database refuses (not UTF-8), then a good one
        LULL_CHECK_EQ_INT(sender_results_add(res, id1, SENDER_REC_SENT, 0, 200, pass ? NULL : "bad \xff text", "p1"), 0);
        LULL_CHECK_EQ_INT(sender_hold_push(hold, s_held(id2, 10, 100000, 503)), 0);
        sender_resume_t in;
        LULL_CHECK_EQ_INT((int64_t)sender_hold_take(hold, 100, 5000, 10, res, &in), 1);
        LULL_CHECK_EQ_INT((int64_t)in.n, 1);
        PGresult *rres = NULL, *cres = NULL;
        sender_flushed_t f = {0};
        int rc = sender_outbox_pump(s_db, "owner-p", res, &in, 10, 60000, &rres, &cres, &f);
        s_resumed_t r = {0};
        sender_hold_started(hold, rc == 0 ? rres : NULL, 100, 50, res, NULL, s_on_resume, &r);
        if (pass == 0) {
            LULL_CHECK_EQ_INT(rc, -1);
            LULL_CHECK(rres == NULL && cres == NULL);
            LULL_CHECK_EQ_INT(r.go, 0);
            LULL_CHECK_EQ_INT(sender_hold_count(hold), 1);  // held again …
            LULL_CHECK_EQ_INT(sender_hold_hand_back(hold, res, 100), 1);  // (let go of here)
            sender_results_destroy(&res);
            res = sender_results_new();
            LULL_CHECK_EQ_INT(s_scalar("SELECT count(*) FROM outbox WHERE status = 'pending'"), 3);  // … nothing claimed
            LULL_CHECK_EQ_INT(s_scalar("SELECT count(*) FROM outbox WHERE status = 'sending' AND attempts = 1"), 2);
            continue;
        }
        LULL_CHECK_EQ_INT(rc, 0);
        LULL_CHECK_EQ_INT(r.go, 1);
        LULL_CHECK_EQ_INT(r.attempts, 2);
        LULL_CHECK_EQ_INT((int64_t)f.queued, 1);
        LULL_CHECK_EQ_INT(f.applied, 1);
        LULL_CHECK_EQ_INT(cres ? PQntuples(cres) : -1, 3);  // the new rows, not the one being retried
        PQclear(rres);
        PQclear(cres);
    }
    char *t = s_text("SELECT string_agg(idempotency_key || ':' || status || ':' || attempts, ' ' ORDER BY id) FROM outbox");
    LULL_CHECK_EQ_STR(t, "unit_sender_1:sent:1 unit_sender_2:sending:1 unit_sender_n1:sending:1 unit_sender_n2:sending:1"
                         " unit_sender_n3:sending:1");
    free(t);
    LULL_CHECK_EQ_INT(s_scalar("SELECT count(DISTINCT xmin::text) FROM outbox WHERE idempotency_key <> 'unit_sender_2'"),
                      1);  // one transaction wrote them all
    t = s_text("SELECT xmin::text FROM outbox WHERE idempotency_key = 'unit_sender_2'");
    LULL_CHECK_EQ_STR(t, x2);  // the retried row: read, not written
    free(t);
    free(x2);
    sender_results_destroy(&res);
    sender_hold_destroy(&hold);
    lull_loop_destroy(&loop);
}

// A statistics query's value, this connection's statistics flushed first (and no snapshot of them kept).
static int64_t s_flushed_stat(const char *sql)
{
    PQclear(lull_db_exec(s_db, "SELECT pg_stat_force_next_flush()", 0, NULL));
    PQclear(lull_db_exec(s_db, "SELECT pg_stat_clear_snapshot()", 0, NULL));
    return s_scalar(sql);
}

// Entries of outbox_due_idx read by this connection's statements so far.
static int64_t s_due_reads(void)
{
    return s_flushed_stat("SELECT idx_tup_read FROM pg_stat_user_indexes WHERE indexrelname = 'outbox_due_idx'");
}

// n sent rows in outbox (and nothing else), analyzed, autovacuum off: statistics that say no row is due or leased.
static void s_sent_and_analyzed(int n)
{
    char sn[16];
    snprintf(sn, sizeof sn, "%d", n);
    const char *p[] = {sn};
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "ALTER TABLE outbox SET (autovacuum_enabled = false)", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "DELETE FROM outbox", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_run(s_db,
                                  "INSERT INTO outbox (tenant_id, channel, recipient, payload, idempotency_key, status)"
                                  " SELECT 1, 'generic', 'c' || g, '{\"body\":\"x\"}', 'unit_stale_' || g, 'sent'"
                                  " FROM generate_series(1, $1::int) g",
                                  1, p, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "ANALYZE outbox", 0, NULL, NULL), 0);
}

// Statistics taken while every row was sent (then a burst of new rows, not analyzed yet) say the due index is
// almost empty. The claim still reads only the rows it takes from that index, and the statements that find
// their rows by id (resume, results, web chat, escalation) reach them through the primary key, never by a
// scan of the due index (once per id, it was: a stalled sender).
LULL_TEST(statements_stay_on_their_rows_under_stale_statistics)
{
    s_sent_and_analyzed(2000);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "DELETE FROM outbox", 0, NULL, NULL), 0);
    s_reset(2000);
    int64_t r0 = s_due_reads();
    PGresult *c = sender_outbox_claim(s_db, 10, 60000, "owner-s", NULL, NULL);
    LULL_CHECK_EQ_INT(c ? PQntuples(c) : -1, 10);
    PQclear(c);
    int64_t r1 = s_due_reads();
    LULL_CHECK(r0 >= 0 && r1 - r0 >= 10 && r1 - r0 < 100);  // the 10 it took, not the 2,000 due
    c = sender_outbox_claim(s_db, 2000, 60000, "owner-s", NULL, NULL);
    LULL_CHECK_EQ_INT(c ? PQntuples(c) : -1, 1990);
    PQclear(c);
    int64_t ids[5];
    long st[5] = {429, 503, 429, 503, 429};
    const char *errs[5] = {"e", "e", "e", "e", "e"};
    for (int i = 0; i < 5; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT id FROM outbox WHERE idempotency_key = 'unit_sender_%d'", 100 * (i + 1));
        ids[i] = s_scalar(sql);
    }
    r0 = s_due_reads();
    PGresult *res = sender_outbox_resume(s_db, "owner-s", ids, st, errs, 5, NULL, NULL);
    LULL_CHECK_EQ_INT(res ? PQntuples(res) : -1, 5);
    PQclear(res);
    sender_results_t *rs = sender_results_new();
    for (int i = 0; i < 3; i++) LULL_CHECK_EQ_INT(sender_results_add(rs, ids[i], SENDER_REC_SENT, 0, 200, NULL, "p"), 0);
    int64_t applied = 0;
    LULL_CHECK_EQ_INT(sender_results_flush(rs, s_db, "owner-s", &applied), 0);
    LULL_CHECK_EQ_INT(applied, 3);
    sender_results_destroy(&rs);
    LULL_CHECK_EQ_INT(sender_outbox_webchat_sent(s_db, "owner-s", &ids[3], 1, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(sender_outbox_escalate(s_db, "owner-s", ids[4], 0, 1, "unit stale"), 0);
    LULL_CHECK_EQ_INT(s_due_reads() - r0, 0);
    LULL_CHECK_EQ_INT(s_scalar("SELECT count(*) FROM outbox WHERE status = 'sent' AND idempotency_key LIKE 'unit_sender_%'"), 4);
    LULL_CHECK_EQ_INT(s_scalar("SELECT count(*) FROM outbox WHERE status = 'dead' AND last_error = 'unit stale'"), 1);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "DELETE FROM outbox", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "ALTER TABLE outbox RESET (autovacuum_enabled)", 0, NULL, NULL), 0);
}

// Sequential scans of outbox started by this connection's statements so far.
static int64_t s_seq_scans(void)
{
    return s_flushed_stat("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'outbox'");
}

// On a small table whose statistics say no row is leased (taken while none was), the planner prices one
// sequential scan of outbox below 150 primary-key probes: the results batch and the resume scanned the whole
// table on each call. The sender's statements run with the scan out of the planner's choices: none is started.
LULL_TEST(statements_by_id_do_not_scan_the_table)
{
    s_sent_and_analyzed(20000);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "UPDATE outbox SET status = 'sending', lease_owner = 'owner-q',"
                                        " lease_until = now() + interval '1 minute' WHERE id IN"
                                        " (SELECT id FROM outbox ORDER BY id LIMIT 200)", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "RESET enable_seqscan", 0, NULL, NULL), 0);  // as a new connection has it
    int64_t first = s_scalar("SELECT min(id) FROM outbox");
    int64_t ids[50];
    long st[50];
    const char *errs[50];
    sender_results_t *rs = sender_results_new();
    LULL_CHECK(rs != NULL);
    if (!rs) return;
    for (int i = 0; i < 150; i++) LULL_CHECK_EQ_INT(sender_results_add(rs, first + i, SENDER_REC_SENT, 0, 200, NULL, "p"), 0);
    for (int i = 0; i < 50; i++) {
        ids[i] = first + 150 + i;
        st[i] = 503;
        errs[i] = "e";
    }
    int64_t s0 = s_seq_scans();
    int64_t applied = 0;
    LULL_CHECK_EQ_INT(sender_results_flush(rs, s_db, "owner-q", &applied), 0);
    LULL_CHECK_EQ_INT(applied, 150);
    PGresult *res = sender_outbox_resume(s_db, "owner-q", ids, st, errs, 50, NULL, NULL);
    LULL_CHECK_EQ_INT(res ? PQntuples(res) : -1, 50);
    PQclear(res);
    LULL_CHECK_EQ_INT(s_seq_scans() - s0, 0);
    LULL_CHECK_EQ_INT(s_scalar("SELECT count(*) FROM outbox WHERE status = 'sending' AND lease_owner = 'owner-q'"), 50);
    sender_results_destroy(&rs);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "DELETE FROM outbox", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "ALTER TABLE outbox RESET (autovacuum_enabled)", 0, NULL, NULL), 0);
}

// Entries of outbox's primary key read by this connection's statements so far.
static int64_t s_pkey_reads(void)
{
    return s_flushed_stat("SELECT idx_tup_read FROM pg_stat_user_indexes WHERE indexrelname = 'outbox_pkey'");
}

// With estimates that say outbox is almost empty, the planner once joined the claimed rows to outbox by a full scan
// of the primary key (a sender stalled at 250-290 ms a claim; enable_seqscan = off does not forbid a full index
// scan). Forced here by taking the nested loop and the hash join away, leaving the merge join: the claim still reads
// the primary-key entries of its own rows only, not the table's 20,000. The same claim with the planner free again
// takes a batch of 500 by their 500 keys.
LULL_TEST(claim_reads_its_own_keys_whatever_the_join)
{
    s_sent_and_analyzed(20000);
    s_reset(510);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "SET enable_nestloop = off", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "SET enable_hashjoin = off", 0, NULL, NULL), 0);
    int64_t r0 = s_pkey_reads();
    PGresult *c = sender_outbox_claim(s_db, 10, 60000, "owner-m", NULL, NULL);
    LULL_CHECK_EQ_INT(c ? PQntuples(c) : -1, 10);
    PQclear(c);
    int64_t reads = s_pkey_reads() - r0;
    LULL_CHECK(r0 >= 0 && reads < 1000);  // tens, where a full scan reads 20,010
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "RESET enable_nestloop", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "RESET enable_hashjoin", 0, NULL, NULL), 0);
    r0 = s_pkey_reads();
    c = sender_outbox_claim(s_db, 500, 60000, "owner-m", NULL, NULL);
    LULL_CHECK_EQ_INT(c ? PQntuples(c) : -1, 500);
    PQclear(c);
    reads = s_pkey_reads() - r0;
    LULL_CHECK(reads < 5000);
    LULL_CHECK_EQ_INT(s_scalar("SELECT count(*) FROM outbox WHERE status = 'sending' AND lease_owner = 'owner-m'"), 510);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "DELETE FROM outbox", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_run(s_db, "ALTER TABLE outbox RESET (autovacuum_enabled)", 0, NULL, NULL), 0);
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
    LULL_RUN(claim_reads_its_own_keys_whatever_the_join);
    LULL_RUN(results_are_guarded_by_the_lease);
    LULL_RUN(dead_letters_list_and_replay);
    LULL_RUN(claim_cancels_bot_replies_a_person_answered_over);
    LULL_RUN(resume_writes_nothing_keeps_the_lease_and_cancels_answered_bot_replies);
    LULL_RUN(results_go_with_the_resume_or_the_claim_both_or_neither);
    LULL_RUN(a_pump_with_results_due_retries_and_new_rows_is_one_transaction);
    LULL_RUN(statements_stay_on_their_rows_under_stale_statistics);
    LULL_RUN(statements_by_id_do_not_scan_the_table);
    lull_db_destroy(&s_db);
    return lull_test_summary();
}
