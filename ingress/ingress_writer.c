// Group commit: requests queue up while the previous transaction runs; the writer takes them all (up to
// batch_max) and stores them with one lull_ingress_store() call, so under load many webhooks share one commit
// while a lone request is committed at once. A batch the database refuses is retried row by row so one bad row
// only fails itself.
#include "ingress_writer.h"
#include "ingress_ops.h"
#include "ingress_wake.h"
#include "lull_clock.h"
#include "lull_db.h"
#include "lull_log.h"
#include "lull_proto.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

// One writer thread: its own database connection, its own queue and its own INBOUND push sockets.
typedef struct s_conn s_conn_t;
struct s_conn {
    struct ingress_writer *w;
    int idx;                      // 0 … nconns-1
    pthread_t thread;
    bool started;
    lull_db_t *db;
    ingress_wake_t *wake;         // the thread's INBOUND push sockets (NULL: a reader pool, or out of memory)
    pthread_cond_t ready;         // items queued for this thread, or stopping (under the writer's lock)
    ingress_item_t *head, *tail;  // FIFO of the items given to this thread
    int queued;
    int last_batch;               // size of the previous batch (load indicator)
    // the hand-over (under the writer's lock; see "Queues and their hand-over")
    bool up;                      // the thread's connection is up, as far as its last use showed
    bool known;                   // up was set once (changes after that are logged)
    bool exited;                  // the thread has finished (stopping)
    s_conn_t *taker;              // the thread running a batch of this queue's items (NULL: none in flight)
    int64_t retry_ms;             // monotonic time of the next reconnect attempt while down, ms
    lull_counter_t *commits;      // transactions this thread committed (writer="idx")
    int64_t checked_us;           // monotonic: the last check of its idle connection while dormant
};

struct ingress_writer {
    ingress_writer_cfg_t cfg;
    char *database_url;
    s_conn_t *conns;              // one per writer thread
    int nconns;
    bool started;
    pthread_mutex_t lock;
    int queued;                   // items queued, all threads
    bool stopping;
    void *zctx;                   // ZeroMQ context (thread-safe; the sockets are per thread)
    // metrics
    lull_counter_t *commits, *pushed, *dropped, *db_errors, *unowned, *handed_over, *spills;
    int64_t spill_until_us;       // monotonic: the threads after the first commit their own queues until then
    int committing;               // threads running a batch now
    lull_gauge_t *connected;
    int nup;                      // threads whose connection is up
    lull_histogram_t *batch_size, *commit_seconds;
    lull_gauge_t *queue_depth;
};

const char *ingress_outcome_name(ingress_outcome_t o)
{
    switch (o) {
    case INGRESS_OUT_NEW: return "accepted";
    case INGRESS_OUT_DUPLICATE: return "duplicate";
    case INGRESS_OUT_UNKNOWN_TENANT: return "unknown_tenant";
    case INGRESS_OUT_UNKNOWN_SESSION: return "unknown_session";
    case INGRESS_OUT_UNAVAILABLE: return "unavailable";
    case INGRESS_OUT_FAILED: return "failed";
    case INGRESS_OUT_OK: return "ok";
    case INGRESS_OUT_SIG_MISSING: return "signature_missing";
    case INGRESS_OUT_SIG_INVALID: return "signature_invalid";
    case INGRESS_OUT_SIG_UNAVAILABLE: return "signature_unavailable";
    case INGRESS_OUT_ORIGIN_REFUSED: return "origin_refused";
    }
    return "unknown";
}

// ---------------------------------------------------------------------------------------------------------
// INBOUND pushes (writer thread only)

static void s_push_inbound(s_conn_t *c, const ingress_item_t *it)
{
    if (!c->wake) return;
    lull_msg_t m = {.type = LULL_MSG_INBOUND};
    m.u.inbound.conversation_id = it->conversation_id;
    m.u.inbound.message_id = it->message_id;
    m.u.inbound.tenant_id = it->tenant_id;
    m.u.inbound.received_ms = it->received_ms;
    snprintf(m.u.inbound.channel, sizeof m.u.inbound.channel, "%s", it->channel ? it->channel : "");
    ingress_wake_inbound(c->wake, &m);
}

// ---------------------------------------------------------------------------------------------------------
// Storing

static void s_fail_all(ingress_item_t **items, int n, ingress_outcome_t o, const char *why)
{
    for (int i = 0; i < n; i++) {
        items[i]->outcome = o;
        snprintf(items[i]->error, sizeof items[i]->error, "%s", why);
    }
}

static void s_buf_add(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (!*buf) return;
    if (*len + n + 1 > *cap) {
        size_t c = *cap * 2;
        while (*len + n + 1 > c) c *= 2;
        char *nb = realloc(*buf, c);
        if (!nb) {
            free(*buf);
            *buf = NULL;
            return;
        }
        *buf = nb;
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
}

// The store call, prepared once per connection (parsing and planning the call itself was ~5 % of the backend's
// CPU per batch).
static const lull_db_stmt_t s_store_stmt = {
    .name = "lull_ingress_store",
    .sql = "SELECT i, outcome, tenant_id, contact_id, conversation_id, message_id, window_ms "
           "FROM lull_ingress_store($1::jsonb)",
    .nparams = 1,
};
// A batch of one or two rows (light traffic, the retry of a refused batch row by row): lull_ingress_store_rows
// (migration 031), the same outcomes and state without most of the batch function's fixed cost per call (about
// a third less PostgreSQL CPU at one row, about 14 % at two; from four rows on the batch function is cheaper:
// docs/ingress.md "Performance").
#define S_STORE_ROWS_MAX 2
static const lull_db_stmt_t s_store_one_stmt = {
    .name = "lull_ingress_store_rows",
    .sql = "SELECT i, outcome, tenant_id, contact_id, conversation_id, message_id, window_ms "
           "FROM lull_ingress_store_rows($1::jsonb)",
    .nparams = 1,
};

// Runs lull_ingress_store over items[0..n) in one transaction. 0 when the outcomes are set; -1 when the
// database refused the statement (not a connection problem): the caller retries row by row.
static int s_store(s_conn_t *c, ingress_item_t **items, int n)
{
    ingress_writer_t *self = c->w;
    size_t len = 0, cap = 1024;
    char *json = malloc(cap);
    if (json) json[0] = '\0';
    s_buf_add(&json, &len, &cap, "[", 1);
    for (int i = 0; i < n; i++) {
        char pre[32];
        int pl = snprintf(pre, sizeof pre, "%s{\"i\":%d,", i ? "," : "", i);
        s_buf_add(&json, &len, &cap, pre, (size_t)pl);
        s_buf_add(&json, &len, &cap, items[i]->row_json + 1, strlen(items[i]->row_json + 1));
    }
    s_buf_add(&json, &len, &cap, "]", 1);
    if (!json) {
        s_fail_all(items, n, INGRESS_OUT_UNAVAILABLE, "out of memory");
        return 0;
    }
    const char *params[1] = {json};
    const char *const *pp[1] = {params};
    const lull_db_stmt_t *stmts[1] = {n <= S_STORE_ROWS_MAX ? &s_store_one_stmt : &s_store_stmt};
    PGresult *res = NULL;
    int64_t t0 = lull_clock_mono_us();
    if (lull_db_batch(c->db, stmts, pp, 1, false, &res) != 0 && res) {  // answered, but the sync failed
        PQclear(res);
        res = NULL;
    }
    free(json);
    if (!res) {
        lull_counter_add(self->db_errors, 1);
        if (lull_db_last_was_connection_error(c->db) || n == 1) {
            bool conn = lull_db_last_was_connection_error(c->db);
            s_fail_all(items, n, conn ? INGRESS_OUT_UNAVAILABLE : INGRESS_OUT_FAILED, lull_db_error(c->db));
            if (!conn)
                LOG_WARN("store.rejected", "the database refused a message", "sqlstate", LS(lull_db_sqlstate(c->db)),
                         "error", LS(lull_db_error(c->db)));
            return 0;
        }
        return -1;
    }
    lull_counter_add(self->commits, 1);
    lull_counter_add(c->commits, 1);
    lull_histogram_observe(self->batch_size, n);
    lull_histogram_observe(self->commit_seconds, (double)(lull_clock_mono_us() - t0) / 1e6);
    s_fail_all(items, n, INGRESS_OUT_UNAVAILABLE, "no result for this row");
    for (int r = 0; r < PQntuples(res); r++) {
        int64_t i = lull_db_int(res, r, 0, NULL);
        if (i < 0 || i >= n) continue;
        ingress_item_t *it = items[i];
        const char *o = lull_db_text(res, r, 1);
        it->tenant_id = lull_db_int(res, r, 2, NULL);
        it->contact_id = lull_db_int(res, r, 3, NULL);
        it->conversation_id = lull_db_int(res, r, 4, NULL);
        it->message_id = lull_db_int(res, r, 5, NULL);
        it->window_ms = lull_db_int(res, r, 6, NULL);
        it->error[0] = '\0';
        if (!o) continue;
        if (strcmp(o, "new") == 0) it->outcome = INGRESS_OUT_NEW;
        else if (strcmp(o, "quiet") == 0) it->outcome = INGRESS_OUT_NEW, it->wake = false;  // stored, nothing to answer
        else if (strcmp(o, "duplicate") == 0) it->outcome = INGRESS_OUT_DUPLICATE;
        else if (strcmp(o, "unknown_tenant") == 0) it->outcome = INGRESS_OUT_UNKNOWN_TENANT;
        else if (strcmp(o, "unknown_session") == 0) it->outcome = INGRESS_OUT_UNKNOWN_SESSION;
        else snprintf(it->error, sizeof it->error, "%s", o);  // retry: stays UNAVAILABLE
    }
    PQclear(res);
    return 0;
}

// The stored id of a duplicate whose original committed while this batch ran (not visible to its snapshot), in
// the duplicate's own tenant: provider message ids are unique per tenant, and an answer never names another's.
static void s_lookup_duplicate(s_conn_t *c, ingress_item_t *it)
{
    char tenant[24];
    snprintf(tenant, sizeof tenant, "%lld", (long long)it->tenant_id);
    const char *params[3] = {it->channel, it->provider_id, tenant};
    PGresult *res = lull_db_exec(c->db,
                                 "SELECT id, conversation_id FROM messages"
                                 " WHERE tenant_id = $3::bigint AND channel = $1 AND provider_message_id = $2",
                                 3, params);
    if (res && PQntuples(res) == 1) {
        it->message_id = lull_db_int(res, 0, 0, NULL);
        it->conversation_id = lull_db_int(res, 0, 1, NULL);
    }
    if (res) PQclear(res);
}

static void s_store_batch(s_conn_t *c, ingress_item_t **items, int n)
{
    // Two copies of one delivery in a batch: only the first is stored, the others share its outcome. Rows that
    // only share the provider id may belong to different tenants: the database decides (ids are per tenant).
    ingress_item_t **uniq = malloc((size_t)n * sizeof *uniq);
    if (!uniq) {
        s_fail_all(items, n, INGRESS_OUT_UNAVAILABLE, "out of memory");
        return;
    }
    int nu = 0;
    for (int i = 0; i < n; i++) {
        items[i]->dup_of_ = NULL;
        if (items[i]->provider_id)
            for (int j = 0; j < nu; j++)
                if (uniq[j]->provider_id && strcmp(uniq[j]->provider_id, items[i]->provider_id) == 0 &&
                    strcmp(uniq[j]->channel, items[i]->channel) == 0 &&
                    strcmp(uniq[j]->row_json, items[i]->row_json) == 0) {
                    items[i]->dup_of_ = uniq[j];
                    break;
                }
        if (!items[i]->dup_of_) uniq[nu++] = items[i];
    }
    int rc = -1;
    for (int attempt = 0; attempt < 3 && rc != 0; attempt++) {
        rc = s_store(c, uniq, nu);
        // deadlock / serialization failure with another ingress: the whole call rolled back, try again
        if (rc != 0 && strcmp(lull_db_sqlstate(c->db), "40P01") != 0 && strcmp(lull_db_sqlstate(c->db), "40001") != 0)
            break;
    }
    if (rc != 0) {  // the database refused the batch: each row alone, so a bad row fails only itself
        LOG_WARN("store.batch_refused", "batch refused; storing its rows one by one", "rows", LI(nu), "sqlstate",
                 LS(lull_db_sqlstate(c->db)), "error", LS(lull_db_error(c->db)));
        for (int i = 0; i < nu; i++) (void)s_store(c, &uniq[i], 1);
    }
    for (int i = 0; i < nu; i++)
        if (uniq[i]->outcome == INGRESS_OUT_DUPLICATE && uniq[i]->message_id == 0) s_lookup_duplicate(c, uniq[i]);
    for (int i = 0; i < n; i++) {
        ingress_item_t *it = items[i], *d = it->dup_of_;
        if (!d) continue;
        it->outcome = d->outcome == INGRESS_OUT_NEW ? INGRESS_OUT_DUPLICATE : d->outcome;
        it->tenant_id = d->tenant_id;
        it->contact_id = d->contact_id;
        it->conversation_id = d->conversation_id;
        it->message_id = d->message_id;
        it->window_ms = d->window_ms;
        snprintf(it->error, sizeof it->error, "%s", d->error);
    }
    free(uniq);
}

// ---------------------------------------------------------------------------------------------------------
// The thread

// One info line per stored message, with the ids that join the tiers' logs (never the body). A message from the
// contact (wake) logs inbound.accepted; a person's reply the provider echoed (a TikTok im_send_msg) logs it with
// "author":"human". A delivery already stored logs inbound.duplicate with the stored row's ids when known.
static void s_log_stored(const ingress_item_t *it)
{
    bool dup = it->outcome == INGRESS_OUT_DUPLICATE;
    if (it->op != INGRESS_OP_STORE || (!dup && it->outcome != INGRESS_OUT_NEW)) return;
    // A NULL key ends the fields: a duplicate whose stored id is unknown stops before message_id, and only an
    // echoed reply gets an author.
    lull_log_at(LULL_LOG_INFO, dup ? "inbound.duplicate" : "inbound.accepted", NULL, "tenant", LI(it->tenant_id),
                "channel", LS(it->channel), "conv", LI(it->conversation_id),
                it->message_id > 0 ? "message_id" : (const char *)NULL, LI(it->message_id),
                !dup && !it->wake ? "author" : (const char *)NULL, LS("human"), (const char *)NULL);
}

// A MULTI item's outcome once its subs are done: unavailable or failed when one of them is (Meta sends the whole
// request again; what was stored is then a duplicate), else new.
static void s_multi_outcome(ingress_item_t *it)
{
    it->outcome = INGRESS_OUT_NEW;
    for (size_t k = 0; k < it->nsubs; k++) {
        ingress_outcome_t o = it->subs[k].outcome;
        if (o == INGRESS_OUT_UNAVAILABLE || (o == INGRESS_OUT_FAILED && it->outcome != INGRESS_OUT_UNAVAILABLE)) {
            it->outcome = o;
            snprintf(it->error, sizeof it->error, "%s", it->subs[k].error);
        }
    }
}

static void s_process(s_conn_t *c, ingress_item_t **items, int n)
{
    int total = n;
    for (int i = 0; i < n; i++) total += items[i]->op == INGRESS_OP_MULTI ? (int)items[i]->nsubs : 0;
    bool connected = c->db && lull_db_connect(c->db) == 0;
    if (!connected) {
        s_fail_all(items, n, INGRESS_OUT_UNAVAILABLE, c->db ? lull_db_error(c->db) : "out of memory");
    } else {
        ingress_item_t **store = malloc((size_t)total * sizeof *store);
        int ns = 0;
        for (int i = 0; i < n; i++) {
            // a web chat message from another origin (arg[0]: its session): the tenant must list the origin
            if (items[i]->op == INGRESS_OP_STORE && items[i]->origin &&
                !ingress_ops_origin_ok(c->db, items[i], NULL, items[i]->arg[0]))
                continue;
            for (size_t k = 0; items[i]->op == INGRESS_OP_MULTI && k < items[i]->nsubs; k++) {
                ingress_item_t *sub = &items[i]->subs[k];
                sub->outcome = INGRESS_OUT_UNAVAILABLE;
                if (sub->op == INGRESS_OP_STORE && store) store[ns++] = sub;
                else if (sub->op == INGRESS_OP_STATUS) ingress_ops_status(c->db, sub);
            }
            if (items[i]->op == INGRESS_OP_MULTI) continue;
            if (items[i]->op == INGRESS_OP_STORE && store) store[ns++] = items[i];
            else if (items[i]->op == INGRESS_OP_SESSION) ingress_ops_session(c->db, items[i]);
            else if (items[i]->op == INGRESS_OP_HISTORY)
                ingress_ops_history(c->db, items[i], c->w->cfg.history_limit);
            else if (items[i]->op == INGRESS_OP_STATUS) ingress_ops_status(c->db, items[i]);
            else s_fail_all(&items[i], 1, INGRESS_OUT_UNAVAILABLE, "out of memory");
        }
        if (ns) ns = ingress_ops_check_signatures(c->db, store, ns);
        if (ns) s_store_batch(c, store, ns);
        free(store);
    }
    for (int i = 0; i < n; i++) {
        ingress_item_t *it = items[i];
        for (size_t k = 0; it->op == INGRESS_OP_MULTI && k < it->nsubs; k++) {
            ingress_item_t *sub = &it->subs[k];
            s_log_stored(sub);
            if (sub->op == INGRESS_OP_STORE && sub->outcome == INGRESS_OUT_NEW && sub->wake) s_push_inbound(c, sub);
        }
        if (it->op == INGRESS_OP_MULTI && connected) s_multi_outcome(it);
        s_log_stored(it);
        if (it->op == INGRESS_OP_STORE && it->outcome == INGRESS_OUT_NEW && it->wake) s_push_inbound(c, it);
        ingress_ops_unkey(it);
        it->done(it, it->done_arg);  // the item may be freed from here on
    }
}

// ---------------------------------------------------------------------------------------------------------
// Queues and their hand-over (under the writer's lock)
//
// Each thread has a queue, and a contact's items always enter the same queue (its affinity), in arrival order. A
// queue is served by its own thread while that thread's connection is up. While it is down (its backend killed, a
// network cut, a restart) and another thread is connected, the connected threads serve it too, so the contacts of a
// writer that is down are stored by the writers that are up instead of waiting for its reconnection; once it is
// connected again it serves its queue itself. The order holds because a queue is only ever taken from its head,
// and at most one batch holding items of a queue is in flight at a time (its taker), whichever thread runs it: a
// thread found down before it sent anything puts its batch back at the heads of its queues, and a batch that was
// sent keeps its queue until its outcome is known. So one contact's messages are stored one batch after the other,
// in arrival order, never by two connections at once.
//
// The spill (cfg.spill > 0): under light load the threads after the first are dormant, and the first takes their
// queues with its own, so one transaction commits what two would (a commit's fixed cost is most of PostgreSQL's work
// per webhook at small batches). When cfg.spill items wait while a batch commits, every thread commits its own
// queue for SPILL_HOLD_US, renewed while the queue stays that deep. (Items gathering for a batch while nothing
// commits do not count: with N clients, N of them wait there whatever the load.) The taker rule above keeps each
// contact's order across the switch. While the first thread is down (or stopping) nobody is dormant: the hand-over
// is as without a spill.

#define RETRY_MS 50  // how often a thread that is down tries to reconnect (lull_db's backoff paces the real attempts)
#define SPILL_HOLD_US 1000000  // how long a spill keeps the later threads awake after the queue was last that deep
#define DORMANT_CHECK_US 5000000  // how often a dormant thread checks its idle connection

// True when q (a thread after the first) leaves its queue to the first thread now.
static bool s_dormant(const ingress_writer_t *self, const s_conn_t *q, int64_t now_us)
{
    return self->cfg.spill > 0 && q->idx > 0 && !self->stopping && now_us >= self->spill_until_us &&
           self->conns[0].up && !self->conns[0].exited;
}

static int64_t s_spill_now(const ingress_writer_t *self) { return self->cfg.spill > 0 ? lull_clock_mono_us() : 0; }

static bool s_other_up(const ingress_writer_t *self, const s_conn_t *c)
{
    for (int i = 0; i < self->nconns; i++)
        if (&self->conns[i] != c && self->conns[i].up && !self->conns[i].exited) return true;
    return false;
}

// True when thread c may take the items of queue q now: its own while it is up and not dormant (or when every
// thread is down: they are then answered unavailable, as soon as possible), another's while that one is down or
// dormant and c is up and not dormant itself.
static bool s_may_take(const ingress_writer_t *self, const s_conn_t *c, const s_conn_t *q, int64_t now_us)
{
    if (!q->head || q->taker) return false;
    bool dormant = s_dormant(self, c, now_us);
    if (q == c) return c->up ? !dormant : !s_other_up(self, c);
    return c->up && !dormant && (!q->up || s_dormant(self, q, now_us));
}

static int s_available(const ingress_writer_t *self, const s_conn_t *c)
{
    int64_t now_us = s_spill_now(self);
    int n = 0;
    for (int i = 0; i < self->nconns; i++)
        if (s_may_take(self, c, &self->conns[i], now_us)) n += self->conns[i].queued;
    return n;
}

// Takes up to batch_max items, from its own queue first; each item remembers its queue and each queue taken from
// gets c as its taker. Returns how many.
static int s_take(ingress_writer_t *self, s_conn_t *c, ingress_item_t **batch)
{
    int64_t now_us = s_spill_now(self);
    int n = 0;
    for (int k = 0; k < self->nconns && n < self->cfg.batch_max; k++) {
        s_conn_t *q = &self->conns[(c->idx + k) % self->nconns];
        if (!s_may_take(self, c, q, now_us)) continue;
        int took = 0;
        while (q->head && n < self->cfg.batch_max) {
            q->head->queue_ = q;
            batch[n++] = q->head;
            q->head = q->head->next_;
            took++;
        }
        if (!q->head) q->tail = NULL;
        q->queued -= took;
        self->queued -= took;
        q->taker = c;
    }
    lull_gauge_set(self->queue_depth, self->queued);
    return n;
}

static void s_wake_all(ingress_writer_t *self)
{
    for (int i = 0; i < self->nconns; i++) pthread_cond_signal(&self->conns[i].ready);
}

// A batch that did not start goes back to the heads of its queues, in its order.
static void s_put_back(ingress_writer_t *self, ingress_item_t **batch, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        s_conn_t *q = batch[i]->queue_;
        batch[i]->next_ = q->head;
        q->head = batch[i];
        if (!q->tail) q->tail = batch[i];
        q->queued++;
        self->queued++;
    }
    lull_gauge_set(self->queue_depth, self->queued);
}

// The queues c took from are free for their next batch; their own threads (or other helpers) are woken.
static void s_release(ingress_writer_t *self, s_conn_t *c)
{
    bool others = false;
    for (int i = 0; i < self->nconns; i++)
        if (self->conns[i].taker == c) {
            self->conns[i].taker = NULL;
            others |= &self->conns[i] != c;
        }
    if (others) s_wake_all(self);
}

static void s_set_up(ingress_writer_t *self, s_conn_t *c, bool up)
{
    if (c->up == up) return;
    c->up = up;
    self->nup += up ? 1 : -1;
    lull_gauge_set(self->connected, self->nup);
    s_wake_all(self);
    if (!c->known) return;
    const char *pool = self->cfg.pool ? self->cfg.pool : "writer", *error = c->db ? lull_db_error(c->db) : "no memory";
    if (up) LOG_INFO("ingress.writer_up", "a writer is connected again", "pool", LS(pool), "writer", LI(c->idx));
    else LOG_WARN("ingress.writer_down", "a writer is not connected: the connected ones take its contacts meanwhile",
                  "pool", LS(pool), "writer", LI(c->idx), "queued", LI(c->queued), "error", LS(error));
}

static void s_timedwait(ingress_writer_t *self, s_conn_t *c, int64_t us)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = (int64_t)ts.tv_nsec + us * 1000;
    ts.tv_sec += ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    pthread_cond_timedwait(&c->ready, &self->lock, &ts);
}

// The thread's connection string: the configured one, named for pg_stat_activity (lull-ingress-writer-N, or
// -reader-N) unless it names itself (fallback_application_name). NULL when out of memory.
static char *s_thread_url(const ingress_writer_t *self, int idx)
{
    const char *url = self->database_url;
    bool uri = strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0;
    const char *sep = !uri ? " " : strchr(url, '?') ? "&" : "?";
    size_t len = strlen(url) + 96;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%s%sfallback_application_name=lull-ingress-%s-%d", url, sep,
                 self->cfg.pool ? self->cfg.pool : "writer", idx);
    return out;
}

static void *s_run(void *arg)
{
    s_conn_t *c = arg;
    ingress_writer_t *self = c->w;
    char *url = s_thread_url(self, c->idx);
    c->db = url ? lull_db_new(url) : NULL;
    free(url);
    if (c->db) lull_db_set_backoff(c->db, 50, 1000);
    if (self->zctx) {
        ingress_wake_cfg_t wc = {.zctx = self->zctx, .schedulers = self->cfg.schedulers, .map = self->cfg.schedmap,
                                 .hwm = self->cfg.inbound_hwm, .pushed = self->pushed, .dropped = self->dropped,
                                 .unowned = self->unowned};
        c->wake = ingress_wake_new(&wc);
    }
    ingress_item_t **batch = calloc((size_t)self->cfg.batch_max, sizeof *batch);
    pthread_mutex_lock(&self->lock);
    s_set_up(self, c, c->db && lull_db_connected(c->db));  // (quiet: known is still false)
    c->known = true;
    for (;;) {
        if (!c->up && !self->stopping && lull_clock_mono_ms() >= c->retry_ms) {
            pthread_mutex_unlock(&self->lock);
            bool ok = c->db && lull_db_connect(c->db) == 0;
            pthread_mutex_lock(&self->lock);
            c->retry_ms = lull_clock_mono_ms() + RETRY_MS;
            if (ok) s_set_up(self, c, true);
        }
        int avail = batch ? s_available(self, c) : 0;
        if (avail == 0) {
            if (self->stopping && !c->head) break;
            int64_t now_us = s_spill_now(self);
            bool dormant = s_dormant(self, c, now_us);
            // Its queue left to the first thread (the spill is over): wake that one, it may be waiting.
            if (c->head && !c->taker && dormant) pthread_cond_signal(&self->conns[0].ready);
            if (dormant && c->up) {
                // Now and then a dormant thread checks its idle connection (a terminated backend, a restarted server),
                // so that it is connected when a spill wakes it and lull_ingress_writers_connected tells the truth.
                if (now_us - c->checked_us >= DORMANT_CHECK_US) {
                    c->checked_us = now_us;
                    pthread_mutex_unlock(&self->lock);
                    bool ok = c->db && lull_db_idle_ok(c->db);
                    pthread_mutex_lock(&self->lock);
                    if (!ok) {
                        s_set_up(self, c, false);
                        c->retry_ms = lull_clock_mono_ms() + RETRY_MS;
                        continue;
                    }
                }
                s_timedwait(self, c, DORMANT_CHECK_US);
                continue;
            }
            if (c->up) pthread_cond_wait(&c->ready, &self->lock);
            else s_timedwait(self, c, RETRY_MS * 1000);
            continue;
        }
        // Under load (the last batch had company), let a batch that is not full gather for batch_wait_us.
        if (c->last_batch > 1 && self->cfg.batch_wait_us > 0 && avail < self->cfg.batch_max && !self->stopping) {
            int64_t deadline_us = lull_clock_mono_us() + self->cfg.batch_wait_us;
            int64_t left;
            while (s_available(self, c) < self->cfg.batch_max && !self->stopping &&
                   (left = deadline_us - lull_clock_mono_us()) > 0)
                s_timedwait(self, c, left);
        }
        int n = s_take(self, c, batch);
        c->last_batch = n;
        if (n == 0) continue;  // (another thread took them meanwhile)
        pthread_mutex_unlock(&self->lock);
        // Nothing is sent yet: a connection found down here (an idle backend that was terminated, a server restarted)
        // hands the batch back, to the writers that are connected, instead of refusing it.
        bool ok = c->db && (lull_db_idle_ok(c->db) || lull_db_connect(c->db) == 0);
        pthread_mutex_lock(&self->lock);
        if (!ok) {
            s_set_up(self, c, false);
            c->retry_ms = lull_clock_mono_ms() + RETRY_MS;
            if (s_other_up(self, c)) {
                s_put_back(self, batch, n);
                s_release(self, c);
                s_wake_all(self);
                continue;
            }
        }
        int away = 0;  // items of a thread that is down (a dormant one's are not handed over: they are its own load)
        for (int i = 0; i < n; i++) away += batch[i]->queue_ != c && !((s_conn_t *)batch[i]->queue_)->up;
        if (away) lull_counter_add(self->handed_over, away);
        self->committing++;
        pthread_mutex_unlock(&self->lock);
        s_process(c, batch, n);
        pthread_mutex_lock(&self->lock);
        self->committing--;
        s_release(self, c);
        s_set_up(self, c, c->db && lull_db_connected(c->db));
    }
    c->exited = true;
    s_wake_all(self);
    pthread_mutex_unlock(&self->lock);
    free(batch);
    ingress_wake_destroy(&c->wake);
    lull_db_destroy(&c->db);
    return NULL;
}

ingress_writer_t *ingress_writer_new(const ingress_writer_cfg_t *cfg)
{
    ingress_writer_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->cfg = *cfg;
    if (cfg->writers <= 1) self->cfg.spill = 0;  // nobody to wake: no clock read per request for it
    if (self->cfg.batch_max < 1) self->cfg.batch_max = 1;
    self->database_url = strdup(cfg->database_url ? cfg->database_url : "");
    pthread_mutex_init(&self->lock, NULL);
    lull_metrics_t *m = cfg->metrics;
    // a reader pool's metrics carry pool="reader"; the writers' keep their unlabelled names
    char pool_label[64] = "";
    if (cfg->pool) snprintf(pool_label, sizeof pool_label, "pool=\"%s\"", cfg->pool);
    const char *L = cfg->pool ? pool_label : NULL;
    self->commits = lull_metrics_counter(m, "lull_ingress_commits_total", L, "group-commit transactions committed");
    self->db_errors = lull_metrics_counter(m, "lull_ingress_db_errors_total", L, "failed database calls");
    self->pushed = lull_metrics_counter(m, "lull_ingress_inbound_pushed_total", L, "INBOUND wake-ups queued to a scheduler shard");
    self->dropped = lull_metrics_counter(m, "lull_ingress_inbound_dropped_total", L,
                                         "INBOUND wake-ups dropped (shard slow or absent; its sweep recovers)");
    self->unowned = lull_metrics_counter(m, "lull_ingress_inbound_unowned_total", L,
                                         "INBOUND wake-ups dropped because no live scheduler owned the conversation's"
                                         " partition (its owner's recovery finds the message)");
    static const double sizes[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
    self->batch_size = lull_metrics_histogram(m, "lull_ingress_batch_size", L, "messages per group commit", sizes,
                                              sizeof sizes / sizeof sizes[0]);
    self->commit_seconds = lull_metrics_histogram(m, "lull_ingress_commit_seconds", L,
                                                  "duration of one group-commit transaction", LULL_METRICS_LATENCY_BUCKETS,
                                                  LULL_METRICS_LATENCY_NBUCKETS);
    self->queue_depth = lull_metrics_gauge(m, "lull_ingress_queue_depth", L, "requests waiting for the writer");
    self->handed_over = lull_metrics_counter(m, "lull_ingress_handed_over_total", L,
                                             "requests run by another writer thread while their contact's was not connected");
    self->connected = lull_metrics_gauge(m, "lull_ingress_writers_connected", L,
                                         "writer threads whose database connection is up");
    self->spills = lull_metrics_counter(m, "lull_ingress_writer_spills_total", L,
                                        "times a deep queue woke the writer threads after the first "
                                        "(LULL_INGRESS_WRITER_SPILL)");
    self->zctx = cfg->pool ? NULL : zmq_ctx_new();  // a reader pool wakes no scheduler
    self->nconns = cfg->writers > 0 ? cfg->writers : 1;
    self->conns = calloc((size_t)self->nconns, sizeof *self->conns);
    if (!self->database_url || (!cfg->pool && !self->zctx) || !self->conns) goto fail;
    self->started = true;
    for (int i = 0; i < self->nconns; i++) {
        pthread_cond_init(&self->conns[i].ready, NULL);
        char labels[96];
        snprintf(labels, sizeof labels, "%s%swriter=\"%d\"", L ? L : "", L ? "," : "", i);
        self->conns[i].commits = lull_metrics_counter(m, "lull_ingress_writer_commits_total", labels,
                                                      "transactions committed by one writer thread");
    }
    for (int i = 0; i < self->nconns; i++) {
        self->conns[i].w = self;
        self->conns[i].idx = i;
        if (pthread_create(&self->conns[i].thread, NULL, s_run, &self->conns[i]) != 0) goto fail;
        self->conns[i].started = true;
    }
    return self;
fail:
    ingress_writer_destroy(&self);
    return NULL;
}

void ingress_writer_stop(ingress_writer_t *self)
{
    if (!self || !self->started) return;
    pthread_mutex_lock(&self->lock);
    self->stopping = true;
    for (int i = 0; i < self->nconns; i++) pthread_cond_broadcast(&self->conns[i].ready);
    pthread_mutex_unlock(&self->lock);
    for (int i = 0; i < self->nconns; i++)
        if (self->conns[i].started) pthread_join(self->conns[i].thread, NULL);
    self->started = false;
}

void ingress_writer_destroy(ingress_writer_t **self_p)
{
    if (!self_p || !*self_p) return;
    ingress_writer_t *self = *self_p;
    ingress_writer_stop(self);
    if (self->zctx) zmq_ctx_term(self->zctx);
    pthread_mutex_destroy(&self->lock);
    for (int i = 0; self->conns && i < self->nconns; i++) pthread_cond_destroy(&self->conns[i].ready);
    free(self->conns);
    free(self->database_url);
    free(self);
    *self_p = NULL;
}

// The queue an item goes to: its contact's (affinity), so that one contact's messages are stored in arrival order,
// one batch at a time, and two writers never wait for each other's locks on the same contact and conversation rows
// (while that queue's thread is down, the connected threads serve it); an item without one goes to the shortest
// queue of a connected thread. Under the lock.
static s_conn_t *s_pick(ingress_writer_t *self, const ingress_item_t *item)
{
    if (item->affinity) return &self->conns[item->affinity % (uint32_t)self->nconns];
    s_conn_t *best = NULL;
    for (int i = 0; i < self->nconns; i++) {
        s_conn_t *q = &self->conns[i];
        if (!best || (q->up && !best->up) || (q->up == best->up && q->queued < best->queued)) best = q;
    }
    return best;
}

int ingress_writer_submit(ingress_writer_t *self, ingress_item_t *item)
{
    item->next_ = NULL;
    item->outcome = INGRESS_OUT_UNAVAILABLE;
    item->error[0] = '\0';
    pthread_mutex_lock(&self->lock);
    if (self->stopping || self->queued >= self->cfg.queue_max) {
        pthread_mutex_unlock(&self->lock);
        return -1;
    }
    s_conn_t *c = s_pick(self, item);
    if (c->tail) c->tail->next_ = item;
    else c->head = item;
    c->tail = item;
    c->queued++;
    self->queued++;
    int64_t now_us = s_spill_now(self);
    if (self->cfg.spill > 0 && self->committing > 0 && self->queued >= self->cfg.spill) {
        bool waking = now_us >= self->spill_until_us;
        self->spill_until_us = now_us + SPILL_HOLD_US;
        if (waking) {
            lull_counter_add(self->spills, 1);
            s_wake_all(self);  // the later threads take their own queues from now on
        }
    }
    bool first = c->queued == 1 || c->queued >= self->cfg.batch_max;
    if (!c->up) s_wake_all(self);  // served by a connected thread meanwhile
    else if (s_dormant(self, c, now_us)) {
        if (first) pthread_cond_signal(&self->conns[0].ready);  // the first thread takes it
    } else if (first) pthread_cond_signal(&c->ready);
    pthread_mutex_unlock(&self->lock);
    return 0;
}

bool ingress_writer_has_room(ingress_writer_t *self)
{
    pthread_mutex_lock(&self->lock);
    bool room = !self->stopping && self->queued < self->cfg.queue_max;
    pthread_mutex_unlock(&self->lock);
    return room;
}
