// Unit tests of the sender's pure rules: classification per channel / status / code, TikTok codes, the
// retry delay bounds, Standard Webhooks signing (the specification's test vector), form encoding, the
// WhatsApp window decision and the rate limiter's slots.
#include "lull_test.h"
#include "lull_retry.h"
#include "../../sender/sender_policy.h"
#include "../../sender/sender_rate.h"

#include <stdlib.h>

static sender_outcome_t s_cls(sender_kind_t k, long status, const char *body)
{
    sender_outcome_t o;
    sender_classify(k, status, 0, "", true, false, body, body ? strlen(body) : 0, &o);
    return o;
}

LULL_TEST(kind_of_channels)
{
    LULL_CHECK_EQ_INT(sender_kind_of("sms"), SENDER_TWILIO);
    LULL_CHECK_EQ_INT(sender_kind_of("whatsapp"), SENDER_TWILIO);
    LULL_CHECK_EQ_INT(sender_kind_of("tiktok"), SENDER_TIKTOK);
    LULL_CHECK_EQ_INT(sender_kind_of("generic"), SENDER_CALLBACK);
    LULL_CHECK_EQ_INT(sender_kind_of("webchat"), SENDER_WEBCHAT);
    LULL_CHECK_EQ_INT(sender_kind_of("fax"), 0);
    LULL_CHECK_EQ_INT(sender_kind_of(NULL), 0);
}

LULL_TEST(twilio_classification)
{
    sender_outcome_t o = s_cls(SENDER_TWILIO, 201, "{\"sid\":\"SM0123456789abcdef0123456789abcdef\",\"status\":\"queued\"}");
    LULL_CHECK_EQ_INT(o.verdict, SENDER_SENT);
    LULL_CHECK_EQ_STR(o.provider_id, "SM0123456789abcdef0123456789abcdef");
    o = s_cls(SENDER_TWILIO, 429, "{\"code\":20429,\"message\":\"Too Many Requests\",\"status\":429}");
    LULL_CHECK_EQ_INT(o.verdict, SENDER_RETRY);
    LULL_CHECK(!o.unknown);  // Twilio documents 429 as not processed
    o = s_cls(SENDER_TWILIO, 500, "{\"code\":20500,\"message\":\"x\",\"status\":500}");
    LULL_CHECK_EQ_INT(o.verdict, SENDER_RETRY);
    LULL_CHECK(o.unknown);
    LULL_CHECK(strstr(o.error, "unknown outcome") != NULL);
    o = s_cls(SENDER_TWILIO, 503, NULL);
    LULL_CHECK_EQ_INT(o.verdict, SENDER_RETRY);
    o = s_cls(SENDER_TWILIO, 400, "{\"code\":63016,\"message\":\"outside window\",\"status\":400}");
    LULL_CHECK_EQ_INT(o.verdict, SENDER_FAIL);
    LULL_CHECK(strstr(o.error, "63016") != NULL);
    int perm[] = {400, 401, 403, 404, 301};
    for (size_t i = 0; i < sizeof perm / sizeof perm[0]; i++)
        LULL_CHECK_EQ_INT(s_cls(SENDER_TWILIO, perm[i], "{}").verdict, SENDER_FAIL);
    o = s_cls(SENDER_TWILIO, 401, "{\"code\":20003,\"message\":\"Authenticate\",\"status\":401}");
    LULL_CHECK(strstr(o.error, "HTTP 401 code 20003: Authenticate") != NULL);
    o = s_cls(SENDER_TWILIO, 408, NULL);
    LULL_CHECK_EQ_INT(o.verdict, SENDER_RETRY);
    LULL_CHECK_EQ_INT(s_cls(SENDER_TWILIO, 201, "not json").verdict, SENDER_SENT);  // sent, no sid kept
}

LULL_TEST(no_response_classification)
{
    sender_outcome_t o;
    sender_classify(SENDER_CALLBACK, 0, 7, "Couldn't connect to server", false, false, NULL, 0, &o);
    LULL_CHECK_EQ_INT(o.verdict, SENDER_RETRY);
    LULL_CHECK(!o.unknown);  // never reached the server
    sender_classify(SENDER_CALLBACK, 0, 28, "Timeout was reached", true, true, NULL, 0, &o);
    LULL_CHECK_EQ_INT(o.verdict, SENDER_RETRY);
    LULL_CHECK(o.unknown);
    sender_classify(SENDER_TWILIO, 0, 56, "Connection reset", true, false, NULL, 0, &o);
    LULL_CHECK(o.unknown);
    LULL_CHECK(strstr(o.error, "curl 56") != NULL);
}

LULL_TEST(tiktok_classification)
{
    sender_outcome_t o = s_cls(SENDER_TIKTOK, 200, "{\"code\":0,\"message\":\"OK\",\"request_id\":\"r\",\"data\":{\"message_id\":\"m1\"}}");
    LULL_CHECK_EQ_INT(o.verdict, SENDER_SENT);
    LULL_CHECK_EQ_STR(o.provider_id, "m1");
    o = s_cls(SENDER_TIKTOK, 200, "{\"code\":40100,\"message\":\"Too many requests\"}");
    LULL_CHECK_EQ_INT(o.verdict, SENDER_RETRY);
    o = s_cls(SENDER_TIKTOK, 200, "{\"code\":40002,\"message\":\"Invalid param\"}");
    LULL_CHECK_EQ_INT(o.verdict, SENDER_FAIL);
    LULL_CHECK(strstr(o.error, "tiktok code 40002: Invalid param") != NULL);
    o = s_cls(SENDER_TIKTOK, 200, "garbage");
    LULL_CHECK_EQ_INT(o.verdict, SENDER_FAIL);
    LULL_CHECK(o.unknown);
    LULL_CHECK_EQ_INT(sender_tiktok_code_class(0), SENDER_SENT);
    LULL_CHECK_EQ_INT(sender_tiktok_code_class(50000), SENDER_RETRY);
    LULL_CHECK_EQ_INT(sender_tiktok_code_class(51021), SENDER_RETRY);
    LULL_CHECK_EQ_INT(sender_tiktok_code_class(40001), SENDER_FAIL);
    LULL_CHECK_EQ_INT(sender_tiktok_code_class(40105), SENDER_FAIL);
    LULL_CHECK_EQ_INT(sender_tiktok_code_class(-1), SENDER_FAIL);
    LULL_CHECK_EQ_INT(s_cls(SENDER_TIKTOK, 429, NULL).verdict, SENDER_RETRY);
}

LULL_TEST(callback_classification)
{
    LULL_CHECK_EQ_INT(s_cls(SENDER_CALLBACK, 200, NULL).verdict, SENDER_SENT);
    LULL_CHECK_EQ_INT(s_cls(SENDER_CALLBACK, 204, NULL).verdict, SENDER_SENT);
    LULL_CHECK_EQ_INT(s_cls(SENDER_CALLBACK, 410, NULL).verdict, SENDER_FAIL);
    LULL_CHECK_EQ_INT(s_cls(SENDER_CALLBACK, 502, NULL).verdict, SENDER_RETRY);
}

LULL_TEST(retry_delay_bounds)
{
    // Celery: uniform(0, min(cap, base * 2^attempt)), at least Retry-After.
    LULL_CHECK_EQ_INT(lull_retry_delay_with(0, 1000, 600000, -1, 0.999999), 999);
    LULL_CHECK_EQ_INT(lull_retry_delay_with(3, 1000, 600000, -1, 0.5), 4000);
    LULL_CHECK_EQ_INT(lull_retry_delay_with(20, 1000, 600000, -1, 0.5), 300000);
    LULL_CHECK_EQ_INT(lull_retry_delay_with(2, 1000, 600000, 7000, 0.1), 7000);
    for (int a = 0; a < 30; a++) {
        int64_t d = lull_retry_delay_ms(a, 1000, 600000, -1);
        LULL_CHECK(d >= 0 && d <= 600000);
    }
}

LULL_TEST(form_encoding)
{
    sender_form_t f = {.max_len = 1000};
    LULL_CHECK_EQ_INT(sender_form_add(&f, "To", "+15550001111"), 0);
    LULL_CHECK_EQ_INT(sender_form_add(&f, "Body", "a b&c=d/é~_.-"), 0);
    LULL_CHECK_EQ_INT(sender_form_add(&f, "MediaUrl", "https://x/y?z=1"), 0);
    LULL_CHECK_EQ_STR(f.buf, "To=%2B15550001111&Body=a+b%26c%3Dd%2F%C3%A9~_.-&MediaUrl=https%3A%2F%2Fx%2Fy%3Fz%3D1");
    free(f.buf);
    sender_form_t small = {.max_len = 8};
    LULL_CHECK_EQ_INT(sender_form_add(&small, "Body", "0123456789"), -1);
    free(small.buf);
}

LULL_TEST(whatsapp_window)
{
    const int64_t day = 86400000;
    LULL_CHECK_EQ_INT(sender_wa_decide(0, day, false), SENDER_WA_FREEFORM);
    LULL_CHECK_EQ_INT(sender_wa_decide(day - 1, day, false), SENDER_WA_FREEFORM);
    LULL_CHECK_EQ_INT(sender_wa_decide(day, day, true), SENDER_WA_TEMPLATE);
    LULL_CHECK_EQ_INT(sender_wa_decide(day + 5, day, false), SENDER_WA_ESCALATE);
    LULL_CHECK_EQ_INT(sender_wa_decide(-1, day, true), SENDER_WA_TEMPLATE);  // never wrote: outside
    LULL_CHECK_EQ_INT(sender_wa_decide(-1, day, false), SENDER_WA_ESCALATE);
}

LULL_TEST(rate_limiter_slots)
{
    sender_rate_t *r = sender_rate_new(2);
    LULL_CHECK(r != NULL);
    // 0.5/s (TikTok's 30/min): one at once, then one slot every 2 s for refused sends.
    LULL_CHECK_EQ_INT(sender_rate_take(r, "tiktok", 0.5, 1000), 0);
    int64_t w1 = sender_rate_take(r, "tiktok", 0.5, 1000);
    int64_t w2 = sender_rate_take(r, "tiktok", 0.5, 1000);
    LULL_CHECK_EQ_INT(w1, 2000);
    LULL_CHECK_EQ_INT(w2, 4000);
    LULL_CHECK_EQ_INT(sender_rate_take(r, "tiktok", 0.5, 3000), 0);  // refilled after 2 s
    LULL_CHECK_EQ_INT(sender_rate_take(r, "other", 0, 1000), 0);     // unlimited
    LULL_CHECK_EQ_INT(sender_rate_take(r, "b", 1, 1000), 0);
    LULL_CHECK_EQ_INT(sender_rate_take(r, "c", 1, 1000), 0);         // table full: not limited
    LULL_CHECK_EQ_INT(sender_rate_take(r, "c", 1, 1000), 0);
    sender_rate_destroy(&r);
    LULL_CHECK(r == NULL);
}

int main(void)
{
    LULL_RUN(kind_of_channels);
    LULL_RUN(twilio_classification);
    LULL_RUN(no_response_classification);
    LULL_RUN(tiktok_classification);
    LULL_RUN(callback_classification);
    LULL_RUN(retry_delay_bounds);
    LULL_RUN(form_encoding);
    LULL_RUN(whatsapp_window);
    LULL_RUN(rate_limiter_slots);
    return lull_test_summary();
}
