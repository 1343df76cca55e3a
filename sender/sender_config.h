// Settings of lull-sender: the table behind --help, the README and the effective-configuration log line.
#ifndef SENDER_CONFIG_H
#define SENDER_CONFIG_H

#include "lull_config.h"
#include "lull_proc.h"

typedef struct {
    lull_common_cfg_t common;
    char *outbox_endpoint;  // PULL endpoint bound for OUTBOX wake-ups
} sender_cfg_t;

// The process description (name, about, settings table) for lull_proc_init.
extern const lull_proc_spec_t SENDER_PROC;

#endif
