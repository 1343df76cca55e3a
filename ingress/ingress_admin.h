// The admin HTTP API of lull-ingress (/api/v1/windows, conversations, escalations; the seed's /timers and
// /process-chat): bearer-token check on the HTTP thread, then the work (SQL, the scheduler's control sockets,
// the sender's OUTBOX push) on a pool of admin threads, so a slow database or scheduler never blocks the
// webhook routes. The HTTP side suspends the connection and the done callback resumes it. The routes live in
// the ingress_admin_* modules (windows, convs, dead, health, try, crud) over ingress_admin_util and _ctl.
#ifndef INGRESS_ADMIN_H
#define INGRESS_ADMIN_H

#include "ingress_admin_util.h"
#include "lull_config.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct ingress_admin ingress_admin_t;

// Settings the admin API needs (borrowed for the lifetime of the admin object).
typedef struct {
    const char *database_url;  // libpq URL
    const char *token;         // LULL_ADMIN_TOKEN; NULL or "" = admin routes answer 403 admin_disabled
    const lull_cfg_list_t *controls;  // scheduler control endpoints, in shard order (1..64)
    const lull_cfg_list_t *senders;   // sender PULL endpoints (OUTBOX wake-ups for human replies), may be empty
    int64_t ctl_timeout_ms;    // a scheduler shard that does not answer within this gets 503, milliseconds
    int64_t try_timeout_ms;    // a dry run (test endpoints) not answered within this gets 504, milliseconds
    int64_t queue_max;         // admin requests waiting for the admin threads before new ones get 503
    int64_t threads;           // admin threads (each with its own database connection and sockets), 1..64
    const char *config_json;   // GET /api/v1/config: the effective configuration, secrets masked (copied)
    const lull_cfg_list_t *health_targets;  // name=http://host:port/health items checked by GET /api/v1/health
    int64_t health_timeout_ms; // per target, milliseconds
} ingress_admin_cfg_t;

// The admin request (ingress_admin_req_t) is declared in ingress_admin_util.h.

// True when path (without query) belongs to the admin API.
bool ingress_admin_route(const char *path);
// Starts the admin threads. NULL on failure (logged).
ingress_admin_t *ingress_admin_new(const ingress_admin_cfg_t *cfg);
// Checks the token and queues req. Returns 1 when answered at once (req->status/answer set, done NOT called:
// unauthorised, disabled, overloaded), 0 when queued (done will be called from the admin thread).
int ingress_admin_submit(ingress_admin_t *self, ingress_admin_req_t *req);

// Stops the admin thread: queued requests are answered 503 (their done called), later submits are answered
// 503 at once. Call before stopping the HTTP server (no connection stays suspended); NULL-safe, idempotent.
void ingress_admin_stop(ingress_admin_t *self);
// Stops the admin thread (queued requests are answered 503 and their done called) and frees; NULL-safe.
void ingress_admin_destroy(ingress_admin_t **self_p);

#endif
