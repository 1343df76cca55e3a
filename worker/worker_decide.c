// A job's decisions as pure functions (tests/unit/test_worker_decide.c runs them without a database).
#include "worker_decide.h"
#include "lull_json.h"
#include "worker_prompt.h"

#include <stdio.h>
#include <string.h>

// What a web chat contact is told when a daily limit ends its burst.
static const char *const s_unavailable = "The assistant is unavailable right now, please try again later.";
static const char *const s_default_safe =
    "Sorry, I can't help with that here. A member of our team will get back to you.";

bool worker_decide_current(const worker_load_t *l, const worker_job_ref_t *job, lull_outcome_t *outcome,
                           const char **detail)
{
    if (l->tenant_id != job->tenant_id) {
        *outcome = LULL_OUTCOME_FAILED_PERMANENT;
        *detail = "invalid conversation row or tenant mismatch";
    } else if (l->answered_upto >= job->upto) {
        *outcome = LULL_OUTCOME_DUPLICATE;
        *detail = "already answered";
    } else if (l->last_inbound_id > job->upto && !job->max_wait) {
        *outcome = LULL_OUTCOME_SUPERSEDED;
        *detail = "newer message";
    } else if (strcmp(l->status, "open") != 0) {
        *outcome = strcmp(l->status, "escalated") == 0 ? LULL_OUTCOME_ESCALATED : LULL_OUTCOME_SUPERSEDED;
        *detail = l->status;
    } else if (l->answered_upto != job->expected || l->last_inbound_id < job->upto) {
        // the scheduler's view is stale: the CAS would fail (a max-wait job may answer while newer messages wait)
        *outcome = LULL_OUTCOME_SUPERSEDED;
        *detail = "expected_upto/upto do not match the conversation";
    } else {
        return true;
    }
    return false;
}

// Appends s to buf (length *len, capacity cap), cutting what does not fit.
static void s_append(char *buf, size_t cap, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 1 > cap) n = cap - *len - 1;
    memcpy(buf + *len, s, n);
    *len += n;
    buf[*len] = '\0';
}

size_t worker_decide_burst(const worker_load_t *l, char *burst, size_t burst_cap, char *transcript,
                           size_t transcript_cap)
{
    size_t blen = 0, tlen = 0;
    burst[0] = transcript[0] = '\0';
    for (size_t i = 0; i < l->nhistory; i++) {
        const worker_hist_t *h = &l->history[i];
        char clipped[WORKER_MAX_BODY_TEXT + 1];
        snprintf(clipped, sizeof clipped, "%s", h->body);
        if (h->inbound && h->id > l->answered_upto) {
            if (blen) s_append(burst, burst_cap, &blen, "\n");
            s_append(burst, burst_cap, &blen, clipped);
        } else {
            s_append(transcript, transcript_cap, &tlen, h->inbound ? "customer: " : "agent: ");
            s_append(transcript, transcript_cap, &tlen, clipped);
            s_append(transcript, transcript_cap, &tlen, "\n");
        }
    }
    return blen;
}

void worker_decide_plan(const worker_load_t *l, const char *burst, bool limit_on_block, worker_plan_t *plan)
{
    memset(plan, 0, sizeof *plan);
    char found[128];
    if (l->contact_limited) {  // limited by the content filter: no reply for this burst
        plan->why = WORKER_PLAN_LIMITED;
        plan->outcome = LULL_OUTCOME_FAILED_PERMANENT;
        plan->detail = "contact limited";
    } else if (worker_text_match_array(burst, l->blocked_patterns, found, sizeof found) >= 0) {
        plan->why = WORKER_PLAN_BLOCKED;
        plan->outcome = LULL_OUTCOME_REPLIED;
        plan->detail = "blocked content: safe reply";
        plan->reply = l->safe_reply && *l->safe_reply ? l->safe_reply : s_default_safe;
        plan->kind = "safe";
        plan->limit_contact = limit_on_block;
    } else if (worker_text_match_array(burst, l->escalation_keywords, found, sizeof found) >= 0) {
        plan->why = WORKER_PLAN_KEYWORD;
        plan->outcome = LULL_OUTCOME_ESCALATED;
        plan->detail = "keyword escalation";
        plan->esc_source = "keyword";
        snprintf(plan->reason, sizeof plan->reason, "keyword: %s", found);
    } else if ((l->has_limit_tenant && l->used_tenant >= l->limit_tenant) ||
               (l->has_limit_contact && l->used_contact >= l->limit_contact)) {
        plan->why = WORKER_PLAN_DAILY_LIMIT;
        plan->outcome = LULL_OUTCOME_FAILED_PERMANENT;
        plan->detail = l->has_limit_tenant && l->used_tenant >= l->limit_tenant ? "daily limit (tenant)"
                                                                                  : "daily limit (contact)";
        if (l->channel && strcmp(l->channel, "webchat") == 0) {
            // a web chat page must not stay silent: it is told, with a reply that costs no LLM call
            plan->outcome = LULL_OUTCOME_REPLIED;
            plan->reply = s_unavailable;
            plan->kind = "unavailable";
        }
    } else {
        plan->why = WORKER_PLAN_CALL;
    }
}

// Parses a PostgreSQL text[] literal of provider names into chain; returns the count.
static int s_parse_chain(const char *arr, int chain[WORKER_NPROVIDERS])
{
    int n = 0;
    if (!arr || arr[0] != '{') return 0;
    char name[32];
    const char *p = arr + 1;
    while (*p && *p != '}' && n < WORKER_NPROVIDERS) {
        size_t k = 0;
        while (*p && *p != ',' && *p != '}') {
            if (*p != '"' && k + 1 < sizeof name) name[k++] = *p;
            p++;
        }
        name[k] = '\0';
        int pi = worker_provider_index(name);
        bool dup = false;
        for (int i = 0; i < n; i++) dup = dup || chain[i] == pi;
        if (pi >= 0 && !dup) chain[n++] = pi;
        if (*p == ',') p++;
    }
    return n;
}

int worker_decide_chain(const worker_load_t *l, const bool has_key[WORKER_NPROVIDERS],
                        const char *const default_model[WORKER_NPROVIDERS], int chain[WORKER_NPROVIDERS],
                        char model[WORKER_NPROVIDERS][LULL_TENANT_MODEL_MAX + 1])
{
    int n = s_parse_chain(l->provider_chain, chain);
    bool every = n == 0;  // no chain of its own: every provider with a key
    for (int i = 0; every && i < WORKER_NPROVIDERS; i++)
        if (has_key[i]) chain[n++] = i;
    for (int i = n; i < WORKER_NPROVIDERS; i++) chain[i] = -1;
    const size_t cap = LULL_TENANT_MODEL_MAX + 1;
    for (int i = 0; i < WORKER_NPROVIDERS; i++) snprintf(model[i], cap, "%s", default_model[i] ? default_model[i] : "");
    if (n > 0 && l->model && *l->model && strlen(l->model) < cap)  // tenants.model is the first provider's
        snprintf(model[chain[0]], cap, "%s", l->model);
    // tenants.models {"provider": "model", …} names any provider's model, fallbacks included
    if (!l->models || !*l->models || strcmp(l->models, "{}") == 0) return n;
    char err[64];
    cJSON *doc = lull_json_parse(l->models, strlen(l->models), 4, err, sizeof err);
    for (int i = 0; cJSON_IsObject(doc) && i < WORKER_NPROVIDERS; i++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, WORKER_PROVIDERS[i]->name);
        if (cJSON_IsString(m) && *m->valuestring && strlen(m->valuestring) < cap)
            snprintf(model[i], cap, "%s", m->valuestring);
    }
    cJSON_Delete(doc);
    return n;
}

const char *worker_decide_escalation(const worker_analysis_t *a, double confidence_threshold, char *reason,
                                     size_t cap)
{
    reason[0] = '\0';
    if (a->escalate) {
        snprintf(reason, cap, "model: %.250s",
                 a->escalate_reason && *a->escalate_reason ? a->escalate_reason : "handoff requested");
        return "model";
    }
    if (a->confidence < confidence_threshold) {
        snprintf(reason, cap, "confidence %.2f below %.2f", a->confidence, confidence_threshold);
        return "low_confidence";
    }
    if (strcmp(a->sentiment, "negative") == 0 && (strcmp(a->priority, "high") == 0 || strcmp(a->priority, "urgent") == 0)) {
        snprintf(reason, cap, "negative sentiment with %s priority", a->priority);
        return "sentiment";
    }
    return NULL;
}

bool worker_decide_apologise(int32_t attempt, int max_attempts)
{
    return max_attempts > 0 && attempt >= max_attempts;
}
