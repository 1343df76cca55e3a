// Process settings from LULL_* environment variables, described by one table per process
// (name, type, default, help, secret flag, bounds, offset into a plain config struct).
#ifndef LULL_CONFIG_H
#define LULL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LULL_EXIT_CONFIG 78     // EX_CONFIG: a setting has an invalid value
#define LULL_CFG_LIST_MAX 256   // items of a LIST setting at most (also when its table row gives no max)
#define LULL_CFG_ITEM_MAX 1024  // bytes of one LIST item at most (after trimming)

typedef enum {
    LULL_CFG_STR,    // char * (owned by the config struct; freed by lull_config_free)
    LULL_CFG_INT,    // int64_t within [min, max]
    LULL_CFG_BOOL,   // bool: 1/0, true/false, yes/no, on/off
    LULL_CFG_DOUBLE, // double within [min, max]
    LULL_CFG_LIST    // lull_cfg_list_t: comma-separated items, each trimmed of spaces and tabs; [min, max] bound
                     // the number of items (an empty value is zero items, allowed when min is 0); an empty item,
                     // an item over LULL_CFG_ITEM_MAX bytes or a count out of bounds is an invalid value
} lull_cfg_type_t;

// The value of a LIST setting, parsed once when the configuration loads.
typedef struct {
    char **items;  // n NUL-terminated, non-empty strings in the order given (owned; freed by lull_config_free)
    size_t n;      // number of items
} lull_cfg_list_t;

typedef struct {
    const char *name;  // environment variable, e.g. "LULL_OPS_PORT"
    lull_cfg_type_t type;
    const char *def;   // default as text; NULL = empty/unset
    const char *help;  // one line for --help and the README table
    bool secret;       // masked in logs and --help defaults
    double min, max;   // bounds for INT and DOUBLE, item count for LIST (ignored when min == max == 0)
    size_t offset;     // offsetof(cfg struct, field)
} lull_setting_t;

// Settings every process has; embed lull_common_cfg_t as `common` in the process config struct and
// put LULL_COMMON_SETTINGS(your_struct_t) first in its table.
typedef struct {
    char *database_url;  // libpq URL
    char *log_file;      // "" = stderr
    char *log_level;     // debug|info|warn|error
    char *ops_bind;      // address of the ops HTTP server
    int64_t ops_port;    // port of the ops HTTP server (/health, /metrics); 0 = none
} lull_common_cfg_t;

#define LULL_COMMON_SETTINGS(T, OPS_PORT)                                                              \
    {"LULL_DATABASE_URL", LULL_CFG_STR, "postgresql:///lull", "libpq connection URL of the database", \
     true, 0, 0, offsetof(T, common.database_url)},                                                    \
    {"LULL_LOG_FILE", LULL_CFG_STR, "", "log file (JSON lines; reopened on SIGHUP); empty = stderr",  \
     false, 0, 0, offsetof(T, common.log_file)},                                                       \
    {"LULL_LOG_LEVEL", LULL_CFG_STR, "info", "debug, info, warn or error", false, 0, 0,               \
     offsetof(T, common.log_level)},                                                                   \
    {"LULL_OPS_BIND", LULL_CFG_STR, "127.0.0.1", "address the ops server (/health, /metrics) binds", \
     false, 0, 0, offsetof(T, common.ops_bind)},                                                       \
    {"LULL_OPS_PORT", LULL_CFG_INT, OPS_PORT, "port of the ops server (/health, /metrics); 0 = off",  \
     false, 0, 65535, offsetof(T, common.ops_port)}

// Loads every setting of table (n entries) from the environment into cfg. On an invalid value writes one
// line "proc: NAME: reason" to err (if not NULL) and returns -1; the caller exits LULL_EXIT_CONFIG.
int lull_config_load(const lull_setting_t *table, size_t n, void *cfg, const char *proc, FILE *err)
    __attribute__((warn_unused_result));
// Frees the strings and lists that lull_config_load allocated in cfg.
void lull_config_free(const lull_setting_t *table, size_t n, void *cfg);
// Prints usage and the settings table (name, type, default, help) for --help.
void lull_config_print_help(const lull_setting_t *table, size_t n, const char *proc, const char *about,
                            FILE *out);
// Prints the settings as a Markdown table (for the README).
void lull_config_print_markdown(const lull_setting_t *table, size_t n, FILE *out);
// Logs the effective configuration as one "config" event, secrets masked.
void lull_config_log(const lull_setting_t *table, size_t n, const void *cfg);
// The effective configuration as a JSON object text {"LULL_X":"value",…} (every value a string, secrets
// masked as in lull_config_log). The caller frees; NULL when out of memory.
char *lull_config_to_json(const lull_setting_t *table, size_t n, const void *cfg);
// Masks a secret for display: "" stays "", a connection string (URL or libpq key=value) keeps all but its
// passwords (lull_mask_conninfo), others "***".
// Returns a new string the caller frees.
char *lull_config_mask(const char *value);
// Standard start of every main(): handles --help/-h and --help-markdown (exit 0), unknown arguments
// (exit 64), loads the config (exit 78 on error). Returns 0 to go on; -1 when the process should exit now
// with *exit_code.
int lull_config_main(int argc, char **argv, const lull_setting_t *table, size_t n, void *cfg,
                     const char *proc, const char *about, int *exit_code) __attribute__((warn_unused_result));

// Tenant credential references: a tenant row names the environment variable that holds its secret (never the
// secret). Names must start with this prefix, which no setting of any lull process uses, so a tenant can never
// name the admin token, the database URL or another process setting.
#define LULL_TENANT_REF_PREFIX "LULL_TENANT_"
#define LULL_TENANT_REF_MAX 128  // bytes of a reference at most
// True when name is a valid tenant credential reference: the prefix, then 1 or more of A-Z, 0-9 and _,
// LULL_TENANT_REF_MAX bytes at most.
bool lull_config_tenant_ref_ok(const char *name);
// The value of the environment variable a tenant credential reference names (borrowed from the environment), or
// NULL when it is unset or empty. A name that is not a valid reference is never read: NULL, *refused true and
// one warn log naming what (e.g. "tenants.callback_secret_ref") and the tenant. refused may be NULL.
const char *lull_config_tenant_env(const char *name, const char *what, int64_t tenant_id, bool *refused);

#endif
