// JSON helpers over cJSON that return errors instead of crashing: bounded parsing (size, depth, UTF-8),
// typed field access with limits, and the {"error":{"code","message"}} body every HTTP error uses.
#ifndef LULL_JSON_H
#define LULL_JSON_H

#include <cJSON.h>
#include "lull_buf.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LULL_JSON_MAX_DEPTH 32

// Parses exactly len bytes (no NUL needed) as one JSON value. Rejects invalid UTF-8, nesting deeper than
// max_depth, and trailing garbage. NULL with a reason in err on failure; the caller cJSON_Delete()s.
cJSON *lull_json_parse(const char *buf, size_t len, int max_depth, char *err, size_t errlen)
    __attribute__((warn_unused_result));
// True when buf[0..len) is valid UTF-8 without NUL bytes and without overlong / surrogate encodings.
bool lull_utf8_valid(const char *buf, size_t len);

// Reads obj[key] as a string of at most maxlen bytes. Missing/null and !required → *out = NULL, 0.
// Wrong type, too long, missing and required → -1 with err naming the field. *out is borrowed from obj.
int lull_json_str(const cJSON *obj, const char *key, bool required, size_t maxlen, const char **out, char *err,
                  size_t errlen) __attribute__((warn_unused_result));
// Reads obj[key] as an integer within [min, max] (JSON number without fraction, or a decimal string when
// allow_string). Missing and !required → *out untouched, 0.
int lull_json_int(const cJSON *obj, const char *key, bool required, bool allow_string, int64_t min, int64_t max,
                  int64_t *out, char *err, size_t errlen) __attribute__((warn_unused_result));
// Reads obj[key] as a number within [min, max]. Missing and !required → *out untouched, 0.
int lull_json_num(const cJSON *obj, const char *key, bool required, double min, double max, double *out, char *err,
                  size_t errlen) __attribute__((warn_unused_result));
// Reads obj[key] as a bool. Missing and !required → *out untouched, 0.
int lull_json_bool(const cJSON *obj, const char *key, bool required, bool *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
// Returns obj[key] when it is an object (or array when want_array); NULL with err when missing & required
// or of another type (*present tells whether the key existed at all; may be NULL).
const cJSON *lull_json_child(const cJSON *obj, const char *key, bool want_array, bool required, bool *present,
                             char *err, size_t errlen);
// Builds {"error":{"code":code,"message":message}}; the caller frees. Never NULL unless out of memory.
char *lull_json_error_body(const char *code, const char *message);
// Serialises item compactly; the caller frees.
char *lull_json_print(const cJSON *item);
// Appends s (NULL = "") to b as a quoted JSON string, escaped byte for byte as cJSON prints one (the named
// escapes, other bytes below 32 as \u00xx, the rest as is), so a body written by hand equals cJSON's print.
// 0, or -1 when b failed.
int lull_json_write_str(lull_buf_t *b, const char *s);

#endif
