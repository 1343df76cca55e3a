// fake_graph: a stand-in for Meta's Graph API (WhatsApp Cloud API), speaking its wire format:
//   POST /{version}/{phone-number-id}/messages   send (Authorization: Bearer, JSON) → {"messaging_product",
//                                                 "contacts":[{"input","wa_id"}],"messages":[{"id":"wamid.…"}]}
//   GET  /{version}/{media-id}                    media metadata {"url","mime_type","sha256","file_size","id"}
//   GET  /_media/{media-id}                       the media bytes (the download URL; bearer token required too)
// Errors come in Meta's envelope {"error":{"message","type","code","error_subcode","fbtrace_id"}}.
// Control: POST /_fake/faults {"mode":"error"|"reset","status","code","count","retry_after"?}   DELETE /_fake/faults
//          (retry_after: seconds, sent as Retry-After with each injected error)
//          POST /_fake/media {"id","mime_type","body"}   POST /_fake/reset   GET /_fake/ledger[?key=K]
// Ledger key of a send: "meta:<to>|<text body or template name>"; deliveries counts the 200s.
// One thread per connection (tests send little), a mutex around the state.
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
#include <time.h>
#include <unistd.h>

#define MAX_UPLOAD (1u << 20)
#define MAX_KEYS 100000
#define MAX_MEDIA 64

typedef struct {
    char *key;
    int64_t requests, deliveries;
    int64_t first_t_ms;  // wall clock of the first request
    char *last;  // the last request: {"path","authorization","body"}
} s_entry_t;

static struct {
    char token[512];
    int port;
    int64_t latency_ms;
    char mode[16];     // fault: "" | "error" | "reset"
    long f_status;
    int64_t f_code, f_count, injected;
    int64_t f_retry_after;  // seconds; 0 = no Retry-After header
    s_entry_t *keys;
    size_t nkeys;
    int64_t requests, deliveries;
    struct { char id[64], mime[64]; char *body; } media[MAX_MEDIA];
    int nmedia;
    pthread_mutex_t mu;
    volatile sig_atomic_t stop;
} G = {.mu = PTHREAD_MUTEX_INITIALIZER};

typedef struct {
    char *body;
    size_t len;
    bool too_large;
} s_conn_t;

static enum MHD_Result s_reply_ra(struct MHD_Connection *c, unsigned status, const char *type, const char *body,
                                   size_t len, int64_t retry_after)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    if (retry_after > 0) {
        char ra[24];
        snprintf(ra, sizeof ra, "%lld", (long long)retry_after);
        MHD_add_response_header(r, "Retry-After", ra);
    }
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result s_reply(struct MHD_Connection *c, unsigned status, const char *type, const char *body, size_t len)
{
    return s_reply_ra(c, status, type, body, len, 0);
}

static enum MHD_Result s_json(struct MHD_Connection *c, unsigned status, const char *body)
{
    return s_reply(c, status, "application/json", body, strlen(body));
}

// Meta's error envelope.
static enum MHD_Result s_error_ra(struct MHD_Connection *c, unsigned status, int64_t code, const char *type,
                                   const char *msg, int64_t retry_after)
{
    char buf[512];
    snprintf(buf, sizeof buf,
             "{\"error\":{\"message\":\"%s\",\"type\":\"%s\",\"code\":%lld,\"error_subcode\":2494010,\"fbtrace_id\":\"AbCdEfFake\"}}",
             msg, type, (long long)code);
    return s_reply_ra(c, status, "application/json", buf, strlen(buf), retry_after);
}

static enum MHD_Result s_error(struct MHD_Connection *c, unsigned status, int64_t code, const char *type, const char *msg)
{
    return s_error_ra(c, status, code, type, msg, 0);
}

static bool s_bearer_ok(struct MHD_Connection *c)
{
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    return a && strncmp(a, "Bearer ", 7) == 0 && a[7] && (!G.token[0] || strcmp(a + 7, G.token) == 0);
}

static void s_ledger(const char *key, bool delivered, struct MHD_Connection *c, const char *url, const char *body)
{
    G.requests++;
    G.deliveries += delivered;
    s_entry_t *e = NULL;
    for (size_t i = 0; i < G.nkeys && !e; i++)
        if (strcmp(G.keys[i].key, key) == 0) e = &G.keys[i];
    if (!e && G.nkeys < MAX_KEYS) {
        s_entry_t *k = realloc(G.keys, (G.nkeys + 1) * sizeof *k);
        if (!k) return;
        G.keys = k;
        e = &G.keys[G.nkeys++];
        memset(e, 0, sizeof *e);
        e->key = strdup(key);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        e->first_t_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    if (!e) return;
    e->requests++;
    e->deliveries += delivered;
    cJSON *w = cJSON_CreateObject();
    cJSON_AddStringToObject(w, "path", url);
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    cJSON_AddStringToObject(w, "authorization", a ? a : "");
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    cJSON_AddStringToObject(w, "content_type", ct ? ct : "");
    cJSON_AddStringToObject(w, "body", body ? body : "");
    free(e->last);
    e->last = cJSON_PrintUnformatted(w);
    cJSON_Delete(w);
}

static char *s_ledger_json(const char *only)
{
    cJSON *root = cJSON_CreateObject(), *by = NULL;
    int64_t dup = 0;
    for (size_t i = 0; i < G.nkeys; i++) dup += G.keys[i].deliveries > 1;
    cJSON_AddNumberToObject(root, "requests", (double)G.requests);
    cJSON_AddNumberToObject(root, "deliveries", (double)G.deliveries);
    cJSON_AddNumberToObject(root, "keys", (double)G.nkeys);
    cJSON_AddNumberToObject(root, "duplicated_keys", (double)dup);
    cJSON_AddNumberToObject(root, "faults_injected", (double)G.injected);
    by = cJSON_AddObjectToObject(root, "by_key");
    for (size_t i = 0; i < G.nkeys; i++) {
        if (only && strcmp(only, G.keys[i].key) != 0) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "requests", (double)G.keys[i].requests);
        cJSON_AddNumberToObject(o, "deliveries", (double)G.keys[i].deliveries);
        cJSON_AddNumberToObject(o, "first_t_ms", (double)G.keys[i].first_t_ms);
        char err[64];
        cJSON *l = G.keys[i].last ? lull_json_parse(G.keys[i].last, strlen(G.keys[i].last), 8, err, sizeof err) : NULL;
        if (l) cJSON_AddItemToObject(o, "last", l);
        cJSON_AddItemToObject(by, G.keys[i].key, o);
    }
    char *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return out;
}

// POST /{version}/{phone-number-id}/messages
static enum MHD_Result s_send(struct MHD_Connection *c, const char *url, s_conn_t *cc)
{
    char err[128], key[20000];
    cJSON *j = cc->body ? lull_json_parse(cc->body, cc->len, 16, err, sizeof err) : NULL;
    const char *mp = NULL, *rt = NULL, *to = NULL, *type = NULL, *text = NULL, *name = NULL, *lang = NULL;
    if (j) {
        (void)!lull_json_str(j, "messaging_product", true, 64, &mp, err, sizeof err);
        (void)!lull_json_str(j, "recipient_type", false, 64, &rt, err, sizeof err);
        (void)!lull_json_str(j, "to", true, 64, &to, err, sizeof err);
        (void)!lull_json_str(j, "type", true, 64, &type, err, sizeof err);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "text"), *tp = cJSON_GetObjectItemCaseSensitive(j, "template");
        if (cJSON_IsObject(t)) (void)!lull_json_str(t, "body", true, 1 << 20, &text, err, sizeof err);
        if (cJSON_IsObject(tp)) {
            (void)!lull_json_str(tp, "name", true, 512, &name, err, sizeof err);
            (void)!lull_json_str(cJSON_GetObjectItemCaseSensitive(tp, "language"), "code", true, 32, &lang, err, sizeof err);
        }
    }
    snprintf(key, sizeof key, "meta:%s|%s", to ? to : "", text ? text : name ? name : "");
    size_t chars = 0;
    for (const char *p = text; p && *p; p++) chars += ((unsigned char)*p & 0xC0) != 0x80;
    enum MHD_Result r;
    pthread_mutex_lock(&G.mu);
    bool fault = G.mode[0] && G.f_count != 0;
    if (!s_bearer_ok(c)) {
        s_ledger(key, false, c, url, cc->body);
        r = s_error(c, 401, 190, "OAuthException", "Invalid OAuth access token - Cannot parse access token");
    } else if (!j || !mp || strcmp(mp, "whatsapp") != 0 || (rt && strcmp(rt, "individual") != 0) || !to || !type ||
               !((strcmp(type, "text") == 0 && text && chars <= 4096) ||
                 (strcmp(type, "template") == 0 && name && lang))) {
        s_ledger(key, false, c, url, cc->body);
        r = s_error(c, 400, 100, "OAuthException", "(#100) Invalid parameter");
    } else if (fault) {
        if (G.f_count > 0) G.f_count--;
        G.injected++;
        s_ledger(key, false, c, url, cc->body);
        if (strcmp(G.mode, "reset") == 0) {
            pthread_mutex_unlock(&G.mu);
            cJSON_Delete(j);
            return MHD_NO;
        }
        r = s_error_ra(c, (unsigned)G.f_status, G.f_code, "OAuthException", "injected fault", G.f_retry_after);
    } else {
        uint8_t rnd[18];
        char b64[40], buf[512];
        lull_random_bytes(rnd, sizeof rnd);
        lull_base64_encode(rnd, sizeof rnd, b64, sizeof b64);
        s_ledger(key, true, c, url, cc->body);
        snprintf(buf, sizeof buf,
                 "{\"messaging_product\":\"whatsapp\",\"contacts\":[{\"input\":\"%s\",\"wa_id\":\"%s\"}],"
                 "\"messages\":[{\"id\":\"wamid.%s\"}]}",
                 to, to, b64);
        r = s_json(c, 200, buf);
    }
    pthread_mutex_unlock(&G.mu);
    cJSON_Delete(j);
    return r;
}

// GET /{version}/{media-id} and GET /_media/{media-id}
static enum MHD_Result s_media(struct MHD_Connection *c, const char *id, bool download)
{
    if (!s_bearer_ok(c)) return s_error(c, 401, 190, "OAuthException", "Invalid OAuth access token");
    enum MHD_Result r = MHD_NO;
    pthread_mutex_lock(&G.mu);
    int k = -1;
    for (int i = 0; i < G.nmedia && k < 0; i++)
        if (strcmp(G.media[i].id, id) == 0) k = i;
    if (k < 0) {
        r = s_error(c, 400, 100, "OAuthException", "(#100) Unsupported get request");
    } else if (download) {
        r = s_reply(c, 200, G.media[k].mime, G.media[k].body, strlen(G.media[k].body));
    } else {
        uint8_t sum[32];
        char hex[65], buf[1024];
        lull_sha256(G.media[k].body, strlen(G.media[k].body), sum);
        snprintf(buf, sizeof buf,
                 "{\"url\":\"http://127.0.0.1:%d/_media/%s\",\"mime_type\":\"%s\",\"sha256\":\"%s\",\"file_size\":%zu,"
                 "\"id\":\"%s\",\"messaging_product\":\"whatsapp\"}",
                 G.port, id, G.media[k].mime, lull_hex(sum, sizeof sum, hex), strlen(G.media[k].body), id);
        r = s_json(c, 200, buf);
    }
    pthread_mutex_unlock(&G.mu);
    return r;
}

static enum MHD_Result s_control(struct MHD_Connection *c, const char *url, const char *method, s_conn_t *cc)
{
    char err[128];
    enum MHD_Result r;
    pthread_mutex_lock(&G.mu);
    cJSON *j = cc->body ? lull_json_parse(cc->body, cc->len, 4, err, sizeof err) : NULL;
    if (strcmp(url, "/_fake/ledger") == 0) {
        char *out = s_ledger_json(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "key"));
        r = s_json(c, 200, out ? out : "{}");
        free(out);
    } else if (strcmp(url, "/_fake/reset") == 0 || (strcmp(url, "/_fake/faults") == 0 && strcmp(method, "DELETE") == 0)) {
        G.mode[0] = '\0';
        if (strcmp(url, "/_fake/reset") == 0) {
            for (size_t i = 0; i < G.nkeys; i++) {
                free(G.keys[i].key);
                free(G.keys[i].last);
            }
            free(G.keys);
            G.keys = NULL;
            G.nkeys = 0;
            G.requests = G.deliveries = G.injected = 0;
        }
        r = s_json(c, 200, "{\"ok\":true}");
    } else if (strcmp(url, "/_fake/faults") == 0 && j) {
        const char *mode = NULL;
        int64_t status = 500, code = 2, count = -1, retry_after = 0;
        (void)!lull_json_str(j, "mode", true, 15, &mode, err, sizeof err);
        (void)!lull_json_int(j, "status", false, false, 100, 599, &status, err, sizeof err);
        (void)!lull_json_int(j, "code", false, false, 0, 1000000000, &code, err, sizeof err);
        (void)!lull_json_int(j, "count", false, false, -1, 1000000000, &count, err, sizeof err);
        (void)!lull_json_int(j, "retry_after", false, false, 0, 86400, &retry_after, err, sizeof err);
        snprintf(G.mode, sizeof G.mode, "%s", mode && strcmp(mode, "none") != 0 ? mode : "");
        G.f_status = (long)status;
        G.f_code = code;
        G.f_count = count;
        G.f_retry_after = retry_after;
        r = s_json(c, 200, "{\"ok\":true}");
    } else if (strcmp(url, "/_fake/media") == 0 && j && G.nmedia < MAX_MEDIA) {
        const char *id = NULL, *mime = NULL, *body = NULL;
        if (lull_json_str(j, "id", true, 63, &id, err, sizeof err) == 0 &&
            lull_json_str(j, "mime_type", true, 63, &mime, err, sizeof err) == 0 &&
            lull_json_str(j, "body", true, 1 << 19, &body, err, sizeof err) == 0) {
            snprintf(G.media[G.nmedia].id, sizeof G.media[0].id, "%s", id);
            snprintf(G.media[G.nmedia].mime, sizeof G.media[0].mime, "%s", mime);
            G.media[G.nmedia++].body = strdup(body);
            r = s_json(c, 200, "{\"ok\":true}");
        } else {
            r = s_json(c, 400, "{\"error\":\"id, mime_type and body required\"}");
        }
    } else {
        r = s_json(c, 404, "{\"error\":\"not found\"}");
    }
    cJSON_Delete(j);
    pthread_mutex_unlock(&G.mu);
    return r;
}

static enum MHD_Result s_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                 const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    s_conn_t *cc = *con_cls;
    if (!cc) {
        *con_cls = cc = calloc(1, sizeof *cc);
        return cc ? MHD_YES : MHD_NO;
    }
    if (*upload_size) {
        if (cc->len + *upload_size > MAX_UPLOAD) cc->too_large = true;
        char *b = cc->too_large ? NULL : realloc(cc->body, cc->len + *upload_size + 1);
        if (b) {
            memcpy(b + cc->len, upload, *upload_size);
            cc->len += *upload_size;
            b[cc->len] = '\0';
            cc->body = b;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (cc->too_large) return s_json(c, 413, "{\"error\":\"too large\"}");
    if (strncmp(url, "/_fake/", 7) == 0) return s_control(c, url, method, cc);
    if (G.latency_ms > 0) usleep((useconds_t)(G.latency_ms * 1000));
    if (strncmp(url, "/_media/", 8) == 0 && strcmp(method, "GET") == 0) return s_media(c, url + 8, true);
    // /{version}/{id}[/messages]
    const char *v = url[0] == '/' ? url + 1 : url, *slash = strchr(v, '/');
    if (v[0] != 'v' || !slash) return s_error(c, 400, 100, "GraphMethodException", "Unsupported request");
    const char *id = slash + 1, *rest = strchr(id, '/');
    if (rest && strcmp(rest, "/messages") == 0 && strcmp(method, "POST") == 0) return s_send(c, url, cc);
    if (!rest && strcmp(method, "GET") == 0) return s_media(c, id, false);
    return s_error(c, 400, 100, "GraphMethodException", "Unsupported request");
}

static void s_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    s_conn_t *cc = *con_cls;
    if (cc) free(cc->body);
    free(cc);
    *con_cls = NULL;
}

static void s_on_signal(int sig)
{
    (void)sig;
    G.stop = 1;
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0) G.port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--token") == 0) snprintf(G.token, sizeof G.token, "%s", argv[i + 1]);
        else if (strcmp(argv[i], "--latency-ms") == 0) G.latency_ms = atoll(argv[i + 1]);
    }
    if (G.port <= 0 || G.port > 65535) {
        fprintf(stderr, "usage: fake_graph --port N [--token T] [--latency-ms N]\n"
                        "Fake Meta Graph API (WhatsApp Cloud API send and media) with faults and a ledger.\n");
        return 64;
    }
    signal(SIGTERM, s_on_signal);
    signal(SIGINT, s_on_signal);
    signal(SIGPIPE, SIG_IGN);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)G.port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                                                MHD_USE_ERROR_LOG,
                                            (uint16_t)G.port, NULL, NULL, s_handler, NULL, MHD_OPTION_SOCK_ADDR, &addr,
                                            MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL,
                                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "fake_graph: cannot listen on 127.0.0.1:%d\n", G.port);
        return 1;
    }
    fprintf(stderr, "fake_graph: listening on 127.0.0.1:%d\n", G.port);
    while (!G.stop) pause();
    MHD_stop_daemon(d);
    return 0;
}
