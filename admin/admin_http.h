// The HTTP server of lull-admin (libmicrohttpd, suspend/resume): one route table (admin_routes.def) drives
// the dispatch (404, 405 with Allow), the bearer check and the OpenAPI document; an authorised request is
// queued to the admin threads and its connection suspended until its handler answered.
#ifndef ADMIN_HTTP_H
#define ADMIN_HTTP_H

#include "admin_config.h"
#include "admin_inbox.h"
#include "lull_metrics.h"

typedef struct admin_http admin_http_t;

// Starts the admin threads and the server on cfg's LULL_ADMIN_BIND:LULL_ADMIN_PORT; inbox (borrowed, outliving
// the server) answers the inbox page and its event streams. NULL on failure (logged).
admin_http_t *admin_http_new(const admin_cfg_t *cfg, lull_metrics_t *metrics, admin_inbox_t *inbox);
// GET /openapi.json of lull-admin, built from admin_routes.def, the embedded parts and the resource field
// tables; the caller frees. NULL on failure (logged).
char *admin_http_openapi_json(void);
// Answers what the admin threads hold (503 for the queued ones), stops the server and frees it; NULL-safe,
// nulls the pointer.
void admin_http_destroy(admin_http_t **self_p);

#endif
