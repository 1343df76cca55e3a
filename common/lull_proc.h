// What every lull process does around its real work: --help, configuration (exit 78 on a bad value), the
// JSON log, signals, the ops server (/health, /metrics), the database with its schema check, and the loop.
#ifndef LULL_PROC_H
#define LULL_PROC_H

#include <stdbool.h>
#include <stddef.h>

#include "lull_config.h"
#include "lull_db.h"
#include "lull_loop.h"
#include "lull_metrics.h"
#include "lull_ops.h"

// Static description of a process.
typedef struct {
    const char *name;                 // "ingress"; the binary is lull-<name>
    const char *about;                // one paragraph for --help
    const lull_setting_t *settings;   // the process's settings table (LULL_COMMON_SETTINGS first)
    size_t nsettings;
    size_t common_offset;             // offsetof(cfg struct, common)
} lull_proc_spec_t;

// The runtime kit of a process: loop, metrics, ops server and (optionally) database.
typedef struct {
    const lull_proc_spec_t *spec;
    const lull_common_cfg_t *common;  // borrowed from the process config
    lull_loop_t *loop;
    lull_metrics_t *metrics;          // the process-wide registry
    lull_ops_t *ops;
    lull_db_t *db;                    // NULL when the process was started without one
    int db_timer;                     // loop timer that reconnects and updates the "db" health check
} lull_proc_t;

// Parses arguments and settings into cfg, opens the log, installs signal handlers, logs the effective
// configuration. 0 to go on; -1 when main should return *exit_code now (help printed, bad argument 64,
// bad setting 78, log not writable 73).
int lull_proc_init(int argc, char **argv, const lull_proc_spec_t *spec, void *cfg, int *exit_code)
    __attribute__((warn_unused_result));
// Logs the stop, frees cfg's strings and closes the log.
void lull_proc_fini(const lull_proc_spec_t *spec, void *cfg, int exit_code);
// Creates the kit: loop, ops server, and when want_db the database (schema checked against
// LULL_SCHEMA_VERSION; an unreachable server is retried in the background, a wrong schema fails).
// NULL on failure (logged).
lull_proc_t *lull_proc_new(const lull_proc_spec_t *spec, const void *cfg, bool want_db);
// Destroys the kit; NULL-safe, nulls the pointer.
void lull_proc_destroy(lull_proc_t **self_p);
// Runs the loop until SIGTERM/SIGINT. Returns 0.
int lull_proc_run(lull_proc_t *self);

#endif
