// The JSON bodies the sender POSTs to a tenant's callback URL, built from a claimed outbox row: a reply
// (type message.reply) and the conversation.escalated event of an escalation row.
#ifndef SENDER_EVENT_H
#define SENDER_EVENT_H

#include <cJSON.h>
#include <libpq-fe.h>
#include <stdbool.h>

// True when an outbox payload kind names an escalation notification (not a reply to the contact).
bool sender_event_is_escalation(const char *kind);

// The message.reply body of claimed row r (columns SO_*): body, kind and media from its payload. The caller
// owns the result (cJSON_Delete); NULL when out of memory.
cJSON *sender_event_reply(const PGresult *res, int r, const char *body, const char *kind, const char *const *media,
                          int nmedia);

// The conversation.escalated body of claimed escalation row r: conversation_id, contact, channel, reason, source,
// escalation_id, inbox_url (admin_url + "/inbox#/conversations/{id}" when admin_url is not empty) and created_at.
// The caller owns the result; NULL when out of memory.
cJSON *sender_event_escalated(const PGresult *res, int r, const char *admin_url);

#endif
