// Agents: tokens, roles and the agents routes (admin_agents.h). A token is "lla_<id>_<secret>": the id finds
// the row without a scan, the secret is checked against the row's salted slow hash (lull_kdf_verify), and a
// token verified once is trusted for LULL_ADMIN_AGENT_CACHE_MS without the hash (the row, and so a revocation,
// is still read on every request). Tokens and hashes never reach a log or an answer (the token once, when made).
#include "admin_agents.h"
#include "admin_routes.h"
#include "lull_clock.h"
#include "lull_crypto.h"
#include "lull_json.h"
#include "lull_log.h"

#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_NAME_MAX 64       // bytes of an agent's name
#define S_DISPLAY_MAX 128   // bytes of an agent's display name
#define S_LAST_USED_S "10"  // last_used_at is written at most this often per agent, seconds

// ---------------------------------------------------------------------------------------------------------
// Tokens

static bool s_b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool admin_agents_token_parse(const char *token, int64_t *id, const char **secret)
{
    const size_t plen = sizeof ADMIN_AGENTS_PREFIX - 1;
    if (!token || strncmp(token, ADMIN_AGENTS_PREFIX, plen) != 0) return false;
    const char *p = token + plen;
    int64_t v = 0;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (digits == 18 || (digits == 0 && *p == '0')) return false;
        v = v * 10 + (*p - '0');
    }
    if (digits == 0 || *p != '_') return false;
    const char *s = p + 1;
    size_t n = 0;
    while (s[n] && s_b64url_char(s[n])) n++;
    if (n != ADMIN_AGENTS_SECRET_LEN || s[n]) return false;
    if (id) *id = v;
    if (secret) *secret = s;
    return true;
}

// ---------------------------------------------------------------------------------------------------------
// Checks

static void s_set_admin(admin_req_t *req)
{
    req->agent.id = 0;
    snprintf(req->agent.name, sizeof req->agent.name, "admin");
    snprintf(req->agent.display_name, sizeof req->agent.display_name, "admin");
    req->agent.admin = true;
}

// One failed authentication of req's address: ADMIN_AGENTS_LOCKED when it locked the address, else REFUSED.
static admin_agents_check_t s_failed(admin_auth_t *auth, admin_req_t *req)
{
    int64_t lock_ms = admin_auth_failed(auth, req->client, lull_clock_mono_ms());
    if (lock_ms <= 0) return ADMIN_AGENTS_REFUSED;
    req->retry_after_s = (lock_ms + 999) / 1000;
    LOG_WARN("admin.auth_locked", "too many failed authentications from one address: refused for a while", "client",
             LS(req->client), "ms", LI(lock_ms));
    return ADMIN_AGENTS_LOCKED;
}

admin_agents_check_t admin_agents_check(admin_auth_t *auth, const char *bootstrap, const char *header,
                                        admin_req_t *req)
{
    static _Atomic int64_t locked_seen;
    req->auth = auth;
    int64_t left = admin_auth_locked_ms(auth, req->client, lull_clock_mono_ms());
    if (left > 0) {
        req->retry_after_s = (left + 999) / 1000;
        int64_t n = atomic_fetch_add(&locked_seen, 1);
        if ((n & (n + 1)) == 0)  // sampled: the 1st, 2nd, 4th, 8th … refusal of a locked address
            LOG_INFO("admin.auth_locked_refused", "request from a locked address refused (429; sampled)", "client",
                     LS(req->client), "count", LI(n + 1));
        return ADMIN_AGENTS_LOCKED;
    }
    const char *bearer = header && strncasecmp(header, "Bearer ", 7) == 0 ? header + 7 : NULL;
    if (bearer && admin_agents_token_parse(bearer, NULL, NULL)) {
        req->authorization = bearer;
        return ADMIN_AGENTS_VERIFY;
    }
    if (!bootstrap || !*bootstrap) return ADMIN_AGENTS_DISABLED;
    if (bearer && lull_ct_equal(bearer, strlen(bearer), bootstrap, strlen(bootstrap))) {
        s_set_admin(req);
        return ADMIN_AGENTS_OK;
    }
    return header ? s_failed(auth, req) : ADMIN_AGENTS_REFUSED;  // no credentials at all: nothing was guessed
}

const admin_agent_t *admin_req_agent(const admin_req_t *req) { return &req->agent; }

const char *admin_agents_id_param(const admin_req_t *req, char *buf, size_t cap)
{
    if (req->agent.id <= 0) return NULL;
    snprintf(buf, cap, "%lld", (long long)req->agent.id);
    return buf;
}

static void s_refuse(admin_req_t *req, admin_agents_check_t why)
{
    if (why == ADMIN_AGENTS_LOCKED)
        admin_util_error(req, 429, "too_many_failures",
                         "too many failed authentications from this address: try again after Retry-After seconds");
    else admin_util_error(req, 401, "unauthorized", "the bearer token is wrong or revoked");
}

// Verifies req->authorization against its agent's row; fills req->agent. False when answered.
static bool s_verify(admin_ctx_t *ctx, admin_req_t *req)
{
    int64_t id = 0;
    const char *secret = NULL;
    if (!admin_agents_token_parse(req->authorization, &id, &secret)) {
        s_refuse(req, s_failed(req->auth, req));
        return false;
    }
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    const char *p[1] = {ids};
    PGresult *r = lull_db_exec(ctx->db,
                               "SELECT name, display_name, role, token_hash FROM agents"
                               " WHERE id = $1::bigint AND revoked_at IS NULL", 1, p);
    if (!r) {
        admin_util_db_error(ctx, req);
        return false;
    }
    const char *name = PQntuples(r) == 1 ? lull_db_text(r, 0, 0) : NULL;
    const char *display = name ? lull_db_text(r, 0, 1) : NULL, *role = name ? lull_db_text(r, 0, 2) : NULL;
    const char *stored = name ? lull_db_text(r, 0, 3) : NULL;
    uint8_t tok_d[32], hash_d[32];
    bool ok = name && role && stored && lull_sha256(req->authorization, strlen(req->authorization), tok_d) == 0 &&
              lull_sha256(stored, strlen(stored), hash_d) == 0;
    int64_t now = lull_clock_mono_ms();
    if (ok && !admin_auth_cache_hit(req->auth, tok_d, id, hash_d, now)) {
        ok = lull_kdf_verify(secret, strlen(secret), stored);
        if (ok) admin_auth_cache_put(req->auth, tok_d, id, hash_d, now);
    }
    if (ok) {
        req->agent.id = id;
        snprintf(req->agent.name, sizeof req->agent.name, "%s", name);
        snprintf(req->agent.display_name, sizeof req->agent.display_name, "%s", display ? display : "");
        req->agent.admin = strcmp(role, "admin") == 0;
    }
    OPENSSL_cleanse(tok_d, sizeof tok_d);
    PQclear(r);
    if (!ok) {
        LOG_INFO("admin.unauthorized", "agent token refused (wrong, or the agent is revoked)", "agent", LI(id),
                 "client", LS(req->client));
        s_refuse(req, s_failed(req->auth, req));
        return false;
    }
    if (lull_db_run(ctx->db,
                    "UPDATE agents SET last_used_at = now() WHERE id = $1::bigint AND (last_used_at IS NULL"
                    " OR last_used_at < now() - interval '" S_LAST_USED_S " seconds')", 1, p, NULL) != 0)
        LOG_WARN("admin.agent_last_used", "cannot record the agent's last use", "agent", LI(id));
    return true;
}

bool admin_agents_authorise(admin_ctx_t *ctx, admin_req_t *req)
{
    lull_auth_t need = admin_routes[req->route].auth;
    if (need == LULL_AUTH_NONE) return true;
    if (req->authorization && !s_verify(ctx, req)) return false;
    if (need != LULL_AUTH_AGENT && !req->agent.admin) {
        LOG_INFO("admin.forbidden", "an agent asked for a route of role admin", "agent", LS(req->agent.name), "route",
                 LS(admin_routes[req->route].op_id));
        admin_util_error(req, 403, "forbidden", "this route requires role admin");
        return false;
    }
    return true;
}

// ---------------------------------------------------------------------------------------------------------
// Routes

static bool s_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > S_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!s_b64url_char(s[i]) && s[i] != '.' && s[i] != ' ') return false;
    return true;
}

static const char s_sql_list[] =
    "SELECT json_build_object('agents', coalesce(json_agg(r ORDER BY r.id), '[]'::json),"
    " 'next_after', CASE WHEN count(*) = $2::int THEN max(r.id) END)::text FROM ("
    " SELECT id, name, display_name, role, created_at, last_used_at, revoked_at FROM agents"
    " WHERE id > $1::bigint ORDER BY id LIMIT $2::int) r";

void admin_agents_list(admin_ctx_t *ctx, admin_req_t *req)
{
    admin_page_t pg;
    if (!admin_util_page(req, &pg)) return;
    const char *p[2] = {pg.after_s, pg.limit_s};
    admin_util_sql_answer(ctx, req, s_sql_list, 2, p, NULL);
}

void admin_agents_me(admin_ctx_t *ctx, admin_req_t *req)
{
    (void)ctx;
    const admin_agent_t *a = admin_req_agent(req);
    cJSON *o = cJSON_CreateObject();
    if (a->id > 0) cJSON_AddNumberToObject(o, "id", (double)a->id);
    else cJSON_AddNullToObject(o, "id");
    cJSON_AddStringToObject(o, "name", a->name);
    cJSON_AddStringToObject(o, "display_name", *a->display_name ? a->display_name : a->name);
    cJSON_AddStringToObject(o, "role", a->admin ? "admin" : "agent");
    admin_util_answer(req, 200, lull_json_print(o));
    cJSON_Delete(o);
}

// Reads and checks the body of POST /api/v1/agents; false when answered 400.
static bool s_create_fields(admin_req_t *req, const cJSON *b, const char **name, const char **role,
                            const char **display)
{
    char err[160];
    if (lull_json_str(b, "name", true, S_NAME_MAX, name, err, sizeof err) != 0 ||
        lull_json_str(b, "role", false, 16, role, err, sizeof err) != 0 ||
        lull_json_str(b, "display_name", false, S_DISPLAY_MAX, display, err, sizeof err) != 0) {
        admin_util_error(req, 400, "bad_field", err);
        return false;
    }
    for (const cJSON *f = b->child; f; f = f->next)
        if (strcmp(f->string, "name") != 0 && strcmp(f->string, "role") != 0 && strcmp(f->string, "display_name") != 0) {
            snprintf(err, sizeof err, "unknown field '%.64s' (name, role, display_name)", f->string);
            admin_util_error(req, 400, "bad_field", err);
            return false;
        }
    if (!s_name_ok(*name)) {
        admin_util_error(req, 400, "bad_field", "'name' must be 1 to 64 characters of A-Z a-z 0-9 . _ - and space");
        return false;
    }
    if (!*role) *role = "agent";
    if (strcmp(*role, "agent") != 0 && strcmp(*role, "admin") != 0) {
        admin_util_error(req, 400, "bad_field", "'role' must be agent or admin");
        return false;
    }
    for (const char *c = *display ? *display : ""; *c; c++)
        if ((unsigned char)*c < 0x20) {
            admin_util_error(req, 400, "bad_field", "'display_name' must not hold control characters");
            return false;
        }
    return true;
}

void admin_agents_create(admin_ctx_t *ctx, admin_req_t *req)
{
    cJSON *b = admin_util_body(req), *o = NULL;
    if (!b) return;
    const char *name = NULL, *role = NULL, *display = NULL;
    PGresult *r = NULL;
    uint8_t raw[32];
    char secret[48], token[ADMIN_AGENTS_TOKEN_MAX], hash[LULL_KDF_HASH_MAX], ids[24];
    if (!s_create_fields(req, b, &name, &role, &display)) goto cleanup;
    if (lull_random_bytes(raw, sizeof raw) != 0 || lull_base64url_encode(raw, sizeof raw, secret, sizeof secret) < 0 ||
        lull_kdf_hash(secret, strlen(secret), LULL_KDF_ITERATIONS, hash, sizeof hash) != 0) {
        admin_util_error(req, 500, "internal", "cannot make a token");
        goto cleanup;
    }
    r = lull_db_exec(ctx->db, "SELECT nextval('agents_id_seq')", 0, NULL);
    if (!r) {
        admin_util_db_error(ctx, req);
        goto cleanup;
    }
    snprintf(ids, sizeof ids, "%lld", (long long)lull_db_int(r, 0, 0, NULL));
    PQclear(r);
    const char *p[5] = {ids, name, display ? display : "", role, hash};
    r = lull_db_exec(ctx->db,
                     "INSERT INTO agents (id, name, display_name, role, token_hash) VALUES ($1::bigint, $2, $3, $4, $5)"
                     " RETURNING json_build_object('id', id, 'name', name, 'display_name', display_name, 'role', role,"
                     " 'created_at', created_at)::text", 5, p);
    if (!r && strcmp(lull_db_sqlstate(ctx->db), "23505") == 0) {
        admin_util_error(req, 409, "name_taken", "an active agent already has this name");
        goto cleanup;
    }
    if (!r) {
        admin_util_db_error(ctx, req);
        goto cleanup;
    }
    char err[160];
    const char *j = lull_db_text(r, 0, 0);
    o = j ? lull_json_parse(j, strlen(j), LULL_JSON_MAX_DEPTH, err, sizeof err) : NULL;
    snprintf(token, sizeof token, ADMIN_AGENTS_PREFIX "%s_%s", ids, secret);
    if (o) cJSON_AddStringToObject(o, "token", token);
    LOG_INFO("admin.agent_added", "agent added", "agent", LS(name), "role", LS(role), "by", LS(req->agent.name));
    admin_util_answer(req, 201, o ? lull_json_print(o) : NULL);
cleanup:
    if (o) {  // the token's only copy outside the answer
        cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "token");
        if (t && t->valuestring) OPENSSL_cleanse(t->valuestring, strlen(t->valuestring));
    }
    OPENSSL_cleanse(raw, sizeof raw);
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(token, sizeof token);
    PQclear(r);
    cJSON_Delete(o);
    cJSON_Delete(b);
}

void admin_agents_revoke(admin_ctx_t *ctx, admin_req_t *req)
{
    cJSON *b = admin_util_body(req);
    if (!b) return;
    const char *name = NULL;
    char err[160];
    if (lull_json_str(b, "name", true, S_NAME_MAX, &name, err, sizeof err) != 0) {
        admin_util_error(req, 400, "bad_field", err);
        cJSON_Delete(b);
        return;
    }
    const char *p[1] = {name};
    PGresult *r = lull_db_exec(ctx->db,
                               "UPDATE agents SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL"
                               " RETURNING id, json_build_object('id', id, 'name', name, 'role', role,"
                               " 'revoked_at', revoked_at)::text", 1, p);
    if (!r) admin_util_db_error(ctx, req);
    else if (PQntuples(r) != 1) admin_util_error(req, 404, "not_found", "no active agent has this name");
    else {
        admin_auth_cache_forget(req->auth, lull_db_int(r, 0, 0, NULL));
        LOG_INFO("admin.agent_revoked", "agent revoked", "agent", LS(name), "by", LS(req->agent.name));
        const char *j = lull_db_text(r, 0, 1);
        admin_util_answer(req, 200, j ? strdup(j) : NULL);
    }
    PQclear(r);
    cJSON_Delete(b);
}
