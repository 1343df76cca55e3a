// Defensive JSON parsing and typed access over cJSON.
#include "lull_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool lull_utf8_valid(const char *buf, size_t len)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c == 0) return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
        else return false;
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || (s[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;  // overlong
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += n + 1;
    }
    return true;
}

// Maximum nesting of [ and { outside strings; -1 when strings are unterminated.
static int s_depth(const char *buf, size_t len)
{
    int depth = 0, max = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max) max = depth;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return max;
}

cJSON *lull_json_parse(const char *buf, size_t len, int max_depth, char *err, size_t errlen)
{
    if (!buf || len == 0) {
        snprintf(err, errlen, "empty body, expected JSON");
        return NULL;
    }
    if (!lull_utf8_valid(buf, len)) {
        snprintf(err, errlen, "body is not valid UTF-8 (or contains NUL bytes)");
        return NULL;
    }
    if (s_depth(buf, len) > max_depth) {
        snprintf(err, errlen, "JSON nested deeper than %d levels", max_depth);
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, false);
    if (!root) {
        size_t off = end && end >= buf ? (size_t)(end - buf) : 0;
        snprintf(err, errlen, "malformed JSON near byte %zu", off);
        return NULL;
    }
    // Anything but whitespace after the value is garbage.
    for (const char *p = end; p && p < buf + len; p++) {
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') {
            snprintf(err, errlen, "unexpected data after the JSON value at byte %zu", (size_t)(p - buf));
            cJSON_Delete(root);
            return NULL;
        }
    }
    return root;
}

static const cJSON *s_get(const cJSON *obj, const char *key)
{
    if (!cJSON_IsObject(obj)) return NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNull(v) ? NULL : v;
}

int lull_json_str(const cJSON *obj, const char *key, bool required, size_t maxlen, const char **out, char *err,
                  size_t errlen)
{
    const cJSON *v = s_get(obj, key);
    *out = NULL;
    if (!v) {
        if (!required) return 0;
        snprintf(err, errlen, "missing required field '%s'", key);
        return -1;
    }
    if (!cJSON_IsString(v) || !v->valuestring) {
        snprintf(err, errlen, "field '%s' must be a string", key);
        return -1;
    }
    if (strlen(v->valuestring) > maxlen) {
        snprintf(err, errlen, "field '%s' is longer than %zu bytes", key, maxlen);
        return -1;
    }
    *out = v->valuestring;
    return 0;
}

int lull_json_int(const cJSON *obj, const char *key, bool required, bool allow_string, int64_t min, int64_t max,
                  int64_t *out, char *err, size_t errlen)
{
    const cJSON *v = s_get(obj, key);
    if (!v) {
        if (!required) return 0;
        snprintf(err, errlen, "missing required field '%s'", key);
        return -1;
    }
    long long x;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (!isfinite(d) || d != floor(d) || d < -9.0e15 || d > 9.0e15) {
            snprintf(err, errlen, "field '%s' must be an integer", key);
            return -1;
        }
        x = (long long)d;
    } else if (allow_string && cJSON_IsString(v) && v->valuestring && *v->valuestring) {
        char *end = NULL;
        x = strtoll(v->valuestring, &end, 10);
        if (*end) {
            snprintf(err, errlen, "field '%s' must be an integer", key);
            return -1;
        }
    } else {
        snprintf(err, errlen, "field '%s' must be an integer", key);
        return -1;
    }
    if (x < min || x > max) {
        snprintf(err, errlen, "field '%s' must be between %lld and %lld", key, (long long)min, (long long)max);
        return -1;
    }
    *out = x;
    return 0;
}

int lull_json_num(const cJSON *obj, const char *key, bool required, double min, double max, double *out, char *err,
                  size_t errlen)
{
    const cJSON *v = s_get(obj, key);
    if (!v) {
        if (!required) return 0;
        snprintf(err, errlen, "missing required field '%s'", key);
        return -1;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < min || v->valuedouble > max) {
        snprintf(err, errlen, "field '%s' must be a number between %g and %g", key, min, max);
        return -1;
    }
    *out = v->valuedouble;
    return 0;
}

int lull_json_bool(const cJSON *obj, const char *key, bool required, bool *out, char *err, size_t errlen)
{
    const cJSON *v = s_get(obj, key);
    if (!v) {
        if (!required) return 0;
        snprintf(err, errlen, "missing required field '%s'", key);
        return -1;
    }
    if (!cJSON_IsBool(v)) {
        snprintf(err, errlen, "field '%s' must be true or false", key);
        return -1;
    }
    *out = cJSON_IsTrue(v);
    return 0;
}

const cJSON *lull_json_child(const cJSON *obj, const char *key, bool want_array, bool required, bool *present,
                             char *err, size_t errlen)
{
    const cJSON *v = s_get(obj, key);
    if (present) *present = v != NULL;
    if (!v) {
        if (required) snprintf(err, errlen, "missing required field '%s'", key);
        return NULL;
    }
    if (want_array ? !cJSON_IsArray(v) : !cJSON_IsObject(v)) {
        snprintf(err, errlen, "field '%s' must be an %s", key, want_array ? "array" : "object");
        if (present) *present = true;
        return NULL;
    }
    return v;
}

char *lull_json_error_body(const char *code, const char *message)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(root, "error");
    cJSON_AddStringToObject(e, "code", code ? code : "error");
    cJSON_AddStringToObject(e, "message", message ? message : "");
    char *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return out;
}

char *lull_json_print(const cJSON *item) { return item ? cJSON_PrintUnformatted(item) : NULL; }

int lull_json_write_str(lull_buf_t *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)(s ? s : ""), *run = p;
    if (lull_buf_append(b, "\"", 1) != 0) return -1;
    for (; *p; p++) {
        char esc[6] = {'\\', 0, '0', '0', 0, 0};
        size_t n = 2;
        switch (*p) {
        case '\"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            if (*p >= 32) continue;
            esc[1] = 'u';
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            n = 6;
        }
        lull_buf_append(b, run, (size_t)(p - run));
        lull_buf_append(b, esc, n);
        run = p + 1;
    }
    lull_buf_append(b, run, (size_t)(p - run));
    return lull_buf_append(b, "\"", 1);
}
