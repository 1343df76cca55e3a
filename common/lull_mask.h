// Masking secrets before they are shown: passwords in PostgreSQL connection strings (URL userinfo, ?password=,
// key=value), echoes of those passwords in error texts, and credentials in free text (libmicrohttpd's messages).
#ifndef LULL_MASK_H
#define LULL_MASK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

// A copy of a PostgreSQL connection string with every password replaced by "***": the password of a URL's
// userinfo (scheme://user:PW@host), ?password=PW / &password=PW in a URL's query, and password=PW (quoted or
// not) in a libpq key=value string. Anything else is copied as is. The caller frees; NULL when out of memory.
char *lull_mask_conninfo(const char *conninfo);
// True when s reads as a libpq key=value connection string (key=value pairs, at least one libpq keyword).
bool lull_mask_is_keyvalue(const char *s);
// Copies text into out (cap bytes, always NUL-terminated, truncated if need be) with every occurrence of a
// password of conninfo replaced by "***" (libpq's error messages may echo parts of the connection string).
void lull_mask_echo(const char *text, const char *conninfo, char *out, size_t cap);
// Copies text into out (cap bytes, always NUL-terminated, truncated if need be) with credentials redacted: web
// chat session ids (ws_… → ws_***), Bearer/Basic credentials, and the values of key=value / key: value pairs whose
// key names a password, token, secret, key, signature or session.
void lull_mask_text(const char *text, char *out, size_t cap);
// libmicrohttpd's external logger (MHD_OPTION_EXTERNAL_LOGGER): the message formatted, masked with
// lull_mask_text and written as one warn line, event "http.mhd". cls: the server's name ("http", "ops") or NULL.
void lull_mask_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#endif
