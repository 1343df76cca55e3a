// Request bodies and answers of the libmicrohttpd servers.
#include "lull_httpd.h"

#include <stdlib.h>
#include <string.h>

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
