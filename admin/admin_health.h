// Admin routes that aggregate the deployment's state: GET /api/v1/health (every health target fetched in
// parallel) and GET /api/v1/config (the effective configuration, secrets masked). Admin thread only.
#ifndef ADMIN_HEALTH_H
#define ADMIN_HEALTH_H

#include "admin_util.h"

// GET /api/v1/health: answers req 200 when every LULL_HEALTH_TARGETS entry is up, 503 when any is down.
void admin_health_check(admin_ctx_t *ctx, admin_req_t *req);
// GET /api/v1/config (and /config): answers req with ctx's configuration document.
void admin_health_config(admin_ctx_t *ctx, admin_req_t *req);

#endif
