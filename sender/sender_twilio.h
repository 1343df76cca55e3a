// The Twilio adapter of the sender: the Messages API request of one outbox row (SMS, or WhatsApp through Twilio
// with the approved template outside the 24-hour window), or why the row cannot be sent. No I/O: sender_app
// starts the request.
#ifndef SENDER_TWILIO_H
#define SENDER_TWILIO_H

#include <cJSON.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "lull_http.h"
#include "sender_config.h"
#include "sender_payload.h"
#include "sender_policy.h"

typedef enum {
    SENDER_TWILIO_SEND,      // t->req is ready to start
    SENDER_TWILIO_DEAD,      // the row cannot be sent: err says why (empty: out of memory, retry later)
    SENDER_TWILIO_ESCALATE   // WhatsApp outside the window with no template: err says so
} sender_twilio_rc_t;

// One built request; req points into the struct (do not copy it while the request is built from it).
typedef struct {
    lull_http_req_t req;
    sender_form_t form;      // the body: form.buf is the caller's to free() whatever the result
    char url[2300];
    char userpwd[512];       // "sid:token" (secret)
} sender_twilio_t;

// Builds the request of row r of a claim (sender_outbox.h columns) for outbox id, tenant tenant_id and channel
// (sms or whatsapp): credentials from creds (the tenant's references) or cfg's defaults.
sender_twilio_rc_t sender_twilio_build(const sender_cfg_t *cfg, int64_t id, int64_t tenant_id, const PGresult *res,
                                       int r, const sender_payload_t *p, const cJSON *creds, const char *channel,
                                       sender_twilio_t *t, char *err, size_t errlen);

#endif
