// What every admin route module shares: the admin request, the admin thread's context (its database
// connection and sockets), the JSON answers and errors, and the readers of query strings, path ids and bodies.
// Admin thread only, except where a comment says otherwise.
#ifndef INGRESS_ADMIN_UTIL_H
#define INGRESS_ADMIN_UTIL_H

#include "lull_config.h"
#include "lull_db.h"

#include <cJSON.h>
#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INGRESS_ADMIN_MAX_SHARDS 64     // scheduler control endpoints
#define INGRESS_ADMIN_LIMIT_DEFAULT 50  // rows of a page when ?limit is absent
#define INGRESS_ADMIN_LIMIT_MAX 1000    // the largest ?limit

// One admin request. The caller fills the inputs (borrowed until done is called) and keeps the struct alive
// until then; the admin object fills status and answer (owned by the caller afterwards: free(answer)).
typedef struct ingress_admin_req {
    const char *method;          // "GET", "POST", …
    const char *uri;             // raw path + query
    const char *authorization;   // the Authorization header, or NULL
    const char *idempotency_key; // the Idempotency-Key header, or NULL
    const char *body;            // request body (NUL-terminated), may be ""
    size_t len;                  // body bytes
    void (*done)(struct ingress_admin_req *req, void *arg);  // called from the admin thread once answered
    void *done_arg;
    int status;                  // HTTP status of the answer
    char *answer;                // JSON body of the answer (owned)
    struct ingress_admin_req *next;  // queue link (internal)
} ingress_admin_req_t;

// What one admin thread owns (its database connection and sockets never leave the thread) and the settings
// its routes read (borrowed from the admin object for its lifetime).
typedef struct {
    lull_db_t *db;                              // the thread's database connection (owned)
    zsock_t *ctl[INGRESS_ADMIN_MAX_SHARDS];     // a DEALER per scheduler shard, in shard order (owned)
    int nctl;                                   // scheduler shards
    zsock_t *senders;                           // PUSH to every sender (OUTBOX wake-ups), or NULL (owned)
    uint64_t next_req_id;                       // the last CTL_REQ id sent
    int64_t ctl_timeout_ms;                     // a shard's answer to a window operation, milliseconds
    int64_t try_timeout_ms;                     // a dry run's answer, milliseconds
    const lull_cfg_list_t *health_targets;      // name=url items checked by GET /api/v1/health
    int64_t health_timeout_ms;                  // per health target, milliseconds
    const char *config_json;                    // the effective configuration, secrets masked
} ingress_admin_ctx_t;

// Sets req's answer to status and body (owned; NULL body = 500 out of memory). Any thread.
void ingress_admin_util_answer(ingress_admin_req_t *req, int status, char *body);
// Sets req's answer to {"error":{"code","message"}} with status. Any thread.
void ingress_admin_util_error(ingress_admin_req_t *req, int status, const char *code, const char *message);
// Answers the last failed query of ctx's connection: 503 when the database is unreachable, else 500 (logged).
void ingress_admin_util_db_error(ingress_admin_ctx_t *ctx, ingress_admin_req_t *req);
// Runs sql (returning one text column, one row) and answers it with status 200; NULL row → 404 not_found with
// the message not_found (NULL: "not found").
void ingress_admin_util_sql_answer(ingress_admin_ctx_t *ctx, ingress_admin_req_t *req, const char *sql, int n,
                                   const char *const *p, const char *not_found);
// Copies the percent-decoded query parameter key of uri into out (cap bytes); false when absent or invalid.
bool ingress_admin_util_query(const char *uri, const char *key, char *out, size_t cap);
// Reads an integer query parameter in [min, max] (absent → def); false when invalid (req answered 400).
bool ingress_admin_util_query_int(ingress_admin_req_t *req, const char *key, int64_t def, int64_t min, int64_t max,
                                  int64_t *out);
// A keyset page's query parameters, as integers and as texts for SQL parameters.
typedef struct {
    int64_t limit;      // ?limit: rows, 1..INGRESS_ADMIN_LIMIT_MAX (absent: INGRESS_ADMIN_LIMIT_DEFAULT)
    int64_t after;      // ?after: the last id of the page before, 0.. (absent: 0)
    char limit_s[24];   // limit in decimal
    char after_s[24];   // after in decimal
} ingress_admin_page_t;

// Reads ?limit then ?after of req into page; false when one is invalid (req answered 400).
bool ingress_admin_util_page(ingress_admin_req_t *req, ingress_admin_page_t *page) __attribute__((warn_unused_result));
// Parses a positive id at p (up to '/', '?', '#' or end); *rest points after it. false when not an id.
bool ingress_admin_util_path_id(const char *p, int64_t *id, const char **rest);
// True when v is one of the NULL-terminated set.
bool ingress_admin_util_one_of(const char *v, const char *const *set);
// True when channel names an input channel; else answers req 400 naming the accepted ones.
bool ingress_admin_util_channel_ok(ingress_admin_req_t *req, const char *channel);
// Parses req's JSON body (empty = {}): an object the caller deletes, or NULL with req answered 400.
cJSON *ingress_admin_util_body(ingress_admin_req_t *req) __attribute__((warn_unused_result));

#endif
