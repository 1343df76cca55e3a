// The trial sink: the CTL_REP of a dry run, built from the job's outcome; it writes nothing.
#include "worker_trial.h"
#include "lull_clock.h"
#include "lull_json.h"
#include "lull_log.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    worker_sink_t sink;  // first: a worker_sink_t * is this
    uint64_t req_id;
    int conn, gen;
    bool analyse;
    worker_done_fn *done;
    void *arg;
    lull_counter_t *tries;
} s_trial_t;

void worker_trial_reply(worker_done_fn *done, void *arg, lull_counter_t *tries, uint64_t req_id, int conn, int gen,
                        int status, char *body)
{
    lull_msg_t rep = {.type = LULL_MSG_CTL_REP};
    rep.u.ctl_rep.req_id = req_id;
    rep.u.ctl_rep.status = body ? status : 500;
    rep.u.ctl_rep.body = body;
    lull_counter_add(tries, 1);
    LOG_DEBUG("try.done", NULL, "req", LI((int64_t)req_id), "status", LI(rep.u.ctl_rep.status));
    done(&rep, conn, gen, NULL, 0, arg);
    free(body);
}

// The usage of a job's provider requests as a JSON array (added to obj under "usage").
static void s_usage(const worker_job_view_t *job, cJSON *obj)
{
    cJSON *arr = cJSON_AddArrayToObject(obj, "usage");
    for (int i = 0; arr && i < WORKER_NPROVIDERS; i++) {
        const worker_usage_t *u = &job->usage[i];
        if (u->requests == 0) continue;
        cJSON *e = cJSON_CreateObject();
        if (!e) return;
        cJSON_AddStringToObject(e, "provider", WORKER_PROVIDERS[i]->name);
        cJSON_AddStringToObject(e, "model", job->model[i]);
        cJSON_AddNumberToObject(e, "requests", (double)u->requests);
        cJSON_AddNumberToObject(e, "tokens_in", (double)u->tokens_in);
        cJSON_AddNumberToObject(e, "tokens_out", (double)u->tokens_out);
        cJSON_AddNumberToObject(e, "cached_in", (double)u->cached_in);
        cJSON_AddNumberToObject(e, "cache_write", (double)u->cache_write);
        cJSON_AddNumberToObject(e, "latency_ms", (double)u->latency_ms);
        cJSON_AddNumberToObject(e, "cost_usd", job->cost_usd[i]);
        cJSON_AddItemToArray(arr, e);
    }
}

// Adds the validated analysis (its raw JSON) and who produced it to obj; null when there is none.
static void s_analysis(const worker_outcome_t *out, cJSON *obj)
{
    char err[64];
    const worker_analysis_t *a = out->analysis;
    cJSON *raw = a && a->raw ? lull_json_parse(a->raw, strlen(a->raw), LULL_JSON_MAX_DEPTH, err, sizeof err) : NULL;
    if (raw) {
        cJSON_AddItemToObject(obj, "analysis", raw);
        cJSON_AddStringToObject(obj, "analysis_provider",
                                out->analysis_provider >= 0 ? WORKER_PROVIDERS[out->analysis_provider]->name : "");
    } else {
        cJSON_AddNullToObject(obj, "analysis");
    }
}

// What would have been sent, and why (mode "reply"), or the analysis (mode "analyse").
static char *s_result(const s_trial_t *self, const worker_job_view_t *job, const worker_outcome_t *out)
{
    cJSON *r = cJSON_CreateObject();
    if (!r) return NULL;
    cJSON_AddStringToObject(r, "mode", self->analyse ? "analyse" : "reply");
    cJSON_AddNumberToObject(r, "tenant_id", (double)job->tenant_id);
    if (self->analyse) {
        s_analysis(out, r);
        cJSON_AddStringToObject(r, "model", out->analysis_provider >= 0 ? job->model[out->analysis_provider] : "");
    } else {
        cJSON_AddStringToObject(r, "outcome", lull_outcome_name(out->outcome));
        cJSON_AddStringToObject(r, "detail", out->detail ? out->detail : "");
        if (out->reply) {
            cJSON_AddStringToObject(r, "reply", out->reply);
            cJSON_AddStringToObject(r, "kind", out->kind ? out->kind : "reply");
        } else {
            cJSON_AddNullToObject(r, "reply");
            cJSON_AddNullToObject(r, "kind");
        }
        if (out->reply && out->kind && strcmp(out->kind, "reply") == 0 && job->reply_provider >= 0) {
            cJSON_AddStringToObject(r, "provider", WORKER_PROVIDERS[job->reply_provider]->name);
            cJSON_AddStringToObject(r, "model", job->model[job->reply_provider]);
        }
        cJSON *esc = out->esc_source ? cJSON_AddObjectToObject(r, "escalation") : NULL;
        if (esc) {
            cJSON_AddStringToObject(esc, "source", out->esc_source);
            cJSON_AddStringToObject(esc, "reason", out->esc_reason ? out->esc_reason : "");
        } else {
            cJSON_AddNullToObject(r, "escalation");
        }
        s_analysis(out, r);
    }
    s_usage(job, r);
    cJSON_AddNumberToObject(r, "ms", (double)(lull_clock_mono_ms() - job->done.started_ms));
    char *body = lull_json_print(r);
    cJSON_Delete(r);
    return body;
}

static void s_begin(worker_sink_t *sink, const worker_job_view_t *job)
{
    const s_trial_t *self = (const s_trial_t *)sink;
    LOG_DEBUG("try.start", "dry run", "req", LI((int64_t)self->req_id), "tenant", LI(job->tenant_id), "mode",
              LS(self->analyse ? "analyse" : "reply"));
}

// A dry run that ended before or instead of its result (the tenant and the database were checked before it
// started): refused → 503, every provider failed → 502, anything else → 500, with the job's detail.
static void s_emit(worker_sink_t *sink, const worker_job_view_t *job, const worker_outcome_t *out)
{
    s_trial_t *self = (s_trial_t *)sink;
    const char *detail = out->detail ? out->detail : "";
    int status = 200;
    char *body = NULL;
    if (out->refusal) {
        status = 503;
        body = lull_json_error_body(out->refusal, detail);
    } else if (out->write != WORKER_WRITE_RESULT) {
        bool providers = out->outcome == LULL_OUTCOME_FAILED_RETRYABLE;
        status = providers ? 502 : 500;
        body = lull_json_error_body(providers ? "providers_failed" : "failed", detail);
    } else {
        body = s_result(self, job, out);
    }
    worker_trial_reply(self->done, self->arg, self->tries, self->req_id, self->conn, self->gen, status, body);
}

static void s_end(worker_sink_t *sink)
{
    (void)sink;  // nothing is queued: the answer left at emit
}

static void s_destroy(worker_sink_t **self_p)
{
    if (!self_p || !*self_p) return;
    free(*self_p);
    *self_p = NULL;
}

worker_sink_t *worker_trial_new(uint64_t req_id, int conn, int gen, bool analyse, worker_done_fn *done, void *arg,
                                lull_counter_t *tries)
{
    s_trial_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->sink = (worker_sink_t){s_begin, s_emit, s_end, s_destroy};
    self->req_id = req_id;
    self->conn = conn;
    self->gen = gen;
    self->analyse = analyse;
    self->done = done;
    self->arg = arg;
    self->tries = tries;
    return &self->sink;
}
