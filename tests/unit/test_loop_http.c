// Unit tests of lull_loop, lull_http and lull_ops against an in-process libmicrohttpd server.
#include "lull_test.h"
#include "lull_clock.h"
#include "lull_http.h"
#include "lull_loop.h"
#include "lull_ops.h"

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

static atomic_int s_active, s_max_active;
static atomic_int s_ended, s_early;  // /slow requests answered; /slow requests that arrived before any was

static enum MHD_Result s_serve(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *data, size_t *size, void **req_cls)
{
    (void)cls;
    (void)method;
    (void)version;
    (void)data;
    static _Thread_local size_t s_uploaded;  // bytes of the request body (/echo-len)
    if (!*req_cls) {
        *req_cls = c;
        s_uploaded = 0;
        return MHD_YES;
    }
    if (*size) {
        s_uploaded += *size;
        *size = 0;
        return MHD_YES;
    }
    unsigned status = 200;
    const char *body = "hello";
    static char big[10000];
    if (strcmp(url, "/slow") == 0) {
        if (atomic_load(&s_ended) == 0) atomic_fetch_add(&s_early, 1);
        int now = atomic_fetch_add(&s_active, 1) + 1;
        int max = atomic_load(&s_max_active);
        while (now > max && !atomic_compare_exchange_weak(&s_max_active, &max, now)) {
        }
        usleep(300000);
        atomic_fetch_sub(&s_active, 1);
        atomic_fetch_add(&s_ended, 1);
    }
    if (strcmp(url, "/busy") == 0) status = 429;
    bool close_conn = strcmp(url, "/close") == 0;
    if (strcmp(url, "/big") == 0) {
        memset(big, 'b', sizeof big - 1);
        body = big;
    }
    static _Thread_local char creds[512];
    if (strcmp(url, "/echo-creds") == 0) {
        const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        const char *k = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Api-Key");
        snprintf(creds, sizeof creds, "auth=%s key=%s", a ? a : "none", k ? k : "none");
        body = creds;
    }
    static _Thread_local char len_text[64];
    if (strcmp(url, "/echo-len") == 0) {
        snprintf(len_text, sizeof len_text, "%s len=%zu", method, s_uploaded);
        body = len_text;
    }
    if (strcmp(url, "/echo-auth") == 0) {
        body = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        if (!body) body = "none";
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (status == 429) MHD_add_response_header(r, "Retry-After", "7");
    MHD_add_response_header(r, "X-Test", "yes");
    if (close_conn) MHD_add_response_header(r, "Connection", "close");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

typedef struct {
    int done;
    long status;
    int curl_code;
    char body[256];
    int64_t retry_ms;
    char xtest[16];
    bool sent;
} s_result_t;

static void s_done(const lull_http_resp_t *resp, void *arg)
{
    s_result_t *r = arg;
    r->done++;
    r->status = resp->status;
    r->curl_code = resp->curl_code;
    r->sent = resp->request_sent;
    snprintf(r->body, sizeof r->body, "%s", resp->body);
    r->retry_ms = lull_http_retry_after_ms(resp, 60000);
    const char *x = lull_http_header(resp, "x-test");
    snprintf(r->xtest, sizeof r->xtest, "%s", x ? x : "");
}

static int s_port;

static bool s_pipewait;  // the requests s_start makes ask to wait for a multiplexing connection

static int s_start(lull_http_t *http, const char *path, int64_t timeout_ms, const char *userpwd, s_result_t *r)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s_port, path);
    lull_http_req_t req = {.url = url, .timeout_ms = timeout_ms, .userpwd = userpwd, .pipewait = s_pipewait};
    return lull_http_start(http, &req, s_done, r);
}

static void s_run_until(lull_loop_t *loop, int *counter, int want)
{
    int64_t deadline = lull_clock_mono_ms() + 5000;
    while (*counter < want && lull_clock_mono_ms() < deadline) lull_loop_run_once(loop, 100);
}

static struct MHD_Daemon *s_daemon;

// Keeps the request it completes (for lull_http_resend) in *s_kept.
static lull_http_kept_t *s_kept;
static void s_done_keep(const lull_http_resp_t *resp, void *arg)
{
    s_done(resp, arg);
    s_kept = lull_http_keep(resp);
}

LULL_TEST(pooled_handle_never_carries_credentials_to_the_next_request)
{
    lull_loop_t *loop = lull_loop_new();
    lull_http_t *http = lull_http_new(loop, 1000, 5000, 0);
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/echo-creds", s_port);
    s_result_t first = {0}, second = {0};
    lull_http_req_t req = {.url = url, .userpwd = "user:pw", .headers = {"X-Api-Key: secret-one"}};
    LULL_CHECK_EQ_INT(lull_http_start(http, &req, s_done, &first), 0);
    s_run_until(loop, &first.done, 1);
    LULL_CHECK_EQ_STR(first.body, "auth=Basic dXNlcjpwdw== key=secret-one");
    LULL_CHECK_EQ_INT(lull_http_pooled(http), 1);  // its easy handle went back to the pool
    lull_http_req_t bare = {.url = url};
    LULL_CHECK_EQ_INT(lull_http_start(http, &bare, s_done, &second), 0);
    LULL_CHECK_EQ_INT(lull_http_pooled(http), 0);  // … and serves this request
    s_run_until(loop, &second.done, 1);
    LULL_CHECK_EQ_INT(second.status, 200);
    LULL_CHECK_EQ_STR(second.body, "auth=none key=none");  // curl_easy_reset cleared both
    lull_http_destroy(&http);
    lull_loop_destroy(&loop);
}

LULL_TEST(kept_request_is_resent_as_it_was)
{
    lull_loop_t *loop = lull_loop_new();
    lull_http_t *http = lull_http_new(loop, 1000, 5000, 0);
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/echo-creds", s_port);
    s_result_t r = {0};
    lull_http_req_t req = {.url = url, .userpwd = "user:pw", .headers = {"X-Api-Key: secret-two"}};
    s_kept = NULL;
    LULL_CHECK_EQ_INT(lull_http_start(http, &req, s_done_keep, &r), 0);
    s_run_until(loop, &r.done, 1);
    LULL_CHECK(s_kept != NULL);
    LULL_CHECK_EQ_INT(lull_http_in_flight(http), 0);
    LULL_CHECK_EQ_INT(lull_http_pooled(http), 0);  // kept, not pooled
    memset(r.body, 0, sizeof r.body);
    LULL_CHECK_EQ_INT(lull_http_resend(http, s_kept, s_done, &r), 0);
    LULL_CHECK_EQ_INT(lull_http_in_flight(http), 1);
    s_run_until(loop, &r.done, 2);
    LULL_CHECK_EQ_INT(r.done, 2);
    LULL_CHECK_EQ_INT(r.status, 200);
    LULL_CHECK_EQ_STR(r.body, "auth=Basic dXNlcjpwdw== key=secret-two");  // same credentials, same headers
    LULL_CHECK_EQ_INT(lull_http_pooled(http), 1);
    // A kept request dropped goes to the pool; one left kept is completed by destroy as never sent.
    s_result_t busy = {0};
    s_kept = NULL;
    LULL_CHECK_EQ_INT(s_start(http, "/busy", 0, NULL, &busy), 0);
    lull_http_destroy(&http);  // in flight: aborted (no keep while destroying)
    LULL_CHECK_EQ_INT(busy.done, 1);
    LULL_CHECK(busy.curl_code != 0);
    http = lull_http_new(loop, 1000, 5000, 0);
    s_result_t k = {0};
    char busy_url[96];
    snprintf(busy_url, sizeof busy_url, "http://127.0.0.1:%d/busy", s_port);
    lull_http_req_t breq = {.url = busy_url};
    s_kept = NULL;
    LULL_CHECK_EQ_INT(lull_http_start(http, &breq, s_done_keep, &k), 0);
    s_run_until(loop, &k.done, 1);
    LULL_CHECK_EQ_INT(k.status, 429);
    LULL_CHECK(s_kept != NULL);
    lull_http_drop(http, s_kept);
    LULL_CHECK_EQ_INT(lull_http_pooled(http), 1);
    s_kept = NULL;
    LULL_CHECK_EQ_INT(lull_http_start(http, &breq, s_done_keep, &k), 0);
    s_run_until(loop, &k.done, 2);
    LULL_CHECK(s_kept != NULL);
    k.status = -1;
    lull_http_destroy(&http);  // the kept one completes: never resent, so not sent and no status
    LULL_CHECK_EQ_INT(k.done, 3);
    LULL_CHECK_EQ_INT(k.status, 0);
    LULL_CHECK(!k.sent);
    LULL_CHECK(k.curl_code != 0);
    lull_loop_destroy(&loop);
}

// 20 /slow requests on one loop (pipewait: asking to wait for a multiplexing connection), all answered 200.
static void s_burst(bool pipewait)
{
    lull_loop_t *loop = lull_loop_new();
    lull_http_t *http = lull_http_new(loop, 1 << 20, 5000, 0);
    s_result_t r[20];
    memset(r, 0, sizeof r);
    atomic_store(&s_max_active, 0);
    atomic_store(&s_ended, 0);
    atomic_store(&s_early, 0);
    s_pipewait = pipewait;
    for (int i = 0; i < 20; i++) LULL_CHECK_EQ_INT(s_start(http, "/slow", 0, NULL, &r[i]), 0);
    s_pipewait = false;
    LULL_CHECK_EQ_INT(lull_http_in_flight(http), 20);
    int done = 0;
    int64_t deadline = lull_clock_mono_ms() + 5000;
    while (done < 20 && lull_clock_mono_ms() < deadline) {
        lull_loop_run_once(loop, 100);
        done = 0;
        for (int i = 0; i < 20; i++) done += r[i].done;
    }
    LULL_CHECK_EQ_INT(done, 20);
    for (int i = 0; i < 20; i++) {
        LULL_CHECK_EQ_INT(r[i].status, 200);
        LULL_CHECK_EQ_STR(r[i].body, "hello");
        LULL_CHECK_EQ_STR(r[i].xtest, "yes");
    }
    LULL_CHECK_EQ_INT(lull_http_in_flight(http), 0);
    lull_http_destroy(&http);
    lull_loop_destroy(&loop);
}

LULL_TEST(many_requests_in_flight_on_one_loop)
{
    s_burst(false);
    LULL_CHECK(atomic_load(&s_max_active) >= 10);  // the server saw them concurrently, not one by one
}

// Waiting for a multiplexing connection (the worker's LLM requests) is for HTTPS only: on a plain HTTP host libcurl
// would hold every request until the first one is answered. Here they all reach the server before any is answered.
LULL_TEST(pipewait_requests_to_an_http1_host_still_run_concurrently)
{
    s_burst(true);
    LULL_CHECK(atomic_load(&s_early) >= 10);  // they reached the server before the first was answered, not after it
}

LULL_TEST(status_headers_timeout_limits_auth)
{
    lull_loop_t *loop = lull_loop_new();
    lull_http_t *http = lull_http_new(loop, 1000, 5000, 0);
    s_result_t busy = {0}, slow = {0}, big = {0}, auth = {0};
    LULL_CHECK_EQ_INT(s_start(http, "/busy", 0, NULL, &busy), 0);
    LULL_CHECK_EQ_INT(s_start(http, "/slow", 50, NULL, &slow), 0);
    LULL_CHECK_EQ_INT(s_start(http, "/big", 0, NULL, &big), 0);
    LULL_CHECK_EQ_INT(s_start(http, "/echo-auth", 0, "user:pw", &auth), 0);
    int total = 0;
    int64_t deadline = lull_clock_mono_ms() + 5000;
    while (total < 4 && lull_clock_mono_ms() < deadline) {
        lull_loop_run_once(loop, 100);
        total = busy.done + slow.done + big.done + auth.done;
    }
    LULL_CHECK_EQ_INT(busy.status, 429);
    LULL_CHECK_EQ_INT(busy.retry_ms, 7000);
    LULL_CHECK(slow.curl_code != 0);
    LULL_CHECK_EQ_INT(slow.status, 0);
    LULL_CHECK(slow.sent);  // the request went out before the timeout: outcome unknown
    LULL_CHECK(big.curl_code != 0);  // over max_body
    LULL_CHECK_EQ_STR(auth.body, "Basic dXNlcjpwdw==");
    lull_http_destroy(&http);
    lull_loop_destroy(&loop);
}

LULL_TEST(taken_body_is_sent_without_a_copy)
{
    lull_loop_t *loop = lull_loop_new();
    lull_http_t *http = lull_http_new(loop, 1000, 5000, 0);
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/echo-len", s_port);
    s_result_t r = {0}, copied = {0};
    char *body = strdup("{\"model\":\"m\",\"messages\":[]}");
    lull_http_req_t req = {.url = url, .body_take = body, .body_len = strlen(body)};  // freed by the client
    LULL_CHECK_EQ_INT(lull_http_start(http, &req, s_done, &r), 0);
    s_run_until(loop, &r.done, 1);
    LULL_CHECK_EQ_STR(r.body, "POST len=27");
    lull_http_req_t copy = {.url = url, .body = "abc", .body_len = 3};
    LULL_CHECK_EQ_INT(lull_http_start(http, &copy, s_done, &copied), 0);
    s_run_until(loop, &copied.done, 1);
    LULL_CHECK_EQ_STR(copied.body, "POST len=3");
    lull_http_destroy(&http);
    lull_loop_destroy(&loop);
}

LULL_TEST(destroy_aborts_in_flight)
{
    lull_loop_t *loop = lull_loop_new();
    lull_http_t *http = lull_http_new(loop, 1000, 5000, 0);
    s_result_t r = {0};
    LULL_CHECK_EQ_INT(s_start(http, "/slow", 0, NULL, &r), 0);
    lull_loop_run_once(loop, 10);
    lull_http_destroy(&http);
    LULL_CHECK_EQ_INT(r.done, 1);
    LULL_CHECK(r.curl_code != 0);
    LULL_CHECK(http == NULL);
    lull_loop_destroy(&loop);
}

LULL_TEST(connection_refused)
{
    lull_loop_t *loop = lull_loop_new();
    lull_http_t *http = lull_http_new(loop, 1000, 5000, 0);
    s_result_t r = {0};
    lull_http_req_t req = {.url = "http://127.0.0.1:1/x"};
    LULL_CHECK_EQ_INT(lull_http_start(http, &req, s_done, &r), 0);
    s_run_until(loop, &r.done, 1);
    LULL_CHECK_EQ_INT(r.done, 1);
    LULL_CHECK_EQ_INT(r.status, 0);
    LULL_CHECK(!r.sent);  // never reached a server: safe to retry
    lull_http_destroy(&http);
    lull_loop_destroy(&loop);
}

LULL_TEST(retry_after_parsing)
{
    LULL_CHECK_EQ_INT(lull_http_parse_retry_after("120", 0), 120000);
    LULL_CHECK_EQ_INT(lull_http_parse_retry_after("1.5", 0), 1500);
    LULL_CHECK_EQ_INT(lull_http_parse_retry_after("-1", 0), -1);
    LULL_CHECK_EQ_INT(lull_http_parse_retry_after("soon", 0), -1);
    LULL_CHECK_EQ_INT(lull_http_parse_retry_after(NULL, 0), -1);
    // Wed, 21 Oct 2015 07:28:00 GMT = 1445412480 s
    LULL_CHECK_EQ_INT(lull_http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470000LL), 10000);
    LULL_CHECK_EQ_INT(lull_http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490000LL), 0);
}

static void s_tick(lull_loop_t *loop, int id, void *arg)
{
    (void)loop;
    (void)id;
    (*(int *)arg)++;
}

LULL_TEST(timers_and_fds)
{
    lull_loop_t *loop = lull_loop_new();
    int n_once = 0, n_rep = 0, n_gone = 0;
    int once = lull_loop_add_timer(loop, 10, 0, s_tick, &n_once);
    int rep = lull_loop_add_timer(loop, 5, 5, s_tick, &n_rep);
    int gone = lull_loop_add_timer(loop, 1, 0, s_tick, &n_gone);
    LULL_CHECK(once > 0 && rep > 0 && gone > 0);
    lull_loop_cancel_timer(loop, gone);
    int64_t end = lull_clock_mono_ms() + 60;
    while (lull_clock_mono_ms() < end) lull_loop_run_once(loop, 100);
    LULL_CHECK_EQ_INT(n_once, 1);
    LULL_CHECK(n_rep >= 2);
    LULL_CHECK_EQ_INT(n_gone, 0);
    lull_loop_cancel_timer(loop, rep);
    int fds[2];
    LULL_CHECK_EQ_INT(pipe(fds), 0);
    LULL_CHECK_EQ_INT(lull_loop_add_fd(loop, fds[0], LULL_LOOP_IN, (lull_loop_io_fn *)NULL, NULL), 0);
    LULL_CHECK_EQ_INT(lull_loop_add_fd(loop, fds[0], LULL_LOOP_IN, NULL, NULL), -1);  // twice
    LULL_CHECK_EQ_INT(lull_loop_remove_fd(loop, fds[0]), 0);
    LULL_CHECK_EQ_INT(lull_loop_remove_fd(loop, fds[0]), -1);
    close(fds[0]);
    close(fds[1]);
    lull_loop_destroy(&loop);
}

typedef struct {
    int n;
} s_counter_t;

LULL_TEST(ops_server_health_and_metrics)
{
    lull_metrics_t *m = lull_metrics_new();
    lull_counter_add(lull_metrics_counter(m, "lull_test_total", NULL, "Test"), 5);
    int port = 0;
    lull_ops_t *ops = NULL;
    for (int i = 0; i < 20 && !ops; i++) {
        port = 30000 + (getpid() * 7 + i * 131) % 20000;
        ops = lull_ops_new("unit", "127.0.0.1", port, m);
    }
    LULL_CHECK(ops != NULL);
    LULL_CHECK_EQ_INT(lull_ops_port(ops), port);
    lull_ops_set_check(ops, "db", false, "down");
    lull_loop_t *loop = lull_loop_new();
    lull_http_t *http = lull_http_new(loop, 1 << 20, 5000, 0);
    char url[3][96];
    s_result_t r[3];
    memset(r, 0, sizeof r);
    snprintf(url[0], sizeof url[0], "http://127.0.0.1:%d/health", port);
    snprintf(url[1], sizeof url[1], "http://127.0.0.1:%d/metrics", port);
    snprintf(url[2], sizeof url[2], "http://127.0.0.1:%d/nope", port);
    for (int i = 0; i < 3; i++) {
        lull_http_req_t req = {.url = url[i]};
        LULL_CHECK_EQ_INT(lull_http_start(http, &req, s_done, &r[i]), 0);
    }
    int64_t deadline = lull_clock_mono_ms() + 3000;
    while (r[0].done + r[1].done + r[2].done < 3 && lull_clock_mono_ms() < deadline) lull_loop_run_once(loop, 50);
    LULL_CHECK_EQ_INT(r[0].status, 503);
    LULL_CHECK(strstr(r[0].body, "\"status\":\"degraded\"") != NULL);
    LULL_CHECK(strstr(r[0].body, "\"db\":{\"ok\":false,\"detail\":\"down\"}") != NULL);
    LULL_CHECK_EQ_INT(r[1].status, 200);
    LULL_CHECK(strstr(r[1].body, "lull_test_total 5") != NULL);
    LULL_CHECK_EQ_INT(r[2].status, 404);
    lull_ops_set_check(ops, "db", true, NULL);
    s_result_t again = {0};
    lull_http_req_t req = {.url = url[0]};
    LULL_CHECK_EQ_INT(lull_http_start(http, &req, s_done, &again), 0);
    s_run_until(loop, &again.done, 1);
    LULL_CHECK_EQ_INT(again.status, 200);
    LULL_CHECK(strstr(again.body, "\"status\":\"ok\"") != NULL);
    lull_http_destroy(&http);
    lull_loop_destroy(&loop);
    lull_ops_destroy(&ops);
    lull_metrics_destroy(&m);
}

// Churn as in the worker: 200 requests kept in flight, each finished one replaced by a new one from its
// completion callback, half of them on connections the server closes (libcurl removes and closes the socket
// and the next connection often gets the same number within one socket action), 1,000 in all. Every
// request must complete with 200: a socket event lost by the loop would leave a request waiting for its
// 30 s timeout, past the 20 s this test waits.
typedef struct {
    lull_http_t *http;
    int started, done, ok, timed_out;
} s_churn_t;

static void s_churn_next(s_churn_t *c);

static void s_churn_done(const lull_http_resp_t *resp, void *arg)
{
    s_churn_t *c = arg;
    c->done++;
    c->ok += resp->status == 200 && strcmp(resp->body, "hello") == 0;
    c->timed_out += resp->timed_out;
    s_churn_next(c);
}

static void s_churn_next(s_churn_t *c)
{
    if (c->started == 1000) return;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s_port, c->started % 2 ? "/close" : "/");
    lull_http_req_t req = {.url = url, .timeout_ms = 30000};
    if (lull_http_start(c->http, &req, s_churn_done, c) == 0) c->started++;
}

LULL_TEST(churn_with_closed_connections)
{
    lull_loop_t *loop = lull_loop_new();
    s_churn_t c = {lull_http_new(loop, 1 << 20, 30000, 0), 0, 0, 0, 0};
    for (int i = 0; i < 200; i++) s_churn_next(&c);
    LULL_CHECK_EQ_INT(c.started, 200);
    for (int64_t end = lull_clock_mono_ms() + 20000; c.done < 1000 && lull_clock_mono_ms() < end;)
        lull_loop_run_once(loop, 100);
    LULL_CHECK_EQ_INT(c.done, 1000);
    LULL_CHECK_EQ_INT(c.ok, 1000);
    LULL_CHECK_EQ_INT(c.timed_out, 0);
    LULL_CHECK_EQ_INT(lull_http_in_flight(c.http), 0);
    lull_http_destroy(&c.http);
    lull_loop_destroy(&loop);
}

int main(void)
{
    for (int i = 0; i < 50 && !s_daemon; i++) {
        s_port = 20000 + (getpid() * 13 + i * 977) % 30000;
        s_daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
                                    (uint16_t)s_port, NULL, NULL, s_serve, NULL, MHD_OPTION_END);
    }
    if (!s_daemon) {
        printf("FAIL setup: cannot start the test server\n");
        return 1;
    }
    LULL_RUN(many_requests_in_flight_on_one_loop);
    LULL_RUN(pipewait_requests_to_an_http1_host_still_run_concurrently);
    LULL_RUN(churn_with_closed_connections);
    LULL_RUN(status_headers_timeout_limits_auth);
    LULL_RUN(taken_body_is_sent_without_a_copy);
    LULL_RUN(destroy_aborts_in_flight);
    LULL_RUN(connection_refused);
    LULL_RUN(pooled_handle_never_carries_credentials_to_the_next_request);
    LULL_RUN(kept_request_is_resent_as_it_was);
    LULL_RUN(retry_after_parsing);
    LULL_RUN(timers_and_fds);
    LULL_RUN(ops_server_health_and_metrics);
    MHD_stop_daemon(s_daemon);
    return lull_test_summary();
}
