// Unit tests of lull_db_listen against the real test database (LULL_TEST_DATABASE_URL, set by tests/run): the
// channel check, a start reported as a change, a NOTIFY heard on the socket, one on another channel ignored,
// and after the listening backend is killed: the loss, the reconnect (reported as a change) and a NOTIFY heard
// again; the hooks: the start hook after each LISTEN and before any payload, the payloads in order.
#include "lull_test.h"
#include "lull_db_listen.h"
#include "lull_clock.h"
#include "lull_log.h"
#include <pthread.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *s_url;

// Steps until the step returns want (polling the socket, at most ~5 s); the last result.
static int s_step_until(lull_db_listen_t *l, int want)
{
    int rc = -2;
    for (int i = 0; i < 500 && rc != want; i++) {
        struct pollfd fd = {.fd = lull_db_listen_fd(l), .events = POLLIN};
        if (poll(&fd, 1, 10) < 0) break;
        rc = lull_db_listen_step(l);
    }
    return rc;
}

LULL_TEST(channel_names_are_checked)
{
    const char *bad[] = {"", "Upper", "1abc", "a-b", "a;LISTEN b", "a b", NULL};
    for (int i = 0; bad[i]; i++) LULL_CHECK(lull_db_listen_new(s_url, bad[i], "test") == NULL);
    LULL_CHECK(lull_db_listen_new(s_url, NULL, "test") == NULL);
    char longname[80];
    memset(longname, 'a', 64);
    longname[64] = '\0';
    LULL_CHECK(lull_db_listen_new(s_url, longname, "test") == NULL);
    longname[63] = '\0';
    lull_db_listen_t *l = lull_db_listen_new(s_url, longname, NULL);
    LULL_CHECK(l != NULL);
    lull_db_listen_destroy(&l);
    LULL_CHECK(l == NULL);
    lull_db_listen_destroy(&l);  // harmless
}

LULL_TEST(hears_its_channel_and_reconnects)
{
    lull_db_listen_t *l = lull_db_listen_new(s_url, "test_listen", "unit test");
    lull_db_t *other = lull_db_new(s_url);
    LULL_CHECK(!lull_db_listen_up(l));
    LULL_CHECK_EQ_INT(lull_db_listen_fd(l), -1);
    LULL_CHECK_EQ_INT(lull_db_listen_step(l), 1);  // listening started: whatever changed before is a change
    LULL_CHECK(lull_db_listen_up(l));
    LULL_CHECK(lull_db_listen_fd(l) >= 0);
    LULL_CHECK_EQ_INT(lull_db_listen_step(l), 0);
    // another channel: nothing; then ours: heard
    LULL_CHECK_EQ_INT(lull_db_run(other, "NOTIFY test_other", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_run(other, "NOTIFY test_listen, 'x'", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(s_step_until(l, 1), 1);
    LULL_CHECK_EQ_INT(lull_db_listen_step(l), 0);
    // the owner's reads run on the same connection
    PGresult *r = lull_db_exec(lull_db_listen_db(l), "SELECT pg_backend_pid()", 0, NULL);
    LULL_CHECK(r != NULL);
    char pid[32] = "";
    if (r) snprintf(pid, sizeof pid, "%s", lull_db_text(r, 0, 0));
    PQclear(r);
    // the backend dies: the next steps notice, reconnect and report the restart as a change
    const char *p[] = {pid};
    LULL_CHECK_EQ_INT(lull_db_run(other, "SELECT pg_terminate_backend($1::int)", 1, p, NULL), 0);
    LULL_CHECK_EQ_INT(s_step_until(l, 1), 1);
    LULL_CHECK(lull_db_listen_up(l));
    r = lull_db_exec(lull_db_listen_db(l), "SELECT pg_backend_pid()", 0, NULL);
    LULL_CHECK(r != NULL && strcmp(lull_db_text(r, 0, 0), pid) != 0);  // a new backend
    PQclear(r);
    LULL_CHECK_EQ_INT(lull_db_listen_step(l), 0);
    LULL_CHECK_EQ_INT(lull_db_run(other, "NOTIFY test_listen", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(s_step_until(l, 1), 1);  // LISTENing again, not only connected
    lull_db_destroy(&other);
    lull_db_listen_destroy(&l);
}

// What the hooks saw, in order: "S" for a start, then each payload.
typedef struct {
    char seen[256];
    lull_db_listen_t *l;
    bool caught_up;  // the start hook could read on the listener's connection
} s_hooks_t;

static void s_seen(s_hooks_t *h, const char *what)
{
    size_t n = strlen(h->seen);
    snprintf(h->seen + n, sizeof h->seen - n, "%s%s", n ? "," : "", what);
}

static void s_on_start(void *arg)
{
    s_hooks_t *h = arg;
    s_seen(h, "S");
    PGresult *r = lull_db_exec(lull_db_listen_db(h->l), "SELECT 1", 0, NULL);
    h->caught_up = r && PQntuples(r) == 1;
    PQclear(r);
}

static void s_on_payload(const char *payload, void *arg)
{
    s_seen(arg, payload[0] ? payload : "(empty)");
}

LULL_TEST(hooks_start_before_payloads_in_order)
{
    s_hooks_t h = {.seen = ""};
    h.l = lull_db_listen_new(s_url, "test_hooks", "unit test");
    lull_db_t *other = lull_db_new(s_url);
    lull_db_listen_set_hooks(h.l, s_on_start, s_on_payload, &h);
    LULL_CHECK_EQ_INT(lull_db_listen_step(h.l), 1);
    LULL_CHECK(h.caught_up);
    LULL_CHECK_EQ_STR(h.seen, "S");
    // a transaction's notifications arrive together and in order; another channel's never reach the hook
    LULL_CHECK_EQ_INT(lull_db_begin(other), 0);
    const char *const notifies[] = {"NOTIFY test_hooks, 'a'", "NOTIFY test_other, 'x'", "NOTIFY test_hooks, 'b'",
                                    "NOTIFY test_hooks"};
    for (size_t i = 0; i < sizeof notifies / sizeof notifies[0]; i++)
        LULL_CHECK_EQ_INT(lull_db_run(other, notifies[i], 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_db_commit(other), 0);
    LULL_CHECK_EQ_INT(s_step_until(h.l, 1), 1);
    LULL_CHECK_EQ_STR(h.seen, "S,a,b,(empty)");
    // after a lost backend: the start hook again before the payload notified after the new LISTEN
    PGresult *r = lull_db_exec(lull_db_listen_db(h.l), "SELECT pg_backend_pid()", 0, NULL);
    char pid[32] = "";
    if (r) snprintf(pid, sizeof pid, "%s", lull_db_text(r, 0, 0));
    PQclear(r);
    const char *p[] = {pid};
    LULL_CHECK_EQ_INT(lull_db_run(other, "SELECT pg_terminate_backend($1::int)", 1, p, NULL), 0);
    LULL_CHECK_EQ_INT(s_step_until(h.l, 1), 1);
    LULL_CHECK_EQ_INT(lull_db_run(other, "NOTIFY test_hooks, 'c'", 0, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(s_step_until(h.l, 1), 1);
    LULL_CHECK_EQ_STR(h.seen, "S,a,b,(empty),S,c");
    lull_db_destroy(&other);
    lull_db_listen_destroy(&h.l);
}

static void *s_waker(void *arg)
{
    usleep(50 * 1000);  // the owner is (most likely) asleep in the wait by now
    lull_db_listen_wake(arg);
    return NULL;
}

// The owner's wait ends on a wake-up from another thread and on a notification, long before its timeout (10 s;
// a wait that ran to its timeout fails the check); wake-ups are drained.
LULL_TEST(wait_ends_on_wake_or_notification)
{
    lull_db_listen_t *l = lull_db_listen_new(s_url, "test_wait", "unit test");
    lull_db_t *other = lull_db_new(s_url);
    LULL_CHECK_EQ_INT(lull_db_listen_step(l), 1);
    int64_t never = 10 * 1000;  // "never" for these checks
    pthread_t t;
    LULL_CHECK_EQ_INT(pthread_create(&t, NULL, s_waker, l), 0);
    int64_t t0 = lull_clock_mono_ms();
    lull_db_listen_wait(l, never);
    LULL_CHECK(lull_clock_mono_ms() - t0 < never);
    pthread_join(t, NULL);
    for (int i = 0; i < 1000; i++) lull_db_listen_wake(l);  // a full pipe is no error
    lull_db_listen_wait(l, never);                           // returns at once and drains them all
    t0 = lull_clock_mono_ms();
    lull_db_listen_wait(l, 30);                             // nothing left: waits its 30 ms
    LULL_CHECK(lull_clock_mono_ms() - t0 >= 25);
    LULL_CHECK_EQ_INT(lull_db_run(other, "NOTIFY test_wait", 0, NULL, NULL), 0);
    lull_db_listen_wait(l, never);
    LULL_CHECK_EQ_INT(s_step_until(l, 1), 1);
    lull_db_destroy(&other);
    lull_db_listen_destroy(&l);
}

// Not listening, the wait is at most the reconnect delay, whatever the owner asked.
LULL_TEST(unreachable_server_is_not_listening)
{
    lull_db_listen_t *l = lull_db_listen_new("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1", "test_listen",
                                             "unit test");
    LULL_CHECK(l != NULL);
    LULL_CHECK_EQ_INT(lull_db_listen_step(l), -1);
    LULL_CHECK(!lull_db_listen_up(l));
    LULL_CHECK_EQ_INT(lull_db_listen_fd(l), -1);
    int64_t t0 = lull_clock_mono_ms();
    lull_db_listen_wait(l, 10 * 1000);
    LULL_CHECK(lull_clock_mono_ms() - t0 < 10 * 1000);
    lull_db_listen_destroy(&l);
}

int main(void)
{
    s_url = getenv("LULL_TEST_DATABASE_URL");
    if (!s_url) {
        printf("FAIL setup: LULL_TEST_DATABASE_URL is not set (run through tests/run)\n");
        return 1;
    }
    lull_log_set_level(LULL_LOG_ERROR);
    LULL_RUN(channel_names_are_checked);
    LULL_RUN(hears_its_channel_and_reconnects);
    LULL_RUN(hooks_start_before_payloads_in_order);
    LULL_RUN(wait_ends_on_wake_or_notification);
    LULL_RUN(unreachable_server_is_not_listening);
    return lull_test_summary();
}
