// Unit tests of lull_loop's readiness: ZeroMQ sockets with messages queued before the wait (a handler that
// takes one message per call still sees them all), many fds of which only the ready ones run, an fd removed
// and its number reused by another handler within one batch of events, and a removed socket that stays quiet;
// a ZeroMQ socket whose ZMQ_FD was drained by a call made outside its handler (a timer, another fd's
// handler) still runs without a wait, a stale event never reaches the new owner of a reused number, a
// hang-up reaches the handler as the events it watches for, an fd ready both ways runs once with both, and
// the wait is bounded by timers and deadline providers.
#include "lull_test.h"
#include "lull_loop.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

typedef struct {
    int calls;
    int last_fd;
    int other_fd;           // removed by the handler, when >= 0
    lull_loop_t *loop;
} s_seen_t;

static void s_on_one_msg(lull_loop_t *loop, int fd, int events, void *arg)
{
    (void)loop;
    (void)fd;
    void **ctx = arg;
    s_seen_t *seen = ctx[1];
    if (!(events & LULL_LOOP_IN)) return;
    char buf[16];
    if (zmq_recv(ctx[0], buf, sizeof buf, ZMQ_DONTWAIT) >= 0) seen->calls++;  // one message per call
}

LULL_TEST(zmq_socket_queued_messages)
{
    void *zctx = zmq_ctx_new();
    void *pull = zmq_socket(zctx, ZMQ_PULL), *push = zmq_socket(zctx, ZMQ_PUSH);
    LULL_CHECK_EQ_INT(zmq_bind(pull, "inproc://loop-test"), 0);
    LULL_CHECK_EQ_INT(zmq_connect(push, "inproc://loop-test"), 0);
    lull_loop_t *loop = lull_loop_new();
    s_seen_t seen = {0};
    void *ctx[2] = {pull, &seen};
    LULL_CHECK_EQ_INT(lull_loop_add_socket(loop, pull, LULL_LOOP_IN, s_on_one_msg, ctx), 0);
    LULL_CHECK_EQ_INT(lull_loop_add_socket(loop, pull, LULL_LOOP_IN, s_on_one_msg, ctx), -1);  // twice
    for (int i = 0; i < 5; i++) LULL_CHECK_EQ_INT(zmq_send(push, "m", 1, 0), 1);
    for (int i = 0; i < 50 && seen.calls < 5; i++) lull_loop_run_once(loop, 200);
    LULL_CHECK_EQ_INT(seen.calls, 5);
    // removed: messages stay queued, the handler does not run
    LULL_CHECK_EQ_INT(lull_loop_remove_socket(loop, pull), 0);
    LULL_CHECK_EQ_INT(lull_loop_remove_socket(loop, pull), -1);
    LULL_CHECK_EQ_INT(zmq_send(push, "m", 1, 0), 1);
    lull_loop_run_once(loop, 20);
    LULL_CHECK_EQ_INT(seen.calls, 5);
    // added again: the queued message arrives
    LULL_CHECK_EQ_INT(lull_loop_add_socket(loop, pull, LULL_LOOP_IN, s_on_one_msg, ctx), 0);
    for (int i = 0; i < 50 && seen.calls < 6; i++) lull_loop_run_once(loop, 200);
    LULL_CHECK_EQ_INT(seen.calls, 6);
    lull_loop_destroy(&loop);
    int linger = 0;
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(push);
    zmq_close(pull);
    zmq_ctx_term(zctx);
}

static void s_on_fd(lull_loop_t *loop, int fd, int events, void *arg)
{
    s_seen_t *seen = arg;
    seen->calls++;
    seen->last_fd = fd;
    if (events & LULL_LOOP_IN) {
        char b;
        (void)!read(fd, &b, 1);
    }
    if (seen->other_fd >= 0) {
        lull_loop_remove_fd(loop, seen->other_fd);
        seen->other_fd = -1;
    }
}

LULL_TEST(many_fds_only_ready_run)
{
    enum { N = 200 };
    int fds[N][2];
    s_seen_t seen[N];
    lull_loop_t *loop = lull_loop_new();
    for (int i = 0; i < N; i++) {
        LULL_CHECK_EQ_INT(pipe(fds[i]), 0);
        seen[i] = (s_seen_t){0, -1, -1, loop};
        LULL_CHECK_EQ_INT(lull_loop_add_fd(loop, fds[i][0], LULL_LOOP_IN, s_on_fd, &seen[i]), 0);
    }
    LULL_CHECK_EQ_INT(write(fds[17][1], "x", 1), 1);
    LULL_CHECK_EQ_INT(write(fds[150][1], "x", 1), 1);
    int ran = lull_loop_run_once(loop, 200);
    LULL_CHECK_EQ_INT(ran, 2);
    LULL_CHECK_EQ_INT(seen[17].calls, 1);
    LULL_CHECK_EQ_INT(seen[150].calls, 1);
    LULL_CHECK_EQ_INT(seen[18].calls, 0);
    // both ready, the first handler to run removes the other: the other does not run
    LULL_CHECK_EQ_INT(write(fds[3][1], "x", 1), 1);
    LULL_CHECK_EQ_INT(write(fds[4][1], "x", 1), 1);
    seen[3].other_fd = fds[4][0];
    seen[4].other_fd = fds[3][0];
    ran = lull_loop_run_once(loop, 200);
    LULL_CHECK_EQ_INT(ran, 1);
    LULL_CHECK_EQ_INT(seen[3].calls + seen[4].calls, 1);
    // mod: watching for OUT on a pipe's write end reports it writable
    s_seen_t w = {0, -1, -1, loop};
    LULL_CHECK_EQ_INT(lull_loop_add_fd(loop, fds[5][1], 0, s_on_fd, &w), 0);
    lull_loop_run_once(loop, 10);
    LULL_CHECK_EQ_INT(w.calls, 0);
    LULL_CHECK_EQ_INT(lull_loop_mod_fd(loop, fds[5][1], LULL_LOOP_OUT), 0);
    lull_loop_run_once(loop, 200);
    LULL_CHECK_EQ_INT(w.calls, 1);
    LULL_CHECK_EQ_INT(w.last_fd, fds[5][1]);
    LULL_CHECK_EQ_INT(lull_loop_remove_fd(loop, fds[5][1]), 0);
    LULL_CHECK_EQ_INT(lull_loop_mod_fd(loop, fds[5][1], LULL_LOOP_OUT), -1);
    // a descriptor closed without removal, its number reused: the new owner takes the slot after removal
    int old = fds[9][0];
    LULL_CHECK_EQ_INT(lull_loop_remove_fd(loop, old), 0);
    close(old);
    close(fds[9][1]);
    LULL_CHECK_EQ_INT(pipe(fds[9]), 0);
    LULL_CHECK_EQ_INT(fds[9][0], old);  // the lowest free number comes back
    s_seen_t again = {0, -1, -1, loop};
    LULL_CHECK_EQ_INT(lull_loop_add_fd(loop, fds[9][0], LULL_LOOP_IN, s_on_fd, &again), 0);
    LULL_CHECK_EQ_INT(write(fds[9][1], "x", 1), 1);
    lull_loop_run_once(loop, 200);
    LULL_CHECK_EQ_INT(again.calls, 1);
    LULL_CHECK_EQ_INT(seen[9].calls, 0);
    for (int i = 0; i < N; i++) {
        lull_loop_remove_fd(loop, fds[i][0]);
        close(fds[i][0]);
        close(fds[i][1]);
    }
    lull_loop_destroy(&loop);
}

// ------------------------------------------------------------------------------------------------
// a ZeroMQ socket whose ZMQ_FD was drained outside its handler

typedef struct {
    void *a, *b;    // PAIR sockets: the loop watches a; b is its peer
    int a_recv;     // messages a's handler took
    bool watchdog;  // the watchdog timer fired (the loop slept with a message waiting)
} s_pair_t;

static void s_on_a(lull_loop_t *loop, int fd, int events, void *arg)
{
    (void)loop;
    (void)fd;
    s_pair_t *p = arg;
    char buf[8];
    while ((events & LULL_LOOP_IN) && zmq_recv(p->a, buf, sizeof buf, ZMQ_DONTWAIT) >= 0) p->a_recv++;
}

// The peer sends to a (a's mailbox gets an "activate read" command and its ZMQ_FD turns readable), then a
// call on a outside its handler processes that command, which drains the ZMQ_FD: no edge is coming for the
// message waiting in a. The worker does this when a reply's DONE goes out on the DEALER from a libcurl or
// timer callback just as the scheduler's next JOB arrives.
static void s_cross(s_pair_t *p)
{
    (void)zmq_send(p->b, "job", 3, 0);
    (void)zmq_send(p->a, "done", 4, 0);
    int zev = 0;
    size_t len = sizeof zev;
    (void)zmq_getsockopt(p->a, ZMQ_EVENTS, &zev, &len);  // processes a's commands whatever send throttled
}

static void s_on_cross_timer(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_cross(arg);
}

static void s_on_cross_fd(lull_loop_t *loop, int fd, int events, void *arg)
{
    (void)loop;
    (void)events;
    char c;
    (void)!read(fd, &c, 1);
    s_cross(arg);
}

static void s_on_watchdog(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    *(bool *)arg = true;
}

LULL_TEST(zmq_fd_drained_outside_the_handler)
{
    void *zctx = zmq_ctx_new();
    s_pair_t p = {zmq_socket(zctx, ZMQ_PAIR), zmq_socket(zctx, ZMQ_PAIR), 0, false};
    LULL_CHECK_EQ_INT(zmq_bind(p.a, "inproc://loop-cross"), 0);
    LULL_CHECK_EQ_INT(zmq_connect(p.b, "inproc://loop-cross"), 0);
    lull_loop_t *loop = lull_loop_new();
    LULL_CHECK_EQ_INT(lull_loop_add_socket(loop, p.a, LULL_LOOP_IN, s_on_a, &p), 0);
    lull_loop_run_once(loop, 0);
    // from a timer: the pass that fires it ends; the next one must not sleep with the message in a (a loop
    // that did would sleep until the watchdog, 60 s)
    int wd = lull_loop_add_timer(loop, 60000, 0, s_on_watchdog, &p.watchdog);
    LULL_CHECK(lull_loop_add_timer(loop, 0, 0, s_on_cross_timer, &p) > 0);
    for (int i = 0; i < 3 && p.a_recv == 0 && !p.watchdog; i++) lull_loop_run_once(loop, -1);
    LULL_CHECK_EQ_INT(p.a_recv, 1);
    LULL_CHECK(!p.watchdog);
    // from another fd's handler in a pass
    int fds[2];
    LULL_CHECK_EQ_INT(pipe(fds), 0);
    LULL_CHECK_EQ_INT(lull_loop_add_fd(loop, fds[0], LULL_LOOP_IN, s_on_cross_fd, &p), 0);
    LULL_CHECK_EQ_INT(write(fds[1], "x", 1), 1);
    for (int i = 0; i < 3 && p.a_recv < 2 && !p.watchdog; i++) lull_loop_run_once(loop, -1);
    LULL_CHECK_EQ_INT(p.a_recv, 2);
    LULL_CHECK(!p.watchdog);
    char buf[8];
    int got = 0;
    while (zmq_recv(p.b, buf, sizeof buf, ZMQ_DONTWAIT) >= 0) got++;
    LULL_CHECK_EQ_INT(got, 2);  // both "done"
    lull_loop_cancel_timer(loop, wd);
    lull_loop_remove_fd(loop, fds[0]);
    close(fds[0]);
    close(fds[1]);
    lull_loop_destroy(&loop);
    int linger = 0;
    zmq_setsockopt(p.b, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(p.a, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(p.b);
    zmq_close(p.a);
    zmq_ctx_term(zctx);
}

// ------------------------------------------------------------------------------------------------
// a number reused within one batch of events (libcurl: CURL_POLL_REMOVE, close, a new socket)

typedef struct {
    int old_calls, new_calls;
    int p[2][2];    // the two pipes, both made ready
    bool replaced;
} s_reuse_t;

static void s_on_new(lull_loop_t *loop, int fd, int events, void *arg)
{
    (void)loop;
    (void)events;
    s_reuse_t *r = arg;
    char c;
    (void)!read(fd, &c, 1);
    r->new_calls++;
}

static void s_on_old(lull_loop_t *loop, int fd, int events, void *arg)
{
    (void)events;
    s_reuse_t *r = arg;
    char c;
    (void)!read(fd, &c, 1);
    r->old_calls++;
    if (r->replaced) return;
    r->replaced = true;
    int *other = r->p[fd == r->p[0][0] ? 1 : 0];
    int num = other[0];
    lull_loop_remove_fd(loop, other[0]);
    close(other[0]);
    close(other[1]);
    if (pipe2(other, O_NONBLOCK) != 0 || other[0] != num) return;  // checked by the caller (a stale event would not block)
    lull_loop_add_fd(loop, other[0], LULL_LOOP_IN, s_on_new, r);
}

LULL_TEST(reused_number_gets_no_stale_event)
{
    lull_loop_t *loop = lull_loop_new();
    s_reuse_t r = {0};
    for (int i = 0; i < 2; i++) {
        LULL_CHECK_EQ_INT(pipe(r.p[i]), 0);
        LULL_CHECK_EQ_INT(lull_loop_add_fd(loop, r.p[i][0], LULL_LOOP_IN, s_on_old, &r), 0);
        LULL_CHECK_EQ_INT(write(r.p[i][1], "x", 1), 1);
    }
    int before[2] = {r.p[0][0], r.p[1][0]};
    lull_loop_run_once(loop, 1000);
    LULL_CHECK(r.replaced);
    LULL_CHECK_EQ_INT(r.old_calls, 1);  // the replaced pipe's handler did not run
    LULL_CHECK_EQ_INT(r.new_calls, 0);  // nor its successor, on the stale event of the old number
    LULL_CHECK(r.p[0][0] == before[0] && r.p[1][0] == before[1]);  // the number was reused
    lull_loop_run_once(loop, 0);
    LULL_CHECK_EQ_INT(r.new_calls, 0);
    // the successor is watched: it runs when written to
    for (int i = 0; i < 2; i++) LULL_CHECK_EQ_INT(write(r.p[i][1], "y", 1), 1);
    for (int i = 0; i < 3 && (r.new_calls == 0 || r.old_calls < 2); i++) lull_loop_run_once(loop, 1000);
    LULL_CHECK_EQ_INT(r.new_calls, 1);
    LULL_CHECK_EQ_INT(r.old_calls, 2);
    for (int i = 0; i < 2; i++) {
        lull_loop_remove_fd(loop, r.p[i][0]);
        close(r.p[i][0]);
        close(r.p[i][1]);
    }
    lull_loop_destroy(&loop);
}

// ------------------------------------------------------------------------------------------------
// hang-ups and errors, both directions, bounded waits

static void s_on_record(lull_loop_t *loop, int fd, int events, void *arg)
{
    (void)loop;
    (void)fd;
    int *rec = arg;
    rec[0]++;
    rec[1] = events;
}

LULL_TEST(hangup_in_out_and_bounded_waits)
{
    lull_loop_t *loop = lull_loop_new();
    // a pipe whose writer closed: reported as readable (a read returns 0) and as an error
    int fds[2];
    LULL_CHECK_EQ_INT(pipe(fds), 0);
    int rec[2] = {0, 0};
    LULL_CHECK_EQ_INT(lull_loop_add_fd(loop, fds[0], LULL_LOOP_IN, s_on_record, rec), 0);
    close(fds[1]);
    LULL_CHECK_EQ_INT(lull_loop_run_once(loop, 1000), 1);
    LULL_CHECK_EQ_INT(rec[0], 1);
    LULL_CHECK(rec[1] & LULL_LOOP_IN);
    lull_loop_remove_fd(loop, fds[0]);
    close(fds[0]);
    // a socket whose peer closed, watched for writing only: writable (the write meets EPIPE) and an error,
    // never readable (not asked)
    int sv[2];
    LULL_CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int wrec[2] = {0, 0};
    LULL_CHECK_EQ_INT(lull_loop_add_fd(loop, sv[0], 0, s_on_record, wrec), 0);
    close(sv[1]);
    LULL_CHECK_EQ_INT(lull_loop_mod_fd(loop, sv[0], LULL_LOOP_OUT), 0);
    LULL_CHECK_EQ_INT(lull_loop_run_once(loop, 1000), 1);
    LULL_CHECK(wrec[1] & LULL_LOOP_OUT);
    LULL_CHECK(!(wrec[1] & LULL_LOOP_IN));
    lull_loop_remove_fd(loop, sv[0]);
    close(sv[0]);
    // ready both ways: one call with both
    LULL_CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int brec[2] = {0, 0};
    LULL_CHECK_EQ_INT(lull_loop_add_fd(loop, sv[0], LULL_LOOP_IN | LULL_LOOP_OUT, s_on_record, brec), 0);
    LULL_CHECK_EQ_INT(write(sv[1], "x", 1), 1);
    LULL_CHECK_EQ_INT(lull_loop_run_once(loop, 1000), 1);
    LULL_CHECK_EQ_INT(brec[0], 1);
    LULL_CHECK_EQ_INT(brec[1], LULL_LOOP_IN | LULL_LOOP_OUT);
    lull_loop_remove_fd(loop, sv[0]);
    close(sv[0]);
    close(sv[1]);
    // the wait ends at the nearest timer although nothing is ready and no limit is given (-1: a loop that
    // ignored its timers would never return)
    bool fired = false;
    LULL_CHECK(lull_loop_add_timer(loop, 20, 0, s_on_watchdog, &fired) > 0);
    LULL_CHECK_EQ_INT(lull_loop_run_once(loop, -1), 1);
    LULL_CHECK(fired);
    lull_loop_destroy(&loop);
}

LULL_TEST(draining_runs_after_a_stop)
{
    lull_loop_t *loop = lull_loop_new();
    int fds[2];
    LULL_CHECK_EQ_INT(pipe(fds), 0);
    int rec[2] = {0, 0};
    LULL_CHECK_EQ_INT(lull_loop_add_fd(loop, fds[0], LULL_LOOP_IN, s_on_record, rec), 0);
    LULL_CHECK_EQ_INT(write(fds[1], "x", 1), 1);
    lull_loop_stop(loop);
    LULL_CHECK_EQ_INT(lull_loop_run_once(loop, 100), -1);  // stopped: nothing runs
    LULL_CHECK_EQ_INT(rec[0], 0);
    lull_loop_set_draining(loop, true);  // a process finishing its work in flight
    LULL_CHECK_EQ_INT(lull_loop_run_once(loop, 100), 1);
    LULL_CHECK_EQ_INT(rec[0], 1);
    lull_loop_set_draining(loop, false);
    LULL_CHECK_EQ_INT(lull_loop_run_once(loop, 100), -1);
    lull_loop_remove_fd(loop, fds[0]);
    close(fds[0]);
    close(fds[1]);
    lull_loop_destroy(&loop);
}

static void s_on_count(lull_loop_t *loop, int fd, int events, void *arg)
{
    (void)loop;
    (void)fd;
    int *n = arg;
    if (events & LULL_LOOP_OUT) (*n)++;
}

// The watch of an fd changed between passes (no add or remove in between) takes effect in the next pass; an
// fd watched twice is refused, and after a remove the same number can be added again.
LULL_TEST(mod_between_passes_and_readd)
{
    int fds[2], writes = 0, other = 0;
    LULL_CHECK_EQ_INT(pipe(fds), 0);
    lull_loop_t *loop = lull_loop_new();
    LULL_CHECK_EQ_INT(lull_loop_add_fd(loop, fds[1], LULL_LOOP_IN, s_on_count, &writes), 0);
    LULL_CHECK_EQ_INT(lull_loop_add_fd(loop, fds[1], LULL_LOOP_OUT, s_on_count, &writes), -1);
    LULL_CHECK_EQ_INT(lull_loop_run_once(loop, 0), 0);  // the write end is never readable
    LULL_CHECK_EQ_INT(lull_loop_mod_fd(loop, fds[1], LULL_LOOP_OUT), 0);
    LULL_CHECK_EQ_INT(lull_loop_run_once(loop, 200), 1);
    LULL_CHECK_EQ_INT(writes, 1);
    LULL_CHECK_EQ_INT(lull_loop_mod_fd(loop, fds[1], LULL_LOOP_IN), 0);
    LULL_CHECK_EQ_INT(lull_loop_run_once(loop, 0), 0);
    LULL_CHECK_EQ_INT(lull_loop_remove_fd(loop, fds[1]), 0);
    LULL_CHECK_EQ_INT(lull_loop_mod_fd(loop, fds[1], LULL_LOOP_OUT), -1);
    LULL_CHECK_EQ_INT(lull_loop_add_fd(loop, fds[1], LULL_LOOP_OUT, s_on_count, &other), 0);
    LULL_CHECK_EQ_INT(lull_loop_run_once(loop, 200), 1);
    LULL_CHECK_EQ_INT(writes, 1);
    LULL_CHECK_EQ_INT(other, 1);
    lull_loop_destroy(&loop);
    close(fds[0]);
    close(fds[1]);
}

static void s_on_any(lull_loop_t *loop, int fd, int events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)events;
    (*(int *)arg)++;
}

// A parked fd reports nothing (its first unwanted event drops the registration), comes back with one add, and
// a parked number closed and reused by another pipe is reported for the new owner (the add registers it
// again although the loop still remembers the old registration).
LULL_TEST(parked_fd_silent_readded_and_reused)
{
    int a[2], b[2], seen_a = 0, seen_b = 0, seen_c = 0;
    LULL_CHECK_EQ_INT(pipe(a), 0);
    LULL_CHECK_EQ_INT(pipe(b), 0);
    lull_loop_t *loop = lull_loop_new();
    LULL_CHECK_EQ_INT(lull_loop_add_fd(loop, a[0], LULL_LOOP_IN, s_on_any, &seen_a), 0);
    LULL_CHECK_EQ_INT(lull_loop_add_fd(loop, b[0], LULL_LOOP_IN, s_on_any, &seen_b), 0);
    LULL_CHECK_EQ_INT(lull_loop_park_fd(loop, a[0]), 0);
    LULL_CHECK_EQ_INT(lull_loop_park_fd(loop, a[0]), -1);  // not watched any more
    LULL_CHECK_EQ_INT(lull_loop_mod_fd(loop, a[0], LULL_LOOP_IN), -1);
    LULL_CHECK_EQ_INT(write(a[1], "x", 1), 1);
    LULL_CHECK_EQ_INT(lull_loop_run_once(loop, 20), 0);  // parked: not reported (registration dropped)
    LULL_CHECK_EQ_INT(lull_loop_run_once(loop, 20), 0);  // and not reported again
    LULL_CHECK_EQ_INT(seen_a, 0);
    // watched again (its byte still unread): reported once per pass while readable, as before
    LULL_CHECK_EQ_INT(lull_loop_add_fd(loop, a[0], LULL_LOOP_IN, s_on_any, &seen_a), 0);
    LULL_CHECK_EQ_INT(lull_loop_run_once(loop, 200), 1);
    LULL_CHECK_EQ_INT(seen_a, 1);
    char c;
    LULL_CHECK_EQ_INT((int)read(a[0], &c, 1), 1);
    // parked with nothing pending, then closed: the number comes back as another pipe, which is reported
    LULL_CHECK_EQ_INT(lull_loop_park_fd(loop, a[0]), 0);
    int old = a[0];
    close(a[0]);
    close(a[1]);
    LULL_CHECK_EQ_INT(pipe(a), 0);
    LULL_CHECK_EQ_INT(a[0], old);
    LULL_CHECK_EQ_INT(lull_loop_add_fd(loop, a[0], LULL_LOOP_IN, s_on_any, &seen_c), 0);
    LULL_CHECK_EQ_INT(write(a[1], "y", 1), 1);
    LULL_CHECK_EQ_INT(lull_loop_run_once(loop, 200), 1);
    LULL_CHECK_EQ_INT(seen_c, 1);
    LULL_CHECK_EQ_INT(seen_a, 1);
    LULL_CHECK_EQ_INT(seen_b, 0);
    // a parked fd's number reused within one batch: the stale event is not given to the new owner
    LULL_CHECK_EQ_INT(write(b[1], "z", 1), 1);
    LULL_CHECK_EQ_INT(lull_loop_park_fd(loop, b[0]), 0);
    LULL_CHECK_EQ_INT(lull_loop_add_fd(loop, b[0], LULL_LOOP_OUT, s_on_any, &seen_c), 0);  // a read end: never writable
    LULL_CHECK_EQ_INT(lull_loop_run_once(loop, 20), 1);  // a[0]'s byte, still unread
    LULL_CHECK_EQ_INT(seen_b, 0);
    lull_loop_destroy(&loop);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

int main(void)
{
    LULL_RUN(zmq_socket_queued_messages);
    LULL_RUN(many_fds_only_ready_run);
    LULL_RUN(zmq_fd_drained_outside_the_handler);
    LULL_RUN(reused_number_gets_no_stale_event);
    LULL_RUN(hangup_in_out_and_bounded_waits);
    LULL_RUN(draining_runs_after_a_stop);
    LULL_RUN(mod_between_passes_and_readd);
    LULL_RUN(parked_fd_silent_readded_and_reused);
    return lull_test_summary();
}
