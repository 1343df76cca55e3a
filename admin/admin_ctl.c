// The admin thread's scheduler control and sender sockets: connecting them (the fixed list, or the control
// endpoints of the scheduler map, followed as it changes), the owner of a conversation, and the CTL_REQ / CTL_REP
// round trip.
#include "admin_ctl.h"
#include "lull_clock.h"
#include "lull_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// A DEALER for one control endpoint: never queues for a peer that is not there (no stale cancel later).
static zsock_t *s_dealer(const char *ep)
{
    zsock_t *s = zsock_new(ZMQ_DEALER);
    if (!s) return NULL;
    zsock_set_linger(s, 0);
    zsock_set_sndhwm(s, 1000);
    zsock_set_immediate(s, 1);
    if (zsock_connect(s, "%s", ep) != 0) {
        LOG_ERROR("admin.endpoint_invalid", "cannot connect to an endpoint", "endpoint", LS(ep));
        zsock_destroy(&s);
    }
    return s;
}

// Connects to every endpoint of list: one socket per endpoint into out[] (shared = false), or one socket
// connected to all of them in out[0] (shared = true). Returns the number of endpoints, -1 on error.
static int s_connect_list(const lull_cfg_list_t *list, int type, bool shared, zsock_t **out, int max)
{
    int n = 0;
    for (size_t i = 0; list && i < list->n; i++) {
        const char *ep = list->items[i];
        if (n >= max && !shared) return -1;
        zsock_t *s = shared && out[0] ? out[0] : NULL;
        if (!s) {
            s = zsock_new(type);
            if (!s) return -1;
            zsock_set_linger(s, 0);
            zsock_set_sndhwm(s, 1000);
            zsock_set_immediate(s, 1);  // never queue for a peer that is not there (no stale cancel later)
            out[shared ? 0 : n] = s;
        }
        if (zsock_connect(s, "%s", ep) != 0) {
            LOG_ERROR("admin.endpoint_invalid", "cannot connect to an endpoint", "endpoint", LS(ep));
            return -1;
        }
        n++;
    }
    return n;
}

int admin_ctl_open(admin_ctx_t *ctx, const lull_cfg_list_t *controls, const lull_cfg_list_t *senders)
{
    ctx->nctl = ctx->map ? 0 : s_connect_list(controls, ZMQ_DEALER, false, ctx->ctl, ADMIN_MAX_SHARDS);
    if (ctx->nctl <= 0 && !ctx->map) {
        LOG_ERROR("admin.controls_invalid", "LULL_SCHEDULER_CONTROLS needs 1 to 64 valid endpoints");
        ctx->nctl = 0;
        return -1;
    }
    zsock_t *snd[1] = {NULL};
    int ns = s_connect_list(senders, ZMQ_PUSH, true, snd, 1);
    ctx->senders = snd[0];
    if (ns < 0) {
        LOG_ERROR("admin.senders_invalid", "LULL_SENDERS holds an invalid endpoint");
        return -1;
    }
    return 0;
}

void admin_ctl_close(admin_ctx_t *ctx)
{
    for (int i = 0; i < ADMIN_MAX_SHARDS; i++) {
        zsock_destroy(&ctx->ctl[i]);
        free(ctx->ctl_ep[i]);
        ctx->ctl_ep[i] = NULL;
    }
    ctx->nctl = 0;
    zsock_destroy(&ctx->senders);
    lull_schedmap_snap_release(&ctx->snap);
}

void admin_ctl_sync(admin_ctx_t *ctx)
{
    uint64_t v = lull_schedmap_version(ctx->map);
    if (!ctx->map || v == 0 || (ctx->snap && ctx->snap->version == v)) return;
    lull_schedmap_snap_t *snap = lull_schedmap_get(ctx->map);
    if (!snap) return;
    zsock_t *socks[ADMIN_MAX_SHARDS] = {0};
    char *eps[ADMIN_MAX_SHARDS] = {0};
    int n = 0;
    for (int k = 0; k < snap->nnodes && n < ADMIN_MAX_SHARDS; k++) {
        const char *ep = snap->nodes[k].control;
        bool seen = false;
        for (int j = 0; j < n && !seen; j++) seen = strcmp(eps[j], ep) == 0;
        if (seen) continue;
        zsock_t *s = NULL;
        for (int j = 0; j < ctx->nctl && !s; j++)  // still listed: keep its socket
            if (ctx->ctl[j] && ctx->ctl_ep[j] && strcmp(ctx->ctl_ep[j], ep) == 0) {
                s = ctx->ctl[j];
                ctx->ctl[j] = NULL;
            }
        if (!s) s = s_dealer(ep);
        char *dup = s ? strdup(ep) : NULL;
        if (!dup) {
            zsock_destroy(&s);
            continue;
        }
        socks[n] = s;
        eps[n++] = dup;
    }
    for (int j = 0; j < ADMIN_MAX_SHARDS; j++) {
        zsock_destroy(&ctx->ctl[j]);
        free(ctx->ctl_ep[j]);
        ctx->ctl[j] = socks[j];
        ctx->ctl_ep[j] = eps[j];
    }
    ctx->nctl = n;
    lull_schedmap_snap_release(&ctx->snap);
    ctx->snap = snap;
    LOG_DEBUG("admin.schedmap", "control sockets follow the scheduler map", "version", LI(snap->version), "nodes",
              LI(n));
}

int admin_ctl_owner(admin_ctx_t *ctx, int64_t conv)
{
    if (!ctx->map) return ctx->nctl > 0 ? lull_proto_shard(conv, ctx->nctl) : -1;
    admin_ctl_sync(ctx);
    const lull_schednode_t *owner = lull_schedmap_snap_owner(ctx->snap, conv);
    for (int j = 0; owner && j < ctx->nctl; j++)
        if (ctx->ctl[j] && strcmp(ctx->ctl_ep[j], owner->control) == 0) return j;
    return -1;
}

int admin_ctl_call(admin_ctx_t *ctx, int shard, lull_ctl_op_t op, int64_t conv, int32_t limit,
                           const char *reqbody, int64_t timeout_ms, char **body)
{
    *body = NULL;
    lull_msg_t m = {.type = LULL_MSG_CTL_REQ};
    m.u.ctl_req.req_id = ++ctx->next_req_id;
    m.u.ctl_req.op = op;
    m.u.ctl_req.conversation_id = conv;
    m.u.ctl_req.limit = limit;
    m.u.ctl_req.body = (char *)reqbody;
    if (shard < 0 || shard >= ctx->nctl || !ctx->ctl[shard]) return -1;
    void *sock = zsock_resolve(ctx->ctl[shard]);
    int64_t deadline = lull_clock_mono_ms() + timeout_ms;
    // discovery: a socket the map just made may still be connecting (ZMQ_IMMEDIATE queues nothing until then), so
    // wait for it, at most LULL_ADMIN_CTL_TIMEOUT_MS; the fixed list's sockets connected at start (absent: -1 now)
    int64_t connect_by = lull_clock_mono_ms() + (ctx->map ? ctx->ctl_timeout_ms : 0);
    if (connect_by > deadline) connect_by = deadline;
    zmq_pollitem_t out = {.socket = sock, .events = ZMQ_POLLOUT};
    while (lull_proto_send(sock, &m, ZMQ_DONTWAIT) != 0) {
        int64_t left = connect_by - lull_clock_mono_ms();
        if (errno != EAGAIN || left <= 0 || zmq_poll(&out, 1, (long)(left < 50 ? left : 50)) < 0) return -1;
    }
    for (;;) {
        int64_t left = deadline - lull_clock_mono_ms();
        if (left <= 0) return -1;
        zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};
        int n = zmq_poll(&it, 1, (long)left);
        if (n < 0) return -1;
        if (n == 0) continue;
        zmsg_t *z = zmsg_recv_nowait(ctx->ctl[shard]);
        if (!z) continue;
        lull_msg_t rep;
        char err[160];
        int rc = lull_proto_decode(z, &rep, err, sizeof err);
        zmsg_destroy(&z);
        if (rc != 0 || rep.type != LULL_MSG_CTL_REP) {
            if (rc == 0) lull_msg_clear(&rep);
            LOG_WARN("admin.ctl_bad_reply", rc ? err : "not a CTL_REP", "shard", LI(shard));
            continue;
        }
        if (rep.u.ctl_rep.req_id != m.u.ctl_req.req_id) {  // a late answer to a request that timed out
            lull_msg_clear(&rep);
            continue;
        }
        int status = rep.u.ctl_rep.status;
        *body = rep.u.ctl_rep.body;
        rep.u.ctl_rep.body = NULL;
        lull_msg_clear(&rep);
        return status;
    }
}
