// The load queue (see worker_loadq.h). A task copies the ids of its items: the thread never reads a job.
#include "worker_loadq.h"
#include "lull_log.h"
#include "lull_tenant_limits.h"
#include "worker_load.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#define SLICE_MAX_COLS 64  // columns of a set statement's row at most (the load's row has 34 and its id)

// A result of its own for one job: the rows rows[0..nrows) of a set statement's result src, without its first
// column (the key). The caller PQclear()s it; NULL when out of memory or src has too many columns.
static PGresult *s_slice(const PGresult *src, const int *rows, int nrows)
{
    int nf = PQnfields(src) - 1;
    if (nf < 1 || nf > SLICE_MAX_COLS) return NULL;
    PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    if (!r) return NULL;
    PGresAttDesc att[SLICE_MAX_COLS];
    for (int c = 0; c < nf; c++)
        att[c] = (PGresAttDesc){.name = PQfname(src, c + 1), .tableid = PQftable(src, c + 1),
                                .columnid = PQftablecol(src, c + 1), .format = PQfformat(src, c + 1),
                                .typid = PQftype(src, c + 1), .typlen = PQfsize(src, c + 1),
                                .atttypmod = PQfmod(src, c + 1)};
    bool ok = PQsetResultAttrs(r, nf, att) != 0;
    for (int i = 0; ok && i < nrows; i++)
        for (int c = 0; ok && c < nf; c++)
            ok = PQgetisnull(src, rows[i], c + 1)
                     ? PQsetvalue(r, i, c, NULL, -1) != 0
                     : PQsetvalue(r, i, c, PQgetvalue(src, rows[i], c + 1), PQgetlength(src, rows[i], c + 1)) != 0;
    if (!ok) PQclear(r);
    return ok ? r : NULL;
}

// Writes the PostgreSQL array literal of column col (0 conversation ids, 1 uptos) of ids[0..m) into buf (cap
// bytes: m * 24 + 3 holds any m numbers of at most 23 characters, a comma each, the braces and the NUL).
static void s_array(char *buf, size_t cap, char (*ids)[2][24], int m, int col)
{
    size_t l = 0;
    buf[l++] = '{';
    for (int i = 0; i < m; i++) {
        size_t n = strnlen(ids[i][col], sizeof ids[i][col] - 1);
        if (l + n + 3 > cap) break;  // never with the cap above
        if (i) buf[l++] = ',';
        memcpy(buf + l, ids[i][col], n);
        l += n;
    }
    buf[l++] = '}';
    buf[l] = '\0';
}

// The rows of the job at position ord (1-based) in r, whose first column is the job's position and whose rows
// are ordered by it: *row is the first row not yet taken, and moves past the job's rows. At most max rows go
// to pick; their number is returned.
static int s_take(const PGresult *r, int *row, int64_t ord, int *pick, int max)
{
    int n = 0, nr = r ? PQntuples(r) : 0;
    for (; *row < nr; (*row)++) {
        bool ok = false;
        int64_t o = lull_db_int(r, *row, 0, &ok);
        if (ok && o > ord) break;
        if (ok && o == ord && n < max) pick[n++] = *row;
    }
    return n;
}

// Splits the two set statements' results of m jobs (both keyed by the job's position i + 1 in their first
// column and ordered by it: one merge) into two results per job, res[2i] and res[2i + 1]; a job whose
// statement failed gets NULL there (a load error, as for a failed statement of its own).
static void s_split(PGresult *rows, PGresult *hist, int m, PGresult **res)
{
    int rrow = 0, hrow = 0;
    int pick[LULL_TENANT_HISTORY_LEN_MAX + 1];
    for (int i = 0; i < m; i++) {
        res[2 * i] = res[2 * i + 1] = NULL;
        if (rows) res[2 * i] = s_slice(rows, pick, s_take(rows, &rrow, i + 1, pick, 1));
        if (hist) {
            int n = s_take(hist, &hrow, i + 1, pick, (int)(sizeof pick / sizeof pick[0]));
            res[2 * i + 1] = s_slice(hist, pick, n);
        }
    }
}

// Runs the loads of n items (ids) on db, LOAD_BATCH items per pipeline of two set statements (one executor
// start-up for the rows of them all, one for their histories); res gets 2n results, two per item.
static void s_run(lull_db_t *db, int n, char (*ids)[2][24], PGresult **res)
{
    for (int start = 0; start < n; start += LOAD_BATCH) {
        int m = n - start < LOAD_BATCH ? n - start : LOAD_BATCH;
        size_t cap = (size_t)m * 24 + 3;
        char *arr[2] = {malloc(cap), malloc(cap)};
        PGresult *set[2] = {NULL, NULL};
        if (arr[0] && arr[1]) {
            s_array(arr[0], cap, ids + start, m, 0);
            s_array(arr[1], cap, ids + start, m, 1);
            const char *p[2] = {arr[0], arr[1]};
            const lull_db_stmt_t *stmts[2] = {&WORKER_LOAD_ROWS, &WORKER_LOAD_HISTORIES};
            const char *const *params[2] = {p, p};
            if (lull_db_batch(db, stmts, params, 2, false, set) != 0)  // each failed load: its job's error
                LOG_DEBUG("job.load_failed", "a load batch failed", "jobs", LI(m), "error", LS(lull_db_error(db)));
        }
        free(arr[0]);
        free(arr[1]);
        s_split(set[0], set[1], m, res + 2 * start);
        PQclear(set[0]);
        PQclear(set[1]);
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
