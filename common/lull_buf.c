// Growable, capped, always NUL-terminated byte buffer.
#include "lull_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lull_buf_init(lull_buf_t *b, size_t max, bool truncate)
{
    memset(b, 0, sizeof *b);
    b->max = max;
    b->truncate = truncate;
}

static int s_reserve(lull_buf_t *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        if (cap > ((size_t)-1) / 2) return -1;
        cap *= 2;
    }
    char *data = realloc(b->data, cap);
    if (!data) return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}

int lull_buf_reserve(lull_buf_t *b, size_t n)
{
    if (b->failed) return -1;
    if (b->max && b->len + n > b->max) n = b->max - b->len;
    if (s_reserve(b, n) != 0) {
        b->failed = true;
        return -1;
    }
    return 0;
}

int lull_buf_append(lull_buf_t *b, const void *s, size_t n)
{
    if (b->failed) return -1;
    if (b->max && b->len + n > b->max) {
        if (!b->truncate) {
            b->failed = true;
            return -1;
        }
        b->truncated = true;
        n = b->max - b->len;
    }
    if (s_reserve(b, n) != 0) {
        b->failed = true;
        return -1;
    }
    if (n) memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int lull_buf_puts(lull_buf_t *b, const char *s) { return lull_buf_append(b, s, strlen(s)); }

int lull_buf_printf(lull_buf_t *b, const char *fmt, ...)
{
    if (b->failed) return -1;
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return -1;
    }
    if ((size_t)n < sizeof small) return lull_buf_append(b, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->failed = true;
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = lull_buf_append(b, big, (size_t)n);
    free(big);
    return rc;
}

char *lull_buf_take(lull_buf_t *b)
{
    char *out = b->data ? b->data : strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    b->truncated = b->failed = false;
    return out;
}

void lull_buf_reset(lull_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->truncated = b->failed = false;
}
