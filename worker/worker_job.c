// The job life cycle of lull-worker: a JOB (or a dry run) is queued for the next load batch
// (worker_load), decided (worker_decide), sent through the provider chain — by default one call whose final
// answer holds the reply and the structured analysis (worker_combined), else the reply with its tool rounds
// and the analysis in parallel on the loop (worker_chain) — and its one outcome goes to the job's sink: the
// commit sink (worker_commit) for a JOB, a trial sink (worker_trial) for a dry run.
#include "worker_job.h"
#include "lull_channel.h"
#include "lull_clock.h"
#include "lull_json.h"
#include "lull_log.h"
#include "worker_chain.h"
#include "worker_combined.h"
#include "worker_commit.h"
#include "worker_dbq.h"
#include "worker_decide.h"
#include "worker_load.h"
#include "worker_loadq.h"
#include "worker_media.h"
#include "worker_price.h"
#include "worker_prompt.h"
#include "worker_sink.h"
#include "worker_trial.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS 5

static const char *const s_default_apology =
    "Sorry, something went wrong on our side. A member of our team will get back to you shortly.";

// Appended to the tenant's system prompt in a combined call (the same text for every request of a tenant).
static const char *const s_combined_system =
    "\n\nAnswer with the JSON object the schema describes: `reply` is your message to the customer (plain text, "
    "never JSON); the other fields analyse the customer's latest messages (the burst) in the context of the "
    "conversation: sentiment with your confidence (0..1) in the whole analysis, intent, entities quoted from the "
    "text (names, emails, phones, order numbers), priority, whether a human should take over (escalate) and why, "
    "moderation flags, and the extracted fields (null when not mentioned).";

static const char *const s_analysis_system =
    "You analyse a customer-service conversation. Look at the customer's latest messages (the burst) in the "
    "context of the earlier conversation and return only the JSON object the schema describes: sentiment with "
    "your confidence (0..1) in the whole analysis, intent, entities quoted from the text (names, emails, phones, "
    "order numbers), priority, whether a human should take over (escalate) and why, moderation flags, and the "
    "extracted fields (null when not mentioned).";

#define JOBS_SPARE_MAX 256  // freed jobs kept for reuse at most

typedef struct s_job {
    worker_jobs_t *owner;
    worker_sink_t *sink;        // the shared commit sink, or this job's own trial sink
    worker_done_info_t info;
    worker_job_ref_t ref;       // what the scheduler thought: tenant, expected, upto, max wait
    int64_t contact_id;
    bool want_reply, want_analysis;
    bool combined;              // one call answers both (the reply call, in WORKER_MODE_COMBINED)
    size_t nbase;               // items of the reply conversation before any tool round (for the fallback)
    int reply_max_tokens;
    char cache_key[32];         // the prompt cache key of the tenant: "lull-t<tenant id>"
    char *combined_system, *combined_schema;
    int fallback[WORKER_NPROVIDERS];  // the providers passed over by the combined call, in chain order
    int nfallback;
    // from the load (owned)
    char *channel, *recipient, *sender_address, *callback_url, *extraction_fields, *apology, *system, *schema;
    char model[WORKER_NPROVIDERS][LULL_TENANT_MODEL_MAX + 1];
    int chain[WORKER_NPROVIDERS];
    int nchain;
    double confidence_threshold;
    int max_attempts;
    worker_usage_t usage[WORKER_NPROVIDERS];
    worker_chain_call_t reply, analysis;
    worker_load_t load;          // while the media are fetched (owned)
    worker_media_job_t *mj;      // the job's media: notes, transcripts, images (owned)
    worker_loadq_item_t litem;  // in the load queue (or its task on the database thread)
    struct s_job *prev, *next;  // jobs running
} s_job_t;

struct worker_jobs {
    const worker_cfg_t *cfg;
    lull_loop_t *loop;
    lull_db_t *db;
    worker_done_fn *done;
    void *done_arg;
    worker_chain_t *chain;
    worker_media_t *media;
    worker_sink_t *commit;
    worker_prices_t *prices;
    bool has_key[WORKER_NPROVIDERS];
    const char *default_model[WORKER_NPROVIDERS];
    s_job_t *jobs;
    size_t njobs;
    s_job_t *spare;          // freed jobs kept for the next ones (a job is ~2.5 KB: no malloc/free each)
    size_t nspare;
    worker_dbq_t *dbq;       // the database thread (NULL: database work on the loop, with db)
    worker_loadq_t *loadq;   // jobs waiting for their load
    int tick, price_timer;
    lull_counter_t *m_outcome[LULL_OUTCOME_MAX + 1];
    lull_counter_t *m_tries, *m_analysis_failed, *m_db_errors;
    lull_gauge_t *m_running;
    lull_histogram_t *m_job_seconds;
};

static char *s_dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

// ------------------------------------------------------------------------------------------------
// the end of a job: its outcome to its sink

static void s_job_free(s_job_t *job)
{
    worker_jobs_t *o = job->owner;
    worker_chain_cancel(o->chain, &job->reply);
    worker_chain_cancel(o->chain, &job->analysis);
    if (job->prev) job->prev->next = job->next;
    else if (o->jobs == job) o->jobs = job->next;
    if (job->next) job->next->prev = job->prev;
    o->njobs--;
    lull_gauge_set(o->m_running, (double)o->njobs);
    worker_chain_call_clear(&job->reply);
    worker_chain_call_clear(&job->analysis);
    worker_media_job_cancel(&job->mj);
    worker_load_clear(&job->load);
    free(job->channel);
    free(job->recipient);
    free(job->sender_address);
    free(job->callback_url);
    free(job->extraction_fields);
    free(job->apology);
    free(job->system);
    free(job->schema);
    free(job->combined_system);
    free(job->combined_schema);
    if (o->nspare < JOBS_SPARE_MAX) {
        job->next = o->spare;
        o->spare = job;
        o->nspare++;
        return;
    }
    free(job);
}

// Hands the job's outcome to its sink and frees the job.
static void s_emit(s_job_t *job, const worker_outcome_t *out)
{
    worker_jobs_t *o = job->owner;
    double cost[WORKER_NPROVIDERS] = {0};
    job->info.llm_calls = job->info.prompt_tokens = job->info.completion_tokens = 0;
    for (int i = 0; i < WORKER_NPROVIDERS; i++) {
        const worker_usage_t *u = &job->usage[i];
        if (u->requests == 0) continue;
        job->info.llm_calls += u->requests;
        job->info.prompt_tokens += u->tokens_in;
        job->info.completion_tokens += u->tokens_out;
        cost[i] = worker_prices_cost(o->prices, WORKER_PROVIDERS[i]->name, job->model[i], u->tokens_in, u->cached_in,
                                     u->cache_write, u->tokens_out);
    }
    int reply_provider = job->want_reply && job->reply.ok ? job->reply.provider : -1;
    job->info.provider = reply_provider >= 0 ? WORKER_PROVIDERS[reply_provider]->name : "";
    job->info.backoff_until_ms = job->nchain > 0 ? worker_chain_backoff_until(o->chain, job->chain, job->nchain) : 0;
    worker_job_view_t view = {
        .done = job->info, .tenant_id = job->ref.tenant_id, .contact_id = job->contact_id,
        .expected = job->ref.expected, .max_wait = job->ref.max_wait, .limit_contact_ms = o->cfg->block_limit_ms,
        .channel = job->channel, .recipient = job->recipient, .sender_address = job->sender_address,
        .callback_url = job->callback_url, .model = (const char(*)[LULL_TENANT_MODEL_MAX + 1])job->model,
        .usage = job->usage, .cost_usd = cost, .reply_provider = reply_provider,
    };
    job->sink->emit(job->sink, &view, out);
    if (job->sink != o->commit) job->sink->destroy(&job->sink);
    s_job_free(job);
}

// Ends a job that writes nothing but its report.
static void s_stop(s_job_t *job, lull_outcome_t outcome, int64_t retry_after_ms, const char *detail)
{
    worker_outcome_t out = {.write = WORKER_WRITE_NONE, .outcome = outcome, .detail = detail,
                            .retry_after_ms = retry_after_ms, .analysis_provider = -1};
    s_emit(job, &out);
}

// The commit sink's report: the job's DONE to the scheduler, its job.done line and metrics.
static void s_report(const worker_done_info_t *who, lull_outcome_t outcome, int64_t retry_after_ms, const char *detail,
                     const int64_t *outbox_ids, size_t noutbox, void *arg)
{
    worker_jobs_t *o = arg;
    int64_t ms = lull_clock_mono_ms() - who->started_ms;
    lull_msg_t done = {.type = LULL_MSG_DONE};
    done.u.done.job_id = who->job_id;
    done.u.done.conversation_id = who->conv_id;
    done.u.done.outcome = outcome;
    done.u.done.retry_after_ms = retry_after_ms > 0 ? retry_after_ms : 0;
    done.u.done.backoff_until_ms = who->backoff_until_ms;
    snprintf(done.u.done.detail, sizeof done.u.done.detail, "%s", detail ? detail : "");
    lull_counter_add(o->m_outcome[outcome], 1);
    lull_histogram_observe(o->m_job_seconds, (double)ms / 1000.0);
    LOG_INFO("job.done", NULL, "conv", LI(who->conv_id), "job", LI((int64_t)who->job_id), "upto", LI(who->upto),
             "outcome", LS(lull_outcome_name(outcome)), "attempt", LI(who->attempt), "llm_calls", LI(who->llm_calls),
             "prompt_tokens", LI(who->prompt_tokens), "completion_tokens", LI(who->completion_tokens), "provider",
             LS(who->provider ? who->provider : ""), "ms", LI(ms), "detail", LS(done.u.done.detail));
    o->done(&done, who->conn, who->gen, outbox_ids, noutbox, o->done_arg);
}

// ------------------------------------------------------------------------------------------------
// after the calls

static void s_call_done(worker_chain_call_t *call, void *arg);

// No provider of the combined call answered, and some were passed over (they cannot give a combined answer):
// the reply (the conversation as it was before any tool round) and the analysis as two calls, over those
// providers only (the others failed already). The job may end inside.
static void s_fallback(s_job_t *job)
{
    worker_jobs_t *o = job->owner;
    job->nfallback = 0;
    for (int i = 0; i < job->nchain; i++)
        if (job->reply.skipped & (1u << job->chain[i])) job->fallback[job->nfallback++] = job->chain[i];
    job->reply.chain = job->analysis.chain = job->fallback;
    job->reply.nchain = job->analysis.nchain = job->nfallback;
    LOG_INFO("job.combined_fallback", "no provider of the chain can give a combined answer; two calls", "conv",
             LI(job->info.conv_id), "error", LS(job->reply.error));
    worker_conv_t *c = &job->reply.conv;
    while (c->nitems > job->nbase) {
        worker_item_t *it = &c->items[--c->nitems];
        free(it->text);
        free(it->id);
        free(it->name);
        free(it->args);
    }
    free(job->reply.text);
    job->reply.text = NULL;
    job->reply.error[0] = '\0';
    c->mode = WORKER_MODE_REPLY;
    c->system = job->system;
    c->schema = NULL;
    c->max_tokens = job->reply_max_tokens;
    c->tool_choice_none = false;
    job->combined = false;
    job->reply.running = job->analysis.running = true;
    worker_chain_start(o->chain, &job->reply);
    worker_chain_start(o->chain, &job->analysis);
}

static void s_job_finish(s_job_t *job)
{
    worker_jobs_t *o = job->owner;
    worker_chain_call_t *reply = &job->reply, *an = &job->analysis;
    worker_analysis_t a = {0};
    char err[160] = "";
    if (job->combined && !reply->ok && reply->skipped) {
        s_fallback(job);
        return;
    }
    bool have_analysis = false;
    int analysis_provider = an->provider;
    if (job->combined && reply->ok) {  // validated by the chain, which kept the parts
        have_analysis = reply->combined_reply != NULL;
        free(reply->text);
        reply->text = reply->combined_reply;
        reply->combined_reply = NULL;
        a = reply->combined;
        reply->combined = (worker_analysis_t){0};
        reply->ok = have_analysis;
        if (!have_analysis) snprintf(reply->error, sizeof reply->error, "combined answer without its parts");
        analysis_provider = reply->provider;
    } else {
        have_analysis = job->want_analysis && an->ok &&
                        worker_analysis_parse(an->text, job->extraction_fields, &a, err, sizeof err) == 0;
    }
    worker_outcome_t out = {.write = WORKER_WRITE_RESULT, .analysis_provider = -1};
    if (have_analysis) {
        out.analysis = &a;
        out.analysis_provider = analysis_provider;
    }
    if (!job->want_reply) {  // the analysis alone (a dry run in mode "analyse")
        out.outcome = LULL_OUTCOME_REPLIED;
        if (!have_analysis) {
            out.write = WORKER_WRITE_NONE;
            out.outcome = LULL_OUTCOME_FAILED_RETRYABLE;
            out.detail = an->error[0] ? an->error : "no valid analysis from any provider";
        }
        s_emit(job, &out);
        worker_analysis_clear(&a);
        return;
    }
    if (!reply->ok) {
        worker_analysis_clear(&a);
        out.analysis = NULL;
        out.analysis_provider = -1;
        int64_t ra = reply->retry_after_ms, now = lull_clock_wall_ms();
        int64_t backoff = job->nchain > 0 ? worker_chain_backoff_until(o->chain, job->chain, job->nchain) : 0;
        if (backoff > 0 && backoff - now > ra) ra = backoff - now;
        if (worker_decide_apologise(job->info.attempt, job->max_attempts)) {
            LOG_WARN("job.apology", "every provider failed at the last attempt; apologising and escalating", "conv",
                     LI(job->info.conv_id), "attempt", LI(job->info.attempt), "error", LS(reply->error));
            out.outcome = LULL_OUTCOME_ESCALATED;
            out.detail = "providers failed: apology sent, escalated";
            out.reply = job->apology;
            out.kind = "apology";
            out.esc_source = "failure";
            out.esc_reason = "every provider failed on the last attempt";
            s_emit(job, &out);
            return;
        }
        LOG_WARN("job.providers_failed", "every provider failed", "conv", LI(job->info.conv_id), "attempt",
                 LI(job->info.attempt), "error", LS(reply->error));
        out.write = WORKER_WRITE_ATTEMPT;
        out.outcome = LULL_OUTCOME_FAILED_RETRYABLE;
        out.retry_after_ms = ra > 0 ? ra : 0;
        out.detail = reply->error[0] ? reply->error : "no provider available";
        s_emit(job, &out);
        return;
    }
    if (job->want_analysis && !have_analysis) {
        lull_counter_add(o->m_analysis_failed, 1);
        LOG_WARN("job.analysis_failed", "no valid analysis from any provider; replying without it", "conv",
                 LI(job->info.conv_id), "error", LS(an->ok ? err : an->error));
    }
    char reason[300] = "";
    out.reply = reply->text;
    out.kind = "reply";
    out.esc_source = have_analysis ? worker_decide_escalation(&a, job->confidence_threshold, reason, sizeof reason) : NULL;
    out.esc_reason = reason;
    out.outcome = out.esc_source ? LULL_OUTCOME_ESCALATED : LULL_OUTCOME_REPLIED;
    out.detail = out.esc_source ? out.esc_source : "replied";
    s_emit(job, &out);
    worker_analysis_clear(&a);
}

// A call of the job finished: the job finishes with the last one.
static void s_call_done(worker_chain_call_t *call, void *arg)
{
    (void)call;
    s_job_t *job = arg;
    if (job->reply.running || job->analysis.running) return;
    s_job_finish(job);
}

// ------------------------------------------------------------------------------------------------
// from the load to the calls

// Copies what the job needs after its load (the load is freed when the calls start). 0/-1 out of memory.
static int s_keep(s_job_t *job, const worker_load_t *l)
{
    worker_jobs_t *o = job->owner;
    job->contact_id = l->contact_id;
    job->channel = s_dup(l->channel);
    lull_channel_t channel = lull_channel_parse(l->channel);
    if (channel == LULL_CH_TIKTOK) {
        job->recipient = s_dup(l->external_conversation_id);
        job->sender_address = s_dup(l->business_address ? l->business_address : l->tiktok_business_id);
    } else {
        job->recipient = s_dup(l->external_id);
        if (lull_channel_is_twilio(channel))
            job->sender_address = s_dup(l->business_address);
    }
    job->extraction_fields = s_dup(l->extraction_fields);
    job->callback_url = s_dup(l->callback_url);
    job->apology = s_dup(l->apology_reply && *l->apology_reply ? l->apology_reply : s_default_apology);
    job->confidence_threshold = l->confidence_threshold;
    job->max_attempts = l->max_attempts;
    job->nchain = worker_decide_chain(l, o->has_key, o->default_model, job->chain, job->model);
    return job->channel && job->extraction_fields && job->apology ? 0 : -1;
}

// The two calls of a job: the reply (the history as turns, tools offered) and the analysis (the burst in
// the context of the transcript, a strict schema). 0/-1 out of memory.
static int s_prepare_calls(s_job_t *job, const worker_load_t *l, const char *burst, const char *transcript)
{
    worker_jobs_t *o = job->owner;
    worker_prompt_vars_t vars = {l->company_name, l->agent_name, *l->customer_name ? l->customer_name : "the customer",
                                 l->channel};
    job->system = worker_prompt_render(l->template ? l->template
                                                   : "You are {{agent_name}}, the assistant of {{company_name}}.",
                                       &vars);
    if (!job->system) return -1;
    for (size_t i = 0; job->want_reply && i < l->nhistory; i++) {
        char clipped[WORKER_MAX_BODY_TEXT + 1];
        snprintf(clipped, sizeof clipped, "%s", l->history[i].body);
        if (worker_conv_add(&job->reply.conv, l->history[i].inbound ? WORKER_ITEM_USER : WORKER_ITEM_ASSISTANT,
                            clipped, NULL, NULL, NULL) != 0 ||
            worker_media_add_images(job->mj, l->history[i].id, &job->reply.conv) != 0)
            return -1;
    }
    // The analysis: off on the worker or for the tenant (a dry run that asks only for it still gets it).
    job->want_analysis = o->cfg->analysis && (l->llm_mode != WORKER_LLM_OFF || !job->want_reply);
    job->nbase = job->reply.conv.nitems;
    job->reply_max_tokens = l->max_tokens;
    snprintf(job->cache_key, sizeof job->cache_key, "lull-t%lld", (long long)job->ref.tenant_id);
    if (job->want_analysis) {
        char msg[2 * WORKER_MAX_BURST_TEXT + 128];
        snprintf(msg, sizeof msg, "Earlier conversation:\n%s\nLatest customer messages (analyse these):\n%s",
                 *transcript ? transcript : "(none)\n", burst);
        job->schema = worker_analysis_schema(job->extraction_fields);
        if (!job->schema || worker_conv_add(&job->analysis.conv, WORKER_ITEM_USER, msg, NULL, NULL, NULL) != 0)
            job->want_analysis = false;
    }
    worker_chain_call_t *calls[2] = {&job->reply, &job->analysis};
    for (int i = 0; i < 2; i++) {
        worker_chain_call_t *c = calls[i];
        c->conv.mode = i == 0 ? WORKER_MODE_REPLY : WORKER_MODE_ANALYSIS;
        c->conv.system = i == 0 ? job->system : s_analysis_system;
        c->conv.temperature = i == 0 ? l->temperature : 0;
        c->conv.temperature_set = i == 0 && l->temperature_set;
        c->conv.max_tokens = i == 0 ? l->max_tokens : 1024;
        c->conv.tools = i == 0;
        c->conv.schema = job->schema;
        c->conv.cache_key = job->cache_key;
        c->chain = job->chain;
        c->nchain = job->nchain;
        c->model = (const char(*)[LULL_TENANT_MODEL_MAX + 1])job->model;
        c->tenant_id = job->ref.tenant_id;
        c->job_id = job->info.job_id;
        c->conv_id = job->info.conv_id;
        c->extraction_fields = job->extraction_fields;
        c->usage = job->usage;
        c->done = s_call_done;
        c->arg = job;
    }
    job->combined = job->want_reply && job->want_analysis && l->llm_mode == WORKER_LLM_COMBINED;
    if (job->combined) {  // the reply call gives both; the analysis call stays ready for the fallback
        size_t n = strlen(job->system) + strlen(s_combined_system) + 1;
        job->combined_system = malloc(n);
        job->combined_schema = worker_combined_schema(job->extraction_fields);
        if (!job->combined_system || !job->combined_schema) return -1;
        snprintf(job->combined_system, n, "%s%s", job->system, s_combined_system);
        job->reply.conv.mode = WORKER_MODE_COMBINED;
        job->reply.conv.system = job->combined_system;
        job->reply.conv.schema = job->combined_schema;
        job->reply.conv.max_tokens = l->max_tokens + 1024 > LULL_TENANT_MAX_TOKENS_MAX ? LULL_TENANT_MAX_TOKENS_MAX
                                                                                      : l->max_tokens + 1024;
    }
    return 0;
}

static void s_job_go(s_job_t *job);
static void s_media_done(worker_media_job_t *mj, void *arg);

// Runs a loaded job up to the start of its LLM calls, or to its outcome. The load is cleared here.
static void s_job_run(s_job_t *job, worker_load_t *l, worker_load_rc_t rc)
{
    worker_jobs_t *o = job->owner;
    // On the stack, not the heap: no large heap blocks per job, and no allocation failure to handle here.
    lull_outcome_t outcome;
    const char *detail;
    if (rc != WORKER_LOAD_OK) {
        if (rc == WORKER_LOAD_DB_ERROR) lull_counter_add(o->m_db_errors, 1);
        if (rc == WORKER_LOAD_INVALID)
            LOG_WARN("job.invalid", "conversation row invalid", "conv", LI(job->info.conv_id), "tenant", LI(job->ref.tenant_id));
        bool retry = rc == WORKER_LOAD_DB_ERROR || rc == WORKER_LOAD_NO_MEMORY;
        s_stop(job, retry ? LULL_OUTCOME_FAILED_RETRYABLE : LULL_OUTCOME_FAILED_PERMANENT, retry ? 1000 : 0,
               rc == WORKER_LOAD_DB_ERROR   ? "database error"
               : rc == WORKER_LOAD_NO_MEMORY ? "out of memory"
               : rc == WORKER_LOAD_NOT_FOUND ? "conversation not found"
                                             : "invalid conversation row or tenant mismatch");
        goto cleanup;
    }
    if (!worker_decide_current(l, &job->ref, &outcome, &detail)) {
        if (outcome == LULL_OUTCOME_FAILED_PERMANENT)
            LOG_WARN("job.invalid", "conversation of another tenant", "conv", LI(job->info.conv_id), "tenant",
                     LI(job->ref.tenant_id));
        s_stop(job, outcome, 0, detail);
        goto cleanup;
    }
    // The media first (the filters, the burst and the analysis read the notes and transcripts): the load is
    // the job's until its calls are prepared.
    job->load = *l;
    memset(l, 0, sizeof *l);
    job->mj = worker_media_start(o->media, &job->load, job->info.conv_id, s_media_done, job);
    if (!job->mj) {
        s_stop(job, LULL_OUTCOME_FAILED_RETRYABLE, 1000, "out of memory");
        return;
    }
    if (!worker_media_pending(job->mj)) s_job_go(job);
    return;
cleanup:
    worker_load_clear(l);
}

// The job's media have been read: notes into the history, then the filters, the plan and the calls.
static void s_media_done(worker_media_job_t *mj, void *arg)
{
    (void)mj;
    s_job_go(arg);
}

// Runs a job whose media have been read up to the start of its LLM calls, or to its outcome.
static void s_job_go(s_job_t *job)
{
    worker_jobs_t *o = job->owner;
    // On the stack, not the heap: no large heap blocks per job, and no allocation failure to handle here.
    char burst[WORKER_MAX_BURST_TEXT], transcript[WORKER_MAX_BURST_TEXT];
    worker_plan_t plan;
    worker_load_t lv = job->load, *l = &lv;  // the load is cleared here (the job may end inside)
    memset(&job->load, 0, sizeof job->load);
    if (worker_media_apply(job->mj, l) != 0) {
        s_stop(job, LULL_OUTCOME_FAILED_RETRYABLE, 1000, "out of memory");
        goto cleanup;
    }
    if (s_keep(job, l) != 0) {
        s_stop(job, LULL_OUTCOME_FAILED_RETRYABLE, 1000, "out of memory");
        goto cleanup;
    }
    // History by budget: the newest messages whose estimated tokens fit the tenant's budget (the burst always).
    size_t first = worker_history_first(l->history, l->nhistory, l->answered_upto, l->history_tokens);
    if (first > 0) {
        memmove(l->history, l->history + first, (l->nhistory - first) * sizeof *l->history);
        l->nhistory -= first;
    }
    if (worker_decide_burst(l, burst, sizeof burst, transcript, sizeof transcript) == 0) {
        s_stop(job, LULL_OUTCOME_FAILED_PERMANENT, 0, "no inbound message in the burst");
        goto cleanup;
    }
    worker_decide_plan(l, burst, o->cfg->block_limit_ms > 0, &plan);
    if (plan.why != WORKER_PLAN_CALL) {
        if (plan.why == WORKER_PLAN_BLOCKED) LOG_INFO("job.blocked", "blocked content; safe reply", "conv", LI(job->info.conv_id));
        if (plan.why == WORKER_PLAN_DAILY_LIMIT)
            LOG_INFO("job.daily_limit", "daily usage limit reached; no reply", "conv", LI(job->info.conv_id), "tenant",
                     LI(job->ref.tenant_id));
        worker_outcome_t out = {.write = WORKER_WRITE_RESULT, .outcome = plan.outcome, .detail = plan.detail,
                                .reply = plan.reply, .kind = plan.kind, .esc_source = plan.esc_source,
                                .esc_reason = plan.reason, .limit_contact = plan.limit_contact, .analysis_provider = -1};
        s_emit(job, &out);
        goto cleanup;
    }
    if (job->nchain == 0) {
        s_job_finish(job);  // no provider: handled as "every provider failed"
        goto cleanup;
    }
    if (s_prepare_calls(job, l, burst, transcript) != 0) {
        s_stop(job, LULL_OUTCOME_FAILED_RETRYABLE, job->system ? 0 : 1000,
               job->system ? "cannot build the conversation" : "out of memory");
        goto cleanup;
    }
    if (!job->want_reply && !job->want_analysis) {
        worker_outcome_t out = {.outcome = LULL_OUTCOME_FAILED_PERMANENT, .refusal = "analysis_disabled",
                                .detail = "the analysis is off on this worker (LULL_WORKER_ANALYSIS)",
                                .analysis_provider = -1};
        s_emit(job, &out);
        goto cleanup;
    }
    // Both flags first: with an analysis the job cannot end inside the first start (the other call still
    // runs); with one call it may, and then nothing of it may be touched afterwards.
    job->reply.running = job->want_reply;
    job->analysis.running = job->want_analysis && !job->combined;
    bool both = job->want_reply && job->want_analysis && !job->combined;
    if (job->want_reply) worker_chain_start(o->chain, &job->reply);
    if (both || !job->want_reply) worker_chain_start(o->chain, &job->analysis);
cleanup:
    worker_load_clear(l);
}

// A job's load is back (worker_loadq).
static void s_loaded(worker_loadq_item_t *item, PGresult *row, PGresult *history, void *arg)
{
    (void)arg;
    s_job_t *job = (s_job_t *)(void *)((char *)item - offsetof(s_job_t, litem));
    worker_load_t l;
    worker_load_rc_t rc = worker_load_read(&l, row, history);
    s_job_run(job, &l, rc);
}

// ------------------------------------------------------------------------------------------------
// timers

static void s_tick(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    worker_jobs_t *o = arg;
    worker_chain_tick(o->chain);
    worker_loadq_flush(o->loadq);
    o->commit->end(o->commit);
}

static void s_refresh_prices(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    worker_jobs_t *o = arg;
    worker_prices_refresh(o->prices, o->db, o->dbq);  // a failure keeps the prices read before (logged)
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
    if (db) lull_db_set_session_sql(db, WORKER_DB_SESSION_SQL);  // the process connection, thread or not
    self->done = done;
    self->done_arg = arg;
    self->tick = self->price_timer = -1;
    self->chain = worker_chain_new(cfg, loop, db, metrics);
    self->media = worker_media_new(cfg, loop, db);
    if (cfg->db_thread) {
        self->dbq = worker_dbq_new(loop, cfg->common.database_url);
        if (!self->dbq) goto fail;
    }
    self->loadq = worker_loadq_new(db, self->dbq, s_loaded, self);
    self->commit = worker_commit_new(db, self->dbq, metrics, s_report, self);
    self->prices = worker_prices_new();
    if (!self->chain || !self->media || !self->loadq || !self->commit || !self->prices) goto fail;
    self->tick = lull_loop_add_timer(loop, TICK_MS, TICK_MS, s_tick, self);
    if (self->tick < 0) goto fail;
    if (cfg->prices_refresh_ms > 0) {
        self->price_timer = lull_loop_add_timer(loop, cfg->prices_refresh_ms, cfg->prices_refresh_ms, s_refresh_prices, self);
        if (self->price_timer < 0) goto fail;
    }
    if (worker_prices_load(self->prices, db) == 0)
        LOG_INFO("prices.loaded", "model prices read from llm_prices", "rows", LI(worker_prices_count(self->prices)),
                 "refresh_ms", LI(cfg->prices_refresh_ms));
    const char *models[] = {cfg->openai_model, cfg->anthropic_model, cfg->gemini_model};
    for (int i = 0; i < WORKER_NPROVIDERS; i++) {
        self->has_key[i] = worker_chain_has_key(self->chain, i);
        self->default_model[i] = models[i];
    }
    for (int oc = 1; oc <= LULL_OUTCOME_MAX; oc++) {
        char labels[64];
        snprintf(labels, sizeof labels, "outcome=\"%s\"", lull_outcome_name(oc));
        self->m_outcome[oc] = lull_metrics_counter(metrics, "lull_worker_jobs_total", labels, "jobs finished, by DONE outcome");
    }
    self->m_tries = lull_metrics_counter(metrics, "lull_worker_tries_total", NULL, "dry runs answered (admin test endpoints)");
    self->m_analysis_failed = lull_metrics_counter(metrics, "lull_worker_analysis_failed_total", NULL, "replies committed without a valid analysis");
    self->m_db_errors = lull_metrics_counter(metrics, "lull_worker_db_errors_total", NULL, "database statements that failed");
    self->m_running = lull_metrics_gauge(metrics, "lull_worker_jobs_running", NULL, "jobs in flight");
    self->m_job_seconds = lull_metrics_histogram(metrics, "lull_worker_job_seconds", NULL, "job duration from JOB to DONE",
                                                 LULL_METRICS_LATENCY_BUCKETS, LULL_METRICS_LATENCY_NBUCKETS);
    return self;
fail:
    worker_jobs_destroy(&self);
    return NULL;
}

void worker_jobs_destroy(worker_jobs_t **self_p)
{
    if (!self_p || !*self_p) return;
    worker_jobs_t *self = *self_p;
    // Jobs whose load is on the database thread stay on the list below; its commits come back reported.
    worker_loadq_stop(self->loadq);  // jobs not loaded yet are reported below with the running ones
    worker_dbq_drain(self->dbq);
    if (self->commit) self->commit->end(self->commit);  // finished jobs still get their commit and DONE
    worker_chain_stop(self->chain);  // aborts the requests in flight; no call goes on
    // Jobs still running are reported failed_retryable with a retry after 1 ms, so the scheduler hands them
    // to another worker now instead of when this worker's heartbeat expires; dry runs are answered 503.
    int64_t reported = 0;
    while (self->jobs) {
        worker_outcome_t out = {.outcome = LULL_OUTCOME_FAILED_RETRYABLE, .retry_after_ms = 1,
                                .detail = "worker stopping", .refusal = "unavailable", .analysis_provider = -1};
        s_emit(self->jobs, &out);
        reported++;
    }
    if (reported) LOG_INFO("jobs.returned", "jobs in flight handed back to the scheduler at shutdown", "jobs", LI(reported));
    if (self->tick >= 0) lull_loop_cancel_timer(self->loop, self->tick);
    if (self->price_timer >= 0) lull_loop_cancel_timer(self->loop, self->price_timer);
    if (self->commit) self->commit->destroy(&self->commit);  // waits for the commits on the thread
    worker_dbq_destroy(&self->dbq);  // (a price read still on it is applied before the table goes)
    worker_loadq_destroy(&self->loadq);
    worker_chain_destroy(&self->chain);
    worker_media_destroy(&self->media);  // after the jobs: their media fetches were detached
    worker_prices_destroy(&self->prices);
    while (self->spare) {
        s_job_t *job = self->spare;
        self->spare = job->next;
        free(job);
    }
    free(self);
    *self_p = NULL;
}

// A new job on the list of running jobs, started with sink.
static s_job_t *s_job_new(worker_jobs_t *self, worker_sink_t *sink, int conn, int gen)
{
    s_job_t *job = self->spare;
    if (job) {
        self->spare = job->next;
        self->nspare--;
        memset(job, 0, sizeof *job);
    } else {
        job = calloc(1, sizeof *job);
        if (!job) return NULL;
    }
    job->owner = self;
    job->sink = sink;
    job->info.conn = conn;
    job->info.gen = gen;
    job->info.started_ms = lull_clock_mono_ms();
    job->info.provider = "";
    job->want_reply = true;
    job->next = self->jobs;
    if (self->jobs) self->jobs->prev = job;
    self->jobs = job;
    self->njobs++;
    lull_gauge_set(self->m_running, (double)self->njobs);
    return job;
}

// The engine's view of a job before it is loaded, for its sink's begin.
static void s_begin(s_job_t *job)
{
    worker_job_view_t view = {.done = job->info, .tenant_id = job->ref.tenant_id, .expected = job->ref.expected,
                              .max_wait = job->ref.max_wait, .reply_provider = -1};
    job->sink->begin(job->sink, &view);
}

void worker_jobs_start(worker_jobs_t *self, const lull_msg_t *msg, int conn, int gen)
{
    s_job_t *job = s_job_new(self, self->commit, conn, gen);
    if (!job) {
        worker_done_info_t who = {.job_id = msg->u.job.job_id, .conv_id = msg->u.job.conversation_id,
                                  .upto = msg->u.job.upto, .attempt = msg->u.job.attempt, .conn = conn, .gen = gen,
                                  .started_ms = lull_clock_mono_ms(), .provider = ""};
        s_report(&who, LULL_OUTCOME_FAILED_RETRYABLE, 1000, "out of memory", NULL, 0, self);
        return;
    }
    job->info.job_id = msg->u.job.job_id;
    job->info.conv_id = msg->u.job.conversation_id;
    job->info.upto = msg->u.job.upto;
    job->info.attempt = msg->u.job.attempt;
    job->ref = (worker_job_ref_t){.tenant_id = msg->u.job.tenant_id, .expected = msg->u.job.expected_upto,
                                  .upto = msg->u.job.upto, .max_wait = (msg->u.job.flags & LULL_JOB_MAX_WAIT) != 0};
    s_begin(job);
    job->litem.conv_id = job->info.conv_id;
    job->litem.upto = job->info.upto;
    worker_loadq_add(self->loadq, &job->litem);
}

void worker_jobs_try(worker_jobs_t *self, const lull_msg_t *msg, int conn, int gen)
{
    uint64_t req = msg->u.ctl_req.req_id;
    const char *body = msg->u.ctl_req.body;
    char err[160] = "";
    worker_load_t l = {0};
    worker_sink_t *sink = NULL;
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
    else if (strlen(text->valuestring) > WORKER_MAX_BODY_TEXT) why = "text is longer than 4000 bytes";
    else if (mode && !(cJSON_IsString(mode) && (strcmp(mode->valuestring, "reply") == 0 ||
                                                strcmp(mode->valuestring, "analyse") == 0)))
        why = "mode must be \"reply\" or \"analyse\"";
    if (why) {
        worker_trial_reply(self->done, self->done_arg, self->m_tries, req, conn, gen, 400,
                           lull_json_error_body("bad_request", why));
        goto cleanup;
    }
    // the tenant, checked here so the job pipeline only meets its own failures
    int64_t tenant_id = (int64_t)tenant->valuedouble;
    worker_load_rc_t rc = worker_load_try(&l, self->db, tenant_id, text->valuestring);
    bool analyse = mode && strcmp(mode->valuestring, "analyse") == 0;
    sink = rc == WORKER_LOAD_OK ? worker_trial_new(req, conn, gen, analyse, self->done, self->done_arg, self->m_tries) : NULL;
    s_job_t *job = sink ? s_job_new(self, sink, conn, gen) : NULL;
    if (!job) {
        int status = rc == WORKER_LOAD_DB_ERROR ? 503 : rc == WORKER_LOAD_NOT_FOUND ? 404 : 500;
        const char *code = status == 503 ? "database_unavailable" : status == 404 ? "not_found" : "out_of_memory";
        const char *text503 = "the worker cannot reach the database";
        worker_trial_reply(self->done, self->done_arg, self->m_tries, req, conn, gen, status,
                           lull_json_error_body(code, status == 503 ? text503 : status == 404 ? "no such tenant" : "out of memory"));
        goto cleanup;
    }
    sink = NULL;  // the job's now
    job->info.job_id = req;
    job->info.upto = 1;
    job->info.attempt = 1;
    job->ref = (worker_job_ref_t){.tenant_id = tenant_id, .expected = 0, .upto = 1};
    job->want_reply = !analyse;
    s_begin(job);
    s_job_run(job, &l, rc);  // answers now (filters, errors) or after its LLM calls
cleanup:
    if (sink) sink->destroy(&sink);
    worker_load_clear(&l);
    cJSON_Delete(doc);
}

void worker_jobs_flush(worker_jobs_t *self)
{
    worker_loadq_flush(self->loadq);
    self->commit->end(self->commit);
}

size_t worker_jobs_running(const worker_jobs_t *self)
{
    return self ? self->njobs : 0;
}
