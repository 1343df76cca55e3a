// fake_sched_ctl --bind ENDPOINT --name NAME [--windows CONV,CONV,…]: the control side of one scheduler, for
// lull-admin's tests. Binds a ROUTER and answers every CTL_REQ as the scheduler does: LIST with the listed windows
// above the request's conversation id (at most its limit, "more" when some were left out), CANCEL / FLUSH with 200
// and {"conversation_id","node":NAME} for a listed window and 404 otherwise. Prints one JSON line per request on
// stdout (flushed): {"op":"cancel","conversation_id":7}. Exits 0 on SIGTERM/SIGINT.
#include "lull_proto.h"

#include <cJSON.h>
#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_WINDOWS 1024

static volatile sig_atomic_t s_stop;
static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static int s_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

// The answer to req: status and a JSON body (the caller frees).
static int s_answer(const lull_msg_t *req, const char *name, const int64_t *wins, int nwins, char **body)
{
    cJSON *o = cJSON_CreateObject();
    int status = 200;
    int64_t conv = req->u.ctl_req.conversation_id;
    if (req->u.ctl_req.op == LULL_CTL_LIST) {
        cJSON *arr = cJSON_AddArrayToObject(o, "windows");
        int n = 0;
        bool more = false;
        for (int i = 0; i < nwins; i++) {
            if (wins[i] <= conv) continue;
            if (n >= req->u.ctl_req.limit) {
                more = true;
                break;
            }
            cJSON *w = cJSON_CreateObject();
            cJSON_AddNumberToObject(w, "conversation_id", (double)wins[i]);
            cJSON_AddNumberToObject(w, "seconds_left", 1.5);
            cJSON_AddStringToObject(w, "node", name);
            cJSON_AddItemToArray(arr, w);
            n++;
        }
        cJSON_AddNumberToObject(o, "total", nwins);
        cJSON_AddBoolToObject(o, "more", more);
    } else {
        bool found = false;
        for (int i = 0; i < nwins && !found; i++) found = wins[i] == conv;
        status = found ? 200 : 404;
        cJSON_AddNumberToObject(o, "conversation_id", (double)conv);
        cJSON_AddStringToObject(o, "node", name);
    }
    *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return status;
}

int main(int argc, char **argv)
{
    const char *bind = NULL, *name = "fake", *list = "";
    for (int i = 1; i < argc; i++) {
        bool has = i + 1 < argc;
        if (strcmp(argv[i], "--bind") == 0 && has) bind = argv[++i];
        else if (strcmp(argv[i], "--name") == 0 && has) name = argv[++i];
        else if (strcmp(argv[i], "--windows") == 0 && has) list = argv[++i];
        else {
            fprintf(stderr, "usage: fake_sched_ctl --bind ENDPOINT --name NAME [--windows CONV,CONV,…]\n");
            return 2;
        }
    }
    if (!bind) return 2;
    static int64_t wins[S_MAX_WINDOWS];
    int nwins = 0;
    for (const char *p = list; *p && nwins < S_MAX_WINDOWS;) {
        char *end = NULL;
        long long v = strtoll(p, &end, 10);
        if (end == p) break;
        wins[nwins++] = v;
        p = *end == ',' ? end + 1 : end;
    }
    qsort(wins, (size_t)nwins, sizeof wins[0], s_cmp);
    zsys_handler_set(NULL);
    signal(SIGTERM, s_on_signal);
    signal(SIGINT, s_on_signal);
    zsock_t *router = zsock_new(ZMQ_ROUTER);
    if (!router || zsock_bind(router, "%s", bind) < 0) {
        fprintf(stderr, "fake_sched_ctl: cannot bind %s\n", bind);
        zsock_destroy(&router);
        return 1;
    }
    printf("{\"type\":\"listening\",\"endpoint\":\"%s\"}\n", bind);
    fflush(stdout);
    while (!s_stop) {
        zmq_pollitem_t it = {.socket = zsock_resolve(router), .events = ZMQ_POLLIN};
        if (zmq_poll(&it, 1, 100) <= 0) continue;
        zmsg_t *zm = zmsg_recv_nowait(router);
        if (!zm) continue;
        zframe_t *id = zmsg_pop(zm);
        lull_msg_t req;
        char err[128];
        if (!id || lull_proto_decode(zm, &req, err, sizeof err) != 0 || req.type != LULL_MSG_CTL_REQ) {
            zframe_destroy(&id);
            zmsg_destroy(&zm);
            continue;
        }
        zmsg_destroy(&zm);
        printf("{\"op\":\"%s\",\"conversation_id\":%lld}\n", lull_ctl_op_name(req.u.ctl_req.op),
               (long long)req.u.ctl_req.conversation_id);
        fflush(stdout);
        lull_msg_t rep = {.type = LULL_MSG_CTL_REP};
        rep.u.ctl_rep.req_id = req.u.ctl_req.req_id;
        rep.u.ctl_rep.status = s_answer(&req, name, wins, nwins, &rep.u.ctl_rep.body);
        if (zframe_send(&id, router, ZFRAME_MORE) == 0) (void)lull_proto_send(router, &rep, ZMQ_DONTWAIT);
        zframe_destroy(&id);
        lull_msg_clear(&rep);
        lull_msg_clear(&req);
    }
    zsock_destroy(&router);
    return 0;
}
