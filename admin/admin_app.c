// Start-up and orderly shutdown of lull-admin.
#include "admin_app.h"
#include "admin_http.h"

#include <stdlib.h>

struct admin_app {
    lull_proc_t *proc;
    admin_http_t *http;
};

admin_app_t *admin_app_new(const admin_cfg_t *cfg)
{
    admin_app_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->proc = lull_proc_new(&ADMIN_PROC, cfg, true);
    if (!self->proc) goto fail;
    self->http = admin_http_new(cfg, self->proc->metrics);
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
    lull_proc_destroy(&self->proc);
    free(self);
    *self_p = NULL;
}
