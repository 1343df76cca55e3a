// The agents' inbox on lull-admin: the page (GET /inbox, /inbox.js, /inbox.css, embedded at build time, with
// a strict Content-Security-Policy) and its live list (GET /api/v1/inbox/events, Server-Sent Events). One
// thread holds a database connection that LISTENs on lull_inbox (NOTIFY sent by a trigger on conversations
// when a status, a pause or an agent's read mark changes) and, while streams are open, looks for new messages
// (max(messages.id)); after either it re-reads the inbox list (at most once per debounce interval) and writes
// it to every stream when it changed. Heartbeats, a cap on streams and a maximum lifetime bound the streams.
#ifndef ADMIN_INBOX_H
#define ADMIN_INBOX_H

#include "lull_metrics.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct admin_inbox admin_inbox_t;

typedef struct {
    const char *database_url;  // libpq URL (copied)
    int64_t streams_max;       // open streams at once; more get 503
    int64_t heartbeat_ms;      // a comment line on every stream this often, milliseconds
    int64_t lifetime_ms;       // a stream ends after this (the page reconnects), milliseconds
    int64_t debounce_ms;       // the list is re-read at most this often after a change, milliseconds
    int64_t poll_ms;           // max(messages.id) is read this often while a stream is open, milliseconds
    lull_metrics_t *metrics;   // may be NULL (borrowed)
} admin_inbox_cfg_t;

// Starts the listener thread. NULL on failure (logged).
admin_inbox_t *admin_inbox_new(const admin_inbox_cfg_t *cfg);
// Answers an authorised GET /api/v1/inbox/events on conn (HTTP thread): a stream, or 503 when the streams
// are at their cap or the inbox is stopping.
enum MHD_Result admin_inbox_stream(admin_inbox_t *self, struct MHD_Connection *conn);
// Answers GET /inbox (file 0), /inbox.js (1) or /inbox.css (2) on conn (HTTP thread), 304 for a matching
// If-None-Match.
enum MHD_Result admin_inbox_page(struct MHD_Connection *conn, int file);
// Ends every stream and stops the thread (call before stopping the HTTP server); NULL-safe, idempotent.
void admin_inbox_stop(admin_inbox_t *self);
// Stops and frees; NULL-safe, nulls the pointer.
void admin_inbox_destroy(admin_inbox_t **self_p);

#endif
