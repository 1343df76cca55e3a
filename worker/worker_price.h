// The model price table: rows of llm_prices (provider, model prefix, USD per million input, output, cached
// input and cache write tokens) held in memory, read at start and again every LULL_WORKER_PRICES_REFRESH_MS; the
// longest matching prefix prices a model.
#ifndef WORKER_PRICE_H
#define WORKER_PRICE_H

#include <stdint.h>

#include "lull_db.h"

typedef struct worker_prices worker_prices_t;

// An empty table (every model costs 0 until the first load). NULL on allocation failure.
worker_prices_t *worker_prices_new(void);
// Frees; NULL-safe, nulls the pointer.
void worker_prices_destroy(worker_prices_t **self_p);
// Replaces the table with the rows of llm_prices. 0, or -1 (logged) leaving the table as it was.
int worker_prices_load(worker_prices_t *self, lull_db_t *db);
// Rows held.
int worker_prices_count(const worker_prices_t *self);
// Estimated cost in USD of tokens_in prompt tokens (of which cached_in were read from the prompt cache, at
// the cached input price, and cache_write written to it, at the cache write price: when the row sets none,
// 1.25 × input for Anthropic, input elsewhere) and tokens_out completion tokens of model at provider: the longest prefix among provider's rows, else among every
// provider's (an OpenAI-compatible proxy serving another vendor's model). Unknown model: 0, logged at debug.
double worker_prices_cost(const worker_prices_t *self, const char *provider, const char *model, int64_t tokens_in,
                          int64_t cached_in, int64_t cache_write, int64_t tokens_out);

#endif
