// Unit tests of lull_netaddr: which addresses a tenant-controlled outbound URL may reach (public unicast only,
// IPv4-mapped and other embedded forms included) and CIDR allowlists.
#include "lull_netaddr.h"
#include "lull_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

// An AF_INET or AF_INET6 socket address for text (the family follows the text).
static const struct sockaddr *s_sa(const char *text)
{
    static struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)&ss;
    if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
    } else {
        LULL_CHECK(inet_pton(AF_INET6, text, &v6->sin6_addr) == 1);
        v6->sin6_family = AF_INET6;
    }
    return (const struct sockaddr *)&ss;
}

LULL_TEST(not_public)
{
    static const char *const refused[] = {
        "127.0.0.1", "127.255.255.254", "0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "172.16.0.1",
        "172.31.255.255", "192.168.1.1", "169.254.169.254", "169.254.0.1", "100.64.0.1", "224.0.0.1",
        "239.255.255.250", "255.255.255.255", "240.0.0.1", "198.18.0.1", "192.0.2.1",
        "::", "::1", "fe80::1", "febf::1", "fc00::1", "fd12:3456::1", "ff02::1", "ff0e::1",
        "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "::ffff:192.168.0.1", "::ffff:0.0.0.0",
        "::127.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b::127.0.0.1", "2002:7f00:1::", "2002:a9fe:a9fe::1",
        "64:ff9b:1::1", "2001:db8::1", "100::1", "fec0::1",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        if (lull_netaddr_is_public(s_sa(refused[i]))) fprintf(stderr, "  public: %s\n", refused[i]);
        LULL_CHECK(!lull_netaddr_is_public(s_sa(refused[i])));
        LULL_CHECK(!lull_netaddr_allowed(NULL, s_sa(refused[i])));
    }
}

LULL_TEST(public)
{
    static const char *const ok[] = {
        "8.8.8.8", "1.1.1.1", "93.184.216.34", "172.15.255.255", "172.32.0.1", "192.167.255.255", "192.169.0.1",
        "169.253.255.255", "100.63.255.255", "100.128.0.1", "223.255.255.255", "11.0.0.1", "126.255.255.255",
        "128.0.0.1", "2606:4700::1111", "2a00:1450:4001::1", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (!lull_netaddr_is_public(s_sa(ok[i]))) fprintf(stderr, "  not public: %s\n", ok[i]);
        LULL_CHECK(lull_netaddr_is_public(s_sa(ok[i])));
    }
    struct sockaddr other = {.sa_family = AF_UNIX};
    LULL_CHECK(!lull_netaddr_is_public(&other));  // not an IP address: not public
    LULL_CHECK(!lull_netaddr_is_public(NULL));
}

LULL_TEST(cidr_parse)
{
    lull_netaddr_cidr_t c;
    LULL_CHECK_EQ_INT(lull_netaddr_cidr_parse("10.0.0.0/8", &c), 0);
    LULL_CHECK_EQ_INT(c.family, AF_INET);
    LULL_CHECK_EQ_INT(c.prefix, 8);
    LULL_CHECK_EQ_INT(lull_netaddr_cidr_parse("127.0.0.1", &c), 0);
    LULL_CHECK_EQ_INT(c.prefix, 32);
    LULL_CHECK_EQ_INT(lull_netaddr_cidr_parse("fd00::/8", &c), 0);
    LULL_CHECK_EQ_INT(c.family, AF_INET6);
    LULL_CHECK_EQ_INT(c.prefix, 8);
    LULL_CHECK_EQ_INT(lull_netaddr_cidr_parse("0.0.0.0/0", &c), 0);
    LULL_CHECK_EQ_INT(c.prefix, 0);
    // an IPv4-mapped range is the IPv4 range it names (found by fuzz_common: kept as IPv6 it matched nothing)
    LULL_CHECK_EQ_INT(lull_netaddr_cidr_parse("::ffff:10.1.2.3/128", &c), 0);
    LULL_CHECK_EQ_INT(c.family, AF_INET);
    LULL_CHECK_EQ_INT(c.prefix, 32);
    LULL_CHECK(lull_netaddr_in_cidr(&c, s_sa("10.1.2.3")));
    LULL_CHECK(lull_netaddr_in_cidr(&c, s_sa("::ffff:10.1.2.3")));
    LULL_CHECK_EQ_INT(lull_netaddr_cidr_parse("::ffff:10.0.0.0/104", &c), 0);
    LULL_CHECK_EQ_INT(c.prefix, 8);
    LULL_CHECK(lull_netaddr_in_cidr(&c, s_sa("10.200.0.1")));
    LULL_CHECK(!lull_netaddr_in_cidr(&c, s_sa("11.0.0.1")));
    LULL_CHECK_EQ_INT(lull_netaddr_cidr_parse("::ffff:0.0.0.0/96", &c), 0);
    LULL_CHECK_EQ_INT(c.family, AF_INET);
    LULL_CHECK_EQ_INT(c.prefix, 0);
    static const char *const bad[] = {"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.1/8", "10.0.0/8", "::1/129",
                                      "fd00::1/8", "10.0.0.0/-1", "10.0.0.0/8x", "10.0.0.0/0008", "example.com",
                                      "10.0.0.0 /8", "1.2.3.4.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) LULL_CHECK_EQ_INT(lull_netaddr_cidr_parse(bad[i], &c), -1);
}

LULL_TEST(allowlist)
{
    const char *items[] = {"127.0.0.0/8", "fd00::/8", "192.168.10.5"};
    lull_netaddr_allow_t allow;
    char err[128];
    LULL_CHECK_EQ_INT(lull_netaddr_allow_parse(items, 3, &allow, err, sizeof err), 0);
    LULL_CHECK(lull_netaddr_allowed(&allow, s_sa("127.0.0.1")));
    LULL_CHECK(lull_netaddr_allowed(&allow, s_sa("127.9.9.9")));
    LULL_CHECK(lull_netaddr_allowed(&allow, s_sa("::ffff:127.0.0.1")));  // mapped compares as IPv4
    LULL_CHECK(lull_netaddr_allowed(&allow, s_sa("fd00::5")));
    LULL_CHECK(lull_netaddr_allowed(&allow, s_sa("192.168.10.5")));
    LULL_CHECK(!lull_netaddr_allowed(&allow, s_sa("192.168.10.6")));
    LULL_CHECK(!lull_netaddr_allowed(&allow, s_sa("::1")));             // IPv6 loopback is not 127/8
    LULL_CHECK(!lull_netaddr_allowed(&allow, s_sa("169.254.169.254")));
    LULL_CHECK(!lull_netaddr_allowed(&allow, s_sa("10.0.0.1")));
    LULL_CHECK(lull_netaddr_allowed(&allow, s_sa("8.8.8.8")));          // public needs no allowlist
    const char *bad[] = {"127.0.0.0/8", "localhost"};
    LULL_CHECK_EQ_INT(lull_netaddr_allow_parse(bad, 2, &allow, err, sizeof err), -1);
    LULL_CHECK(strstr(err, "localhost") != NULL);
    LULL_CHECK_EQ_INT((int)allow.n, 0);
}

int main(void)
{
    LULL_RUN(not_public);
    LULL_RUN(public);
    LULL_RUN(cidr_parse);
    LULL_RUN(allowlist);
    return lull_test_summary();
}
