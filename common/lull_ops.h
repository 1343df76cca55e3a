// The per-process ops HTTP server: GET /health (JSON, named checks) and GET /metrics (Prometheus text),
// served from its own libmicrohttpd thread.
#ifndef LULL_OPS_H
#define LULL_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "lull_metrics.h"

typedef struct lull_ops lull_ops_t;

#define LULL_OPS_MAX_CHECKS 16

// Starts the ops server on bind:port for process proc, rendering metrics from registry (borrowed for the
// server's life). port 0 → no server (a valid object that serves nothing). NULL on failure (logged).
lull_ops_t *lull_ops_new(const char *proc, const char *bind, int port, lull_metrics_t *metrics);
// Stops the server and frees it; NULL-safe, nulls the pointer.
void lull_ops_destroy(lull_ops_t **self_p);
// Sets a named health check (e.g. "db", true, NULL). /health answers 503 while any check is false.
// detail (may be NULL) is copied. Thread-safe.
void lull_ops_set_check(lull_ops_t *self, const char *name, bool ok, const char *detail);
// Port the server listens on (0 when off).
int lull_ops_port(const lull_ops_t *self);

#endif
