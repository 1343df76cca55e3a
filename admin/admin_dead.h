// Admin routes over dead letters (common/lull_dead): the filtered list and replays, one or by filter. Admin
// thread only; each answers req.
#ifndef ADMIN_DEAD_H
#define ADMIN_DEAD_H

#include "admin_util.h"

// GET /api/v1/dead-letters?tenant&channel&since&limit&before
void admin_dead_list(admin_ctx_t *ctx, admin_req_t *req);
// POST /api/v1/dead-letters/{id}/replay
void admin_dead_replay(admin_ctx_t *ctx, admin_req_t *req);  // outbox row req->id
// POST /api/v1/dead-letters/replay {"tenant"?, "channel"?, "since"?, "all"?}: an empty filter must say all:true.
void admin_dead_replay_all(admin_ctx_t *ctx, admin_req_t *req);

#endif
