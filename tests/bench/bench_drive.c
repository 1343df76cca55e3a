// bench_drive: the load of scripts/bench/pipeline. One Twilio SMS webhook per new conversation at a constant
// rate, from keep-alive connections (one thread each, each sending its share of the schedule and waiting for each
// answer), and prints how many were answered 200. It replaces a Python driver that cost ~20 % of a core at
// 320 webhooks/s on the two cores it shares with the stack it measures.
// Usage: bench_drive PORT RATE SECONDS TAG   (conversation i of tag T: MessageSid SM<T*10^7+i as 32 hex digits>,
// From +1777<T, 3 digits><i, 7 digits>, To +15550001000). Loopback only.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 32

typedef struct {
    int port, tag, k, nthreads;
    long n;
    double rate;
    struct timespec t0;
    long ok;
} s_run_t;

static int s_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 10};
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int s_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

// Reads one answer (headers, then a Content-Length body); returns its status, or -1. *keep: the connection
// may be reused.
static int s_read_answer(int fd, int *keep)
{
    char buf[8192];
    size_t len = 0;
    char *end = NULL;
    while (!end) {
        if (len == sizeof buf - 1) return -1;
        ssize_t r = read(fd, buf + len, sizeof buf - 1 - len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        len += (size_t)r;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    int status = 0;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) return -1;
    long clen = 0;
    *keep = 1;
    for (char *line = strstr(buf, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0) clen = strtol(line + 17, NULL, 10);
        if (strncasecmp(line + 2, "Connection: close", 17) == 0) *keep = 0;
    }
    if (clen < 0 || clen > 1 << 20) return -1;
    long have = (long)(len - (size_t)(end + 4 - buf));
    while (have < clen) {
        ssize_t r = read(fd, buf, sizeof buf < (size_t)(clen - have) ? sizeof buf : (size_t)(clen - have));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        have += r;
    }
    return status;
}

static void *s_thread(void *arg)
{
    s_run_t *run = arg;
    int fd = -1;
    char req[1024], body[512];
    for (long i = run->k; i < run->n; i += run->nthreads) {
        double due = (double)i / run->rate;
        struct timespec at = run->t0;
        at.tv_sec += (time_t)due;
        at.tv_nsec += (long)((due - (double)(time_t)due) * 1e9);
        if (at.tv_nsec >= 1000000000L) {
            at.tv_sec++;
            at.tv_nsec -= 1000000000L;
        }
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR) {}
        unsigned long long sid = (unsigned long long)run->tag * 10000000ULL + (unsigned long long)i;
        int blen = snprintf(body, sizeof body,
                            "MessageSid=SM%032llx&From=%%2B1777%03d%07ld&To=%%2B15550001000"
                            "&Body=Hello%%2C+what+time+do+you+open+on+Sunday%%3F",
                            sid, run->tag, i);
        int rlen = snprintf(req, sizeof req,
                            "POST /webhook/twilio HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
                            run->port, blen, body);
        for (int attempt = 0; attempt < 3; attempt++) {
            if (fd < 0 && (fd = s_connect(run->port)) < 0) continue;
            int keep = 0, status = -1;
            if (s_write_all(fd, req, (size_t)rlen) == 0) status = s_read_answer(fd, &keep);
            if (status < 0 || !keep) {
                close(fd);
                fd = -1;
            }
            if (status < 0) continue;
            if (status == 200) run->ok++;
            break;
        }
    }
    if (fd >= 0) close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fprintf(argc == 2 ? stdout : stderr, "usage: bench_drive PORT RATE SECONDS TAG\n");
        return argc == 2 ? 0 : 2;
    }
    int port = atoi(argv[1]), tag = atoi(argv[4]);
    double rate = atof(argv[2]), secs = atof(argv[3]);
    if (port <= 0 || port > 65535 || rate <= 0 || rate > 100000 || secs <= 0 || secs > 3600 || tag < 0 || tag > 999) {
        fprintf(stderr, "bench_drive: bad arguments\n");
        return 2;
    }
    long n = (long)(rate * secs);
    int nthreads = (int)(rate / 20) + 1;
    if (nthreads > MAX_THREADS) nthreads = MAX_THREADS;
    s_run_t runs[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    t0.tv_nsec += 200000000L;  // 0.2 s to start the threads
    if (t0.tv_nsec >= 1000000000L) {
        t0.tv_sec++;
        t0.tv_nsec -= 1000000000L;
    }
    int started = 0;
    for (int k = 0; k < nthreads; k++) {
        runs[k] = (s_run_t){.port = port, .tag = tag, .k = k, .nthreads = nthreads, .n = n, .rate = rate, .t0 = t0};
        if (pthread_create(&th[k], NULL, s_thread, &runs[k]) != 0) break;
        started++;
    }
    long ok = 0;
    for (int k = 0; k < started; k++) {
        pthread_join(th[k], NULL);
        ok += runs[k].ok;
    }
    printf("%ld\n", ok);
    return started == nthreads ? 0 : 1;
}
