// Admin routes over the scheduler's windows: the list merged from every shard (GET /api/v1/windows, the
// seed's GET /timers) and cancel / flush forwarded to a conversation's shard. Admin thread only.
#ifndef INGRESS_ADMIN_WINDOWS_H
#define INGRESS_ADMIN_WINDOWS_H

#include "ingress_admin_util.h"
#include "lull_proto.h"

// GET /api/v1/windows (seed = false) or GET /timers (seed = true, the seed's shape): answers req.
void ingress_admin_windows_list(ingress_admin_ctx_t *ctx, ingress_admin_req_t *req, bool seed);
// POST /api/v1/windows/{conv}/cancel|flush, POST /process-chat: forwards op to conv's shard and answers req.
void ingress_admin_windows_op(ingress_admin_ctx_t *ctx, ingress_admin_req_t *req, int64_t conv, lull_ctl_op_t op);

#endif
