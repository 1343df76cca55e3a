// zmq_sink ENDPOINT [--bind|--connect] [--count N]: a PULL socket that prints every lull message it receives as
// one JSON line on stdout (flushed), e.g. {"type":"inbound","conversation_id":1,…}; a message that does not
// decode prints {"type":"invalid","error":"…"}. Exits 0 on SIGTERM/SIGINT or after N messages.
#include "lull_proto.h"

#include <cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static volatile sig_atomic_t s_stop = 0;
static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static char *s_render(const lull_msg_t *m)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", lull_msg_type_name(m->type));
    switch (m->type) {
    case LULL_MSG_INBOUND:
        cJSON_AddNumberToObject(o, "conversation_id", (double)m->u.inbound.conversation_id);
        cJSON_AddNumberToObject(o, "message_id", (double)m->u.inbound.message_id);
        cJSON_AddNumberToObject(o, "tenant_id", (double)m->u.inbound.tenant_id);
        cJSON_AddNumberToObject(o, "received_ms", (double)m->u.inbound.received_ms);
        cJSON_AddStringToObject(o, "channel", m->u.inbound.channel);
        break;
    case LULL_MSG_READY:
        cJSON_AddNumberToObject(o, "credit", m->u.ready.credit);
        cJSON_AddStringToObject(o, "name", m->u.ready.name);
        break;
    case LULL_MSG_HEARTBEAT: cJSON_AddNumberToObject(o, "credit", m->u.heartbeat.credit); break;
    case LULL_MSG_JOB:
        cJSON_AddNumberToObject(o, "job_id", (double)m->u.job.job_id);
        cJSON_AddNumberToObject(o, "conversation_id", (double)m->u.job.conversation_id);
        cJSON_AddNumberToObject(o, "tenant_id", (double)m->u.job.tenant_id);
        cJSON_AddNumberToObject(o, "expected_upto", (double)m->u.job.expected_upto);
        cJSON_AddNumberToObject(o, "upto", (double)m->u.job.upto);
        cJSON_AddNumberToObject(o, "attempt", m->u.job.attempt);
        break;
    case LULL_MSG_DONE:
        cJSON_AddNumberToObject(o, "job_id", (double)m->u.done.job_id);
        cJSON_AddNumberToObject(o, "conversation_id", (double)m->u.done.conversation_id);
        cJSON_AddStringToObject(o, "outcome", lull_outcome_name(m->u.done.outcome));
        cJSON_AddNumberToObject(o, "backoff_until_ms", (double)m->u.done.backoff_until_ms);
        cJSON_AddNumberToObject(o, "retry_after_ms", (double)m->u.done.retry_after_ms);
        cJSON_AddStringToObject(o, "detail", m->u.done.detail);
        break;
    case LULL_MSG_OUTBOX: cJSON_AddNumberToObject(o, "outbox_id", (double)m->u.outbox.outbox_id); break;
    case LULL_MSG_CTL_REQ:
        cJSON_AddNumberToObject(o, "req_id", (double)m->u.ctl_req.req_id);
        cJSON_AddStringToObject(o, "op", lull_ctl_op_name(m->u.ctl_req.op));
        cJSON_AddNumberToObject(o, "conversation_id", (double)m->u.ctl_req.conversation_id);
        cJSON_AddNumberToObject(o, "limit", m->u.ctl_req.limit);
        break;
    case LULL_MSG_CTL_REP:
        cJSON_AddNumberToObject(o, "req_id", (double)m->u.ctl_rep.req_id);
        cJSON_AddNumberToObject(o, "status", m->u.ctl_rep.status);
        if (m->u.ctl_rep.body) cJSON_AddStringToObject(o, "body", m->u.ctl_rep.body);
        else cJSON_AddNullToObject(o, "body");
        break;
    case LULL_MSG_CHAT:
        cJSON_AddNumberToObject(o, "conversation_id", (double)m->u.chat.conversation_id);
        cJSON_AddNumberToObject(o, "message_id", (double)m->u.chat.message_id);
        cJSON_AddStringToObject(o, "body", m->u.chat.body ? m->u.chat.body : "");
        break;
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

int main(int argc, char **argv)
{
    const char *endpoint = NULL;
    bool bind = true;
    long count = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bind") == 0) bind = true;
        else if (strcmp(argv[i], "--connect") == 0) bind = false;
        else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) count = strtol(argv[++i], NULL, 10);
        else if (!endpoint && argv[i][0] != '-') endpoint = argv[i];
        else {
            fprintf(stderr, "usage: zmq_sink ENDPOINT [--bind|--connect] [--count N]\n");
            return 64;
        }
    }
    if (!endpoint) {
        fprintf(stderr, "usage: zmq_sink ENDPOINT [--bind|--connect] [--count N]\n");
        return 64;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_PULL);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    if ((bind ? zmq_bind(sock, endpoint) : zmq_connect(sock, endpoint)) != 0) {
        fprintf(stderr, "zmq_sink: cannot %s %s: %s\n", bind ? "bind" : "connect", endpoint, zmq_strerror(zmq_errno()));
        zmq_close(sock);
        zmq_ctx_term(ctx);
        return 1;
    }
    long seen = 0;
    while (!s_stop && (count <= 0 || seen < count)) {
        zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 100) <= 0) continue;
        // Read every frame of one message.
        enum { MAXF = LULL_PROTO_MAX_FRAMES + 1 };
        zmq_msg_t frames[MAXF];
        const uint8_t *ptrs[MAXF];
        size_t lens[MAXF];
        size_t n = 0;
        int more = 1;
        bool too_many = false;
        while (more) {
            zmq_msg_t f;
            zmq_msg_init(&f);
            if (zmq_msg_recv(&f, sock, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&f);
                break;
            }
            more = zmq_msg_more(&f);
            if (n < MAXF) {
                frames[n] = f;
                ptrs[n] = zmq_msg_data(&frames[n]);
                lens[n] = zmq_msg_size(&frames[n]);
                n++;
            } else {
                too_many = true;
                zmq_msg_close(&f);
            }
        }
        lull_msg_t m;
        char err[256];
        char *line = NULL;
        if (too_many) snprintf(err, sizeof err, "more than %d frames", LULL_PROTO_MAX_FRAMES);
        if (!too_many && lull_proto_decode_frames(ptrs, lens, n, &m, err, sizeof err) == 0) {
            line = s_render(&m);
            lull_msg_clear(&m);
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "type", "invalid");
            cJSON_AddStringToObject(o, "error", err);
            line = cJSON_PrintUnformatted(o);
            cJSON_Delete(o);
        }
        for (size_t i = 0; i < n; i++) zmq_msg_close(&frames[i]);
        if (line) {
            fputs(line, stdout);
            fputc('\n', stdout);
            fflush(stdout);
            free(line);
        }
        seen++;
    }
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return 0;
}
