// Settings of lull-scheduler: the table behind --help, the README and the effective-configuration log line.
#ifndef SCHED_CONFIG_H
#define SCHED_CONFIG_H

#include "lull_config.h"
#include "lull_proc.h"

typedef struct {
    lull_common_cfg_t common;
    char *inbound_endpoint;  // PULL endpoint bound for INBOUND wake-ups
    char *worker_endpoint;   // ROUTER endpoint bound for workers
} sched_cfg_t;

// The process description (name, about, settings table) for lull_proc_init.
extern const lull_proc_spec_t SCHED_PROC;

#endif
