// lull-admin as a whole: the process kit (log, ops server, database check) and the admin server with its
// threads, started and stopped in order.
#ifndef ADMIN_APP_H
#define ADMIN_APP_H

#include "admin_config.h"

typedef struct admin_app admin_app_t;

// Starts everything from cfg (borrowed for the app's life). NULL on failure (logged).
admin_app_t *admin_app_new(const admin_cfg_t *cfg);
// Serves until SIGTERM/SIGINT. Returns 0.
int admin_app_run(admin_app_t *self);
// Stops accepting, answers what the admin threads hold, stops the server; NULL-safe, nulls the pointer.
void admin_app_destroy(admin_app_t **self_p);

#endif
