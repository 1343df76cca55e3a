// The provider chain: one call (a reply with tool rounds, the structured analysis, or both in one combined
// answer) walks a job's chain of
// providers on the event loop — each request through libcurl multi, retries of 429/5xx/timeouts with
// backoff and Retry-After, the next provider after a refusal or a malformed answer, per-provider token
// buckets and cooldowns — over the adapters of worker_llm.h.
#ifndef WORKER_CHAIN_H
#define WORKER_CHAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "lull_db.h"
#include "lull_loop.h"
#include "lull_metrics.h"
#include "lull_tenant_limits.h"
#include "worker_analysis.h"
#include "worker_config.h"
#include "worker_llm.h"

typedef struct worker_chain worker_chain_t;
typedef struct worker_chain_call worker_chain_call_t;

// Called once when a call has finished (ok or not); the call may be freed inside.
typedef void(worker_call_done_fn)(worker_chain_call_t *call, void *arg);

// One call over a chain. The caller fills the first block, then worker_chain_start; the rest is the chain's.
struct worker_chain_call {
    worker_conv_t conv;            // the request (its model is set per provider); items owned
    const int *chain;              // provider indexes, in order (borrowed for the call)
    int nchain;
    const char (*model)[LULL_TENANT_MODEL_MAX + 1];  // model per provider index (borrowed)
    int64_t tenant_id;             // the tools run over this tenant's rows
    uint64_t job_id;               // for log lines
    int64_t conv_id;
    const char *extraction_fields; // an analysis must validate against them (borrowed)
    worker_usage_t *usage;         // per provider index, added to (borrowed)
    worker_call_done_fn *done;
    void *arg;
    // state
    worker_chain_t *owner;         // the chain runner it was started on
    bool running;                  // started and not finished
    bool in_http;                  // a request is in flight
    bool waiting;                  // waiting for a retry or a rate-limit token
    int pos;                       // position in the chain
    int retries;                   // retries on the current provider
    int rounds;                    // tool rounds done
    int64_t due_ms;                // monotonic time to go on when waiting
    unsigned skipped;              // bit i: provider index i was passed over (it cannot give a combined answer)
    worker_chain_call_t *wprev, *wnext;
    // result
    bool ok;                       // finished with an answer
    int provider;                  // provider index of the answer
    char *text;                    // the answer (owned; freed by worker_chain_call_clear)
    // a combined answer's parts, as the chain validated them (owned, freed by worker_chain_call_clear; the job
    // takes them instead of parsing the answer again): the reply text and the analysis
    char *combined_reply;
    worker_analysis_t combined;
    int64_t retry_after_ms;        // largest Retry-After seen (capped)
    char error[160];               // last failure
};

// Creates the chain runner: libcurl multi handles on loop, a token bucket and cooldown per provider, the
// keys and base URLs from cfg (cfg, loop, db and metrics borrowed). NULL on failure.
worker_chain_t *worker_chain_new(const worker_cfg_t *cfg, lull_loop_t *loop, lull_db_t *db, lull_metrics_t *metrics);
// Aborts every request in flight (their calls are left unfinished: no done callback), then no call runs
// again. The calls still belong to their owners, who cancel them.
void worker_chain_stop(worker_chain_t *self);
// Stops and frees; NULL-safe, nulls the pointer.
void worker_chain_destroy(worker_chain_t **self_p);
// True when provider index i has an API key.
bool worker_chain_has_key(const worker_chain_t *self, int i);
// Starts call (filled as above); call->done is called once, later or inside this call.
void worker_chain_start(worker_chain_t *self, worker_chain_call_t *call);
// Takes a call out of the waiting list (before it is freed); a request in flight is not touched.
void worker_chain_cancel(worker_chain_t *self, worker_chain_call_t *call);
// Frees what a call owns (conversation items, answer).
void worker_chain_call_clear(worker_chain_call_t *call);
// Goes on with the calls whose wait is over. Run by the owner's timer every few milliseconds.
void worker_chain_tick(worker_chain_t *self);
// Wall-clock ms until which the scheduler should hold dispatch: when every provider of chain cools down,
// the end of the earliest cooldown; else 0.
int64_t worker_chain_backoff_until(const worker_chain_t *self, const int *chain, int n);

#endif
