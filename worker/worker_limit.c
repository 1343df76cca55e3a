// Token bucket and failure cooldown of one provider.
#include "worker_limit.h"

void worker_limit_init(worker_limit_t *l, double rate, int64_t burst, int64_t fail_limit, int64_t cooldown_ms,
                       int64_t now_ms)
{
    l->rate = rate > 0 ? rate : 0;
    l->burst = burst > 0 ? (double)burst : 1;
    l->tokens = l->burst;
    l->last_ms = now_ms;
    l->fail_limit = fail_limit > 0 ? fail_limit : 1;
    l->cooldown_ms = cooldown_ms > 0 ? cooldown_ms : 0;
    l->failures = 0;
    l->cool_until = 0;
}

int64_t worker_limit_take(worker_limit_t *l, int64_t now_ms)
{
    if (l->rate <= 0) return 0;
    if (now_ms > l->last_ms) {
        l->tokens += (double)(now_ms - l->last_ms) * l->rate / 1000.0;
        if (l->tokens > l->burst) l->tokens = l->burst;
        l->last_ms = now_ms;
    }
    if (l->tokens >= 1.0) {
        l->tokens -= 1.0;
        return 0;
    }
    int64_t wait = (int64_t)((1.0 - l->tokens) * 1000.0 / l->rate) + 1;
    return wait > 0 ? wait : 1;
}

int64_t worker_limit_cooling(const worker_limit_t *l, int64_t now_ms)
{
    return l->cool_until > now_ms ? l->cool_until - now_ms : 0;
}

bool worker_limit_record(worker_limit_t *l, bool ok, int64_t now_ms)
{
    if (ok) {
        l->failures = 0;
        return false;
    }
    if (++l->failures < l->fail_limit || l->cooldown_ms == 0) return false;
    l->failures = 0;
    l->cool_until = now_ms + l->cooldown_ms;
    return true;
}
