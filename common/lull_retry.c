// Exponential backoff with full jitter, bounded, honouring a server's Retry-After.
#include "lull_retry.h"
#include "lull_crypto.h"

int64_t lull_retry_delay_with(int attempt, int64_t base_ms, int64_t cap_ms, int64_t retry_after_ms, double unit)
{
    if (attempt < 0) attempt = 0;
    if (base_ms < 0) base_ms = 0;
    if (cap_ms < 0) cap_ms = 0;
    int64_t window = base_ms;
    for (int i = 0; i < attempt && window < cap_ms; i++) window *= 2;  // stops before overflow
    if (window > cap_ms) window = cap_ms;
    if (unit < 0) unit = 0;
    if (unit >= 1) unit = 0.999999;
    int64_t delay = (int64_t)(unit * (double)window);
    return retry_after_ms > delay ? retry_after_ms : delay;
}

int64_t lull_retry_delay_ms(int attempt, int64_t base_ms, int64_t cap_ms, int64_t retry_after_ms)
{
    return lull_retry_delay_with(attempt, base_ms, cap_ms, retry_after_ms, lull_random_unit());
}
