// Asynchronous HTTP client: libcurl multi driven by a lull_loop, so one thread keeps thousands of
// requests in flight (LLM calls in workers, deliveries in the sender).
#ifndef LULL_HTTP_H
#define LULL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lull_loop.h"
#include "lull_netaddr.h"

typedef struct lull_http lull_http_t;

#define LULL_HTTP_MAX_HEADERS 16

typedef struct {
    const char *method;   // "GET", "POST", …; NULL = POST when body given, else GET
    const char *url;
    const char *headers[LULL_HTTP_MAX_HEADERS];  // "Name: value", NULL-terminated early
    const char *body;     // may be NULL
    size_t body_len;
    // Instead of body: a malloc'd body of body_len bytes (and a NUL) that the client takes, without a copy; it
    // frees it, whether the request starts or not. NULL = none.
    char *body_take;
    const char *userpwd;  // basic auth "user:password", or NULL (with aws_sigv4: "access key:secret key")
    const char *aws_sigv4;  // CURLOPT_AWS_SIGV4 provider string ("aws:amz:REGION:s3"), or NULL
    int64_t timeout_ms;   // whole request; 0 = the client default
    // A URL someone outside the operators chose (a tenant's callback): connect only to public addresses or to
    // allow's ranges, checked on each address actually connected to (DNS rebinding does not help).
    bool public_only;
    const lull_netaddr_allow_t *allow;  // with public_only: ranges allowed anyway, or NULL (borrowed until done)
    // Many requests to one host at once: wait for a connection that may multiplex them (HTTP/2 over TLS) rather
    // than open one per request while the first is being set up (CURLOPT_PIPEWAIT). https:// URLs only: on plain
    // HTTP it would hold the requests until the first one is answered; there it is ignored.
    bool pipewait;
} lull_http_req_t;

typedef struct {
    long status;            // HTTP status; 0 when no response arrived
    int curl_code;          // CURLcode; 0 on transfer success (any status)
    const char *error;      // curl's error text when curl_code != 0 ("" otherwise)
    const char *body;       // response body, NUL-terminated (borrowed during the callback)
    size_t body_len;
    bool request_sent;      // the request reached the server (outcome unknown if no response)
    bool timed_out;
    bool address_refused;   // public_only: no address of the host was allowed (error says only that)
    int64_t elapsed_ms;
    const void *headers_;   // private: use lull_http_header()
    void *req_;             // private: for lull_http_keep()
} lull_http_resp_t;

// A finished request kept to be sent again (lull_http_keep).
typedef struct lull_http_kept lull_http_kept_t;

// Completion callback: called exactly once per accepted request, from the loop (or from destroy with
// curl_code = CURLE_ABORTED_BY_CALLBACK).
typedef void(lull_http_done_fn)(const lull_http_resp_t *resp, void *arg);

// Creates a client driven by loop. max_body: response bytes kept (larger → error); default_timeout_ms for
// requests that give none; max_host_conns: connections per host (0 = unlimited). NULL on failure.
lull_http_t *lull_http_new(lull_loop_t *loop, size_t max_body, int64_t default_timeout_ms, long max_host_conns);
// Aborts every in-flight request (their callbacks run with an abort code) and frees; nulls the pointer.
void lull_http_destroy(lull_http_t **self_p);
// Starts a request; the request's strings are copied (body_take is taken). 0 when started (done will be called),
// -1 otherwise.
int lull_http_start(lull_http_t *self, const lull_http_req_t *req, lull_http_done_fn *done, void *arg)
    __attribute__((warn_unused_result));
// Requests in flight (kept requests waiting to be resent are not).
size_t lull_http_in_flight(const lull_http_t *self);
// Finished requests whose easy handles wait in the pool for the next request (reset: nothing of the
// request they served survives, credentials included).
size_t lull_http_pooled(const lull_http_t *self);
// From inside a completion callback only: keeps the request (URL, headers, body, credentials, options) so that
// lull_http_resend can send it again as it is, e.g. to retry it after a delay. NULL when it cannot be kept
// (the client is being destroyed). A kept request must be resent or dropped; lull_http_destroy completes the
// ones left with an abort code, status 0 and request_sent false (the new attempt never started).
lull_http_kept_t *lull_http_keep(const lull_http_resp_t *resp);
// Sends a kept request again; done is called once for it, as for lull_http_start. 0 when started; -1 when it
// cannot be (it is dropped then).
int lull_http_resend(lull_http_t *self, lull_http_kept_t *k, lull_http_done_fn *done, void *arg)
    __attribute__((warn_unused_result));
// Releases a kept request without sending it again.
void lull_http_drop(lull_http_t *self, lull_http_kept_t *k);
// Value of a response header (case-insensitive name), or NULL; borrowed during the callback.
const char *lull_http_header(const lull_http_resp_t *resp, const char *name);
// Parses Retry-After (delta seconds or an HTTP date) and retry-after-ms into milliseconds from now;
// -1 when absent or invalid. Capped at cap_ms.
int64_t lull_http_retry_after_ms(const lull_http_resp_t *resp, int64_t cap_ms);
// Parses a Retry-After value alone (seconds or HTTP date) relative to now_wall_ms; -1 when invalid.
int64_t lull_http_parse_retry_after(const char *value, int64_t now_wall_ms);

#endif
