// Unit tests of worker_decide: the job's decisions as pure functions of a hand-made load (no database, no
// loop, no clock): current or duplicate/superseded/stale, the burst, the contact limit, content filter,
// escalation keywords and daily limits in their order, the provider chain and models, the escalation an
// analysis asks for, and when a failed last attempt apologises.
#include "lull_test.h"
#include "../../worker/worker_decide.h"

#include <stdlib.h>

static worker_hist_t s_hist[4];

// A loaded open conversation of tenant 7 answered up to 10, whose burst is messages 11 and 12.
static worker_load_t s_load(void)
{
    worker_load_t l;
    memset(&l, 0, sizeof l);
    l.tenant_id = 7;
    l.answered_upto = 10;
    l.last_inbound_id = 12;
    l.channel = "sms";
    l.status = "open";
    l.customer_name = "";
    l.provider_chain = "{}";
    l.models = "{}";
    l.blocked_patterns = "{\"credit card\"}";
    l.escalation_keywords = "{lawyer,\"speak to a human\"}";
    l.extraction_fields = "[]";
    s_hist[0] = (worker_hist_t){9, true, "hi", NULL, NULL};
    s_hist[1] = (worker_hist_t){10, false, "Hello! How can I help?", NULL, NULL};
    s_hist[2] = (worker_hist_t){11, true, "my order", NULL, NULL};
    s_hist[3] = (worker_hist_t){12, true, "has not arrived", NULL, NULL};
    l.history = s_hist;
    l.nhistory = 4;
    return l;
}

LULL_TEST(current_duplicate_superseded_stale)
{
    worker_load_t l = s_load();
    worker_job_ref_t job = {.tenant_id = 7, .expected = 10, .upto = 12};
    lull_outcome_t oc = 0;
    const char *detail = NULL;
    LULL_CHECK(worker_decide_current(&l, &job, &oc, &detail));
    job.tenant_id = 8;
    LULL_CHECK(!worker_decide_current(&l, &job, &oc, &detail));
    LULL_CHECK_EQ_INT(oc, LULL_OUTCOME_FAILED_PERMANENT);
    job.tenant_id = 7;
    l.answered_upto = 12;
    LULL_CHECK(!worker_decide_current(&l, &job, &oc, &detail));
    LULL_CHECK_EQ_INT(oc, LULL_OUTCOME_DUPLICATE);
    l = s_load();
    l.last_inbound_id = 13;  // a newer message arrived
    LULL_CHECK(!worker_decide_current(&l, &job, &oc, &detail));
    LULL_CHECK_EQ_INT(oc, LULL_OUTCOME_SUPERSEDED);
    LULL_CHECK_EQ_STR(detail, "newer message");
    job.max_wait = true;  // a max-wait job answers up to upto anyway
    LULL_CHECK(worker_decide_current(&l, &job, &oc, &detail));
    job.max_wait = false;
    l = s_load();
    l.status = "escalated";
    LULL_CHECK(!worker_decide_current(&l, &job, &oc, &detail));
    LULL_CHECK_EQ_INT(oc, LULL_OUTCOME_ESCALATED);
    l.status = "paused";
    LULL_CHECK(!worker_decide_current(&l, &job, &oc, &detail));
    LULL_CHECK_EQ_INT(oc, LULL_OUTCOME_SUPERSEDED);
    LULL_CHECK_EQ_STR(detail, "paused");
    l = s_load();
    job.expected = 9;  // the scheduler's view is stale: the CAS would fail
    LULL_CHECK(!worker_decide_current(&l, &job, &oc, &detail));
    LULL_CHECK_EQ_INT(oc, LULL_OUTCOME_SUPERSEDED);
}

LULL_TEST(burst_and_transcript)
{
    worker_load_t l = s_load();
    char burst[64], transcript[128];
    size_t n = worker_decide_burst(&l, burst, sizeof burst, transcript, sizeof transcript);
    LULL_CHECK_EQ_INT(n, strlen("my order\nhas not arrived"));
    LULL_CHECK_EQ_STR(burst, "my order\nhas not arrived");
    LULL_CHECK_EQ_STR(transcript, "customer: hi\nagent: Hello! How can I help?\n");
    char tiny[8];
    worker_decide_burst(&l, tiny, sizeof tiny, transcript, sizeof transcript);
    LULL_CHECK_EQ_STR(tiny, "my orde");  // cut at the capacity, never past it
    l.answered_upto = 12;
    LULL_CHECK_EQ_INT(worker_decide_burst(&l, burst, sizeof burst, transcript, sizeof transcript), 0);
}

LULL_TEST(plan_order)
{
    worker_load_t l = s_load();
    worker_plan_t p;
    worker_decide_plan(&l, "where is my order", false, &p);
    LULL_CHECK_EQ_INT(p.why, WORKER_PLAN_CALL);
    worker_decide_plan(&l, "here is my Credit Card number", true, &p);
    LULL_CHECK_EQ_INT(p.why, WORKER_PLAN_BLOCKED);
    LULL_CHECK_EQ_INT(p.outcome, LULL_OUTCOME_REPLIED);
    LULL_CHECK_EQ_STR(p.kind, "safe");
    LULL_CHECK(p.reply && strstr(p.reply, "Sorry") != NULL);  // the default safe reply
    LULL_CHECK(p.limit_contact);
    l.safe_reply = "Not here, please.";
    worker_decide_plan(&l, "credit card", false, &p);
    LULL_CHECK_EQ_STR(p.reply, "Not here, please.");
    LULL_CHECK(!p.limit_contact);
    worker_decide_plan(&l, "I want to SPEAK TO A HUMAN", false, &p);
    LULL_CHECK_EQ_INT(p.why, WORKER_PLAN_KEYWORD);
    LULL_CHECK_EQ_INT(p.outcome, LULL_OUTCOME_ESCALATED);
    LULL_CHECK_EQ_STR(p.reason, "keyword: speak to a human");
    LULL_CHECK(p.reply == NULL);
    // the filter comes before the keywords, the contact limit before both
    worker_decide_plan(&l, "lawyer, credit card", false, &p);
    LULL_CHECK_EQ_INT(p.why, WORKER_PLAN_BLOCKED);
    l.contact_limited = true;
    worker_decide_plan(&l, "lawyer, credit card", false, &p);
    LULL_CHECK_EQ_INT(p.why, WORKER_PLAN_LIMITED);
    LULL_CHECK_EQ_INT(p.outcome, LULL_OUTCOME_FAILED_PERMANENT);
    l = s_load();
    l.has_limit_contact = true;
    l.limit_contact = 5;
    l.used_contact = 4;
    worker_decide_plan(&l, "hello", false, &p);
    LULL_CHECK_EQ_INT(p.why, WORKER_PLAN_CALL);
    l.used_contact = 5;
    worker_decide_plan(&l, "hello", false, &p);
    LULL_CHECK_EQ_INT(p.why, WORKER_PLAN_DAILY_LIMIT);
    LULL_CHECK_EQ_STR(p.detail, "daily limit (contact)");
    l.has_limit_tenant = true;
    l.limit_tenant = 0;
    worker_decide_plan(&l, "hello", false, &p);
    LULL_CHECK_EQ_STR(p.detail, "daily limit (tenant)");
    LULL_CHECK_EQ_INT(p.outcome, LULL_OUTCOME_FAILED_PERMANENT);  // not a web chat: nothing is sent
    LULL_CHECK(p.reply == NULL);
    // a web chat contact is told, with a reply that costs no LLM call
    l.channel = "webchat";
    worker_decide_plan(&l, "hello", false, &p);
    LULL_CHECK_EQ_INT(p.why, WORKER_PLAN_DAILY_LIMIT);
    LULL_CHECK_EQ_INT(p.outcome, LULL_OUTCOME_REPLIED);
    LULL_CHECK_EQ_STR(p.kind, "unavailable");
    LULL_CHECK(p.reply && strstr(p.reply, "unavailable right now") != NULL);
    l.has_limit_tenant = false;  // the contact's own limit: told the same way
    worker_decide_plan(&l, "hello", false, &p);
    LULL_CHECK_EQ_STR(p.detail, "daily limit (contact)");
    LULL_CHECK_EQ_INT(p.outcome, LULL_OUTCOME_REPLIED);
}

LULL_TEST(chain_and_models)
{
    worker_load_t l = s_load();
    bool keys[WORKER_NPROVIDERS] = {true, false, true};
    const char *defaults[WORKER_NPROVIDERS] = {"gpt-default", "claude-default", "gemini-default"};
    int chain[WORKER_NPROVIDERS];
    char model[WORKER_NPROVIDERS][LULL_TENANT_MODEL_MAX + 1];
    // no chain of its own: every provider with a key, in order
    LULL_CHECK_EQ_INT(worker_decide_chain(&l, keys, defaults, chain, model), 2);
    LULL_CHECK_EQ_INT(chain[0], 0);
    LULL_CHECK_EQ_INT(chain[1], 2);
    LULL_CHECK_EQ_STR(model[1], "claude-default");
    // the tenant's chain (unknown and repeated names skipped); tenants.model is its first provider's
    l.provider_chain = "{anthropic,mistral,anthropic,openai}";
    char long_model[LULL_TENANT_MODEL_MAX + 1];
    memset(long_model, 'x', LULL_TENANT_MODEL_MAX);
    long_model[LULL_TENANT_MODEL_MAX] = '\0';
    l.model = long_model;  // the longest model name a tenant may set is used whole
    l.models = "{\"openai\":\"gpt-tenant\"}";
    LULL_CHECK_EQ_INT(worker_decide_chain(&l, keys, defaults, chain, model), 2);
    LULL_CHECK_EQ_INT(chain[0], 1);
    LULL_CHECK_EQ_INT(chain[1], 0);
    LULL_CHECK_EQ_STR(model[1], long_model);
    LULL_CHECK_EQ_STR(model[0], "gpt-tenant");
    LULL_CHECK_EQ_STR(model[2], "gemini-default");
}

LULL_TEST(escalation_and_apology)
{
    worker_analysis_t a;
    memset(&a, 0, sizeof a);
    snprintf(a.sentiment, sizeof a.sentiment, "neutral");
    snprintf(a.priority, sizeof a.priority, "high");
    a.confidence = 0.9;
    char reason[300];
    LULL_CHECK(worker_decide_escalation(&a, 0.5, reason, sizeof reason) == NULL);
    LULL_CHECK_EQ_STR(reason, "");
    snprintf(a.sentiment, sizeof a.sentiment, "negative");
    LULL_CHECK_EQ_STR(worker_decide_escalation(&a, 0.5, reason, sizeof reason), "sentiment");
    LULL_CHECK_EQ_STR(reason, "negative sentiment with high priority");
    a.confidence = 0.3;
    LULL_CHECK_EQ_STR(worker_decide_escalation(&a, 0.5, reason, sizeof reason), "low_confidence");
    LULL_CHECK_EQ_STR(reason, "confidence 0.30 below 0.50");
    a.escalate = true;
    LULL_CHECK_EQ_STR(worker_decide_escalation(&a, 0.5, reason, sizeof reason), "model");
    LULL_CHECK_EQ_STR(reason, "model: handoff requested");
    LULL_CHECK(!worker_decide_apologise(1, 3));
    LULL_CHECK(worker_decide_apologise(3, 3));
    LULL_CHECK(!worker_decide_apologise(5, 0));  // 0 = never apologise
}

int main(void)
{
    LULL_RUN(current_duplicate_superseded_stale);
    LULL_RUN(burst_and_transcript);
    LULL_RUN(plan_order);
    LULL_RUN(chain_and_models);
    LULL_RUN(escalation_and_apology);
    return lull_test_summary();
}
