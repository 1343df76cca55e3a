// Server-Sent Events output shared by lull-ingress (the web chat's stream) and lull-admin (the inbox's stream):
// one stream's queued bytes under a cap, the libmicrohttpd content reader that drains them (suspending the
// connection while nothing is queued, resumed when something is) and the SSE framing. Not thread-safe: the
// caller holds its own lock around every call, the reader's included.
#ifndef LULL_SSE_H
#define LULL_SSE_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

// One stream's output: plain data, embedded in the caller's stream object. Zeroed, then lull_sse_init.
typedef struct {
    struct MHD_Connection *conn;  // the stream's connection (borrowed for the response's life)
    size_t max;                   // bytes queued at most before the stream is closed (its client does not read)
    bool suspended;               // the reader suspended the connection, waiting for data
    bool closed;                  // end the response once the queued bytes are read
    char *buf;                    // owned: freed by lull_sse_clear
    size_t len, off, cap;         // bytes queued in buf[off, len), capacity
} lull_sse_t;

typedef enum {
    LULL_SSE_QUEUED,    // the bytes are queued (and the connection woken)
    LULL_SSE_DROPPED,   // the stream was closed already: nothing queued
    LULL_SSE_OVERFLOW,  // over max: the stream is closed now (the client reconnects)
    LULL_SSE_NOMEM,     // out of memory: the stream is closed now
} lull_sse_append_t;

// Prepares s for conn with a cap of max queued bytes.
void lull_sse_init(lull_sse_t *s, struct MHD_Connection *conn, size_t max);
// Queues n bytes of data and wakes the connection; see lull_sse_append_t (the caller logs an overflow).
lull_sse_append_t lull_sse_append(lull_sse_t *s, const char *data, size_t n);
// Ends the stream once what is queued was read.
void lull_sse_close(lull_sse_t *s);
// Resumes the connection when the reader suspended it.
void lull_sse_kick(lull_sse_t *s);
// The content reader's work (MHD_create_response_from_callback): up to max queued bytes into buf, the end of the
// stream once closed and drained, else suspends the connection and returns 0.
ssize_t lull_sse_read(lull_sse_t *s, char *buf, size_t max);
// Frees the queued bytes.
void lull_sse_clear(lull_sse_t *s);
// One SSE event: "id: <id>" when id is not NULL, "event: <event>", the data as one "data:" line per line ("\r"
// dropped), and the blank line. The caller frees it; *n gets its length. NULL when out of memory.
char *lull_sse_frame(const char *id, const char *event, const char *data, size_t *n);

#endif
