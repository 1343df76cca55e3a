// The scheduler's LISTEN on lull_sched (see the header): the listener's socket on the loop, the debounce timer.
#include "sched_notify.h"

#include "lull_db_listen.h"
#include "lull_log.h"

#include <stdbool.h>
#include <stdlib.h>

struct sched_notify {
    lull_loop_t *loop;
    lull_db_listen_t *listen;
    int fd;                  // the socket watched on the loop, -1 when none
    int timer;               // the pending debounce timer, 0 when none
    int retry;               // the pending reconnect timer, 0 when none
    int64_t debounce_ms;     // milliseconds
    sched_notify_fn *fn;
    void *arg;
    lull_counter_t *c_heard;  // notifications (or reconnects) that armed or joined a pending rebalance
};

static void s_on_timer(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sched_notify_t *self = arg;
    self->timer = 0;  // a one-shot timer: gone after this call
    self->fn(self->arg);
}

static void s_on_fd(lull_loop_t *loop, int fd, int events, void *arg);
static void s_on_retry(lull_loop_t *loop, int timer_id, void *arg);

// One step of the listener: a change arms the timer; the watched socket follows the connection.
static void s_step(sched_notify_t *self)
{
    int step = lull_db_listen_step(self->listen);
    if (step == 1) {
        lull_counter_add(self->c_heard, 1);
        if (self->timer == 0) {
            self->timer = lull_loop_add_timer(self->loop, self->debounce_ms, 0, s_on_timer, self);
            if (self->timer < 0) self->timer = 0;  // the next tick rebalances anyway
        }
    }
    if (step < 0 && self->retry == 0) {  // not listening: try again soon (the connection's backoff applies)
        self->retry = lull_loop_add_timer(self->loop, LULL_DB_LISTEN_RETRY_MS, 0, s_on_retry, self);
        if (self->retry < 0) self->retry = 0;
    }
    int fd = lull_db_listen_fd(self->listen);
    if (fd == self->fd) return;
    if (self->fd >= 0) (void)lull_loop_remove_fd(self->loop, self->fd);
    self->fd = -1;
    if (fd >= 0 && lull_loop_add_fd(self->loop, fd, LULL_LOOP_IN, s_on_fd, self) == 0) self->fd = fd;
}

static void s_on_fd(lull_loop_t *loop, int fd, int events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)events;
    s_step(arg);
}

static void s_on_retry(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sched_notify_t *self = arg;
    self->retry = 0;
    s_step(self);
}

sched_notify_t *sched_notify_new(lull_loop_t *loop, const char *url, int64_t debounce_ms, lull_metrics_t *metrics,
                                 sched_notify_fn *fn, void *arg)
{
    sched_notify_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->loop = loop;
    self->fd = -1;
    self->debounce_ms = debounce_ms > 0 ? debounce_ms : 0;
    self->fn = fn;
    self->arg = arg;
    self->listen = lull_db_listen_new(url, "lull_sched", "scheduler cluster changes (rebalance)");
    if (!self->listen) {
        free(self);
        return NULL;
    }
    if (metrics)
        self->c_heard = lull_metrics_counter(metrics, "lull_sched_notifications_total", NULL,
                                             "NOTIFY lull_sched heard (or LISTEN restarted): each arms or joins one "
                                             "debounced rebalance");
    s_step(self);
    return self;
}

void sched_notify_destroy(sched_notify_t **self_p)
{
    if (!self_p || !*self_p) return;
    sched_notify_t *self = *self_p;
    if (self->fd >= 0) (void)lull_loop_remove_fd(self->loop, self->fd);
    if (self->timer > 0) lull_loop_cancel_timer(self->loop, self->timer);
    if (self->retry > 0) lull_loop_cancel_timer(self->loop, self->retry);
    lull_db_listen_destroy(&self->listen);
    free(self);
    *self_p = NULL;
}
