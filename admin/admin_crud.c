// Tenants, prompts and inventory over the admin API: one field table per resource drives validation (type,
// range, length, nullability), the INSERT / UPDATE column lists and the SQL casts; values always travel as
// parameters. Also GET /api/v1/usage (requests, tokens and cost per tenant / contact / day).
#include "admin_crud.h"
#include "lull_buf.h"
#include "lull_config.h"
#include "lull_json.h"
#include "lull_log.h"
#include "lull_tenant_limits.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_FIELDS 40
#define S_SQL_MAX 8192

typedef enum {
    F_TEXT,     // string of at most max bytes (min bytes at least)
    F_SLUG,     // [a-z0-9_-], 1..max bytes
    F_INT,      // integer in [min, max]
    F_REAL,     // number in [min, max]
    F_NUMERIC,  // number in [min, max], stored as numeric
    F_BOOL,
    F_TEXTARR,  // array of at most max strings of at most 200 bytes (with a set: distinct words of the set)
    F_JOBJ,     // JSON object, at most max bytes serialised
    F_JARR,     // JSON array, at most max bytes serialised
    F_ENVMAP,   // object of environment variable NAMES (credentials are references, never secrets)
    F_MODELMAP, // object of provider name (openai, anthropic, gemini) → model name of 1..max bytes
    F_ENVNAME,  // an environment variable name
    F_URL,      // http:// or https:// URL of at most max bytes
    F_ENUM,     // one of the '|'-separated words in set
    F_CURRENCY  // three upper-case letters
} s_ftype_t;

typedef struct {
    const char *name;
    s_ftype_t type;
    double min, max;
    bool nullable;  // JSON null allowed (stored as SQL NULL)
    bool required;  // must be given on create
    const char *set;
} s_field_t;

typedef struct {
    const char *name;      // resource name in the path and the list key
    const char *table;
    const s_field_t *fields;
    int nfields;
    bool has_updated_at;   // set updated_at = now() on update (tenants have a trigger)
    bool by_tenant;        // rows belong to a tenant (?tenant= filter on lists)
    const char *conflict;  // unique key for ?upsert=true (NULL = no upsert)
} s_resource_t;

static const s_field_t s_tenant_fields[] = {
    {"slug", F_SLUG, 1, 64, false, true, NULL},
    {"name", F_TEXT, 0, 200, false, false, NULL},
    {"company_name", F_TEXT, 0, 200, false, false, NULL},
    {"agent_name", F_TEXT, 0, 200, false, false, NULL},
    {"window_ms", F_INT, 0, LULL_TENANT_WINDOW_MS_MAX, false, false, NULL},
    {"max_wait_ms", F_INT, 0, LULL_TENANT_WINDOW_MS_MAX, false, false, NULL},
    {"channel_windows", F_JOBJ, 0, 4096, false, false, NULL},
    {"history_len", F_INT, LULL_TENANT_HISTORY_LEN_MIN, LULL_TENANT_HISTORY_LEN_MAX, false, false, NULL},
    {"provider_chain", F_TEXTARR, 0, LULL_TENANT_CHAIN_MAX, false, false, "openai|anthropic|gemini"},
    {"model", F_TEXT, 1, LULL_TENANT_MODEL_MAX, true, false, NULL},
    {"models", F_MODELMAP, 1, LULL_TENANT_MODEL_MAX, false, false, NULL},
    {"temperature", F_REAL, 0, LULL_TENANT_TEMPERATURE_MAX, false, false, NULL},
    {"max_tokens", F_INT, 1, LULL_TENANT_MAX_TOKENS_MAX, false, false, NULL},
    {"prompt_id", F_INT, 1, 9e15, true, false, NULL},
    {"escalation_keywords", F_TEXTARR, 0, 200, false, false, NULL},
    {"blocked_patterns", F_TEXTARR, 0, 200, false, false, NULL},
    {"safe_reply", F_TEXT, 1, 2000, true, false, NULL},
    {"apology_reply", F_TEXT, 1, 2000, true, false, NULL},
    {"confidence_threshold", F_REAL, 0, LULL_TENANT_CONFIDENCE_MAX, false, false, NULL},
    {"human_pause_ms", F_INT, 0, LULL_TENANT_HUMAN_PAUSE_MS_MAX, false, false, NULL},
    {"max_attempts", F_INT, 0, LULL_TENANT_MAX_ATTEMPTS_MAX, false, false, NULL},
    {"daily_limit_tenant", F_INT, 0, LULL_TENANT_DAILY_LIMIT_MAX, true, false, NULL},
    {"daily_limit_contact", F_INT, 0, LULL_TENANT_DAILY_LIMIT_MAX, true, false, NULL},
    {"extraction_fields", F_JARR, 0, 16384, false, false, NULL},
    {"twilio_numbers", F_TEXTARR, 0, 100, false, false, NULL},
    {"tiktok_client_key", F_TEXT, 1, 200, true, false, NULL},
    {"tiktok_business_id", F_TEXT, 1, 200, true, false, NULL},
    {"credentials", F_ENVMAP, 0, 4096, false, false, NULL},
    {"whatsapp_template_sid", F_TEXT, 1, 100, true, false, NULL},
    {"whatsapp_template_vars", F_JOBJ, 0, 4096, true, false, NULL},
    {"callback_url", F_URL, 0, 2000, true, false, NULL},
    {"callback_secret_ref", F_ENVNAME, 0, 128, true, false, NULL},
    {"webhook_secret_env", F_ENVNAME, 0, 128, true, false, NULL},
    {"retry_base_ms", F_INT, 0, LULL_TENANT_RETRY_MS_MAX, true, false, NULL},
    {"retry_max_ms", F_INT, 0, LULL_TENANT_RETRY_MS_MAX, true, false, NULL},
    {"max_retries", F_INT, 0, LULL_TENANT_MAX_RETRIES_MAX, true, false, NULL},
    {"chat_allowed_origins", F_TEXTARR, 0, 32, false, false, NULL},  // Origin values of pages allowed to chat
    {"llm_mode", F_ENUM, 0, 0, false, false, "combined|separate|off"},
    {"history_tokens", F_INT, LULL_TENANT_HISTORY_TOKENS_MIN, LULL_TENANT_HISTORY_TOKENS_MAX, false, false, NULL},
    {"meta_phone_number_ids", F_TEXTARR, 0, 100, false, false, NULL},  // digits, one tenant each (database checks)
    {"meta_unsupported", F_ENUM, 0, 0, false, false, "ignore|reply"},
    {"meta_template", F_JOBJ, 0, 4096, true, false, NULL},
};

static const s_field_t s_prompt_fields[] = {
    {"tenant_id", F_INT, 1, 9e15, false, true, NULL},
    {"name", F_TEXT, 1, 100, false, false, NULL},
    {"template", F_TEXT, 1, LULL_PROMPT_TEMPLATE_MAX, false, true, NULL},
    {"version", F_INT, 1, 1e6, false, false, NULL},
    {"active", F_BOOL, 0, 0, false, false, NULL},
};

static const s_field_t s_inventory_fields[] = {
    {"tenant_id", F_INT, 1, 9e15, false, true, NULL},
    {"sku", F_TEXT, 1, 100, false, true, NULL},
    {"name", F_TEXT, 0, 300, false, false, NULL},
    {"description", F_TEXT, 0, 5000, true, false, NULL},
    {"category", F_TEXT, 0, 200, true, false, NULL},
    {"size", F_TEXT, 0, 100, true, false, NULL},
    {"measurements", F_TEXT, 0, 300, true, false, NULL},
    {"price", F_NUMERIC, 0, 1e9, true, false, NULL},
    {"currency", F_CURRENCY, 0, 0, false, false, NULL},
    {"status", F_ENUM, 0, 0, false, false, "available|reserved|sold"},
    {"attributes", F_JOBJ, 0, 16384, false, false, NULL},
};

#define S_N(a) ((int)(sizeof a / sizeof a[0]))
static const s_resource_t s_resources[] = {
    [ADMIN_CRUD_TENANTS] = {"tenants", "tenants", s_tenant_fields, S_N(s_tenant_fields), false, false, "slug"},
    [ADMIN_CRUD_PROMPTS] = {"prompts", "prompts", s_prompt_fields, S_N(s_prompt_fields), false, true, NULL},
    [ADMIN_CRUD_INVENTORY] = {"inventory", "inventory", s_inventory_fields, S_N(s_inventory_fields), true, true, "tenant_id, sku"},
};

// ---------------------------------------------------------------------------------------------------------
// Validation

// A credential reference: LULL_TENANT_… (never a process setting such as LULL_ADMIN_TOKEN), max bytes at most.
static bool s_env_name(const char *v, size_t max)
{
    return strlen(v) <= max && lull_config_tenant_ref_ok(v);
}

static bool s_in_set(const char *v, const char *set)
{
    size_t n = strlen(v);
    for (const char *p = set; *p;) {
        size_t l = strcspn(p, "|");
        if (l == n && strncmp(p, v, n) == 0) return true;
        p += l;
        if (*p == '|') p++;
    }
    return false;
}

// Validates v against f and renders the SQL parameter text into *param (owned, NULL = SQL NULL). 0, or -1
// with msg set.
static int s_value(const s_field_t *f, const cJSON *v, char **param, char *msg, size_t cap)
{
    *param = NULL;
    if (cJSON_IsNull(v)) {
        if (f->nullable) return 0;
        snprintf(msg, cap, "'%s' must not be null", f->name);
        return -1;
    }
    char buf[64];
    switch (f->type) {
    case F_TEXT:
    case F_SLUG:
    case F_URL:
    case F_ENVNAME:
    case F_ENUM:
    case F_CURRENCY: {
        if (!cJSON_IsString(v)) {
            snprintf(msg, cap, "'%s' must be a string", f->name);
            return -1;
        }
        const char *s = v->valuestring;
        size_t n = strlen(s);
        bool ok = lull_utf8_valid(s, n);
        if (f->type == F_TEXT || f->type == F_SLUG) ok = ok && n >= (size_t)f->min && n <= (size_t)f->max;
        if (f->type == F_SLUG)
            for (size_t i = 0; ok && i < n; i++)
                ok = islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-' || s[i] == '_';
        if (f->type == F_URL) ok = ok && n <= (size_t)f->max && (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0) && !strpbrk(s, " \t\r\n");
        if (f->type == F_ENVNAME) ok = s_env_name(s, (size_t)f->max);
        if (f->type == F_ENUM) ok = s_in_set(s, f->set);
        if (f->type == F_CURRENCY) ok = n == 3 && isupper((unsigned char)s[0]) && isupper((unsigned char)s[1]) && isupper((unsigned char)s[2]);
        if (!ok) {
            switch (f->type) {
            case F_SLUG: snprintf(msg, cap, "'%s' must be 1 to %.0f characters of a-z, 0-9, - and _", f->name, f->max); break;
            case F_URL: snprintf(msg, cap, "'%s' must be an http:// or https:// URL of at most %.0f bytes", f->name, f->max); break;
            case F_ENVNAME:
                snprintf(msg, cap, "'%s' must name an environment variable " LULL_TENANT_REF_PREFIX "… (A-Z, 0-9, _), not hold a secret",
                         f->name);
                break;
            case F_ENUM: snprintf(msg, cap, "'%s' must be one of %s", f->name, f->set); break;
            case F_CURRENCY: snprintf(msg, cap, "'%s' must be a 3-letter currency code (USD)", f->name); break;
            default: snprintf(msg, cap, "'%s' must be %.0f to %.0f bytes of UTF-8", f->name, f->min, f->max); break;
            }
            return -1;
        }
        *param = strdup(s);
        break;
    }
    case F_INT:
    case F_REAL:
    case F_NUMERIC: {
        double d = v->valuedouble;
        bool ok = cJSON_IsNumber(v) && d >= f->min && d <= f->max;
        if (ok && f->type == F_INT) ok = d == (double)(int64_t)d;
        if (!ok) {
            snprintf(msg, cap, "'%s' must be %s between %g and %g", f->name, f->type == F_INT ? "an integer" : "a number",
                     f->min, f->max);
            return -1;
        }
        if (f->type == F_INT) snprintf(buf, sizeof buf, "%lld", (long long)d);
        else snprintf(buf, sizeof buf, "%.17g", d);
        *param = strdup(buf);
        break;
    }
    case F_BOOL:
        if (!cJSON_IsBool(v)) {
            snprintf(msg, cap, "'%s' must be true or false", f->name);
            return -1;
        }
        *param = strdup(cJSON_IsTrue(v) ? "true" : "false");
        break;
    case F_TEXTARR: {
        const cJSON *e;
        bool ok = cJSON_IsArray(v) && cJSON_GetArraySize(v) <= (int)f->max;
        cJSON_ArrayForEach(e, v) ok = ok && cJSON_IsString(e) && strlen(e->valuestring) <= 200 &&
                                      lull_utf8_valid(e->valuestring, strlen(e->valuestring));
        for (const cJSON *x = ok && f->set ? v->child : NULL; x; x = x->next) {  // distinct words of the set
            ok = ok && s_in_set(x->valuestring, f->set);
            for (const cJSON *y = x->next; ok && y; y = y->next) ok = strcmp(x->valuestring, y->valuestring) != 0;
        }
        if (!ok && f->set) {
            snprintf(msg, cap, "'%s' must be an array of at most %.0f distinct names of %s", f->name, f->max, f->set);
            return -1;
        }
        if (!ok) {
            snprintf(msg, cap, "'%s' must be an array of at most %.0f strings of at most 200 bytes", f->name, f->max);
            return -1;
        }
        *param = cJSON_PrintUnformatted(v);
        break;
    }
    case F_JOBJ:
    case F_JARR:
    case F_MODELMAP:
    case F_ENVMAP: {
        bool ok = f->type == F_JARR ? cJSON_IsArray(v) : cJSON_IsObject(v);
        if (ok && f->type == F_MODELMAP) {
            const cJSON *e;
            cJSON_ArrayForEach(e, v)
            {
                bool known = strcmp(e->string, "openai") == 0 || strcmp(e->string, "anthropic") == 0 ||
                             strcmp(e->string, "gemini") == 0;
                size_t n = cJSON_IsString(e) ? strlen(e->valuestring) : 0;
                if (!known || n < (size_t)f->min || n > (size_t)f->max) {
                    snprintf(msg, cap, "'%s' maps openai, anthropic or gemini to a model name of 1 to %.0f bytes ('%.40s' is not)",
                             f->name, f->max, e->string);
                    return -1;
                }
            }
        }
        if (ok && f->type == F_ENVMAP) {
            const cJSON *e;
            cJSON_ArrayForEach(e, v) ok = ok && cJSON_IsString(e) && s_env_name(e->valuestring, 128);
            if (!ok) {
                snprintf(msg, cap,
                         "'%s' values must be environment variable NAMES " LULL_TENANT_REF_PREFIX "… (A-Z, 0-9, _) holding the secrets, never the secrets",
                         f->name);
                return -1;
            }
        }
        char *text = ok ? cJSON_PrintUnformatted(v) : NULL;
        // a model map's size follows from its entries (three at most, each of max bytes at most)
        if (!ok || !text || (f->type != F_MODELMAP && strlen(text) > (size_t)f->max)) {
            free(text);
            snprintf(msg, cap, "'%s' must be a JSON %s of at most %.0f bytes", f->name,
                     f->type == F_JARR ? "array" : "object", f->max);
            return -1;
        }
        *param = text;
        break;
    }
    }
    if (!*param) {
        snprintf(msg, cap, "out of memory");
        return -1;
    }
    return 0;
}

// The SQL expression of parameter n for field f.
static void s_expr(const s_field_t *f, int n, char *out, size_t cap)
{
    switch (f->type) {
    case F_INT: snprintf(out, cap, "$%d::bigint", n); break;
    case F_REAL: snprintf(out, cap, "$%d::float8", n); break;
    case F_NUMERIC: snprintf(out, cap, "$%d::numeric", n); break;
    case F_BOOL: snprintf(out, cap, "$%d::boolean", n); break;
    case F_TEXTARR: snprintf(out, cap, "ARRAY(SELECT jsonb_array_elements_text($%d::jsonb))", n); break;
    case F_JOBJ:
    case F_JARR:
    case F_MODELMAP:
    case F_ENVMAP: snprintf(out, cap, "$%d::jsonb", n); break;
    default: snprintf(out, cap, "$%d::text", n); break;
    }
}

// The columns a row is returned with: id, every field, created_at (and updated_at).
static void s_columns(const s_resource_t *r, char *out, size_t cap)
{
    size_t o = (size_t)snprintf(out, cap, "id");
    for (int i = 0; i < r->nfields && o < cap; i++) o += (size_t)snprintf(out + o, cap - o, ", %s", r->fields[i].name);
    if (o < cap) o += (size_t)snprintf(out + o, cap - o, ", created_at");
    if (r->has_updated_at || strcmp(r->table, "tenants") == 0) snprintf(out + o, cap > o ? cap - o : 0, ", updated_at");
}

static void s_db_error(lull_db_t *db, admin_req_t *req, const s_resource_t *r)
{
    const char *st = lull_db_sqlstate(db);
    char msg[200];
    if (strcmp(st, "23505") == 0 && strstr(lull_db_error(db), "meta_phone_number_ids")) {  // 021's trigger
        admin_util_error(req, 409, "conflict", "a phone number id of meta_phone_number_ids belongs to another tenant");
    } else if (strcmp(st, "23505") == 0) {
        snprintf(msg, sizeof msg, "a row with the same %s already exists", r->conflict ? r->conflict : "unique key");
        admin_util_error(req, 409, "conflict", msg);
    } else if (strcmp(st, "23503") == 0) {
        admin_util_error(req, strcmp(r->table, "tenants") == 0 ? 409 : 400, "bad_reference",
                            "a referenced row (tenant_id / prompt_id) does not exist, or other rows still refer to this one");
    } else if (strncmp(st, "23", 2) == 0 || strncmp(st, "22", 2) == 0) {
        admin_util_error(req, 400, "bad_field", "a value is out of range for the database");
    } else if (lull_db_last_was_connection_error(db)) {
        admin_util_error(req, 503, "database_unavailable", "the database is unavailable; retry later");
    } else {
        LOG_WARN("admin.db_failed", "admin query failed", "table", LS(r->table), "error", LS(lull_db_error(db)));
        admin_util_error(req, 500, "query_failed", "the database refused the query");
    }
}

// Runs a statement returning one text column; answers it with status, or 404 when there is no row.
static void s_run(lull_db_t *db, admin_req_t *req, const s_resource_t *r, const char *sql, int n,
                  const char *const *p, int status)
{
    PGresult *res = lull_db_exec(db, sql, n, p);
    if (!res) {
        s_db_error(db, req, r);
        return;
    }
    const char *v = PQntuples(res) >= 1 ? lull_db_text(res, 0, 0) : NULL;
    if (!v) admin_util_error(req, 404, "not_found", "no such row");
    else admin_util_answer(req, status, strdup(v));
    PQclear(res);
}

// ---------------------------------------------------------------------------------------------------------
// Routes

static void s_list(lull_db_t *db, admin_req_t *req, const s_resource_t *r)
{
    admin_page_t pg;
    int64_t tenant = 0;
    if (!admin_util_page(req, &pg) ||
        (r->by_tenant && !admin_util_query_int(req, "tenant", 0, 1, INT64_MAX, &tenant)))
        return;
    char cols[1024], sql[S_SQL_MAX], st[24];
    s_columns(r, cols, sizeof cols);
    snprintf(sql, sizeof sql,
             "SELECT json_build_object('%s', coalesce(json_agg(x ORDER BY x.id), '[]'::json), 'next_after',"
             " CASE WHEN count(*) = $2::int THEN max(x.id) END)::text FROM (SELECT %s FROM %s WHERE id > $1::bigint%s"
             " ORDER BY id LIMIT $2::int) x",
             r->name, cols, r->table, r->by_tenant ? " AND ($3::bigint IS NULL OR tenant_id = $3::bigint)" : "");
    snprintf(st, sizeof st, "%lld", (long long)tenant);
    const char *p[3] = {pg.after_s, pg.limit_s, tenant ? st : NULL};
    s_run(db, req, r, sql, r->by_tenant ? 3 : 2, p, 200);
}

static void s_get(lull_db_t *db, admin_req_t *req, const s_resource_t *r, const char *id)
{
    char cols[1024], sql[S_SQL_MAX];
    s_columns(r, cols, sizeof cols);
    snprintf(sql, sizeof sql, "SELECT row_to_json(x)::text FROM (SELECT %s FROM %s WHERE id = $1::bigint) x", cols,
             r->table);
    const char *p[1] = {id};
    s_run(db, req, r, sql, 1, p, 200);
}

// POST (create; ?upsert=true updates the row with the same unique key) and PATCH/PUT (update given fields).
static void s_write(lull_db_t *db, admin_req_t *req, const s_resource_t *r, const char *id)
{
    char msg[256], err[160];
    char *params[S_MAX_FIELDS + 1] = {0};
    const s_field_t *given[S_MAX_FIELDS];
    int ng = 0;
    cJSON *body = req->len ? lull_json_parse(req->body, req->len, LULL_JSON_MAX_DEPTH, err, sizeof err) : NULL;
    if (!cJSON_IsObject(body)) {
        snprintf(msg, sizeof msg, "the body must be a JSON object%s%s", body || !req->len ? "" : ": ", body || !req->len ? "" : err);
        admin_util_error(req, 400, "bad_json", msg);
        goto cleanup;
    }
    const cJSON *kv;
    cJSON_ArrayForEach(kv, body)
    {
        const s_field_t *f = NULL;
        for (int i = 0; i < r->nfields; i++)
            if (strcmp(r->fields[i].name, kv->string) == 0) f = &r->fields[i];
        if (!f || (id && strcmp(f->name, "tenant_id") == 0)) {
            snprintf(msg, sizeof msg, "unknown or read-only field '%.60s'", kv->string);
            admin_util_error(req, 400, "bad_field", msg);
            goto cleanup;
        }
        for (int i = 0; i < ng; i++)
            if (given[i] == f) {
                snprintf(msg, sizeof msg, "field '%s' given twice", f->name);
                admin_util_error(req, 400, "bad_field", msg);
                goto cleanup;
            }
        if (s_value(f, kv, &params[ng + 1], msg, sizeof msg) != 0) {
            admin_util_error(req, 400, "bad_field", msg);
            goto cleanup;
        }
        given[ng++] = f;
    }
    for (int i = 0; !id && i < r->nfields; i++) {
        bool found = false;
        for (int k = 0; k < ng; k++) found = found || given[k] == &r->fields[i];
        if (r->fields[i].required && !found) {
            snprintf(msg, sizeof msg, "'%s' is required", r->fields[i].name);
            admin_util_error(req, 400, "bad_field", msg);
            goto cleanup;
        }
    }
    if (id && ng == 0) {
        admin_util_error(req, 400, "bad_field", "nothing to update: give at least one field");
        goto cleanup;
    }
    char up[8] = "";
    bool upsert = !id && r->conflict && admin_util_query(req->uri, "upsert", up, sizeof up) && strcmp(up, "true") == 0;
    char cols[1024], expr[96];
    s_columns(r, cols, sizeof cols);
    // Identifiers come from the static field tables only; values are always $n parameters.
    lull_buf_t sql;
    lull_buf_init(&sql, S_SQL_MAX, false);
    if (!id) {
        lull_buf_printf(&sql, "WITH x AS (INSERT INTO %s (", r->table);
        for (int i = 0; i < ng; i++) lull_buf_printf(&sql, "%s%s", i ? ", " : "", given[i]->name);
        lull_buf_puts(&sql, ") VALUES (");
        for (int i = 0; i < ng; i++) {
            s_expr(given[i], i + 2, expr, sizeof expr);
            lull_buf_printf(&sql, "%s%s", i ? ", " : "", expr);
        }
        lull_buf_puts(&sql, ")");
        if (upsert) {
            lull_buf_printf(&sql, " ON CONFLICT (%s) DO UPDATE SET ", r->conflict);
            for (int i = 0; i < ng; i++)
                lull_buf_printf(&sql, "%s%s = EXCLUDED.%s", i ? ", " : "", given[i]->name, given[i]->name);
            if (r->has_updated_at) lull_buf_puts(&sql, ", updated_at = now()");
        }
        lull_buf_printf(&sql, " RETURNING %s) SELECT row_to_json(x)::text FROM x WHERE $1::text IS NULL", cols);
    } else {
        lull_buf_printf(&sql, "WITH x AS (UPDATE %s SET ", r->table);
        for (int i = 0; i < ng; i++) {
            s_expr(given[i], i + 2, expr, sizeof expr);
            lull_buf_printf(&sql, "%s%s = %s", i ? ", " : "", given[i]->name, expr);
        }
        if (r->has_updated_at) lull_buf_puts(&sql, ", updated_at = now()");
        lull_buf_printf(&sql, " WHERE id = $1::bigint RETURNING %s) SELECT row_to_json(x)::text FROM x", cols);
    }
    if (sql.failed) {  // a field table grew past S_SQL_MAX: a programming limit, answered, not overflowed
        lull_buf_reset(&sql);
        admin_util_error(req, 500, "internal", "statement too long");
        goto cleanup;
    }
    params[0] = id ? strdup(id) : NULL;
    s_run(db, req, r, sql.data, ng + 1, (const char *const *)params, id ? 200 : 201);
    lull_buf_reset(&sql);
    if (req->status < 300) LOG_INFO("admin.write", id ? "row updated" : "row created", "table", LS(r->table));
cleanup:
    for (int i = 0; i <= S_MAX_FIELDS; i++) free(params[i]);
    cJSON_Delete(body);
}

static void s_delete(lull_db_t *db, admin_req_t *req, const s_resource_t *r, const char *id)
{
    char sql[256];
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE id = $1::bigint%s", r->table,
             strcmp(r->table, "tenants") == 0 ? " AND slug <> 'default'" : "");
    const char *p[1] = {id};
    int64_t n = 0;
    if (lull_db_run(db, sql, 1, p, &n) != 0) {
        s_db_error(db, req, r);
        return;
    }
    if (n == 0) {
        admin_util_error(req, 404, "not_found",
                            strcmp(r->table, "tenants") == 0 ? "no such row (the default tenant cannot be deleted)" : "no such row");
        return;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "{\"deleted\":%s}", id);
    LOG_INFO("admin.delete", "row deleted", "table", LS(r->table));
    admin_util_answer(req, 200, strdup(buf));
}

// GET /api/v1/usage?tenant=&contact=&from=&to=&limit=: sums per tenant, contact and day, newest day first.
static void s_usage(lull_db_t *db, admin_req_t *req)
{
    int64_t tenant = 0, contact = -1, limit;
    char from[16] = "", to[16] = "";
    if (!admin_util_query_int(req, "tenant", 0, 1, INT64_MAX, &tenant) ||
        !admin_util_query_int(req, "contact", -1, 0, INT64_MAX, &contact) ||
        !admin_util_query_int(req, "limit", ADMIN_LIMIT_DEFAULT, 1, ADMIN_LIMIT_MAX, &limit))
        return;
    const char *names[2] = {"from", "to"};
    char *vals[2] = {from, to};
    for (int i = 0; i < 2; i++) {
        if (!admin_util_query(req->uri, names[i], vals[i], 16)) continue;
        const char *v = vals[i];
        bool ok = strlen(v) == 10 && v[4] == '-' && v[7] == '-';
        for (int k = 0; ok && k < 10; k++) ok = k == 4 || k == 7 || isdigit((unsigned char)v[k]);
        if (!ok) {
            char msg[96];
            snprintf(msg, sizeof msg, "'%s' must be a date YYYY-MM-DD", names[i]);
            admin_util_error(req, 400, "bad_parameter", msg);
            return;
        }
    }
    char st[24], sc[24], sl[24];
    snprintf(st, sizeof st, "%lld", (long long)tenant);
    snprintf(sc, sizeof sc, "%lld", (long long)contact);
    snprintf(sl, sizeof sl, "%lld", (long long)limit);
    const char *p[5] = {tenant ? st : NULL, contact >= 0 ? sc : NULL, *from ? from : NULL, *to ? to : NULL, sl};
    static const s_resource_t usage = {"usage", "usage", NULL, 0, false, false, NULL};
    s_run(db, req, &usage,
          "SELECT json_build_object('usage', coalesce(json_agg(x), '[]'::json))::text FROM ("
          " SELECT tenant_id, contact_id, day, sum(requests)::bigint AS requests, sum(prompt_tokens)::bigint AS prompt_tokens,"
          "  sum(completion_tokens)::bigint AS completion_tokens, sum(cost_usd)::float8 AS cost_usd FROM usage"
          " WHERE ($1::bigint IS NULL OR tenant_id = $1::bigint) AND ($2::bigint IS NULL OR contact_id = $2::bigint)"
          "  AND ($3::date IS NULL OR day >= $3::date) AND ($4::date IS NULL OR day <= $4::date)"
          " GROUP BY tenant_id, contact_id, day ORDER BY day DESC, tenant_id, contact_id LIMIT $5::int) x",
          5, p, 200);
}

// The resource of a route row's argument (admin_crud_resource_t).
static const s_resource_t *s_res(const admin_req_t *req)
{
    return &s_resources[req->arg >= 0 && req->arg < S_N(s_resources) ? req->arg : 0];
}

void admin_crud_list(admin_ctx_t *ctx, admin_req_t *req) { s_list(ctx->db, req, s_res(req)); }
void admin_crud_create(admin_ctx_t *ctx, admin_req_t *req) { s_write(ctx->db, req, s_res(req), NULL); }
void admin_crud_get(admin_ctx_t *ctx, admin_req_t *req) { s_get(ctx->db, req, s_res(req), req->id_s); }
void admin_crud_update(admin_ctx_t *ctx, admin_req_t *req) { s_write(ctx->db, req, s_res(req), req->id_s); }
void admin_crud_delete(admin_ctx_t *ctx, admin_req_t *req) { s_delete(ctx->db, req, s_res(req), req->id_s); }
void admin_crud_usage(admin_ctx_t *ctx, admin_req_t *req) { s_usage(ctx->db, req); }

// ---------------------------------------------------------------------------------------------------------
// OpenAPI schemas (GET /openapi.json), rendered from the field tables above: what s_value accepts

static void s_schema_range(cJSON *s, const char *lo, const char *hi, const s_field_t *f)
{
    if (f->min > 0 || f->type != F_TEXT) cJSON_AddNumberToObject(s, lo, f->min);  // a text's minLength 0 says nothing
    cJSON_AddNumberToObject(s, hi, f->max);
}

static cJSON *s_field_schema(const s_field_t *f)
{
    static const char env_name[] = "^" LULL_TENANT_REF_PREFIX "[A-Z0-9_]+$";
    cJSON *s = cJSON_CreateObject(), *x = NULL;
    char text[160];
    if (!s) return NULL;
    switch (f->type) {
    case F_TEXT:
    case F_SLUG:
        cJSON_AddStringToObject(s, "type", "string");
        s_schema_range(s, "minLength", "maxLength", f);
        if (f->type == F_SLUG) cJSON_AddStringToObject(s, "pattern", "^[a-z0-9_-]+$");
        break;
    case F_INT:
    case F_REAL:
    case F_NUMERIC:
        cJSON_AddStringToObject(s, "type", f->type == F_INT ? "integer" : "number");
        s_schema_range(s, "minimum", "maximum", f);
        break;
    case F_BOOL: cJSON_AddStringToObject(s, "type", "boolean"); break;
    case F_TEXTARR:
        cJSON_AddStringToObject(s, "type", "array");
        cJSON_AddNumberToObject(s, "maxItems", f->max);
        x = cJSON_AddObjectToObject(s, "items");
        cJSON_AddStringToObject(x, "type", "string");
        cJSON_AddNumberToObject(x, "maxLength", 200);
        if (f->set) {  // distinct words of the set
            cJSON_AddTrueToObject(s, "uniqueItems");
            snprintf(text, sizeof text, "^(%s)$", f->set);
            cJSON_AddStringToObject(x, "pattern", text);
        }
        break;
    case F_JOBJ:
    case F_JARR:
    case F_ENVMAP:
        cJSON_AddStringToObject(s, "type", f->type == F_JARR ? "array" : "object");
        if (f->type == F_JARR) cJSON_AddObjectToObject(s, "items");
        if (f->type == F_ENVMAP) {
            x = cJSON_AddObjectToObject(s, "additionalProperties");
            cJSON_AddStringToObject(x, "type", "string");
            cJSON_AddStringToObject(x, "pattern", env_name);
            cJSON_AddNumberToObject(x, "maxLength", 128);
        }
        snprintf(text, sizeof text, "at most %.0f bytes as compact JSON%s", f->max,
                 f->type == F_ENVMAP ? "; values name the environment variables holding the secrets" : "");
        cJSON_AddStringToObject(s, "description", text);
        break;
    case F_MODELMAP: {
        cJSON_AddStringToObject(s, "type", "object");
        cJSON_AddBoolToObject(s, "additionalProperties", false);
        cJSON *props = cJSON_AddObjectToObject(s, "properties");
        static const char *const provs[] = {"openai", "anthropic", "gemini"};
        for (size_t i = 0; props && i < sizeof provs / sizeof provs[0]; i++) {
            x = cJSON_AddObjectToObject(props, provs[i]);
            cJSON_AddStringToObject(x, "type", "string");
            s_schema_range(x, "minLength", "maxLength", f);
        }
        cJSON_AddStringToObject(s, "description", "the model of each provider (fallbacks included)");
        break;
    }
    case F_ENVNAME:
    case F_URL:
    case F_CURRENCY:
        cJSON_AddStringToObject(s, "type", "string");
        if (f->type != F_CURRENCY) cJSON_AddNumberToObject(s, "maxLength", f->max);
        cJSON_AddStringToObject(s, "pattern", f->type == F_ENVNAME ? env_name
                                              : f->type == F_URL   ? "^https?://[^ \t\r\n]+$"
                                                                   : "^[A-Z]{3}$");
        if (f->type == F_URL) cJSON_AddStringToObject(s, "format", "uri");
        if (f->type == F_ENVNAME)
            cJSON_AddStringToObject(s, "description", "the name of an environment variable, never a secret");
        break;
    case F_ENUM:
        cJSON_AddStringToObject(s, "type", "string");
        x = cJSON_AddArrayToObject(s, "enum");
        for (const char *p = f->set; x && *p;) {
            size_t l = strcspn(p, "|");
            snprintf(text, sizeof text, "%.*s", (int)l, p);
            cJSON_AddItemToArray(x, cJSON_CreateString(text));
            p += l;
            if (*p == '|') p++;
        }
        break;
    }
    if (f->nullable) cJSON_AddTrueToObject(s, "nullable");
    return s;
}

// One schema: a stored row (kind 'r'), a create body ('c') or an update body ('u').
static cJSON *s_resource_schema(const s_resource_t *r, char kind)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "type", "object");
    cJSON *props = cJSON_AddObjectToObject(s, "properties"), *req = kind == 'c' ? cJSON_CreateArray() : NULL;
    if (kind == 'r') cJSON_AddItemToObject(props, "id", cJSON_CreateRaw("{\"type\":\"integer\"}"));
    for (int i = 0; i < r->nfields; i++) {
        const s_field_t *f = &r->fields[i];
        if (kind == 'u' && strcmp(f->name, "tenant_id") == 0) continue;  // a row never moves to another tenant
        cJSON_AddItemToObject(props, f->name, s_field_schema(f));
        if (req && f->required) cJSON_AddItemToArray(req, cJSON_CreateString(f->name));
    }
    if (kind == 'r') {
        const char *ts = "{\"type\":\"string\",\"format\":\"date-time\"}";
        cJSON_AddItemToObject(props, "created_at", cJSON_CreateRaw(ts));
        if (r->has_updated_at || strcmp(r->table, "tenants") == 0)
            cJSON_AddItemToObject(props, "updated_at", cJSON_CreateRaw(ts));
        return s;
    }
    if (req) cJSON_AddItemToObject(s, "required", req);
    if (kind == 'u') cJSON_AddNumberToObject(s, "minProperties", 1);
    cJSON_AddFalseToObject(s, "additionalProperties");
    return s;
}

int admin_crud_schemas(cJSON *schemas)
{
    static const struct {
        char kind;
        const char *suffix;
    } kinds[] = {{'r', "Row"}, {'c', "Create"}, {'u', "Update"}};
    for (int i = 0; i < S_N(s_resources); i++) {
        const s_resource_t *r = &s_resources[i];
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            char name[64];
            snprintf(name, sizeof name, "%c%s%s", toupper((unsigned char)r->name[0]), r->name + 1, kinds[k].suffix);
            cJSON *s = s_resource_schema(r, kinds[k].kind);
            if (!s || !cJSON_AddItemToObject(schemas, name, s)) {
                cJSON_Delete(s);
                return -1;
            }
        }
    }
    return 0;
}
