// What every admin route module shares: the admin request, the admin thread's context (its database
// connection and sockets), the JSON answers and errors, and the readers of query strings, path ids and bodies.
// Admin thread only, except where a comment says otherwise.
#ifndef ADMIN_UTIL_H
#define ADMIN_UTIL_H

#include "lull_config.h"
#include "lull_db.h"
#include "lull_schedmap.h"

#include <cJSON.h>
#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADMIN_MAX_SHARDS LULL_SCHEDMAP_MAX_NODES  // scheduler control endpoints (the fixed list: 64, its setting's bound)
#define ADMIN_LIMIT_DEFAULT 50  // rows of a page when ?limit is absent
#define ADMIN_LIMIT_MAX 1000    // the largest ?limit

// Who acts on a request (plain data): set by the HTTP thread for the bootstrap token, by admin_agents_authorise
// for an agent's token.
typedef struct {
    int64_t id;              // agents.id; 0 = the bootstrap LULL_ADMIN_TOKEN
    char name[65];           // the agent's name ("admin" for the bootstrap token)
    char display_name[129];  // shown to people ("" = the name)
    bool admin;              // role admin (else role agent)
} admin_agent_t;

struct admin_auth;

// One admin request. The caller fills the inputs (borrowed until done is called) and keeps the struct alive
// until then; the admin object fills status and answer (owned by the caller afterwards: free(answer)).
typedef struct admin_req {
    const char *method;          // "GET", "POST", …
    const char *uri;             // raw path + query
    const char *authorization;   // an agent's token (after "Bearer "), to be verified on an admin thread, or NULL
    struct admin_auth *auth;     // the lockout and token cache (borrowed; set with authorization)
    char client[48];             // the client's address (failures are counted per address)
    admin_agent_t agent;         // who acts (valid once authorised; routes without auth: zeros)
    int64_t retry_after_s;       // > 0: the answer carries Retry-After (429)
    const char *idempotency_key; // the Idempotency-Key header, or NULL
    const char *body;            // request body (NUL-terminated), may be ""
    size_t len;                  // body bytes
    int route;                   // the admin_routes.def row (set by the dispatcher)
    int arg;                     // the row's handler argument
    int64_t id;                  // the path's first {…} segment as a positive id (0 when the path has none)
    char id_s[24];               // id in decimal ("" when none)
    void (*done)(struct admin_req *req, void *arg);  // called from the admin thread once answered
    void *done_arg;
    int status;                  // HTTP status of the answer
    char *answer;                // JSON body of the answer (owned)
    struct admin_req *next;  // queue link (internal)
} admin_req_t;

// What one admin thread owns (its database connection and sockets never leave the thread) and the settings
// its routes read (borrowed from the admin object for its lifetime).
typedef struct {
    lull_db_t *db;                              // the thread's database connection (owned)
    zsock_t *ctl[ADMIN_MAX_SHARDS];     // a DEALER per scheduler shard, in shard order (owned)
    int nctl;                                   // scheduler shards
    // discovery (LULL_SCHEDULER_CONTROLS empty): ctl[] holds a DEALER per distinct control endpoint of the live
    // nodes of snap, ctl_ep[] their endpoints (owned), re-made by admin_ctl_sync when the map changed
    lull_schedmap_t *map;                       // the process's scheduler map (borrowed), NULL = the fixed list
    lull_schedmap_snap_t *snap;                 // the snapshot ctl[] follows (owned reference), or NULL
    char *ctl_ep[ADMIN_MAX_SHARDS];
    zsock_t *senders;                           // PUSH to every sender (OUTBOX wake-ups), or NULL (owned)
    uint64_t next_req_id;                       // the last CTL_REQ id sent
    int64_t ctl_timeout_ms;                     // a shard's answer to a window operation, milliseconds
    int64_t try_timeout_ms;                     // a dry run's answer, milliseconds
    const lull_cfg_list_t *health_targets;      // name=url items checked by GET /api/v1/health
    int64_t health_timeout_ms;                  // per health target, milliseconds
    const char *config_json;                    // the effective configuration, secrets masked
} admin_ctx_t;

// A route's handler (admin_routes.def): answers req on an admin thread.
typedef void admin_handler_fn(admin_ctx_t *ctx, admin_req_t *req);

// Sets req's answer to status and body (owned; NULL body = 500 out of memory). Any thread.
void admin_util_answer(admin_req_t *req, int status, char *body);
// Sets req's answer to {"error":{"code","message"}} with status. Any thread.
void admin_util_error(admin_req_t *req, int status, const char *code, const char *message);
// Answers the last failed query of ctx's connection: 503 when the database is unreachable, else 500 (logged).
void admin_util_db_error(admin_ctx_t *ctx, admin_req_t *req);
// Runs sql (returning one text column, one row) and answers it with status 200; NULL row → 404 not_found with
// the message not_found (NULL: "not found").
void admin_util_sql_answer(admin_ctx_t *ctx, admin_req_t *req, const char *sql, int n,
                                   const char *const *p, const char *not_found);
// Copies the percent-decoded query parameter key of uri into out (cap bytes); false when absent or invalid.
bool admin_util_query(const char *uri, const char *key, char *out, size_t cap);
// Reads an integer query parameter in [min, max] (absent → def); false when invalid (req answered 400).
bool admin_util_query_int(admin_req_t *req, const char *key, int64_t def, int64_t min, int64_t max,
                                  int64_t *out);
// A keyset page's query parameters, as integers and as texts for SQL parameters.
typedef struct {
    int64_t limit;      // ?limit: rows, 1..ADMIN_LIMIT_MAX (absent: ADMIN_LIMIT_DEFAULT)
    int64_t after;      // ?after: the last id of the page before, 0.. (absent: 0)
    char limit_s[24];   // limit in decimal
    char after_s[24];   // after in decimal
} admin_page_t;

// Reads ?limit then ?after of req into page; false when one is invalid (req answered 400).
bool admin_util_page(admin_req_t *req, admin_page_t *page) __attribute__((warn_unused_result));
// Parses a positive id at p (up to '/', '?', '#' or end); *rest points after it. false when not an id.
bool admin_util_path_id(const char *p, int64_t *id, const char **rest);
// True when v is one of the NULL-terminated set.
bool admin_util_one_of(const char *v, const char *const *set);
// True when channel names an input channel; else answers req 400 naming the accepted ones.
bool admin_util_channel_ok(admin_req_t *req, const char *channel);
// Parses req's JSON body (empty = {}): an object the caller deletes, or NULL with req answered 400.
cJSON *admin_util_body(admin_req_t *req) __attribute__((warn_unused_result));

#endif
