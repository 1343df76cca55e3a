// Admin routes over conversations: the filtered list, one conversation with its recent messages, analyses and
// escalations, its message pages, the hand-back to the bot, a human agent's reply through the outbox, and the
// escalations list. Admin thread only; each answers req.
#ifndef INGRESS_ADMIN_CONVS_H
#define INGRESS_ADMIN_CONVS_H

#include "ingress_admin_util.h"

// GET /api/v1/conversations?status&channel&q&limit&after
void ingress_admin_convs_list(ingress_admin_ctx_t *ctx, ingress_admin_req_t *req);
// GET /api/v1/conversations/{conv}
void ingress_admin_convs_show(ingress_admin_ctx_t *ctx, ingress_admin_req_t *req, int64_t conv);
// GET /api/v1/conversations/{conv}/messages?limit&after
void ingress_admin_convs_messages(ingress_admin_ctx_t *ctx, ingress_admin_req_t *req, int64_t conv);
// POST /api/v1/conversations/{conv}/handback {"answer_pending"?}
void ingress_admin_convs_handback(ingress_admin_ctx_t *ctx, ingress_admin_req_t *req, int64_t conv);
// POST /api/v1/conversations/{conv}/reply {"body", "idempotency_key"?} (or the Idempotency-Key header)
void ingress_admin_convs_reply(ingress_admin_ctx_t *ctx, ingress_admin_req_t *req, int64_t conv);
// GET /api/v1/escalations?open&limit&after
void ingress_admin_convs_escalations(ingress_admin_ctx_t *ctx, ingress_admin_req_t *req);

#endif
