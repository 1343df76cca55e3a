// Webhook signature verification (Twilio, TikTok, Meta) over lull_crypto; no I/O, no global state.
#include "ingress_sig.h"
#include "lull_buf.h"
#include "lull_crypto.h"
#include "lull_url.h"

#include <curl/curl.h>
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

// The URL split by libcurl's parser (parts kept as written: nothing decoded, no dot segments removed); NULL when
// it is not a URL. The caller frees with curl_url_cleanup.
static CURLU *s_url_parse(const char *url)
{
    CURLU *u = curl_url();
    if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME | CURLU_PATH_AS_IS | CURLU_ALLOW_SPACE) !=
                 CURLUE_OK) {
        curl_url_cleanup(u);
        return NULL;
    }
    return u;
}

// The text of the URL u (the caller frees), or NULL.
static char *s_url_text(CURLU *u)
{
    char *text = NULL, *out = NULL;
    if (curl_url_get(u, CURLUPART_URL, &text, 0) == CURLUE_OK) out = strdup(text);
    curl_free(text);
    return out;
}

// The URL with its port removed, or with the scheme's default port added when it has none; NULL when neither
// applies. The caller frees.
static char *s_port_variant(const char *url)
{
    CURLU *u = s_url_parse(url);
    char *port = NULL, *scheme = NULL, *out = NULL;
    if (!u) goto cleanup;
    if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK) {  // has a port: drop it
        if (curl_url_set(u, CURLUPART_PORT, NULL, 0) != CURLUE_OK) goto cleanup;
    } else {
        if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) goto cleanup;
        const char *def = strcmp(scheme, "https") == 0 ? "443" : strcmp(scheme, "http") == 0 ? "80" : NULL;
        if (!def || curl_url_set(u, CURLUPART_PORT, def, 0) != CURLUE_OK) goto cleanup;
    }
    out = s_url_text(u);
cleanup:
    curl_free(port);
    curl_free(scheme);
    curl_url_cleanup(u);
    return out;
}

// Appends text to b percent-encoded as a WHATWG URL parser would for a path (space " < > ` { } and bytes >= 0x80)
// or a query (space " ' < > and bytes >= 0x80); *changed is set when anything was encoded.
static void s_whatwg_encode(lull_buf_t *b, const char *text, bool query, bool *changed)
{
    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char)*p;
        bool enc = c != '#' && (c <= 0x20 || c >= 0x7F || c == '"' || c == '<' || c == '>' ||
                                (query ? c == '\'' : (c == '`' || c == '{' || c == '}')));
        if (enc) {
            (void)lull_buf_printf(b, "%%%02X", c);
            *changed = true;
        } else {
            (void)lull_buf_append(b, p, 1);
        }
    }
}

// The URL with its path and query percent-encoded as a WHATWG URL parser would (what Twilio signs); NULL when
// that changes nothing. The caller frees.
static char *s_reencoded(const char *url)
{
    CURLU *u = s_url_parse(url);
    char *path = NULL, *query = NULL, *fragment = NULL, *origin = NULL, *out = NULL;
    lull_buf_t b;
    lull_buf_init(&b, 0, false);
    bool changed = false;
    if (!u || curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) goto cleanup;
    if (curl_url_get(u, CURLUPART_QUERY, &query, 0) != CURLUE_OK) query = NULL;           // none
    if (curl_url_get(u, CURLUPART_FRAGMENT, &fragment, 0) != CURLUE_OK) fragment = NULL;  // none
    // scheme://[user[:password]@]host[:port] as written: the URL with path "/" and nothing after it, minus the '/'
    if (curl_url_set(u, CURLUPART_PATH, "/", 0) != CURLUE_OK || curl_url_set(u, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK || !(origin = s_url_text(u)))
        goto cleanup;
    (void)lull_buf_append(&b, origin, strlen(origin) - 1);
    s_whatwg_encode(&b, path, false, &changed);
    if (query) {
        (void)lull_buf_append(&b, "?", 1);
        s_whatwg_encode(&b, query, true, &changed);
    }
    if (fragment) {
        (void)lull_buf_append(&b, "#", 1);
        s_whatwg_encode(&b, fragment, query != NULL, &changed);
    }
    if (changed && !b.failed) out = lull_buf_take(&b);
cleanup:
    lull_buf_reset(&b);
    free(origin);
    curl_free(path);
    curl_free(query);
    curl_free(fragment);
    curl_url_cleanup(u);
    return out;
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
    const char *hash = lull_url_query_raw(url, "bodySHA256", &hash_len);
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
