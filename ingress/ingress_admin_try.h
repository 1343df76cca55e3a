// Admin dry runs: POST /api/v1/test/reply and /api/v1/test/analyse run the reply or analysis pipeline on a
// worker, through a scheduler shard, without storing or sending anything. Admin thread only.
#ifndef INGRESS_ADMIN_TRY_H
#define INGRESS_ADMIN_TRY_H

#include "ingress_admin_util.h"

// POST /api/v1/test/reply (analyse = false) | /api/v1/test/analyse (analyse = true) {"text", "tenant"? (slug,
// default "default") | "tenant_id"?}: answers req with the worker's answer, 504 when no shard answered.
void ingress_admin_try_run(ingress_admin_ctx_t *ctx, ingress_admin_req_t *req, bool analyse);

#endif
