// Deadlines for slow clients of an HTTP server (ingress, lull-admin): a request's head must arrive within a head
// deadline and its body within a body deadline of the head, however the bytes trickle in (libmicrohttpd's own
// timeout is an idle timeout, which every byte resets). A reaper thread shuts down the socket of a connection past
// its deadline; libmicrohttpd then sees the connection end and cleans it up as usual.
#ifndef LULL_DEADLINE_H
#define LULL_DEADLINE_H

#include <microhttpd.h>
#include <stdint.h>

typedef struct lull_deadline lull_deadline_t;

// Starts the reaper for head_ms / body_ms (milliseconds; 0 = no such deadline). NULL on failure.
lull_deadline_t *lull_deadline_new(int64_t head_ms, int64_t body_ms);
// Stops the reaper and frees; NULL-safe, nulls the pointer. Call after the server stopped.
void lull_deadline_destroy(lull_deadline_t **self_p);
// MHD_OPTION_NOTIFY_CONNECTION callback (cls: the lull_deadline_t): a new connection gets the head deadline, a
// closed one is forgotten.
void lull_deadline_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                             enum MHD_ConnectionNotificationCode toe);
// The head of the connection's request arrived: its body deadline starts now.
void lull_deadline_head_done(lull_deadline_t *self, struct MHD_Connection *conn);
// The request was read whole (an answered stream stays open as long as it likes): no deadline for now.
void lull_deadline_body_done(lull_deadline_t *self, struct MHD_Connection *conn);
// The request was answered: the next request on the connection must send its head within the head deadline.
void lull_deadline_request_done(lull_deadline_t *self, struct MHD_Connection *conn);

#endif
