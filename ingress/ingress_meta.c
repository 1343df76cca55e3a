// Meta's WhatsApp Cloud API webhook: the verification handshake and the envelope parser. Each message becomes a
// row of the whatsapp channel routed by metadata.phone_number_id; each status an update of the outbox row that
// sent the wamid. A message or status that cannot be used is skipped with a warn log: the envelope is signed,
// so it is Meta's, and answering non-2xx would only make Meta send the same bytes again for days.
#include "ingress_meta.h"
#include "lull_channel.h"
#include "lull_crypto.h"
#include "lull_json.h"
#include "lull_log.h"
#include "lull_url.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool ingress_meta_verify(const char *uri, const char *verify_token, char *challenge, size_t cap)
{
    char mode[32], token[512];
    if (!verify_token || !*verify_token || cap < 2) return false;
    if (!lull_url_query(uri, "hub.mode", mode, sizeof mode) || strcmp(mode, "subscribe") != 0) return false;
    if (!lull_url_query(uri, "hub.verify_token", token, sizeof token)) return false;
    if (!lull_ct_equal(token, strlen(token), verify_token, strlen(verify_token))) return false;
    size_t n = cap < INGRESS_META_CHALLENGE_MAX + 1 ? cap : INGRESS_META_CHALLENGE_MAX + 1;
    if (!lull_url_query(uri, "hub.challenge", challenge, n) || !*challenge) return false;
    for (const char *c = challenge; *c; c++)
        if (*c < 0x21 || *c > 0x7e) return false;  // printable ASCII, no space: the answer is text/plain
    return true;
}

bool ingress_meta_wamid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n < 7 || n > INGRESS_META_WAMID_MAX || strncmp(id, "wamid.", 6) != 0) return false;
    for (size_t i = 6; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && !strchr("+/=_-", id[i])) return false;
    return true;
}

// A WhatsApp id (wa_id, phone_number_id): 1..32 digits.
static bool s_digits(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 32) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

// obj.key as a string of at most max bytes, or NULL (absent, not a string, too long).
static const char *s_str(const cJSON *obj, const char *key, size_t max)
{
    const cJSON *v = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    return cJSON_IsString(v) && strlen(v->valuestring) <= max ? v->valuestring : NULL;
}

static int s_skip(ingress_meta_t *m, const char *what, const char *why)
{
    m->skipped++;
    LOG_WARN("whatsapp.skipped", why, "item", LS(what));
    return -1;
}

// The media entry of an image, audio, video, document or sticker (a media id, no URL: it is fetched later
// through GET /{media-id} with the access token).
static cJSON *s_media(const char *kind, const cJSON *obj, const char **caption)
{
    const char *id = s_str(obj, "id", 128);
    if (!id || !*id) return NULL;
    for (const char *c = id; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '.') return NULL;
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "provider", "meta");
    cJSON_AddStringToObject(m, "kind", kind);
    cJSON_AddStringToObject(m, "media_id", id);
    static const char *const keys[] = {"mime_type", "sha256", "caption", "filename"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = s_str(obj, keys[i], 1024);
        if (v) cJSON_AddStringToObject(m, keys[i], v);
    }
    const cJSON *voice = cJSON_GetObjectItemCaseSensitive(obj, "voice");
    if (cJSON_IsBool(voice)) cJSON_AddBoolToObject(m, "voice", cJSON_IsTrue(voice));
    *caption = s_str(obj, "caption", INGRESS_META_TEXT_MAX);
    return m;
}

// Appends sep and at most max bytes of v to out (cap bytes) when v is not empty.
static void s_append(char *out, size_t cap, const char *sep, const char *v, int max)
{
    size_t n = strlen(out);
    if (v && *v && n < cap) snprintf(out + n, cap - n, "%s%.*s", sep, max, v);
}

// The text of a message: what the customer wrote, chose or shared; *quiet set for reactions ("always") and
// types lull does not read ("unsupported"); *media gets the media entry. NULL when the message is unusable.
static const char *s_text(const char *type, const cJSON *msg, char *buf, size_t cap, const char **quiet, cJSON **media)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(msg, type);
    const char *t = NULL;
    buf[0] = '\0';
    if (strcmp(type, "text") == 0) return s_str(o, "body", INGRESS_META_TEXT_MAX);
    if (!strcmp(type, "image") || !strcmp(type, "audio") || !strcmp(type, "video") || !strcmp(type, "document") ||
        !strcmp(type, "sticker")) {
        *media = s_media(type, o, &t);
        return *media ? (t ? t : "") : NULL;
    }
    if (strcmp(type, "location") == 0) {
        const cJSON *lat = cJSON_GetObjectItemCaseSensitive(o, "latitude"), *lon = cJSON_GetObjectItemCaseSensitive(o, "longitude");
        if (!cJSON_IsNumber(lat) || !cJSON_IsNumber(lon)) return NULL;
        snprintf(buf, cap, "[location] %.6f, %.6f", lat->valuedouble, lon->valuedouble);
        s_append(buf, cap, " ", s_str(o, "name", 1024), 200);
        s_append(buf, cap, ", ", s_str(o, "address", 1024), 300);
        s_append(buf, cap, " ", s_str(o, "url", 1024), 300);
        return buf;
    }
    if (strcmp(type, "contacts") == 0) {
        const cJSON *c, *list = cJSON_IsArray(o) ? o : NULL;
        snprintf(buf, cap, "[contacts]");
        int k = 0;
        cJSON_ArrayForEach(c, list) {
            if (k++ == 10) break;
            s_append(buf, cap, " ", s_str(cJSON_GetObjectItemCaseSensitive(c, "name"), "formatted_name", 1024), 200);
            const cJSON *ph = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "phones"), 0);
            s_append(buf, cap, " ", s_str(ph, "phone", 64), 64);
            s_append(buf, cap, "", ";", 1);
        }
        return k ? buf : NULL;
    }
    if (strcmp(type, "interactive") == 0) {
        const char *kind = s_str(o, "type", 32);
        const cJSON *reply = kind ? cJSON_GetObjectItemCaseSensitive(o, kind) : NULL;
        if (!kind || (strcmp(kind, "button_reply") != 0 && strcmp(kind, "list_reply") != 0)) {
            *quiet = "unsupported";  // e.g. nfm_reply (flows): kept, answered as the tenant chooses
            return "";
        }
        return s_str(reply, "title", INGRESS_META_TEXT_MAX);
    }
    if (strcmp(type, "button") == 0) return s_str(o, "text", INGRESS_META_TEXT_MAX);
    if (strcmp(type, "reaction") == 0) {
        *quiet = "always";
        t = s_str(o, "emoji", 64);
        return t ? t : "";  // an empty emoji removes a reaction
    }
    *quiet = "unsupported";  // unsupported, unknown, system, order, …: the raw JSON is kept
    return "";
}

// One message of a change's messages[] into a row (skipped with a log when unusable).
static int s_message(ingress_meta_t *m, const cJSON *msg, const char *phone_id, const cJSON *contacts)
{
    const char *id = s_str(msg, "id", INGRESS_META_WAMID_MAX), *from = s_str(msg, "from", 32),
               *type = s_str(msg, "type", 32);
    if (!ingress_meta_wamid(id)) return s_skip(m, "message", "message id is not a wamid");
    if (!s_digits(from)) return s_skip(m, "message", "message.from is not a WhatsApp id (digits)");
    if (!type || !*type) return s_skip(m, "message", "message.type is missing");
    char buf[2048], ext[48], phone[40], ba[48];
    const char *quiet = NULL;
    cJSON *media = NULL;
    const char *text = s_text(type, msg, buf, sizeof buf, &quiet, &media);
    if (!text) return s_skip(m, "message", "message content missing, malformed or too long for its type");
    const char *profile = NULL;
    const cJSON *c, *list = cJSON_IsArray(contacts) ? contacts : NULL;
    cJSON_ArrayForEach(c, list) {
        const char *wa = s_str(c, "wa_id", 32);
        if (wa && strcmp(wa, from) == 0) profile = s_str(cJSON_GetObjectItemCaseSensitive(c, "profile"), "name", INGRESS_MAX_FIELD);
    }
    snprintf(ext, sizeof ext, "whatsapp:+%s", from);  // Twilio's From: one person is one contact on both providers
    snprintf(phone, sizeof phone, "+%s", from);
    snprintf(ba, sizeof ba, "meta:%s", phone_id);
    const char *channel = lull_channel_name(LULL_CH_WHATSAPP);
    cJSON *row = ingress_row_new("meta", phone_id, channel, ext, true, text);
    if (profile) cJSON_AddStringToObject(row, "profile_name", profile);
    cJSON_AddStringToObject(row, "phone", phone);
    cJSON_AddStringToObject(row, "business_address", ba);
    cJSON *arr = cJSON_AddArrayToObject(row, "media");
    if (media) cJSON_AddItemToArray(arr, media);
    cJSON_AddStringToObject(row, "provider_message_id", id);
    if (quiet) cJSON_AddStringToObject(row, "quiet", quiet);
    cJSON_AddItemToObject(row, "raw", cJSON_Duplicate(msg, true));
    ingress_row_t *r = &m->rows[m->nrows];
    ingress_err_t err;
    if (ingress_row_finish(row, r, channel, id, &err) == 0) {
        r->wake = strcmp(quiet ? quiet : "", "always") != 0;
        m->nrows++;
    } else {
        s_skip(m, "message", "out of memory");
    }
    cJSON_Delete(row);
    return 0;
}

static int s_status(ingress_meta_t *m, const cJSON *st)
{
    static const char *const known[] = {"sent", "delivered", "read", "failed"};
    const char *id = s_str(st, "id", INGRESS_META_WAMID_MAX), *status = s_str(st, "status", 32);
    if (!ingress_meta_wamid(id)) return s_skip(m, "status", "status id is not a wamid");
    bool ok = false;
    for (size_t i = 0; status && i < sizeof known / sizeof known[0]; i++) ok = ok || strcmp(status, known[i]) == 0;
    if (!ok) return s_skip(m, "status", "status is not sent, delivered, read or failed");
    char error[256] = "";
    const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(st, "errors"), 0);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
    if (cJSON_IsNumber(code)) {
        const char *title = s_str(e, "title", 200);
        snprintf(error, sizeof error, "%lld%s%s", (long long)code->valuedouble, title ? ": " : "", title ? title : "");
    }
    ingress_meta_status_t *s = &m->statuses[m->nstatuses];
    s->wamid = strdup(id);
    s->status = strdup(status);
    s->error = *error ? strdup(error) : NULL;
    if (!s->wamid || !s->status || (*error && !s->error)) {
        free(s->wamid);
        free(s->status);
        free(s->error);
        memset(s, 0, sizeof *s);
        return s_skip(m, "status", "out of memory");
    }
    m->nstatuses++;
    return 0;
}

// Counts the messages and statuses of every change of the envelope into *n (an upper bound of what is parsed).
static void s_count(const cJSON *root, size_t *n)
{
    const cJSON *e, *ch;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "entry")) {
        cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(e, "changes")) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(ch, "value");
            *n += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(v, "messages")) +
                  (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(v, "statuses"));
        }
    }
}

int ingress_meta_parse(const char *body, size_t len, size_t max_items, ingress_meta_t *out, ingress_err_t *err)
{
    memset(out, 0, sizeof *out);
    cJSON *root = ingress_parse_json(body, len, "body", err);
    if (!root) return -1;
    const char *object = s_str(root, "object", 64);
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(root, "entry");
    size_t n = 0;
    if (!object || strcmp(object, "whatsapp_business_account") != 0 || !cJSON_IsArray(entries)) {
        s_skip(out, "envelope", "not a whatsapp_business_account envelope with an entry array");
        goto done;
    }
    s_count(root, &n);
    if (n > max_items) {
        out->skipped = n;
        LOG_WARN("whatsapp.skipped", "envelope carries more messages and statuses than LULL_META_MAX_ITEMS", "items",
                 LI(n));
        goto done;
    }
    out->rows = calloc(n ? n : 1, sizeof *out->rows);
    out->statuses = calloc(n ? n : 1, sizeof *out->statuses);
    if (!out->rows || !out->statuses) {
        cJSON_Delete(root);
        ingress_meta_free(out);
        return ingress_err_set(err, 503, "out_of_memory", "out of memory");
    }
    const cJSON *e, *ch, *it;
    cJSON_ArrayForEach(e, entries) {
        cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(e, "changes")) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(ch, "value");
            const char *field = s_str(ch, "field", 64);
            if (!field || strcmp(field, "messages") != 0 || !cJSON_IsObject(v)) {
                s_skip(out, "change", "change is not a messages field with a value object");
                continue;
            }
            const char *phone_id = s_str(cJSON_GetObjectItemCaseSensitive(v, "metadata"), "phone_number_id", 32);
            const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(v, "messages"),
                        *sts = cJSON_GetObjectItemCaseSensitive(v, "statuses"),
                        *contacts = cJSON_GetObjectItemCaseSensitive(v, "contacts");
            if (!cJSON_IsArray(msgs)) msgs = NULL;
            if (!cJSON_IsArray(sts)) sts = NULL;
            if (msgs && !s_digits(phone_id)) {
                out->skipped += (size_t)cJSON_GetArraySize(msgs);
                LOG_WARN("whatsapp.skipped", "metadata.phone_number_id is missing or not digits", "item", LS("change"));
                msgs = NULL;
            }
            cJSON_ArrayForEach(it, msgs) (void)s_message(out, it, phone_id, contacts);
            cJSON_ArrayForEach(it, sts) (void)s_status(out, it);
        }
    }
done:
    cJSON_Delete(root);
    return 0;
}

int ingress_meta_items(ingress_meta_t *m, int64_t received_ms)
{
    size_t n = m->nrows + m->nstatuses;
    m->items = calloc(n ? n : 1, sizeof *m->items);
    if (!m->items) return -1;
    for (size_t i = 0; i < m->nrows; i++) {
        ingress_item_t *it = &m->items[i];
        it->op = INGRESS_OP_STORE;
        it->row_json = m->rows[i].row_json;
        it->channel = m->rows[i].channel;
        it->provider_id = m->rows[i].provider_id;
        it->wake = m->rows[i].wake;
        it->affinity = m->rows[i].affinity;
        it->received_ms = received_ms;
    }
    for (size_t i = 0; i < m->nstatuses; i++) {
        ingress_item_t *it = &m->items[m->nrows + i];
        it->op = INGRESS_OP_STATUS;
        it->channel = "meta";  // the status log's provider
        it->arg[1] = m->statuses[i].wamid;
        it->arg[2] = m->statuses[i].status;
        it->arg[3] = m->statuses[i].error;
        it->received_ms = received_ms;
    }
    return 0;
}

void ingress_meta_free(ingress_meta_t *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->nrows; i++) ingress_row_free(&m->rows[i]);
    for (size_t i = 0; i < m->nstatuses; i++) {
        free(m->statuses[i].wamid);
        free(m->statuses[i].status);
        free(m->statuses[i].error);
    }
    for (size_t i = 0; m->items && i < m->nrows + m->nstatuses; i++) free(m->items[i].result_json);
    free(m->items);
    free(m->rows);
    free(m->statuses);
    memset(m, 0, sizeof *m);
}
