// fake_scheduler: the scheduler's side of the worker protocol, for the worker's tests and benchmark.
//
// Binds a ROUTER (workers connect with DEALER) and a PULL (OUTBOX wake-ups). Reads jobs from stdin lines
// "job CONV EXPECTED UPTO ATTEMPT [TENANT [FLAGS]]" and hands each to a worker with credit; prints one JSON line per
// READY, DONE and OUTBOX it receives. Heartbeats every --heartbeat-ms unless --no-heartbeat or until the stdin
// line "heartbeat off" (to test the worker's reconnect). --flood: loads every open unanswered conversation from --db, keeps every announced
// credit busy, prints conversations/s each second and a summary line at the end.
#include "lull_proto.h"
#include "lull_clock.h"
#include "lull_db.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_WORKERS 256
#define MAX_PENDING 200000

typedef struct {
    char id[256];
    size_t idlen;
    int credit;
    int64_t last_seen_ms;
} s_worker_t;

typedef struct {
    int64_t conv, expected, upto, tenant;
    int32_t attempt, flags;
} s_job_t;

static s_worker_t s_workers[MAX_WORKERS];
static int s_nworkers;
static s_job_t *s_pending;
static size_t s_head, s_tail;  // queue [head, tail)
static uint64_t s_next_job = 1;
static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static s_worker_t *s_worker(const void *id, size_t len)
{
    for (int i = 0; i < s_nworkers; i++)
        if (s_workers[i].idlen == len && memcmp(s_workers[i].id, id, len) == 0) return &s_workers[i];
    if (s_nworkers == MAX_WORKERS || len > sizeof s_workers[0].id) return NULL;
    s_worker_t *w = &s_workers[s_nworkers++];
    memset(w, 0, sizeof *w);
    memcpy(w->id, id, len);
    w->idlen = len;
    return w;
}

static int s_send_to(void *router, const s_worker_t *w, const lull_msg_t *msg)
{
    if (zmq_send(router, w->id, w->idlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) return -1;
    return lull_proto_send(router, msg, ZMQ_DONTWAIT);
}

// Hands pending jobs to workers with credit, round robin.
static void s_dispatch(void *router)
{
    static int rr;
    while (s_head < s_tail) {
        s_worker_t *w = NULL;
        for (int k = 0; k < s_nworkers && !w; k++) {
            s_worker_t *c = &s_workers[(rr + k) % s_nworkers];
            if (c->credit > 0) {
                w = c;
                rr = (rr + k + 1) % s_nworkers;
            }
        }
        if (!w) return;
        s_job_t *j = &s_pending[s_head++];
        lull_msg_t m = {.type = LULL_MSG_JOB};
        m.u.job.job_id = s_next_job++;
        m.u.job.conversation_id = j->conv;
        m.u.job.tenant_id = j->tenant;
        m.u.job.flags = j->flags;
        m.u.job.expected_upto = j->expected;
        m.u.job.upto = j->upto;
        m.u.job.attempt = j->attempt;
        if (s_send_to(router, w, &m) == 0) w->credit--;
        else {  // that worker is gone (reconnected under a new identity): keep the job for another one
            w->credit = 0;
            s_head--;
        }
    }
}

static void s_enqueue(int64_t conv, int64_t expected, int64_t upto, int32_t attempt, int64_t tenant, int32_t flags)
{
    if (s_tail == MAX_PENDING) {
        if (s_head == 0) return;
        memmove(s_pending, s_pending + s_head, (s_tail - s_head) * sizeof *s_pending);
        s_tail -= s_head;
        s_head = 0;
    }
    s_pending[s_tail++] = (s_job_t){conv, expected, upto, tenant, attempt, flags};
}

static void s_usage(FILE *out)
{
    fprintf(out, "usage: fake_scheduler --bind ENDPOINT --pull ENDPOINT [--heartbeat-ms N] [--no-heartbeat]\n"
                 "                      [--flood --db URL [--duration S]]\n"
                 "stdin: job CONV EXPECTED UPTO ATTEMPT [TENANT [FLAGS]] | heartbeat off\n");
}

int main(int argc, char **argv)
{
    const char *bind = NULL, *pull_ep = NULL, *db_url = NULL;
    int64_t hb_ms = 1000, duration_s = 0;
    bool heartbeat = true, flood = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (strcmp(a, "--help") == 0) {
            s_usage(stdout);
            return 0;
        } else if (strcmp(a, "--bind") == 0 && has) bind = argv[++i];
        else if (strcmp(a, "--pull") == 0 && has) pull_ep = argv[++i];
        else if (strcmp(a, "--db") == 0 && has) db_url = argv[++i];
        else if (strcmp(a, "--heartbeat-ms") == 0 && has) hb_ms = atoll(argv[++i]);
        else if (strcmp(a, "--duration") == 0 && has) duration_s = atoll(argv[++i]);
        else if (strcmp(a, "--no-heartbeat") == 0) heartbeat = false;
        else if (strcmp(a, "--flood") == 0) flood = true;
        else {
            s_usage(stderr);
            return 64;
        }
    }
    if (!bind || !pull_ep || hb_ms <= 0 || (flood && !db_url)) {
        s_usage(stderr);
        return 64;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {0};
    sa.sa_handler = s_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    zsys_handler_set(NULL);
    s_pending = calloc(MAX_PENDING, sizeof *s_pending);
    zsock_t *router = zsock_new(ZMQ_ROUTER), *pull = zsock_new(ZMQ_PULL);
    if (!s_pending || !router || !pull) return 1;
    zsock_set_linger(router, 0);
    zsock_set_linger(pull, 0);
    zsock_set_sndhwm(router, 1000000);
    zsock_set_rcvhwm(router, 1000000);
    zsock_set_router_mandatory(router, 1);
    if (zsock_bind(router, "%s", bind) < 0 || zsock_bind(pull, "%s", pull_ep) < 0) {
        fprintf(stderr, "fake_scheduler: cannot bind %s / %s\n", bind, pull_ep);
        zsock_destroy(&router);
        zsock_destroy(&pull);
        free(s_pending);
        return 1;
    }
    fprintf(stderr, "fake_scheduler: listening on %s and %s\n", bind, pull_ep);
    size_t total = 0, done_total = 0;
    if (flood) {
        lull_db_t *db = lull_db_new(db_url);
        PGresult *r = db ? lull_db_exec(db,
                                        "SELECT id, answered_upto, last_inbound_id, tenant_id FROM conversations"
                                        " WHERE status = 'open' AND last_inbound_id > answered_upto ORDER BY id",
                                        0, NULL)
                         : NULL;
        if (!r) {
            fprintf(stderr, "fake_scheduler: cannot load conversations\n");
            lull_db_destroy(&db);
            return 1;
        }
        for (int i = 0; i < PQntuples(r); i++)
            s_enqueue(lull_db_int(r, i, 0, NULL), lull_db_int(r, i, 1, NULL), lull_db_int(r, i, 2, NULL), 1,
                      lull_db_int(r, i, 3, NULL), 0);
        total = (size_t)PQntuples(r);
        PQclear(r);
        lull_db_destroy(&db);
        fprintf(stderr, "fake_scheduler: flood of %zu conversations\n", total);
    }
    void *rs = zsock_resolve(router), *ps = zsock_resolve(pull);
    zmq_pollitem_t items[3] = {{rs, 0, ZMQ_POLLIN, 0}, {ps, 0, ZMQ_POLLIN, 0}, {NULL, 0, ZMQ_POLLIN, 0}};
    int nitems = flood ? 2 : 3;
    char line[512];
    size_t linelen = 0;
    int64_t last_hb = lull_clock_mono_ms(), start = 0, last_print = 0, first_done = 0;
    size_t done_at_print = 0;
    bool stdin_open = !flood;
    while (!s_stop) {
        int rc = zmq_poll(items, stdin_open ? nitems : 2, 20);
        if (rc < 0 && errno != EINTR) break;
        int64_t now = lull_clock_mono_ms();
        if (items[0].revents & ZMQ_POLLIN) {
            for (int k = 0; k < 1000; k++) {
                zmsg_t *zm = zmsg_recv_nowait(router);
                if (!zm) break;
                zframe_t *idf = zmsg_pop(zm);
                lull_msg_t msg;
                char err[128];
                if (idf && lull_proto_decode(zm, &msg, err, sizeof err) == 0) {
                    s_worker_t *w = s_worker(zframe_data(idf), zframe_size(idf));
                    if (w) w->last_seen_ms = now;
                    if (w && msg.type == LULL_MSG_READY) {
                        w->credit = msg.u.ready.credit;
                        printf("{\"type\":\"ready\",\"credit\":%d,\"name\":\"%s\",\"identity\":\"%.*s\"}\n",
                               msg.u.ready.credit, msg.u.ready.name, (int)w->idlen, w->id);
                        if (flood && !start) start = now, last_print = now;
                    } else if (w && msg.type == LULL_MSG_DONE) {
                        w->credit++;
                        if (!first_done) first_done = now;  // steady state: from the first DONE on
                        done_total++;
                        if (!flood)
                            printf("{\"type\":\"done\",\"job\":%llu,\"conv\":%lld,\"outcome\":\"%s\",\"backoff_until_ms\":%lld,"
                                   "\"retry_after_ms\":%lld,\"detail\":\"%s\"}\n",
                                   (unsigned long long)msg.u.done.job_id, (long long)msg.u.done.conversation_id,
                                   lull_outcome_name(msg.u.done.outcome), (long long)msg.u.done.backoff_until_ms,
                                   (long long)msg.u.done.retry_after_ms, msg.u.done.detail);
                    } else if (w && msg.type == LULL_MSG_HEARTBEAT && !flood) {
                        printf("{\"type\":\"heartbeat\",\"credit\":%d}\n", msg.u.heartbeat.credit);
                    }
                    lull_msg_clear(&msg);
                } else {
                    printf("{\"type\":\"invalid\",\"error\":\"%s\"}\n", idf ? err : "no identity");
                }
                zframe_destroy(&idf);
                zmsg_destroy(&zm);
            }
            fflush(stdout);
        }
        if (items[1].revents & ZMQ_POLLIN) {
            for (int k = 0; k < 1000; k++) {
                zmsg_t *zm = zmsg_recv_nowait(pull);
                if (!zm) break;
                lull_msg_t msg;
                char err[128];
                if (lull_proto_decode(zm, &msg, err, sizeof err) == 0 && msg.type == LULL_MSG_OUTBOX && !flood)
                    printf("{\"type\":\"outbox\",\"outbox_id\":%lld}\n", (long long)msg.u.outbox.outbox_id);
                lull_msg_clear(&msg);
                zmsg_destroy(&zm);
            }
            fflush(stdout);
        }
        if (stdin_open && (items[2].revents & ZMQ_POLLIN)) {
            ssize_t n = read(0, line + linelen, sizeof line - 1 - linelen);
            if (n <= 0) stdin_open = false;
            else {
                linelen += (size_t)n;
                line[linelen] = '\0';
                char *nl;
                while ((nl = strchr(line, '\n'))) {
                    *nl = '\0';
                    long long conv, exp, upto, tenant = 1;
                    int flags = 0;
                    int att;
                    if (sscanf(line, "job %lld %lld %lld %d %lld %d", &conv, &exp, &upto, &att, &tenant, &flags) >= 4)
                        s_enqueue(conv, exp, upto, att, tenant, flags);
                    else if (strcmp(line, "heartbeat off") == 0)
                        heartbeat = false;
                    size_t rest = linelen - (size_t)(nl + 1 - line);
                    memmove(line, nl + 1, rest + 1);
                    linelen = rest;
                }
                if (linelen == sizeof line - 1) linelen = 0;  // an over-long line is dropped
            }
        }
        s_dispatch(rs);
        if (heartbeat && now - last_hb >= hb_ms) {
            last_hb = now;
            lull_msg_t beat = {.type = LULL_MSG_HEARTBEAT};
            beat.u.heartbeat.credit = -1;
            for (int i = 0; i < s_nworkers; i++) (void)s_send_to(rs, &s_workers[i], &beat);
        }
        if (flood && start) {
            if (now - last_print >= 1000) {
                fprintf(stderr, "fake_scheduler: %.0f conversations/s\n",
                        (double)(done_total - done_at_print) * 1000.0 / (double)(now - last_print));
                last_print = now;
                done_at_print = done_total;
            }
            if (done_total >= total || (duration_s > 0 && now - start >= duration_s * 1000)) break;
        }
    }
    if (flood) {
        int64_t ms = lull_clock_mono_ms() - start;
        int64_t steady_ms = first_done ? lull_clock_mono_ms() - first_done : 0;
        printf("{\"type\":\"summary\",\"done\":%zu,\"ms\":%lld,\"rate\":%.1f,\"steady_rate\":%.1f}\n", done_total,
               (long long)ms, ms > 0 ? (double)done_total * 1000.0 / (double)ms : 0.0,
               steady_ms > 0 ? (double)(done_total - 1) * 1000.0 / (double)steady_ms : 0.0);
        fflush(stdout);
    }
    zsock_destroy(&router);
    zsock_destroy(&pull);
    free(s_pending);
    return 0;
}
