// The job pipeline of lull-worker. Each job: one load query (+ one for the history), the content filter
// and escalation keywords, then two provider-chain calls in parallel on the loop (the reply, with tools,
// and the structured analysis), then one commit transaction whose first statement is the compare-and-swap
// on conversations.answered_upto. Database work is synchronous on the loop thread; LLM calls are not.
#include "worker_job.h"
#include "lull_clock.h"
#include "lull_http.h"
#include "lull_json.h"
#include "lull_log.h"
#include "lull_retry.h"
#include "worker_analysis.h"
#include "worker_limit.h"
#include "worker_llm.h"
#include "worker_prompt.h"
#include "worker_tools.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPROVIDERS 3
#define MAX_HISTORY_STR "60"  // messages of history given to the model at most
#define MAX_BODY_TEXT 4000     // bytes of one history message given to the model
#define MAX_BURST_TEXT 16000   // bytes of the burst scanned by the filter / given to the analysis
#define TICK_MS 5
#define HTTP_MAX_BODY (4u << 20)
#define COMMIT_NPARAMS 35
#define COMMIT_BATCH 128  // jobs per commit transaction at most
// LLM requests are spread over several libcurl multi handles: libcurl (7.88) scans a multi's whole
// connection cache linearly when it looks for a connection to reuse and when it returns one, which at
// thousands of connections to one host cost about 40 % of the worker's CPU. One multi per
// HTTP_CONNS_PER_SHARD requests in flight (two per job) keeps those scans short.
#define HTTP_MAX_SHARDS 32
#define HTTP_CONNS_PER_SHARD 256

static const char *const s_provider_names[NPROVIDERS] = {"openai", "anthropic", "gemini"};

static const char *const s_default_safe =
    "Sorry, I can't help with that here. A member of our team will get back to you.";
static const char *const s_default_apology =
    "Sorry, something went wrong on our side. A member of our team will get back to you shortly.";

static const char *const s_analysis_system =
    "You analyse a customer-service conversation. Look at the customer's latest messages (the burst) in the "
    "context of the earlier conversation and return only the JSON object the schema describes: sentiment with "
    "your confidence (0..1) in the whole analysis, intent, entities quoted from the text (names, emails, phones, "
    "order numbers), priority, whether a human should take over (escalate) and why, moderation flags, and the "
    "extracted fields (null when not mentioned).";

typedef struct s_job s_job_t;

typedef struct s_call {
    s_job_t *job;
    worker_mode_t mode;
    worker_conv_t conv;
    int pos;                  // position in the job's chain
    int retries;              // retries on the current provider
    int rounds;               // tool rounds done
    bool running;             // not finished yet
    bool in_http;             // a request is in flight
    bool waiting;             // in the delayed list
    bool ok;                  // finished with an answer
    int provider;             // provider index of the answer
    char *text;               // the answer text (owned)
    int64_t due_ms;           // monotonic time to continue when waiting
    int64_t started_ms;       // monotonic start of the current request
    int64_t retry_after_ms;   // largest Retry-After seen (capped)
    char error[160];          // last failure
    struct s_call *wprev, *wnext;
} s_call_t;

typedef struct {
    int64_t requests, tokens_in, tokens_out, latency_ms;
} s_usage_t;

struct s_job {
    worker_jobs_t *owner;
    uint64_t job_id;
    int64_t conv_id, tenant_id, expected, upto, contact_id;
    int32_t attempt;
    bool max_wait;              // LULL_JOB_MAX_WAIT: commit even when newer messages arrived after upto
    bool trial;                 // a dry run (CTL_REQ try): job_id is its req_id; answered by CTL_REP, commits nothing
    bool analyse_only;          // trial mode "analyse": the analysis call only
    int conn, gen;
    int64_t started_ms;
    // loaded
    char *channel, *recipient, *sender_address, *extraction_fields, *callback_url, *system, *schema;
    char *apology;
    char model[NPROVIDERS][128];
    int chain[NPROVIDERS];
    int nchain;
    double temperature, confidence_threshold;
    int max_tokens, max_attempts;
    s_usage_t usage[NPROVIDERS];
    s_call_t reply, analysis;
    bool want_analysis;
    // commit queue
    char *params[COMMIT_NPARAMS];  // owned commit statement parameters
    lull_outcome_t ok_outcome;  // outcome when the CAS applies
    char detail[LULL_PROTO_MAX_DETAIL + 1];
    bool queued;
    struct s_job *cprev, *cnext;
    struct s_job *lnext;        // load queue
    struct s_job *prev, *next;
};

struct worker_jobs {
    const worker_cfg_t *cfg;
    lull_loop_t *loop;
    lull_db_t *db;
    lull_http_t *http[HTTP_MAX_SHARDS];
    int nhttp;
    unsigned next_http;      // round-robin shard of the next request
    worker_done_fn *done;
    void *done_arg;
    worker_limit_t limits[NPROVIDERS];
    const char *keys[NPROVIDERS], *bases[NPROVIDERS], *models[NPROVIDERS];
    s_job_t *jobs;
    size_t njobs;
    s_call_t *waiting;
    s_job_t *chead, *ctail;  // jobs waiting for the next commit batch
    s_job_t *lhead, *ltail;  // jobs waiting for the next load batch
    PGconn *prepared;        // the connection the statements are prepared on (NULL = none)
    size_t nqueued;
    int tick;
    bool stopping;
    lull_counter_t *m_outcome[LULL_OUTCOME_MAX + 1];
    lull_counter_t *m_tries, *m_cas_conflict, *m_llm_ok, *m_llm_retry, *m_llm_next, *m_analysis_failed, *m_db_errors;
    lull_gauge_t *m_running;
    lull_histogram_t *m_job_seconds;
};

static void s_call_step(s_call_t *call);
static void s_job_maybe_finish(s_job_t *job);
static void s_unqueue(s_job_t *job);
static void s_flush_loads(worker_jobs_t *o);

// ------------------------------------------------------------------------------------------------
// small helpers

static char *s_dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void s_i64(char *buf, size_t len, int64_t v)
{
    snprintf(buf, len, "%lld", (long long)v);
}

static int s_provider_index(const char *name)
{
    for (int i = 0; i < NPROVIDERS; i++)
        if (strcmp(s_provider_names[i], name) == 0) return i;
    return -1;
}

// Cost estimate in USD per million tokens (input, output) by model prefix; unknown models cost 0.
static double s_cost_usd(const char *model, int64_t in, int64_t out)
{
    static const struct {
        const char *prefix;
        double in, out;
    } prices[] = {
        {"gpt-4o-mini", 0.15, 0.60},     {"gpt-4o", 2.50, 10.0},          {"gpt-4.1-nano", 0.10, 0.40},
        {"gpt-4.1-mini", 0.40, 1.60},    {"gpt-4.1", 2.00, 8.00},         {"claude-3-5-haiku", 0.80, 4.00},
        {"claude-3-haiku", 0.25, 1.25},  {"claude-haiku", 1.00, 5.00},    {"claude-3-5-sonnet", 3.00, 15.0},
        {"claude-sonnet", 3.00, 15.0},   {"claude-opus", 15.0, 75.0},     {"gemini-2.0-flash", 0.10, 0.40},
        {"gemini-2.5-flash", 0.30, 2.50}, {"gemini-1.5-flash", 0.075, 0.30}, {"gemini-2.5-pro", 1.25, 10.0},
    };
    for (size_t i = 0; i < sizeof prices / sizeof prices[0]; i++)
        if (strncmp(model, prices[i].prefix, strlen(prices[i].prefix)) == 0)
            return ((double)in * prices[i].in + (double)out * prices[i].out) / 1e6;
    return 0;
}

// ------------------------------------------------------------------------------------------------
// job life cycle

static void s_call_clear(s_call_t *call)
{
    worker_conv_clear(&call->conv);
    free(call->text);
    call->text = NULL;
}

static void s_unwait(s_call_t *call)
{
    if (!call->waiting) return;
    worker_jobs_t *o = call->job->owner;
    if (call->wprev) call->wprev->wnext = call->wnext;
    else o->waiting = call->wnext;
    if (call->wnext) call->wnext->wprev = call->wprev;
    call->wprev = call->wnext = NULL;
    call->waiting = false;
}

static void s_job_free(s_job_t *job)
{
    if (!job) return;
    worker_jobs_t *o = job->owner;
    s_unwait(&job->reply);
    s_unwait(&job->analysis);
    s_unqueue(job);
    for (int i = 0; i < (int)(sizeof job->params / sizeof job->params[0]); i++) free(job->params[i]);
    if (job->prev) job->prev->next = job->next;
    else if (o->jobs == job) o->jobs = job->next;
    if (job->next) job->next->prev = job->prev;
    o->njobs--;
    lull_gauge_set(o->m_running, (double)o->njobs);
    s_call_clear(&job->reply);
    s_call_clear(&job->analysis);
    free(job->channel);
    free(job->recipient);
    free(job->sender_address);
    free(job->extraction_fields);
    free(job->callback_url);
    free(job->system);
    free(job->schema);
    free(job->apology);
    free(job);
}

// Wall-clock ms until which the scheduler should hold dispatch: when every provider of this job's chain is
// cooling down, the end of the earliest cooldown; else 0.
static int64_t s_backoff_until(const s_job_t *job)
{
    const worker_jobs_t *o = job->owner;
    int64_t now = lull_clock_mono_ms(), least = -1;
    for (int i = 0; i < job->nchain; i++) {
        int64_t left = worker_limit_cooling(&o->limits[job->chain[i]], now);
        if (left == 0) return 0;
        if (least < 0 || left < least) least = left;
    }
    return least > 0 ? lull_clock_wall_ms() + least : 0;
}

// Sends a dry run's CTL_REP (status, body: owned JSON, freed here; NULL = out of memory → 500).
static void s_trial_reply(worker_jobs_t *o, uint64_t req_id, int conn, int gen, int status, char *body)
{
    lull_msg_t rep = {.type = LULL_MSG_CTL_REP};
    rep.u.ctl_rep.req_id = req_id;
    rep.u.ctl_rep.status = body ? status : 500;
    rep.u.ctl_rep.body = body;
    lull_counter_add(o->m_tries, 1);
    LOG_INFO("try.done", NULL, "req", LI((int64_t)req_id), "status", LI(rep.u.ctl_rep.status));
    o->done(&rep, conn, gen, NULL, 0, o->done_arg);
    free(body);
}

// Answers a dry run with status and body (owned, freed here) and frees the job.
static void s_trial_answer(s_job_t *job, int status, char *body)
{
    s_trial_reply(job->owner, job->job_id, job->conn, job->gen, status, body);
    s_job_free(job);
}

// The usage of a job's provider requests as a JSON array (added to obj under "usage").
static void s_trial_usage(const s_job_t *job, cJSON *obj)
{
    cJSON *arr = cJSON_AddArrayToObject(obj, "usage");
    for (int i = 0; arr && i < NPROVIDERS; i++) {
        const s_usage_t *u = &job->usage[i];
        if (u->requests == 0) continue;
        cJSON *e = cJSON_CreateObject();
        if (!e) return;
        cJSON_AddStringToObject(e, "provider", s_provider_names[i]);
        cJSON_AddStringToObject(e, "model", job->model[i]);
        cJSON_AddNumberToObject(e, "requests", (double)u->requests);
        cJSON_AddNumberToObject(e, "tokens_in", (double)u->tokens_in);
        cJSON_AddNumberToObject(e, "tokens_out", (double)u->tokens_out);
        cJSON_AddNumberToObject(e, "latency_ms", (double)u->latency_ms);
        cJSON_AddNumberToObject(e, "cost_usd", s_cost_usd(job->model[i], u->tokens_in, u->tokens_out));
        cJSON_AddItemToArray(arr, e);
    }
}

// Adds the validated analysis (its raw JSON) and who produced it to obj; null when there is none.
static void s_trial_analysis(const worker_analysis_t *a, const char *provider, cJSON *obj)
{
    char err[64];
    cJSON *raw = a && a->raw ? lull_json_parse(a->raw, strlen(a->raw), LULL_JSON_MAX_DEPTH, err, sizeof err) : NULL;
    if (raw) {
        cJSON_AddItemToObject(obj, "analysis", raw);
        cJSON_AddStringToObject(obj, "analysis_provider", provider ? provider : "");
    } else {
        cJSON_AddNullToObject(obj, "analysis");
    }
}

// A dry run that ended before or instead of its result (the tenant and the database were checked before it
// started): every provider failed → 502, anything else → 500, with the job's detail.
static void s_trial_fail(s_job_t *job, lull_outcome_t outcome, const char *detail)
{
    bool providers = outcome == LULL_OUTCOME_FAILED_RETRYABLE;
    s_trial_answer(job, providers ? 502 : 500, lull_json_error_body(providers ? "providers_failed" : "failed", detail));
}

// Reports the job's DONE and frees it.
static void s_job_done(s_job_t *job, lull_outcome_t outcome, int64_t retry_after_ms, const char *detail,
                       const int64_t *outbox_ids, size_t noutbox)
{
    worker_jobs_t *o = job->owner;
    if (job->trial) {
        s_trial_fail(job, outcome, detail ? detail : "");
        return;
    }
    lull_msg_t done = {.type = LULL_MSG_DONE};
    done.u.done.job_id = job->job_id;
    done.u.done.conversation_id = job->conv_id;
    done.u.done.outcome = outcome;
    done.u.done.retry_after_ms = retry_after_ms > 0 ? retry_after_ms : 0;
    done.u.done.backoff_until_ms = job->nchain > 0 ? s_backoff_until(job) : 0;
    snprintf(done.u.done.detail, sizeof done.u.done.detail, "%s", detail ? detail : "");
    lull_counter_add(o->m_outcome[outcome], 1);
    lull_histogram_observe(o->m_job_seconds, (double)(lull_clock_mono_ms() - job->started_ms) / 1000.0);
    LOG_INFO("job.done", NULL, "job", LI((int64_t)job->job_id), "conv", LI(job->conv_id), "upto", LI(job->upto),
             "attempt", LI(job->attempt), "outcome", LS(lull_outcome_name(outcome)), "detail", LS(done.u.done.detail),
             "ms", LI(lull_clock_mono_ms() - job->started_ms));
    o->done(&done, job->conn, job->gen, outbox_ids, noutbox, o->done_arg);
    s_job_free(job);
}

// ------------------------------------------------------------------------------------------------
// commit

typedef struct {
    const char *reply;       // bot message body; NULL = none
    const char *kind;        // outbox payload kind
    const char *esc_source;  // escalation source; NULL = none
    const char *esc_reason;
    bool limit_contact;      // set contacts.limited_until (content filter)
    const worker_analysis_t *analysis;
    const char *analysis_provider, *analysis_model;
} s_commit_t;

// Tells duplicate from superseded after a failed compare-and-swap (or before loading).
static lull_outcome_t s_reread(s_job_t *job)
{
    char conv[24];
    s_i64(conv, sizeof conv, job->conv_id);
    const char *p[] = {conv};
    PGresult *r = lull_db_exec(job->owner->db, "SELECT answered_upto FROM conversations WHERE id = $1", 1, p);
    bool ok = false;
    int64_t answered = r && PQntuples(r) == 1 ? lull_db_int(r, 0, 0, &ok) : 0;
    if (r) PQclear(r);
    return ok && answered >= job->upto ? LULL_OUTCOME_DUPLICATE : LULL_OUTCOME_SUPERSEDED;
}


enum {
    C_TENANT, C_CONTACT, C_CHANNEL, C_STATUS, C_ANSWERED, C_LAST, C_BUSINESS, C_EXTCONV, C_EXTID, C_CUSTOMER,
    C_LIMITED, C_COMPANY, C_AGENT, C_HISTORY, C_CHAIN, C_MODEL, C_TEMP, C_MAXTOK, C_KEYWORDS, C_BLOCKED, C_SAFE,
    C_APOLOGY, C_THRESHOLD, C_MAXATT, C_LIM_T, C_LIM_C, C_FIELDS, C_CALLBACK, C_TIKTOK, C_TEMPLATE, C_USED_T,
    C_USED_C, C_MODELS, C_NCOLS
};

static const char *const s_load_sql =
    "SELECT c.tenant_id, c.contact_id, c.channel, c.status, c.answered_upto, c.last_inbound_id,"
    " c.business_address, c.external_conversation_id, ct.external_id,"
    " coalesce(nullif(ct.first_name, ''), nullif(ct.profile_name, ''), ''),"
    " coalesce(ct.limited_until > now(), false), t.company_name, t.agent_name, t.history_len,"
    " t.provider_chain::text, t.model, t.temperature, t.max_tokens, t.escalation_keywords::text,"
    " t.blocked_patterns::text, t.safe_reply, t.apology_reply, t.confidence_threshold, t.max_attempts,"
    " t.daily_limit_tenant, t.daily_limit_contact, t.extraction_fields::text, t.callback_url,"
    " t.tiktok_business_id, p.template,"
    " CASE WHEN t.daily_limit_tenant IS NULL THEN 0 ELSE (SELECT coalesce(sum(requests), 0) FROM usage u"
    "   WHERE u.tenant_id = c.tenant_id AND u.day = current_date) END,"
    " CASE WHEN t.daily_limit_contact IS NULL THEN 0 ELSE (SELECT coalesce(sum(requests), 0) FROM usage u"
    "   WHERE u.tenant_id = c.tenant_id AND u.contact_id = c.contact_id AND u.day = current_date) END,"
    " t.models::text"
    " FROM conversations c JOIN contacts ct ON ct.id = c.contact_id JOIN tenants t ON t.id = c.tenant_id"
    " LEFT JOIN prompts p ON p.id = t.prompt_id WHERE c.id = $1";

static const char *const s_history_sql =
    "SELECT id, direction, body FROM (SELECT id, direction, body FROM messages"
    " WHERE conversation_id = $1 AND id <= $2 ORDER BY id DESC LIMIT (SELECT least(greatest(t.history_len, 1), "
    MAX_HISTORY_STR ") FROM conversations c JOIN tenants t ON t.id = c.tenant_id WHERE c.id = $1)) m ORDER BY id";

// The commit of one job as one statement: the compare-and-swap first (a data-modifying CTE), and every
// insert selects FROM it, so a lost CAS writes nothing. Several of these run in one transaction (one
// fsync for the batch); a statement whose CAS finds a newer state is simply a no-op inside it.
static const char *const s_commit_sql =
    "WITH cas AS (UPDATE conversations SET answered_upto = $8, failed_attempts = 0,"
    "  first_unanswered_at = CASE WHEN last_inbound_id = $8 THEN NULL ELSE (SELECT min(created_at) FROM messages"
    "  WHERE conversation_id = $1 AND direction = 'in' AND id > $8) END,"
    "  updated_at = now(), last_reply_at = CASE WHEN $34::boolean THEN now() ELSE last_reply_at END,"
    "  status = CASE WHEN $22::text IS NULL THEN status ELSE 'escalated' END,"
    "  escalated_at = CASE WHEN $22::text IS NULL THEN escalated_at ELSE now() END,"
    "  escalation_reason = CASE WHEN $22::text IS NULL THEN escalation_reason ELSE $21::text END"
    "  WHERE id = $1 AND answered_upto = $33 AND status = 'open'"
    "  AND (last_inbound_id = $8 OR ($35::boolean AND last_inbound_id > $8)) RETURNING id),"
    " m AS (INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, body)"
    "  SELECT $1, $2, $3, 'out', 'bot', $4::text FROM cas WHERE $4::text IS NOT NULL RETURNING id),"
    " o AS (INSERT INTO outbox (tenant_id, conversation_id, message_id, channel, recipient, sender_address,"
    "  payload, idempotency_key)"
    "  SELECT $2, $1, m.id, $3, $5, $6, jsonb_build_object('body', $4::text, 'kind', $7::text), 'out_' || m.id"
    "  FROM m RETURNING id),"
    " a AS (INSERT INTO analyses (conversation_id, tenant_id, message_id, upto_message_id, sentiment,"
    "  sentiment_confidence, intent, priority, escalate, escalate_reason, entities, moderation, extracted, raw,"
    "  provider, model)"
    "  SELECT $1, $2, (SELECT id FROM m), $8, $9, $10::real, $11, $12, $13::boolean, $14, $15::jsonb,"
    "  $16::jsonb, $17::jsonb, $18::jsonb, $19, $20 FROM cas WHERE $9::text IS NOT NULL),"
    " e AS (INSERT INTO escalations (conversation_id, tenant_id, reason, source)"
    "  SELECT $1, $2, $21, $22 FROM cas WHERE $22::text IS NOT NULL RETURNING id),"
    " eo AS (INSERT INTO outbox (tenant_id, conversation_id, channel, recipient, payload, idempotency_key)"
    "  SELECT $2, $1, 'generic', $23, jsonb_build_object('kind', 'escalation', 'body', $21::text,"
    "  'conversation_id', $1::bigint, 'escalation_id', e.id, 'source', $22::text), 'esc_' || e.id"
    "  FROM e WHERE $23::text IS NOT NULL RETURNING id),"
    " u AS (INSERT INTO usage AS us (tenant_id, contact_id, day, provider, model, requests, prompt_tokens,"
    "  completion_tokens, latency_ms, cost_usd)"
    "  SELECT $2, $24, current_date, x.p, x.mo, x.r, x.ti, x.tou, x.l, x.c"
    "  FROM cas, unnest($25::text[], $26::text[], $27::int[], $28::bigint[], $29::bigint[], $30::bigint[],"
    "  $31::numeric[]) AS x(p, mo, r, ti, tou, l, c)"
    "  ON CONFLICT (tenant_id, contact_id, day, provider, model) DO UPDATE SET"
    "  requests = us.requests + EXCLUDED.requests, prompt_tokens = us.prompt_tokens + EXCLUDED.prompt_tokens,"
    "  completion_tokens = us.completion_tokens + EXCLUDED.completion_tokens,"
    "  latency_ms = us.latency_ms + EXCLUDED.latency_ms, cost_usd = us.cost_usd + EXCLUDED.cost_usd),"
    " ct AS (UPDATE contacts SET limited_until = now() + $32::bigint * interval '1 millisecond',"
    "  updated_at = now() WHERE id = $24 AND $32::bigint > 0 AND EXISTS (SELECT 1 FROM cas))"
    " SELECT (SELECT count(*) FROM cas), (SELECT id FROM o), (SELECT id FROM eo)";

// A dry run loads the tenant in the layout of s_load_sql (a conversation that has just this one message, from
// "the customer" on the generic channel, no daily limits), and a history of the one message ($1).
static const char *const s_try_sql =
    "SELECT t.id, 0::bigint, 'generic', 'open', 0::bigint, 1::bigint, NULL::text, NULL::text, NULL::text, '',"
    " false, t.company_name, t.agent_name, t.history_len, t.provider_chain::text, t.model, t.temperature,"
    " t.max_tokens, t.escalation_keywords::text, t.blocked_patterns::text, t.safe_reply, t.apology_reply,"
    " t.confidence_threshold, t.max_attempts, NULL::bigint, NULL::bigint, t.extraction_fields::text, NULL::text,"
    " t.tiktok_business_id, p.template, 0::bigint, 0::bigint, t.models::text"
    " FROM tenants t LEFT JOIN prompts p ON p.id = t.prompt_id WHERE t.id = $1";
static const char *const s_try_history_sql = "SELECT 1::bigint, 'in'::text, $1::text";

// Copies the commit parameters of a job (owned by the job until its DONE) and queues it for the next
// batch; the batch runs on the next tick or when it is full.
// The result of a dry run in place of its commit: what would have been sent, and why.
static void s_trial_result(s_job_t *job, const s_commit_t *c, lull_outcome_t outcome, const char *detail)
{
    cJSON *r = cJSON_CreateObject();
    if (!r) {
        s_trial_answer(job, 500, NULL);
        return;
    }
    cJSON_AddStringToObject(r, "mode", "reply");
    cJSON_AddNumberToObject(r, "tenant_id", (double)job->tenant_id);
    cJSON_AddStringToObject(r, "outcome", lull_outcome_name(outcome));
    cJSON_AddStringToObject(r, "detail", detail ? detail : "");
    if (c->reply) {
        cJSON_AddStringToObject(r, "reply", c->reply);
        cJSON_AddStringToObject(r, "kind", c->kind ? c->kind : "reply");
    } else {
        cJSON_AddNullToObject(r, "reply");
        cJSON_AddNullToObject(r, "kind");
    }
    if (c->reply && c->kind && strcmp(c->kind, "reply") == 0 && job->reply.ok) {
        cJSON_AddStringToObject(r, "provider", s_provider_names[job->reply.provider]);
        cJSON_AddStringToObject(r, "model", job->model[job->reply.provider]);
    }
    cJSON *esc = c->esc_source ? cJSON_AddObjectToObject(r, "escalation") : NULL;
    if (esc) {
        cJSON_AddStringToObject(esc, "source", c->esc_source);
        cJSON_AddStringToObject(esc, "reason", c->esc_reason ? c->esc_reason : "");
    } else {
        cJSON_AddNullToObject(r, "escalation");
    }
    s_trial_analysis(c->analysis, c->analysis_provider, r);
    s_trial_usage(job, r);
    cJSON_AddNumberToObject(r, "ms", (double)(lull_clock_mono_ms() - job->started_ms));
    char *body = lull_json_print(r);
    cJSON_Delete(r);
    s_trial_answer(job, 200, body);
}

static void s_commit_and_done(s_job_t *job, const s_commit_t *c, lull_outcome_t ok_outcome, const char *detail)
{
    worker_jobs_t *o = job->owner;
    if (job->trial) {
        s_trial_result(job, c, ok_outcome, detail);
        return;
    }
    char conv[24], tenant[24], expected[24], upto[24], contact[24], conf[32], limit_ms[24];
    s_i64(conv, sizeof conv, job->conv_id);
    s_i64(tenant, sizeof tenant, job->tenant_id);
    s_i64(expected, sizeof expected, job->expected);
    s_i64(upto, sizeof upto, job->upto);
    s_i64(contact, sizeof contact, job->contact_id);
    s_i64(limit_ms, sizeof limit_ms, c->limit_contact ? o->cfg->block_limit_ms : 0);
    // usage per provider used: parallel arrays for unnest
    char prov[128] = "{", models[512] = "{", reqs[128] = "{", tin[160] = "{", tout[160] = "{", lat[160] = "{",
         cost[192] = "{";
    int nu = 0;
    for (int i = 0; i < NPROVIDERS; i++) {
        const s_usage_t *u = &job->usage[i];
        if (u->requests == 0) continue;
        const char *sep = nu++ ? "," : "";
        char m[160];
        size_t k = 0;
        for (const char *q = job->model[i]; *q && k + 2 < sizeof m; q++)  // quoted array element
            if (*q != '"' && *q != '\\' && *q != '{' && *q != '}') m[k++] = *q;
        m[k] = '\0';
        size_t l;
        l = strlen(prov); snprintf(prov + l, sizeof prov - l, "%s%s", sep, s_provider_names[i]);
        l = strlen(models); snprintf(models + l, sizeof models - l, "%s\"%s\"", sep, m);
        l = strlen(reqs); snprintf(reqs + l, sizeof reqs - l, "%s%lld", sep, (long long)u->requests);
        l = strlen(tin); snprintf(tin + l, sizeof tin - l, "%s%lld", sep, (long long)u->tokens_in);
        l = strlen(tout); snprintf(tout + l, sizeof tout - l, "%s%lld", sep, (long long)u->tokens_out);
        l = strlen(lat); snprintf(lat + l, sizeof lat - l, "%s%lld", sep, (long long)u->latency_ms);
        l = strlen(cost); snprintf(cost + l, sizeof cost - l, "%s%.6f", sep, s_cost_usd(job->model[i], u->tokens_in, u->tokens_out));
    }
    char *arrays[] = {prov, models, reqs, tin, tout, lat, cost};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        size_t l = strlen(arrays[i]);
        arrays[i][l] = '}';
        arrays[i][l + 1] = '\0';
    }
    const worker_analysis_t *a = c->analysis;
    if (a) snprintf(conf, sizeof conf, "%.4f", a->confidence);
    const char *p[COMMIT_NPARAMS] = {
        conv, tenant, job->channel, c->reply, job->recipient, job->sender_address, c->kind ? c->kind : "reply",
        upto,                                                                  // $8
        a ? a->sentiment : NULL, a ? conf : NULL, a ? a->intent : NULL, a ? a->priority : NULL,  // $9..$12
        a ? (a->escalate ? "t" : "f") : NULL, a ? a->escalate_reason : NULL,   // $13, $14
        a ? a->entities : NULL, a ? a->moderation : NULL, a ? a->extracted : NULL, a ? a->raw : NULL,  // $15..$18
        c->analysis_provider, c->analysis_model,                               // $19, $20
        c->esc_source ? c->esc_reason : NULL, c->esc_source,                   // $21, $22
        c->esc_source ? job->callback_url : NULL,                              // $23
        contact, prov, models, reqs, tin, tout, lat, cost,                     // $24..$31
        limit_ms, expected, c->reply ? "t" : "f",                              // $32..$34
        job->max_wait ? "t" : "f",                                             // $35
    };
    bool oom = false;
    for (int i = 0; i < COMMIT_NPARAMS; i++) {
        job->params[i] = p[i] ? strdup(p[i]) : NULL;
        oom = oom || (p[i] && !job->params[i]);
    }
    job->ok_outcome = ok_outcome;
    snprintf(job->detail, sizeof job->detail, "%s", detail ? detail : "");
    if (oom) {
        s_job_done(job, LULL_OUTCOME_FAILED_RETRYABLE, 1000, "out of memory", NULL, 0);
        return;
    }
    job->queued = true;
    job->cnext = NULL;
    job->cprev = o->ctail;
    if (o->ctail) o->ctail->cnext = job;
    else o->chead = job;
    o->ctail = job;
    o->nqueued++;
}

static void s_unqueue(s_job_t *job)
{
    worker_jobs_t *o = job->owner;
    if (!job->queued) return;
    if (job->cprev) job->cprev->cnext = job->cnext;
    else o->chead = job->cnext;
    if (job->cnext) job->cnext->cprev = job->cprev;
    else o->ctail = job->cprev;
    job->cprev = job->cnext = NULL;
    job->queued = false;
    o->nqueued--;
}

// Prepares the worker's three statements on conn once per connection (forgotten after any batch error, so
// a new connection at a recycled address is prepared again). True when prepared.
static bool s_prepare(worker_jobs_t *o, PGconn *conn)
{
    if (o->prepared == conn) return true;
    o->prepared = NULL;
    const char *names[] = {"lull_w_load", "lull_w_history", "lull_w_commit"};
    const char *sqls[] = {s_load_sql, s_history_sql, s_commit_sql};
    const int nparams[] = {1, 2, COMMIT_NPARAMS};
    PGresult *r = PQexec(conn, "DEALLOCATE ALL");
    bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    for (int i = 0; ok && i < 3; i++) {
        r = PQprepare(conn, names[i], sqls[i], nparams[i], NULL);
        ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) LOG_WARN("db.prepare_failed", "cannot prepare a statement", "name", LS(names[i]), "error",
                          LS(r ? PQresultErrorMessage(r) : PQerrorMessage(conn)));
        PQclear(r);
    }
    if (ok) o->prepared = conn;
    return ok;
}

// Sends one statement into the open pipeline, prepared when possible. 1 on success (as libpq).
static int s_send(worker_jobs_t *o, PGconn *conn, const char *name, const char *sql, int n, const char *const *p)
{
    if (o->prepared == conn) return PQsendQueryPrepared(conn, name, n, p, NULL, NULL, 0);
    return PQsendQueryParams(conn, sql, n, NULL, p, NULL, NULL, 0);
}

// Reads one statement's result row into the batch arrays. True when the row is there.
static bool s_commit_row(const PGresult *r, int64_t ids[2], size_t *nids, bool *applied)
{
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 || PQnfields(r) != 3) return false;
    *applied = lull_db_int(r, 0, 0, NULL) == 1;
    for (int col = 1; col <= 2; col++) {
        bool v = false;
        int64_t id = lull_db_int(r, 0, col, &v);
        if (v && id > 0) ids[(*nids)++] = id;
    }
    return true;
}

// Runs the batch's statements as one transaction. With libpq pipeline mode the statements up to the sync
// point form one implicit transaction sent in one round trip; without it (a connection not ready for a
// pipeline), BEGIN, one statement each, COMMIT. True when committed.
static bool s_run_batch(worker_jobs_t *o, s_job_t **batch, int n, int64_t ids[][2], size_t *nids, bool *applied)
{
    PGconn *conn = lull_db_connected(o->db) ? lull_db_conn(o->db) : NULL;
    if (conn && PQpipelineStatus(conn) == PQ_PIPELINE_OFF) (void)s_prepare(o, conn);
    if (conn && PQpipelineStatus(conn) == PQ_PIPELINE_OFF && PQenterPipelineMode(conn) == 1) {
        bool ok = true;
        int sent = 0;
        for (int i = 0; i < n; i++) {
            if (s_send(o, conn, "lull_w_commit", s_commit_sql, COMMIT_NPARAMS, (const char *const *)batch[i]->params) != 1) {
                ok = false;
                break;
            }
            sent++;
        }
        if (PQpipelineSync(conn) != 1) ok = false;
        for (int i = 0; i < sent; i++) {
            PGresult *r = PQgetResult(conn);
            if (!r) {  // connection trouble: no more results will come
                ok = false;
                break;
            }
            if (!s_commit_row(r, ids[i], &nids[i], &applied[i])) {
                if (ok) LOG_WARN("job.commit_statement", "commit statement failed", "error", LS(PQresultErrorMessage(r)));
                ok = false;
            }
            PQclear(r);
            while ((r = PQgetResult(conn))) PQclear(r);  // the NULL that ends this statement's results
        }
        for (PGresult *r; (r = PQgetResult(conn));) {  // up to the sync result
            ExecStatusType st = PQresultStatus(r);
            PQclear(r);
            if (st == PGRES_PIPELINE_SYNC) break;
            ok = false;
        }
        if (PQexitPipelineMode(conn) != 1) ok = false;
        if (!ok) o->prepared = NULL;
        return ok && PQstatus(conn) == CONNECTION_OK;
    }
    bool ok = lull_db_begin(o->db) == 0;
    for (int i = 0; ok && i < n; i++) {
        PGresult *r = lull_db_exec(o->db, s_commit_sql, COMMIT_NPARAMS, (const char *const *)batch[i]->params);
        ok = s_commit_row(r, ids[i], &nids[i], &applied[i]);
        if (r) PQclear(r);
    }
    if (ok) ok = lull_db_commit(o->db) == 0;
    if (!ok) lull_db_rollback(o->db);
    return ok;
}

// Runs the queued commits in one transaction and reports each job. A failing statement or COMMIT fails
// the whole batch (nothing of it is committed): every job of it is reported failed_retryable.
static void s_flush_commits(worker_jobs_t *o)
{
    while (o->chead) {
        s_job_t *batch[COMMIT_BATCH];
        int n = 0;
        while (o->chead && n < COMMIT_BATCH) {
            batch[n] = o->chead;
            s_unqueue(o->chead);
            n++;
        }
        int64_t ids[COMMIT_BATCH][2];
        size_t nids[COMMIT_BATCH] = {0};
        bool applied[COMMIT_BATCH] = {false};
        bool ok = s_run_batch(o, batch, n, ids, nids, applied);
        if (!ok) {
            lull_counter_add(o->m_db_errors, 1);
            LOG_WARN("job.commit_failed", "commit failed; the jobs will be retried", "jobs", LI(n), "error",
                     LS(lull_db_error(o->db)));
        }
        for (int i = 0; i < n; i++) {
            s_job_t *job = batch[i];
            if (!ok) s_job_done(job, LULL_OUTCOME_FAILED_RETRYABLE, 1000, "database error", NULL, 0);
            else if (applied[i]) s_job_done(job, job->ok_outcome, 0, job->detail, ids[i], nids[i]);
            else {
                lull_counter_add(o->m_cas_conflict, 1);
                s_job_done(job, s_reread(job), 0, "cas", NULL, 0);
            }
        }
    }
}

// Records a failed attempt (no reply) and reports failed_retryable.
static void s_fail_retryable(s_job_t *job, int64_t retry_after_ms, const char *detail)
{
    if (job->trial) {
        s_job_done(job, LULL_OUTCOME_FAILED_RETRYABLE, retry_after_ms, detail, NULL, 0);
        return;
    }
    char conv[24], expected[24];
    s_i64(conv, sizeof conv, job->conv_id);
    s_i64(expected, sizeof expected, job->expected);
    const char *p[] = {conv, expected};
    int64_t affected = 0;
    if (lull_db_run(job->owner->db,
                    "UPDATE conversations SET failed_attempts = failed_attempts + 1, updated_at = now()"
                    " WHERE id = $1 AND answered_upto = $2 AND status = 'open'",
                    2, p, &affected) != 0)
        lull_counter_add(job->owner->m_db_errors, 1);
    s_job_done(job, LULL_OUTCOME_FAILED_RETRYABLE, retry_after_ms, detail, NULL, 0);
}

// ------------------------------------------------------------------------------------------------
// the provider chain of one call

static void s_wait(s_call_t *call, int64_t delay_ms)
{
    worker_jobs_t *o = call->job->owner;
    call->due_ms = lull_clock_mono_ms() + (delay_ms > 0 ? delay_ms : 0);
    call->waiting = true;
    call->wprev = NULL;
    call->wnext = o->waiting;
    if (o->waiting) o->waiting->wprev = call;
    o->waiting = call;
}

static void s_call_finish(s_call_t *call, bool ok)
{
    call->running = false;
    call->ok = ok;
    s_job_maybe_finish(call->job);
}

static void s_call_next_provider(s_call_t *call)
{
    call->pos++;
    call->retries = 0;
    s_call_step(call);
}

static void s_on_http(const lull_http_resp_t *resp, void *arg)
{
    s_call_t *call = arg;
    s_job_t *job = call->job;
    worker_jobs_t *o = job->owner;
    call->in_http = false;
    if (o->stopping) {
        call->running = false;
        return;
    }
    int pi = job->chain[call->pos];
    const worker_provider_t *prov = worker_provider_find(s_provider_names[pi]);
    int64_t now = lull_clock_mono_ms();
    worker_llm_result_t res = {0};
    if (resp->status >= 200 && resp->status < 300 && resp->curl_code == 0) prov->parse(resp->body, resp->body_len, &res);
    else res.cls = worker_llm_classify(resp->curl_code ? 0 : resp->status, resp->body, resp->body_len, res.error, sizeof res.error);
    s_usage_t *u = &job->usage[pi];
    u->requests++;
    u->tokens_in += res.tokens_in;
    u->tokens_out += res.tokens_out;
    u->latency_ms += resp->elapsed_ms;
    // the analysis must validate, or it counts as a malformed answer
    worker_analysis_t check = {0};
    if (res.cls == WORKER_LLM_OK && call->mode == WORKER_MODE_ANALYSIS) {
        char err[160];
        if (worker_analysis_parse(res.text, job->extraction_fields, &check, err, sizeof err) != 0) {
            res.cls = WORKER_LLM_NEXT;
            snprintf(res.error, sizeof res.error, "malformed analysis: %.120s", err);
        }
        worker_analysis_clear(&check);
    }
    if (res.cls == WORKER_LLM_OK && call->mode == WORKER_MODE_REPLY && res.ncalls == 0 &&
        (!res.text || !*res.text)) {
        res.cls = WORKER_LLM_NEXT;
        snprintf(res.error, sizeof res.error, "malformed answer: empty text");
    }
    bool cooled = worker_limit_record(&o->limits[pi], res.cls == WORKER_LLM_OK, now);
    if (cooled)
        LOG_WARN("provider.cooldown", "provider cooling down after repeated failures", "provider",
                 LS(s_provider_names[pi]), "ms", LI(o->cfg->cooldown_ms));
    LOG_DEBUG("llm.done", NULL, "job", LI((int64_t)job->job_id), "conv", LI(job->conv_id), "provider",
              LS(s_provider_names[pi]), "status", LI(resp->status), "ms", LI(resp->elapsed_ms), "class", LI(res.cls),
              "error", LS(res.error));
    if (res.cls == WORKER_LLM_OK) {
        lull_counter_add(o->m_llm_ok, 1);
        if (call->mode == WORKER_MODE_REPLY && res.ncalls > 0 && call->rounds < o->cfg->tool_rounds) {
            // run the tools, append call + result items, ask again (same provider)
            call->rounds++;
            bool full = false;
            for (size_t i = 0; i < res.ncalls && !full; i++)
                full = worker_conv_add(&call->conv, WORKER_ITEM_TOOL_CALL, NULL, res.calls[i].id, res.calls[i].name,
                                       res.calls[i].args) != 0;
            for (size_t i = 0; i < res.ncalls && !full; i++) {
                char *out = worker_tools_run(o->db, job->tenant_id, res.calls[i].name, res.calls[i].args);
                full = !out || worker_conv_add(&call->conv, WORKER_ITEM_TOOL_RESULT, out, res.calls[i].id,
                                               res.calls[i].name, NULL) != 0;
                free(out);
            }
            worker_llm_result_clear(&res);
            if (full) {
                snprintf(call->error, sizeof call->error, "conversation too long after tool calls");
                s_call_finish(call, false);
                return;
            }
            s_call_step(call);
            return;
        }
        if (!res.text || !*res.text) {  // tool calls beyond the round limit and no text
            snprintf(call->error, sizeof call->error, "tool rounds exhausted without an answer");
            worker_llm_result_clear(&res);
            s_call_next_provider(call);
            return;
        }
        call->text = res.text;
        res.text = NULL;
        call->provider = pi;
        worker_llm_result_clear(&res);
        s_call_finish(call, true);
        return;
    }
    snprintf(call->error, sizeof call->error, "%s: %.140s", s_provider_names[pi], res.error);
    worker_llm_class_t cls = res.cls;
    worker_llm_result_clear(&res);
    if (cls == WORKER_LLM_RETRY) {
        lull_counter_add(o->m_llm_retry, 1);
        int64_t ra = lull_http_retry_after_ms(resp, o->cfg->retry_cap_ms);
        if (ra > call->retry_after_ms) call->retry_after_ms = ra;
        if (call->retries < o->cfg->llm_retries && !worker_limit_cooling(&o->limits[pi], now)) {
            int64_t delay = lull_retry_delay_ms(call->retries, o->cfg->retry_base_ms, o->cfg->retry_cap_ms, ra);
            call->retries++;
            s_wait(call, delay);
            return;
        }
    } else {
        lull_counter_add(o->m_llm_next, 1);
    }
    s_call_next_provider(call);
}

static void s_call_step(s_call_t *call)
{
    s_job_t *job = call->job;
    worker_jobs_t *o = job->owner;
    int64_t now = lull_clock_mono_ms();
    for (; call->pos < job->nchain; call->pos++, call->retries = 0) {
        int pi = job->chain[call->pos];
        if (!o->keys[pi] || !*o->keys[pi]) continue;
        if (worker_limit_cooling(&o->limits[pi], now) > 0) {
            snprintf(call->error, sizeof call->error, "%s cooling down", s_provider_names[pi]);
            continue;
        }
        int64_t wait = worker_limit_take(&o->limits[pi], now);
        if (wait > 0) {  // rate limited: wait for a token (back-pressure, not a failure)
            s_wait(call, wait);
            return;
        }
        const worker_provider_t *prov = worker_provider_find(s_provider_names[pi]);
        call->conv.model = job->model[pi];
        char url[1024], hdrs[WORKER_LLM_MAX_HEADERS][256];
        if (prov->url(o->bases[pi], job->model[pi], url, sizeof url) != 0) {
            snprintf(call->error, sizeof call->error, "%s: invalid base URL or model", s_provider_names[pi]);
            continue;
        }
        char *body = prov->build(&call->conv);
        if (!body) {
            snprintf(call->error, sizeof call->error, "%s: cannot build the request", s_provider_names[pi]);
            continue;
        }
        lull_http_req_t req = {.method = "POST", .url = url, .body = body, .body_len = strlen(body),
                               .timeout_ms = o->cfg->llm_timeout_ms};
        int nh = prov->headers(o->keys[pi], hdrs);
        for (int i = 0; i < nh && i < LULL_HTTP_MAX_HEADERS - 1; i++) req.headers[i] = hdrs[i];
        call->in_http = true;
        call->started_ms = now;
        int rc = lull_http_start(o->http[o->next_http++ % (unsigned)o->nhttp], &req, s_on_http, call);
        free(body);
        if (rc == 0) return;
        call->in_http = false;
        snprintf(call->error, sizeof call->error, "%s: cannot start the request", s_provider_names[pi]);
    }
    s_call_finish(call, false);
}

// ------------------------------------------------------------------------------------------------
// finishing a job after its calls

static void s_job_finish(s_job_t *job)
{
    worker_jobs_t *o = job->owner;
    s_call_t *reply = &job->reply;
    if (job->analyse_only) {
        worker_analysis_t a = {0};
        char err[160] = "";
        if (!job->analysis.ok ||
            worker_analysis_parse(job->analysis.text, job->extraction_fields, &a, err, sizeof err) != 0) {
            s_job_done(job, LULL_OUTCOME_FAILED_RETRYABLE, 0,
                       job->analysis.error[0] ? job->analysis.error : "no valid analysis from any provider", NULL, 0);
            return;
        }
        cJSON *r = cJSON_CreateObject();
        if (r) {
            cJSON_AddStringToObject(r, "mode", "analyse");
            cJSON_AddNumberToObject(r, "tenant_id", (double)job->tenant_id);
            s_trial_analysis(&a, s_provider_names[job->analysis.provider], r);
            cJSON_AddStringToObject(r, "model", job->model[job->analysis.provider]);
            s_trial_usage(job, r);
            cJSON_AddNumberToObject(r, "ms", (double)(lull_clock_mono_ms() - job->started_ms));
        }
        char *body = r ? lull_json_print(r) : NULL;
        cJSON_Delete(r);
        worker_analysis_clear(&a);
        s_trial_answer(job, 200, body);
        return;
    }
    if (!reply->ok) {
        int64_t ra = reply->retry_after_ms;
        int64_t backoff = s_backoff_until(job);
        if (backoff > 0 && backoff - lull_clock_wall_ms() > ra) ra = backoff - lull_clock_wall_ms();
        if (job->max_attempts > 0 && job->attempt >= job->max_attempts) {
            s_commit_t c = {.reply = job->apology, .kind = "apology", .esc_source = "failure",
                            .esc_reason = "every provider failed on the last attempt"};
            LOG_WARN("job.apology", "every provider failed at the last attempt; apologising and escalating", "conv",
                     LI(job->conv_id), "attempt", LI(job->attempt), "error", LS(reply->error));
            s_commit_and_done(job, &c, LULL_OUTCOME_ESCALATED, "providers failed: apology sent, escalated");
            return;
        }
        LOG_WARN("job.providers_failed", "every provider failed", "conv", LI(job->conv_id), "attempt",
                 LI(job->attempt), "error", LS(reply->error));
        s_fail_retryable(job, ra > 0 ? ra : 0, reply->error[0] ? reply->error : "no provider available");
        return;
    }
    worker_analysis_t a = {0};
    bool have_analysis = false;
    if (job->want_analysis && job->analysis.ok) {
        char err[160];
        have_analysis = worker_analysis_parse(job->analysis.text, job->extraction_fields, &a, err, sizeof err) == 0;
    } else if (job->want_analysis) {
        lull_counter_add(o->m_analysis_failed, 1);
        LOG_WARN("job.analysis_failed", "no valid analysis from any provider; replying without it", "conv",
                 LI(job->conv_id), "error", LS(job->analysis.error));
    }
    s_commit_t c = {.reply = reply->text, .kind = "reply"};
    char reason[300] = "";
    if (have_analysis) {
        c.analysis = &a;
        c.analysis_provider = s_provider_names[job->analysis.provider];
        c.analysis_model = job->model[job->analysis.provider];
        if (a.escalate) {
            c.esc_source = "model";
            snprintf(reason, sizeof reason, "model: %.250s", a.escalate_reason && *a.escalate_reason ? a.escalate_reason : "handoff requested");
        } else if (a.confidence < job->confidence_threshold) {
            c.esc_source = "low_confidence";
            snprintf(reason, sizeof reason, "confidence %.2f below %.2f", a.confidence, job->confidence_threshold);
        } else if (strcmp(a.sentiment, "negative") == 0 &&
                   (strcmp(a.priority, "high") == 0 || strcmp(a.priority, "urgent") == 0)) {
            c.esc_source = "sentiment";
            snprintf(reason, sizeof reason, "negative sentiment with %s priority", a.priority);
        }
        c.esc_reason = reason;
    }
    s_commit_and_done(job, &c, c.esc_source ? LULL_OUTCOME_ESCALATED : LULL_OUTCOME_REPLIED,
                      c.esc_source ? c.esc_source : "replied");
    worker_analysis_clear(&a);
}

static void s_job_maybe_finish(s_job_t *job)
{
    if (job->reply.running || job->analysis.running) return;
    s_job_finish(job);
}

// ------------------------------------------------------------------------------------------------
// loading

static void s_tick(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    worker_jobs_t *o = arg;
    int64_t now = lull_clock_mono_ms();
    // Stepping a call may free its job (and unlink its sibling), so restart from the head after each one.
    for (int budget = 100000; budget > 0; budget--) {
        s_call_t *c = o->waiting;
        while (c && c->due_ms > now) c = c->wnext;
        if (!c) break;
        s_unwait(c);
        s_call_step(c);
    }
    s_flush_loads(o);
    s_flush_commits(o);
}

// Parses a PostgreSQL text[] of provider names into the chain; returns the count.
static int s_parse_chain(const char *arr, int chain[NPROVIDERS])
{
    int n = 0;
    if (!arr || arr[0] != '{') return 0;
    char name[32];
    const char *p = arr + 1;
    while (*p && *p != '}' && n < NPROVIDERS) {
        size_t k = 0;
        while (*p && *p != ',' && *p != '}') {
            if (*p != '"' && k + 1 < sizeof name) name[k++] = *p;
            p++;
        }
        name[k] = '\0';
        int pi = s_provider_index(name);
        bool dup = false;
        for (int i = 0; i < n; i++) dup = dup || chain[i] == pi;
        if (pi >= 0 && !dup) chain[n++] = pi;
        if (*p == ',') p++;
    }
    return n;
}

// Applies tenants.models {"provider": "model", …} (any provider of the chain, fallbacks included) over the
// defaults; entries that are not a known provider with a model name of 1..127 bytes are ignored.
static void s_apply_models(s_job_t *job, const char *json)
{
    if (!json || !*json || strcmp(json, "{}") == 0) return;
    char err[64];
    cJSON *doc = lull_json_parse(json, strlen(json), 4, err, sizeof err);
    for (int i = 0; cJSON_IsObject(doc) && i < NPROVIDERS; i++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, s_provider_names[i]);
        if (cJSON_IsString(m) && *m->valuestring && strlen(m->valuestring) < sizeof job->model[i])
            snprintf(job->model[i], sizeof job->model[i], "%s", m->valuestring);
    }
    cJSON_Delete(doc);
}

static void s_append(char *buf, size_t cap, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 1 > cap) n = cap - *len - 1;
    memcpy(buf + *len, s, n);
    *len += n;
    buf[*len] = '\0';
}


// Runs the job up to the start of its LLM calls, or to its DONE.

// Runs the job from its two load results (owned; NULL after a database error) up to the start of its
// LLM calls, or to its DONE.
static void s_job_run(s_job_t *job, PGresult *r, PGresult *h)
{
    worker_jobs_t *o = job->owner;
    // On the stack, not the heap: no three large heap blocks per job (each large request makes glibc
    // consolidate its fast bins), and no allocation failure to handle here.
    char burst[MAX_BURST_TEXT], transcript[MAX_BURST_TEXT], msg[2 * MAX_BURST_TEXT + 128];
    burst[0] = transcript[0] = '\0';
    if (!r || !h) {
        lull_counter_add(o->m_db_errors, 1);
        s_job_done(job, LULL_OUTCOME_FAILED_RETRYABLE, 1000, "database error", NULL, 0);
        goto cleanup;
    }
    if (PQntuples(r) != 1 || PQnfields(r) != C_NCOLS) {
        s_job_done(job, LULL_OUTCOME_FAILED_PERMANENT, 0, "conversation not found", NULL, 0);
        goto cleanup;
    }
    bool ok = true, okv = false;
    int64_t tenant = lull_db_int(r, 0, C_TENANT, &okv);
    ok = ok && okv;
    job->contact_id = lull_db_int(r, 0, C_CONTACT, &okv);
    ok = ok && okv;
    int64_t answered = lull_db_int(r, 0, C_ANSWERED, &okv);
    ok = ok && okv;
    int64_t last = lull_db_int(r, 0, C_LAST, &okv);
    ok = ok && okv;
    const char *status = lull_db_text(r, 0, C_STATUS), *channel = lull_db_text(r, 0, C_CHANNEL);
    if (!ok || !status || !channel || tenant != job->tenant_id) {
        LOG_WARN("job.invalid", "conversation row invalid or of another tenant", "conv", LI(job->conv_id),
                 "tenant", LI(job->tenant_id));
        s_job_done(job, LULL_OUTCOME_FAILED_PERMANENT, 0, "invalid conversation row or tenant mismatch", NULL, 0);
        goto cleanup;
    }
    if (answered >= job->upto) {
        s_job_done(job, LULL_OUTCOME_DUPLICATE, 0, "already answered", NULL, 0);
        goto cleanup;
    }
    if (last > job->upto && !job->max_wait) {
        s_job_done(job, LULL_OUTCOME_SUPERSEDED, 0, "newer message", NULL, 0);
        goto cleanup;
    }
    if (strcmp(status, "open") != 0) {
        s_job_done(job, strcmp(status, "escalated") == 0 ? LULL_OUTCOME_ESCALATED : LULL_OUTCOME_SUPERSEDED, 0,
                   status, NULL, 0);
        goto cleanup;
    }
    // the scheduler's view is stale: CAS would fail (a max-wait job may answer while newer messages wait)
    if (answered != job->expected || last < job->upto) {
        s_job_done(job, LULL_OUTCOME_SUPERSEDED, 0, "expected_upto/upto do not match the conversation", NULL, 0);
        goto cleanup;
    }
    job->channel = s_dup(channel);
    const char *extid = lull_db_text(r, 0, C_EXTID), *business = lull_db_text(r, 0, C_BUSINESS);
    const char *extconv = lull_db_text(r, 0, C_EXTCONV), *tiktok = lull_db_text(r, 0, C_TIKTOK);
    if (strcmp(channel, "tiktok") == 0) {
        job->recipient = s_dup(extconv);
        job->sender_address = s_dup(business ? business : tiktok);
    } else {
        job->recipient = s_dup(extid);
        if (strcmp(channel, "sms") == 0 || strcmp(channel, "whatsapp") == 0) job->sender_address = s_dup(business);
    }
    const char *fields = lull_db_text(r, 0, C_FIELDS), *callback = lull_db_text(r, 0, C_CALLBACK);
    job->extraction_fields = s_dup(fields ? fields : "[]");
    job->callback_url = callback && *callback ? s_dup(callback) : NULL;
    const char *apology = lull_db_text(r, 0, C_APOLOGY);
    job->apology = s_dup(apology && *apology ? apology : s_default_apology);
    if (!job->channel || !job->extraction_fields || !job->apology) {
        s_job_done(job, LULL_OUTCOME_FAILED_RETRYABLE, 1000, "out of memory", NULL, 0);
        goto cleanup;
    }
    const char *temp = lull_db_text(r, 0, C_TEMP), *thr = lull_db_text(r, 0, C_THRESHOLD);
    job->temperature = temp ? strtod(temp, NULL) : 0.7;
    if (!(job->temperature >= 0 && job->temperature <= 2)) job->temperature = 0.7;
    job->confidence_threshold = thr ? strtod(thr, NULL) : 0.5;
    if (!(job->confidence_threshold >= 0 && job->confidence_threshold <= 1)) job->confidence_threshold = 0.5;
    int64_t maxtok = lull_db_int(r, 0, C_MAXTOK, &okv);
    job->max_tokens = okv && maxtok > 0 && maxtok <= 100000 ? (int)maxtok : 512;
    int64_t maxatt = lull_db_int(r, 0, C_MAXATT, &okv);
    job->max_attempts = okv && maxatt >= 0 && maxatt < 1000 ? (int)maxatt : 3;
    int64_t history = lull_db_int(r, 0, C_HISTORY, &okv);
    (void)history;  // applied by the history query
    // the provider chain: the tenant's, else every provider with a key
    job->nchain = s_parse_chain(lull_db_text(r, 0, C_CHAIN), job->chain);
    if (job->nchain == 0)
        for (int i = 0; i < NPROVIDERS; i++)
            if (o->keys[i] && *o->keys[i]) job->chain[job->nchain++] = i;
    const char *tmodel = lull_db_text(r, 0, C_MODEL);
    for (int i = 0; i < NPROVIDERS; i++) snprintf(job->model[i], sizeof job->model[i], "%s", o->models[i]);
    if (job->nchain > 0 && tmodel && *tmodel && strlen(tmodel) < sizeof job->model[0])  // the first provider's
        snprintf(job->model[job->chain[0]], sizeof job->model[0], "%s", tmodel);
    s_apply_models(job, lull_db_text(r, 0, C_MODELS));

    size_t blen = 0, tlen = 0;
    bool conv_ok = true;
    for (int i = 0; i < PQntuples(h); i++) {
        int64_t id = lull_db_int(h, i, 0, &okv);
        const char *dir = lull_db_text(h, i, 1), *body = lull_db_text(h, i, 2);
        if (!okv || !dir || !body) continue;
        char clipped[MAX_BODY_TEXT + 1];
        snprintf(clipped, sizeof clipped, "%s", body);
        bool in = strcmp(dir, "in") == 0;
        if (in && id > answered) {
            if (blen) s_append(burst, MAX_BURST_TEXT, &blen, "\n");
            s_append(burst, MAX_BURST_TEXT, &blen, clipped);
        } else {
            s_append(transcript, MAX_BURST_TEXT, &tlen, in ? "customer: " : "agent: ");
            s_append(transcript, MAX_BURST_TEXT, &tlen, clipped);
            s_append(transcript, MAX_BURST_TEXT, &tlen, "\n");
        }
        conv_ok = conv_ok && worker_conv_add(&job->reply.conv, in ? WORKER_ITEM_USER : WORKER_ITEM_ASSISTANT,
                                             clipped, NULL, NULL, NULL) == 0;
    }
    if (!conv_ok || blen == 0) {
        s_job_done(job, blen == 0 ? LULL_OUTCOME_FAILED_PERMANENT : LULL_OUTCOME_FAILED_RETRYABLE, 0,
                   blen == 0 ? "no inbound message in the burst" : "cannot build the conversation", NULL, 0);
        goto cleanup;
    }

    // contact limited by the content filter: no reply for this burst
    if (strcmp(lull_db_text(r, 0, C_LIMITED) ? lull_db_text(r, 0, C_LIMITED) : "f", "t") == 0) {
        s_commit_t c = {0};
        s_commit_and_done(job, &c, LULL_OUTCOME_FAILED_PERMANENT, "contact limited");
        goto cleanup;
    }
    // content filter: blocked phrase → the safe reply, no LLM call
    char found[128];
    if (worker_text_match_array(burst, lull_db_text(r, 0, C_BLOCKED), found, sizeof found) >= 0) {
        const char *safe = lull_db_text(r, 0, C_SAFE);
        s_commit_t c = {.reply = safe && *safe ? safe : s_default_safe, .kind = "safe",
                        .limit_contact = o->cfg->block_limit_ms > 0};
        LOG_INFO("job.blocked", "blocked content; safe reply", "conv", LI(job->conv_id));
        s_commit_and_done(job, &c, LULL_OUTCOME_REPLIED, "blocked content: safe reply");
        goto cleanup;
    }
    // escalation keyword → escalate, no bot reply, no LLM call
    if (worker_text_match_array(burst, lull_db_text(r, 0, C_KEYWORDS), found, sizeof found) >= 0) {
        char reason[200];
        snprintf(reason, sizeof reason, "keyword: %s", found);
        s_commit_t c = {.esc_source = "keyword", .esc_reason = reason};
        s_commit_and_done(job, &c, LULL_OUTCOME_ESCALATED, "keyword escalation");
        goto cleanup;
    }
    // daily limits (LLM requests per day from usage)
    int64_t lim_t = lull_db_int(r, 0, C_LIM_T, &okv);
    bool has_t = okv && lull_db_text(r, 0, C_LIM_T);
    int64_t lim_c = lull_db_int(r, 0, C_LIM_C, &okv);
    bool has_c = okv && lull_db_text(r, 0, C_LIM_C);
    int64_t used_t = lull_db_int(r, 0, C_USED_T, NULL), used_c = lull_db_int(r, 0, C_USED_C, NULL);
    if ((has_t && used_t >= lim_t) || (has_c && used_c >= lim_c)) {
        s_commit_t c = {0};
        LOG_INFO("job.daily_limit", "daily usage limit reached; no reply", "conv", LI(job->conv_id), "tenant",
                 LI(job->tenant_id));
        s_commit_and_done(job, &c, LULL_OUTCOME_FAILED_PERMANENT,
                          has_t && used_t >= lim_t ? "daily limit (tenant)" : "daily limit (contact)");
        goto cleanup;
    }
    if (job->nchain == 0) {
        s_job_finish(job);  // no provider: handled as "every provider failed"
        goto cleanup;
    }

    // the prompt and the two calls
    const char *tmpl = lull_db_text(r, 0, C_TEMPLATE);
    worker_prompt_vars_t vars = {lull_db_text(r, 0, C_COMPANY), lull_db_text(r, 0, C_AGENT),
                                 lull_db_text(r, 0, C_CUSTOMER), channel};
    if (vars.customer_name && !*vars.customer_name) vars.customer_name = "the customer";
    job->system = worker_prompt_render(tmpl ? tmpl : "You are {{agent_name}}, the assistant of {{company_name}}.", &vars);
    job->want_analysis = o->cfg->analysis;
    if (job->want_analysis) {
        job->schema = worker_analysis_schema(job->extraction_fields);
        snprintf(msg, sizeof msg, "Earlier conversation:\n%s\nLatest customer messages (analyse these):\n%s",
                 tlen ? transcript : "(none)\n", burst);
        conv_ok = worker_conv_add(&job->analysis.conv, WORKER_ITEM_USER, msg, NULL, NULL, NULL) == 0;
        if (!conv_ok || !job->schema) job->want_analysis = false;
    }
    if (!job->system) {
        s_job_done(job, LULL_OUTCOME_FAILED_RETRYABLE, 1000, "out of memory", NULL, 0);
        goto cleanup;
    }
    s_call_t *calls[2] = {&job->reply, &job->analysis};
    for (int i = 0; i < 2; i++) {
        s_call_t *c = calls[i];
        c->job = job;
        c->mode = i == 0 ? WORKER_MODE_REPLY : WORKER_MODE_ANALYSIS;
        c->conv.mode = c->mode;
        c->conv.system = i == 0 ? job->system : s_analysis_system;
        c->conv.temperature = i == 0 ? job->temperature : 0;
        c->conv.max_tokens = i == 0 ? job->max_tokens : 1024;
        c->conv.tools = i == 0;
        c->conv.schema = job->schema;
        c->running = (i == 0 && !job->analyse_only) || (i == 1 && job->want_analysis);
    }
    if (job->analyse_only) {
        if (!job->want_analysis) {
            s_trial_answer(job, 503, lull_json_error_body("analysis_disabled",
                                                          "the analysis is off on this worker (LULL_WORKER_ANALYSIS)"));
            goto cleanup;
        }
        s_call_step(&job->analysis);
        goto cleanup;
    }
    // With an analysis the job cannot end inside the first step (the analysis is still running);
    // without one it may, and then nothing of it may be touched afterwards.
    bool two = job->want_analysis;
    s_call_step(&job->reply);
    if (two) s_call_step(&job->analysis);
cleanup:
    if (r) PQclear(r);
    if (h) PQclear(h);
}

// Loads the queued jobs: both queries of every job in one pipeline (one round trip), then runs each.
static void s_flush_loads(worker_jobs_t *o)
{
    while (o->lhead) {
        enum { LOAD_BATCH = 256 };
        s_job_t *batch[LOAD_BATCH];
        PGresult *res[LOAD_BATCH][2];
        int n = 0;
        while (o->lhead && n < LOAD_BATCH) {
            batch[n] = o->lhead;
            o->lhead = o->lhead->lnext;
            batch[n]->lnext = NULL;
            res[n][0] = res[n][1] = NULL;
            n++;
        }
        if (!o->lhead) o->ltail = NULL;
        char params[LOAD_BATCH][2][24];
        for (int i = 0; i < n; i++) {
            s_i64(params[i][0], sizeof params[i][0], batch[i]->conv_id);
            s_i64(params[i][1], sizeof params[i][1], batch[i]->upto);
        }
        PGconn *conn = lull_db_connected(o->db) ? lull_db_conn(o->db) : NULL;
        if (conn && PQpipelineStatus(conn) == PQ_PIPELINE_OFF) (void)s_prepare(o, conn);
        if (conn && PQpipelineStatus(conn) == PQ_PIPELINE_OFF && PQenterPipelineMode(conn) == 1) {
            int sent = 0;
            for (int i = 0; i < n; i++) {
                const char *p[] = {params[i][0], params[i][1]};
                if (s_send(o, conn, "lull_w_load", s_load_sql, 1, p) != 1 ||
                    s_send(o, conn, "lull_w_history", s_history_sql, 2, p) != 1)
                    break;
                sent++;
            }
            (void)PQpipelineSync(conn);
            bool alive = true;
            for (int i = 0; i < sent && alive; i++)
                for (int k = 0; k < 2 && alive; k++) {
                    PGresult *r = PQgetResult(conn);
                    if (!r) {
                        alive = false;
                        break;
                    }
                    if (PQresultStatus(r) == PGRES_TUPLES_OK) res[i][k] = r;
                    else PQclear(r);
                    while ((r = PQgetResult(conn))) PQclear(r);
                }
            for (PGresult *r; alive && (r = PQgetResult(conn));) {
                ExecStatusType st = PQresultStatus(r);
                PQclear(r);
                if (st == PGRES_PIPELINE_SYNC) break;
            }
            (void)PQexitPipelineMode(conn);
            for (int i = 0; i < n; i++)
                if (!res[i][0] || !res[i][1]) o->prepared = NULL;  // re-prepare on the next batch
        } else {
            for (int i = 0; i < n; i++) {
                const char *p[] = {params[i][0], params[i][1]};
                res[i][0] = lull_db_exec(o->db, s_load_sql, 1, p);
                res[i][1] = res[i][0] ? lull_db_exec(o->db, s_history_sql, 2, p) : NULL;
            }
        }
        for (int i = 0; i < n; i++) s_job_run(batch[i], res[i][0], res[i][1]);
    }
}

// ------------------------------------------------------------------------------------------------
// public

worker_jobs_t *worker_jobs_new(const worker_cfg_t *cfg, lull_loop_t *loop, lull_db_t *db, lull_metrics_t *metrics,
                               worker_done_fn *done, void *arg)
{
    worker_jobs_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->cfg = cfg;
    self->loop = loop;
    self->db = db;
    self->done = done;
    self->done_arg = arg;
    long per_host = 0;
    int64_t shards = (2 * (int64_t)cfg->concurrency + HTTP_CONNS_PER_SHARD - 1) / HTTP_CONNS_PER_SHARD;
    self->nhttp = shards < 1 ? 1 : shards > HTTP_MAX_SHARDS ? HTTP_MAX_SHARDS : (int)shards;
    bool http_ok = true;
    for (int i = 0; i < self->nhttp && http_ok; i++) {
        self->http[i] = lull_http_new(loop, HTTP_MAX_BODY, cfg->llm_timeout_ms, per_host);
        http_ok = self->http[i] != NULL;
    }
    self->tick = lull_loop_add_timer(loop, TICK_MS, TICK_MS, s_tick, self);
    LOG_INFO("jobs.http", "LLM requests spread over libcurl multi handles", "multis", LI(self->nhttp));
    if (!http_ok || self->tick < 0) {
        worker_jobs_destroy(&self);
        return NULL;
    }
    self->keys[0] = cfg->openai_key;
    self->keys[1] = cfg->anthropic_key;
    self->keys[2] = cfg->gemini_key;
    self->bases[0] = cfg->openai_base;
    self->bases[1] = cfg->anthropic_base;
    self->bases[2] = cfg->gemini_base;
    self->models[0] = cfg->openai_model;
    self->models[1] = cfg->anthropic_model;
    self->models[2] = cfg->gemini_model;
    int64_t now = lull_clock_mono_ms();
    for (int i = 0; i < NPROVIDERS; i++)
        worker_limit_init(&self->limits[i], cfg->provider_rps, cfg->provider_burst, cfg->cooldown_failures,
                          cfg->cooldown_ms, now);
    for (int oc = 1; oc <= LULL_OUTCOME_MAX; oc++) {
        char labels[64];
        snprintf(labels, sizeof labels, "outcome=\"%s\"", lull_outcome_name(oc));
        self->m_outcome[oc] = lull_metrics_counter(metrics, "lull_worker_jobs_total", labels, "jobs finished, by DONE outcome");
    }
    self->m_tries = lull_metrics_counter(metrics, "lull_worker_tries_total", NULL, "dry runs answered (admin test endpoints)");
    self->m_cas_conflict = lull_metrics_counter(metrics, "lull_worker_cas_conflicts_total", NULL,
                                                "replies not committed because the compare-and-swap found a newer state");
    self->m_llm_ok = lull_metrics_counter(metrics, "lull_worker_llm_requests_total", "class=\"ok\"", "provider requests by result class");
    self->m_llm_retry = lull_metrics_counter(metrics, "lull_worker_llm_requests_total", "class=\"retry\"", "provider requests by result class");
    self->m_llm_next = lull_metrics_counter(metrics, "lull_worker_llm_requests_total", "class=\"next\"", "provider requests by result class");
    self->m_analysis_failed = lull_metrics_counter(metrics, "lull_worker_analysis_failed_total", NULL, "replies committed without a valid analysis");
    self->m_db_errors = lull_metrics_counter(metrics, "lull_worker_db_errors_total", NULL, "database statements that failed");
    self->m_running = lull_metrics_gauge(metrics, "lull_worker_jobs_running", NULL, "jobs in flight");
    self->m_job_seconds = lull_metrics_histogram(metrics, "lull_worker_job_seconds", NULL, "job duration from JOB to DONE",
                                                 LULL_METRICS_LATENCY_BUCKETS, LULL_METRICS_LATENCY_NBUCKETS);
    return self;
}

void worker_jobs_destroy(worker_jobs_t **self_p)
{
    if (!self_p || !*self_p) return;
    worker_jobs_t *self = *self_p;
    s_flush_commits(self);  // finished jobs still get their commit and DONE
    self->stopping = true;
    self->lhead = self->ltail = NULL;  // jobs not loaded yet are dropped (freed below)
    for (int i = 0; i < self->nhttp; i++) lull_http_destroy(&self->http[i]);  // aborts requests; callbacks see stopping
    // Jobs still running are reported failed_retryable with a retry after 1 ms, so the scheduler hands them
    // to another worker now instead of when this worker's heartbeat expires; dry runs are answered 503.
    int64_t reported = 0;
    while (self->jobs) {
        s_job_t *job = self->jobs;
        if (job->trial) s_trial_answer(job, 503, lull_json_error_body("unavailable", "the worker is stopping"));
        else s_job_done(job, LULL_OUTCOME_FAILED_RETRYABLE, 1, "worker stopping", NULL, 0);
        reported++;
    }
    if (reported) LOG_INFO("jobs.returned", "jobs in flight handed back to the scheduler at shutdown", "jobs", LI(reported));
    if (self->tick > 0) lull_loop_cancel_timer(self->loop, self->tick);
    free(self);
    *self_p = NULL;
}

void worker_jobs_start(worker_jobs_t *self, const lull_msg_t *msg, int conn, int gen)
{
    s_job_t *job = calloc(1, sizeof *job);
    if (!job) {
        lull_msg_t done = {.type = LULL_MSG_DONE};
        done.u.done.job_id = msg->u.job.job_id;
        done.u.done.conversation_id = msg->u.job.conversation_id;
        done.u.done.outcome = LULL_OUTCOME_FAILED_RETRYABLE;
        done.u.done.retry_after_ms = 1000;
        snprintf(done.u.done.detail, sizeof done.u.done.detail, "out of memory");
        self->done(&done, conn, gen, NULL, 0, self->done_arg);
        return;
    }
    job->owner = self;
    job->job_id = msg->u.job.job_id;
    job->conv_id = msg->u.job.conversation_id;
    job->tenant_id = msg->u.job.tenant_id;
    job->expected = msg->u.job.expected_upto;
    job->upto = msg->u.job.upto;
    job->attempt = msg->u.job.attempt;
    job->max_wait = (msg->u.job.flags & LULL_JOB_MAX_WAIT) != 0;
    job->conn = conn;
    job->gen = gen;
    job->started_ms = lull_clock_mono_ms();
    job->reply.job = job->analysis.job = job;
    job->next = self->jobs;
    if (self->jobs) self->jobs->prev = job;
    self->jobs = job;
    self->njobs++;
    lull_gauge_set(self->m_running, (double)self->njobs);
    LOG_DEBUG("job.start", NULL, "job", LI((int64_t)job->job_id), "conv", LI(job->conv_id), "upto", LI(job->upto),
              "attempt", LI(job->attempt), "max_wait", LB(job->max_wait));
    if (self->ltail) self->ltail->lnext = job;
    else self->lhead = job;
    self->ltail = job;
}

void worker_jobs_try(worker_jobs_t *self, const lull_msg_t *msg, int conn, int gen)
{
    uint64_t req = msg->u.ctl_req.req_id;
    const char *body = msg->u.ctl_req.body;
    char err[160] = "";
    cJSON *doc = body ? lull_json_parse(body, strlen(body), LULL_JSON_MAX_DEPTH, err, sizeof err) : NULL;
    const cJSON *tenant = cJSON_GetObjectItemCaseSensitive(doc, "tenant_id");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(doc, "text");
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(doc, "mode");
    const char *why = NULL;
    if (!cJSON_IsObject(doc)) why = "the dry run body is not a JSON object";
    else if (!cJSON_IsNumber(tenant) || tenant->valuedouble < 1 || tenant->valuedouble > 9007199254740991.0 ||
             tenant->valuedouble != (double)(int64_t)tenant->valuedouble)
        why = "tenant_id must be a positive integer";
    else if (!cJSON_IsString(text) || !*text->valuestring) why = "text must be a non-empty string";
    else if (strlen(text->valuestring) > MAX_BODY_TEXT) why = "text is longer than 4000 bytes";
    else if (mode && !(cJSON_IsString(mode) && (strcmp(mode->valuestring, "reply") == 0 ||
                                                strcmp(mode->valuestring, "analyse") == 0)))
        why = "mode must be \"reply\" or \"analyse\"";
    if (why) {
        s_trial_reply(self, req, conn, gen, 400, lull_json_error_body("bad_request", why));
        cJSON_Delete(doc);
        return;
    }
    // the tenant and its one-message history, checked here so the job pipeline only meets its own failures
    char tid[24];
    s_i64(tid, sizeof tid, (int64_t)tenant->valuedouble);
    const char *p1[] = {tid}, *p2[] = {text->valuestring};
    PGresult *r = lull_db_exec(self->db, s_try_sql, 1, p1);
    PGresult *h = r ? lull_db_exec(self->db, s_try_history_sql, 1, p2) : NULL;
    s_job_t *job = r && h && PQntuples(r) == 1 ? calloc(1, sizeof *job) : NULL;
    if (!job) {
        if (!r || !h) s_trial_reply(self, req, conn, gen, 503, lull_json_error_body("database_unavailable",
                                                                                  "the worker cannot reach the database"));
        else if (PQntuples(r) != 1) s_trial_reply(self, req, conn, gen, 404, lull_json_error_body("not_found", "no such tenant"));
        else s_trial_reply(self, req, conn, gen, 500, lull_json_error_body("out_of_memory", "out of memory"));
        if (r) PQclear(r);
        if (h) PQclear(h);
        cJSON_Delete(doc);
        return;
    }
    job->owner = self;
    job->trial = true;
    job->analyse_only = mode && strcmp(mode->valuestring, "analyse") == 0;
    job->job_id = req;
    job->tenant_id = (int64_t)tenant->valuedouble;
    job->upto = 1;
    job->attempt = 1;
    job->conn = conn;
    job->gen = gen;
    job->started_ms = lull_clock_mono_ms();
    job->reply.job = job->analysis.job = job;
    job->next = self->jobs;
    if (self->jobs) self->jobs->prev = job;
    self->jobs = job;
    self->njobs++;
    LOG_INFO("try.start", "dry run", "req", LI((int64_t)req), "tenant", LI(job->tenant_id), "mode",
             LS(job->analyse_only ? "analyse" : "reply"));
    cJSON_Delete(doc);
    s_job_run(job, r, h);  // answers now (filters, errors) or after its LLM calls
}

void worker_jobs_flush(worker_jobs_t *self)
{
    s_flush_loads(self);
    s_flush_commits(self);
}

size_t worker_jobs_running(const worker_jobs_t *self)
{
    return self ? self->njobs : 0;
}
