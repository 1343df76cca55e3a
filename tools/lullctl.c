// lullctl: the command-line client of lull's admin API (on lull-admin). Synchronous libcurl easy requests,
// human-readable tables by default, the raw JSON with --json. Exit codes: 0 ok, 1 API or connection error,
// 64 usage error.
#include "lullctl_client.h"
#include "lullctl_agents.h"
#include "lullctl_tenants.h"

#include "lull_json.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_CSV_LINE_MAX 65536
#define S_CSV_FIELDS 16

typedef lullctl_opts_t s_opts_t;  // main()'s name for them (its default URL line is another change's)

static const char s_usage[] =
    "usage: lullctl [--url URL] [--token TOKEN] [--json] COMMAND [ARGS]\n"
    "\n"
    "The command-line client of lull's admin API (served by lull-ingress).\n"
    "  --url URL      admin API base URL (default $LULL_ADMIN_URL, else http://127.0.0.1:8081)\n"
    "  --token TOKEN  bearer token (default $LULL_ADMIN_TOKEN)\n"
    "  --json         print the API's JSON instead of a table\n"
    "\n"
    "Commands:\n"
    "  status                                   health of every tier\n"
    "  windows                                  open answer windows (conversation, seconds left)\n"
    "  cancel CONV                              cancel a conversation's window (its burst is not answered)\n"
    "  flush CONV                               answer a conversation's window now\n"
    "  conversations [--status S] [--channel C] [--q TEXT] [--limit N] [--after ID]\n"
    "  show CONV                                a conversation with contact, messages, analyses, escalations\n"
    "  handback CONV [--answer-pending]         hand an escalated/paused conversation back to the bot\n"
    "  takeover CONV [--pause-ms N]             take a conversation over: the bot is silent, nothing sent\n"
    "  reply CONV TEXT [--key K]                send a human agent's reply (pauses the bot); a retry with\n"
    "                                           the same --key sends nothing twice\n"
    "  escalations [--all]                      open escalations (--all: resolved ones too)\n"
    "  dead-letters [--tenant T] [--channel C] [--since TS] [--limit N]\n"
    "  replay ID | replay --all [--tenant T] [--channel C] [--since TS]\n"
    "  usage [--tenant T] [--contact C] [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
    "  tenants list | show T | create --slug S [FIELDS] | update T [FIELDS]   (lullctl tenants --help)\n"
    "  prompts list [--tenant T] | show ID | set --tenant T --template-file F   (lullctl prompts --help)\n"
    "  try TEXT [--tenant SLUG]                 the reply (and analysis) a worker would give, nothing sent\n"
    "  analyse TEXT [--tenant SLUG]             sentiment, intent … of TEXT (a worker's analysis call only)\n"
    "  inventory list [--tenant T] | inventory import FILE.csv [--tenant T]\n"
    "  agents list | add NAME [--role agent|admin] [--display-name TEXT] | revoke NAME | me\n"
    "      (add prints the new agent's token once; lullctl agents --help)\n"
    "      (CSV header: sku,name,description,category,size,measurements,price,status; upserts by sku)\n"
    "\n"
    "Exit status: 0 ok, 1 API or connection error, 64 usage error.\n";

// Parses "--name VALUE" options of a command into vals (in the order of names) and "--flag" into flags.
// Positional arguments go to pos. -1 on an unknown option or a missing value (message printed).
static int s_opts(int argc, char **argv, const char *const *names, const char **vals, const char *const *flagn,
                  bool *flags, const char **pos, int maxpos, int *npos)
{
    *npos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool done = false;
        for (int k = 0; names && names[k] && !done; k++)
            if (strcmp(a + 2, names[k]) == 0 && strncmp(a, "--", 2) == 0) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "lullctl: %s needs a value\n", a);
                    return -1;
                }
                vals[k] = argv[++i];
                done = true;
            }
        for (int k = 0; flagn && flagn[k] && !done; k++)
            if (strncmp(a, "--", 2) == 0 && strcmp(a + 2, flagn[k]) == 0) {
                flags[k] = true;
                done = true;
            }
        if (done) continue;
        if (strncmp(a, "--", 2) == 0) {
            fprintf(stderr, "lullctl: unknown option %s\n", a);
            return -1;
        }
        if (*npos >= maxpos) {
            fprintf(stderr, "lullctl: unexpected argument '%s'\n", a);
            return -1;
        }
        pos[(*npos)++] = a;
    }
    return 0;
}


// ---------------------------------------------------------------------------------------------------------
// CSV import

// Splits one CSV record (RFC 4180 quotes, no embedded newlines) into fields (pointers into line, modified).
static int s_csv_split(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n >= max) return -1;
        char *w = p;
        f[n++] = w;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p) return -1;  // unterminated quote
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else *w++ = *p++;
            }
            if (*p && *p != ',') return -1;
        } else {
            while (*p && *p != ',') *w++ = *p++;
        }
        bool more = *p == ',';
        *w = '\0';
        if (!more) break;
        p++;
    }
    return n;
}

static int s_import(const lullctl_opts_t *o, const char *file, const char *tenant)
{
    static const char *const want[] = {"sku", "name", "description", "category", "size", "measurements", "price", "status"};
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
    if (!f) {
        fprintf(stderr, "lullctl: cannot open %s: %s\n", file, strerror(errno));
        return LULLCTL_EXIT_USAGE;
    }
    char *line = malloc(S_CSV_LINE_MAX);
    int rc = LULLCTL_EXIT_OK, lineno = 0, imported = 0, failed = 0, map[S_CSV_FIELDS];
    int ncols = 0;
    if (!line) {
        rc = LULLCTL_EXIT_API;
        goto cleanup;
    }
    while (fgets(line, S_CSV_LINE_MAX, f)) {
        lineno++;
        size_t n = strlen(line);
        if (n && line[n - 1] != '\n' && !feof(f)) {
            fprintf(stderr, "lullctl: %s:%d: line longer than %d bytes\n", file, lineno, S_CSV_LINE_MAX);
            rc = LULLCTL_EXIT_USAGE;
            goto cleanup;
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        if (lineno == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0) memmove(line, line + 3, n - 2);
        if (!*line) continue;
        char *fields[S_CSV_FIELDS];
        int nf = s_csv_split(line, fields, S_CSV_FIELDS);
        if (nf < 0) {
            fprintf(stderr, "lullctl: %s:%d: malformed CSV (quotes or more than %d fields)\n", file, lineno, S_CSV_FIELDS);
            if (lineno == 1) {
                rc = LULLCTL_EXIT_USAGE;
                goto cleanup;
            }
            failed++;
            continue;
        }
        if (ncols == 0) {  // the header
            bool has_sku = false;
            for (int i = 0; i < nf; i++) {
                map[i] = -1;
                for (int k = 0; k < 8; k++)
                    if (strcmp(fields[i], want[k]) == 0) map[i] = k;
                if (map[i] < 0) {
                    fprintf(stderr, "lullctl: %s:1: unknown column '%s' (expected sku,name,description,category,size,measurements,price,status)\n", file, fields[i]);
                    rc = LULLCTL_EXIT_USAGE;
                    goto cleanup;
                }
                has_sku = has_sku || map[i] == 0;
            }
            if (!has_sku) {
                fprintf(stderr, "lullctl: %s:1: the header has no 'sku' column\n", file);
                rc = LULLCTL_EXIT_USAGE;
                goto cleanup;
            }
            ncols = nf;
            continue;
        }
        if (nf != ncols) {
            fprintf(stderr, "lullctl: %s:%d: %d fields, the header has %d\n", file, lineno, nf, ncols);
            failed++;
            continue;
        }
        cJSON *obj = cJSON_CreateObject();
        cJSON_AddNumberToObject(obj, "tenant_id", (double)strtoll(tenant, NULL, 10));
        bool bad = false;
        for (int i = 0; i < nf; i++) {
            const char *name = want[map[i]];
            if (!*fields[i]) continue;  // empty = not given
            if (map[i] == 6) {
                char *end = NULL;
                double d = strtod(fields[i], &end);
                if (*end) {
                    fprintf(stderr, "lullctl: %s:%d: price '%s' is not a number\n", file, lineno, fields[i]);
                    bad = true;
                }
                cJSON_AddNumberToObject(obj, name, d);
            } else cJSON_AddStringToObject(obj, name, fields[i]);
        }
        char *body = bad ? NULL : cJSON_PrintUnformatted(obj);
        cJSON_Delete(obj);
        if (!body) {
            failed++;
            continue;
        }
        long status;
        char *out = NULL;
        if (lullctl_call(o, "POST", "/api/v1/inventory?upsert=true", body, &status, &out) != 0) {
            free(body);
            rc = LULLCTL_EXIT_API;
            goto cleanup;
        }
        if (status >= 200 && status < 300) imported++;
        else {
            char where[600];
            snprintf(where, sizeof where, "%.500s:%d: ", file, lineno);
            lullctl_print_error_at(where, status, out);
            failed++;
        }
        free(out);
        free(body);
    }
    if (o->json) printf("{\"imported\":%d,\"failed\":%d}\n", imported, failed);
    else printf("imported %d item(s), %d failed\n", imported, failed);
    if (failed) rc = LULLCTL_EXIT_API;
cleanup:
    free(line);
    if (f != stdin) fclose(f);
    return rc;
}

// ---------------------------------------------------------------------------------------------------------
// Commands

static int s_command(const lullctl_opts_t *o, const char *cmd, int argc, char **argv)
{
    char path[2048], body[8192];
    const char *pos[3] = {0};
    int npos = 0;
    if (strcmp(cmd, "status") == 0) {
        if (s_opts(argc, argv, NULL, NULL, NULL, NULL, pos, 0, &npos) != 0) return LULLCTL_EXIT_USAGE;
        long status;
        char *out = NULL;
        if (lullctl_call(o, "GET", "/api/v1/health", NULL, &status, &out) != 0) return LULLCTL_EXIT_API;
        char err[128];
        cJSON *j = out ? lull_json_parse(out, strlen(out), LULL_JSON_MAX_DEPTH, err, sizeof err) : NULL;
        const cJSON *tiers = cJSON_GetObjectItemCaseSensitive(j, "tiers");
        int rc = status == 200 ? LULLCTL_EXIT_OK : LULLCTL_EXIT_API;
        if (o->json && out) printf("%s\n", out);
        else if (cJSON_IsObject(tiers)) {
            printf("%-12s  %s\n", "TIER", "STATUS");
            const cJSON *t;
            cJSON_ArrayForEach(t, tiers)
            {
                const cJSON *s = cJSON_GetObjectItemCaseSensitive(t, "status");
                printf("%-12s  %s\n", t->string, cJSON_IsString(s) ? s->valuestring : "?");
            }
        } else lullctl_print_error(status, out);
        cJSON_Delete(j);
        free(out);
        return rc;
    }
    if (strcmp(cmd, "windows") == 0) {
        if (s_opts(argc, argv, NULL, NULL, NULL, NULL, pos, 0, &npos) != 0) return LULLCTL_EXIT_USAGE;
        static const lullctl_col_t c[] = {{"CONV", "conversation_id", 10}, {"TENANT", "tenant_id", 6}, {"CHANNEL", "channel", 8},
                                    {"MSGS", "messages", 4},        {"LEFT_S", "seconds_left", 8}, {"STATE", "state", 10}};
        return lullctl_run(o, "GET", "/api/v1/windows?limit=1000", NULL, "windows", c, 6, NULL);
    }
    if (strcmp(cmd, "cancel") == 0 || strcmp(cmd, "flush") == 0 || strcmp(cmd, "handback") == 0 ||
        strcmp(cmd, "show") == 0) {
        static const char *const fl[] = {"answer-pending", NULL};
        bool flags[1] = {false};
        bool hb = strcmp(cmd, "handback") == 0;
        if (s_opts(argc, argv, NULL, NULL, hb ? fl : NULL, flags, pos, 1, &npos) != 0) return LULLCTL_EXIT_USAGE;
        if (npos != 1 || !lullctl_is_id(pos[0])) return lullctl_usage_error("give one conversation id (a positive integer)");
        if (strcmp(cmd, "show") == 0) {
            snprintf(path, sizeof path, "/api/v1/conversations/%s", pos[0]);
            if (o->json) return lullctl_run(o, "GET", path, NULL, NULL, NULL, 0, NULL);
            long status;
            char *out = NULL;
            if (lullctl_call(o, "GET", path, NULL, &status, &out) != 0) return LULLCTL_EXIT_API;
            char err[128];
            cJSON *j = status == 200 && out ? lull_json_parse(out, strlen(out), LULL_JSON_MAX_DEPTH, err, sizeof err) : NULL;
            if (!j) {
                lullctl_print_error(status, out);
                free(out);
                return LULLCTL_EXIT_API;
            }
            char a[256], b[256], c[256], d[256];
            lullctl_cell(j, "id", a, sizeof a);
            lullctl_cell(j, "status", b, sizeof b);
            lullctl_cell(j, "channel", c, sizeof c);
            lullctl_cell(j, "contact.external_id", d, sizeof d);
            printf("conversation %s  status %s  channel %s  contact %s\n", a, b, c, d);
            lullctl_cell(j, "paused_until", a, sizeof a);
            lullctl_cell(j, "escalation_reason", b, sizeof b);
            printf("paused until %s  escalation %s\n\n", a, b);
            static const lullctl_col_t mc[] = {{"ID", "id", 8}, {"DIR", "direction", 3}, {"AUTHOR", "author", 7}, {"BODY", "body", 0}};
            lullctl_table(cJSON_GetObjectItemCaseSensitive(j, "messages"), mc, 4);
            static const lullctl_col_t ac[] = {{"ANALYSIS", "id", 8}, {"SENTIMENT", "sentiment", 9}, {"INTENT", "intent", 16}, {"ESCALATE", "escalate", 0}};
            printf("\n");
            lullctl_table(cJSON_GetObjectItemCaseSensitive(j, "analyses"), ac, 4);
            cJSON_Delete(j);
            free(out);
            return LULLCTL_EXIT_OK;
        }
        if (hb) {
            snprintf(path, sizeof path, "/api/v1/conversations/%s/handback", pos[0]);
            return lullctl_run(o, "POST", path, flags[0] ? "{\"answer_pending\":true}" : "{}", NULL, NULL, 0, "handed back:");
        }
        snprintf(path, sizeof path, "/api/v1/windows/%s/%s", pos[0], cmd);
        return lullctl_run(o, "POST", path, NULL, NULL, NULL, 0, strcmp(cmd, "cancel") == 0 ? "cancelled:" : "flushed:");
    }
    if (strcmp(cmd, "conversations") == 0) {
        static const char *const names[] = {"status", "channel", "q", "limit", "after", NULL};
        const char *v[5] = {0};
        if (s_opts(argc, argv, names, v, NULL, NULL, pos, 0, &npos) != 0) return LULLCTL_EXIT_USAGE;
        snprintf(path, sizeof path, "/api/v1/conversations");
        for (int i = 0; i < 5; i++) lullctl_param(path, sizeof path, names[i], v[i]);
        static const lullctl_col_t c[] = {{"ID", "id", 8},         {"TENANT", "tenant_id", 6},          {"CHANNEL", "channel", 8},
                                    {"STATUS", "status", 9}, {"CONTACT", "contact.external_id", 20}, {"LAST_INBOUND", "last_inbound_at", 0}};
        return lullctl_run(o, "GET", path, NULL, "conversations", c, 6, NULL);
    }
    if (strcmp(cmd, "takeover") == 0) {
        static const char *const names[] = {"pause-ms", NULL};
        const char *v[1] = {0};
        if (s_opts(argc, argv, names, v, NULL, NULL, pos, 1, &npos) != 0) return LULLCTL_EXIT_USAGE;
        if (npos != 1 || !lullctl_is_id(pos[0]) || (v[0] && !lullctl_is_id(v[0])))
            return lullctl_usage_error("usage: takeover CONV [--pause-ms N] (positive integers)");
        char b[64];
        if (v[0]) snprintf(b, sizeof b, "{\"pause_ms\":%.20s}", v[0]);
        else snprintf(b, sizeof b, "{}");
        snprintf(path, sizeof path, "/api/v1/conversations/%s/takeover", pos[0]);
        return lullctl_run(o, "POST", path, b, NULL, NULL, 0, "taken over:");
    }
    if (strcmp(cmd, "reply") == 0) {
        static const char *const names[] = {"key", NULL};
        const char *v[1] = {0};
        if (s_opts(argc, argv, names, v, NULL, NULL, pos, 2, &npos) != 0) return LULLCTL_EXIT_USAGE;
        if (npos != 2 || !lullctl_is_id(pos[0])) return lullctl_usage_error("usage: reply CONV TEXT [--key IDEMPOTENCY_KEY]");
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "body", pos[1]);
        if (v[0]) cJSON_AddStringToObject(b, "idempotency_key", v[0]);
        char *t = cJSON_PrintUnformatted(b);
        cJSON_Delete(b);
        snprintf(path, sizeof path, "/api/v1/conversations/%s/reply", pos[0]);
        int rc = t ? lullctl_run(o, "POST", path, t, NULL, NULL, 0, "reply queued:") : LULLCTL_EXIT_API;
        free(t);
        return rc;
    }
    if (strcmp(cmd, "try") == 0 || strcmp(cmd, "analyse") == 0 || strcmp(cmd, "analyze") == 0) {
        static const char *const names[] = {"tenant", NULL};
        const char *v[1] = {0};
        if (s_opts(argc, argv, names, v, NULL, NULL, pos, 1, &npos) != 0) return LULLCTL_EXIT_USAGE;
        if (npos != 1) return lullctl_usage_error(cmd[0] == 't' ? "usage: try TEXT [--tenant SLUG]" : "usage: analyse TEXT [--tenant SLUG]");
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "text", pos[0]);
        if (v[0]) cJSON_AddStringToObject(b, "tenant", v[0]);
        char *t = cJSON_PrintUnformatted(b);
        cJSON_Delete(b);
        int rc = t ? lullctl_run(o, "POST", cmd[0] == 't' ? "/api/v1/test/reply" : "/api/v1/test/analyse", t, "@try", NULL, 0,
                           NULL)
                   : LULLCTL_EXIT_API;
        free(t);
        return rc;
    }
    if (strcmp(cmd, "escalations") == 0) {
        static const char *const fl[] = {"all", NULL};
        bool all[1] = {false};
        if (s_opts(argc, argv, NULL, NULL, fl, all, pos, 0, &npos) != 0) return LULLCTL_EXIT_USAGE;
        static const lullctl_col_t c[] = {{"ID", "id", 6},         {"CONV", "conversation_id", 8}, {"TENANT", "tenant_id", 6},
                                    {"SOURCE", "source", 12}, {"REASON", "reason", 30},     {"RESOLVED", "resolved_at", 0}};
        return lullctl_run(o, "GET", all[0] ? "/api/v1/escalations?limit=1000" : "/api/v1/escalations?open=true&limit=1000",
                     NULL, "escalations", c, 6, NULL);
    }
    if (strcmp(cmd, "dead-letters") == 0) {
        static const char *const names[] = {"tenant", "channel", "since", "limit", "before", NULL};
        const char *v[5] = {0};
        if (s_opts(argc, argv, names, v, NULL, NULL, pos, 0, &npos) != 0) return LULLCTL_EXIT_USAGE;
        snprintf(path, sizeof path, "/api/v1/dead-letters");
        for (int i = 0; i < 5; i++) lullctl_param(path, sizeof path, names[i], v[i]);
        static const lullctl_col_t c[] = {{"ID", "id", 8},          {"TENANT", "tenant_id", 6}, {"CHANNEL", "channel", 8},
                                    {"STATUS", "status", 8},  {"TRIES", "attempts", 5},   {"LAST_ERROR", "last_error", 0}};
        return lullctl_run(o, "GET", path, NULL, "dead_letters", c, 6, NULL);
    }
    if (strcmp(cmd, "replay") == 0) {
        static const char *const names[] = {"tenant", "channel", "since", NULL};
        static const char *const fl[] = {"all", NULL};
        const char *v[3] = {0};
        bool all[1] = {false};
        if (s_opts(argc, argv, names, v, fl, all, pos, 1, &npos) != 0) return LULLCTL_EXIT_USAGE;
        if (all[0] == (npos == 1)) return lullctl_usage_error("usage: replay ID | replay --all [--tenant T] [--channel C] [--since TS]");
        if (npos == 1) {
            if (!lullctl_is_id(pos[0])) return lullctl_usage_error("the dead letter id must be a positive integer");
            snprintf(path, sizeof path, "/api/v1/dead-letters/%s/replay", pos[0]);
            return lullctl_run(o, "POST", path, NULL, NULL, NULL, 0, "replayed:");
        }
        if (v[0] && !lullctl_is_id(v[0])) return lullctl_usage_error("--tenant must be a tenant id");
        cJSON *b = cJSON_CreateObject();
        if (v[0]) cJSON_AddNumberToObject(b, "tenant", (double)strtoll(v[0], NULL, 10));
        if (v[1]) cJSON_AddStringToObject(b, "channel", v[1]);
        if (v[2]) cJSON_AddStringToObject(b, "since", v[2]);
        if (!v[0] && !v[1] && !v[2]) cJSON_AddBoolToObject(b, "all", true);
        char *t = cJSON_PrintUnformatted(b);
        cJSON_Delete(b);
        int rc = t ? lullctl_run(o, "POST", "/api/v1/dead-letters/replay", t, NULL, NULL, 0, "replayed:") : LULLCTL_EXIT_API;
        free(t);
        return rc;
    }
    if (strcmp(cmd, "usage") == 0) {
        static const char *const names[] = {"tenant", "contact", "from", "to", "limit", NULL};
        const char *v[5] = {0};
        if (s_opts(argc, argv, names, v, NULL, NULL, pos, 0, &npos) != 0) return LULLCTL_EXIT_USAGE;
        snprintf(path, sizeof path, "/api/v1/usage");
        for (int i = 0; i < 5; i++) lullctl_param(path, sizeof path, names[i], v[i]);
        static const lullctl_col_t c[] = {{"DAY", "day", 10},           {"TENANT", "tenant_id", 6},
                                    {"CONTACT", "contact_id", 8}, {"REQUESTS", "requests", 8},
                                    {"PROMPT_TOK", "prompt_tokens", 10}, {"COMPL_TOK", "completion_tokens", 10},
                                    {"COST_USD", "cost_usd", 0}};
        return lullctl_run(o, "GET", path, NULL, "usage", c, 7, NULL);
    }
    if (strcmp(cmd, "tenants") == 0) return lullctl_tenants(o, argc, argv);
    if (strcmp(cmd, "prompts") == 0) return lullctl_prompts(o, argc, argv);
    if (strcmp(cmd, "agents") == 0) return lullctl_agents(o, argc, argv);
    if (strcmp(cmd, "inventory") == 0) {
        static const char *const names[] = {"tenant", "limit", "after", NULL};
        const char *v[3] = {0};
        if (s_opts(argc, argv, names, v, NULL, NULL, pos, 2, &npos) != 0) return LULLCTL_EXIT_USAGE;
        if (npos < 1 || (strcmp(pos[0], "list") != 0 && strcmp(pos[0], "import") != 0))
            return lullctl_usage_error("usage: inventory list [--tenant T] | inventory import FILE.csv [--tenant T]");
        if (strcmp(pos[0], "import") == 0) {
            if (npos != 2) return lullctl_usage_error("usage: inventory import FILE.csv [--tenant T]");
            if (v[0] && !lullctl_is_id(v[0])) return lullctl_usage_error("--tenant must be a tenant id");
            return s_import(o, pos[1], v[0] ? v[0] : "1");
        }
        if (npos != 1) return lullctl_usage_error("unexpected argument");
        snprintf(path, sizeof path, "/api/v1/inventory");
        for (int i = 0; i < 3; i++) lullctl_param(path, sizeof path, names[i], v[i]);
        static const lullctl_col_t ic[] = {{"ID", "id", 6},         {"TENANT", "tenant_id", 6}, {"SKU", "sku", 12}, {"NAME", "name", 24},
                                           {"PRICE", "price", 10}, {"STATUS", "status", 0}};
        return lullctl_run(o, "GET", path, NULL, "inventory", ic, 6, NULL);
    }
    (void)body;
    char msg[160];
    snprintf(msg, sizeof msg, "unknown command '%.60s'", cmd);
    return lullctl_usage_error(msg);
}

int main(int argc, char **argv)
{
    const char *env_url = getenv("LULL_ADMIN_URL"), *env_tok = getenv("LULL_ADMIN_TOKEN");
    s_opts_t o = {.url = env_url && *env_url ? env_url : "http://127.0.0.1:8081", .token = env_tok ? env_tok : ""};
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(s_usage, stdout);
            return LULLCTL_EXIT_OK;
        } else if (strcmp(argv[i], "--json") == 0) o.json = true;
        else if (strcmp(argv[i], "--url") == 0 || strcmp(argv[i], "--token") == 0) {
            if (i + 1 >= argc) return lullctl_usage_error("--url and --token need a value");
            if (argv[i][2] == 'u') o.url = argv[++i];
            else o.token = argv[++i];
        } else if (strncmp(argv[i], "--", 2) == 0) {
            char msg[120];
            snprintf(msg, sizeof msg, "unknown option %.60s", argv[i]);
            return lullctl_usage_error(msg);
        } else break;
    }
    if (i >= argc) return lullctl_usage_error("no command");
    if (strncmp(o.url, "http://", 7) != 0 && strncmp(o.url, "https://", 8) != 0)
        return lullctl_usage_error("--url must start with http:// or https://");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) return LULLCTL_EXIT_API;
    int rc = s_command(&o, argv[i], argc - i - 1, argv + i + 1);
    curl_global_cleanup();
    return rc;
}
