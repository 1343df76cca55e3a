// The sender's channel adapters (sender_adapt.h): each builds one request from a claimed row into a
// sender_built_t, or says why the row cannot be sent.
#include "sender_adapt.h"
#include "lull_clock.h"
#include "lull_config.h"
#include "lull_json.h"
#include "lull_stdwebhook.h"
#include "sender_event.h"
#include "sender_outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool s_is_http_url(const char *u)
{
    return u && (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) && strlen(u) < 2048;
}

// WhatsApp Cloud API: the text in parts of 4096 characters, the tenant's template outside the 24-hour window, or
// an escalation when there is none.
static sender_build_rc_t s_meta(const sender_cfg_t *cfg, int64_t tenant_id, const PGresult *res, int r,
                                const sender_payload_t *p, const cJSON *creds, sender_built_t *b)
{
    const char *token = NULL, *tpl = lull_db_text(res, r, SO_META_TEMPLATE);
    if (sender_credential(creds, tenant_id, "meta_access_token_env", cfg->meta_token, &token, b->err, sizeof b->err) != 0)
        return SENDER_BUILD_DEAD;
    bool ok = false;
    int64_t age = lull_db_int(res, r, SO_INBOUND_AGE_MS, &ok);
    sender_wa_t wa = sender_wa_decide(ok ? age : -1, cfg->wa_window_ms, tpl && *tpl);
    if (wa == SENDER_WA_ESCALATE) {
        snprintf(b->err, sizeof b->err, "whatsapp: outside the 24-hour window and no approved template configured");
        return SENDER_BUILD_ESCALATE;
    }
    sender_meta_in_t in = {.base = cfg->meta_base, .version = cfg->meta_version, .token = token,
                           .sender_address = lull_db_text(res, r, SO_SENDER_ADDR),
                           .recipient = lull_db_text(res, r, SO_RECIPIENT), .body = p->body, .template_json = tpl,
                           .use_template = wa == SENDER_WA_TEMPLATE};
    b->meta = sender_meta_new(&in, b->err, sizeof b->err);
    if (!b->meta) return SENDER_BUILD_DEAD;  // err set: dead; err empty: out of memory
    sender_meta_request(b->meta, &b->req, cfg->timeout_ms);
    return SENDER_BUILD_SEND;
}

static sender_build_rc_t s_tiktok(const sender_cfg_t *cfg, int64_t tenant_id, const PGresult *res, int r,
                                  const sender_payload_t *p, const cJSON *creds, sender_built_t *b)
{
    const char *token = NULL;
    const char *to = lull_db_text(res, r, SO_RECIPIENT), *biz = lull_db_text(res, r, SO_SENDER_ADDR);
    if (!biz || !*biz) biz = lull_db_text(res, r, SO_TIKTOK_BUSINESS);
    if (sender_credential(creds, tenant_id, "tiktok_access_token_env", cfg->tiktok_token, &token, b->err, sizeof b->err) != 0)
        return SENDER_BUILD_DEAD;
    if (!token || !*token || strlen(token) > 1024 || strpbrk(token, "\r\n")) {
        snprintf(b->err, sizeof b->err, "no valid TikTok access token (LULL_TIKTOK_ACCESS_TOKEN or tenant's)");
        return SENDER_BUILD_DEAD;
    }
    if (!to || !*to || strlen(to) > 256 || !biz || !*biz || strlen(biz) > 256) {
        snprintf(b->err, sizeof b->err, "missing recipient (conversation id) or business id");
        return SENDER_BUILD_DEAD;
    }
    if (!p->body || !*p->body) {
        snprintf(b->err, sizeof b->err, "tiktok: only text messages are supported");
        return SENDER_BUILD_DEAD;
    }
    b->json = cJSON_CreateObject();
    cJSON *text = cJSON_CreateObject();
    if (!b->json || !text) {
        cJSON_Delete(text);
        return SENDER_BUILD_DEAD;  // out of memory
    }
    cJSON_AddStringToObject(b->json, "business_id", biz);
    cJSON_AddStringToObject(b->json, "recipient_type", "CONVERSATION");
    cJSON_AddStringToObject(b->json, "recipient", to);
    cJSON_AddStringToObject(b->json, "message_type", "TEXT");
    cJSON_AddStringToObject(text, "body", p->body);
    cJSON_AddItemToObject(b->json, "text", text);
    b->body = lull_json_print(b->json);
    if (!b->body) return SENDER_BUILD_DEAD;  // out of memory
    snprintf(b->url, sizeof b->url, "%s/open_api/v1.3/business/message/send/", cfg->tiktok_base);
    snprintf(b->hdr, sizeof b->hdr, "Access-Token: %s", token);
    b->req = (lull_http_req_t){.url = b->url, .body = b->body, .body_len = strlen(b->body), .timeout_ms = cfg->timeout_ms,
                               .headers = {"Content-Type: application/json", b->hdr}};
    return SENDER_BUILD_SEND;
}

static sender_build_rc_t s_callback(const sender_cfg_t *cfg, const lull_netaddr_allow_t *allow, int64_t tenant_id,
                                    const PGresult *res, int r, const sender_payload_t *p, sender_built_t *b)
{
    const char *url = lull_db_text(res, r, SO_CALLBACK_URL);
    if (!url || !*url) url = cfg->callback_url;
    const char *idem = lull_db_text(res, r, SO_IDEM_KEY);
    const char *secret = cfg->callback_secret;
    const char *ref = lull_db_text(res, r, SO_CALLBACK_SECRET_REF);
    if (!s_is_http_url(url)) {
        snprintf(b->err, sizeof b->err, "no callback URL (tenants.callback_url or LULL_CALLBACK_URL)");
        return SENDER_BUILD_DEAD;
    }
    if (!idem || !*idem || strlen(idem) > 200 || strpbrk(idem, "\r\n")) {
        snprintf(b->err, sizeof b->err, "invalid idempotency_key");
        return SENDER_BUILD_DEAD;
    }
    if (ref && *ref) {
        bool refused = false;
        secret = lull_config_tenant_env(ref, "callback_secret_ref", tenant_id, &refused);
        if (!secret) {
            if (refused) snprintf(b->err, sizeof b->err, "callback_secret_ref must name a " LULL_TENANT_REF_PREFIX "* variable");
            else snprintf(b->err, sizeof b->err, "callback_secret_ref names env %.100s, which is not set", ref);
            return SENDER_BUILD_DEAD;
        }
    }
    b->json = sender_event_is_escalation(p->kind)
                  ? sender_event_escalated(res, r, cfg->admin_public_url)
                  : sender_event_reply(res, r, p->body, p->kind, (const char *const *)p->media, p->nmedia);
    if (!b->json) return SENDER_BUILD_DEAD;  // out of memory
    b->body = lull_json_print(b->json);
    if (!b->body) return SENDER_BUILD_DEAD;
    size_t blen = strlen(b->body);
    int64_t ts = lull_clock_wall_ms() / 1000;
    snprintf(b->h_idem, sizeof b->h_idem, "Idempotency-Key: %s", idem);
    snprintf(b->h_id, sizeof b->h_id, "webhook-id: %s", idem);
    snprintf(b->h_ts, sizeof b->h_ts, "webhook-timestamp: %lld", (long long)ts);
    b->req = (lull_http_req_t){.url = url, .body = b->body, .body_len = blen, .timeout_ms = cfg->timeout_ms,
                               .headers = {"Content-Type: application/json", b->h_idem, b->h_id, b->h_ts},
                               .public_only = true, .allow = allow};
    if (secret && *secret) {
        uint8_t key[LULL_STDWEBHOOK_KEY_MAX];
        int klen = lull_stdwebhook_key(secret, key, sizeof key);
        if (klen <= 0 || lull_stdwebhook_sign(key, (size_t)klen, idem, ts, b->body, blen, b->sig, sizeof b->sig) != 0) {
            snprintf(b->err, sizeof b->err, "invalid callback signing secret (expected whsec_<base64> or raw bytes)");
            return SENDER_BUILD_DEAD;
        }
        snprintf(b->h_sig, sizeof b->h_sig, "webhook-signature: %s", b->sig);
        b->req.headers[4] = b->h_sig;
    }
    return SENDER_BUILD_SEND;
}

sender_build_rc_t sender_adapt_build(const sender_cfg_t *cfg, const lull_netaddr_allow_t *allow, sender_kind_t kind,
                                     int64_t id, int64_t tenant_id, const PGresult *res, int r,
                                     const sender_payload_t *p, const cJSON *creds, const char *channel,
                                     sender_built_t *b)
{
    b->req = (lull_http_req_t){0};
    b->meta = NULL;
    b->json = NULL;
    b->body = NULL;
    b->twilio.form.buf = NULL;
    b->err[0] = '\0';
    if (kind == SENDER_TWILIO) {
        sender_twilio_rc_t rc = sender_twilio_build(cfg, id, tenant_id, res, r, p, creds, channel, &b->twilio, b->err,
                                                    sizeof b->err);
        if (rc == SENDER_TWILIO_ESCALATE) return SENDER_BUILD_ESCALATE;
        if (rc != SENDER_TWILIO_SEND) return SENDER_BUILD_DEAD;
        b->req = b->twilio.req;  // (its pointers are into b->twilio, which stays put)
        return SENDER_BUILD_SEND;
    }
    if (kind == SENDER_TIKTOK) return s_tiktok(cfg, tenant_id, res, r, p, creds, b);
    if (kind == SENDER_META) return s_meta(cfg, tenant_id, res, r, p, creds, b);
    return s_callback(cfg, allow, tenant_id, res, r, p, b);
}

void sender_built_clear(sender_built_t *b)
{
    if (!b) return;
    sender_meta_destroy(&b->meta);
    cJSON_Delete(b->json);
    b->json = NULL;
    free(b->body);
    b->body = NULL;
    free(b->twilio.form.buf);
    b->twilio.form.buf = NULL;
}
