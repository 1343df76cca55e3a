// Cryptographic helpers over OpenSSL: HMAC-SHA1/SHA256, SHA-256, base64, hex, constant-time comparison,
// random identifiers (webhook signatures in ingress, Standard Webhooks signatures in the sender) and the slow
// salted hash of secrets that are stored (lull-admin's agent tokens).
#ifndef LULL_CRYPTO_H
#define LULL_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// HMAC-SHA1 of msg with key into out[20]. 0/-1.
int lull_hmac_sha1(const void *key, size_t key_len, const void *msg, size_t msg_len, uint8_t out[20]);
// HMAC-SHA256 of msg with key into out[32]. 0/-1.
int lull_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len, uint8_t out[32]);
// SHA-256 of msg into out[32]. 0/-1.
int lull_sha256(const void *msg, size_t msg_len, uint8_t out[32]);
// Lower-case hex of in[0..len) into out (2*len+1 bytes). Returns out.
char *lull_hex(const uint8_t *in, size_t len, char *out);
// Standard base64 (with padding) of in into out (cap bytes incl. NUL). Length written, or -1 if cap is short.
int lull_base64_encode(const uint8_t *in, size_t len, char *out, size_t cap);
// Decodes standard base64 (padding optional, no whitespace) into out. Bytes written, or -1 when invalid or
// cap is short.
int lull_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap);
// Base64url (RFC 4648 section 5, no padding) of in into out (cap bytes incl. NUL). Length written, or -1.
int lull_base64url_encode(const uint8_t *in, size_t len, char *out, size_t cap);
// Constant-time equality of two byte strings (the lengths are not secret).
bool lull_ct_equal(const void *a, size_t a_len, const void *b, size_t b_len);
// A source of cryptographically random bytes: fills buf with len bytes, 0/-1.
typedef int(lull_random_fn)(void *buf, size_t len);
// Fills buf with len cryptographically random bytes (OpenSSL's RAND_bytes unless a test replaced the source).
// 0/-1.
int lull_random_bytes(void *buf, size_t len);
// Replaces the source behind lull_random_bytes; NULL restores RAND_bytes. For tests (the failure paths).
void lull_random_set_source(lull_random_fn *fill);
// A random identifier: prefix followed by 2*nbytes hex characters (nbytes at most 64), into out (cap bytes).
// Returns out, or NULL (out holds "") when the random source fails or out is too small: never a guessable id.
char *lull_random_id(const char *prefix, size_t nbytes, char *out, size_t cap) __attribute__((warn_unused_result));
#define LULL_KDF_ITERATIONS 210000     // PBKDF2-HMAC-SHA256 rounds of a new hash (at least 200,000)
#define LULL_KDF_ITERATIONS_MIN 1000    // a stored hash with fewer (or more than _MAX) is refused as malformed
#define LULL_KDF_ITERATIONS_MAX 10000000
#define LULL_KDF_HASH_MAX 160           // bytes of a stored hash string, NUL included
// The stored form of secret: PBKDF2-HMAC-SHA256 with a fresh 16-byte random salt, written with its algorithm and
// parameters ("pbkdf2-sha256$<iterations>$<salt, base64>$<32-byte hash, base64>") into out (cap bytes). 0/-1.
int lull_kdf_hash(const void *secret, size_t len, uint32_t iterations, char *out, size_t cap)
    __attribute__((warn_unused_result));
// True when secret hashes to stored under stored's own algorithm, iterations and salt (compared in constant
// time); false when it does not, or when stored is malformed or its parameters are out of bounds.
bool lull_kdf_verify(const void *secret, size_t len, const char *stored);
// A fast non-cryptographic random double in [0, 1) (jitter), thread-safe.
double lull_random_unit(void);

#endif
