// Pure delivery rules of the sender: how each channel's answer is classified (sent / retry / dead,
// unknown outcome), TikTok's error-code table, form encoding and the
// WhatsApp 24-hour window decision. No I/O, so every rule has a unit test.
#ifndef SENDER_POLICY_H
#define SENDER_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    SENDER_TWILIO = 1,   // sms, whatsapp
    SENDER_TIKTOK,
    SENDER_CALLBACK,     // generic channel / integrations
    SENDER_WEBCHAT,      // no HTTP: pg_notify
    SENDER_META          // whatsapp rows whose sender_address is meta:<phone_number_id> (WhatsApp Cloud API)
} sender_kind_t;

typedef enum {
    SENDER_SENT = 1,     // delivered; provider_id may be set
    SENDER_RETRY,        // transient: schedule another attempt
    SENDER_FAIL          // permanent: dead-letter now
} sender_verdict_t;

typedef struct {
    sender_verdict_t verdict;
    bool unknown;               // the request may have been delivered (timeout / 5xx after sending)
    int64_t retry_after_ms;     // server's Retry-After, -1 when none (filled by the caller)
    long status;                // HTTP status, 0 when none
    char error[256];            // short reason for last_error ("" when sent)
    char provider_id[128];      // Twilio sid / TikTok message_id / wamid ("" when none)
    bool window_closed;         // Meta 131047: outside the 24-hour window (send the template or escalate)
} sender_outcome_t;

// Maps an outbox channel name to the adapter that delivers it; 0 when the name is unknown.
sender_kind_t sender_kind_of(const char *channel);

// Classifies one HTTP answer of a channel adapter into *out (retry_after_ms is left -1).
// status 0 = no response (curl_code/curl_error say why; timed_out/request_sent tell whether the
// provider may have received it). body may be NULL.
void sender_classify(sender_kind_t kind, long status, int curl_code, const char *curl_error, bool request_sent,
                     bool timed_out, const char *body, size_t body_len, sender_outcome_t *out);

// TikTok Business API error code class: SENDER_SENT for 0, SENDER_RETRY for rate limits and
// server-side errors, SENDER_FAIL for the rest (permissions, invalid parameters, closed window …).
sender_verdict_t sender_tiktok_code_class(int64_t code);

// Growable buffer for application/x-www-form-urlencoded bodies (max_len caps it).
typedef struct {
    char *buf;       // NUL-terminated, owned; free() it
    size_t len, cap;
    size_t max_len;  // bytes; appends beyond fail
} sender_form_t;

// Appends "&key=value" (no "&" first time), percent-encoded (space as '+'). 0/-1 (too long / no memory).
int sender_form_add(sender_form_t *form, const char *key, const char *value) __attribute__((warn_unused_result));

typedef enum {
    SENDER_WA_FREEFORM = 1,   // inside the window (or not WhatsApp): send the body
    SENDER_WA_TEMPLATE,       // outside: send the approved template
    SENDER_WA_ESCALATE        // outside, no template: do not send, escalate
} sender_wa_t;

// WhatsApp policy: last_inbound_age_ms is how long ago the contact last wrote (-1 = never / unknown,
// treated as outside), window_ms the session window (24 h), has_template whether the tenant has one.
sender_wa_t sender_wa_decide(int64_t last_inbound_age_ms, int64_t window_ms, bool has_template);

#endif
