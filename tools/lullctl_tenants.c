// lullctl tenants and prompts: list, show (readable text, or the API's JSON with --json), create/update a
// tenant, set a prompt. Flags only map to the JSON fields of the admin API's tenants and prompts routes: the
// API checks every value (the one place the rules live) and its 400 message is printed as it comes.
#include "lullctl_tenants.h"

#include "lull_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_FILE_MAX (1u << 20)  // largest --file / --template-file read, bytes
#define S_SLUG_PAGES 100       // pages of 1000 tenants read when looking a slug up
#define S_PATH_MAX 256

typedef enum {
    K_TEXT,   // the value as a string
    K_JSON,   // the value as JSON when it parses (500, 0.7, null, true, [..], {..}), else as a string
    K_LIST,   // comma-separated strings → an array of strings ("" → [])
    K_MAP,    // KEY=VALUE → field.KEY = "VALUE" (update: merged into the tenant's current map)
    K_CHWIN,  // CHANNEL=MS → field.CHANNEL.sub = MS (update: merged into the current channel_windows)
    K_MODEL,  // PROVIDER=MODEL → models.PROVIDER, MODEL alone → model
    K_FILE,   // the contents of the file named by the value, as a string
    K_TENANT  // a tenant id or slug → the tenant's id (a number)
} s_kind_t;

typedef struct {
    const char *flag;  // without "--"
    const char *field;
    s_kind_t kind;
    const char *meta;  // the value's placeholder in --help
    const char *sub;   // K_CHWIN: the key set under the channel
} s_flag_t;

// Every field of the tenants table of ingress/ingress_admin_crud.c has a flag (a few have two names).
static const s_flag_t s_tenant_flags[] = {
    {"slug", "slug", K_TEXT, "SLUG", NULL},
    {"name", "name", K_TEXT, "TEXT", NULL},
    {"company-name", "company_name", K_TEXT, "TEXT", NULL},
    {"agent-name", "agent_name", K_TEXT, "TEXT", NULL},
    {"window-ms", "window_ms", K_JSON, "MS", NULL},
    {"max-wait-ms", "max_wait_ms", K_JSON, "MS", NULL},
    {"channel-window", "channel_windows", K_CHWIN, "CHANNEL=MS", "window_ms"},
    {"channel-max-wait", "channel_windows", K_CHWIN, "CHANNEL=MS", "max_wait_ms"},
    {"history-len", "history_len", K_JSON, "N", NULL},
    {"provider-chain", "provider_chain", K_LIST, "P,P,...", NULL},
    {"model", "model", K_MODEL, "[PROVIDER=]MODEL", NULL},
    {"temperature", "temperature", K_JSON, "T", NULL},
    {"max-tokens", "max_tokens", K_JSON, "N", NULL},
    {"prompt-id", "prompt_id", K_JSON, "ID", NULL},
    {"keywords", "escalation_keywords", K_LIST, "W,W,...", NULL},
    {"escalation-keywords", "escalation_keywords", K_LIST, "W,W,...", NULL},
    {"blocked-patterns", "blocked_patterns", K_LIST, "P,P,...", NULL},
    {"safe-reply", "safe_reply", K_TEXT, "TEXT", NULL},
    {"apology-reply", "apology_reply", K_TEXT, "TEXT", NULL},
    {"confidence-threshold", "confidence_threshold", K_JSON, "X", NULL},
    {"human-pause-ms", "human_pause_ms", K_JSON, "MS", NULL},
    {"max-attempts", "max_attempts", K_JSON, "N", NULL},
    {"daily-limit-tenant", "daily_limit_tenant", K_JSON, "N|null", NULL},
    {"daily-limit-contact", "daily_limit_contact", K_JSON, "N|null", NULL},
    {"chat-origins", "chat_allowed_origins", K_LIST, "ORIGIN,ORIGIN,...", NULL},
    {"extraction-fields", "extraction_fields", K_JSON, "JSON", NULL},
    {"numbers", "twilio_numbers", K_LIST, "NUM,NUM,...", NULL},
    {"twilio-numbers", "twilio_numbers", K_LIST, "NUM,NUM,...", NULL},
    {"tiktok-client-key", "tiktok_client_key", K_TEXT, "ID", NULL},
    {"tiktok-business-id", "tiktok_business_id", K_TEXT, "ID", NULL},
    {"credential", "credentials", K_MAP, "NAME=LULL_TENANT_VAR", NULL},
    {"whatsapp-template-sid", "whatsapp_template_sid", K_TEXT, "SID", NULL},
    {"whatsapp-template-vars", "whatsapp_template_vars", K_JSON, "JSON", NULL},
    {"callback-url", "callback_url", K_TEXT, "URL", NULL},
    {"callback-secret-ref", "callback_secret_ref", K_TEXT, "LULL_TENANT_VAR", NULL},
    {"retry-base-ms", "retry_base_ms", K_JSON, "MS", NULL},
    {"retry-max-ms", "retry_max_ms", K_JSON, "MS", NULL},
    {"max-retries", "max_retries", K_JSON, "N", NULL},
    {NULL, NULL, K_TEXT, NULL, NULL},
};

static const s_flag_t s_prompt_flags[] = {
    {"tenant", "tenant_id", K_TENANT, "TENANT", NULL},
    {"name", "name", K_TEXT, "TEXT", NULL},
    {"template", "template", K_TEXT, "TEXT", NULL},
    {"template-file", "template", K_FILE, "FILE", NULL},
    {"version", "version", K_JSON, "N", NULL},
    {"active", "active", K_JSON, "true|false", NULL},
    {NULL, NULL, K_TEXT, NULL, NULL},
};

static const char s_tenants_usage[] =
    "usage: lullctl tenants list [--limit N] [--after ID]\n"
    "       lullctl tenants show TENANT [--json]\n"
    "       lullctl tenants create --slug SLUG [FIELD FLAGS] [--file TENANT.json] [--json]\n"
    "       lullctl tenants update TENANT [FIELD FLAGS] [--file TENANT.json] [--json]\n"
    "\n"
    "TENANT is a tenant id or slug. The admin API checks every value; when it refuses one, its message is\n"
    "printed and lullctl exits 1. On update, only the given fields change; --model P=M, --credential and\n"
    "--channel-window/--channel-max-wait change one entry of their map and keep the others.\n"
    "\n"
    "Field flags:\n";

static const char s_prompts_usage[] =
    "usage: lullctl prompts list [--tenant TENANT] [--limit N] [--after ID]\n"
    "       lullctl prompts show ID [--json]\n"
    "       lullctl prompts set --tenant TENANT (--template TEXT | --template-file FILE) [FIELD FLAGS] [--no-use]\n"
    "       lullctl prompts set ID [FIELD FLAGS] [--no-use]\n"
    "\n"
    "set without ID creates a prompt, with ID changes that prompt; then the prompt's tenant uses it (its\n"
    "prompt_id), unless --no-use. Template variables: {{company_name}}, {{agent_name}}, {{customer_name}},\n"
    "{{channel}} (see docs/worker.md). The admin API checks every value; when it refuses one, its message\n"
    "is printed and lullctl exits 1.\n"
    "\n"
    "Field flags:\n";

static const char s_common_usage[] =
    "  --set FIELD=VALUE             any field: VALUE is JSON when it parses (500, true, null, [\"a\"], {}),\n"
    "                                else a string\n"
    "  --unset FIELD                 FIELD becomes null\n"
    "  --file FILE                   a JSON object of fields (- reads stdin); the flags override its fields\n"
    "  --json                        print the API's JSON instead of text\n"
    "A value after a flag may also be given as --flag=value.\n"
    "\n"
    "Exit status: 0 ok, 1 API or connection error, 64 usage error.\n";

static void s_help(const char *head, const s_flag_t *flags)
{
    fputs(head, stdout);
    for (const s_flag_t *f = flags; f->flag; f++) {
        char left[64];
        snprintf(left, sizeof left, "--%s %s", f->flag, f->meta);
        if (f->kind == K_MODEL) printf("  %-30smodel, or models.PROVIDER\n", left);
        else if (f->kind == K_MAP) printf("  %-30s%s.%.*s\n", left, f->field, (int)strcspn(f->meta, "="), f->meta);
        else if (f->kind == K_CHWIN) printf("  %-30s%s.CHANNEL.%s\n", left, f->field, f->sub);
        else printf("  %-30s%s\n", left, f->field);
    }
    fputs(s_common_usage, stdout);
}

// ---------------------------------------------------------------------------------------------------------
// Requests

// Calls the API and parses a 2xx answer into *j (owned). Prints the API's error (or --json: its body) and
// returns LULLCTL_EXIT_API otherwise; *raw gets the answer text when raw is given (owned).
static int s_request(const lullctl_opts_t *o, const char *method, const char *path, const char *body, cJSON **j,
                     char **raw)
{
    long status;
    char *out = NULL, err[128];
    int rc = LULLCTL_EXIT_API;
    *j = NULL;
    if (raw) *raw = NULL;
    if (lullctl_call(o, method, path, body, &status, &out) != 0) goto cleanup;
    if (status < 200 || status >= 300) {
        lullctl_print_error(status, out);
        goto cleanup;
    }
    *j = out ? lull_json_parse(out, strlen(out), LULL_JSON_MAX_DEPTH, err, sizeof err) : NULL;
    if (!*j) {
        fprintf(stderr, "lullctl: the answer is not JSON: %s\n", out ? err : "empty");
        goto cleanup;
    }
    if (raw) {
        *raw = out;
        out = NULL;
    }
    rc = LULLCTL_EXIT_OK;
cleanup:
    free(out);
    return rc;
}

// Resolves a tenant id or slug to its id (decimal text in id). Returns the exit status.
static int s_tenant_id(const lullctl_opts_t *o, const char *spec, char *id, size_t cap)
{
    if (lullctl_is_id(spec)) {
        snprintf(id, cap, "%s", spec);
        return LULLCTL_EXIT_OK;
    }
    char path[S_PATH_MAX], after[32] = "";
    for (int page = 0; page < S_SLUG_PAGES; page++) {
        cJSON *j = NULL;
        snprintf(path, sizeof path, "/api/v1/tenants?limit=1000%s%s", *after ? "&after=" : "", after);
        int rc = s_request(o, "GET", path, NULL, &j, NULL);
        if (rc != LULLCTL_EXIT_OK) return rc;
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(j, "tenants"))
        {
            const cJSON *slug = cJSON_GetObjectItemCaseSensitive(t, "slug");
            if (cJSON_IsString(slug) && strcmp(slug->valuestring, spec) == 0) {
                lullctl_cell(t, "id", id, cap);
                cJSON_Delete(j);
                return LULLCTL_EXIT_OK;
            }
        }
        const cJSON *next = cJSON_GetObjectItemCaseSensitive(j, "next_after");
        bool more = cJSON_IsNumber(next);
        if (more) snprintf(after, sizeof after, "%lld", (long long)next->valuedouble);
        cJSON_Delete(j);
        if (!more) break;
    }
    fprintf(stderr, "lullctl: no tenant with the id or slug '%.100s'\n", spec);
    return LULLCTL_EXIT_API;
}

// Reads a whole file (- = stdin) of at most S_FILE_MAX bytes; NULL (reported) on failure. Owned.
static char *s_read_file(const char *name)
{
    FILE *f = strcmp(name, "-") == 0 ? stdin : fopen(name, "rb");
    char *buf = NULL, *rv = NULL;
    if (!f) {
        fprintf(stderr, "lullctl: cannot open %s: %s\n", name, strerror(errno));
        goto cleanup;
    }
    buf = malloc(S_FILE_MAX + 1);
    if (!buf) goto cleanup;
    size_t n = fread(buf, 1, S_FILE_MAX + 1, f);
    if (ferror(f) || n > S_FILE_MAX) {
        fprintf(stderr, "lullctl: %s: %s\n", name, n > S_FILE_MAX ? "larger than 1 MiB" : strerror(errno));
        goto cleanup;
    }
    buf[n] = '\0';
    rv = buf;
    buf = NULL;
cleanup:
    free(buf);
    if (f && f != stdin) fclose(f);
    return rv;
}

// ---------------------------------------------------------------------------------------------------------
// Flags → the request body

// The JSON value a flag's text stands for: JSON when it parses, else the text as a string.
static cJSON *s_json_or_text(const char *text)
{
    char err[64];
    cJSON *v = lull_json_parse(text, strlen(text), LULL_JSON_MAX_DEPTH, err, sizeof err);
    return v ? v : cJSON_CreateString(text);
}

// Sets obj.key = v (replacing it), taking v. -1 when v is NULL (out of memory).
static int s_put(cJSON *obj, const char *key, cJSON *v)
{
    if (!v) return -1;
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddItemToObject(obj, key, v);
    return 0;
}

// The object at body.key to change one entry of: the one already in body, else a copy of the current row's
// (cur, on update), else a new one.
static cJSON *s_map(cJSON *body, const cJSON *cur, const char *key)
{
    cJSON *m = cJSON_GetObjectItemCaseSensitive(body, key);
    if (cJSON_IsObject(m)) return m;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(cur, key);
    m = cJSON_IsObject(c) ? cJSON_Duplicate(c, true) : cJSON_CreateObject();
    return s_put(body, key, m) == 0 ? m : NULL;
}

static cJSON *s_list(const char *text)
{
    cJSON *a = cJSON_CreateArray();
    for (const char *p = text; a && *p;) {
        size_t n = strcspn(p, ",");
        const char *s = p, *e = p + n;
        while (s < e && *s == ' ') s++;
        while (e > s && e[-1] == ' ') e--;
        char *w = strndup(s, (size_t)(e - s));
        cJSON *item = w ? cJSON_CreateString(w) : NULL;
        free(w);
        if (!item) {
            cJSON_Delete(a);
            return NULL;
        }
        cJSON_AddItemToArray(a, item);
        p += n;
        if (*p == ',') p++;
    }
    return a;
}

// Applies one flag's value to body. Returns the exit status (usage error when a KEY=VALUE is malformed).
static int s_apply(const lullctl_opts_t *o, const s_flag_t *f, const char *val, cJSON *body, const cJSON *cur)
{
    const char *eq = strchr(val, '=');
    char key[128], id[32];
    if ((f->kind == K_MAP || f->kind == K_CHWIN) && (!eq || eq == val || (size_t)(eq - val) >= sizeof key)) {
        fprintf(stderr, "lullctl: --%s needs %s\n", f->flag, f->meta);
        return LULLCTL_EXIT_USAGE;
    }
    if (eq) snprintf(key, sizeof key, "%.*s", (int)(eq - val), val);
    int rc = -1;
    switch (f->kind) {
    case K_TEXT: rc = s_put(body, f->field, cJSON_CreateString(val)); break;
    case K_JSON: rc = s_put(body, f->field, s_json_or_text(val)); break;
    case K_LIST: rc = s_put(body, f->field, s_list(val)); break;
    case K_MODEL:
        if (!eq || eq == val) rc = s_put(body, f->field, cJSON_CreateString(val));
        else {
            cJSON *m = s_map(body, cur, "models");
            rc = m ? s_put(m, key, cJSON_CreateString(eq + 1)) : -1;
        }
        break;
    case K_MAP: {
        cJSON *m = s_map(body, cur, f->field);
        rc = m ? s_put(m, key, cJSON_CreateString(eq + 1)) : -1;
        break;
    }
    case K_CHWIN: {
        cJSON *m = s_map(body, cur, f->field), *ch = m ? s_map(m, NULL, key) : NULL;  // m holds cur's channels
        rc = ch ? s_put(ch, f->sub, s_json_or_text(eq + 1)) : -1;
        break;
    }
    case K_FILE: {
        char *text = s_read_file(val);
        if (!text) return LULLCTL_EXIT_USAGE;
        rc = s_put(body, f->field, cJSON_CreateString(text));
        free(text);
        break;
    }
    case K_TENANT: {
        int trc = s_tenant_id(o, val, id, sizeof id);
        if (trc != LULLCTL_EXIT_OK) return trc;
        rc = s_put(body, f->field, cJSON_CreateNumber((double)strtoll(id, NULL, 10)));
        break;
    }
    }
    if (rc != 0) {
        fprintf(stderr, "lullctl: out of memory\n");
        return LULLCTL_EXIT_API;
    }
    return LULLCTL_EXIT_OK;
}

typedef struct {
    const char *pos;   // the positional argument (tenant, prompt id), NULL when none
    const char *file;  // --file
    int nfields;       // field flags, --set, --unset and --file given
    bool no_use;       // --no-use
} s_args_t;

static const s_flag_t *s_find(const s_flag_t *flags, const char *name, size_t n)
{
    for (const s_flag_t *f = flags; f->flag; f++)
        if (strlen(f->flag) == n && strncmp(f->flag, name, n) == 0) return f;
    return NULL;
}

// One pass over the arguments after the subcommand. With body NULL it only checks them and fills a; with
// body it applies the field flags (--file's object is already in body). Returns the exit status.
static int s_args(const lullctl_opts_t *o, int argc, char **argv, const s_flag_t *flags, bool may_no_use, s_args_t *a,
                  cJSON *body, const cJSON *cur)
{
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--json") == 0 || (may_no_use && strcmp(arg, "--no-use") == 0)) {
            if (arg[2] == 'n') a->no_use = true;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0) {
            if (a->pos && !body) {
                fprintf(stderr, "lullctl: unexpected argument '%.100s' (see --help)\n", arg);
                return LULLCTL_EXIT_USAGE;
            }
            a->pos = arg;
            continue;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
        const s_flag_t *f = s_find(flags, name, n);
        bool known = f || (n == 3 && strncmp(name, "set", 3) == 0) || (n == 5 && strncmp(name, "unset", 5) == 0) ||
                     (n == 4 && strncmp(name, "file", 4) == 0);
        if (!known) {
            fprintf(stderr, "lullctl: unknown option --%.*s (any field: --set FIELD=VALUE; see --help)\n", (int)(n > 60 ? 60 : n), name);
            return LULLCTL_EXIT_USAGE;
        }
        if (!val) {
            fprintf(stderr, "lullctl: --%.*s needs a value\n", (int)n, name);
            return LULLCTL_EXIT_USAGE;
        }
        if (!eq) i++;
        if (!body) a->nfields++;
        if (n == 4 && strncmp(name, "file", 4) == 0) {
            a->file = val;
            continue;
        }
        if (!body) continue;
        int rc = LULLCTL_EXIT_OK;
        if (f) rc = s_apply(o, f, val, body, cur);
        else if (name[0] == 'u') rc = s_put(body, val, cJSON_CreateNull()) == 0 ? LULLCTL_EXIT_OK : LULLCTL_EXIT_API;
        else {
            const char *e = strchr(val, '=');
            if (!e || e == val) {
                fprintf(stderr, "lullctl: --set needs FIELD=VALUE\n");
                return LULLCTL_EXIT_USAGE;
            }
            char key[128];
            snprintf(key, sizeof key, "%.*s", (int)(e - val), val);
            rc = s_put(body, key, s_json_or_text(e + 1)) == 0 ? LULLCTL_EXIT_OK : LULLCTL_EXIT_API;
        }
        if (rc != LULLCTL_EXIT_OK) return rc;
    }
    return LULLCTL_EXIT_OK;
}

// The request body: --file's object, then the flags over it. Returns the exit status.
static int s_body(const lullctl_opts_t *o, int argc, char **argv, const s_flag_t *flags, s_args_t *a, const cJSON *cur,
                  cJSON **body)
{
    char err[128];
    *body = NULL;
    if (a->file) {
        char *text = s_read_file(a->file);
        if (!text) return LULLCTL_EXIT_USAGE;
        *body = lull_json_parse(text, strlen(text), LULL_JSON_MAX_DEPTH, err, sizeof err);
        free(text);
        if (!cJSON_IsObject(*body)) {
            fprintf(stderr, "lullctl: %s: not a JSON object%s%s\n", a->file, *body ? "" : ": ", *body ? "" : err);
            cJSON_Delete(*body);
            *body = NULL;
            return LULLCTL_EXIT_USAGE;
        }
    } else *body = cJSON_CreateObject();
    if (!*body) return LULLCTL_EXIT_API;
    int rc = s_args(o, argc, argv, flags, true, a, *body, cur);
    if (rc != LULLCTL_EXIT_OK) {
        cJSON_Delete(*body);
        *body = NULL;
    }
    return rc;
}

// ---------------------------------------------------------------------------------------------------------
// Output

// Prints a row as "field  value" lines in the API's order (lists joined with ", ", maps as JSON, null as -);
// the field named last (e.g. a prompt's template) is printed at the end, whole, under its name.
static void s_print_row(const cJSON *row, const char *last)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, row)
    {
        if (last && strcmp(v->string, last) == 0) continue;
        char cell[4096];
        if (cJSON_IsArray(v)) {
            size_t used = 0;
            const cJSON *e;
            cell[0] = '\0';
            cJSON_ArrayForEach(e, v)
            {
                char one[512];
                lullctl_cell(e, "", one, sizeof one);
                if (used < sizeof cell) used += (size_t)snprintf(cell + used, sizeof cell - used, "%s%s", used ? ", " : "", one);
            }
            if (!used) snprintf(cell, sizeof cell, "(none)");
        } else lullctl_cell(row, v->string, cell, sizeof cell);
        printf("%-24s %s\n", v->string, cell);
    }
    const cJSON *t = last ? cJSON_GetObjectItemCaseSensitive(row, last) : NULL;
    if (cJSON_IsString(t)) {
        size_t n = strlen(t->valuestring);
        printf("%s:\n%s%s", last, t->valuestring, n && t->valuestring[n - 1] == '\n' ? "" : "\n");
    }
}

// Prints a written or fetched row: the API's JSON with --json, else a heading line and the fields.
static void s_show(const lullctl_opts_t *o, const char *raw, const cJSON *row, const char *heading, const char *last)
{
    if (o->json) {
        printf("%s\n", raw);
        return;
    }
    if (heading) printf("%s\n", heading);
    s_print_row(row, last);
}

// ---------------------------------------------------------------------------------------------------------
// Commands

// list: the table the bare command printed before the subcommands existed.
static int s_list_cmd(const lullctl_opts_t *o, const char *what, int argc, char **argv)
{
    static const lullctl_col_t tc[] = {{"ID", "id", 6},            {"SLUG", "slug", 16},
                                       {"NAME", "name", 24},       {"WINDOW_MS", "window_ms", 9},
                                       {"MAX_WAIT_MS", "max_wait_ms", 11}, {"CHAIN", "provider_chain", 0}};
    static const lullctl_col_t pc[] = {{"ID", "id", 6},           {"TENANT", "tenant_id", 6}, {"NAME", "name", 16},
                                       {"VERSION", "version", 7}, {"ACTIVE", "active", 0}};
    bool prompts = strcmp(what, "prompts") == 0;
    const char *tenant = NULL, *limit = NULL, *after = NULL;
    char path[S_PATH_MAX], id[32];
    for (int i = 0; i < argc; i++) {
        const char **slot = strcmp(argv[i], "--limit") == 0                ? &limit
                            : strcmp(argv[i], "--after") == 0              ? &after
                            : prompts && strcmp(argv[i], "--tenant") == 0 ? &tenant
                                                                           : NULL;
        if (strcmp(argv[i], "--json") == 0) continue;
        if (!slot || i + 1 >= argc) {
            fprintf(stderr, "lullctl: %s %s (see lullctl %s --help)\n", slot ? "a value is missing after" : "unexpected argument",
                    argv[i], what);
            return LULLCTL_EXIT_USAGE;
        }
        *slot = argv[++i];
    }
    if (tenant) {
        int rc = s_tenant_id(o, tenant, id, sizeof id);
        if (rc != LULLCTL_EXIT_OK) return rc;
    }
    snprintf(path, sizeof path, "/api/v1/%s", what);
    lullctl_param(path, sizeof path, "tenant", tenant ? id : NULL);
    lullctl_param(path, sizeof path, "limit", limit);
    lullctl_param(path, sizeof path, "after", after);
    return lullctl_run(o, "GET", path, NULL, what, prompts ? pc : tc, prompts ? 5 : 6, NULL);
}

static bool s_has(int argc, char **argv, const char *flag)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], flag) == 0) return true;
    return false;
}

// What tenants and prompts do before their subcommand: --json anywhere, the subcommand (list when none), --help
// and list. Returns -1 when the caller goes on with *sub (its arguments from argv + *skip), else the exit status.
static int s_front(const lullctl_opts_t *o0, int argc, char **argv, const char *what, const char *usage,
                   const s_flag_t *flags, lullctl_opts_t *o, const char **sub, int *skip)
{
    *o = *o0;
    o->json = o->json || s_has(argc, argv, "--json");
    *skip = argc > 0 && strncmp(argv[0], "--", 2) != 0 ? 1 : 0;
    *sub = *skip ? argv[0] : "list";
    if (strcmp(*sub, "help") == 0 || s_has(argc, argv, "--help") || s_has(argc, argv, "-h")) {
        s_help(usage, flags);
        return LULLCTL_EXIT_OK;
    }
    if (strcmp(*sub, "list") == 0) return s_list_cmd(o, what, argc - *skip, argv + *skip);
    return -1;
}

int lullctl_tenants(const lullctl_opts_t *o0, int argc, char **argv)
{
    lullctl_opts_t o;
    const char *sub;
    int skip, rc = s_front(o0, argc, argv, "tenants", s_tenants_usage, s_tenant_flags, &o, &sub, &skip);
    if (rc >= 0) return rc;
    s_args_t a = {0};
    cJSON *body = NULL, *cur = NULL, *row = NULL;
    char *text = NULL, *raw = NULL, path[S_PATH_MAX], id[32], heading[160];
    if ((rc = s_args(&o, argc - skip, argv + skip, s_tenant_flags, false, &a, NULL, NULL)) != LULLCTL_EXIT_OK) goto cleanup;
    bool show = strcmp(sub, "show") == 0, create = strcmp(sub, "create") == 0, update = strcmp(sub, "update") == 0;
    if (!show && !create && !update) {
        rc = lullctl_usage_error("usage: tenants list | show TENANT | create --slug SLUG … | update TENANT … (tenants --help)");
        goto cleanup;
    }
    if (create == (a.pos != NULL) || (show && a.nfields)) {
        rc = lullctl_usage_error(create ? "tenants create takes no TENANT (give --slug)"
                                        : show ? "usage: tenants show TENANT [--json]" : "usage: tenants update TENANT [FIELD FLAGS]");
        goto cleanup;
    }
    if (!create) {
        if ((rc = s_tenant_id(&o, a.pos, id, sizeof id)) != LULLCTL_EXIT_OK) goto cleanup;
        snprintf(path, sizeof path, "/api/v1/tenants/%s", id);
        if ((rc = s_request(&o, "GET", path, NULL, &cur, &raw)) != LULLCTL_EXIT_OK) goto cleanup;
        if (show) {
            s_show(&o, raw, cur, NULL, NULL);
            goto cleanup;
        }
        free(raw);
        raw = NULL;
    }
    if ((rc = s_body(&o, argc - skip, argv + skip, s_tenant_flags, &a, cur, &body)) != LULLCTL_EXIT_OK) goto cleanup;
    text = cJSON_PrintUnformatted(body);
    if (!text) {
        rc = LULLCTL_EXIT_API;
        goto cleanup;
    }
    rc = s_request(&o, create ? "POST" : "PATCH", create ? "/api/v1/tenants" : path, text, &row, &raw);
    if (rc != LULLCTL_EXIT_OK) goto cleanup;
    char rid[32], slug[128];
    lullctl_cell(row, "id", rid, sizeof rid);
    lullctl_cell(row, "slug", slug, sizeof slug);
    snprintf(heading, sizeof heading, "tenant %s (%.60s) %s", rid, slug, create ? "created" : "updated");
    s_show(&o, raw, row, heading, NULL);
cleanup:
    cJSON_Delete(body);
    cJSON_Delete(cur);
    cJSON_Delete(row);
    free(text);
    free(raw);
    return rc;
}

// prompts set: creates (no ID) or changes prompt ID, then points its tenant's prompt_id at it.
static int s_prompt_set(const lullctl_opts_t *o, int argc, char **argv, s_args_t *a)
{
    cJSON *body = NULL, *row = NULL, *ten = NULL;
    char *text = NULL, *raw = NULL, path[S_PATH_MAX], tpath[S_PATH_MAX], pid[32], tid[32], ver[32];
    int rc = LULLCTL_EXIT_USAGE;
    if (a->pos && !lullctl_is_id(a->pos)) {
        rc = lullctl_usage_error("the prompt id must be a positive integer");
        goto cleanup;
    }
    if ((rc = s_body(o, argc, argv, s_prompt_flags, a, NULL, &body)) != LULLCTL_EXIT_OK) goto cleanup;
    text = cJSON_PrintUnformatted(body);
    if (!text) {
        rc = LULLCTL_EXIT_API;
        goto cleanup;
    }
    snprintf(path, sizeof path, "/api/v1/prompts%s%s", a->pos ? "/" : "", a->pos ? a->pos : "");
    if ((rc = s_request(o, a->pos ? "PATCH" : "POST", path, text, &row, &raw)) != LULLCTL_EXIT_OK) goto cleanup;
    lullctl_cell(row, "id", pid, sizeof pid);
    lullctl_cell(row, "tenant_id", tid, sizeof tid);
    lullctl_cell(row, "version", ver, sizeof ver);
    if (!a->no_use) {
        char use[64];
        snprintf(tpath, sizeof tpath, "/api/v1/tenants/%s", tid);
        snprintf(use, sizeof use, "{\"prompt_id\":%s}", pid);
        if ((rc = s_request(o, "PATCH", tpath, use, &ten, NULL)) != LULLCTL_EXIT_OK) {
            fprintf(stderr, "lullctl: prompt %s was saved, but tenant %s does not use it\n", pid, tid);
            goto cleanup;
        }
    }
    if (o->json) printf("%s\n", raw);
    else if (a->no_use) printf("prompt %s (tenant %s, version %s) saved\n", pid, tid, ver);
    else printf("prompt %s (tenant %s, version %s) saved; tenant %s uses it\n", pid, tid, ver, tid);
cleanup:
    cJSON_Delete(body);
    cJSON_Delete(row);
    cJSON_Delete(ten);
    free(text);
    free(raw);
    return rc;
}

int lullctl_prompts(const lullctl_opts_t *o0, int argc, char **argv)
{
    lullctl_opts_t o;
    const char *sub;
    int skip, rc = s_front(o0, argc, argv, "prompts", s_prompts_usage, s_prompt_flags, &o, &sub, &skip);
    if (rc >= 0) return rc;
    s_args_t a = {0};
    cJSON *row = NULL;
    char *raw = NULL, path[S_PATH_MAX];
    if ((rc = s_args(&o, argc - skip, argv + skip, s_prompt_flags, strcmp(sub, "set") == 0, &a, NULL, NULL)) != LULLCTL_EXIT_OK)
        goto cleanup;
    if (strcmp(sub, "set") == 0) rc = s_prompt_set(&o, argc - skip, argv + skip, &a);
    else if (strcmp(sub, "show") == 0) {
        if (!a.pos || !lullctl_is_id(a.pos) || a.nfields) {
            rc = lullctl_usage_error("usage: prompts show ID [--json]");
            goto cleanup;
        }
        snprintf(path, sizeof path, "/api/v1/prompts/%s", a.pos);
        if ((rc = s_request(&o, "GET", path, NULL, &row, &raw)) == LULLCTL_EXIT_OK) s_show(&o, raw, row, NULL, "template");
    } else rc = lullctl_usage_error("usage: prompts list | show ID | set … (prompts --help)");
cleanup:
    cJSON_Delete(row);
    free(raw);
    return rc;
}
