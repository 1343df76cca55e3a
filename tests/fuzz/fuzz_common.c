// libFuzzer target for common/'s hand-written readers and writers of untrusted text, each with a property that
// must hold for every input (abort otherwise). The first byte picks one:
//   0  percent-decoding and query parameters (lull_url): a decoded value fits, is NUL-terminated and UTF-8;
//   1  Standard Webhooks (lull_stdwebhook): secrets, verification of arbitrary headers, and a signature made
//      for any id and body verifies;
//   2  the JSON-lines log writer (lull_log_format): any message, field and buffer size gives one JSON object
//      on one line, truncated if need be;
//   3  credential masking (lull_mask): a web chat session id never survives lull_mask_text, wherever it sits;
//      connection-string masking runs on anything;
//   4  CIDR ranges of the callback allowlist (lull_netaddr).
#include "lull_json.h"
#include "lull_log.h"
#include "lull_mask.h"
#include "lull_netaddr.h"
#include "lull_stdwebhook.h"
#include "lull_url.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_S 1700000000

// The input's text up to its first NUL (the C strings the readers get), as a fresh copy.
static char *s_str(const uint8_t *data, size_t size)
{
    size_t n = strnlen((const char *)data, size);
    char *s = malloc(n + 1);
    if (!s) abort();
    memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

static void s_url(const uint8_t *data, size_t size)
{
    char out[64];
    size_t cap = size ? (size_t)data[0] % sizeof out : 0;  // small buffers too
    int n = lull_url_decode((const char *)data, size, out, cap);
    if (n >= 0 && ((size_t)n >= cap || out[n] != '\0' || strlen(out) != (size_t)n || !lull_utf8_valid(out, (size_t)n)))
        abort();
    char *uri = s_str(data, size);
    static const char *const names[] = {"limit", "after", "since", "q", "a", ""};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t len = 0;
        const char *v = lull_url_query_raw(uri, names[i], &len);
        if (v && (v < uri || v + len > uri + strlen(uri))) abort();
        char val[32];
        if (lull_url_query(uri, names[i], val, sizeof val) && strlen(val) >= sizeof val) abort();
    }
    free(uri);
}

// Input: secret \n id \n timestamp \n signature \n body.
static void s_stdwebhook(const uint8_t *data, size_t size)
{
    const char *part[5] = {0};
    char *text = malloc(size + 1);
    if (!text) abort();
    memcpy(text, data, size);
    text[size] = '\0';
    char *p = text;
    for (int i = 0; i < 4 && p; i++) {
        part[i] = p;
        p = strchr(p, '\n');
        if (p) *p++ = '\0';
    }
    part[4] = p ? p : "";
    size_t body_len = p ? size - (size_t)(p - text) : 0;
    uint8_t key[LULL_STDWEBHOOK_KEY_MAX];
    int kl = lull_stdwebhook_key(part[0] ? part[0] : "", key, sizeof key);
    if (kl > (int)sizeof key) abort();
    if (kl >= 0) {
        (void)lull_stdwebhook_verify(key, (size_t)kl, part[1], part[2], part[3], part[4], body_len, NOW_S);
        char sig[128];
        const char *id = part[1] ? part[1] : "";
        if (lull_stdwebhook_sign(key, (size_t)kl, id, NOW_S, part[4], body_len, sig, sizeof sig) == 0 && *id &&
            lull_stdwebhook_verify(key, (size_t)kl, id, "1700000000", sig, part[4], body_len, NOW_S) !=
                LULL_STDWEBHOOK_OK)
            abort();
    }
    free(text);
}

// Input: a cap byte, then message \n field value.
static void s_logline(const uint8_t *data, size_t size)
{
    if (size < 1) return;
    int cap = 40 + data[0] * 8;  // 40 .. 2080 bytes: every way of cutting a line short, at a small cost
    char *text = s_str(data + 1, size - 1);
    char *nl = strchr(text, '\n');
    const char *field = "";
    if (nl) {
        *nl = '\0';
        field = nl + 1;
    }
    char *buf = malloc((size_t)cap);
    if (!buf) abort();
    int n = lull_log_format(buf, cap, 1700000000123, LULL_LOG_WARN, "fuzz.line", text, "field", LS(field), "n",
                            LI(size), "d", LD(1.5), "ok", LB(true), (const char *)NULL);
    if (n <= 0 || n >= cap || (int)strlen(buf) != n || memchr(buf, '\n', (size_t)n)) abort();
    char err[128];
    cJSON *o = lull_json_parse(buf, (size_t)n, LULL_JSON_MAX_DEPTH, err, sizeof err);
    if (!cJSON_IsObject(o)) abort();
    cJSON_Delete(o);
    free(buf);
    free(text);
}

static void s_mask(const uint8_t *data, size_t size)
{
    char *text = s_str(data, size);
    size_t tl = strlen(text);
    static const char secret[] = "ws_Zq9SecretSessionId";
    char *in = malloc(2 * tl + sizeof secret + 3);
    if (!in) abort();
    // the input, a space, the session id, a space, the input again
    memcpy(in, text, tl);
    in[tl] = ' ';
    memcpy(in + tl + 1, secret, sizeof secret - 1);
    in[tl + sizeof secret] = ' ';
    memcpy(in + tl + sizeof secret + 1, text, tl + 1);
    size_t cap = 2 * tl + sizeof secret + 64;
    char *out = malloc(cap);
    if (!out) abort();
    lull_mask_text(in, out, cap);
    if (strstr(out, "Zq9SecretSessionId") && !strstr(text, "Zq9SecretSessionId")) abort();  // from the id itself
    char small[16];
    lull_mask_text(in, small, sizeof small);
    if (strlen(small) >= sizeof small) abort();
    char *m = lull_mask_conninfo(text);
    if (m) {
        char echo[256];
        lull_mask_echo(text, text, echo, sizeof echo);
        if (strlen(echo) >= sizeof echo) abort();
        (void)lull_mask_is_keyvalue(text);
        free(m);
    }
    free(out);
    free(in);
    free(text);
}

static void s_netaddr(const uint8_t *data, size_t size)
{
    char *text = s_str(data, size);
    lull_netaddr_cidr_t c;
    if (lull_netaddr_cidr_parse(text, &c) == 0) {
        if (!(c.family == AF_INET && c.prefix >= 0 && c.prefix <= 32) &&
            !(c.family == AF_INET6 && c.prefix >= 0 && c.prefix <= 128))
            abort();
        struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
        memcpy(&s6.sin6_addr, c.addr, c.family == AF_INET6 ? 16 : 0);
        struct sockaddr_in s4 = {.sin_family = AF_INET};
        memcpy(&s4.sin_addr, c.addr, 4);
        const struct sockaddr *sa = c.family == AF_INET ? (const struct sockaddr *)&s4 : (const struct sockaddr *)&s6;
        if (!lull_netaddr_in_cidr(&c, sa)) abort();  // a range holds its own network address
        (void)lull_netaddr_is_public(sa);
    }
    lull_netaddr_allow_t allow;
    const char *items[1] = {text};
    char err[128];
    (void)lull_netaddr_allow_parse(items, 1, &allow, err, sizeof err);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;
    if (!quiet) {
        lull_log_set_level((lull_log_level_t)(LULL_LOG_ERROR + 1));
        quiet = true;
    }
    if (size == 0 || size > 4096) return 0;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    switch (data[0] % 5) {
    case 0: s_url(d, n); break;
    case 1: s_stdwebhook(d, n); break;
    case 2: s_logline(d, n); break;
    case 3: s_mask(d, n); break;
    default: s_netaddr(d, n); break;
    }
    return 0;
}
