// The tables of admin_routes.def.
#include "admin_routes.h"
#include "admin_agents.h"
#include "admin_convs.h"
#include "admin_crud.h"
#include "admin_dead.h"
#include "admin_health.h"
#include "admin_seed.h"
#include "admin_stats.h"
#include "admin_try.h"
#include "admin_windows.h"

const lull_route_t admin_routes[ADMIN_R_COUNT] = {
#define ROUTE(id, m, p, h, arg, a, op, tag, sum, par, body, resp) [ADMIN_R_##id] = {m, p, a, op, tag, sum, par, body, resp},
#include "admin_routes.def"
#undef ROUTE
};

admin_handler_fn *const admin_route_handlers[ADMIN_R_COUNT] = {
#define ROUTE(id, m, p, h, arg, a, op, tag, sum, par, body, resp) [ADMIN_R_##id] = h,
#include "admin_routes.def"
#undef ROUTE
};

const int admin_route_args[ADMIN_R_COUNT] = {
#define ROUTE(id, m, p, h, arg, a, op, tag, sum, par, body, resp) [ADMIN_R_##id] = arg,
#include "admin_routes.def"
#undef ROUTE
};
