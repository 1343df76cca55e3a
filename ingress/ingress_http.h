// The public HTTP server (webhooks, web chat, /health, /openapi.json) (libmicrohttpd, epoll, suspend/resume): routes, limits, signature checks, strict
// parsing; a valid request is handed to the writer and its connection suspended until the writer has
// committed it, then answered.
#ifndef INGRESS_HTTP_H
#define INGRESS_HTTP_H

#include "ingress_config.h"
#include "ingress_writer.h"
#include "lull_metrics.h"

typedef struct ingress_http ingress_http_t;

// Starts the server on cfg's LULL_HTTP_BIND:LULL_HTTP_PORT handing rows to writer and history reads to readers
// (both borrowed). NULL on failure (logged).
ingress_http_t *ingress_http_new(const ingress_cfg_t *cfg, ingress_writer_t *writer, ingress_writer_t *readers,
                                 lull_metrics_t *metrics);
// GET /openapi.json of lull-ingress, built from ingress_routes.def and the embedded parts; the caller frees.
// NULL on failure (logged).
char *ingress_http_openapi_json(void);
// Stops accepting new connections (the writer may still finish what it holds).
void ingress_http_quiesce(ingress_http_t *self);
// Stops the server and frees it; NULL-safe, nulls the pointer. Call after the writer finished its items.
void ingress_http_destroy(ingress_http_t **self_p);

#endif
