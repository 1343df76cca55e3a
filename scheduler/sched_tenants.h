// Tenant window settings cached in memory: window_ms and max_wait_ms per tenant with per-channel overrides
// (tenants.channel_windows), loaded from the database and refreshed periodically; process defaults for a
// tenant not (yet) known.
#ifndef SCHED_TENANTS_H
#define SCHED_TENANTS_H

#include <stdbool.h>
#include <stdint.h>

#include "lull_channel.h"
#include "lull_db.h"

typedef struct sched_tenants sched_tenants_t;

// Creates an empty cache answering def_window_ms / def_max_wait_ms for unknown tenants; NULL on failure.
sched_tenants_t *sched_tenants_new(int64_t def_window_ms, int64_t def_max_wait_ms);
// Frees the cache; NULL-safe, nulls the pointer.
void sched_tenants_destroy(sched_tenants_t **self_p);
// Sets one tenant from its columns; channel_windows is the jsonb text (may be NULL). Invalid overrides are
// logged and skipped. 0/-1 (no memory).
int sched_tenants_set(sched_tenants_t *self, int64_t tenant_id, int64_t window_ms, int64_t max_wait_ms,
                      const char *channel_windows);
// Reloads every tenant from the database (replacing the cache). 0, -1 on a database error (cache kept).
int sched_tenants_load(sched_tenants_t *self, lull_db_t *db);
// Loads one tenant (a tenant created after the last refresh). 0 loaded, 1 no such tenant, -1 db error.
int sched_tenants_load_one(sched_tenants_t *self, lull_db_t *db, int64_t tenant_id);
// True when the tenant is in the cache.
bool sched_tenants_known(const sched_tenants_t *self, int64_t tenant_id);
// Window and max wait (ms) for a tenant on a channel; defaults for an unknown tenant.
void sched_tenants_get(const sched_tenants_t *self, int64_t tenant_id, lull_channel_t channel, int64_t *window_ms,
                       int64_t *max_wait_ms);
// Number of tenants cached.
int sched_tenants_count(const sched_tenants_t *self);

#endif
