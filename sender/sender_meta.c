// WhatsApp Cloud API sends: POST {base}/{version}/{phone_number_id}/messages with Authorization: Bearer, a text
// body (split at 4096 characters) or the tenant's template; Graph error codes classified for retries.
#include "sender_meta.h"
#include "lull_json.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sender_meta {
    char url[512];
    char auth[1100];        // "Authorization: Bearer …" (never logged)
    char **parts;           // request bodies, in order
    int nparts, cur;
    char *template_body;    // the template request, when the tenant has one
    char first_id[128];
};

bool sender_meta_is_address(const char *a)
{
    if (!a || strncmp(a, "meta:", 5) != 0) return false;
    size_t n = strlen(a + 5);
    if (n < 1 || n > 32) return false;
    for (size_t i = 5; a[i]; i++)
        if (a[i] < '0' || a[i] > '9') return false;
    return true;
}

// {"messaging_product":"whatsapp","recipient_type":"individual","to":to,"type":type, type: content}; owns content.
static char *s_body(const char *to, const char *type, cJSON *content)
{
    cJSON *j = cJSON_CreateObject();
    if (!j || !content) {
        cJSON_Delete(j);
        cJSON_Delete(content);
        return NULL;
    }
    cJSON_AddStringToObject(j, "messaging_product", "whatsapp");
    cJSON_AddStringToObject(j, "recipient_type", "individual");
    cJSON_AddStringToObject(j, "to", to);
    cJSON_AddStringToObject(j, "type", type);
    cJSON_AddItemToObject(j, type, content);
    char *s = lull_json_print(j);
    cJSON_Delete(j);
    return s;
}

// Bytes of the longest prefix of s holding at most max UTF-8 characters.
static size_t s_prefix(const char *s, size_t max)
{
    size_t i = 0, chars = 0;
    while (s[i] && chars < max) {
        i++;
        while (((unsigned char)s[i] & 0xC0) == 0x80) i++;  // continuation bytes
        chars++;
    }
    return i;
}

static char *s_template(const char *to, const char *json, char *err, size_t errlen)
{
    char why[96];
    cJSON *t = lull_json_parse(json, strlen(json), 16, why, sizeof why), *tpl = cJSON_CreateObject(), *lang = NULL;
    const char *name = NULL, *code = NULL;
    if (!t || !cJSON_IsObject(t) || lull_json_str(t, "name", true, 512, &name, why, sizeof why) != 0 ||
        lull_json_str(t, "language", true, 32, &code, why, sizeof why) != 0 || !*name || !*code) {
        snprintf(err, errlen, "invalid tenants.meta_template (needs name and language)");
        cJSON_Delete(t);
        cJSON_Delete(tpl);
        return NULL;
    }
    cJSON_AddStringToObject(tpl, "name", name);
    lang = cJSON_AddObjectToObject(tpl, "language");
    cJSON_AddStringToObject(lang, "policy", "deterministic");  // required by Meta's OpenAPI description
    cJSON_AddStringToObject(lang, "code", code);
    const cJSON *comp = cJSON_GetObjectItemCaseSensitive(t, "components");
    if (cJSON_IsArray(comp)) cJSON_AddItemToObject(tpl, "components", cJSON_Duplicate(comp, true));
    cJSON_Delete(t);
    return s_body(to, "template", tpl);
}

sender_meta_t *sender_meta_new(const sender_meta_in_t *in, char *err, size_t errlen)
{
    err[0] = '\0';
    if (!sender_meta_is_address(in->sender_address)) {
        snprintf(err, errlen, "sender_address is not meta:<phone_number_id>");
        return NULL;
    }
    const char *to = in->recipient ? in->recipient : "";
    if (strncmp(to, "whatsapp:", 9) == 0) to += 9;
    if (*to == '+') to++;
    bool digits = *to && strlen(to) <= 32;
    for (const char *c = to; digits && *c; c++) digits = *c >= '0' && *c <= '9';
    if (!digits) {
        snprintf(err, errlen, "recipient is not a WhatsApp id (whatsapp:+<digits>)");
        return NULL;
    }
    if (!in->token || !*in->token || strlen(in->token) > 1024 || strpbrk(in->token, "\r\n")) {
        snprintf(err, errlen, "no valid WhatsApp Cloud API access token (LULL_META_ACCESS_TOKEN or tenant's)");
        return NULL;
    }
    if (!in->use_template && (!in->body || !*in->body)) {
        snprintf(err, errlen, "whatsapp cloud: only text messages are supported");
        return NULL;
    }
    sender_meta_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    snprintf(self->url, sizeof self->url, "%s/%s/%s/messages", in->base, in->version, in->sender_address + 5);
    snprintf(self->auth, sizeof self->auth, "Authorization: Bearer %s", in->token);
    if (in->template_json && *in->template_json &&
        !(self->template_body = s_template(to, in->template_json, err, errlen)))
        goto fail;
    if (in->use_template && !self->template_body) {
        snprintf(err, errlen, "outside the 24-hour window and no tenants.meta_template");
        goto fail;
    }
    self->parts = calloc(SENDER_META_MAX_PARTS, sizeof *self->parts);
    if (!self->parts) goto fail;
    if (in->use_template) {
        self->parts[self->nparts++] = self->template_body;
        self->template_body = NULL;
        return self;
    }
    for (const char *p = in->body; *p;) {
        if (self->nparts == SENDER_META_MAX_PARTS) {
            snprintf(err, errlen, "reply longer than %d parts of %d characters", SENDER_META_MAX_PARTS,
                     SENDER_META_PART_CHARS);
            goto fail;
        }
        size_t n = s_prefix(p, SENDER_META_PART_CHARS);
        cJSON *text = cJSON_CreateObject();
        char *chunk = strndup(p, n);
        if (text && chunk) cJSON_AddStringToObject(text, "body", chunk);
        free(chunk);
        if (!(self->parts[self->nparts] = s_body(to, "text", text))) goto fail;
        self->nparts++;
        p += n;
    }
    return self;
fail:
    sender_meta_destroy(&self);
    return NULL;
}

void sender_meta_request(const sender_meta_t *self, lull_http_req_t *req, int64_t timeout_ms)
{
    memset(req, 0, sizeof *req);
    req->url = self->url;
    req->body = self->parts[self->cur];
    req->body_len = strlen(req->body);
    req->timeout_ms = timeout_ms;
    req->headers[0] = "Content-Type: application/json";
    req->headers[1] = self->auth;
}

bool sender_meta_next(sender_meta_t *self, const char *wamid)
{
    if (self->cur == 0) snprintf(self->first_id, sizeof self->first_id, "%s", wamid ? wamid : "");
    if (self->cur + 1 >= self->nparts) {
        self->cur = self->nparts;
        return false;
    }
    self->cur++;
    return true;
}

bool sender_meta_to_template(sender_meta_t *self)
{
    if (!self->template_body || self->cur != 0) return false;
    for (int i = 0; i < self->nparts; i++) free(self->parts[i]);
    self->parts[0] = self->template_body;
    self->template_body = NULL;
    self->nparts = 1;
    return true;
}

int sender_meta_sent(const sender_meta_t *self) { return self->cur; }
int sender_meta_parts(const sender_meta_t *self) { return self->nparts; }
const char *sender_meta_first_id(const sender_meta_t *self) { return self->first_id; }

void sender_meta_destroy(sender_meta_t **self_p)
{
    if (!self_p || !*self_p) return;
    sender_meta_t *self = *self_p;
    for (int i = 0; self->parts && i < self->nparts; i++) free(self->parts[i]);
    free(self->parts);
    free(self->template_body);
    memset(self->auth, 0, sizeof self->auth);
    free(self);
    *self_p = NULL;
}

sender_verdict_t sender_meta_code_class(long status, int64_t code)
{
    // rate limits: 4 app-level, 80007 WABA, 130429 throughput, 131056 pair (business → same user)
    if (status == 429 || code == 4 || code == 80007 || code == 130429 || code == 131056) return SENDER_RETRY;
    // 1 unknown API error, 2 service temporarily unavailable, 131016 service overloaded
    if (status >= 500 || code == 1 || code == 2 || code == 131016) return SENDER_RETRY;
    // 131047 re-engagement (window closed), 190 token, 100 parameter, 131008 missing parameter, 131026
    // undeliverable, anything else: retrying the same request gets the same answer
    return SENDER_FAIL;
}

void sender_meta_classify(long status, const char *body, size_t body_len, sender_outcome_t *out)
{
    char why[64];
    cJSON *j = body && body_len ? lull_json_parse(body, body_len, 8, why, sizeof why) : NULL;
    const char *id = NULL, *msg = NULL;
    if (status >= 200 && status < 300) {
        const cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "messages"), 0);
        if (cJSON_IsObject(m0) && lull_json_str(m0, "id", false, 120, &id, why, sizeof why) == 0 && id && *id) {
            out->verdict = SENDER_SENT;
            snprintf(out->provider_id, sizeof out->provider_id, "%s", id);
        } else {  // accepted by Meta or not: a retry could send it twice
            out->verdict = SENDER_FAIL;
            out->unknown = true;
            snprintf(out->error, sizeof out->error, "unknown outcome: Graph API answered %ld without messages[0].id", status);
        }
        cJSON_Delete(j);
        return;
    }
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error"), *c = cJSON_GetObjectItemCaseSensitive(e, "code");
    int64_t code = cJSON_IsNumber(c) ? (int64_t)c->valuedouble : 0;
    if (!cJSON_IsObject(e) || lull_json_str(e, "message", false, 200, &msg, why, sizeof why) != 0) msg = NULL;
    out->verdict = sender_meta_code_class(status, code);
    out->window_closed = code == 131047;
    out->unknown = status >= 500 && out->verdict == SENDER_RETRY;
    snprintf(out->error, sizeof out->error, "%sHTTP %ld code %lld: %s", out->unknown ? "unknown outcome: " : "", status,
             (long long)code, msg ? msg : "");
    cJSON_Delete(j);
}
