// Outbox SQL of the sender. Every write after the claim is guarded by lease_owner and status = 'sending',
// so a sender whose lease expired (and whose row another sender claimed) cannot overwrite the newer claim.
#include "sender_outbox.h"
#include "lull_log.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// A due bot reply (its message's author is the bot) is not sent when a person answered the conversation since it
// was committed — the conversation is paused (human reply, im_send_msg echo, take over) or holds a person's
// message newer than the reply: the claim marks it cancelled instead (superseded_by_person), attempt not
// counted. A person's replies (author human) and escalation notifications (no message) are always sent.
// The test itself, on outbox o, its message m and its conversation cv; also run when an in-memory retry starts.
#define SQL_PERSON_ANSWERED                                                                                     \
    "coalesce(m.author = 'bot' AND (cv.status = 'paused' OR cv.paused_until > now()"                           \
    "    OR EXISTS (SELECT 1 FROM messages h WHERE h.conversation_id = o.conversation_id AND h.author = 'human'" \
    "    AND h.id > o.message_id)), false)"
// The lease guard's status test on outbox o (alias A). Statements that find their rows by id must reach them
// through the primary key: written plainly, status = 'sending' implies outbox_due_idx's predicate, and when the
// statistics say that index is almost empty (taken while every row was sent, then a burst of new rows; after a
// TRUNCATE, which keeps them) the planner scans the whole due index instead — once per id in a nested loop
// (the resume statement: a stalled sender, the database at 100 % CPU). The "C" collation, the same equality
// for text, is not the index predicate's, so the predicate is not implied and the index is not considered.
#define SQL_SENDING(A) A ".status COLLATE \"C\" = 'sending'"

// The due rows are locked by a statement on outbox alone, which stops after n rows in outbox_due_idx order
// whatever the statistics say; the person test and the joins then run on those n rows only. (With the
// joins in the locking statement, statistics saying the due index is almost empty — taken while every row
// was sent, before a burst — planned hash joins over every due row and a sort of all of them, per claim.)
static const char SQL_CLAIM[] =
    "WITH d AS MATERIALIZED ("
    "  SELECT o.id, o.conversation_id, o.message_id FROM outbox o"
    "  WHERE o.status IN ('pending','retry','sending') AND o.next_attempt_at <= now()"
    "  ORDER BY o.next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED),"
    " c AS MATERIALIZED ("  // the person test once per row, not once per SET column that reads it
    "  SELECT o.id, " SQL_PERSON_ANSWERED " AS person"
    "  FROM d o LEFT JOIN messages m ON m.id = o.message_id LEFT JOIN conversations cv ON cv.id = o.conversation_id),"
    // The rows are reached by an index condition on their ids, not by a join with c: a plan made on statistics that
    // say outbox is empty joined them by a full scan of outbox_pkey per claim (250-290 ms: a stalled sender), and a
    // join with c guarded by the ids ran as a nested loop over both (c estimated at one row, a batch is hundreds).
    " us AS ("
    "  UPDATE outbox o SET status = 'sending', lease_until = now() + $2::bigint * interval '1 millisecond',"
    "    next_attempt_at = now() + $2::bigint * interval '1 millisecond', lease_owner = $3,"
    "    attempts = o.attempts + 1, updated_at = now()"
    "  WHERE o.id = ANY (ARRAY(SELECT id FROM c WHERE c.person IS NOT TRUE))"
    "  RETURNING o.*),"
    " uc AS ("
    "  UPDATE outbox o SET status = 'cancelled', lease_until = NULL, lease_owner = NULL,"
    "    cancel_reason = 'superseded_by_person', cancelled_at = now(), updated_at = now()"
    "  WHERE o.id = ANY (ARRAY(SELECT id FROM c WHERE c.person))"
    "  RETURNING o.*),"
    " u AS (SELECT * FROM us UNION ALL SELECT * FROM uc)"
    " SELECT u.id, u.tenant_id, u.conversation_id, u.message_id, u.channel, u.recipient, u.sender_address,"
    "  u.payload::text, u.attempts, coalesce(u.max_retries, t.max_retries), t.retry_base_ms, t.retry_max_ms,"
    "  u.idempotency_key, t.credentials::text, t.callback_url, t.callback_secret_ref, t.whatsapp_template_sid,"
    "  t.whatsapp_template_vars::text, t.tiktok_business_id, ct.external_id,"
    "  (extract(epoch FROM now() - greatest(cv.wa_window_start, ct.last_inbound_at)) * 1000)::bigint,"
    "  to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    "  u.status = 'cancelled', u.cancel_reason, cv.channel,"
    "  CASE WHEN ct.id IS NOT NULL THEN json_build_object('id', ct.id, 'external_id', ct.external_id,"
    "   'first_name', ct.first_name, 'last_name', ct.last_name, 'profile_name', ct.profile_name)::text END,"
    "  t.meta_template::text"
    " FROM u LEFT JOIN tenants t ON t.id = u.tenant_id"
    "  LEFT JOIN conversations cv ON cv.id = u.conversation_id"
    "  LEFT JOIN contacts ct ON ct.id = cv.contact_id"
    " ORDER BY u.id";

static const lull_db_stmt_t STMT_CLAIM = {"sender_claim", SQL_CLAIM, 3};
bool sender_outbox_row_cancelled(const PGresult *res, int r)
{
    const char *c = lull_db_text(res, r, SO_CANCELLED);
    if (!c || strcmp(c, "t") != 0) return false;
    const char *why = lull_db_text(res, r, SO_CANCEL_REASON);
    LOG_INFO("outbox.cancelled", "a person answered the conversation: the bot reply is not sent", "outbox",
             LI(lull_db_int(res, r, SO_ID, NULL)), "conv", LI(lull_db_int(res, r, SO_CONV, NULL)), "reason",
             LS(why ? why : ""));
    return true;
}

// A growable text buffer for array literals.
typedef struct {
    char *buf;
    size_t len, cap;
} s_buf_t;

static int s_buf_put(s_buf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1) cap *= 2;
        char *nb = realloc(b->buf, cap);
        if (!nb) return -1;
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return 0;
}

// Appends one array element: NULL, or a double-quoted string with " and \ escaped.
static int s_buf_elem(s_buf_t *b, const char *s)
{
    if (b->len > 1 && s_buf_put(b, ",", 1) != 0) return -1;
    if (!s) return s_buf_put(b, "NULL", 4);
    if (s_buf_put(b, "\"", 1) != 0) return -1;
    for (const char *p = s; *p; p++) {
        if ((*p == '"' || *p == '\\') && s_buf_put(b, "\\", 1) != 0) return -1;
        if (s_buf_put(b, p, 1) != 0) return -1;
    }
    return s_buf_put(b, "\"", 1);
}

typedef struct {
    int64_t id;
    sender_rec_t rec;
    int64_t delay_ms;
    long last_status;
    int extra;  // attempts made in memory since the claim and not written yet (added to attempts)
    char *error;
    char *provider_id;
} s_result_t;

struct sender_results {
    s_result_t *items;
    size_t n, cap;
};

sender_results_t *sender_results_new(void) { return calloc(1, sizeof(sender_results_t)); }

static void s_results_clear(sender_results_t *self)
{
    for (size_t i = 0; i < self->n; i++) {
        free(self->items[i].error);
        free(self->items[i].provider_id);
    }
    self->n = 0;
}

void sender_results_destroy(sender_results_t **self_p)
{
    if (!self_p || !*self_p) return;
    sender_results_t *self = *self_p;
    s_results_clear(self);
    free(self->items);
    free(self);
    *self_p = NULL;
}

int sender_results_add(sender_results_t *self, int64_t id, sender_rec_t rec, int64_t delay_ms, long last_status,
                       const char *error, const char *provider_id)
{
    return sender_results_add_n(self, id, rec, delay_ms, last_status, error, provider_id, 0);
}

int sender_results_add_n(sender_results_t *self, int64_t id, sender_rec_t rec, int64_t delay_ms, long last_status,
                         const char *error, const char *provider_id, int extra_attempts)
{
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 256;
        s_result_t *items = realloc(self->items, cap * sizeof *items);
        if (!items) return -1;
        self->items = items;
        self->cap = cap;
    }
    s_result_t r = {.id = id, .rec = rec, .delay_ms = delay_ms < 0 ? 0 : delay_ms, .last_status = last_status,
                    .extra = extra_attempts > 0 ? extra_attempts : 0};
    if (error && !(r.error = strdup(error))) return -1;
    if (provider_id && *provider_id && !(r.provider_id = strdup(provider_id))) {
        free(r.error);
        return -1;
    }
    self->items[self->n++] = r;
    return 0;
}

size_t sender_results_count(const sender_results_t *self) { return self->n; }

static const char *s_rec_name(sender_rec_t rec)
{
    switch (rec) {
    case SENDER_REC_SENT: return "sent";
    case SENDER_REC_RETRY: return "retry";
    case SENDER_REC_DEAD: return "dead";
    case SENDER_REC_UNKNOWN: return "unknown";
    case SENDER_REC_RELEASE: return "release";
    }
    return "retry";
}

// One statement for the whole batch. 'release' undoes the claim's attempt count and returns the row to
// pending/retry; errors and statuses are kept from earlier attempts when a result carries none; the attempts
// made in memory since the claim (in-memory retries, not written when they started) are added.
static const char SQL_FLUSH[] =
    "UPDATE outbox o SET"
    "  status = CASE WHEN v.st = 'release' THEN (CASE WHEN o.attempts <= 1 THEN 'pending' ELSE 'retry' END)"
    "           ELSE v.st END,"
    "  attempts = CASE WHEN v.st = 'release' THEN greatest(o.attempts - 1, 0) ELSE o.attempts + v.extra END,"
    "  next_attempt_at = CASE WHEN v.st IN ('retry','release') THEN now() + v.delay_ms * interval '1 millisecond'"
    "                    ELSE now() END,"
    "  lease_until = NULL, lease_owner = NULL,"
    "  last_status = CASE WHEN v.last_status < 0 THEN o.last_status ELSE v.last_status END,"
    "  last_error = coalesce(v.err, o.last_error),"
    "  provider_message_id = coalesce(v.pid, o.provider_message_id),"
    "  sent_at = CASE WHEN v.st = 'sent' THEN now() ELSE o.sent_at END,"
    "  updated_at = now()"
    " FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::int[], $6::text[], $7::text[], $8::int[])"
    "   AS v(id, st, delay_ms, last_status, err, pid, extra)"
    " WHERE o.id = v.id AND o.lease_owner = $1 AND " SQL_SENDING("o");

static const lull_db_stmt_t STMT_FLUSH = {"sender_flush", SQL_FLUSH, 8};

// The flush's array parameters (ids, statuses, delays, last statuses, errors, provider ids, extra attempts) of every
// queued result, as array literals in all[0..6] (the caller frees their buffers). 0/-1.
static int s_results_params(const sender_results_t *self, s_buf_t all[7])
{
    for (size_t k = 0; k < 7; k++)
        if (s_buf_put(&all[k], "{", 1) != 0) return -1;
    for (size_t i = 0; i < self->n; i++) {
        const s_result_t *r = &self->items[i];
        char num[4][32];
        snprintf(num[0], sizeof num[0], "%lld", (long long)r->id);
        snprintf(num[1], sizeof num[1], "%lld", (long long)r->delay_ms);
        snprintf(num[2], sizeof num[2], "%ld", r->last_status);
        snprintf(num[3], sizeof num[3], "%d", r->extra);
        if (s_buf_elem(&all[0], num[0]) != 0 || s_buf_elem(&all[1], s_rec_name(r->rec)) != 0 ||
            s_buf_elem(&all[2], num[1]) != 0 || s_buf_elem(&all[3], num[2]) != 0 ||
            s_buf_elem(&all[4], r->error) != 0 || s_buf_elem(&all[5], r->provider_id) != 0 ||
            s_buf_elem(&all[6], num[3]) != 0)
            return -1;
    }
    for (size_t k = 0; k < 7; k++)
        if (s_buf_put(&all[k], "}", 1) != 0) return -1;
    return 0;
}

// The next attempt of rows this sender holds and retries in memory: a read, not a write. It checks that the row is
// still this sender's (the lease guard) and that no person answered over a bot reply meanwhile; such a reply is
// cancelled as the claim cancels it, with the attempts made in memory and the failed attempt's status and error.
// A row that goes on is not written: its attempts made in memory (v.n, not counting the one starting) and the
// failed attempt's status and error are written with its final result (sender_results_add_n). Returned: the id,
// whether it was cancelled, the row's attempt count once this attempt is written, and the conversation id.
static const char SQL_RESUME[] =
    "WITH c AS MATERIALIZED ("  // the person test once per row
    "  SELECT o.id, " SQL_PERSON_ANSWERED " AS person, v.last_status, v.err, v.n, o.attempts, o.conversation_id"
    "  FROM unnest($2::bigint[], $3::int[], $4::text[], $5::int[]) AS v(id, last_status, err, n)"
    "  JOIN outbox o ON o.id = v.id LEFT JOIN messages m ON m.id = o.message_id"
    "  LEFT JOIN conversations cv ON cv.id = o.conversation_id"
    "  WHERE o.lease_owner = $1 AND " SQL_SENDING("o") "),"
    " u AS ("  // only the cancelled ones are written
    "  UPDATE outbox o SET status = 'cancelled', lease_until = NULL, lease_owner = NULL,"
    "    attempts = o.attempts + greatest(c.n, 0),"
    "    last_status = CASE WHEN c.last_status < 0 THEN o.last_status ELSE c.last_status END,"
    "    last_error = coalesce(c.err, o.last_error),"
    "    cancel_reason = 'superseded_by_person', cancelled_at = now(), updated_at = now()"
    "  FROM c WHERE c.person AND o.id = c.id AND o.lease_owner = $1 AND " SQL_SENDING("o")
    "  RETURNING o.id)"
    " SELECT c.id, c.id IN (SELECT id FROM u), c.attempts + greatest(c.n, 0) + 1, coalesce(c.conversation_id, 0)"
    " FROM c WHERE NOT c.person OR c.id IN (SELECT id FROM u) ORDER BY c.id";

static const lull_db_stmt_t STMT_RESUME = {"sender_resume", SQL_RESUME, 5};

// The resume's array parameters (ids, statuses, errors, attempts made in memory) as array literals in b[0..3] (the
// caller frees them). 0/-1.
static int s_resume_params(const sender_resume_t *in, s_buf_t b[4])
{
    for (size_t k = 0; k < 4; k++)
        if (s_buf_put(&b[k], "{", 1) != 0) return -1;
    for (size_t i = 0; i < in->n; i++) {
        char num[3][32];
        snprintf(num[0], sizeof num[0], "%lld", (long long)in->ids[i]);
        snprintf(num[1], sizeof num[1], "%ld", in->statuses[i]);
        snprintf(num[2], sizeof num[2], "%d", in->unwritten ? in->unwritten[i] : 0);
        if (s_buf_elem(&b[0], num[0]) != 0 || s_buf_elem(&b[1], num[1]) != 0 || s_buf_elem(&b[2], in->errors[i]) != 0 ||
            s_buf_elem(&b[3], num[2]) != 0)
            return -1;
    }
    for (size_t k = 0; k < 4; k++)
        if (s_buf_put(&b[k], "}", 1) != 0) return -1;
    return 0;
}

// Every statement of the sender reaches its rows through an index: the claim through outbox_due_idx, the others
// through the primary key. When the statistics say that `lease_owner = me AND status = 'sending'` matches one row
// (a fresh or truncated table, or statistics taken while no row was leased) and the table is small, the planner
// prices one sequential scan below a hundred primary-key probes and scans the whole table for each results batch
// and resume (18.7 ms against 3.4 ms for 150 ids at 20,000 rows; in the benchmark, 100+ ms a call under load).
// This session setting (restated at the head of every pump's batch, so that a new connection has it too) takes
// the scan out of the planner's choices for the sender's connection, whatever the statistics say.
static const lull_db_stmt_t STMT_PLAN = {"sender_plan", "SET enable_seqscan = off", 0};

int sender_outbox_pump(lull_db_t *db, const char *owner, sender_results_t *first, const sender_resume_t *resume,
                       int claim_n, int64_t lease_ms, PGresult **resumed, PGresult **claimed, sender_flushed_t *flushed)
{
    int rc = -1, nst = 1, i_flush = -1, i_resume = -1, i_claim = -1;
    s_buf_t all[7] = {{0}}, rb[4] = {{0}};
    const lull_db_stmt_t *stmts[4] = {&STMT_PLAN};
    const char *const *bparams[4] = {NULL};
    const char *fparams[8], *rparams[5], *cparams[3];
    char sn[24], sl[24];
    PGresult *r[4] = {NULL, NULL, NULL, NULL};
    if (resumed) *resumed = NULL;
    if (claimed) *claimed = NULL;
    if (flushed) *flushed = (sender_flushed_t){0};
    if (first && first->n) {
        if (s_results_params(first, all) != 0) goto cleanup;
        const char *fp[] = {owner, all[0].buf, all[1].buf, all[2].buf, all[3].buf, all[4].buf, all[5].buf, all[6].buf};
        memcpy(fparams, fp, sizeof fp);
        stmts[nst] = &STMT_FLUSH;
        bparams[nst] = fparams;
        i_flush = nst++;
    }
    if (resume && resumed) {
        if (s_resume_params(resume, rb) != 0) goto cleanup;
        const char *rp[] = {owner, rb[0].buf, rb[1].buf, rb[2].buf, rb[3].buf};
        memcpy(rparams, rp, sizeof rp);
        stmts[nst] = &STMT_RESUME;
        bparams[nst] = rparams;
        i_resume = nst++;
    }
    if (claimed) {
        snprintf(sn, sizeof sn, "%d", claim_n);
        snprintf(sl, sizeof sl, "%lld", (long long)lease_ms);
        const char *cp[] = {sn, sl, owner};
        memcpy(cparams, cp, sizeof cp);
        stmts[nst] = &STMT_CLAIM;
        bparams[nst] = cparams;
        i_claim = nst++;
    }
    if (nst == 1) {  // nothing to do
        rc = 0;
        goto cleanup;
    }
    if (lull_db_batch(db, stmts, bparams, nst, true, r) != 0) goto cleanup;
    rc = 0;  // committed: every part is written
    if (i_flush >= 0) {
        const char *t = PQcmdTuples(r[i_flush]);
        if (flushed) *flushed = (sender_flushed_t){.queued = first->n, .applied = t && *t ? strtoll(t, NULL, 10) : 0};
        s_results_clear(first);
    }
    if (i_resume >= 0 && PQnfields(r[i_resume]) == 4) {  // (another shape cannot happen: NULL, as an error)
        *resumed = r[i_resume];
        r[i_resume] = NULL;
    }
    if (i_claim >= 0 && PQnfields(r[i_claim]) == SO_NCOLS) {
        *claimed = r[i_claim];
        r[i_claim] = NULL;
    }
cleanup:
    for (int i = 0; i < 4; i++) PQclear(r[i]);
    for (size_t k = 0; k < 7; k++) free(all[k].buf);
    for (size_t k = 0; k < 4; k++) free(rb[k].buf);
    return rc;
}

PGresult *sender_outbox_claim(lull_db_t *db, int n, int64_t lease_ms, const char *owner, sender_results_t *first,
                              sender_flushed_t *flushed)
{
    PGresult *res = NULL;
    return sender_outbox_pump(db, owner, first, NULL, n, lease_ms, NULL, &res, flushed) == 0 ? res : NULL;
}

PGresult *sender_outbox_resume(lull_db_t *db, const char *owner, const int64_t *ids, const long *statuses,
                               const char *const *errors, size_t n, sender_results_t *first, sender_flushed_t *flushed)
{
    PGresult *res = NULL;
    sender_resume_t in = {.ids = ids, .statuses = statuses, .errors = errors, .n = n};
    return sender_outbox_pump(db, owner, first, &in, 0, 0, &res, NULL, flushed) == 0 ? res : NULL;
}

int sender_results_flush(sender_results_t *self, lull_db_t *db, const char *owner, int64_t *applied)
{
    sender_flushed_t f = {0};
    int rc = sender_outbox_pump(db, owner, self, NULL, 0, 0, NULL, NULL, &f);
    if (applied) *applied = f.applied;
    return rc;
}

static const char *SQL_WEBCHAT =
    "WITH u AS ("
    "  UPDATE outbox SET status = 'sent', sent_at = now(), lease_until = NULL, lease_owner = NULL,"
    "    last_status = NULL, updated_at = now()"
    "  WHERE id = ANY($2::bigint[]) AND lease_owner = $1 AND " SQL_SENDING("outbox")
    "  RETURNING id, conversation_id, message_id, recipient, attempts)"
    " SELECT id, coalesce(conversation_id, 0), attempts, pg_notify('lull_webchat', json_build_object("
    "   'conversation_id', conversation_id, 'message_id', message_id, 'session', recipient)::text) FROM u";

int sender_outbox_webchat_sent(lull_db_t *db, const char *owner, const int64_t *ids, size_t n, sender_sent_fn *sent,
                               void *arg)
{
    int rc = -1;
    s_buf_t b = {0};
    if (n == 0) return 0;
    if (s_buf_put(&b, "{", 1) != 0) goto cleanup;
    for (size_t i = 0; i < n; i++) {
        char num[32];
        snprintf(num, sizeof num, "%lld", (long long)ids[i]);
        if (s_buf_elem(&b, num) != 0) goto cleanup;
    }
    if (s_buf_put(&b, "}", 1) != 0) goto cleanup;
    const char *params[] = {owner, b.buf};
    PGresult *res = lull_db_exec(db, SQL_WEBCHAT, 2, params);
    if (!res) goto cleanup;
    for (int r = 0; sent && r < PQntuples(res); r++)
        sent(lull_db_int(res, r, 0, NULL), lull_db_int(res, r, 1, NULL), (int)lull_db_int(res, r, 2, NULL), arg);
    PQclear(res);
    rc = 0;
cleanup:
    free(b.buf);
    return rc;
}

int sender_outbox_escalate(lull_db_t *db, const char *owner, int64_t id, int64_t conv, int64_t tenant,
                           const char *reason)
{
    char sid[24], sconv[24], sten[24];
    snprintf(sid, sizeof sid, "%lld", (long long)id);
    snprintf(sconv, sizeof sconv, "%lld", (long long)conv);
    snprintf(sten, sizeof sten, "%lld", (long long)tenant);
    int64_t n = 0;
    if (lull_db_begin(db) != 0) return -1;
    const char *p1[] = {sid, owner, reason};
    if (lull_db_run(db,
                    "UPDATE outbox SET status = 'dead', last_error = $3, lease_until = NULL, lease_owner = NULL,"
                    " updated_at = now() WHERE id = $1 AND lease_owner = $2 AND " SQL_SENDING("outbox"),
                    3, p1, &n) != 0)
        goto fail;
    if (n == 1 && conv > 0) {
        const char *p2[] = {sconv, reason};
        if (lull_db_run(db,
                        "UPDATE conversations SET status = 'escalated', escalated_at = now(),"
                        " escalation_reason = $2, updated_at = now() WHERE id = $1 AND status <> 'closed'",
                        2, p2, NULL) != 0)
            goto fail;
        const char *p3[] = {sconv, sten, reason};
        if (lull_db_run(db,  // and the conversation.escalated event to the tenant's callback URL, as the worker's
                        "WITH e AS (INSERT INTO escalations (conversation_id, tenant_id, reason, source)"
                        " SELECT $1, $2, $3, 'sender' WHERE EXISTS (SELECT 1 FROM conversations WHERE id = $1)"
                        " RETURNING id)"
                        " INSERT INTO outbox (tenant_id, conversation_id, channel, recipient, payload, idempotency_key)"
                        " SELECT $2, $1, 'generic', t.callback_url, jsonb_build_object('kind', 'escalation', 'body',"
                        " $3::text, 'conversation_id', $1::bigint, 'escalation_id', e.id, 'source', 'sender'),"
                        " 'esc_' || e.id FROM e JOIN tenants t ON t.id = $2 WHERE coalesce(t.callback_url, '') <> ''",
                        3, p3, NULL) != 0)
            goto fail;
    }
    if (lull_db_commit(db) != 0) goto fail;
    return 0;
fail:
    lull_db_rollback(db);
    return -1;
}
