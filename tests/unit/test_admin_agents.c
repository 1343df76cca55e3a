// Agent tokens: the slow hash (PBKDF2-HMAC-SHA256, with the RFC 7914 vector), the token format, the HTTP
// thread's credentials check (bootstrap token in constant time, lockout after too many failures) and the
// cache of verified tokens.
#include "../../admin/admin_agents.h"
#include "../../admin/admin_auth.h"
#include "../../admin/admin_http.h"
#include "../../admin/admin_routes.h"
#include "lull_json.h"
#include "lull_crypto.h"
#include "lull_test.h"

#include <stdlib.h>

LULL_TEST(kdf_vector_and_format)
{
    // RFC 7914 section 11: PBKDF2-HMAC-SHA256 (P="Password", S="NaCl", c=80000), first 32 bytes
    const char *stored = "pbkdf2-sha256$80000$TmFDbA==$TdzY9guYviGDDO5e8icB+WQaRBjQTAQUrv8Ih2s0q1Y=";
    LULL_CHECK(lull_kdf_verify("Password", 8, stored));
    LULL_CHECK(!lull_kdf_verify("password", 8, stored));
    LULL_CHECK(!lull_kdf_verify("Password", 7, stored));
    // malformed or out-of-bounds stored forms are refused, never trusted
    LULL_CHECK(!lull_kdf_verify("Password", 8, "pbkdf2-sha256$80000$TmFDbA==$TdzY9guYviGDDO5e8icB+WQaRBjQTAQUrv8Ih2s0"));
    LULL_CHECK(!lull_kdf_verify("Password", 8, "pbkdf2-sha1$80000$TmFDbA==$TdzY9guYviGDDO5e8icB+WQaRBjQTAQUrv8Ih2s0q1Y="));
    LULL_CHECK(!lull_kdf_verify("Password", 8, "pbkdf2-sha256$1$TmFDbA==$TdzY9guYviGDDO5e8icB+WQaRBjQTAQUrv8Ih2s0q1Y="));
    LULL_CHECK(!lull_kdf_verify("Password", 8, "pbkdf2-sha256$99999999999$TmFDbA==$x"));
    LULL_CHECK(!lull_kdf_verify("Password", 8, "pbkdf2-sha256$80000$TmFDbA=="));
    LULL_CHECK(!lull_kdf_verify("Password", 8, ""));
    LULL_CHECK(!lull_kdf_verify("Password", 8, NULL));
}

LULL_TEST(kdf_hash_then_verify)
{
    char a[LULL_KDF_HASH_MAX], b[LULL_KDF_HASH_MAX];
    LULL_CHECK_EQ_INT(lull_kdf_hash("s3cret", 6, LULL_KDF_ITERATIONS_MIN, a, sizeof a), 0);
    LULL_CHECK_EQ_INT(lull_kdf_hash("s3cret", 6, LULL_KDF_ITERATIONS_MIN, b, sizeof b), 0);
    LULL_CHECK(strncmp(a, "pbkdf2-sha256$1000$", 19) == 0);
    LULL_CHECK(strcmp(a, b) != 0);  // a fresh salt each time
    LULL_CHECK(lull_kdf_verify("s3cret", 6, a));
    LULL_CHECK(lull_kdf_verify("s3cret", 6, b));
    LULL_CHECK(!lull_kdf_verify("s3cre7", 6, a));
    LULL_CHECK(lull_kdf_hash("s3cret", 6, 10, a, sizeof a) != 0);  // too few rounds to be made
    LULL_CHECK(lull_kdf_hash("s3cret", 6, 1000, a, 20) != 0);      // no room
    // the production cost is what new hashes get
    LULL_CHECK(LULL_KDF_ITERATIONS >= 200000);
    LULL_CHECK_EQ_INT(lull_kdf_hash("t", 1, LULL_KDF_ITERATIONS, a, sizeof a), 0);
    LULL_CHECK(strncmp(a, "pbkdf2-sha256$210000$", 21) == 0);
    LULL_CHECK(lull_kdf_verify("t", 1, a));
}

LULL_TEST(base64url)
{
    char out[16];
    const uint8_t in[] = {0xfb, 0xff, 0xbf};
    LULL_CHECK_EQ_INT(lull_base64url_encode(in, 3, out, sizeof out), 4);
    LULL_CHECK_EQ_STR(out, "-_-_");
    LULL_CHECK_EQ_INT(lull_base64url_encode(in, 1, out, sizeof out), 2);  // no padding
    LULL_CHECK_EQ_STR(out, "-w");
}

LULL_TEST(token_parse)
{
    const char *secret = NULL;
    int64_t id = 0;
    const char *good = "lla_42_AbCdEfGhIjKlMnOpQrStUvWxYz01234567890123-_A";
    LULL_CHECK_EQ_INT(strlen(good + 7), ADMIN_AGENTS_SECRET_LEN);
    LULL_CHECK(admin_agents_token_parse(good, &id, &secret));
    LULL_CHECK_EQ_INT(id, 42);
    LULL_CHECK(secret == good + 7);
    LULL_CHECK(!admin_agents_token_parse("lla_42_AbCdEfGhIjKlMnOpQrStUvWxYz01234567890123-_", NULL, NULL));    // short
    LULL_CHECK(!admin_agents_token_parse("lla_42_AbCdEfGhIjKlMnOpQrStUvWxYz01234567890123-_AB", NULL, NULL));  // long
    LULL_CHECK(!admin_agents_token_parse("lla_42_AbCdEfGhIjKlMnOpQrStUvWxYz01234567890123+/A", NULL, NULL));   // not url
    LULL_CHECK(!admin_agents_token_parse("lla_042_AbCdEfGhIjKlMnOpQrStUvWxYz01234567890123-_A", NULL, NULL));  // zero
    LULL_CHECK(!admin_agents_token_parse("lla__AbCdEfGhIjKlMnOpQrStUvWxYz01234567890123-_A", NULL, NULL));
    LULL_CHECK(!admin_agents_token_parse("lla_1234567890123456789_AbCdEfGhIjKlMnOpQrStUvWxYz01234567890123-_A", NULL, NULL));
    LULL_CHECK(!admin_agents_token_parse("llb_42_AbCdEfGhIjKlMnOpQrStUvWxYz01234567890123-_A", NULL, NULL));
    LULL_CHECK(!admin_agents_token_parse("", NULL, NULL));
    LULL_CHECK(!admin_agents_token_parse(NULL, NULL, NULL));
}

static admin_auth_t *s_auth(int64_t fail_max)
{
    admin_auth_cfg_t c = {.fail_max = fail_max, .window_ms = 1000, .lock_ms = 5000, .addresses = 16, .cache_ms = 100,
                          .cache_max = 4};
    return admin_auth_new(&c);
}

LULL_TEST(check_bootstrap_and_lockout)
{
    admin_auth_t *auth = s_auth(2);
    LULL_CHECK(auth != NULL);
    admin_req_t req;
    memset(&req, 0, sizeof req);
    snprintf(req.client, sizeof req.client, "127.0.0.9");
    // the bootstrap token (constant-time path): the admin
    LULL_CHECK_EQ_INT(admin_agents_check(auth, "boot", "Bearer boot", &req), ADMIN_AGENTS_OK);
    LULL_CHECK_EQ_STR(admin_req_agent(&req)->name, "admin");
    LULL_CHECK(admin_req_agent(&req)->admin);
    LULL_CHECK_EQ_INT(admin_req_agent(&req)->id, 0);
    // an agent token is left to the admin thread, with or without a bootstrap token
    memset(&req.agent, 0, sizeof req.agent);
    const char *agent = "Bearer lla_7_AbCdEfGhIjKlMnOpQrStUvWxYz01234567890123-_A";
    LULL_CHECK_EQ_INT(admin_agents_check(auth, "", agent, &req), ADMIN_AGENTS_VERIFY);
    LULL_CHECK(req.authorization == agent + 7);
    LULL_CHECK(!req.agent.admin);
    LULL_CHECK_EQ_INT(admin_agents_check(auth, "", "Bearer boot", &req), ADMIN_AGENTS_DISABLED);
    // wrong tokens: a prefix, a longer one, another scheme; no header at all is refused but not counted (nothing
    // was guessed); the third failure (fail_max 2) locks the address
    LULL_CHECK_EQ_INT(admin_agents_check(auth, "boot", "Bearer boo", &req), ADMIN_AGENTS_REFUSED);
    for (int i = 0; i < 5; i++) LULL_CHECK_EQ_INT(admin_agents_check(auth, "boot", NULL, &req), ADMIN_AGENTS_REFUSED);
    LULL_CHECK_EQ_INT(admin_agents_check(auth, "boot", "Bearer boots", &req), ADMIN_AGENTS_REFUSED);
    LULL_CHECK_EQ_INT(admin_agents_check(auth, "boot", "Basic Ym9vdA==", &req), ADMIN_AGENTS_LOCKED);
    LULL_CHECK(req.retry_after_s >= 4 && req.retry_after_s <= 5);
    // locked: even the right token is refused from that address; another address is not
    LULL_CHECK_EQ_INT(admin_agents_check(auth, "boot", "Bearer boot", &req), ADMIN_AGENTS_LOCKED);
    snprintf(req.client, sizeof req.client, "127.0.0.10");
    LULL_CHECK_EQ_INT(admin_agents_check(auth, "boot", "Bearer boot", &req), ADMIN_AGENTS_OK);
    admin_auth_destroy(&auth);
    LULL_CHECK(auth == NULL);
}

LULL_TEST(lockout_window_and_bounded_table)
{
    admin_auth_t *auth = s_auth(2);
    // failures spread over more than the window never lock
    LULL_CHECK_EQ_INT(admin_auth_failed(auth, "a", 0), 0);
    LULL_CHECK_EQ_INT(admin_auth_failed(auth, "a", 600), 0);
    LULL_CHECK_EQ_INT(admin_auth_failed(auth, "a", 1200), 0);  // a new window began at 1200
    LULL_CHECK_EQ_INT(admin_auth_failed(auth, "a", 1300), 0);
    LULL_CHECK_EQ_INT(admin_auth_failed(auth, "a", 1400), 5000);
    LULL_CHECK_EQ_INT(admin_auth_locked_ms(auth, "a", 1400), 5000);
    LULL_CHECK_EQ_INT(admin_auth_locked_ms(auth, "a", 6399), 1);
    LULL_CHECK_EQ_INT(admin_auth_locked_ms(auth, "a", 6400), 0);  // the lock ends
    LULL_CHECK_EQ_INT(admin_auth_failed(auth, "a", 6400), 0);     // and counting starts again
    // a flood of addresses: the table keeps 16 slots; old entries give way, nothing grows, nothing crashes
    char addr[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(addr, sizeof addr, "10.0.%d.%d", i / 256, i % 256);
        (void)admin_auth_failed(auth, addr, 7000 + i);
    }
    LULL_CHECK_EQ_INT(admin_auth_locked_ms(auth, "never-seen", 20000), 0);
    admin_auth_destroy(&auth);
}

LULL_TEST(verified_token_cache)
{
    admin_auth_t *auth = s_auth(10);
    uint8_t t1[32], t2[32], h1[32], h2[32];
    lull_sha256("token one", 9, t1);
    lull_sha256("token two", 9, t2);
    lull_sha256("hash one", 8, h1);
    lull_sha256("hash two", 8, h2);
    LULL_CHECK(!admin_auth_cache_hit(auth, t1, 1, h1, 0));
    admin_auth_cache_put(auth, t1, 1, h1, 0);
    LULL_CHECK(admin_auth_cache_hit(auth, t1, 1, h1, 99));
    LULL_CHECK(!admin_auth_cache_hit(auth, t1, 1, h1, 100));  // cache_ms 100: expired
    LULL_CHECK(!admin_auth_cache_hit(auth, t2, 1, h1, 50));   // another token
    LULL_CHECK(!admin_auth_cache_hit(auth, t1, 2, h1, 50));   // another agent
    LULL_CHECK(!admin_auth_cache_hit(auth, t1, 1, h2, 50));   // the stored hash changed
    admin_auth_cache_put(auth, t1, 1, h1, 200);
    admin_auth_cache_put(auth, t2, 2, h2, 200);
    admin_auth_cache_forget(auth, 1);  // revoked
    LULL_CHECK(!admin_auth_cache_hit(auth, t1, 1, h1, 250));
    LULL_CHECK(admin_auth_cache_hit(auth, t2, 2, h2, 250));
    for (int i = 0; i < 10; i++) admin_auth_cache_put(auth, t1, 100 + i, h1, 260 + i);  // more than cache_max
    LULL_CHECK(admin_auth_cache_hit(auth, t1, 109, h1, 280));
    admin_auth_destroy(&auth);
    admin_auth_cfg_t off = {.fail_max = 1, .window_ms = 1, .lock_ms = 1, .addresses = 16, .cache_ms = 0, .cache_max = 4};
    auth = admin_auth_new(&off);
    admin_auth_cache_put(auth, t1, 1, h1, 0);
    LULL_CHECK(!admin_auth_cache_hit(auth, t1, 1, h1, 0));  // cache off: always the slow hash
    admin_auth_destroy(&auth);
}

// The role of each route: the conversation work is open to agents, everything that configures lull or reads
// across tenants needs role admin, and the OpenAPI document says so per operation.
LULL_TEST(route_roles)
{
    static const char *const agent_ops[] = {"conversationsList", "conversationShow", "conversationMessages",
                                            "conversationHandback", "conversationReply", "escalationsList",
                                            "agentsMe", NULL};
    static const char *const admin_prefixes[] = {"/api/v1/tenants", "/api/v1/prompts", "/api/v1/inventory",
                                                 "/api/v1/usage", "/api/v1/config", "/api/v1/dead-letters",
                                                 "/api/v1/windows", "/api/v1/test/", "/api/v1/health", "/timers",
                                                 "/process-chat", "/config", "/api/v1/ai/", NULL};
    for (int r = 0; r < ADMIN_R_COUNT; r++) {
        const lull_route_t *row = &admin_routes[r];
        bool agent = false;
        for (int i = 0; agent_ops[i]; i++) agent = agent || strcmp(agent_ops[i], row->op_id) == 0;
        if (agent) LULL_CHECK_EQ_INT(row->auth, LULL_AUTH_AGENT);
        for (int i = 0; admin_prefixes[i]; i++)
            if (strncmp(row->path, admin_prefixes[i], strlen(admin_prefixes[i])) == 0)
                LULL_CHECK_EQ_INT(row->auth, LULL_AUTH_ADMIN);
        if (strncmp(row->path, "/api/v1/agents", 14) == 0 && !agent) LULL_CHECK_EQ_INT(row->auth, LULL_AUTH_ADMIN);
    }
    LULL_CHECK_EQ_INT(LULL_AUTH_BEARER, LULL_AUTH_ADMIN);  // a row that only says "bearer" is admin-only
    char *doc = admin_http_openapi_json();
    char err[128];
    cJSON *d = doc ? lull_json_parse(doc, strlen(doc), 64, err, sizeof err) : NULL;
    LULL_CHECK(d != NULL);
    const cJSON *paths = cJSON_GetObjectItemCaseSensitive(d, "paths");
    const cJSON *reply = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(paths, "/api/v1/conversations/{conversation_id}/reply"), "post");
    const cJSON *tenants = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(paths, "/api/v1/tenants"), "get");
    const cJSON *health = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(paths, "/health"), "get");
    LULL_CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(reply, "x-required-role")), "agent");
    LULL_CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tenants, "x-required-role")), "admin");
    LULL_CHECK(health && !cJSON_GetObjectItemCaseSensitive(health, "x-required-role"));
    LULL_CHECK(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tenants, "responses"), "429") != NULL);
    cJSON_Delete(d);
    free(doc);
}

int main(void)
{
    LULL_RUN(kdf_vector_and_format);
    LULL_RUN(kdf_hash_then_verify);
    LULL_RUN(base64url);
    LULL_RUN(token_parse);
    LULL_RUN(check_bootstrap_and_lockout);
    LULL_RUN(lockout_window_and_bounded_table);
    LULL_RUN(verified_token_cache);
    LULL_RUN(route_roles);
    return lull_test_summary();
}
