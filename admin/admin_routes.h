// The route table of lull-admin, built from admin_routes.def: the rows (dispatch, bearer check, OpenAPI paths)
// and their handlers, both indexed by admin_route_t.
#ifndef ADMIN_ROUTES_H
#define ADMIN_ROUTES_H

#include "admin_util.h"
#include "lull_route.h"

typedef enum {
#define ROUTE(id, m, p, h, arg, a, op, tag, sum, par, body, resp) ADMIN_R_##id,
#include "admin_routes.def"
#undef ROUTE
    ADMIN_R_COUNT
} admin_route_t;

extern const lull_route_t admin_routes[ADMIN_R_COUNT];
// The handler of each row (NULL: answered by the HTTP thread: /health, /openapi.json) and its argument.
extern admin_handler_fn *const admin_route_handlers[ADMIN_R_COUNT];
extern const int admin_route_args[ADMIN_R_COUNT];

#endif
