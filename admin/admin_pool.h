// The admin threads of lull-admin: the work of each admin request (SQL, the scheduler's control sockets, the
// sender's OUTBOX push) runs on a pool of threads, so a slow database or scheduler never blocks the HTTP
// thread. The HTTP side suspends the connection and the done callback resumes it. The routes live in the
// admin_* modules (windows, convs, dead, health, try, crud) over admin_util and admin_ctl.
#ifndef ADMIN_POOL_H
#define ADMIN_POOL_H

#include "admin_util.h"
#include "lull_config.h"
#include "lull_metrics.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct admin_pool admin_pool_t;

// Settings the admin API needs (borrowed for the lifetime of the admin object).
typedef struct {
    const char *database_url;  // libpq URL
    const lull_cfg_list_t *controls;  // scheduler control endpoints, in shard order (0..64; 0 = the scheduler map)
    int64_t sched_map_refresh_ms;     // the scheduler map's reload period (controls empty), milliseconds
    lull_metrics_t *metrics;          // for the scheduler map's metrics (borrowed), may be NULL
    const lull_cfg_list_t *senders;   // sender PULL endpoints (OUTBOX wake-ups for human replies), may be empty
    int64_t ctl_timeout_ms;    // a scheduler shard that does not answer within this gets 503, milliseconds
    int64_t try_timeout_ms;    // a dry run (test endpoints) not answered within this gets 504, milliseconds
    int64_t queue_max;         // admin requests waiting for the admin threads before new ones get 503
    int64_t threads;           // admin threads (each with its own database connection and sockets), 1..64
    const char *config_json;   // GET /api/v1/config: the effective configuration, secrets masked (copied)
    const lull_cfg_list_t *health_targets;  // name=http://host:port/health items checked by GET /api/v1/health
    int64_t health_timeout_ms; // per target, milliseconds
} admin_pool_cfg_t;

// The admin request (admin_req_t) is declared in admin_util.h.

// Starts the admin threads. NULL on failure (logged).
admin_pool_t *admin_pool_new(const admin_pool_cfg_t *cfg);
// Queues req (routed and authorised: req->route set). Returns 1 when answered at once (req->status/answer set,
// done NOT called: overloaded, stopping), 0 when queued (done will be called from the admin thread).
int admin_pool_submit(admin_pool_t *self, admin_req_t *req);

// Stops the admin thread: queued requests are answered 503 (their done called), later submits are answered
// 503 at once. Call before stopping the HTTP server (no connection stays suspended); NULL-safe, idempotent.
void admin_pool_stop(admin_pool_t *self);
// Stops the admin thread (queued requests are answered 503 and their done called) and frees; NULL-safe.
void admin_pool_destroy(admin_pool_t **self_p);

#endif
