// The model price table, loaded from llm_prices (migrations/014_llm_prices.sql).
#include "worker_price.h"
#include "lull_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS 10000  // rows of llm_prices read at most
#define MAX_PREFIX 200

typedef struct {
    char provider[16];
    char prefix[MAX_PREFIX + 1];
    size_t prefix_len;
    double in, out, cached_in;  // USD per million tokens; cached_in < 0 = priced as input
    double cache_write;         // USD per million tokens written to the cache; < 0 = the provider's default
} s_price_t;

typedef struct {
    worker_dbq_task_t task;  // first
    worker_prices_t *prices;
    PGresult *r;             // set by the thread
} s_task_t;

struct worker_prices {
    s_price_t *rows;
    int n;
    bool in_flight;  // a read is on the database thread
};

worker_prices_t *worker_prices_new(void)
{
    return calloc(1, sizeof(worker_prices_t));
}

void worker_prices_destroy(worker_prices_t **self_p)
{
    if (!self_p || !*self_p) return;
    free((*self_p)->rows);
    free(*self_p);
    *self_p = NULL;
}

int worker_prices_count(const worker_prices_t *self)
{
    return self ? self->n : 0;
}

PGresult *worker_prices_query(lull_db_t *db)
{
    PGresult *r = lull_db_exec(db,
                               "SELECT provider, model_prefix, input_usd_per_mtok, output_usd_per_mtok,"
                               " cached_input_usd_per_mtok, cache_write_usd_per_mtok FROM llm_prices ORDER BY provider, model_prefix LIMIT "
                               "10000",
                               0, NULL);
    if (!r)
        LOG_WARN("prices.load_failed", "cannot read llm_prices; the previous prices stay", "error",
                 LS(lull_db_error(db)));
    return r;
}

int worker_prices_load(worker_prices_t *self, lull_db_t *db)
{
    return worker_prices_apply(self, worker_prices_query(db));
}

static void s_task_run(worker_dbq_task_t *task, lull_db_t *db)
{
    ((s_task_t *)task)->r = worker_prices_query(db);
}

static void s_task_done(worker_dbq_task_t *task)
{
    s_task_t *t = (s_task_t *)task;
    t->prices->in_flight = false;
    (void)worker_prices_apply(t->prices, t->r);
    free(t);
}

void worker_prices_refresh(worker_prices_t *self, lull_db_t *db, worker_dbq_t *dbq)
{
    if (!dbq) {
        (void)worker_prices_load(self, db);  // a failure keeps the prices read before (logged)
        return;
    }
    s_task_t *t = self->in_flight ? NULL : calloc(1, sizeof *t);
    if (!t) return;  // a read on the thread already, or out of memory: the next refresh
    t->task = (worker_dbq_task_t){.run = s_task_run, .done = s_task_done};
    t->prices = self;
    self->in_flight = true;
    worker_dbq_submit(dbq, &t->task);
}

int worker_prices_apply(worker_prices_t *self, PGresult *r)
{
    int rc = -1;
    s_price_t *rows = NULL;
    if (!r) goto cleanup;
    int n = PQntuples(r), k = 0;
    rows = n > 0 ? calloc((size_t)n, sizeof *rows) : NULL;
    if (n > 0 && !rows) goto cleanup;
    for (int i = 0; i < n && i < MAX_ROWS; i++) {
        const char *prov = lull_db_text(r, i, 0), *prefix = lull_db_text(r, i, 1);
        const char *in = lull_db_text(r, i, 2), *out = lull_db_text(r, i, 3), *cached = lull_db_text(r, i, 4);
        const char *write = lull_db_text(r, i, 5);
        if (!prov || !prefix || !*prefix || !in || !out || strlen(prov) >= sizeof rows[k].provider ||
            strlen(prefix) > MAX_PREFIX)
            continue;
        s_price_t *p = &rows[k++];
        snprintf(p->provider, sizeof p->provider, "%s", prov);
        snprintf(p->prefix, sizeof p->prefix, "%s", prefix);
        p->prefix_len = strlen(prefix);
        p->in = strtod(in, NULL);
        p->out = strtod(out, NULL);
        p->cached_in = cached ? strtod(cached, NULL) : -1;
        p->cache_write = write ? strtod(write, NULL) : -1;
    }
    free(self->rows);
    self->rows = rows;
    self->n = k;
    rows = NULL;
    LOG_DEBUG("prices.loaded", "model prices read from llm_prices", "rows", LI(k));
    rc = 0;
cleanup:
    free(rows);
    PQclear(r);
    return rc;
}

// The row with the longest prefix of model, among provider's rows (provider NULL: every row); NULL if none.
static const s_price_t *s_find(const worker_prices_t *self, const char *provider, const char *model)
{
    const s_price_t *best = NULL;
    for (int i = 0; i < self->n; i++) {
        const s_price_t *p = &self->rows[i];
        if (provider && strcmp(p->provider, provider) != 0) continue;
        if (strncmp(model, p->prefix, p->prefix_len) != 0) continue;
        if (!best || p->prefix_len > best->prefix_len) best = p;
    }
    return best;
}

double worker_prices_cost(const worker_prices_t *self, const char *provider, const char *model, int64_t tokens_in,
                          int64_t cached_in, int64_t cache_write, int64_t tokens_out)
{
    if (!self || !model) return 0;
    const s_price_t *p = s_find(self, provider, model);
    if (!p) p = s_find(self, NULL, model);
    if (!p) {
        LOG_DEBUG("prices.unknown_model", "no price for this model: cost 0", "provider", LS(provider ? provider : ""),
                  "model", LS(model));
        return 0;
    }
    if (cached_in < 0) cached_in = 0;
    if (cached_in > tokens_in) cached_in = tokens_in;
    if (cache_write < 0) cache_write = 0;
    if (cache_write > tokens_in - cached_in) cache_write = tokens_in - cached_in;
    double cached_price = p->cached_in >= 0 ? p->cached_in : p->in;
    double write_price = p->cache_write >= 0 ? p->cache_write : strcmp(p->provider, "anthropic") == 0 ? p->in * 1.25 : p->in;
    return ((double)(tokens_in - cached_in - cache_write) * p->in + (double)cached_in * cached_price +
            (double)cache_write * write_price + (double)tokens_out * p->out) /
           1e6;
}
