// Unit tests of worker_limit: the token bucket (burst, refill, wait time) and the failure cooldown.
#include "lull_test.h"
#include "../../worker/worker_limit.h"

LULL_TEST(bucket)
{
    worker_limit_t l;
    worker_limit_init(&l, 10, 2, 3, 1000, 0);  // 10/s, burst 2
    LULL_CHECK_EQ_INT(worker_limit_take(&l, 0), 0);
    LULL_CHECK_EQ_INT(worker_limit_take(&l, 0), 0);
    int64_t wait = worker_limit_take(&l, 0);
    LULL_CHECK(wait >= 100 && wait <= 101);
    LULL_CHECK(worker_limit_take(&l, 50) > 0);   // half a token
    LULL_CHECK_EQ_INT(worker_limit_take(&l, 100), 0);
    LULL_CHECK_EQ_INT(worker_limit_take(&l, 10000), 0);  // refill capped at the burst
    LULL_CHECK_EQ_INT(worker_limit_take(&l, 10000), 0);
    LULL_CHECK(worker_limit_take(&l, 10000) > 0);
    worker_limit_t u;
    worker_limit_init(&u, 0, 1, 3, 1000, 0);  // unlimited
    for (int i = 0; i < 1000; i++) LULL_CHECK_EQ_INT(worker_limit_take(&u, 0), 0);
}

LULL_TEST(cooldown)
{
    worker_limit_t l;
    worker_limit_init(&l, 0, 1, 3, 1000, 0);
    LULL_CHECK(!worker_limit_record(&l, false, 10));
    LULL_CHECK(!worker_limit_record(&l, false, 20));
    LULL_CHECK(!worker_limit_record(&l, true, 30));   // success resets the streak
    LULL_CHECK(!worker_limit_record(&l, false, 40));
    LULL_CHECK(!worker_limit_record(&l, false, 50));
    LULL_CHECK_EQ_INT(worker_limit_cooling(&l, 50), 0);
    LULL_CHECK(worker_limit_record(&l, false, 60));   // third in a row
    LULL_CHECK_EQ_INT(worker_limit_cooling(&l, 60), 1000);
    LULL_CHECK_EQ_INT(worker_limit_cooling(&l, 560), 500);
    LULL_CHECK_EQ_INT(worker_limit_cooling(&l, 1060), 0);
    worker_limit_t off;
    worker_limit_init(&off, 0, 1, 1, 0, 0);  // cooldown 0 = never
    LULL_CHECK(!worker_limit_record(&off, false, 1));
    LULL_CHECK_EQ_INT(worker_limit_cooling(&off, 1), 0);
}

int main(void)
{
    LULL_RUN(bucket);
    LULL_RUN(cooldown);
    return lull_test_summary();
}
