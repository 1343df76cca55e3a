// Unit tests of lull_crypto and lull_retry: known HMAC/SHA vectors (RFC 2202, RFC 4231), base64 round
// trips and rejections, constant-time compare, the Celery backoff formula, and the shard function.
#include "lull_test.h"
#include "lull_crypto.h"
#include "lull_proto.h"
#include "lull_retry.h"

LULL_TEST(hmac_vectors)
{
    uint8_t out[32];
    char hex[65];
    // RFC 2202 test case 2
    LULL_CHECK_EQ_INT(lull_hmac_sha1("Jefe", 4, "what do ya want for nothing?", 28, out), 0);
    LULL_CHECK_EQ_STR(lull_hex(out, 20, hex), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    // RFC 4231 test case 2
    LULL_CHECK_EQ_INT(lull_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, out), 0);
    LULL_CHECK_EQ_STR(lull_hex(out, 32, hex), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    LULL_CHECK_EQ_INT(lull_sha256("abc", 3, out), 0);
    LULL_CHECK_EQ_STR(lull_hex(out, 32, hex), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

LULL_TEST(base64)
{
    char enc[16];
    uint8_t dec[16];
    LULL_CHECK_EQ_INT(lull_base64_encode((const uint8_t *)"user:pw", 7, enc, sizeof enc), 12);
    LULL_CHECK_EQ_STR(enc, "dXNlcjpwdw==");
    LULL_CHECK_EQ_INT(lull_base64_decode("dXNlcjpwdw==", 12, dec, sizeof dec), 7);
    LULL_CHECK(memcmp(dec, "user:pw", 7) == 0);
    LULL_CHECK_EQ_INT(lull_base64_decode("dXNlcjpwdw", 10, dec, sizeof dec), 7);
    LULL_CHECK_EQ_INT(lull_base64_decode("dX*l", 4, dec, sizeof dec), -1);
    LULL_CHECK_EQ_INT(lull_base64_decode("dXNlcjpwdw==", 12, dec, 3), -1);
    LULL_CHECK_EQ_INT(lull_base64_encode((const uint8_t *)"user:pw", 7, enc, 5), -1);
}

LULL_TEST(constant_time_equal_and_ids)
{
    LULL_CHECK(lull_ct_equal("abc", 3, "abc", 3));
    LULL_CHECK(!lull_ct_equal("abc", 3, "abd", 3));
    LULL_CHECK(!lull_ct_equal("abc", 3, "abcd", 4));
    char a[40], b[40];
    LULL_CHECK(lull_random_id("ses_", 16, a, sizeof a) == a);
    LULL_CHECK(lull_random_id("ses_", 16, b, sizeof b) == b);
    LULL_CHECK_EQ_INT(strlen(a), 36);
    LULL_CHECK(strncmp(a, "ses_", 4) == 0);
    LULL_CHECK(strcmp(a, b) != 0);
    for (int i = 0; i < 1000; i++) {
        double u = lull_random_unit();
        LULL_CHECK(u >= 0 && u < 1);
    }
}

static int s_calls;
static int s_failing_source(void *buf, size_t len)
{
    s_calls++;
    memset(buf, 0, len);  // what the old code fell back to: it must never become an id
    return -1;
}

LULL_TEST(random_failure_gives_no_id)
{
    char id[40] = "untouched", raw[8];
    s_calls = 0;
    lull_random_set_source(s_failing_source);
    LULL_CHECK(lull_random_id("ses_", 16, id, sizeof id) == NULL);
    LULL_CHECK_EQ_STR(id, "");  // no zero-byte id left behind
    LULL_CHECK_EQ_INT(lull_random_bytes(raw, sizeof raw), -1);
    LULL_CHECK_EQ_INT(s_calls, 2);
    lull_random_set_source(NULL);  // RAND_bytes again
    LULL_CHECK(lull_random_id("ses_", 16, id, sizeof id) == id);
    LULL_CHECK_EQ_INT(strlen(id), 36);
    LULL_CHECK(strcmp(id, "ses_00000000000000000000000000000000") != 0);
    LULL_CHECK_EQ_INT(s_calls, 2);
    // an id that does not fit is refused rather than cut short
    char small[10] = "untouched";
    LULL_CHECK(lull_random_id("ses_", 16, small, sizeof small) == NULL);
    LULL_CHECK_EQ_STR(small, "");
}

LULL_TEST(celery_backoff)
{
    // window = min(cap, base * 2^attempt); delay = max(retry_after, unit * window)
    LULL_CHECK_EQ_INT(lull_retry_delay_with(0, 1000, 600000, -1, 0.5), 500);
    LULL_CHECK_EQ_INT(lull_retry_delay_with(3, 1000, 600000, -1, 0.5), 4000);
    LULL_CHECK_EQ_INT(lull_retry_delay_with(40, 1000, 600000, -1, 0.5), 300000);  // capped, no overflow
    LULL_CHECK_EQ_INT(lull_retry_delay_with(2, 1000, 600000, 9000, 0.5), 9000);   // Retry-After wins
    LULL_CHECK_EQ_INT(lull_retry_delay_with(2, 1000, 600000, 100, 0.5), 2000);
    LULL_CHECK_EQ_INT(lull_retry_delay_with(2, 1000, 600000, -1, 0.0), 0);
    for (int i = 0; i < 1000; i++) {
        int64_t d = lull_retry_delay_ms(i % 12, 10, 1000, -1);
        LULL_CHECK(d >= 0 && d < 1000);
    }
}

LULL_TEST(shard_is_stable_and_spread)
{
    LULL_CHECK_EQ_INT(lull_proto_shard(12345, 1), 0);
    LULL_CHECK_EQ_INT(lull_proto_shard(12345, 0), 0);
    int counts[4] = {0};
    for (int64_t id = 1; id <= 40000; id++) {
        int s = lull_proto_shard(id, 4);
        LULL_CHECK(s >= 0 && s < 4);
        counts[s]++;
    }
    for (int i = 0; i < 4; i++) LULL_CHECK(counts[i] > 9000 && counts[i] < 11000);
    LULL_CHECK_EQ_INT(lull_proto_shard(777, 4), lull_proto_shard(777, 4));
}

int main(void)
{
    LULL_RUN(hmac_vectors);
    LULL_RUN(base64);
    LULL_RUN(constant_time_equal_and_ids);
    LULL_RUN(random_failure_gives_no_id);
    LULL_RUN(celery_backoff);
    LULL_RUN(shard_is_stable_and_spread);
    return lull_test_summary();
}
