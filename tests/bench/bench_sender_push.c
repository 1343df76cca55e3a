// bench_sender_push: pushes OUTBOX wake-ups to a sender, as workers do after a commit.
//   bench_sender_push ENDPOINT ID [COUNT]   sends COUNT (default 1) OUTBOX{ID} messages, non-blocking
// Used by the sender's tests (a wake-up alone starts a delivery) and available to benchmarks.
#include "lull_proto.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[1], "--help") == 0) {
        fprintf(argc < 3 ? stderr : stdout, "usage: bench_sender_push ENDPOINT OUTBOX_ID [COUNT]\n");
        return argc < 3 ? 64 : 0;
    }
    long long id = strtoll(argv[2], NULL, 10);
    long count = argc > 3 ? strtol(argv[3], NULL, 10) : 1;
    if (id < 0 || count < 1 || count > 10000000) return 64;
    zsys_handler_set(NULL);
    zsock_t *push = zsock_new(ZMQ_PUSH);
    if (!push || zsock_connect(push, "%s", argv[1]) != 0) {
        fprintf(stderr, "bench_sender_push: cannot connect to %s\n", argv[1]);
        zsock_destroy(&push);
        return 1;
    }
    zsock_set_linger(push, 2000);  // let queued messages leave before exit
    lull_msg_t m = {.type = LULL_MSG_OUTBOX, .u.outbox.outbox_id = id};
    long sent = 0;
    for (long i = 0; i < count; i++)
        if (lull_proto_send(push, &m, 0) == 0) sent++;
    zsock_destroy(&push);
    printf("pushed %ld\n", sent);
    return sent == count ? 0 : 1;
}
