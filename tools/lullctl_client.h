// lullctl's shared client pieces (tools/lullctl_client.c): the admin API call, error and table printing,
// option helpers. The command dispatch is in tools/lullctl.c; the tenant and prompt commands are in
// tools/lullctl_tenants.c. Both use this; neither includes the other.
#ifndef LULLCTL_CLIENT_H
#define LULLCTL_CLIENT_H

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define LULLCTL_EXIT_OK 0
#define LULLCTL_EXIT_API 1     // the API answered an error, or no answer came
#define LULLCTL_EXIT_USAGE 64  // bad command line (nothing was sent)

typedef struct {
    const char *url;    // admin base URL (no trailing slash needed)
    const char *token;
    bool json;          // print raw JSON
} lullctl_opts_t;

typedef struct {
    const char *header;
    const char *key;  // "a" or "a.b"
    int width;        // characters (the last column is not padded)
} lullctl_col_t;

// Prints "lullctl: MSG (see lullctl --help)" on stderr; returns LULLCTL_EXIT_USAGE.
int lullctl_usage_error(const char *msg);

// Calls the API; *status gets the HTTP status (0 when no answer), *out the answer (the caller's to free, may
// be NULL). 0 when an answer arrived, -1 otherwise (reported on stderr).
int lullctl_call(const lullctl_opts_t *o, const char *method, const char *path, const char *body, long *status,
                 char **out) __attribute__((warn_unused_result));

// Prints an API error ({"error":{"code","message"}}) on stderr, after where (e.g. "file.csv:3: ").
void lullctl_print_error_at(const char *where, long status, const char *body);

// lullctl_print_error_at with no prefix.
void lullctl_print_error(long status, const char *body);

// Renders row's value at key ("a" or "a.b") as one line of text into out ("-" for null or missing).
void lullctl_cell(const cJSON *row, const char *key, char *out, size_t cap);

// Prints the array arr as a table of cols ("(none)" when empty).
void lullctl_table(const cJSON *arr, const lullctl_col_t *cols, int ncols);

// Runs one request and prints: raw JSON with --json, otherwise the array at list_key as a table (or the
// summary line). Returns the exit status.
int lullctl_run(const lullctl_opts_t *o, const char *method, const char *path, const char *body, const char *list_key,
                const lullctl_col_t *cols, int ncols, const char *summary_fmt);

// Appends &key=value (URL-encoded) to the path q when value is set.
void lullctl_param(char *q, size_t cap, const char *key, const char *value);

// True when s is a positive decimal id without a leading zero (at most 18 digits).
bool lullctl_is_id(const char *s);

#endif
