// The scheduler's control requests: list (a bounded max-heap over every window), cancel, flush, and the
// dry-run relay between control clients and workers.
#include "sched_control.h"
#include "sched_convs.h"
#include "lull_clock.h"
#include "lull_json.h"
#include "lull_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TRIES 64  // dry runs forwarded to workers at once

// A dry run ("try") forwarded to a worker, waiting for its CTL_REP.
typedef struct {
    uint64_t wreq_id;                     // the req_id the worker answers
    uint64_t client_req_id;               // the admin API's req_id
    uint8_t client[SCHED_MAX_IDENTITY];   // the control client's identity
    size_t clientlen;
    bool delim;                           // the client is a REQ socket (empty delimiter frame)
    sched_worker_id_t worker;             // the worker it went to
    int64_t deadline_ms;                  // monotonic
} s_try_t;

struct sched_control {
    const sched_cfg_t *cfg;
    lull_proc_t *proc;
    sched_windows_t *win;
    sched_workers_t *workers;
    zsock_t *control;
    s_try_t tries[MAX_TRIES];
    int ntries;
    uint64_t next_try_id;
    lull_counter_t *c_cancelled, *c_flushed, *c_tries, *c_bad;
};

// ---- list, cancel, flush

// The `limit` windows with the smallest conversation ids above `after`, kept in a max-heap while every entry is
// visited once (O(n log limit)): keyset paging over millions of windows without sorting them all.
typedef struct {
    sched_window_info_t *heap;
    int n, limit;
    int64_t after;
    int64_t matched;  // windows above `after`, page or not
} s_list_ctx_t;

static void s_heap_swap(sched_window_info_t *a, sched_window_info_t *b)
{
    sched_window_info_t t = *a;
    *a = *b;
    *b = t;
}

static void s_heap_down(sched_window_info_t *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l].conversation_id > h[m].conversation_id) m = l;
        if (r < n && h[r].conversation_id > h[m].conversation_id) m = r;
        if (m == i) return;
        s_heap_swap(&h[i], &h[m]);
        i = m;
    }
}

static bool s_list_one(void *arg, const sched_window_info_t *info)
{
    s_list_ctx_t *ctx = arg;
    if (info->conversation_id <= ctx->after) return true;
    ctx->matched++;
    sched_window_info_t *h = ctx->heap;
    if (ctx->n < ctx->limit) {
        int i = ctx->n++;
        h[i] = *info;
        while (i > 0 && h[(i - 1) / 2].conversation_id < h[i].conversation_id) {
            s_heap_swap(&h[i], &h[(i - 1) / 2]);
            i = (i - 1) / 2;
        }
    } else if (info->conversation_id < h[0].conversation_id) {
        h[0] = *info;
        s_heap_down(h, ctx->n, 0);
    }
    return true;
}

static cJSON *s_list_json(const sched_window_info_t *info, int64_t now)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "conversation_id", (double)info->conversation_id);
    cJSON_AddNumberToObject(o, "tenant_id", (double)info->tenant_id);
    cJSON_AddStringToObject(o, "channel", lull_channel_name(info->channel));
    cJSON_AddNumberToObject(o, "messages", info->messages);
    double left = 0;
    if (info->state == SCHED_WS_WAITING || info->state == SCHED_WS_BACKOFF)
        left = info->deadline_ms > now ? (double)(info->deadline_ms - now) / 1000.0 : 0;
    cJSON_AddNumberToObject(o, "seconds_left", left);
    cJSON_AddStringToObject(o, "state", sched_wstate_name(info->state, info->in_flight));
    return o;
}

// list: a page of windows above the request's conversation id, ascending. The status; *body owned.
static int s_list(sched_control_t *self, const lull_msg_t *m, char **body)
{
    int status = 500;
    int limit = m->u.ctl_req.limit > 0 ? m->u.ctl_req.limit : 100;
    if (limit > self->cfg->list_max) limit = (int)self->cfg->list_max;
    s_list_ctx_t ctx = {.heap = malloc((size_t)limit * sizeof *ctx.heap), .limit = limit,
                        .after = m->u.ctl_req.conversation_id};
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = root ? cJSON_AddArrayToObject(root, "windows") : NULL;
    if (!ctx.heap || !arr) goto cleanup;
    sched_windows_each(self->win, s_list_one, &ctx);
    for (int n = ctx.n; n > 1; n--) {  // heap sort: ascending conversation ids
        s_heap_swap(&ctx.heap[0], &ctx.heap[n - 1]);
        s_heap_down(ctx.heap, n - 1, 0);
    }
    int64_t now = lull_clock_mono_ms();
    for (int i = 0; i < ctx.n; i++) {
        cJSON *o = s_list_json(&ctx.heap[i], now);
        if (o) cJSON_AddItemToArray(arr, o);
    }
    cJSON_AddNumberToObject(root, "total", (double)sched_windows_count(self->win));
    cJSON_AddBoolToObject(root, "more", ctx.matched > ctx.n);
    *body = lull_json_print(root);
    status = *body ? 200 : 500;
cleanup:
    free(ctx.heap);
    cJSON_Delete(root);
    return status;
}

// cancel: records cancelled_upto first (so recovery does not resurrect the burst), then drops the window.
static int s_cancel(sched_control_t *self, int64_t conv, char **body)
{
    sched_window_info_t info;
    if (!sched_windows_get(self->win, conv, &info) || info.state == SCHED_WS_NONE) {
        *body = lull_json_error_body("not_found", "no window for this conversation");
        return 404;
    }
    if (sched_convs_record_cancel(self->proc->db, conv, info.upto) != 0) {
        *body = lull_json_error_body("unavailable", "database unavailable; window kept");
        return 503;
    }
    int64_t upto = 0;
    (void)sched_windows_cancel(self->win, conv, &upto);
    lull_counter_add(self->c_cancelled, 1);
    LOG_INFO("window.cancelled", "window cancelled over the control socket", "conv", LI(conv), "upto", LI(upto));
    char buf[80];
    snprintf(buf, sizeof buf, "{\"cancelled\":%lld,\"upto\":%lld}", (long long)conv, (long long)upto);
    *body = strdup(buf);
    return 200;
}

static int s_flush(sched_control_t *self, int64_t conv, char **body)
{
    if (sched_windows_flush(self->win, conv) != 0) {
        *body = lull_json_error_body("not_found", "no window for this conversation");
        return 404;
    }
    lull_counter_add(self->c_flushed, 1);
    LOG_INFO("window.flushed", "window flushed over the control socket", "conv", LI(conv));
    char buf[48];
    snprintf(buf, sizeof buf, "{\"flushed\":%lld}", (long long)conv);
    *body = strdup(buf);
    return 200;
}

// Runs one list/cancel/flush request; returns the status and sets *body (owned; may stay NULL).
static int s_control(sched_control_t *self, const lull_msg_t *m, char **body)
{
    switch (m->u.ctl_req.op) {
    case LULL_CTL_LIST: return s_list(self, m, body);
    case LULL_CTL_CANCEL: return s_cancel(self, m->u.ctl_req.conversation_id, body);
    case LULL_CTL_FLUSH: return s_flush(self, m->u.ctl_req.conversation_id, body);
    case LULL_CTL_TRY:  // forwarded to a worker by s_try_forward
        break;
    }
    *body = lull_json_error_body("bad_request", "unknown operation");
    return 400;
}

// Sends a CTL_REP to a control client (its identity, and the empty delimiter of a REQ client).
static void s_control_reply(sched_control_t *self, const uint8_t *id, size_t idlen, bool delim, uint64_t req_id,
                            int status, char *body)
{
    lull_msg_t rep = {.type = LULL_MSG_CTL_REP};
    rep.u.ctl_rep.req_id = req_id;
    rep.u.ctl_rep.status = status;
    rep.u.ctl_rep.body = body;
    zmsg_t *out = lull_proto_encode(&rep);
    if (out && delim) zmsg_pushmem(out, NULL, 0);
    if (out) zmsg_pushmem(out, id, idlen);
    if (!out || zmsg_send(&out, self->control) != 0) LOG_WARN("control.reply_failed", "cannot reply");
    zmsg_destroy(&out);
}

// ---- dry runs

// Answers the dry run at index i with status and an error body, and forgets it.
static void s_try_fail(sched_control_t *self, int i, int status, const char *code, const char *message)
{
    s_try_t *t = &self->tries[i];
    char *body = lull_json_error_body(code, message);
    s_control_reply(self, t->client, t->clientlen, t->delim, t->client_req_id, status, body);
    free(body);
    LOG_WARN("try.failed", message, "status", LI(status));
    self->tries[i] = self->tries[--self->ntries];
}

// Forwards a dry run to a worker (the next one with free credit, as dispatch picks, else any); the
// worker's CTL_REP is relayed by s_try_answer. Returns 0 when forwarded, else the status of the error
// written into *body.
static int s_try_forward(sched_control_t *self, zframe_t *id, bool delim, const lull_msg_t *m, char **body)
{
    if (!m->u.ctl_req.body || !*m->u.ctl_req.body) {
        *body = lull_json_error_body("bad_request", "try needs a JSON body");
        return 400;
    }
    if (zframe_size(id) > SCHED_MAX_IDENTITY) {
        *body = lull_json_error_body("bad_request", "control identity too long");
        return 400;
    }
    if (sched_workers_count(self->workers) == 0) {
        *body = lull_json_error_body("unavailable", "no worker is connected to this scheduler");
        return 503;
    }
    if (self->ntries >= MAX_TRIES) {
        *body = lull_json_error_body("busy", "too many dry runs in progress; try again shortly");
        return 503;
    }
    s_try_t *t = &self->tries[self->ntries];
    *t = (s_try_t){.wreq_id = ++self->next_try_id, .client_req_id = m->u.ctl_req.req_id, .delim = delim,
                   .deadline_ms = lull_clock_mono_ms() + self->cfg->try_timeout_ms};
    t->clientlen = zframe_size(id);
    memcpy(t->client, zframe_data(id), t->clientlen);
    lull_msg_t fwd = *m;
    fwd.u.ctl_req.req_id = t->wreq_id;
    const char *name = "";
    if (sched_workers_send_try(self->workers, &fwd, &t->worker, &name) != 0) {
        *body = lull_json_error_body("unavailable", "the worker is unreachable");
        return 503;
    }
    self->ntries++;
    lull_counter_add(self->c_tries, 1);
    LOG_INFO("try.forwarded", "dry run sent to a worker", "worker", LS(name), "req", LI((int64_t)t->wreq_id));
    return 0;
}

static bool s_same_worker(const sched_worker_id_t *a, const sched_worker_id_t *b)
{
    return a->len == b->len && memcmp(a->id, b->id, a->len) == 0;
}

// Relays a worker's CTL_REP to the control client of the dry run it answers.
static void s_try_answer(sched_control_t *self, const sched_worker_id_t *from, const char *name,
                         const lull_msg_t *m)
{
    for (int i = 0; i < self->ntries; i++) {
        s_try_t *t = &self->tries[i];
        if (t->wreq_id != m->u.ctl_rep.req_id || !s_same_worker(&t->worker, from)) continue;
        s_control_reply(self, t->client, t->clientlen, t->delim, t->client_req_id, m->u.ctl_rep.status,
                        m->u.ctl_rep.body);
        LOG_INFO("try.answered", "dry run answered", "worker", LS(name), "status", LI(m->u.ctl_rep.status));
        self->tries[i] = self->tries[--self->ntries];
        return;
    }
    LOG_INFO("try.unknown", "answer to an unknown or expired dry run ignored", "worker", LS(name));
}

// The workers' relay: a CTL_REP is answered to its client; a lost worker's dry runs fail with 503.
static void s_relay(void *arg, const sched_worker_id_t *worker, const char *name, const lull_msg_t *m)
{
    sched_control_t *self = arg;
    if (m) {
        s_try_answer(self, worker, name, m);
        return;
    }
    for (int i = self->ntries - 1; i >= 0; i--)
        if (s_same_worker(&self->tries[i].worker, worker))
            s_try_fail(self, i, 503, "unavailable", "the worker running the dry run was lost");
}

void sched_control_expire(sched_control_t *self)
{
    int64_t now = lull_clock_mono_ms();
    for (int i = self->ntries - 1; i >= 0; i--)
        if (now >= self->tries[i].deadline_ms)
            s_try_fail(self, i, 504, "timeout", "the worker did not answer the dry run in time");
}

// ---- the socket

void sched_control_handle(sched_control_t *self, zmsg_t *z)
{
    char *body = NULL;
    zframe_t *delim = NULL;
    zframe_t *id = zmsg_pop(z);
    zframe_t *first = zmsg_first(z);
    if (first && zframe_size(first) == 0) delim = zmsg_pop(z);  // REQ clients add an empty delimiter
    lull_msg_t m;
    char err[160] = "";
    if (!id || lull_proto_decode(z, &m, err, sizeof err) != 0 || m.type != LULL_MSG_CTL_REQ) {
        lull_counter_add(self->c_bad, 1);
        LOG_WARN("control.bad_request", err[0] ? err : "not a CTL_REQ");
        if (id) lull_msg_clear(&m);
        goto cleanup;
    }
    int status = m.u.ctl_req.op == LULL_CTL_TRY ? s_try_forward(self, id, delim != NULL, &m, &body)
                                                : s_control(self, &m, &body);
    if (status != 0)
        s_control_reply(self, zframe_data(id), zframe_size(id), delim != NULL, m.u.ctl_req.req_id, status, body);
    lull_msg_clear(&m);
cleanup:
    free(body);
    zframe_destroy(&delim);
    zframe_destroy(&id);
}

// ---- life cycle

sched_control_t *sched_control_new(const sched_cfg_t *cfg, lull_proc_t *proc, sched_windows_t *win,
                                   sched_workers_t *workers, zsock_t *control)
{
    sched_control_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->cfg = cfg;
    self->proc = proc;
    self->win = win;
    self->workers = workers;
    self->control = control;
    lull_metrics_t *r = proc->metrics;
    self->c_cancelled = lull_metrics_counter(r, "lull_sched_windows_cancelled_total", NULL, "windows cancelled");
    self->c_flushed = lull_metrics_counter(r, "lull_sched_windows_flushed_total", NULL, "windows flushed");
    self->c_tries = lull_metrics_counter(r, "lull_sched_tries_total", NULL, "dry runs forwarded to workers");
    self->c_bad = lull_metrics_counter(r, "lull_sched_bad_messages_total", NULL, "malformed ZeroMQ messages dropped");
    sched_workers_set_relay(workers, s_relay, self);
    return self;
}

void sched_control_destroy(sched_control_t **self_p)
{
    if (!self_p || !*self_p) return;
    sched_control_t *self = *self_p;
    sched_workers_set_relay(self->workers, NULL, NULL);
    free(self);
    *self_p = NULL;
}
