// The load queue (see worker_loadq.h). A task copies the ids of its items: the thread never reads a job.
#include "worker_loadq.h"
#include "lull_log.h"
#include "worker_load.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#define LOAD_BATCH 256  // jobs loaded in one pipeline at most

typedef struct {
    worker_dbq_task_t task;  // first
    worker_loadq_t *q;
    int n;
    worker_loadq_item_t **items;  // the loop's (read only in done)
    char (*ids)[2][24];           // conversation id and upto of each item: the thread's
    PGresult **res;               // two per item, set by the thread
} s_task_t;

struct worker_loadq {
    lull_db_t *db;
    worker_dbq_t *dbq;
    worker_loadq_fn *fn;
    void *arg;
    worker_loadq_item_t *head, *tail;
    bool in_flight;  // a task is on the thread
    bool stopped;
};

// Runs the loads of n items (ids) on db, LOAD_BATCH items per pipeline; res gets 2n results.
static void s_run(lull_db_t *db, int n, char (*ids)[2][24], PGresult **res)
{
    for (int start = 0; start < n; start += LOAD_BATCH) {
        int m = n - start < LOAD_BATCH ? n - start : LOAD_BATCH;
        const lull_db_stmt_t *stmts[2 * LOAD_BATCH];
        const char *const *params[2 * LOAD_BATCH];
        const char *p[LOAD_BATCH][2];
        for (int i = 0; i < m; i++) {
            p[i][0] = ids[start + i][0];
            p[i][1] = ids[start + i][1];
            stmts[2 * i] = &WORKER_LOAD_ROW;
            stmts[2 * i + 1] = &WORKER_LOAD_HISTORY;
            params[2 * i] = params[2 * i + 1] = p[i];
        }
        if (lull_db_batch(db, stmts, params, 2 * m, false, res + 2 * start) != 0)  // each failed load: its job's error
            LOG_DEBUG("job.load_failed", "a load batch failed", "jobs", LI(m), "error", LS(lull_db_error(db)));
    }
}

static void s_ids(char ids[2][24], const worker_loadq_item_t *it)
{
    snprintf(ids[0], sizeof ids[0], "%lld", (long long)it->conv_id);
    snprintf(ids[1], sizeof ids[1], "%lld", (long long)it->upto);
}

static void s_task_free(s_task_t *t)
{
    free(t->items);
    free(t->ids);
    free(t->res);
    free(t);
}

static void s_task_run(worker_dbq_task_t *task, lull_db_t *db)
{
    s_task_t *t = (s_task_t *)task;
    s_run(db, t->n, t->ids, t->res);
}

static void s_task_done(worker_dbq_task_t *task)
{
    s_task_t *t = (s_task_t *)task;
    worker_loadq_t *q = t->q;
    q->in_flight = false;
    for (int i = 0; i < t->n; i++) {
        if (q->stopped) {
            PQclear(t->res[2 * i]);
            PQclear(t->res[2 * i + 1]);
        } else {
            q->fn(t->items[i], t->res[2 * i], t->res[2 * i + 1], q->arg);
        }
    }
    s_task_free(t);
    if (!q->stopped) worker_loadq_flush(q);  // what queued meanwhile
}

// Loads the queued items on the loop's connection now.
static void s_flush_here(worker_loadq_t *q)
{
    while (q->head) {
        worker_loadq_item_t *items[LOAD_BATCH];
        char ids[LOAD_BATCH][2][24];
        PGresult *res[2 * LOAD_BATCH];
        int n = 0;
        for (; q->head && n < LOAD_BATCH; n++) {
            items[n] = q->head;
            q->head = q->head->next;
            s_ids(ids[n], items[n]);
        }
        if (!q->head) q->tail = NULL;
        s_run(q->db, n, ids, res);
        for (int i = 0; i < n; i++) q->fn(items[i], res[2 * i], res[2 * i + 1], q->arg);
    }
}

void worker_loadq_flush(worker_loadq_t *q)
{
    if (q->stopped) return;
    if (!q->dbq) {
        s_flush_here(q);
        return;
    }
    if (q->in_flight || !q->head) return;
    int n = 0;
    for (const worker_loadq_item_t *it = q->head; it; it = it->next) n++;
    s_task_t *t = calloc(1, sizeof *t);
    if (t) {
        t->items = calloc((size_t)n, sizeof *t->items);
        t->ids = calloc((size_t)n, sizeof *t->ids);
        t->res = calloc(2 * (size_t)n, sizeof *t->res);
    }
    if (!t || !t->items || !t->ids || !t->res) {  // the next tick tries again
        if (t) s_task_free(t);
        return;
    }
    t->task = (worker_dbq_task_t){.run = s_task_run, .done = s_task_done};
    t->q = q;
    for (; q->head; t->n++) {
        t->items[t->n] = q->head;
        s_ids(t->ids[t->n], q->head);
        q->head = q->head->next;
    }
    q->tail = NULL;
    q->in_flight = true;
    worker_dbq_submit(q->dbq, &t->task);
}

worker_loadq_t *worker_loadq_new(lull_db_t *db, worker_dbq_t *dbq, worker_loadq_fn *fn, void *arg)
{
    worker_loadq_t *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->db = db;
    q->dbq = dbq;
    q->fn = fn;
    q->arg = arg;
    return q;
}

void worker_loadq_add(worker_loadq_t *q, worker_loadq_item_t *item)
{
    item->next = NULL;
    if (q->tail) q->tail->next = item;
    else q->head = item;
    q->tail = item;
}

void worker_loadq_stop(worker_loadq_t *q)
{
    if (!q) return;
    q->stopped = true;
    q->head = q->tail = NULL;
}

void worker_loadq_destroy(worker_loadq_t **self_p)
{
    if (!self_p || !*self_p) return;
    free(*self_p);
    *self_p = NULL;
}
