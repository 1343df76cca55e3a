// Meta's WhatsApp Cloud API webhook: the GET verification handshake and the POST envelope
// (object whatsapp_business_account, entry[].changes[].value with metadata, contacts[], messages[], statuses[])
// parsed into the writer's rows and status updates. Pure functions, bounded; what cannot be used is skipped and
// counted, never stored half.
#ifndef INGRESS_META_H
#define INGRESS_META_H

#include <stdbool.h>
#include <stddef.h>

#include "ingress_parse.h"
#include "ingress_writer.h"

#define INGRESS_META_CHALLENGE_MAX 128  // bytes of hub.challenge echoed back
#define INGRESS_META_TEXT_MAX 16384     // bytes of a message's text (WhatsApp allows 4096 characters)
#define INGRESS_META_WAMID_MAX 256      // bytes of a wamid

// One status of statuses[]: the outbox row whose provider id is wamid moves to status (sent, delivered, read,
// failed), with "code: title" of its first error when failed (NULL otherwise). Strings owned.
typedef struct {
    char *wamid, *status, *error;
} ingress_meta_status_t;

// A parsed envelope: rows in arrival order (entry, change, message), statuses, and how many items were skipped
// as unusable (each logged once).
typedef struct {
    ingress_row_t *rows;
    size_t nrows;
    ingress_meta_status_t *statuses;
    size_t nstatuses;
    size_t skipped;
    ingress_item_t *items;  // ingress_meta_items(): one per row and status (owned)
} ingress_meta_t;

// GET /webhook/whatsapp?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…: true when the mode is subscribe,
// the token equals verify_token (constant time; an empty verify_token never matches) and the challenge is 1..
// INGRESS_META_CHALLENGE_MAX printable ASCII characters, copied to challenge (cap bytes).
bool ingress_meta_verify(const char *uri, const char *verify_token, char *challenge, size_t cap);
// Parses a POST body into out (freed with ingress_meta_free, also on failure). -1 with err only for a body that
// is not a JSON object (400); an object of another shape, or one with more than max_items messages and statuses,
// is 0 with everything skipped (Meta retries a non-2xx answer for days, and the same bytes would fail again).
int ingress_meta_parse(const char *body, size_t len, size_t max_items, ingress_meta_t *out, ingress_err_t *err);
// Builds out->items (messages as STORE, statuses as STATUS items) for ingress_writer's MULTI op. 0/-1 (memory).
int ingress_meta_items(ingress_meta_t *m, int64_t received_ms);
// A WhatsApp message id: "wamid." and 1..INGRESS_META_WAMID_MAX letters, digits or + / = _ - .
bool ingress_meta_wamid(const char *id);
// Frees what out holds (NULL-safe) and zeroes it.
void ingress_meta_free(ingress_meta_t *m);

#endif
