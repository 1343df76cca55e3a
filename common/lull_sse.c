// SSE output of one stream: a capped byte queue drained by libmicrohttpd's content reader (see lull_sse.h).
#include "lull_sse.h"

#include <stdlib.h>
#include <string.h>

void lull_sse_init(lull_sse_t *s, struct MHD_Connection *conn, size_t max)
{
    memset(s, 0, sizeof *s);
    s->conn = conn;
    s->max = max;
}

void lull_sse_kick(lull_sse_t *s)
{
    if (s->suspended) {
        s->suspended = false;
        MHD_resume_connection(s->conn);
    }
}

void lull_sse_close(lull_sse_t *s)
{
    s->closed = true;
    lull_sse_kick(s);
}

lull_sse_append_t lull_sse_append(lull_sse_t *s, const char *data, size_t n)
{
    if (s->closed) return LULL_SSE_DROPPED;
    if (s->off > 0 && s->off == s->len) s->off = s->len = 0;
    if (s->len - s->off + n > s->max) {
        lull_sse_close(s);
        return LULL_SSE_OVERFLOW;
    }
    if (s->len + n > s->cap) {
        if (s->off > 0) {
            memmove(s->buf, s->buf + s->off, s->len - s->off);
            s->len -= s->off;
            s->off = 0;
        }
        size_t cap = s->cap ? s->cap : 512;
        while (s->len + n > cap) cap *= 2;
        char *b = realloc(s->buf, cap);
        if (!b) {
            lull_sse_close(s);
            return LULL_SSE_NOMEM;
        }
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    lull_sse_kick(s);
    return LULL_SSE_QUEUED;
}

ssize_t lull_sse_read(lull_sse_t *s, char *buf, size_t max)
{
    if (s->len > s->off) {
        size_t n = s->len - s->off;
        if (n > max) n = max;
        memcpy(buf, s->buf + s->off, n);
        s->off += n;
        if (s->off == s->len) s->off = s->len = 0;
        return (ssize_t)n;
    }
    if (s->closed) return MHD_CONTENT_READER_END_OF_STREAM;
    s->suspended = true;  // resumed by lull_sse_kick when data is queued
    MHD_suspend_connection(s->conn);
    return 0;
}

void lull_sse_clear(lull_sse_t *s)
{
    free(s->buf);
    s->buf = NULL;
    s->len = s->off = s->cap = 0;
}

char *lull_sse_frame(const char *id, const char *event, const char *data, size_t *n)
{
    size_t lines = 1;
    for (const char *p = data; *p; p++) lines += *p == '\n';
    // "id: " id "\n", "event: " event, "\ndata: " and the data (each newline of it grows by 6: "\ndata: "), "\n\n\0"
    size_t cap = (id ? 4 + strlen(id) + 1 : 0) + 7 + strlen(event) + 7 + strlen(data) + (lines - 1) * 6 + 3;
    char *out = malloc(cap), *o = out;
    if (!out) return NULL;
    if (id) {
        memcpy(o, "id: ", 4);
        o += 4;
        memcpy(o, id, strlen(id));
        o += strlen(id);
        *o++ = '\n';
    }
    memcpy(o, "event: ", 7);
    o += 7;
    memcpy(o, event, strlen(event));
    o += strlen(event);
    memcpy(o, "\ndata: ", 7);
    o += 7;
    for (const char *p = data; *p; p++) {
        if (*p == '\r') continue;
        if (*p == '\n') {
            memcpy(o, "\ndata: ", 7);
            o += 7;
        } else *o++ = *p;
    }
    memcpy(o, "\n\n", 3);
    *n = (size_t)(o + 2 - out);
    return out;
}
