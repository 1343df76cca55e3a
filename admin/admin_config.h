// Settings of lull-admin: the table behind --help, the README and the effective-configuration log line.
#ifndef ADMIN_CONFIG_H
#define ADMIN_CONFIG_H

#include "lull_config.h"
#include "lull_proc.h"

typedef struct {
    lull_common_cfg_t common;
    char *bind;                // IPv4 address the admin server binds
    int64_t port;              // port of the admin server
    char *token;               // secret; "" = admin API disabled (403)
    int64_t max_body_bytes;    // larger bodies get 413
    int64_t http_timeout_s;    // idle connection timeout, seconds
    int64_t max_connections;   // concurrent connections in total
    int64_t head_timeout_ms;   // a request's head must arrive whole within this, milliseconds
    int64_t body_timeout_ms;   // a request's body must arrive whole within this of its head, milliseconds
    int64_t per_ip_limit;      // concurrent connections per client address; 0 = no limit
    lull_cfg_list_t scheduler_controls;  // scheduler control endpoints, shard order (windows routes; 1..64)
    lull_cfg_list_t senders;   // sender PULL endpoints (OUTBOX wake-ups of human replies; 0..64)
    int64_t ctl_timeout_ms;    // scheduler control answer timeout, milliseconds
    int64_t try_timeout_ms;    // dry run (test endpoints) answer timeout, milliseconds
    int64_t threads;           // admin threads, each with its own database connection and sockets
    int64_t queue_max;         // admin requests waiting before new ones get 503
    lull_cfg_list_t health_targets;  // name=http://host:port/health items (GET /api/v1/health; 0..16)
} admin_cfg_t;

// The process description (name, about, settings table) for lull_proc_init.
extern const lull_proc_spec_t ADMIN_PROC;

#endif
