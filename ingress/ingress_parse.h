// Strict parsing of webhook bodies into the rows lull_ingress_store() takes: form-urlencoded (Twilio), the
// generic JSON webhook, TikTok events (content is a JSON string), web chat. Pure functions; every error names
// the field and carries the HTTP status and code to answer with.
#ifndef INGRESS_PARSE_H
#define INGRESS_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "ingress_sig.h"

#include <cJSON.h>

#define INGRESS_MAX_FIELD 1024  // bytes of an id, name or address field
#define INGRESS_TIKTOK_ID_MAX 128  // bytes of a TikTok message or conversation id

typedef struct {
    int status;         // HTTP status to answer (400, 415 …)
    char code[32];      // error.code
    char message[256];  // error.message, names the problem
} ingress_err_t;

// A parsed application/x-www-form-urlencoded body: pairs in arrival order (percent-decoded, UTF-8, no NUL).
typedef struct {
    ingress_param_t *p;
    size_t n;
    char *storage;  // private
} ingress_form_t;

// One message ready for the writer.
typedef struct {
    char *row_json;     // JSON object of lull_ingress_row fields (owned)
    char channel[16];   // generic | sms | whatsapp | tiktok | webchat
    char *provider_id;  // dedupe key (owned) or NULL
    bool wake;          // an inbound message: push INBOUND once stored
    char *echo;         // generic: the contact_id as sent; web chat: the session id (owned) or NULL
    bool ignored;       // TikTok: an event lull does not store (answered 200, nothing stored)
    uint32_t affinity;  // a hash of the contact (route key, channel, external id), never 0: picks the writer
} ingress_row_t;

// Parses a form body. 0, or -1 with err (400) for bad escapes, NUL bytes or invalid UTF-8.
int ingress_form_parse(const char *body, size_t len, ingress_form_t *out, ingress_err_t *err);
// Parses a JSON object body (Twilio's JSON webhooks: the form's field names) into the same pairs: strings as
// they are, numbers and booleans as their JSON text, nulls left out. 0, or -1 with err (400 for malformed JSON,
// a non-object, an empty name or an array/object value; 503 out of memory).
int ingress_form_from_json(const char *body, size_t len, ingress_form_t *out, ingress_err_t *err);
// The first value of name, or NULL (borrowed until ingress_form_free).
const char *ingress_form_get(const ingress_form_t *f, const char *name);
// Frees a parsed form (NULL-safe) and zeroes it.
void ingress_form_free(ingress_form_t *f);

// POST /webhook: {"contact_id","message":{"body","id"?},"first_name"?,"last_name"?,"tenant"?}. 0/-1.
int ingress_parse_generic(const char *body, size_t len, ingress_row_t *out, ingress_err_t *err);
// POST /webhook/twilio: the parsed form (MessageSid, From, To required). 0/-1.
int ingress_parse_twilio(const ingress_form_t *f, ingress_row_t *out, ingress_err_t *err);
// POST /webhook/twilio/status[?outbox=ID]: MessageSid (SM or MM + 32 hex digits), MessageStatus (one of Twilio's
// statuses), ErrorCode (digits, optional); outbox from the query of uri (a positive integer, optional) into
// outbox ("" when absent). args[1..3] get owned copies of the sid, the status and the error code (NULL when none);
// args[0] is left alone. 0/-1 (nothing owned on failure).
int ingress_parse_twilio_status(const ingress_form_t *f, const char *uri, char *outbox, size_t outbox_cap,
                                char *args[4], ingress_err_t *err);
// POST /webhook/tiktok: {client_key, event, create_time, user_openid, content: "<JSON string>"}. 0/-1; events
// other than im_receive_msg / im_send_msg come back with out->ignored.
int ingress_parse_tiktok(const char *body, size_t len, ingress_row_t *out, ingress_err_t *err);
// POST /api/v1/chat/message: {"sessionId","message","userId"?}. 0/-1.
int ingress_parse_chat_message(const char *body, size_t len, ingress_row_t *out, ingress_err_t *err);
// POST /api/v1/chat/session: {"userId"?,"metadata"?,"tenant"?} → *metadata_json (owned: {"userId":…,
// "metadata":…}) and *tenant (owned slug or NULL). An empty body is allowed. 0/-1.
int ingress_parse_chat_session(const char *body, size_t len, char **metadata_json, char **tenant, ingress_err_t *err);
// A Twilio message SID: SM or MM and 32 hexadecimal digits (SMS, MMS and WhatsApp messages alike).
bool ingress_parse_twilio_sid(const char *sid);
// A TikTok message or conversation id: 1..INGRESS_TIKTOK_ID_MAX letters, digits or _ : . = + / -.
bool ingress_parse_tiktok_id(const char *id);
// Parses a JSON object body (what names it in errors); rejects \u0000 escapes. NULL with err (400) otherwise.
cJSON *ingress_parse_json(const char *body, size_t len, const char *what, ingress_err_t *err);
// A new row object with the fields every message has (the caller frees); inbound = from the contact, else a
// person's reply (author human). route_key may be NULL.
cJSON *ingress_row_new(const char *route, const char *route_key, const char *channel, const char *external_id,
                       bool inbound, const char *body);
// Prints row into out (row_json, channel, a copy of provider_id). 0, or -1 with err (503 out of memory).
int ingress_row_finish(cJSON *row, ingress_row_t *out, const char *channel, const char *provider_id, ingress_err_t *err);
// Frees a row's strings (NULL-safe) and zeroes it.
void ingress_row_free(ingress_row_t *r);
// Sets err (returns -1 for chaining).
int ingress_err_set(ingress_err_t *err, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
