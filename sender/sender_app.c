// The sender's loop work: claim → adapter → HTTP (libcurl multi) → classify → batch of results → one
// guarded UPDATE. Rate-limited rows are released without counting an attempt; web chat rows are marked
// sent with their pg_notify; a WhatsApp reply outside the window becomes a template or an escalation.
#include "sender_app.h"
#include <czmq.h>
#include "lull_proto.h"
#include "lull_channel.h"
#include "lull_clock.h"
#include "lull_crypto.h"
#include "lull_http.h"
#include "lull_json.h"
#include "lull_log.h"
#include "lull_retry.h"
#include "sender_adapt.h"
#include "sender_hold.h"
#include "sender_meta.h"
#include "sender_outbox.h"
#include "sender_payload.h"
#include "sender_policy.h"
#include "sender_rate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CLAIM_ROUNDS 8           // claims per pump before yielding to the loop
#define MAX_PAYLOAD 65536            // bytes of outbox.payload read
#define MAX_RETRY_AFTER_MS 86400000  // a Retry-After beyond a day is not believed
#define MAX_WAKEUPS 1024             // OUTBOX messages drained per readable event
#define RESP_MAX 65536               // response bytes kept

enum { K_SENT, K_RETRY, K_DEAD, K_UNKNOWN, K_RELEASED, K_N };
static const char *s_result_names[K_N] = {"sent", "retry", "dead", "unknown", "released"};
static const char *s_kind_names[6] = {"", "twilio", "tiktok", "callback", "webchat", "meta"};

struct sender_app {
    const sender_cfg_t *cfg;
    lull_loop_t *loop;
    lull_db_t *db;
    lull_http_t *http;           // provider APIs (operator-configured URLs)
    lull_http_t *callback_http;  // tenant callback URLs: public addresses or callback_allow only, own connections
    lull_netaddr_allow_t callback_allow;
    zsock_t *pull;
    void *pull_raw;
    sender_rate_t *rate;
    sender_results_t *results;
    sender_hold_t *holds;        // in-memory retries waiting for their delay (sender_hold.c)
    int64_t claim_ms;            // monotonic time of the current claim
    int64_t *webchat;            // web chat ids of the current claim
    size_t webchat_n, webchat_cap;
    char owner[128];             // lease_owner: host:pid:random
    int poll_timer, pump_timer, flush_timer;
    bool want_claim;
    bool stopping;
    lull_counter_t *count[6][K_N];
    lull_counter_t *lease_lost;
    lull_gauge_t *in_flight;
    lull_histogram_t *latency;
};

// One claimed row; a delivery in flight once started.
typedef struct {
    sender_app_t *app;
    int64_t id, tenant_id;
    int64_t conv;        // conversation id (0 when the row has none)
    char channel[16];    // the row's channel, for the log
    int attempts;        // including this one
    int claimed;         // the row's attempts as its claim wrote them (attempts - claimed: made in memory, not written)
    int max_retries;
    int64_t base_ms, cap_ms;
    sender_kind_t kind;
    sender_meta_t *meta;       // SENDER_META: the requests of the row (owned); such a job is never held
    lull_http_t *client;       // the client that sends it
    sender_held_t held;        // an in-memory retry (sender_hold.c); lease_end_ms is set at the claim
    int64_t req_ms;            // the last request's time, from its start to its answer (delivery.sent's ms)
} s_job_t;

static void s_kick(sender_app_t *self);
static void s_kick_later(sender_app_t *self);
static bool s_hold(sender_app_t *self, s_job_t *job, const lull_http_resp_t *resp, int64_t delay, long status,
                   const char *error);

static void s_job_free(s_job_t *job)
{
    if (job) sender_meta_destroy(&job->meta);
    free(job);
}

static void s_count(sender_app_t *self, sender_kind_t kind, int k)
{
    if (kind >= 1 && kind <= 5) lull_counter_add(self->count[kind][k], 1);
}

// The log line of one attempt's result (the log contract): delivery.sent and delivery.retry at info,
// delivery.dead at warn (dead letters, result dead or unknown); a rate-limited release logs nothing. status 0 =
// no HTTP answer. Never the message body.
static void s_log_result(const s_job_t *job, int k, int64_t delay_ms, long status, const char *error,
                         const char *provider_id)
{
    long st = status > 0 ? status : 0;
    if (k == K_SENT)
        LOG_INFO("delivery.sent", NULL, "outbox", LI(job->id), "conv", LI(job->conv), "channel", LS(job->channel),
                 "provider_id", LS(provider_id ? provider_id : ""), "attempt", LI(job->attempts), "ms", LI(job->req_ms));
    else if (k == K_RETRY)
        LOG_INFO("delivery.retry", error, "outbox", LI(job->id), "conv", LI(job->conv), "attempt", LI(job->attempts),
                 "status", LI(st), "delay_ms", LI(delay_ms));
    else if (k == K_DEAD || k == K_UNKNOWN)
        LOG_WARN("delivery.dead", "delivery given up", "outbox", LI(job->id), "conv", LI(job->conv), "attempt",
                 LI(job->attempts), "status", LI(st), "error", LS(error ? error : ""), "channel", LS(job->channel),
                 "result", LS(s_result_names[k]));
}

// Queues a result and logs it; on allocation failure the row's lease will expire and it will be retried.
static void s_record(sender_app_t *self, const s_job_t *job, sender_rec_t rec, int64_t delay_ms, long last_status,
                     const char *error, const char *provider_id)
{
    // A row retried in memory is written here only: its attempts made in memory, and the failed attempt's error
    // when this result carries none (a success after retries keeps the last failure, as last_error always did).
    const char *err = error ? error : job->held.fail_error[0] ? job->held.fail_error : NULL;
    if (sender_results_add_n(self->results, job->id, rec, delay_ms, last_status, err, provider_id,
                             job->attempts - job->claimed) != 0)
        LOG_ERROR("sender.oom", "cannot queue a result; the lease will expire", "outbox", LI(job->id));
    int k = rec == SENDER_REC_SENT ? K_SENT : rec == SENDER_REC_RETRY ? K_RETRY : rec == SENDER_REC_DEAD ? K_DEAD
          : rec == SENDER_REC_UNKNOWN ? K_UNKNOWN : K_RELEASED;
    s_count(self, job->kind, k);
    s_log_result(job, k, delay_ms, last_status, error, provider_id);
}

static void s_dead(sender_app_t *self, const s_job_t *job, const char *why)
{
    s_record(self, job, SENDER_REC_DEAD, 0, -1, why, NULL);
}

// Deliveries in flight, over both HTTP clients.
static size_t s_in_flight(const sender_app_t *self)
{
    return (self->http ? lull_http_in_flight(self->http) : 0) +
           (self->callback_http ? lull_http_in_flight(self->callback_http) : 0);
}

static void s_escalate(sender_app_t *self, s_job_t *job, const char *why);
static void s_on_done(const lull_http_resp_t *resp, void *arg);

// ---------------------------------------------------------------------------------------------------
// Completion

// A Cloud API answer that asks for another request of the same job: the next part of a long text, or the template
// after 131047 (window closed). True when the job was taken over (in flight again, or ended and freed here): a
// later part's failure is dead-lettered (a retry would send the parts already delivered again), a closed window
// without template escalates. False when the caller records the answer as for any adapter.
static bool s_meta_more(sender_app_t *self, s_job_t *job, sender_outcome_t *out)
{
    bool next = out->verdict == SENDER_SENT ? sender_meta_next(job->meta, out->provider_id)
              : out->window_closed && sender_meta_to_template(job->meta);
    if (next) {
        lull_http_req_t req;
        sender_meta_request(job->meta, &req, self->cfg->timeout_ms);
        if (lull_http_start(self->http, &req, s_on_done, job) == 0) return true;
        snprintf(out->error, sizeof out->error, "cannot start request");
    }
    if (out->window_closed && !next) {
        s_escalate(self, job, "whatsapp cloud 131047: outside the 24-hour window and no approved template configured");
        return true;
    }
    int sent = sender_meta_sent(job->meta);
    if (sent > 0 && (next || out->verdict != SENDER_SENT)) {
        char why[600];
        snprintf(why, sizeof why, "partially delivered (%d of %d parts, first %.128s): %.255s", sent,
                 sender_meta_parts(job->meta), sender_meta_first_id(job->meta), out->error);
        s_record(self, job, SENDER_REC_DEAD, 0, out->status, why, NULL);
        s_job_free(job);
        return true;
    }
    return false;
}

static void s_on_done(const lull_http_resp_t *resp, void *arg)
{
    s_job_t *job = arg;
    sender_app_t *self = job->app;
    sender_outcome_t out;
    sender_classify(job->kind, resp->status, resp->curl_code, resp->error, resp->request_sent, resp->timed_out,
                    resp->body, resp->body_len, &out);
    lull_histogram_observe(self->latency, (double)resp->elapsed_ms / 1000.0);
    job->req_ms = resp->elapsed_ms;
    if (self->stopping && resp->status == 0) {
        // Aborted by shutdown: hand it back now, with the same idempotency key.
        s_record(self, job, SENDER_REC_RETRY, 0, 0,
                 resp->request_sent ? "unknown outcome: sender stopped mid-request" : "sender stopped", NULL);
    } else if (resp->address_refused) {
        s_dead(self, job, "address not allowed");  // no connect detail: a callback URL is not a port scanner
    } else if (job->meta && s_meta_more(self, job, &out)) {
        job = NULL;  // the next part (or the template) is on its way with it, or it ended (freed) there
    } else if (out.verdict == SENDER_SENT) {
        s_record(self, job, SENDER_REC_SENT, 0, out.status, NULL, job->meta ? sender_meta_first_id(job->meta) : out.provider_id);
    } else if (out.verdict == SENDER_RETRY && job->attempts - 1 < job->max_retries) {
        int64_t ra = lull_http_retry_after_ms(resp, MAX_RETRY_AFTER_MS);
        int64_t delay = lull_retry_delay_ms(job->attempts - 1, job->base_ms, job->cap_ms, ra);
        if (s_hold(self, job, resp, delay, out.status, out.error)) {
            s_count(self, job->kind, K_RETRY);
            s_log_result(job, K_RETRY, delay, out.status, out.error, NULL);
            lull_gauge_set(self->in_flight, (double)s_in_flight(self));
            s_kick_later(self);
            return;  // the job waits in self->holds
        }
        s_record(self, job, SENDER_REC_RETRY, delay, out.status, out.error, NULL);
    } else {
        char why[300];
        snprintf(why, sizeof why, "%s%s", out.verdict == SENDER_RETRY ? "max retries reached: " : "", out.error);
        s_record(self, job, out.unknown ? SENDER_REC_UNKNOWN : SENDER_REC_DEAD, 0, out.status, why, NULL);
    }
    s_job_free(job);
    lull_gauge_set(self->in_flight, (double)s_in_flight(self));  // already excludes this one
    // Results are written in batches: each UPDATE is a commit (an fsync), so one per completion would
    // bound throughput by the disk.
    if (sender_results_count(self->results) >= (size_t)self->cfg->batch) s_kick(self);
    else s_kick_later(self);
}

// ---------------------------------------------------------------------------------------------------
// Starting a claimed row (sender_adapt.c builds its request)

// Starts what the adapter built (rc, b) for job, or ends the job: dead-lettered with b->err, retried later (err
// empty: out of memory), or escalated. The job is the request's, or freed; b is cleared.
static void s_start(sender_app_t *self, s_job_t *job, sender_build_rc_t rc, sender_built_t *b)
{
    if (rc == SENDER_BUILD_ESCALATE) {
        s_escalate(self, job, b->err);
    } else if (rc == SENDER_BUILD_SEND) {
        job->meta = b->meta;  // the job owns the parts of a WhatsApp Cloud row from now on
        b->meta = NULL;
        job->client = b->req.public_only ? self->callback_http : self->http;
        if (lull_http_start(job->client, &b->req, s_on_done, job) == 0) {
            lull_gauge_set(self->in_flight, (double)s_in_flight(self));
        } else {
            s_record(self, job, SENDER_REC_RETRY, self->cfg->retry_base_ms, 0, "cannot start request", NULL);
            s_job_free(job);
        }
    } else if (*b->err) {
        s_dead(self, job, b->err);
        s_job_free(job);
    } else {
        s_record(self, job, SENDER_REC_RETRY, self->cfg->retry_base_ms, 0, "out of memory", NULL);
        s_job_free(job);
    }
    sender_built_clear(b);
}

// Dead-letters a WhatsApp row the window refuses and escalates its conversation; frees the job.
static void s_escalate(sender_app_t *self, s_job_t *job, const char *why)
{
    if (sender_outbox_escalate(self->db, self->owner, job->id, job->conv, job->tenant_id, why) != 0) {
        LOG_ERROR("sender.escalate_failed", "cannot dead-letter/escalate; the lease will expire", "outbox", LI(job->id),
                  "conv", LI(job->conv), "error", LS(lull_db_error(self->db)));
    } else {
        s_count(self, job->kind, K_DEAD);
        s_log_result(job, K_DEAD, 0, 0, why, NULL);
    }
    s_job_free(job);
}

// ---------------------------------------------------------------------------------------------------
// Claim

static double s_channel_rate(const sender_app_t *self, sender_kind_t kind)
{
    switch (kind) {
    case SENDER_TWILIO: return self->cfg->twilio_per_s;
    case SENDER_TIKTOK: return self->cfg->tiktok_per_min / 60.0;
    case SENDER_CALLBACK: return self->cfg->callback_per_s;
    case SENDER_META: return self->cfg->meta_per_s;
    default: return 0;
    }
}

// Releases the row when a rate limit refuses it; true then.
static bool s_rate_limited(sender_app_t *self, const s_job_t *row)
{
    int64_t now = lull_clock_mono_ms();
    char key[64];
    snprintf(key, sizeof key, "t:%lld:%d", (long long)row->tenant_id, (int)row->kind);
    int64_t wait = sender_rate_take(self->rate, key, self->cfg->tenant_per_s, now);
    if (wait == 0) {
        snprintf(key, sizeof key, "c:%d", (int)row->kind);
        wait = sender_rate_take(self->rate, key, s_channel_rate(self, row->kind), now);
    }
    if (wait == 0) return false;
    s_record(self, row, SENDER_REC_RELEASE, wait, -1, NULL, NULL);
    return true;
}

static void s_row(sender_app_t *self, const PGresult *res, int r)
{
    char err[256] = "";
    cJSON *payload = NULL, *creds = NULL;
    bool ok = false;
    s_job_t row = {.app = self, .held.lease_end_ms = self->claim_ms + self->cfg->lease_ms};
    row.id = lull_db_int(res, r, SO_ID, &ok);
    if (!ok) return;  // cannot happen for a primary key; nothing to record against
    if (sender_outbox_row_cancelled(res, r)) return;  // a person answered over this bot reply
    const char *channel = lull_db_text(res, r, SO_CHANNEL);
    snprintf(row.channel, sizeof row.channel, "%s", channel ? channel : "");
    row.conv = lull_db_int(res, r, SO_CONV, NULL);
    row.tenant_id = lull_db_int(res, r, SO_TENANT, NULL);
    row.attempts = (int)lull_db_int(res, r, SO_ATTEMPTS, NULL);
    row.claimed = row.attempts;
    row.kind = sender_kind_of(channel);
    if (row.kind == SENDER_TWILIO && sender_meta_is_address(lull_db_text(res, r, SO_SENDER_ADDR))) row.kind = SENDER_META;
    if (!row.kind) {
        snprintf(err, sizeof err, "unknown channel '%.32s'", channel ? channel : "");
        s_dead(self, &row, err);
        return;
    }
    if (row.kind == SENDER_WEBCHAT) {
        const char *session = lull_db_text(res, r, SO_RECIPIENT);
        if (!session || !*session) {
            s_dead(self, &row, "missing recipient (web chat session)");
            return;
        }
        if (self->webchat_n == self->webchat_cap) {
            size_t cap = self->webchat_cap ? self->webchat_cap * 2 : 64;
            int64_t *w = realloc(self->webchat, cap * sizeof *w);
            if (!w) return;  // the lease expires and the row is retried
            self->webchat = w;
            self->webchat_cap = cap;
        }
        self->webchat[self->webchat_n++] = row.id;
        return;
    }
    const char *ptext = lull_db_text(res, r, SO_PAYLOAD);
    sender_payload_t p;
    if (ptext && strlen(ptext) > MAX_PAYLOAD) snprintf(err, sizeof err, "larger than %d bytes", MAX_PAYLOAD);
    else if (ptext) payload = lull_json_parse(ptext, strlen(ptext), 8, err, sizeof err);
    if (!payload || sender_payload_parse(payload, &p, err, sizeof err) != 0) {
        char why[300];
        snprintf(why, sizeof why, "invalid payload: %s", *err ? err : "missing");
        s_dead(self, &row, why);
        goto cleanup;
    }
    const char *ctext = lull_db_text(res, r, SO_CREDENTIALS);
    if (ctext && !(creds = lull_json_parse(ctext, strlen(ctext), 4, err, sizeof err))) {
        s_dead(self, &row, "invalid tenants.credentials");
        goto cleanup;
    }
    if (s_rate_limited(self, &row)) goto cleanup;
    int64_t v = lull_db_int(res, r, SO_MAX_RETRIES, &ok);
    row.max_retries = ok && v >= 0 && v <= 1000 ? (int)v : (int)self->cfg->max_retries;
    v = lull_db_int(res, r, SO_RETRY_BASE, &ok);
    row.base_ms = ok && v >= 0 ? v : self->cfg->retry_base_ms;
    v = lull_db_int(res, r, SO_RETRY_MAX, &ok);
    row.cap_ms = ok && v >= 0 ? v : self->cfg->retry_max_ms;
    s_job_t *job = malloc(sizeof *job);
    if (!job) goto cleanup;
    *job = row;
    sender_built_t b;
    sender_build_rc_t rc = sender_adapt_build(self->cfg, &self->callback_allow, row.kind, row.id, row.tenant_id, res, r,
                                              &p, creds, channel, &b);
    s_start(self, job, rc, &b);
cleanup:
    cJSON_Delete(payload);
    cJSON_Delete(creds);
}

// Results written: queued of them, applied rows changed (fewer: leases taken over).
static void s_flushed(sender_app_t *self, size_t queued, int64_t applied)
{
    if ((size_t)applied >= queued) return;
    lull_counter_add(self->lease_lost, queued - (size_t)applied);
    LOG_WARN("sender.lease_lost", "results not written: the rows' leases were taken over", "rows", LI(queued - (size_t)applied));
}

static void s_flush(sender_app_t *self)
{
    size_t queued = sender_results_count(self->results);
    int64_t applied = 0;
    if (queued == 0) return;
    if (sender_results_flush(self->results, self->db, self->owner, &applied) != 0) {
        LOG_ERROR("sender.flush_failed", "cannot record results; will retry", "rows", LI(queued), "error", LS(lull_db_error(self->db)));
        return;
    }
    s_flushed(self, queued, applied);
}

// A web chat row written sent (its reply published on the session's stream).
static void s_webchat_sent(int64_t id, int64_t conv, int attempt, void *arg)
{
    sender_app_t *self = arg;
    s_job_t row = {.app = self, .id = id, .conv = conv, .attempts = attempt, .kind = SENDER_WEBCHAT};
    snprintf(row.channel, sizeof row.channel, "webchat");
    s_count(self, SENDER_WEBCHAT, K_SENT);
    s_log_result(&row, K_SENT, 0, 0, NULL, NULL);
}

// Starts the rows of a claim (its result, freed here). How many.
static int s_claimed(sender_app_t *self, PGresult *res)
{
    int rows = PQntuples(res);
    self->webchat_n = 0;
    for (int r = 0; r < rows; r++) s_row(self, res, r);
    PQclear(res);
    if (self->webchat_n &&
        sender_outbox_webchat_sent(self->db, self->owner, self->webchat, self->webchat_n, s_webchat_sent, self) != 0)
        LOG_ERROR("sender.webchat_failed", "cannot mark web chat rows sent; the leases will expire", "error",
                  LS(lull_db_error(self->db)));
    if (rows) LOG_DEBUG("sender.claimed", NULL, "rows", LI(rows));
    return rows;
}

// ---------------------------------------------------------------------------------------------------
// In-memory retries (sender_hold.c): a retryable failure of a row without a rate limit whose retry ends well
// within the claim's lease keeps its request and is sent again after its delay, without a new claim.

static int64_t s_hold_margin(const sender_app_t *self) { return self->cfg->timeout_ms + self->cfg->lease_ms / 10; }

static bool s_hold(sender_app_t *self, s_job_t *job, const lull_http_resp_t *resp, int64_t delay, long status,
                   const char *error)
{
    int64_t due = lull_clock_mono_ms() + delay;
    if (self->stopping || !job->client || job->meta || self->cfg->tenant_per_s > 0 || s_channel_rate(self, job->kind) > 0 ||
        job->held.lease_end_ms - due <= s_hold_margin(self) || sender_hold_count(self->holds) >= (size_t)self->cfg->max_in_flight)
        return false;
    lull_http_kept_t *k = lull_http_keep(resp);
    if (!k) return false;
    job->held = (sender_held_t){.id = job->id, .due_ms = due, .lease_end_ms = job->held.lease_end_ms,
                                .fail_status = status, .unwritten = job->attempts - job->claimed,
                                .client = job->client, .kept = k, .job = job};
    snprintf(job->held.fail_error, sizeof job->held.fail_error, "%s", error ? error : "");
    return sender_hold_push(self->holds, &job->held) == 0;  // below capacity: cannot fail
}

static void s_on_resume(sender_held_t *h, int attempts, void *arg)
{
    s_job_t *job = h->job;
    job->attempts = attempts;
    if (lull_http_resend(job->client, h->kept, s_on_done, job) == 0) return;
    s_record(arg, job, SENDER_REC_RETRY, job->base_ms, 0, "cannot start request", NULL);
    s_job_free(job);
}

// Retries coming due wait for the next pump (at most LULL_SENDER_FLUSH_MS), so that those due close together
// start in one statement.
static void s_on_hold_due(void *arg) { s_kick_later(arg); }

// One pump: the queued results, the start of the in-memory retries that came due and the claim of new rows that
// the room left allows go in one statement batch (sender_outbox_pump): one round trip, one commit. Only when a
// claim fills its room entirely and more may be due does another claim follow (at most MAX_CLAIM_ROUNDS).
static void s_pump(sender_app_t *self)
{
    size_t max = (size_t)self->cfg->max_in_flight, busy = s_in_flight(self);
    sender_resume_t in = {0};
    if (sender_hold_count(self->holds))
        (void)sender_hold_take(self->holds, lull_clock_mono_ms(), s_hold_margin(self), busy < max ? max - busy : 0,
                               self->results, &in);
    bool resume = in.n > 0;
    for (int round = 0;; round++) {
        bool claim = self->want_claim && !self->stopping;
        int n = 0;
        if (claim && round == MAX_CLAIM_ROUNDS) {
            s_kick(self);  // let the loop serve sockets, then go on
            claim = false;
        }
        if (claim) {  // the room the retries starting with it leave
            busy = s_in_flight(self) + (resume ? in.n : 0);
            size_t room = busy < max ? max - busy : 0;
            n = room < (size_t)self->cfg->batch ? (int)room : (int)self->cfg->batch;
            claim = n > 0;  // full: a completion kicks us again
        }
        if (!claim && !resume) break;
        PGresult *rres = NULL, *cres = NULL;
        sender_flushed_t f = {0};
        if (claim) self->claim_ms = lull_clock_mono_ms();  // the lease runs from (at the latest) here
        int rc = sender_outbox_pump(self->db, self->owner, self->results, resume ? &in : NULL, n, self->cfg->lease_ms,
                                    resume ? &rres : NULL, claim ? &cres : NULL, &f);
        s_flushed(self, f.queued, f.applied);
        if (resume) {
            if (rc != 0 || !rres)
                LOG_WARN("sender.resume_failed", "cannot start in-memory retries; will try again", "error",
                         LS(lull_db_error(self->db)));
            sender_hold_started(self->holds, rc == 0 ? rres : NULL, lull_clock_mono_ms(), self->cfg->poll_ms,
                                self->results, self->lease_lost, s_on_resume, self);
            PQclear(rres);
            resume = false;
        }
        if (!claim) break;
        if (rc != 0 || !cres) {
            LOG_WARN("sender.claim_failed", "cannot claim outbox rows", "error", LS(lull_db_error(self->db)));
            PQclear(cres);
            break;  // the poll timer tries again
        }
        if (s_claimed(self, cres) < n) self->want_claim = false;
    }
    s_flush(self);
}

static void s_on_pump(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sender_app_t *self = arg;
    self->pump_timer = 0;
    s_pump(self);
}

static void s_kick(sender_app_t *self)
{
    if (self->pump_timer || self->stopping) return;
    int t = lull_loop_add_timer(self->loop, 0, 0, s_on_pump, self);
    self->pump_timer = t > 0 ? t : 0;
}

static void s_on_flush(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sender_app_t *self = arg;
    self->flush_timer = 0;
    s_pump(self);
}

// Arms the flush timer (LULL_SENDER_FLUSH_MS) unless a pump is already due.
static void s_kick_later(sender_app_t *self)
{
    if (self->flush_timer || self->pump_timer || self->stopping) return;
    if (self->cfg->flush_ms == 0) {
        s_kick(self);
        return;
    }
    int t = lull_loop_add_timer(self->loop, self->cfg->flush_ms, 0, s_on_flush, self);
    self->flush_timer = t > 0 ? t : 0;
}

static void s_on_poll(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sender_app_t *self = arg;
    self->want_claim = true;
    s_pump(self);
}

// OUTBOX wake-ups: any valid one means "claim now"; the database says what is due.
static void s_on_wake(lull_loop_t *loop, int fd, int events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)events;
    sender_app_t *self = arg;
    for (int i = 0; i < MAX_WAKEUPS; i++) {
        zmsg_t *msg = zmsg_recv_nowait(self->pull);
        if (!msg) break;
        lull_msg_t m;
        char err[128] = "not an OUTBOX message";
        if (lull_proto_decode(msg, &m, err, sizeof err) == 0 && m.type == LULL_MSG_OUTBOX) self->want_claim = true;
        else LOG_WARN("sender.bad_wakeup", "ignored a message on the OUTBOX socket", "error", LS(err));
        lull_msg_clear(&m);
        zmsg_destroy(&msg);
    }
    if (self->want_claim) s_kick(self);
}

sender_app_t *sender_app_new(const sender_cfg_t *cfg, lull_proc_t *proc)
{
    sender_app_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->cfg = cfg;
    self->loop = proc->loop;
    self->db = proc->db;
    char host[64] = "host", rnd[24];
    gethostname(host, sizeof host - 1);
    if (!lull_random_id("", 6, rnd, sizeof rnd)) {
        LOG_ERROR("sender.owner_failed", "no random bytes for the lease owner id (RAND_bytes failed)");
        goto fail;
    }
    snprintf(self->owner, sizeof self->owner, "%s:%d:%s", host, (int)getpid(), rnd);
    char why[160];
    if (lull_netaddr_allow_parse((const char *const *)cfg->callback_allow.items, cfg->callback_allow.n,
                                 &self->callback_allow, why, sizeof why) != 0) {
        LOG_ERROR("sender.config_invalid", "LULL_SENDER_CALLBACK_ALLOW is invalid", "error", LS(why));
        goto fail;
    }
    self->http = lull_http_new(self->loop, RESP_MAX, cfg->timeout_ms, 0);
    self->callback_http = lull_http_new(self->loop, RESP_MAX, cfg->timeout_ms, 0);
    self->rate = sender_rate_new(4096);
    self->results = sender_results_new();
    self->holds = sender_hold_new(self->loop, (size_t)cfg->max_in_flight, s_on_hold_due, self);
    if (!self->http || !self->callback_http || !self->rate || !self->results || !self->holds) goto fail;
    self->pull = zsock_new(ZMQ_PULL);
    if (!self->pull) goto fail;
    zsock_set_rcvhwm(self->pull, 100000);
    zsock_set_linger(self->pull, 0);
    if (zsock_bind(self->pull, "%s", cfg->outbox_endpoint) < 0) {
        LOG_ERROR("sender.bind_failed", "cannot bind the OUTBOX socket", "endpoint", LS(cfg->outbox_endpoint),
                  "error", LS(zmq_strerror(zmq_errno())));
        goto fail;
    }
    self->pull_raw = zsock_resolve(self->pull);
    if (lull_loop_add_socket(self->loop, self->pull_raw, LULL_LOOP_IN, s_on_wake, self) != 0) goto fail;
    self->poll_timer = lull_loop_add_timer(self->loop, 0, cfg->poll_ms, s_on_poll, self);
    if (self->poll_timer < 0) goto fail;
    lull_metrics_t *m = proc->metrics;
    for (int k = 1; k <= 5; k++)
        for (int r = 0; r < K_N; r++) {
            char labels[96];
            snprintf(labels, sizeof labels, "adapter=\"%s\",result=\"%s\"", s_kind_names[k], s_result_names[r]);
            self->count[k][r] = lull_metrics_counter(m, "lull_sender_attempts_total", labels,
                                                     "delivery attempts by adapter and result (dead/unknown = dead letters)");
        }
    self->lease_lost = lull_metrics_counter(m, "lull_sender_lease_lost_total", NULL, "results dropped because the lease was taken over");
    self->in_flight = lull_metrics_gauge(m, "lull_sender_in_flight", NULL, "deliveries in flight");
    self->latency = lull_metrics_histogram(m, "lull_sender_request_seconds", NULL, "delivery request latency",
                                           LULL_METRICS_LATENCY_BUCKETS, LULL_METRICS_LATENCY_NBUCKETS);
    LOG_INFO("sender.ready", "sender running", "owner", LS(self->owner), "endpoint", LS(cfg->outbox_endpoint));
    return self;
fail:
    sender_app_destroy(&self);
    return NULL;
}

void sender_app_drain(sender_app_t *self)
{
    if (!self) return;
    self->stopping = true;  // no claim, no held retry from now on
    size_t n = s_in_flight(self);
    if (n == 0 || self->cfg->drain_ms <= 0) return;
    int64_t start = lull_clock_mono_ms(), deadline = start + self->cfg->drain_ms;
    LOG_INFO("sender.draining", "letting deliveries in flight finish", "in_flight", LI(n), "drain_ms",
             LI(self->cfg->drain_ms));
    lull_loop_set_draining(self->loop, true);
    for (int64_t now = start; s_in_flight(self) > 0 && now < deadline; now = lull_clock_mono_ms()) {
        int64_t wait = deadline - now < 100 ? deadline - now : 100;
        if (lull_loop_run_once(self->loop, wait) < 0) break;
    }
    lull_loop_set_draining(self->loop, false);
    s_flush(self);
    size_t left = s_in_flight(self);
    LOG_INFO("sender.drained", left ? "drain time over: the rest is handed back" : "every delivery in flight finished",
             "finished", LI(n > left ? n - left : 0), "left", LI(left), "ms", LI(lull_clock_mono_ms() - start));
}

void sender_app_destroy(sender_app_t **self_p)
{
    if (!self_p || !*self_p) return;
    sender_app_t *self = *self_p;
    self->stopping = true;
    size_t handed = s_in_flight(self);
    if (self->holds && self->results) handed += sender_hold_hand_back(self->holds, self->results, lull_clock_mono_ms());
    lull_http_destroy(&self->http);  // in-flight deliveries complete as aborted → retry now
    lull_http_destroy(&self->callback_http);
    if (self->results && self->db) {
        s_flush(self);
        if (handed) LOG_INFO("sender.handed_back", "in-flight deliveries returned to the queue", "rows", LI(handed));
    }
    if (self->pump_timer) lull_loop_cancel_timer(self->loop, self->pump_timer);
    if (self->flush_timer) lull_loop_cancel_timer(self->loop, self->flush_timer);
    if (self->poll_timer > 0) lull_loop_cancel_timer(self->loop, self->poll_timer);
    if (self->pull_raw) lull_loop_remove_socket(self->loop, self->pull_raw);
    zsock_destroy(&self->pull);
    sender_results_destroy(&self->results);
    sender_hold_destroy(&self->holds);
    sender_rate_destroy(&self->rate);
    free(self->webchat);
    free(self);
    *self_p = NULL;
}
