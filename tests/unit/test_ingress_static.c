// Unit tests of the embedded static texts (ingress/static/*, admin/static/*, common/static/*, turned into C by scripts/embed.c at build time):
// each holds exactly the bytes of its file in the tree followed by one 0, its ETag is a quoted hash that
// differs between files, and the JSON files parse on their own (a malformed one fails here, at build-test
// time, and makes ingress refuse to start; it never reaches a request).
#include "../../admin/admin_static.h"
#include "../../ingress/ingress_static.h"
#include "lull_test.h"

#include <cJSON.h>
#include <stdlib.h>

// Whether the file at path (from the repository root, where tests/run starts) holds exactly len bytes b.
static bool s_same_as_file(const char *path, const unsigned char *b, size_t len)
{
    bool same = false;
    FILE *f = fopen(path, "rb");
    unsigned char *disk = malloc(len + 1);
    if (!f || !disk) goto cleanup;
    size_t n = fread(disk, 1, len + 1, f);  // one byte more: a longer file is not the same
    same = n == len && memcmp(disk, b, len) == 0;
cleanup:
    if (f) fclose(f);
    free(disk);
    return same;
}

// A quoted string of 16 hex digits.
static bool s_etag_ok(const char *etag)
{
    return strlen(etag) == 18 && etag[0] == '"' && etag[17] == '"' &&
           strspn(etag + 1, "0123456789abcdef") == 16;
}

LULL_TEST(chat_page_is_its_file)
{
    LULL_CHECK(s_same_as_file("ingress/static/chat.html", ingress_static_chat_html, ingress_static_chat_html_len));
    LULL_CHECK_EQ_INT(ingress_static_chat_html[ingress_static_chat_html_len], 0);
    LULL_CHECK_EQ_INT(strlen((const char *)ingress_static_chat_html), ingress_static_chat_html_len);
    LULL_CHECK(strncmp((const char *)ingress_static_chat_html, "<!doctype html>", 15) == 0);
    LULL_CHECK(s_etag_ok(ingress_static_chat_html_etag));
}

LULL_TEST(openapi_files_are_their_files)
{
    LULL_CHECK(s_same_as_file("ingress/static/openapi.json", ingress_static_openapi_json,
                              ingress_static_openapi_json_len));
    LULL_CHECK(s_same_as_file("admin/static/openapi_admin.json", admin_static_openapi_admin_json,
                              admin_static_openapi_admin_json_len));
    LULL_CHECK_EQ_INT(ingress_static_openapi_json[ingress_static_openapi_json_len], 0);
    LULL_CHECK_EQ_INT(admin_static_openapi_admin_json[admin_static_openapi_admin_json_len], 0);
    // negative control: a file is not the same as another
    LULL_CHECK(!s_same_as_file("ingress/static/openapi.json", admin_static_openapi_admin_json,
                               admin_static_openapi_admin_json_len));
}

LULL_TEST(etags_differ_between_files)
{
    LULL_CHECK(s_etag_ok(ingress_static_openapi_json_etag));
    LULL_CHECK(s_etag_ok(admin_static_openapi_admin_json_etag));
    LULL_CHECK(strcmp(ingress_static_chat_html_etag, ingress_static_openapi_json_etag) != 0);
    LULL_CHECK(strcmp(ingress_static_openapi_json_etag, admin_static_openapi_admin_json_etag) != 0);
}

// Parses an embedded JSON file; prints where it stops when it does not parse.
static bool s_parses(const char *name, const unsigned char *b, size_t len)
{
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts((const char *)b, len, &end, false);
    if (!doc) printf("# %s does not parse at byte %td\n", name, end ? end - (const char *)b : (ptrdiff_t)-1);
    bool ok = cJSON_IsObject(doc);
    cJSON_Delete(doc);
    return ok;
}

LULL_TEST(json_files_parse)
{
    LULL_CHECK(s_parses("openapi.json", ingress_static_openapi_json, ingress_static_openapi_json_len));
    LULL_CHECK(s_parses("openapi_admin.json", admin_static_openapi_admin_json,
                        admin_static_openapi_admin_json_len));
    // negative control: the same check refuses a malformed text
    static const unsigned char broken[] = "{\"openapi\": \"3.0.3\",}";
    LULL_CHECK(!s_parses("a broken copy", broken, sizeof broken - 1));
}

int main(void)
{
    LULL_RUN(chat_page_is_its_file);
    LULL_RUN(openapi_files_are_their_files);
    LULL_RUN(etags_differ_between_files);
    LULL_RUN(json_files_parse);
    return lull_test_summary();
}
