// Settings of lull-sender: the table behind --help, the README and the effective-configuration log line.
#ifndef SENDER_CONFIG_H
#define SENDER_CONFIG_H

#include "lull_config.h"
#include "lull_proc.h"

typedef struct {
    lull_common_cfg_t common;
    char *outbox_endpoint;       // PULL endpoint bound for OUTBOX wake-ups
    int64_t poll_ms;             // database poll interval, milliseconds
    int64_t batch;               // rows claimed per query
    int64_t max_in_flight;       // deliveries in flight at once
    int64_t lease_ms;            // claim lease, milliseconds (> timeout_ms)
    int64_t timeout_ms;          // whole HTTP request timeout, milliseconds
    int64_t drain_ms;            // on stop, time given to requests in flight before they are handed back
    int64_t flush_ms;            // results wait at most this long to be written in one batch, milliseconds
    int64_t retry_base_ms;       // Celery-style backoff base, milliseconds
    int64_t retry_max_ms;        // backoff cap, milliseconds
    int64_t max_retries;         // retries after the first attempt
    int64_t wa_window_ms;        // WhatsApp customer-service window, milliseconds
    char *twilio_base;           // Twilio API base URL
    char *twilio_sid;            // default Account SID
    char *twilio_token;          // default Auth Token (secret)
    char *twilio_msid;           // default MessagingServiceSid ("" = use From)
    char *twilio_status_cb;      // StatusCallback base URL ("" = none); ?outbox=<id> is appended
    char *tiktok_base;           // TikTok Business API base URL
    char *tiktok_token;          // default Access-Token (secret)
    char *meta_base;             // Meta Graph API base URL
    char *meta_version;          // Graph API version ("v21.0")
    char *meta_token;            // default WhatsApp Cloud API access token (secret)
    double meta_per_s;           // WhatsApp Cloud API sends per second; 0 = unlimited
    char *callback_url;          // default callback URL for the generic channel
    char *callback_secret;       // default Standard Webhooks secret (secret)
    char *admin_public_url;      // lull-admin's public base URL: an escalation event links to its inbox; "" = no link
    lull_cfg_list_t callback_allow;  // CIDR ranges callbacks may reach although not public (default: none)
    double tiktok_per_min;       // TikTok sends per minute (all tenants); 0 = unlimited
    double twilio_per_s;         // Twilio sends per second; 0 = unlimited
    double callback_per_s;       // callback POSTs per second; 0 = unlimited
    double tenant_per_s;         // sends per second per tenant and channel; 0 = unlimited
} sender_cfg_t;

// The process description (name, about, settings table) for lull_proc_init.
extern const lull_proc_spec_t SENDER_PROC;

#endif
