// The sender's database thread (LULL_SENDER_DB_THREAD; the same as the worker's worker_dbq, which the sender may
// not include across tiers): tasks (the pump's statement batch) run in order on a thread with its own lull_db
// connection (same URL, same schema check, reconnection and failover as the process
// connection), so the loop goes on with HTTP deliveries while PostgreSQL works. A task's completion runs on the loop
// thread, woken through an eventfd that lull_loop watches.
//
// Ownership: a task and everything it points to belong to the thread from sender_dbq_submit until its done
// callback starts (on the loop thread); the loop must not touch them meanwhile. The queue's lock is never held
// across a PostgreSQL call.
#ifndef SENDER_DBQ_H
#define SENDER_DBQ_H

#include "lull_db.h"
#include "lull_loop.h"

typedef struct sender_dbq sender_dbq_t;
typedef struct sender_dbq_task sender_dbq_task_t;

// Embedded in the caller's task (plain data: the caller allocates and frees it).
struct sender_dbq_task {
    void (*run)(sender_dbq_task_t *task, lull_db_t *db);  // on the database thread
    void (*done)(sender_dbq_task_t *task);                 // then on the loop thread (may free the task)
    sender_dbq_task_t *next;                               // private: the queue
};

// Starts the thread with its own handle for url (a connection is tried once now, then lazily with backoff).
// NULL on failure (logged).
sender_dbq_t *sender_dbq_new(lull_loop_t *loop, const char *url);
// Hands a task to the thread (never fails; task->run and task->done must be set).
void sender_dbq_submit(sender_dbq_t *self, sender_dbq_task_t *task);
// Runs the completions of the tasks that have run (what the eventfd callback does); for tests and drains.
void sender_dbq_poll(sender_dbq_t *self);
// Blocks until every task submitted (including those submitted by completions meanwhile) has run and
// completed; completions run on the calling thread. For shutdown.
void sender_dbq_drain(sender_dbq_t *self);
// Tasks submitted and not completed.
int sender_dbq_pending(const sender_dbq_t *self);
// Drains, stops and joins the thread, closes its connection, frees; NULL-safe, nulls the pointer.
void sender_dbq_destroy(sender_dbq_t **self_p);

#endif
