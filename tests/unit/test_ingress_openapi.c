// Unit tests of ingress_openapi: the document parses as OpenAPI 3.0.3 without a host, every $ref resolves,
// every path template has exactly its path parameters, every operation has an id, a 2xx answer and its
// security, the admin resource schemas follow the field tables, the response carries its headers, and the
// admin part of the embedded text (ingress/static/openapi_admin.json) holds only what the admin API needs.
// (Structural validation against the OpenAPI schema and agreement with the running server are in
// tests/it/test_ingress_openapi.sh.)
#include "../../ingress/ingress_openapi.h"
#include "../../ingress/ingress_static.h"
#include "lull_test.h"

#include <cJSON.h>
#include <stdlib.h>

static cJSON *s_doc;

static const char *s_str(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

// Resolves a local reference "#/a/b/c" in root; NULL when it points nowhere.
static const cJSON *s_resolve_in(const cJSON *root, const char *ref)
{
    if (strncmp(ref, "#/", 2) != 0) return NULL;
    const cJSON *node = root;
    char part[128];
    for (const char *p = ref + 2; node && *p;) {
        size_t n = strcspn(p, "/");
        if (n >= sizeof part) return NULL;
        memcpy(part, p, n);
        part[n] = '\0';
        node = cJSON_GetObjectItemCaseSensitive(node, part);
        p += n;
        if (*p == '/') p++;
    }
    return node;
}

// Resolves a local reference in the served document.
static const cJSON *s_resolve(const char *ref)
{
    return s_resolve_in(s_doc, ref);
}

// The node itself, or what its $ref points to.
static const cJSON *s_deref(const cJSON *node)
{
    const char *ref = s_str(node, "$ref");
    return ref ? s_resolve(ref) : node;
}

// Counts the $ref strings under node, and in *bad those that resolve to nothing in root.
static void s_walk_refs(const cJSON *root, const cJSON *node, int *total, int *bad)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, node)
    {
        if (c->string && strcmp(c->string, "$ref") == 0 && cJSON_IsString(c)) {
            (*total)++;
            if (!s_resolve_in(root, c->valuestring)) {
                (*bad)++;
                printf("# unresolved $ref %s\n", c->valuestring);
            }
        }
        s_walk_refs(root, c, total, bad);
    }
}

LULL_TEST(document_is_openapi_303_without_a_host)
{
    LULL_CHECK(s_doc != NULL);
    LULL_CHECK_EQ_STR(s_str(s_doc, "openapi"), "3.0.3");
    LULL_CHECK(s_str(cJSON_GetObjectItemCaseSensitive(s_doc, "info"), "title") != NULL);
    const cJSON *srv;
    cJSON_ArrayForEach(srv, cJSON_GetObjectItemCaseSensitive(s_doc, "servers"))
    {
        const char *url = s_str(srv, "url");
        LULL_CHECK(url && url[0] == '/' && !strstr(url, "://"));
    }
    LULL_CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s_doc, "paths")) >= 30);
}

LULL_TEST(every_ref_resolves)
{
    int total = 0, bad = 0;
    s_walk_refs(s_doc, s_doc, &total, &bad);
    LULL_CHECK(total > 100);
    LULL_CHECK_EQ_INT(bad, 0);
}

// Every {name} of a path is a path parameter of each of its operations, and every path parameter is in the path.
LULL_TEST(path_templates_have_their_parameters)
{
    const cJSON *path, *op;
    int ops = 0;
    cJSON_ArrayForEach(path, cJSON_GetObjectItemCaseSensitive(s_doc, "paths"))
    {
        cJSON_ArrayForEach(op, path)
        {
            ops++;
            int in_path = 0, in_template = 0;
            const cJSON *p;
            cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(op, "parameters"))
            {
                const cJSON *param = s_deref(p);
                LULL_CHECK(param != NULL);
                if (!param || strcmp(s_str(param, "in"), "path") != 0) continue;
                in_path++;
                char want[80];
                snprintf(want, sizeof want, "{%s}", s_str(param, "name"));
                LULL_CHECK(strstr(path->string, want) != NULL);
                LULL_CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(param, "required")));
            }
            for (const char *c = path->string; (c = strchr(c, '{')) != NULL; c++) in_template++;
            if (in_path != in_template) printf("# %s %s: %d path parameters, %d in the template\n", op->string,
                                               path->string, in_path, in_template);
            LULL_CHECK_EQ_INT(in_path, in_template);
        }
    }
    LULL_CHECK(ops >= 45);
}

// Unique operationIds; a 2xx answer each; public operations say security [], admin ones bearer with 401/403.
LULL_TEST(operations_have_ids_answers_and_security)
{
    const cJSON *path, *op;
    char seen[4096] = " ";
    int admin = 0;
    cJSON_ArrayForEach(path, cJSON_GetObjectItemCaseSensitive(s_doc, "paths"))
    {
        cJSON_ArrayForEach(op, path)
        {
            const char *id = s_str(op, "operationId");
            char key[80];
            LULL_CHECK(id != NULL);
            snprintf(key, sizeof key, " %s ", id ? id : "");
            LULL_CHECK(strstr(seen, key) == NULL);
            strncat(seen, key + 1, sizeof seen - strlen(seen) - 1);
            const cJSON *responses = cJSON_GetObjectItemCaseSensitive(op, "responses"), *r;
            bool ok2xx = false;
            cJSON_ArrayForEach(r, responses) ok2xx = ok2xx || r->string[0] == '2';
            LULL_CHECK(ok2xx);
            const cJSON *security = cJSON_GetObjectItemCaseSensitive(op, "security");
            LULL_CHECK(cJSON_IsArray(security));
            bool is_admin = cJSON_GetArraySize(security) == 1 &&
                            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(security, 0), "bearer");
            LULL_CHECK(is_admin || cJSON_GetArraySize(security) == 0);
            if (is_admin) {
                admin++;
                LULL_CHECK(cJSON_GetObjectItemCaseSensitive(responses, "401") != NULL);
                LULL_CHECK(cJSON_GetObjectItemCaseSensitive(responses, "403") != NULL);
            }
        }
    }
    LULL_CHECK(admin >= 35);
    LULL_CHECK(s_resolve("#/components/securitySchemes/bearer") != NULL);
}

// The tenants / prompts / inventory schemas come from the field tables of ingress_admin_crud.c.
LULL_TEST(resource_schemas_follow_the_field_tables)
{
    const cJSON *tc = s_resolve("#/components/schemas/TenantsCreate");
    LULL_CHECK(tc != NULL);
    LULL_CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(tc, "required")), 1);
    LULL_CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(tc, "required"), 0)),
                      "slug");
    LULL_CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(tc, "additionalProperties")));
    const cJSON *slug = s_resolve("#/components/schemas/TenantsCreate/properties/slug");
    LULL_CHECK_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(slug, "maxLength")), 64);
    LULL_CHECK_EQ_STR(s_str(slug, "pattern"), "^[a-z0-9_-]+$");
    const cJSON *cred = s_resolve("#/components/schemas/TenantsCreate/properties/credentials/additionalProperties");
    LULL_CHECK_EQ_STR(s_str(cred, "pattern"), "^LULL_TENANT_[A-Z0-9_]+$");
    LULL_CHECK_EQ_STR(s_str(s_resolve("#/components/schemas/TenantsCreate/properties/webhook_secret_env"), "pattern"),
                      "^LULL_TENANT_[A-Z0-9_]+$");
    LULL_CHECK(s_resolve("#/components/schemas/PromptsCreate/properties/tenant_id") != NULL);
    LULL_CHECK(s_resolve("#/components/schemas/PromptsUpdate/properties/tenant_id") == NULL);  // read-only
    LULL_CHECK(s_resolve("#/components/schemas/InventoryUpdate/properties/sku") != NULL);
    const cJSON *status = s_resolve("#/components/schemas/InventoryCreate/properties/status/enum");
    LULL_CHECK_EQ_INT(cJSON_GetArraySize(status), 3);
    LULL_CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetArrayItem(status, 2)), "sold");
    LULL_CHECK(cJSON_IsTrue(s_resolve("#/components/schemas/InventoryCreate/properties/price/nullable")));
    LULL_CHECK(s_resolve("#/components/schemas/TenantsRow/properties/updated_at") != NULL);
    LULL_CHECK(s_resolve("#/components/schemas/PromptsRow/properties/updated_at") == NULL);
    LULL_CHECK_EQ_INT(cJSON_GetNumberValue(s_resolve("#/components/schemas/InventoryUpdate/minProperties")), 1);
}

LULL_TEST(response_is_cacheable_json)
{
    struct MHD_Response *r = ingress_openapi_response();
    LULL_CHECK(r != NULL);
    if (!r) return;
    LULL_CHECK_EQ_STR(MHD_get_response_header(r, "Content-Type"), "application/json");
    LULL_CHECK_EQ_STR(MHD_get_response_header(r, "Cache-Control"), "public, max-age=300");
    MHD_destroy_response(r);
}

// The page answers 304 with its ETag when If-None-Match names it (ingress_page.c).
LULL_TEST(chat_page_documents_its_etag)
{
    const cJSON *chat = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s_doc, "paths"), "/chat");
    const cJSON *responses = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(chat, "get"), "responses");
    LULL_CHECK(cJSON_GetObjectItemCaseSensitive(responses, "200") != NULL);
    const cJSON *nm = s_deref(cJSON_GetObjectItemCaseSensitive(responses, "304"));
    LULL_CHECK(nm != NULL && cJSON_GetObjectItemCaseSensitive(nm, "content") == NULL);
    LULL_CHECK(s_resolve("#/components/responses/NotModified/headers/ETag") != NULL);
}

// openapi_admin.json holds the admin tags and components only: no name of the shared file (the merge refuses
// a clash), and neither the shared file nor a public operation refers to it, so it can move out with the
// admin API.
LULL_TEST(admin_file_is_the_admin_part)
{
    cJSON *base = cJSON_ParseWithLength((const char *)ingress_static_openapi_json, ingress_static_openapi_json_len);
    cJSON *admin = cJSON_ParseWithLength((const char *)ingress_static_openapi_admin_json,
                                         ingress_static_openapi_admin_json_len);
    LULL_CHECK(base != NULL && admin != NULL);
    LULL_CHECK(cJSON_GetObjectItemCaseSensitive(base, "paths") == NULL);  // built from s_ops
    const cJSON *tag, *section, *item;
    int admin_tags = 0;
    cJSON_ArrayForEach(tag, cJSON_GetObjectItemCaseSensitive(admin, "tags"))
    {
        admin_tags++;
        LULL_CHECK(strncmp(s_str(tag, "name"), "admin: ", 7) == 0);
    }
    LULL_CHECK(admin_tags >= 5);
    cJSON_ArrayForEach(tag, cJSON_GetObjectItemCaseSensitive(base, "tags"))
        LULL_CHECK(strncmp(s_str(tag, "name"), "admin", 5) != 0);
    int admin_items = 0, clashes = 0;
    const cJSON *base_components = cJSON_GetObjectItemCaseSensitive(base, "components");
    cJSON_ArrayForEach(section, cJSON_GetObjectItemCaseSensitive(admin, "components"))
    {
        const cJSON *in_base = cJSON_GetObjectItemCaseSensitive(base_components, section->string);
        cJSON_ArrayForEach(item, section)
        {
            admin_items++;
            clashes += cJSON_GetObjectItemCaseSensitive(in_base, item->string) != NULL;
        }
    }
    LULL_CHECK(admin_items > 50);
    LULL_CHECK_EQ_INT(clashes, 0);
    // the shared file and the public operations refer to nothing of the admin file
    int total = 0, bad = 0;
    s_walk_refs(base, base, &total, &bad);
    const cJSON *path, *op;
    cJSON_ArrayForEach(path, cJSON_GetObjectItemCaseSensitive(s_doc, "paths")) cJSON_ArrayForEach(op, path)
    {
        if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(op, "security")) == 0) s_walk_refs(base, op, &total, &bad);
    }
    LULL_CHECK(total > 50);
    LULL_CHECK_EQ_INT(bad, 0);
    cJSON_Delete(base);
    cJSON_Delete(admin);
}

int main(void)
{
    char *text = ingress_openapi_json();
    s_doc = text ? cJSON_Parse(text) : NULL;
    free(text);
    LULL_RUN(document_is_openapi_303_without_a_host);
    LULL_RUN(every_ref_resolves);
    LULL_RUN(path_templates_have_their_parameters);
    LULL_RUN(operations_have_ids_answers_and_security);
    LULL_RUN(resource_schemas_follow_the_field_tables);
    LULL_RUN(response_is_cacheable_json);
    LULL_RUN(chat_page_documents_its_etag);
    LULL_RUN(admin_file_is_the_admin_part);
    cJSON_Delete(s_doc);
    return lull_test_summary();
}
