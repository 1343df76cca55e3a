// GET /openapi.json: the OpenAPI 3.0.3 description of lull-ingress's HTTP port, built once at start-up from
// three parts:
//  - s_ops: one row per operation (method, path, parameters, request body and answers by component name);
//  - s_text: everything the operations refer to (parameters, request bodies, responses, schemas), as JSON
//    written with single quotes so it reads without a backslash per quote: every ' becomes " before it is
//    parsed. So the text holds no apostrophe and no double quote of its own (write \\u0027 and \\u0022);
//  - the tenants / prompts / inventory schemas, rendered from the admin field tables that validate those
//    bodies (ingress_admin_crud_schemas), so they cannot disagree with the code.
// The limits written here are the ones ingress_parse.c, ingress_admin.c and ingress_stream.c enforce;
// tests/it/test_ingress_openapi.sh checks that the document and the route tables list the same routes.
#include "ingress_openapi.h"
#include "ingress_admin_crud.h"
#include "lull_buf.h"
#include "lull_json.h"
#include "lull_log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_OPENAPI_MAX (1 << 20)  // bytes of the joined text: far above what it is, a cap all the same

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
     "200=GenericAccepted 400 404 413 500 503"},
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
    {"get", "/chat", "chatPage", "web chat", S_PUBLIC, "The web chat page", NULL, NULL, "200=ChatPage"},
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

// Everything but the paths. One line per literal (ISO C caps the length of one string literal).
static const char *const s_text[] = {
    "{'openapi': '3.0.3',",
    " 'info': {'title': 'lull-ingress', 'version': '1',",
    "  'description': 'Every route lull-ingress serves on its HTTP port (LULL_HTTP_PORT): channel webhooks, the web ",
    "chat, the admin API (bearer token) and this document. Every error answers `{error: {code, message}}` ",
    "(schema Error): `code` is stable, `message` names the field or parameter. Any route: a body over ",
    "LULL_MAX_BODY_BYTES answers 413 `payload_too_large`, another method 405 `method_not_allowed`, an unknown path ",
    "404 `not_found`; every 503 carries `Retry-After: 1`. String limits are in bytes of UTF-8; text must be valid ",
    "UTF-8 without NUL. An optional field given as null counts as absent. Admin lists page by keyset: pass ",
    "`next_after` back as `after` (null on the last page).'},",
    " 'servers': [{'url': '/'}],",
    " 'tags': [",
    "  {'name': 'service', 'description': 'health of this process, this document'},",
    "  {'name': 'webhooks', 'description': 'channel providers deliver inbound messages here; each is committed to ",
    "PostgreSQL before the 2xx, a repeated delivery (same provider message id) answers 2xx with the stored id'},",
    "  {'name': 'web chat', 'description': 'the browser widget; no authentication: serve it on the widget origin'},",
    "  {'name': 'admin: windows', 'description': 'the scheduler shards: sliding windows waiting to be answered'},",
    "  {'name': 'admin: conversations', 'description': 'conversations, messages, escalations, human replies'},",
    "  {'name': 'admin: dead letters', 'description': 'deliveries that failed for good (or with an unknown outcome)'},",
    "  {'name': 'admin: resources', 'description': 'tenants, prompts, inventory (fields validated by type, range ",
    "and length; unknown fields refused) and usage'},",
    "  {'name': 'admin: operations', 'description': 'configuration, health of the tiers, dry runs on a worker'}],",
    " 'paths': {},",
    " 'components': {",
    "  'securitySchemes': {'bearer': {'type': 'http', 'scheme': 'bearer', 'description': 'Authorization: Bearer ",
    "LULL_ADMIN_TOKEN, compared in constant time. Missing or wrong: 401 unauthorized; LULL_ADMIN_TOKEN unset: 403 ",
    "admin_disabled on every admin route.'}},",

    // parameters
    "  'parameters': {",
    "   'Limit': {'name': 'limit', 'in': 'query', 'description': 'page size',",
    "    'schema': {'type': 'integer', 'minimum': 1, 'maximum': 1000, 'default': 50}},",
    "   'After': {'name': 'after', 'in': 'query', 'description': 'keyset: the next_after of the previous page',",
    "    'schema': {'type': 'integer', 'minimum': 0}},",
    "   'Before': {'name': 'before', 'in': 'query', 'description': 'keyset: the next_before of the previous page',",
    "    'schema': {'type': 'integer', 'minimum': 0}},",
    "   'Tenant': {'name': 'tenant', 'in': 'query', 'description': 'only this tenant (id)',",
    "    'schema': {'type': 'integer', 'minimum': 1}},",
    "   'Channel': {'name': 'channel', 'in': 'query', 'description': 'only this channel',",
    "    'schema': {'$ref': '#/components/schemas/Channel'}},",
    "   'Since': {'name': 'since', 'in': 'query', 'description': 'only rows updated since this ISO 8601 timestamp',",
    "    'schema': {'type': 'string', 'maxLength': 63, 'pattern': '^[0-9:.TZ +-]*$',",
    "     'example': '2026-11-23T10:00:00Z'}},",
    "   'ConversationStatus': {'name': 'status', 'in': 'query', 'description': 'only conversations in this status',",
    "    'schema': {'type': 'string', 'enum': ['open', 'escalated', 'paused', 'closed']}},",
    "   'Q': {'name': 'q', 'in': 'query', 'description': 'case-insensitive substring (literal, not a pattern) of the ",
    "contact external id, first and last name or profile name', 'schema': {'type': 'string', 'maxLength': 255}},",
    "   'EscalationOpen': {'name': 'open', 'in': 'query', 'description': 'true: unresolved only, false: resolved ",
    "only; absent: both', 'schema': {'type': 'boolean'}},",
    "   'OutboxQuery': {'name': 'outbox', 'in': 'query', 'description': 'the outbox row (the sender appends it to ",
    "LULL_TWILIO_STATUS_CALLBACK); without it the MessageSid alone finds the row', 'schema': {'type': 'integer', ",
    "'minimum': 1}},",
    "   'Upsert': {'name': 'upsert', 'in': 'query', 'description': 'true: update the row with the same unique key ",
    "(tenants: slug; inventory: tenant_id and sku) instead of answering 409', 'schema': {'type': 'boolean'}},",
    "   'Contact': {'name': 'contact', 'in': 'query', 'description': 'only this contact (id)',",
    "    'schema': {'type': 'integer', 'minimum': 0}},",
    "   'From': {'name': 'from', 'in': 'query', 'description': 'first day',",
    "    'schema': {'type': 'string', 'format': 'date', 'pattern': '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'}},",
    "   'To': {'name': 'to', 'in': 'query', 'description': 'last day',",
    "    'schema': {'type': 'string', 'format': 'date', 'pattern': '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'}},",
    "   'ConversationId': {'name': 'conversation_id', 'in': 'path', 'required': true, 'description': 'not a ",
    "positive integer: 400 bad_id', 'schema': {'type': 'integer', 'minimum': 1}},",
    "   'DeadLetterId': {'name': 'id', 'in': 'path', 'required': true, 'description': 'the outbox row id',",
    "    'schema': {'type': 'integer', 'minimum': 1}},",
    "   'RowId': {'name': 'id', 'in': 'path', 'required': true, 'description': 'a positive integer of at most 18 ",
    "digits (else 400 bad_id)', 'schema': {'type': 'integer', 'minimum': 1}},",
    "   'SessionId': {'name': 'sessionId', 'in': 'path', 'required': true, 'description': 'from POST ",
    "/api/v1/chat/session; unknown or malformed: 404 unknown_session',",
    "    'schema': {'type': 'string', 'minLength': 1, 'maxLength': 128, 'pattern': '^[A-Za-z0-9_-]+$'}},",
    "   'StreamAfter': {'name': 'after', 'in': 'query', 'description': 'first replay the sent replies after this ",
    "message id (at most LULL_CHAT_HISTORY_LIMIT); without it or Last-Event-ID the stream starts from now',",
    "    'schema': {'type': 'integer', 'minimum': 0}},",
    "   'LastEventId': {'name': 'Last-Event-ID', 'in': 'header', 'description': 'sent by EventSource when it ",
    "reconnects: replay after this message id (wins over after)', 'schema': {'type': 'string', 'pattern': ",
    "'^[0-9]{1,18}$'}},",
    "   'IdempotencyKey': {'name': 'Idempotency-Key', 'in': 'header', 'description': 'the same as the body field ",
    "idempotency_key (both given: they must be equal)', 'schema': {'$ref': '#/components/schemas/IdempotencyKey'}},",
    "   'TwilioSignature': {'name': 'X-Twilio-Signature', 'in': 'header', 'required': true, 'description': 'base64 ",
    "HMAC-SHA1(LULL_TWILIO_AUTH_TOKEN, LULL_PUBLIC_URL + request path and query + the POST parameters sorted by ",
    "name, each name then value). Missing: 400 missing_signature; wrong: 403 invalid_signature; ",
    "LULL_TWILIO_AUTH_TOKEN unset: 403 channel_not_configured (unless LULL_DEV_ALLOW_UNSIGNED=1, development only)',",
    "    'schema': {'type': 'string', 'minLength': 1}},",
    "   'TiktokSignature': {'name': 'Tiktok-Signature', 'in': 'header', 'required': true, 'description': 't=<unix ",
    "seconds>,s=<hex HMAC-SHA256(LULL_TIKTOK_SECRET, t + . + raw body)>, t within LULL_TIKTOK_TOLERANCE_S of now. ",
    "Missing: 400 missing_signature; wrong or stale: 403 invalid_signature; LULL_TIKTOK_SECRET unset: 403 ",
    "channel_not_configured (unless LULL_DEV_ALLOW_UNSIGNED=1)', 'schema': {'type': 'string', 'minLength': 1},",
    "    'example': 't=1700000000,s=5f0c3e9a2d6b41c8e7f9a0b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1'}},",

    // request bodies
    "  'requestBodies': {",
    "   'GenericWebhook': {'required': true, 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/GenericWebhook'}}}},",
    "   'TwilioWebhook': {'required': true, 'content': {'application/x-www-form-urlencoded': {'schema': ",
    "{'$ref': '#/components/schemas/TwilioWebhook'}}}},",
    "   'TwilioStatus': {'required': true, 'content': {'application/x-www-form-urlencoded': {'schema': ",
    "{'$ref': '#/components/schemas/TwilioStatus'}}}},",
    "   'TiktokEvent': {'required': true, 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/TiktokEvent'}}}},",
    "   'ChatSession': {'required': false, 'description': 'may be empty', 'content': {'application/json': ",
    "{'schema': {'$ref': '#/components/schemas/ChatSession'}}}},",
    "   'ChatMessage': {'required': true, 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/ChatMessage'}}}},",
    "   'ProcessChat': {'required': true, 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/ProcessChat'}}}},",
    "   'Handback': {'required': false, 'description': 'may be empty', 'content': {'application/json': ",
    "{'schema': {'$ref': '#/components/schemas/Handback'}}}},",
    "   'HumanReply': {'required': true, 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/HumanReply'}}}},",
    "   'DeadLetterReplay': {'required': true, 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/DeadLetterReplay'}}}},",
    "   'TryRequest': {'required': true, 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/TryRequest'}}}},",
    "   'TenantsCreate': {'required': true, 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/TenantsCreate'}}}},",
    "   'TenantsUpdate': {'required': true, 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/TenantsUpdate'}}}},",
    "   'PromptsCreate': {'required': true, 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/PromptsCreate'}}}},",
    "   'PromptsUpdate': {'required': true, 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/PromptsUpdate'}}}},",
    "   'InventoryCreate': {'required': true, 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/InventoryCreate'}}}},",
    "   'InventoryUpdate': {'required': true, 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/InventoryUpdate'}}}}},",

    // responses
    "  'responses': {",
    "   'Error400': {'description': 'bad request: malformed_json, malformed_form, missing_field, invalid_field, ",
    "invalid_text, missing_signature (webhooks, web chat); bad_json, bad_field, bad_parameter, bad_id, ",
    "bad_reference, empty_filter (admin)', 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/Error'}}}},",
    "   'Error401': {'description': 'unauthorized: no or a wrong bearer token', 'content': {'application/json': ",
    "{'schema': {'$ref': '#/components/schemas/Error'}}}},",
    "   'Error403': {'description': 'invalid_signature, channel_not_configured (webhooks); admin_disabled ",
    "(LULL_ADMIN_TOKEN unset)', 'content': {'application/json': {'schema': {'$ref': '#/components/schemas/Error'}}}},",
    "   'Error404': {'description': 'not_found (row, conversation, window, tenant), unknown_tenant, unknown_session',",
    "    'content': {'application/json': {'schema': {'$ref': '#/components/schemas/Error'}}}},",
    "   'Error409': {'description': 'conflict (unique key), bad_reference (a tenant still referred to), ",
    "not_handed_over, idempotency_conflict', 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/Error'}}}},",
    "   'Error413': {'description': 'payload_too_large: the body is over LULL_MAX_BODY_BYTES', 'content': ",
    "{'application/json': {'schema': {'$ref': '#/components/schemas/Error'}}}},",
    "   'Error415': {'description': 'unsupported_media_type: not application/x-www-form-urlencoded', 'content': ",
    "{'application/json': {'schema': {'$ref': '#/components/schemas/Error'}}}},",
    "   'Error429': {'description': 'too_many_streams: LULL_CHAT_STREAMS_PER_SESSION or LULL_CHAT_STREAMS_MAX ",
    "reached', 'content': {'application/json': {'schema': {'$ref': '#/components/schemas/Error'}}}},",
    "   'Error500': {'description': 'store_failed, query_failed: the database refused the request', 'content': ",
    "{'application/json': {'schema': {'$ref': '#/components/schemas/Error'}}}},",
    "   'Error502': {'description': 'providers_failed: every LLM provider of the tenant failed (the message says ",
    "why)', 'content': {'application/json': {'schema': {'$ref': '#/components/schemas/Error'}}}},",
    "   'Error503': {'description': 'database_unavailable, overloaded, scheduler_unavailable, unavailable (no worker ",
    "connected), shutting_down: nothing was done, retry later', 'headers': {'Retry-After': {'description': ",
    "'seconds', 'schema': {'type': 'integer', 'example': 1}}}, 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/Error'}}}},",
    "   'Error504': {'description': 'timeout: no worker answered within LULL_ADMIN_TRY_TIMEOUT_MS', 'content': ",
    "{'application/json': {'schema': {'$ref': '#/components/schemas/Error'}}}},",
    "   'NoBody': {'description': 'the headers of the GET answer, no body'},",
    "   'Health': {'description': 'this process is up', 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/Health'}}}},",
    "   'OpenApi': {'description': 'this OpenAPI 3.0.3 document', 'headers': {'Cache-Control': {'schema': ",
    "{'type': 'string', 'example': 'public, max-age=300'}}}, 'content': {'application/json': {'schema': ",
    "{'type': 'object'}}}},",
    "   'GenericAccepted': {'description': 'stored (duplicate: a repeated delivery, answered with the stored id)',",
    "    'content': {'application/json': {'schema': {'$ref': '#/components/schemas/GenericAccepted'}}}},",
    "   'TwiML': {'description': 'stored (or a duplicate): an empty TwiML answer', 'content': {'text/xml': ",
    "{'schema': {'type': 'string'}, 'example': '<?xml version=\\\"1.0\\\" encoding=\\\"UTF-8\\\"?><Response/>'}}},",
    "   'StatusRecorded': {'description': 'updated: the row moved forward; false: no sms/whatsapp row has this SID ",
    "(and id), or the status is not newer than the one held', 'content': {'application/json': {'schema': ",
    "{'type': 'object', 'required': ['updated'], 'properties': {'updated': {'type': 'boolean'}, 'outbox_id': ",
    "{'type': 'integer'}}}}}},",
    "   'TiktokAccepted': {'description': 'stored (success, with duplicate) or an event lull does not store ",
    "(ignored)', 'content': {'application/json': {'schema': {'$ref': '#/components/schemas/TiktokAccepted'}}}},",
    "   'ChatSessionCreated': {'description': 'the session (a webchat contact and its conversation)', 'content': ",
    "{'application/json': {'schema': {'$ref': '#/components/schemas/ChatSessionCreated'}}}},",
    "   'ChatMessageAccepted': {'description': 'stored', 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/ChatMessageAccepted'}}}},",
    "   'ChatHistory': {'description': 'both directions, oldest first, the newest LULL_CHAT_HISTORY_LIMIT', ",
    "'content': {'application/json': {'schema': {'$ref': '#/components/schemas/ChatHistory'}}}},",
    "   'ChatStream': {'description': 'Server-Sent Events: opens with retry: 2000 and a : connected comment, then ",
    "one event per sent reply (id = message id, event: message, data: ChatEvent as JSON on one line) and a : ",
    "keep-alive comment every LULL_CHAT_KEEPALIVE_MS', 'headers': {'Cache-Control': {'schema': {'type': 'string', ",
    "'example': 'no-cache'}}}, 'content': {'text/event-stream': {'schema': {'type': 'string'}, 'example': ",
    "'retry: 2000\\n: connected\\n\\nid: 812\\nevent: message\\ndata: {\\\"id\\\":812,\\\"author\\\":\\\"bot\\\",",
    "\\\"body\\\":\\\"Hi! How can I help?\\\",\\\"created_at\\\":\\\"2026-11-23T06:48:01.117Z\\\"}\\n\\n'}}},",
    "   'ChatPage': {'description': 'a self-contained page (no external assets, strict Content-Security-Policy)', ",
    "'content': {'text/html': {'schema': {'type': 'string'}}}},",
    "   'WindowList': {'description': 'a page of windows ordered by conversation id', 'content': ",
    "{'application/json': {'schema': {'$ref': '#/components/schemas/WindowList'}}}},",
    "   'TimerList': {'description': 'a page of windows, seed shape', 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/TimerList'}}}},",
    "   'WindowCancelled': {'description': 'cancelled; the scheduler recorded cancelled_upto', 'content': ",
    "{'application/json': {'schema': {'$ref': '#/components/schemas/WindowCancelled'}}}},",
    "   'WindowFlushed': {'description': 'the window is answered now', 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/WindowFlushed'}}}},",
    "   'ConversationList': {'description': 'a page of conversations', 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/ConversationList'}}}},",
    "   'Conversation': {'description': 'the conversation with its contact and its last 20 messages, analyses and ",
    "escalations', 'content': {'application/json': {'schema': {'$ref': '#/components/schemas/Conversation'}}}},",
    "   'MessageList': {'description': 'a page of messages', 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/MessageList'}}}},",
    "   'HandbackDone': {'description': 'open again; open escalations resolved', 'content': {'application/json': ",
    "{'schema': {'$ref': '#/components/schemas/HandbackDone'}}}},",
    "   'HumanReplyQueued': {'description': 'queued in the outbox (or, for a retry under the same idempotency key, ",
    "the first reply: replayed true)', 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/HumanReplyQueued'}}}},",
    "   'EscalationList': {'description': 'a page of escalations', 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/EscalationList'}}}},",
    "   'DeadLetterList': {'description': 'a page of dead letters, newest first', 'content': {'application/json': ",
    "{'schema': {'$ref': '#/components/schemas/DeadLetterList'}}}},",
    "   'Replayed': {'description': 'back to pending, attempts 0, the same idempotency key', 'content': ",
    "{'application/json': {'schema': {'$ref': '#/components/schemas/Replayed'}}}},",
    "   'Usage': {'description': 'sums per tenant, contact and day', 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/Usage'}}}},",
    "   'TenantsList': {'description': 'a page of tenants', 'content': {'application/json': {'schema': ",
    "{'type': 'object', 'properties': {'tenants': {'type': 'array', 'items': {'$ref': ",
    "'#/components/schemas/TenantsRow'}}, 'next_after': {'type': 'integer', 'nullable': true}}}}}},",
    "   'TenantsRow': {'description': 'the tenant', 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/TenantsRow'}}}},",
    "   'PromptsList': {'description': 'a page of prompts', 'content': {'application/json': {'schema': ",
    "{'type': 'object', 'properties': {'prompts': {'type': 'array', 'items': {'$ref': ",
    "'#/components/schemas/PromptsRow'}}, 'next_after': {'type': 'integer', 'nullable': true}}}}}},",
    "   'PromptsRow': {'description': 'the prompt', 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/PromptsRow'}}}},",
    "   'InventoryList': {'description': 'a page of inventory items', 'content': {'application/json': {'schema': ",
    "{'type': 'object', 'properties': {'inventory': {'type': 'array', 'items': {'$ref': ",
    "'#/components/schemas/InventoryRow'}}, 'next_after': {'type': 'integer', 'nullable': true}}}}}},",
    "   'InventoryRow': {'description': 'the inventory item', 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/InventoryRow'}}}},",
    "   'Deleted': {'description': 'deleted', 'content': {'application/json': {'schema': {'type': 'object', ",
    "'properties': {'deleted': {'type': 'integer'}}}}}},",
    "   'Config': {'description': 'LULL_* setting to its value', 'content': {'application/json': {'schema': ",
    "{'type': 'object', 'additionalProperties': {'type': 'string'}}}}},",
    "   'TierHealth': {'description': 'every tier is up', 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/TierHealth'}}}},",
    "   'TierHealthDown': {'description': 'a tier is down (status degraded)', 'content': {'application/json': ",
    "{'schema': {'$ref': '#/components/schemas/TierHealth'}}}},",
    "   'TryReply': {'description': 'what the bot would answer, and why', 'content': {'application/json': ",
    "{'schema': {'$ref': '#/components/schemas/TryReply'}}}},",
    "   'TryAnalysis': {'description': 'the analysis only', 'content': {'application/json': {'schema': ",
    "{'$ref': '#/components/schemas/TryAnalysis'}}}}},",

    // schemas: errors and shared pieces
    "  'schemas': {",
    "   'Error': {'type': 'object', 'required': ['error'], 'properties': {'error': {'type': 'object', 'required': ",
    "['code', 'message'], 'properties': {'code': {'type': 'string'}, 'message': {'type': 'string'}}}},",
    "    'example': {'error': {'code': 'missing_field', 'message': 'missing required field contact_id'}}},",
    "   'Channel': {'type': 'string', 'enum': ['generic', 'sms', 'whatsapp', 'tiktok', 'webchat']},",
    "   'IdempotencyKey': {'type': 'string', 'pattern': '^[A-Za-z0-9._:-]{1,128}$'},",
    "   'StringOrInteger': {'oneOf': [{'type': 'string', 'maxLength': 1024}, {'type': 'integer', ",
    "'minimum': -9000000000000000, 'maximum': 9000000000000000}]},",
    "   'Media': {'type': 'array', 'items': {'type': 'object', 'properties': {'url': {'type': 'string'}, ",
    "'content_type': {'type': 'string'}}}},",
    "   'Health': {'type': 'object', 'required': ['status'], 'properties': {'status': {'type': 'string', 'enum': ",
    "['ok']}}},",

    // schemas: webhooks and web chat
    "   'GenericWebhook': {'type': 'object', 'required': ['contact_id', 'message'], 'description': 'the whole ",
    "body is kept as the message raw payload (other fields too)', 'properties': {",
    "    'contact_id': {'description': 'the contact (an integer is stored as its decimal text)', 'oneOf': [",
    "{'type': 'string', 'minLength': 1, 'maxLength': 1024}, {'type': 'integer', 'minimum': -9000000000000000, ",
    "'maximum': 9000000000000000}]},",
    "    'message': {'type': 'object', 'required': ['body'], 'properties': {'body': {'type': 'string'}, ",
    "'id': {'description': 'the provider message id: the dedupe key (without one every POST is a new message)', ",
    "'allOf': [{'$ref': '#/components/schemas/StringOrInteger'}]}}},",
    "    'first_name': {'type': 'string', 'maxLength': 1024, 'nullable': true},",
    "    'last_name': {'type': 'string', 'maxLength': 1024, 'nullable': true},",
    "    'tenant': {'type': 'string', 'maxLength': 1024, 'nullable': true, 'description': 'tenant slug (unknown: ",
    "404 unknown_tenant); absent: the default tenant'}},",
    "    'example': {'contact_id': '12345', 'message': {'body': 'hi, I ordered a jacket', 'id': 'm-1'}, ",
    "'first_name': 'Ada', 'last_name': 'Lovelace'}},",
    "   'TwilioWebhook': {'type': 'object', 'required': ['MessageSid', 'From', 'To'], 'description': 'Twilio adds ",
    "fields without notice: every field is signed and kept in the message raw payload', ",
    "'additionalProperties': {'type': 'string'}, 'properties': {",
    "    'MessageSid': {'type': 'string', 'minLength': 1, 'maxLength': 1024, 'description': 'the dedupe key'},",
    "    'From': {'type': 'string', 'minLength': 1, 'maxLength': 1024, 'description': 'whatsapp:+… is the ",
    "whatsapp channel, anything else sms'},",
    "    'To': {'type': 'string', 'minLength': 1, 'maxLength': 1024, 'description': 'the business number: routes ",
    "to the tenant whose twilio_numbers hold it (else the default tenant)'},",
    "    'Body': {'type': 'string'},",
    "    'NumMedia': {'type': 'integer', 'minimum': 0, 'maximum': 100, 'description': 'MediaUrl{N} and ",
    "MediaContentType{N} for N below NumMedia become the message media'},",
    "    'MediaUrl0': {'type': 'string'}, 'MediaContentType0': {'type': 'string'},",
    "    'ProfileName': {'type': 'string', 'description': 'kept on the contact when at most 1024 bytes'},",
    "    'WaId': {'type': 'string'}}},",
    "   'TwilioStatus': {'type': 'object', 'required': ['MessageSid', 'MessageStatus'], ",
    "'additionalProperties': {'type': 'string'}, 'properties': {",
    "    'MessageSid': {'type': 'string', 'pattern': '^[A-Z]{2}[0-9a-fA-F]{32}$'},",
    "    'MessageStatus': {'type': 'string', 'enum': ['accepted', 'scheduled', 'queued', 'sending', 'sent', ",
    "'delivered', 'undelivered', 'failed', 'read', 'canceled', 'partially_delivered']},",
    "    'ErrorCode': {'type': 'string', 'pattern': '^[0-9]{0,10}$'}}},",
    "   'TiktokEvent': {'type': 'object', 'required': ['client_key', 'event'], 'properties': {",
    "    'client_key': {'type': 'string', 'minLength': 1, 'maxLength': 1024, 'description': 'routes to the tenant ",
    "whose tiktok_client_key it is (else the default tenant)'},",
    "    'event': {'type': 'string', 'minLength': 1, 'maxLength': 1024, 'description': 'im_receive_msg (inbound) ",
    "and im_send_msg (a person answering from the TikTok app: stored as a human reply, the bot paused) are ",
    "stored; any other event is answered 200 ignored'},",
    "    'create_time': {'description': 'unix seconds (kept in the raw payload)'},",
    "    'user_openid': {'description': 'kept in the raw payload'},",
    "    'content': {'type': 'string', 'description': 'required for the two message events: a TiktokContent ",
    "object serialised as a JSON string'}}},",
    "   'TiktokContent': {'type': 'object', 'description': 'the decoded content of a TiktokEvent; ids are ",
    "strings (19 digits), numbers are refused', 'required': ['conversation_id', 'message_id', 'from_user', ",
    "'to_user'], 'properties': {",
    "    'conversation_id': {'type': 'string', 'minLength': 1, 'maxLength': 1024},",
    "    'message_id': {'type': 'string', 'minLength': 1, 'maxLength': 1024, 'description': 'the dedupe key'},",
    "    'timestamp': {'type': 'integer', 'description': 'milliseconds'}, 'type': {'type': 'string'},",
    "    'text': {'type': 'object', 'properties': {'body': {'type': 'string'}}},",
    "    'from_user': {'type': 'object', 'required': ['id'], 'properties': {'id': {'type': 'string', 'minLength': 1, ",
    "'maxLength': 1024}}},",
    "    'to_user': {'type': 'object', 'required': ['id'], 'properties': {'id': {'type': 'string', 'minLength': 1, ",
    "'maxLength': 1024}}}}},",
    "   'GenericAccepted': {'type': 'object', 'required': ['status', 'contact_id', 'message_id', 'window', ",
    "'duplicate'], 'properties': {'status': {'type': 'string', 'enum': ['success']}, 'contact_id': {'type': ",
    "'string'}, 'message_id': {'type': 'integer'}, 'window': {'type': 'object', 'properties': {'active': ",
    "{'type': 'boolean'}, 'seconds': {'type': 'integer', 'description': 'the tenant window for this channel, whole ",
    "seconds rounded up'}, 'ms': {'type': 'integer', 'description': 'the tenant window for this channel, ms'}}}, ",
    "'duplicate': {'type': 'boolean'}}},",
    "   'TiktokAccepted': {'type': 'object', 'required': ['status'], 'properties': {'status': {'type': 'string', ",
    "'enum': ['success', 'ignored']}, 'message_id': {'type': 'integer'}, 'duplicate': {'type': 'boolean'}}},",
    "   'ChatSession': {'type': 'object', 'properties': {'userId': {'$ref': '#/components/schemas/StringOrInteger'},",
    "    'metadata': {'type': 'object', 'nullable': true, 'description': 'kept on the contact'},",
    "    'tenant': {'type': 'string', 'maxLength': 1024, 'nullable': true, 'description': 'tenant slug (unknown: ",
    "404 unknown_tenant); absent: the default tenant'}}},",
    "   'ChatSessionCreated': {'type': 'object', 'required': ['sessionId'], 'properties': {'sessionId': ",
    "{'type': 'string', 'example': 'ws_3f2a9c0d1b7e4a6f8c2d0e1f3a5b7c9d'}}},",
    "   'ChatMessage': {'type': 'object', 'required': ['sessionId', 'message'], 'properties': {",
    "    'sessionId': {'type': 'string', 'minLength': 1, 'maxLength': 1024},",
    "    'message': {'type': 'string'},",
    "    'userId': {'description': 'when the session has another userId: 404 unknown_session', 'allOf': [",
    "{'$ref': '#/components/schemas/StringOrInteger'}]}}},",
    "   'ChatMessageAccepted': {'type': 'object', 'required': ['status', 'sessionId', 'messageId', 'duplicate'], ",
    "'properties': {'status': {'type': 'string', 'enum': ['success']}, 'sessionId': {'type': 'string'}, ",
    "'messageId': {'type': 'integer'}, 'duplicate': {'type': 'boolean'}}},",
    "   'ChatHistory': {'type': 'object', 'required': ['sessionId', 'conversationId', 'messages'], 'properties': {",
    "    'sessionId': {'type': 'string'}, 'conversationId': {'type': 'integer'},",
    "    'messages': {'type': 'array', 'items': {'type': 'object', 'properties': {'id': {'type': 'integer'}, ",
    "'role': {'type': 'string', 'enum': ['user', 'assistant']}, 'direction': {'type': 'string', 'enum': ['in', ",
    "'out']}, 'author': {'type': 'string', 'enum': ['contact', 'bot', 'human', 'system']}, 'body': {'type': ",
    "'string'}, 'media': {'$ref': '#/components/schemas/Media'}, 'createdAt': {'type': 'string'}}}}}},",
    "   'ChatEvent': {'type': 'object', 'description': 'the data of one stream event', 'properties': {'id': ",
    "{'type': 'integer'}, 'author': {'type': 'string', 'enum': ['bot', 'human']}, 'body': {'type': 'string'}, ",
    "'created_at': {'type': 'string', 'format': 'date-time'}}},",

    // schemas: admin
    "   'ProcessChat': {'type': 'object', 'required': ['conversation_id'], 'properties': {'conversation_id': ",
    "{'oneOf': [{'type': 'integer', 'minimum': 1}, {'type': 'string', 'pattern': '^0*[1-9][0-9]*$'}]}}},",
    "   'Window': {'type': 'object', 'properties': {'conversation_id': {'type': 'integer'}, 'tenant_id': {'type': ",
    "'integer'}, 'channel': {'$ref': '#/components/schemas/Channel'}, 'messages': {'type': 'integer'}, ",
    "'seconds_left': {'type': 'number'}, 'state': {'type': 'string', 'enum': ['waiting', 'ready', 'backoff', ",
    "'in_flight']}}},",
    "   'WindowList': {'type': 'object', 'properties': {'windows': {'type': 'array', 'items': {'$ref': ",
    "'#/components/schemas/Window'}}, 'total': {'type': 'integer'}, 'next_after': {'type': 'integer', 'nullable': ",
    "true}}},",
    "   'TimerList': {'type': 'object', 'properties': {'timers': {'type': 'array', 'items': {'type': 'object', ",
    "'properties': {'conversation_id': {'type': 'integer'}, 'seconds_left': {'type': 'number'}}}}, 'total': ",
    "{'type': 'integer'}, 'next_after': {'type': 'integer', 'nullable': true}}},",
    "   'WindowCancelled': {'type': 'object', 'properties': {'cancelled': {'type': 'integer'}, 'upto': {'type': ",
    "'integer', 'description': 'the last message id of the cancelled burst'}}},",
    "   'WindowFlushed': {'type': 'object', 'properties': {'flushed': {'type': 'integer'}}},",
    "   'Contact': {'type': 'object', 'properties': {'id': {'type': 'integer'}, 'channel': {'$ref': ",
    "'#/components/schemas/Channel'}, 'external_id': {'type': 'string'}, 'first_name': {'type': 'string', ",
    "'nullable': true}, 'last_name': {'type': 'string', 'nullable': true}, 'profile_name': {'type': 'string', ",
    "'nullable': true}, 'phone': {'type': 'string', 'nullable': true}, 'metadata': {'type': 'object', ",
    "'nullable': true}}},",
    "   'ConversationSummary': {'type': 'object', 'properties': {'id': {'type': 'integer'}, 'tenant_id': {'type': ",
    "'integer'}, 'channel': {'$ref': '#/components/schemas/Channel'}, 'status': {'type': 'string', 'enum': ",
    "['open', 'escalated', 'paused', 'closed']}, 'last_inbound_id': {'type': 'integer', 'nullable': true}, ",
    "'answered_upto': {'type': 'integer', 'nullable': true}, 'cancelled_upto': {'type': 'integer', 'nullable': ",
    "true}, 'paused_until': {'type': 'string', 'nullable': true}, 'last_inbound_at': {'type': 'string', ",
    "'nullable': true}, 'last_reply_at': {'type': 'string', 'nullable': true}, 'escalated_at': {'type': ",
    "'string', 'nullable': true}, 'escalation_reason': {'type': 'string', 'nullable': true}, 'contact': ",
    "{'$ref': '#/components/schemas/Contact'}}},",
    "   'ConversationList': {'type': 'object', 'properties': {'conversations': {'type': 'array', 'items': {'$ref': ",
    "'#/components/schemas/ConversationSummary'}}, 'next_after': {'type': 'integer', 'nullable': true}}},",
    "   'Conversation': {'allOf': [{'$ref': '#/components/schemas/ConversationSummary'}, {'type': 'object', ",
    "'properties': {'business_address': {'type': 'string', 'nullable': true}, 'external_conversation_id': ",
    "{'type': 'string', 'nullable': true}, 'failed_attempts': {'type': 'integer'}, 'created_at': {'type': ",
    "'string'}, 'messages': {'type': 'array', 'items': {'$ref': '#/components/schemas/Message'}}, 'analyses': ",
    "{'type': 'array', 'items': {'type': 'object'}}, 'escalations': {'type': 'array', 'items': {'$ref': ",
    "'#/components/schemas/Escalation'}}}}]},",
    "   'Message': {'type': 'object', 'properties': {'id': {'type': 'integer'}, 'direction': {'type': 'string', ",
    "'enum': ['in', 'out']}, 'author': {'type': 'string', 'enum': ['contact', 'bot', 'human', 'system']}, ",
    "'body': {'type': 'string'}, 'media': {'$ref': '#/components/schemas/Media'}, 'provider_message_id': ",
    "{'type': 'string', 'nullable': true}, 'created_at': {'type': 'string'}, 'delivery': {'type': 'object', ",
    "'nullable': true, 'description': 'outbound messages: their outbox row', 'properties': {'outbox_id': ",
    "{'type': 'integer'}, 'status': {'type': 'string'}, 'attempts': {'type': 'integer'}, 'sent_at': ",
    "{'type': 'string', 'nullable': true}, 'last_error': {'type': 'string', 'nullable': true}, ",
    "'delivery_status': {'type': 'string', 'nullable': true}, 'delivery_error': {'type': 'string', ",
    "'nullable': true}}}}},",
    "   'MessageList': {'type': 'object', 'properties': {'messages': {'type': 'array', 'items': {'$ref': ",
    "'#/components/schemas/Message'}}, 'next_after': {'type': 'integer', 'nullable': true}}},",
    "   'Handback': {'type': 'object', 'properties': {'answer_pending': {'type': 'boolean', 'nullable': true, ",
    "'description': 'true: the messages that arrived meanwhile are answered by the next sweep; default false: ",
    "they are not answered late'}}},",
    "   'HandbackDone': {'type': 'object', 'properties': {'id': {'type': 'integer'}, 'status': {'type': 'string', ",
    "'enum': ['open']}, 'cancelled_upto': {'type': 'integer', 'nullable': true}, 'last_inbound_id': {'type': ",
    "'integer', 'nullable': true}, 'answered_upto': {'type': 'integer', 'nullable': true}, ",
    "'escalations_resolved': {'type': 'integer'}, 'answer_pending': {'type': 'boolean'}}},",
    "   'HumanReply': {'type': 'object', 'required': ['body'], 'properties': {'body': {'type': 'string', ",
    "'minLength': 1, 'maxLength': 4096}, 'idempotency_key': {'$ref': '#/components/schemas/IdempotencyKey'}}},",
    "   'HumanReplyQueued': {'type': 'object', 'required': ['message_id', 'outbox_id', 'paused_until'], ",
    "'properties': {'message_id': {'type': 'integer'}, 'outbox_id': {'type': 'integer'}, 'paused_until': ",
    "{'type': 'string', 'description': 'the bot is paused until then'}, 'replayed': {'type': 'boolean'}, ",
    "'status': {'type': 'string', 'description': 'replayed: the outbox row status'}}},",
    "   'Escalation': {'type': 'object', 'properties': {'id': {'type': 'integer'}, 'conversation_id': {'type': ",
    "'integer'}, 'tenant_id': {'type': 'integer'}, 'reason': {'type': 'string', 'nullable': true}, 'source': ",
    "{'type': 'string', 'nullable': true}, 'created_at': {'type': 'string'}, 'resolved_at': {'type': 'string', ",
    "'nullable': true}, 'status': {'type': 'string', 'description': 'the conversation status'}}},",
    "   'EscalationList': {'type': 'object', 'properties': {'escalations': {'type': 'array', 'items': {'$ref': ",
    "'#/components/schemas/Escalation'}}, 'next_after': {'type': 'integer', 'nullable': true}}},",
    "   'DeadLetter': {'type': 'object', 'properties': {'id': {'type': 'integer'}, 'tenant_id': {'type': ",
    "'integer'}, 'conversation_id': {'type': 'integer', 'nullable': true}, 'message_id': {'type': 'integer', ",
    "'nullable': true}, 'channel': {'$ref': '#/components/schemas/Channel'}, 'recipient': {'type': 'string'}, ",
    "'status': {'type': 'string', 'enum': ['dead', 'unknown']}, 'attempts': {'type': 'integer'}, ",
    "'last_status': {'type': 'integer', 'nullable': true}, 'last_error': {'type': 'string', 'nullable': true}, ",
    "'idempotency_key': {'type': 'string'}, 'updated_at': {'type': 'string'}}},",
    "   'DeadLetterList': {'type': 'object', 'properties': {'dead_letters': {'type': 'array', 'items': {'$ref': ",
    "'#/components/schemas/DeadLetter'}}, 'next_before': {'type': 'integer', 'nullable': true}}},",
    "   'DeadLetterReplay': {'type': 'object', 'description': 'an empty filter is refused (400 empty_filter) ",
    "unless all is true', 'properties': {'tenant': {'description': 'tenant id', 'oneOf': [{'type': 'integer', ",
    "'minimum': 1}, {'type': 'string', 'pattern': '^0*[1-9][0-9]*$'}]}, 'channel': {'$ref': ",
    "'#/components/schemas/Channel'}, 'since': {'type': 'string', 'maxLength': 63, 'pattern': ",
    "'^[0-9:.TZ +-]*$', 'description': 'ISO 8601 timestamp'}, 'all': {'type': 'boolean'}}},",
    "   'Replayed': {'type': 'object', 'required': ['replayed'], 'properties': {'replayed': {'type': 'integer'}, ",
    "'id': {'type': 'integer'}}},",
    "   'Usage': {'type': 'object', 'properties': {'usage': {'type': 'array', 'items': {'type': 'object', ",
    "'properties': {'tenant_id': {'type': 'integer'}, 'contact_id': {'type': 'integer'}, 'day': {'type': ",
    "'string', 'format': 'date'}, 'requests': {'type': 'integer'}, 'prompt_tokens': {'type': 'integer'}, ",
    "'completion_tokens': {'type': 'integer'}, 'cost_usd': {'type': 'number'}}}}}},",
    "   'TierHealth': {'type': 'object', 'required': ['status', 'tiers'], 'properties': {'status': {'type': ",
    "'string', 'enum': ['ok', 'degraded']}, 'tiers': {'type': 'object', 'description': 'ingress (this process) ",
    "and every LULL_HEALTH_TARGETS name', 'additionalProperties': {'type': 'object', 'properties': {'status': ",
    "{'type': 'string', 'enum': ['ok', 'down']}, 'http_status': {'type': 'integer'}, 'detail': {'description': ",
    "'the tier /health answer'}}}}}},",
    "   'TryRequest': {'type': 'object', 'required': ['text'], 'properties': {",
    "    'text': {'type': 'string', 'minLength': 1, 'maxLength': 4000, 'description': 'what the customer writes'},",
    "    'tenant': {'type': 'string', 'maxLength': 64, 'description': 'tenant slug (default: default; unknown: ",
    "404)'},",
    "    'tenant_id': {'type': 'integer', 'minimum': 1, 'description': 'tenant id (wins over tenant)'}},",
    "    'example': {'text': 'Do you have a rain jacket in stock?', 'tenant': 'default'}},",
    "   'Analysis': {'type': 'object', 'properties': {'sentiment': {'type': 'string', 'enum': ['positive', ",
    "'neutral', 'negative']}, 'confidence': {'type': 'number', 'minimum': 0, 'maximum': 1}, 'intent': {'type': ",
    "'string'}, 'entities': {'type': 'object'}, 'priority': {'type': 'string', 'enum': ['low', 'normal', 'high', ",
    "'urgent']}, 'escalate': {'type': 'boolean'}, 'escalate_reason': {'type': 'string'}, 'moderation': {'type': ",
    "'object'}, 'extracted': {'type': 'object'}}},",
    "   'TryUsage': {'type': 'array', 'description': 'what the dry run cost (not counted in the usage table)', ",
    "'items': {'type': 'object', 'properties': {'provider': {'type': 'string'}, 'model': {'type': 'string'}, ",
    "'requests': {'type': 'integer'}, 'tokens_in': {'type': 'integer'}, 'tokens_out': {'type': 'integer'}, ",
    "'latency_ms': {'type': 'integer'}, 'cost_usd': {'type': 'number'}}}},",
    "   'TryReply': {'type': 'object', 'properties': {'mode': {'type': 'string', 'enum': ['reply']}, 'tenant_id': ",
    "{'type': 'integer'}, 'outcome': {'type': 'string'}, 'detail': {'type': 'string'}, 'reply': {'type': ",
    "'string', 'nullable': true}, 'kind': {'type': 'string', 'nullable': true}, 'provider': {'type': 'string'}, ",
    "'model': {'type': 'string'}, 'escalation': {'type': 'object', 'nullable': true, 'properties': {'source': ",
    "{'type': 'string'}, 'reason': {'type': 'string'}}}, 'analysis': {'allOf': [{'$ref': ",
    "'#/components/schemas/Analysis'}], 'nullable': true}, 'analysis_provider': {'type': 'string'}, 'usage': ",
    "{'$ref': '#/components/schemas/TryUsage'}, 'ms': {'type': 'integer'}}},",
    "   'TryAnalysis': {'type': 'object', 'properties': {'mode': {'type': 'string', 'enum': ['analyse']}, ",
    "'tenant_id': {'type': 'integer'}, 'analysis': {'$ref': '#/components/schemas/Analysis'}, ",
    "'analysis_provider': {'type': 'string'}, 'model': {'type': 'string'}, 'usage': {'$ref': ",
    "'#/components/schemas/TryUsage'}, 'ms': {'type': 'integer'}}}}}}",
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

// The static text with ' turned into ", parsed; NULL (logged) when it does not parse.
static cJSON *s_parse_text(void)
{
    lull_buf_t b;
    lull_buf_init(&b, S_OPENAPI_MAX, false);
    for (size_t i = 0; i < sizeof s_text / sizeof s_text[0]; i++) lull_buf_puts(&b, s_text[i]);
    if (b.failed) {
        lull_buf_reset(&b);
        return NULL;
    }
    for (char *p = b.data; *p; p++)
        if (*p == '\'') *p = '"';
    char err[160];
    cJSON *doc = lull_json_parse(b.data, b.len, 64, err, sizeof err);
    if (!doc) LOG_ERROR("openapi.invalid", "the embedded OpenAPI text does not parse", "error", LS(err));
    lull_buf_reset(&b);
    return doc;
}

char *ingress_openapi_json(void)
{
    char *out = NULL;
    cJSON *doc = s_parse_text();
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
