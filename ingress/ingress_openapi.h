// GET /openapi.json: the OpenAPI 3.0.3 description of every route lull-ingress serves on its HTTP port
// (webhooks, web chat, health, this document, the admin API), built once at start-up.
#ifndef INGRESS_OPENAPI_H
#define INGRESS_OPENAPI_H

#include <microhttpd.h>

// The document as compact JSON; the caller frees. NULL when out of memory or when the embedded description
// does not parse (a programming error, logged).
char *ingress_openapi_json(void);
// The document as a response MHD may queue on any number of connections (application/json,
// Cache-Control: public, max-age=300); MHD_destroy_response() it at exit. NULL on failure (logged).
struct MHD_Response *ingress_openapi_response(void);

#endif
