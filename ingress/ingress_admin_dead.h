// Admin routes over dead letters (common/lull_dead): the filtered list and replays, one or by filter. Admin
// thread only; each answers req.
#ifndef INGRESS_ADMIN_DEAD_H
#define INGRESS_ADMIN_DEAD_H

#include "ingress_admin_util.h"

// GET /api/v1/dead-letters?tenant&channel&since&limit&before
void ingress_admin_dead_list(ingress_admin_ctx_t *ctx, ingress_admin_req_t *req);
// POST /api/v1/dead-letters/{id}/replay
void ingress_admin_dead_replay(ingress_admin_ctx_t *ctx, ingress_admin_req_t *req, int64_t id);
// POST /api/v1/dead-letters/replay {"tenant"?, "channel"?, "since"?, "all"?}: an empty filter must say all:true.
void ingress_admin_dead_replay_all(ingress_admin_ctx_t *ctx, ingress_admin_req_t *req);

#endif
