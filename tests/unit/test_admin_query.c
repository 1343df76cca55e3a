// Unit tests of the admin API's query-string and route helpers (admin_util, admin_routes, lull_route): percent-decoding,
// limits, invalid input, integer parameters with ranges, which paths are admin routes.
#include "lull_test.h"
#include "../../admin/admin_routes.h"
#include "lull_route.h"

#include <stdlib.h>

LULL_TEST(query_decodes_and_bounds)
{
    char v[16];
    LULL_CHECK(admin_util_query("/x?q=a%20b+c&limit=5", "q", v, sizeof v));
    LULL_CHECK_EQ_STR(v, "a b c");
    LULL_CHECK(admin_util_query("/x?q=a&limit=5", "limit", v, sizeof v));
    LULL_CHECK_EQ_STR(v, "5");
    LULL_CHECK(!admin_util_query("/x?q=a", "limit", v, sizeof v));         // absent
    LULL_CHECK(!admin_util_query("/x", "q", v, sizeof v));                 // no query at all
    LULL_CHECK(!admin_util_query("/x?xq=1", "q", v, sizeof v));           // not a prefix match
    LULL_CHECK(!admin_util_query("/x?q=%zz", "q", v, sizeof v));          // bad escape
    LULL_CHECK(!admin_util_query("/x?q=%4", "q", v, sizeof v));           // truncated escape
    LULL_CHECK(!admin_util_query("/x?q=%ff%fe", "q", v, sizeof v));       // not UTF-8
    LULL_CHECK(!admin_util_query("/x?q=0123456789abcdef", "q", v, sizeof v));  // longer than the buffer
    LULL_CHECK(admin_util_query("/x?q=%2B1%25", "q", v, sizeof v));
    LULL_CHECK_EQ_STR(v, "+1%");
    LULL_CHECK(admin_util_query("/x?a=1&q=&b=2", "q", v, sizeof v));      // present and empty
    LULL_CHECK_EQ_STR(v, "");
}

LULL_TEST(query_int_ranges)
{
    admin_req_t req = {.method = "GET", .uri = "/x?limit=20&after=abc&big=5000"};
    int64_t out = 0;
    LULL_CHECK(admin_util_query_int(&req, "limit", 50, 1, 1000, &out));
    LULL_CHECK_EQ_INT(out, 20);
    LULL_CHECK(admin_util_query_int(&req, "missing", 50, 1, 1000, &out));
    LULL_CHECK_EQ_INT(out, 50);
    LULL_CHECK(!admin_util_query_int(&req, "after", 0, 0, 100, &out));
    LULL_CHECK_EQ_INT(req.status, 400);
    LULL_CHECK(req.answer && strstr(req.answer, "'after'"));
    free(req.answer);
    req.answer = NULL;
    LULL_CHECK(!admin_util_query_int(&req, "big", 50, 1, 1000, &out));
    LULL_CHECK(req.answer && strstr(req.answer, "between 1 and 1000"));
    free(req.answer);
    // another parameter whose name ends with the key is not the key (it was read as "after=" present and bad)
    admin_req_t other = {.method = "GET", .uri = "/x?safter=zz&climit=1#after=x"};
    LULL_CHECK(admin_util_query_int(&other, "after", 7, 0, 100, &out));
    LULL_CHECK_EQ_INT(out, 7);
    LULL_CHECK(other.answer == NULL);
    admin_req_t bare = {.method = "GET", .uri = "/x?after&limit=2"};
    LULL_CHECK(!admin_util_query_int(&bare, "after", 7, 0, 100, &out));  // present without a value
    free(bare.answer);
}

LULL_TEST(page_defaults_texts_and_bounds)
{
    admin_page_t pg;
    admin_req_t req = {.method = "GET", .uri = "/x"};
    LULL_CHECK(admin_util_page(&req, &pg));
    LULL_CHECK_EQ_INT(pg.limit, ADMIN_LIMIT_DEFAULT);
    LULL_CHECK_EQ_INT(pg.after, 0);
    LULL_CHECK_EQ_STR(pg.limit_s, "50");
    LULL_CHECK_EQ_STR(pg.after_s, "0");
    req.uri = "/x?after=9007199254740993&limit=1000";
    LULL_CHECK(admin_util_page(&req, &pg));
    LULL_CHECK_EQ_STR(pg.after_s, "9007199254740993");  // exact, not through a double
    LULL_CHECK_EQ_STR(pg.limit_s, "1000");
    req.uri = "/x?limit=1001&after=-1";  // limit is read first: its error is the answer
    LULL_CHECK(!admin_util_page(&req, &pg));
    LULL_CHECK_EQ_INT(req.status, 400);
    LULL_CHECK(req.answer && strstr(req.answer, "'limit'"));
    free(req.answer);
    req.answer = NULL;
    req.uri = "/x?after=-1";
    LULL_CHECK(!admin_util_page(&req, &pg));
    LULL_CHECK(req.answer && strstr(req.answer, "'after'"));
    free(req.answer);
}

// The row lull_route_find picks for method and path (-1: 404, -2: 405), with the Allow it built.
static int s_find(const char *method, const char *path, char *allow)
{
    lull_route_args_t args;
    return lull_route_find(admin_routes, ADMIN_R_COUNT, method, path, &args, allow, LULL_ROUTE_ALLOW_MAX);
}

LULL_TEST(admin_routes)
{
    char allow[LULL_ROUTE_ALLOW_MAX];
    LULL_CHECK_EQ_INT(s_find("GET", "/timers", allow), ADMIN_R_TIMERS_LIST);
    LULL_CHECK_EQ_INT(s_find("POST", "/process-chat", allow), ADMIN_R_PROCESS_CHAT);
    LULL_CHECK_EQ_INT(s_find("GET", "/api/v1/windows", allow), ADMIN_R_WINDOWS_LIST);
    LULL_CHECK_EQ_INT(s_find("DELETE", "/api/v1/tenants/3", allow), ADMIN_R_TENANTS_DELETE);
    LULL_CHECK_EQ_INT(s_find("POST", "/api/v1/dead-letters/replay", allow), ADMIN_R_DEAD_LETTERS_REPLAY_ALL);
    LULL_CHECK_EQ_INT(s_find("POST", "/api/v1/dead-letters/7/replay", allow), ADMIN_R_DEAD_LETTER_REPLAY);
    LULL_CHECK_EQ_INT(s_find("POST", "/api/v1/tenants/3", allow), -2);  // 405, Allow from the rows
    LULL_CHECK_EQ_STR(allow, "GET, PATCH, PUT, DELETE");
    LULL_CHECK_EQ_INT(s_find("GET", "/api/v1/chat/session", allow), -1);  // ingress's, not admin's
    LULL_CHECK_EQ_INT(s_find("POST", "/webhook", allow), -1);
    LULL_CHECK_EQ_INT(s_find("GET", "/api/v1/tenants/3/x", allow), -1);
    LULL_CHECK_EQ_INT(s_find("GET", "/api/v1/tenants/", allow), -1);  // an empty segment is no id
    for (int r = 0; r < ADMIN_R_COUNT; r++)  // every row needs the token but the liveness and the document
        LULL_CHECK(admin_routes[r].auth != LULL_AUTH_NONE || admin_route_handlers[r] == NULL);
}

LULL_TEST(route_patterns)
{
    lull_route_args_t a;
    LULL_CHECK(lull_route_match("/a/{x}/b", "/a/12/b", &a));
    LULL_CHECK_EQ_INT(a.nargs, 1);
    LULL_CHECK_EQ_INT((int)a.len[0], 2);
    LULL_CHECK(strncmp(a.arg[0], "12", 2) == 0);
    LULL_CHECK(!lull_route_match("/a/{x}/b", "/a//b", &a));
    LULL_CHECK(!lull_route_match("/a/{x}/b", "/a/1/2/b", &a));
    LULL_CHECK(!lull_route_match("/a/{x}", "/a/1/", &a));
    LULL_CHECK(!lull_route_match("/a", "/ab", &a));
    LULL_CHECK(!lull_route_match("/ab", "/a", &a));
    LULL_CHECK(lull_route_match("/a/{x}/{y}", "/a/p/q", &a));
    LULL_CHECK_EQ_INT(a.nargs, 2);
}

int main(void)
{
    LULL_RUN(query_decodes_and_bounds);
    LULL_RUN(query_int_ranges);
    LULL_RUN(page_defaults_texts_and_bounds);
    LULL_RUN(admin_routes);
    LULL_RUN(route_patterns);
    return lull_test_summary();
}
