// Standard Webhooks signing and verification over lull_crypto's HMAC-SHA256 and base64.
#include "lull_stdwebhook.h"
#include "lull_crypto.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_MAX 256  // bytes of a webhook-id at most

int lull_stdwebhook_key(const char *secret, uint8_t *key, size_t cap)
{
    if (!secret) return -1;
    if (strncmp(secret, "whsec_", 6) == 0) return lull_base64_decode(secret + 6, strlen(secret + 6), key, cap);
    size_t n = strlen(secret);
    if (n > cap) return -1;
    memcpy(key, secret, n);
    return (int)n;
}

// The raw HMAC of "id.ts.body" into mac. 0/-1.
static int s_mac(const uint8_t *key, size_t key_len, const char *id, const char *ts, const char *body,
                 size_t body_len, uint8_t mac[32])
{
    size_t il = strlen(id), tl = strlen(ts);
    char *msg = malloc(il + tl + 2 + body_len + 1);
    if (!msg) return -1;
    memcpy(msg, id, il);
    msg[il] = '.';
    memcpy(msg + il + 1, ts, tl);
    msg[il + 1 + tl] = '.';
    if (body_len) memcpy(msg + il + tl + 2, body, body_len);
    int rc = lull_hmac_sha256(key, key_len, msg, il + tl + 2 + body_len, mac);
    free(msg);
    return rc;
}

int lull_stdwebhook_sign(const uint8_t *key, size_t key_len, const char *id, int64_t ts, const char *body,
                         size_t body_len, char *out, size_t cap)
{
    char t[24];
    snprintf(t, sizeof t, "%lld", (long long)ts);
    uint8_t mac[32];
    if (!id || strlen(id) > ID_MAX || s_mac(key, key_len, id, t, body, body_len, mac) != 0 || cap < 4) return -1;
    memcpy(out, "v1,", 3);
    return lull_base64_encode(mac, sizeof mac, out + 3, cap - 3) < 0 ? -1 : 0;
}

lull_stdwebhook_verdict_t lull_stdwebhook_verify(const uint8_t *key, size_t key_len, const char *id, const char *ts,
                                                 const char *signature, const char *body, size_t body_len,
                                                 int64_t now_s)
{
    if (!id || !*id || !ts || !*ts || !signature || !*signature) return LULL_STDWEBHOOK_MISSING;
    size_t tl = strlen(ts);
    if (strlen(id) > ID_MAX || tl > 12) return LULL_STDWEBHOOK_MALFORMED;
    int64_t t = 0;
    for (size_t i = 0; i < tl; i++) {
        if (ts[i] < '0' || ts[i] > '9') return LULL_STDWEBHOOK_MALFORMED;
        t = t * 10 + (ts[i] - '0');
    }
    if (t < now_s - LULL_STDWEBHOOK_TOLERANCE_S || t > now_s + LULL_STDWEBHOOK_TOLERANCE_S)
        return LULL_STDWEBHOOK_EXPIRED;
    uint8_t mac[32];
    char expect[48];
    if (s_mac(key, key_len, id, ts, body, body_len, mac) != 0 ||
        lull_base64_encode(mac, sizeof mac, expect, sizeof expect) < 0)
        return LULL_STDWEBHOOK_MISMATCH;
    size_t el = strlen(expect);
    // space-separated entries "v<version>,<base64>"; only v1 is known, any v1 match passes (key rotation)
    for (const char *p = signature; *p;) {
        while (*p == ' ') p++;
        size_t n = strcspn(p, " ");
        if (n > 3 && strncmp(p, "v1,", 3) == 0 && lull_ct_equal(p + 3, n - 3, expect, el)) return LULL_STDWEBHOOK_OK;
        p += n;
    }
    return LULL_STDWEBHOOK_MISMATCH;
}
