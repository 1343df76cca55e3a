// fake_worker: a stand-in worker speaking the scheduler's dispatch protocol (READY/JOB/DONE/HEARTBEAT) for
// integration tests. One JSON line per event on stdout: {"ev":"job",…} for each JOB, {"ev":"done",…} for each
// DONE sent, {"ev":"ready",…} for each READY. With --commit it performs the real worker's compare-and-swap
// on conversations.answered_upto (LULL_DATABASE_URL) before answering "replied" (or duplicate/superseded).
#include "lull_clock.h"
#include "lull_db.h"
#include "lull_proto.h"

#include <czmq.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_HELD 1024

typedef struct {
    uint64_t job_id;
    int64_t conv, expected, upto;
    int64_t due_ms;
} s_held_t;

static const char *s_usage =
    "usage: fake_worker --endpoint E --credit N [--work-ms M] [--outcome replied|superseded|duplicate|"
    "retryable|permanent|escalated] [--retry-after-ms R] [--backoff-ms B] [--die-after K] [--name X] "
    "[--no-heartbeat] [--heartbeat-ms H] [--liveness L] [--commit]\n";

static zsock_t *s_connect(const char *endpoint)
{
    zsock_t *s = zsock_new(ZMQ_DEALER);
    if (!s) return NULL;
    zsock_set_linger(s, 0);
    if (zsock_connect(s, "%s", endpoint) != 0) zsock_destroy(&s);
    return s;
}

// The worker's compare-and-swap; returns the outcome it implies.
static int s_commit(lull_db_t *db, const s_held_t *h)
{
    char c[24], e[24], u[24];
    snprintf(c, sizeof c, "%lld", (long long)h->conv);
    snprintf(e, sizeof e, "%lld", (long long)h->expected);
    snprintf(u, sizeof u, "%lld", (long long)h->upto);
    const char *p[3] = {c, e, u};
    int64_t n = 0;
    if (lull_db_run(db,
                    "UPDATE conversations SET answered_upto = $3::bigint, first_unanswered_at = NULL, "
                    "last_reply_at = now(), updated_at = now() WHERE id = $1::bigint AND answered_upto = $2::bigint "
                    "AND last_inbound_id = $3::bigint AND status = 'open'",
                    3, p, &n) != 0)
        return LULL_OUTCOME_FAILED_RETRYABLE;
    if (n == 1) return LULL_OUTCOME_REPLIED;
    PGresult *r = lull_db_exec(db, "SELECT answered_upto >= $2::bigint FROM conversations WHERE id = $1::bigint", 2,
                               (const char *const[]){c, u});
    int oc = LULL_OUTCOME_SUPERSEDED;
    if (r && PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0) oc = LULL_OUTCOME_DUPLICATE;
    if (r) PQclear(r);
    return oc;
}

int main(int argc, char **argv)
{
    const char *endpoint = NULL, *name = "fake", *outcome_name = "replied";
    int credit = -1, die_after = 0, liveness = 3;
    int64_t work_ms = 0, hb_ms = 1000, retry_after = 0, backoff_ms = 0;
    bool heartbeat = true, commit = false;
    const char *env_hb = getenv("LULL_HEARTBEAT_MS");
    if (env_hb) hb_ms = atoll(env_hb);
    static const struct option opts[] = {
        {"endpoint", required_argument, 0, 'e'}, {"credit", required_argument, 0, 'c'},
        {"work-ms", required_argument, 0, 'w'},  {"outcome", required_argument, 0, 'o'},
        {"die-after", required_argument, 0, 'd'}, {"name", required_argument, 0, 'n'},
        {"no-heartbeat", no_argument, 0, 'H'},   {"heartbeat-ms", required_argument, 0, 'b'},
        {"liveness", required_argument, 0, 'l'}, {"retry-after-ms", required_argument, 0, 'r'},
        {"backoff-ms", required_argument, 0, 'B'}, {"commit", no_argument, 0, 'C'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'e': endpoint = optarg; break;
        case 'c': credit = atoi(optarg); break;
        case 'w': work_ms = atoll(optarg); break;
        case 'o': outcome_name = optarg; break;
        case 'd': die_after = atoi(optarg); break;
        case 'n': name = optarg; break;
        case 'H': heartbeat = false; break;
        case 'b': hb_ms = atoll(optarg); break;
        case 'l': liveness = atoi(optarg); break;
        case 'r': retry_after = atoll(optarg); break;
        case 'B': backoff_ms = atoll(optarg); break;
        case 'C': commit = true; break;
        case 'h': fputs(s_usage, stdout); return 0;
        default: fputs(s_usage, stderr); return 64;
        }
    }
    int outcome = strcmp(outcome_name, "retryable") == 0   ? LULL_OUTCOME_FAILED_RETRYABLE
                  : strcmp(outcome_name, "permanent") == 0 ? LULL_OUTCOME_FAILED_PERMANENT
                                                           : lull_outcome_from_name(outcome_name);
    if (!endpoint || credit < 0 || credit > MAX_HELD || outcome < 0 || hb_ms <= 0) {
        fputs(s_usage, stderr);
        return 64;
    }
    zsys_handler_set(NULL);
    lull_db_t *db = NULL;
    if (commit) {
        db = lull_db_new(getenv("LULL_DATABASE_URL") ? getenv("LULL_DATABASE_URL") : "postgresql:///lull");
        if (!db) return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    s_held_t held[MAX_HELD];
    int nheld = 0, received = 0;
    zsock_t *s = NULL;
    int64_t last_send = 0, last_recv = 0;
    for (;;) {
        int64_t now = lull_clock_mono_ms();
        if (!s || now - last_recv > hb_ms * liveness) {
            // (re)connect: the scheduler went silent (restarted?) or this is the start
            zsock_destroy(&s);
            s = s_connect(endpoint);
            if (!s) return 1;
            lull_msg_t ready = {.type = LULL_MSG_READY};
            ready.u.ready.credit = credit - nheld;
            snprintf(ready.u.ready.name, sizeof ready.u.ready.name, "%s", name);
            if (lull_proto_send(s, &ready, 0) != 0) return 1;
            printf("{\"ev\":\"ready\",\"credit\":%d}\n", credit - nheld);
            last_send = last_recv = now;
        }
        // answer jobs whose work is done
        for (int i = 0; i < nheld;) {
            if (held[i].due_ms > now) {
                i++;
                continue;
            }
            int oc = outcome;
            if (commit && oc == LULL_OUTCOME_REPLIED) oc = s_commit(db, &held[i]);
            lull_msg_t done = {.type = LULL_MSG_DONE};
            done.u.done.job_id = held[i].job_id;
            done.u.done.conversation_id = held[i].conv;
            done.u.done.outcome = (lull_outcome_t)oc;
            done.u.done.retry_after_ms = oc == LULL_OUTCOME_FAILED_RETRYABLE ? retry_after : 0;
            done.u.done.backoff_until_ms = backoff_ms > 0 ? lull_clock_wall_ms() + backoff_ms : 0;
            snprintf(done.u.done.detail, sizeof done.u.done.detail, "fake %s", lull_outcome_name(oc));
            if (lull_proto_send(s, &done, 0) == 0) {
                printf("{\"ev\":\"done\",\"job_id\":%llu,\"conversation_id\":%lld,\"outcome\":\"%s\"}\n",
                       (unsigned long long)held[i].job_id, (long long)held[i].conv, lull_outcome_name(oc));
                last_send = now;
            }
            held[i] = held[--nheld];
        }
        if (heartbeat && now - last_send >= hb_ms) {
            lull_msg_t hb = {.type = LULL_MSG_HEARTBEAT};
            hb.u.heartbeat.credit = credit - nheld;
            if (lull_proto_send(s, &hb, 0) == 0) last_send = now;
        }
        int64_t wait = heartbeat ? hb_ms - (now - last_send) : hb_ms;
        for (int i = 0; i < nheld; i++)
            if (held[i].due_ms - now < wait) wait = held[i].due_ms - now;
        if (wait < 0) wait = 0;
        zmq_pollitem_t item = {zsock_resolve(s), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, (long)wait) < 0) break;
        while (zsock_events(s) & ZMQ_POLLIN) {
            zmsg_t *z = zmsg_recv(s);
            if (!z) break;
            last_recv = lull_clock_mono_ms();
            lull_msg_t m;
            char err[160];
            if (lull_proto_decode(z, &m, err, sizeof err) == 0 && m.type == LULL_MSG_JOB) {
                printf("{\"ev\":\"job\",\"job_id\":%llu,\"conversation_id\":%lld,\"tenant_id\":%lld,"
                       "\"expected_upto\":%lld,\"upto\":%lld,\"attempt\":%d,\"worker\":\"%s\"}\n",
                       (unsigned long long)m.u.job.job_id, (long long)m.u.job.conversation_id,
                       (long long)m.u.job.tenant_id, (long long)m.u.job.expected_upto, (long long)m.u.job.upto,
                       m.u.job.attempt, name);
                received++;
                if (die_after > 0 && received >= die_after) _exit(0);  // abruptly: no DONE, no goodbye
                if (nheld < MAX_HELD)
                    held[nheld++] = (s_held_t){m.u.job.job_id, m.u.job.conversation_id, m.u.job.expected_upto,
                                               m.u.job.upto, lull_clock_mono_ms() + work_ms};
            }
            lull_msg_clear(&m);
            zmsg_destroy(&z);
        }
    }
    zsock_destroy(&s);
    lull_db_destroy(&db);
    return 0;
}
