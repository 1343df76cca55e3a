// Admin routes over the scheduler's windows: the list merged from every shard (GET /api/v1/windows, the
// seed's GET /timers) and cancel / flush forwarded to a conversation's shard. Admin thread only.
#ifndef ADMIN_WINDOWS_H
#define ADMIN_WINDOWS_H

#include "admin_util.h"
#include "lull_proto.h"

// GET /api/v1/windows (seed = false) or GET /timers (seed = true, the seed's shape): answers req.
void admin_windows_list(admin_ctx_t *ctx, admin_req_t *req);  // the seed's /timers shape when req->arg
// POST /api/v1/windows/{conv}/cancel|flush, POST /process-chat: forwards op to conv's shard and answers req.
void admin_windows_op(admin_ctx_t *ctx, admin_req_t *req);  // conversation req->id, op req->arg (lull_ctl_op_t)
// POST /process-chat {"conversation_id"}: flushes that window.
void admin_windows_process_chat(admin_ctx_t *ctx, admin_req_t *req);

#endif
