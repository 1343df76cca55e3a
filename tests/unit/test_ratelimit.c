// Unit tests of lull_ratelimit: token buckets refill at their rate up to their burst, keys are independent,
// the table never holds more than its size (least recently used key forgotten), charges owe tokens, and client
// addresses key by IPv4 address or IPv6 /64.
#include "lull_ratelimit.h"
#include "lull_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

LULL_TEST(burst_then_rate)
{
    lull_ratelimit_t *rl = lull_ratelimit_new(60, 3, 16);  // one a second, three at once
    LULL_CHECK(rl != NULL);
    for (int i = 0; i < 3; i++) LULL_CHECK_EQ_INT(lull_ratelimit_take(rl, "a", 1, 1000), 0);
    int64_t wait = lull_ratelimit_take(rl, "a", 1, 1000);
    LULL_CHECK(wait >= 999 && wait <= 1001);
    LULL_CHECK(lull_ratelimit_take(rl, "a", 1, 1500) > 0);  // half a token
    LULL_CHECK_EQ_INT(lull_ratelimit_take(rl, "a", 1, 2001), 0);
    LULL_CHECK(lull_ratelimit_take(rl, "a", 1, 2001) > 0);
    // another key has its own bucket
    LULL_CHECK_EQ_INT(lull_ratelimit_take(rl, "b", 1, 2001), 0);
    // a long pause refills up to the burst only
    for (int i = 0; i < 3; i++) LULL_CHECK_EQ_INT(lull_ratelimit_take(rl, "a", 1, 100000), 0);
    LULL_CHECK(lull_ratelimit_take(rl, "a", 1, 100000) > 0);
    lull_ratelimit_destroy(&rl);
    LULL_CHECK(rl == NULL);
    lull_ratelimit_destroy(&rl);
}

LULL_TEST(bounded_lru)
{
    lull_ratelimit_t *rl = lull_ratelimit_new(1, 1, 8);
    char key[32];
    LULL_CHECK_EQ_INT(lull_ratelimit_take(rl, "keep", 4, 0), 0);
    for (int i = 0; i < 10000; i++) {
        int n = snprintf(key, sizeof key, "k%d", i);
        LULL_CHECK_EQ_INT(lull_ratelimit_take(rl, key, (size_t)n, 0), 0);  // each new key starts full
        LULL_CHECK(lull_ratelimit_take(rl, key, (size_t)n, 0) > 0);
        if (i % 3 == 0) LULL_CHECK(lull_ratelimit_take(rl, "keep", 4, 0) > 0);  // used often: never forgotten
        LULL_CHECK(lull_ratelimit_size(rl) <= 8);
    }
    LULL_CHECK_EQ_INT((int)lull_ratelimit_size(rl), 8);
    // the oldest keys were forgotten: k0 starts full again
    LULL_CHECK_EQ_INT(lull_ratelimit_take(rl, "k0", 2, 0), 0);
    // the most recent one is still known (empty)
    LULL_CHECK(lull_ratelimit_take(rl, "k9999", 5, 0) > 0);
    lull_ratelimit_destroy(&rl);
}

LULL_TEST(charge_owes)
{
    lull_ratelimit_t *rl = lull_ratelimit_new(60, 2, 4);
    LULL_CHECK_EQ_INT(lull_ratelimit_owed_ms(rl, "x", 1, 0), 0);
    for (int i = 0; i < 10; i++) lull_ratelimit_charge(rl, "x", 1, 0);  // owes at most the burst (2)
    int64_t owed = lull_ratelimit_owed_ms(rl, "x", 1, 0);
    LULL_CHECK(owed >= 1999 && owed <= 2001);
    LULL_CHECK(lull_ratelimit_take(rl, "x", 1, 0) > 0);
    LULL_CHECK_EQ_INT(lull_ratelimit_owed_ms(rl, "x", 1, 2001), 0);
    LULL_CHECK(lull_ratelimit_take(rl, "x", 1, 2001) > 0);  // at zero: nothing to take yet
    LULL_CHECK_EQ_INT(lull_ratelimit_take(rl, "x", 1, 3002), 0);
    lull_ratelimit_destroy(&rl);
}

LULL_TEST(unlimited)
{
    lull_ratelimit_t *rl = lull_ratelimit_new(0, 1, 4);
    LULL_CHECK(rl != NULL);
    LULL_CHECK(!lull_ratelimit_enabled(rl));
    for (int i = 0; i < 1000; i++) LULL_CHECK_EQ_INT(lull_ratelimit_take(rl, "a", 1, 0), 0);
    LULL_CHECK_EQ_INT((int)lull_ratelimit_size(rl), 0);
    lull_ratelimit_destroy(&rl);
    LULL_CHECK_EQ_INT(lull_ratelimit_take(NULL, "a", 1, 0), 0);
}

static size_t s_key(const char *text, uint8_t out[LULL_RATELIMIT_ADDR_KEY])
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)&ss;
    if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
    } else {
        LULL_CHECK(inet_pton(AF_INET6, text, &v6->sin6_addr) == 1);
        v6->sin6_family = AF_INET6;
    }
    return lull_ratelimit_addr_key((const struct sockaddr *)&ss, out);
}

static bool s_same(const char *a, const char *b)
{
    uint8_t ka[LULL_RATELIMIT_ADDR_KEY], kb[LULL_RATELIMIT_ADDR_KEY];
    size_t na = s_key(a, ka), nb = s_key(b, kb);
    return na > 0 && na == nb && memcmp(ka, kb, na) == 0;
}

LULL_TEST(addr_key)
{
    LULL_CHECK(s_same("127.0.0.2", "127.0.0.2"));
    LULL_CHECK(!s_same("127.0.0.2", "127.0.0.3"));
    LULL_CHECK(s_same("127.0.0.2", "::ffff:127.0.0.2"));       // mapped = IPv4
    LULL_CHECK(s_same("2001:db8:1:2::1", "2001:db8:1:2:ffff::9"));  // same /64
    LULL_CHECK(!s_same("2001:db8:1:2::1", "2001:db8:1:3::1"));
    LULL_CHECK(!s_same("::1", "0.0.0.1"));
    struct sockaddr other = {.sa_family = AF_UNIX};
    uint8_t k[LULL_RATELIMIT_ADDR_KEY];
    LULL_CHECK_EQ_INT((int)lull_ratelimit_addr_key(&other, k), 0);
    LULL_CHECK_EQ_INT((int)lull_ratelimit_addr_key(NULL, k), 0);
}

int main(void)
{
    LULL_RUN(burst_then_rate);
    LULL_RUN(bounded_lru);
    LULL_RUN(charge_owes);
    LULL_RUN(unlimited);
    LULL_RUN(addr_key);
    return lull_test_summary();
}
