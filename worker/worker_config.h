// Settings of lull-worker: the table behind --help, the README and the effective-configuration log line.
#ifndef WORKER_CONFIG_H
#define WORKER_CONFIG_H

#include "lull_config.h"
#include "lull_proc.h"

typedef struct {
    lull_common_cfg_t common;
    char *schedulers;  // comma-separated ROUTER endpoints of the scheduler shards
} worker_cfg_t;

// The process description (name, about, settings table) for lull_proc_init.
extern const lull_proc_spec_t WORKER_PROC;

#endif
