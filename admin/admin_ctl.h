// The admin thread's sockets: a DEALER per scheduler shard (window operations and dry runs as CTL_REQ /
// CTL_REP round trips) and one PUSH to the senders (OUTBOX wake-ups). Admin thread only.
#ifndef ADMIN_CTL_H
#define ADMIN_CTL_H

#include "admin_util.h"
#include "lull_proto.h"

// Connects ctx's sockets: one DEALER per endpoint of controls (in shard order, 1 to 64; none when ctx->map is set:
// admin_ctl_sync makes them)
// and one PUSH connected to every endpoint of senders (may be NULL or empty). 0, or -1 (logged;
// admin_ctl_close frees what was made).
int admin_ctl_open(admin_ctx_t *ctx, const lull_cfg_list_t *controls, const lull_cfg_list_t *senders)
    __attribute__((warn_unused_result));
// Closes every socket of ctx; safe on a context that was never opened.
void admin_ctl_close(admin_ctx_t *ctx);
// Discovery (ctx->map set): when the scheduler map changed, re-makes ctl[] (ctx->nctl) as one DEALER per distinct
// control endpoint of its live nodes, keeping the sockets of endpoints still listed. A no-op for the fixed list.
void admin_ctl_sync(admin_ctx_t *ctx);
// The index in ctl[] of conversation conv's scheduler: its shard (fixed list) or its partition owner's control
// endpoint (discovery, after a sync); -1 when no live scheduler owns it right now.
int admin_ctl_owner(admin_ctx_t *ctx, int64_t conv);
// Sends one CTL_REQ (reqbody: the TRY body, else NULL) to shard and waits up to timeout_ms for its CTL_REP.
// Returns the status (*body owned by the caller, may be NULL) or -1 on timeout / bad reply.
int admin_ctl_call(admin_ctx_t *ctx, int shard, lull_ctl_op_t op, int64_t conv, int32_t limit,
                           const char *reqbody, int64_t timeout_ms, char **body);

#endif
