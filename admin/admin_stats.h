// The inbox's reads: the list of conversations that need a person (also fed to the inbox event stream), the
// "seen" mark behind the unread counts, and the 24-hour overview. One bounded SQL statement each.
#ifndef ADMIN_STATS_H
#define ADMIN_STATS_H

#include "admin_util.h"

// Sets the limits the handlers read (LULL_ADMIN_INBOX_LIST_MAX, LULL_ADMIN_STATS_ROWS_MAX). Call once at start,
// before any handler runs.
void admin_stats_set_limits(int64_t list_max, int64_t rows_max);
// The inbox list as JSON text ({"conversations":[…],"generated_at"}), read on db: escalated first (longest
// waiting first), then paused, then the most recent. The caller frees; NULL on a database error.
char *admin_stats_inbox_json(lull_db_t *db);

// GET /api/v1/inbox: the inbox list.
void admin_stats_inbox(admin_ctx_t *ctx, admin_req_t *req);
// POST /api/v1/inbox/{conversation_id}/seen: an agent opened the conversation (its unread count drops to 0).
void admin_stats_seen(admin_ctx_t *ctx, admin_req_t *req);
// GET /api/v1/stats/overview: the last 24 hours per hour and cost per tenant.
void admin_stats_overview(admin_ctx_t *ctx, admin_req_t *req);

// GET /api/v1/inbox/events with an agent's token: the token was verified on this admin thread (as for every
// handler); answers 200 with no body, and the HTTP thread then starts the event stream (admin_http.c).
void admin_inbox_events_check(admin_ctx_t *ctx, admin_req_t *req);

#endif
