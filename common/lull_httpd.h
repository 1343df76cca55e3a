// What the libmicrohttpd servers (lull-ingress, lull-admin) share: refusing unsound framing, reading a request
// body under a cap, and queueing an answer.
#ifndef LULL_HTTPD_H
#define LULL_HTTPD_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

// The event mode of every lull libmicrohttpd server (webhooks, console, ops): an internal thread (or a pool) that
// waits with poll(). Not epoll: Debian 12's libmicrohttpd (0.9.75) stopped answering when 128 or more kept-alive
// connections had a request at the same moment: after a full batch of 128 events its epoll loop (MHD_epoll in
// daemon.c, `while (MAX_EVENTS == num_events)`) calls epoll_wait again with the same blocking timeout before it
// serves any of them, so 256 connections at once got no answer until the clients gave up (unchanged upstream in
// 2025). Not select: it refuses every connection whose descriptor is 1024 or more, so a worker holding 2,048 LLM
// connections answered no /health. poll() costs a pass over the connections per wake-up: 62,000–92,000 answers/s
// from 64 to 2,000 connections here.
#define LULL_HTTPD_POLLING (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL)

// A request body being read: data is NUL-terminated once anything (or nothing, see lull_httpd_body_end) was read.
typedef struct {
    char *data;       // owned: free() it
    size_t len, cap;
    bool too_large;   // more than max bytes came: nothing more is kept
} lull_httpd_body_t;

// Appends n bytes of upload data to b, up to max bytes in all (beyond: too_large, the rest dropped). 0, or -1 when
// out of memory.
int lull_httpd_body_add(lull_httpd_body_t *b, const char *data, size_t n, size_t max) __attribute__((warn_unused_result));
// At the end of the upload: makes data "" when nothing came. 0, or -1 when out of memory.
int lull_httpd_body_end(lull_httpd_body_t *b) __attribute__((warn_unused_result));
// Refuses a request whose body length is not said once and one way (libmicrohttpd takes the first of two
// Content-Lengths, prefers chunked to a Content-Length, and waits for a body it cannot delimit when the transfer
// coding is unknown): true with the answer's status (400 bad_framing, 501 unsupported_transfer_encoding), code and
// message set; false when the framing headers are sound. Call on the first (headers-only) call of a request.
bool lull_httpd_framing_refused(struct MHD_Connection *conn, const char *version, unsigned *status, const char **code,
                                const char **why);
// Queues body (owned, freed; NULL: MHD_NO) with status and Content-Type type, Allow when allow is not NULL, and
// Retry-After: 1 on a 503.
enum MHD_Result lull_httpd_send(struct MHD_Connection *conn, unsigned status, const char *type, char *body,
                                const char *allow);

#endif
