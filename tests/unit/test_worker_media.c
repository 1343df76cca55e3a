// Unit tests of the media helpers: an image item in each provider's request format (OpenAI image_url data
// URL, Anthropic image block with a base64 source, Gemini inline_data), the kind of a media entry, host
// matching for credentials, and the archive's file extensions.
#include "lull_test.h"
#include "lull_json.h"
#include "../../worker/worker_llm.h"
#include "../../worker/worker_media.h"
#include "../../worker/worker_s3.h"

#include <stdlib.h>

static cJSON *s_build_with_image(const worker_provider_t *p)
{
    worker_conv_t c;
    memset(&c, 0, sizeof c);
    c.mode = WORKER_MODE_REPLY;
    c.system = "be nice";
    c.model = "m-1";
    c.max_tokens = 100;
    cJSON *j = NULL;
    if (worker_conv_add(&c, WORKER_ITEM_USER, "what is this?", NULL, NULL, NULL) == 0 &&
        worker_conv_add(&c, WORKER_ITEM_IMAGE, "aGVsbG8=", NULL, "image/png", NULL) == 0) {
        char *body = p->build(&c);
        j = body ? cJSON_Parse(body) : NULL;
        free(body);
    }
    worker_conv_clear(&c);
    return j;
}

static const char *s_str_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b) n = cJSON_GetObjectItemCaseSensitive(n, b);
    return cJSON_IsString(n) ? n->valuestring : "missing";
}

LULL_TEST(openai_image)
{
    cJSON *j = s_build_with_image(&WORKER_OPENAI);
    LULL_CHECK(j != NULL);
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(j, "messages");
    LULL_CHECK_EQ_INT(cJSON_GetArraySize(msgs), 3);  // system, the text, the image
    const cJSON *img = cJSON_GetArrayItem(msgs, 2);
    LULL_CHECK_EQ_STR(s_str_at(img, "role", NULL), "user");
    const cJSON *part = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(img, "content"), 0);
    LULL_CHECK_EQ_STR(s_str_at(part, "type", NULL), "image_url");
    LULL_CHECK_EQ_STR(s_str_at(part, "image_url", "url"), "data:image/png;base64,aGVsbG8=");
    cJSON_Delete(j);
}

LULL_TEST(anthropic_image)
{
    cJSON *j = s_build_with_image(&WORKER_ANTHROPIC);
    LULL_CHECK(j != NULL);
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(j, "messages");
    LULL_CHECK_EQ_INT(cJSON_GetArraySize(msgs), 1);  // one user turn: the text block, then the image block
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(msgs, 0), "content");
    LULL_CHECK_EQ_INT(cJSON_GetArraySize(content), 2);
    const cJSON *img = cJSON_GetArrayItem(content, 1);
    LULL_CHECK_EQ_STR(s_str_at(img, "type", NULL), "image");
    LULL_CHECK_EQ_STR(s_str_at(img, "source", "type"), "base64");
    LULL_CHECK_EQ_STR(s_str_at(img, "source", "media_type"), "image/png");
    LULL_CHECK_EQ_STR(s_str_at(img, "source", "data"), "aGVsbG8=");
    cJSON_Delete(j);
}

LULL_TEST(gemini_image)
{
    cJSON *j = s_build_with_image(&WORKER_GEMINI);
    LULL_CHECK(j != NULL);
    const cJSON *contents = cJSON_GetObjectItemCaseSensitive(j, "contents");
    LULL_CHECK_EQ_INT(cJSON_GetArraySize(contents), 1);
    const cJSON *parts = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(contents, 0), "parts");
    LULL_CHECK_EQ_INT(cJSON_GetArraySize(parts), 2);
    const cJSON *img = cJSON_GetArrayItem(parts, 1);
    LULL_CHECK_EQ_STR(s_str_at(img, "inline_data", "mime_type"), "image/png");
    LULL_CHECK_EQ_STR(s_str_at(img, "inline_data", "data"), "aGVsbG8=");
    cJSON_Delete(j);
}

LULL_TEST(kinds)
{
    LULL_CHECK_EQ_STR(worker_media_kind("image", NULL), "image");
    LULL_CHECK_EQ_STR(worker_media_kind("voice", NULL), "audio");
    LULL_CHECK_EQ_STR(worker_media_kind("sticker", "image/webp"), "sticker");
    LULL_CHECK_EQ_STR(worker_media_kind(NULL, "image/JPEG; q=1"), "image");
    LULL_CHECK_EQ_STR(worker_media_kind(NULL, "audio/ogg; codecs=opus"), "audio");
    LULL_CHECK_EQ_STR(worker_media_kind(NULL, "video/mp4"), "video");
    LULL_CHECK_EQ_STR(worker_media_kind(NULL, "application/pdf"), "document");
    LULL_CHECK_EQ_STR(worker_media_kind("mystery", NULL), "file");
}

LULL_TEST(hosts)
{
    LULL_CHECK(worker_media_same_host("https://api.twilio.com/2010-04-01/Accounts/AC1/Media/ME1", "api.twilio.com"));
    LULL_CHECK(worker_media_same_host("https://API.Twilio.com/x", "api.twilio.com"));
    LULL_CHECK(!worker_media_same_host("https://api.twilio.com.evil.example/x", "api.twilio.com"));
    LULL_CHECK(!worker_media_same_host("https://evil.example/api.twilio.com", "api.twilio.com"));
    LULL_CHECK(!worker_media_same_host("https://api.twilio.com@evil.example/x", "api.twilio.com"));
    LULL_CHECK(!worker_media_same_host("ftp://api.twilio.com/x", "api.twilio.com"));
    LULL_CHECK(!worker_media_same_host("not a url", "api.twilio.com"));
    LULL_CHECK(worker_media_same_host("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1", "lookaside.fbsbx.com"));
}

LULL_TEST(extensions)
{
    LULL_CHECK_EQ_STR(worker_s3_ext("image/jpeg"), "jpg");
    LULL_CHECK_EQ_STR(worker_s3_ext("audio/ogg"), "ogg");
    LULL_CHECK_EQ_STR(worker_s3_ext("application/x-unknown"), "bin");
    LULL_CHECK_EQ_STR(worker_s3_ext(NULL), "bin");
}

int main(void)
{
    LULL_RUN(openai_image);
    LULL_RUN(anthropic_image);
    LULL_RUN(gemini_image);
    LULL_RUN(kinds);
    LULL_RUN(hosts);
    LULL_RUN(extensions);
    return lull_test_summary();
}
