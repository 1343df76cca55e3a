// Start-up and orderly shutdown of lull-ingress.
#include "ingress_app.h"
#include "ingress_http.h"
#include "ingress_writer.h"
#include "lull_log.h"
#include "lull_schedmap.h"

#include <stdlib.h>

struct ingress_app {
    const ingress_cfg_t *cfg;
    lull_proc_t *proc;
    lull_schedmap_t *schedmap;  // the scheduler map when LULL_SCHEDULERS is empty, else NULL
    ingress_writer_t *writer;
    ingress_writer_t *readers;  // history reads, off the writers' connections
    ingress_http_t *http;
};

ingress_app_t *ingress_app_new(const ingress_cfg_t *cfg)
{
    ingress_app_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->cfg = cfg;
    self->proc = lull_proc_new(&INGRESS_PROC, cfg, true);
    if (!self->proc) goto fail;
    if (!*cfg->twilio_auth_token || !*cfg->tiktok_secret) {
        if (cfg->dev_allow_unsigned)
            LOG_WARN("dev.allow_unsigned",
                     "LULL_DEV_ALLOW_UNSIGNED is on: channels without a secret accept UNSIGNED webhooks (development only)",
                     "twilio_signed", LB(*cfg->twilio_auth_token != '\0'), "tiktok_signed",
                     LB(*cfg->tiktok_secret != '\0'));
        else
            LOG_WARN("channel.not_configured", "channels without a secret refuse every webhook", "twilio",
                     LB(*cfg->twilio_auth_token != '\0'), "tiktok", LB(*cfg->tiktok_secret != '\0'));
    }
    if (cfg->schedulers.n == 0) {  // no fixed shards: INBOUND goes to the partition's owner
        self->schedmap = lull_schedmap_new(cfg->common.database_url, cfg->sched_map_refresh_ms, self->proc->metrics);
        if (!self->schedmap) goto fail;
    }
    ingress_writer_cfg_t wc = {
        .database_url = cfg->common.database_url,
        .schedulers = &cfg->schedulers,
        .schedmap = self->schedmap,
        .writers = (int)cfg->writers,
        .spill = (int)cfg->writer_spill,
        .batch_max = (int)cfg->batch_max,
        .batch_wait_us = cfg->batch_wait_us,
        .queue_max = (int)cfg->queue_max,
        .inbound_hwm = (int)cfg->inbound_hwm,
        .history_limit = (int)cfg->history_limit,
        .metrics = self->proc->metrics,
    };
    self->writer = ingress_writer_new(&wc);
    if (!self->writer) goto fail;
    ingress_writer_cfg_t rc = {.database_url = cfg->common.database_url, .writers = (int)cfg->readers, .batch_max = 1,
                               .queue_max = (int)cfg->read_queue_max, .history_limit = (int)cfg->history_limit,
                               .metrics = self->proc->metrics, .pool = "reader"};
    self->readers = ingress_writer_new(&rc);
    if (!self->readers) goto fail;
    self->http = ingress_http_new(cfg, self->writer, self->readers, self->proc->metrics);
    if (!self->http) goto fail;
    return self;
fail:
    ingress_app_destroy(&self);
    return NULL;
}

int ingress_app_run(ingress_app_t *self) { return lull_proc_run(self->proc); }

void ingress_app_destroy(ingress_app_t **self_p)
{
    if (!self_p || !*self_p) return;
    ingress_app_t *self = *self_p;
    ingress_http_quiesce(self->http);     // no new connections
    ingress_writer_stop(self->writer);      // commits and answers what it holds (resumes every connection)
    ingress_writer_stop(self->readers);
    ingress_http_destroy(&self->http);
    ingress_writer_destroy(&self->writer);
    ingress_writer_destroy(&self->readers);
    lull_schedmap_destroy(&self->schedmap);  // after the writers, which hold its snapshots
    lull_proc_destroy(&self->proc);
    free(self);
    *self_p = NULL;
}
