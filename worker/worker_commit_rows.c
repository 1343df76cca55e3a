// The set-based commit of the common results (worker_commit_rows.h): one statement for a batch of jobs, over the
// rows of a JSON array. Same writes, conditions and guarantees as the statement of one job in worker_commit.c,
// row by row: a conversation whose compare-and-swap fails gets nothing but its usage.
#include "worker_commit_rows.h"
#include "lull_json.h"

#include <stdio.h>
#include <stdlib.h>

const lull_db_stmt_t WORKER_COMMIT_ROWS = {
    "lull_w_commit_rows",
    "WITH j AS MATERIALIZED (SELECT * FROM jsonb_to_recordset($1::jsonb) AS j(conv bigint, tenant bigint,"
    "  contact bigint, channel text, reply text, recipient text, sender text, kind text, upto bigint,"
    "  expected bigint, mw boolean, sentiment text, conf real, intent text, priority text, esc boolean,"
    "  esc_reason text, entities jsonb, moderation jsonb, extracted jsonb, raw jsonb, aprov text, amodel text,"
    "  usage jsonb)),"
    " cas AS (UPDATE conversations c SET answered_upto = j.upto, failed_attempts = 0,"
    "  first_unanswered_at = CASE WHEN c.last_inbound_id = j.upto THEN NULL ELSE (SELECT min(created_at) FROM messages"
    "  WHERE conversation_id = c.id AND direction = 'in' AND id > j.upto) END,"
    "  updated_at = now(), last_reply_at = CASE WHEN j.reply IS NOT NULL THEN now() ELSE c.last_reply_at END"
    "  FROM j WHERE c.id = j.conv AND c.answered_upto = j.expected AND c.status = 'open'"
    "  AND (c.paused_until IS NULL OR c.paused_until <= now()) AND c.cancelled_upto < j.upto"  // a person answered
    "  AND (c.last_inbound_id = j.upto OR (j.mw AND c.last_inbound_id > j.upto)) RETURNING c.id),"
    " m AS (INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, body)"
    "  SELECT j.conv, j.tenant, j.channel, 'out', 'bot', j.reply FROM j JOIN cas ON cas.id = j.conv"
    "  WHERE j.reply IS NOT NULL RETURNING id, conversation_id),"
    " a AS (INSERT INTO analyses (conversation_id, tenant_id, message_id, upto_message_id, sentiment,"
    "  sentiment_confidence, intent, priority, escalate, escalate_reason, entities, moderation, extracted, raw,"
    "  provider, model)"
    "  SELECT j.conv, j.tenant, m.id, j.upto, j.sentiment, j.conf, j.intent, j.priority, j.esc, j.esc_reason,"
    "  j.entities, j.moderation, j.extracted, j.raw, j.aprov, j.amodel"
    "  FROM j JOIN cas ON cas.id = j.conv LEFT JOIN m ON m.conversation_id = j.conv WHERE j.sentiment IS NOT NULL),"
    " o AS (INSERT INTO outbox (tenant_id, conversation_id, message_id, channel, recipient, sender_address,"
    "  payload, idempotency_key)"
    "  SELECT j.tenant, j.conv, m.id, j.channel, j.recipient, j.sender, jsonb_build_object('body', j.reply,"
    "  'kind', j.kind), 'out_' || m.id FROM j JOIN m ON m.conversation_id = j.conv RETURNING id, conversation_id),"
    " u AS (INSERT INTO usage AS us (tenant_id, contact_id, day, provider, model, requests, prompt_tokens,"
    "  completion_tokens, latency_ms, cost_usd, cached_prompt_tokens, cache_write_tokens)"
    "  SELECT j.tenant, j.contact, current_date, x.p, x.mo, sum(x.r), sum(x.ti), sum(x.tou), sum(x.l), sum(x.c),"
    "  sum(x.ca), sum(x.cw) FROM j CROSS JOIN LATERAL jsonb_to_recordset(j.usage) AS x(p text, mo text, r int,"
    "  ti bigint, tou bigint, l bigint, c numeric, ca bigint, cw bigint)"
    "  GROUP BY j.tenant, j.contact, x.p, x.mo"  // one row per key: an upsert may not touch a row twice
    WORKER_COMMIT_USAGE_UPSERT ")"
    " SELECT cas.id, o.id FROM cas LEFT JOIN o ON o.conversation_id = cas.id",
    1,
};

bool worker_commit_rows_rare(const worker_job_view_t *j, const worker_outcome_t *c)
{
    return c->esc_source != NULL || (c->limit_contact && j->limit_contact_ms > 0);
}

// Adds an integer as a JSON number written exactly (cJSON's numbers are doubles). false when out of memory.
static bool s_int(cJSON *o, const char *key, long long v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", v);
    return cJSON_AddRawToObject(o, key, buf) != NULL;
}

// Adds a string, or null for NULL. false when out of memory.
static bool s_str(cJSON *o, const char *key, const char *v)
{
    return (v ? cJSON_AddStringToObject(o, key, v) : cJSON_AddNullToObject(o, key)) != NULL;
}

// Adds JSON text as it is (the analysis' parts: printed by cJSON from the validated answer, so valid JSON; parsed
// once by PostgreSQL as part of the array, not once more as a string), or null for NULL. false when out of memory.
static bool s_raw(cJSON *o, const char *key, const char *json)
{
    return (json ? cJSON_AddRawToObject(o, key, json) : cJSON_AddNullToObject(o, key)) != NULL;
}

// The job's usage per provider used: [{"p","mo","r","ti","tou","l","c","ca","cw"}, ...].
static bool s_usage(cJSON *o, const worker_job_view_t *j)
{
    cJSON *arr = cJSON_AddArrayToObject(o, "usage");
    if (!arr) return false;
    for (int i = 0; i < WORKER_NPROVIDERS; i++) {
        const worker_usage_t *u = &j->usage[i];
        if (u->requests == 0) continue;
        cJSON *x = cJSON_CreateObject();
        if (!x) return false;
        cJSON_AddItemToArray(arr, x);
        char cost[48];  // a string: numeric's input (a NaN too)
        snprintf(cost, sizeof cost, "%.6f", j->cost_usd[i]);
        if (!s_str(x, "p", WORKER_PROVIDERS[i]->name) || !s_str(x, "mo", j->model[i]) ||
            !s_int(x, "r", (long long)u->requests) || !s_int(x, "ti", (long long)u->tokens_in) ||
            !s_int(x, "tou", (long long)u->tokens_out) || !s_int(x, "l", (long long)u->latency_ms) ||
            !s_str(x, "c", cost) || !s_int(x, "ca", (long long)u->cached_in) ||
            !s_int(x, "cw", (long long)u->cache_write))
            return false;
    }
    return true;
}

char *worker_commit_rows_json(const worker_job_view_t *j, const worker_outcome_t *c)
{
    cJSON *o = cJSON_CreateObject();
    char *out = NULL;
    if (!o) return NULL;
    const worker_analysis_t *a = c->analysis;
    const char *aprov = a && c->analysis_provider >= 0 ? WORKER_PROVIDERS[c->analysis_provider]->name : NULL;
    const char *amodel = a && c->analysis_provider >= 0 ? j->model[c->analysis_provider] : NULL;
    char conf[32];  // a string: real's input
    if (a) snprintf(conf, sizeof conf, "%.4f", a->confidence);
    bool ok = s_int(o, "conv", (long long)j->done.conv_id) && s_int(o, "tenant", (long long)j->tenant_id) &&
              s_int(o, "contact", (long long)j->contact_id) && s_str(o, "channel", j->channel) &&
              s_str(o, "reply", c->reply) && s_str(o, "recipient", j->recipient) &&
              s_str(o, "sender", j->sender_address) && s_str(o, "kind", c->kind ? c->kind : "reply") &&
              s_int(o, "upto", (long long)j->done.upto) && s_int(o, "expected", (long long)j->expected) &&
              cJSON_AddBoolToObject(o, "mw", j->max_wait) != NULL && s_usage(o, j);
    if (ok && a)
        ok = s_str(o, "sentiment", a->sentiment) && s_str(o, "conf", conf) &&
             s_str(o, "intent", a->intent) && s_str(o, "priority", a->priority) &&
             cJSON_AddBoolToObject(o, "esc", a->escalate) != NULL && s_str(o, "esc_reason", a->escalate_reason) &&
             s_raw(o, "entities", a->entities) && s_raw(o, "moderation", a->moderation) &&
             s_raw(o, "extracted", a->extracted) && s_raw(o, "raw", a->raw) && s_str(o, "aprov", aprov) &&
             s_str(o, "amodel", amodel);
    if (ok) out = lull_json_print(o);
    cJSON_Delete(o);
    return out;
}
