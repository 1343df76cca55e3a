// Webhook signature verification (Twilio, TikTok, Meta) over lull_crypto; no I/O, no global state.
#include "ingress_sig.h"
#include "lull_buf.h"
#include "lull_crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_URL 4096  // longer URLs are refused (the string to sign is built around them)

const char *ingress_sig_result_name(ingress_sig_result_t r)
{
    switch (r) {
    case INGRESS_SIG_OK: return "ok";
    case INGRESS_SIG_MISSING: return "missing";
    case INGRESS_SIG_MALFORMED: return "malformed";
    case INGRESS_SIG_STALE: return "stale";
    case INGRESS_SIG_MISMATCH: return "mismatch";
    }
    return "unknown";
}

static int s_cmp_param(const void *a, const void *b)
{
    const ingress_param_t *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

// The parameters sorted by name then value with repeated pairs removed; the caller frees. *out_n gets the count.
static ingress_param_t *s_sorted_params(const ingress_param_t *params, size_t n, size_t *out_n)
{
    *out_n = 0;
    ingress_param_t *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) return NULL;
    if (n) memcpy(p, params, n * sizeof *p);
    qsort(p, n, sizeof *p, s_cmp_param);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || s_cmp_param(&p[k - 1], &p[i]) != 0) p[k++] = p[i];
    *out_n = k;
    return p;
}

// base64(HMAC-SHA1(token, url + sorted params)) into out.
static int s_twilio_sign(const char *token, const char *url, const ingress_param_t *sorted, size_t n, char *out,
                         size_t cap)
{
    lull_buf_t b;
    lull_buf_init(&b, 0, false);
    (void)lull_buf_append(&b, url, strlen(url));
    for (size_t i = 0; i < n; i++) {
        (void)lull_buf_append(&b, sorted[i].name, strlen(sorted[i].name));
        (void)lull_buf_append(&b, sorted[i].value, strlen(sorted[i].value));
    }
    uint8_t mac[20];
    int rc = -1;
    if (!b.failed && b.data && lull_hmac_sha1(token, strlen(token), b.data, b.len, mac) == 0 &&
        lull_base64_encode(mac, sizeof mac, out, cap) > 0)
        rc = 0;
    lull_buf_reset(&b);
    return rc;
}

int ingress_sig_twilio_compute(const char *token, const char *url, const ingress_param_t *params, size_t n,
                               char *out, size_t cap)
{
    size_t k;
    ingress_param_t *sorted = s_sorted_params(params, n, &k);
    if (!sorted) return -1;
    int rc = s_twilio_sign(token, url, sorted, k, out, cap);
    free(sorted);
    return rc;
}

// Splits url into [0, host_end) = "scheme://userinfo@host", the port (pstart..pend, empty when none), and
// the rest (path and query). Returns false when there is no scheme.
static bool s_split_authority(const char *url, size_t *host_end, size_t *port_start, size_t *rest)
{
    const char *sep = strstr(url, "://");
    if (!sep) return false;
    size_t a = (size_t)(sep - url) + 3;
    size_t e = a + strcspn(url + a, "/?#");
    size_t h = a;  // host starts after the last '@' inside the authority
    for (size_t i = a; i < e; i++)
        if (url[i] == '@') h = i + 1;
    size_t colon = 0;
    bool bracket = false;
    for (size_t i = h; i < e; i++) {
        if (url[i] == '[') bracket = true;
        else if (url[i] == ']') bracket = false;
        else if (url[i] == ':' && !bracket) colon = i;
    }
    *rest = e;
    if (colon) {
        *host_end = colon;
        *port_start = colon + 1;
    } else {
        *host_end = e;
        *port_start = e;
    }
    return true;
}

// The URL with its port removed, or with the scheme's default port added when it has none; NULL when neither
// applies. The caller frees.
static char *s_port_variant(const char *url)
{
    size_t host_end, port_start, rest;
    if (!s_split_authority(url, &host_end, &port_start, &rest)) return NULL;
    lull_buf_t b;
    lull_buf_init(&b, 0, false);
    if (port_start < rest) {  // has a port: drop ":port"
        (void)lull_buf_append(&b, url, host_end);
        (void)lull_buf_append(&b, url + rest, strlen(url + rest));
    } else {
        const char *port = strncmp(url, "https://", 8) == 0 ? ":443" : strncmp(url, "http://", 7) == 0 ? ":80" : NULL;
        if (!port) return NULL;
        (void)lull_buf_append(&b, url, host_end);
        (void)lull_buf_append(&b, port, strlen(port));
        (void)lull_buf_append(&b, url + rest, strlen(url + rest));
    }
    if (b.failed) {
        lull_buf_reset(&b);
        return NULL;
    }
    return lull_buf_take(&b);
}

// The URL with its path and query percent-encoded as a WHATWG URL parser would (space " ' < > ` and bytes ≥ 0x80
// in the query; space " < > ` { } and bytes ≥ 0x80 in the path); NULL when that changes nothing. The caller frees.
static char *s_reencoded(const char *url)
{
    size_t host_end, port_start, rest;
    if (!s_split_authority(url, &host_end, &port_start, &rest)) return NULL;
    lull_buf_t b;
    lull_buf_init(&b, 0, false);
    (void)lull_buf_append(&b, url, rest);
    bool in_query = false, changed = false;
    for (const char *p = url + rest; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '?') in_query = true;
        bool enc = c <= 0x20 || c >= 0x7F || c == '"' || c == '<' || c == '>' ||
                   (in_query ? c == '\'' : (c == '`' || c == '{' || c == '}'));
        if (c == '#') enc = false;
        if (enc) {
            char e[4];
            snprintf(e, sizeof e, "%%%02X", c);
            (void)lull_buf_append(&b, e, 3);
            changed = true;
        } else {
            (void)lull_buf_append(&b, p, 1);
        }
    }
    if (b.failed || !changed) {
        lull_buf_reset(&b);
        return NULL;
    }
    return lull_buf_take(&b);
}

// The value of query parameter `name` in url (borrowed pointer and length), or NULL.
static const char *s_query_param(const char *url, const char *name, size_t *len)
{
    const char *q = strchr(url, '?');
    if (!q) return NULL;
    size_t nl = strlen(name);
    for (const char *p = q + 1; *p && *p != '#';) {
        size_t seg = strcspn(p, "&#");
        if (seg > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            *len = seg - nl - 1;
            return p + nl + 1;
        }
        p += seg;
        if (*p == '&') p++;
    }
    return NULL;
}

static bool s_twilio_match(const char *token, const char *url, const ingress_param_t *sorted, size_t n,
                           const char *header)
{
    char sig[64];
    if (s_twilio_sign(token, url, sorted, n, sig, sizeof sig) != 0) return false;
    return lull_ct_equal(sig, strlen(sig), header, strlen(header));
}

ingress_sig_result_t ingress_sig_twilio(const char *token, const char *url, const ingress_param_t *params, size_t n,
                                        const char *body, size_t body_len, const char *header)
{
    if (!header) return INGRESS_SIG_MISSING;
    if (!*header || strlen(header) > 64 || !token || !url || strlen(url) > S_MAX_URL) return INGRESS_SIG_MALFORMED;
    size_t hash_len = 0;
    const char *hash = s_query_param(url, "bodySHA256", &hash_len);
    size_t k = 0;
    ingress_param_t *sorted = NULL;
    if (hash) {  // JSON body: the URL is signed alone, and the body must hash to bodySHA256
        uint8_t d[32];
        char hex[65];
        if (lull_sha256(body ? body : "", body ? body_len : 0, d) != 0) return INGRESS_SIG_MISMATCH;
        lull_hex(d, sizeof d, hex);
        if (!lull_ct_equal(hex, 64, hash, hash_len)) return INGRESS_SIG_MISMATCH;
    } else {
        sorted = s_sorted_params(params, n, &k);
        if (!sorted) return INGRESS_SIG_MISMATCH;
    }
    char *variants[4] = {NULL, NULL, NULL, NULL};
    variants[0] = s_port_variant(url);
    variants[1] = s_reencoded(url);
    variants[2] = variants[0] ? s_reencoded(variants[0]) : NULL;
    bool ok = s_twilio_match(token, url, sorted, k, header);
    for (int i = 0; i < 3 && !ok; i++)
        if (variants[i]) ok = s_twilio_match(token, variants[i], sorted, k, header);
    for (int i = 0; i < 3; i++) free(variants[i]);
    free(sorted);
    return ok ? INGRESS_SIG_OK : INGRESS_SIG_MISMATCH;
}

// Hex HMAC-SHA256 of prefix + body into hex[65]. 0/-1.
static int s_hmac256_hex(const char *secret, const char *prefix, size_t plen, const char *body, size_t blen,
                         char hex[65])
{
    lull_buf_t b;
    lull_buf_init(&b, 0, false);
    (void)lull_buf_append(&b, prefix, plen);
    (void)lull_buf_append(&b, body ? body : "", body ? blen : 0);
    uint8_t mac[32];
    int rc = -1;
    if (!b.failed && lull_hmac_sha256(secret, strlen(secret), b.data ? b.data : "", b.len, mac) == 0) {
        lull_hex(mac, sizeof mac, hex);
        rc = 0;
    }
    lull_buf_reset(&b);
    return rc;
}

static bool s_is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

int ingress_sig_tiktok_compute(const char *secret, int64_t t, const char *body, size_t body_len, char *out,
                               size_t cap)
{
    char ts[24], hex[65];
    int tl = snprintf(ts, sizeof ts, "%lld.", (long long)t);
    if (s_hmac256_hex(secret, ts, (size_t)tl, body, body_len, hex) != 0) return -1;
    int n = snprintf(out, cap, "t=%lld,s=%s", (long long)t, hex);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

ingress_sig_result_t ingress_sig_tiktok(const char *secret, const char *header, const char *body, size_t body_len,
                                        int64_t now_s, int64_t tolerance_s)
{
    if (!header) return INGRESS_SIG_MISSING;
    if (!secret || strlen(header) > 512) return INGRESS_SIG_MALFORMED;
    const char *t = NULL, *sigs[4];
    size_t tlen = 0, slens[4], nsig = 0;
    for (const char *p = header; *p;) {
        while (*p == ' ' || *p == '\t') p++;
        size_t seg = strcspn(p, ",");
        size_t e = seg;
        while (e && (p[e - 1] == ' ' || p[e - 1] == '\t')) e--;
        if (e > 2 && p[0] == 't' && p[1] == '=') {
            t = p + 2;
            tlen = e - 2;
        } else if (e > 2 && p[0] == 's' && p[1] == '=' && nsig < 4) {
            sigs[nsig] = p + 2;
            slens[nsig++] = e - 2;
        }
        p += seg;
        if (*p == ',') p++;
    }
    if (!t || !nsig || tlen > 12) return INGRESS_SIG_MALFORMED;
    int64_t ts = 0;
    for (size_t i = 0; i < tlen; i++) {
        if (t[i] < '0' || t[i] > '9') return INGRESS_SIG_MALFORMED;
        ts = ts * 10 + (t[i] - '0');
    }
    char prefix[16], hex[65];
    memcpy(prefix, t, tlen);
    prefix[tlen] = '.';
    if (s_hmac256_hex(secret, prefix, tlen + 1, body, body_len, hex) != 0) return INGRESS_SIG_MISMATCH;
    bool ok = false;
    for (size_t i = 0; i < nsig; i++)
        if (slens[i] == 64 && s_is_lower_hex(sigs[i], 64) && lull_ct_equal(hex, 64, sigs[i], 64)) ok = true;
    if (!ok) return INGRESS_SIG_MISMATCH;
    int64_t age = now_s - ts;
    if (age > tolerance_s || age < -tolerance_s) return INGRESS_SIG_STALE;
    return INGRESS_SIG_OK;
}

ingress_sig_result_t ingress_sig_meta(const char *secret, const char *header, const char *body, size_t body_len)
{
    if (!header) return INGRESS_SIG_MISSING;
    if (!secret || strncmp(header, "sha256=", 7) != 0 || strlen(header) != 7 + 64) return INGRESS_SIG_MALFORMED;
    char hex[65];
    if (s_hmac256_hex(secret, "", 0, body, body_len, hex) != 0) return INGRESS_SIG_MISMATCH;
    return lull_ct_equal(hex, 64, header + 7, 64) ? INGRESS_SIG_OK : INGRESS_SIG_MISMATCH;
}
