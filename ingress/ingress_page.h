// The web chat page served on GET /chat (ingress/static/chat.html, embedded in the binary).
#ifndef INGRESS_PAGE_H
#define INGRESS_PAGE_H

#include <microhttpd.h>
#include <stdbool.h>

// The page as a response MHD may queue on any number of connections (text/html, its ETag, no-cache and the
// page's Content-Security-Policy); MHD_destroy_response() it at exit. NULL when out of memory.
struct MHD_Response *ingress_page_response(void);
// Whether an If-None-Match header value (NULL: absent) names the page's current ETag, or is "*".
bool ingress_page_etag_matches(const char *if_none_match);
// Answers a GET /chat on conn: 304 (ETag, no body) when its If-None-Match names the page, else 200 with page
// (from ingress_page_response, still the caller's).
enum MHD_Result ingress_page_queue(struct MHD_Connection *conn, struct MHD_Response *page);

#endif
