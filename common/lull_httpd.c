// Request bodies and answers of the libmicrohttpd servers.
#include "lull_httpd.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int lull_httpd_body_add(lull_httpd_body_t *b, const char *data, size_t n, size_t max)
{
    if (b->too_large || b->len + n > max) {
        b->too_large = true;
        return 0;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (b->len + n + 1 > cap) cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) return -1;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int lull_httpd_body_end(lull_httpd_body_t *b)
{
    if (!b->data) b->data = calloc(1, 1);
    return b->data ? 0 : -1;
}

enum MHD_Result lull_httpd_send(struct MHD_Connection *conn, unsigned status, const char *type, char *body,
                                const char *allow)
{
    if (!body) return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    if (allow) MHD_add_response_header(r, "Allow", allow);
    if (status == 503) MHD_add_response_header(r, "Retry-After", "1");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

typedef struct {
    int content_length, transfer_encoding;  // headers seen
    bool not_chunked;                      // a Transfer-Encoding other than exactly "chunked"
} s_framing_t;

static enum MHD_Result s_framing_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    s_framing_t *f = cls;
    if (strcasecmp(key, "Content-Length") == 0) {
        f->content_length++;
    } else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        f->transfer_encoding++;
        const char *v = value ? value : "";
        v += strspn(v, " \t");
        size_t n = strlen(v);
        while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
        if (n != 7 || strncasecmp(v, "chunked", 7) != 0) f->not_chunked = true;
    }
    return MHD_YES;
}

bool lull_httpd_framing_refused(struct MHD_Connection *conn, const char *version, unsigned *status, const char **code,
                                const char **why)
{
    s_framing_t f = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, s_framing_header, &f);
    *why = NULL;
    if (f.not_chunked) {
        *status = 501;
        *code = "unsupported_transfer_encoding";
        *why = "only the chunked transfer coding is supported";
        return true;
    }
    if (f.content_length > 1) *why = "Content-Length is given more than once";
    else if (f.transfer_encoding > 1) *why = "Transfer-Encoding is given more than once";
    else if (f.transfer_encoding && f.content_length) *why = "Content-Length and Transfer-Encoding are given together";
    else if (f.transfer_encoding && version && strcmp(version, MHD_HTTP_VERSION_1_0) == 0)
        *why = "Transfer-Encoding is not allowed in an HTTP/1.0 request";
    if (!*why) return false;
    *status = 400;
    *code = "bad_framing";
    return true;
}
