// The set-based commit of the common results (worker_commit_rows.h): one statement for a batch of jobs, over the
// rows of a JSON array. Same writes, conditions and guarantees as the statement of one job in worker_commit.c,
// row by row: a conversation whose compare-and-swap fails gets nothing but its usage.
#include "worker_commit_rows.h"
#include "lull_buf.h"
#include "lull_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

// The row is written straight into a buffer (no cJSON tree: some 40 members a job, each an allocation and a
// key copy), as cJSON printed it: "key":value members, strings with cJSON's escaping (lull_json_write_str).

// ,"key": (no comma before the first member).
static void s_key(lull_buf_t *b, const char *key)
{
    if (b->len > 1) lull_buf_append(b, ",", 1);
    lull_buf_append(b, "\"", 1);
    lull_buf_puts(b, key);
    lull_buf_append(b, "\":", 2);
}

// An integer as a JSON number written exactly.
static void s_int(lull_buf_t *b, const char *key, long long v)
{
    s_key(b, key);
    lull_buf_printf(b, "%lld", v);
}

// A string, or null for NULL.
static void s_str(lull_buf_t *b, const char *key, const char *v)
{
    s_key(b, key);
    if (v) lull_json_write_str(b, v);
    else lull_buf_puts(b, "null");
}

// JSON text as it is (the analysis' parts: printed by cJSON from the validated answer, so valid JSON; parsed
// once by PostgreSQL as part of the array, not once more as a string), or null for NULL.
static void s_raw(lull_buf_t *b, const char *key, const char *json)
{
    s_key(b, key);
    lull_buf_puts(b, json ? json : "null");
}

static void s_bool(lull_buf_t *b, const char *key, bool v)
{
    s_key(b, key);
    lull_buf_puts(b, v ? "true" : "false");
}

// The job's usage per provider used: [{"p","mo","r","ti","tou","l","c","ca","cw"}, ...].
static void s_usage(lull_buf_t *b, const worker_job_view_t *j)
{
    s_key(b, "usage");
    lull_buf_append(b, "[", 1);
    bool first = true;
    for (int i = 0; i < WORKER_NPROVIDERS; i++) {
        const worker_usage_t *u = &j->usage[i];
        if (u->requests == 0) continue;
        char cost[48];  // a string: numeric's input (a NaN too)
        snprintf(cost, sizeof cost, "%.6f", j->cost_usd[i]);
        lull_buf_puts(b, first ? "{\"p\":" : ",{\"p\":");
        first = false;
        lull_json_write_str(b, WORKER_PROVIDERS[i]->name);
        lull_buf_puts(b, ",\"mo\":");
        lull_json_write_str(b, j->model[i]);
        lull_buf_printf(b, ",\"r\":%lld,\"ti\":%lld,\"tou\":%lld,\"l\":%lld,\"c\":", (long long)u->requests,
                        (long long)u->tokens_in, (long long)u->tokens_out, (long long)u->latency_ms);
        lull_json_write_str(b, cost);
        lull_buf_printf(b, ",\"ca\":%lld,\"cw\":%lld}", (long long)u->cached_in, (long long)u->cache_write);
    }
    lull_buf_append(b, "]", 1);
}

char *worker_commit_rows_json(const worker_job_view_t *j, const worker_outcome_t *c)
{
    lull_buf_t b;
    lull_buf_init(&b, 0, false);
    const worker_analysis_t *a = c->analysis;
    size_t guess = 768 + (c->reply ? strlen(c->reply) * 9 / 8 : 0);  // the fixed members, the reply, the analysis
    if (a)
        guess += strlen(a->escalate_reason) * 9 / 8 + strlen(a->entities) + strlen(a->moderation) + strlen(a->extracted) +
                 strlen(a->raw);
    lull_buf_reserve(&b, guess);
    lull_buf_append(&b, "{", 1);
    const char *aprov = a && c->analysis_provider >= 0 ? WORKER_PROVIDERS[c->analysis_provider]->name : NULL;
    const char *amodel = a && c->analysis_provider >= 0 ? j->model[c->analysis_provider] : NULL;
    s_int(&b, "conv", (long long)j->done.conv_id);
    s_int(&b, "tenant", (long long)j->tenant_id);
    s_int(&b, "contact", (long long)j->contact_id);
    s_str(&b, "channel", j->channel);
    s_str(&b, "reply", c->reply);
    s_str(&b, "recipient", j->recipient);
    s_str(&b, "sender", j->sender_address);
    s_str(&b, "kind", c->kind ? c->kind : "reply");
    s_int(&b, "upto", (long long)j->done.upto);
    s_int(&b, "expected", (long long)j->expected);
    s_bool(&b, "mw", j->max_wait);
    s_usage(&b, j);
    if (a) {
        char conf[32];  // a string: real's input
        snprintf(conf, sizeof conf, "%.4f", a->confidence);
        s_str(&b, "sentiment", a->sentiment);
        s_str(&b, "conf", conf);
        s_str(&b, "intent", a->intent);
        s_str(&b, "priority", a->priority);
        s_bool(&b, "esc", a->escalate);
        s_str(&b, "esc_reason", a->escalate_reason);
        s_raw(&b, "entities", a->entities);
        s_raw(&b, "moderation", a->moderation);
        s_raw(&b, "extracted", a->extracted);
        s_raw(&b, "raw", a->raw);
        s_str(&b, "aprov", aprov);
        s_str(&b, "amodel", amodel);
    }
    lull_buf_append(&b, "}", 1);
    if (b.failed) {
        lull_buf_reset(&b);
        return NULL;
    }
    return lull_buf_take(&b);
}
