// The scheduler map (see the header): validation and snapshots (pure), and the reader thread that keeps the
// newest snapshot (LISTEN lull_sched, periodic reload, reconnect).
#include "lull_schedmap.h"
#include "lull_clock.h"
#include "lull_db.h"
#include "lull_db_listen.h"
#include "lull_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_RETRY_MS 200        // a failed reload is tried again after this, milliseconds
#define S_IPC_PATH_MAX 107    // sun_path less its NUL

// ---------------------------------------------------------------------------------------------------------
// Validation and snapshots (pure)

bool lull_schedmap_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > LULL_SCHEDMAP_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == ':' || c == '@' || c == '-';
        if (!ok) return false;
    }
    return true;
}

static bool s_host_ok(const char *h, size_t n)
{
    if (n == 0) return false;
    if (n == 1 && h[0] == '*') return true;
    if (h[0] == '[') {  // [IPv6]
        if (n < 3 || h[n - 1] != ']') return false;
        for (size_t i = 1; i + 1 < n; i++) {
            char c = h[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
                return false;
        }
        return true;
    }
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == '_'))
            return false;
    }
    return true;
}

bool lull_schedmap_endpoint_ok(const char *ep)
{
    size_t n = ep ? strlen(ep) : 0;
    if (n == 0 || n > LULL_SCHEDMAP_ENDPOINT_MAX) return false;
    if (strncmp(ep, "ipc://", 6) == 0) {
        size_t pn = n - 6;
        if (pn == 0 || pn > S_IPC_PATH_MAX) return false;
        for (size_t i = 6; i < n; i++)
            if ((unsigned char)ep[i] < 0x21 || (unsigned char)ep[i] > 0x7e) return false;
        return true;
    }
    if (strncmp(ep, "tcp://", 6) != 0) return false;
    const char *hp = ep + 6, *colon = strrchr(hp, ':');
    if (!colon || !s_host_ok(hp, (size_t)(colon - hp))) return false;
    const char *port = colon + 1;
    size_t pl = strlen(port);
    if (pl < 1 || pl > 5) return false;
    long v = 0;
    for (size_t i = 0; i < pl; i++) {
        if (port[i] < '0' || port[i] > '9') return false;
        v = v * 10 + (port[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

// Parses a partition number: decimal digits only, within [0, max). -1 otherwise.
static int s_partition(const char *text, int max)
{
    size_t n = text ? strlen(text) : 0;
    if (n < 1 || n > 5) return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9') return -1;
        v = v * 10 + (text[i] - '0');
    }
    return v < max ? v : -1;
}

static int s_cmp_node(const void *a, const void *b)
{
    return strcmp(((const lull_schednode_t *)a)->name, ((const lull_schednode_t *)b)->name);
}

static int s_find_node(const lull_schedmap_snap_t *s, const char *name)
{
    int lo = 0, hi = s->nnodes - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(s->nodes[mid].name, name);
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

static const char *s_why_node(const lull_schedmap_node_row_t *r)
{
    if (!lull_schedmap_name_ok(r->name)) return "bad name";
    if (!lull_schedmap_endpoint_ok(r->inbound)) return "bad inbound_endpoint";
    if (!lull_schedmap_endpoint_ok(r->worker)) return "bad worker_endpoint";
    if (!lull_schedmap_endpoint_ok(r->control)) return "bad control_endpoint";
    return NULL;
}

lull_schedmap_snap_t *lull_schedmap_snap_build(int partitions, const lull_schedmap_node_row_t *nodes, int nnodes,
                                               const lull_schedmap_part_row_t *parts, int nparts, bool log,
                                               int *skipped)
{
    int bad = 0;
    if (partitions < 1 || partitions > LULL_SCHEDMAP_MAX_PARTITIONS) partitions = LULL_SCHEDMAP_DEFAULT_PARTITIONS;
    lull_schedmap_snap_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->refs_ = 1;
    s->partitions = partitions;
    int cap = nnodes < LULL_SCHEDMAP_MAX_NODES ? nnodes : LULL_SCHEDMAP_MAX_NODES;
    s->nodes = calloc((size_t)(cap > 0 ? cap : 1), sizeof *s->nodes);
    s->owner = malloc((size_t)partitions * sizeof *s->owner);
    if (!s->nodes || !s->owner) {
        lull_schedmap_snap_release(&s);
        return NULL;
    }
    for (int i = 0; i < nnodes; i++) {
        const char *why = s_why_node(&nodes[i]);
        if (!why && s->nnodes >= LULL_SCHEDMAP_MAX_NODES) why = "too many live nodes";
        if (!why) {
            lull_schednode_t *n = &s->nodes[s->nnodes];
            snprintf(n->name, sizeof n->name, "%s", nodes[i].name);
            snprintf(n->inbound, sizeof n->inbound, "%s", nodes[i].inbound);
            snprintf(n->worker, sizeof n->worker, "%s", nodes[i].worker);
            snprintf(n->control, sizeof n->control, "%s", nodes[i].control);
            s->nnodes++;
            continue;
        }
        bad++;
        if (log)  // endpoints are not secret; the name is clipped to its bound
            LOG_WARN("schedmap.bad_node", "a scheduler node row is skipped", "node", LS(nodes[i].name ? nodes[i].name : ""),
                     "why", LS(why));
    }
    qsort(s->nodes, (size_t)s->nnodes, sizeof *s->nodes, s_cmp_node);
    int kept = 0;
    for (int i = 0; i < s->nnodes; i++) {  // a repeated name: keep the first
        if (kept > 0 && strcmp(s->nodes[kept - 1].name, s->nodes[i].name) == 0) {
            bad++;
            continue;
        }
        if (kept != i) s->nodes[kept] = s->nodes[i];
        kept++;
    }
    s->nnodes = kept;
    for (int p = 0; p < partitions; p++) s->owner[p] = -1;
    for (int i = 0; i < nparts; i++) {
        int p = s_partition(parts[i].partition, partitions);
        if (p < 0 || s->owner[p] != -1) {
            bad++;
            if (log)
                LOG_WARN("schedmap.bad_partition", "a partition row is skipped (out of range or repeated)", "partition",
                         LS(parts[i].partition ? parts[i].partition : ""), "partitions", LI(partitions));
            continue;
        }
        int o = parts[i].owner ? s_find_node(s, parts[i].owner) : -1;
        s->owner[p] = (int16_t)o;  // an owner that is not live: no owner (its lease runs out, another claims it)
        if (o >= 0) s->owned++;
    }
    if (skipped) *skipped = bad;
    return s;
}

const lull_schednode_t *lull_schedmap_snap_owner(const lull_schedmap_snap_t *snap, int64_t conv)
{
    if (!snap || snap->partitions < 1) return NULL;
    int p = (int)(conv < 0 ? 0 : conv % snap->partitions);  // = lull_proto_partition
    int o = snap->owner[p];
    return o >= 0 && o < snap->nnodes ? &snap->nodes[o] : NULL;
}

lull_schedmap_snap_t *lull_schedmap_snap_ref(lull_schedmap_snap_t *snap)
{
    if (snap) __atomic_add_fetch(&snap->refs_, 1, __ATOMIC_RELAXED);
    return snap;
}

void lull_schedmap_snap_release(lull_schedmap_snap_t **snap_p)
{
    if (!snap_p || !*snap_p) return;
    lull_schedmap_snap_t *s = *snap_p;
    *snap_p = NULL;
    if (__atomic_sub_fetch(&s->refs_, 1, __ATOMIC_ACQ_REL) > 0) return;
    free(s->nodes);
    free(s->owner);
    free(s);
}

// ---------------------------------------------------------------------------------------------------------
// The reader thread

struct lull_schedmap {
    char *url;
    int64_t refresh_ms;
    lull_db_listen_t *listen;      // the thread's connection (LISTEN lull_sched)
    lull_db_t *db;                 // its connection (borrowed from listen)
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    bool stopping;                 // under mu
    lull_schedmap_snap_t *snap;    // the newest (under mu), NULL before the first load
    uint64_t version;              // atomic copy of snap->version
    uint64_t digest;               // of the rows behind snap: an unchanged read publishes nothing
    bool load_failed;              // the last load failed (logged once until one succeeds)
    lull_counter_t *m_refreshes, *m_changes, *m_bad_rows, *m_failures;
    lull_gauge_t *m_nodes, *m_owned;
};

static uint64_t s_fnv(uint64_t h, const char *s)
{
    for (const char *p = s ? s : "\x01"; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    return (h ^ 0xff) * 0x100000001b3ULL;  // field separator
}

// Reads the three tables and publishes a new snapshot when anything changed. 0, or -1 on a database error.
static int s_load(lull_schedmap_t *self)
{
    PGresult *rc = NULL, *rn = NULL, *rp = NULL;
    lull_schedmap_node_row_t *nodes = NULL;
    lull_schedmap_part_row_t *parts = NULL;
    int ret = -1;
    rc = lull_db_exec(self->db, "SELECT partitions FROM sched_cluster", 0, NULL);
    if (rc)
        rn = lull_db_exec(self->db,
                          "SELECT name, inbound_endpoint, worker_endpoint, control_endpoint FROM sched_nodes"
                          " WHERE heartbeat_at > now() - lease_ms * interval '1 millisecond' ORDER BY name LIMIT 1025",
                          0, NULL);
    if (rn)
        rp = lull_db_exec(self->db,
                          "SELECT partition, owner FROM sched_partitions WHERE owner IS NOT NULL AND lease_until > now()"
                          " ORDER BY partition LIMIT 4097",
                          0, NULL);
    if (!rp) goto cleanup;
    lull_counter_add(self->m_refreshes, 1);
    int partitions = PQntuples(rc) == 1 ? (int)lull_db_int(rc, 0, 0, NULL) : LULL_SCHEDMAP_DEFAULT_PARTITIONS;
    int nn = PQntuples(rn), np = PQntuples(rp);
    nodes = calloc((size_t)nn + 1, sizeof *nodes);
    parts = calloc((size_t)np + 1, sizeof *parts);
    if (!nodes || !parts) goto cleanup;
    char pbuf[24];
    snprintf(pbuf, sizeof pbuf, "%d", partitions);
    uint64_t h = s_fnv(0xcbf29ce484222325ULL, pbuf);
    for (int r = 0; r < nn; r++) {
        nodes[r] = (lull_schedmap_node_row_t){lull_db_text(rn, r, 0), lull_db_text(rn, r, 1), lull_db_text(rn, r, 2),
                                              lull_db_text(rn, r, 3)};
        for (int c = 0; c < 4; c++) h = s_fnv(h, lull_db_text(rn, r, c));
    }
    h = s_fnv(h, "|");
    for (int r = 0; r < np; r++) {
        parts[r] = (lull_schedmap_part_row_t){lull_db_text(rp, r, 0), lull_db_text(rp, r, 1)};
        h = s_fnv(s_fnv(h, parts[r].partition), parts[r].owner);
    }
    ret = 0;
    pthread_mutex_lock(&self->mu);
    bool same = self->snap && h == self->digest;
    pthread_mutex_unlock(&self->mu);
    if (same) goto cleanup;
    int bad = 0;
    lull_schedmap_snap_t *s = lull_schedmap_snap_build(partitions, nodes, nn, parts, np, true, &bad);
    if (!s) {
        ret = -1;
        goto cleanup;
    }
    lull_counter_add(self->m_bad_rows, (uint64_t)bad);
    lull_counter_add(self->m_changes, 1);
    lull_gauge_set(self->m_nodes, s->nnodes);
    lull_gauge_set(self->m_owned, s->owned);
    pthread_mutex_lock(&self->mu);
    s->version = self->snap ? self->snap->version + 1 : 1;
    lull_schedmap_snap_t *old = self->snap;
    self->snap = s;
    self->digest = h;
    __atomic_store_n(&self->version, s->version, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&self->mu);
    lull_schedmap_snap_release(&old);
    LOG_INFO("schedmap.changed", "the scheduler map changed", "version", LI(s->version), "nodes", LI(s->nnodes),
             "partitions", LI(s->partitions), "owned", LI(s->owned), "skipped", LI(bad));
cleanup:
    if (ret != 0) lull_counter_add(self->m_failures, 1);
    if (ret != 0 && !self->load_failed)
        LOG_WARN("schedmap.load_failed", "cannot read the scheduler map; keeping the last one", "error",
                 LS(lull_db_error(self->db)));
    self->load_failed = ret != 0;
    free(nodes);
    free(parts);
    if (rc) PQclear(rc);
    if (rn) PQclear(rn);
    if (rp) PQclear(rp);
    return ret;
}

static void *s_thread(void *arg)
{
    lull_schedmap_t *self = arg;
    int64_t next_load = 0;
    for (;;) {
        pthread_mutex_lock(&self->mu);
        bool stop = self->stopping;
        pthread_mutex_unlock(&self->mu);
        if (stop) break;
        int step = lull_db_listen_step(self->listen);  // 1: notified, or listening again after a loss
        int64_t now = lull_clock_mono_ms();
        if (step >= 0 && (step == 1 || now >= next_load))
            next_load = now + (s_load(self) == 0 ? self->refresh_ms : S_RETRY_MS);
        lull_db_listen_wait(self->listen, next_load - lull_clock_mono_ms());  // shorter while not listening
    }
    return NULL;
}

lull_schedmap_t *lull_schedmap_new(const char *database_url, int64_t refresh_ms, lull_metrics_t *metrics)
{
    lull_schedmap_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->refresh_ms = refresh_ms > 0 ? refresh_ms : 2000;
    pthread_mutex_init(&self->mu, NULL);
    self->url = strdup(database_url ? database_url : "");
    if (!self->url) goto fail;
    self->listen = lull_db_listen_new(self->url, "lull_sched", "scheduler map changes");
    if (!self->listen) goto fail;
    self->db = lull_db_listen_db(self->listen);
    if (metrics) {
        self->m_refreshes = lull_metrics_counter(metrics, "lull_schedmap_refreshes_total", NULL,
                                                 "reads of the scheduler map (periodic and on NOTIFY lull_sched)");
        self->m_changes = lull_metrics_counter(metrics, "lull_schedmap_changes_total", NULL,
                                               "reads that found the scheduler map changed");
        self->m_bad_rows = lull_metrics_counter(metrics, "lull_schedmap_bad_rows_total", NULL,
                                                "scheduler node or partition rows skipped as invalid");
        self->m_failures = lull_metrics_counter(metrics, "lull_schedmap_failures_total", NULL,
                                                "reads of the scheduler map that failed (the last map is kept)");
        self->m_nodes = lull_metrics_gauge(metrics, "lull_schedmap_nodes", NULL, "live scheduler nodes seen");
        self->m_owned = lull_metrics_gauge(metrics, "lull_schedmap_partitions_owned", NULL,
                                           "partitions with a live owner in the map");
    }
    if (pthread_create(&self->thread, NULL, s_thread, self) != 0) goto fail;
    self->started = true;
    return self;
fail:
    lull_schedmap_destroy(&self);
    return NULL;
}

void lull_schedmap_destroy(lull_schedmap_t **self_p)
{
    if (!self_p || !*self_p) return;
    lull_schedmap_t *self = *self_p;
    if (self->started) {
        pthread_mutex_lock(&self->mu);
        self->stopping = true;
        pthread_mutex_unlock(&self->mu);
        lull_db_listen_wake(self->listen);
        pthread_join(self->thread, NULL);
    }
    self->db = NULL;
    lull_db_listen_destroy(&self->listen);
    lull_schedmap_snap_release(&self->snap);
    pthread_mutex_destroy(&self->mu);
    free(self->url);
    free(self);
    *self_p = NULL;
}

uint64_t lull_schedmap_version(lull_schedmap_t *self)
{
    return self ? __atomic_load_n(&self->version, __ATOMIC_ACQUIRE) : 0;
}

lull_schedmap_snap_t *lull_schedmap_get(lull_schedmap_t *self)
{
    if (!self) return NULL;
    pthread_mutex_lock(&self->mu);
    lull_schedmap_snap_t *s = lull_schedmap_snap_ref(self->snap);
    pthread_mutex_unlock(&self->mu);
    return s;
}
