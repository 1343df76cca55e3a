// The sender's channel adapters: from one claimed outbox row, the HTTP request of its channel (Twilio through
// sender_twilio.c, WhatsApp Cloud through sender_meta.c, TikTok Business, a signed tenant callback), or why the
// row cannot be sent. No I/O: sender_app starts the request.
#ifndef SENDER_ADAPT_H
#define SENDER_ADAPT_H

#include <cJSON.h>
#include <libpq-fe.h>
#include <stdint.h>

#include "lull_http.h"
#include "lull_netaddr.h"
#include "sender_config.h"
#include "sender_meta.h"
#include "sender_payload.h"
#include "sender_policy.h"
#include "sender_twilio.h"

typedef enum {
    SENDER_BUILD_SEND,      // b->req is ready to start
    SENDER_BUILD_DEAD,      // the row cannot be sent: b->err says why (empty: out of memory, retry later)
    SENDER_BUILD_ESCALATE   // WhatsApp outside the 24-hour window and no approved template: b->err says so
} sender_build_rc_t;

// One built request: req points into the struct and the buffers it owns (do not copy it while req is in use).
typedef struct {
    lull_http_req_t req;
    sender_meta_t *meta;       // WhatsApp Cloud: the row's requests (owned; the caller may take it, then NULL it)
    sender_twilio_t twilio;    // Twilio: its request and form body
    cJSON *json;               // TikTok, callback: the body's document and its text (owned)
    char *body;
    char url[2300], hdr[1100];                                   // TikTok
    char h_idem[256], h_id[256], h_ts[64], h_sig[128], sig[100];  // callback
    char err[256];
} sender_built_t;

// Builds the request of row r of a claim (sender_outbox.h columns) for outbox id of tenant tenant_id, channel kind
// (channel: the row's channel text), payload p and the tenant's credentials creds (may be NULL). Callback requests
// are public-only, allowed through allow (borrowed for the request's life). Whatever it returns, the caller calls
// sender_built_clear(b) once the request is started (lull_http_start copies it) or given up.
sender_build_rc_t sender_adapt_build(const sender_cfg_t *cfg, const lull_netaddr_allow_t *allow, sender_kind_t kind,
                                     int64_t id, int64_t tenant_id, const PGresult *res, int r,
                                     const sender_payload_t *p, const cJSON *creds, const char *channel,
                                     sender_built_t *b);
// Frees what b owns (a meta the caller took and NULLed stays the caller's).
void sender_built_clear(sender_built_t *b);

#endif
