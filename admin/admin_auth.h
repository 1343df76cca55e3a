// The shared state of lull-admin's authentication, used from the HTTP thread and the admin threads: the
// lockout of addresses that fail too often (a bounded table: a flood of addresses evicts old entries and never
// grows it) and the cache of agent tokens already verified (so that the slow hash does not run on every
// request). Pure bookkeeping, thread-safe, no I/O: the callers give the time.
#ifndef ADMIN_AUTH_H
#define ADMIN_AUTH_H

#include <stdbool.h>
#include <stdint.h>

typedef struct admin_auth admin_auth_t;

#define ADMIN_AUTH_ADDR_MAX 48  // bytes of a client address text, NUL included (INET6_ADDRSTRLEN + 2)

// Settings (plain data).
typedef struct {
    int64_t fail_max;   // failed authentications one address may make within window_ms; one more locks it
    int64_t window_ms;  // the counting window, from an address's first failure, milliseconds
    int64_t lock_ms;    // how long a locked address is refused (429), milliseconds
    int64_t addresses;  // addresses tracked at most (the table's size)
    int64_t cache_ms;   // a verified token is trusted without the slow hash this long, milliseconds; 0 = never
    int64_t cache_max;  // tokens cached at most
} admin_auth_cfg_t;

// A new state. NULL on failure.
admin_auth_t *admin_auth_new(const admin_auth_cfg_t *cfg);
// Frees; NULL-safe, sets *self_p to NULL.
void admin_auth_destroy(admin_auth_t **self_p);

// Milliseconds addr stays locked at now_ms (monotonic), 0 when it is not locked.
int64_t admin_auth_locked_ms(admin_auth_t *self, const char *addr, int64_t now_ms);
// Records one failed authentication from addr. Returns the lock's length in milliseconds when this failure
// locked addr (answer 429), else 0.
int64_t admin_auth_failed(admin_auth_t *self, const char *addr, int64_t now_ms);

// True when token_digest (SHA-256 of the whole token) was verified for agent_id against the stored hash whose
// SHA-256 is hash_digest, less than cache_ms ago.
bool admin_auth_cache_hit(admin_auth_t *self, const uint8_t token_digest[32], int64_t agent_id,
                          const uint8_t hash_digest[32], int64_t now_ms);
// Remembers a verified token (replaces the oldest entry when full).
void admin_auth_cache_put(admin_auth_t *self, const uint8_t token_digest[32], int64_t agent_id,
                          const uint8_t hash_digest[32], int64_t now_ms);
// Forgets every cached token of agent_id (revoked).
void admin_auth_cache_forget(admin_auth_t *self, int64_t agent_id);

#endif
