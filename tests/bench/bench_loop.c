// Benchmark of lull_loop alone: the cost of one ready event while many descriptors are watched, as in a
// busy worker (thousands of idle keep-alive LLM connections, a few answering at a time). IDLE socket pairs
// are watched and never written; TOKENS bytes circulate on a ring of 64 pipes (each handler reads its byte
// and writes one into the next pipe). Prints one line:
//   loop: idle_fds=N tokens=T events=E passes=P cpu_ns_per_event=X events_per_pass=Y
// Usage: bench_loop [IDLE] [TOKENS] [EVENTS]   (defaults 4096 4 200000). Link it against another liblull.a
// to compare loop implementations on the same machine in one go.
#include "lull_loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RING 64

static int s_ring[RING][2];
static long s_events, s_target;

static void s_on_ring(lull_loop_t *loop, int fd, int events, void *arg)
{
    (void)events;
    int i = (int)(intptr_t)arg;
    char b;
    if (read(fd, &b, 1) != 1) return;
    if (++s_events >= s_target) lull_loop_stop(loop);
    if (write(s_ring[(i + 1) % RING][1], "x", 1) != 1) abort();
}

static void s_on_idle(lull_loop_t *loop, int fd, int events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)events;
    (void)arg;
    abort();  // never written
}

static double s_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int idle = argc > 1 ? atoi(argv[1]) : 4096, tokens = argc > 2 ? atoi(argv[2]) : 4;
    s_target = argc > 3 ? atol(argv[3]) : 200000;
    if (idle < 0 || tokens < 1 || tokens > RING || s_target < 1) {
        fprintf(stderr, "usage: bench_loop [IDLE] [TOKENS 1..64] [EVENTS]\n");
        return 2;
    }
    struct rlimit rl = {(rlim_t)(2 * idle + 2 * RING + 64), (rlim_t)(2 * idle + 2 * RING + 64)};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < (rlim_t)(2 * idle + 2 * RING + 64)) {
            fprintf(stderr, "bench_loop: open file limit too low\n");
            return 1;
        }
    }
    lull_loop_t *loop = lull_loop_new();
    if (!loop) return 1;
    for (int i = 0; i < idle; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || lull_loop_add_fd(loop, sv[0], LULL_LOOP_IN, s_on_idle, NULL) != 0) {
            fprintf(stderr, "bench_loop: cannot watch idle fd %d\n", i);
            return 1;
        }
    }
    for (int i = 0; i < RING; i++) {
        if (pipe(s_ring[i]) != 0 || lull_loop_add_fd(loop, s_ring[i][0], LULL_LOOP_IN, s_on_ring, (void *)(intptr_t)i) != 0)
            return 1;
    }
    for (int t = 0; t < tokens; t++)
        if (write(s_ring[t * (RING / tokens)][1], "x", 1) != 1) return 1;
    long passes = 0;
    double t0 = s_cpu_ns();
    while (!lull_loop_stopping(loop)) {
        if (lull_loop_run_once(loop, 1000) < 0) break;
        passes++;
    }
    double ns = s_cpu_ns() - t0;
    printf("loop: idle_fds=%d tokens=%d events=%ld passes=%ld cpu_ns_per_event=%.0f events_per_pass=%.2f\n", idle,
           tokens, s_events, passes, ns / (double)s_events, (double)s_events / (double)passes);
    lull_loop_destroy(&loop);
    return 0;
}
