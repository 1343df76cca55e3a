// libcurl multi on a lull_loop: socket callbacks add/modify/remove fds on the loop, the timer callback
// arms one loop timer, completions are collected after each socket action. Finished requests go back to a
// pool with their easy handle reset (curl_easy_reset: no option, header or credential survives), so a
// request costs no handle set-up; connections stay in the multi handle's cache, per host, across handles.
// A request kept by its completion callback (lull_http_keep) can be sent again as it is, to retry it.
#include "lull_http.h"
#include "lull_buf.h"
#include "lull_clock.h"
#include "lull_log.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define MAX_HEADER_BYTES 16384
#define POOL_MAX 1024          // idle requests (with their easy handles) kept for reuse
#define POOL_KEEP_BODY 4096    // a pooled response buffer keeps its memory up to this size

typedef struct s_req {
    CURL *easy;
    struct curl_slist *headers;
    char *body;                // copy of the request body
    lull_buf_t resp;           // response body, capped at the client's max_body
    char hdrs[MAX_HEADER_BYTES];  // "name: value\n" lines of the last response
    size_t hdrs_len;
    int64_t started_ms;
    lull_netaddr_allow_t allow;         // public_only: copy of the request's allowlist
    bool refused;                       // an address was refused by public_only
    bool keep;                          // lull_http_keep was called in the completion callback
    bool kept;                          // kept, not in flight: in the kept list, its last answer is stale
    lull_http_done_fn *done;
    void *arg;
    lull_http_t *owner;
    struct s_req *prev, *next;  // in-flight list, kept list, or (next only) the idle pool
} s_req_t;

struct lull_http {
    CURLM *multi;
    lull_loop_t *loop;
    size_t max_body;
    int64_t default_timeout_ms;
    int timer_id;
    size_t in_flight;
    s_req_t *head;
    s_req_t *kept;     // kept requests waiting for lull_http_resend or lull_http_drop
    s_req_t *idle;     // pool of reset requests
    size_t nidle;
    bool destroying;
};

static void s_check_done(lull_http_t *self);

static void s_on_socket_ready(lull_loop_t *loop, int fd, int events, void *arg);

static int s_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    (void)socketp;
    lull_http_t *self = userp;
    if (what == CURL_POLL_REMOVE) {  // usually an idle keep-alive connection, reused by a later request
        lull_loop_park_fd(self->loop, fd);
        return 0;
    }
    int ev = (what & CURL_POLL_IN ? LULL_LOOP_IN : 0) | (what & CURL_POLL_OUT ? LULL_LOOP_OUT : 0);
    if (lull_loop_mod_fd(self->loop, fd, ev) != 0)
        lull_loop_add_fd(self->loop, fd, ev, s_on_socket_ready, self);
    return 0;
}

static void s_on_timer(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    lull_http_t *self = arg;
    self->timer_id = 0;
    int running = 0;
    curl_multi_socket_action(self->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    s_check_done(self);
}

static int s_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    lull_http_t *self = userp;
    if (self->timer_id) lull_loop_cancel_timer(self->loop, self->timer_id);
    self->timer_id = 0;
    if (timeout_ms >= 0) self->timer_id = lull_loop_add_timer(self->loop, timeout_ms, 0, s_on_timer, self);
    return 0;
}

static size_t s_write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
    s_req_t *r = userp;
    size_t n = size * nmemb;
    return lull_buf_append(&r->resp, data, n) == 0 ? n : 0;  // 0 aborts the transfer (CURLE_WRITE_ERROR)
}

static size_t s_header_cb(char *data, size_t size, size_t nmemb, void *userp)
{
    s_req_t *r = userp;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) r->hdrs_len = 0;  // a new response (after 100, redirects)
    if (r->hdrs_len + n < sizeof r->hdrs) {
        memcpy(r->hdrs + r->hdrs_len, data, n);
        r->hdrs_len += n;
        r->hdrs[r->hdrs_len] = '\0';
    }
    return n;
}

lull_http_t *lull_http_new(lull_loop_t *loop, size_t max_body, int64_t default_timeout_ms, long max_host_conns)
{
    static bool s_global_init;
    if (!s_global_init) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        s_global_init = true;
    }
    lull_http_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->multi = curl_multi_init();
    if (!self->multi) {
        free(self);
        return NULL;
    }
    self->loop = loop;
    self->max_body = max_body ? max_body : (4u << 20);
    self->default_timeout_ms = default_timeout_ms > 0 ? default_timeout_ms : 30000;
    curl_multi_setopt(self->multi, CURLMOPT_SOCKETFUNCTION, s_socket_cb);
    curl_multi_setopt(self->multi, CURLMOPT_SOCKETDATA, self);
    curl_multi_setopt(self->multi, CURLMOPT_TIMERFUNCTION, s_timer_cb);
    curl_multi_setopt(self->multi, CURLMOPT_TIMERDATA, self);
    if (max_host_conns > 0) curl_multi_setopt(self->multi, CURLMOPT_MAX_HOST_CONNECTIONS, max_host_conns);
    curl_multi_setopt(self->multi, CURLMOPT_MAXCONNECTS, 4096L);
    return self;
}

static void s_list_add(s_req_t **head, s_req_t *r)
{
    r->prev = NULL;
    r->next = *head;
    if (*head) (*head)->prev = r;
    *head = r;
}

static void s_list_del(s_req_t **head, s_req_t *r)
{
    if (r->prev) r->prev->next = r->next;
    else *head = r->next;
    if (r->next) r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

// A request to fill: from the pool (its easy handle already reset) or new. NULL when out of memory.
static s_req_t *s_req_get(lull_http_t *self)
{
    s_req_t *r = self->idle;
    if (r) {
        self->idle = r->next;
        self->nidle--;
        r->next = NULL;
    } else {
        r = calloc(1, sizeof *r);
        if (!r) return NULL;
        lull_buf_init(&r->resp, self->max_body, false);
        r->easy = curl_easy_init();
        if (!r->easy) {
            free(r);
            return NULL;
        }
    }
    r->owner = self;
    return r;
}

// Empties the response buffer, keeping a small allocation for the next answer.
static void s_resp_clear(s_req_t *r)
{
    if (r->resp.cap > POOL_KEEP_BODY) lull_buf_reset(&r->resp);
    r->resp.len = 0;
    if (r->resp.data) r->resp.data[0] = '\0';
    r->resp.failed = r->resp.truncated = false;
    r->hdrs_len = 0;
    r->hdrs[0] = '\0';
    r->refused = false;
}

// Returns a finished request to the pool: its easy handle is reset at once (URL, headers, credentials and
// body pointer are gone), its copies freed. Beyond POOL_MAX (or while destroying) it is freed.
static void s_req_put(lull_http_t *self, s_req_t *r)
{
    curl_slist_free_all(r->headers);
    r->headers = NULL;
    free(r->body);
    r->body = NULL;
    r->keep = r->kept = false;
    r->done = NULL;
    r->arg = NULL;
    memset(&r->allow, 0, sizeof r->allow);
    if (r->easy && !self->destroying && self->nidle < POOL_MAX) {
        curl_easy_reset(r->easy);
        s_resp_clear(r);
        r->prev = NULL;
        r->next = self->idle;
        self->idle = r;
        self->nidle++;
        return;
    }
    if (r->easy) curl_easy_cleanup(r->easy);
    lull_buf_reset(&r->resp);
    free(r);
}

// CURLOPT_OPENSOCKETFUNCTION of a public_only request: every address curl is about to connect to (each one
// DNS gave, also on reconnects) is checked here, so a name that resolves to a public address when checked and
// to a private one when connected cannot slip through.
static curl_socket_t s_open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    s_req_t *r = clientp;
    if (purpose != CURLSOCKTYPE_IPCXN || !lull_netaddr_allowed(&r->allow, (const struct sockaddr *)&a->addr)) {
        r->refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

static void s_finish(lull_http_t *self, s_req_t *r, CURLcode code)
{
    long status = 0;
    long req_size = 0;
    if (!r->kept) {  // a kept request never resent: its handle still holds the previous answer's figures
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(r->easy, CURLINFO_REQUEST_SIZE, &req_size);
    }
    // A refused address says only that: connect errors of the other addresses would make a port scanner.
    bool refused = r->refused && code != CURLE_OK && status == 0;
    lull_http_resp_t resp = {
        .status = status,
        .curl_code = (int)code,
        .error = code == CURLE_OK ? ""
                 : refused        ? "address not allowed"
                                  : (r->resp.failed ? "response body too large" : curl_easy_strerror(code)),
        .address_refused = refused,
        .body = r->resp.data ? r->resp.data : "",
        .body_len = r->resp.len,
        .request_sent = req_size > 0,
        .timed_out = code == CURLE_OPERATION_TIMEDOUT,
        .elapsed_ms = lull_clock_mono_ms() - r->started_ms,
        .headers_ = r->hdrs,
        .req_ = r,
    };
    if (r->kept) {
        s_list_del(&self->kept, r);
        r->kept = false;
    } else {
        s_list_del(&self->head, r);
        self->in_flight--;
        curl_multi_remove_handle(self->multi, r->easy);
    }
    r->keep = false;
    r->done(&resp, r->arg);
    if (r->keep && !self->destroying) {
        s_resp_clear(r);
        r->kept = true;
        s_list_add(&self->kept, r);
    } else {
        s_req_put(self, r);
    }
}

static void s_check_done(lull_http_t *self)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(self->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        s_req_t *r = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        if (r) s_finish(self, r, msg->data.result);
    }
}

static void s_on_socket_ready(lull_loop_t *loop, int fd, int events, void *arg)
{
    (void)loop;
    lull_http_t *self = arg;
    int flags = (events & LULL_LOOP_IN ? CURL_CSELECT_IN : 0) | (events & LULL_LOOP_OUT ? CURL_CSELECT_OUT : 0) |
                (events & LULL_LOOP_ERR ? CURL_CSELECT_ERR : 0);
    int running = 0;
    curl_multi_socket_action(self->multi, fd, flags, &running);
    s_check_done(self);
}

void lull_http_destroy(lull_http_t **self_p)
{
    if (!self_p || !*self_p) return;
    lull_http_t *self = *self_p;
    self->destroying = true;
    while (self->head) s_finish(self, self->head, CURLE_ABORTED_BY_CALLBACK);
    while (self->kept) s_finish(self, self->kept, CURLE_ABORTED_BY_CALLBACK);  // never resent: not sent
    while (self->idle) {
        s_req_t *r = self->idle;
        self->idle = r->next;
        curl_easy_cleanup(r->easy);
        lull_buf_reset(&r->resp);
        free(r);
    }
    if (self->timer_id) lull_loop_cancel_timer(self->loop, self->timer_id);
    curl_multi_cleanup(self->multi);
    free(self);
    *self_p = NULL;
}

int lull_http_start(lull_http_t *self, const lull_http_req_t *req, lull_http_done_fn *done, void *arg)
{
    if (self->destroying) {
        free(req->body_take);
        return -1;
    }
    s_req_t *r = s_req_get(self);
    if (!r) {
        free(req->body_take);
        return -1;
    }
    r->body = req->body_take;  // taken at once: freed with the request on any failure below
    const char *body = req->body_take ? req->body_take : req->body;
    r->done = done;
    r->arg = arg;
    for (int i = 0; i < LULL_HTTP_MAX_HEADERS && req->headers[i]; i++) {
        struct curl_slist *h = curl_slist_append(r->headers, req->headers[i]);
        if (!h) goto fail;
        r->headers = h;
    }
    // libcurl adds "Expect: 100-continue" to large POSTs; that costs a round trip, so drop it. Not on a SigV4
    // request: libcurl (7.88) would sign the removed header, and the server could never match the signature.
    if (!req->aws_sigv4) {
        struct curl_slist *h = curl_slist_append(r->headers, "Expect:");
        if (!h) goto fail;
        r->headers = h;
    }
    CURL *e = r->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, s_header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(req->timeout_ms > 0 ? req->timeout_ms : self->default_timeout_ms));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    // Not on plain HTTP: libcurl (7.88) would hold every request to the host until the first one's answer shows
    // that the server speaks HTTP/1.1 (a whole LLM call at a cold start); over TLS, ALPN tells at the handshake.
    if (req->pipewait && strncasecmp(req->url, "https://", 8) == 0) curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    if (req->userpwd) curl_easy_setopt(e, CURLOPT_USERPWD, req->userpwd);
    if (req->aws_sigv4) curl_easy_setopt(e, CURLOPT_AWS_SIGV4, req->aws_sigv4);
    if (req->public_only) {
        if (req->allow) r->allow = *req->allow;
        curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, s_open_socket);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, r);
    }
    if (body) {
        if (!r->body) {  // a copy: the caller's body is borrowed only during this call
            r->body = malloc(req->body_len + 1);
            if (!r->body) goto fail;
            memcpy(r->body, req->body, req->body_len);
            r->body[req->body_len] = '\0';
        }
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
    }
    const char *method = req->method ? req->method : (body ? "POST" : "GET");
    if (strcmp(method, "GET") == 0 && !body) curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    else if (strcmp(method, "POST") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    r->started_ms = lull_clock_mono_ms();
    if (curl_multi_add_handle(self->multi, e) != CURLM_OK) goto fail;
    s_list_add(&self->head, r);
    self->in_flight++;
    return 0;
fail:
    s_req_put(self, r);
    return -1;
}

size_t lull_http_in_flight(const lull_http_t *self) { return self->in_flight; }

size_t lull_http_pooled(const lull_http_t *self) { return self->nidle; }

lull_http_kept_t *lull_http_keep(const lull_http_resp_t *resp)
{
    s_req_t *r = resp ? (s_req_t *)resp->req_ : NULL;
    if (!r || r->owner->destroying) return NULL;
    r->keep = true;
    return (lull_http_kept_t *)r;
}

int lull_http_resend(lull_http_t *self, lull_http_kept_t *k, lull_http_done_fn *done, void *arg)
{
    s_req_t *r = (s_req_t *)k;
    if (!r || !r->kept || r->owner != self) return -1;
    s_list_del(&self->kept, r);
    r->kept = false;
    r->done = done;
    r->arg = arg;
    r->started_ms = lull_clock_mono_ms();
    if (self->destroying || curl_multi_add_handle(self->multi, r->easy) != CURLM_OK) {
        s_req_put(self, r);
        return -1;
    }
    s_list_add(&self->head, r);
    self->in_flight++;
    return 0;
}

void lull_http_drop(lull_http_t *self, lull_http_kept_t *k)
{
    s_req_t *r = (s_req_t *)k;
    if (!r || !r->kept || r->owner != self) return;
    s_list_del(&self->kept, r);
    s_req_put(self, r);
}

const char *lull_http_header(const lull_http_resp_t *resp, const char *name)
{
    // Returns a pointer into a static per-thread copy so the value is NUL-terminated.
    static _Thread_local char value[1024];
    const char *h = resp->headers_;
    size_t nlen = strlen(name);
    while (h && *h) {
        const char *eol = strchr(h, '\n');
        size_t len = eol ? (size_t)(eol - h) : strlen(h);
        if (len > nlen && h[nlen] == ':' && strncasecmp(h, name, nlen) == 0) {
            const char *v = h + nlen + 1;
            const char *end = h + len;
            while (v < end && (*v == ' ' || *v == '\t')) v++;
            while (end > v && (end[-1] == '\r' || end[-1] == ' ')) end--;
            size_t vl = (size_t)(end - v) < sizeof value - 1 ? (size_t)(end - v) : sizeof value - 1;
            memcpy(value, v, vl);
            value[vl] = '\0';
            return value;
        }
        h = eol ? eol + 1 : NULL;
    }
    return NULL;
}

int64_t lull_http_parse_retry_after(const char *value, int64_t now_wall_ms)
{
    if (!value || !*value) return -1;
    char *end = NULL;
    double secs = strtod(value, &end);
    if (end != value && *end == '\0') return secs >= 0 ? (int64_t)(secs * 1000.0) : -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!rest || *rest) return -1;
    int64_t at_ms = (int64_t)timegm(&tm) * 1000;
    return at_ms > now_wall_ms ? at_ms - now_wall_ms : 0;
}

int64_t lull_http_retry_after_ms(const lull_http_resp_t *resp, int64_t cap_ms)
{
    int64_t ms = -1;
    const char *v = lull_http_header(resp, "retry-after-ms");
    if (v) {
        char *end = NULL;
        double x = strtod(v, &end);
        if (end != v && *end == '\0' && x >= 0) ms = (int64_t)x;
    }
    if (ms < 0) ms = lull_http_parse_retry_after(lull_http_header(resp, "retry-after"), lull_clock_wall_ms());
    if (ms > cap_ms) ms = cap_ms;
    return ms;
}
