// Unit tests of the admin API's query-string and route helpers (ingress_admin_util, ingress_admin): percent-decoding,
// limits, invalid input, integer parameters with ranges, which paths are admin routes.
#include "lull_test.h"
#include "../../ingress/ingress_admin.h"

#include <stdlib.h>

LULL_TEST(query_decodes_and_bounds)
{
    char v[16];
    LULL_CHECK(ingress_admin_util_query("/x?q=a%20b+c&limit=5", "q", v, sizeof v));
    LULL_CHECK_EQ_STR(v, "a b c");
    LULL_CHECK(ingress_admin_util_query("/x?q=a&limit=5", "limit", v, sizeof v));
    LULL_CHECK_EQ_STR(v, "5");
    LULL_CHECK(!ingress_admin_util_query("/x?q=a", "limit", v, sizeof v));         // absent
    LULL_CHECK(!ingress_admin_util_query("/x", "q", v, sizeof v));                 // no query at all
    LULL_CHECK(!ingress_admin_util_query("/x?xq=1", "q", v, sizeof v));           // not a prefix match
    LULL_CHECK(!ingress_admin_util_query("/x?q=%zz", "q", v, sizeof v));          // bad escape
    LULL_CHECK(!ingress_admin_util_query("/x?q=%4", "q", v, sizeof v));           // truncated escape
    LULL_CHECK(!ingress_admin_util_query("/x?q=%ff%fe", "q", v, sizeof v));       // not UTF-8
    LULL_CHECK(!ingress_admin_util_query("/x?q=0123456789abcdef", "q", v, sizeof v));  // longer than the buffer
    LULL_CHECK(ingress_admin_util_query("/x?q=%2B1%25", "q", v, sizeof v));
    LULL_CHECK_EQ_STR(v, "+1%");
    LULL_CHECK(ingress_admin_util_query("/x?a=1&q=&b=2", "q", v, sizeof v));      // present and empty
    LULL_CHECK_EQ_STR(v, "");
}

LULL_TEST(query_int_ranges)
{
    ingress_admin_req_t req = {.method = "GET", .uri = "/x?limit=20&after=abc&big=5000"};
    int64_t out = 0;
    LULL_CHECK(ingress_admin_util_query_int(&req, "limit", 50, 1, 1000, &out));
    LULL_CHECK_EQ_INT(out, 20);
    LULL_CHECK(ingress_admin_util_query_int(&req, "missing", 50, 1, 1000, &out));
    LULL_CHECK_EQ_INT(out, 50);
    LULL_CHECK(!ingress_admin_util_query_int(&req, "after", 0, 0, 100, &out));
    LULL_CHECK_EQ_INT(req.status, 400);
    LULL_CHECK(req.answer && strstr(req.answer, "'after'"));
    free(req.answer);
    req.answer = NULL;
    LULL_CHECK(!ingress_admin_util_query_int(&req, "big", 50, 1, 1000, &out));
    LULL_CHECK(req.answer && strstr(req.answer, "between 1 and 1000"));
    free(req.answer);
}

LULL_TEST(page_defaults_texts_and_bounds)
{
    ingress_admin_page_t pg;
    ingress_admin_req_t req = {.method = "GET", .uri = "/x"};
    LULL_CHECK(ingress_admin_util_page(&req, &pg));
    LULL_CHECK_EQ_INT(pg.limit, INGRESS_ADMIN_LIMIT_DEFAULT);
    LULL_CHECK_EQ_INT(pg.after, 0);
    LULL_CHECK_EQ_STR(pg.limit_s, "50");
    LULL_CHECK_EQ_STR(pg.after_s, "0");
    req.uri = "/x?after=9007199254740993&limit=1000";
    LULL_CHECK(ingress_admin_util_page(&req, &pg));
    LULL_CHECK_EQ_STR(pg.after_s, "9007199254740993");  // exact, not through a double
    LULL_CHECK_EQ_STR(pg.limit_s, "1000");
    req.uri = "/x?limit=1001&after=-1";  // limit is read first: its error is the answer
    LULL_CHECK(!ingress_admin_util_page(&req, &pg));
    LULL_CHECK_EQ_INT(req.status, 400);
    LULL_CHECK(req.answer && strstr(req.answer, "'limit'"));
    free(req.answer);
    req.answer = NULL;
    req.uri = "/x?after=-1";
    LULL_CHECK(!ingress_admin_util_page(&req, &pg));
    LULL_CHECK(req.answer && strstr(req.answer, "'after'"));
    free(req.answer);
}

LULL_TEST(admin_routes)
{
    LULL_CHECK(ingress_admin_route("/timers"));
    LULL_CHECK(ingress_admin_route("/process-chat"));
    LULL_CHECK(ingress_admin_route("/api/v1/windows"));
    LULL_CHECK(ingress_admin_route("/api/v1/tenants/3"));
    LULL_CHECK(!ingress_admin_route("/api/v1/chat/session"));
    LULL_CHECK(!ingress_admin_route("/api/v1/chat/history/ws_1"));
    LULL_CHECK(!ingress_admin_route("/webhook"));
    LULL_CHECK(!ingress_admin_route("/health"));
    LULL_CHECK(!ingress_admin_route("/chat"));
}

int main(void)
{
    LULL_RUN(query_decodes_and_bounds);
    LULL_RUN(query_int_ranges);
    LULL_RUN(page_defaults_texts_and_bounds);
    LULL_RUN(admin_routes);
    return lull_test_summary();
}
