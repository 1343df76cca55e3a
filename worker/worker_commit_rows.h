// The set-based commit of the common results: the replies of many jobs as one statement (one executor start-up,
// one parse of the tables' CHECK constraints, one set of index and trigger set-ups per batch instead of per job),
// each job one element of a JSON array parameter. A result with a rare part (an escalation, a contact's rate
// limit) keeps its own statement (worker_commit.c).
#ifndef WORKER_COMMIT_ROWS_H
#define WORKER_COMMIT_ROWS_H

#include <stdbool.h>

#include "lull_db.h"
#include "worker_sink.h"

// The usage upsert's conflict clause (usage AS us): the counters of a provider and model added to the day's row.
#define WORKER_COMMIT_USAGE_UPSERT                                                                            \
    "  ON CONFLICT (tenant_id, contact_id, day, provider, model) DO UPDATE SET"                               \
    "  requests = us.requests + EXCLUDED.requests, prompt_tokens = us.prompt_tokens + EXCLUDED.prompt_tokens," \
    "  completion_tokens = us.completion_tokens + EXCLUDED.completion_tokens,"                                \
    "  latency_ms = us.latency_ms + EXCLUDED.latency_ms, cost_usd = us.cost_usd + EXCLUDED.cost_usd,"         \
    "  cached_prompt_tokens = us.cached_prompt_tokens + EXCLUDED.cached_prompt_tokens,"                       \
    "  cache_write_tokens = us.cache_write_tokens + EXCLUDED.cache_write_tokens"

// The statement: $1 a JSON array of worker_commit_rows_json() objects, each of another conversation. It advances
// each conversation whose compare-and-swap applies and writes that job's message, analysis and outbox row, and
// every job's usage (spent even when its CAS fails). One row per applied CAS: conversation id, outbox id (NULL
// without a reply).
extern const lull_db_stmt_t WORKER_COMMIT_ROWS;

// True when the result has a part only worker_commit.c's statement of one job writes (escalation, contact limit).
bool worker_commit_rows_rare(const worker_job_view_t *j, const worker_outcome_t *c);

// The job's element of the statement's array (a JSON object, compact); the caller frees. NULL when out of memory.
char *worker_commit_rows_json(const worker_job_view_t *j, const worker_outcome_t *c)
    __attribute__((warn_unused_result));

#endif
