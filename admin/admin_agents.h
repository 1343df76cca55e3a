// The people who work in lull-admin: their tokens (format, parsing, the check on the HTTP thread and the
// verification against the agents table on an admin thread), their roles, the agent acting on a request, and
// the routes that add, list and revoke agents.
#ifndef ADMIN_AGENTS_H
#define ADMIN_AGENTS_H

#include "admin_auth.h"
#include "admin_util.h"

#include <stdbool.h>
#include <stdint.h>

#define ADMIN_AGENTS_PREFIX "lla_"   // every agent token starts so: "lla_<agent id>_<43 base64url characters>"
#define ADMIN_AGENTS_SECRET_LEN 43   // base64url (no padding) of 32 random bytes
#define ADMIN_AGENTS_TOKEN_MAX 96    // bytes of a token, NUL included

// True when token is an agent token "lla_<id>_<secret>" (id: 1 to 18 digits, no leading zero; secret: exactly
// ADMIN_AGENTS_SECRET_LEN base64url characters); *id (may be NULL) gets the id and *secret (may be NULL) points
// at the secret inside token.
bool admin_agents_token_parse(const char *token, int64_t *id, const char **secret);

// The HTTP thread's answer to a request's credentials (before any body is read).
typedef enum {
    ADMIN_AGENTS_OK = 0,    // the bootstrap token: req->agent is the admin
    ADMIN_AGENTS_VERIFY,    // an agent token: verified by admin_agents_authorise on an admin thread
    ADMIN_AGENTS_DISABLED,  // 403 admin_disabled: no bootstrap token is set and this is no agent token
    ADMIN_AGENTS_REFUSED,   // 401 unauthorized (a failure counted against the address when a header was given)
    ADMIN_AGENTS_LOCKED,    // 429 too_many_failures: req->retry_after_s is set
} admin_agents_check_t;

// Checks the Authorization header (may be NULL) of req from req->client against the bootstrap token (may be
// ""; compared in constant time) and the lockout of auth. Fills req->agent, or req->authorization and
// req->auth for ADMIN_AGENTS_VERIFY. HTTP thread.
admin_agents_check_t admin_agents_check(admin_auth_t *auth, const char *bootstrap, const char *header,
                                        admin_req_t *req);

// Admin thread, before the route's handler: verifies an agent token (its row, its hash; the revocation is read
// on every request) and the role the route needs. True when the handler may run; false when req is answered
// (401, 403 "requires role admin", 429, 503).
bool admin_agents_authorise(admin_ctx_t *ctx, admin_req_t *req);

// The agent acting on req (after authorisation): id 0 and name "admin" for the bootstrap token. Borrowed from
// req.
const admin_agent_t *admin_req_agent(const admin_req_t *req);
// The agent's id as SQL text parameter into buf: NULL for the bootstrap token, else buf.
const char *admin_agents_id_param(const admin_req_t *req, char *buf, size_t cap);

// GET /api/v1/agents: every agent (never a token or a hash), keyset paged.
void admin_agents_list(admin_ctx_t *ctx, admin_req_t *req);
// POST /api/v1/agents {"name","role"?,"display_name"?}: 201 with the token, shown this once.
void admin_agents_create(admin_ctx_t *ctx, admin_req_t *req);
// POST /api/v1/agents/revoke {"name"}: the active agent of that name can no longer sign in.
void admin_agents_revoke(admin_ctx_t *ctx, admin_req_t *req);
// GET /api/v1/agents/me: who the token belongs to (name, display name, role).
void admin_agents_me(admin_ctx_t *ctx, admin_req_t *req);

#endif
