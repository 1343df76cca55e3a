// Unit tests of ingress_page: the response carries the page's headers (type, ETag, no-cache, CSP), and
// If-None-Match names the page only with its current ETag (alone, in a list, weak) or "*".
// (The page in a real browser, and 304 over HTTP, are in tests/it/test_webchat_page.sh.)
#include "../../ingress/ingress_page.h"
#include "../../ingress/ingress_static.h"
#include "lull_test.h"

LULL_TEST(response_carries_the_page_headers)
{
    struct MHD_Response *r = ingress_page_response();
    LULL_CHECK(r != NULL);
    if (!r) return;
    LULL_CHECK_EQ_STR(MHD_get_response_header(r, "Content-Type"), "text/html; charset=utf-8");
    LULL_CHECK_EQ_STR(MHD_get_response_header(r, "ETag"), ingress_static_chat_html_etag);
    LULL_CHECK_EQ_STR(MHD_get_response_header(r, "Cache-Control"), "no-cache");
    LULL_CHECK_EQ_STR(MHD_get_response_header(r, "X-Content-Type-Options"), "nosniff");
    const char *csp = MHD_get_response_header(r, "Content-Security-Policy");
    LULL_CHECK(csp && strncmp(csp, "default-src 'none'", 18) == 0 && strstr(csp, "connect-src 'self'"));
    MHD_destroy_response(r);
}

LULL_TEST(if_none_match_names_the_current_etag_only)
{
    const char *etag = ingress_static_chat_html_etag;
    char list[128], weak[64];
    snprintf(list, sizeof list, "\"0000000000000000\", %s", etag);
    snprintf(weak, sizeof weak, "W/%s", etag);
    LULL_CHECK(ingress_page_etag_matches(etag));
    LULL_CHECK(ingress_page_etag_matches(list));
    LULL_CHECK(ingress_page_etag_matches(weak));
    LULL_CHECK(ingress_page_etag_matches("*"));
    LULL_CHECK(!ingress_page_etag_matches(NULL));
    LULL_CHECK(!ingress_page_etag_matches(""));
    LULL_CHECK(!ingress_page_etag_matches("\"0000000000000000\""));
    char unquoted[32];
    snprintf(unquoted, sizeof unquoted, "%.16s", etag + 1);  // the hash without its quotes is another tag
    LULL_CHECK(!ingress_page_etag_matches(unquoted));
}

int main(void)
{
    LULL_RUN(response_carries_the_page_headers);
    LULL_RUN(if_none_match_names_the_current_etag_only);
    return lull_test_summary();
}
