// fake_channels: a stand-in for the outside world the sender talks to, speaking the real wire formats:
//   POST /2010-04-01/Accounts/{Sid}/Messages.json   Twilio Messages API (basic auth, form fields, 201 + sid)
//   POST /open_api/v1.3/business/message/send/      TikTok Business send API (Access-Token, JSON, code)
//   POST /callback[/…]                               callback receiver (Standard Webhooks signature check)
// with runtime fault injection and a ledger of deliveries per key:
//   POST /_fake/faults {"target","mode","count","retry_after","rate","code","hang_ms"}   DELETE /_fake/faults
//   POST /_fake/config {"latency_ms":N}     POST /_fake/reset     GET /_fake/ledger[?summary=1|key=K]
// Ledger keys: callback → the Idempotency-Key; Twilio → "outbox:<id>" from the StatusCallback URL's
// ?outbox= parameter when present, else "to:<To>|<Body>"; TikTok → "tiktok:<recipient>|<body>".
// One libmicrohttpd poll thread serves everything (level-triggered: epoll mode left bursts of new
// connections unaccepted); delayed answers (latency, hang) suspend the connection
// and a timer thread resumes it, so no thread per request.
#include "lull_crypto.h"
#include "lull_json.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_UPLOAD (1u << 20)
#define MAX_SUSPENDED 65536
#define MAX_REQ_LOG 2000000

enum { T_TWILIO, T_TIKTOK, T_CALLBACK, T_N };
static const char *s_targets[T_N] = {"twilio", "tiktok", "callback"};

typedef struct {
    char mode[24];       // "" = none
    int64_t count;       // requests left; -1 = unlimited
    double rate;         // 0 < rate < 1: probability per request; 0 = every request
    char retry_after[64];
    int64_t code;        // tiktok_code
    int64_t hang_ms;
    int64_t injected;
} s_fault_t;

typedef struct {
    int64_t t_ms;     // wall clock
    int status;       // HTTP status answered
    int delivered;    // 1 when this request counted as a delivery
    int target;
} s_reqrec_t;

typedef struct {
    char *key;
    int64_t deliveries;
    int64_t requests;
    size_t first_req;   // index chain into the request log via next links
    size_t last_req;
    char *last_wire;    // JSON object text describing the last request (method, path, headers, body)
} s_entry_t;

typedef struct {
    s_reqrec_t rec;
    size_t next;        // next request of the same key (SIZE_MAX = none)
} s_reqnode_t;

static struct {
    char twilio_sid[128], twilio_token[256], tiktok_token[512], callback_secret[512];
    int64_t latency_ms;
    s_fault_t faults[T_N];
    s_entry_t *tab;
    size_t tab_cap, tab_n;
    s_reqnode_t *reqs;
    size_t nreqs, reqs_cap;
    int64_t total_requests, total_deliveries;
    struct MHD_Daemon *daemon;
    pthread_mutex_t mu;              // guards the suspended list
    pthread_cond_t more;             // signalled when the list gets its first entry
    struct { struct MHD_Connection *c; int64_t due_ms; } susp[MAX_SUSPENDED];
    size_t nsusp;
    volatile sig_atomic_t stop;
} G = {.mu = PTHREAD_MUTEX_INITIALIZER, .more = PTHREAD_COND_INITIALIZER};

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// ---- ledger --------------------------------------------------------------------------------------

static uint64_t s_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static s_entry_t *s_entry(const char *key)
{
    if (G.tab_n * 2 >= G.tab_cap) {
        size_t cap = G.tab_cap ? G.tab_cap * 2 : 1024;
        s_entry_t *t = calloc(cap, sizeof *t);
        if (!t) return NULL;
        for (size_t i = 0; i < G.tab_cap; i++) {
            if (!G.tab[i].key) continue;
            size_t j = s_hash(G.tab[i].key) & (cap - 1);
            while (t[j].key) j = (j + 1) & (cap - 1);
            t[j] = G.tab[i];
        }
        free(G.tab);
        G.tab = t;
        G.tab_cap = cap;
    }
    size_t j = s_hash(key) & (G.tab_cap - 1);
    while (G.tab[j].key) {
        if (strcmp(G.tab[j].key, key) == 0) return &G.tab[j];
        j = (j + 1) & (G.tab_cap - 1);
    }
    G.tab[j].key = strdup(key);
    if (!G.tab[j].key) return NULL;
    G.tab[j].first_req = G.tab[j].last_req = SIZE_MAX;
    G.tab_n++;
    return &G.tab[j];
}

static void s_ledger(const char *key, int target, int status, int delivered, char *wire)
{
    G.total_requests++;
    G.total_deliveries += delivered;
    s_entry_t *e = key ? s_entry(key) : NULL;
    if (!e) {
        free(wire);
        return;
    }
    e->requests++;
    e->deliveries += delivered;
    free(e->last_wire);
    e->last_wire = wire;
    if (G.nreqs == G.reqs_cap && G.reqs_cap < MAX_REQ_LOG) {
        size_t cap = G.reqs_cap ? G.reqs_cap * 2 : 4096;
        s_reqnode_t *r = realloc(G.reqs, cap * sizeof *r);
        if (r) {
            G.reqs = r;
            G.reqs_cap = cap;
        }
    }
    if (G.nreqs < G.reqs_cap) {
        size_t i = G.nreqs++;
        G.reqs[i] = (s_reqnode_t){.rec = {s_now_ms(), status, delivered, target}, .next = SIZE_MAX};
        if (e->last_req != SIZE_MAX) G.reqs[e->last_req].next = i;
        else e->first_req = i;
        e->last_req = i;
    }
}

static void s_ledger_reset(void)
{
    for (size_t i = 0; i < G.tab_cap; i++) {
        free(G.tab[i].key);
        free(G.tab[i].last_wire);
    }
    free(G.tab);
    free(G.reqs);
    G.tab = NULL;
    G.reqs = NULL;
    G.tab_cap = G.tab_n = G.nreqs = G.reqs_cap = 0;
    G.total_requests = G.total_deliveries = 0;
}

static cJSON *s_entry_json(const s_entry_t *e, bool wire)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "deliveries", (double)e->deliveries);
    cJSON_AddNumberToObject(o, "requests", (double)e->requests);
    cJSON *arr = cJSON_AddArrayToObject(o, "log");
    for (size_t i = e->first_req; i != SIZE_MAX; i = G.reqs[i].next) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddNumberToObject(r, "t_ms", (double)G.reqs[i].rec.t_ms);
        cJSON_AddNumberToObject(r, "status", G.reqs[i].rec.status);
        cJSON_AddBoolToObject(r, "delivered", G.reqs[i].rec.delivered);
        cJSON_AddStringToObject(r, "target", s_targets[G.reqs[i].rec.target]);
        cJSON_AddItemToArray(arr, r);
    }
    if (wire && e->last_wire) {
        char err[64];
        cJSON *w = lull_json_parse(e->last_wire, strlen(e->last_wire), 8, err, sizeof err);
        if (w) cJSON_AddItemToObject(o, "last", w);
    }
    return o;
}

static char *s_ledger_json(const char *only_key, bool summary)
{
    cJSON *root = cJSON_CreateObject();
    int64_t dup = 0, delivered_keys = 0;
    for (size_t i = 0; i < G.tab_cap; i++) {
        if (!G.tab[i].key) continue;
        if (G.tab[i].deliveries > 1) dup++;
        if (G.tab[i].deliveries > 0) delivered_keys++;
    }
    cJSON_AddNumberToObject(root, "requests", (double)G.total_requests);
    cJSON_AddNumberToObject(root, "deliveries", (double)G.total_deliveries);
    cJSON_AddNumberToObject(root, "keys", (double)G.tab_n);
    cJSON_AddNumberToObject(root, "delivered_keys", (double)delivered_keys);
    cJSON_AddNumberToObject(root, "duplicated_keys", (double)dup);
    cJSON *faults = cJSON_AddObjectToObject(root, "faults_injected");
    for (int t = 0; t < T_N; t++) cJSON_AddNumberToObject(faults, s_targets[t], (double)G.faults[t].injected);
    if (!summary) {
        cJSON *keys = cJSON_AddObjectToObject(root, "by_key");
        for (size_t i = 0; i < G.tab_cap; i++) {
            if (!G.tab[i].key) continue;
            if (only_key && strcmp(only_key, G.tab[i].key) != 0) continue;
            cJSON_AddItemToObject(keys, G.tab[i].key, s_entry_json(&G.tab[i], only_key != NULL));
        }
    }
    char *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return out;
}

// ---- requests ------------------------------------------------------------------------------------

typedef struct {
    char *body;
    size_t len, cap;
    bool too_large;
    bool suspended;       // waiting for its delayed answer
    int status;           // the answer prepared before suspension
    char *answer;
    char retry_after[64];
    bool reset;           // close without an answer
} s_conn_t;

static enum MHD_Result s_reply(struct MHD_Connection *c, int status, const char *body, const char *retry_after)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (retry_after && *retry_after) MHD_add_response_header(r, "Retry-After", retry_after);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ok;
}

// Decodes one form-urlencoded component in place.
static void s_form_decode(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '+') *o++ = ' ';
        else if (*p == '%' && p[1] && p[2]) {
            char hex[3] = {p[1], p[2], 0};
            *o++ = (char)strtol(hex, NULL, 16);
            p += 2;
        } else *o++ = *p;
    }
    *o = '\0';
}

// Parsed Twilio form: the fields the fake checks, plus every pair for the wire record.
typedef struct {
    const char *to, *from, *msid, *body, *content_sid, *content_vars, *status_cb;
    int nmedia;
    cJSON *pairs;
} s_form_t;

static void s_parse_form(char *buf, s_form_t *f)
{
    memset(f, 0, sizeof *f);
    f->pairs = cJSON_CreateArray();
    char *save = NULL;
    for (char *kv = strtok_r(buf, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        char *v = eq ? eq + 1 : (char *)"";
        if (eq) *eq = '\0';
        s_form_decode(kv);
        s_form_decode(v);
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateString(kv));
        cJSON_AddItemToArray(pair, cJSON_CreateString(v));
        cJSON_AddItemToArray(f->pairs, pair);
        if (strcmp(kv, "To") == 0) f->to = v;
        else if (strcmp(kv, "From") == 0) f->from = v;
        else if (strcmp(kv, "MessagingServiceSid") == 0) f->msid = v;
        else if (strcmp(kv, "Body") == 0) f->body = v;
        else if (strcmp(kv, "MediaUrl") == 0) f->nmedia++;
        else if (strcmp(kv, "ContentSid") == 0) f->content_sid = v;
        else if (strcmp(kv, "ContentVariables") == 0) f->content_vars = v;
        else if (strcmp(kv, "StatusCallback") == 0) f->status_cb = v;
    }
}

// The fault to apply to this request of target t, or NULL.
static s_fault_t *s_fault(int t)
{
    s_fault_t *f = &G.faults[t];
    if (!f->mode[0] || f->count == 0) return NULL;
    if (f->rate > 0 && f->rate < 1 && lull_random_unit() >= f->rate) return NULL;
    if (f->count > 0) f->count--;
    f->injected++;
    return f;
}

static const char *s_hdr(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static char *s_wire(struct MHD_Connection *c, const char *method, const char *url, const char *body, cJSON *form)
{
    cJSON *w = cJSON_CreateObject();
    cJSON_AddStringToObject(w, "method", method);
    cJSON_AddStringToObject(w, "path", url);
    cJSON *h = cJSON_AddObjectToObject(w, "headers");
    const char *names[] = {"Authorization", "Content-Type", "Idempotency-Key", "webhook-id", "webhook-timestamp",
                           "webhook-signature", "Access-Token"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = s_hdr(c, names[i]);
        if (v) cJSON_AddStringToObject(h, names[i], v);
    }
    cJSON_AddStringToObject(w, "body", body ? body : "");
    if (form) cJSON_AddItemToObject(w, "form", form);
    char *out = cJSON_PrintUnformatted(w);
    cJSON_Delete(w);
    return out;
}

// Prepares the faulty answer; returns true when a fault applies (and sets *delivered).
static bool s_apply_fault(int t, s_conn_t *cc, int *status, char **answer, bool *hang, int64_t *hang_ms,
                          int *delivered)
{
    s_fault_t *f = s_fault(t);
    if (!f) return false;
    char buf[256];
    *delivered = 0;
    snprintf(cc->retry_after, sizeof cc->retry_after, "%s", f->retry_after);
    if (strcmp(f->mode, "429") == 0) {
        *status = 429;
        snprintf(buf, sizeof buf, "{\"code\":20429,\"message\":\"Too Many Requests\",\"status\":429}");
    } else if (strcmp(f->mode, "500") == 0 || strcmp(f->mode, "503") == 0) {
        *status = atoi(f->mode);
        snprintf(buf, sizeof buf, "{\"code\":%d,\"message\":\"Service unavailable\",\"status\":%d}", *status, *status);
    } else if (strcmp(f->mode, "500_after") == 0) {  // processed (delivered) but the answer is an error
        *status = 500;
        *delivered = 1;
        snprintf(buf, sizeof buf, "{\"code\":20500,\"message\":\"Internal Server Error\",\"status\":500}");
    } else if (strcmp(f->mode, "401") == 0) {
        *status = 401;
        snprintf(buf, sizeof buf, "{\"code\":20003,\"message\":\"Authenticate\",\"status\":401}");
    } else if (strcmp(f->mode, "63016") == 0) {
        *status = 400;
        snprintf(buf, sizeof buf, "{\"code\":63016,\"message\":\"Failed to send freeform message because you are outside the allowed window.\",\"status\":400}");
    } else if (strcmp(f->mode, "tiktok_code") == 0) {
        *status = 200;
        snprintf(buf, sizeof buf, "{\"code\":%lld,\"message\":\"injected\",\"request_id\":\"fake\",\"data\":{}}", (long long)f->code);
    } else if (strcmp(f->mode, "hang") == 0) {
        *hang = true;
        *hang_ms = f->hang_ms > 0 ? f->hang_ms : 60000;
        *status = 503;
        snprintf(buf, sizeof buf, "{\"code\":503,\"message\":\"hung\",\"status\":503}");
    } else if (strcmp(f->mode, "reset") == 0) {
        cc->reset = true;
        *status = 0;
        buf[0] = '\0';
    } else {
        return false;
    }
    *answer = strdup(buf);
    return true;
}

static void s_suspend(struct MHD_Connection *c, s_conn_t *cc, int64_t delay_ms)
{
    pthread_mutex_lock(&G.mu);
    if (G.nsusp < MAX_SUSPENDED) {
        G.susp[G.nsusp].c = c;
        G.susp[G.nsusp].due_ms = s_now_ms() + delay_ms;
        if (G.nsusp++ == 0) pthread_cond_signal(&G.more);
        cc->suspended = true;
        MHD_suspend_connection(c);
    }
    pthread_mutex_unlock(&G.mu);
}

static void *s_resumer(void *arg)
{
    (void)arg;
    while (!G.stop) {
        pthread_mutex_lock(&G.mu);
        // Nothing suspended: sleep until something is (a check every 100 ms for the stop flag). Waking every
        // millisecond for nothing cost the fake CPU in proportion to a run's length, which the sender
        // benchmark counts.
        while (G.nsusp == 0 && !G.stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 100000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&G.more, &G.mu, &ts);
        }
        int64_t now = s_now_ms();
        for (size_t i = 0; i < G.nsusp;) {
            if (G.susp[i].due_ms <= now) {
                MHD_resume_connection(G.susp[i].c);
                G.susp[i] = G.susp[--G.nsusp];
            } else {
                i++;
            }
        }
        pthread_mutex_unlock(&G.mu);
        usleep(1000);
    }
    return NULL;
}

static void s_twilio(struct MHD_Connection *c, const char *url, s_conn_t *cc, int *status, char **answer, char **key,
                     char **wire)
{
    char sid[128] = "";
    const char *p = url + strlen("/2010-04-01/Accounts/");
    const char *slash = strchr(p, '/');
    if (slash && (size_t)(slash - p) < sizeof sid) snprintf(sid, sizeof sid, "%.*s", (int)(slash - p), p);
    char *user = NULL, *pass = NULL;
    user = MHD_basic_auth_get_username_password(c, &pass);
    char *copy = strdup(cc->body ? cc->body : "");
    s_form_t f;
    s_parse_form(copy, &f);
    char buf[2048];
    const char *ctype = s_hdr(c, "Content-Type");
    if (!slash || strcmp(slash, "/Messages.json") != 0) {
        *status = 404;
        snprintf(buf, sizeof buf, "{\"code\":20404,\"message\":\"The requested resource was not found\",\"status\":404}");
    } else if (!user || !pass || strcmp(user, sid) != 0 || (G.twilio_sid[0] && strcmp(user, G.twilio_sid) != 0) ||
               (G.twilio_token[0] && strcmp(pass, G.twilio_token) != 0)) {
        *status = 401;
        snprintf(buf, sizeof buf, "{\"code\":20003,\"message\":\"Authenticate\",\"status\":401}");
    } else if (!ctype || strncasecmp(ctype, "application/x-www-form-urlencoded", 33) != 0) {
        *status = 400;
        snprintf(buf, sizeof buf, "{\"code\":21600,\"message\":\"Content-Type must be form-urlencoded\",\"status\":400}");
    } else if (!f.to || !*f.to) {
        *status = 400;
        snprintf(buf, sizeof buf, "{\"code\":21604,\"message\":\"A 'To' phone number is required.\",\"status\":400}");
    } else if ((!f.from || !*f.from) && (!f.msid || !*f.msid)) {
        *status = 400;
        snprintf(buf, sizeof buf, "{\"code\":21603,\"message\":\"A 'From' phone number is required.\",\"status\":400}");
    } else if ((!f.body || !*f.body) && f.nmedia == 0 && (!f.content_sid || !*f.content_sid)) {
        *status = 400;
        snprintf(buf, sizeof buf, "{\"code\":21602,\"message\":\"Message body is required.\",\"status\":400}");
    } else {
        *status = 201;
        uint8_t rnd[16];
        char hex[33], msid[40];
        lull_random_bytes(rnd, sizeof rnd);
        snprintf(msid, sizeof msid, "SM%s", lull_hex(rnd, sizeof rnd, hex));
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "account_sid", sid);
        cJSON_AddStringToObject(o, "api_version", "2010-04-01");
        cJSON_AddStringToObject(o, "body", f.body ? f.body : "");
        cJSON_AddStringToObject(o, "direction", "outbound-api");
        if (f.from) cJSON_AddStringToObject(o, "from", f.from);
        else cJSON_AddNullToObject(o, "from");
        if (f.msid) cJSON_AddStringToObject(o, "messaging_service_sid", f.msid);
        else cJSON_AddNullToObject(o, "messaging_service_sid");
        char nm[16];
        snprintf(nm, sizeof nm, "%d", f.nmedia);
        cJSON_AddStringToObject(o, "num_media", nm);
        cJSON_AddStringToObject(o, "num_segments", "1");
        cJSON_AddStringToObject(o, "sid", msid);
        cJSON_AddStringToObject(o, "status", "queued");
        cJSON_AddStringToObject(o, "to", f.to);
        char uri[256];
        snprintf(uri, sizeof uri, "/2010-04-01/Accounts/%s/Messages/%s.json", sid, msid);
        cJSON_AddStringToObject(o, "uri", uri);
        char *j = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        snprintf(buf, sizeof buf, "%s", j ? j : "{}");
        free(j);
    }
    *answer = strdup(buf);
    // Ledger key
    char k[4096];
    const char *ob = f.status_cb ? strstr(f.status_cb, "outbox=") : NULL;
    if (ob) snprintf(k, sizeof k, "outbox:%s", ob + 7);
    else snprintf(k, sizeof k, "to:%s|%s", f.to ? f.to : "", f.body ? f.body : (f.content_sid ? f.content_sid : ""));
    *key = strdup(k);
    cJSON *pairs = f.pairs;
    if (user) {
        cJSON *a = cJSON_CreateArray();
        cJSON_AddItemToArray(a, cJSON_CreateString("_auth_user"));
        cJSON_AddItemToArray(a, cJSON_CreateString(user));
        cJSON_AddItemToArray(pairs, a);
    }
    *wire = s_wire(c, "POST", url, cc->body, pairs);
    MHD_free(user);
    MHD_free(pass);
    free(copy);
}

static void s_tiktok(struct MHD_Connection *c, const char *url, s_conn_t *cc, int *status, char **answer, char **key,
                     char **wire)
{
    char err[128], buf[1024];
    const char *tok = s_hdr(c, "Access-Token");
    cJSON *j = cc->body ? lull_json_parse(cc->body, cc->len, 8, err, sizeof err) : NULL;
    const char *biz = NULL, *rtype = NULL, *rcpt = NULL, *mtype = NULL, *text = NULL;
    const cJSON *t = j ? lull_json_child(j, "text", false, false, NULL, err, sizeof err) : NULL;
    if (j) {
        (void)!lull_json_str(j, "business_id", true, 256, &biz, err, sizeof err);
        (void)!lull_json_str(j, "recipient_type", true, 64, &rtype, err, sizeof err);
        (void)!lull_json_str(j, "recipient", true, 256, &rcpt, err, sizeof err);
        (void)!lull_json_str(j, "message_type", true, 64, &mtype, err, sizeof err);
        if (t) (void)!lull_json_str(t, "body", true, 100000, &text, err, sizeof err);
    }
    *status = 200;
    if (strcmp(url, "/open_api/v1.3/business/message/send/") != 0) {
        *status = 404;
        snprintf(buf, sizeof buf, "{\"code\":40400,\"message\":\"not found\"}");
    } else if (!tok || (G.tiktok_token[0] && strcmp(tok, G.tiktok_token) != 0)) {
        snprintf(buf, sizeof buf, "{\"code\":40105,\"message\":\"Access token is incorrect or has been revoked.\",\"request_id\":\"fake\",\"data\":{}}");
    } else if (!biz || !rtype || strcmp(rtype, "CONVERSATION") != 0 || !rcpt || !mtype || strcmp(mtype, "TEXT") != 0 || !text) {
        snprintf(buf, sizeof buf, "{\"code\":40002,\"message\":\"Invalid parameters\",\"request_id\":\"fake\",\"data\":{}}");
    } else {
        uint8_t rnd[12];
        char hex[25];
        lull_random_bytes(rnd, sizeof rnd);
        snprintf(buf, sizeof buf, "{\"code\":0,\"message\":\"OK\",\"request_id\":\"req%s\",\"data\":{\"message_id\":\"tt%s\"}}",
                 lull_hex(rnd, 6, hex), lull_hex(rnd, sizeof rnd, hex));
    }
    *answer = strdup(buf);
    char k[4096];
    snprintf(k, sizeof k, "tiktok:%s|%s", rcpt ? rcpt : "", text ? text : "");
    *key = strdup(k);
    *wire = s_wire(c, "POST", url, cc->body, NULL);
    cJSON_Delete(j);
}

static bool s_signature_ok(struct MHD_Connection *c, const s_conn_t *cc)
{
    if (!G.callback_secret[0]) return true;
    const char *id = s_hdr(c, "webhook-id"), *ts = s_hdr(c, "webhook-timestamp"), *sig = s_hdr(c, "webhook-signature");
    if (!id || !ts || !sig) return false;
    long long t = atoll(ts);
    long long now = s_now_ms() / 1000;
    if (t < now - 300 || t > now + 300) return false;
    uint8_t key[512];
    int klen;
    if (strncmp(G.callback_secret, "whsec_", 6) == 0)
        klen = lull_base64_decode(G.callback_secret + 6, strlen(G.callback_secret + 6), key, sizeof key);
    else {
        klen = (int)strlen(G.callback_secret);
        memcpy(key, G.callback_secret, (size_t)klen);
    }
    if (klen <= 0) return false;
    size_t mlen = strlen(id) + strlen(ts) + 2 + cc->len;
    char *msg = malloc(mlen + 1);
    if (!msg) return false;
    int n = snprintf(msg, mlen + 1, "%s.%s.", id, ts);
    memcpy(msg + n, cc->body ? cc->body : "", cc->len);
    uint8_t mac[32];
    char expect[64];
    lull_hmac_sha256(key, (size_t)klen, msg, mlen, mac);
    free(msg);
    lull_base64_encode(mac, sizeof mac, expect, sizeof expect);
    // The header holds space-separated "v1,<sig>" entries; any match passes.
    char copy[2048];
    snprintf(copy, sizeof copy, "%s", sig);
    char *save = NULL;
    for (char *s = strtok_r(copy, " ", &save); s; s = strtok_r(NULL, " ", &save))
        if (strncmp(s, "v1,", 3) == 0 && lull_ct_equal(s + 3, strlen(s + 3), expect, strlen(expect))) return true;
    return false;
}

static void s_callback(struct MHD_Connection *c, const char *url, s_conn_t *cc, int *status, char **answer, char **key,
                       char **wire)
{
    char err[128];
    const char *idem = s_hdr(c, "Idempotency-Key"), *wid = s_hdr(c, "webhook-id");
    cJSON *j = cc->body ? lull_json_parse(cc->body, cc->len, 16, err, sizeof err) : NULL;
    const char *type = NULL;
    if (j) (void)!lull_json_str(j, "type", true, 64, &type, err, sizeof err);
    if (!s_signature_ok(c, cc)) {
        *status = 401;
        *answer = strdup("{\"error\":\"invalid signature\"}");
    } else if (!j || !type || !idem || !wid || strcmp(idem, wid) != 0) {
        *status = 400;
        *answer = strdup("{\"error\":\"bad request\"}");
    } else {
        *status = 200;
        *answer = strdup("{\"ok\":true}");
    }
    *key = strdup(idem ? idem : "(none)");
    *wire = s_wire(c, "POST", url, cc->body, NULL);
    cJSON_Delete(j);
}

static enum MHD_Result s_control(struct MHD_Connection *c, const char *url, const char *method, s_conn_t *cc)
{
    char err[128];
    if (strcmp(url, "/_fake/ledger") == 0) {
        const char *k = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "key");
        const char *s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "summary");
        char *out = s_ledger_json(k, s != NULL);
        enum MHD_Result r = s_reply(c, 200, out ? out : "{}", NULL);
        free(out);
        return r;
    }
    if (strcmp(url, "/_fake/reset") == 0) {
        s_ledger_reset();
        memset(G.faults, 0, sizeof G.faults);
        return s_reply(c, 200, "{\"ok\":true}", NULL);
    }
    if (strcmp(url, "/_fake/faults") == 0 && strcmp(method, "DELETE") == 0) {
        memset(G.faults, 0, sizeof G.faults);
        return s_reply(c, 200, "{\"ok\":true}", NULL);
    }
    cJSON *j = cc->body ? lull_json_parse(cc->body, cc->len, 4, err, sizeof err) : NULL;
    if (!j) return s_reply(c, 400, "{\"error\":\"invalid JSON\"}", NULL);
    enum MHD_Result r;
    if (strcmp(url, "/_fake/config") == 0) {
        int64_t ms = G.latency_ms;
        (void)!lull_json_int(j, "latency_ms", false, false, 0, 3600000, &ms, err, sizeof err);
        G.latency_ms = ms;
        r = s_reply(c, 200, "{\"ok\":true}", NULL);
    } else if (strcmp(url, "/_fake/faults") == 0) {
        const char *target = NULL, *mode = NULL, *ra = NULL;
        int t = -1;
        if (lull_json_str(j, "target", true, 16, &target, err, sizeof err) == 0)
            for (int i = 0; i < T_N; i++)
                if (strcmp(target, s_targets[i]) == 0) t = i;
        if (t < 0 || lull_json_str(j, "mode", true, 20, &mode, err, sizeof err) != 0) {
            r = s_reply(c, 400, "{\"error\":\"target and mode required\"}", NULL);
        } else {
            s_fault_t f = {.count = -1};
            snprintf(f.mode, sizeof f.mode, "%s", strcmp(mode, "none") == 0 ? "" : mode);
            (void)!lull_json_int(j, "count", false, false, -1, 1000000000, &f.count, err, sizeof err);
            (void)!lull_json_num(j, "rate", false, 0, 1, &f.rate, err, sizeof err);
            (void)!lull_json_int(j, "code", false, false, -1000000000, 1000000000, &f.code, err, sizeof err);
            (void)!lull_json_int(j, "hang_ms", false, false, 0, 3600000, &f.hang_ms, err, sizeof err);
            if (lull_json_str(j, "retry_after", false, 63, &ra, err, sizeof err) == 0 && ra)
                snprintf(f.retry_after, sizeof f.retry_after, "%s", ra);
            G.faults[t] = f;
            r = s_reply(c, 200, "{\"ok\":true}", NULL);
        }
    } else {
        r = s_reply(c, 404, "{\"error\":\"not found\"}", NULL);
    }
    cJSON_Delete(j);
    return r;
}

static enum MHD_Result s_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                 const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    s_conn_t *cc = *con_cls;
    if (!cc) {
        cc = calloc(1, sizeof *cc);
        if (!cc) return MHD_NO;
        *con_cls = cc;
        return MHD_YES;
    }
    if (*upload_size) {
        if (cc->len + *upload_size > MAX_UPLOAD) cc->too_large = true;
        else {
            if (cc->len + *upload_size + 1 > cc->cap) {
                size_t cap = cc->cap ? cc->cap : 4096;
                while (cap < cc->len + *upload_size + 1) cap *= 2;
                char *b = realloc(cc->body, cap);
                if (!b) return MHD_NO;
                cc->body = b;
                cc->cap = cap;
            }
            memcpy(cc->body + cc->len, upload, *upload_size);
            cc->len += *upload_size;
            cc->body[cc->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (cc->suspended) {  // resumed: send the prepared answer
        cc->suspended = false;
        if (cc->reset) return MHD_NO;
        return s_reply(c, cc->status, cc->answer ? cc->answer : "{}", cc->retry_after);
    }
    if (cc->too_large) return s_reply(c, 413, "{\"error\":\"too large\"}", NULL);
    if (strncmp(url, "/_fake/", 7) == 0) return s_control(c, url, method, cc);
    if (strcmp(url, "/twilio/status") == 0) return s_reply(c, 200, "{}", NULL);
    int t = strncmp(url, "/2010-04-01/Accounts/", 21) == 0 ? T_TWILIO
          : strncmp(url, "/open_api/", 10) == 0           ? T_TIKTOK
          : strncmp(url, "/callback", 9) == 0             ? T_CALLBACK
                                                          : -1;
    if (t < 0 || strcmp(method, "POST") != 0) return s_reply(c, 404, "{\"error\":\"not found\"}", NULL);
    int status = 0, delivered = 0;
    char *answer = NULL, *key = NULL, *wire = NULL;
    bool hang = false;
    int64_t hang_ms = 0;
    if (t == T_TWILIO) s_twilio(c, url, cc, &status, &answer, &key, &wire);
    else if (t == T_TIKTOK) s_tiktok(c, url, cc, &status, &answer, &key, &wire);
    else s_callback(c, url, cc, &status, &answer, &key, &wire);
    // A valid request is a delivery unless a fault says otherwise.
    bool ok = (status == 201 || status == 200) && !(t == T_TIKTOK && answer && strncmp(answer, "{\"code\":0,", 10) != 0);
    delivered = ok ? 1 : 0;
    if (ok) {
        char *fa = NULL;
        int fstatus = status, fdel = 1;
        if (s_apply_fault(t, cc, &fstatus, &fa, &hang, &hang_ms, &fdel)) {
            free(answer);
            answer = fa;
            status = fstatus;
            delivered = fdel;
        }
    }
    s_ledger(key, t, status, delivered, wire);
    free(key);
    cc->status = status;
    cc->answer = answer;
    int64_t delay = hang ? hang_ms : G.latency_ms;
    if (delay > 0 || cc->reset) {
        s_suspend(c, cc, delay);
        if (cc->suspended) return MHD_YES;
    }
    if (cc->reset) return MHD_NO;
    return s_reply(c, status, answer ? answer : "{}", cc->retry_after);
}

static void s_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    s_conn_t *cc = *con_cls;
    if (!cc) return;
    free(cc->body);
    free(cc->answer);
    free(cc);
    *con_cls = NULL;
}

static void s_on_signal(int sig)
{
    (void)sig;
    G.stop = 1;
}

static void s_usage(FILE *out)
{
    fprintf(out, "usage: fake_channels --port N [--bind IPV4] [--twilio-sid SID] [--twilio-token T] [--tiktok-token T]\n"
                 "                     [--callback-secret S] [--latency-ms N]\n"
                 "Fake Twilio / TikTok / callback receiver with fault injection and a delivery ledger.\n");
}

int main(int argc, char **argv)
{
    int port = 0;
    const char *bind_addr = "127.0.0.1";
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            s_usage(stdout);
            return 0;
        }
        if (!v) {
            s_usage(stderr);
            return 64;
        }
        if (strcmp(a, "--port") == 0) port = atoi(v);
        else if (strcmp(a, "--bind") == 0) bind_addr = v;
        else if (strcmp(a, "--twilio-sid") == 0) snprintf(G.twilio_sid, sizeof G.twilio_sid, "%s", v);
        else if (strcmp(a, "--twilio-token") == 0) snprintf(G.twilio_token, sizeof G.twilio_token, "%s", v);
        else if (strcmp(a, "--tiktok-token") == 0) snprintf(G.tiktok_token, sizeof G.tiktok_token, "%s", v);
        else if (strcmp(a, "--callback-secret") == 0) snprintf(G.callback_secret, sizeof G.callback_secret, "%s", v);
        else if (strcmp(a, "--latency-ms") == 0) G.latency_ms = atoll(v);
        else {
            s_usage(stderr);
            return 64;
        }
    }
    if (port <= 0 || port > 65535) {
        s_usage(stderr);
        return 64;
    }
    signal(SIGTERM, s_on_signal);
    signal(SIGINT, s_on_signal);
    signal(SIGPIPE, SIG_IGN);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, bind_addr, &addr.sin_addr) != 1) {
        fprintf(stderr, "fake_channels: --bind %s is not an IPv4 address\n", bind_addr);
        return 64;
    }
    G.daemon = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
                                (uint16_t)port, NULL, NULL, s_handler, NULL, MHD_OPTION_SOCK_ADDR, &addr,
                                MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL, MHD_OPTION_CONNECTION_LIMIT,
                                (unsigned)8192, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300,
                                MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)4096, MHD_OPTION_END);
    if (!G.daemon) {
        fprintf(stderr, "fake_channels: cannot listen on %s:%d\n", bind_addr, port);
        return 1;
    }
    pthread_t resumer;
    pthread_create(&resumer, NULL, s_resumer, NULL);
    fprintf(stderr, "fake_channels: listening on %s:%d\n", bind_addr, port);
    while (!G.stop) pause();
    pthread_join(resumer, NULL);
    pthread_mutex_lock(&G.mu);
    for (size_t i = 0; i < G.nsusp; i++) MHD_resume_connection(G.susp[i].c);
    G.nsusp = 0;
    pthread_mutex_unlock(&G.mu);
    MHD_stop_daemon(G.daemon);
    s_ledger_reset();
    return 0;
}
