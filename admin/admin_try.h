// Admin dry runs: POST /api/v1/test/reply and /api/v1/test/analyse run the reply or analysis pipeline on a
// worker, through a scheduler shard, without storing or sending anything. Admin thread only.
#ifndef ADMIN_TRY_H
#define ADMIN_TRY_H

#include "admin_util.h"

// POST /api/v1/test/reply (analyse = false) | /api/v1/test/analyse (analyse = true) {"text", "tenant"? (slug,
// default "default") | "tenant_id"?}: answers req with the worker's answer, 504 when no shard answered.
void admin_try_run(admin_ctx_t *ctx, admin_req_t *req);  // the analysis only when req->arg

#endif
