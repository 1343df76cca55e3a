// Unit tests of ingress_http's error paths against an in-process server: a web chat session asked for while the
// random source fails is answered 503 with the JSON error body (never a session id made of zero bytes).
#include "../../ingress/ingress_config.h"
#include "../../ingress/ingress_http.h"
#include "../../ingress/ingress_writer.h"
#include "lull_crypto.h"
#include "lull_test.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static int s_failing_source(void *buf, size_t len)
{
    (void)buf;
    (void)len;
    return -1;
}

// A TCP port on 127.0.0.1 that was free a moment ago.
static int s_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

typedef struct {
    char body[1024];
    size_t len;
} s_answer_t;

static size_t s_collect(char *p, size_t sz, size_t n, void *arg)
{
    s_answer_t *a = arg;
    size_t take = sz * n < sizeof a->body - 1 - a->len ? sz * n : sizeof a->body - 1 - a->len;
    memcpy(a->body + a->len, p, take);
    a->len += take;
    a->body[a->len] = '\0';
    return sz * n;
}

// POSTs body to url; the HTTP status (0 when the request failed) and the answer into *a.
static long s_post(const char *url, const char *body, s_answer_t *a)
{
    long status = 0;
    memset(a, 0, sizeof *a);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (!c || !h) goto cleanup;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
cleanup:
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

LULL_TEST(chat_session_without_random_bytes_is_503)
{
    int port = s_free_port();
    LULL_CHECK(port > 0);
    char port_s[16], url[128];
    snprintf(port_s, sizeof port_s, "%d", port);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/chat/session", port);
    const char *db = getenv("LULL_TEST_DATABASE_URL");
    setenv("LULL_DATABASE_URL", db && *db ? db : "postgresql://127.0.0.1:1/none", 1);
    setenv("LULL_HTTP_PORT", port_s, 1);
    setenv("LULL_OPS_PORT", "0", 1);
    setenv("LULL_SCHEDULERS", "", 1);
    ingress_cfg_t cfg = {0};
    lull_metrics_t *metrics = lull_metrics_new();
    ingress_writer_t *writer = NULL;
    ingress_http_t *http = NULL;
    LULL_CHECK_EQ_INT(lull_config_load(INGRESS_PROC.settings, INGRESS_PROC.nsettings, &cfg, "test", stderr), 0);
    ingress_writer_cfg_t wc = {.database_url = cfg.common.database_url, .schedulers = &cfg.schedulers, .writers = 1,
                               .batch_max = 16, .queue_max = 16, .inbound_hwm = 10, .history_limit = 10,
                               .metrics = metrics};
    writer = metrics ? ingress_writer_new(&wc) : NULL;
    http = writer ? ingress_http_new(&cfg, writer, NULL, metrics) : NULL;
    LULL_CHECK(http != NULL);
    if (!http) goto cleanup;

    s_answer_t a;
    lull_random_set_source(s_failing_source);
    LULL_CHECK_EQ_INT(s_post(url, "{}", &a), 503);
    LULL_CHECK(strstr(a.body, "{\"error\":{\"code\":\"random_unavailable\",\"message\":") == a.body);
    LULL_CHECK(strstr(a.body, "ws_") == NULL);
    lull_random_set_source(NULL);
    // with random bytes again the request goes on to the writer (whatever the database answers)
    long status = s_post(url, "{}", &a);
    LULL_CHECK(status != 0);
    LULL_CHECK(strstr(a.body, "random_unavailable") == NULL);
cleanup:
    lull_random_set_source(NULL);
    ingress_http_quiesce(http);
    ingress_writer_stop(writer);
    ingress_http_destroy(&http);
    ingress_writer_destroy(&writer);
    lull_metrics_destroy(&metrics);
    lull_config_free(INGRESS_PROC.settings, INGRESS_PROC.nsettings, &cfg);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    LULL_RUN(chat_session_without_random_bytes_is_503);
    curl_global_cleanup();
    return lull_test_summary();
}
