// The WhatsApp Cloud API (Meta) adapter of the sender: the send requests of one outbox row (a text split into
// parts of at most 4096 characters, or the tenant's approved template), and how the Graph API's answers and
// error codes are classified. No I/O: sender_app starts the requests.
#ifndef SENDER_META_H
#define SENDER_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lull_http.h"
#include "sender_policy.h"

#define SENDER_META_PART_CHARS 4096  // characters of one text message (WhatsApp's limit)
#define SENDER_META_MAX_PARTS 8      // parts of one reply at most (longer replies are dead-lettered)

typedef struct sender_meta sender_meta_t;

typedef struct {
    const char *base, *version;   // LULL_META_API_BASE, LULL_META_GRAPH_VERSION
    const char *token;            // access token (borrowed for the call; copied into the header)
    const char *sender_address;   // meta:<phone_number_id>
    const char *recipient;        // whatsapp:+<wa_id> (or the bare digits)
    const char *body;             // the text; may be NULL with use_template
    const char *template_json;    // tenants.meta_template ({"name","language","components"}) or NULL
    bool use_template;            // outside the 24-hour window: the template instead of the text
} sender_meta_in_t;

// True when a whatsapp row's sender_address says the Cloud API answers it ("meta:<digits>").
bool sender_meta_is_address(const char *sender_address);
// The requests of one row; NULL with err set (a reason to dead-letter) or, err empty, out of memory.
sender_meta_t *sender_meta_new(const sender_meta_in_t *in, char *err, size_t errlen);
// The current part's request into req (strings borrowed from self until the next call or destroy).
void sender_meta_request(const sender_meta_t *self, lull_http_req_t *req, int64_t timeout_ms);
// After the current part was sent with wamid: true when another part follows (the request moves to it).
bool sender_meta_next(sender_meta_t *self, const char *wamid);
// After error 131047 (window closed): true when the requests switched to the template (none sent before).
bool sender_meta_to_template(sender_meta_t *self);
// Parts sent so far, parts in all, and the first part's wamid ("" before any).
int sender_meta_sent(const sender_meta_t *self);
int sender_meta_parts(const sender_meta_t *self);
const char *sender_meta_first_id(const sender_meta_t *self);
// Frees (NULL-safe), nulls the pointer.
void sender_meta_destroy(sender_meta_t **self_p);

// A Graph API error's class: rate limits (HTTP 429, codes 4, 80007, 130429, 131056) and server errors (5xx,
// codes 1, 2, 131016) retry; 131047 (re-engagement: window closed) and everything else fail at once.
sender_verdict_t sender_meta_code_class(long status, int64_t code);
// Classifies a Graph API answer with a status (status > 0) into out: 2xx with messages[0].id → sent (the wamid
// kept); the error envelope {"error":{"message","type","code","error_subcode","fbtrace_id"}} by its code.
void sender_meta_classify(long status, const char *body, size_t body_len, sender_outcome_t *out);

#endif
