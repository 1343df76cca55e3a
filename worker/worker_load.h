// Loading a job: the conversation, its contact, its tenant's settings and prompt, today's usage when a
// daily limit is set, and the last tenants.history_len messages, read into a struct of named fields.
// A dry run loads the same tenant fields for a conversation of just its text.
#ifndef WORKER_LOAD_H
#define WORKER_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lull_db.h"

// One message of the history, oldest first.
typedef struct {
    int64_t id;        // messages.id
    bool inbound;      // direction 'in' (from the customer)
    const char *body;  // borrowed from the load (or from the job's media, which may rewrite it)
    const char *media;       // messages.media JSON array text, or NULL; borrowed from the load
    const char *transcript;  // messages.transcript, or NULL; borrowed from the load
} worker_hist_t;

// How a tenant's bursts are answered (tenants.llm_mode).
typedef enum {
    WORKER_LLM_COMBINED = 0,  // the reply and the analysis in one structured answer
    WORKER_LLM_SEPARATE,      // a reply call and an analysis call
    WORKER_LLM_OFF            // the reply only
} worker_llm_mode_t;

// A loaded job. Strings are borrowed from the load (NULL = SQL NULL) until worker_load_clear.
typedef struct {
    // the conversation
    int64_t tenant_id, contact_id;
    int64_t answered_upto, last_inbound_id;
    const char *channel, *status;
    const char *business_address, *external_conversation_id, *external_id;
    const char *customer_name;          // first name, else profile name, else ""
    bool contact_limited;               // contacts.limited_until is in the future
    int64_t used_tenant, used_contact;  // LLM requests today (0 when no daily limit is set)
    // the tenant
    const char *company_name, *agent_name;
    const char *template;               // the prompt; NULL = the default one
    const char *provider_chain;         // text[] literal
    const char *model;                  // tenants.model; NULL = provider default
    const char *models;                 // tenants.models JSON object text
    double temperature, confidence_threshold;
    bool temperature_set;               // tenants.temperature is not NULL and not the column default 0.7
    int max_tokens, max_attempts;
    const char *escalation_keywords, *blocked_patterns;  // text[] literals
    const char *safe_reply, *apology_reply;              // NULL = default texts
    bool has_limit_tenant, has_limit_contact;
    int64_t limit_tenant, limit_contact;                 // daily LLM requests, when has_limit_*
    const char *extraction_fields;      // JSON array text
    const char *callback_url;           // NULL = none
    const char *tiktok_business_id;
    worker_llm_mode_t llm_mode;
    int history_tokens;                 // estimated tokens of history sent at most (the burst always goes)
    // the history, oldest first
    worker_hist_t *history;
    size_t nhistory;
    // owned
    PGresult *res_row, *res_hist;       // the results the strings live in
} worker_load_t;

typedef enum {
    WORKER_LOAD_OK = 0,
    WORKER_LOAD_DB_ERROR,   // a statement failed
    WORKER_LOAD_NOT_FOUND,  // no such conversation (or tenant, for a dry run)
    WORKER_LOAD_INVALID,    // a value the worker cannot use
    WORKER_LOAD_NO_MEMORY
} worker_load_rc_t;

// The two statements of the load of many jobs (worker_loadq.c), for lull_db_batch: the rows ($1 bigint[] of
// conversation ids: each the job's position in the array from 1, then the columns worker_load_read reads), and
// the histories ($1 bigint[] of conversation ids, $2 bigint[] of their uptos: each the job's position in the
// arrays from 1, then id, direction, body, media, transcript), in that order; both ordered by the position.
extern const lull_db_stmt_t WORKER_LOAD_ROWS, WORKER_LOAD_HISTORIES;

// Reads a job's load from the results of its two statements (taken, NULL after a failure; freed by
// worker_load_clear whatever the result).
worker_load_rc_t worker_load_read(worker_load_t *out, PGresult *row, PGresult *history)
    __attribute__((warn_unused_result));
// Loads tenant_id's settings for a dry run of text: a conversation of that one message from "the customer"
// on the generic channel, without daily limits or escalation callback. text is borrowed until the clear.
worker_load_rc_t worker_load_try(worker_load_t *out, lull_db_t *db, int64_t tenant_id, const char *text)
    __attribute__((warn_unused_result));
// Frees what a load owns and zeroes it.
void worker_load_clear(worker_load_t *l);

#endif
