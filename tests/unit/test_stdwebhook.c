// Unit tests of lull_stdwebhook: the Standard Webhooks specification's published example, and verification
// (missing headers, timestamps out of tolerance, several signatures, a changed body or id).
#include "lull_stdwebhook.h"
#include "lull_test.h"

#include <string.h>

static const char *const VEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
static const char *const VEC_BODY = "{\"test\": 2432232314}";
static const char *const VEC_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
#define VEC_TS 1614265330

LULL_TEST(spec_vector)
{
    uint8_t key[64];
    int klen = lull_stdwebhook_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key, sizeof key);
    LULL_CHECK_EQ_INT(klen, 24);
    char sig[100];
    LULL_CHECK_EQ_INT(lull_stdwebhook_sign(key, (size_t)klen, VEC_ID, VEC_TS, VEC_BODY, strlen(VEC_BODY), sig, sizeof sig), 0);
    LULL_CHECK_EQ_STR(sig, VEC_SIG);
    LULL_CHECK_EQ_INT(lull_stdwebhook_key("whsec_!!!", key, sizeof key), -1);
    LULL_CHECK_EQ_INT(lull_stdwebhook_key("raw-secret", key, sizeof key), 10);
    LULL_CHECK_EQ_INT(lull_stdwebhook_sign(key, 10, "id", 1, "", 0, sig, 10), -1);  // buffer too small
}

LULL_TEST(verify)
{
    uint8_t key[64];
    size_t kl = (size_t)lull_stdwebhook_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key, sizeof key);
    size_t bl = strlen(VEC_BODY);
    LULL_CHECK_EQ_INT(lull_stdwebhook_verify(key, kl, VEC_ID, "1614265330", VEC_SIG, VEC_BODY, bl, VEC_TS), LULL_STDWEBHOOK_OK);
    // within the tolerance either way, not beyond
    LULL_CHECK_EQ_INT(lull_stdwebhook_verify(key, kl, VEC_ID, "1614265330", VEC_SIG, VEC_BODY, bl, VEC_TS + 300), LULL_STDWEBHOOK_OK);
    LULL_CHECK_EQ_INT(lull_stdwebhook_verify(key, kl, VEC_ID, "1614265330", VEC_SIG, VEC_BODY, bl, VEC_TS - 300), LULL_STDWEBHOOK_OK);
    LULL_CHECK_EQ_INT(lull_stdwebhook_verify(key, kl, VEC_ID, "1614265330", VEC_SIG, VEC_BODY, bl, VEC_TS + 301), LULL_STDWEBHOOK_EXPIRED);
    LULL_CHECK_EQ_INT(lull_stdwebhook_verify(key, kl, VEC_ID, "1614265330", VEC_SIG, VEC_BODY, bl, VEC_TS - 301), LULL_STDWEBHOOK_EXPIRED);
    // several signatures (key rotation): any v1 match passes; other versions are skipped
    LULL_CHECK_EQ_INT(lull_stdwebhook_verify(key, kl, VEC_ID, "1614265330",
                                             "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v2,x " "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                                             VEC_BODY, bl, VEC_TS), LULL_STDWEBHOOK_OK);
    LULL_CHECK_EQ_INT(lull_stdwebhook_verify(key, kl, VEC_ID, "1614265330", "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                                             VEC_BODY, bl, VEC_TS), LULL_STDWEBHOOK_MISMATCH);
    // anything changed: body, id, timestamp, key
    LULL_CHECK_EQ_INT(lull_stdwebhook_verify(key, kl, VEC_ID, "1614265330", VEC_SIG, "{\"test\": 2432232315}", bl, VEC_TS), LULL_STDWEBHOOK_MISMATCH);
    LULL_CHECK_EQ_INT(lull_stdwebhook_verify(key, kl, "msg_other", "1614265330", VEC_SIG, VEC_BODY, bl, VEC_TS), LULL_STDWEBHOOK_MISMATCH);
    LULL_CHECK_EQ_INT(lull_stdwebhook_verify(key, kl, VEC_ID, "1614265331", VEC_SIG, VEC_BODY, bl, VEC_TS), LULL_STDWEBHOOK_MISMATCH);
    LULL_CHECK_EQ_INT(lull_stdwebhook_verify(key, kl - 1, VEC_ID, "1614265330", VEC_SIG, VEC_BODY, bl, VEC_TS), LULL_STDWEBHOOK_MISMATCH);
    LULL_CHECK_EQ_INT(lull_stdwebhook_verify(key, kl, VEC_ID, "1614265330", "v1,", VEC_BODY, bl, VEC_TS), LULL_STDWEBHOOK_MISMATCH);
    // missing or malformed headers
    LULL_CHECK_EQ_INT(lull_stdwebhook_verify(key, kl, NULL, "1614265330", VEC_SIG, VEC_BODY, bl, VEC_TS), LULL_STDWEBHOOK_MISSING);
    LULL_CHECK_EQ_INT(lull_stdwebhook_verify(key, kl, VEC_ID, "", VEC_SIG, VEC_BODY, bl, VEC_TS), LULL_STDWEBHOOK_MISSING);
    LULL_CHECK_EQ_INT(lull_stdwebhook_verify(key, kl, VEC_ID, "1614265330", NULL, VEC_BODY, bl, VEC_TS), LULL_STDWEBHOOK_MISSING);
    LULL_CHECK_EQ_INT(lull_stdwebhook_verify(key, kl, VEC_ID, "16142653x0", VEC_SIG, VEC_BODY, bl, VEC_TS), LULL_STDWEBHOOK_MALFORMED);
    LULL_CHECK_EQ_INT(lull_stdwebhook_verify(key, kl, VEC_ID, "-1614265330", VEC_SIG, VEC_BODY, bl, VEC_TS), LULL_STDWEBHOOK_MALFORMED);
    LULL_CHECK_EQ_INT(lull_stdwebhook_verify(key, kl, VEC_ID, "99999999999999999999", VEC_SIG, VEC_BODY, bl, VEC_TS), LULL_STDWEBHOOK_MALFORMED);
}

int main(void)
{
    LULL_RUN(spec_vector);
    LULL_RUN(verify);
    return lull_test_summary();
}
