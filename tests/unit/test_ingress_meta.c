// Unit tests of ingress_meta: the verification handshake, wamid format, and the envelope parser (rows and their
// fields per message type, statuses, skips, limits).
#include "../../ingress/ingress_meta.h"
#include "lull_test.h"

#include <cJSON.h>
#include <stdlib.h>

static const char *s_get(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

LULL_TEST(verify)
{
    char ch[129];
    LULL_CHECK(ingress_meta_verify("/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=tok&hub.challenge=12345", "tok", ch, sizeof ch));
    LULL_CHECK_EQ_STR(ch, "12345");
    LULL_CHECK(!ingress_meta_verify("/w?hub.mode=subscribe&hub.verify_token=tok2&hub.challenge=1", "tok", ch, sizeof ch));
    LULL_CHECK(!ingress_meta_verify("/w?hub.mode=subscribe&hub.verify_token=to&hub.challenge=1", "tok", ch, sizeof ch));
    LULL_CHECK(!ingress_meta_verify("/w?hub.mode=subscribe&hub.verify_token=&hub.challenge=1", "", ch, sizeof ch));
    LULL_CHECK(!ingress_meta_verify("/w?hub.mode=SUBSCRIBE&hub.verify_token=tok&hub.challenge=1", "tok", ch, sizeof ch));
    LULL_CHECK(!ingress_meta_verify("/w?hub.mode=subscribe&hub.verify_token=tok", "tok", ch, sizeof ch));
    LULL_CHECK(!ingress_meta_verify("/w?hub.mode=subscribe&hub.verify_token=tok&hub.challenge=a%20b", "tok", ch, sizeof ch));
    LULL_CHECK(!ingress_meta_verify("/w?hub.mode=subscribe&hub.verify_token=tok&hub.challenge=a%0Ab", "tok", ch, sizeof ch));
    char uri[400];
    snprintf(uri, sizeof uri, "/w?hub.mode=subscribe&hub.verify_token=tok&hub.challenge=%0129d", 7);
    LULL_CHECK(!ingress_meta_verify(uri, "tok", ch, sizeof ch));  // 129 characters
    snprintf(uri, sizeof uri, "/w?hub.mode=subscribe&hub.verify_token=tok&hub.challenge=%0128d", 7);
    LULL_CHECK(ingress_meta_verify(uri, "tok", ch, sizeof ch));
}

LULL_TEST(wamid)
{
    LULL_CHECK(ingress_meta_wamid("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="));
    LULL_CHECK(!ingress_meta_wamid("wamid."));
    LULL_CHECK(!ingress_meta_wamid("SM0123"));
    LULL_CHECK(!ingress_meta_wamid("wamid.a b"));
    LULL_CHECK(!ingress_meta_wamid("wamid.a\"b"));
    LULL_CHECK(!ingress_meta_wamid(NULL));
}

#define ENV_HEAD "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":\"messages\",\"value\":{\"metadata\":{\"phone_number_id\":\"1065\"},\"contacts\":[{\"profile\":{\"name\":\"Ann\"},\"wa_id\":\"1650\"}],"

LULL_TEST(envelope_rows)
{
    const char *b = ENV_HEAD
        "\"messages\":[{\"from\":\"1650\",\"id\":\"wamid.A\",\"type\":\"text\",\"text\":{\"body\":\"hi\"}},"
        "{\"from\":\"1650\",\"id\":\"wamid.B\",\"type\":\"image\",\"image\":{\"id\":\"m1\",\"mime_type\":\"image/png\",\"caption\":\"look\"}},"
        "{\"from\":\"1650\",\"id\":\"wamid.C\",\"type\":\"reaction\",\"reaction\":{\"message_id\":\"wamid.X\",\"emoji\":\"x\"}},"
        "{\"from\":\"1650\",\"id\":\"wamid.D\",\"type\":\"order\",\"order\":{}},"
        "{\"from\":\"1650\",\"id\":\"wamid.E\",\"type\":\"interactive\",\"interactive\":{\"type\":\"list_reply\",\"list_reply\":{\"id\":\"1\",\"title\":\"Size M\"}}},"
        "{\"from\":\"x\",\"id\":\"wamid.F\",\"type\":\"text\",\"text\":{\"body\":\"bad from\"}}],"
        "\"statuses\":[{\"id\":\"wamid.S\",\"status\":\"failed\",\"errors\":[{\"code\":131026,\"title\":\"Undeliverable\"}]},"
        "{\"id\":\"wamid.T\",\"status\":\"deleted\"}]}}]}]}";
    ingress_meta_t m;
    ingress_err_t e;
    LULL_CHECK(ingress_meta_parse(b, strlen(b), 100, &m, &e) == 0);
    LULL_CHECK_EQ_INT(m.nrows, 5);
    LULL_CHECK_EQ_INT(m.nstatuses, 1);
    LULL_CHECK_EQ_INT(m.skipped, 2);
    cJSON *r = cJSON_Parse(m.rows[0].row_json);
    LULL_CHECK_EQ_STR(s_get(r, "route"), "meta");
    LULL_CHECK_EQ_STR(s_get(r, "route_key"), "1065");
    LULL_CHECK_EQ_STR(s_get(r, "channel"), "whatsapp");
    LULL_CHECK_EQ_STR(s_get(r, "external_id"), "whatsapp:+1650");
    LULL_CHECK_EQ_STR(s_get(r, "business_address"), "meta:1065");
    LULL_CHECK_EQ_STR(s_get(r, "profile_name"), "Ann");
    LULL_CHECK_EQ_STR(s_get(r, "body"), "hi");
    LULL_CHECK(s_get(r, "quiet") == NULL);
    LULL_CHECK_EQ_STR(m.rows[0].provider_id, "wamid.A");
    LULL_CHECK(m.rows[0].wake);
    cJSON_Delete(r);
    r = cJSON_Parse(m.rows[1].row_json);
    const cJSON *media = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "media"), 0);
    LULL_CHECK_EQ_STR(s_get(r, "body"), "look");
    LULL_CHECK_EQ_STR(s_get(media, "media_id"), "m1");
    LULL_CHECK_EQ_STR(s_get(media, "mime_type"), "image/png");
    cJSON_Delete(r);
    r = cJSON_Parse(m.rows[2].row_json);
    LULL_CHECK_EQ_STR(s_get(r, "quiet"), "always");
    LULL_CHECK(!m.rows[2].wake);
    cJSON_Delete(r);
    r = cJSON_Parse(m.rows[3].row_json);
    LULL_CHECK_EQ_STR(s_get(r, "quiet"), "unsupported");
    LULL_CHECK(m.rows[3].wake);  // the database decides (tenant setting); a 'quiet' outcome pushes nothing
    cJSON_Delete(r);
    r = cJSON_Parse(m.rows[4].row_json);
    LULL_CHECK_EQ_STR(s_get(r, "body"), "Size M");
    cJSON_Delete(r);
    LULL_CHECK_EQ_STR(m.statuses[0].wamid, "wamid.S");
    LULL_CHECK_EQ_STR(m.statuses[0].status, "failed");
    LULL_CHECK_EQ_STR(m.statuses[0].error, "131026: Undeliverable");
    LULL_CHECK(ingress_meta_items(&m, 1) == 0);
    LULL_CHECK_EQ_INT(m.items[5].op, INGRESS_OP_STATUS);
    LULL_CHECK_EQ_STR(m.items[5].arg[1], "wamid.S");
    ingress_meta_free(&m);
}

LULL_TEST(envelope_limits_and_shapes)
{
    ingress_meta_t m;
    ingress_err_t e;
    const char *two = ENV_HEAD "\"messages\":[{\"from\":\"1\",\"id\":\"wamid.A\",\"type\":\"text\",\"text\":{\"body\":\"a\"}},"
                               "{\"from\":\"1\",\"id\":\"wamid.B\",\"type\":\"text\",\"text\":{\"body\":\"b\"}}]}}]}]}";
    LULL_CHECK(ingress_meta_parse(two, strlen(two), 1, &m, &e) == 0);
    LULL_CHECK_EQ_INT(m.nrows, 0);
    LULL_CHECK_EQ_INT(m.skipped, 2);
    ingress_meta_free(&m);
    const char *shapes[] = {"{}", "{\"object\":\"page\",\"entry\":[]}", "{\"object\":\"whatsapp_business_account\",\"entry\":{}}",
                            "{\"object\":\"whatsapp_business_account\",\"entry\":[1,\"x\",{\"changes\":7}]}"};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        LULL_CHECK(ingress_meta_parse(shapes[i], strlen(shapes[i]), 100, &m, &e) == 0);
        LULL_CHECK_EQ_INT(m.nrows, 0);
        ingress_meta_free(&m);
    }
    LULL_CHECK(ingress_meta_parse("[1]", 3, 100, &m, &e) == -1);
    LULL_CHECK_EQ_INT(e.status, 400);
    LULL_CHECK(ingress_meta_parse("{\"a\":\"\\u0000\"}", 14, 100, &m, &e) == -1);
}

int main(void)
{
    LULL_RUN(verify);
    LULL_RUN(wamid);
    LULL_RUN(envelope_rows);
    LULL_RUN(envelope_limits_and_shapes);
    return lull_test_summary();
}
