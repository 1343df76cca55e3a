// Start-up and orderly shutdown of lull-admin.
#include "admin_app.h"
#include "admin_http.h"
#include "admin_inbox.h"
#include "admin_stats.h"

#include <stdlib.h>

struct admin_app {
    lull_proc_t *proc;
    admin_inbox_t *inbox;  // the inbox's LISTEN connection and event streams
    admin_http_t *http;
};

admin_app_t *admin_app_new(const admin_cfg_t *cfg)
{
    admin_app_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->proc = lull_proc_new(&ADMIN_PROC, cfg, true);
    if (!self->proc) goto fail;
    admin_stats_set_limits(cfg->inbox_list_max, cfg->stats_rows_max);
    admin_inbox_cfg_t ic = {.database_url = cfg->common.database_url, .streams_max = cfg->inbox_streams_max,
                            .heartbeat_ms = cfg->inbox_heartbeat_ms, .lifetime_ms = cfg->inbox_lifetime_ms,
                            .debounce_ms = cfg->inbox_debounce_ms, .poll_ms = cfg->inbox_poll_ms,
                            .metrics = self->proc->metrics};
    self->inbox = admin_inbox_new(&ic);
    if (!self->inbox) goto fail;
    self->http = admin_http_new(cfg, self->proc->metrics, self->inbox);
    if (!self->http) goto fail;
    return self;
fail:
    admin_app_destroy(&self);
    return NULL;
}

int admin_app_run(admin_app_t *self) { return lull_proc_run(self->proc); }

void admin_app_destroy(admin_app_t **self_p)
{
    if (!self_p || !*self_p) return;
    admin_app_t *self = *self_p;
    admin_http_destroy(&self->http);
    admin_inbox_destroy(&self->inbox);
    lull_proc_destroy(&self->proc);
    free(self);
    *self_p = NULL;
}
