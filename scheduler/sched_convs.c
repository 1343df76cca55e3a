// The scheduler's SQL on conversation rows: the batched check at dispatch and the cancelled_upto record.
#include "sched_convs.h"
#include "lull_log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sched_convs_check(lull_db_t *db, sched_convs_due_t *due, int n)
{
    static const lull_db_stmt_t check = {  // at every dispatch: prepared once
        "lull_s_convs_check",
        "SELECT id, status = 'open' AND last_inbound_id > greatest(answered_upto, cancelled_upto), answered_upto, "
        "last_inbound_id, CASE WHEN paused_until > now() THEN "
        "ceil(extract(epoch FROM paused_until - now()) * 1000)::bigint ELSE 0 END "
        "FROM conversations WHERE id = ANY($1::bigint[])",
        1};
    int rc = -1;
    char *ids = NULL;
    PGresult *res = NULL;
    if (!db) goto cleanup;
    ids = malloc((size_t)n * 21 + 3);
    if (!ids) goto cleanup;
    size_t len = 0;
    ids[len++] = '{';
    for (int i = 0; i < n; i++) {
        due[i].check = SCHED_CONVS_GONE;  // a conversation without a row has nothing to answer
        len += (size_t)snprintf(ids + len, 22, "%s%lld", i ? "," : "", (long long)due[i].info.conversation_id);
    }
    ids[len++] = '}';
    ids[len] = '\0';
    const char *params[1] = {ids};
    res = lull_db_exec_stmt(db, &check, params);
    if (!res) goto cleanup;
    for (int r = 0; r < PQntuples(res); r++) {
        bool ok1, ok2, ok3, ok4;
        int64_t id = lull_db_int(res, r, 0, &ok1), expected = lull_db_int(res, r, 2, &ok2);
        int64_t upto = lull_db_int(res, r, 3, &ok3), paused = lull_db_int(res, r, 4, &ok4);
        const char *open = lull_db_text(res, r, 1);
        if (!ok1 || !ok2 || !ok3 || !ok4 || !open) {
            LOG_ERROR("conv.bad_row", "unexpected conversation row", "conv", LI(id));
            continue;
        }
        for (int i = 0; i < n; i++) {
            if (due[i].info.conversation_id != id) continue;
            if (strcmp(open, "t") != 0) {
                due[i].check = SCHED_CONVS_GONE;
            } else if (paused > 0) {
                due[i].check = SCHED_CONVS_DEFER;
                due[i].defer_ms = paused;
            } else {
                due[i].check = SCHED_CONVS_GO;
                due[i].expected = expected;
                due[i].upto = upto;
            }
        }
    }
    rc = 0;
cleanup:
    PQclear(res);
    free(ids);
    return rc;
}

int sched_convs_record_cancel(lull_db_t *db, int64_t conv, int64_t upto)
{
    char id[24], up[24];
    snprintf(id, sizeof id, "%lld", (long long)conv);
    snprintf(up, sizeof up, "%lld", (long long)upto);
    const char *params[2] = {id, up};
    if (!db ||
        lull_db_run(db,
                    "UPDATE conversations SET cancelled_upto = greatest(cancelled_upto, $2::bigint), updated_at = now() "
                    "WHERE id = $1",
                    2, params, NULL) != 0) {
        LOG_WARN("cancel.db_error", "cannot record cancelled_upto", "conv", LI(conv), "upto", LI(upto));
        return -1;
    }
    return 0;
}
