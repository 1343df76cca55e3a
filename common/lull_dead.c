// Dead-letter queries (list / replay / replay all) over outbox rows in status 'dead' or 'unknown'.
#include "lull_dead.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// $1 tenant (NULL = any), $2 channel (NULL = any), $3 since (NULL = any)
#define DEAD_WHERE                                                                                   \
    " status IN ('dead','unknown') AND ($1::bigint IS NULL OR tenant_id = $1::bigint)"              \
    " AND ($2::text IS NULL OR channel = $2::text) AND ($3::timestamptz IS NULL OR updated_at >= $3::timestamptz)"

static int s_params(const lull_dead_filter_t *f, char *tenant, size_t cap, const char *params[3])
{
    params[0] = params[1] = params[2] = NULL;
    if (!f) return 0;
    if (f->tenant_id < 0) return -1;
    if (f->tenant_id > 0) {
        snprintf(tenant, cap, "%lld", (long long)f->tenant_id);
        params[0] = tenant;
    }
    if (f->channel && *f->channel) params[1] = f->channel;
    if (f->since && *f->since) params[2] = f->since;
    return 0;
}

char *lull_dead_list(lull_db_t *db, const lull_dead_filter_t *filter)
{
    char tenant[24], limit[16], before[24];
    const char *params[5];
    if (s_params(filter, tenant, sizeof tenant, params) != 0) return NULL;
    int lim = filter && filter->limit > 0 ? filter->limit : 100;
    if (lim > LULL_DEAD_MAX_LIMIT) lim = LULL_DEAD_MAX_LIMIT;
    snprintf(limit, sizeof limit, "%d", lim);
    params[3] = limit;
    params[4] = NULL;
    if (filter && filter->before_id < 0) return NULL;
    if (filter && filter->before_id > 0) {
        snprintf(before, sizeof before, "%lld", (long long)filter->before_id);
        params[4] = before;
    }
    PGresult *res = lull_db_exec(
        db,
        "SELECT coalesce(json_agg(r)::text, '[]') FROM ("
        " SELECT id, tenant_id, conversation_id, message_id, channel, recipient, status, attempts, last_status,"
        "  last_error, idempotency_key, updated_at FROM outbox WHERE" DEAD_WHERE
        " AND ($5::bigint IS NULL OR id < $5::bigint) ORDER BY id DESC LIMIT $4::int) r",
        5, params);
    if (!res) return NULL;
    const char *t = PQntuples(res) == 1 ? lull_db_text(res, 0, 0) : NULL;
    char *out = t ? strdup(t) : NULL;
    PQclear(res);
    return out;
}

#define REPLAY_SET \
    " SET status = 'pending', attempts = 0, next_attempt_at = now(), lease_until = NULL, lease_owner = NULL, updated_at = now()"

int lull_dead_replay(lull_db_t *db, int64_t id)
{
    char sid[24];
    snprintf(sid, sizeof sid, "%lld", (long long)id);
    const char *params[] = {sid};
    int64_t n = 0;
    if (lull_db_run(db, "UPDATE outbox" REPLAY_SET " WHERE id = $1 AND status IN ('dead','unknown')", 1, params,
                    &n) != 0)
        return -1;
    return n > 0 ? 1 : 0;
}

int64_t lull_dead_replay_all(lull_db_t *db, const lull_dead_filter_t *filter)
{
    char tenant[24];
    const char *params[3];
    if (s_params(filter, tenant, sizeof tenant, params) != 0) return -1;
    int64_t n = 0;
    if (lull_db_run(db, "UPDATE outbox" REPLAY_SET " WHERE" DEAD_WHERE, 3, params, &n) != 0) return -1;
    return n;
}
