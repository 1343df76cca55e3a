// bench_bare_mhd PORT [THREADS]: a bare libmicrohttpd server in the mode lull-ingress uses (LULL_HTTPD_POLLING,
// suspend/resume allowed) that reads any body and answers 200 "{}" with no other work — the ceiling
// scripts/bench/ingress compares lull-ingress to. Stops on SIGTERM/SIGINT.
#include "lull_httpd.h"

#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t s_stop = 0;
static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static struct MHD_Response *s_ok;

static enum MHD_Result s_handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                const char *version, const char *upload_data, size_t *upload_data_size,
                                void **req_cls)
{
    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload_data;
    static int marker;
    if (!*req_cls) {
        *req_cls = &marker;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    return MHD_queue_response(conn, 200, s_ok);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_bare_mhd PORT [THREADS]\n");
        return 64;
    }
    int port = atoi(argv[1]), threads = argc > 2 ? atoi(argv[2]) : 1;
    signal(SIGTERM, s_on_signal);
    signal(SIGINT, s_on_signal);
    static const char body[] = "{}";
    s_ok = MHD_create_response_from_buffer(2, (void *)body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(s_ok, "Content-Type", "application/json");
    struct MHD_Daemon *d = MHD_start_daemon(
        LULL_HTTPD_POLLING | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, (uint16_t)port,
        NULL, NULL, s_handle, NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096, MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned)1024, threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (unsigned)threads, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "bench_bare_mhd: cannot listen on %d\n", port);
        return 1;
    }
    while (!s_stop) pause();
    MHD_stop_daemon(d);
    MHD_destroy_response(s_ok);
    return 0;
}
