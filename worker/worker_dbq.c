// The database thread of lull-worker (see worker_dbq.h): a FIFO of batches, one thread with its own
// lull_db connection running each batch as one libpq pipeline, and a completion list handed back to the
// loop through an eventfd.
#include "worker_dbq.h"
#include "lull_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct s_batch {
    worker_dbq_stmt_t *stmts;
    int n;
    bool ok;
    char error[200];
    worker_dbq_done_fn *fn;
    void *arg;
    struct s_batch *next;
} s_batch_t;

struct worker_dbq {
    lull_loop_t *loop;
    lull_db_t *db;  // used by the thread only
    const worker_dbq_prep_t *preps;
    int npreps;
    PGconn *prepared_on;  // the connection the statements are prepared on (thread only)
    int prepared_pid;
    int efd;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t cond;  // signals the thread (work or stop) and drain (a batch done)
    s_batch_t *qhead, *qtail;  // submitted, not run
    s_batch_t *dhead, *dtail;  // run, not reported
    int pending;               // submitted and not reported (loop thread only)
    bool stop;
};

static void s_push(s_batch_t **head, s_batch_t **tail, s_batch_t *b)
{
    b->next = NULL;
    if (*tail) (*tail)->next = b;
    else *head = b;
    *tail = b;
}

static void s_set_error(s_batch_t *b, const char *msg)
{
    if (b->ok || !b->error[0]) snprintf(b->error, sizeof b->error, "%.*s", (int)strcspn(msg, "\n"), msg);
    b->ok = false;
}

// Prepares the statements on conn unless done on this connection already. True when prepared.
static bool s_prepare(worker_dbq_t *self, PGconn *conn)
{
    if (self->prepared_on == conn && self->prepared_pid == PQbackendPID(conn)) return true;
    self->prepared_on = NULL;
    PGresult *r = PQexec(conn, "DEALLOCATE ALL");
    bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    for (int i = 0; ok && i < self->npreps; i++) {
        r = PQprepare(conn, self->preps[i].name, self->preps[i].sql, self->preps[i].nparams, NULL);
        ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) LOG_WARN("db.prepare_failed", "cannot prepare a statement", "name", LS(self->preps[i].name), "error",
                          LS(r ? PQresultErrorMessage(r) : PQerrorMessage(conn)));
        PQclear(r);
    }
    if (ok) {
        self->prepared_on = conn;
        self->prepared_pid = PQbackendPID(conn);
    }
    return ok;
}

// Runs one batch in a pipeline (thread side).
static void s_run(worker_dbq_t *self, s_batch_t *b)
{
    b->ok = true;
    b->error[0] = '\0';
    PGconn *conn = lull_db_connect(self->db) == 0 ? lull_db_conn(self->db) : NULL;
    if (!conn) {
        s_set_error(b, *lull_db_error(self->db) ? lull_db_error(self->db) : "database unavailable");
        return;
    }
    if (!s_prepare(self, conn) || PQenterPipelineMode(conn) != 1) {
        s_set_error(b, PQerrorMessage(conn));
        if (!b->error[0]) snprintf(b->error, sizeof b->error, "cannot prepare the statements");
        (void)lull_db_connect(self->db);  // drops a broken connection
        return;
    }
    int sent = 0;
    for (int i = 0; i < b->n; i++) {
        if (PQsendQueryPrepared(conn, b->stmts[i].name, b->stmts[i].nparams, b->stmts[i].params, NULL, NULL, 0) != 1) {
            s_set_error(b, PQerrorMessage(conn));
            break;
        }
        sent++;
    }
    if (PQpipelineSync(conn) != 1) s_set_error(b, PQerrorMessage(conn));
    bool alive = true;
    for (int i = 0; i < sent; i++) {
        PGresult *r = PQgetResult(conn);
        if (!r) {  // connection trouble: no more results will come
            s_set_error(b, PQerrorMessage(conn));
            alive = false;
            break;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) b->stmts[i].result = r;
        else {
            s_set_error(b, st == PGRES_PIPELINE_ABORTED ? "pipeline aborted" : PQresultErrorMessage(r));
            PQclear(r);
        }
        while ((r = PQgetResult(conn))) PQclear(r);  // the NULL that ends this statement's results
    }
    for (PGresult *r; alive && (r = PQgetResult(conn));) {  // up to the sync result
        ExecStatusType st = PQresultStatus(r);
        PQclear(r);
        if (st == PGRES_PIPELINE_SYNC) break;
        s_set_error(b, "unexpected result in the pipeline");
    }
    if (PQexitPipelineMode(conn) != 1) s_set_error(b, PQerrorMessage(conn));
    if (!b->ok) {
        self->prepared_on = NULL;  // prepare again on the next batch (cheap, and safe after any trouble)
        for (int i = 0; i < b->n; i++) {
            PQclear(b->stmts[i].result);
            b->stmts[i].result = NULL;
        }
    }
    if (PQstatus(conn) != CONNECTION_OK) (void)lull_db_connect(self->db);  // drop now, reconnect later
}

static void *s_thread(void *arg)
{
    worker_dbq_t *self = arg;
    pthread_mutex_lock(&self->lock);
    for (;;) {
        while (!self->qhead && !self->stop) pthread_cond_wait(&self->cond, &self->lock);
        if (!self->qhead) break;  // stop with nothing left to run
        s_batch_t *b = self->qhead;
        self->qhead = b->next;
        if (!self->qhead) self->qtail = NULL;
        pthread_mutex_unlock(&self->lock);
        s_run(self, b);
        pthread_mutex_lock(&self->lock);
        s_push(&self->dhead, &self->dtail, b);
        pthread_cond_broadcast(&self->cond);
        uint64_t one = 1;
        ssize_t w = write(self->efd, &one, sizeof one);
        (void)w;  // a full counter still wakes the loop
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

// Reports the batches that have run (loop thread).
static void s_report(worker_dbq_t *self)
{
    pthread_mutex_lock(&self->lock);
    s_batch_t *b = self->dhead;
    self->dhead = self->dtail = NULL;
    pthread_mutex_unlock(&self->lock);
    while (b) {
        s_batch_t *next = b->next;
        self->pending--;
        b->fn(b->stmts, b->n, b->ok, b->error, b->arg);
        free(b);
        b = next;
    }
}

static void s_on_event(lull_loop_t *loop, int fd, int events, void *arg)
{
    (void)loop;
    (void)events;
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof v);
    (void)r;
    s_report(arg);
}

worker_dbq_t *worker_dbq_new(lull_loop_t *loop, const char *url, const worker_dbq_prep_t *preps, int npreps)
{
    worker_dbq_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->loop = loop;
    self->preps = preps;
    self->npreps = npreps;
    self->efd = -1;
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->cond, NULL);
    self->db = url && *url ? lull_db_new(url) : NULL;
    self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!self->db || self->efd < 0 || lull_loop_add_fd(loop, self->efd, LULL_LOOP_IN, s_on_event, self) != 0) {
        if (self->efd >= 0) close(self->efd);
        self->efd = -1;
        worker_dbq_destroy(&self);
        return NULL;
    }
    if (pthread_create(&self->thread, NULL, s_thread, self) != 0) {
        LOG_ERROR("db.thread_failed", "cannot start the database thread", "errno", LI(errno));
        worker_dbq_destroy(&self);
        return NULL;
    }
    self->started = true;
    return self;
}

void worker_dbq_drain(worker_dbq_t *self)
{
    if (!self) return;
    while (self->pending > 0) {
        pthread_mutex_lock(&self->lock);
        while (!self->dhead) pthread_cond_wait(&self->cond, &self->lock);
        pthread_mutex_unlock(&self->lock);
        s_report(self);  // callbacks may submit more: the loop goes on until nothing is pending
    }
}

void worker_dbq_destroy(worker_dbq_t **self_p)
{
    if (!self_p || !*self_p) return;
    worker_dbq_t *self = *self_p;
    if (self->started) {
        worker_dbq_drain(self);
        pthread_mutex_lock(&self->lock);
        self->stop = true;
        pthread_cond_broadcast(&self->cond);
        pthread_mutex_unlock(&self->lock);
        pthread_join(self->thread, NULL);
    }
    if (self->efd >= 0) {
        lull_loop_remove_fd(self->loop, self->efd);
        close(self->efd);
    }
    lull_db_destroy(&self->db);
    pthread_cond_destroy(&self->cond);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

int worker_dbq_submit(worker_dbq_t *self, worker_dbq_stmt_t *stmts, int n, worker_dbq_done_fn *fn, void *arg)
{
    if (!self || !stmts || n < 1 || n > WORKER_DBQ_MAX_BATCH || !fn) return -1;
    s_batch_t *b = calloc(1, sizeof *b);
    if (!b) return -1;
    for (int i = 0; i < n; i++) stmts[i].result = NULL;
    b->stmts = stmts;
    b->n = n;
    b->fn = fn;
    b->arg = arg;
    pthread_mutex_lock(&self->lock);
    s_push(&self->qhead, &self->qtail, b);
    pthread_cond_broadcast(&self->cond);
    pthread_mutex_unlock(&self->lock);
    self->pending++;
    return 0;
}

int worker_dbq_pending(const worker_dbq_t *self)
{
    return self ? self->pending : 0;
}
