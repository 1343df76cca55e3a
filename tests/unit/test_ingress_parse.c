// Unit tests of ingress_parse: form decoding, and the rows built for the generic, Twilio, TikTok and web chat
// bodies (fields, dedupe keys, errors naming the field).
#include "../../ingress/ingress_parse.h"
#include "lull_test.h"

#include <cJSON.h>
#include <stdlib.h>

static cJSON *s_row(const ingress_row_t *r) { return cJSON_Parse(r->row_json); }
static const char *s_get(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

LULL_TEST(form_decodes_and_rejects)
{
    ingress_form_t f;
    ingress_err_t e;
    const char *b = "A=1&B=hello+w%C3%B6rld&A=2&Empty=&Flag";
    LULL_CHECK(ingress_form_parse(b, strlen(b), &f, &e) == 0);
    LULL_CHECK_EQ_INT(f.n, 5);
    LULL_CHECK_EQ_STR(ingress_form_get(&f, "B"), "hello wörld");
    LULL_CHECK_EQ_STR(ingress_form_get(&f, "A"), "1");
    LULL_CHECK_EQ_STR(ingress_form_get(&f, "Empty"), "");
    LULL_CHECK_EQ_STR(ingress_form_get(&f, "Flag"), "");
    ingress_form_free(&f);
    const char *bad[] = {"A=%zz", "A=%0", "A=%", "A=a%00b", "A=%C3%28", "=x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        LULL_CHECK(ingress_form_parse(bad[i], strlen(bad[i]), &f, &e) == -1);
        LULL_CHECK_EQ_INT(e.status, 400);
    }
}

LULL_TEST(form_from_json)
{
    ingress_form_t f;
    ingress_err_t e;
    const char *b = "{\"MessageSid\":\"SM1\",\"NumMedia\":2,\"Lat\":37.5,\"Ok\":true,\"Gone\":null,\"Body\":\"h\\u00e9\"}";
    LULL_CHECK(ingress_form_from_json(b, strlen(b), &f, &e) == 0);
    LULL_CHECK_EQ_INT(f.n, 5);
    LULL_CHECK_EQ_STR(ingress_form_get(&f, "MessageSid"), "SM1");
    LULL_CHECK_EQ_STR(ingress_form_get(&f, "NumMedia"), "2");
    LULL_CHECK_EQ_STR(ingress_form_get(&f, "Lat"), "37.5");
    LULL_CHECK_EQ_STR(ingress_form_get(&f, "Ok"), "true");
    LULL_CHECK_EQ_STR(ingress_form_get(&f, "Body"), "h\xc3\xa9");
    LULL_CHECK(ingress_form_get(&f, "Gone") == NULL);
    ingress_form_free(&f);
    LULL_CHECK(ingress_form_from_json("{}", 2, &f, &e) == 0 && f.n == 0);
    ingress_form_free(&f);
    const char *bad[] = {"[1]", "\"x\"", "{", "{\"A\":{\"b\":1}}", "{\"A\":[1]}", "{\"\":\"x\"}", "{\"A\":\"\\u0000\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        LULL_CHECK(ingress_form_from_json(bad[i], strlen(bad[i]), &f, &e) == -1);
        LULL_CHECK_EQ_INT(e.status, 400);
        LULL_CHECK(f.p == NULL && f.n == 0);
    }
}

LULL_TEST(generic_row)
{
    ingress_row_t r;
    ingress_err_t e;
    const char *b = "{\"contact_id\":12345,\"message\":{\"body\":\"hi\",\"id\":\"m1\"},\"first_name\":\"J\",\"tenant\":\"acme\"}";
    LULL_CHECK(ingress_parse_generic(b, strlen(b), &r, &e) == 0);
    cJSON *o = s_row(&r);
    LULL_CHECK_EQ_STR(s_get(o, "external_id"), "12345");
    LULL_CHECK_EQ_STR(s_get(o, "route"), "slug");
    LULL_CHECK_EQ_STR(s_get(o, "route_key"), "acme");
    LULL_CHECK_EQ_STR(s_get(o, "provider_message_id"), "m1");
    LULL_CHECK(cJSON_IsObject(cJSON_GetObjectItem(o, "raw")));
    LULL_CHECK_EQ_STR(r.provider_id, "m1");
    LULL_CHECK_EQ_STR(r.echo, "12345");
    LULL_CHECK(r.wake);
    cJSON_Delete(o);
    ingress_row_free(&r);
    const char *missing = "{\"message\":{\"body\":\"x\"}}";
    LULL_CHECK(ingress_parse_generic(missing, strlen(missing), &r, &e) == -1);
    LULL_CHECK(strstr(e.message, "contact_id") != NULL);
    LULL_CHECK_EQ_STR(e.code, "missing_field");
    const char *nul = "{\"contact_id\":\"1\",\"message\":{\"body\":\"a\\u0000b\"}}";
    LULL_CHECK(ingress_parse_generic(nul, strlen(nul), &r, &e) == -1);
    LULL_CHECK_EQ_STR(e.code, "invalid_text");
}

LULL_TEST(twilio_row_keeps_every_field)
{
    ingress_form_t f;
    ingress_err_t e;
    ingress_row_t r;
    const char *b = "MessageSid=SM0123456789abcdef0123456789ABCDEF&From=whatsapp%3A%2B1555&To=whatsapp%3A%2B1666&Body=hi&NumMedia=1&MediaUrl0=u0"
                    "&MediaContentType0=image%2Fpng&New=a&New=b";
    LULL_CHECK(ingress_form_parse(b, strlen(b), &f, &e) == 0);
    LULL_CHECK(ingress_parse_twilio(&f, &r, &e) == 0);
    cJSON *o = s_row(&r);
    LULL_CHECK_EQ_STR(r.channel, "whatsapp");
    LULL_CHECK_EQ_STR(s_get(o, "route_key2"), "+1666");
    LULL_CHECK_EQ_STR(s_get(o, "phone"), "+1555");
    LULL_CHECK_EQ_STR(s_get(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "media"), 0), "content_type"), "image/png");
    LULL_CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "raw"), "New")), 2);
    cJSON_Delete(o);
    ingress_row_free(&r);
    ingress_form_free(&f);
    const char *nosid = "From=%2B1&To=%2B2";
    LULL_CHECK(ingress_form_parse(nosid, strlen(nosid), &f, &e) == 0);
    LULL_CHECK(ingress_parse_twilio(&f, &r, &e) == -1);
    LULL_CHECK(strstr(e.message, "MessageSid") != NULL);
    ingress_form_free(&f);
}

LULL_TEST(tiktok_rows)
{
    ingress_row_t r;
    ingress_err_t e;
    const char *in = "{\"client_key\":\"ck\",\"event\":\"im_receive_msg\",\"content\":\"{\\\"conversation_id\\\":\\\"c1\\\","
                     "\\\"message_id\\\":\\\"7300000000000000001\\\",\\\"text\\\":{\\\"body\\\":\\\"hi\\\"},"
                     "\\\"from_user\\\":{\\\"id\\\":\\\"u1\\\"},\\\"to_user\\\":{\\\"id\\\":\\\"b1\\\"}}\"}";
    LULL_CHECK(ingress_parse_tiktok(in, strlen(in), &r, &e) == 0);
    cJSON *o = s_row(&r);
    LULL_CHECK_EQ_STR(s_get(o, "external_id"), "u1");
    LULL_CHECK_EQ_STR(s_get(o, "author"), "contact");
    LULL_CHECK_EQ_STR(r.provider_id, "7300000000000000001");
    LULL_CHECK(r.wake);
    cJSON_Delete(o);
    ingress_row_free(&r);
    const char *human = "{\"client_key\":\"ck\",\"event\":\"im_send_msg\",\"content\":\"{\\\"conversation_id\\\":\\\"c1\\\","
                        "\\\"message_id\\\":\\\"m2\\\",\\\"from_user\\\":{\\\"id\\\":\\\"b1\\\"},\\\"to_user\\\":{\\\"id\\\":\\\"u1\\\"}}\"}";
    LULL_CHECK(ingress_parse_tiktok(human, strlen(human), &r, &e) == 0);
    o = s_row(&r);
    LULL_CHECK_EQ_STR(s_get(o, "external_id"), "u1");
    LULL_CHECK_EQ_STR(s_get(o, "direction"), "out");
    LULL_CHECK_EQ_STR(s_get(o, "author"), "human");
    LULL_CHECK(!r.wake);
    cJSON_Delete(o);
    ingress_row_free(&r);
    const char *other = "{\"client_key\":\"ck\",\"event\":\"im_mark_read\"}";
    LULL_CHECK(ingress_parse_tiktok(other, strlen(other), &r, &e) == 0);
    LULL_CHECK(r.ignored);
    ingress_row_free(&r);
    const char *numeric = "{\"client_key\":\"ck\",\"event\":\"im_receive_msg\",\"content\":\"{\\\"conversation_id\\\":\\\"c\\\","
                          "\\\"message_id\\\":7300000000000000001}\"}";
    LULL_CHECK(ingress_parse_tiktok(numeric, strlen(numeric), &r, &e) == -1);
    LULL_CHECK(strstr(e.message, "message_id") != NULL);
}

// Twilio SIDs and TikTok ids by format: a bad one is refused naming the field, nothing is produced.
LULL_TEST(strict_ids)
{
    LULL_CHECK(ingress_parse_twilio_sid("SM0123456789abcdef0123456789abcdef"));
    LULL_CHECK(ingress_parse_twilio_sid("MM0123456789ABCDEF0123456789abcdef"));
    LULL_CHECK(!ingress_parse_twilio_sid("SM0123456789abcdef0123456789abcde"));    // 31 digits
    LULL_CHECK(!ingress_parse_twilio_sid("SM0123456789abcdef0123456789abcdef0"));  // 33
    LULL_CHECK(!ingress_parse_twilio_sid("MG0123456789abcdef0123456789abcdef"));   // a service, not a message
    LULL_CHECK(!ingress_parse_twilio_sid("SM0123456789abcdef0123456789abcdeg"));
    LULL_CHECK(!ingress_parse_twilio_sid("SM1"));
    LULL_CHECK(!ingress_parse_twilio_sid(NULL));
    ingress_form_t f;
    ingress_err_t e;
    ingress_row_t r;
    // the replay of the issue: the next parameter glued to the SID (the string-to-sign has no separators)
    const char *glued = "MessageSid=SM0123456789abcdef0123456789abcdefNumMedia0&From=%2B1&To=%2B2";
    LULL_CHECK(ingress_form_parse(glued, strlen(glued), &f, &e) == 0);
    LULL_CHECK(ingress_parse_twilio(&f, &r, &e) == -1);
    LULL_CHECK_EQ_INT(e.status, 400);
    LULL_CHECK_EQ_STR(e.code, "invalid_field");
    LULL_CHECK(strstr(e.message, "'MessageSid'") != NULL);
    LULL_CHECK(r.row_json == NULL);
    ingress_form_free(&f);

    LULL_CHECK(ingress_parse_tiktok_id("7300000000000000001"));
    LULL_CHECK(ingress_parse_tiktok_id("0:1:7000000000000000001:7000000000000000999"));
    LULL_CHECK(!ingress_parse_tiktok_id(""));
    LULL_CHECK(!ingress_parse_tiktok_id("73 00"));
    LULL_CHECK(!ingress_parse_tiktok_id("a\"b"));
    char longid[INGRESS_TIKTOK_ID_MAX + 2];
    memset(longid, '7', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    LULL_CHECK(!ingress_parse_tiktok_id(longid));
    longid[INGRESS_TIKTOK_ID_MAX] = '\0';
    LULL_CHECK(ingress_parse_tiktok_id(longid));
    const char *bad_mid = "{\"client_key\":\"ck\",\"event\":\"im_receive_msg\",\"content\":\"{\\\"conversation_id\\\":\\\"c1\\\","
                          "\\\"message_id\\\":\\\"73 00\\\",\\\"from_user\\\":{\\\"id\\\":\\\"u1\\\"},"
                          "\\\"to_user\\\":{\\\"id\\\":\\\"b1\\\"}}\"}";
    LULL_CHECK(ingress_parse_tiktok(bad_mid, strlen(bad_mid), &r, &e) == -1);
    LULL_CHECK_EQ_INT(e.status, 400);
    LULL_CHECK(strstr(e.message, "content.message_id") != NULL);
    LULL_CHECK(r.row_json == NULL);
    const char *bad_conv = "{\"client_key\":\"ck\",\"event\":\"im_receive_msg\",\"content\":\"{\\\"conversation_id\\\":\\\"c<1>\\\","
                           "\\\"message_id\\\":\\\"7300\\\",\\\"from_user\\\":{\\\"id\\\":\\\"u1\\\"},"
                           "\\\"to_user\\\":{\\\"id\\\":\\\"b1\\\"}}\"}";
    LULL_CHECK(ingress_parse_tiktok(bad_conv, strlen(bad_conv), &r, &e) == -1);
    LULL_CHECK(strstr(e.message, "content.conversation_id") != NULL);
}

LULL_TEST(chat_rows)
{
    ingress_row_t r;
    ingress_err_t e;
    const char *m = "{\"sessionId\":\"ws_1\",\"message\":\"hello\",\"userId\":\"u\"}";
    LULL_CHECK(ingress_parse_chat_message(m, strlen(m), &r, &e) == 0);
    cJSON *o = s_row(&r);
    LULL_CHECK_EQ_STR(s_get(o, "route"), "session");
    LULL_CHECK_EQ_STR(s_get(o, "user_id"), "u");
    LULL_CHECK(r.provider_id == NULL);
    cJSON_Delete(o);
    ingress_row_free(&r);
    char *meta = NULL, *tenant = NULL;
    const char *s = "{\"userId\":\"u\",\"metadata\":{\"a\":1},\"tenant\":\"t\"}";
    LULL_CHECK(ingress_parse_chat_session(s, strlen(s), &meta, &tenant, &e) == 0);
    LULL_CHECK_EQ_STR(meta, "{\"userId\":\"u\",\"metadata\":{\"a\":1}}");
    LULL_CHECK_EQ_STR(tenant, "t");
    free(meta);
    free(tenant);
    LULL_CHECK(ingress_parse_chat_session("", 0, &meta, &tenant, &e) == 0);
    LULL_CHECK_EQ_STR(meta, "{}");
    LULL_CHECK(tenant == NULL);
    free(meta);
}

// The writer thread a row goes to: every message of one contact has the same affinity (another message, another
// body, other names), another contact or the same contact id under another tenant another one; never 0.
LULL_TEST(row_affinity_names_the_contact)
{
    const char *bodies[] = {
        "{\"contact_id\":\"c1\",\"message\":{\"body\":\"hi\",\"id\":\"m1\"},\"tenant\":\"acme\"}",
        "{\"contact_id\":\"c1\",\"message\":{\"body\":\"again\",\"id\":\"m2\"},\"first_name\":\"J\",\"tenant\":\"acme\"}",
        "{\"contact_id\":\"c2\",\"message\":{\"body\":\"hi\",\"id\":\"m3\"},\"tenant\":\"acme\"}",
        "{\"contact_id\":\"c1\",\"message\":{\"body\":\"hi\",\"id\":\"m4\"},\"tenant\":\"other\"}",
    };
    uint32_t a[4];
    for (int i = 0; i < 4; i++) {
        ingress_row_t r;
        ingress_err_t e;
        LULL_CHECK(ingress_parse_generic(bodies[i], strlen(bodies[i]), &r, &e) == 0);
        a[i] = r.affinity;
        LULL_CHECK(a[i] != 0);
        ingress_row_free(&r);
    }
    LULL_CHECK(a[0] == a[1]);
    LULL_CHECK(a[0] != a[2]);
    LULL_CHECK(a[0] != a[3]);
    ingress_form_t f;
    ingress_err_t e;
    ingress_row_t r1, r2;
    const char *t1 = "MessageSid=SM0123456789abcdef0123456789ABCDEF&From=%2B1555&To=%2B1666&Body=a";
    const char *t2 = "MessageSid=SM0123456789abcdef0123456789ABCDE0&From=%2B1555&To=%2B1666&Body=b";
    LULL_CHECK(ingress_form_parse(t1, strlen(t1), &f, &e) == 0 && ingress_parse_twilio(&f, &r1, &e) == 0);
    ingress_form_free(&f);
    LULL_CHECK(ingress_form_parse(t2, strlen(t2), &f, &e) == 0 && ingress_parse_twilio(&f, &r2, &e) == 0);
    ingress_form_free(&f);
    LULL_CHECK(r1.affinity == r2.affinity && r1.affinity != 0);
    ingress_row_free(&r1);
    ingress_row_free(&r2);
}

int main(void)
{
    LULL_RUN(form_decodes_and_rejects);
    LULL_RUN(form_from_json);
    LULL_RUN(generic_row);
    LULL_RUN(twilio_row_keeps_every_field);
    LULL_RUN(tiktok_rows);
    LULL_RUN(strict_ids);
    LULL_RUN(chat_rows);
    LULL_RUN(row_affinity_names_the_contact);
    return lull_test_summary();
}
