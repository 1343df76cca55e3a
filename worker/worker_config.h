// Settings of lull-worker: the table behind --help, the README and the effective-configuration log line.
#ifndef WORKER_CONFIG_H
#define WORKER_CONFIG_H

#include "lull_config.h"
#include "lull_proc.h"

typedef struct {
    lull_common_cfg_t common;
    lull_cfg_list_t schedulers; // ROUTER endpoints of the scheduler shards (0..64); empty = discover
    int64_t sched_map_refresh_ms; // scheduler map reload period when discovering, milliseconds
    lull_cfg_list_t senders;    // PULL endpoints of the senders (OUTBOX wake-ups; 0..64)
    char *name;                 // worker name announced in READY ("" = host:pid)
    int64_t concurrency;        // jobs in flight at once, split across schedulers
    int64_t heartbeat_ms;       // heartbeat interval, milliseconds
    int64_t heartbeat_liveness; // silent intervals before a peer is dead
    char *openai_key, *openai_base, *openai_model;
    bool openai_max_tokens;     // send max_tokens, not max_completion_tokens
    lull_cfg_list_t openai_reasoning;  // model-name prefixes of OpenAI reasoning models (no temperature)
    char *anthropic_key, *anthropic_base, *anthropic_model;
    char *anthropic_version;    // anthropic-version header
    char *gemini_key, *gemini_base, *gemini_model;
    int64_t llm_timeout_ms;     // one provider request, milliseconds
    int64_t llm_retries;        // retries per provider for 429/5xx/timeouts
    int64_t retry_base_ms;      // backoff base, milliseconds
    int64_t retry_cap_ms;       // backoff and Retry-After cap, milliseconds
    double provider_rps;        // per-provider token bucket rate (requests/s); 0 = unlimited
    int64_t provider_burst;     // token bucket size
    int64_t cooldown_failures;  // consecutive failures before a provider cools down
    int64_t cooldown_ms;        // cooldown length, milliseconds
    int64_t tool_rounds;        // maximum tool rounds per reply
    int64_t block_limit_ms;     // contact limit after a blocked message, milliseconds; 0 = none
    bool analysis;              // run the structured analysis call
    bool db_thread;             // loads, commits and price reads on the database thread (own connection)
    int64_t prices_refresh_ms;  // how often llm_prices is read again, milliseconds; 0 = at start only
    int64_t usage_days_keep;    // days of usage_tenant_day kept (today counts as 0); 0 = never pruned
    int64_t usage_prune_ms;     // how often old rows of usage_tenant_day are deleted, milliseconds
    int64_t usage_prune_batch;  // rows deleted per statement at most
    // media of the burst (worker_media)
    int64_t media_max_bytes;    // bytes of one media file at most (the transfer is aborted past it)
    int64_t media_timeout_ms;   // one media request, milliseconds
    int64_t media_max_per_job;  // media files fetched for one job at most; 0 = none fetched
    lull_cfg_list_t media_hosts;  // hosts media may be fetched from without credentials (CDNs, redirects)
    char *twilio_base, *twilio_sid, *twilio_token;     // Twilio media: basic auth on the API host only
    char *meta_base, *meta_version, *meta_token;       // Meta media: GET /{version}/{media-id} with the bearer token
    char *transcribe_base, *transcribe_key, *transcribe_model;  // "" base/key = the OpenAI ones
    char *s3_endpoint, *s3_bucket, *s3_region;  // media archive (worker_s3); "" endpoint = off
    char *s3_access_env, *s3_secret_env;        // names of the env vars holding the keys
    char *s3_access, *s3_secret;                // the keys themselves (when no env var is named)
} worker_cfg_t;

// The process description (name, about, settings table) for lull_proc_init.
extern const lull_proc_spec_t WORKER_PROC;

#endif
