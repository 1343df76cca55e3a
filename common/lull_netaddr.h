// Which addresses an outbound request to a tenant-controlled URL may connect to: a pure classifier of IPv4 and
// IPv6 socket addresses (loopback, link-local, private, multicast, unspecified … and the IPv4-mapped forms of
// those are not public) and an allowlist of CIDR ranges for deployments that deliver to internal hosts.
#ifndef LULL_NETADDR_H
#define LULL_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define LULL_NETADDR_ALLOW_MAX 64  // CIDR ranges in one allowlist at most

// One CIDR range (plain data). IPv4 ranges are kept as IPv4 (family AF_INET, 4 bytes of addr used).
typedef struct {
    int family;        // AF_INET or AF_INET6
    uint8_t addr[16];  // network address, bits past prefix zero
    int prefix;        // bits, 0..32 (IPv4) or 0..128 (IPv6)
} lull_netaddr_cidr_t;

// An allowlist (plain data): addresses inside any range are allowed even when not public.
typedef struct {
    lull_netaddr_cidr_t range[LULL_NETADDR_ALLOW_MAX];
    size_t n;
} lull_netaddr_allow_t;

// Parses "10.0.0.0/8", "fd00::/8" or a bare address (a single host) into *out. Bits set past the prefix are
// refused ("10.0.0.1/8"), so a range means what it says. 0/-1.
int lull_netaddr_cidr_parse(const char *text, lull_netaddr_cidr_t *out) __attribute__((warn_unused_result));
// True when sa (AF_INET or AF_INET6; IPv4-mapped IPv6 compares as IPv4) lies in range.
bool lull_netaddr_in_cidr(const lull_netaddr_cidr_t *range, const struct sockaddr *sa);
// True when sa is a public unicast address: not loopback, unspecified, link-local, private (RFC 1918, unique
// local fc00::/7), shared (100.64/10), multicast, broadcast or reserved, and no IPv4-mapped, IPv4-compatible,
// NAT64 or 6to4 form of one. Any other family is not public.
bool lull_netaddr_is_public(const struct sockaddr *sa);
// True when a connection to sa may be made: public, or inside one of allow's ranges (allow may be NULL).
bool lull_netaddr_allowed(const lull_netaddr_allow_t *allow, const struct sockaddr *sa);
// Parses items[0..n) (CIDR texts) into *out. 0, or -1 with the bad item named in err.
int lull_netaddr_allow_parse(const char *const *items, size_t n, lull_netaddr_allow_t *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
