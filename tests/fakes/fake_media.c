// fake_media: the outside world of inbound media for lull's worker tests (libmicrohttpd): Twilio media URLs
// (basic auth required), Meta Graph API media (GET /{version}/{media-id} → {"url","mime_type",…}, then the
// download; bearer token required on both), a plain CDN (no auth), and an OpenAI-compatible transcription
// endpoint (POST …/audio/transcriptions, multipart parsed: model and file; answers {"text": …}).
//
// Routes: GET /twilio/{id} (basic auth), GET /{version}/{media-id} and GET /_media/{id} (bearer), GET /cdn/{id}
// (anything), POST /v1/audio/transcriptions and /audio/transcriptions (bearer). A media item may answer with a
// redirect instead of its bytes. Control: POST /_fake/media {"id","mime","body","pad","status","redirect","delay_ms"}
// (pad: bytes of 'x' appended to body), POST /_fake/reset, GET /_fake/ledger (JSON array of {method, path,
// authorization, model, filename, file_type, file}). Every request, also refused ones, is in the ledger, with
// the Authorization header it carried (null when none). Listens on --host (default 127.0.0.1) --port.
#include <cJSON.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_BODY (32 << 20)
#define MAX_ITEMS 64

typedef struct {
    char id[64], mime[64], redirect[512];
    int status, delay_ms;  // delay_ms: the answer waits (a slow download)
    char *body;
    size_t len;
} s_item_t;

typedef struct {
    char *body;
    size_t len, cap;
    bool too_large;
} s_req_t;

static pthread_mutex_t s_mu = PTHREAD_MUTEX_INITIALIZER;
static s_item_t s_items[MAX_ITEMS];
static int s_nitems;
static cJSON *s_ledger;
static char s_base[128];  // http://host:port of this server
static volatile sig_atomic_t s_stop;

static enum MHD_Result s_reply(struct MHD_Connection *c, int status, const char *ctype, const char *body, size_t len,
                               const char *location)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    if (ctype) MHD_add_response_header(r, "Content-Type", ctype);
    if (location) MHD_add_response_header(r, "Location", location);
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result s_json(struct MHD_Connection *c, int status, const char *body)
{
    return s_reply(c, status, "application/json", body, strlen(body), NULL);
}

static s_item_t *s_find(const char *id)
{
    for (int i = 0; i < s_nitems; i++)
        if (strcmp(s_items[i].id, id) == 0) return &s_items[i];
    return NULL;
}

static void s_reset(void)
{
    for (int i = 0; i < s_nitems; i++) free(s_items[i].body);
    s_nitems = 0;
    cJSON_Delete(s_ledger);
    s_ledger = cJSON_CreateArray();
}

// Finds the multipart part named name in body (boundary from ctype): its bytes, length, filename and type.
static const char *s_part(const char *body, size_t len, const char *ctype, const char *name, size_t *plen,
                          char *filename, size_t flen, char *ptype, size_t tlen)
{
    const char *b = ctype ? strstr(ctype, "boundary=") : NULL;
    if (!b) return NULL;
    char delim[128];
    snprintf(delim, sizeof delim, "--%s", b + 9);
    size_t dl = strlen(delim);
    const char *end = body + len, *p = body;
    while (p && p < end) {
        const char *start = memmem(p, (size_t)(end - p), delim, dl);
        if (!start) return NULL;
        const char *hdr = start + dl + 2;  // after the delimiter's CRLF
        if (hdr >= end) return NULL;
        const char *data = memmem(hdr, (size_t)(end - hdr), "\r\n\r\n", 4);
        if (!data) return NULL;
        data += 4;
        const char *next = memmem(data, (size_t)(end - data), delim, dl);
        if (!next) return NULL;
        char h[1024];
        size_t hl = (size_t)(data - hdr) < sizeof h - 1 ? (size_t)(data - hdr) : sizeof h - 1;
        memcpy(h, hdr, hl);
        h[hl] = '\0';
        char want[160];
        snprintf(want, sizeof want, "name=\"%s\"", name);
        if (strstr(h, want)) {
            const char *fn = strstr(h, "filename=\"");
            if (fn && filename) {
                fn += 10;
                size_t n = 0;
                while (fn[n] && fn[n] != '"' && n + 1 < flen) filename[n] = fn[n], n++;
                filename[n] = '\0';
            }
            const char *ct = strcasestr(h, "Content-Type: ");
            if (ct && ptype) {
                ct += 14;
                size_t n = 0;
                while (ct[n] && ct[n] != '\r' && n + 1 < tlen) ptype[n] = ct[n], n++;
                ptype[n] = '\0';
            }
            *plen = (size_t)(next - 2 - data);  // the CRLF before the delimiter
            return data;
        }
        p = next;
    }
    return NULL;
}

static enum MHD_Result s_control(struct MHD_Connection *c, const char *method, const char *url, const s_req_t *st)
{
    if (strcmp(method, "GET") == 0 && strcmp(url, "/_fake/ledger") == 0) {
        char *out = cJSON_PrintUnformatted(s_ledger);
        enum MHD_Result rc = s_json(c, 200, out ? out : "[]");
        free(out);
        return rc;
    }
    if (strcmp(method, "POST") == 0 && strcmp(url, "/_fake/reset") == 0) {
        s_reset();
        return s_json(c, 200, "{}");
    }
    cJSON *j = st->body ? cJSON_ParseWithLength(st->body, st->len) : NULL;
    enum MHD_Result rc;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id"), *mime = cJSON_GetObjectItemCaseSensitive(j, "mime");
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(j, "body"), *pad = cJSON_GetObjectItemCaseSensitive(j, "pad");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(j, "status");
    const cJSON *redirect = cJSON_GetObjectItemCaseSensitive(j, "redirect");
    if (strcmp(method, "POST") == 0 && strcmp(url, "/_fake/media") == 0 && cJSON_IsString(id) && s_nitems < MAX_ITEMS) {
        s_item_t *it = &s_items[s_nitems++];
        memset(it, 0, sizeof *it);
        snprintf(it->id, sizeof it->id, "%s", id->valuestring);
        snprintf(it->mime, sizeof it->mime, "%s", cJSON_IsString(mime) ? mime->valuestring : "image/png");
        snprintf(it->redirect, sizeof it->redirect, "%s", cJSON_IsString(redirect) ? redirect->valuestring : "");
        it->status = cJSON_IsNumber(status) ? status->valueint : 200;
        const cJSON *delay = cJSON_GetObjectItemCaseSensitive(j, "delay_ms");
        it->delay_ms = cJSON_IsNumber(delay) && delay->valueint > 0 && delay->valueint < 600000 ? delay->valueint : 0;
        const char *b = cJSON_IsString(body) ? body->valuestring : "";
        size_t np = cJSON_IsNumber(pad) && pad->valuedouble > 0 && pad->valuedouble < MAX_BODY ? (size_t)pad->valuedouble : 0;
        it->len = strlen(b) + np;
        it->body = malloc(it->len + 1);
        if (it->body) {
            memcpy(it->body, b, strlen(b));
            memset(it->body + strlen(b), 'x', np);
            it->body[it->len] = '\0';
        } else {
            it->len = 0;
        }
        rc = s_json(c, 200, "{}");
    } else {
        rc = s_json(c, 404, "{\"error\":\"unknown control request\"}");
    }
    cJSON_Delete(j);
    return rc;
}

// Serves media item id (its redirect, status or bytes).
static enum MHD_Result s_serve(struct MHD_Connection *c, const char *id)
{
    s_item_t *it = s_find(id);
    if (!it) return s_json(c, 404, "{\"error\":\"no such media\"}");
    if (*it->redirect) return s_reply(c, 302, "text/plain", "", 0, it->redirect);
    if (it->status != 200) return s_json(c, it->status, "{\"error\":\"injected\"}");
    return s_reply(c, 200, it->mime, it->body, it->len, NULL);
}

static enum MHD_Result s_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)version;
    s_req_t *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st) return MHD_NO;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (st->too_large || st->len + n > MAX_BODY) {
            st->too_large = true;
            return MHD_YES;
        }
        if (st->len + n + 1 > st->cap) {
            size_t cap = st->cap ? st->cap * 2 : 4096;
            while (cap < st->len + n + 1) cap *= 2;
            char *b = realloc(st->body, cap);
            if (!b) return MHD_NO;
            st->body = b;
            st->cap = cap;
        }
        memcpy(st->body + st->len, upload_data, n);
        st->len += n;
        st->body[st->len] = '\0';
        return MHD_YES;
    }
    if (st->too_large) return s_json(c, 413, "{\"error\":\"too large\"}");
    pthread_mutex_lock(&s_mu);
    enum MHD_Result rc;
    if (strncmp(url, "/_fake/", 7) == 0) {
        rc = s_control(c, method, url, st);
        pthread_mutex_unlock(&s_mu);
        return rc;
    }
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "method", method);
    cJSON_AddStringToObject(e, "path", url);
    if (auth) cJSON_AddStringToObject(e, "authorization", auth);
    else cJSON_AddNullToObject(e, "authorization");
    cJSON_AddItemToArray(s_ledger, e);
    bool basic = auth && strncmp(auth, "Basic ", 6) == 0, bearer = auth && strncmp(auth, "Bearer ", 7) == 0;
    const char *slash = strchr(url + 1, '/');
    if (strcmp(method, "GET") == 0 && strncmp(url, "/twilio/", 8) == 0 && s_find(url + 8) && s_find(url + 8)->delay_ms) {
        int ms = s_find(url + 8)->delay_ms;  // a thread per connection: only this one waits
        pthread_mutex_unlock(&s_mu);
        usleep((useconds_t)ms * 1000);
        pthread_mutex_lock(&s_mu);
        s_item_t *it = s_find(url + 8);
        rc = !basic ? s_json(c, 401, "{}") : it ? s_reply(c, 200, it->mime, it->body, it->len, NULL) : s_json(c, 404, "{}");
    } else if (strcmp(method, "GET") == 0 && strncmp(url, "/twilio/", 8) == 0) {
        rc = basic ? s_serve(c, url + 8) : s_json(c, 401, "{\"code\":20003,\"message\":\"Authenticate\"}");
    } else if (strcmp(method, "GET") == 0 && strncmp(url, "/cdn/", 5) == 0) {
        rc = s_serve(c, url + 5);
    } else if (strcmp(method, "GET") == 0 && strncmp(url, "/_media/", 8) == 0) {
        rc = bearer ? s_serve(c, url + 8) : s_json(c, 401, "{\"error\":{\"code\":190}}");
    } else if (strcmp(method, "POST") == 0 && strlen(url) >= 21 && strcmp(url + strlen(url) - 21, "/audio/transcriptions") == 0) {
        const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        size_t ml = 0, fl = 0;
        char fname[128] = "", ftype[64] = "";
        const char *model = st->body ? s_part(st->body, st->len, ctype, "model", &ml, NULL, 0, NULL, 0) : NULL;
        const char *file = st->body ? s_part(st->body, st->len, ctype, "file", &fl, fname, sizeof fname, ftype, sizeof ftype) : NULL;
        if (!bearer) {
            rc = s_json(c, 401, "{\"error\":{\"message\":\"missing API key\"}}");
        } else if (!model || !file || fl == 0) {
            rc = s_json(c, 400, "{\"error\":{\"message\":\"model and file are required\"}}");
        } else {
            char m[128], text[256];
            snprintf(m, sizeof m, "%.*s", (int)(ml < 127 ? ml : 127), model);
            cJSON_AddStringToObject(e, "model", m);
            cJSON_AddStringToObject(e, "filename", fname);
            cJSON_AddStringToObject(e, "file_type", ftype);
            cJSON_AddNumberToObject(e, "file", (double)fl);
            snprintf(text, sizeof text, "%.*s", (int)(fl < 200 ? fl : 200), file);
            cJSON *out = cJSON_CreateObject();
            cJSON_AddStringToObject(out, "text", text);
            char *s = cJSON_PrintUnformatted(out);
            rc = s_json(c, 200, s ? s : "{}");
            free(s);
            cJSON_Delete(out);
        }
    } else if (strcmp(method, "GET") == 0 && slash && !strchr(slash + 1, '/')) {  // /{version}/{media-id}
        s_item_t *it = s_find(slash + 1);
        if (!bearer) rc = s_json(c, 401, "{\"error\":{\"message\":\"Invalid OAuth access token\",\"code\":190}}");
        else if (!it) rc = s_json(c, 404, "{\"error\":{\"message\":\"Unsupported get request\",\"code\":100}}");
        else {
            char body[1024];
            snprintf(body, sizeof body,
                     "{\"messaging_product\":\"whatsapp\",\"url\":\"%s/_media/%s\",\"mime_type\":\"%s\",\"file_size\":%zu,"
                     "\"id\":\"%s\"}",
                     s_base, it->id, it->mime, it->len, it->id);
            rc = s_json(c, 200, body);
        }
    } else {
        rc = s_json(c, 404, "{\"error\":\"not found\"}");
    }
    pthread_mutex_unlock(&s_mu);
    return rc;
}

static void s_completed_cb(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    s_req_t *st = *con_cls;
    if (!st) return;
    free(st->body);
    free(st);
    *con_cls = NULL;
}

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

int main(int argc, char **argv)
{
    int port = 0;
    const char *host = "127.0.0.1";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) host = argv[++i];
        else {
            fprintf(stderr, "usage: fake_media --port N [--host 127.0.0.x]\n"
                            "Fake Twilio/Meta media, CDN and transcription server for lull's tests.\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 64;
        }
    }
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (port <= 0 || port > 65535 || inet_pton(AF_INET, host, &addr.sin_addr) != 1 ||
        (ntohl(addr.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "fake_media: --port N and a 127.0.0.x --host are required\n");
        return 64;
    }
    snprintf(s_base, sizeof s_base, "http://%s:%d", host, port);
    s_ledger = cJSON_CreateArray();
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {0};
    sa.sa_handler = s_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, (uint16_t)port, NULL, NULL, s_handler, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed_cb, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "fake_media: cannot listen on %s:%d\n", host, port);
        return 1;
    }
    fprintf(stderr, "fake_media: listening on %s:%d\n", host, port);
    while (!s_stop) usleep(50000);
    MHD_stop_daemon(d);
    pthread_mutex_lock(&s_mu);
    s_reset();
    cJSON_Delete(s_ledger);
    pthread_mutex_unlock(&s_mu);
    return 0;
}
