// Unit tests of lull_json: bounded parsing, UTF-8, typed access and error bodies.
#include "lull_test.h"
#include "lull_json.h"

#include <stdlib.h>

static cJSON *s_parse(const char *s, char *err)
{
    return lull_json_parse(s, strlen(s), 4, err, 128);
}

LULL_TEST(parse_rejections)
{
    char err[128];
    LULL_CHECK(s_parse("", err) == NULL);
    LULL_CHECK(strstr(err, "empty") != NULL);
    LULL_CHECK(s_parse("{\"a\":", err) == NULL);
    LULL_CHECK(strstr(err, "malformed") != NULL);
    LULL_CHECK(s_parse("{} x", err) == NULL);
    LULL_CHECK(strstr(err, "after the JSON") != NULL);
    LULL_CHECK(s_parse("[[[[[1]]]]]", err) == NULL);
    LULL_CHECK(strstr(err, "deeper") != NULL);
    LULL_CHECK(s_parse("{\"a\":\"\xff\"}", err) == NULL);
    LULL_CHECK(strstr(err, "UTF-8") != NULL);
    const char nul[] = "{\"a\":\"x\0y\"}";
    LULL_CHECK(lull_json_parse(nul, sizeof nul - 1, 4, err, sizeof err) == NULL);
    cJSON *ok = s_parse(" {\"a\":[1,2,{\"b\":\"[[[[\"}]} \n", err);
    LULL_CHECK(ok != NULL);
    cJSON_Delete(ok);
}

LULL_TEST(utf8)
{
    LULL_CHECK(lull_utf8_valid("héllo €𝄞", strlen("héllo €𝄞")));
    LULL_CHECK(!lull_utf8_valid("\xc0\xaf", 2));          // overlong '/'
    LULL_CHECK(!lull_utf8_valid("\xed\xa0\x80", 3));      // surrogate
    LULL_CHECK(!lull_utf8_valid("\xe2\x82", 2));          // truncated
    LULL_CHECK(!lull_utf8_valid("\xf4\x90\x80\x80", 4));  // > U+10FFFF
    LULL_CHECK(lull_utf8_valid("", 0));
}

LULL_TEST(typed_access)
{
    char err[128];
    cJSON *j = s_parse("{\"s\":\"abc\",\"n\":42,\"f\":1.5,\"ns\":\"7\",\"b\":true,\"o\":{},\"a\":[],\"z\":null}", err);
    const char *s = NULL;
    int64_t n = 0;
    double d = 0;
    bool b = false;
    LULL_CHECK_EQ_INT(lull_json_str(j, "s", true, 10, &s, err, sizeof err), 0);
    LULL_CHECK_EQ_STR(s, "abc");
    LULL_CHECK_EQ_INT(lull_json_str(j, "s", true, 2, &s, err, sizeof err), -1);
    LULL_CHECK(strstr(err, "'s'") && strstr(err, "longer"));
    LULL_CHECK_EQ_INT(lull_json_str(j, "n", true, 10, &s, err, sizeof err), -1);
    LULL_CHECK(strstr(err, "must be a string") != NULL);
    LULL_CHECK_EQ_INT(lull_json_str(j, "missing", false, 10, &s, err, sizeof err), 0);
    LULL_CHECK(s == NULL);
    LULL_CHECK_EQ_INT(lull_json_str(j, "z", true, 10, &s, err, sizeof err), -1);
    LULL_CHECK(strstr(err, "missing required field 'z'") != NULL);
    LULL_CHECK_EQ_INT(lull_json_int(j, "n", true, false, 0, 100, &n, err, sizeof err), 0);
    LULL_CHECK_EQ_INT(n, 42);
    LULL_CHECK_EQ_INT(lull_json_int(j, "n", true, false, 0, 10, &n, err, sizeof err), -1);
    LULL_CHECK_EQ_INT(lull_json_int(j, "f", true, false, 0, 10, &n, err, sizeof err), -1);
    LULL_CHECK_EQ_INT(lull_json_int(j, "ns", true, false, 0, 10, &n, err, sizeof err), -1);
    LULL_CHECK_EQ_INT(lull_json_int(j, "ns", true, true, 0, 10, &n, err, sizeof err), 0);
    LULL_CHECK_EQ_INT(n, 7);
    LULL_CHECK_EQ_INT(lull_json_num(j, "f", true, 0, 2, &d, err, sizeof err), 0);
    LULL_CHECK(d == 1.5);
    LULL_CHECK_EQ_INT(lull_json_bool(j, "b", true, &b, err, sizeof err), 0);
    LULL_CHECK(b);
    LULL_CHECK_EQ_INT(lull_json_bool(j, "n", true, &b, err, sizeof err), -1);
    bool present = false;
    LULL_CHECK(lull_json_child(j, "o", false, true, &present, err, sizeof err) != NULL);
    LULL_CHECK(lull_json_child(j, "a", true, true, &present, err, sizeof err) != NULL);
    LULL_CHECK(lull_json_child(j, "a", false, true, &present, err, sizeof err) == NULL && present);
    LULL_CHECK(strstr(err, "must be an object") != NULL);
    LULL_CHECK(lull_json_child(j, "q", false, false, &present, err, sizeof err) == NULL && !present);
    cJSON_Delete(j);
}

LULL_TEST(error_body)
{
    char *body = lull_json_error_body("bad_request", "field \"x\" missing");
    LULL_CHECK_EQ_STR(body, "{\"error\":{\"code\":\"bad_request\",\"message\":\"field \\\"x\\\" missing\"}}");
    free(body);
}

int main(void)
{
    LULL_RUN(parse_rejections);
    LULL_RUN(utf8);
    LULL_RUN(typed_access);
    LULL_RUN(error_body);
    return lull_test_summary();
}
