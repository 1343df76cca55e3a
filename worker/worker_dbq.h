// The worker's database thread: tasks (a load batch, a commit batch, the price list) run in order on a thread
// with its own lull_db connection (same URL, same schema check, reconnection and failover as the process
// connection), so the loop goes on with LLM I/O while PostgreSQL works. A task's completion runs on the loop
// thread, woken through an eventfd that lull_loop watches.
//
// Ownership: a task and everything it points to belong to the thread from worker_dbq_submit until its done
// callback starts (on the loop thread); the loop must not touch them meanwhile. The queue's lock is never held
// across a PostgreSQL call.
#ifndef WORKER_DBQ_H
#define WORKER_DBQ_H

#include "lull_db.h"
#include "lull_loop.h"

// The session settings of the worker's connections (lull_db_set_session_sql). Its statements take arrays and
// JSON of a batch's jobs as parameters, and reach every row by key, so one plan serves any batch; with the
// default plan_cache_mode PostgreSQL keeps choosing a custom plan for each call (it prices the one for the
// batch's real array length below the generic one), so the load and the histories were planned at every call:
// 0.7–0.95 ms of planning per call at 160 conversations/s in the pipeline benchmark, more than running them.
#define WORKER_DB_SESSION_SQL "SET plan_cache_mode = force_generic_plan"

typedef struct worker_dbq worker_dbq_t;
typedef struct worker_dbq_task worker_dbq_task_t;

// Embedded in the caller's task (plain data: the caller allocates and frees it).
struct worker_dbq_task {
    void (*run)(worker_dbq_task_t *task, lull_db_t *db);  // on the database thread
    void (*done)(worker_dbq_task_t *task);                 // then on the loop thread (may free the task)
    worker_dbq_task_t *next;                               // private: the queue
};

// Starts the thread with its own handle for url (a connection is tried once now, then lazily with backoff).
// NULL on failure (logged).
worker_dbq_t *worker_dbq_new(lull_loop_t *loop, const char *url);
// Hands a task to the thread (never fails; task->run and task->done must be set).
void worker_dbq_submit(worker_dbq_t *self, worker_dbq_task_t *task);
// Runs the completions of the tasks that have run (what the eventfd callback does); for tests and drains.
void worker_dbq_poll(worker_dbq_t *self);
// Blocks until every task submitted (including those submitted by completions meanwhile) has run and
// completed; completions run on the calling thread. For shutdown.
void worker_dbq_drain(worker_dbq_t *self);
// Tasks submitted and not completed.
int worker_dbq_pending(const worker_dbq_t *self);
// Drains, stops and joins the thread, closes its connection, frees; NULL-safe, nulls the pointer.
void worker_dbq_destroy(worker_dbq_t **self_p);

#endif
