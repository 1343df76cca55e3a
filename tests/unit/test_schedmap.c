// Unit tests of lull_schedmap's pure part: endpoint and name validation, snapshots built from database rows (bad
// rows skipped, owners that are not live, bounds), the owner of a conversation, and lull_proto_partition.
#include "lull_proto.h"
#include "lull_schedmap.h"
#include "lull_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

LULL_TEST(endpoints)
{
    static const char *const good[] = {"tcp://127.0.0.1:5550", "tcp://sched-1.internal:1", "tcp://*:65535",
                                       "tcp://[::1]:5550", "ipc:///run/lull/sched.ipc",
                                       "ipc://@abstract"};
    static const char *const bad[] = {NULL, "", "tcp://", "tcp://host", "tcp://host:", "tcp://:5550",
                                      "tcp://host:0", "tcp://host:65536", "tcp://host:12a", "tcp://host:123456",
                                      "tcp://ho st:1", "tcp://host;rm:1", "udp://host:1", "inproc://x", "ipc://",
                                      "ipc://a b", "tcp://[::1:5550", "http://127.0.0.1:80", "tcp://h\n:1"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (!lull_schedmap_endpoint_ok(good[i])) fprintf(stderr, "  refused: %s\n", good[i]);
        LULL_CHECK(lull_schedmap_endpoint_ok(good[i]));
    }
    LULL_CHECK(!lull_schedmap_endpoint_ok("tcp://[fe80::1%eth0]:1"));  // no zone ids
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (lull_schedmap_endpoint_ok(bad[i])) fprintf(stderr, "  accepted: %s\n", bad[i] ? bad[i] : "(null)");
        LULL_CHECK(!lull_schedmap_endpoint_ok(bad[i]));
    }
    char longest[LULL_SCHEDMAP_ENDPOINT_MAX + 2];
    memset(longest, 'a', sizeof longest);
    memcpy(longest, "tcp://", 6);
    snprintf(longest + LULL_SCHEDMAP_ENDPOINT_MAX - 5, 7, ":5550");  // 255 bytes: accepted
    LULL_CHECK_EQ_INT((int)strlen(longest), LULL_SCHEDMAP_ENDPOINT_MAX);
    LULL_CHECK(lull_schedmap_endpoint_ok(longest));
    memset(longest, 'a', sizeof longest);
    memcpy(longest, "tcp://", 6);
    snprintf(longest + LULL_SCHEDMAP_ENDPOINT_MAX - 4, 6, ":5550");  // 256 bytes: refused
    LULL_CHECK(!lull_schedmap_endpoint_ok(longest));
    char ipc[200] = "ipc://";
    memset(ipc + 6, 'p', 108);
    ipc[6 + 108] = '\0';
    LULL_CHECK(!lull_schedmap_endpoint_ok(ipc));  // longer than a socket path
    ipc[6 + 107] = '\0';
    LULL_CHECK(lull_schedmap_endpoint_ok(ipc));
}

LULL_TEST(names)
{
    LULL_CHECK(lull_schedmap_name_ok("sched-1"));
    LULL_CHECK(lull_schedmap_name_ok("host.example:41@a_b"));
    LULL_CHECK(!lull_schedmap_name_ok(NULL));
    LULL_CHECK(!lull_schedmap_name_ok(""));
    LULL_CHECK(!lull_schedmap_name_ok("a b"));
    LULL_CHECK(!lull_schedmap_name_ok("a\"b"));
    char name[LULL_SCHEDMAP_NAME_MAX + 2];
    memset(name, 'n', sizeof name);
    name[LULL_SCHEDMAP_NAME_MAX] = '\0';
    LULL_CHECK(lull_schedmap_name_ok(name));
    name[LULL_SCHEDMAP_NAME_MAX] = 'n';
    name[LULL_SCHEDMAP_NAME_MAX + 1] = '\0';
    LULL_CHECK(!lull_schedmap_name_ok(name));
}

LULL_TEST(build_and_owner)
{
    lull_schedmap_node_row_t nodes[] = {
        {"b", "tcp://127.0.0.1:2001", "tcp://127.0.0.1:2002", "tcp://127.0.0.1:2003"},
        {"a", "tcp://127.0.0.1:1001", "tcp://127.0.0.1:1002", "tcp://127.0.0.1:1003"},
        {"bad", "tcp://127.0.0.1:0", "tcp://127.0.0.1:2", "tcp://127.0.0.1:3"},       // bad inbound
        {"bad2", "tcp://127.0.0.1:1", NULL, "tcp://127.0.0.1:3"},                     // NULL worker
        {"x y", "tcp://127.0.0.1:1", "tcp://127.0.0.1:2", "tcp://127.0.0.1:3"},       // bad name
        {"a", "tcp://127.0.0.1:9", "tcp://127.0.0.1:9", "tcp://127.0.0.1:9"},         // repeated name
    };
    lull_schedmap_part_row_t parts[] = {
        {"0", "a"}, {"1", "b"}, {"2", "gone"},  // an owner that is not live: no owner
        {"3", NULL}, {"4", "a"}, {"4", "b"},    // repeated: the first one counts
        {"8", "a"}, {"-1", "a"}, {"x", "a"}, {NULL, "a"},  // out of range or not a number
    };
    int skipped = -1;
    lull_schedmap_snap_t *s = lull_schedmap_snap_build(8, nodes, 6, parts, 10, false, &skipped);
    LULL_CHECK(s != NULL);
    if (!s) return;
    LULL_CHECK_EQ_INT(s->partitions, 8);
    LULL_CHECK_EQ_INT(s->nnodes, 2);
    LULL_CHECK_EQ_STR(s->nodes[0].name, "a");  // sorted by name
    LULL_CHECK_EQ_STR(s->nodes[0].inbound, "tcp://127.0.0.1:1001");
    LULL_CHECK_EQ_STR(s->nodes[1].control, "tcp://127.0.0.1:2003");
    LULL_CHECK_EQ_INT(skipped, 3 + 1 + 1 + 4);  // 3 bad nodes, 1 repeated node, 1 repeated partition, 4 bad partitions
    LULL_CHECK_EQ_INT(s->owned, 3);
    const lull_schednode_t *o = lull_schedmap_snap_owner(s, 16);  // 16 % 8 = 0
    LULL_CHECK(o && strcmp(o->name, "a") == 0);
    o = lull_schedmap_snap_owner(s, 9);
    LULL_CHECK(o && strcmp(o->name, "b") == 0);
    LULL_CHECK(lull_schedmap_snap_owner(s, 10) == NULL);  // owner "gone"
    LULL_CHECK(lull_schedmap_snap_owner(s, 11) == NULL);  // no owner
    o = lull_schedmap_snap_owner(s, 12);
    LULL_CHECK(o && strcmp(o->name, "a") == 0);
    LULL_CHECK(lull_schedmap_snap_owner(s, 7) == NULL);
    LULL_CHECK(lull_schedmap_snap_owner(NULL, 1) == NULL);
    lull_schedmap_snap_t *r = lull_schedmap_snap_ref(s);
    lull_schedmap_snap_release(&s);
    LULL_CHECK(s == NULL);
    LULL_CHECK_EQ_STR(r->nodes[1].name, "b");  // still held by the other reference
    lull_schedmap_snap_release(&r);
    lull_schedmap_snap_release(&r);  // NULL: harmless
}

LULL_TEST(bounds)
{
    // partitions out of range: the default
    lull_schedmap_snap_t *s = lull_schedmap_snap_build(0, NULL, 0, NULL, 0, false, NULL);
    LULL_CHECK(s && s->partitions == LULL_SCHEDMAP_DEFAULT_PARTITIONS && s->nnodes == 0 && s->owned == 0);
    lull_schedmap_snap_release(&s);
    s = lull_schedmap_snap_build(LULL_SCHEDMAP_MAX_PARTITIONS + 1, NULL, 0, NULL, 0, false, NULL);
    LULL_CHECK(s && s->partitions == LULL_SCHEDMAP_DEFAULT_PARTITIONS);
    lull_schedmap_snap_release(&s);
    // more nodes than the bound: the rest skipped
    int n = LULL_SCHEDMAP_MAX_NODES + 3;
    lull_schedmap_node_row_t *rows = calloc((size_t)n, sizeof *rows);
    char (*names)[16] = calloc((size_t)n, sizeof *names);
    LULL_CHECK(rows && names);
    if (!rows || !names) return;
    for (int i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "n%05d", i);
        rows[i] = (lull_schedmap_node_row_t){names[i], "ipc://in", "ipc://wk", "ipc://ctl"};
    }
    int skipped = 0;
    lull_schedmap_part_row_t parts[] = {{"4095", "n01025"}, {"4094", "n00000"}};  // the first owner was cut off
    s = lull_schedmap_snap_build(4096, rows, n, parts, 2, false, &skipped);
    LULL_CHECK(s && s->nnodes == LULL_SCHEDMAP_MAX_NODES && skipped == 3 && s->owned == 1);
    LULL_CHECK(s && lull_schedmap_snap_owner(s, 4095) == NULL);
    LULL_CHECK(s && lull_schedmap_snap_owner(s, 4094 + 4096) != NULL);
    lull_schedmap_snap_release(&s);
    free(rows);
    free(names);
}

LULL_TEST(partition)
{
    LULL_CHECK_EQ_INT(lull_proto_partition(0, 256), 0);
    LULL_CHECK_EQ_INT(lull_proto_partition(257, 256), 1);
    LULL_CHECK_EQ_INT(lull_proto_partition(255, 256), 255);
    LULL_CHECK_EQ_INT(lull_proto_partition(12345, 1), 0);
    LULL_CHECK_EQ_INT(lull_proto_partition(-5, 8), 0);
    LULL_CHECK_EQ_INT(lull_proto_partition(INT64_MAX, 4096), (int)(INT64_MAX % 4096));
    // the map agrees with lull_proto_partition
    lull_schedmap_node_row_t nodes[] = {{"a", "ipc://a", "ipc://a", "ipc://a"}};
    lull_schedmap_part_row_t parts[] = {{"5", "a"}};
    lull_schedmap_snap_t *s = lull_schedmap_snap_build(7, nodes, 1, parts, 1, false, NULL);
    for (int64_t c = 0; s && c < 100; c++)
        LULL_CHECK((lull_schedmap_snap_owner(s, c) != NULL) == (lull_proto_partition(c, 7) == 5));
    lull_schedmap_snap_release(&s);
}

int main(void)
{
    LULL_RUN(endpoints);
    LULL_RUN(names);
    LULL_RUN(build_and_owner);
    LULL_RUN(bounds);
    LULL_RUN(partition);
    return lull_test_summary();
}
