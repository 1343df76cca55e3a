// Address classification for outbound requests to tenant-controlled URLs: public or not, and allowlists.
#include "lull_netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    uint8_t addr[16];
    int prefix;
} s_range_t;

// IPv4 ranges that are not public unicast (IANA special-purpose registry, the ones a server can reach).
static const s_range_t s_v4_special[] = {
    {{0, 0, 0, 0}, 8},          // "this network", unspecified
    {{10, 0, 0, 0}, 8},         // private
    {{100, 64, 0, 0}, 10},      // shared address space (carrier-grade NAT)
    {{127, 0, 0, 0}, 8},        // loopback
    {{169, 254, 0, 0}, 16},     // link-local (cloud metadata services)
    {{172, 16, 0, 0}, 12},      // private
    {{192, 0, 0, 0}, 24},       // IETF protocol assignments
    {{192, 0, 2, 0}, 24},       // documentation
    {{192, 88, 99, 0}, 24},     // 6to4 relay anycast
    {{192, 168, 0, 0}, 16},     // private
    {{198, 18, 0, 0}, 15},      // benchmarking
    {{198, 51, 100, 0}, 24},    // documentation
    {{203, 0, 113, 0}, 24},     // documentation
    {{224, 0, 0, 0}, 4},        // multicast
    {{240, 0, 0, 0}, 4},        // reserved, broadcast
};

// IPv6 ranges that are not public unicast (the ones that embed an IPv4 address are handled before these).
static const s_range_t s_v6_special[] = {
    {{0}, 96},                                    // unspecified, loopback, IPv4-compatible (embedded: checked first)
    {{0x00, 0x64, 0xff, 0x9b, 0, 1}, 48},         // local-use NAT64
    {{0x01, 0x00}, 64},                           // discard-only
    {{0x20, 0x01, 0x0d, 0xb8}, 32},               // documentation
    {{0xfc}, 7},                                  // unique local
    {{0xfe, 0x80}, 10},                           // link-local
    {{0xfe, 0xc0}, 10},                           // site-local (deprecated)
    {{0xff}, 8},                                  // multicast
};

static bool s_prefix_match(const uint8_t *a, const uint8_t *net, int prefix)
{
    int full = prefix / 8, rest = prefix % 8;
    if (memcmp(a, net, (size_t)full) != 0) return false;
    if (rest == 0) return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (net[full] & mask);
}

static bool s_v4_public(const uint8_t v4[4])
{
    for (size_t i = 0; i < sizeof s_v4_special / sizeof s_v4_special[0]; i++)
        if (s_prefix_match(v4, s_v4_special[i].addr, s_v4_special[i].prefix)) return false;
    return true;
}

// The IPv4 address an IPv6 address stands for (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64
// 64:ff9b::a.b.c.d, 6to4 2002:AABB:CCDD::), into v4; false when it embeds none.
static bool s_v6_embedded_v4(const uint8_t a[16], uint8_t v4[4])
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t compat[12] = {0};
    static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
    if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0 ||
        (memcmp(a, compat, 12) == 0 && (a[12] | a[13] | a[14]) != 0)) {  // ::, ::1 are not IPv4
        memcpy(v4, a + 12, 4);
        return true;
    }
    if (a[0] == 0x20 && a[1] == 0x02) {
        memcpy(v4, a + 2, 4);
        return true;
    }
    return false;
}

// The address bytes of sa as IPv4 (4 bytes) when it is IPv4 or IPv4-mapped, else IPv6 (16 bytes). 0 = unknown.
static int s_family_bytes(const struct sockaddr *sa, uint8_t out[16])
{
    if (!sa) return 0;
    if (sa->sa_family == AF_INET) {
        memcpy(out, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return AF_INET;
    }
    if (sa->sa_family == AF_INET6) {
        const uint8_t *a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, 12) == 0) {
            memcpy(out, a + 12, 4);
            return AF_INET;
        }
        memcpy(out, a, 16);
        return AF_INET6;
    }
    return 0;
}

bool lull_netaddr_is_public(const struct sockaddr *sa)
{
    uint8_t a[16], v4[4];
    int fam = s_family_bytes(sa, a);
    if (fam == AF_INET) return s_v4_public(a);
    if (fam != AF_INET6) return false;
    if (s_v6_embedded_v4(a, v4)) return s_v4_public(v4);
    for (size_t i = 0; i < sizeof s_v6_special / sizeof s_v6_special[0]; i++)
        if (s_prefix_match(a, s_v6_special[i].addr, s_v6_special[i].prefix)) return false;
    return true;
}

bool lull_netaddr_in_cidr(const lull_netaddr_cidr_t *range, const struct sockaddr *sa)
{
    uint8_t a[16];
    int fam = s_family_bytes(sa, a);
    return range && fam && fam == range->family && s_prefix_match(a, range->addr, range->prefix);
}

bool lull_netaddr_allowed(const lull_netaddr_allow_t *allow, const struct sockaddr *sa)
{
    if (lull_netaddr_is_public(sa)) return true;
    for (size_t i = 0; allow && i < allow->n; i++)
        if (lull_netaddr_in_cidr(&allow->range[i], sa)) return true;
    return false;
}

int lull_netaddr_cidr_parse(const char *text, lull_netaddr_cidr_t *out)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *slash = text ? strchr(text, '/') : NULL;
    size_t hl = slash ? (size_t)(slash - text) : (text ? strlen(text) : 0);
    if (hl == 0 || hl >= sizeof host) return -1;
    memcpy(host, text, hl);
    host[hl] = '\0';
    memset(out, 0, sizeof *out);
    int max;
    if (inet_pton(AF_INET, host, out->addr) == 1) {
        out->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, host, out->addr) == 1) {
        out->family = AF_INET6;
        max = 128;
    } else {
        return -1;
    }
    out->prefix = max;
    if (slash) {
        const char *p = slash + 1;
        int v = 0;
        if (!*p || strlen(p) > 3) return -1;
        for (; *p; p++) {
            if (*p < '0' || *p > '9') return -1;
            v = v * 10 + (*p - '0');
        }
        if (v > max) return -1;
        out->prefix = v;
    }
    // no host bits past the prefix: "10.0.0.1/8" is a typo, not a range
    for (int bit = out->prefix; bit < max; bit++)
        if (out->addr[bit / 8] & (0x80 >> (bit % 8))) return -1;
    // an IPv4-mapped range (::ffff:10.0.0.0/104) is kept as the IPv4 range it names: a mapped address compares
    // as IPv4 (lull_netaddr_in_cidr), so kept as IPv6 it would match nothing
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (out->family == AF_INET6 && out->prefix >= 96 && memcmp(out->addr, mapped, 12) == 0) {
        memmove(out->addr, out->addr + 12, 4);
        memset(out->addr + 4, 0, 12);
        out->family = AF_INET;
        out->prefix -= 96;
    }
    return 0;
}

int lull_netaddr_allow_parse(const char *const *items, size_t n, lull_netaddr_allow_t *out, char *err, size_t errlen)
{
    out->n = 0;
    if (n > LULL_NETADDR_ALLOW_MAX) {
        snprintf(err, errlen, "at most %d ranges", LULL_NETADDR_ALLOW_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (lull_netaddr_cidr_parse(items[i], &out->range[i]) != 0) {
            snprintf(err, errlen, "'%.60s' is not an address or CIDR range (10.0.0.0/8, fd00::/8)", items[i]);
            out->n = 0;
            return -1;
        }
    }
    out->n = n;
    return 0;
}
