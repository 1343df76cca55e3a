// Dead letters, for the admin API and operators: list the outbox rows that were given up on
// (status 'dead' or 'unknown') with filters, replay one, replay all matching a filter. Needs only a
// lull_db_t, so any process can call it; a replayed row is picked up by the next sender poll.
#ifndef LULL_DEAD_H
#define LULL_DEAD_H

#include <stdint.h>

#include "lull_db.h"

#define LULL_DEAD_MAX_LIMIT 1000

// Filter for list/replay-all; zero/NULL fields match everything.
typedef struct {
    int64_t tenant_id;     // 0 = any
    const char *channel;   // NULL = any
    const char *since;     // timestamptz text (updated_at >= since); NULL = any
    int limit;             // list: rows (1..LULL_DEAD_MAX_LIMIT; 0 = 100)
    int64_t before_id;     // list: only ids below it (keyset pagination, newest first); 0 = none
} lull_dead_filter_t;

// Lists dead letters as a JSON array text [{"id","tenant_id","conversation_id","message_id","channel",
// "recipient","status","attempts","last_status","last_error","idempotency_key","updated_at"}], newest
// first. The caller frees; NULL on a database error or an invalid filter.
char *lull_dead_list(lull_db_t *db, const lull_dead_filter_t *filter) __attribute__((warn_unused_result));

// Replays one dead letter: status pending, attempts 0, next_attempt_at now, lease cleared (same
// idempotency key). 1 when replayed, 0 when no dead/unknown row has that id, -1 on error.
int lull_dead_replay(lull_db_t *db, int64_t id) __attribute__((warn_unused_result));

// Replays every dead letter matching filter (limit ignored). Number replayed, or -1 on error.
int64_t lull_dead_replay_all(lull_db_t *db, const lull_dead_filter_t *filter) __attribute__((warn_unused_result));

#endif
