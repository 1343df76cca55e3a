// Time for lull: a monotonic clock for timers (replaceable in tests) and the wall clock for records.
#ifndef LULL_CLOCK_H
#define LULL_CLOCK_H

#include <stdint.h>

// Monotonic time in milliseconds (the source tests may replace).
int64_t lull_clock_mono_ms(void);
// Monotonic time in microseconds (the source tests may replace, scaled).
int64_t lull_clock_mono_us(void);
// Wall-clock time in milliseconds since the Unix epoch.
int64_t lull_clock_wall_ms(void);
// Replaces the monotonic source (microseconds); NULL restores the real clock. For tests.
void lull_clock_set_source(int64_t (*mono_us)(void));
// Formats wall ms as RFC 3339 UTC with milliseconds into buf ("2026-11-23T05:23:16.123Z"); returns buf.
char *lull_clock_format_rfc3339(int64_t wall_ms, char *buf, int len);

#endif
