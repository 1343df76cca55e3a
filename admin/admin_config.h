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
    lull_cfg_list_t scheduler_controls;  // scheduler control endpoints, shard order (windows routes; 0..64; 0 = discover)
    int64_t sched_map_refresh_ms;        // scheduler map reload period when discovering, milliseconds
    lull_cfg_list_t senders;   // sender PULL endpoints (OUTBOX wake-ups of human replies; 0..64)
    int64_t ctl_timeout_ms;    // scheduler control answer timeout, milliseconds
    int64_t try_timeout_ms;    // dry run (test endpoints) answer timeout, milliseconds
    int64_t threads;           // admin threads, each with its own database connection and sockets
    int64_t queue_max;         // admin requests waiting before new ones get 503
    lull_cfg_list_t health_targets;  // name=http://host:port/health items (GET /api/v1/health; 0..16)
    int64_t auth_fail_max;     // failed authentications one address may make per window; one more → 429
    int64_t auth_window_ms;    // the counting window of failed authentications, milliseconds
    int64_t auth_lock_ms;      // how long a locked address gets 429, milliseconds
    int64_t auth_addresses;    // addresses tracked at most (a flood of addresses cannot grow the table)
    int64_t agent_cache_ms;    // a verified agent token skips the slow hash this long, milliseconds (0 = never)
    int64_t inbox_streams_max;   // open inbox event streams at once; more get 503
    int64_t inbox_heartbeat_ms;  // a comment line on every inbox stream this often, milliseconds
    int64_t inbox_lifetime_ms;   // an inbox stream is ended after this (the page reconnects), milliseconds
    int64_t inbox_debounce_ms;   // the inbox list is re-read at most this often after a change, milliseconds
    int64_t inbox_poll_ms;       // new messages are looked for this often while a stream is open, milliseconds
    int64_t inbox_list_max;      // conversations in the inbox list
    int64_t stats_rows_max;      // newest rows of a table the overview reads at most
} admin_cfg_t;

// The process description (name, about, settings table) for lull_proc_init.
extern const lull_proc_spec_t ADMIN_PROC;

#endif
