// Monotonic and wall clocks; the monotonic source is a function pointer so tests can drive time.
#include "lull_clock.h"

#include <stdio.h>
#include <time.h>

static int64_t s_real_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t (*s_mono_source)(void) = s_real_mono_us;

int64_t lull_clock_mono_us(void) { return s_mono_source(); }

int64_t lull_clock_mono_ms(void) { return s_mono_source() / 1000; }

int64_t lull_clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lull_clock_set_source(int64_t (*mono_us)(void))
{
    s_mono_source = mono_us ? mono_us : s_real_mono_us;
}

char *lull_clock_format_rfc3339(int64_t wall_ms, char *buf, int len)
{
    time_t secs = (time_t)(wall_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, (size_t)len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(wall_ms % 1000));
    return buf;
}
