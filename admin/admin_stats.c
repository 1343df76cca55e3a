// The inbox's reads: the list of conversations that need a person, the "seen" mark behind unread counts and
// the 24-hour overview. Each is one SQL statement whose JSON PostgreSQL builds, and each reads a bounded
// number of rows: the list at most LULL_ADMIN_INBOX_LIST_MAX conversations (and, for "recent", the newest
// 20 × that many messages), the overview at most LULL_ADMIN_STATS_ROWS_MAX of the newest rows of a table.
#include "admin_stats.h"
#include "lull_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_UNREAD_WINDOW "100"  // unread counts look at a conversation's newest 100 messages (so at most 100)

static int64_t s_list_max = 100;      // LULL_ADMIN_INBOX_LIST_MAX
static int64_t s_rows_max = 500000;   // LULL_ADMIN_STATS_ROWS_MAX

void admin_stats_set_limits(int64_t list_max, int64_t rows_max)
{
    s_list_max = list_max;
    s_rows_max = rows_max;
}

// $1 the list's length, $2 the newest messages read to find the most recent conversations.
static const char s_sql_inbox[] =
    "WITH esc AS (SELECT id, 0 AS grp FROM conversations WHERE status = 'escalated'"
    "  ORDER BY escalated_at NULLS LAST, id LIMIT $1::int),"
    " pau AS (SELECT id, 1 AS grp FROM conversations WHERE status = 'paused' OR paused_until > now()"
    "  ORDER BY paused_until DESC NULLS LAST, id DESC LIMIT $1::int),"
    " rec AS (SELECT conversation_id AS id, 2 AS grp FROM (SELECT conversation_id, id FROM messages"
    "  ORDER BY id DESC LIMIT $2::int) r GROUP BY conversation_id ORDER BY max(id) DESC LIMIT $1::int),"
    " pick AS (SELECT id, min(grp) AS grp FROM (SELECT * FROM esc UNION ALL SELECT * FROM pau"
    "  UNION ALL SELECT * FROM rec) u GROUP BY id),"
    " rows AS (SELECT c.id, c.tenant_id, c.channel, c.status, p.grp,"
    "  CASE p.grp WHEN 0 THEN 'escalated' WHEN 1 THEN 'paused' ELSE 'recent' END AS section,"
    "  c.escalated_at, c.escalation_reason, c.paused_until,"
    "  CASE WHEN p.grp = 0 THEN (extract(epoch FROM now() - coalesce(c.escalated_at, now())) * 1000)::bigint END"
    "   AS waiting_ms,"
    "  json_build_object('id', ct.id, 'external_id', ct.external_id, 'first_name', ct.first_name,"
    "   'last_name', ct.last_name, 'profile_name', ct.profile_name) AS contact,"
    "  lm.last_message, lm.last_id, coalesce(un.unread, 0) AS unread"
    "  FROM pick p JOIN conversations c ON c.id = p.id JOIN contacts ct ON ct.id = c.contact_id"
    "  LEFT JOIN LATERAL (SELECT m.id AS last_id, json_build_object('id', m.id, 'direction', m.direction,"
    "    'author', m.author, 'body', left(m.body, 200), 'created_at', m.created_at) AS last_message"
    "   FROM messages m WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1) lm ON true"
    "  LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE q.direction = 'in'"
    "     AND q.id > greatest(c.agent_seen_upto, coalesce(q.h, 0))) AS unread"
    "   FROM (SELECT r.id, r.direction, max(r.id) FILTER (WHERE r.author = 'human') OVER () AS h"
    "    FROM (SELECT id, direction, author FROM messages WHERE conversation_id = c.id ORDER BY id DESC"
    "     LIMIT " S_UNREAD_WINDOW ") r) q) un ON true"
    "  ORDER BY p.grp, CASE WHEN p.grp = 0 THEN c.escalated_at END, lm.last_id DESC NULLS LAST, c.id DESC"
    "  LIMIT $1::int)"
    " SELECT json_build_object('conversations', coalesce(json_agg(r ORDER BY r.grp,"
    "  CASE WHEN r.grp = 0 THEN r.escalated_at END, r.last_id DESC NULLS LAST, r.id DESC), '[]'::json),"
    "  'generated_at', now())::text FROM rows r";

char *admin_stats_inbox_json(lull_db_t *db)
{
    char lim[24], scan[24];
    snprintf(lim, sizeof lim, "%lld", (long long)s_list_max);
    snprintf(scan, sizeof scan, "%lld", (long long)(s_list_max * 20));
    const char *p[2] = {lim, scan};
    PGresult *r = lull_db_exec(db, s_sql_inbox, 2, p);
    if (!r) return NULL;
    const char *t = PQntuples(r) == 1 ? lull_db_text(r, 0, 0) : NULL;
    char *out = strdup(t ? t : "{\"conversations\":[]}");
    PQclear(r);
    return out;
}

void admin_stats_inbox(admin_ctx_t *ctx, admin_req_t *req)
{
    char *j = admin_stats_inbox_json(ctx->db);
    if (!j) {
        admin_util_db_error(ctx, req);
        return;
    }
    admin_util_answer(req, 200, j);
}

static const char s_sql_seen[] =
    "UPDATE conversations SET agent_seen_upto = greatest(agent_seen_upto, last_inbound_id)"
    " WHERE id = $1::bigint RETURNING json_build_object('id', id, 'agent_seen_upto', agent_seen_upto)::text";

void admin_stats_seen(admin_ctx_t *ctx, admin_req_t *req)
{
    const char *p[1] = {req->id_s};
    admin_util_sql_answer(ctx, req, s_sql_seen, 1, p, "no such conversation");
}

// $1: the newest rows read per table. Hours are whole hours of the server's time zone, the oldest first.
static const char s_sql_overview[] =
    "WITH hours AS (SELECT generate_series(date_trunc('hour', now()) - interval '23 hours',"
    "  date_trunc('hour', now()), interval '1 hour') AS h),"
    " since AS (SELECT min(h) AS t FROM hours),"
    " ma AS (SELECT id, conversation_id, direction, author, created_at FROM messages ORDER BY id DESC LIMIT $1::int),"
    " m AS (SELECT ma.* FROM ma, since WHERE ma.created_at >= since.t),"
    " mh AS (SELECT date_trunc('hour', m.created_at) AS h, count(DISTINCT m.conversation_id) AS conversations,"
    "  count(*) FILTER (WHERE m.direction = 'in') AS inbound, count(*) FILTER (WHERE m.direction = 'out') AS outbound,"
    "  count(*) FILTER (WHERE m.author = 'bot') AS bot_replies,"
    "  count(*) FILTER (WHERE m.author = 'human') AS human_replies,"
    "  count(*) FILTER (WHERE m.direction = 'in' AND m.id <= c.answered_upto) AS answered"
    "  FROM m JOIN conversations c ON c.id = m.conversation_id GROUP BY 1),"
    " eh AS (SELECT date_trunc('hour', e.created_at) AS h, count(*) AS n FROM (SELECT created_at FROM escalations"
    "  ORDER BY id DESC LIMIT $1::int) e, since WHERE e.created_at >= since.t GROUP BY 1),"
    " fh AS (SELECT date_trunc('hour', f.created_at) AS h, count(*) AS n FROM (SELECT created_at FROM outbox"
    "  WHERE status IN ('dead', 'unknown') ORDER BY id DESC LIMIT $1::int) f, since WHERE f.created_at >= since.t"
    "  GROUP BY 1),"
    " u AS (SELECT tenant_id, sum(requests)::bigint AS llm_calls, sum(cost_usd) AS cost_usd,"
    "  sum(prompt_tokens + completion_tokens)::bigint AS tokens FROM usage"
    "  WHERE day >= (now() - interval '24 hours')::date GROUP BY tenant_id),"
    " tot AS (SELECT (SELECT count(DISTINCT conversation_id) FROM m) AS conversations,"
    "  coalesce(sum(inbound), 0)::bigint AS inbound, coalesce(sum(outbound), 0)::bigint AS outbound,"
    "  coalesce(sum(answered), 0)::bigint AS answered, coalesce(sum(bot_replies), 0)::bigint AS bot_replies,"
    "  coalesce(sum(human_replies), 0)::bigint AS human_replies,"
    "  (SELECT coalesce(sum(n), 0) FROM eh)::bigint AS escalations,"
    "  (SELECT coalesce(sum(n), 0) FROM fh)::bigint AS delivery_failures,"
    "  (SELECT coalesce(sum(llm_calls), 0) FROM u)::bigint AS llm_calls,"
    "  (SELECT coalesce(sum(cost_usd), 0) FROM u) AS cost_usd FROM mh)"
    " SELECT json_build_object('since', (SELECT t FROM since), 'until', now(),"
    "  'usage_since', (now() - interval '24 hours')::date,"
    "  'truncated', (SELECT count(*) FROM ma) = $1::int AND (SELECT min(created_at) FROM ma) >= (SELECT t FROM since),"
    "  'hours', (SELECT json_agg(json_build_object('hour', hours.h, 'conversations', coalesce(mh.conversations, 0),"
    "    'inbound', coalesce(mh.inbound, 0), 'outbound', coalesce(mh.outbound, 0),"
    "    'answered', coalesce(mh.answered, 0), 'bot_replies', coalesce(mh.bot_replies, 0),"
    "    'human_replies', coalesce(mh.human_replies, 0), 'escalations', coalesce(eh.n, 0),"
    "    'delivery_failures', coalesce(fh.n, 0)) ORDER BY hours.h)"
    "   FROM hours LEFT JOIN mh ON mh.h = hours.h LEFT JOIN eh ON eh.h = hours.h LEFT JOIN fh ON fh.h = hours.h),"
    "  'totals', (SELECT json_build_object('conversations', conversations, 'inbound', inbound, 'outbound', outbound,"
    "    'answered', answered, 'bot_replies', bot_replies, 'human_replies', human_replies, 'llm_calls', llm_calls,"
    "    'llm_calls_saved', answered - llm_calls, 'escalations', escalations, 'delivery_failures', delivery_failures,"
    "    'cost_usd', cost_usd) FROM tot),"
    "  'tenants', (SELECT coalesce(json_agg(json_build_object('tenant_id', t.id, 'slug', t.slug, 'name', t.name,"
    "    'llm_calls', u.llm_calls, 'tokens', u.tokens, 'cost_usd', u.cost_usd) ORDER BY u.cost_usd DESC, t.id),"
    "    '[]'::json) FROM u JOIN tenants t ON t.id = u.tenant_id))::text";

void admin_stats_overview(admin_ctx_t *ctx, admin_req_t *req)
{
    char rows[24];
    snprintf(rows, sizeof rows, "%lld", (long long)s_rows_max);
    const char *p[1] = {rows};
    admin_util_sql_answer(ctx, req, s_sql_overview, 1, p, NULL);
}

void admin_inbox_events_check(admin_ctx_t *ctx, admin_req_t *req)
{
    (void)ctx;
    admin_util_answer(req, 200, strdup("{}"));
}
