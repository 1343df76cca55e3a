// INBOUND wake-ups of one ingress writer thread (see the header): the fixed shards, or the scheduler map's
// partition owners with a PUSH per distinct inbound endpoint, re-made when the map changes.
#include "ingress_wake.h"
#include "lull_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_MAX_SHARDS 64

// A PUSH socket to one discovered scheduler's inbound endpoint.
typedef struct {
    char endpoint[LULL_SCHEDMAP_ENDPOINT_MAX + 1];
    void *sock;
} s_push_t;

struct ingress_wake {
    ingress_wake_cfg_t cfg;
    void *push[S_MAX_SHARDS];  // the fixed shards, in order
    int nshards;
    // the map: the snapshot in use, a PUSH per distinct inbound endpoint, and per node of the snapshot the index
    // of its PUSH (-1: none could be opened)
    lull_schedmap_snap_t *snap;
    s_push_t *dpush;
    int ndpush;
    int *node_push;
};

static void *s_open_push(ingress_wake_t *self, const char *endpoint)
{
    void *s = zmq_socket(self->cfg.zctx, ZMQ_PUSH);
    int hwm = self->cfg.hwm, linger = 0;
    if (!s) return NULL;
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(s, endpoint) != 0) {
        LOG_ERROR("inbound.connect_failed", "cannot connect the INBOUND push socket", "endpoint", LS(endpoint), "error",
                  LS(zmq_strerror(errno)));
        zmq_close(s);
        return NULL;
    }
    return s;
}

// Discovery: when the scheduler map changed, keeps the PUSH of every inbound endpoint still listed, closes the
// others and opens the new ones. On failure (memory) the previous snapshot and sockets stay in use.
static void s_sync_map(ingress_wake_t *self)
{
    uint64_t v = lull_schedmap_version(self->cfg.map);
    if (v == 0 || (self->snap && self->snap->version == v)) return;
    lull_schedmap_snap_t *snap = lull_schedmap_get(self->cfg.map);
    int n = snap ? snap->nnodes : 0;
    s_push_t *np = calloc((size_t)n + 1, sizeof *np);
    int *node_push = calloc((size_t)n + 1, sizeof *node_push);
    if (!snap || !np || !node_push) {
        free(np);
        free(node_push);
        lull_schedmap_snap_release(&snap);
        return;
    }
    int nn = 0;
    for (int i = 0; i < n; i++) {
        const char *ep = snap->nodes[i].inbound;
        int k = 0;
        while (k < nn && strcmp(np[k].endpoint, ep) != 0) k++;
        if (k == nn) {  // a new distinct endpoint: reuse the open socket, else connect one
            snprintf(np[nn].endpoint, sizeof np[nn].endpoint, "%s", ep);
            for (int j = 0; j < self->ndpush && !np[nn].sock; j++)
                if (self->dpush[j].sock && strcmp(self->dpush[j].endpoint, ep) == 0) {
                    np[nn].sock = self->dpush[j].sock;
                    self->dpush[j].sock = NULL;
                }
            if (!np[nn].sock) np[nn].sock = s_open_push(self, ep);
            nn++;
        }
        node_push[i] = np[k].sock ? k : -1;
    }
    int closed = 0;
    for (int j = 0; j < self->ndpush; j++)
        if (self->dpush[j].sock) {
            zmq_close(self->dpush[j].sock);
            closed++;
        }
    free(self->dpush);
    free(self->node_push);
    lull_schedmap_snap_release(&self->snap);
    self->dpush = np;
    self->ndpush = nn;
    self->node_push = node_push;
    self->snap = snap;
    LOG_INFO("inbound.map", "INBOUND wake-ups follow the scheduler map", "version", LI(snap->version), "nodes",
             LI(snap->nnodes), "endpoints", LI(nn), "closed", LI(closed), "owned", LI(snap->owned));
}

// The PUSH for conversation conv: its shard's (fixed list) or its partition owner's (discovery); NULL when none.
static void *s_push_for(ingress_wake_t *self, int64_t conv)
{
    if (!self->cfg.map) return self->nshards ? self->push[lull_proto_shard(conv, self->nshards)] : NULL;
    s_sync_map(self);
    const lull_schednode_t *owner = lull_schedmap_snap_owner(self->snap, conv);
    int k = owner ? self->node_push[owner - self->snap->nodes] : -1;
    if (k < 0) {  // no live owner (none yet, or a hand-over): the new owner's recovery finds the message
        lull_counter_add(self->cfg.unowned, 1);
        LOG_DEBUG("inbound.unowned", "INBOUND dropped: no scheduler owns the conversation's partition right now", "conv",
                  LI(conv));
        return NULL;
    }
    return self->dpush[k].sock;
}

ingress_wake_t *ingress_wake_new(const ingress_wake_cfg_t *cfg)
{
    ingress_wake_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->cfg = *cfg;
    if (cfg->map) {
        LOG_INFO("inbound.discover", "INBOUND wake-ups go to the owner of each conversation's partition (scheduler map)");
        return self;
    }
    const lull_cfg_list_t *eps = cfg->schedulers;
    for (size_t i = 0; eps && i < eps->n && self->nshards < S_MAX_SHARDS; i++) {
        void *s = s_open_push(self, eps->items[i]);
        if (s) self->push[self->nshards++] = s;
    }
    LOG_INFO("inbound.shards", "INBOUND wake-ups go to the scheduler shards", "shards", LI(self->nshards));
    return self;
}

void ingress_wake_destroy(ingress_wake_t **self_p)
{
    if (!self_p || !*self_p) return;
    ingress_wake_t *self = *self_p;
    for (int i = 0; i < self->nshards; i++) zmq_close(self->push[i]);
    for (int i = 0; i < self->ndpush; i++)
        if (self->dpush[i].sock) zmq_close(self->dpush[i].sock);
    free(self->dpush);
    free(self->node_push);
    lull_schedmap_snap_release(&self->snap);
    free(self);
    *self_p = NULL;
}

void ingress_wake_inbound(ingress_wake_t *self, const lull_msg_t *msg)
{
    void *push = s_push_for(self, msg->u.inbound.conversation_id);
    if (!push) return;
    if (lull_proto_send(push, msg, ZMQ_DONTWAIT) == 0) {
        lull_counter_add(self->cfg.pushed, 1);
    } else {
        lull_counter_add(self->cfg.dropped, 1);
        LOG_DEBUG("inbound.dropped", "INBOUND not queued (scheduler slow or absent; its sweep recovers)", "conv",
                  LI(msg->u.inbound.conversation_id));
    }
}
