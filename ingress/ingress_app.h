// lull-ingress as a whole: the process kit (log, ops server, database check), the group-commit writer and the
// webhook server, started and stopped in order.
#ifndef INGRESS_APP_H
#define INGRESS_APP_H

#include "ingress_config.h"

typedef struct ingress_app ingress_app_t;

// Starts everything from cfg (borrowed for the app's life). NULL on failure (logged).
ingress_app_t *ingress_app_new(const ingress_cfg_t *cfg);
// Serves until SIGTERM/SIGINT. Returns 0.
int ingress_app_run(ingress_app_t *self);
// Stops accepting, lets the writer finish what it holds, stops the server; NULL-safe, nulls the pointer.
void ingress_app_destroy(ingress_app_t **self_p);

#endif
