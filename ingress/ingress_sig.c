// Webhook signature verification (Twilio, TikTok, Meta) over lull_crypto; no I/O, no global state.
#include "ingress_sig.h"
#include "lull_buf.h"
#include "lull_crypto.h"
#include "lull_json.h"
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

// Node's querystring.escape: everything but A-Z a-z 0-9 and - _ . ! ~ * ' ( ) percent-encoded (upper-case hex).
static void s_qs_escape(lull_buf_t *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c && strchr("-_.!~*'()", c)))
            (void)lull_buf_append(b, s + i, 1);
        else
            (void)lull_buf_printf(b, "%%%02X", c);
    }
}

static int s_hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

// Decodes s[0..n) as Node's querystring.unescape does ('+' is a space, a bad %-escape stays as written) into
// dst (n + 1 bytes); the length, or -1 when the result is not UTF-8 without NUL (Node would substitute U+FFFD).
static int s_qs_unescape(const char *s, size_t n, char *dst)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && s_hexval(s[i + 1]) >= 0 && s_hexval(s[i + 2]) >= 0) {
            dst[k++] = (char)(s_hexval(s[i + 1]) * 16 + s_hexval(s[i + 2]));
            i += 2;
        } else {
            dst[k++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    dst[k] = '\0';
    return lull_utf8_valid(dst, k) ? (int)k : -1;
}
#define S_QS_MAX_KEYS 1000  // Node's querystring.parse reads the first 1000 '&'-separated pieces

typedef struct {
    const char *k, *v;  // decoded, in the caller's storage
    size_t kl, vl;
    size_t first;  // index of the first pair with the same name
    int64_t index;  // the name as an array index (0 … 2^32 - 2), or -1
} s_qs_pair_t;

// The name as a JavaScript array index (a canonical decimal 0 … 4294967294), or -1.
static int64_t s_array_index(const char *k, size_t n)
{
    if (n == 0 || n > 10 || (n > 1 && k[0] == '0')) return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (k[i] < '0' || k[i] > '9') return -1;
        v = v * 10 + (k[i] - '0');
    }
    return v <= 4294967294LL ? v : -1;
}

// Names in the order a JavaScript object keeps them: array indexes ascending, then the others as they came.
static int s_cmp_qs_name(const void *a, const void *b)
{
    const s_qs_pair_t *x = *(const s_qs_pair_t *const *)a, *y = *(const s_qs_pair_t *const *)b;
    if ((x->index < 0) != (y->index < 0)) return x->index < 0 ? 1 : -1;
    if (x->index >= 0) return x->index < y->index ? -1 : x->index > y->index;
    return x->first < y->first ? -1 : x->first > y->first;
}

// Appends the query q[0..n) as twilio-node's "legacy querystring" rewrites it (Node's querystring.parse then
// stringify: decoded, repeated names grouped at their first place, array-index names first, re-encoded).
// false when a piece does not decode to UTF-8 without NUL (Node would put U+FFFD there) or out of memory.
static bool s_qs_legacy(lull_buf_t *b, const char *q, size_t n)
{
    s_qs_pair_t *pairs = calloc(S_QS_MAX_KEYS, sizeof *pairs);
    const s_qs_pair_t **names = calloc(S_QS_MAX_KEYS, sizeof *names);
    char *store = malloc(n + 2 * S_QS_MAX_KEYS), *w = store;
    size_t np = 0, nn = 0;
    bool ok = false;
    if (!pairs || !names || !store) goto cleanup;
    for (size_t i = 0, pieces = 0; i <= n && pieces < S_QS_MAX_KEYS; pieces++) {
        size_t e = i;
        while (e < n && q[e] != '&') e++;
        if (e > i) {
            size_t eq = i;
            while (eq < e && q[eq] != '=') eq++;
            s_qs_pair_t *p = &pairs[np];
            int kl = s_qs_unescape(q + i, eq - i, w);
            if (kl < 0) goto cleanup;
            p->k = w;
            p->kl = (size_t)kl;
            w += kl + 1;
            int vl = eq < e ? s_qs_unescape(q + eq + 1, e - eq - 1, w) : s_qs_unescape("", 0, w);
            if (vl < 0) goto cleanup;
            p->v = w;
            p->vl = (size_t)vl;
            w += vl + 1;
            p->first = np;
            for (size_t j = 0; j < np && p->first == np; j++)
                if (pairs[j].kl == p->kl && memcmp(pairs[j].k, p->k, p->kl) == 0) p->first = pairs[j].first;
            p->index = s_array_index(p->k, p->kl);
            if (p->first == np) names[nn++] = p;
            np++;
        }
        i = e + 1;
    }
    qsort(names, nn, sizeof *names, s_cmp_qs_name);
    bool sep = false;
    for (size_t i = 0; i < nn; i++)
        for (size_t j = names[i]->first; j < np; j++) {
            if (pairs[j].first != names[i]->first) continue;
            if (sep) (void)lull_buf_append(b, "&", 1);
            s_qs_escape(b, pairs[j].k, pairs[j].kl);
            (void)lull_buf_append(b, "=", 1);
            s_qs_escape(b, pairs[j].v, pairs[j].vl);
            sep = true;
        }
    ok = !b->failed;
cleanup:
    free(pairs);
    free(names);
    free(store);
    return ok;
}

// The URL rebuilt as twilio-node's validateRequest tries it, always with its path percent-encoded as a WHATWG
// URL parser would (what Twilio signs). legacy false: the query percent-encoded the same way; NULL when that
// changes nothing. legacy true: a scheme's default port dropped (new URL() drops it) and the query rewritten by
// s_qs_legacy after the fragment (as url.toString() + "?" + querystring puts it); NULL without a query. The
// caller frees.
static char *s_rebuilt(const char *url, bool legacy)
{
    CURLU *u = s_url_parse(url);
    char *path = NULL, *query = NULL, *fragment = NULL, *origin = NULL, *port = NULL, *scheme = NULL, *out = NULL;
    lull_buf_t b;
    lull_buf_init(&b, 0, false);
    bool changed = legacy;
    if (!u || curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) goto cleanup;
    if (curl_url_get(u, CURLUPART_QUERY, &query, 0) != CURLUE_OK) query = NULL;           // none
    if (curl_url_get(u, CURLUPART_FRAGMENT, &fragment, 0) != CURLUE_OK) fragment = NULL;  // none
    if (legacy && (!query || !*query)) goto cleanup;
    if (legacy && curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        strcmp(port, strcmp(scheme, "https") == 0 ? "443" : strcmp(scheme, "http") == 0 ? "80" : "") == 0 &&
        curl_url_set(u, CURLUPART_PORT, NULL, 0) != CURLUE_OK)
        goto cleanup;
    // scheme://[user[:password]@]host[:port] as written: the URL with path "/" and nothing after it, minus the '/'
    if (curl_url_set(u, CURLUPART_PATH, "/", 0) != CURLUE_OK || curl_url_set(u, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK || !(origin = s_url_text(u)))
        goto cleanup;
    (void)lull_buf_append(&b, origin, strlen(origin) - 1);
    s_whatwg_encode(&b, path, false, &changed);
    if (legacy) {
        if (fragment) {
            (void)lull_buf_append(&b, "#", 1);
            s_whatwg_encode(&b, fragment, false, &changed);
        }
        (void)lull_buf_append(&b, "?", 1);
        if (!s_qs_legacy(&b, query, strlen(query))) goto cleanup;
    } else {
        if (query) {
            (void)lull_buf_append(&b, "?", 1);
            s_whatwg_encode(&b, query, true, &changed);
        }
        if (fragment) {
            (void)lull_buf_append(&b, "#", 1);
            s_whatwg_encode(&b, fragment, query != NULL, &changed);
        }
    }
    if (changed && !b.failed) out = lull_buf_take(&b);
cleanup:
    lull_buf_reset(&b);
    free(origin);
    curl_free(path);
    curl_free(query);
    curl_free(fragment);
    curl_free(port);
    curl_free(scheme);
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
    // twilio-node's validateRequest: with and without the port, with the query re-encoded or rewritten by Node's
    // legacy querystring (a %27 the sender encoded signed as the ' Twilio saw)
    char *variants[5] = {NULL, NULL, NULL, NULL, NULL};
    variants[0] = s_port_variant(url);
    variants[1] = s_rebuilt(url, false);
    variants[2] = variants[0] ? s_rebuilt(variants[0], false) : NULL;
    bool ok = s_twilio_match(token, url, sorted, k, header);
    for (int i = 0; i < 5 && !ok; i++) {
        if (i == 3) variants[3] = s_rebuilt(url, true);  // built only when the others failed
        if (i == 4) variants[4] = variants[0] ? s_rebuilt(variants[0], true) : NULL;
        if (variants[i]) ok = s_twilio_match(token, variants[i], sorted, k, header);
    }
    for (int i = 0; i < 5; i++) free(variants[i]);
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
