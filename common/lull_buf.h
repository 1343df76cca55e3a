// A growable byte buffer with an optional size cap: always NUL-terminated, fails (or truncates) instead
// of growing past the cap, and remembers an allocation failure so callers check once at the end.
#ifndef LULL_BUF_H
#define LULL_BUF_H

#include <stdbool.h>
#include <stddef.h>

// Plain data; start with lull_buf_init (or zero it: unlimited, not truncating).
typedef struct {
    char *data;      // NUL-terminated when len > 0 or after any append; NULL before the first one
    size_t len;      // bytes held, without the NUL
    size_t cap;      // bytes allocated
    size_t max;      // most bytes held; 0 = unlimited
    bool truncate;   // at max: keep what fits and set truncated (true) or fail (false)
    bool truncated;  // something was cut at max
    bool failed;     // an append failed (out of memory, or over max without truncate); later appends do nothing
} lull_buf_t;

// Starts an empty buffer holding at most max bytes (0 = unlimited); truncate chooses cut or fail at max.
void lull_buf_init(lull_buf_t *b, size_t max, bool truncate);
// Makes room for n more bytes at once (one allocation instead of doublings). 0, or -1 when the buffer failed.
int lull_buf_reserve(lull_buf_t *b, size_t n);
// Appends n bytes. 0, or -1 when the buffer failed (then or before).
int lull_buf_append(lull_buf_t *b, const void *s, size_t n);
// Appends a NUL-terminated string. 0/-1 as lull_buf_append.
int lull_buf_puts(lull_buf_t *b, const char *s);
// Appends printf-formatted text. 0/-1 as lull_buf_append.
int lull_buf_printf(lull_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Hands the contents to the caller (never NULL unless out of memory: an empty buffer gives ""), and
// leaves b empty. The caller frees the result.
char *lull_buf_take(lull_buf_t *b);
// Frees the contents and leaves b empty (its max and truncate settings stay).
void lull_buf_reset(lull_buf_t *b);

#endif
