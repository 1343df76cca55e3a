// Settings of lull-ingress: the table behind --help, the README and the effective-configuration log line.
#ifndef INGRESS_CONFIG_H
#define INGRESS_CONFIG_H

#include "lull_config.h"
#include "lull_proc.h"

typedef struct {
    lull_common_cfg_t common;
    lull_cfg_list_t schedulers;  // ZeroMQ endpoints of the scheduler shards (0..64); empty = discover
    int64_t sched_map_refresh_ms;  // scheduler map reload period when discovering, milliseconds
    char *http_bind;           // IPv4 address the webhook server binds
    int64_t http_port;         // port of the webhook server
    char *public_url;          // scheme://host[:port] Twilio calls (signatures); "" = http://<Host header>
    char *twilio_auth_token;   // secret; "" = Twilio refused unless dev_allow_unsigned
    char *tiktok_secret;       // secret; "" = TikTok refused unless dev_allow_unsigned
    int64_t tiktok_tolerance_s;  // accepted |now - t| of Tiktok-Signature, seconds
    char *meta_app_secret;     // secret; "" = WhatsApp Cloud API webhooks refused unless dev_allow_unsigned
    char *meta_verify_token;   // secret; the hub.verify_token of the GET handshake ("" = handshake refused)
    int64_t meta_max_items;    // messages + statuses of one WhatsApp Cloud API POST
    bool dev_allow_unsigned;   // accept unsigned requests on channels without a secret (development only)
    int64_t max_body_bytes;    // larger bodies get 413
    int64_t http_timeout_s;    // idle connection timeout, seconds
    int64_t http_head_timeout_ms;  // a request head must arrive whole within this, milliseconds
    int64_t http_body_timeout_ms;  // a request body must arrive whole within this of its head, milliseconds
    int64_t http_per_ip_limit;   // concurrent connections per client IP
    int64_t http_max_connections;  // concurrent connections in total
    int64_t http_threads;      // libmicrohttpd polling threads
    int64_t writers;           // writer threads (database connections) committing batches in parallel
    int64_t writer_spill;      // requests waiting while a batch commits that wake the later writers (0: always awake)
    int64_t batch_max;         // rows per group commit
    int64_t batch_wait_us;     // how long a batch that is not full may wait for more rows, microseconds
    int64_t queue_max;         // requests waiting for the writer before new ones get 503
    int64_t inbound_hwm;       // ZMQ_SNDHWM of each INBOUND push socket, messages
    int64_t history_limit;     // messages returned by GET /api/v1/chat/history
    int64_t chat_streams_per_session;  // open chat streams per session
    int64_t chat_streams_max;  // open chat streams in total
    int64_t chat_keepalive_ms; // keep-alive comment period of chat streams
    int64_t chat_streams_per_addr;   // open chat streams per client address
    int64_t chat_stream_lifetime_ms; // a chat stream ends (the page reconnects) after this, milliseconds
    // rate limits (ingress_guard.c): tokens a minute and bucket size; rate 0 = no limit
    int64_t chat_session_rate, chat_session_burst;            // session creations per address
    int64_t chat_message_rate, chat_message_burst;            // messages per session
    int64_t chat_message_addr_rate, chat_message_addr_burst;  // messages per address
    int64_t chat_read_rate, chat_read_burst;                  // history reads and stream opens per address
    int64_t webhook_unsigned_rate, webhook_unsigned_burst;    // unsigned POST /webhook per address
    int64_t ratelimit_keys;    // addresses or sessions remembered per limit (least recently used forgotten)
    int64_t readers;           // reader threads (database connections) serving history reads
    int64_t read_queue_max;    // history reads waiting for a reader before new ones get 503
} ingress_cfg_t;

// Checks the settings that depend on one another (logged as config.invalid): 0, or -1 and the process exits
// LULL_EXIT_CONFIG.
int ingress_config_check(const ingress_cfg_t *cfg) __attribute__((warn_unused_result));

// The process description (name, about, settings table) for lull_proc_init.
extern const lull_proc_spec_t INGRESS_PROC;

#endif
