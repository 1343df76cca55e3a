// lullctl agents: add an agent (its token is printed once, alone on stdout, so that a script can keep it),
// list them (never a token or a hash: the API has none to give), revoke one, and say who a token belongs to.
#include "lullctl_agents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_usage[] =
    "usage: lullctl agents [list]\n"
    "       lullctl agents add NAME [--role agent|admin] [--display-name TEXT]\n"
    "       lullctl agents revoke NAME\n"
    "       lullctl agents me\n"
    "\n"
    "  add     a new agent (role agent by default). Its token is printed once, alone on stdout; only a salted\n"
    "          hash of it is kept, so keep the token now (give it to the agent as their LULL_ADMIN_TOKEN).\n"
    "  list    every agent: name, role, created, last used, revoked\n"
    "  revoke  the active agent of that name: its token stops working at once\n"
    "  me      who the token lullctl uses belongs to\n"
    "NAME: 1 to 64 characters of A-Z a-z 0-9 . _ - and space. Needs a token of role admin (but me).\n";

// Runs method path body; on success *out gets the parsed answer (the caller deletes it). The exit status.
static int s_call(const lullctl_opts_t *o, const char *method, const char *path, const cJSON *body, cJSON **out)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL, *raw = NULL;
    long status = 0;
    int rc = LULLCTL_EXIT_API;
    *out = NULL;
    if ((body && !text) || lullctl_call(o, method, path, text, &status, &raw) != 0) goto cleanup;
    if (status < 200 || status >= 300) {
        lullctl_print_error(status, raw);
        goto cleanup;
    }
    *out = raw ? cJSON_Parse(raw) : NULL;
    if (!*out) {
        fprintf(stderr, "lullctl: the API's answer is not JSON (HTTP %ld)\n", status);
        goto cleanup;
    }
    if (o->json) printf("%s\n", raw);
    rc = LULLCTL_EXIT_OK;
cleanup:
    if (raw) memset(raw, 0, strlen(raw));  // it may hold a token
    free(raw);
    free(text);
    return rc;
}

static int s_add(const lullctl_opts_t *o, int argc, char **argv)
{
    const char *name = NULL, *role = NULL, *display = NULL;
    for (int i = 0; i < argc; i++) {
        if ((strcmp(argv[i], "--role") == 0 || strcmp(argv[i], "--display-name") == 0) && i + 1 < argc) {
            if (argv[i][2] == 'r') role = argv[++i];
            else display = argv[++i];
        } else if (strncmp(argv[i], "--", 2) == 0 || name) {
            return lullctl_usage_error("usage: agents add NAME [--role agent|admin] [--display-name TEXT]");
        } else name = argv[i];
    }
    if (!name) return lullctl_usage_error("usage: agents add NAME [--role agent|admin] [--display-name TEXT]");
    cJSON *b = cJSON_CreateObject(), *a = NULL;
    cJSON_AddStringToObject(b, "name", name);
    if (role) cJSON_AddStringToObject(b, "role", role);
    if (display) cJSON_AddStringToObject(b, "display_name", display);
    int rc = s_call(o, "POST", "/api/v1/agents", b, &a);
    cJSON_Delete(b);
    if (rc != LULLCTL_EXIT_OK) return rc;
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(a, "token");
    if (!o->json && cJSON_IsString(tok)) {
        char id[32], r[16];
        lullctl_cell(a, "id", id, sizeof id);
        lullctl_cell(a, "role", r, sizeof r);
        fprintf(stderr, "agent %s (%s, role %s) added; its token, shown this once:\n", id, name, r);
        printf("%s\n", tok->valuestring);
    }
    if (cJSON_IsString(tok)) memset(tok->valuestring, 0, strlen(tok->valuestring));
    cJSON_Delete(a);
    return LULLCTL_EXIT_OK;
}

int lullctl_agents(const lullctl_opts_t *o, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "list";
    cJSON *a = NULL;
    int rc;
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        fputs(s_usage, stdout);
        return LULLCTL_EXIT_OK;
    }
    if (strcmp(sub, "add") == 0) return s_add(o, argc - 1, argv + 1);
    if (strcmp(sub, "list") == 0 && argc <= 1) {
        static const lullctl_col_t c[] = {{"ID", "id", 5},          {"NAME", "name", 20},
                                          {"DISPLAY NAME", "display_name", 20}, {"ROLE", "role", 6},
                                          {"CREATED", "created_at", 33}, {"LAST USED", "last_used_at", 33},
                                          {"REVOKED", "revoked_at", 0}};
        return lullctl_run(o, "GET", "/api/v1/agents?limit=1000", NULL, "agents", c, 7, NULL);
    }
    if (strcmp(sub, "revoke") == 0 && argc == 2) {
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "name", argv[1]);
        rc = s_call(o, "POST", "/api/v1/agents/revoke", b, &a);
        cJSON_Delete(b);
        if (rc == LULLCTL_EXIT_OK && !o->json) printf("agent %s revoked\n", argv[1]);
        cJSON_Delete(a);
        return rc;
    }
    if (strcmp(sub, "me") == 0 && argc == 1) {
        rc = s_call(o, "GET", "/api/v1/agents/me", NULL, &a);
        if (rc == LULLCTL_EXIT_OK && !o->json) {
            char n[80], d[140], r[16];
            lullctl_cell(a, "name", n, sizeof n);
            lullctl_cell(a, "display_name", d, sizeof d);
            lullctl_cell(a, "role", r, sizeof r);
            printf("%s (%s), role %s\n", n, d, r);
        }
        cJSON_Delete(a);
        return rc;
    }
    fputs(s_usage, stderr);
    return LULLCTL_EXIT_USAGE;
}
