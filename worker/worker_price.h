// The model price table: rows of llm_prices (provider, model prefix, USD per million input, output, cached
// input and cache write tokens) held in memory, read at start and again every LULL_WORKER_PRICES_REFRESH_MS; the
// longest matching prefix prices a model.
#ifndef WORKER_PRICE_H
#define WORKER_PRICE_H

#include <stdint.h>

#include "lull_db.h"
#include "worker_dbq.h"

typedef struct worker_prices worker_prices_t;

// An empty table (every model costs 0 until the first load). NULL on allocation failure.
worker_prices_t *worker_prices_new(void);
// Frees; NULL-safe, nulls the pointer.
void worker_prices_destroy(worker_prices_t **self_p);
// Replaces the table with the rows of llm_prices. 0, or -1 (logged) leaving the table as it was.
int worker_prices_load(worker_prices_t *self, lull_db_t *db);
// worker_prices_load in two steps, for the database thread: the query (any thread; NULL on failure, logged),
// then the table replaced with its rows (the owner's thread; takes r, NULL leaves the table as it was). 0/-1.
PGresult *worker_prices_query(lull_db_t *db);
int worker_prices_apply(worker_prices_t *self, PGresult *r);
// Reads the prices again: now on db when dbq is NULL, else on the database thread (nothing when a read is on it
// already), applied when back on the loop. With dbq, free the table only after worker_dbq_drain.
void worker_prices_refresh(worker_prices_t *self, lull_db_t *db, worker_dbq_t *dbq);
// Rows held.
int worker_prices_count(const worker_prices_t *self);
// Estimated cost in USD of tokens_in prompt tokens (of which cached_in were read from the prompt cache, at
// the cached input price, and cache_write written to it, at the cache write price: when the row sets none,
// 1.25 × input for Anthropic, input elsewhere) and tokens_out completion tokens of model at provider: the longest prefix among provider's rows, else among every
// provider's (an OpenAI-compatible proxy serving another vendor's model). Unknown model: 0, logged at debug.
double worker_prices_cost(const worker_prices_t *self, const char *provider, const char *model, int64_t tokens_in,
                          int64_t cached_in, int64_t cache_write, int64_t tokens_out);

#endif
