// The files of <tier>/static/ and common/static/, embedded at build time: the Makefile runs scripts/embed.c
// on each and puts the result (build/<variant>/gen/<name>.c) into the library, so an edit of the file is
// rebuilt.
#ifndef LULL_STATIC_H
#define LULL_STATIC_H

#include <stddef.h>

// Declares the embedded file NAME (its path with / . - as _): NAME, its bytes followed by one 0 that NAME_len
// does not count; NAME_etag, a quoted hash of the bytes to send as ETag. Read-only, for the life of the
// process.
#define LULL_STATIC_FILE(name)                                                                                 \
    extern const unsigned char name[];                                                                         \
    extern const size_t name##_len;                                                                            \
    extern const char name##_etag[]

LULL_STATIC_FILE(common_static_openapi_shared_json);  // the OpenAPI parts both servers share

#endif
