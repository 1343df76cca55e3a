// Unit tests of the two OpenAPI documents (lull_openapi over ingress_routes.def and admin_routes.def): each
// parses as OpenAPI 3.0.3 without a host, every $ref resolves, path templates match their parameters,
// operations have unique ids, a description, a 2xx answer and the right security (a description naming no
// operation fails the document); ingress documents only public routes, admin bearer ones (beside its liveness
// and document); the admin resource schemas follow the field tables, the response carries its headers, and the
// embedded parts stay apart (no clash, no reference across).
// (That the served routes and the documented ones agree is tested against the servers in
// tests/it/test_ingress_openapi.sh.)
#include "../../admin/admin_http.h"
#include "../../ingress/ingress_http.h"
#include "../../ingress/ingress_static.h"
#include "lull_openapi.h"
#include "lull_test.h"

#include <cJSON.h>
#include <stdlib.h>

static cJSON *s_doc;  // the document under test
static int s_min_paths, s_min_ops, s_min_bearer, s_max_bearer;  // its expected size

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
    LULL_CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s_doc, "paths")) >= s_min_paths);
}

LULL_TEST(every_ref_resolves)
{
    int total = 0, bad = 0;
    s_walk_refs(s_doc, s_doc, &total, &bad);
    LULL_CHECK(total > 30);
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
    LULL_CHECK(ops >= s_min_ops);
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
    LULL_CHECK(admin >= s_min_bearer && admin <= s_max_bearer);
    LULL_CHECK((s_resolve("#/components/securitySchemes/bearer") != NULL) == (s_max_bearer > 0));
}

// Every operation has a description of its own (from x-operation-descriptions, which the document then leaves out).
LULL_TEST(operations_have_descriptions)
{
    const cJSON *path, *op;
    cJSON_ArrayForEach(path, cJSON_GetObjectItemCaseSensitive(s_doc, "paths"))
    {
        cJSON_ArrayForEach(op, path)
        {
            const char *d = s_str(op, "description"), *summary = s_str(op, "summary");
            if (!d || strlen(d) < 10) printf("# %s %s: no description\n", op->string, path->string);
            LULL_CHECK(d != NULL && strlen(d) >= 10);
            LULL_CHECK(d && summary && strcmp(d, summary) != 0);
        }
    }
    LULL_CHECK(cJSON_GetObjectItemCaseSensitive(s_doc, "x-operation-descriptions") == NULL);
}

// A description that names no operation (a typo, a route gone) fails the document; one that does is placed.
LULL_TEST(description_of_no_operation_is_refused)
{
    static const char good[] = "{\"openapi\":\"3.0.3\",\"components\":{\"schemas\":{}},"
                               "\"x-operation-descriptions\":{\"health\":\"Answers while the process runs.\"}}";
    static const char bad[] = "{\"openapi\":\"3.0.3\",\"components\":{\"schemas\":{}},"
                              "\"x-operation-descriptions\":{\"healht\":\"Answers while the process runs.\"}}";
    const lull_route_t row = {"GET", "/health", LULL_AUTH_NONE, "health", "service", "Liveness", NULL, NULL, "200=Health"};
    lull_openapi_part_t part = {"good.json", (const unsigned char *)good, sizeof good - 1};
    char *text = lull_openapi_json(&part, 1, &row, 1, NULL);
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    const cJSON *get = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "paths"), "/health"), "get");
    LULL_CHECK_EQ_STR(s_str(get, "description"), "Answers while the process runs.");
    LULL_CHECK(doc && cJSON_GetObjectItemCaseSensitive(doc, "x-operation-descriptions") == NULL);
    cJSON_Delete(doc);
    free(text);
    part = (lull_openapi_part_t){"bad.json", (const unsigned char *)bad, sizeof bad - 1};
    text = lull_openapi_json(&part, 1, &row, 1, NULL);
    LULL_CHECK(text == NULL);
    free(text);
}

// The tenants / prompts / inventory schemas come from the field tables of admin_crud.c.
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
    struct MHD_Response *r = lull_openapi_response(admin_http_openapi_json());
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

// The ingress file holds no admin tag, and no component of the shared file or of the ingress file clashes
// (the merge refuses a clash) or refers to the admin part.
LULL_TEST(ingress_parts_are_apart)
{
    cJSON *shared = cJSON_ParseWithLength((const char *)common_static_openapi_shared_json,
                                          common_static_openapi_shared_json_len);
    cJSON *base = cJSON_ParseWithLength((const char *)ingress_static_openapi_json, ingress_static_openapi_json_len);
    LULL_CHECK(shared != NULL && base != NULL);
    LULL_CHECK(cJSON_GetObjectItemCaseSensitive(base, "paths") == NULL);  // built from the route table
    const cJSON *tag;
    cJSON_ArrayForEach(tag, cJSON_GetObjectItemCaseSensitive(base, "tags"))
        LULL_CHECK(strncmp(s_str(tag, "name"), "admin", 5) != 0);
    int total = 0, bad = 0;
    s_walk_refs(s_doc, shared, &total, &bad);  // the shared part resolves within the public document alone
    LULL_CHECK(total > 5);
    LULL_CHECK_EQ_INT(bad, 0);
    LULL_CHECK(s_resolve("#/components/schemas/TenantsRow") == NULL);
    LULL_CHECK(s_resolve("#/components/responses/WindowList") == NULL);
    cJSON_Delete(shared);
    cJSON_Delete(base);
}

// Parses a document into s_doc (replacing the one before); text is freed.
static void s_load(char *text)
{
    cJSON_Delete(s_doc);
    s_doc = text ? cJSON_Parse(text) : NULL;
    free(text);
}

int main(void)
{
    s_load(ingress_http_openapi_json());  // lull-ingress: public routes only
    s_min_paths = 11, s_min_ops = 13, s_min_bearer = 0, s_max_bearer = 0;
    LULL_RUN(document_is_openapi_303_without_a_host);
    LULL_RUN(every_ref_resolves);
    LULL_RUN(path_templates_have_their_parameters);
    LULL_RUN(operations_have_ids_answers_and_security);
    LULL_RUN(operations_have_descriptions);
    LULL_RUN(description_of_no_operation_is_refused);
    LULL_RUN(chat_page_documents_its_etag);
    LULL_RUN(ingress_parts_are_apart);
    s_load(admin_http_openapi_json());  // lull-admin: bearer routes beside its liveness and document
    s_min_paths = 25, s_min_ops = 43, s_min_bearer = 39, s_max_bearer = 1000;
    LULL_RUN(document_is_openapi_303_without_a_host);
    LULL_RUN(every_ref_resolves);
    LULL_RUN(path_templates_have_their_parameters);
    LULL_RUN(operations_have_ids_answers_and_security);
    LULL_RUN(operations_have_descriptions);
    LULL_RUN(resource_schemas_follow_the_field_tables);
    LULL_RUN(response_is_cacheable_json);
    cJSON_Delete(s_doc);
    return lull_test_summary();
}
