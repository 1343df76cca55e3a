// Metrics registry with atomic updates and Prometheus text rendering (grouped per metric name).
#include "lull_metrics.h"
#include "lull_buf.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM } kind_t;

struct lull_metric {
    kind_t kind;
    char *name;
    char *labels;  // may be NULL
    char *help;
    atomic_uint_fast64_t value;  // counter value, or gauge/sum as double bits
    size_t nbounds;
    double bounds[LULL_METRICS_MAX_BUCKETS];
    atomic_uint_fast64_t buckets[LULL_METRICS_MAX_BUCKETS + 1];  // last one is +Inf
    atomic_uint_fast64_t count;
};

struct lull_metrics {
    pthread_mutex_t lock;
    size_t n;
    struct lull_metric *series[LULL_METRICS_MAX_SERIES];
};

const double LULL_METRICS_LATENCY_BUCKETS[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                               0.1,    0.25,  0.5,    1,     2.5,  5,     10, 30, 60};
const size_t LULL_METRICS_LATENCY_NBUCKETS = sizeof LULL_METRICS_LATENCY_BUCKETS / sizeof(double);

static uint64_t s_dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double s_bitsd(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

lull_metrics_t *lull_metrics_new(void)
{
    lull_metrics_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    pthread_mutex_init(&self->lock, NULL);
    return self;
}

void lull_metrics_destroy(lull_metrics_t **self_p)
{
    if (!self_p || !*self_p) return;
    lull_metrics_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++) {
        free(self->series[i]->name);
        free(self->series[i]->labels);
        free(self->series[i]->help);
        free(self->series[i]);
    }
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

static lull_metrics_t *s_default;
static pthread_once_t s_default_once = PTHREAD_ONCE_INIT;
static void s_make_default(void) { s_default = lull_metrics_new(); }

lull_metrics_t *lull_metrics_default(void)
{
    pthread_once(&s_default_once, s_make_default);
    return s_default;
}

static bool s_valid_name(const char *name)
{
    if (!name || !(isalpha((unsigned char)*name) || *name == '_' || *name == ':')) return false;
    for (const char *p = name; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == ':')) return false;
    return true;
}

static bool s_same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static struct lull_metric *s_register(lull_metrics_t *self, kind_t kind, const char *name, const char *labels,
                                      const char *help, const double *bounds, size_t nbounds)
{
    if (!self || !s_valid_name(name) || nbounds > LULL_METRICS_MAX_BUCKETS) return NULL;
    if (labels && !*labels) labels = NULL;
    struct lull_metric *m = NULL;
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->n; i++) {
        struct lull_metric *s = self->series[i];
        if (strcmp(s->name, name) == 0 && s_same(s->labels, labels)) {
            m = s->kind == kind ? s : NULL;
            goto done;
        }
    }
    if (self->n == LULL_METRICS_MAX_SERIES) goto done;
    m = calloc(1, sizeof *m);
    if (!m) goto done;
    m->kind = kind;
    m->name = strdup(name);
    m->labels = labels ? strdup(labels) : NULL;
    m->help = strdup(help ? help : "");
    m->nbounds = nbounds;
    if (nbounds) memcpy(m->bounds, bounds, nbounds * sizeof(double));
    if (!m->name || !m->help || (labels && !m->labels)) {
        free(m->name);
        free(m->labels);
        free(m->help);
        free(m);
        m = NULL;
        goto done;
    }
    if (kind != KIND_COUNTER) atomic_store(&m->value, s_dbits(0.0));
    self->series[self->n++] = m;
done:
    pthread_mutex_unlock(&self->lock);
    return m;
}

lull_counter_t *lull_metrics_counter(lull_metrics_t *self, const char *name, const char *labels, const char *help)
{
    return s_register(self, KIND_COUNTER, name, labels, help, NULL, 0);
}

lull_gauge_t *lull_metrics_gauge(lull_metrics_t *self, const char *name, const char *labels, const char *help)
{
    return s_register(self, KIND_GAUGE, name, labels, help, NULL, 0);
}

lull_histogram_t *lull_metrics_histogram(lull_metrics_t *self, const char *name, const char *labels,
                                         const char *help, const double *bounds, size_t nbounds)
{
    for (size_t i = 1; i < nbounds; i++)
        if (!(bounds[i] > bounds[i - 1])) return NULL;
    return s_register(self, KIND_HISTOGRAM, name, labels, help, bounds, nbounds);
}

void lull_counter_add(lull_counter_t *c, uint64_t n)
{
    if (c) atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

uint64_t lull_counter_value(const lull_counter_t *c)
{
    return c ? atomic_load(&((lull_counter_t *)c)->value) : 0;
}

static void s_add_double(atomic_uint_fast64_t *cell, double delta)
{
    uint_fast64_t old = atomic_load_explicit(cell, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(cell, &old, s_dbits(s_bitsd(old) + delta),
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
}

void lull_gauge_set(lull_gauge_t *g, double v)
{
    if (g) atomic_store_explicit(&g->value, s_dbits(v), memory_order_relaxed);
}

void lull_gauge_add(lull_gauge_t *g, double delta)
{
    if (g) s_add_double(&g->value, delta);
}

double lull_gauge_value(const lull_gauge_t *g)
{
    return g ? s_bitsd(atomic_load(&((lull_gauge_t *)g)->value)) : 0.0;
}

void lull_histogram_observe(lull_histogram_t *h, double v)
{
    if (!h || isnan(v)) return;
    size_t i = 0;
    while (i < h->nbounds && v > h->bounds[i]) i++;
    atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    s_add_double(&h->value, v);
}

uint64_t lull_histogram_count(const lull_histogram_t *h)
{
    return h ? atomic_load(&((lull_histogram_t *)h)->count) : 0;
}

static void s_fmt_double(char *buf, size_t len, double v)
{
    if (isinf(v)) snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
    else if (isnan(v)) snprintf(buf, len, "NaN");
    else snprintf(buf, len, "%.17g", v);
}

static void s_render_series(lull_buf_t *o, struct lull_metric *m)
{
    const char *l = m->labels;
    char num[64];
    if (m->kind == KIND_COUNTER) {
        lull_buf_printf(o, "%s%s%s%s %llu\n", m->name, l ? "{" : "", l ? l : "", l ? "}" : "",
                 (unsigned long long)atomic_load(&m->value));
    } else if (m->kind == KIND_GAUGE) {
        s_fmt_double(num, sizeof num, s_bitsd(atomic_load(&m->value)));
        lull_buf_printf(o, "%s%s%s%s %s\n", m->name, l ? "{" : "", l ? l : "", l ? "}" : "", num);
    } else {
        uint64_t cum = 0;
        for (size_t i = 0; i <= m->nbounds; i++) {
            cum += atomic_load(&m->buckets[i]);
            if (i < m->nbounds) s_fmt_double(num, sizeof num, m->bounds[i]);
            else snprintf(num, sizeof num, "+Inf");
            lull_buf_printf(o, "%s_bucket{%s%sle=\"%s\"} %llu\n", m->name, l ? l : "", l ? "," : "", num,
                     (unsigned long long)cum);
        }
        s_fmt_double(num, sizeof num, s_bitsd(atomic_load(&m->value)));
        lull_buf_printf(o, "%s_sum%s%s%s %s\n", m->name, l ? "{" : "", l ? l : "", l ? "}" : "", num);
        lull_buf_printf(o, "%s_count%s%s%s %llu\n", m->name, l ? "{" : "", l ? l : "", l ? "}" : "",
                 (unsigned long long)cum);
    }
}

char *lull_metrics_render(lull_metrics_t *self)
{
    static const char *kinds[] = {"counter", "gauge", "histogram"};
    lull_buf_t o;
    lull_buf_init(&o, 0, false);
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->n; i++) {
        struct lull_metric *m = self->series[i];
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) seen = strcmp(self->series[j]->name, m->name) == 0;
        if (seen) continue;  // rendered with the first series of its name
        lull_buf_printf(&o, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name, kinds[m->kind]);
        for (size_t j = i; j < self->n; j++)
            if (strcmp(self->series[j]->name, m->name) == 0) s_render_series(&o, self->series[j]);
    }
    pthread_mutex_unlock(&self->lock);
    if (o.failed) {
        lull_buf_reset(&o);
        return NULL;
    }
    return lull_buf_take(&o);
}
