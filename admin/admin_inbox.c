// The agents' inbox on lull-admin: its page files and its live list over Server-Sent Events. A stream is
// created on the HTTP thread (capped) and linked into the active list; the listener thread LISTENs on
// lull_inbox with its own connection (status, pause and read-mark changes: migration 023) and, while streams
// are open, reads max(messages.id) every poll interval (new messages: their commits carry no NOTIFY, which
// would serialise them). When either changed (or a new stream waits for its first list) it re-reads the list
// (admin_stats_inbox_json), at most once per debounce interval, and queues it on the streams when it changed; an MHD content reader hands the queued bytes out and
// suspends the connection when there is nothing to send. Heartbeats keep proxies from timing streams out;
// a stream ends after its lifetime and the page reconnects. After a lost connection the thread reconnects,
// LISTENs again and re-reads the list, so nothing that changed meanwhile is missed.
#include "admin_inbox.h"
#include "admin_static.h"
#include "admin_stats.h"
#include "lull_clock.h"
#include "lull_db.h"
#include "lull_db_listen.h"
#include "lull_json.h"
#include "lull_log.h"
#include "lull_sse.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_BUF_MAX (4 * 1024 * 1024)  // queued bytes per stream before it is closed (the page reconnects)
#define S_RETRY_DB_MS 1000           // a failed list read is tried again after this, milliseconds

typedef struct s_stream {
    struct s_stream *next, *prev;  // active list
    int64_t opened_ms;             // monotonic, milliseconds
    bool want;                     // waiting for its first list
    lull_sse_t out;                // the connection and its queued bytes (S_BUF_MAX)
} s_stream_t;

struct admin_inbox {
    admin_inbox_cfg_t cfg;
    char *url;
    lull_db_listen_t *listen;      // the thread's connection (LISTEN lull_inbox)
    lull_db_t *db;                 // its connection (borrowed from listen)
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    bool stopping;
    bool dirty;                    // a notification or a new message came since the last read (thread only)
    int64_t max_msg;               // max(messages.id) at the last poll, -1 before the first (thread only)
    s_stream_t *active;
    int64_t nactive;
    char *last;                    // the last list sent, as an SSE frame (thread only)
    lull_counter_t *lists, *rejected;
    lull_gauge_t *gauge;
};

// ---------------------------------------------------------------------------------------------------------
// Streams (callers hold mu)

static void s_close(s_stream_t *s) { lull_sse_close(&s->out); }

static void s_append(s_stream_t *s, const char *data, size_t n)
{
    if (lull_sse_append(&s->out, data, n) == LULL_SSE_OVERFLOW)
        LOG_WARN("inbox.stream_overflow", "an inbox stream's client is not reading; closing it");
}

static void s_unlink(admin_inbox_t *self, s_stream_t *s)
{
    if (s->prev) s->prev->next = s->next;
    else if (self->active == s) self->active = s->next;
    else return;  // not linked
    if (s->next) s->next->prev = s->prev;
    s->next = s->prev = NULL;
    self->nactive--;
    if (self->gauge) lull_gauge_set(self->gauge, (double)self->nactive);
}

// ---------------------------------------------------------------------------------------------------------
// MHD side

typedef struct {
    admin_inbox_t *self;
    s_stream_t *s;
} s_handle_t;

static ssize_t s_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    s_handle_t *h = cls;
    pthread_mutex_lock(&h->self->mu);
    ssize_t ret = lull_sse_read(&h->s->out, buf, max);
    pthread_mutex_unlock(&h->self->mu);
    return ret;
}

static void s_read_free(void *cls)
{
    s_handle_t *h = cls;
    pthread_mutex_lock(&h->self->mu);
    s_unlink(h->self, h->s);
    pthread_mutex_unlock(&h->self->mu);
    LOG_DEBUG("inbox.stream_closed", "inbox stream closed");
    lull_sse_clear(&h->s->out);
    free(h->s);
    free(h);
}

static enum MHD_Result s_refuse(admin_inbox_t *self, struct MHD_Connection *conn, const char *code, const char *msg)
{
    char labels[64];
    snprintf(labels, sizeof labels, "reason=\"%s\"", code);
    if (self && self->cfg.metrics)
        lull_counter_add(lull_metrics_counter(self->cfg.metrics, "lull_admin_inbox_streams_rejected_total", labels,
                                              "inbox event streams refused, by reason"),
                         1);
    LOG_WARN("http.rejected", msg, "status", LI(503), "code", LS(code), "route", LS("inboxEvents"));
    char *body = lull_json_error_body(code, msg);
    if (!body) return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Retry-After", "5");
    enum MHD_Result ret = MHD_queue_response(conn, 503, r);
    MHD_destroy_response(r);
    return ret;
}

static void s_wake(admin_inbox_t *self)
{
    if (self->listen) lull_db_listen_wake(self->listen);
}

enum MHD_Result admin_inbox_stream(admin_inbox_t *self, struct MHD_Connection *conn)
{
    s_stream_t *s = calloc(1, sizeof *s);
    s_handle_t *h = malloc(sizeof *h);
    struct MHD_Response *r = NULL;
    if (!s || !h) goto oom;
    lull_sse_init(&s->out, conn, S_BUF_MAX);
    s->opened_ms = lull_clock_mono_ms();
    s->want = true;
    h->self = self;
    h->s = s;
    pthread_mutex_lock(&self->mu);
    bool full = self->nactive >= self->cfg.streams_max, stopping = self->stopping;
    pthread_mutex_unlock(&self->mu);
    if (stopping || full) {
        free(s);
        free(h);
        return s_refuse(self, conn, stopping ? "shutting_down" : "too_many_streams",
                        stopping ? "lull-admin is shutting down"
                                 : "too many open inbox streams (LULL_ADMIN_INBOX_STREAMS_MAX); close one");
    }
    static const char hello[] = "retry: 1000\n: connected\n\n";
    s_append(s, hello, sizeof hello - 1);
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, s_read, h, s_read_free);
    if (!r) goto oom;
    MHD_add_response_header(r, "Content-Type", "text/event-stream; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    (void)MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)0);
    pthread_mutex_lock(&self->mu);  // linked before queued: the free callback unlinks it
    s->next = self->active;
    if (self->active) self->active->prev = s;
    self->active = s;
    self->nactive++;
    if (self->gauge) lull_gauge_set(self->gauge, (double)self->nactive);
    pthread_mutex_unlock(&self->mu);
    s_wake(self);
    LOG_DEBUG("inbox.stream_open", "inbox stream opened");
    enum MHD_Result ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);  // frees s and h (through s_read_free) when the connection ends
    return ret;
oom:
    if (s) lull_sse_clear(&s->out);
    free(s);
    free(h);
    return s_refuse(self, conn, "out_of_memory", "out of memory");
}

// ---------------------------------------------------------------------------------------------------------
// The page

static int s_page_headers(struct MHD_Response *r, const char *type, const char *etag)
{
    bool ok = MHD_add_response_header(r, "ETag", etag) == MHD_YES &&
              MHD_add_response_header(r, "Cache-Control", "no-cache") == MHD_YES &&
              MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES &&
              MHD_add_response_header(r, "Referrer-Policy", "no-referrer") == MHD_YES &&
              MHD_add_response_header(r, "X-Frame-Options", "DENY") == MHD_YES &&
              MHD_add_response_header(r, "Content-Security-Policy",
                                      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
                                      " connect-src 'self'; base-uri 'none'; form-action 'none';"
                                      " frame-ancestors 'none'") == MHD_YES;
    if (ok && type) ok = MHD_add_response_header(r, "Content-Type", type) == MHD_YES;
    return ok ? 0 : -1;
}

enum MHD_Result admin_inbox_page(struct MHD_Connection *conn, int file)
{
    const unsigned char *data = admin_static_inbox_html;
    size_t len = admin_static_inbox_html_len;
    const char *etag = admin_static_inbox_html_etag, *type = "text/html; charset=utf-8";
    if (file == 1) {
        data = admin_static_inbox_js;
        len = admin_static_inbox_js_len;
        etag = admin_static_inbox_js_etag;
        type = "text/javascript; charset=utf-8";
    } else if (file == 2) {
        data = admin_static_inbox_css;
        len = admin_static_inbox_css_len;
        etag = admin_static_inbox_css_etag;
        type = "text/css; charset=utf-8";
    }
    const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
    bool same = inm && (strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL);
    struct MHD_Response *r = same ? MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT)
                                  : MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    enum MHD_Result ret = MHD_NO;
    if (s_page_headers(r, same ? NULL : type, etag) == 0)
        ret = MHD_queue_response(conn, same ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

// ---------------------------------------------------------------------------------------------------------
// Listener thread

// Reads the list and queues it on the streams that wait for their first list, and on every stream when it
// changed. 0, or -1 on a database error (the streams wait; the caller retries).
static int s_refresh(admin_inbox_t *self, bool read)
{
    if (read) {
        char *json = admin_stats_inbox_json(self->db);
        if (!json) {
            LOG_WARN("inbox.list_failed", "cannot read the inbox list", "error", LS(lull_db_error(self->db)));
            return -1;
        }
        size_t n = 0;
        char *frame = lull_sse_frame(NULL, "list", json, &n);  // one data: line per line of json
        free(json);
        if (!frame) return -1;
        bool changed = !self->last || strcmp(self->last, frame) != 0;
        free(self->last);
        self->last = frame;
        self->dirty = false;
        if (changed) {
            pthread_mutex_lock(&self->mu);
            for (s_stream_t *s = self->active; s; s = s->next) {
                s_append(s, frame, n);
                s->want = false;
            }
            pthread_mutex_unlock(&self->mu);
            if (self->lists) lull_counter_add(self->lists, 1);
        }
    }
    if (!self->last) return 0;
    size_t n = strlen(self->last);
    pthread_mutex_lock(&self->mu);
    for (s_stream_t *s = self->active; s; s = s->next)
        if (s->want) {
            s_append(s, self->last, n);
            s->want = false;
        }
    pthread_mutex_unlock(&self->mu);
    return 0;
}

// Heartbeats when due, ends streams past their lifetime; returns the next deadline (monotonic ms).
static int64_t s_tick(admin_inbox_t *self, int64_t now, int64_t *next_hb, bool *wanting)
{
    static const char hb[] = ": heartbeat\n\n";
    bool beat = now >= *next_hb;
    if (beat) *next_hb = now + self->cfg.heartbeat_ms;
    int64_t next = *next_hb;
    *wanting = false;
    pthread_mutex_lock(&self->mu);
    for (s_stream_t *s = self->active; s; s = s->next) {
        int64_t end = s->opened_ms + self->cfg.lifetime_ms;
        if (now >= end) s_close(s);
        else if (end < next) next = end;
        if (beat) s_append(s, hb, sizeof hb - 1);
        *wanting = *wanting || (s->want && !s->out.closed);
    }
    int64_t nactive = self->nactive;
    pthread_mutex_unlock(&self->mu);
    if (nactive == 0) {  // nobody looks: the next stream gets a fresh read
        free(self->last);
        self->last = NULL;
    }
    return next;
}

// A new message since the last poll marks the list dirty. 0, or -1 on a database error.
static int s_poll_messages(admin_inbox_t *self)
{
    PGresult *r = lull_db_exec(self->db, "SELECT coalesce(max(id), 0) FROM messages", 0, NULL);
    if (!r) return -1;
    int64_t m = lull_db_int(r, 0, 0, NULL);
    PQclear(r);
    if (m != self->max_msg) self->dirty = true;
    self->max_msg = m;
    return 0;
}

static void *s_thread(void *arg)
{
    admin_inbox_t *self = arg;
    int64_t next_hb = lull_clock_mono_ms() + self->cfg.heartbeat_ms, next_read = 0, next_poll = 0;
    for (;;) {
        pthread_mutex_lock(&self->mu);
        bool stop = self->stopping;
        pthread_mutex_unlock(&self->mu);
        if (stop) break;
        int step = lull_db_listen_step(self->listen);  // 1: notified, or listening again after a loss
        bool listening = step >= 0;
        if (step == 1) self->dirty = true;
        int64_t now = lull_clock_mono_ms();
        bool wanting = false;
        int64_t next = s_tick(self, now, &next_hb, &wanting);
        bool have_streams = wanting || self->last;  // self->last is dropped when no stream is open
        if (listening && have_streams && now >= next_poll) {
            (void)s_poll_messages(self);  // a failure: the next poll, or the reconnect, catches up
            next_poll = now + self->cfg.poll_ms;
        }
        if (listening && have_streams && next_poll < next) next = next_poll;
        if (listening && have_streams && (self->dirty || !self->last) && now >= next_read) {
            next_read = now + (s_refresh(self, true) == 0 ? self->cfg.debounce_ms : S_RETRY_DB_MS);
        } else if (wanting) {
            (void)s_refresh(self, false);
        }
        if (listening && have_streams && (self->dirty || !self->last) && next_read < next) next = next_read;
        lull_db_listen_wait(self->listen, next - lull_clock_mono_ms());  // shorter while not listening
    }
    return NULL;
}

// ---------------------------------------------------------------------------------------------------------
// Life cycle

admin_inbox_t *admin_inbox_new(const admin_inbox_cfg_t *cfg)
{
    admin_inbox_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->cfg = *cfg;
    self->max_msg = -1;
    pthread_mutex_init(&self->mu, NULL);
    self->url = strdup(cfg->database_url ? cfg->database_url : "");
    if (!self->url) goto fail;
    self->cfg.database_url = self->url;
    self->listen = lull_db_listen_new(self->url, "lull_inbox", "inbox changes");
    if (!self->listen) goto fail;
    self->db = lull_db_listen_db(self->listen);
    if (cfg->metrics) {
        self->lists = lull_metrics_counter(cfg->metrics, "lull_admin_inbox_lists_total", "",
                                           "inbox lists written to the event streams (changed lists only)");
        self->gauge = lull_metrics_gauge(cfg->metrics, "lull_admin_inbox_streams", "", "open inbox event streams");
    }
    if (pthread_create(&self->thread, NULL, s_thread, self) != 0) goto fail;
    self->started = true;
    return self;
fail:
    LOG_ERROR("inbox.start_failed", "cannot start the inbox listener");
    admin_inbox_destroy(&self);
    return NULL;
}

void admin_inbox_stop(admin_inbox_t *self)
{
    if (!self) return;
    pthread_mutex_lock(&self->mu);
    self->stopping = true;
    pthread_mutex_unlock(&self->mu);
    if (self->started) {
        s_wake(self);
        pthread_join(self->thread, NULL);
        self->started = false;
    }
    pthread_mutex_lock(&self->mu);
    for (s_stream_t *s = self->active; s; s = s->next) s_close(s);
    pthread_mutex_unlock(&self->mu);
}

void admin_inbox_destroy(admin_inbox_t **self_p)
{
    if (!self_p || !*self_p) return;
    admin_inbox_t *self = *self_p;
    admin_inbox_stop(self);
    // streams still linked belong to responses MHD has freed by now (or never will): unlink only
    pthread_mutex_lock(&self->mu);
    while (self->active) s_unlink(self, self->active);
    pthread_mutex_unlock(&self->mu);
    self->db = NULL;
    lull_db_listen_destroy(&self->listen);
    pthread_mutex_destroy(&self->mu);
    free(self->last);
    free(self->url);
    free(self);
    *self_p = NULL;
}
