// Metrics registry: counters, gauges and histograms, updated lock-free from any thread and rendered in
// the Prometheus text exposition format (version 0.0.4).
#ifndef LULL_METRICS_H
#define LULL_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct lull_metrics lull_metrics_t;
typedef struct lull_metric lull_counter_t;
typedef struct lull_metric lull_gauge_t;
typedef struct lull_metric lull_histogram_t;

#define LULL_METRICS_MAX_BUCKETS 24
#define LULL_METRICS_MAX_SERIES 512

// Creates an empty registry; NULL on failure.
lull_metrics_t *lull_metrics_new(void);
// Destroys a registry and every metric in it; NULL-safe, nulls the pointer.
void lull_metrics_destroy(lull_metrics_t **self_p);
// The process-wide registry (created on first use, lives until exit).
lull_metrics_t *lull_metrics_default(void);

// Registers (or finds) a counter series. name: metric name; labels: `key="value",…` or NULL; help: one line.
// The registry owns the result; NULL when the name is invalid or the registry is full.
lull_counter_t *lull_metrics_counter(lull_metrics_t *self, const char *name, const char *labels, const char *help);
// Registers (or finds) a gauge series, as above.
lull_gauge_t *lull_metrics_gauge(lull_metrics_t *self, const char *name, const char *labels, const char *help);
// Registers (or finds) a histogram series with ascending upper bounds (at most LULL_METRICS_MAX_BUCKETS).
lull_histogram_t *lull_metrics_histogram(lull_metrics_t *self, const char *name, const char *labels,
                                         const char *help, const double *bounds, size_t nbounds);

// Adds n to a counter (NULL-safe).
void lull_counter_add(lull_counter_t *c, uint64_t n);
// Current value of a counter (0 for NULL).
uint64_t lull_counter_value(const lull_counter_t *c);
// Sets a gauge (NULL-safe).
void lull_gauge_set(lull_gauge_t *g, double v);
// Adds delta to a gauge (NULL-safe).
void lull_gauge_add(lull_gauge_t *g, double delta);
// Current value of a gauge.
double lull_gauge_value(const lull_gauge_t *g);
// Records one observation (NULL-safe).
void lull_histogram_observe(lull_histogram_t *h, double v);
// Number of observations so far.
uint64_t lull_histogram_count(const lull_histogram_t *h);

// Renders every series as Prometheus text; the caller frees the result. NULL on allocation failure.
char *lull_metrics_render(lull_metrics_t *self);

// Bucket bounds in seconds suitable for latencies from 0.5 ms to 60 s.
extern const double LULL_METRICS_LATENCY_BUCKETS[];
extern const size_t LULL_METRICS_LATENCY_NBUCKETS;

#endif
