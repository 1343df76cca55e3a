// Unit tests of sender_meta: the request bodies (text, parts of 4096 characters, template), the address checks
// and the classification of Graph API answers and error codes.
#include "../../sender/sender_meta.h"
#include "lull_test.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

static sender_meta_in_t s_in(const char *body)
{
    return (sender_meta_in_t){.base = "http://g", .version = "v21.0", .token = "tok", .sender_address = "meta:1065",
                              .recipient = "whatsapp:+16505551234", .body = body};
}

LULL_TEST(text_request)
{
    char err[256];
    sender_meta_in_t in = s_in("hello");
    sender_meta_t *m = sender_meta_new(&in, err, sizeof err);
    LULL_CHECK(m != NULL);
    lull_http_req_t req;
    sender_meta_request(m, &req, 1000);
    LULL_CHECK_EQ_STR(req.url, "http://g/v21.0/1065/messages");
    LULL_CHECK_EQ_STR(req.headers[1], "Authorization: Bearer tok");
    LULL_CHECK_EQ_STR(req.body, "{\"messaging_product\":\"whatsapp\",\"recipient_type\":\"individual\",\"to\":\"16505551234\","
                                "\"type\":\"text\",\"text\":{\"body\":\"hello\"}}");
    LULL_CHECK(!sender_meta_next(m, "wamid.1"));
    LULL_CHECK_EQ_STR(sender_meta_first_id(m), "wamid.1");
    sender_meta_destroy(&m);
    LULL_CHECK(m == NULL);
}

LULL_TEST(parts)
{
    char err[256];
    size_t n = 4097 * 2;
    char *body = malloc(n + 1);
    for (size_t i = 0; i < n; i += 2) memcpy(body + i, "\xc3\xa9", 2);  // é × 4097
    body[n] = '\0';
    sender_meta_in_t in = s_in(body);
    sender_meta_t *m = sender_meta_new(&in, err, sizeof err);
    LULL_CHECK_EQ_INT(sender_meta_parts(m), 2);
    lull_http_req_t req;
    LULL_CHECK(sender_meta_next(m, "wamid.first"));
    sender_meta_request(m, &req, 1000);
    LULL_CHECK(strstr(req.body, "\"body\":\"\xc3\xa9\"}") != NULL);  // the 4097th character alone
    LULL_CHECK(!sender_meta_next(m, "wamid.second"));
    LULL_CHECK_EQ_STR(sender_meta_first_id(m), "wamid.first");
    LULL_CHECK(!sender_meta_to_template(m));
    sender_meta_destroy(&m);
    char *huge = malloc(4096 * 9 + 1);
    memset(huge, 'a', 4096 * 9);
    huge[4096 * 9] = '\0';
    in = s_in(huge);
    LULL_CHECK(sender_meta_new(&in, err, sizeof err) == NULL);
    LULL_CHECK(strstr(err, "parts") != NULL);
    free(huge);
    free(body);
}

LULL_TEST(template_and_checks)
{
    char err[256];
    sender_meta_in_t in = s_in("hi");
    in.template_json = "{\"name\":\"order_update\",\"language\":\"en_US\"}";
    sender_meta_t *m = sender_meta_new(&in, err, sizeof err);
    LULL_CHECK(sender_meta_to_template(m));
    lull_http_req_t req;
    sender_meta_request(m, &req, 1000);
    LULL_CHECK(strstr(req.body, "\"type\":\"template\",\"template\":{\"name\":\"order_update\",\"language\":{\"policy\":\"deterministic\",\"code\":\"en_US\"}}") != NULL);
    sender_meta_destroy(&m);
    in.use_template = true;
    in.template_json = NULL;
    LULL_CHECK(sender_meta_new(&in, err, sizeof err) == NULL);
    in = s_in("hi");
    in.template_json = "{\"name\":\"x\"}";
    LULL_CHECK(sender_meta_new(&in, err, sizeof err) == NULL);
    LULL_CHECK(strstr(err, "meta_template") != NULL);
    in = s_in("hi");
    in.token = "a\r\nX-Evil: 1";
    LULL_CHECK(sender_meta_new(&in, err, sizeof err) == NULL);
    in = s_in("hi");
    in.recipient = "whatsapp:+1650abc";
    LULL_CHECK(sender_meta_new(&in, err, sizeof err) == NULL);
    LULL_CHECK(sender_meta_is_address("meta:123"));
    LULL_CHECK(!sender_meta_is_address("meta:"));
    LULL_CHECK(!sender_meta_is_address("meta:12a"));
    LULL_CHECK(!sender_meta_is_address("whatsapp:+1555"));
    LULL_CHECK(!sender_meta_is_address(NULL));
}

LULL_TEST(classify)
{
    sender_outcome_t o;
    const char *ok = "{\"messaging_product\":\"whatsapp\",\"messages\":[{\"id\":\"wamid.ABC\"}]}";
    sender_classify(SENDER_META, 200, 0, NULL, true, false, ok, strlen(ok), &o);
    LULL_CHECK_EQ_INT(o.verdict, SENDER_SENT);
    LULL_CHECK_EQ_STR(o.provider_id, "wamid.ABC");
    sender_classify(SENDER_META, 200, 0, NULL, true, false, "{}", 2, &o);
    LULL_CHECK_EQ_INT(o.verdict, SENDER_FAIL);
    LULL_CHECK(o.unknown);
    static const struct { long status; int code; sender_verdict_t v; bool window; } cases[] = {
        {429, 4, SENDER_RETRY, false},      {400, 4, SENDER_RETRY, false},     {400, 80007, SENDER_RETRY, false},
        {400, 130429, SENDER_RETRY, false}, {400, 131056, SENDER_RETRY, false}, {500, 2, SENDER_RETRY, false},
        {503, 0, SENDER_RETRY, false},      {400, 131047, SENDER_FAIL, true},   {401, 190, SENDER_FAIL, false},
        {400, 100, SENDER_FAIL, false},     {400, 131008, SENDER_FAIL, false},  {400, 131026, SENDER_FAIL, false},
        {404, 0, SENDER_FAIL, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char b[256];
        snprintf(b, sizeof b, "{\"error\":{\"message\":\"m%d\",\"type\":\"OAuthException\",\"code\":%d,\"error_subcode\":1,\"fbtrace_id\":\"f\"}}",
                 cases[i].code, cases[i].code);
        sender_classify(SENDER_META, cases[i].status, 0, NULL, true, false, b, strlen(b), &o);
        LULL_CHECK_EQ_INT(o.verdict, cases[i].v);
        LULL_CHECK_EQ_INT(o.window_closed, cases[i].window);
    }
    sender_classify(SENDER_META, 0, 28, "timeout", true, true, NULL, 0, &o);
    LULL_CHECK_EQ_INT(o.verdict, SENDER_RETRY);
    LULL_CHECK(o.unknown);
}

int main(void)
{
    LULL_RUN(text_request);
    LULL_RUN(parts);
    LULL_RUN(template_and_checks);
    LULL_RUN(classify);
    return lull_test_summary();
}
