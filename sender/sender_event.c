// The callback bodies of claimed outbox rows: message.reply for replies, conversation.escalated for the
// escalation rows the worker's commit (and the sender's own WhatsApp-window escalation) queue. The row's
// idempotency key is the body's id and the webhook-id, the same on every retry.
#include "sender_event.h"
#include "lull_db.h"
#include "lull_json.h"
#include "sender_outbox.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define S_URL_MAX 2048  // bytes of an inbox link

bool sender_event_is_escalation(const char *kind) { return kind && strcmp(kind, "escalation") == 0; }

// Adds key: the row's integer column, or null.
static void s_add_int(cJSON *j, const char *key, const PGresult *res, int r, int col)
{
    bool ok = false;
    int64_t v = lull_db_int(res, r, col, &ok);
    if (ok) cJSON_AddNumberToObject(j, key, (double)v);
    else cJSON_AddNullToObject(j, key);
}

// Adds key: s, or null.
static void s_add_str(cJSON *j, const char *key, const char *s)
{
    if (s) cJSON_AddStringToObject(j, key, s);
    else cJSON_AddNullToObject(j, key);
}

cJSON *sender_event_reply(const PGresult *res, int r, const char *body, const char *kind, const char *const *media,
                          int nmedia)
{
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    const char *contact = lull_db_text(res, r, SO_RECIPIENT);
    if (!contact || !*contact) contact = lull_db_text(res, r, SO_CONTACT_EXT);
    cJSON_AddStringToObject(j, "type", "message.reply");
    s_add_str(j, "id", lull_db_text(res, r, SO_IDEM_KEY));
    s_add_int(j, "conversation_id", res, r, SO_CONV);
    s_add_str(j, "contact_id", contact);
    s_add_int(j, "message_id", res, r, SO_MESSAGE);
    cJSON_AddStringToObject(j, "body", body ? body : "");
    cJSON_AddStringToObject(j, "kind", kind ? kind : "reply");
    if (nmedia > 0) {
        cJSON *m = cJSON_AddArrayToObject(j, "media");
        for (int i = 0; m && i < nmedia; i++) cJSON_AddItemToArray(m, cJSON_CreateString(media[i]));
    }
    const char *created = lull_db_text(res, r, SO_CREATED_AT);
    cJSON_AddStringToObject(j, "created_at", created ? created : "");
    return j;
}

cJSON *sender_event_escalated(const PGresult *res, int r, const char *admin_url)
{
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    char err[160];
    const char *ptext = lull_db_text(res, r, SO_PAYLOAD), *ctext = lull_db_text(res, r, SO_CONTACT_JSON);
    cJSON *payload = ptext ? lull_json_parse(ptext, strlen(ptext), 8, err, sizeof err) : NULL;
    cJSON *contact = ctext ? lull_json_parse(ctext, strlen(ctext), 4, err, sizeof err) : NULL;
    const char *reason = NULL, *source = NULL;
    int64_t esc_id = 0;
    bool has_esc = payload && lull_json_int(payload, "escalation_id", true, false, 1, INT64_MAX, &esc_id, err,
                                            sizeof err) == 0;
    if (payload && lull_json_str(payload, "body", false, 4096, &reason, err, sizeof err) != 0) reason = NULL;
    if (payload && lull_json_str(payload, "source", false, 64, &source, err, sizeof err) != 0) source = NULL;
    cJSON_AddStringToObject(j, "type", "conversation.escalated");
    s_add_str(j, "id", lull_db_text(res, r, SO_IDEM_KEY));
    s_add_int(j, "conversation_id", res, r, SO_CONV);
    if (contact) cJSON_AddItemToObject(j, "contact", contact);
    else cJSON_AddNullToObject(j, "contact");
    s_add_str(j, "channel", lull_db_text(res, r, SO_CONV_CHANNEL));
    s_add_str(j, "reason", reason);
    s_add_str(j, "source", source);
    if (has_esc) cJSON_AddNumberToObject(j, "escalation_id", (double)esc_id);
    else cJSON_AddNullToObject(j, "escalation_id");
    bool ok = false;
    int64_t conv = lull_db_int(res, r, SO_CONV, &ok);
    if (admin_url && *admin_url && ok) {
        char url[S_URL_MAX];
        size_t n = strlen(admin_url);
        while (n > 0 && admin_url[n - 1] == '/') n--;  // a trailing slash in the setting
        int w = snprintf(url, sizeof url, "%.*s/inbox#/conversations/%lld", (int)n, admin_url, (long long)conv);
        if (w > 0 && (size_t)w < sizeof url) cJSON_AddStringToObject(j, "inbox_url", url);
    }
    const char *created = lull_db_text(res, r, SO_CREATED_AT);
    cJSON_AddStringToObject(j, "created_at", created ? created : "");
    cJSON_Delete(payload);
    return j;
}
