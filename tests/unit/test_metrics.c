// Unit tests of lull_metrics: registration, updates, Prometheus text format.
#include "lull_test.h"
#include "lull_metrics.h"

#include <pthread.h>
#include <stdlib.h>

LULL_TEST(counter_gauge_text)
{
    lull_metrics_t *m = lull_metrics_new();
    lull_counter_t *a = lull_metrics_counter(m, "lull_inbound_total", "channel=\"sms\"", "Inbound messages");
    lull_counter_t *b = lull_metrics_counter(m, "lull_inbound_total", "channel=\"tiktok\"", "Inbound messages");
    lull_gauge_t *g = lull_metrics_gauge(m, "lull_live_windows", NULL, "Live windows");
    lull_counter_t *other = lull_metrics_counter(m, "lull_other_total", NULL, "Other");
    LULL_CHECK(a && b && g && other && a != b);
    LULL_CHECK(lull_metrics_counter(m, "lull_inbound_total", "channel=\"sms\"", "x") == a);
    LULL_CHECK(lull_metrics_gauge(m, "lull_inbound_total", "channel=\"sms\"", "x") == NULL);  // kind clash
    lull_counter_add(a, 3);
    lull_counter_add(b, 1);
    lull_gauge_set(g, 10);
    lull_gauge_add(g, -2.5);
    LULL_CHECK_EQ_INT(lull_counter_value(a), 3);
    LULL_CHECK(lull_gauge_value(g) == 7.5);
    char *text = lull_metrics_render(m);
    LULL_CHECK(strstr(text, "# HELP lull_inbound_total Inbound messages\n# TYPE lull_inbound_total counter\n"
                            "lull_inbound_total{channel=\"sms\"} 3\nlull_inbound_total{channel=\"tiktok\"} 1\n") != NULL);
    LULL_CHECK(strstr(text, "# TYPE lull_live_windows gauge\nlull_live_windows 7.5\n") != NULL);
    // One HELP per name even with several series.
    LULL_CHECK(strstr(strstr(text, "# HELP lull_inbound_total") + 1, "# HELP lull_inbound_total") == NULL);
    free(text);
    lull_metrics_destroy(&m);
    LULL_CHECK(m == NULL);
    lull_metrics_destroy(&m);
}

LULL_TEST(histogram_buckets_are_cumulative)
{
    lull_metrics_t *m = lull_metrics_new();
    const double bounds[] = {0.1, 1, 10};
    lull_histogram_t *h = lull_metrics_histogram(m, "lull_latency_seconds", "op=\"x\"", "Latency", bounds, 3);
    LULL_CHECK(h != NULL);
    lull_histogram_observe(h, 0.05);
    lull_histogram_observe(h, 0.1);  // le is inclusive
    lull_histogram_observe(h, 5);
    lull_histogram_observe(h, 100);
    LULL_CHECK_EQ_INT(lull_histogram_count(h), 4);
    char *text = lull_metrics_render(m);
    LULL_CHECK(strstr(text, "lull_latency_seconds_bucket{op=\"x\",le=\"0.10000000000000001\"} 2\n") != NULL ||
               strstr(text, "lull_latency_seconds_bucket{op=\"x\",le=\"0.1\"} 2\n") != NULL);
    LULL_CHECK(strstr(text, "lull_latency_seconds_bucket{op=\"x\",le=\"1\"} 2\n") != NULL);
    LULL_CHECK(strstr(text, "lull_latency_seconds_bucket{op=\"x\",le=\"10\"} 3\n") != NULL);
    LULL_CHECK(strstr(text, "lull_latency_seconds_bucket{op=\"x\",le=\"+Inf\"} 4\n") != NULL);
    LULL_CHECK(strstr(text, "lull_latency_seconds_sum{op=\"x\"} 105.15000000000001\n") != NULL ||
               strstr(text, "lull_latency_seconds_sum{op=\"x\"} 105.15\n") != NULL);
    LULL_CHECK(strstr(text, "lull_latency_seconds_count{op=\"x\"} 4\n") != NULL);
    free(text);
    const double unsorted[] = {1, 0.5};
    LULL_CHECK(lull_metrics_histogram(m, "lull_bad", NULL, "x", unsorted, 2) == NULL);
    lull_metrics_destroy(&m);
}

LULL_TEST(invalid_names_rejected)
{
    lull_metrics_t *m = lull_metrics_new();
    LULL_CHECK(lull_metrics_counter(m, "9abc", NULL, "x") == NULL);
    LULL_CHECK(lull_metrics_counter(m, "a-b", NULL, "x") == NULL);
    LULL_CHECK(lull_metrics_counter(m, "", NULL, "x") == NULL);
    LULL_CHECK(lull_metrics_counter(m, NULL, NULL, "x") == NULL);
    lull_counter_add(NULL, 1);  // NULL-safe
    lull_metrics_destroy(&m);
}

static void *s_hammer(void *arg)
{
    for (int i = 0; i < 100000; i++) lull_counter_add(arg, 1);
    return NULL;
}

LULL_TEST(concurrent_increments_are_not_lost)
{
    lull_metrics_t *m = lull_metrics_new();
    lull_counter_t *c = lull_metrics_counter(m, "lull_hits_total", NULL, "Hits");
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, s_hammer, c);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    LULL_CHECK_EQ_INT(lull_counter_value(c), 400000);
    lull_metrics_destroy(&m);
}

int main(void)
{
    LULL_RUN(counter_gauge_text);
    LULL_RUN(histogram_buckets_are_cumulative);
    LULL_RUN(invalid_names_rejected);
    LULL_RUN(concurrent_increments_are_not_lost);
    return lull_test_summary();
}
