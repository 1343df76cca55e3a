// Finds the passwords of a connection string (as spans of it) and credentials in free text, and copies the
// text with "***" in their place.
#include "lull_mask.h"
#include "lull_log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_MAX_SPANS 8  // passwords looked for in one connection string

typedef struct {
    size_t off, len;  // a password inside the connection string
} s_span_t;

typedef struct {
    char *out;
    size_t cap, len;  // len < cap always (room for the NUL)
} s_writer_t;

static void s_put(s_writer_t *w, const char *s, size_t n)
{
    if (w->cap == 0) return;
    if (n > w->cap - 1 - w->len) n = w->cap - 1 - w->len;
    memcpy(w->out + w->len, s, n);
    w->len += n;
    w->out[w->len] = '\0';
}

static void s_add(s_span_t *sp, int *n, size_t off, size_t len)
{
    if (len > 0 && *n < S_MAX_SPANS) sp[(*n)++] = (s_span_t){off, len};
}

// The URL form scheme://user:PW@host/db?password=PW&…: true when s is a URL (spans filled).
static bool s_url_spans(const char *s, s_span_t *sp, int *n)
{
    const char *sep = strstr(s, "://");
    if (!sep || sep == s) return false;
    for (const char *c = s; c < sep; c++)
        if (!isalpha((unsigned char)*c)) return false;
    const char *auth = sep + 3;
    size_t host_end = strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *c = auth; c < auth + host_end; c++)
        if (*c == '@') at = c;  // the last '@' of the authority ends the userinfo
    if (at) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        if (colon) s_add(sp, n, (size_t)(colon + 1 - s), (size_t)(at - colon - 1));
    }
    const char *q = strchr(auth, '?');
    while (q && *q && *q != '#') {
        const char *param = q + 1;
        size_t len = strcspn(param, "&#");
        if (len > 9 && strncmp(param, "password=", 9) == 0) s_add(sp, n, (size_t)(param + 9 - s), len - 9);
        q = param + len;
    }
    return true;
}

static bool s_known_keyword(const char *k, size_t n)
{
    static const char *const words[] = {"host", "hostaddr", "port", "dbname", "user", "password", "passfile",
                                        "service", "sslmode", "connect_timeout", "application_name", "options",
                                        "target_session_attrs", "sslrootcert", "sslcert", "sslkey"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i]) == n && strncmp(words[i], k, n) == 0) return true;
    return false;
}

// The key=value form host=… password=PW (values quoted '…' with \-escapes, or bare): true when s parses as one
// with at least one libpq keyword (spans filled, if sp is not NULL).
static bool s_keyvalue_spans(const char *s, s_span_t *sp, int *n)
{
    const char *p = s;
    bool known = false;
    for (;;) {
        while (isspace((unsigned char)*p)) p++;
        if (!*p) break;
        const char *key = p;
        while (*p == '_' || (*p >= 'a' && *p <= 'z')) p++;
        size_t klen = (size_t)(p - key);
        while (isspace((unsigned char)*p)) p++;
        if (klen == 0 || *p != '=') return false;
        p++;
        while (isspace((unsigned char)*p)) p++;
        const char *v = p;
        if (*p == '\'') {
            for (p++; *p && *p != '\''; p++)
                if (*p == '\\' && p[1]) p++;
            if (*p != '\'') return false;  // unterminated quote
            p++;
        } else {
            for (; *p && !isspace((unsigned char)*p); p++)
                if (*p == '\\' && p[1]) p++;
        }
        if (s_known_keyword(key, klen)) known = true;
        if (sp && klen == 8 && strncmp(key, "password", 8) == 0) s_add(sp, n, (size_t)(v - s), (size_t)(p - v));
    }
    return known;
}

static int s_spans(const char *conninfo, s_span_t *sp)
{
    int n = 0;
    if (!conninfo || !*conninfo) return 0;
    if (!s_url_spans(conninfo, sp, &n) && !s_keyvalue_spans(conninfo, sp, &n)) n = 0;
    return n;
}

bool lull_mask_is_keyvalue(const char *s) { return s && s_keyvalue_spans(s, NULL, NULL); }

char *lull_mask_conninfo(const char *conninfo)
{
    if (!conninfo) conninfo = "";
    s_span_t sp[S_MAX_SPANS];
    int n = s_spans(conninfo, sp);
    size_t cap = strlen(conninfo) + 3 * (size_t)n + 1;
    char *out = malloc(cap);
    if (!out) return NULL;
    s_writer_t w = {out, cap, 0};
    out[0] = '\0';
    size_t at = 0;
    for (int i = 0; i < n; i++) {  // spans come in the order of the string
        s_put(&w, conninfo + at, sp[i].off - at);
        s_put(&w, "***", 3);
        at = sp[i].off + sp[i].len;
    }
    s_put(&w, conninfo + at, strlen(conninfo + at));
    return out;
}

void lull_mask_echo(const char *text, const char *conninfo, char *out, size_t cap)
{
    s_writer_t w = {out, cap, 0};
    if (cap) out[0] = '\0';
    if (!text) return;
    s_span_t sp[S_MAX_SPANS];
    int n = s_spans(conninfo, sp);
    for (const char *p = text; *p;) {
        int hit = -1;
        for (int i = 0; i < n && hit < 0; i++)
            if (strncmp(p, conninfo + sp[i].off, sp[i].len) == 0) hit = i;
        if (hit >= 0) {
            s_put(&w, "***", 3);
            p += sp[hit].len;
        } else {
            s_put(&w, p, 1);
            p++;
        }
    }
}

static bool s_id_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '-'; }

// The key that ends just before text[i] names a credential.
static bool s_secret_key(const char *text, size_t i)
{
    size_t start = i;
    while (start > 0 && s_id_char(text[start - 1])) start--;
    size_t n = i - start;
    if (n == 0 || n > 40) return false;
    char key[41];
    for (size_t k = 0; k < n; k++) key[k] = (char)tolower((unsigned char)text[start + k]);
    key[n] = '\0';
    static const char *const words[] = {"pass", "pwd", "token", "secret", "key", "sig", "session", "auth",
                                        "cookie"};
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (strstr(key, words[k])) return true;
    return false;
}

void lull_mask_text(const char *text, char *out, size_t cap)
{
    s_writer_t w = {out, cap, 0};
    if (cap) out[0] = '\0';
    if (!text) return;
    size_t i = 0, len = strlen(text);
    while (i < len) {
        const char *p = text + i;
        bool word_start = i == 0 || !s_id_char(text[i - 1]);
        if (word_start && strncmp(p, "ws_", 3) == 0 && s_id_char(p[3])) {  // a web chat session id
            s_put(&w, "ws_***", 6);
            for (i += 3; i < len && s_id_char(text[i]); i++) {}
            continue;
        }
        size_t scheme = word_start && strncasecmp(p, "bearer ", 7) == 0 ? 7
                        : word_start && strncasecmp(p, "basic ", 6) == 0 ? 6 : 0;
        if (scheme) {  // an Authorization credential
            s_put(&w, p, scheme);
            for (i += scheme; i < len && text[i] == ' '; i++) {}
            if (i < len && !isspace((unsigned char)text[i])) s_put(&w, "***", 3);
            for (; i < len && !isspace((unsigned char)text[i]) && text[i] != '"' && text[i] != '\''; i++) {}
            continue;
        }
        if ((*p == '=' || *p == ':') && s_secret_key(text, i)) {  // key=value, key: value
            const char *stop = *p == '=' ? "&; \t\r\n\"'," : "\r\n;,&\"'";
            s_put(&w, p, 1);
            for (i++; i < len && text[i] == ' '; i++) s_put(&w, " ", 1);
            if (i < len && !strchr(stop, text[i])) s_put(&w, "***", 3);
            for (; i < len && !strchr(stop, text[i]); i++) {}
            continue;
        }
        s_put(&w, p, 1);
        i++;
    }
}

void lull_mask_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char raw[1024], masked[1024];
    vsnprintf(raw, sizeof raw, fmt, ap);
    size_t n = strlen(raw);
    while (n && (raw[n - 1] == '\n' || raw[n - 1] == '\r' || raw[n - 1] == ' ')) raw[--n] = '\0';
    lull_mask_text(raw, masked, sizeof masked);
    lull_log_at(LULL_LOG_WARN, "http.mhd", masked, "server", LS(cls ? (const char *)cls : "http"), (const char *)NULL);
}
