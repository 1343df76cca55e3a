// The provider chain of one call: pick the next usable provider, send, classify the answer, retry, fall
// back, run tool rounds, and tell the owner when the call is over.
#include "worker_chain.h"
#include "lull_clock.h"
#include "lull_http.h"
#include "lull_log.h"
#include "lull_retry.h"
#include "worker_analysis.h"
#include "worker_combined.h"
#include "worker_limit.h"
#include "worker_tools.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_MAX_BODY (4u << 20)
// LLM requests are spread over several libcurl multi handles: libcurl (7.88) scans a multi's whole
// connection cache linearly when it looks for a connection to reuse and when it returns one, which at
// thousands of connections to one host cost about 40 % of the worker's CPU. One multi per
// HTTP_CONNS_PER_SHARD requests in flight (two per job) keeps those scans short.
#define HTTP_MAX_SHARDS 32
#define HTTP_CONNS_PER_SHARD 256

struct worker_chain {
    const worker_cfg_t *cfg;
    lull_db_t *db;
    lull_http_t *http[HTTP_MAX_SHARDS];
    int nhttp;
    unsigned next_http;  // round-robin shard of the next request
    worker_limit_t limits[WORKER_NPROVIDERS];
    const char *keys[WORKER_NPROVIDERS], *bases[WORKER_NPROVIDERS];
    worker_llm_opts_t opts;  // provider options from cfg
    worker_chain_call_t *waiting;
    bool stopping;
    lull_counter_t *m_llm_ok, *m_llm_retry, *m_llm_next;
};

static void s_step(worker_chain_t *self, worker_chain_call_t *call);

worker_chain_t *worker_chain_new(const worker_cfg_t *cfg, lull_loop_t *loop, lull_db_t *db, lull_metrics_t *metrics)
{
    worker_chain_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->cfg = cfg;
    self->db = db;
    int64_t shards = (2 * (int64_t)cfg->concurrency + HTTP_CONNS_PER_SHARD - 1) / HTTP_CONNS_PER_SHARD;
    self->nhttp = shards < 1 ? 1 : shards > HTTP_MAX_SHARDS ? HTTP_MAX_SHARDS : (int)shards;
    for (int i = 0; i < self->nhttp; i++) {
        self->http[i] = lull_http_new(loop, HTTP_MAX_BODY, cfg->llm_timeout_ms, 0);
        if (!self->http[i]) {
            worker_chain_destroy(&self);
            return NULL;
        }
    }
    self->opts = (worker_llm_opts_t){cfg->openai_max_tokens, cfg->openai_reasoning.items, cfg->openai_reasoning.n,
                                     cfg->anthropic_version};
    LOG_INFO("jobs.http", "LLM requests spread over libcurl multi handles", "multis", LI(self->nhttp));
    const char *keys[] = {cfg->openai_key, cfg->anthropic_key, cfg->gemini_key};
    const char *bases[] = {cfg->openai_base, cfg->anthropic_base, cfg->gemini_base};
    int64_t now = lull_clock_mono_ms();
    for (int i = 0; i < WORKER_NPROVIDERS; i++) {
        self->keys[i] = keys[i];
        self->bases[i] = bases[i];
        worker_limit_init(&self->limits[i], cfg->provider_rps, cfg->provider_burst, cfg->cooldown_failures,
                          cfg->cooldown_ms, now);
    }
    const char *help = "provider requests by result class";
    self->m_llm_ok = lull_metrics_counter(metrics, "lull_worker_llm_requests_total", "class=\"ok\"", help);
    self->m_llm_retry = lull_metrics_counter(metrics, "lull_worker_llm_requests_total", "class=\"retry\"", help);
    self->m_llm_next = lull_metrics_counter(metrics, "lull_worker_llm_requests_total", "class=\"next\"", help);
    return self;
}

void worker_chain_stop(worker_chain_t *self)
{
    if (!self) return;
    self->stopping = true;
    for (int i = 0; i < self->nhttp; i++) lull_http_destroy(&self->http[i]);  // aborts; callbacks see stopping
}

void worker_chain_destroy(worker_chain_t **self_p)
{
    if (!self_p || !*self_p) return;
    worker_chain_stop(*self_p);
    free(*self_p);
    *self_p = NULL;
}

bool worker_chain_has_key(const worker_chain_t *self, int i)
{
    return i >= 0 && i < WORKER_NPROVIDERS && self->keys[i] && *self->keys[i];
}

void worker_chain_call_clear(worker_chain_call_t *call)
{
    worker_conv_clear(&call->conv);
    free(call->text);
    call->text = NULL;
    free(call->combined_reply);
    call->combined_reply = NULL;
    worker_analysis_clear(&call->combined);
}

void worker_chain_cancel(worker_chain_t *self, worker_chain_call_t *call)
{
    if (!call->waiting) return;
    if (call->wprev) call->wprev->wnext = call->wnext;
    else self->waiting = call->wnext;
    if (call->wnext) call->wnext->wprev = call->wprev;
    call->wprev = call->wnext = NULL;
    call->waiting = false;
}

static void s_wait(worker_chain_t *self, worker_chain_call_t *call, int64_t delay_ms)
{
    call->due_ms = lull_clock_mono_ms() + (delay_ms > 0 ? delay_ms : 0);
    call->waiting = true;
    call->wprev = NULL;
    call->wnext = self->waiting;
    if (self->waiting) self->waiting->wprev = call;
    self->waiting = call;
}

void worker_chain_tick(worker_chain_t *self)
{
    int64_t now = lull_clock_mono_ms();
    // Stepping a call may free its owner (and cancel a sibling call), so restart from the head after each one.
    for (int budget = 100000; budget > 0 && !self->stopping; budget--) {
        worker_chain_call_t *c = self->waiting;
        while (c && c->due_ms > now) c = c->wnext;
        if (!c) break;
        worker_chain_cancel(self, c);
        s_step(self, c);
    }
}

int64_t worker_chain_backoff_until(const worker_chain_t *self, const int *chain, int n)
{
    int64_t now = lull_clock_mono_ms(), least = -1;
    for (int i = 0; i < n; i++) {
        int64_t left = worker_limit_cooling(&self->limits[chain[i]], now);
        if (left == 0) return 0;
        if (least < 0 || left < least) least = left;
    }
    return least > 0 ? lull_clock_wall_ms() + least : 0;
}

static void s_finish(worker_chain_call_t *call, bool ok)
{
    call->running = false;
    call->ok = ok;
    call->done(call, call->arg);
}

static void s_next_provider(worker_chain_t *self, worker_chain_call_t *call)
{
    call->pos++;
    call->retries = 0;
    s_step(self, call);
}

// A provider's answer that parsed may still be unusable: an analysis must validate, a combined answer too
// (when it is the final answer: no tool calls, or no tool round left), a reply must hold text or tool calls.
// Such an answer counts as malformed (next provider). A combined answer's parts are kept in the call.
static void s_check_answer(worker_chain_call_t *call, worker_llm_result_t *res, bool rounds_left)
{
    if (res->cls != WORKER_LLM_OK) return;
    if (call->conv.mode == WORKER_MODE_COMBINED && (res->ncalls == 0 || !rounds_left)) {
        if (res->ncalls > 0 && (!res->text || !*res->text)) return;  // "tool rounds exhausted" below
        worker_analysis_t check = {0};
        char err[160], *reply = NULL;
        if (worker_combined_parse(res->text, call->extraction_fields, &reply, &check, err, sizeof err) != 0) {
            res->cls = WORKER_LLM_NEXT;
            snprintf(res->error, sizeof res->error, "malformed combined answer: %.120s", err);
            return;
        }
        free(call->combined_reply);  // (an earlier provider's, if any: this answer is the final one)
        worker_analysis_clear(&call->combined);
        call->combined_reply = reply;
        call->combined = check;
    } else if (call->conv.mode == WORKER_MODE_ANALYSIS) {
        worker_analysis_t check = {0};
        char err[160];
        if (worker_analysis_parse(res->text, call->extraction_fields, &check, err, sizeof err) != 0) {
            res->cls = WORKER_LLM_NEXT;
            snprintf(res->error, sizeof res->error, "malformed analysis: %.120s", err);
        }
        worker_analysis_clear(&check);
    } else if (res->ncalls == 0 && (!res->text || !*res->text)) {
        res->cls = WORKER_LLM_NEXT;
        snprintf(res->error, sizeof res->error, "malformed answer: empty text");
    }
}

// Runs the tools a reply asked for and appends the calls and results to the conversation. 0, or -1 when
// the conversation is full.
static int s_run_tools(worker_chain_t *self, worker_chain_call_t *call, const worker_llm_result_t *res)
{
    for (size_t i = 0; i < res->ncalls; i++)
        if (worker_conv_add(&call->conv, WORKER_ITEM_TOOL_CALL, NULL, res->calls[i].id, res->calls[i].name,
                            res->calls[i].args) != 0)
            return -1;
    for (size_t i = 0; i < res->ncalls; i++) {
        char *out = worker_tools_run(self->db, call->tenant_id, res->calls[i].name, res->calls[i].args);
        int rc = out ? worker_conv_add(&call->conv, WORKER_ITEM_TOOL_RESULT, out, res->calls[i].id,
                                       res->calls[i].name, NULL)
                     : -1;
        free(out);
        if (rc != 0) return -1;
    }
    return 0;
}

static void s_on_http(const lull_http_resp_t *resp, void *arg)
{
    worker_chain_call_t *call = arg;
    worker_chain_t *self = call->owner;
    call->in_http = false;
    if (self->stopping) {
        call->running = false;
        return;
    }
    int pi = call->chain[call->pos];
    const char *name = WORKER_PROVIDERS[pi]->name;
    int64_t now = lull_clock_mono_ms();
    worker_llm_result_t res = {0};
    if (resp->status >= 200 && resp->status < 300 && resp->curl_code == 0)
        WORKER_PROVIDERS[pi]->parse(resp->body, resp->body_len, &res);
    else
        res.cls = worker_llm_classify(resp->curl_code ? 0 : resp->status, resp->body, resp->body_len, res.error,
                                      sizeof res.error);
    worker_usage_t *u = &call->usage[pi];
    u->requests++;
    u->tokens_in += res.tokens_in;
    u->tokens_out += res.tokens_out;
    u->cached_in += res.tokens_cached;
    u->cache_write += res.tokens_cache_write;
    u->latency_ms += resp->elapsed_ms;
    s_check_answer(call, &res, call->rounds < self->cfg->tool_rounds);
    if (worker_limit_record(&self->limits[pi], res.cls == WORKER_LLM_OK, now))
        LOG_WARN("provider.cooldown", "provider cooling down after repeated failures", "provider", LS(name), "ms",
                 LI(self->cfg->cooldown_ms));
    LOG_DEBUG("llm.done", NULL, "job", LI((int64_t)call->job_id), "conv", LI(call->conv_id), "provider", LS(name), "status", LI(resp->status),
              "ms", LI(resp->elapsed_ms), "class", LI(res.cls), "error", LS(res.error));
    if (res.cls == WORKER_LLM_OK) {
        lull_counter_add(self->m_llm_ok, 1);
        if (call->conv.mode != WORKER_MODE_ANALYSIS && res.ncalls > 0 && call->rounds < self->cfg->tool_rounds) {
            // run the tools, append call + result items, ask again (same provider)
            call->rounds++;
            int rc = s_run_tools(self, call, &res);
            worker_llm_result_clear(&res);
            if (rc != 0) {
                snprintf(call->error, sizeof call->error, "conversation too long after tool calls");
                s_finish(call, false);
                return;
            }
            s_step(self, call);
            return;
        }
        if (!res.text || !*res.text) {  // tool calls beyond the round limit and no text
            snprintf(call->error, sizeof call->error, "tool rounds exhausted without an answer");
            worker_llm_result_clear(&res);
            s_next_provider(self, call);
            return;
        }
        call->text = res.text;
        res.text = NULL;
        call->provider = pi;
        worker_llm_result_clear(&res);
        s_finish(call, true);
        return;
    }
    snprintf(call->error, sizeof call->error, "%s: %.140s", name, res.error);
    worker_llm_class_t cls = res.cls;
    worker_llm_result_clear(&res);
    if (cls == WORKER_LLM_RETRY) {
        lull_counter_add(self->m_llm_retry, 1);
        int64_t ra = lull_http_retry_after_ms(resp, self->cfg->retry_cap_ms);
        if (ra > call->retry_after_ms) call->retry_after_ms = ra;
        if (call->retries < self->cfg->llm_retries && !worker_limit_cooling(&self->limits[pi], now)) {
            int64_t delay = lull_retry_delay_ms(call->retries, self->cfg->retry_base_ms, self->cfg->retry_cap_ms, ra);
            call->retries++;
            s_wait(self, call, delay);
            return;
        }
    } else {
        lull_counter_add(self->m_llm_next, 1);
    }
    s_next_provider(self, call);
}

// Sends the call's next request: the current provider if it is usable, else the next one; finishes the
// call when none is left.
static void s_step(worker_chain_t *self, worker_chain_call_t *call)
{
    int64_t now = lull_clock_mono_ms();
    for (; call->pos < call->nchain; call->pos++, call->retries = 0) {
        int pi = call->chain[call->pos];
        const worker_provider_t *prov = WORKER_PROVIDERS[pi];
        if (!worker_chain_has_key(self, pi)) continue;
        if (call->conv.mode == WORKER_MODE_COMBINED && !worker_combined_capable(pi, call->model[pi], call->conv.tools)) {
            call->skipped |= 1u << pi;  // the owner falls back to two calls at it when no other provider answers
            snprintf(call->error, sizeof call->error, "%s: model cannot give a combined answer", prov->name);
            continue;
        }
        if (worker_limit_cooling(&self->limits[pi], now) > 0) {
            snprintf(call->error, sizeof call->error, "%s cooling down", prov->name);
            continue;
        }
        int64_t wait = worker_limit_take(&self->limits[pi], now);
        if (wait > 0) {  // rate limited: wait for a token (back-pressure, not a failure)
            s_wait(self, call, wait);
            return;
        }
        call->conv.model = call->model[pi];
        // The last tool round of a combined answer: the answer itself, no more tool calls.
        call->conv.tool_choice_none = call->conv.mode == WORKER_MODE_COMBINED && call->rounds >= self->cfg->tool_rounds;
        call->conv.opts = &self->opts;
        char url[1024], hdrs[WORKER_LLM_MAX_HEADERS][256];
        if (prov->url(self->bases[pi], call->model[pi], url, sizeof url) != 0) {
            snprintf(call->error, sizeof call->error, "%s: invalid base URL or model", prov->name);
            continue;
        }
        char *body = prov->build(&call->conv);
        if (!body) {
            snprintf(call->error, sizeof call->error, "%s: cannot build the request", prov->name);
            continue;
        }
        // the client takes the body (no copy); on HTTPS the requests of a burst wait for one HTTP/2 connection per
        // multi handle (libcurl multiplexes by default) instead of each opening its own TLS connection
        lull_http_req_t req = {.method = "POST", .url = url, .body_take = body, .body_len = strlen(body),
                               .timeout_ms = self->cfg->llm_timeout_ms, .pipewait = true};
        int nh = prov->headers(self->keys[pi], &self->opts, hdrs);
        for (int i = 0; i < nh && i < LULL_HTTP_MAX_HEADERS - 1; i++) req.headers[i] = hdrs[i];
        call->in_http = true;
        int rc = lull_http_start(self->http[self->next_http++ % (unsigned)self->nhttp], &req, s_on_http, call);
        if (rc == 0) return;
        call->in_http = false;
        snprintf(call->error, sizeof call->error, "%s: cannot start the request", prov->name);
    }
    s_finish(call, false);
}

void worker_chain_start(worker_chain_t *self, worker_chain_call_t *call)
{
    call->owner = self;
    call->running = true;
    call->pos = call->retries = call->rounds = 0;
    call->skipped = 0;
    call->provider = -1;
    s_step(self, call);
}
