// Web chat replies as Server-Sent Events: GET /api/v1/chat/stream/{session}. One thread with its own
// database connection LISTENs on lull_webchat (the sender notifies when it marks a web chat reply sent),
// looks each notified message up and queues it on the SSE connections of that session; MHD connections are
// suspended while they have nothing to send and resumed when data is queued.
#ifndef INGRESS_STREAM_H
#define INGRESS_STREAM_H

#include "lull_metrics.h"

#include <microhttpd.h>
#include <stdint.h>

typedef struct ingress_stream ingress_stream_t;

typedef struct {
    const char *database_url;
    int64_t max_per_session;   // concurrent streams of one session
    int64_t max_total;         // concurrent streams in total
    int64_t keepalive_ms;      // a comment line this often
    int64_t replay_max;        // messages replayed after Last-Event-ID / a reconnect, at most
    int64_t max_per_addr;      // concurrent streams of one client address (IPv6: /64); 0 = no limit
    int64_t lifetime_ms;       // a stream ends after this (a final "end" event; the page reconnects); 0 = never
    lull_metrics_t *metrics;   // borrowed; may be NULL
} ingress_stream_cfg_t;

#define INGRESS_STREAM_SESSION_MAX 128  // bytes of a session id in a stream's path

// What a stream request asks for: its session and the last message id it has (-1: none, from now on).
typedef struct {
    char session[INGRESS_STREAM_SESSION_MAX + 1];
    int64_t after;
} ingress_stream_want_t;

// Reads a stream request (pure, any thread): sid is the path after /api/v1/chat/stream/ (up to '?' or '#'),
// last_event_id the Last-Event-ID header and after the decoded ?after= (either may be NULL; the header wins).
// 0 with *out filled, or the HTTP status to answer (404 for a malformed session id, 400 for a bad message id)
// with its error code and message.
int ingress_stream_parse(const char *sid, const char *last_event_id, const char *after, ingress_stream_want_t *out,
                         const char **code, const char **message);
// Starts the listener thread. NULL on failure (logged).
ingress_stream_t *ingress_stream_new(const ingress_stream_cfg_t *cfg);
// Handles every call of the access handler for a stream request (uri = raw request URI). *ctx starts NULL
// and must be passed to ingress_stream_request_done when the request completes.
enum MHD_Result ingress_stream_request(ingress_stream_t *self, struct MHD_Connection *conn, const char *uri,
                                       void **ctx);
// Releases what ingress_stream_request kept for the request (MHD's completion callback); NULL-safe.
void ingress_stream_request_done(ingress_stream_t *self, void **ctx);
// Ends every stream (each connection finishes its response) and stops the listener thread. Call before the
// HTTP daemon is stopped.
void ingress_stream_stop(ingress_stream_t *self);
// Stops (if needed) and frees; NULL-safe, nulls the pointer. Call after the HTTP daemon is stopped.
void ingress_stream_destroy(ingress_stream_t **self_p);

#endif
