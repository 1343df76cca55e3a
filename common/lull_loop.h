// The event loop of a process thread: epoll over ZeroMQ sockets (their ZMQ_FD) and plain file descriptors,
// with timers; wakes at once on signals (stop, SIGHUP → log reopen).
#ifndef LULL_LOOP_H
#define LULL_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct lull_loop lull_loop_t;

#define LULL_LOOP_IN 1
#define LULL_LOOP_OUT 2
#define LULL_LOOP_ERR 4

// Called when a socket or fd is ready; fd is the descriptor (-1 for a ZeroMQ socket), events a mask of
// LULL_LOOP_*.
typedef void(lull_loop_io_fn)(lull_loop_t *loop, int fd, int events, void *arg);
// Called when a timer fires.
typedef void(lull_loop_timer_fn)(lull_loop_t *loop, int timer_id, void *arg);
// Returns milliseconds until the caller's own next deadline (0 = now, -1 = none); lets a module with its
// own timer structure (the scheduler's windows) bound the poll timeout.
typedef int64_t(lull_loop_deadline_fn)(void *arg);

// Creates a loop; NULL on failure.
lull_loop_t *lull_loop_new(void);
// Destroys the loop (not the sockets/fds it watched); NULL-safe, nulls the pointer.
void lull_loop_destroy(lull_loop_t **self_p);
// Watches a libzmq socket (raw void*, e.g. zsock_resolve(zsock)) for events. 0/-1.
int lull_loop_add_socket(lull_loop_t *self, void *socket, int events, lull_loop_io_fn *fn, void *arg);
// Stops watching a socket. 0/-1 (not found).
int lull_loop_remove_socket(lull_loop_t *self, void *socket);
// Watches a file descriptor. 0/-1 (already watched: use lull_loop_mod_fd).
int lull_loop_add_fd(lull_loop_t *self, int fd, int events, lull_loop_io_fn *fn, void *arg);
// Changes the events of a watched fd. 0/-1.
int lull_loop_mod_fd(lull_loop_t *self, int fd, int events);
// Stops watching an fd. 0/-1.
int lull_loop_remove_fd(lull_loop_t *self, int fd);
// Stops reporting a watched fd's events but leaves it registered with the kernel, for a descriptor likely to
// be watched again soon (an idle keep-alive connection: adding it again then costs one system call instead
// of two). The fd may be closed while parked. 0/-1 (not watched).
int lull_loop_park_fd(lull_loop_t *self, int fd);
// Adds a timer firing after delay_ms, then every interval_ms when interval_ms > 0. Returns its id (>0) or -1.
int lull_loop_add_timer(lull_loop_t *self, int64_t delay_ms, int64_t interval_ms, lull_loop_timer_fn *fn, void *arg);
// Cancels a timer (safe from inside its callback; unknown ids are ignored).
void lull_loop_cancel_timer(lull_loop_t *self, int timer_id);
// Adds a deadline provider consulted before each poll (at most 4). 0/-1.
int lull_loop_add_deadline(lull_loop_t *self, lull_loop_deadline_fn *fn, void *arg);
// Polls once for at most max_wait_ms (bounded by timers and deadlines), dispatches ready handlers and due
// timers. Returns the number of handlers run, or -1 when interrupted by a stop request.
int lull_loop_run_once(lull_loop_t *self, int64_t max_wait_ms);
// While on, lull_loop_run_once runs its pass even after a stop request (a process finishing its work in flight
// after SIGTERM, for a bounded time of its own); lull_loop_run still returns on a stop request.
void lull_loop_set_draining(lull_loop_t *self, bool on);
// Runs until lull_loop_stop() or a stop signal (SIGTERM/SIGINT). Returns 0.
int lull_loop_run(lull_loop_t *self);
// Makes lull_loop_run return after the current iteration.
void lull_loop_stop(lull_loop_t *self);
// True once the loop was asked to stop.
bool lull_loop_stopping(const lull_loop_t *self);

#endif
