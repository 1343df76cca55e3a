// Process life cycle shared by the four tiers.
#include "lull_proc.h"
#include "lull_log.h"

#include <czmq.h>
#include "lull_signal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#ifndef LULL_SCHEMA_VERSION
#define LULL_SCHEMA_VERSION 0
#endif

static const lull_common_cfg_t *s_common(const lull_proc_spec_t *spec, const void *cfg)
{
    return (const lull_common_cfg_t *)((const char *)cfg + spec->common_offset);
}

// Raises the soft limit of open files to the hard one (at most 1,048,576), as a login shell's 1024 would hold a worker
// at a thousand LLM connections and an ingress at a thousand clients (every server here polls, so descriptors past
// 1023 are fine: common/lull_httpd.h). The systemd units set LimitNOFILE themselves; nothing to do then.
static void s_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)1048576 ? (rlim_t)1048576 : rl.rlim_max;
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want) return;
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        LOG_WARN("proc.nofile_failed", "cannot raise the open-file limit; it stays", "limit", LI(was));
        return;
    }
    LOG_INFO("proc.nofile", "open-file limit raised to the hard limit", "from", LI(was), "to", LI(want));
}

int lull_proc_init(int argc, char **argv, const lull_proc_spec_t *spec, void *cfg, int *exit_code)
{
    char proc[48];
    snprintf(proc, sizeof proc, "lull-%s", spec->name);
    if (lull_config_main(argc, argv, spec->settings, spec->nsettings, cfg, proc, spec->about, exit_code) != 0)
        return -1;
    const lull_common_cfg_t *c = s_common(spec, cfg);
    int level = lull_log_level_parse(c->log_level);
    if (level < 0) {
        fprintf(stderr, "%s: LULL_LOG_LEVEL: expected debug, info, warn or error, got '%s'\n", proc, c->log_level);
        lull_config_free(spec->settings, spec->nsettings, cfg);
        *exit_code = LULL_EXIT_CONFIG;
        return -1;
    }
    if (lull_log_open(spec->name, c->log_file, (lull_log_level_t)level) != 0) {
        fprintf(stderr, "%s: LULL_LOG_FILE: cannot open '%s' for appending\n", proc, c->log_file);
        lull_config_free(spec->settings, spec->nsettings, cfg);
        *exit_code = 73;  // EX_CANTCREAT
        return -1;
    }
    // czmq installs its own SIGINT/SIGTERM handlers when the first socket is created; lull_signal owns them.
    zsys_handler_set(NULL);
    if (lull_signal_install() != 0) {
        LOG_ERROR("signal.install_failed", "cannot install signal handlers");
        lull_config_free(spec->settings, spec->nsettings, cfg);
        *exit_code = 71;  // EX_OSERR
        return -1;
    }
    LOG_INFO("start", "starting", "schema_version", LI(LULL_SCHEMA_VERSION));
    s_raise_nofile();
    lull_config_log(spec->settings, spec->nsettings, cfg);
    // Every connection of the process checks the schema (at start and at each reconnect). A server that answers
    // with a schema this build must not use stops the start here, for every tier; an unreachable one does not.
    lull_db_require_schema(LULL_SCHEMA_VERSION);
    if (c->database_url && *c->database_url) {
        lull_db_t *probe = lull_db_new(c->database_url);
        bool refused = probe && lull_db_schema_refused(probe);
        lull_db_destroy(&probe);
        if (refused) {
            lull_config_free(spec->settings, spec->nsettings, cfg);
            *exit_code = LULL_EXIT_CONFIG;
            return -1;
        }
    }
    return 0;
}

void lull_proc_fini(const lull_proc_spec_t *spec, void *cfg, int exit_code)
{
    LOG_INFO("stop", "stopped", "exit_code", LI(exit_code));
    lull_config_free(spec->settings, spec->nsettings, cfg);
    lull_log_close();
}

static void s_db_tick(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    lull_proc_t *self = arg;
    bool up = lull_db_connect(self->db) == 0;
    lull_ops_set_check(self->ops, "db", up, up ? NULL : lull_db_error(self->db));
}

lull_proc_t *lull_proc_new(const lull_proc_spec_t *spec, const void *cfg, bool want_db)
{
    lull_proc_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->spec = spec;
    self->common = s_common(spec, cfg);
    self->metrics = lull_metrics_default();
    self->loop = lull_loop_new();
    if (!self->loop || !self->metrics) goto fail;
    self->ops = lull_ops_new(spec->name, self->common->ops_bind, (int)self->common->ops_port, self->metrics);
    if (!self->ops) goto fail;
    if (want_db) {
        lull_ops_set_check(self->ops, "db", false, "connecting");  // /health is not ok before the db is
        self->db = lull_db_new(self->common->database_url);
        if (!self->db) goto fail;
        if (lull_db_schema_refused(self->db)) goto fail;  // logged (db.schema_mismatch / db.schema_unknown)
        if (!lull_db_connected(self->db)) {
            LOG_WARN("db.unavailable", "database unreachable at start; retrying in the background", "error",
                     LS(lull_db_error(self->db)));
        }
        lull_ops_set_check(self->ops, "db", lull_db_connected(self->db), NULL);
        self->db_timer = lull_loop_add_timer(self->loop, 1000, 1000, s_db_tick, self);
    }
    return self;
fail:
    lull_proc_destroy(&self);
    return NULL;
}

void lull_proc_destroy(lull_proc_t **self_p)
{
    if (!self_p || !*self_p) return;
    lull_proc_t *self = *self_p;
    lull_ops_destroy(&self->ops);
    lull_db_destroy(&self->db);
    lull_loop_destroy(&self->loop);
    free(self);
    *self_p = NULL;
}

int lull_proc_run(lull_proc_t *self)
{
    LOG_INFO("ready", "running");
    lull_loop_run(self->loop);
    LOG_INFO("stopping", "shutdown requested");
    return 0;
}
