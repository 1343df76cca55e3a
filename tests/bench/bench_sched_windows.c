// Benchmark of the scheduler's window store (run by scripts/bench/scheduler; prints one "key value" line
// per figure):
//   bench_sched_windows memory N        RSS per live window with N windows
//   bench_sched_windows resets N R      R random resets/s with N live windows
//   bench_sched_windows lateness N S    fire lateness with N windows spread over S seconds (real clock)
#include "../../scheduler/sched_windows.h"
#include "lull_clock.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long s_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = atol(line + 6);
    fclose(f);
    return kb;
}

static uint64_t s_rng = 88172645463325252ULL;
static uint64_t s_rand(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

static int s_fill(sched_windows_t *w, int64_t n, int64_t spread_ms)
{
    for (int64_t c = 1; c <= n; c++) {
        int64_t win = 1000 + (int64_t)(s_rand() % (uint64_t)spread_ms);
        if (sched_windows_inbound(w, c * 7919, (int64_t)(c % 1000), (int)(c % 5), 1, win, win + 60000) !=
            SCHED_IN_OPENED)
            return -1;
    }
    return 0;
}

static int s_memory(int64_t n)
{
    long before = s_rss_kb();
    sched_windows_t *w = sched_windows_new();
    if (!w || s_fill(w, n, 3600000) != 0) return 1;
    long after = s_rss_kb();
    printf("windows %lld\n", (long long)sched_windows_count(w));
    printf("rss_delta_mb %.1f\n", (double)(after - before) / 1024.0);
    printf("bytes_per_window_rss %.1f\n", (double)(after - before) * 1024.0 / (double)n);
    printf("bytes_per_window_alloc %.1f\n", (double)sched_windows_bytes(w) / (double)n);
    sched_windows_destroy(&w);
    return 0;
}

static int s_resets(int64_t n, int64_t r)
{
    sched_windows_t *w = sched_windows_new();
    if (!w || s_fill(w, n, 3600000) != 0) return 1;
    int64_t *msg = calloc((size_t)n + 1, sizeof *msg);
    if (!msg) return 1;
    int64_t t0 = lull_clock_mono_us();
    int64_t done = 0;
    for (int64_t i = 0; i < r; i++) {
        int64_t c = 1 + (int64_t)(s_rand() % (uint64_t)n);
        int64_t win = 1000 + (int64_t)(s_rand() % 3600000);
        if (sched_windows_inbound(w, c * 7919, c % 1000, (int)(c % 5), 2 + msg[c]++, win, win + 60000) ==
            SCHED_IN_RESET)
            done++;
    }
    int64_t us = lull_clock_mono_us() - t0;
    printf("live_windows %lld\n", (long long)n);
    printf("resets %lld\n", (long long)done);
    printf("resets_per_s %.0f\n", (double)done * 1e6 / (double)us);
    free(msg);
    sched_windows_destroy(&w);
    return 0;
}

typedef struct {
    int64_t *late_us;
    int64_t n;
} s_late_t;

static void s_on_fire(void *arg, const sched_window_info_t *info, int64_t now)
{
    (void)now;
    s_late_t *l = arg;
    l->late_us[l->n++] = lull_clock_mono_us() - info->deadline_ms * 1000;
}

static int s_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int s_lateness(int64_t n, int64_t seconds)
{
    sched_windows_t *w = sched_windows_new();
    s_late_t l = {.late_us = malloc((size_t)n * sizeof(int64_t))};
    if (!w || !l.late_us) return 1;
    // deadlines spread uniformly over [1 s, 1 s + seconds)
    if (s_fill(w, n, seconds * 1000) != 0) return 1;
    while (l.n < n) {
        int64_t d = sched_windows_next_ms(w);
        if (d < 0) break;
        if (d > 0) poll(NULL, 0, (int)d);  // what lull_loop does: a poll bounded by the next deadline
        sched_windows_expire(w, s_on_fire, &l);
    }
    qsort(l.late_us, (size_t)l.n, sizeof *l.late_us, s_cmp);
    printf("fired %lld\n", (long long)l.n);
    printf("lateness_p50_ms %.3f\n", (double)l.late_us[l.n / 2] / 1000.0);
    printf("lateness_p99_ms %.3f\n", (double)l.late_us[l.n * 99 / 100] / 1000.0);
    printf("lateness_max_ms %.3f\n", (double)l.late_us[l.n - 1] / 1000.0);
    free(l.late_us);
    sched_windows_destroy(&w);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "memory") == 0) return s_memory(atoll(argv[2]));
    if (argc >= 4 && strcmp(argv[1], "resets") == 0) return s_resets(atoll(argv[2]), atoll(argv[3]));
    if (argc >= 4 && strcmp(argv[1], "lateness") == 0) return s_lateness(atoll(argv[2]), atoll(argv[3]));
    fprintf(stderr, "usage: bench_sched_windows memory N | resets N R | lateness N SECONDS\n");
    return 64;
}
