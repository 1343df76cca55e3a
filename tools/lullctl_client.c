// lullctl's client side: the admin API call over libcurl, error and table printing, option helpers shared by
// every command (tools/lullctl.c and tools/lullctl_tenants.c).
#include "lullctl_client.h"

#include "lull_json.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_BODY_MAX (16u << 20)  // largest answer kept, bytes

typedef struct {
    char *p;
    size_t len;
    bool too_large;
} s_buf_t;

int lullctl_usage_error(const char *msg)
{
    fprintf(stderr, "lullctl: %s (see lullctl --help)\n", msg);
    return LULLCTL_EXIT_USAGE;
}

// ---------------------------------------------------------------------------------------------------------
// HTTP

static size_t s_write(char *data, size_t sz, size_t n, void *arg)
{
    s_buf_t *b = arg;
    size_t len = sz * n;
    if (b->too_large || b->len + len > S_BODY_MAX) {
        b->too_large = true;
        return 0;
    }
    char *p = realloc(b->p, b->len + len + 1);
    if (!p) return 0;
    memcpy(p + b->len, data, len);
    b->p = p;
    b->len += len;
    b->p[b->len] = '\0';
    return len;
}

// Calls the API; *status gets the HTTP status (0 when no answer), *body the answer (owned, may be NULL).
// 0 when an answer arrived, -1 otherwise (reported on stderr).
int lullctl_call(const lullctl_opts_t *o, const char *method, const char *path, const char *body, long *status, char **out)
{
    int rc = -1;
    s_buf_t b = {0};
    struct curl_slist *h = NULL;
    char auth[1100], url[4096];
    *status = 0;
    *out = NULL;
    CURL *c = curl_easy_init();
    if (!c) goto cleanup;
    size_t ul = strlen(o->url);
    while (ul && o->url[ul - 1] == '/') ul--;
    snprintf(url, sizeof url, "%.*s%s", (int)ul, o->url, path);
    if (strlen(o->token) > 1000) {
        fprintf(stderr, "lullctl: the token is too long\n");
        goto cleanup;
    }
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->token);
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    else if (strcmp(method, "POST") == 0) curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        fprintf(stderr, "lullctl: %s %s: %s\n", method, url, b.too_large ? "answer too large" : curl_easy_strerror(cc));
        goto cleanup;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    *out = b.p;
    b.p = NULL;
    rc = 0;
cleanup:
    free(b.p);
    curl_slist_free_all(h);
    if (c) curl_easy_cleanup(c);
    return rc;
}

// Prints an API error ({"error":{"code","message"}}) on stderr, after where (e.g. "file.csv:3: ").
void lullctl_print_error_at(const char *where, long status, const char *body)
{
    char err[128];
    cJSON *j = body ? lull_json_parse(body, strlen(body), LULL_JSON_MAX_DEPTH, err, sizeof err) : NULL;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code"), *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
    if (cJSON_IsString(code) && cJSON_IsString(msg)) fprintf(stderr, "lullctl: %s%s (HTTP %ld): %s\n", where, code->valuestring, status, msg->valuestring);
    else fprintf(stderr, "lullctl: %sHTTP %ld%s%.200s\n", where, status, body && *body ? ": " : "", body ? body : "");
    cJSON_Delete(j);
}

void lullctl_print_error(long status, const char *body) { lullctl_print_error_at("", status, body); }

// ---------------------------------------------------------------------------------------------------------
// Output

void lullctl_cell(const cJSON *row, const char *key, char *out, size_t cap)
{
    const cJSON *v = row;
    char part[64];
    for (const char *p = key; v && *p;) {
        size_t n = strcspn(p, ".");
        snprintf(part, sizeof part, "%.*s", (int)n, p);
        v = cJSON_GetObjectItemCaseSensitive(v, part);
        p += n;
        if (*p == '.') p++;
    }
    if (!v || cJSON_IsNull(v)) snprintf(out, cap, "-");
    else if (cJSON_IsString(v)) snprintf(out, cap, "%s", v->valuestring);
    else if (cJSON_IsBool(v)) snprintf(out, cap, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNumber(v)) {
        if (v->valuedouble == (double)(long long)v->valuedouble) snprintf(out, cap, "%lld", (long long)v->valuedouble);
        else snprintf(out, cap, "%.3f", v->valuedouble);
    } else {
        char *t = cJSON_PrintUnformatted(v);
        snprintf(out, cap, "%s", t ? t : "?");
        free(t);
    }
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\t' || *p == '\r') *p = ' ';
}

void lullctl_table(const cJSON *arr, const lullctl_col_t *cols, int ncols)
{
    for (int i = 0; i < ncols; i++) printf("%-*s%s", cols[i].width, cols[i].header, i + 1 < ncols ? "  " : "\n");
    const cJSON *row;
    int n = 0;
    cJSON_ArrayForEach(row, arr)
    {
        for (int i = 0; i < ncols; i++) {
            char cell[256];
            lullctl_cell(row, cols[i].key, cell, sizeof cell);
            if (i + 1 < ncols) printf("%-*.*s  ", cols[i].width, cols[i].width, cell);
            else printf("%s\n", cell);
        }
        n++;
    }
    if (n == 0) printf("(none)\n");
}

static const char *s_jstr(const cJSON *o, const char *key, const char *def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : def;
}

// Prints a dry run's answer (POST /api/v1/test/reply or /analyse) as a few readable lines.
static void s_print_try(const cJSON *j)
{
    const cJSON *reply = cJSON_GetObjectItemCaseSensitive(j, "reply");
    if (cJSON_IsString(reply)) printf("reply (%s): %s\n", s_jstr(j, "kind", "reply"), reply->valuestring);
    else if (strcmp(s_jstr(j, "mode", ""), "reply") == 0) printf("reply: (none: %s)\n", s_jstr(j, "detail", ""));
    const cJSON *esc = cJSON_GetObjectItemCaseSensitive(j, "escalation");
    if (cJSON_IsObject(esc)) printf("escalation: %s (%s)\n", s_jstr(esc, "reason", ""), s_jstr(esc, "source", ""));
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "analysis");
    if (cJSON_IsObject(a)) {
        const cJSON *conf = cJSON_GetObjectItemCaseSensitive(a, "confidence");
        printf("sentiment: %s  intent: %s  priority: %s  confidence: %.2f  escalate: %s\n", s_jstr(a, "sentiment", "?"),
               s_jstr(a, "intent", "?"), s_jstr(a, "priority", "?"), cJSON_IsNumber(conf) ? conf->valuedouble : 0,
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "escalate")) ? "yes" : "no");
    }
    const cJSON *u;
    cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(j, "usage"))
    {
        const cJSON *rq = cJSON_GetObjectItemCaseSensitive(u, "requests"), *ti = cJSON_GetObjectItemCaseSensitive(u, "tokens_in"),
                    *to = cJSON_GetObjectItemCaseSensitive(u, "tokens_out");
        printf("provider: %s %s, %d request(s), %d+%d tokens\n", s_jstr(u, "provider", "?"), s_jstr(u, "model", ""),
               (int)cJSON_GetNumberValue(rq), (int)cJSON_GetNumberValue(ti), (int)cJSON_GetNumberValue(to));
    }
}

// Runs one request and prints: raw JSON with --json, otherwise the array at list_key as a table (or the
// whole object's summary line through fmt). Returns the exit status.
int lullctl_run(const lullctl_opts_t *o, const char *method, const char *path, const char *body, const char *list_key,
                 const lullctl_col_t *cols, int ncols, const char *summary_fmt)
{
    long status;
    char *out = NULL;
    if (lullctl_call(o, method, path, body, &status, &out) != 0) return LULLCTL_EXIT_API;
    int rc = LULLCTL_EXIT_OK;
    bool ok = status >= 200 && status < 300;
    char err[128];
    cJSON *j = out ? lull_json_parse(out, strlen(out), LULL_JSON_MAX_DEPTH, err, sizeof err) : NULL;
    if (!ok) {
        if (o->json && out) printf("%s\n", out);
        lullctl_print_error(status, out);
        rc = LULLCTL_EXIT_API;
    } else if (o->json) {
        printf("%s\n", out ? out : "");
    } else if (!j) {
        fprintf(stderr, "lullctl: the answer is not JSON: %s\n", err);
        rc = LULLCTL_EXIT_API;
    } else if (list_key && strcmp(list_key, "@try") == 0) {
        s_print_try(j);
    } else if (list_key) {
        lullctl_table(cJSON_GetObjectItemCaseSensitive(j, list_key), cols, ncols);
        const cJSON *next = cJSON_GetObjectItemCaseSensitive(j, "next_after");
        if (cJSON_IsNumber(next)) printf("(more: --after %lld)\n", (long long)next->valuedouble);
    } else if (summary_fmt) {
        char *t = cJSON_PrintUnformatted(j);
        printf("%s %s\n", summary_fmt, t ? t : "");
        free(t);
    }
    cJSON_Delete(j);
    free(out);
    return rc;
}

// Appends &key=value (URL-encoded) to q when value is set.
void lullctl_param(char *q, size_t cap, const char *key, const char *value)
{
    if (!value) return;
    char *e = curl_easy_escape(NULL, value, 0);
    size_t n = strlen(q);
    snprintf(q + n, cap - n, "%s%s=%s", strchr(q, '?') ? "&" : "?", key, e ? e : "");
    curl_free(e);
}

bool lullctl_is_id(const char *s)
{
    if (!s || !*s || *s == '0' || strlen(s) > 18) return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return false;
    return true;
}
