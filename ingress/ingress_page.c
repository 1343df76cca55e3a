// GET /chat: a small, self-contained web chat page (no external assets). It opens a session
// (POST /api/v1/chat/session), sends messages (POST /api/v1/chat/message) and shows the replies as they
// arrive on GET /api/v1/chat/stream/{session} (EventSource). The page itself is ingress/static/chat.html,
// embedded at build time; it is served from the binary's read-only data, with an ETag so that a browser
// holding the same page gets 304.
#include "ingress_page.h"
#include "ingress_static.h"

#include <string.h>

// The headers of a 200 (with_body) or of a 304. Cache-Control: no-cache lets a browser keep the page but
// makes it ask (If-None-Match) before each use. 0/-1.
static int s_add_headers(struct MHD_Response *r, bool with_body)
{
    bool ok = true;
    if (with_body) ok = MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8") == MHD_YES;
    ok = ok && MHD_add_response_header(r, "ETag", ingress_static_chat_html_etag) == MHD_YES &&
         MHD_add_response_header(r, "Cache-Control", "no-cache") == MHD_YES;
    if (ok && with_body)
        ok = MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES &&
             MHD_add_response_header(r, "Content-Security-Policy",
                                     "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                                     "connect-src 'self'; base-uri 'none'; form-action 'none'") == MHD_YES;
    return ok ? 0 : -1;
}

struct MHD_Response *ingress_page_response(void)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        ingress_static_chat_html_len, (void *)ingress_static_chat_html, MHD_RESPMEM_PERSISTENT);
    if (r && s_add_headers(r, true) != 0) {
        MHD_destroy_response(r);
        r = NULL;
    }
    return r;
}

bool ingress_page_etag_matches(const char *if_none_match)
{
    // a list of entity tags, weak ones (W/"…") included, or "*": a substring match is the weak comparison
    return if_none_match &&
           (strcmp(if_none_match, "*") == 0 || strstr(if_none_match, ingress_static_chat_html_etag) != NULL);
}

enum MHD_Result ingress_page_queue(struct MHD_Connection *conn, struct MHD_Response *page)
{
    if (!ingress_page_etag_matches(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match")))
        return MHD_queue_response(conn, MHD_HTTP_OK, page);
    enum MHD_Result rc = MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!r || s_add_headers(r, false) != 0) {  // out of memory: the whole page is a right answer too
        rc = MHD_queue_response(conn, MHD_HTTP_OK, page);
        goto cleanup;
    }
    rc = MHD_queue_response(conn, MHD_HTTP_NOT_MODIFIED, r);
cleanup:
    if (r) MHD_destroy_response(r);
    return rc;
}
