// zmq_poll-based loop: items (ZeroMQ sockets and fds) in a dense array rebuilt when it changes (an fd's item
// found through a table indexed by the fd, not a scan: a busy worker watches thousands of connections), a small
// timer table scanned linearly (processes have a handful of timers; bulk timers live in their own modules),
// and deadline providers for those modules.
#include "lull_loop.h"
#include "lull_clock.h"
#include "lull_log.h"
#include "lull_signal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define MAX_TIMERS 64
#define MAX_DEADLINES 4

typedef struct {
    void *socket;  // NULL for fds
    int fd;
    int events;
    lull_loop_io_fn *fn;
    void *arg;
    bool removed;
} s_item_t;

typedef struct {
    int id;  // 0 = free slot
    int64_t due_ms;
    int64_t interval_ms;
    lull_loop_timer_fn *fn;
    void *arg;
} s_timer_t;

struct lull_loop {
    s_item_t *items;
    size_t nitems, cap;
    int *fdmap;            // fdmap[fd] = 1 + the index in items of fd's live item, 0 = none
    size_t fdmap_cap;      // entries of fdmap
    zmq_pollitem_t *poll;  // parallel to items (+1 for the signal fd at the end)
    size_t poll_cap;
    size_t npoll;          // entries of poll built (items, then the signal fd when there is one)
    int poll_sigfd;        // the signal fd at the end of poll (-1: none)
    bool dirty;            // items added or removed since poll was built: compact and build again
    s_timer_t timers[MAX_TIMERS];
    int next_timer_id;
    struct {
        lull_loop_deadline_fn *fn;
        void *arg;
    } deadlines[MAX_DEADLINES];
    int ndeadlines;
    bool stop;
    bool draining;  // run passes although a stop was requested (lull_loop_set_draining)
    bool dispatching;
};

lull_loop_t *lull_loop_new(void)
{
    lull_loop_t *self = calloc(1, sizeof *self);
    return self;
}

void lull_loop_destroy(lull_loop_t **self_p)
{
    if (!self_p || !*self_p) return;
    free((*self_p)->items);
    free((*self_p)->fdmap);
    free((*self_p)->poll);
    free(*self_p);
    *self_p = NULL;
}

static int s_short_events(int events)
{
    return (events & LULL_LOOP_IN ? ZMQ_POLLIN : 0) | (events & LULL_LOOP_OUT ? ZMQ_POLLOUT : 0);
}

static s_item_t *s_find(lull_loop_t *self, void *socket, int fd)
{
    if (!socket) {
        size_t k = fd >= 0 && (size_t)fd < self->fdmap_cap ? (size_t)self->fdmap[fd] : 0;
        return k ? &self->items[k - 1] : NULL;
    }
    for (size_t i = 0; i < self->nitems; i++) {
        s_item_t *it = &self->items[i];
        if (!it->removed && it->socket == socket) return it;
    }
    return NULL;
}

static int s_add(lull_loop_t *self, void *socket, int fd, int events, lull_loop_io_fn *fn, void *arg)
{
    if (s_find(self, socket, fd)) return -1;
    if (!socket && (size_t)fd >= self->fdmap_cap) {
        size_t cap = self->fdmap_cap ? self->fdmap_cap : 64;
        while (cap <= (size_t)fd) cap *= 2;
        int *map = realloc(self->fdmap, cap * sizeof *map);
        if (!map) return -1;
        memset(map + self->fdmap_cap, 0, (cap - self->fdmap_cap) * sizeof *map);
        self->fdmap = map;
        self->fdmap_cap = cap;
    }
    if (self->nitems == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        s_item_t *items = realloc(self->items, cap * sizeof *items);
        if (!items) return -1;
        self->items = items;
        self->cap = cap;
    }
    self->items[self->nitems++] = (s_item_t){socket, fd, events, fn, arg, false};
    self->dirty = true;
    if (!socket) self->fdmap[fd] = (int)self->nitems;
    return 0;
}

int lull_loop_add_socket(lull_loop_t *self, void *socket, int events, lull_loop_io_fn *fn, void *arg)
{
    return socket ? s_add(self, socket, -1, events, fn, arg) : -1;
}

int lull_loop_add_fd(lull_loop_t *self, int fd, int events, lull_loop_io_fn *fn, void *arg)
{
    return fd >= 0 ? s_add(self, NULL, fd, events, fn, arg) : -1;
}

int lull_loop_remove_socket(lull_loop_t *self, void *socket)
{
    s_item_t *it = socket ? s_find(self, socket, -1) : NULL;
    if (!it) return -1;
    it->removed = true;
    self->dirty = true;
    return 0;
}

int lull_loop_remove_fd(lull_loop_t *self, int fd)
{
    s_item_t *it = s_find(self, NULL, fd);
    if (!it) return -1;
    it->removed = true;
    self->fdmap[fd] = 0;
    self->dirty = true;
    return 0;
}

int lull_loop_mod_fd(lull_loop_t *self, int fd, int events)
{
    s_item_t *it = s_find(self, NULL, fd);
    if (!it) return -1;
    it->events = events;
    // Without an add or remove since poll was built, items and poll are parallel: change the entry in place.
    if (!self->dirty) self->poll[it - self->items].events = (short)s_short_events(events);
    return 0;
}

int lull_loop_add_timer(lull_loop_t *self, int64_t delay_ms, int64_t interval_ms, lull_loop_timer_fn *fn, void *arg)
{
    for (int i = 0; i < MAX_TIMERS; i++) {
        if (self->timers[i].id == 0) {
            if (++self->next_timer_id <= 0) self->next_timer_id = 1;
            self->timers[i] = (s_timer_t){self->next_timer_id, lull_clock_mono_ms() + (delay_ms > 0 ? delay_ms : 0),
                                          interval_ms, fn, arg};
            return self->next_timer_id;
        }
    }
    LOG_ERROR("loop.timers_full", "no free timer slot");
    return -1;
}

void lull_loop_cancel_timer(lull_loop_t *self, int timer_id)
{
    if (timer_id <= 0) return;
    for (int i = 0; i < MAX_TIMERS; i++)
        if (self->timers[i].id == timer_id) self->timers[i].id = 0;
}

int lull_loop_add_deadline(lull_loop_t *self, lull_loop_deadline_fn *fn, void *arg)
{
    if (self->ndeadlines == MAX_DEADLINES) return -1;
    self->deadlines[self->ndeadlines].fn = fn;
    self->deadlines[self->ndeadlines].arg = arg;
    self->ndeadlines++;
    return 0;
}

static void s_compact(lull_loop_t *self)
{
    size_t j = 0;
    for (size_t i = 0; i < self->nitems; i++) {
        if (self->items[i].removed) continue;
        self->items[j] = self->items[i];
        if (!self->items[j].socket) self->fdmap[self->items[j].fd] = (int)(j + 1);
        j++;
    }
    self->nitems = j;
}

static int s_fire_timers(lull_loop_t *self)
{
    int fired = 0;
    int64_t now = lull_clock_mono_ms();
    for (int i = 0; i < MAX_TIMERS; i++) {
        s_timer_t *t = &self->timers[i];
        if (t->id == 0 || t->due_ms > now) continue;
        int id = t->id;
        lull_loop_timer_fn *fn = t->fn;
        void *arg = t->arg;
        if (t->interval_ms > 0) {
            t->due_ms += t->interval_ms;
            if (t->due_ms <= now) t->due_ms = now + t->interval_ms;  // do not spin to catch up
        } else {
            t->id = 0;
        }
        fn(self, id, arg);
        fired++;
    }
    return fired;
}

int lull_loop_run_once(lull_loop_t *self, int64_t max_wait_ms)
{
    // The poll array is built again only after items were added or removed (a busy worker's pass would
    // otherwise copy thousands of entries twice); a changed watch is written in place (lull_loop_mod_fd).
    int sigfd = lull_signal_fd();
    if (self->dirty || sigfd != self->poll_sigfd || !self->poll) {
        s_compact(self);
        if (self->poll_cap < self->nitems + 1) {
            size_t cap = self->nitems + 16;
            zmq_pollitem_t *p = realloc(self->poll, cap * sizeof *p);
            if (!p) return -1;
            self->poll = p;
            self->poll_cap = cap;
        }
        for (size_t i = 0; i < self->nitems; i++) {
            s_item_t *it = &self->items[i];
            self->poll[i] = (zmq_pollitem_t){it->socket, it->socket ? 0 : it->fd, (short)s_short_events(it->events), 0};
        }
        self->npoll = self->nitems;
        if (sigfd >= 0) self->poll[self->npoll++] = (zmq_pollitem_t){NULL, sigfd, ZMQ_POLLIN, 0};
        self->poll_sigfd = sigfd;
        self->dirty = false;
    }
    size_t n = self->nitems, npoll = self->npoll;
    int64_t now = lull_clock_mono_ms();
    int64_t wait = max_wait_ms;
    for (int i = 0; i < MAX_TIMERS; i++) {
        if (self->timers[i].id == 0) continue;
        int64_t d = self->timers[i].due_ms - now;
        if (d < 0) d = 0;
        if (wait < 0 || d < wait) wait = d;
    }
    for (int i = 0; i < self->ndeadlines; i++) {
        int64_t d = self->deadlines[i].fn(self->deadlines[i].arg);
        if (d >= 0 && (wait < 0 || d < wait)) wait = d;
    }
    if (!self->draining && (lull_signal_stop_requested() || self->stop)) return -1;

    int rc = zmq_poll(self->poll, (int)npoll, (long)wait);
    if (rc < 0 && errno != EINTR) {
        LOG_ERROR("loop.poll_failed", zmq_strerror(errno));
        return -1;
    }
    if (sigfd >= 0 && rc > 0 && (self->poll[npoll - 1].revents & ZMQ_POLLIN)) {
        lull_signal_drain();
        if (lull_signal_take_hup()) {
            lull_log_reopen();
            LOG_INFO("log.reopened", "log reopened after SIGHUP");
        }
    }
    if (lull_signal_stop_requested()) self->stop = true;
    int ran = 0;
    if (rc > 0) {
        for (size_t i = 0; i < n; i++) {
            short re = self->poll[i].revents;
            if (!re) continue;
            s_item_t it = self->items[i];  // copy: handlers may add items (realloc)
            if (self->items[i].removed) continue;
            int ev = (re & ZMQ_POLLIN ? LULL_LOOP_IN : 0) | (re & ZMQ_POLLOUT ? LULL_LOOP_OUT : 0) |
                     (re & ZMQ_POLLERR ? LULL_LOOP_ERR : 0);
            // An error or hang-up is also reported as the events the fd watches for, as poll(2) callers expect:
            // libcurl then reads or writes and meets the error (or the peer's last bytes) itself.
            if (re & ZMQ_POLLERR) {
                short want = self->poll[i].events;
                ev |= (want & ZMQ_POLLIN ? LULL_LOOP_IN : 0) | (want & ZMQ_POLLOUT ? LULL_LOOP_OUT : 0);
            }
            it.fn(self, it.socket ? -1 : it.fd, ev, it.arg);
            ran++;
        }
    }
    ran += s_fire_timers(self);
    return ran;
}

void lull_loop_set_draining(lull_loop_t *self, bool on) { self->draining = on; }

int lull_loop_run(lull_loop_t *self)
{
    while (!self->stop && !lull_signal_stop_requested()) {
        if (lull_loop_run_once(self, 1000) < 0 && (self->stop || lull_signal_stop_requested())) break;
    }
    return 0;
}

void lull_loop_stop(lull_loop_t *self) { self->stop = true; }

bool lull_loop_stopping(const lull_loop_t *self) { return self->stop || lull_signal_stop_requested(); }
