// Unit tests of lease mode's pure parts: a conversation's partition (lull_proto_partition, the same expression
// as the database's trigger), the fair share of each live scheduler, advertised endpoints, node names and the
// int[] literals the statements take.
#include "lull_test.h"
#include "lull_proto.h"
#include "../../scheduler/sched_lease.h"

#include <stdlib.h>
#include <string.h>

LULL_TEST(partition_is_id_modulo)
{
    LULL_CHECK_EQ_INT(lull_proto_partition(0, 256), 0);
    LULL_CHECK_EQ_INT(lull_proto_partition(255, 256), 255);
    LULL_CHECK_EQ_INT(lull_proto_partition(256, 256), 0);
    LULL_CHECK_EQ_INT(lull_proto_partition(1000, 256), 1000 % 256);
    LULL_CHECK_EQ_INT(lull_proto_partition(INT64_C(9007199254740993), 4096), (int)(INT64_C(9007199254740993) % 4096));
    LULL_CHECK_EQ_INT(lull_proto_partition(12345, 1), 0);
    LULL_CHECK_EQ_INT(lull_proto_partition(12345, 0), 0);
    LULL_CHECK_EQ_INT(lull_proto_partition(12345, -3), 0);
    // consecutive ids (a sequence) spread exactly evenly
    int counts[7] = {0};
    for (int64_t id = 1; id <= 7000; id++) counts[lull_proto_partition(id, 7)]++;
    for (int i = 0; i < 7; i++) LULL_CHECK_EQ_INT(counts[i], 1000);
}

LULL_TEST(fair_share)
{
    LULL_CHECK_EQ_INT(sched_lease_share(256, 1, 0), 256);
    LULL_CHECK_EQ_INT(sched_lease_share(256, 2, 0), 128);
    LULL_CHECK_EQ_INT(sched_lease_share(256, 2, 1), 128);
    LULL_CHECK_EQ_INT(sched_lease_share(256, 3, 0), 86);  // the first P % n get one more
    LULL_CHECK_EQ_INT(sched_lease_share(256, 3, 1), 85);
    LULL_CHECK_EQ_INT(sched_lease_share(256, 3, 2), 85);
    LULL_CHECK_EQ_INT(sched_lease_share(3, 5, 2), 1);
    LULL_CHECK_EQ_INT(sched_lease_share(3, 5, 3), 0);  // more nodes than partitions: some hold none
    LULL_CHECK_EQ_INT(sched_lease_share(256, 3, 3), 0);   // not a live node
    LULL_CHECK_EQ_INT(sched_lease_share(256, 3, -1), 0);
    LULL_CHECK_EQ_INT(sched_lease_share(256, 0, 0), 0);
    // the shares always add up to every partition
    for (int p = 1; p <= 4096; p += 97)
        for (int n = 1; n <= 40; n++) {
            int sum = 0, lo = p, hi = 0;
            for (int i = 0; i < n; i++) {
                int s = sched_lease_share(p, n, i);
                sum += s;
                if (s < lo) lo = s;
                if (s > hi) hi = s;
            }
            LULL_CHECK_EQ_INT(sum, p);
            LULL_CHECK(hi - lo <= 1);
        }
}

LULL_TEST(advertised_endpoints)
{
    char out[64];
    LULL_CHECK_EQ_INT(sched_lease_advertise("tcp://*:5550", "sched1", out, sizeof out), 0);
    LULL_CHECK_EQ_STR(out, "tcp://sched1:5550");
    LULL_CHECK_EQ_INT(sched_lease_advertise("tcp://0.0.0.0:5551", "h.example", out, sizeof out), 0);
    LULL_CHECK_EQ_STR(out, "tcp://h.example:5551");
    LULL_CHECK_EQ_INT(sched_lease_advertise("tcp://127.0.0.1:5553", "h", out, sizeof out), 0);
    LULL_CHECK_EQ_STR(out, "tcp://127.0.0.1:5553");
    LULL_CHECK_EQ_INT(sched_lease_advertise("ipc:///tmp/x", "h", out, sizeof out), 0);
    LULL_CHECK_EQ_STR(out, "ipc:///tmp/x");
    LULL_CHECK_EQ_INT(sched_lease_advertise("tcp://*:5550", "a-very-long-host-name-that-does-not-fit", out, 20), -1);
}

LULL_TEST(node_names_and_arrays)
{
    LULL_CHECK(sched_lease_name_ok("sched-1.example:4242"));
    LULL_CHECK(sched_lease_name_ok("a@b_c"));
    LULL_CHECK(!sched_lease_name_ok(""));
    LULL_CHECK(!sched_lease_name_ok("bad name"));
    LULL_CHECK(!sched_lease_name_ok("quote'"));
    char longname[130];
    memset(longname, 'x', 129);
    longname[129] = '\0';
    LULL_CHECK(!sched_lease_name_ok(longname));
    longname[128] = '\0';
    LULL_CHECK(sched_lease_name_ok(longname));
    int parts[3] = {0, 17, 4095};
    char *a = sched_lease_array(parts, 3);
    LULL_CHECK(a && strcmp(a, "{0,17,4095}") == 0);
    free(a);
    a = sched_lease_array(parts, 0);
    LULL_CHECK(a && strcmp(a, "{}") == 0);
    free(a);
}

int main(void)
{
    LULL_RUN(partition_is_id_modulo);
    LULL_RUN(fair_share);
    LULL_RUN(advertised_endpoints);
    LULL_RUN(node_names_and_arrays);
    return lull_test_summary();
}
