// Table-driven configuration: parse, validate, mask, print help, log the effective values.
#include "lull_config.h"
#include "lull_mask.h"
#include "lull_log.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *s_type_name(lull_cfg_type_t t)
{
    switch (t) {
    case LULL_CFG_STR: return "string";
    case LULL_CFG_INT: return "integer";
    case LULL_CFG_BOOL: return "bool";
    case LULL_CFG_DOUBLE: return "number";
    case LULL_CFG_LIST: return "list";
    }
    return "?";
}

static int s_parse_bool(const char *v, bool *out)
{
    static const char *yes[] = {"1", "true", "yes", "on"}, *no[] = {"0", "false", "no", "off"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) { *out = true; return 0; }
        if (strcasecmp(v, no[i]) == 0) { *out = false; return 0; }
    }
    return -1;
}

static bool s_bounded(const lull_setting_t *s) { return !(s->min == 0 && s->max == 0); }

// The item-count bounds of a LIST setting.
static void s_list_bounds(const lull_setting_t *s, size_t *min, size_t *max)
{
    *min = s_bounded(s) && s->min > 0 ? (size_t)s->min : 0;
    *max = s_bounded(s) && s->max < LULL_CFG_LIST_MAX ? (size_t)s->max : LULL_CFG_LIST_MAX;
}

static void s_list_free(lull_cfg_list_t *l)
{
    for (size_t i = 0; l->items && i < l->n; i++) free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

// Splits v at commas into *dst (replacing what it held), each item trimmed of spaces and tabs. 0, or -1 with one
// line on err (dst is then empty).
static int s_load_list(const lull_setting_t *s, const char *v, lull_cfg_list_t *dst, const char *proc, FILE *err)
{
    lull_cfg_list_t list = {0};
    size_t min, max, count = 1;
    int rc = -1;
    s_list_free(dst);
    s_list_bounds(s, &min, &max);
    const char *p = v + strspn(v, " \t");
    if (!*p) count = 0;  // an empty value: no items
    for (const char *c = p; count && *c; c++) count += *c == ',';
    if (count > max) {
        if (err) fprintf(err, "%s: %s: %zu items, at most %zu allowed\n", proc, s->name, count, max);
        goto cleanup;
    }
    if (count < min) {
        if (err) fprintf(err, "%s: %s: %zu items, at least %zu needed\n", proc, s->name, count, min);
        goto cleanup;
    }
    list.items = calloc(count ? count : 1, sizeof *list.items);
    if (!list.items) {
        if (err) fprintf(err, "%s: %s: out of memory\n", proc, s->name);
        goto cleanup;
    }
    for (size_t i = 0; i < count; i++) {
        size_t len = strcspn(p, ",");
        const char *item = p;
        p += len + (p[len] == ',');
        while (len && (*item == ' ' || *item == '\t')) item++, len--;
        while (len && (item[len - 1] == ' ' || item[len - 1] == '\t')) len--;
        if (!len) {
            if (err) fprintf(err, "%s: %s: item %zu is empty (a doubled or trailing comma?)\n", proc, s->name, i + 1);
            goto cleanup;
        }
        if (len > LULL_CFG_ITEM_MAX) {
            if (err)
                fprintf(err, "%s: %s: item %zu is longer than %d bytes\n", proc, s->name, i + 1, LULL_CFG_ITEM_MAX);
            goto cleanup;
        }
        list.items[i] = strndup(item, len);
        if (!list.items[i]) {
            if (err) fprintf(err, "%s: %s: out of memory\n", proc, s->name);
            goto cleanup;
        }
        list.n = i + 1;
    }
    *dst = list;
    list = (lull_cfg_list_t){0};
    rc = 0;
cleanup:
    s_list_free(&list);
    return rc;
}

// Loads one setting from its text v into cfg. 0, or -1 with one line on err.
static int s_load_one(const lull_setting_t *s, const char *v, char *base, const char *proc, FILE *err)
{
    void *field = base + s->offset;
    switch (s->type) {
    case LULL_CFG_STR: {
        char *copy = strdup(v);
        if (!copy) return -1;
        free(*(char **)field);
        *(char **)field = copy;
        return 0;
    }
    case LULL_CFG_INT: {
        char *end = NULL;
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (!*v || errno || *end) {
            if (err) fprintf(err, "%s: %s: expected an integer, got '%s'\n", proc, s->name, v);
            return -1;
        }
        if (s_bounded(s) && (x < s->min || x > s->max)) {
            if (err) fprintf(err, "%s: %s: %lld is out of range [%.0f, %.0f]\n", proc, s->name, x, s->min, s->max);
            return -1;
        }
        *(int64_t *)field = x;
        return 0;
    }
    case LULL_CFG_DOUBLE: {
        char *end = NULL;
        errno = 0;
        double x = strtod(v, &end);
        if (!*v || errno || *end || !isfinite(x)) {
            if (err) fprintf(err, "%s: %s: expected a number, got '%s'\n", proc, s->name, v);
            return -1;
        }
        if (s_bounded(s) && (x < s->min || x > s->max)) {
            if (err) fprintf(err, "%s: %s: %g is out of range [%g, %g]\n", proc, s->name, x, s->min, s->max);
            return -1;
        }
        *(double *)field = x;
        return 0;
    }
    case LULL_CFG_BOOL:
        if (s_parse_bool(v, (bool *)field) != 0) {
            if (err)
                fprintf(err, "%s: %s: expected 1/0, true/false, yes/no or on/off, got '%s'\n", proc, s->name, v);
            return -1;
        }
        return 0;
    case LULL_CFG_LIST: return s_load_list(s, v, field, proc, err);
    }
    return -1;
}

int lull_config_load(const lull_setting_t *table, size_t n, void *cfg, const char *proc, FILE *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *v = getenv(table[i].name);
        if (!v) v = table[i].def ? table[i].def : "";
        if (s_load_one(&table[i], v, cfg, proc, err) != 0) return -1;
    }
    return 0;
}

void lull_config_free(const lull_setting_t *table, size_t n, void *cfg)
{
    char *base = cfg;
    for (size_t i = 0; i < n; i++) {
        if (table[i].type == LULL_CFG_STR) {
            char **field = (char **)(base + table[i].offset);
            free(*field);
            *field = NULL;
        } else if (table[i].type == LULL_CFG_LIST) {
            s_list_free((lull_cfg_list_t *)(base + table[i].offset));
        }
    }
}

char *lull_config_mask(const char *value)
{
    if (!value || !*value) return strdup("");
    // a connection string (URL or key=value) keeps everything but its passwords; any other secret is hidden whole
    if (strstr(value, "://") || lull_mask_is_keyvalue(value)) return lull_mask_conninfo(value);
    return strdup("***");
}

// The items of l joined with commas; the caller frees. NULL when out of memory.
static char *s_list_join(const lull_cfg_list_t *l)
{
    size_t len = 1;
    for (size_t i = 0; i < l->n; i++) len += strlen(l->items[i]) + 1;
    char *out = malloc(len);
    if (!out) return NULL;
    size_t at = 0;
    for (size_t i = 0; i < l->n; i++) {
        size_t n = strlen(l->items[i]);
        if (i) out[at++] = ',';
        memcpy(out + at, l->items[i], n);
        at += n;
    }
    out[at] = '\0';
    return out;
}

static char *s_value_text(const lull_setting_t *s, const void *cfg)
{
    const char *base = cfg;
    const void *field = base + s->offset;
    char buf[64];
    switch (s->type) {
    case LULL_CFG_STR: {
        const char *v = *(char *const *)field;
        return s->secret ? lull_config_mask(v) : strdup(v ? v : "");
    }
    case LULL_CFG_INT: snprintf(buf, sizeof buf, "%lld", (long long)*(const int64_t *)field); break;
    case LULL_CFG_DOUBLE: snprintf(buf, sizeof buf, "%g", *(const double *)field); break;
    case LULL_CFG_BOOL: snprintf(buf, sizeof buf, "%s", *(const bool *)field ? "true" : "false"); break;
    case LULL_CFG_LIST: {
        char *v = s_list_join(field);
        if (!v || !s->secret) return v;
        char *masked = lull_config_mask(v);
        free(v);
        return masked;
    }
    }
    return strdup(buf);
}

char *lull_config_to_json(const lull_setting_t *table, size_t n, const void *cfg)
{
    cJSON *obj = cJSON_CreateObject();
    if (!obj) return NULL;
    for (size_t i = 0; i < n; i++) {
        char *v = s_value_text(&table[i], cfg);
        cJSON_AddStringToObject(obj, table[i].name, v ? v : "");
        free(v);
    }
    char *json = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    return json;
}

void lull_config_log(const lull_setting_t *table, size_t n, const void *cfg)
{
    char *json = lull_config_to_json(table, n, cfg);
    if (!json) return;
    LOG_INFO("config", "effective configuration", "settings", LJ(json));
    free(json);
}

// What --help and the Markdown table add to a setting's help: how a LIST is written and its item bounds
// ("" for other types). Returns out.
static const char *s_type_note(const lull_setting_t *s, char *out, size_t cap)
{
    out[0] = '\0';
    if (s->type != LULL_CFG_LIST) return out;
    size_t min, max;
    s_list_bounds(s, &min, &max);
    if (min) snprintf(out, cap, "; a comma-separated list of %zu to %zu items (each up to %d bytes)", min, max, LULL_CFG_ITEM_MAX);
    else snprintf(out, cap, "; a comma-separated list of up to %zu items (each up to %d bytes)", max, LULL_CFG_ITEM_MAX);
    return out;
}

void lull_config_print_help(const lull_setting_t *table, size_t n, const char *proc, const char *about,
                            FILE *out)
{
    fprintf(out, "usage: %s [--help] [--help-markdown]\n\n%s\n\nSettings (environment variables):\n", proc,
            about);
    for (size_t i = 0; i < n; i++) {
        const lull_setting_t *s = &table[i];
        const char *def = s->def && *s->def ? s->def : "(empty)";
        char note[128];
        fprintf(out, "  %-30s %-8s default %s\n      %s%s%s\n", s->name, s_type_name(s->type),
                s->secret && s->def && *s->def && !strstr(s->def, "://") ? "***" : def, s->help,
                s_type_note(s, note, sizeof note), s->secret ? " (secret: masked in logs)" : "");
    }
    fprintf(out, "\nExit status: 0 after an orderly shutdown, 64 bad arguments, 78 invalid setting.\n");
}

void lull_config_print_markdown(const lull_setting_t *table, size_t n, FILE *out)
{
    fprintf(out, "| setting | type | default | meaning |\n|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        const lull_setting_t *s = &table[i];
        char note[128];
        fprintf(out, "| `%s` | %s | %s%s%s | %s%s%s |\n", s->name, s_type_name(s->type), s->def && *s->def ? "`" : "",
                s->def && *s->def ? s->def : "(empty)", s->def && *s->def ? "`" : "", s->help,
                s_type_note(s, note, sizeof note), s->secret ? " (secret)" : "");
    }
}

int lull_config_main(int argc, char **argv, const lull_setting_t *table, size_t n, void *cfg,
                     const char *proc, const char *about, int *exit_code)
{
    *exit_code = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            lull_config_print_help(table, n, proc, about, stdout);
            return -1;
        }
        if (strcmp(argv[i], "--help-markdown") == 0) {
            lull_config_print_markdown(table, n, stdout);
            return -1;
        }
        fprintf(stderr, "%s: unknown argument '%s' (settings come from LULL_* variables; see --help)\n", proc,
                argv[i]);
        *exit_code = 64;
        return -1;
    }
    if (lull_config_load(table, n, cfg, proc, stderr) != 0) {
        lull_config_free(table, n, cfg);
        *exit_code = LULL_EXIT_CONFIG;
        return -1;
    }
    return 0;
}

bool lull_config_tenant_ref_ok(const char *name)
{
    size_t plen = sizeof LULL_TENANT_REF_PREFIX - 1, n = name ? strlen(name) : 0;
    if (n <= plen || n > LULL_TENANT_REF_MAX || strncmp(name, LULL_TENANT_REF_PREFIX, plen) != 0) return false;
    for (size_t i = plen; i < n; i++)
        if (!((name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '_')) return false;
    return true;
}

const char *lull_config_tenant_env(const char *name, const char *what, int64_t tenant_id, bool *refused)
{
    if (refused) *refused = false;
    if (!lull_config_tenant_ref_ok(name)) {
        if (refused) *refused = true;
        // the name is not secret (it names a variable); its length is bounded for the log
        LOG_WARN("tenant.ref_refused", "a tenant credential reference must name a " LULL_TENANT_REF_PREFIX
                 "* variable; ignored", "what", LS(what), "tenant", LI(tenant_id), "name", LS(name ? name : ""));
        return NULL;
    }
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}
