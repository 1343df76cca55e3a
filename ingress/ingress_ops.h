// The group-commit writer's requests other than storing messages, and the signature check before storing, run on a
// writer thread's connection.
#ifndef INGRESS_OPS_H
#define INGRESS_OPS_H

#include <stdbool.h>

#include "ingress_writer.h"
#include "lull_db.h"

// A request from a page of another origin (it->origin; NULL: true at once): true when the tenant (by slug, or by
// the web chat session a message names) lists the origin in chat_allowed_origins; otherwise it->outcome is set
// (refused, unknown or unavailable).
bool ingress_ops_origin_ok(lull_db_t *db, ingress_item_t *it, const char *slug, const char *session);
// SESSION: creates the web chat contact and conversation (arg[0] session id, arg[1] tenant slug or NULL, arg[2]
// metadata JSON or NULL).
void ingress_ops_session(lull_db_t *db, ingress_item_t *it);
// STATUS: a Twilio status callback or a WhatsApp Cloud API status (forward-only).
void ingress_ops_status(lull_db_t *db, ingress_item_t *it);
// HISTORY: the newest limit messages of a web chat session (arg[0]), oldest first, as result_json.
void ingress_ops_history(lull_db_t *db, ingress_item_t *it, int limit);
// Generic webhooks whose tenant requires a signature (tenants.webhook_secret_env): verified before anything is
// stored (one query for the batch's tenants, then HMACs); the items that fail get their outcome and leave items
// (compacted). A verified one without message.id is keyed by its webhook-id (undone by ingress_ops_unkey). Returns
// how many remain.
int ingress_ops_check_signatures(lull_db_t *db, ingress_item_t **items, int n);
// Restores what the signature check changed in it (its row and dedupe key) and frees the copies.
void ingress_ops_unkey(ingress_item_t *it);

#endif
