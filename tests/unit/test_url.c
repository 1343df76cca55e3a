// Unit tests of lull_url: form/query percent-decoding (strict: bad escapes, NUL bytes, invalid UTF-8 and results
// that do not fit are refused) and query parameter lookup in raw request URIs.
#include "lull_test.h"
#include "lull_url.h"

static int s_dec(const char *s, char *out, size_t cap) { return lull_url_decode(s, strlen(s), out, cap); }

LULL_TEST(decode)
{
    char out[32];
    LULL_CHECK_EQ_INT(s_dec("It%27s+amazing", out, sizeof out), 12);
    LULL_CHECK_EQ_STR(out, "It's amazing");
    LULL_CHECK_EQ_INT(s_dec("%2B1%25%2b", out, sizeof out), 4);
    LULL_CHECK_EQ_STR(out, "+1%+");
    LULL_CHECK_EQ_INT(s_dec("caf%C3%A9", out, sizeof out), 5);
    LULL_CHECK_EQ_STR(out, "caf\xc3\xa9");
    LULL_CHECK_EQ_INT(s_dec("", out, sizeof out), 0);
    LULL_CHECK_EQ_STR(out, "");
    LULL_CHECK_EQ_INT(lull_url_decode("abcdef", 3, out, sizeof out), 3);  // only len bytes are read
    LULL_CHECK_EQ_STR(out, "abc");
}

LULL_TEST(decode_refuses)
{
    char out[8];
    LULL_CHECK_EQ_INT(s_dec("%zz", out, sizeof out), -1);      // not hex
    LULL_CHECK_EQ_INT(s_dec("a%4", out, sizeof out), -1);      // cut short
    LULL_CHECK_EQ_INT(s_dec("a%", out, sizeof out), -1);
    LULL_CHECK_EQ_INT(lull_url_decode("%41%4", 4, out, sizeof out), -1);  // the escape runs past len
    LULL_CHECK_EQ_INT(s_dec("a%00b", out, sizeof out), -1);    // NUL
    LULL_CHECK_EQ_INT(s_dec("%ff%fe", out, sizeof out), -1);   // not UTF-8
    LULL_CHECK_EQ_INT(s_dec("%C3", out, sizeof out), -1);      // a cut UTF-8 sequence
    LULL_CHECK_EQ_INT(s_dec("1234567", out, sizeof out), 7);   // fits with its NUL
    LULL_CHECK_EQ_INT(s_dec("12345678", out, sizeof out), -1); // does not
    LULL_CHECK_EQ_INT(s_dec("", out, 0), -1);
}

LULL_TEST(query_lookup)
{
    size_t n = 99;
    const char *v = lull_url_query_raw("/x?a=1&bodySHA256=ab%20c&b=2#frag", "bodySHA256", &n);
    LULL_CHECK(v != NULL && n == 6 && strncmp(v, "ab%20c&b=2", 10) == 0);  // raw, a pointer into the URI
    LULL_CHECK(lull_url_query_raw("/x?xa=1", "a", &n) == NULL);        // names match whole
    LULL_CHECK(lull_url_query_raw("/x?ab=1", "a", &n) == NULL);
    LULL_CHECK(lull_url_query_raw("/x#?a=1", "a", &n) == NULL);        // in the fragment
    LULL_CHECK(lull_url_query_raw("/x?b=1#a=1", "a", &n) == NULL);
    LULL_CHECK(lull_url_query_raw("/x", "a", &n) == NULL);
    LULL_CHECK(lull_url_query_raw(NULL, "a", &n) == NULL);
    v = lull_url_query_raw("/x?a=1&a=2", "a", &n);                     // the first one
    LULL_CHECK(v && n == 1 && *v == '1');
    v = lull_url_query_raw("/x?b&a&c=1", "a", &n);                     // a bare name: empty value
    LULL_CHECK(v && n == 0);
    v = lull_url_query_raw("https://h:8/p?q=v?w", "q", &n);           // a '?' inside a value is data
    LULL_CHECK(v && n == 3 && strncmp(v, "v?w", 3) == 0);

    char out[16];
    LULL_CHECK(lull_url_query("/x?q=a%20b+c&limit=5", "q", out, sizeof out));
    LULL_CHECK_EQ_STR(out, "a b c");
    LULL_CHECK(lull_url_query("/x?upsert", "upsert", out, sizeof out));
    LULL_CHECK_EQ_STR(out, "");
    LULL_CHECK(!lull_url_query("/x?q=%zz", "q", out, sizeof out));
    LULL_CHECK(!lull_url_query("/x?q=0123456789abcdef", "q", out, sizeof out));
    LULL_CHECK(!lull_url_query("/x?q=1", "limit", out, sizeof out));
}

int main(void)
{
    LULL_RUN(decode);
    LULL_RUN(decode_refuses);
    LULL_RUN(query_lookup);
    return lull_test_summary();
}
