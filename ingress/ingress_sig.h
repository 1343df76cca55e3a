// Webhook signature verification, pure functions: Twilio X-Twilio-Signature (HMAC-SHA1 over URL + sorted
// POST parameters, or bodySHA256 for JSON bodies), TikTok Tiktok-Signature (HMAC-SHA256 of "t.body" with a
// timestamp tolerance) and Meta X-Hub-Signature-256. Every comparison is constant-time.
#ifndef INGRESS_SIG_H
#define INGRESS_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    INGRESS_SIG_OK = 0,
    INGRESS_SIG_MISSING,    // no header (→ 400)
    INGRESS_SIG_MALFORMED,  // header present but not in the expected shape (→ 403)
    INGRESS_SIG_STALE,      // timestamp outside the tolerance (→ 403)
    INGRESS_SIG_MISMATCH    // well-formed, wrong signature (→ 403)
} ingress_sig_result_t;

// One POST parameter, already percent-decoded (borrowed strings).
typedef struct {
    const char *name;
    const char *value;
} ingress_param_t;

// Name of a result for logs and error messages ("ok", "missing", "malformed", "stale", "mismatch").
const char *ingress_sig_result_name(ingress_sig_result_t r);

// Verifies X-Twilio-Signature `header` (NULL = missing) with auth token `token` for a request to `url` (the full
// URL the provider called: scheme://host[:port]/path?query, byte-exact). When the query carries bodySHA256, the
// raw body must hash to it and no parameters are signed (JSON bodies); otherwise the n params are signed
// (sorted by name then value, repeated pairs once). Also tries the URL without its port, with the scheme's
// default port added, with its query re-encoded as a browser would (' → %27 …), and, like twilio-node's
// validateRequest, with its query rewritten by Node's legacy querystring (%27 → ', + → %20, names grouped).
ingress_sig_result_t ingress_sig_twilio(const char *token, const char *url, const ingress_param_t *params, size_t n,
                                        const char *body, size_t body_len, const char *header);

// Computes the base64 Twilio signature of url + params (no variants) into out (cap ≥ 29). 0/-1. For tests and tools.
int ingress_sig_twilio_compute(const char *token, const char *url, const ingress_param_t *params, size_t n,
                               char *out, size_t cap);

// Verifies Tiktok-Signature `header` ("t=<unix s>,s=<hex HMAC-SHA256(secret, t + "." + body)>"; NULL = missing)
// at wall-clock time now_s, accepting |now_s - t| <= tolerance_s.
ingress_sig_result_t ingress_sig_tiktok(const char *secret, const char *header, const char *body, size_t body_len,
                                        int64_t now_s, int64_t tolerance_s);

// Writes the Tiktok-Signature header value for body at time t into out (cap ≥ 90). 0/-1. For tests and tools.
int ingress_sig_tiktok_compute(const char *secret, int64_t t, const char *body, size_t body_len, char *out,
                               size_t cap);

// Verifies X-Hub-Signature-256 ("sha256=<hex HMAC-SHA256(secret, body)>"; NULL = missing).
ingress_sig_result_t ingress_sig_meta(const char *secret, const char *header, const char *body, size_t body_len);

#endif
