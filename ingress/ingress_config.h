// Settings of lull-ingress: the table behind --help, the README and the effective-configuration log line.
#ifndef INGRESS_CONFIG_H
#define INGRESS_CONFIG_H

#include "lull_config.h"
#include "lull_proc.h"

typedef struct {
    lull_common_cfg_t common;
    char *schedulers;  // comma-separated ZeroMQ endpoints of the scheduler shards
} ingress_cfg_t;

// The process description (name, about, settings table) for lull_proc_init.
extern const lull_proc_spec_t INGRESS_PROC;

#endif
