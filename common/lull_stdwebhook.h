// Standard Webhooks (standardwebhooks.com) signatures, shared by the sender (signs tenant callbacks) and ingress
// (verifies signed generic webhooks): headers webhook-id, webhook-timestamp (Unix seconds) and
// webhook-signature "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>" (space-separated when several), secrets
// "whsec_<base64>".
#ifndef LULL_STDWEBHOOK_H
#define LULL_STDWEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#define LULL_STDWEBHOOK_KEY_MAX 256      // bytes of a decoded secret at most
#define LULL_STDWEBHOOK_TOLERANCE_S 300  // a signed timestamp this far from now (either way) is refused, seconds

// Decodes a secret ("whsec_<base64>" → bytes; anything else is used as raw bytes) into key (cap bytes).
// Length, or -1 when the whsec_ form is invalid or too long.
int lull_stdwebhook_key(const char *secret, uint8_t *key, size_t cap);

// The signature header value "v1,<base64 HMAC-SHA256(key, id.ts.body)>" into out (cap bytes). 0/-1.
int lull_stdwebhook_sign(const uint8_t *key, size_t key_len, const char *id, int64_t ts, const char *body,
                         size_t body_len, char *out, size_t cap);

typedef enum {
    LULL_STDWEBHOOK_OK = 0,
    LULL_STDWEBHOOK_MISSING,    // a header is absent or empty
    LULL_STDWEBHOOK_MALFORMED,  // an id over 256 bytes, a timestamp that is not Unix seconds
    LULL_STDWEBHOOK_EXPIRED,    // the timestamp is more than LULL_STDWEBHOOK_TOLERANCE_S away from now
    LULL_STDWEBHOOK_MISMATCH    // no v1 signature of the header matches (constant-time comparison)
} lull_stdwebhook_verdict_t;

// Checks the three headers (any may be NULL) of a request with body against key, at now_s (Unix seconds).
lull_stdwebhook_verdict_t lull_stdwebhook_verify(const uint8_t *key, size_t key_len, const char *id, const char *ts,
                                                 const char *signature, const char *body, size_t body_len,
                                                 int64_t now_s);

#endif
