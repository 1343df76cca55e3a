// Percent-decoding and query parameters, the one place lull reads them by hand: form bodies
// (application/x-www-form-urlencoded) and the query of a raw request URI when libmicrohttpd's decoded
// arguments are not at hand (the admin thread, pure parsers). Whole URLs are split with libcurl's curl_url().
#ifndef LULL_URL_H
#define LULL_URL_H

#include <stdbool.h>
#include <stddef.h>

// Percent-decodes src[0..len) as a form or query value ('+' is a space) into dst (cap bytes, NUL-terminated).
// Returns the decoded length, or -1 for a bad escape, a NUL byte, invalid UTF-8 or a result that does not fit.
int lull_url_decode(const char *src, size_t len, char *dst, size_t cap) __attribute__((warn_unused_result));
// The raw (still encoded) value of the first parameter `name` in the query of uri (after '?', before '#'):
// a pointer into uri and its length in *len, or NULL when there is none. A bare "name" (no '=') has an empty value.
const char *lull_url_query_raw(const char *uri, const char *name, size_t *len);
// The decoded value of query parameter `name` of uri into out (cap bytes). false when absent, undecodable
// (see lull_url_decode) or longer than cap - 1.
bool lull_url_query(const char *uri, const char *name, char *out, size_t cap);

#endif
