// Server-Sent Events for web chat replies. A stream request is suspended and queued to the listener thread,
// which resolves the session (404 when unknown), replays what was sent after Last-Event-ID (or ?after=),
// and then keeps the stream in its active list. The same thread LISTENs on lull_webchat with its own
// connection, looks every notified message up and appends an event to the streams of its session; an MHD
// content reader hands the queued bytes out and suspends the connection when there is nothing to send.
// After a database restart the thread reconnects, LISTENs again and catches every stream up from the
// database, so nothing sent meanwhile is missed.
#include "ingress_stream.h"
#include "lull_clock.h"
#include "lull_db.h"
#include "lull_db_listen.h"
#include "lull_json.h"
#include "lull_log.h"
#include "lull_ratelimit.h"
#include "lull_sse.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PREFIX "/api/v1/chat/stream/"
#define S_SESSION_MAX INGRESS_STREAM_SESSION_MAX
#define S_BUF_MAX (1024 * 1024)  // queued bytes per stream before it is closed (the client reconnects)

typedef enum { SS_PENDING = 0, SS_RESOLVING, SS_RESOLVED, SS_STREAMING } s_phase_t;

typedef struct s_stream {
    struct s_stream *next, *prev;  // pending queue (next only) or active list
    struct MHD_Connection *conn;
    uint64_t serial;
    char session[S_SESSION_MAX + 1];
    int64_t conversation_id;
    int64_t last_id;               // the last message id queued on this stream
    uint8_t addr[LULL_RATELIMIT_ADDR_KEY];  // the client address (lull_ratelimit_addr_key), for the per-address cap
    size_t addrlen;
    int64_t ends_ms;               // monotonic: the stream ends here (lifetime), 0 = never
    s_phase_t phase;
    bool abandoned;                // completed while the thread was resolving it: the thread frees it
    bool active;                   // in the active list
    bool escalated;                // the conversation waits for a person when the stream opened
    unsigned status;               // resolved answer: 200, or an error with code/message
    const char *code, *message;
    lull_sse_t out;                // the queued bytes (S_BUF_MAX; its connection is conn)
} s_stream_t;

struct ingress_stream {
    ingress_stream_cfg_t cfg;
    char *url;
    lull_db_listen_t *listen;  // LISTENs on lull_webchat; its connection also runs the stream's reads
    lull_db_t *db;             // that connection (borrowed from listen)
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    bool stopping;
    s_stream_t *pending;           // FIFO (newest first; reversed when taken)
    s_stream_t *active;
    int64_t nactive;
    uint64_t next_serial;
    lull_counter_t *events, *rejected;
    lull_gauge_t *gauge;
};

static const char *SQL_SESSION =
    "SELECT v.id, v.status IN ('escalated', 'paused') FROM contacts k JOIN conversations v ON v.contact_id = k.id"
    " WHERE k.channel = 'webchat' AND k.external_id = $1 ORDER BY v.id LIMIT 1";
static const char *SQL_AFTER =
    "SELECT m.id, m.body, m.author,"
    " to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " (SELECT a.display_name FROM agents a WHERE a.id = m.agent_id)"
    " FROM messages m WHERE m.conversation_id = $1 AND m.direction = 'out' AND m.id > $2"
    " AND EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = m.id AND o.status = 'sent')"
    " ORDER BY m.id LIMIT $3";
static const char *SQL_MESSAGE =
    "SELECT m.id, m.body, m.author, to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " m.conversation_id, (SELECT a.display_name FROM agents a WHERE a.id = m.agent_id) FROM messages m WHERE m.id = $1";

// ---------------------------------------------------------------------------------------------------------
// Buffers and lists (callers hold mu)

static void s_stream_free(s_stream_t *s)
{
    if (!s) return;
    lull_sse_clear(&s->out);
    free(s);
}

static void s_unlink_active(ingress_stream_t *self, s_stream_t *s)
{
    if (!s->active) return;
    if (s->prev) s->prev->next = s->next;
    else self->active = s->next;
    if (s->next) s->next->prev = s->prev;
    s->next = s->prev = NULL;
    s->active = false;
    self->nactive--;
    if (self->gauge) lull_gauge_set(self->gauge, (double)self->nactive);
}

static void s_link_active(ingress_stream_t *self, s_stream_t *s)
{
    s->prev = NULL;
    s->next = self->active;
    if (self->active) self->active->prev = s;
    self->active = s;
    s->active = true;
    self->nactive++;
    if (self->gauge) lull_gauge_set(self->gauge, (double)self->nactive);
}

// Queues bytes; a stream whose client does not read is closed instead of growing without bound.
static void s_append(s_stream_t *s, const char *data, size_t n)
{
    if (lull_sse_append(&s->out, data, n) == LULL_SSE_OVERFLOW)
        LOG_WARN("stream.overflow", "a chat stream's client is not reading; closing it", "conversation_id",
                 LI(s->conversation_id));
}

// The SSE frame of one message: id, event and the JSON data line; name is the display name of the agent who wrote a
// person's reply (NULL or empty: none). NULL when out of memory.
static char *s_event(int64_t id, const char *author, const char *body, const char *created_at, const char *name,
                     size_t *n)
{
    cJSON *o = cJSON_CreateObject();
    char *json = NULL, *out = NULL;
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "id", (double)id);
    // a person's reply is marked as from a person, never with an agent's token or role
    bool person = author && strcmp(author, "human") == 0;
    cJSON_AddStringToObject(o, "author", person ? "person" : author ? author : "");
    if (person && name && *name) cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "body", body ? body : "");
    cJSON_AddStringToObject(o, "created_at", created_at ? created_at : "");
    json = cJSON_PrintUnformatted(o);  // JSON escapes newlines: one data line
    cJSON_Delete(o);
    if (!json) return NULL;
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    out = lull_sse_frame(ids, "message", json, n);
    free(json);
    return out;
}

// The SSE frame saying a person will answer (no id: Last-Event-ID stays the last message's).
static const char s_escalation_frame[] = "event: escalation\ndata: {\"person_will_answer\":true}\n\n";

// ---------------------------------------------------------------------------------------------------------
// MHD side

typedef struct {
    ingress_stream_t *self;
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
    s_unlink_active(h->self, h->s);
    pthread_mutex_unlock(&h->self->mu);
    s_stream_free(h->s);
    free(h);
}

static enum MHD_Result s_error(struct MHD_Connection *conn, ingress_stream_t *self, unsigned status,
                               const char *code, const char *message)
{
    char labels[64];
    if (self && self->cfg.metrics) {
        snprintf(labels, sizeof labels, "reason=\"%s\"", code);
        lull_counter_add(lull_metrics_counter(self->cfg.metrics, "lull_ingress_chat_streams_rejected_total", labels,
                                              "chat stream requests refused, by reason"),
                         1);
    }
    lull_log_at(status >= 500 ? LULL_LOG_WARN : LULL_LOG_INFO, "http.rejected", message, "status", LI(status), "code",
                LS(code), "route", LS("chat_stream"), (const char *)NULL);
    char *body = lull_json_error_body(code, message);
    if (!body) return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (status == 503) MHD_add_response_header(r, "Retry-After", "1");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

// Parses a non-negative decimal id (at most 18 digits). -1 when malformed.
static int64_t s_parse_id(const char *p, size_t n)
{
    if (n == 0 || n > 18) return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

int ingress_stream_parse(const char *sid, const char *last_event_id, const char *after, ingress_stream_want_t *out,
                         const char **code, const char **message)
{
    size_t n = strcspn(sid, "?#");
    bool ok = n > 0 && n <= S_SESSION_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        char c = sid[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    }
    *code = "unknown_session";
    *message = "the chat session does not exist";
    if (!ok) return 404;
    memcpy(out->session, sid, n);
    out->session[n] = '\0';
    out->after = -1;  // from now on
    *code = "invalid_field";
    if (last_event_id && *last_event_id) {
        *message = "Last-Event-ID is not a message id";
        out->after = s_parse_id(last_event_id, strlen(last_event_id));
        return out->after < 0 ? 400 : 0;
    }
    if (after) {
        *message = "after is not a message id";
        out->after = s_parse_id(after, strlen(after));
        return out->after < 0 ? 400 : 0;
    }
    return 0;
}

static void s_wake(ingress_stream_t *self)
{
    if (self->listen) lull_db_listen_wake(self->listen);
}

// Handles every access-handler call of GET /api/v1/chat/stream/{session}.
enum MHD_Result ingress_stream_request(ingress_stream_t *self, struct MHD_Connection *conn, const char *uri,
                                       void **ctx)
{
    s_stream_t *s = *ctx;
    if (!s) {
        ingress_stream_want_t want;
        const char *code, *why;
        int st = ingress_stream_parse(uri + strlen(S_PREFIX),  // the router matched this prefix
                                      MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Last-Event-ID"),
                                      MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "after"), &want, &code, &why);
        if (st != 0) return s_error(conn, self, (unsigned)st, code, why);
        s = calloc(1, sizeof *s);
        if (!s) return s_error(conn, self, 503, "out_of_memory", "out of memory");
        memcpy(s->session, want.session, sizeof s->session);
        s->conn = conn;
        lull_sse_init(&s->out, conn, S_BUF_MAX);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        s->addrlen = ci ? lull_ratelimit_addr_key(ci->client_addr, s->addr) : 0;
        s->last_id = want.after;  // -1: from now on
        pthread_mutex_lock(&self->mu);
        if (self->stopping) {
            pthread_mutex_unlock(&self->mu);
            free(s);
            return s_error(conn, self, 503, "shutting_down", "the server is shutting down");
        }
        s->serial = ++self->next_serial;
        s->phase = SS_PENDING;
        s->next = self->pending;
        self->pending = s;
        MHD_suspend_connection(conn);
        pthread_mutex_unlock(&self->mu);
        s_wake(self);
        *ctx = s;
        return MHD_YES;
    }
    pthread_mutex_lock(&self->mu);
    s_phase_t phase = s->phase;
    pthread_mutex_unlock(&self->mu);
    if (phase != SS_RESOLVED) return MHD_YES;  // spurious call while suspended
    if (s->status != 200) return s_error(conn, self, s->status, s->code, s->message);

    s_handle_t *h = malloc(sizeof *h);
    struct MHD_Response *r = NULL;
    if (h) {
        h->self = self;
        h->s = s;
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, s_read, h, s_read_free);
    }
    if (!r) {
        free(h);
        return MHD_NO;  // done() unlinks and frees the stream
    }
    pthread_mutex_lock(&self->mu);
    s->phase = SS_STREAMING;  // owned by the response from here on
    pthread_mutex_unlock(&self->mu);
    *ctx = NULL;
    MHD_add_response_header(r, "Content-Type", "text/event-stream; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    (void)MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)0);
    enum MHD_Result ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return ret;
}

// Releases a stream request that never became a response.
void ingress_stream_request_done(ingress_stream_t *self, void **ctx)
{
    if (!self || !ctx || !*ctx) return;
    s_stream_t *s = *ctx;
    *ctx = NULL;
    bool do_free = true;
    pthread_mutex_lock(&self->mu);
    if (s->phase == SS_PENDING) {
        s_stream_t **pp = &self->pending;
        while (*pp && *pp != s) pp = &(*pp)->next;
        if (*pp) *pp = s->next;
    } else if (s->phase == SS_RESOLVING) {
        s->abandoned = true;
        do_free = false;
    } else {
        s_unlink_active(self, s);
    }
    pthread_mutex_unlock(&self->mu);
    if (do_free) s_stream_free(s);
}

// ---------------------------------------------------------------------------------------------------------
// Listener thread

// The sent replies of one conversation after `after` (oldest first, at most replay_max), or NULL on a
// database error.
static PGresult *s_query_after(ingress_stream_t *self, int64_t conversation_id, int64_t after)
{
    char conv[24], aft[24], lim[24];
    snprintf(conv, sizeof conv, "%lld", (long long)conversation_id);
    snprintf(aft, sizeof aft, "%lld", (long long)after);
    snprintf(lim, sizeof lim, "%lld", (long long)self->cfg.replay_max);
    const char *params[] = {conv, aft, lim};
    return lull_db_exec(self->db, SQL_AFTER, 3, params);
}

// Queues the rows of s_query_after on s (mu held).
static void s_apply_rows(ingress_stream_t *self, s_stream_t *s, const PGresult *res)
{
    for (int r = 0; r < PQntuples(res); r++) {
        int64_t id = lull_db_int(res, r, 0, NULL);
        if (id <= s->last_id) continue;
        size_t n = 0;
        char *ev = s_event(id, lull_db_text(res, r, 2), lull_db_text(res, r, 1), lull_db_text(res, r, 3),
                            lull_db_text(res, r, 4), &n);
        if (!ev) break;
        s_append(s, ev, n);
        free(ev);
        s->last_id = id;
        if (self->events) lull_counter_add(self->events, 1);
    }
}

// Resolves every queued stream request: the session's conversation, the replay, the limits.
static void s_resolve_pending(ingress_stream_t *self)
{
    pthread_mutex_lock(&self->mu);
    s_stream_t *list = NULL, *s = self->pending;
    self->pending = NULL;
    while (s) {  // reverse into arrival order
        s_stream_t *next = s->next;
        s->phase = SS_RESOLVING;
        s->next = list;
        list = s;
        s = next;
    }
    pthread_mutex_unlock(&self->mu);

    while (list) {
        s = list;
        list = s->next;
        s->next = NULL;
        s->status = 200;
        PGresult *replay = NULL;
        const char *params[] = {s->session};
        PGresult *res = lull_db_connected(self->db) ? lull_db_exec(self->db, SQL_SESSION, 1, params) : NULL;
        if (!res) {
            s->status = 503;
            s->code = "database_unavailable";
            s->message = "the database is unavailable; retry later";
        } else if (PQntuples(res) != 1) {
            s->status = 404;
            s->code = "unknown_session";
            s->message = "the chat session does not exist";
        } else {
            s->conversation_id = lull_db_int(res, 0, 0, NULL);
            s->escalated = strcmp(lull_db_text(res, 0, 1) ? lull_db_text(res, 0, 1) : "", "t") == 0;
            if (s->last_id < 0) {  // from now on: nothing already sent is replayed
                char conv[24];
                snprintf(conv, sizeof conv, "%lld", (long long)s->conversation_id);
                const char *p2[] = {conv};
                PGresult *mx = lull_db_exec(
                    self->db, "SELECT coalesce(max(id), 0) FROM messages WHERE conversation_id = $1", 1, p2);
                if (mx) {
                    s->last_id = lull_db_int(mx, 0, 0, NULL);
                    PQclear(mx);
                } else {
                    s->status = 503;
                    s->code = "database_unavailable";
                    s->message = "the database is unavailable; retry later";
                }
            } else {
                replay = s_query_after(self, s->conversation_id, s->last_id);
                if (!replay) {
                    s->status = 503;
                    s->code = "database_unavailable";
                    s->message = "the database is unavailable; retry later";
                }
            }
        }
        PQclear(res);

        pthread_mutex_lock(&self->mu);
        if (s->abandoned) {
            pthread_mutex_unlock(&self->mu);
            PQclear(replay);
            s_stream_free(s);
            continue;
        }
        if (s->status == 200) {
            int64_t same = 0, same_addr = 0;
            for (s_stream_t *a = self->active; a; a = a->next) {
                if (strcmp(a->session, s->session) == 0) same++;
                if (s->addrlen && a->addrlen == s->addrlen && memcmp(a->addr, s->addr, s->addrlen) == 0) same_addr++;
            }
            bool addr_full = self->cfg.max_per_addr > 0 && same_addr >= self->cfg.max_per_addr;
            if (same >= self->cfg.max_per_session || self->nactive >= self->cfg.max_total || addr_full ||
                self->stopping) {
                s->status = self->stopping ? 503 : 429;
                s->code = self->stopping ? "shutting_down" : "too_many_streams";
                s->message = self->stopping ? "the server is shutting down"
                             : addr_full    ? "too many open chat streams from this address; close one"
                                            : "too many open chat streams (per session or in total); close one";
            } else {
                if (self->cfg.lifetime_ms > 0) s->ends_ms = lull_clock_mono_ms() + self->cfg.lifetime_ms;
                static const char hello[] = "retry: 2000\n: connected\n\n";
                s_append(s, hello, sizeof hello - 1);
                if (replay) s_apply_rows(self, s, replay);
                if (s->escalated) s_append(s, s_escalation_frame, sizeof s_escalation_frame - 1);
                s_link_active(self, s);
                LOG_DEBUG("stream.open", "chat stream opened", "conversation_id", LI(s->conversation_id), "after",
                          LI(s->last_id));
            }
        }
        s->phase = SS_RESOLVED;
        MHD_resume_connection(s->conn);
        pthread_mutex_unlock(&self->mu);
        PQclear(replay);
    }
}

// An escalation notification {"type":"escalation","conversation_id","session"}: the frame to its streams.
static void s_escalated(ingress_stream_t *self, const char *session, int64_t conv)
{
    pthread_mutex_lock(&self->mu);
    for (s_stream_t *a = self->active; a; a = a->next)
        if (strcmp(a->session, session) == 0 && a->conversation_id == conv)
            s_append(a, s_escalation_frame, sizeof s_escalation_frame - 1);
    pthread_mutex_unlock(&self->mu);
}

// One notification: {"conversation_id","message_id","session"}, or an escalation (s_escalated).
static void s_notified(ingress_stream_t *self, const char *payload)
{
    char err[128];
    cJSON *o = lull_json_parse(payload, strlen(payload), 4, err, sizeof err);
    const char *session = NULL, *type = NULL;
    int64_t mid = 0, conv = 0;
    if (o && lull_json_str(o, "type", false, 32, &type, err, sizeof err) == 0 && type &&
        strcmp(type, "escalation") == 0) {
        if (lull_json_str(o, "session", true, S_SESSION_MAX, &session, err, sizeof err) == 0 &&
            lull_json_int(o, "conversation_id", true, false, 1, INT64_MAX, &conv, err, sizeof err) == 0)
            s_escalated(self, session, conv);
        else LOG_WARN("notify.invalid", "ignoring a malformed lull_webchat notification", "error", LS(err));
        cJSON_Delete(o);
        return;
    }
    if (!o || lull_json_str(o, "session", true, S_SESSION_MAX, &session, err, sizeof err) != 0 ||
        lull_json_int(o, "message_id", true, false, 1, INT64_MAX, &mid, err, sizeof err) != 0 ||
        lull_json_int(o, "conversation_id", true, false, 1, INT64_MAX, &conv, err, sizeof err) != 0) {
        LOG_WARN("notify.invalid", "ignoring a malformed lull_webchat notification", "error", LS(err));
        cJSON_Delete(o);
        return;
    }
    bool wanted = false;
    pthread_mutex_lock(&self->mu);
    for (s_stream_t *a = self->active; a && !wanted; a = a->next)
        wanted = strcmp(a->session, session) == 0 && a->last_id < mid;
    pthread_mutex_unlock(&self->mu);
    if (wanted) {
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)mid);
        const char *params[] = {id};
        PGresult *res = lull_db_exec(self->db, SQL_MESSAGE, 1, params);
        if (res && PQntuples(res) == 1) {
            size_t n = 0;
            int64_t msg_conv = lull_db_int(res, 0, 4, NULL);
            char *ev = s_event(mid, lull_db_text(res, 0, 2), lull_db_text(res, 0, 1), lull_db_text(res, 0, 3),
                                lull_db_text(res, 0, 5), &n);
            pthread_mutex_lock(&self->mu);
            for (s_stream_t *a = self->active; ev && a; a = a->next) {
                if (strcmp(a->session, session) != 0 || a->conversation_id != msg_conv || a->last_id >= mid) continue;
                s_append(a, ev, n);
                a->last_id = mid;
                if (self->events) lull_counter_add(self->events, 1);
            }
            pthread_mutex_unlock(&self->mu);
            free(ev);
        }
        PQclear(res);  // a failure: the reconnect's catch-up sends it
    }
    cJSON_Delete(o);
}

// The listener's payload hook: a NOTIFY on lull_webchat carries a reply to publish.
static void s_on_payload(const char *payload, void *arg)
{
    s_notified(arg, payload);
}

// After a (re)connect: every active stream gets what was sent while nobody listened.
static void s_catch_up(void *arg)
{
    ingress_stream_t *self = arg;
    typedef struct {
        uint64_t serial;
        int64_t conv, after;
    } snap_t;
    pthread_mutex_lock(&self->mu);
    size_t n = 0;
    snap_t *snaps = self->nactive > 0 ? calloc((size_t)self->nactive, sizeof *snaps) : NULL;
    for (s_stream_t *a = self->active; snaps && a; a = a->next)
        snaps[n++] = (snap_t){a->serial, a->conversation_id, a->last_id};
    pthread_mutex_unlock(&self->mu);
    for (size_t i = 0; i < n; i++) {
        PGresult *res = s_query_after(self, snaps[i].conv, snaps[i].after);
        if (!res) break;
        pthread_mutex_lock(&self->mu);
        for (s_stream_t *a = self->active; a; a = a->next)
            if (a->serial == snaps[i].serial) s_apply_rows(self, a, res);
        pthread_mutex_unlock(&self->mu);
        PQclear(res);
    }
    free(snaps);
}

// Ends the streams past their lifetime: a final "end" event whose id is the last one the stream carried, so that
// a reconnecting EventSource resumes (Last-Event-ID) where it stopped. Returns the next end, or INT64_MAX.
static int64_t s_expire(ingress_stream_t *self, int64_t now_ms)
{
    int64_t next = INT64_MAX;
    pthread_mutex_lock(&self->mu);
    for (s_stream_t *a = self->active; a; a = a->next) {
        if (!a->ends_ms || a->out.closed) continue;
        if (a->ends_ms > now_ms) {
            if (a->ends_ms < next) next = a->ends_ms;
            continue;
        }
        char end[96];
        int k = snprintf(end, sizeof end, "id: %lld\nevent: end\ndata: {\"reason\":\"lifetime\"}\n\n",
                         (long long)(a->last_id > 0 ? a->last_id : 0));
        s_append(a, end, (size_t)k);
        lull_sse_close(&a->out);
        LOG_DEBUG("stream.lifetime", "chat stream reached its lifetime; the page reconnects", "conversation_id",
                  LI(a->conversation_id));
    }
    pthread_mutex_unlock(&self->mu);
    return next;
}

static void s_keepalive(ingress_stream_t *self)
{
    static const char ka[] = ": keep-alive\n\n";
    pthread_mutex_lock(&self->mu);
    for (s_stream_t *a = self->active; a; a = a->next) s_append(a, ka, sizeof ka - 1);
    pthread_mutex_unlock(&self->mu);
}

static void *s_thread(void *arg)
{
    ingress_stream_t *self = arg;
    int64_t next_ka = lull_clock_mono_ms() + self->cfg.keepalive_ms;
    for (;;) {
        pthread_mutex_lock(&self->mu);
        bool stop = self->stopping;
        pthread_mutex_unlock(&self->mu);
        if (stop) break;
        // (re)LISTENs with the catch-up first (s_catch_up), then hands each reply to s_on_payload
        (void)lull_db_listen_step(self->listen);  // not listening: the wait below is short, the next step reconnects
        s_resolve_pending(self);
        int64_t now = lull_clock_mono_ms();
        if (now >= next_ka) {
            s_keepalive(self);
            next_ka = now + self->cfg.keepalive_ms;
        }
        int64_t next_end = s_expire(self, now);
        lull_db_listen_wait(self->listen, (next_end < next_ka ? next_end : next_ka) - now);
    }
    s_resolve_pending(self);  // stopping: answered 503
    return NULL;
}

// ---------------------------------------------------------------------------------------------------------
// Life cycle

ingress_stream_t *ingress_stream_new(const ingress_stream_cfg_t *cfg)
{
    ingress_stream_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->cfg = *cfg;
    pthread_mutex_init(&self->mu, NULL);
    self->url = strdup(cfg->database_url ? cfg->database_url : "");
    if (!self->url) goto fail;
    self->cfg.database_url = self->url;
    self->listen = lull_db_listen_new(self->url, "lull_webchat", "web chat replies");
    if (!self->listen) goto fail;
    self->db = lull_db_listen_db(self->listen);
    lull_db_listen_set_hooks(self->listen, s_catch_up, s_on_payload, self);
    if (cfg->metrics) {
        self->events = lull_metrics_counter(cfg->metrics, "lull_ingress_chat_events_total", "",
                                            "web chat replies written to SSE streams");
        self->gauge = lull_metrics_gauge(cfg->metrics, "lull_ingress_chat_streams", "", "open web chat SSE streams");
    }
    if (pthread_create(&self->thread, NULL, s_thread, self) != 0) goto fail;
    self->started = true;
    return self;
fail:
    LOG_ERROR("stream.start_failed", "cannot start the chat stream listener");
    ingress_stream_destroy(&self);
    return NULL;
}

void ingress_stream_stop(ingress_stream_t *self)
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
    for (s_stream_t *a = self->active; a; a = a->next) lull_sse_close(&a->out);
    pthread_mutex_unlock(&self->mu);
}

void ingress_stream_destroy(ingress_stream_t **self_p)
{
    if (!self_p || !*self_p) return;
    ingress_stream_t *self = *self_p;
    ingress_stream_stop(self);
    // streams still linked belong to responses MHD has freed by now (or never will): unlink only
    pthread_mutex_lock(&self->mu);
    while (self->active) s_unlink_active(self, self->active);
    pthread_mutex_unlock(&self->mu);
    lull_db_listen_destroy(&self->listen);
    self->db = NULL;
    pthread_mutex_destroy(&self->mu);
    free(self->url);
    free(self);
    *self_p = NULL;
}
