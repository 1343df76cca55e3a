// The scheduler's reads and writes of conversation rows: the check of due conversations at dispatch (one
// query per batch: what to answer, or nothing, or later) and cancelled_upto, which tells recovery and the
// sweep that a burst gets no answer.
#ifndef SCHED_CONVS_H
#define SCHED_CONVS_H

#include <stdint.h>

#include "lull_db.h"
#include "sched_windows.h"

// What a due conversation's row says.
typedef enum {
    SCHED_CONVS_GONE = 0,  // nothing to answer (answered, cancelled, not open, no row)
    SCHED_CONVS_GO,        // dispatch it
    SCHED_CONVS_DEFER      // paused: re-arm the window for defer_ms
} sched_convs_check_t;

// One due conversation taken from the ready queue, with what its row says (plain data).
typedef struct {
    sched_window_info_t info;
    sched_convs_check_t check;
    int64_t expected;  // answered_upto
    int64_t upto;      // last_inbound_id
    int64_t defer_ms;  // paused for this long, milliseconds
} sched_convs_due_t;

// Reads the rows of the n due conversations in one query and sets each one's check (and expected/upto or
// defer_ms). 0; -1 on a database error or without a database.
int sched_convs_check(lull_db_t *db, sched_convs_due_t *due, int n) __attribute__((warn_unused_result));
// Records that the burst up to upto gets no answer (cancel, permanent failure): cancelled_upto =
// greatest(…, upto), so recovery and the sweep do not dispatch it again. 0; -1 on a database error or without
// a database (logged).
int sched_convs_record_cancel(lull_db_t *db, int64_t conv, int64_t upto) __attribute__((warn_unused_result));

#endif
