// One row per HTTP route of a server (lull-ingress, lull-admin): the row drives the dispatch (404 for an
// unknown path, 405 with Allow built from the rows of the path), the bearer check (done once, by the
// dispatcher, from the row's auth) and the OpenAPI paths (lull_openapi). Each server lists its rows once, in
// its <tier>_routes.def X-macro file, and builds this table and its handler table from it.
#ifndef LULL_ROUTE_H
#define LULL_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    LULL_AUTH_NONE = 0,  // public
    LULL_AUTH_ADMIN,     // Authorization: Bearer <a token of role admin> (lull-admin: the bootstrap token or an agent's)
    LULL_AUTH_AGENT,     // Authorization: Bearer <a token of role agent or admin>
} lull_auth_t;
// The first name of LULL_AUTH_ADMIN: a row that says only "a bearer token" needs the admin role.
#define LULL_AUTH_BEARER LULL_AUTH_ADMIN

#define LULL_ROUTE_MAX_ARGS 2  // {name} segments in one path pattern
#define LULL_ROUTE_ALLOW_MAX 64  // bytes of an Allow header

typedef struct {
    const char *method;     // "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"
    const char *path;       // pattern: literal segments and {name} segments (one non-empty segment each)
    lull_auth_t auth;       // who may call it (the role a token needs)
    const char *op_id;      // OpenAPI operationId
    const char *tag;        // OpenAPI tag
    const char *summary;    // OpenAPI summary
    const char *params;     // space-separated components/parameters names, or NULL
    const char *body;       // components/requestBodies name, or NULL
    const char *responses;  // space-separated "status" (components/responses Error<status>) or "status=name"
} lull_route_t;

// The segments a pattern's {name}s matched, in order (pointers into the path, not NUL-terminated).
typedef struct {
    const char *arg[LULL_ROUTE_MAX_ARGS];
    size_t len[LULL_ROUTE_MAX_ARGS];
    int nargs;
} lull_route_args_t;

// True when path (no query) matches pattern; args (may be NULL) gets the {name} segments.
bool lull_route_match(const char *pattern, const char *path, lull_route_args_t *args);
// The row of rows[0..n) for method and path: its index; -1 when no row has the path (404); -2 when rows
// have the path but not the method (405: allow gets their methods, comma-separated, cap bytes).
int lull_route_find(const lull_route_t *rows, size_t n, const char *method, const char *path, lull_route_args_t *args,
                    char *allow, size_t cap);

#endif
