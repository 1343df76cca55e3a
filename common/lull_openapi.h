// GET /openapi.json of an HTTP server: the OpenAPI 3.0.3 document built once at start-up from the server's
// route table (the paths), embedded JSON parts (everything the operations refer to) and, optionally, schemas
// the server renders from its own tables.
#ifndef LULL_OPENAPI_H
#define LULL_OPENAPI_H

#include "lull_route.h"

#include <cJSON.h>
#include <microhttpd.h>
#include <stddef.h>

// One embedded JSON file of the document (a JSON object; its arrays are appended to, its objects merged into
// the parts before it, two levels deep).
typedef struct {
    const char *file;           // its path, for the log
    const unsigned char *text;
    size_t len;
} lull_openapi_part_t;

// The document as compact JSON (the caller frees): the parts merged in order, one operation per row under
// paths, then schemas_fn (may be NULL) adding to components/schemas (0, or -1 on failure). NULL when out of
// memory or when a part does not parse or clashes with another (a programming error, logged).
char *lull_openapi_json(const lull_openapi_part_t *parts, size_t nparts, const lull_route_t *rows, size_t nrows,
                        int (*schemas_fn)(cJSON *schemas));
// doc (owned, may be NULL: logged) as a response MHD may queue on any number of connections
// (application/json, Cache-Control: public, max-age=300); MHD_destroy_response() it at exit. NULL on failure.
struct MHD_Response *lull_openapi_response(char *doc);

#endif
