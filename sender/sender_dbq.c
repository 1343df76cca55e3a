// The sender's database thread (see sender_dbq.h): a FIFO of submitted tasks, one thread running them on its
// own lull_db handle, and a FIFO of tasks run, handed back to the loop through an eventfd.
#include "sender_dbq.h"
#include "lull_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct sender_dbq {
    lull_loop_t *loop;
    lull_db_t *db;  // the thread's alone once it runs
    int efd;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t cond;                  // the thread: work or stop; a drain: a task has run
    sender_dbq_task_t *qhead, *qtail;     // submitted, not run (lock)
    sender_dbq_task_t *dhead, *dtail;     // run, not completed (lock)
    bool stop;                            // (lock)
    int pending;                          // submitted and not completed (loop thread only)
};

static void s_push(sender_dbq_task_t **head, sender_dbq_task_t **tail, sender_dbq_task_t *t)
{
    t->next = NULL;
    if (*tail) (*tail)->next = t;
    else *head = t;
    *tail = t;
}

static void *s_thread(void *arg)
{
    sender_dbq_t *self = arg;
    pthread_mutex_lock(&self->lock);
    for (;;) {
        while (!self->qhead && !self->stop) pthread_cond_wait(&self->cond, &self->lock);
        if (!self->qhead) break;  // stopped with nothing left to run
        sender_dbq_task_t *t = self->qhead;
        self->qhead = t->next;
        if (!self->qhead) self->qtail = NULL;
        pthread_mutex_unlock(&self->lock);
        t->run(t, self->db);  // no lock held across PostgreSQL
        pthread_mutex_lock(&self->lock);
        s_push(&self->dhead, &self->dtail, t);
        pthread_cond_broadcast(&self->cond);
        uint64_t one = 1;
        ssize_t w = write(self->efd, &one, sizeof one);
        (void)w;  // EAGAIN: the counter is full, so the loop is woken anyway
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

void sender_dbq_poll(sender_dbq_t *self)
{
    if (!self) return;
    pthread_mutex_lock(&self->lock);
    sender_dbq_task_t *t = self->dhead;
    self->dhead = self->dtail = NULL;
    pthread_mutex_unlock(&self->lock);
    while (t) {
        sender_dbq_task_t *next = t->next;
        self->pending--;
        t->done(t);  // may free t, may submit more
        t = next;
    }
}

static void s_on_event(lull_loop_t *loop, int fd, int events, void *arg)
{
    (void)loop;
    (void)events;
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof v);
    (void)r;  // EAGAIN: another pass read it; the list below is what counts
    sender_dbq_poll(arg);
}

sender_dbq_t *sender_dbq_new(lull_loop_t *loop, const char *url)
{
    sender_dbq_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->loop = loop;
    self->efd = -1;
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->cond, NULL);
    self->db = lull_db_new(url ? url : "");
    self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!self->db || self->efd < 0 || lull_loop_add_fd(loop, self->efd, LULL_LOOP_IN, s_on_event, self) != 0) {
        LOG_ERROR("db.thread_failed", "cannot set up the database thread", "errno", LI(errno));
        if (self->efd >= 0) close(self->efd);
        self->efd = -1;
        sender_dbq_destroy(&self);
        return NULL;
    }
    int rc = pthread_create(&self->thread, NULL, s_thread, self);
    if (rc != 0) {
        LOG_ERROR("db.thread_failed", "cannot start the database thread", "errno", LI(rc));
        sender_dbq_destroy(&self);
        return NULL;
    }
    self->started = true;
    return self;
}

void sender_dbq_submit(sender_dbq_t *self, sender_dbq_task_t *task)
{
    pthread_mutex_lock(&self->lock);
    s_push(&self->qhead, &self->qtail, task);
    pthread_cond_broadcast(&self->cond);
    pthread_mutex_unlock(&self->lock);
    self->pending++;
}

void sender_dbq_drain(sender_dbq_t *self)
{
    if (!self || !self->started) return;
    while (self->pending > 0) {
        pthread_mutex_lock(&self->lock);
        while (!self->dhead) pthread_cond_wait(&self->cond, &self->lock);
        pthread_mutex_unlock(&self->lock);
        sender_dbq_poll(self);  // completions may submit more: the loop goes on until none is pending
    }
}

int sender_dbq_pending(const sender_dbq_t *self)
{
    return self ? self->pending : 0;
}

void sender_dbq_destroy(sender_dbq_t **self_p)
{
    if (!self_p || !*self_p) return;
    sender_dbq_t *self = *self_p;
    if (self->started) {
        sender_dbq_drain(self);
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
