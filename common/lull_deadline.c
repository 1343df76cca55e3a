// One list of open connections with their deadline (monotonic ms, 0 = none), under one mutex; the reaper thread
// wakes a few times per shortest deadline and shuts down the sockets past theirs.
#include "lull_deadline.h"
#include "lull_clock.h"
#include "lull_log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

typedef enum { S_HEAD = 0, S_BODY } s_phase_t;

typedef struct s_conn {
    int fd;                   // the connection's socket (libmicrohttpd's; valid until the closed notification)
    int64_t due_ms;           // monotonic deadline, milliseconds; 0 = none
    s_phase_t phase;
    struct s_conn *prev, *next;
} s_conn_t;

struct lull_deadline {
    int64_t head_ms, body_ms;
    int64_t tick_ms;          // reaper period, milliseconds
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool started, stop;
    s_conn_t *head;           // open connections
};

static void s_reap(lull_deadline_t *self)
{
    int64_t now = lull_clock_mono_ms();
    for (s_conn_t *c = self->head; c; c = c->next) {
        if (!c->due_ms || c->due_ms > now) continue;
        c->due_ms = 0;
        shutdown(c->fd, SHUT_RDWR);  // libmicrohttpd reads the end of the stream and closes the connection
        LOG_INFO("http.deadline", "the client did not send its request in time: connection closed", "phase",
                 LS(c->phase == S_HEAD ? "head" : "body"), "limit_ms",
                 LI(c->phase == S_HEAD ? self->head_ms : self->body_ms));
    }
}

static void *s_run(void *arg)
{
    lull_deadline_t *self = arg;
    pthread_mutex_lock(&self->lock);
    while (!self->stop) {
        s_reap(self);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = (int64_t)ts.tv_nsec + self->tick_ms * 1000000;
        ts.tv_sec += (time_t)(ns / 1000000000);
        ts.tv_nsec = (long)(ns % 1000000000);
        pthread_cond_timedwait(&self->wake, &self->lock, &ts);
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

lull_deadline_t *lull_deadline_new(int64_t head_ms, int64_t body_ms)
{
    lull_deadline_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->head_ms = head_ms;
    self->body_ms = body_ms;
    int64_t shortest = head_ms < body_ms ? head_ms : body_ms;
    self->tick_ms = shortest / 10 < 10 ? 10 : shortest / 10 > 250 ? 250 : shortest / 10;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&self->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&self->lock, NULL);
    if (pthread_create(&self->thread, NULL, s_run, self) != 0) {
        lull_deadline_destroy(&self);
        return NULL;
    }
    self->started = true;
    return self;
}

void lull_deadline_destroy(lull_deadline_t **self_p)
{
    if (!self_p || !*self_p) return;
    lull_deadline_t *self = *self_p;
    if (self->started) {
        pthread_mutex_lock(&self->lock);
        self->stop = true;
        pthread_cond_signal(&self->wake);
        pthread_mutex_unlock(&self->lock);
        pthread_join(self->thread, NULL);
    }
    while (self->head) {  // connections the server did not report closed (it was not started)
        s_conn_t *c = self->head;
        self->head = c->next;
        free(c);
    }
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

void lull_deadline_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                             enum MHD_ConnectionNotificationCode toe)
{
    lull_deadline_t *self = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        s_conn_t *c = info ? calloc(1, sizeof *c) : NULL;
        if (!c) return;  // out of memory: this connection has the idle timeout only
        c->fd = info->connect_fd;
        c->phase = S_HEAD;
        c->due_ms = self->head_ms > 0 ? lull_clock_mono_ms() + self->head_ms : 0;
        pthread_mutex_lock(&self->lock);
        c->next = self->head;
        if (self->head) self->head->prev = c;
        self->head = c;
        pthread_mutex_unlock(&self->lock);
        *socket_context = c;
        return;
    }
    s_conn_t *c = *socket_context;
    if (!c) return;
    pthread_mutex_lock(&self->lock);
    if (c->prev) c->prev->next = c->next;
    else self->head = c->next;
    if (c->next) c->next->prev = c->prev;
    pthread_mutex_unlock(&self->lock);
    free(c);
    *socket_context = NULL;
}

static void s_set(lull_deadline_t *self, struct MHD_Connection *conn, s_phase_t phase, int64_t in_ms)
{
    if (!self) return;
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    s_conn_t *c = info ? info->socket_context : NULL;
    if (!c) return;
    pthread_mutex_lock(&self->lock);
    c->phase = phase;
    c->due_ms = in_ms > 0 ? lull_clock_mono_ms() + in_ms : 0;
    pthread_mutex_unlock(&self->lock);
}

void lull_deadline_head_done(lull_deadline_t *self, struct MHD_Connection *conn)
{
    if (self) s_set(self, conn, S_BODY, self->body_ms);
}

void lull_deadline_body_done(lull_deadline_t *self, struct MHD_Connection *conn) { s_set(self, conn, S_BODY, 0); }

void lull_deadline_request_done(lull_deadline_t *self, struct MHD_Connection *conn)
{
    if (self) s_set(self, conn, S_HEAD, self->head_ms);
}
