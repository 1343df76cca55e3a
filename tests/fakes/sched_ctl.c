// sched_ctl: a tiny control client for lull-scheduler (the pattern the admin API reuses).
// Usage: sched_ctl [--req] ENDPOINT list [LIMIT [AFTER]] | cancel CONV | flush CONV   (--req: a REQ socket, whose
//        empty delimiter frame the scheduler must handle; default DEALER)
//        sched_ctl ENDPOINT inbound CONV MSG TENANT [CHANNEL]   (pushes one INBOUND, as ingress does)
//        sched_ctl shard CONV NSHARDS                           (prints lull_proto_shard)
// Prints the CTL_REP body on stdout and "status N" on stderr; exits 0 for 2xx, status/100 otherwise, 2 on a
// usage error or no answer within 5 s.
#include "lull_clock.h"
#include "lull_proto.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    bool req_socket = argc > 1 && strcmp(argv[1], "--req") == 0;
    if (req_socket) {
        argv++;
        argc--;
    }
    if (argc < 3 || (strcmp(argv[2], "list") != 0 && argc < 4)) {
        fprintf(stderr, "usage: sched_ctl ENDPOINT list [LIMIT [AFTER]] | cancel CONV | flush CONV\n");
        return 2;
    }
    zsys_handler_set(NULL);
    int rc = 2;
    if (strcmp(argv[1], "shard") == 0) {  // sched_ctl shard CONV N: the shard lull_proto_shard gives
        if (argc < 4) return 2;
        printf("%d\n", lull_proto_shard(strtoll(argv[2], NULL, 10), atoi(argv[3])));
        return 0;
    }
    if (strcmp(argv[2], "inbound") == 0) {
        if (argc < 6) return 2;
        zsock_t *push = zsock_new(ZMQ_PUSH);
        if (!push) return 2;
        zsock_set_linger(push, 2000);  // let the message leave before exit
        lull_msg_t in = {.type = LULL_MSG_INBOUND};
        in.u.inbound.conversation_id = strtoll(argv[3], NULL, 10);
        in.u.inbound.message_id = strtoll(argv[4], NULL, 10);
        in.u.inbound.tenant_id = strtoll(argv[5], NULL, 10);
        in.u.inbound.received_ms = lull_clock_wall_ms();
        snprintf(in.u.inbound.channel, sizeof in.u.inbound.channel, "%s", argc > 6 ? argv[6] : "generic");
        if (zsock_connect(push, "%s", argv[1]) == 0 && lull_proto_send(push, &in, 0) == 0) rc = 0;
        zsock_destroy(&push);
        return rc;
    }
    int op = lull_ctl_op_from_name(argv[2]);
    if (op < 0) {
        fprintf(stderr, "sched_ctl: unknown operation '%s'\n", argv[2]);
        return 2;
    }
    zsock_t *s = zsock_new(req_socket ? ZMQ_REQ : ZMQ_DEALER);
    if (!s) return 2;
    zsock_set_linger(s, 0);
    zsock_set_rcvtimeo(s, 5000);
    if (zsock_connect(s, "%s", argv[1]) != 0) goto done;
    lull_msg_t req = {.type = LULL_MSG_CTL_REQ};
    req.u.ctl_req.req_id = (uint64_t)getpid();
    req.u.ctl_req.op = (lull_ctl_op_t)op;
    if (op == LULL_CTL_LIST) {
        req.u.ctl_req.limit = argc > 3 ? atoi(argv[3]) : 0;
        req.u.ctl_req.conversation_id = argc > 4 ? strtoll(argv[4], NULL, 10) : 0;  // list after this id
    }
    else req.u.ctl_req.conversation_id = strtoll(argv[3], NULL, 10);
    if (lull_proto_send(s, &req, 0) != 0) goto done;
    zmsg_t *z = zmsg_recv(s);
    if (!z) {
        fprintf(stderr, "sched_ctl: no answer\n");
        goto done;
    }
    lull_msg_t rep;
    char err[160];
    if (lull_proto_decode(z, &rep, err, sizeof err) == 0 && rep.type == LULL_MSG_CTL_REP &&
        rep.u.ctl_rep.req_id == req.u.ctl_req.req_id) {
        printf("%s\n", rep.u.ctl_rep.body ? rep.u.ctl_rep.body : "");
        fprintf(stderr, "status %d\n", rep.u.ctl_rep.status);
        rc = rep.u.ctl_rep.status / 100 == 2 ? 0 : rep.u.ctl_rep.status / 100;
    } else {
        fprintf(stderr, "sched_ctl: bad reply: %s\n", err);
    }
    lull_msg_clear(&rep);
    zmsg_destroy(&z);
done:
    zsock_destroy(&s);
    return rc;
}
