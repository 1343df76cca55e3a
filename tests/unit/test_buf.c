// Unit tests of lull_buf: growth, NUL termination, caps (fail or truncate), printf, take/reset.
#include "lull_test.h"
#include "lull_buf.h"

#include <stdlib.h>

LULL_TEST(grows_and_stays_terminated)
{
    lull_buf_t b;
    lull_buf_init(&b, 0, false);
    for (int i = 0; i < 1000; i++) LULL_CHECK_EQ_INT(lull_buf_puts(&b, "abc"), 0);
    LULL_CHECK_EQ_INT(b.len, 3000);
    LULL_CHECK_EQ_INT(strlen(b.data), 3000);
    LULL_CHECK_EQ_INT(lull_buf_printf(&b, "%d-%s", 42, "x"), 0);
    LULL_CHECK(strcmp(b.data + 3000, "42-x") == 0);
    char big[600];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    LULL_CHECK_EQ_INT(lull_buf_printf(&b, "[%s]", big), 0);  // longer than the printf fast path
    LULL_CHECK_EQ_INT(b.len, 3004 + 601);
    char *s = lull_buf_take(&b);
    LULL_CHECK_EQ_INT(strlen(s), 3605);
    LULL_CHECK(b.data == NULL && b.len == 0);
    free(s);
    s = lull_buf_take(&b);
    LULL_CHECK_EQ_STR(s, "");
    free(s);
}

LULL_TEST(cap_fails_or_truncates)
{
    lull_buf_t b;
    lull_buf_init(&b, 5, false);
    LULL_CHECK_EQ_INT(lull_buf_puts(&b, "1234"), 0);
    LULL_CHECK_EQ_INT(lull_buf_puts(&b, "56"), -1);
    LULL_CHECK(b.failed);
    LULL_CHECK_EQ_INT(lull_buf_puts(&b, ""), -1);  // stays failed
    LULL_CHECK_EQ_STR(b.data, "1234");
    lull_buf_reset(&b);
    LULL_CHECK(!b.failed && b.max == 5);
    lull_buf_init(&b, 5, true);
    LULL_CHECK_EQ_INT(lull_buf_puts(&b, "1234"), 0);
    LULL_CHECK_EQ_INT(lull_buf_puts(&b, "5678"), 0);
    LULL_CHECK(b.truncated && !b.failed);
    LULL_CHECK_EQ_STR(b.data, "12345");
    LULL_CHECK_EQ_INT(lull_buf_printf(&b, "%s", "more"), 0);
    LULL_CHECK_EQ_STR(b.data, "12345");
    lull_buf_reset(&b);
}

LULL_TEST(reserve_once)
{
    lull_buf_t b;
    lull_buf_init(&b, 0, false);
    LULL_CHECK(lull_buf_reserve(&b, 5000) == 0);
    LULL_CHECK(b.cap >= 5001);
    const char *data = b.data;
    for (int i = 0; i < 500; i++) LULL_CHECK(lull_buf_append(&b, "0123456789", 10) == 0);
    LULL_CHECK(b.data == data);  // no growth after the reservation
    LULL_CHECK(b.len == 5000 && b.data[5000] == '\0' && b.data[4999] == '9');
    lull_buf_reset(&b);
    lull_buf_init(&b, 100, false);  // a reservation never goes past the cap
    LULL_CHECK(lull_buf_reserve(&b, 1 << 20) == 0);
    LULL_CHECK(b.cap <= 256);
    LULL_CHECK(lull_buf_append(&b, "x", 1) == 0 && b.len == 1);
    lull_buf_reset(&b);
}

int main(void)
{
    LULL_RUN(grows_and_stays_terminated);
    LULL_RUN(cap_fails_or_truncates);
    LULL_RUN(reserve_once);
    return lull_test_summary();
}
