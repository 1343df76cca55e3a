// Lease mode: registration in sched_nodes, renewal of the partition leases, fair share (hand-over and
// claim), the local lease deadline, and the release of everything at stop. See sched_lease.h.
#include "sched_lease.h"

#include "lull_clock.h"
#include "lull_log.h"
#include "lull_proto.h"
#include "lull_schedmap.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NAME_MAX_LEN LULL_SCHEDMAP_NAME_MAX  // the map reader checks the names it reads by the same rule
#define ENDPOINT_MAX 256

struct sched_lease {
    const sched_cfg_t *cfg;
    lull_proc_t *proc;
    sched_lease_fn *on_claim, *on_drop;
    void *arg;
    char name[NAME_MAX_LEN + 1];
    char endpoints[3][ENDPOINT_MAX];  // advertised inbound, worker, control
    char lease_ms[24], partitions_s[24], prune_leases[24];
    int partitions;
    bool cluster_ok;                  // the cluster row matches LULL_SCHED_PARTITIONS
    bool db_down;                     // the last tick could not reach the database (logged once)
    bool owned[SCHED_LEASE_MAX_PARTITIONS];
    int64_t epoch[SCHED_LEASE_MAX_PARTITIONS];
    int nowned;
    int64_t deadline_ms;              // monotonic: the leases hold until then (renewal sent + lease - margin)
    lull_gauge_t *g_owned;
    lull_counter_t *c_renewals, *c_losses, *c_handovers, *c_claims, *c_pruned;
    lull_histogram_t *h_recovery;
};

// ---- pure parts

int sched_lease_share(int partitions, int nodes, int index)
{
    if (nodes <= 0 || index < 0 || index >= nodes || partitions <= 0) return 0;
    return partitions / nodes + (index < partitions % nodes ? 1 : 0);
}

bool sched_lease_name_ok(const char *name) { return lull_schedmap_name_ok(name); }

int sched_lease_advertise(const char *bind, const char *host, char *out, size_t size)
{
    const char *sep = strstr(bind, "://");
    const char *h = sep ? sep + 3 : NULL;
    int n;
    if (h && (strncmp(h, "*:", 2) == 0 || strncmp(h, "0.0.0.0:", 8) == 0)) {
        const char *port = strchr(h, ':');
        n = snprintf(out, size, "%.*s%s%s", (int)(h - bind), bind, host, port);
    } else {
        n = snprintf(out, size, "%s", bind);
    }
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

char *sched_lease_array(const int *partitions, int n)
{
    size_t cap = 3 + (size_t)n * 6;  // "{" + up to 4 digits and a comma each + "}"
    char *s = malloc(cap);
    if (!s) return NULL;
    size_t len = 0;
    s[len++] = '{';
    for (int i = 0; i < n; i++) len += (size_t)snprintf(s + len, cap - len, "%s%d", i ? "," : "", partitions[i]);
    s[len++] = '}';
    s[len] = '\0';
    return s;
}

// ---- local state

// The owned partitions in ascending order into out (room for partitions); returns how many.
static int s_owned_list(const sched_lease_t *self, int *out)
{
    int n = 0;
    for (int p = 0; p < self->partitions; p++)
        if (self->owned[p]) out[n++] = p;
    return n;
}

char *sched_lease_owned_array(const sched_lease_t *self)
{
    int list[SCHED_LEASE_MAX_PARTITIONS];
    return sched_lease_array(list, s_owned_list(self, list));
}

int sched_lease_owned(const sched_lease_t *self)
{
    return self->nowned;
}

int64_t sched_lease_tick_ms(const sched_lease_t *self)
{
    return self->cfg->lease_ms / 4 > 0 ? self->cfg->lease_ms / 4 : 1;
}

// The listed partitions (ascending or descending) as ranges for a log line: "0-41,97"; cut with "..." when
// longer than out.
static const char *s_ranges(const int *list, int n, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < n;) {
        int j = i;
        int step = n > 1 && i + 1 < n && list[i + 1] < list[i] ? -1 : 1;
        while (j + 1 < n && list[j + 1] == list[j] + step) j++;
        int lo = step > 0 ? list[i] : list[j], hi = step > 0 ? list[j] : list[i];
        int w = lo == hi ? snprintf(out + len, size - len, "%s%d", len ? "," : "", lo)
                         : snprintf(out + len, size - len, "%s%d-%d", len ? "," : "", lo, hi);
        if (w < 0 || (size_t)w >= size - len - 4) {
            snprintf(out + len, size - len, "...");
            break;
        }
        len += (size_t)w;
        i = j + 1;
    }
    return out;
}

// Smallest and largest epoch of the listed partitions (for the log lines).
static void s_epochs(const sched_lease_t *self, const int *list, int n, int64_t *lo, int64_t *hi)
{
    *lo = *hi = 0;
    for (int i = 0; i < n; i++) {
        int64_t e = self->epoch[list[i]];
        if (i == 0 || e < *lo) *lo = e;
        if (i == 0 || e > *hi) *hi = e;
    }
}

// Stops owning the listed partitions: the caller forgets their windows first, then the flags go.
static void s_drop(sched_lease_t *self, const int *list, int n)
{
    if (n <= 0) return;
    for (int i = 0; i < n; i++) self->owned[list[i]] = false;  // nothing of them is dispatched from here on
    self->nowned -= n;
    if (self->on_drop) self->on_drop(self->arg, list, n);
    lull_gauge_set(self->g_owned, self->nowned);
}

bool sched_lease_check(sched_lease_t *self)
{
    if (self->nowned == 0 || lull_clock_mono_ms() < self->deadline_ms) return true;
    int list[SCHED_LEASE_MAX_PARTITIONS];
    int n = s_owned_list(self, list);
    int64_t lo, hi;
    s_epochs(self, list, n, &lo, &hi);
    s_drop(self, list, n);
    lull_counter_add(self->c_losses, (uint64_t)n);
    char ranges[512];
    LOG_WARN("partitions.lost", "lease expired without a renewal: stopped dispatching and dropped the windows",
             "partitions", LI(n), "epoch_min", LI(lo), "epoch_max", LI(hi), "late_ms",
             LI(lull_clock_mono_ms() - self->deadline_ms), "list", LS(s_ranges(list, n, ranges, sizeof ranges)));
    return false;
}

bool sched_lease_owns(sched_lease_t *self, int64_t conversation_id)
{
    if (!sched_lease_check(self)) return false;
    return self->owned[lull_proto_partition(conversation_id, self->partitions)];
}

int64_t sched_lease_epoch(const sched_lease_t *self, int64_t conversation_id)
{
    int p = lull_proto_partition(conversation_id, self->partitions);
    return self->owned[p] ? self->epoch[p] : 0;
}

// ---- database

// The cluster row: written (with the partition rows, and the existing conversations' partition recomputed)
// when absent. 0 when it matches; -1 on a database error; -2 when it holds another number of partitions.
static int s_cluster(sched_lease_t *self)
{
    lull_db_t *db = self->proc->db;
    const char *p[1] = {self->partitions_s};
    PGresult *res = NULL;
    if (lull_db_begin(db) != 0) return -1;
    res = lull_db_exec(db, "INSERT INTO sched_cluster (partitions) VALUES ($1::int) ON CONFLICT DO NOTHING "
                           "RETURNING partitions", 1, p);
    if (!res) goto fail;
    bool created = PQntuples(res) == 1;
    PQclear(res);
    res = NULL;
    if (created) {
        // conversations inserted meanwhile got id % 256 from the trigger: hold inserts off while recomputing
        // and the insert trigger gets the count as its constant (migration 027: no query per inserted row)
        char fn[256];
        snprintf(fn, sizeof fn,
                 "CREATE OR REPLACE FUNCTION lull_conversation_partition() RETURNS trigger LANGUAGE plpgsql AS "
                 "'BEGIN NEW.partition := NEW.id %% %d; RETURN NEW; END'",
                 self->partitions);
        if (self->partitions != 256 &&
            (lull_db_run(db, "LOCK TABLE conversations IN SHARE MODE", 0, NULL, NULL) != 0 ||
             lull_db_run(db, fn, 0, NULL, NULL) != 0 ||
             lull_db_run(db, "UPDATE conversations SET partition = id % $1::int", 1, p, NULL) != 0))
            goto fail;
        if (lull_db_run(db, "INSERT INTO sched_partitions (partition) SELECT generate_series(0, $1::int - 1) "
                            "ON CONFLICT DO NOTHING", 1, p, NULL) != 0)
            goto fail;
    }
    res = lull_db_exec(db, "SELECT partitions FROM sched_cluster", 0, NULL);
    if (!res || PQntuples(res) != 1) goto fail;
    int64_t have = lull_db_int(res, 0, 0, NULL);
    PQclear(res);
    res = NULL;
    if (have != self->partitions) {
        lull_db_rollback(db);
        LOG_ERROR("cluster.partitions_mismatch",
                  "the scheduler cluster was created with another number of partitions: set LULL_SCHED_PARTITIONS "
                  "to the cluster's value (a conversation's partition never changes)",
                  "cluster_partitions", LI(have), "LULL_SCHED_PARTITIONS", LI(self->partitions));
        return -2;
    }
    if (lull_db_commit(db) != 0) return -1;
    if (created)
        LOG_INFO("cluster.created", "scheduler cluster created", "partitions", LI(self->partitions));
    self->cluster_ok = true;
    return 0;
fail:
    PQclear(res);
    lull_db_rollback(db);
    return -1;
}

// Heartbeat: upserts this node's row (a join, or a return after its row went stale, is notified). 0/-1.
static int s_heartbeat(sched_lease_t *self)
{
    static const char *sql =
        "WITH old AS (SELECT heartbeat_at > now() - lease_ms * interval '1 millisecond' AS live "
        "FROM sched_nodes WHERE name = $1), "
        "up AS (INSERT INTO sched_nodes (name, inbound_endpoint, worker_endpoint, control_endpoint, lease_ms) "
        "VALUES ($1, $2, $3, $4, $5::int) ON CONFLICT (name) DO UPDATE SET "
        "inbound_endpoint = EXCLUDED.inbound_endpoint, worker_endpoint = EXCLUDED.worker_endpoint, "
        "control_endpoint = EXCLUDED.control_endpoint, lease_ms = EXCLUDED.lease_ms, heartbeat_at = now() "
        "RETURNING NOT coalesce((SELECT live FROM old), false) AS joined) "
        "SELECT joined, pg_notify('lull_sched', '') FROM up WHERE joined";
    const char *p[5] = {self->name, self->endpoints[0], self->endpoints[1], self->endpoints[2], self->lease_ms};
    PGresult *res = lull_db_exec(self->proc->db, sql, 5, p);
    if (!res) return -1;
    if (PQntuples(res) > 0)
        LOG_INFO("node.joined", "scheduler registered", "name", LS(self->name), "inbound", LS(self->endpoints[0]),
                 "worker", LS(self->endpoints[1]), "control", LS(self->endpoints[2]), "lease_ms",
                 LI(self->cfg->lease_ms));
    PQclear(res);
    return 0;
}

// Renews the leases of the partitions owned here; a partition whose row says otherwise (taken, expired) is
// dropped. 0/-1 (on error nothing changes: the local deadline decides).
static int s_renew(sched_lease_t *self)
{
    static const char *sql =
        "UPDATE sched_partitions SET lease_until = now() + $2::int * interval '1 millisecond' "
        "WHERE owner = $1 AND lease_until > now() AND partition = ANY($3::int[]) RETURNING partition";
    int64_t sent = lull_clock_mono_ms();
    char *arr = sched_lease_owned_array(self);
    if (!arr) return -1;
    const char *p[3] = {self->name, self->lease_ms, arr};
    PGresult *res = lull_db_exec(self->proc->db, sql, 3, p);
    free(arr);
    if (!res) return -1;
    // the leases run from the database's now() at this statement, which is later than sent
    int64_t margin = self->cfg->lease_ms / 5;
    self->deadline_ms = sent + self->cfg->lease_ms - margin;
    bool renewed[SCHED_LEASE_MAX_PARTITIONS] = {0};
    for (int r = 0; r < PQntuples(res); r++) {
        bool ok;
        int64_t part = lull_db_int(res, r, 0, &ok);
        if (ok && part >= 0 && part < self->partitions) renewed[part] = true;
    }
    PQclear(res);
    lull_counter_add(self->c_renewals, 1);
    int lost[SCHED_LEASE_MAX_PARTITIONS], n = 0;
    for (int part = 0; part < self->partitions; part++)
        if (self->owned[part] && !renewed[part]) lost[n++] = part;
    if (n > 0) {
        int64_t lo, hi;
        s_epochs(self, lost, n, &lo, &hi);
        s_drop(self, lost, n);
        lull_counter_add(self->c_losses, (uint64_t)n);
        char ranges[512];
        LOG_WARN("partitions.lost", "partitions no longer held in the database: stopped dispatching them",
                 "partitions", LI(n), "epoch_min", LI(lo), "epoch_max", LI(hi), "list",
                 LS(s_ranges(lost, n, ranges, sizeof ranges)));
    }
    return 0;
}

// Frees rows the database still gives this node but it does not own here (dropped after its lease expired
// locally): someone (perhaps this node) claims them again and recovers them. 0/-1.
static int s_free_strays(sched_lease_t *self)
{
    static const char *sql =
        "WITH r AS (UPDATE sched_partitions SET owner = NULL, lease_until = NULL "
        "WHERE owner = $1 AND NOT (partition = ANY($2::int[])) RETURNING partition) "
        "SELECT partition, pg_notify('lull_sched', '') FROM r";
    char *arr = sched_lease_owned_array(self);
    if (!arr) return -1;
    const char *p[2] = {self->name, arr};
    PGresult *res = lull_db_exec(self->proc->db, sql, 2, p);
    free(arr);
    if (!res) return -1;
    if (PQntuples(res) > 0)
        LOG_INFO("partitions.released", "partitions dropped here freed in the database", "partitions",
                 LI(PQntuples(res)), "reason", LS("stray"));
    PQclear(res);
    return 0;
}

// Deletes the rows of nodes silent for LULL_SCHED_PRUNE_LEASES of their leases (killed, or their host gone):
// the console and the map stop listing them. Their partitions' leases ran out long ago (claimed already). 0/-1.
static int s_prune(sched_lease_t *self)
{
    static const char *sql =
        "WITH d AS (DELETE FROM sched_nodes WHERE name <> $1 "
        "AND heartbeat_at < now() - $2::float8 * lease_ms * interval '1 millisecond' "
        "RETURNING name, (extract(epoch FROM now() - heartbeat_at) * 1000)::bigint AS silent_ms) "
        "SELECT name, silent_ms, pg_notify('lull_sched', '') FROM d ORDER BY name";
    const char *p[2] = {self->name, self->prune_leases};
    PGresult *res = lull_db_exec(self->proc->db, sql, 2, p);
    if (!res) return -1;
    for (int r = 0; r < PQntuples(res); r++)
        LOG_INFO("node.pruned", "a silent scheduler node row deleted", "node", LS(lull_db_text(res, r, 0)),
                 "silent_ms", LI(lull_db_int(res, r, 1, NULL)), "prune_leases", LI(self->cfg->prune_leases));
    lull_counter_add(self->c_pruned, (uint64_t)PQntuples(res));
    PQclear(res);
    return 0;
}

// This node's fair share from the live nodes (name order); -1 on error or when this node is not live.
static int s_share(sched_lease_t *self, int *nodes)
{
    static const char *sql = "SELECT name FROM sched_nodes WHERE heartbeat_at > now() - lease_ms * interval "
                             "'1 millisecond' ORDER BY name COLLATE \"C\"";
    PGresult *res = lull_db_exec(self->proc->db, sql, 0, NULL);
    if (!res) return -1;
    int n = PQntuples(res), me = -1;
    for (int r = 0; r < n; r++) {
        const char *name = lull_db_text(res, r, 0);
        if (name && strcmp(name, self->name) == 0) me = r;
    }
    PQclear(res);
    *nodes = n;
    return me < 0 ? -1 : sched_lease_share(self->partitions, n, me);
}

// Hands over the k highest partitions owned here: windows dropped first, then the rows freed. 0/-1.
static int s_release(sched_lease_t *self, int k, const char *reason)
{
    int list[SCHED_LEASE_MAX_PARTITIONS], n = 0;
    for (int part = self->partitions - 1; part >= 0 && n < k; part--)
        if (self->owned[part]) list[n++] = part;
    if (n == 0) return 0;
    int64_t lo, hi;
    s_epochs(self, list, n, &lo, &hi);
    s_drop(self, list, n);
    lull_counter_add(self->c_handovers, (uint64_t)n);
    // logged before the rows are freed: the line precedes any claim of them by another scheduler
    char ranges[512];
    LOG_INFO("partitions.released", "partitions handed over", "partitions", LI(n), "epoch_min", LI(lo),
             "epoch_max", LI(hi), "owned", LI(self->nowned), "reason", LS(reason), "list",
             LS(s_ranges(list, n, ranges, sizeof ranges)));
    char *arr = sched_lease_array(list, n);
    if (!arr) return -1;
    static const char *sql = "WITH r AS (UPDATE sched_partitions SET owner = NULL, lease_until = NULL "
                             "WHERE owner = $1 AND partition = ANY($2::int[]) RETURNING partition) "
                             "SELECT partition, pg_notify('lull_sched', '') FROM r";
    const char *p[2] = {self->name, arr};
    PGresult *res = lull_db_exec(self->proc->db, sql, 2, p);
    free(arr);
    // on error the rows stay ours until their lease expires (or the next tick frees them as strays)
    if (!res)
        LOG_WARN("lease.release_failed", "partitions dropped here but not freed; they expire with their lease",
                 "partitions", LI(n), "error", LS(lull_db_error(self->proc->db)));
    PQclear(res);
    return res ? 0 : -1;
}

// Claims up to k free or expired partitions and recovers their windows. 0/-1.
static int s_claim(sched_lease_t *self, int k)
{
    static const char *sql =
        "WITH c AS (UPDATE sched_partitions SET owner = $1, epoch = epoch + 1, "
        "lease_until = now() + $2::int * interval '1 millisecond' "
        "WHERE partition IN (SELECT partition FROM sched_partitions "
        "WHERE (owner IS NULL OR lease_until IS NULL OR lease_until < now()) AND partition < $4::int "
        "ORDER BY partition LIMIT $3::int FOR UPDATE SKIP LOCKED) "
        "AND (owner IS NULL OR lease_until IS NULL OR lease_until < now()) RETURNING partition, epoch) "
        "SELECT partition, epoch, pg_notify('lull_sched', '') FROM c ORDER BY partition";
    char ks[24];
    snprintf(ks, sizeof ks, "%d", k);
    const char *p[4] = {self->name, self->lease_ms, ks, self->partitions_s};
    PGresult *res = lull_db_exec(self->proc->db, sql, 4, p);
    if (!res) return -1;
    int list[SCHED_LEASE_MAX_PARTITIONS], n = 0;
    for (int r = 0; r < PQntuples(res) && n < SCHED_LEASE_MAX_PARTITIONS; r++) {
        bool ok1, ok2;
        int64_t part = lull_db_int(res, r, 0, &ok1), epoch = lull_db_int(res, r, 1, &ok2);
        if (!ok1 || !ok2 || part < 0 || part >= self->partitions || self->owned[part]) continue;
        self->owned[part] = true;
        self->epoch[part] = epoch;
        list[n++] = (int)part;
    }
    PQclear(res);
    if (n == 0) return 0;
    self->nowned += n;
    lull_gauge_set(self->g_owned, self->nowned);
    lull_counter_add(self->c_claims, (uint64_t)n);
    int64_t lo, hi;
    s_epochs(self, list, n, &lo, &hi);
    char ranges[512];
    LOG_INFO("partitions.claimed", "partitions claimed; recovering their windows", "partitions", LI(n), "epoch_min",
             LI(lo), "epoch_max", LI(hi), "owned", LI(self->nowned), "list", LS(s_ranges(list, n, ranges, sizeof ranges)));
    int64_t t0 = lull_clock_mono_ms();
    if (self->on_claim) self->on_claim(self->arg, list, n);
    lull_histogram_observe(self->h_recovery, (double)(lull_clock_mono_ms() - t0) / 1000.0);
    return 0;
}

void sched_lease_tick(sched_lease_t *self)
{
    (void)sched_lease_check(self);
    lull_db_t *db = self->proc->db;
    if (!db) return;
    if (!self->cluster_ok) {
        int rc = s_cluster(self);
        if (rc == -2) {
            raise(SIGTERM);  // found only after a start without the database: stop as at start
            return;
        }
        if (rc != 0) goto db_error;
    }
    if (s_heartbeat(self) != 0 || s_renew(self) != 0 || s_free_strays(self) != 0 || s_prune(self) != 0)
        goto db_error;
    int nodes = 0, share = s_share(self, &nodes);
    if (share < 0) goto db_error;
    if (self->db_down) LOG_INFO("lease.db_back", "the database answers again: leases renewed");
    self->db_down = false;
    if (self->nowned > share) (void)s_release(self, self->nowned - share, "fair_share");
    else if (self->nowned < share) (void)s_claim(self, share - self->nowned);
    return;
db_error:
    if (!self->db_down)
        LOG_WARN("lease.db_error", "cannot renew the leases; the partitions are dropped when the lease ends",
                 "error", LS(lull_db_error(db)), "owned", LI(self->nowned));
    self->db_down = true;
}

int sched_lease_start(sched_lease_t *self)
{
    lull_db_t *db = self->proc->db;
    if (!db || !lull_db_connected(db)) {
        LOG_WARN("lease.deferred", "database unreachable; partitions are claimed once it answers");
        return 0;
    }
    int rc = s_cluster(self);
    if (rc == -2) return -1;
    sched_lease_tick(self);
    return 0;
}

// ---- life cycle

sched_lease_t *sched_lease_new(const sched_cfg_t *cfg, lull_proc_t *proc, sched_lease_fn *on_claim,
                               sched_lease_fn *on_drop, void *arg)
{
    sched_lease_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->cfg = cfg;
    self->proc = proc;
    self->on_claim = on_claim;
    self->on_drop = on_drop;
    self->arg = arg;
    self->partitions = (int)cfg->partitions;
    char host[256] = "localhost";
    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    if (cfg->name && cfg->name[0]) snprintf(self->name, sizeof self->name, "%s", cfg->name);
    else snprintf(self->name, sizeof self->name, "%.100s:%d", host, (int)getpid());
    if (!sched_lease_name_ok(cfg->name && cfg->name[0] ? cfg->name : self->name)) {
        LOG_ERROR("config.sched_name", "LULL_SCHED_NAME: letters, digits and ._:@- only, 1 to 128 characters");
        goto fail;
    }
    const char *adv[3] = {cfg->advertise_inbound, cfg->advertise_worker, cfg->advertise_control};
    const char *bind[3] = {cfg->inbound_endpoint, cfg->worker_endpoint, cfg->control_endpoint};
    for (int i = 0; i < 3; i++) {
        int rc = adv[i] && adv[i][0] ? snprintf(self->endpoints[i], ENDPOINT_MAX, "%s", adv[i]) >= ENDPOINT_MAX ? -1 : 0
                                     : sched_lease_advertise(bind[i], host, self->endpoints[i], ENDPOINT_MAX);
        if (rc != 0) {
            LOG_ERROR("config.sched_advertise", "advertised endpoint too long", "endpoint", LS(bind[i]));
            goto fail;
        }
    }
    snprintf(self->lease_ms, sizeof self->lease_ms, "%lld", (long long)cfg->lease_ms);
    snprintf(self->partitions_s, sizeof self->partitions_s, "%d", self->partitions);
    snprintf(self->prune_leases, sizeof self->prune_leases, "%lld", (long long)cfg->prune_leases);
    lull_metrics_t *r = proc->metrics;
    self->g_owned = lull_metrics_gauge(r, "lull_sched_partitions_owned", NULL, "partitions this scheduler holds by lease");
    self->c_renewals = lull_metrics_counter(r, "lull_sched_lease_renewals_total", NULL, "lease renewals that reached the database");
    self->c_losses = lull_metrics_counter(r, "lull_sched_partitions_lost_total", NULL, "partitions lost (lease expired here or taken)");
    self->c_handovers = lull_metrics_counter(r, "lull_sched_partitions_handed_over_total", NULL, "partitions released to other schedulers (fair share)");
    self->c_claims = lull_metrics_counter(r, "lull_sched_partitions_claimed_total", NULL, "partitions claimed");
    self->c_pruned = lull_metrics_counter(r, "lull_sched_nodes_pruned_total", NULL,
                                          "silent scheduler node rows this scheduler deleted (LULL_SCHED_PRUNE_LEASES)");
    self->h_recovery = lull_metrics_histogram(r, "lull_sched_claim_recovery_seconds", NULL,
                                              "time to recover the windows of the partitions of one claim",
                                              LULL_METRICS_LATENCY_BUCKETS, LULL_METRICS_LATENCY_NBUCKETS);
    return self;
fail:
    free(self);
    return NULL;
}

void sched_lease_destroy(sched_lease_t **self_p)
{
    if (!self_p || !*self_p) return;
    sched_lease_t *self = *self_p;
    lull_db_t *db = self->proc->db;
    if (db && self->cluster_ok) {
        static const char *sql =
            "WITH r AS (UPDATE sched_partitions SET owner = NULL, lease_until = NULL WHERE owner = $1 "
            "RETURNING partition), d AS (DELETE FROM sched_nodes WHERE name = $1 RETURNING name) "
            "SELECT (SELECT count(*) FROM r), (SELECT count(*) FROM d), pg_notify('lull_sched', '')";
        const char *p[1] = {self->name};
        int list[SCHED_LEASE_MAX_PARTITIONS];
        char ranges[512];
        int n = s_owned_list(self, list);
        // logged before the rows are freed: the line precedes any claim of them by another scheduler
        LOG_INFO("partitions.released", "stopping: every partition released and the node row deleted",
                 "partitions", LI(n), "reason", LS("stop"), "list", LS(s_ranges(list, n, ranges, sizeof ranges)));
        PGresult *res = lull_db_exec(db, sql, 1, p);
        if (!res)
            LOG_WARN("lease.release_failed", "cannot release the partitions; they expire with their lease",
                     "error", LS(lull_db_error(db)), "owned", LI(self->nowned));
        PQclear(res);
    }
    free(self);
    *self_p = NULL;
}
