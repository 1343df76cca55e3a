// Where a job's result goes. The pipeline never asks whether a job is a dry run: it hands its one outcome
// to the sink the job was started with — the commit sink (worker_commit: the batched SQL transaction and a
// DONE to the scheduler) for a JOB, a trial sink (worker_trial: a CTL_REP with what would have been sent,
// nothing written) for a dry run.
#ifndef WORKER_SINK_H
#define WORKER_SINK_H

#include <stdbool.h>
#include <stdint.h>

#include "lull_proto.h"
#include "lull_tenant_limits.h"
#include "worker_analysis.h"
#include "worker_llm.h"

// What a job writes before it reports.
typedef enum {
    WORKER_WRITE_NONE = 0,  // nothing: report only (duplicate, superseded, errors, worker stopping)
    WORKER_WRITE_ATTEMPT,   // count a failed attempt on the conversation (every provider failed), then report
    WORKER_WRITE_RESULT     // the result below, under the compare-and-swap on answered_upto, then report
} worker_write_t;

// A job's outcome (borrowed by the sink for the emit call).
typedef struct {
    worker_write_t write;
    lull_outcome_t outcome;     // the DONE outcome (for RESULT: when the compare-and-swap applies)
    const char *detail;         // short reason for the DONE
    int64_t retry_after_ms;     // failed_retryable: when to try again; 0 = scheduler's backoff
    const char *refusal;        // error code a dry run answers 503 with (worker stopping, analysis off); NULL
    // RESULT
    const char *reply;          // bot message body; NULL = none
    const char *kind;           // outbox payload kind: reply, safe, apology
    const char *esc_source;     // escalation source; NULL = none
    const char *esc_reason;
    bool limit_contact;         // set contacts.limited_until (content filter)
    const worker_analysis_t *analysis;  // validated analysis; NULL = none
    int analysis_provider;      // provider index of the analysis; -1 = none
} worker_outcome_t;

// Who reports: the ids and figures of the job's DONE and its job.done log line (plain data, copied).
typedef struct {
    uint64_t job_id;            // a dry run: its req_id
    int64_t conv_id, upto;
    int32_t attempt;
    int conn, gen;              // connection tag given at start
    int64_t started_ms;         // monotonic
    int64_t backoff_until_ms;   // wall clock until which every provider of the job's chain cools down; 0 = none
    int64_t llm_calls, prompt_tokens, completion_tokens;  // over every provider request of the job
    const char *provider;       // static name of the provider that wrote the reply; "" = none
} worker_done_info_t;

// The job as a sink sees it (borrowed for the call).
typedef struct {
    worker_done_info_t done;
    int64_t tenant_id, contact_id, expected;
    bool max_wait;              // LULL_JOB_MAX_WAIT: commit even when newer messages arrived after upto
    int64_t limit_contact_ms;   // how long the content filter limits a contact, milliseconds
    const char *channel, *recipient, *sender_address, *callback_url;  // NULL before the job was loaded
    const char (*model)[LULL_TENANT_MODEL_MAX + 1];  // model per provider index
    const worker_usage_t *usage;                     // per provider index
    const double *cost_usd;                          // per provider index: the usage's estimated cost
    int reply_provider;         // provider index of the reply; -1 = none
} worker_job_view_t;

typedef struct worker_sink worker_sink_t;
struct worker_sink {
    // A job starts with this sink.
    void (*begin)(worker_sink_t *self, const worker_job_view_t *job);
    // The job's one outcome: written (or queued to be) and reported. The job is freed after the call.
    void (*emit)(worker_sink_t *self, const worker_job_view_t *job, const worker_outcome_t *out);
    // Writes and reports what emit queued (the commit sink's batch); the engine calls it every few ms.
    void (*end)(worker_sink_t *self);
    // end, then frees the sink; NULL-safe, nulls the pointer.
    void (*destroy)(worker_sink_t **self_p);
};

// Reports a job's end to the scheduler: sends its DONE, logs job.done, counts it. outbox_ids: the outbox
// rows committed (to announce to the senders). Everything is borrowed for the call.
typedef void(worker_report_fn)(const worker_done_info_t *who, lull_outcome_t outcome, int64_t retry_after_ms,
                               const char *detail, const int64_t *outbox_ids, size_t noutbox, void *arg);

#endif
