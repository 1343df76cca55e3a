// Tenant window cache: a sorted array searched by id (tenants are few and change rarely).
#include "sched_tenants.h"
#include "lull_json.h"
#include "lull_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TENANTS 1000000
#define MAX_WINDOW_MS 86400000  // one day: any longer setting is clamped

typedef struct {
    int64_t id;
    int32_t window_ms[LULL_CH_COUNT];   // by lull_channel_t
    int32_t max_wait_ms[LULL_CH_COUNT];
} s_entry_t;

struct sched_tenants {
    s_entry_t *v;
    int n, cap;
    int64_t def_window, def_max_wait;
};

sched_tenants_t *sched_tenants_new(int64_t def_window_ms, int64_t def_max_wait_ms)
{
    sched_tenants_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->def_window = def_window_ms;
    self->def_max_wait = def_max_wait_ms;
    return self;
}

void sched_tenants_destroy(sched_tenants_t **self_p)
{
    if (!self_p || !*self_p) return;
    free((*self_p)->v);
    free(*self_p);
    *self_p = NULL;
}

static int s_find(const sched_tenants_t *self, int64_t id, bool *found)
{
    int lo = 0, hi = self->n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (self->v[mid].id < id) lo = mid + 1;
        else hi = mid;
    }
    *found = lo < self->n && self->v[lo].id == id;
    return lo;
}

static int32_t s_clamp(int64_t ms) { return (int32_t)(ms < 0 ? 0 : ms > MAX_WINDOW_MS ? MAX_WINDOW_MS : ms); }

static void s_fill(s_entry_t *e, int64_t id, int64_t window_ms, int64_t max_wait_ms, const char *channel_windows)
{
    e->id = id;
    for (int c = 0; c < LULL_CH_COUNT; c++) {
        e->window_ms[c] = s_clamp(window_ms);
        e->max_wait_ms[c] = s_clamp(max_wait_ms);
    }
    if (!channel_windows || !*channel_windows) return;
    char err[128] = "";
    cJSON *root = lull_json_parse(channel_windows, strlen(channel_windows), 4, err, sizeof err);
    if (!root || !cJSON_IsObject(root)) {
        LOG_WARN("tenant.channel_windows_invalid", err[0] ? err : "not an object", "tenant", LI(id));
        cJSON_Delete(root);
        return;
    }
    const cJSON *ch = NULL;
    cJSON_ArrayForEach(ch, root)
    {
        lull_channel_t c = lull_channel_parse(ch->string);
        if (!lull_channel_is_input(c) || !cJSON_IsObject(ch)) {
            LOG_WARN("tenant.channel_windows_invalid", "unknown channel or not an object", "tenant", LI(id),
                     "channel", LS(ch->string ? ch->string : ""));
            continue;
        }
        int64_t w = e->window_ms[c], m = e->max_wait_ms[c];
        if (lull_json_int(ch, "window_ms", false, false, 0, MAX_WINDOW_MS, &w, err, sizeof err) != 0 ||
            lull_json_int(ch, "max_wait_ms", false, false, 0, MAX_WINDOW_MS, &m, err, sizeof err) != 0) {
            LOG_WARN("tenant.channel_windows_invalid", err, "tenant", LI(id), "channel", LS(ch->string));
            continue;
        }
        e->window_ms[c] = (int32_t)w;
        e->max_wait_ms[c] = (int32_t)m;
    }
    cJSON_Delete(root);
}

int sched_tenants_set(sched_tenants_t *self, int64_t tenant_id, int64_t window_ms, int64_t max_wait_ms,
                      const char *channel_windows)
{
    bool found;
    int i = s_find(self, tenant_id, &found);
    if (!found) {
        if (self->n >= MAX_TENANTS) return -1;
        if (self->n == self->cap) {
            int cap = self->cap ? self->cap * 2 : 16;
            s_entry_t *p = realloc(self->v, (size_t)cap * sizeof *p);
            if (!p) return -1;
            self->v = p;
            self->cap = cap;
        }
        memmove(&self->v[i + 1], &self->v[i], (size_t)(self->n - i) * sizeof *self->v);
        self->n++;
    }
    s_fill(&self->v[i], tenant_id, window_ms, max_wait_ms, channel_windows);
    return 0;
}

static const char *SQL_TENANTS =
    "SELECT id, window_ms, max_wait_ms, channel_windows::text FROM tenants WHERE id >= $1 AND id <= $2 "
    "ORDER BY id LIMIT 1000000";

static int s_load(sched_tenants_t *self, lull_db_t *db, int64_t lo, int64_t hi, int *rows)
{
    char a[24], b[24];
    snprintf(a, sizeof a, "%lld", (long long)lo);
    snprintf(b, sizeof b, "%lld", (long long)hi);
    const char *params[2] = {a, b};
    PGresult *res = lull_db_exec(db, SQL_TENANTS, 2, params);
    if (!res) return -1;
    int n = PQntuples(res);
    int rc = 0;
    for (int r = 0; r < n && rc == 0; r++) {
        bool ok1, ok2, ok3;
        int64_t id = lull_db_int(res, r, 0, &ok1), w = lull_db_int(res, r, 1, &ok2), m = lull_db_int(res, r, 2, &ok3);
        if (!ok1 || !ok2 || !ok3) continue;
        rc = sched_tenants_set(self, id, w, m, lull_db_text(res, r, 3));
    }
    PQclear(res);
    *rows = n;
    return rc;
}

int sched_tenants_load(sched_tenants_t *self, lull_db_t *db)
{
    // load into a fresh cache, then swap, so a failure keeps the old one
    sched_tenants_t *fresh = sched_tenants_new(self->def_window, self->def_max_wait);
    if (!fresh) return -1;
    int rows = 0;
    if (s_load(fresh, db, 0, INT64_MAX, &rows) != 0) {
        sched_tenants_destroy(&fresh);
        return -1;
    }
    s_entry_t *old = self->v;
    self->v = fresh->v;
    self->n = fresh->n;
    self->cap = fresh->cap;
    fresh->v = old;
    sched_tenants_destroy(&fresh);
    return 0;
}

int sched_tenants_load_one(sched_tenants_t *self, lull_db_t *db, int64_t tenant_id)
{
    int rows = 0;
    if (s_load(self, db, tenant_id, tenant_id, &rows) != 0) return -1;
    return rows > 0 ? 0 : 1;
}

bool sched_tenants_known(const sched_tenants_t *self, int64_t tenant_id)
{
    bool found;
    s_find(self, tenant_id, &found);
    return found;
}

void sched_tenants_get(const sched_tenants_t *self, int64_t tenant_id, lull_channel_t channel, int64_t *window_ms,
                       int64_t *max_wait_ms)
{
    bool found;
    int i = s_find(self, tenant_id, &found);
    if ((int)channel < 0 || channel >= LULL_CH_COUNT) channel = LULL_CH_OTHER;
    *window_ms = found ? self->v[i].window_ms[channel] : self->def_window;
    *max_wait_ms = found ? self->v[i].max_wait_ms[channel] : self->def_max_wait;
}

int sched_tenants_count(const sched_tenants_t *self) { return self->n; }
