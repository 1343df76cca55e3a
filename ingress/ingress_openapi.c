// GET /openapi.json: the OpenAPI 3.0.3 description of lull-ingress's HTTP port, built once at start-up from
// three parts:
//  - s_ops: one row per operation (method, path, parameters, request body and answers by component name);
//  - ingress/static/openapi.json and openapi_admin.json (embedded at build time): everything else, chiefly
//    what the operations refer to (parameters, request bodies, responses, schemas); the first holds the
//    service, webhook and web chat parts and what they share with the admin API, the second the admin API's
//    tags and components, merged into the first (a name both define is an error);
//  - the tenants / prompts / inventory schemas, rendered from the admin field tables that validate those
//    bodies (ingress_admin_crud_schemas), so they cannot disagree with the code.
// The limits written in the JSON files are the ones ingress_parse.c, ingress_admin_*.c and ingress_stream.c
// enforce; tests/it/test_ingress_openapi.sh checks that the document and the route tables list the same routes.
#include "ingress_openapi.h"
#include "ingress_admin_crud.h"
#include "ingress_static.h"
#include "lull_json.h"
#include "lull_log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// One operation. Names refer to components: parameters, requestBodies, responses ("400" alone is the shared
// error answer Error400).
typedef struct {
    const char *method;     // OpenAPI key: get, head, post, put, patch, delete
    const char *path;       // path template; each {name} is a path parameter listed in params
    const char *id;         // operationId
    const char *tag;
    bool admin;             // needs Authorization: Bearer LULL_ADMIN_TOKEN (adds 401, 403 and 503)
    const char *summary;
    const char *params;     // space-separated components/parameters, or NULL
    const char *body;       // components/requestBodies, or NULL
    const char *responses;  // space-separated "status" or "status=components/responses name"
} s_op_t;

#define S_PUBLIC false
#define S_ADMIN true

static const s_op_t s_ops[] = {
    // service
    {"get", "/health", "health", "service", S_PUBLIC,
     "Liveness for load balancers (the real checks are on the ops port)", NULL, NULL, "200=Health"},
    {"head", "/health", "healthHead", "service", S_PUBLIC, "Liveness, headers only", NULL, NULL, "200=NoBody"},
    {"get", "/openapi.json", "openapi", "service", S_PUBLIC, "This document", NULL, NULL, "200=OpenApi"},
    {"head", "/openapi.json", "openapiHead", "service", S_PUBLIC, "This document, headers only", NULL, NULL,
     "200=NoBody"},
    // webhooks
    {"post", "/webhook", "webhookGeneric", "webhooks", S_PUBLIC, "Generic SMS JSON webhook", NULL, "GenericWebhook",
     "200=GenericAccepted 400 403 404 413 500 503"},
    {"post", "/webhook/twilio", "webhookTwilio", "webhooks", S_PUBLIC, "Twilio SMS and WhatsApp webhook",
     "TwilioSignature", "TwilioWebhook", "200=TwiML 400 403 413 415 500 503"},
    {"post", "/webhook/twilio/status", "webhookTwilioStatus", "webhooks", S_PUBLIC,
     "Twilio message status callback (the delivery status of an outbox row)", "TwilioSignature OutboxQuery",
     "TwilioStatus", "200=StatusRecorded 400 403 413 415 500 503"},
    {"post", "/webhook/tiktok", "webhookTiktok", "webhooks", S_PUBLIC, "TikTok Business messaging event",
     "TiktokSignature", "TiktokEvent", "200=TiktokAccepted 400 403 413 500 503"},
    // web chat
    {"post", "/api/v1/chat/session", "chatSession", "web chat", S_PUBLIC, "Open a web chat session", NULL,
     "ChatSession", "200=ChatSessionCreated 400 404 413 500 503"},
    {"post", "/api/v1/chat/message", "chatMessage", "web chat", S_PUBLIC, "Send a message in a session", NULL,
     "ChatMessage", "200=ChatMessageAccepted 400 404 413 500 503"},
    {"get", "/api/v1/chat/history/{sessionId}", "chatHistory", "web chat", S_PUBLIC, "The messages of a session",
     "SessionId", NULL, "200=ChatHistory 404 500 503"},
    {"get", "/api/v1/chat/stream/{sessionId}", "chatStream", "web chat", S_PUBLIC,
     "The replies of a session as Server-Sent Events", "SessionId StreamAfter LastEventId", NULL,
     "200=ChatStream 400 404 429 503"},
    {"get", "/chat", "chatPage", "web chat", S_PUBLIC, "The web chat page", NULL, NULL,
     "200=ChatPage 304=NotModified"},
    // admin: windows
    {"get", "/api/v1/windows", "windowsList", "admin: windows", S_ADMIN, "Open windows of every scheduler shard",
     "Limit After", NULL, "200=WindowList 400"},
    {"get", "/timers", "timersList", "admin: windows", S_ADMIN, "Open windows (the seed API shape)", "Limit After",
     NULL, "200=TimerList 400"},
    {"post", "/api/v1/windows/{conversation_id}/cancel", "windowCancel", "admin: windows", S_ADMIN,
     "Cancel a window: its messages will not be answered", "ConversationId", NULL, "200=WindowCancelled 400 404"},
    {"post", "/api/v1/windows/{conversation_id}/flush", "windowFlush", "admin: windows", S_ADMIN,
     "Answer a window now", "ConversationId", NULL, "200=WindowFlushed 400 404"},
    {"post", "/process-chat", "processChat", "admin: windows", S_ADMIN, "Answer a window now (the seed API shape)",
     NULL, "ProcessChat", "200=WindowFlushed 400 404 413"},
    // admin: conversations
    {"get", "/api/v1/conversations", "conversationsList", "admin: conversations", S_ADMIN, "Conversations",
     "ConversationStatus Channel Q Limit After", NULL, "200=ConversationList 400 500"},
    {"get", "/api/v1/conversations/{conversation_id}", "conversationShow", "admin: conversations", S_ADMIN,
     "A conversation with its contact and recent messages, analyses and escalations", "ConversationId", NULL,
     "200=Conversation 400 404 500"},
    {"get", "/api/v1/conversations/{conversation_id}/messages", "conversationMessages", "admin: conversations",
     S_ADMIN, "The messages of a conversation, oldest first", "ConversationId Limit After", NULL,
     "200=MessageList 400 404 500"},
    {"post", "/api/v1/conversations/{conversation_id}/handback", "conversationHandback", "admin: conversations",
     S_ADMIN, "Hand an escalated or paused conversation back to the bot", "ConversationId", "Handback",
     "200=HandbackDone 400 404 409 413 500"},
    {"post", "/api/v1/conversations/{conversation_id}/reply", "conversationReply", "admin: conversations", S_ADMIN,
     "A human agent reply, sent through the outbox", "ConversationId IdempotencyKey", "HumanReply",
     "200=HumanReplyQueued 400 404 409 413 500"},
    {"get", "/api/v1/escalations", "escalationsList", "admin: conversations", S_ADMIN, "Escalations",
     "EscalationOpen Limit After", NULL, "200=EscalationList 400 500"},
    // admin: dead letters
    {"get", "/api/v1/dead-letters", "deadLettersList", "admin: dead letters", S_ADMIN,
     "Outbox rows that are dead or unknown, newest first", "Tenant Channel Since Limit Before", NULL,
     "200=DeadLetterList 400 500"},
    {"post", "/api/v1/dead-letters/replay", "deadLettersReplayAll", "admin: dead letters", S_ADMIN,
     "Send every dead letter matching a filter again", NULL, "DeadLetterReplay", "200=Replayed 400 413 500"},
    {"post", "/api/v1/dead-letters/{id}/replay", "deadLetterReplay", "admin: dead letters", S_ADMIN,
     "Send one dead letter again", "DeadLetterId", NULL, "200=Replayed 400 404 500"},
    // admin: tenants, prompts, inventory, usage
    {"get", "/api/v1/tenants", "tenantsList", "admin: resources", S_ADMIN, "Tenants", "Limit After", NULL,
     "200=TenantsList 400 500"},
    {"post", "/api/v1/tenants", "tenantsCreate", "admin: resources", S_ADMIN, "Create a tenant", "Upsert",
     "TenantsCreate", "201=TenantsRow 400 409 413 500"},
    {"get", "/api/v1/tenants/{id}", "tenantsGet", "admin: resources", S_ADMIN, "A tenant", "RowId", NULL,
     "200=TenantsRow 400 404 500"},
    {"patch", "/api/v1/tenants/{id}", "tenantsPatch", "admin: resources", S_ADMIN, "Update the given fields", "RowId",
     "TenantsUpdate", "200=TenantsRow 400 404 409 413 500"},
    {"put", "/api/v1/tenants/{id}", "tenantsPut", "admin: resources", S_ADMIN, "Update the given fields (as PATCH)",
     "RowId", "TenantsUpdate", "200=TenantsRow 400 404 409 413 500"},
    {"delete", "/api/v1/tenants/{id}", "tenantsDelete", "admin: resources", S_ADMIN,
     "Delete a tenant (never the default one)", "RowId", NULL, "200=Deleted 400 404 409 500"},
    {"get", "/api/v1/prompts", "promptsList", "admin: resources", S_ADMIN, "Prompts", "Tenant Limit After", NULL,
     "200=PromptsList 400 500"},
    {"post", "/api/v1/prompts", "promptsCreate", "admin: resources", S_ADMIN, "Create a prompt", NULL, "PromptsCreate",
     "201=PromptsRow 400 409 413 500"},
    {"get", "/api/v1/prompts/{id}", "promptsGet", "admin: resources", S_ADMIN, "A prompt", "RowId", NULL,
     "200=PromptsRow 400 404 500"},
    {"patch", "/api/v1/prompts/{id}", "promptsPatch", "admin: resources", S_ADMIN, "Update the given fields", "RowId",
     "PromptsUpdate", "200=PromptsRow 400 404 409 413 500"},
    {"put", "/api/v1/prompts/{id}", "promptsPut", "admin: resources", S_ADMIN, "Update the given fields (as PATCH)",
     "RowId", "PromptsUpdate", "200=PromptsRow 400 404 409 413 500"},
    {"delete", "/api/v1/prompts/{id}", "promptsDelete", "admin: resources", S_ADMIN, "Delete a prompt", "RowId", NULL,
     "200=Deleted 400 404 500"},
    {"get", "/api/v1/inventory", "inventoryList", "admin: resources", S_ADMIN, "Inventory items", "Tenant Limit After",
     NULL, "200=InventoryList 400 500"},
    {"post", "/api/v1/inventory", "inventoryCreate", "admin: resources", S_ADMIN, "Create an inventory item", "Upsert",
     "InventoryCreate", "201=InventoryRow 400 409 413 500"},
    {"get", "/api/v1/inventory/{id}", "inventoryGet", "admin: resources", S_ADMIN, "An inventory item", "RowId", NULL,
     "200=InventoryRow 400 404 500"},
    {"patch", "/api/v1/inventory/{id}", "inventoryPatch", "admin: resources", S_ADMIN, "Update the given fields",
     "RowId", "InventoryUpdate", "200=InventoryRow 400 404 409 413 500"},
    {"put", "/api/v1/inventory/{id}", "inventoryPut", "admin: resources", S_ADMIN, "Update the given fields (as PATCH)",
     "RowId", "InventoryUpdate", "200=InventoryRow 400 404 409 413 500"},
    {"delete", "/api/v1/inventory/{id}", "inventoryDelete", "admin: resources", S_ADMIN, "Delete an inventory item",
     "RowId", NULL, "200=Deleted 400 404 500"},
    {"get", "/api/v1/usage", "usage", "admin: resources", S_ADMIN,
     "Requests, tokens and cost per tenant, contact and day, newest day first", "Tenant Contact From To Limit", NULL,
     "200=Usage 400 500"},
    // admin: operations
    {"get", "/api/v1/config", "config", "admin: operations", S_ADMIN,
     "The effective configuration of this ingress, secrets masked", NULL, NULL, "200=Config"},
    {"get", "/config", "configSeed", "admin: operations", S_ADMIN, "The same as GET /api/v1/config", NULL, NULL,
     "200=Config"},
    {"get", "/api/v1/health", "tiersHealth", "admin: operations", S_ADMIN,
     "Health of every tier in LULL_HEALTH_TARGETS", NULL, NULL, "200=TierHealth 503=TierHealthDown"},
    {"post", "/api/v1/test/reply", "testReply", "admin: operations", S_ADMIN,
     "Dry run: what the bot would answer to a text (commits nothing)", NULL, "TryRequest",
     "200=TryReply 400 404 413 502 503 504"},
    {"post", "/api/v1/test/analyse", "testAnalyse", "admin: operations", S_ADMIN,
     "Dry run: the analysis of a text only (commits nothing)", NULL, "TryRequest",
     "200=TryAnalysis 400 404 413 502 503 504"},
    {"post", "/api/v1/test/analyze", "testAnalyze", "admin: operations", S_ADMIN, "The same as /api/v1/test/analyse",
     NULL, "TryRequest", "200=TryAnalysis 400 404 413 502 503 504"},
};

// ---------------------------------------------------------------------------------------------------------
// Building

// Copies the next space-separated word of *list into out (cap bytes) and advances *list; false at the end.
static bool s_word(const char **list, char *out, size_t cap)
{
    const char *p = *list ? *list : "";
    while (*p == ' ') p++;
    size_t n = strcspn(p, " ");
    if (n == 0 || n >= cap) return false;
    memcpy(out, p, n);
    out[n] = '\0';
    *list = p + n;
    return true;
}

static cJSON *s_ref(const char *section, const char *name)
{
    char ref[128];
    snprintf(ref, sizeof ref, "#/components/%s/%s", section, name);
    cJSON *o = cJSON_CreateObject();
    if (o && !cJSON_AddStringToObject(o, "$ref", ref)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

typedef struct {
    int status;
    char name[64];
} s_answer_t;

static int s_cmp_answer(const void *a, const void *b)
{
    return ((const s_answer_t *)a)->status - ((const s_answer_t *)b)->status;
}

// The responses object of op: its own answers, plus 401, 403 and 503 for the admin routes, by status.
static cJSON *s_responses(const s_op_t *op)
{
    s_answer_t a[24];
    size_t n = 0;
    char word[80];
    for (const char *p = op->responses; n < 21 && s_word(&p, word, sizeof word);) {
        char *eq = strchr(word, '=');
        a[n].status = atoi(word);
        if (eq) snprintf(a[n].name, sizeof a[n].name, "%s", eq + 1);
        else snprintf(a[n].name, sizeof a[n].name, "Error%d", a[n].status);
        n++;
    }
    static const int admin_statuses[] = {401, 403, 503};
    for (size_t k = 0; op->admin && k < 3; k++) {
        bool have = false;
        for (size_t i = 0; i < n; i++) have = have || a[i].status == admin_statuses[k];
        if (have) continue;
        a[n].status = admin_statuses[k];
        snprintf(a[n].name, sizeof a[n].name, "Error%d", a[n].status);
        n++;
    }
    qsort(a, n, sizeof a[0], s_cmp_answer);
    cJSON *r = cJSON_CreateObject();
    for (size_t i = 0; r && i < n; i++) {
        char key[8];
        snprintf(key, sizeof key, "%d", a[i].status);
        cJSON_AddItemToObject(r, key, s_ref("responses", a[i].name));
    }
    return r;
}

// Adds op to paths (under its path, created on first use). 0/-1.
static int s_add_op(cJSON *paths, const s_op_t *op)
{
    cJSON *item = cJSON_GetObjectItemCaseSensitive(paths, op->path);
    if (!item) item = cJSON_AddObjectToObject(paths, op->path);
    cJSON *o = item ? cJSON_AddObjectToObject(item, op->method) : NULL;
    if (!o) return -1;
    cJSON_AddStringToObject(o, "operationId", op->id);
    cJSON *tags = cJSON_AddArrayToObject(o, "tags");
    if (tags) cJSON_AddItemToArray(tags, cJSON_CreateString(op->tag));
    cJSON_AddStringToObject(o, "summary", op->summary);
    cJSON *security = cJSON_AddArrayToObject(o, "security");  // [] = public
    if (op->admin && security) {
        cJSON *req = cJSON_CreateObject();
        cJSON_AddArrayToObject(req, "bearer");
        cJSON_AddItemToArray(security, req);
    }
    char word[64];
    if (op->params) {
        cJSON *params = cJSON_AddArrayToObject(o, "parameters");
        for (const char *p = op->params; params && s_word(&p, word, sizeof word);)
            cJSON_AddItemToArray(params, s_ref("parameters", word));
    }
    if (op->body) cJSON_AddItemToObject(o, "requestBody", s_ref("requestBodies", op->body));
    return cJSON_AddItemToObject(o, "responses", s_responses(op)) ? 0 : -1;
}

// Moves every member of src into dst: an array is appended to dst's array of the same name, an object merged
// into dst's (levels deep: 2 = components, their sections, then the names in a section), any other name that
// both hold is a clash. 0, or -1 with *clash naming it (borrowed until src is deleted).
static int s_merge(cJSON *dst, cJSON *src, int levels, const char **clash)
{
    for (cJSON *item = src->child, *next; item; item = next) {
        next = item->next;
        cJSON *have = cJSON_GetObjectItemCaseSensitive(dst, item->string);
        if (!have) {
            cJSON_DetachItemViaPointer(src, item);
            if (!cJSON_AddItemToObject(dst, item->string, item)) {
                cJSON_Delete(item);
                return -1;
            }
        } else if (cJSON_IsArray(have) && cJSON_IsArray(item)) {
            for (cJSON *e; (e = cJSON_DetachItemFromArray(item, 0)) != NULL;) cJSON_AddItemToArray(have, e);
        } else if (levels > 0 && cJSON_IsObject(have) && cJSON_IsObject(item)) {
            if (s_merge(have, item, levels - 1, clash) != 0) return -1;
        } else {
            *clash = item->string;
            return -1;
        }
    }
    return 0;
}

// One embedded JSON file, parsed; NULL (logged) when it does not parse.
static cJSON *s_parse(const char *file, const unsigned char *text, size_t len)
{
    char err[160];
    cJSON *doc = lull_json_parse((const char *)text, len, 64, err, sizeof err);
    if (!doc)
        LOG_ERROR("openapi.invalid", "an embedded OpenAPI file does not parse", "file", LS(file), "error", LS(err));
    return doc;
}

// The embedded description (ingress/static/openapi.json with openapi_admin.json merged in) and an empty paths
// object; NULL (logged) when a file does not parse or both define the same thing.
static cJSON *s_parse_static(void)
{
    cJSON *out = NULL;
    cJSON *doc = s_parse("ingress/static/openapi.json", ingress_static_openapi_json, ingress_static_openapi_json_len);
    cJSON *admin = s_parse("ingress/static/openapi_admin.json", ingress_static_openapi_admin_json,
                           ingress_static_openapi_admin_json_len);
    const char *clash = NULL;
    if (!doc || !admin) goto cleanup;
    if (!cJSON_IsObject(doc) || !cJSON_IsObject(admin) || s_merge(doc, admin, 2, &clash) != 0) {
        LOG_ERROR("openapi.invalid", "the embedded OpenAPI files do not merge", "clash", LS(clash ? clash : "-"));
        goto cleanup;
    }
    if (cJSON_HasObjectItem(doc, "paths") || !cJSON_AddObjectToObject(doc, "paths")) goto cleanup;
    out = doc;
    doc = NULL;
cleanup:
    cJSON_Delete(admin);
    cJSON_Delete(doc);
    return out;
}

char *ingress_openapi_json(void)
{
    char *out = NULL;
    cJSON *doc = s_parse_static();
    cJSON *paths = doc ? cJSON_GetObjectItemCaseSensitive(doc, "paths") : NULL;
    cJSON *schemas = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "components"), "schemas");
    if (!paths || !schemas) goto cleanup;
    for (size_t i = 0; i < sizeof s_ops / sizeof s_ops[0]; i++)
        if (s_add_op(paths, &s_ops[i]) != 0) goto cleanup;
    if (ingress_admin_crud_schemas(schemas) != 0) goto cleanup;
    out = cJSON_PrintUnformatted(doc);
cleanup:
    cJSON_Delete(doc);
    return out;
}

struct MHD_Response *ingress_openapi_response(void)
{
    char *doc = ingress_openapi_json();
    if (!doc) {
        LOG_ERROR("openapi.failed", "cannot build the OpenAPI document");
        return NULL;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(doc), doc, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(doc);
        return NULL;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Cache-Control", "public, max-age=300");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    return r;
}
