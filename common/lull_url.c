// Percent-decoding of form and query values, and query parameter lookup in a raw request URI.
#include "lull_url.h"
#include "lull_json.h"

#include <string.h>

static int s_hex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int lull_url_decode(const char *src, size_t len, char *dst, size_t cap)
{
    size_t k = 0;
    if (!cap) return -1;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < len ? s_hex(src[i + 1]) : -1, lo = hi < 0 ? -1 : s_hex(src[i + 2]);
            if (lo < 0) return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || k + 1 >= cap) return -1;
        dst[k++] = c;
    }
    dst[k] = '\0';
    return lull_utf8_valid(dst, k) ? (int)k : -1;
}

const char *lull_url_query_raw(const char *uri, const char *name, size_t *len)
{
    const char *q = uri ? uri + strcspn(uri, "?#") : NULL;  // the query starts at the first '?' before any '#'
    size_t nl = strlen(name);
    for (const char *p = q && *q == '?' ? q + 1 : NULL; p && *p && *p != '#';) {
        size_t seg = strcspn(p, "&#");
        if (seg >= nl && strncmp(p, name, nl) == 0 && (seg == nl || p[nl] == '=')) {
            *len = seg == nl ? 0 : seg - nl - 1;  // a bare "name" is there with an empty value
            return p + (seg == nl ? nl : nl + 1);
        }
        p += seg;
        if (*p == '&') p++;
    }
    return NULL;
}

bool lull_url_query(const char *uri, const char *name, char *out, size_t cap)
{
    size_t len = 0;
    const char *v = lull_url_query_raw(uri, name, &len);
    return v && lull_url_decode(v, len, out, cap) >= 0;
}
