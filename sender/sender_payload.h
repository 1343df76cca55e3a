// An outbox row's payload and a tenant's credential references, read and checked for the adapters.
#ifndef SENDER_PAYLOAD_H
#define SENDER_PAYLOAD_H

#include <cJSON.h>
#include <stdint.h>

#define SENDER_PAYLOAD_MAX_BODY 16384  // bytes of message text
#define SENDER_PAYLOAD_MAX_MEDIA 10    // Twilio accepts up to 10 MediaUrl

// A parsed payload: strings borrowed from the cJSON it came from.
typedef struct {
    const char *body;        // may be NULL when media is given
    const char *kind;        // "reply" …; may be NULL
    const char *media[SENDER_PAYLOAD_MAX_MEDIA];  // http(s) URLs
    int nmedia;
} sender_payload_t;

// Reads the payload object j into p: body (≤ SENDER_PAYLOAD_MAX_BODY bytes), kind, media URLs; a body or a medium
// is required. 0, or -1 with err.
int sender_payload_parse(const cJSON *j, sender_payload_t *p, char *err, size_t errlen);
// A tenant credential: creds[key] names an environment variable (LULL_TENANT_…); *out is its value (borrowed from
// the environment), or def when the tenant names none. -1 with err when the tenant names a variable that is unset,
// empty or not a tenant reference.
int sender_credential(const cJSON *creds, int64_t tenant, const char *key, const char *def, const char **out,
                      char *err, size_t errlen);

#endif
