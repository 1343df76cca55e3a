// libcurl multi on a lull_loop: socket callbacks add/modify/remove fds on the loop, the timer callback
// arms one loop timer, completions are collected after each socket action.
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
#define MAX_IDLE_EASY 512  // finished easy handles kept (reset) for the next requests of one client

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
    lull_http_done_fn *done;
    void *arg;
    lull_http_t *owner;
    struct s_req *prev, *next;  // in-flight list
} s_req_t;

struct lull_http {
    CURLM *multi;
    lull_loop_t *loop;
    size_t max_body;
    int64_t default_timeout_ms;
    int timer_id;
    size_t in_flight;
    s_req_t *head;
    CURL *idle[MAX_IDLE_EASY];  // easy handles reset after use: a request reuses one instead of a new one
    size_t nidle;
};

static void s_check_done(lull_http_t *self);

static void s_on_socket_ready(lull_loop_t *loop, int fd, int events, void *arg);

static int s_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    (void)socketp;
    lull_http_t *self = userp;
    if (what == CURL_POLL_REMOVE) {
        lull_loop_remove_fd(self->loop, fd);
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

static void s_free_req(s_req_t *r)
{
    curl_slist_free_all(r->headers);
    free(r->body);
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
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    long req_size = 0;
    curl_easy_getinfo(r->easy, CURLINFO_REQUEST_SIZE, &req_size);
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
    };
    if (r->prev) r->prev->next = r->next;
    else self->head = r->next;
    if (r->next) r->next->prev = r->prev;
    self->in_flight--;
    curl_multi_remove_handle(self->multi, r->easy);
    // curl_easy_reset drops every option (credentials, callbacks, the allowlist hook) but keeps the
    // handle's buffers, so the next request does not allocate them again.
    if (self->nidle < MAX_IDLE_EASY) {
        curl_easy_reset(r->easy);
        self->idle[self->nidle++] = r->easy;
    } else {
        curl_easy_cleanup(r->easy);
    }
    r->easy = NULL;
    r->done(&resp, r->arg);
    s_free_req(r);
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
    while (self->head) s_finish(self, self->head, CURLE_ABORTED_BY_CALLBACK);
    if (self->timer_id) lull_loop_cancel_timer(self->loop, self->timer_id);
    while (self->nidle > 0) curl_easy_cleanup(self->idle[--self->nidle]);
    curl_multi_cleanup(self->multi);
    free(self);
    *self_p = NULL;
}

int lull_http_start(lull_http_t *self, const lull_http_req_t *req, lull_http_done_fn *done, void *arg)
{
    s_req_t *r = calloc(1, sizeof *r);
    if (!r) return -1;
    r->owner = self;
    lull_buf_init(&r->resp, self->max_body, false);
    r->done = done;
    r->arg = arg;
    r->easy = self->nidle > 0 ? self->idle[--self->nidle] : curl_easy_init();
    if (!r->easy) goto fail;
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
    if (req->userpwd) curl_easy_setopt(e, CURLOPT_USERPWD, req->userpwd);
    if (req->aws_sigv4) curl_easy_setopt(e, CURLOPT_AWS_SIGV4, req->aws_sigv4);
    if (req->public_only) {
        if (req->allow) r->allow = *req->allow;
        curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, s_open_socket);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, r);
    }
    if (req->body) {
        r->body = malloc(req->body_len + 1);
        if (!r->body) goto fail;
        memcpy(r->body, req->body, req->body_len);
        r->body[req->body_len] = '\0';
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
    }
    const char *method = req->method ? req->method : (req->body ? "POST" : "GET");
    if (strcmp(method, "GET") == 0 && !req->body) curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    else if (strcmp(method, "POST") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    r->started_ms = lull_clock_mono_ms();
    if (curl_multi_add_handle(self->multi, e) != CURLM_OK) goto fail;
    r->next = self->head;
    if (self->head) self->head->prev = r;
    self->head = r;
    self->in_flight++;
    return 0;
fail:
    if (r->easy) curl_easy_cleanup(r->easy);
    s_free_req(r);
    return -1;
}

size_t lull_http_in_flight(const lull_http_t *self) { return self->in_flight; }

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
