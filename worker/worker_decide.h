// The decisions of a job, as pure functions of what was loaded and what the providers answered: no
// database, no loop, no clock. Is the job still current (duplicate, superseded, stale)? What is the burst?
// Does the contact limit, the content filter, an escalation keyword or a daily limit end it before any LLM
// call? Which providers and models? Does the analysis escalate? Does a failed last attempt apologise?
#ifndef WORKER_DECIDE_H
#define WORKER_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lull_proto.h"
#include "lull_tenant_limits.h"
#include "worker_analysis.h"
#include "worker_llm.h"
#include "worker_load.h"

#define WORKER_MAX_BODY_TEXT 4000     // bytes of one history message given to the model
#define WORKER_MAX_BURST_TEXT 16000   // bytes of the burst scanned by the filter / given to the analysis

// What the scheduler thought when it sent the JOB.
typedef struct {
    int64_t tenant_id;
    int64_t expected;  // answered_upto the job expects
    int64_t upto;      // the newest message it answers
    bool max_wait;     // LULL_JOB_MAX_WAIT: answer up to upto even when newer messages arrived
} worker_job_ref_t;

// Why a job ends before its LLM calls.
typedef enum {
    WORKER_PLAN_CALL = 0,      // go on: call the providers
    WORKER_PLAN_LIMITED,       // the contact is limited: no reply, the burst is closed
    WORKER_PLAN_BLOCKED,       // a blocked pattern: the safe reply, no LLM call
    WORKER_PLAN_KEYWORD,       // an escalation keyword: escalate, no reply
    WORKER_PLAN_DAILY_LIMIT    // a daily limit is reached: no reply, the burst is closed
} worker_plan_why_t;

typedef struct {
    worker_plan_why_t why;
    lull_outcome_t outcome;     // when why != CALL
    const char *detail;         // static text
    const char *reply, *kind;   // the reply to write (BLOCKED); borrowed from the load or static
    const char *esc_source;     // KEYWORD: "keyword"
    bool limit_contact;         // BLOCKED with a contact limit configured
    char reason[200];           // KEYWORD: the escalation reason
} worker_plan_t;

// Checks a loaded conversation against its JOB. True when the job goes on; false with *outcome and *detail
// (static, or borrowed from l) when it ends here writing nothing.
bool worker_decide_current(const worker_load_t *l, const worker_job_ref_t *job, lull_outcome_t *outcome,
                           const char **detail);
// Splits the history into the burst (inbound messages after answered_upto, one per line) and the transcript
// of what came before ("customer: …" / "agent: …" lines), each message clipped to WORKER_MAX_BODY_TEXT bytes
// and each text to its capacity. Returns the burst's length (0 = no inbound message to answer).
size_t worker_decide_burst(const worker_load_t *l, char *burst, size_t burst_cap, char *transcript,
                           size_t transcript_cap);
// What ends the job before any LLM call (contact limit, content filter, escalation keyword, daily limit),
// in that order, or WORKER_PLAN_CALL. limit_on_block: a contact limit is configured for blocked content.
void worker_decide_plan(const worker_load_t *l, const char *burst, bool limit_on_block, worker_plan_t *plan);
// The provider chain: the names of l->provider_chain (unknown and repeated names skipped), else every
// provider with a key. The model of each provider index: tenants.models, else tenants.model for the first
// provider of the chain, else the default. Returns the chain's length.
int worker_decide_chain(const worker_load_t *l, const bool has_key[WORKER_NPROVIDERS],
                        const char *const default_model[WORKER_NPROVIDERS], int chain[WORKER_NPROVIDERS],
                        char model[WORKER_NPROVIDERS][LULL_TENANT_MODEL_MAX + 1]);
// The escalation a reply's analysis asks for: its source ("model", "low_confidence", "sentiment") with the
// reason written into reason, or NULL (reason then "").
const char *worker_decide_escalation(const worker_analysis_t *a, double confidence_threshold, char *reason,
                                     size_t cap);
// True when a job whose providers all failed apologises and escalates instead of being retried.
bool worker_decide_apologise(int32_t attempt, int max_attempts);

#endif
