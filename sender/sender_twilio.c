// The Twilio adapter: see sender_twilio.h.
#include "sender_twilio.h"
#include "lull_channel.h"
#include "lull_db.h"
#include "lull_json.h"
#include "sender_outbox.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool s_is_alnum_id(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9'))) return false;
    return true;
}

sender_twilio_rc_t sender_twilio_build(const sender_cfg_t *cfg, int64_t id, int64_t tenant_id, const PGresult *res,
                                       int r, const sender_payload_t *p, const cJSON *creds, const char *channel,
                                       sender_twilio_t *t, char *err, size_t errlen)
{
    *t = (sender_twilio_t){.form = {.max_len = 65536}};
    if (errlen) err[0] = '\0';
    sender_form_t *form = &t->form;
    const char *sid = NULL, *token = NULL, *msid = NULL;
    const char *to = lull_db_text(res, r, SO_RECIPIENT), *from = lull_db_text(res, r, SO_SENDER_ADDR);
    if (sender_credential(creds, tenant_id, "twilio_account_sid_env", cfg->twilio_sid, &sid, err, errlen) != 0 ||
        sender_credential(creds, tenant_id, "twilio_auth_token_env", cfg->twilio_token, &token, err, errlen) != 0)
        return SENDER_TWILIO_DEAD;
    if (creds && lull_json_str(creds, "twilio_messaging_service_sid", false, 64, &msid, err, errlen) != 0)
        return SENDER_TWILIO_DEAD;
    if (!msid || !*msid) msid = cfg->twilio_msid;
    if (!s_is_alnum_id(sid, 64) || !token || !*token) {
        snprintf(err, errlen, "no valid Twilio credentials (LULL_TWILIO_ACCOUNT_SID/AUTH_TOKEN or tenant's)");
        return SENDER_TWILIO_DEAD;
    }
    if (!to || !*to || strlen(to) > 256) {
        snprintf(err, errlen, "missing or invalid recipient");
        return SENDER_TWILIO_DEAD;
    }
    bool whatsapp = lull_channel_parse(channel) == LULL_CH_WHATSAPP;
    if (whatsapp && strncmp(to, "whatsapp:", 9) != 0) {
        snprintf(err, errlen, "whatsapp recipient lacks the whatsapp: prefix");
        return SENDER_TWILIO_DEAD;
    }
    if ((!msid || !*msid) && (!from || !*from || strlen(from) > 256)) {
        snprintf(err, errlen, "missing sender_address (From) and no MessagingServiceSid");
        return SENDER_TWILIO_DEAD;
    }
    bool use_template = false;
    if (whatsapp) {
        bool ok = false;
        int64_t age = lull_db_int(res, r, SO_INBOUND_AGE_MS, &ok);
        const char *tpl = lull_db_text(res, r, SO_WA_TEMPLATE_SID);
        sender_wa_t wa = sender_wa_decide(ok ? age : -1, cfg->wa_window_ms, tpl && *tpl);
        if (wa == SENDER_WA_ESCALATE) {
            snprintf(err, errlen, "whatsapp: outside the 24-hour window and no approved template configured");
            return SENDER_TWILIO_ESCALATE;
        }
        use_template = wa == SENDER_WA_TEMPLATE;
    }
    if (sender_form_add(form, "To", to) != 0) goto toolong;
    if (msid && *msid) {
        if (sender_form_add(form, "MessagingServiceSid", msid) != 0) goto toolong;
    } else if (sender_form_add(form, "From", from) != 0) {
        goto toolong;
    }
    if (use_template) {
        const char *vars = lull_db_text(res, r, SO_WA_TEMPLATE_VARS);
        if (sender_form_add(form, "ContentSid", lull_db_text(res, r, SO_WA_TEMPLATE_SID)) != 0) goto toolong;
        if (vars && sender_form_add(form, "ContentVariables", vars) != 0) goto toolong;
    } else {
        if (p->body && *p->body && sender_form_add(form, "Body", p->body) != 0) goto toolong;
        for (int i = 0; i < p->nmedia; i++)
            if (sender_form_add(form, "MediaUrl", p->media[i]) != 0) goto toolong;
    }
    if (*cfg->twilio_status_cb) {
        char cb[2200];
        snprintf(cb, sizeof cb, "%s%soutbox=%lld", cfg->twilio_status_cb, strchr(cfg->twilio_status_cb, '?') ? "&" : "?",
                 (long long)id);
        if (sender_form_add(form, "StatusCallback", cb) != 0) goto toolong;
    }
    snprintf(t->url, sizeof t->url, "%s/2010-04-01/Accounts/%s/Messages.json", cfg->twilio_base, sid);
    snprintf(t->userpwd, sizeof t->userpwd, "%s:%s", sid, token);
    t->req = (lull_http_req_t){.url = t->url, .body = form->buf, .body_len = form->len, .userpwd = t->userpwd,
                               .timeout_ms = cfg->timeout_ms,
                               .headers = {"Content-Type: application/x-www-form-urlencoded", "Accept: application/json"}};
    return SENDER_TWILIO_SEND;
toolong:
    snprintf(err, errlen, "message too long for a Twilio request");
    return SENDER_TWILIO_DEAD;
}
