// Unit tests of lull_clock: replaceable monotonic source, formatting.
#include "lull_test.h"
#include "lull_clock.h"

static int64_t s_fake_us;
static int64_t s_fake(void) { return s_fake_us; }

LULL_TEST(source_can_be_replaced)
{
    int64_t real = lull_clock_mono_ms();
    LULL_CHECK(real > 0);
    lull_clock_set_source(s_fake);
    s_fake_us = 1234567;
    LULL_CHECK_EQ_INT(lull_clock_mono_ms(), 1234);
    LULL_CHECK_EQ_INT(lull_clock_mono_us(), 1234567);
    lull_clock_set_source(NULL);
    LULL_CHECK(lull_clock_mono_ms() >= real);
}

LULL_TEST(rfc3339)
{
    char buf[40];
    LULL_CHECK_EQ_STR(lull_clock_format_rfc3339(1795411396123LL, buf, sizeof buf), "2026-11-23T05:23:16.123Z");
    LULL_CHECK_EQ_STR(lull_clock_format_rfc3339(0, buf, sizeof buf), "1970-01-01T00:00:00.000Z");
    LULL_CHECK(lull_clock_wall_ms() > 1700000000000LL);
}

int main(void)
{
    LULL_RUN(source_can_be_replaced);
    LULL_RUN(rfc3339);
    return lull_test_summary();
}
