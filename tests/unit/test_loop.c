// Unit tests of lull_loop's readiness: ZeroMQ sockets with messages queued before the wait (a handler that
// takes one message per call still sees them all), many fds of which only the ready ones run, an fd removed
// and its number reused by another handler within one batch of events, and a removed socket that stays quiet.
#include "lull_test.h"
#include "lull_loop.h"

#include <stdlib.h>
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

int main(void)
{
    LULL_RUN(zmq_socket_queued_messages);
    LULL_RUN(many_fds_only_ready_run);
    return lull_test_summary();
}
