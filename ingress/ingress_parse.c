// Webhook body parsing: strict, bounded, and producing the JSON rows of lull_ingress_store().
#include "ingress_parse.h"
#include "lull_channel.h"
#include "lull_json.h"
#include "lull_url.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ingress_err_set(ingress_err_t *err, int status, const char *code, const char *fmt, ...)
{
    err->status = status;
    snprintf(err->code, sizeof err->code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

void ingress_row_free(ingress_row_t *r)
{
    if (!r) return;
    free(r->row_json);
    free(r->provider_id);
    free(r->echo);
    memset(r, 0, sizeof *r);
}

// ---------------------------------------------------------------------------------------------------------
// Forms

int ingress_form_parse(const char *body, size_t len, ingress_form_t *out, ingress_err_t *err)
{
    memset(out, 0, sizeof *out);
    size_t pairs = 1;
    for (size_t i = 0; i < len; i++)
        if (body[i] == '&') pairs++;
    out->p = calloc(pairs, sizeof *out->p);
    out->storage = malloc(len + 2 * pairs + 1);
    if (!out->p || !out->storage) {
        ingress_form_free(out);
        return ingress_err_set(err, 503, "out_of_memory", "out of memory");
    }
    char *w = out->storage;
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && body[e] != '&') e++;
        if (e > i) {
            size_t eq = i;
            while (eq < e && body[eq] != '=') eq++;
            char *name = w;  // a decoded text is never longer than its encoding
            int nl = lull_url_decode(body + i, eq - i, name, eq - i + 1);
            if (nl < 0) goto bad;
            w += nl + 1;
            char *value = w;
            size_t vlen = eq < e ? e - eq - 1 : 0;
            int vl = lull_url_decode(body + (eq < e ? eq + 1 : e), vlen, value, vlen + 1);
            if (vl < 0) goto bad;
            w += vl + 1;
            if (!*name) goto bad;
            out->p[out->n++] = (ingress_param_t){name, value};
        }
        i = e + 1;
    }
    return 0;
bad:
    ingress_form_free(out);
    return ingress_err_set(err, 400, "malformed_form",
                           "form body is not valid application/x-www-form-urlencoded (bad %%-escape, empty name, NUL "
                           "byte or invalid UTF-8)");
}

const char *ingress_form_get(const ingress_form_t *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->p[i].name, name) == 0) return f->p[i].value;
    return NULL;
}

void ingress_form_free(ingress_form_t *f)
{
    if (!f) return;
    free(f->p);
    free(f->storage);
    memset(f, 0, sizeof *f);
}

// ---------------------------------------------------------------------------------------------------------
// JSON helpers

// Parses a JSON body; rejects \u0000 escapes (PostgreSQL text cannot hold NUL) besides what lull_json_parse does.
cJSON *ingress_parse_json(const char *body, size_t len, const char *what, ingress_err_t *err)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (body[i] != '\\') continue;
        if (body[i + 1] == 'u' && i + 5 < len && memcmp(body + i + 2, "0000", 4) == 0) {
            ingress_err_set(err, 400, "invalid_text", "%s contains a \\u0000 (NUL) escape", what);
            return NULL;
        }
        i++;
    }
    char why[160];
    cJSON *root = lull_json_parse(body, len, LULL_JSON_MAX_DEPTH, why, sizeof why);
    if (!root) {
        ingress_err_set(err, 400, strstr(why, "UTF-8") ? "invalid_text" : "malformed_json", "%s: %s", what, why);
        return NULL;
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        ingress_err_set(err, 400, "malformed_json", "%s must be a JSON object", what);
        return NULL;
    }
    return root;
}

int ingress_form_from_json(const char *body, size_t len, ingress_form_t *out, ingress_err_t *err)
{
    memset(out, 0, sizeof *out);
    cJSON *root = ingress_parse_json(body, len, "body", err), *v;
    size_t n = 0, bytes = 0;
    cJSON_ArrayForEach(v, root) n++;
    char **texts = calloc(n ? n : 1, sizeof *texts);
    int rc = -1;
    if (!root) goto cleanup;
    if (!texts) goto oom;
    size_t i = 0;
    cJSON_ArrayForEach(v, root) {
        if (cJSON_IsNull(v)) continue;
        if (!*v->string) {
            ingress_err_set(err, 400, "invalid_field", "body has a field with an empty name");
            goto cleanup;
        }
        if (!cJSON_IsString(v) && !cJSON_IsNumber(v) && !cJSON_IsBool(v)) {
            ingress_err_set(err, 400, "invalid_field", "field '%.64s' must be a string, a number or a boolean",
                            v->string);
            goto cleanup;
        }
        texts[i] = cJSON_IsString(v) ? strdup(v->valuestring) : cJSON_PrintUnformatted(v);
        if (!texts[i]) goto oom;
        bytes += strlen(v->string) + strlen(texts[i++]) + 2;
    }
    out->p = calloc(i ? i : 1, sizeof *out->p);
    out->storage = malloc(bytes ? bytes : 1);
    if (!out->p || !out->storage) goto oom;
    char *w = out->storage;
    size_t k = 0;
    cJSON_ArrayForEach(v, root) {
        if (cJSON_IsNull(v)) continue;
        size_t nl = strlen(v->string) + 1, vl = strlen(texts[k]) + 1;
        out->p[out->n++] = (ingress_param_t){memcpy(w, v->string, nl), memcpy(w + nl, texts[k++], vl)};
        w += nl + vl;
    }
    rc = 0;
    goto cleanup;
oom:
    ingress_err_set(err, 503, "out_of_memory", "out of memory");
cleanup:
    if (rc != 0) ingress_form_free(out);
    for (size_t t = 0; t < n && texts; t++) free(texts[t]);
    free(texts);
    cJSON_Delete(root);
    return rc;
}

// A string field (or, when allow_int, an integer written as a number); NULL when absent and optional.
static int s_field(const cJSON *obj, const char *key, bool required, bool allow_int, const char **out, char *ibuf,
                   size_t ibuf_len, ingress_err_t *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (allow_int && cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d != (double)(long long)d || d < -9.0e15 || d > 9.0e15)
            return ingress_err_set(err, 400, "invalid_field", "field '%s' must be a string or an integer", key);
        snprintf(ibuf, ibuf_len, "%lld", (long long)d);
        *out = ibuf;
        return 0;
    }
    char why[160];
    if (lull_json_str(obj, key, required, INGRESS_MAX_FIELD, out, why, sizeof why) != 0)
        return ingress_err_set(err, 400, strncmp(why, "missing", 7) == 0 ? "missing_field" : "invalid_field", "%s", why);
    if (required && !**out) return ingress_err_set(err, 400, "missing_field", "field '%s' must not be empty", key);
    return 0;
}

static void s_add_str(cJSON *o, const char *k, const char *v)
{
    if (v) cJSON_AddStringToObject(o, k, v);
}

cJSON *ingress_row_new(const char *route, const char *route_key, const char *channel, const char *external_id,
                        bool inbound, const char *body)
{
    cJSON *row = cJSON_CreateObject();
    cJSON_AddStringToObject(row, "route", route);
    s_add_str(row, "route_key", route_key);
    cJSON_AddStringToObject(row, "channel", channel);
    cJSON_AddStringToObject(row, "external_id", external_id);
    cJSON_AddStringToObject(row, "direction", inbound ? "in" : "out");
    cJSON_AddStringToObject(row, "author", inbound ? "contact" : "human");
    cJSON_AddStringToObject(row, "body", body);
    return row;
}

// A required message text of any length (the body size limit bounds it); the error names the field.
static int s_text(const cJSON *obj, const char *key, const char *where, const char **out, ingress_err_t *err)
{
    char why[160];
    if (lull_json_str(obj, key, true, (size_t)-1, out, why, sizeof why) == 0) return 0;
    return ingress_err_set(err, 400, strncmp(why, "missing", 7) == 0 ? "missing_field" : "invalid_field", "%s%s", where,
                           why);
}

// FNV-1a over the strings that name a contact in a row: its route key (the tenant), channel and external id.
static uint32_t s_affinity(const cJSON *row)
{
    const char *keys[3] = {"route_key", "channel", "external_id"};
    uint32_t h = 2166136261u;
    for (int k = 0; k < 3; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, keys[k]);
        for (const char *p = cJSON_IsString(v) ? v->valuestring : ""; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
        h = (h ^ 0xffu) * 16777619u;  // separator
    }
    return h ? h : 1;
}

int ingress_row_finish(cJSON *row, ingress_row_t *out, const char *channel, const char *provider_id, ingress_err_t *err)
{
    out->affinity = s_affinity(row);
    out->row_json = cJSON_PrintUnformatted(row);
    snprintf(out->channel, sizeof out->channel, "%s", channel);
    out->provider_id = provider_id ? strdup(provider_id) : NULL;
    if (!out->row_json || (provider_id && !out->provider_id)) {
        ingress_row_free(out);
        return ingress_err_set(err, 503, "out_of_memory", "out of memory");
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------------------
// Channels

int ingress_parse_generic(const char *body, size_t len, ingress_row_t *out, ingress_err_t *err)
{
    memset(out, 0, sizeof *out);
    cJSON *root = ingress_parse_json(body, len, "body", err), *row = NULL;
    if (!root) return -1;
    int rc = -1;
    char cbuf[32], ibuf[32];
    const char *contact = NULL, *text = NULL, *mid = NULL, *fn = NULL, *ln = NULL, *tenant = NULL;
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "message");
    if (s_field(root, "contact_id", true, true, &contact, cbuf, sizeof cbuf, err) != 0) goto cleanup;
    if (!msg || cJSON_IsNull(msg)) {
        ingress_err_set(err, 400, "missing_field", "missing required field 'message'");
        goto cleanup;
    }
    if (!cJSON_IsObject(msg)) {
        ingress_err_set(err, 400, "invalid_field", "field 'message' must be an object");
        goto cleanup;
    }
    if (s_text(msg, "body", "message: ", &text, err) != 0) goto cleanup;
    if (s_field(msg, "id", false, true, &mid, ibuf, sizeof ibuf, err) != 0 ||
        s_field(root, "first_name", false, false, &fn, NULL, 0, err) != 0 ||
        s_field(root, "last_name", false, false, &ln, NULL, 0, err) != 0 ||
        s_field(root, "tenant", false, false, &tenant, NULL, 0, err) != 0)
        goto cleanup;
    if (mid && !*mid) mid = NULL;
    const char *channel = lull_channel_name(LULL_CH_GENERIC);
    row = ingress_row_new(tenant ? "slug" : "default", tenant, channel, contact, true, text);
    s_add_str(row, "first_name", fn);
    s_add_str(row, "last_name", ln);
    s_add_str(row, "provider_message_id", mid);
    cJSON_AddItemReferenceToObject(row, "raw", root);
    out->wake = true;
    out->echo = strdup(contact);
    rc = ingress_row_finish(row, out, channel, mid, err);
cleanup:
    cJSON_Delete(row);
    cJSON_Delete(root);
    return rc;
}

bool ingress_parse_twilio_sid(const char *sid)
{
    bool ok = sid && strlen(sid) == 34 && (sid[0] == 'S' || sid[0] == 'M') && sid[1] == 'M';
    for (size_t i = 2; ok && i < 34; i++) ok = isxdigit((unsigned char)sid[i]) != 0;
    return ok;
}

static int s_bad_sid(ingress_err_t *err)
{
    return ingress_err_set(err, 400, "invalid_field",
                           "field 'MessageSid' is not a Twilio message SID (SM or MM and 32 hexadecimal digits)");
}

bool ingress_parse_tiktok_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    bool ok = n >= 1 && n <= INGRESS_TIKTOK_ID_MAX;
    for (size_t i = 0; ok && i < n; i++) ok = isalnum((unsigned char)id[i]) || strchr("_:.=+/-", id[i]) != NULL;
    return ok;
}

int ingress_parse_twilio_status(const ingress_form_t *f, const char *uri, char *outbox, size_t outbox_cap,
                                char *args[4], ingress_err_t *err)
{
    static const char *const statuses[] = {"accepted", "scheduled", "queued", "sending", "sent", "delivered",
                                           "undelivered", "failed", "read", "canceled", "partially_delivered",
                                           "receiving", "received"};
    outbox[0] = '\0';
    size_t n = 0;
    const char *id = lull_url_query_raw(uri, "outbox", &n);
    if (id && n) {  // "outbox=" with no value is no outbox
        bool digits = n < 19 && n < outbox_cap && id[0] != '0';
        for (size_t i = 0; digits && i < n; i++) digits = id[i] >= '0' && id[i] <= '9';
        if (!digits) return ingress_err_set(err, 400, "invalid_field", "query parameter 'outbox' must be a positive integer");
        memcpy(outbox, id, n);
        outbox[n] = '\0';
    }
    const char *sid = ingress_form_get(f, "MessageSid"), *st = ingress_form_get(f, "MessageStatus"),
               *code = ingress_form_get(f, "ErrorCode");
    if (!sid || !*sid) return ingress_err_set(err, 400, "missing_field", "missing required field 'MessageSid'");
    if (!ingress_parse_twilio_sid(sid)) return s_bad_sid(err);
    if (!st || !*st) return ingress_err_set(err, 400, "missing_field", "missing required field 'MessageStatus'");
    bool known = false;
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) known = known || strcmp(st, statuses[i]) == 0;
    if (!known) return ingress_err_set(err, 400, "invalid_field", "field 'MessageStatus' is not a Twilio message status");
    bool code_ok = !code || strlen(code) <= 10;
    for (const char *c = code; code_ok && c && *c; c++) code_ok = *c >= '0' && *c <= '9';
    if (!code_ok) return ingress_err_set(err, 400, "invalid_field", "field 'ErrorCode' must be digits");
    args[1] = strdup(sid);
    args[2] = strdup(st);
    args[3] = code && *code ? strdup(code) : NULL;
    if (!args[1] || !args[2] || (code && *code && !args[3])) {
        for (int i = 1; i < 4; i++) {
            free(args[i]);
            args[i] = NULL;
        }
        return ingress_err_set(err, 503, "out_of_memory", "out of memory");
    }
    return 0;
}

int ingress_parse_twilio(const ingress_form_t *f, ingress_row_t *out, ingress_err_t *err)
{
    memset(out, 0, sizeof *out);
    static const char *const required[] = {"MessageSid", "From", "To"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = ingress_form_get(f, required[i]);
        if (!v || !*v) return ingress_err_set(err, 400, "missing_field", "missing required field '%s'", required[i]);
        if (strlen(v) > INGRESS_MAX_FIELD)
            return ingress_err_set(err, 400, "invalid_field", "field '%s' is longer than %d bytes", required[i],
                                   INGRESS_MAX_FIELD);
    }
    const char *sid = ingress_form_get(f, "MessageSid"), *from = ingress_form_get(f, "From"),
               *to = ingress_form_get(f, "To"), *text = ingress_form_get(f, "Body"),
               *nm = ingress_form_get(f, "NumMedia"), *profile = ingress_form_get(f, "ProfileName");
    // a strict format: Twilio's string-to-sign has no separators, so a loose SID could swallow the next parameter
    if (!ingress_parse_twilio_sid(sid)) return s_bad_sid(err);
    long num_media = 0;
    if (nm && *nm) {
        char *end = NULL;
        num_media = strtol(nm, &end, 10);
        if (*end || num_media < 0 || num_media > 100)
            return ingress_err_set(err, 400, "invalid_field", "field 'NumMedia' must be an integer 0..100");
    }
    if (profile && strlen(profile) > INGRESS_MAX_FIELD) profile = NULL;
    bool wa = strncmp(from, "whatsapp:", 9) == 0;
    const char *channel = lull_channel_name(wa ? LULL_CH_WHATSAPP : LULL_CH_SMS);
    char key2[INGRESS_MAX_FIELD + 16];
    if (strncmp(to, "whatsapp:", 9) == 0) snprintf(key2, sizeof key2, "%s", to + 9);
    else snprintf(key2, sizeof key2, "whatsapp:%s", to);

    cJSON *row = ingress_row_new("twilio", to, channel, from, true, text ? text : ""),
          *media = cJSON_CreateArray(), *raw = cJSON_CreateObject();
    for (long i = 0; i < num_media; i++) {
        char k[32], c[40];
        snprintf(k, sizeof k, "MediaUrl%ld", i);
        snprintf(c, sizeof c, "MediaContentType%ld", i);
        const char *url = ingress_form_get(f, k);
        if (!url) continue;
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "url", url);
        s_add_str(m, "content_type", ingress_form_get(f, c));
        cJSON_AddItemToArray(media, m);
    }
    for (size_t i = 0; i < f->n; i++) {  // every field, repeated names as arrays
        cJSON *prev = cJSON_GetObjectItemCaseSensitive(raw, f->p[i].name);
        if (!prev) {
            cJSON_AddStringToObject(raw, f->p[i].name, f->p[i].value);
        } else if (cJSON_IsArray(prev)) {
            cJSON_AddItemToArray(prev, cJSON_CreateString(f->p[i].value));
        } else {
            cJSON *arr = cJSON_CreateArray();
            cJSON_AddItemToArray(arr, cJSON_CreateString(prev->valuestring));
            cJSON_AddItemToArray(arr, cJSON_CreateString(f->p[i].value));
            cJSON_ReplaceItemInObjectCaseSensitive(raw, f->p[i].name, arr);
        }
    }
    cJSON_AddStringToObject(row, "route_key2", key2);
    s_add_str(row, "profile_name", profile);
    cJSON_AddStringToObject(row, "phone", wa ? from + 9 : from);
    cJSON_AddStringToObject(row, "business_address", to);
    cJSON_AddItemToObject(row, "media", media);
    cJSON_AddStringToObject(row, "provider_message_id", sid);
    cJSON_AddItemToObject(row, "raw", raw);
    out->wake = true;
    int rc = ingress_row_finish(row, out, channel, sid, err);
    cJSON_Delete(row);
    return rc;
}

// Reads obj.key.id as a string (TikTok ids are 19-digit strings: never numbers).
static int s_user_id(const cJSON *content, const char *key, const char **out, ingress_err_t *err)
{
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(content, key);
    if (!cJSON_IsObject(u)) return ingress_err_set(err, 400, "missing_field", "content.%s must be an object with an id", key);
    if (s_field(u, "id", true, false, out, NULL, 0, err) != 0)
        return ingress_err_set(err, 400, err->code, "content.%s.id must be a non-empty string", key);
    return 0;
}

int ingress_parse_tiktok(const char *body, size_t len, ingress_row_t *out, ingress_err_t *err)
{
    memset(out, 0, sizeof *out);
    cJSON *root = ingress_parse_json(body, len, "body", err), *content = NULL, *row = NULL;
    if (!root) return -1;
    int rc = -1;
    const char *client_key = NULL, *event = NULL, *cstr = NULL, *conv = NULL, *mid = NULL, *from = NULL, *to = NULL;
    if (s_field(root, "client_key", true, false, &client_key, NULL, 0, err) != 0 ||
        s_field(root, "event", true, false, &event, NULL, 0, err) != 0)
        goto cleanup;
    bool inbound = strcmp(event, "im_receive_msg") == 0, human = strcmp(event, "im_send_msg") == 0;
    if (!inbound && !human) {
        out->ignored = true;
        rc = 0;
        goto cleanup;
    }
    if (s_text(root, "content", "content must be a JSON string: ", &cstr, err) != 0) goto cleanup;
    content = ingress_parse_json(cstr, strlen(cstr), "content", err);
    if (!content) goto cleanup;
    if (s_field(content, "conversation_id", true, false, &conv, NULL, 0, err) != 0 ||
        s_field(content, "message_id", true, false, &mid, NULL, 0, err) != 0 ||
        s_user_id(content, "from_user", &from, err) != 0 || s_user_id(content, "to_user", &to, err) != 0)
        goto cleanup;
    const char *bad = !ingress_parse_tiktok_id(conv) ? "conversation_id" : !ingress_parse_tiktok_id(mid) ? "message_id" : NULL;
    if (bad) {
        ingress_err_set(err, 400, "invalid_field",
                        "field 'content.%s' is not a TikTok id (1..%d letters, digits or _ : . = + / -)", bad,
                        INGRESS_TIKTOK_ID_MAX);
        goto cleanup;
    }
    const char *text = "";
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(content, "text");
    if (t && !cJSON_IsNull(t)) {
        if (!cJSON_IsObject(t)) {
            ingress_err_set(err, 400, "invalid_field", "content.text must be an object");
            goto cleanup;
        }
        char why[160];
        if (lull_json_str(t, "body", false, (size_t)-1, &text, why, sizeof why) != 0) {
            ingress_err_set(err, 400, "invalid_field", "content.text.%s", why);
            goto cleanup;
        }
        if (!text) text = "";
    }
    row = ingress_row_new("tiktok", client_key, lull_channel_name(LULL_CH_TIKTOK), inbound ? from : to, inbound, text);
    cJSON_AddStringToObject(row, "business_address", inbound ? to : from);
    cJSON_AddStringToObject(row, "external_conversation_id", conv);
    cJSON_AddStringToObject(row, "provider_message_id", mid);
    cJSON *raw = cJSON_Duplicate(root, true);
    if (raw) cJSON_ReplaceItemInObjectCaseSensitive(raw, "content", cJSON_Duplicate(content, true));
    cJSON_AddItemToObject(row, "raw", raw ? raw : cJSON_CreateNull());
    out->wake = inbound;
    rc = ingress_row_finish(row, out, lull_channel_name(LULL_CH_TIKTOK), mid, err);
cleanup:
    cJSON_Delete(row);
    cJSON_Delete(content);
    cJSON_Delete(root);
    return rc;
}

int ingress_parse_chat_message(const char *body, size_t len, ingress_row_t *out, ingress_err_t *err)
{
    memset(out, 0, sizeof *out);
    cJSON *root = ingress_parse_json(body, len, "body", err), *row = NULL;
    if (!root) return -1;
    int rc = -1;
    char ubuf[32];
    const char *sid = NULL, *text = NULL, *user = NULL;
    if (s_field(root, "sessionId", true, false, &sid, NULL, 0, err) != 0 ||
        s_field(root, "userId", false, true, &user, ubuf, sizeof ubuf, err) != 0)
        goto cleanup;
    if (s_text(root, "message", "", &text, err) != 0) goto cleanup;
    row = ingress_row_new("session", sid, lull_channel_name(LULL_CH_WEBCHAT), sid, true, text);
    s_add_str(row, "user_id", user);
    cJSON_AddStringToObject(row, "external_conversation_id", sid);
    cJSON_AddItemReferenceToObject(row, "raw", root);
    out->wake = true;
    out->echo = strdup(sid);
    rc = ingress_row_finish(row, out, lull_channel_name(LULL_CH_WEBCHAT), NULL, err);
cleanup:
    cJSON_Delete(row);
    cJSON_Delete(root);
    return rc;
}

int ingress_parse_chat_session(const char *body, size_t len, char **metadata_json, char **tenant, ingress_err_t *err)
{
    *metadata_json = NULL;
    *tenant = NULL;
    cJSON *root = len ? ingress_parse_json(body, len, "body", err) : cJSON_CreateObject();
    if (!root) return -1;
    int rc = -1;
    char ubuf[32];
    const char *user = NULL, *slug = NULL;
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
    if (s_field(root, "userId", false, true, &user, ubuf, sizeof ubuf, err) != 0 ||
        s_field(root, "tenant", false, false, &slug, NULL, 0, err) != 0)
        goto cleanup;
    if (meta && !cJSON_IsNull(meta) && !cJSON_IsObject(meta)) {
        ingress_err_set(err, 400, "invalid_field", "field 'metadata' must be an object");
        goto cleanup;
    }
    cJSON *m = cJSON_CreateObject();
    s_add_str(m, "userId", user);
    if (meta && cJSON_IsObject(meta)) cJSON_AddItemReferenceToObject(m, "metadata", (cJSON *)meta);
    *metadata_json = cJSON_PrintUnformatted(m);
    cJSON_Delete(m);
    *tenant = slug ? strdup(slug) : NULL;
    rc = *metadata_json ? 0 : ingress_err_set(err, 503, "out_of_memory", "out of memory");
cleanup:
    cJSON_Delete(root);
    return rc;
}
