// The operator routes of the bots lull replaces (the Flask SMS bot, the Rust WhatsApp assistant, the FastAPI
// feedback bot), in their shapes, each an alias of one of lull-admin's own routes: the contact resolved to its
// conversation on the generic channel, the body translated, the answer reshaped. Admin thread only.
#ifndef ADMIN_SEED_H
#define ADMIN_SEED_H

#include "admin_util.h"

#define ADMIN_SEED_MESSAGE_MAX 4000  // bytes of a seed route's "message" (a dry run's text)
#define ADMIN_SEED_CONTACT_MAX 1024  // bytes of a contact id (contacts.external_id)

// The answer shape of a seed dry run (a row's argument, req->arg).
typedef enum {
    ADMIN_SEED_RESPONSE = 0,  // a reply, answered {"response": the reply} (test-openai, generate-response)
    ADMIN_SEED_REPLY,         // a reply, lull's dry-run answer as it is (api/v1/ai/chat)
    ADMIN_SEED_ANALYSIS,      // the analysis, lull's answer as it is (analyze-sentiment, api/v1/ai/analyze)
    ADMIN_SEED_CLASSIFY,      // the analysis, answered {"intent", "confidence"} (api/v1/ai/classify)
} admin_seed_shape_t;

// POST /cancel-timer {"contact_id", "tenant"?}: cancels the window of that contact's generic conversation.
void admin_seed_cancel_timer(admin_ctx_t *ctx, admin_req_t *req);
// POST /test-openai, /generate-response, /analyze-sentiment, /api/v1/ai/{chat,analyze,classify}
// {"message", "tenant"?}: a dry run (admin_try_run) answered in the shape req->arg (admin_seed_shape_t).
void admin_seed_try(admin_ctx_t *ctx, admin_req_t *req);
// GET /api/v1/ai/usage/{user_id}: GET /api/v1/usage for the contact req->id (its query string kept).
void admin_seed_usage(admin_ctx_t *ctx, admin_req_t *req);
// POST /reply/ {"sender_id", "message", "tenant"?}: stores the message as an inbound generic message of that
// contact (lull_ingress_store, as ingress does) and answers a dry run's reply with the stored ids.
void admin_seed_reply(admin_ctx_t *ctx, admin_req_t *req);

#endif
