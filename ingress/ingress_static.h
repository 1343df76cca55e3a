// The files of ingress/static/, embedded at build time: the Makefile runs scripts/embed.c on each and puts
// the result (build/<variant>/gen/<name>.c) into the library, so an edit of the file is rebuilt.
#ifndef INGRESS_STATIC_H
#define INGRESS_STATIC_H

#include <stddef.h>

// Declares the embedded file NAME (its path with / and . as _): NAME, its bytes followed by one 0 that
// NAME_len does not count; NAME_etag, a quoted hash of the bytes to send as ETag. Read-only, for the life of
// the process.
#define INGRESS_STATIC_FILE(name)                                                                              \
    extern const unsigned char name[];                                                                         \
    extern const size_t name##_len;                                                                            \
    extern const char name##_etag[]

INGRESS_STATIC_FILE(ingress_static_chat_html);         // the web chat page (GET /chat)
INGRESS_STATIC_FILE(ingress_static_openapi_json);      // GET /openapi.json: all but paths and admin parts
INGRESS_STATIC_FILE(ingress_static_openapi_admin_json);  // its admin API tags and components

#endif
