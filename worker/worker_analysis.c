// Analysis schema and validation: a malformed answer is an error the caller treats like a provider
// failure, never a crash.
#include "worker_analysis.h"
#include "lull_buf.h"
#include "lull_json.h"

#include <ctype.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTITY 200
#define MAX_ENTITIES 20
#define MAX_REASON 500

static const char *const s_sentiments[] = {"positive", "neutral", "negative", NULL};
static const char *const s_intents[] = {"support", "booking", "inquiry", "complaint", "purchase", "feedback", "other", NULL};
static const char *const s_priorities[] = {"low", "normal", "high", "urgent", NULL};
static const char *const s_entity_kinds[] = {"names", "emails", "phones", "order_numbers", NULL};

static bool s_field_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64) return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_') return false;
    return true;
}

static cJSON *s_enum(const char *const *values)
{
    cJSON *o = cJSON_CreateObject(), *e = cJSON_CreateArray();
    if (!o || !e) {
        cJSON_Delete(o);
        cJSON_Delete(e);
        return NULL;
    }
    cJSON_AddStringToObject(o, "type", "string");
    for (size_t i = 0; values[i]; i++) cJSON_AddItemToArray(e, cJSON_CreateString(values[i]));
    cJSON_AddItemToObject(o, "enum", e);
    return o;
}

static cJSON *s_typed(const char *type)
{
    cJSON *o = cJSON_CreateObject();
    if (o) cJSON_AddStringToObject(o, "type", type);
    return o;
}

static cJSON *s_string_array(void)
{
    cJSON *o = s_typed("array");
    if (o) cJSON_AddItemToObject(o, "items", s_typed("string"));
    return o;
}

// {"type":"object","additionalProperties":false,"properties":props,"required":[every key]}
static cJSON *s_object(cJSON *props)
{
    cJSON *o = s_typed("object"), *req = cJSON_CreateArray(), *p;
    if (!o || !req || !props) {
        cJSON_Delete(o);
        cJSON_Delete(req);
        cJSON_Delete(props);
        return NULL;
    }
    cJSON_ArrayForEach(p, props) cJSON_AddItemToArray(req, cJSON_CreateString(p->string));
    cJSON_AddItemToObject(o, "properties", props);
    cJSON_AddItemToObject(o, "required", req);
    cJSON_AddBoolToObject(o, "additionalProperties", 0);
    return o;
}

// Calls fn for each valid extraction field; returns how many.
static size_t s_fields(const char *fields_json, void (*fn)(const char *name, const char *desc, void *arg), void *arg)
{
    char err[64];
    cJSON *arr = fields_json ? lull_json_parse(fields_json, strlen(fields_json), 8, err, sizeof err) : NULL, *f;
    size_t n = 0;
    if (cJSON_IsArray(arr)) {
        cJSON_ArrayForEach(f, arr)
        {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(f, "name");
            const cJSON *desc = cJSON_GetObjectItemCaseSensitive(f, "description");
            if (!cJSON_IsString(name) || !s_field_name_ok(name->valuestring)) continue;
            if (n >= WORKER_ANALYSIS_MAX_FIELDS) break;
            fn(name->valuestring, cJSON_IsString(desc) ? desc->valuestring : "", arg);
            n++;
        }
    }
    cJSON_Delete(arr);
    return n;
}

static void s_add_field_schema(const char *name, const char *desc, void *arg)
{
    cJSON *props = arg, *f = cJSON_CreateObject(), *types = cJSON_CreateArray();
    if (!f || !types) {
        cJSON_Delete(f);
        cJSON_Delete(types);
        return;
    }
    cJSON_AddItemToArray(types, cJSON_CreateString("string"));
    cJSON_AddItemToArray(types, cJSON_CreateString("null"));
    cJSON_AddItemToObject(f, "type", types);
    char d[600];
    snprintf(d, sizeof d, "%.500s (null when not mentioned)", desc);
    cJSON_AddStringToObject(f, "description", d);
    cJSON_AddItemToObject(props, name, f);
}

#define MEMO_SLOTS 32
#define MEMO_MAX_KEY (16 * 1024)

static struct {
    pthread_mutex_t lock;
    struct {
        int slot;
        char *key, *text;
    } e[MEMO_SLOTS];
    size_t next;  // the entry replaced next (round robin)
} s_memo = {.lock = PTHREAD_MUTEX_INITIALIZER};

char *worker_analysis_memo(int slot, const char *key, char *(*build)(const char *key))
{
    if (!key) key = "";
    if (strlen(key) > MEMO_MAX_KEY) return build(key);
    char *out = NULL;
    bool hit = false;
    pthread_mutex_lock(&s_memo.lock);
    for (size_t i = 0; i < MEMO_SLOTS && !hit; i++)
        if (s_memo.e[i].key && s_memo.e[i].slot == slot && strcmp(s_memo.e[i].key, key) == 0) {
            hit = true;
            out = strdup(s_memo.e[i].text);
        }
    pthread_mutex_unlock(&s_memo.lock);
    if (hit) return out;
    char *text = build(key), *k = strdup(key), *t = text ? strdup(text) : NULL;
    if (!text || !k || !t) {
        free(k);
        free(t);
        return text;
    }
    pthread_mutex_lock(&s_memo.lock);
    size_t i = s_memo.next;
    s_memo.next = (i + 1) % MEMO_SLOTS;
    free(s_memo.e[i].key);
    free(s_memo.e[i].text);
    s_memo.e[i].slot = slot;
    s_memo.e[i].key = k;
    s_memo.e[i].text = t;
    pthread_mutex_unlock(&s_memo.lock);
    return text;
}

static char *s_schema_build(const char *extraction_fields)
{
    cJSON *props = cJSON_CreateObject(), *ent = cJSON_CreateObject(), *mod = cJSON_CreateObject();
    cJSON *ext = cJSON_CreateObject();
    if (!props || !ent || !mod || !ext) {
        cJSON_Delete(props);
        cJSON_Delete(ent);
        cJSON_Delete(mod);
        cJSON_Delete(ext);
        return NULL;
    }
    cJSON_AddItemToObject(props, "sentiment", s_enum(s_sentiments));
    cJSON_AddItemToObject(props, "confidence", s_typed("number"));
    cJSON_AddItemToObject(props, "intent", s_enum(s_intents));
    cJSON_AddItemToObject(props, "priority", s_enum(s_priorities));
    cJSON_AddItemToObject(props, "escalate", s_typed("boolean"));
    cJSON_AddItemToObject(props, "escalate_reason", s_typed("string"));
    for (size_t i = 0; s_entity_kinds[i]; i++) cJSON_AddItemToObject(ent, s_entity_kinds[i], s_string_array());
    cJSON_AddItemToObject(props, "entities", s_object(ent));
    cJSON_AddItemToObject(mod, "flagged", s_typed("boolean"));
    cJSON_AddItemToObject(mod, "categories", s_string_array());
    cJSON_AddItemToObject(props, "moderation", s_object(mod));
    s_fields(extraction_fields, s_add_field_schema, ext);
    cJSON_AddItemToObject(props, "extracted", s_object(ext));
    cJSON *schema = s_object(props);
    char *out = schema ? lull_json_print(schema) : NULL;
    cJSON_Delete(schema);
    return out;
}

char *worker_analysis_schema(const char *extraction_fields)
{
    return worker_analysis_memo(0, extraction_fields, s_schema_build);
}

static int s_enum_get(const cJSON *doc, const char *key, const char *const *values, char *out, size_t len,
                      char *err, size_t errlen)
{
    const char *v = NULL;
    if (lull_json_str(doc, key, true, 32, &v, err, errlen) != 0) return -1;
    for (size_t i = 0; values[i]; i++)
        if (strcmp(values[i], v) == 0) {
            snprintf(out, len, "%s", v);
            return 0;
        }
    snprintf(err, errlen, "%s: '%.32s' is not an allowed value", key, v);
    return -1;
}

// The parts are written straight into buffers, as cJSON printed them (strings with its escaping: lull_json_write_str),
// without building a tree of each and printing it.

// "key":[…] of the short strings of arr (non-strings, empty and over-long entries dropped; at most MAX_ENTITIES).
static void s_clean_strings(lull_buf_t *b, const char *key, const cJSON *arr)
{
    const cJSON *v;
    int n = 0;
    lull_json_write_str(b, key);
    lull_buf_puts(b, ":[");
    if (cJSON_IsArray(arr)) {
        cJSON_ArrayForEach(v, arr)
        {
            if (!cJSON_IsString(v) || !*v->valuestring || strlen(v->valuestring) > MAX_ENTITY) continue;
            if (n >= MAX_ENTITIES) break;
            if (n++) lull_buf_puts(b, ",");
            lull_json_write_str(b, v->valuestring);
        }
    }
    lull_buf_puts(b, "]");
}

typedef struct {
    const cJSON *given;
    lull_buf_t *out;
} s_extract_t;

static void s_copy_field(const char *name, const char *desc, void *arg)
{
    (void)desc;
    s_extract_t *x = arg;
    const cJSON *v = x->given ? cJSON_GetObjectItemCaseSensitive(x->given, name) : NULL;
    if (x->out->len > 1) lull_buf_puts(x->out, ",");
    lull_json_write_str(x->out, name);
    lull_buf_puts(x->out, ":");
    if (cJSON_IsString(v) && strlen(v->valuestring) <= 2000) lull_json_write_str(x->out, v->valuestring);
    else lull_buf_puts(x->out, "null");
}

// A number as cJSON prints it: integral values as integers, others with 15 digits unless 17 are needed to read
// the same double back.
static void s_number(lull_buf_t *b, double d)
{
    char buf[32];
    if (isnan(d) || isinf(d)) snprintf(buf, sizeof buf, "null");
    else if (d >= INT_MIN && d <= INT_MAX && d == (double)(int)d) snprintf(buf, sizeof buf, "%d", (int)d);
    else {
        snprintf(buf, sizeof buf, "%1.15g", d);
        double back = strtod(buf, NULL);
        if (fabs(back - d) > fmax(fabs(back), fabs(d)) * DBL_EPSILON) snprintf(buf, sizeof buf, "%1.17g", d);
    }
    lull_buf_puts(b, buf);
}

int worker_analysis_parse(const char *text, const char *extraction_fields, worker_analysis_t *out, char *err,
                          size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!text || strlen(text) > WORKER_ANALYSIS_MAX_ANSWER) {
        snprintf(err, errlen, "analysis: no answer or too long");
        return -1;
    }
    cJSON *doc = lull_json_parse(text, strlen(text), 8, err, errlen);
    if (!cJSON_IsObject(doc)) {
        if (doc) snprintf(err, errlen, "analysis: not a JSON object");
        cJSON_Delete(doc);
        return -1;
    }
    int rc = worker_analysis_from(doc, extraction_fields, out, err, errlen);
    cJSON_Delete(doc);
    return rc;
}

int worker_analysis_from(const cJSON *doc, const char *extraction_fields, worker_analysis_t *out, char *err,
                         size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = -1;
    if (!cJSON_IsObject(doc)) {
        snprintf(err, errlen, "analysis: not a JSON object");
        goto cleanup;
    }
    if (s_enum_get(doc, "sentiment", s_sentiments, out->sentiment, sizeof out->sentiment, err, errlen) != 0 ||
        s_enum_get(doc, "intent", s_intents, out->intent, sizeof out->intent, err, errlen) != 0 ||
        s_enum_get(doc, "priority", s_priorities, out->priority, sizeof out->priority, err, errlen) != 0 ||
        lull_json_num(doc, "confidence", true, 0, 1, &out->confidence, err, errlen) != 0 ||
        lull_json_bool(doc, "escalate", true, &out->escalate, err, errlen) != 0)
        goto cleanup;
    const char *reason = NULL;
    if (lull_json_str(doc, "escalate_reason", false, MAX_REASON, &reason, err, errlen) != 0) goto cleanup;
    bool has_ent = false, has_mod = false, has_ext = false;
    const cJSON *given_ent = lull_json_child(doc, "entities", false, false, &has_ent, err, errlen);
    if (has_ent && !given_ent) goto cleanup;
    const cJSON *given_mod = lull_json_child(doc, "moderation", false, false, &has_mod, err, errlen);
    if (has_mod && !given_mod) goto cleanup;
    const cJSON *given_ext = lull_json_child(doc, "extracted", false, false, &has_ext, err, errlen);
    if (has_ext && !given_ext) goto cleanup;
    lull_buf_t ent, mod, ext, raw;
    lull_buf_init(&ent, 0, false);
    lull_buf_init(&mod, 0, false);
    lull_buf_init(&ext, 0, false);
    lull_buf_init(&raw, 0, false);
    lull_buf_puts(&ent, "{");
    for (size_t i = 0; s_entity_kinds[i]; i++) {
        if (i) lull_buf_puts(&ent, ",");
        s_clean_strings(&ent, s_entity_kinds[i], given_ent ? cJSON_GetObjectItemCaseSensitive(given_ent, s_entity_kinds[i]) : NULL);
    }
    lull_buf_puts(&ent, "}");
    const cJSON *flagged = given_mod ? cJSON_GetObjectItemCaseSensitive(given_mod, "flagged") : NULL;
    lull_buf_puts(&mod, cJSON_IsTrue(flagged) ? "{\"flagged\":true," : "{\"flagged\":false,");
    s_clean_strings(&mod, "categories", given_mod ? cJSON_GetObjectItemCaseSensitive(given_mod, "categories") : NULL);
    lull_buf_puts(&mod, "}");
    lull_buf_puts(&ext, "{");
    s_extract_t x = {given_ext, &ext};
    s_fields(extraction_fields, s_copy_field, &x);
    lull_buf_puts(&ext, "}");
    lull_buf_reserve(&raw, ent.len + mod.len + ext.len + (reason ? strlen(reason) * 9 / 8 : 0) + 256);
    lull_buf_puts(&raw, "{\"sentiment\":");
    lull_json_write_str(&raw, out->sentiment);
    lull_buf_puts(&raw, ",\"confidence\":");
    s_number(&raw, out->confidence);
    lull_buf_puts(&raw, ",\"intent\":");
    lull_json_write_str(&raw, out->intent);
    lull_buf_puts(&raw, ",\"priority\":");
    lull_json_write_str(&raw, out->priority);
    lull_buf_puts(&raw, out->escalate ? ",\"escalate\":true,\"escalate_reason\":" : ",\"escalate\":false,\"escalate_reason\":");
    lull_json_write_str(&raw, reason ? reason : "");
    lull_buf_puts(&raw, ",\"entities\":");
    lull_buf_append(&raw, ent.data, ent.len);
    lull_buf_puts(&raw, ",\"moderation\":");
    lull_buf_append(&raw, mod.data, mod.len);
    lull_buf_puts(&raw, ",\"extracted\":");
    lull_buf_append(&raw, ext.data, ext.len);
    lull_buf_puts(&raw, "}");
    bool failed = ent.failed || mod.failed || ext.failed || raw.failed;
    out->escalate_reason = strdup(reason ? reason : "");
    out->entities = failed ? NULL : lull_buf_take(&ent);
    out->moderation = failed ? NULL : lull_buf_take(&mod);
    out->extracted = failed ? NULL : lull_buf_take(&ext);
    out->raw = failed ? NULL : lull_buf_take(&raw);
    lull_buf_reset(&ent);
    lull_buf_reset(&mod);
    lull_buf_reset(&ext);
    lull_buf_reset(&raw);
    if (!out->escalate_reason || !out->entities || !out->moderation || !out->extracted || !out->raw) {
        snprintf(err, errlen, "out of memory");
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (rc != 0) worker_analysis_clear(out);
    return rc;
}

void worker_analysis_clear(worker_analysis_t *a)
{
    if (!a) return;
    free(a->escalate_reason);
    free(a->entities);
    free(a->moderation);
    free(a->extracted);
    free(a->raw);
    memset(a, 0, sizeof *a);
}
