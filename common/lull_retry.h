// Retry delays, Celery style: max(retry_after, uniform(0, min(cap, base * 2^attempt))).
#ifndef LULL_RETRY_H
#define LULL_RETRY_H

#include <stdint.h>

// Delay in milliseconds before retry number attempt (0 for the first retry). retry_after_ms < 0 = none.
// Full jitter from lull_random_unit(); never negative, never above max(cap_ms, retry_after_ms).
int64_t lull_retry_delay_ms(int attempt, int64_t base_ms, int64_t cap_ms, int64_t retry_after_ms);
// The same with the jitter given (0 ≤ unit < 1), for tests.
int64_t lull_retry_delay_with(int attempt, int64_t base_ms, int64_t cap_ms, int64_t retry_after_ms, double unit);

#endif
