// epoll-based loop. A pass costs what is ready, not what is watched: plain fds (libcurl's sockets, libpq's,
// eventfds, the signal pipe) live in an epoll set and in a table indexed by the descriptor; the few ZeroMQ
// sockets are watched through their ZMQ_FD in the same set and asked for ZMQ_EVENTS before each wait and
// after it (a ZMQ_FD only says that the socket's state may have changed, as zmq_poll itself uses it). A
// parked fd (lull_loop_park_fd: an idle keep-alive connection) stays registered with the kernel until it is
// watched again, reports an event nobody wants, or is closed, so a connection reused for the next request
// costs one epoll_ctl instead of a DEL and an ADD. A small timer table scanned linearly (processes have a
// handful of timers; bulk timers live in their own modules), and deadline providers for those modules.
#include "lull_loop.h"
#include "lull_clock.h"
#include "lull_log.h"
#include "lull_signal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <zmq.h>

#define MAX_TIMERS 64
#define MAX_DEADLINES 4
#define MAX_EVENTS 512           // epoll events taken per pass (the rest stay ready for the next one)
#define MAX_FD (1 << 24)         // highest descriptor the fd table grows to
#define GEN_MASK 0x1fffffffu     // generations use 29 bits: the tags below stay clear
#define TAG_ZMQ (1ULL << 62)     // epoll data: a ZeroMQ socket's ZMQ_FD
#define TAG_SIGNAL (1ULL << 61)  // epoll data: the signal pipe

// A plain fd's slot. on = watched (its events reported to fn); reg = the events registered with the kernel
// (0 = none; a parked fd has reg and not on). gen tells a stale epoll event (the fd was removed and added
// again, maybe as another socket, within one batch of events) from a current one.
typedef struct {
    lull_loop_io_fn *fn;
    void *arg;
    int events;
    uint32_t reg;
    uint32_t gen;
    bool on;
} s_fd_t;

typedef struct {
    void *socket;
    int zfd;  // its ZMQ_FD
    int events;
    lull_loop_io_fn *fn;
    void *arg;
    bool removed;
} s_sock_t;

typedef struct {
    int id;  // 0 = free slot
    int64_t due_ms;
    int64_t interval_ms;
    lull_loop_timer_fn *fn;
    void *arg;
} s_timer_t;

struct lull_loop {
    int epfd;
    s_fd_t *fds;      // indexed by descriptor
    size_t nfds_cap;  // entries of fds
    s_sock_t *socks;  // ZeroMQ sockets (a handful), compacted between passes
    size_t nsocks, socks_cap;
    int sigfd;  // the signal pipe registered in the epoll set; -1 = none yet
    s_timer_t timers[MAX_TIMERS];
    int next_timer_id;
    struct {
        lull_loop_deadline_fn *fn;
        void *arg;
    } deadlines[MAX_DEADLINES];
    int ndeadlines;
    bool stop;
    bool draining;  // run passes although a stop was requested (lull_loop_set_draining)
};

lull_loop_t *lull_loop_new(void)
{
    lull_loop_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->sigfd = -1;
    self->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (self->epfd < 0) {
        LOG_ERROR("loop.epoll_failed", strerror(errno));
        free(self);
        return NULL;
    }
    return self;
}

void lull_loop_destroy(lull_loop_t **self_p)
{
    if (!self_p || !*self_p) return;
    lull_loop_t *self = *self_p;
    if (self->epfd >= 0) close(self->epfd);
    free(self->fds);
    free(self->socks);
    free(self);
    *self_p = NULL;
}

static uint32_t s_epoll_events(int events)
{
    return (events & LULL_LOOP_IN ? EPOLLIN : 0) | (events & LULL_LOOP_OUT ? EPOLLOUT : 0);
}

static s_sock_t *s_sock_find(lull_loop_t *self, void *socket)
{
    for (size_t i = 0; i < self->nsocks; i++)
        if (!self->socks[i].removed && self->socks[i].socket == socket) return &self->socks[i];
    return NULL;
}

int lull_loop_add_socket(lull_loop_t *self, void *socket, int events, lull_loop_io_fn *fn, void *arg)
{
    if (!socket || s_sock_find(self, socket)) return -1;
    int zfd = -1;
    size_t len = sizeof zfd;
    if (zmq_getsockopt(socket, ZMQ_FD, &zfd, &len) != 0 || zfd < 0) return -1;
    if (self->nsocks == self->socks_cap) {
        size_t cap = self->socks_cap ? self->socks_cap * 2 : 8;
        s_sock_t *s = realloc(self->socks, cap * sizeof *s);
        if (!s) return -1;
        self->socks = s;
        self->socks_cap = cap;
    }
    // The event only wakes the wait: every socket is asked for ZMQ_EVENTS after each wait anyway.
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_ZMQ};
    if (epoll_ctl(self->epfd, EPOLL_CTL_ADD, zfd, &ev) != 0) return -1;
    self->socks[self->nsocks++] = (s_sock_t){socket, zfd, events, fn, arg, false};
    return 0;
}

int lull_loop_remove_socket(lull_loop_t *self, void *socket)
{
    s_sock_t *s = socket ? s_sock_find(self, socket) : NULL;
    if (!s) return -1;
    s->removed = true;  // compacted at the start of the next pass (handlers may be iterating)
    (void)epoll_ctl(self->epfd, EPOLL_CTL_DEL, s->zfd, NULL);
    return 0;
}

static s_fd_t *s_fd_slot(lull_loop_t *self, int fd)
{
    return fd >= 0 && (size_t)fd < self->nfds_cap && self->fds[fd].on ? &self->fds[fd] : NULL;
}

// Registers slot (of fd) for events with the kernel: MOD when it may still be registered (then a closed and
// reused number answers ENOENT and is added), else ADD (EEXIST: a descriptor closed without its removal stays
// in the set until its last copy closes; take it over). 0/-1 with errno.
static int s_register(lull_loop_t *self, int fd, s_fd_t *slot, uint32_t want)
{
    struct epoll_event ev = {.events = want, .data.u64 = (uint64_t)slot->gen << 32 | (uint32_t)fd};
    int op = slot->reg ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(self->epfd, op, fd, &ev) != 0) {
        int other = op == EPOLL_CTL_MOD ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
        if ((op == EPOLL_CTL_MOD ? errno != ENOENT : errno != EEXIST) || epoll_ctl(self->epfd, other, fd, &ev) != 0) {
            slot->reg = 0;
            return -1;
        }
    }
    slot->reg = want;
    return 0;
}

int lull_loop_add_fd(lull_loop_t *self, int fd, int events, lull_loop_io_fn *fn, void *arg)
{
    if (fd < 0 || fd >= MAX_FD || s_fd_slot(self, fd)) return -1;
    if ((size_t)fd >= self->nfds_cap) {
        size_t cap = self->nfds_cap ? self->nfds_cap : 64;
        while (cap <= (size_t)fd) cap *= 2;
        s_fd_t *f = realloc(self->fds, cap * sizeof *f);
        if (!f) return -1;
        memset(f + self->nfds_cap, 0, (cap - self->nfds_cap) * sizeof *f);
        self->fds = f;
        self->nfds_cap = cap;
    }
    s_fd_t *slot = &self->fds[fd];
    slot->gen = (slot->gen + 1) & GEN_MASK;
    // A parked registration is made again even with the same events: the number may be another socket now.
    if (s_register(self, fd, slot, s_epoll_events(events)) != 0) return -1;
    slot->fn = fn;
    slot->arg = arg;
    slot->events = events;
    slot->on = true;
    return 0;
}

int lull_loop_mod_fd(lull_loop_t *self, int fd, int events)
{
    s_fd_t *slot = s_fd_slot(self, fd);
    if (!slot) return -1;
    // Always told to the kernel, even when the events did not change: the descriptor may have been closed
    // without its removal (the set forgot it) and its number reused by a new socket of the same owner
    // (libcurl does that); then the registration is made again (ENOENT → ADD), else that socket would
    // never be reported.
    if (s_register(self, fd, slot, s_epoll_events(events)) != 0) {
        if (errno == EBADF) slot->on = false;  // closed and not reused: forget it
        return -1;
    }
    slot->events = events;
    return 0;
}

int lull_loop_remove_fd(lull_loop_t *self, int fd)
{
    s_fd_t *slot = s_fd_slot(self, fd);
    if (!slot) return -1;
    if (slot->reg) (void)epoll_ctl(self->epfd, EPOLL_CTL_DEL, fd, NULL);  // fails harmlessly when closed already
    slot->reg = 0;
    slot->on = false;
    slot->fn = NULL;
    slot->arg = NULL;
    return 0;
}

int lull_loop_park_fd(lull_loop_t *self, int fd)
{
    s_fd_t *slot = s_fd_slot(self, fd);
    if (!slot) return -1;
    slot->on = false;  // reg stays: dropped by the kernel at close, by us at its first unwanted event
    slot->fn = NULL;
    slot->arg = NULL;
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

// The LULL_LOOP_* events socket s has now among those it is watched for (ZMQ_EVENTS).
static int s_sock_ready(const s_sock_t *s)
{
    int zev = 0;
    size_t len = sizeof zev;
    if (zmq_getsockopt(s->socket, ZMQ_EVENTS, &zev, &len) != 0) return errno == ETERM ? 0 : LULL_LOOP_ERR;
    return (s->events & LULL_LOOP_IN && zev & ZMQ_POLLIN ? LULL_LOOP_IN : 0) |
           (s->events & LULL_LOOP_OUT && zev & ZMQ_POLLOUT ? LULL_LOOP_OUT : 0);
}

static void s_compact_socks(lull_loop_t *self)
{
    size_t j = 0;
    for (size_t i = 0; i < self->nsocks; i++)
        if (!self->socks[i].removed) self->socks[j++] = self->socks[i];
    self->nsocks = j;
}

// The signal pipe joins the set once it exists (signals may be installed after the loop is made).
static void s_watch_signals(lull_loop_t *self)
{
    int sigfd = lull_signal_fd();
    if (sigfd < 0 || sigfd == self->sigfd) return;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_SIGNAL};
    if (epoll_ctl(self->epfd, EPOLL_CTL_ADD, sigfd, &ev) == 0 || errno == EEXIST) self->sigfd = sigfd;
}

static int64_t s_wait_ms(lull_loop_t *self, int64_t max_wait_ms)
{
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
    for (size_t i = 0; wait != 0 && i < self->nsocks; i++)  // a socket with messages already queued
        if (s_sock_ready(&self->socks[i])) wait = 0;
    return wait > 2000000000 ? 2000000000 : wait;
}

// One epoll event of a plain fd: dispatched when current and wanted; a parked fd's event drops its
// registration. Returns 1 when a handler ran.
static int s_dispatch_fd(lull_loop_t *self, uint64_t data, uint32_t re)
{
    int fd = (int)(uint32_t)data;
    if (fd < 0 || (size_t)fd >= self->nfds_cap) return 0;
    s_fd_t *slot = &self->fds[fd];
    if (slot->gen != (uint32_t)(data >> 32)) return 0;  // removed (and maybe reused) in this batch
    if (!slot->on) {
        if (slot->reg) (void)epoll_ctl(self->epfd, EPOLL_CTL_DEL, fd, NULL);  // parked, and nobody wants it
        slot->reg = 0;
        return 0;
    }
    int ev = (re & EPOLLIN ? LULL_LOOP_IN : 0) | (re & EPOLLOUT ? LULL_LOOP_OUT : 0);
    // An error or hang-up is also reported as the events the fd is watched for, as poll() does for a socket:
    // the owner's read or write then meets the error itself (libcurl treats CURL_CSELECT_ERR alone as
    // "select/poll returned error" without reading what the peer sent before it closed).
    if (re & (EPOLLERR | EPOLLHUP)) ev |= LULL_LOOP_ERR | (slot->events & (LULL_LOOP_IN | LULL_LOOP_OUT));
    lull_loop_io_fn *fn = slot->fn;  // copied: handlers may add fds (the table moves)
    if (!fn) return 0;
    fn(self, fd, ev, slot->arg);
    return 1;
}

int lull_loop_run_once(lull_loop_t *self, int64_t max_wait_ms)
{
    s_compact_socks(self);
    s_watch_signals(self);
    int64_t wait = s_wait_ms(self, max_wait_ms);
    if (!self->draining && (lull_signal_stop_requested() || self->stop)) return -1;

    struct epoll_event evs[MAX_EVENTS];
    int rc = epoll_wait(self->epfd, evs, MAX_EVENTS, (int)wait);
    if (rc < 0 && errno != EINTR) {
        LOG_ERROR("loop.poll_failed", strerror(errno));
        return -1;
    }
    int ran = 0;
    for (int i = 0; i < rc; i++) {
        uint64_t data = evs[i].data.u64;
        if (!(data & (TAG_ZMQ | TAG_SIGNAL))) {
            ran += s_dispatch_fd(self, data, evs[i].events);
        } else if (data & TAG_SIGNAL) {
            lull_signal_drain();
            if (lull_signal_take_hup()) {
                lull_log_reopen();
                LOG_INFO("log.reopened", "log reopened after SIGHUP");
            }
        }  // a ZeroMQ socket's ZMQ_FD: the sockets are asked below
    }
    if (lull_signal_stop_requested()) self->stop = true;
    // Every socket, ready or not by its ZMQ_FD: handlers above may have changed their state, and a ZMQ_FD
    // says nothing about messages that were queued before the wait.
    for (size_t i = 0; i < self->nsocks; i++) {
        if (self->socks[i].removed) continue;
        int ev = s_sock_ready(&self->socks[i]);
        if (!ev) continue;
        s_sock_t s = self->socks[i];  // copied: handlers may add sockets (the array moves)
        s.fn(self, -1, ev, s.arg);
        ran++;
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
