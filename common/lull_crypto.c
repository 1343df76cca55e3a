// OpenSSL-backed hashing, HMAC and encoding helpers.
#include "lull_crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static int s_rand_bytes(void *buf, size_t len) { return len <= INT32_MAX && RAND_bytes(buf, (int)len) == 1 ? 0 : -1; }

static _Atomic(lull_random_fn *) s_random_source = s_rand_bytes;

int lull_hmac_sha1(const void *key, size_t key_len, const void *msg, size_t msg_len, uint8_t out[20])
{
    unsigned int n = 0;
    return HMAC(EVP_sha1(), key, (int)key_len, msg, msg_len, out, &n) && n == 20 ? 0 : -1;
}

int lull_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len, uint8_t out[32])
{
    unsigned int n = 0;
    return HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &n) && n == 32 ? 0 : -1;
}

int lull_sha256(const void *msg, size_t msg_len, uint8_t out[32])
{
    unsigned int n = 0;
    return EVP_Digest(msg, msg_len, out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -1;
}

char *lull_hex(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
    return out;
}

int lull_base64_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
    size_t need = 4 * ((len + 2) / 3) + 1;
    if (cap < need) return -1;
    return EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

static int s_b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int lull_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
    while (len && in[len - 1] == '=') len--;
    if (len % 4 == 1) return -1;
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = s_b64_value(in[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap) return -1;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return (int)n;
}

int lull_base64url_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
    int n = lull_base64_encode(in, len, out, cap);
    if (n < 0) return -1;
    while (n > 0 && out[n - 1] == '=') out[--n] = '\0';
    for (int i = 0; i < n; i++) out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    return n;
}

bool lull_ct_equal(const void *a, size_t a_len, const void *b, size_t b_len)
{
    if (a_len != b_len) return false;
    return CRYPTO_memcmp(a, b, a_len) == 0;
}

int lull_random_bytes(void *buf, size_t len) { return atomic_load(&s_random_source)(buf, len); }

void lull_random_set_source(lull_random_fn *fill) { atomic_store(&s_random_source, fill ? fill : s_rand_bytes); }

char *lull_random_id(const char *prefix, size_t nbytes, char *out, size_t cap)
{
    uint8_t raw[64];
    char hex[129];
    if (cap) out[0] = '\0';
    if (nbytes > sizeof raw) nbytes = sizeof raw;
    if (lull_random_bytes(raw, nbytes) != 0) return NULL;
    int n = snprintf(out, cap, "%s%s", prefix ? prefix : "", lull_hex(raw, nbytes, hex));
    if (n < 0 || (size_t)n >= cap) {
        if (cap) out[0] = '\0';
        return NULL;
    }
    return out;
}

#define S_KDF_ALG "pbkdf2-sha256"
#define S_KDF_SALT 16  // bytes
#define S_KDF_OUT 32   // bytes

static int s_pbkdf2(const void *secret, size_t len, const uint8_t *salt, size_t salt_len, uint32_t iterations,
                    uint8_t out[S_KDF_OUT])
{
    if (len > INT32_MAX || iterations > INT32_MAX) return -1;
    return PKCS5_PBKDF2_HMAC(secret, (int)len, salt, (int)salt_len, (int)iterations, EVP_sha256(), S_KDF_OUT, out) == 1
               ? 0
               : -1;
}

int lull_kdf_hash(const void *secret, size_t len, uint32_t iterations, char *out, size_t cap)
{
    uint8_t salt[S_KDF_SALT], hash[S_KDF_OUT];
    char salt_b64[32], hash_b64[48];
    if (cap) out[0] = '\0';
    if (iterations < LULL_KDF_ITERATIONS_MIN || iterations > LULL_KDF_ITERATIONS_MAX) return -1;
    if (lull_random_bytes(salt, sizeof salt) != 0 || s_pbkdf2(secret, len, salt, sizeof salt, iterations, hash) != 0)
        return -1;
    if (lull_base64_encode(salt, sizeof salt, salt_b64, sizeof salt_b64) < 0 ||
        lull_base64_encode(hash, sizeof hash, hash_b64, sizeof hash_b64) < 0)
        return -1;
    int n = snprintf(out, cap, S_KDF_ALG "$%u$%s$%s", (unsigned)iterations, salt_b64, hash_b64);
    OPENSSL_cleanse(hash, sizeof hash);
    if (n < 0 || (size_t)n >= cap) {
        if (cap) out[0] = '\0';
        return -1;
    }
    return 0;
}

bool lull_kdf_verify(const void *secret, size_t len, const char *stored)
{
    const char *p = stored;
    if (!p || strncmp(p, S_KDF_ALG "$", sizeof S_KDF_ALG) != 0) return false;
    p += sizeof S_KDF_ALG;
    uint32_t iterations = 0;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 9; p++, digits++) iterations = iterations * 10 + (uint32_t)(*p - '0');
    if (digits == 0 || *p != '$' || iterations < LULL_KDF_ITERATIONS_MIN || iterations > LULL_KDF_ITERATIONS_MAX)
        return false;
    const char *salt_s = p + 1, *hash_s = strchr(salt_s, '$');
    if (!hash_s) return false;
    uint8_t salt[64], want[S_KDF_OUT + 4], got[S_KDF_OUT];
    int salt_len = lull_base64_decode(salt_s, (size_t)(hash_s - salt_s), salt, sizeof salt);
    int want_len = lull_base64_decode(hash_s + 1, strlen(hash_s + 1), want, sizeof want);
    if (salt_len < 4 || want_len != S_KDF_OUT) return false;
    if (s_pbkdf2(secret, len, salt, (size_t)salt_len, iterations, got) != 0) return false;
    bool ok = CRYPTO_memcmp(got, want, S_KDF_OUT) == 0;
    OPENSSL_cleanse(got, sizeof got);
    return ok;
}

double lull_random_unit(void)
{
    static _Thread_local uint64_t state;
    if (state == 0 && lull_random_bytes(&state, sizeof state) != 0) state = 0x9E3779B97F4A7C15ULL;
    if (state == 0) state = 1;
    // xorshift64*
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    uint64_t x = state * 0x2545F4914F6CDD1DULL;
    return (double)(x >> 11) / 9007199254740992.0;
}
