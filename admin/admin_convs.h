// Admin routes over conversations: the filtered list, one conversation with its recent messages, analyses and
// escalations, its message pages, the hand-back to the bot, a human agent's reply through the outbox, and the
// escalations list. Admin thread only; each answers req.
#ifndef ADMIN_CONVS_H
#define ADMIN_CONVS_H

#include "admin_util.h"

// GET /api/v1/conversations?status&channel&q&limit&after
void admin_convs_list(admin_ctx_t *ctx, admin_req_t *req);
// GET /api/v1/conversations/{conv}
void admin_convs_show(admin_ctx_t *ctx, admin_req_t *req);  // conversation req->id
// GET /api/v1/conversations/{conv}/messages?limit&after
void admin_convs_messages(admin_ctx_t *ctx, admin_req_t *req);  // conversation req->id
// POST /api/v1/conversations/{conv}/handback {"answer_pending"?}
void admin_convs_handback(admin_ctx_t *ctx, admin_req_t *req);  // conversation req->id
// POST /api/v1/conversations/{conv}/takeover {"pause_ms"?}: the bot is silent, nothing is sent
void admin_convs_takeover(admin_ctx_t *ctx, admin_req_t *req);  // conversation req->id
// POST /api/v1/conversations/{conv}/reply {"body", "idempotency_key"?} (or the Idempotency-Key header)
void admin_convs_reply(admin_ctx_t *ctx, admin_req_t *req);  // conversation req->id
// GET /api/v1/escalations?open&limit&after
void admin_convs_escalations(admin_ctx_t *ctx, admin_req_t *req);

#endif
