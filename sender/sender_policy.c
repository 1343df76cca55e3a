// Delivery rules: classification per channel, TikTok codes, Standard Webhooks signing, form encoding,
// WhatsApp window. See docs/sender.md "Failure semantics" for the tables these implement.
#include "sender_policy.h"
#include "sender_meta.h"
#include "lull_channel.h"
#include "lull_crypto.h"
#include "lull_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TWILIO_WINDOW_CLOSED 63016   // "Failed to send freeform message because you are outside the allowed window"

sender_kind_t sender_kind_of(const char *channel)
{
    lull_channel_t ch = lull_channel_parse(channel);
    if (lull_channel_is_twilio(ch)) return SENDER_TWILIO;
    switch (ch) {
    case LULL_CH_TIKTOK: return SENDER_TIKTOK;
    case LULL_CH_GENERIC: return SENDER_CALLBACK;
    case LULL_CH_WEBCHAT: return SENDER_WEBCHAT;
    default: return 0;  // other: no adapter
    }
}

sender_verdict_t sender_tiktok_code_class(int64_t code)
{
    if (code == 0) return SENDER_SENT;
    // 40100: requests made too frequently; 40133/40016: QPS / daily quota limits.
    if (code == 40100 || code == 40133 || code == 40016) return SENDER_RETRY;
    // 5xxxx: TikTok internal / service unavailable.
    if (code >= 50000 && code <= 59999) return SENDER_RETRY;
    // Everything else (40001 no permission, 40002 invalid parameter, 40104/40105 access token,
    // conversation window closed, unknown codes) will not get better by retrying.
    return SENDER_FAIL;
}

static cJSON *s_parse(const char *body, size_t len)
{
    if (!body || len == 0) return NULL;
    char err[64];
    return lull_json_parse(body, len, 8, err, sizeof err);
}

static void s_copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

// Provider error details ("code 63016: message") from a JSON error body, when present.
static void s_error_detail(sender_kind_t kind, const cJSON *j, int64_t *code, char *msg, size_t cap)
{
    *code = 0;
    msg[0] = '\0';
    if (!cJSON_IsObject(j)) return;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "code");
    if (cJSON_IsNumber(c)) *code = (int64_t)c->valuedouble;
    const char *m = NULL;
    char err[64];
    if (lull_json_str(j, "message", false, 200, &m, err, sizeof err) == 0 && m) s_copy_str(msg, cap, m);
    (void)kind;
}

void sender_classify(sender_kind_t kind, long status, int curl_code, const char *curl_error, bool request_sent,
                     bool timed_out, const char *body, size_t body_len, sender_outcome_t *out)
{
    memset(out, 0, sizeof *out);
    out->retry_after_ms = -1;
    out->status = status;
    if (status == 0) {
        // No answer: a refused/failed connection never reached the provider; a timeout or a reset after
        // the request went out may have been delivered.
        out->verdict = SENDER_RETRY;
        out->unknown = request_sent || timed_out;
        snprintf(out->error, sizeof out->error, "%s%s (curl %d)", out->unknown ? "unknown outcome: " : "",
                 curl_error && *curl_error ? curl_error : "no response", curl_code);
        return;
    }
    if (kind == SENDER_META) {
        sender_meta_classify(status, body, body_len, out);
        return;
    }
    cJSON *j = s_parse(body, body_len);
    int64_t code = 0;
    char msg[201];
    s_error_detail(kind, j, &code, msg, sizeof msg);
    if (status >= 200 && status < 300) {
        char err[64];
        const char *id = NULL;
        if (kind == SENDER_TWILIO) {
            if (lull_json_str(j, "sid", false, 64, &id, err, sizeof err) == 0 && id) s_copy_str(out->provider_id, sizeof out->provider_id, id);
            out->verdict = SENDER_SENT;
        } else if (kind == SENDER_TIKTOK) {
            const cJSON *c = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "code") : NULL;
            if (!cJSON_IsNumber(c)) {
                // A 200 we cannot read: TikTok may have sent it. Retrying could duplicate, so give up.
                out->verdict = SENDER_FAIL;
                out->unknown = true;
                s_copy_str(out->error, sizeof out->error, "unknown outcome: TikTok answered 200 without a code");
            } else if (code == 0) {
                out->verdict = SENDER_SENT;
                const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
                if (cJSON_IsObject(data) && lull_json_str(data, "message_id", false, 100, &id, err, sizeof err) == 0 && id)
                    s_copy_str(out->provider_id, sizeof out->provider_id, id);
            } else {
                out->verdict = sender_tiktok_code_class(code);
                snprintf(out->error, sizeof out->error, "tiktok code %lld: %s", (long long)code, msg);
            }
        } else {
            out->verdict = SENDER_SENT;
        }
        cJSON_Delete(j);
        return;
    }
    if (kind == SENDER_TWILIO && code == TWILIO_WINDOW_CLOSED) {
        out->verdict = SENDER_FAIL;
        snprintf(out->error, sizeof out->error, "twilio 63016: outside the WhatsApp 24-hour window: %s", msg);
    } else if (status == 429) {
        out->verdict = SENDER_RETRY;  // documented as not processed
        snprintf(out->error, sizeof out->error, "HTTP 429 rate limited%s%s", *msg ? ": " : "", msg);
    } else if (status >= 500 || status == 408) {
        out->verdict = SENDER_RETRY;
        out->unknown = true;
        snprintf(out->error, sizeof out->error, "unknown outcome: HTTP %ld%s%s", status, *msg ? ": " : "", msg);
    } else {
        out->verdict = SENDER_FAIL;  // 3xx (redirects are not followed) and 4xx
        if (code) snprintf(out->error, sizeof out->error, "HTTP %ld code %lld: %s", status, (long long)code, msg);
        else snprintf(out->error, sizeof out->error, "HTTP %ld%s%s", status, *msg ? ": " : "", msg);
    }
    cJSON_Delete(j);
}

static int s_form_put(sender_form_t *f, char c)
{
    if (f->max_len && f->len + 1 > f->max_len) return -1;
    if (f->len + 2 > f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 256;
        char *b = realloc(f->buf, cap);
        if (!b) return -1;
        f->buf = b;
        f->cap = cap;
    }
    f->buf[f->len++] = c;
    f->buf[f->len] = '\0';
    return 0;
}

static int s_form_escape(sender_form_t *f, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                     c == '_' || c == '.' || c == '~';
        if (plain) {
            if (s_form_put(f, (char)c) != 0) return -1;
        } else if (c == ' ') {
            if (s_form_put(f, '+') != 0) return -1;
        } else if (s_form_put(f, '%') != 0 || s_form_put(f, hex[c >> 4]) != 0 || s_form_put(f, hex[c & 15]) != 0) {
            return -1;
        }
    }
    return 0;
}

int sender_form_add(sender_form_t *form, const char *key, const char *value)
{
    if (form->len && s_form_put(form, '&') != 0) return -1;
    if (s_form_escape(form, key) != 0 || s_form_put(form, '=') != 0) return -1;
    return s_form_escape(form, value ? value : "");
}

sender_wa_t sender_wa_decide(int64_t last_inbound_age_ms, int64_t window_ms, bool has_template)
{
    if (last_inbound_age_ms >= 0 && last_inbound_age_ms < window_ms) return SENDER_WA_FREEFORM;
    return has_template ? SENDER_WA_TEMPLATE : SENDER_WA_ESCALATE;
}
