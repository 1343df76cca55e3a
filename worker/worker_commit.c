// The commit sink. A commit is one statement: the compare-and-swap first (a data-modifying CTE), and every
// insert selects FROM it, so a lost CAS writes nothing. The common results of a batch (a reply, its analysis,
// usage) share one set-based statement (worker_commit_rows.c), one per batch; a result with a rare part (an
// escalation, a contact's rate limit) has its own statement below. A batch's statements go to PostgreSQL in
// one pipeline up to one sync point, which it runs as one implicit transaction (one fsync for the batch); a
// CAS that finds a newer state is simply a no-op inside it.
#include "worker_commit.h"
#include "worker_commit_rows.h"
#include "worker_dbq.h"
#include "lull_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMIT_NPARAMS 37

static const lull_db_stmt_t s_commit_stmt = {
    "lull_w_commit",
    "WITH cas AS (UPDATE conversations SET answered_upto = $8, failed_attempts = 0,"
    "  first_unanswered_at = CASE WHEN last_inbound_id = $8 THEN NULL ELSE (SELECT min(created_at) FROM messages"
    "  WHERE conversation_id = $1 AND direction = 'in' AND id > $8) END,"
    "  updated_at = now(), last_reply_at = CASE WHEN $34::boolean THEN now() ELSE last_reply_at END,"
    "  status = CASE WHEN $22::text IS NULL THEN status ELSE 'escalated' END,"
    "  escalated_at = CASE WHEN $22::text IS NULL THEN escalated_at ELSE now() END,"
    "  escalation_reason = CASE WHEN $22::text IS NULL THEN escalation_reason ELSE $21::text END"
    "  WHERE id = $1 AND answered_upto = $33 AND status = 'open'"
    "  AND (paused_until IS NULL OR paused_until <= now()) AND cancelled_upto < $8"  // a person answered: silent
    "  AND (last_inbound_id = $8 OR ($35::boolean AND last_inbound_id > $8)) RETURNING id),"
    " m AS (INSERT INTO messages (conversation_id, tenant_id, channel, direction, author, body)"
    "  SELECT $1, $2, $3, 'out', 'bot', $4::text FROM cas WHERE $4::text IS NOT NULL RETURNING id),"
    " a AS (INSERT INTO analyses (conversation_id, tenant_id, message_id, upto_message_id, sentiment,"
    "  sentiment_confidence, intent, priority, escalate, escalate_reason, entities, moderation, extracted, raw,"
    "  provider, model)"
    "  SELECT $1, $2, (SELECT id FROM m), $8, $9, $10::real, $11, $12, $13::boolean, $14, $15::jsonb,"
    "  $16::jsonb, $17::jsonb, $18::jsonb, $19, $20 FROM cas WHERE $9::text IS NOT NULL),"
    " e AS (INSERT INTO escalations (conversation_id, tenant_id, reason, source)"
    "  SELECT $1, $2, $21, $22 FROM cas WHERE $22::text IS NOT NULL RETURNING id),"
    // the reply's outbox row and the escalation's notice (rare) in one INSERT: one outbox insertion to set up
    " o AS (INSERT INTO outbox (tenant_id, conversation_id, message_id, channel, recipient, sender_address,"
    "  payload, idempotency_key)"
    "  SELECT $2, $1, m.id, $3, $5, $6, jsonb_build_object('body', $4::text, 'kind', $7::text), 'out_' || m.id"
    "  FROM m"
    "  UNION ALL SELECT $2, $1, NULL, 'generic', $23, NULL, jsonb_build_object('kind', 'escalation', 'body', $21::text,"
    "  'conversation_id', $1::bigint, 'escalation_id', e.id, 'source', $22::text), 'esc_' || e.id"
    "  FROM e WHERE $23::text IS NOT NULL RETURNING id, message_id IS NULL AS esc),"
    " wn AS (SELECT pg_notify('lull_webchat', json_build_object('type', 'escalation', 'conversation_id', $1::bigint,"
    "  'session', $5::text)::text) FROM e WHERE $3::text = 'webchat'),"  // the web chat page: a person will answer
    " u AS (INSERT INTO usage AS us (tenant_id, contact_id, day, provider, model, requests, prompt_tokens,"
    "  completion_tokens, latency_ms, cost_usd, cached_prompt_tokens, cache_write_tokens)"
    "  SELECT $2, $24, current_date, x.p, x.mo, x.r, x.ti, x.tou, x.l, x.c, x.ca, x.cw"  // spent even when the CAS fails
    "  FROM unnest($25::text[], $26::text[], $27::int[], $28::bigint[], $29::bigint[], $30::bigint[],"
    "  $31::numeric[], $36::bigint[], $37::bigint[]) AS x(p, mo, r, ti, tou, l, c, ca, cw)"
    WORKER_COMMIT_USAGE_UPSERT "),"
    " ct AS (UPDATE contacts SET limited_until = now() + $32::bigint * interval '1 millisecond',"
    "  updated_at = now() WHERE id = $24 AND $32::bigint > 0 AND EXISTS (SELECT 1 FROM cas))"
    " SELECT (SELECT count(*) FROM cas), (SELECT id FROM o WHERE NOT esc), (SELECT id FROM o WHERE esc),"
    " (SELECT count(*) FROM wn)",
    COMMIT_NPARAMS,
};

// One job waiting for the next batch: a result to commit, or a failed attempt to count.
typedef struct s_entry {
    worker_done_info_t who;
    lull_outcome_t ok_outcome;  // outcome when the CAS applies (an attempt: the outcome reported)
    int64_t retry_after_ms;     // an attempt: reported with it
    char detail[LULL_PROTO_MAX_DETAIL + 1];
    bool attempt;                  // count a failed attempt (params unused), then report
    int64_t expected;              // an attempt: the answered_upto it counts against
    char *params[COMMIT_NPARAMS];  // owned statement parameters (a result with a rare part)
    char *row;                     // owned: a common result's element of WORKER_COMMIT_ROWS's array (params unused)
    // set by the run (on the database thread when there is one)
    enum { E_FAILED, E_APPLIED, E_SETTLED } state;  // the batch failed / the CAS applied / reported as is
    lull_outcome_t outcome;     // E_SETTLED: duplicate or superseded (a lost CAS), or the attempt's outcome
    const char *reason;         // E_SETTLED: static
    int64_t ids[2];             // E_APPLIED: the outbox rows
    size_t nids;
    struct s_entry *next;
} s_entry_t;

typedef struct {
    worker_sink_t sink;  // first: a worker_sink_t * is this
    lull_db_t *db;
    worker_dbq_t *dbq;   // the database thread (NULL: batches run on the loop, with db)
    bool in_flight;      // a batch is on the database thread (the next one waits for it)
    worker_report_fn *report;
    void *arg;
    s_entry_t *head, *tail;
    lull_counter_t *m_cas_conflict, *m_db_errors, *m_by_person;
} s_commit_t;

// The entries a batch task holds: the thread's from submit until done starts.
typedef struct {
    worker_dbq_task_t task;  // first
    s_commit_t *self;
    s_entry_t *head;
} s_batch_t;

static const char s_attempt_sql[] = "UPDATE conversations SET failed_attempts = failed_attempts + 1, updated_at = now()"
                                    " WHERE id = $1 AND answered_upto = $2 AND status = 'open'";

static void s_entry_free(s_entry_t *e)
{
    for (int i = 0; i < COMMIT_NPARAMS; i++) free(e->params[i]);
    free(e->row);
    free(e);
}

static void s_begin(worker_sink_t *sink, const worker_job_view_t *job)
{
    (void)sink;
    LOG_DEBUG("job.start", NULL, "job", LI((int64_t)job->done.job_id), "conv", LI(job->done.conv_id), "upto",
              LI(job->done.upto), "attempt", LI(job->done.attempt), "max_wait", LB(job->max_wait));
}

// Appends one element to a PostgreSQL array literal being built in buf (opened with "{", closed by the caller).
static void s_elem(char *buf, size_t cap, bool first, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void s_elem(char *buf, size_t cap, bool first, const char *fmt, ...)
{
    size_t l = strlen(buf);
    if (!first && l + 1 < cap) buf[l++] = ',', buf[l] = '\0';
    va_list ap;
    va_start(ap, fmt);
    if (l < cap) vsnprintf(buf + l, cap - l, fmt, ap);
    va_end(ap);
}

// The usage of the job per provider used, as the parallel arrays the statement unnests ($25..$31, $36, $37).
#define USAGE_ARRAYS 9
static void s_usage_arrays(const worker_job_view_t *j, char arr[USAGE_ARRAYS][1024])
{
    for (int k = 0; k < USAGE_ARRAYS; k++) snprintf(arr[k], sizeof arr[k], "{");
    bool first = true;
    for (int i = 0; i < WORKER_NPROVIDERS; i++) {
        const worker_usage_t *u = &j->usage[i];
        if (u->requests == 0) continue;
        char m[LULL_TENANT_MODEL_MAX + 1];
        size_t k = 0;
        for (const char *q = j->model[i]; *q && k + 1 < sizeof m; q++)  // a quoted array element
            if (*q != '"' && *q != '\\' && *q != '{' && *q != '}') m[k++] = *q;
        m[k] = '\0';
        s_elem(arr[0], sizeof arr[0], first, "%s", WORKER_PROVIDERS[i]->name);
        s_elem(arr[1], sizeof arr[1], first, "\"%s\"", m);
        s_elem(arr[2], sizeof arr[2], first, "%lld", (long long)u->requests);
        s_elem(arr[3], sizeof arr[3], first, "%lld", (long long)u->tokens_in);
        s_elem(arr[4], sizeof arr[4], first, "%lld", (long long)u->tokens_out);
        s_elem(arr[5], sizeof arr[5], first, "%lld", (long long)u->latency_ms);
        s_elem(arr[6], sizeof arr[6], first, "%.6f", j->cost_usd[i]);
        s_elem(arr[7], sizeof arr[7], first, "%lld", (long long)u->cached_in);
        s_elem(arr[8], sizeof arr[8], first, "%lld", (long long)u->cache_write);
        first = false;
    }
    for (int k = 0; k < USAGE_ARRAYS; k++) {
        size_t l = strlen(arr[k]);
        if (l + 1 < sizeof arr[k]) arr[k][l] = '}', arr[k][l + 1] = '\0';
    }
}

// Copies the statement parameters of a job's result into e. 0, or -1 when out of memory.
static int s_params(s_entry_t *e, const worker_job_view_t *j, const worker_outcome_t *c)
{
    char conv[24], tenant[24], expected[24], upto[24], contact[24], conf[32], limit_ms[24];
    snprintf(conv, sizeof conv, "%lld", (long long)j->done.conv_id);
    snprintf(tenant, sizeof tenant, "%lld", (long long)j->tenant_id);
    snprintf(expected, sizeof expected, "%lld", (long long)j->expected);
    snprintf(upto, sizeof upto, "%lld", (long long)j->done.upto);
    snprintf(contact, sizeof contact, "%lld", (long long)j->contact_id);
    snprintf(limit_ms, sizeof limit_ms, "%lld", (long long)(c->limit_contact ? j->limit_contact_ms : 0));
    char arr[USAGE_ARRAYS][1024];
    s_usage_arrays(j, arr);
    const worker_analysis_t *a = c->analysis;
    if (a) snprintf(conf, sizeof conf, "%.4f", a->confidence);
    const char *aprov = a && c->analysis_provider >= 0 ? WORKER_PROVIDERS[c->analysis_provider]->name : NULL;
    const char *amodel = a && c->analysis_provider >= 0 ? j->model[c->analysis_provider] : NULL;
    const char *p[COMMIT_NPARAMS] = {
        conv, tenant, j->channel, c->reply, j->recipient, j->sender_address, c->kind ? c->kind : "reply",
        upto,                                                                          // $8
        a ? a->sentiment : NULL, a ? conf : NULL, a ? a->intent : NULL, a ? a->priority : NULL,  // $9..$12
        a ? (a->escalate ? "t" : "f") : NULL, a ? a->escalate_reason : NULL,           // $13, $14
        a ? a->entities : NULL, a ? a->moderation : NULL, a ? a->extracted : NULL, a ? a->raw : NULL,  // $15..$18
        aprov, amodel,                                                                 // $19, $20
        c->esc_source ? c->esc_reason : NULL, c->esc_source,                           // $21, $22
        c->esc_source ? j->callback_url : NULL,                                        // $23
        contact, arr[0], arr[1], arr[2], arr[3], arr[4], arr[5], arr[6],               // $24..$31
        limit_ms, expected, c->reply ? "t" : "f",                                      // $32..$34
        j->max_wait ? "t" : "f",                                                       // $35
        arr[7], arr[8],                                                                // $36, $37
    };
    int rc = 0;
    for (int i = 0; i < COMMIT_NPARAMS; i++) {
        e->params[i] = p[i] ? strdup(p[i]) : NULL;
        if (p[i] && !e->params[i]) rc = -1;
    }
    return rc;
}

// Counts a failed attempt on the conversation (towards the apology). Any thread (db is that thread's).
static void s_count_attempt(s_commit_t *self, lull_db_t *db, const worker_done_info_t *who, int64_t expected)
{
    char conv[24], expd[24];
    snprintf(conv, sizeof conv, "%lld", (long long)who->conv_id);
    snprintf(expd, sizeof expd, "%lld", (long long)expected);
    const char *p[] = {conv, expd};
    if (lull_db_run(db, s_attempt_sql, 2, p, NULL) != 0) lull_counter_add(self->m_db_errors, 1);
}

static void s_queue(s_commit_t *self, s_entry_t *e)
{
    if (self->tail) self->tail->next = e;
    else self->head = e;
    self->tail = e;
}

static void s_emit(worker_sink_t *sink, const worker_job_view_t *job, const worker_outcome_t *out)
{
    s_commit_t *self = (s_commit_t *)sink;
    const char *detail = out->detail ? out->detail : "";
    if (out->write == WORKER_WRITE_ATTEMPT) {  // counted with the next batch (on the thread, if any), then reported
        s_entry_t *e = calloc(1, sizeof *e);
        if (e) {
            e->attempt = true;
            e->expected = job->expected;
            e->who = job->done;
            e->ok_outcome = out->outcome;
            e->retry_after_ms = out->retry_after_ms;
            snprintf(e->detail, sizeof e->detail, "%s", detail);
            s_queue(self, e);
            return;
        }
        s_count_attempt(self, self->db, &job->done, job->expected);  // out of memory: here and now
    }
    if (out->write != WORKER_WRITE_RESULT) {
        self->report(&job->done, out->outcome, out->retry_after_ms, detail, NULL, 0, self->arg);
        return;
    }
    s_entry_t *e = calloc(1, sizeof *e);
    bool rare = worker_commit_rows_rare(job, out);
    if (e && !rare) e->row = worker_commit_rows_json(job, out);
    if (!e || (rare ? s_params(e, job, out) != 0 : !e->row)) {
        if (e) s_entry_free(e);
        self->report(&job->done, LULL_OUTCOME_FAILED_RETRYABLE, 1000, "out of memory", NULL, 0, self->arg);
        return;
    }
    e->who = job->done;
    e->ok_outcome = out->outcome;
    snprintf(e->detail, sizeof e->detail, "%s", detail);
    s_queue(self, e);
}

// Reads one statement's result row: whether the CAS applied and the outbox ids. False when it is not there.
static bool s_commit_row(const PGresult *r, int64_t ids[2], size_t *nids, bool *applied)
{
    *nids = 0;
    *applied = false;
    if (!r || PQntuples(r) != 1 || PQnfields(r) != 4) return false;
    *applied = lull_db_int(r, 0, 0, NULL) == 1;
    for (int col = 1; col <= 2; col++) {
        bool v = false;
        int64_t id = lull_db_int(r, 0, col, &v);
        if (v && id > 0) ids[(*nids)++] = id;
    }
    return true;
}

// Why a compare-and-swap failed, read back after it: the job's burst was answered already (duplicate), or
// it was superseded — by a person (a human reply, an im_send_msg echo, a take over: the conversation is paused
// or holds a person's message newer than the burst), by a cancel, by a status change or by a newer message.
static const char s_reread_sql[] =
    "SELECT answered_upto, CASE WHEN status = 'paused' OR paused_until > now() OR EXISTS (SELECT 1 FROM messages"
    "  WHERE conversation_id = $1 AND author = 'human' AND id > $2::bigint) THEN 'person'"
    "  WHEN cancelled_upto >= $2::bigint THEN 'cancelled' WHEN status <> 'open' THEN status"
    "  ELSE 'newer_message' END FROM conversations WHERE id = $1";

// Tells duplicate from superseded after a failed compare-and-swap; reason gets why (a static string). Any
// thread (db is that thread's).
static lull_outcome_t s_reread(s_commit_t *self, lull_db_t *db, const worker_done_info_t *who, const char **reason)
{
    char conv[24], upto[24];
    snprintf(conv, sizeof conv, "%lld", (long long)who->conv_id);
    snprintf(upto, sizeof upto, "%lld", (long long)who->upto);
    const char *p[] = {conv, upto};
    PGresult *r = lull_db_exec(db, s_reread_sql, 2, p);
    bool ok = false;
    int64_t answered = r && PQntuples(r) == 1 ? lull_db_int(r, 0, 0, &ok) : 0;
    const char *why = ok ? lull_db_text(r, 0, 1) : NULL;
    static const char *const known[] = {"person", "cancelled", "newer_message", "escalated", "paused", "closed"};
    *reason = "unknown";
    for (size_t i = 0; why && i < sizeof known / sizeof known[0]; i++)
        if (strcmp(why, known[i]) == 0) *reason = known[i];
    PQclear(r);
    if (ok && answered >= who->upto) {
        *reason = "already answered";
        return LULL_OUTCOME_DUPLICATE;
    }
    if (strcmp(*reason, "person") == 0) lull_counter_add(self->m_by_person, 1);
    LOG_INFO("job.superseded", strcmp(*reason, "person") == 0 ? "a person answered: the bot reply is not sent" : NULL,
             "conv", LI(who->conv_id), "job", LI((int64_t)who->job_id), "upto", LI(who->upto), "reason", LS(*reason));
    return LULL_OUTCOME_SUPERSEDED;
}

// Joins the rows of the common results of group g into one JSON array (the caller frees); NULL when out of memory.
static char *s_group_json(s_entry_t *const *batch, const int *group, int n, int g)
{
    size_t len = 3;
    for (int i = 0; i < n; i++)
        if (group[i] == g) len += strlen(batch[i]->row) + 1;
    char *json = malloc(len), *w = json;
    if (!json) return NULL;
    *w++ = '[';
    for (int i = 0; i < n; i++) {
        if (group[i] != g) continue;
        if (w > json + 1) *w++ = ',';
        size_t l = strlen(batch[i]->row);
        memcpy(w, batch[i]->row, l);
        w += l;
    }
    *w++ = ']';
    *w = '\0';
    return json;
}

// Reads a set statement's rows (conversation id, outbox id) into the entries of its group: applied or not. The
// rows are read once (an entry meets each of them: reading them per entry made the batch's parse O(n²)).
static bool s_group_rows(const PGresult *r, s_entry_t *const *batch, const int *group, int n, int g)
{
    if (!r || PQnfields(r) != 2) return false;
    int nr = PQntuples(r);
    int64_t rows[WORKER_COMMIT_BATCH][2];  // one row per applied CAS: at most one per entry of the group
    if (nr > WORKER_COMMIT_BATCH) return false;
    for (int row = 0; row < nr; row++) {
        bool okc = false, oko = false;
        rows[row][0] = lull_db_int(r, row, 0, &okc);
        rows[row][1] = lull_db_int(r, row, 1, &oko);
        if (!okc) rows[row][0] = -1;  // matches no conversation
        if (!oko) rows[row][1] = 0;
    }
    for (int i = 0; i < n; i++) {
        if (group[i] != g) continue;
        s_entry_t *b = batch[i];
        b->state = E_SETTLED;
        b->nids = 0;
        for (int row = 0; row < nr; row++) {
            if (rows[row][0] != b->who.conv_id) continue;
            b->state = E_APPLIED;
            if (rows[row][1] > 0 && b->nids < sizeof b->ids / sizeof b->ids[0]) b->ids[b->nids++] = rows[row][1];
        }
    }
    return true;
}

// Runs the results of one transaction: the common ones as set statements (group g holds each conversation's
// g-th result of the batch, so that one statement never meets a conversation twice: a duplicate job of the same
// burst comes after and finds the CAS taken), each rare one as its own statement. A failing statement or COMMIT
// fails the whole transaction: nothing of it is committed.
static void s_run_batch(s_commit_t *self, lull_db_t *db, s_entry_t *const *batch, int n)
{
    int group[WORKER_COMMIT_BATCH], ngroups = 0, nst = 0;
    const lull_db_stmt_t *stmts[WORKER_COMMIT_BATCH];
    const char *const *params[WORKER_COMMIT_BATCH];
    PGresult *res[WORKER_COMMIT_BATCH];
    char *json[WORKER_COMMIT_BATCH];
    bool ok = true;
    for (int i = 0; i < n; i++) {
        group[i] = -1;
        if (!batch[i]->row) continue;
        group[i] = 0;
        for (int k = 0; k < i; k++)
            if (batch[k]->row && batch[k]->who.conv_id == batch[i]->who.conv_id) group[i]++;
        if (group[i] + 1 > ngroups) ngroups = group[i] + 1;
    }
    for (int g = 0; g < ngroups; g++) {
        json[g] = s_group_json(batch, group, n, g);
        if (!json[g]) ok = false;
        stmts[nst] = &WORKER_COMMIT_ROWS;
        params[nst++] = (const char *const *)&json[g];
    }
    for (int i = 0; i < n; i++) {
        if (group[i] >= 0) continue;
        stmts[nst] = &s_commit_stmt;
        params[nst++] = (const char *const *)batch[i]->params;
    }
    for (int k = 0; k < nst; k++) res[k] = NULL;
    ok = ok && lull_db_batch(db, stmts, params, nst, true, res) == 0;
    int k = 0;
    for (int g = 0; g < ngroups; g++, k++) ok = s_group_rows(res[k], batch, group, n, g) && ok;
    for (int i = 0; i < n; i++) {
        if (group[i] >= 0) continue;
        bool applied = false;
        ok = s_commit_row(res[k++], batch[i]->ids, &batch[i]->nids, &applied) && ok;
        batch[i]->state = applied ? E_APPLIED : E_SETTLED;
    }
    for (k = 0; k < nst; k++) PQclear(res[k]);
    for (int g = 0; g < ngroups; g++) free(json[g]);
    if (!ok) {
        lull_counter_add(self->m_db_errors, 1);
        LOG_WARN("job.commit_failed", "commit failed; the jobs will be retried", "jobs", LI(n), "error",
                 LS(lull_db_error(db)));
    }
    for (int i = 0; i < n; i++) {
        s_entry_t *b = batch[i];
        if (!ok) b->state = E_FAILED;
        else if (b->state == E_SETTLED) {
            lull_counter_add(self->m_cas_conflict, 1);
            b->outcome = s_reread(self, db, &b->who, &b->reason);
        }
    }
}

// Runs a batch's entries on db: each WORKER_COMMIT_BATCH results one transaction (s_run_batch), a lost CAS
// re-read, an attempt counted. On the database thread when there is one (then db is the thread's and the
// entries are the thread's), else on the loop. Only sets the entries' states (metrics are atomic, logs are
// thread-safe).
static void s_run(s_commit_t *self, lull_db_t *db, s_entry_t *e)
{
    while (e) {
        s_entry_t *batch[WORKER_COMMIT_BATCH];
        int n = 0;
        for (; e && n < WORKER_COMMIT_BATCH; e = e->next) {
            if (e->attempt) {
                s_count_attempt(self, db, &e->who, e->expected);
                e->state = E_SETTLED;
                e->outcome = e->ok_outcome;
                continue;
            }
            batch[n++] = e;
        }
        if (n > 0) s_run_batch(self, db, batch, n);
    }
}

// Reports each entry of a run and frees it (on the loop).
static void s_report_all(s_commit_t *self, s_entry_t *e)
{
    while (e) {
        s_entry_t *next = e->next;
        if (e->attempt) self->report(&e->who, e->ok_outcome, e->retry_after_ms, e->detail, NULL, 0, self->arg);
        else if (e->state == E_FAILED)
            self->report(&e->who, LULL_OUTCOME_FAILED_RETRYABLE, 1000, "database error", NULL, 0, self->arg);
        else if (e->state == E_APPLIED) self->report(&e->who, e->ok_outcome, 0, e->detail, e->ids, e->nids, self->arg);
        else self->report(&e->who, e->outcome, 0, e->reason, NULL, 0, self->arg);
        s_entry_free(e);
        e = next;
    }
}

static void s_task_run(worker_dbq_task_t *task, lull_db_t *db)
{
    s_batch_t *b = (s_batch_t *)task;
    s_run(b->self, db, b->head);
}

// A batch is back from the database thread: report it. What queued meanwhile goes at the next end (the engine's
// tick, every few ms), so that batches stay as large as on the loop.
static void s_task_done(worker_dbq_task_t *task)
{
    s_batch_t *b = (s_batch_t *)task;
    s_commit_t *self = b->self;
    self->in_flight = false;
    s_report_all(self, b->head);
    free(b);
}

// Commits the queued jobs and reports each: on the loop now, or as one batch task on the database thread
// (one at a time: what is queued while it runs goes as the next, at the next end after it is back).
static void s_end(worker_sink_t *sink)
{
    s_commit_t *self = (s_commit_t *)sink;
    if (!self->head) return;
    if (!self->dbq) {
        s_entry_t *e = self->head;
        self->head = self->tail = NULL;
        s_run(self, self->db, e);
        s_report_all(self, e);
        return;
    }
    if (self->in_flight) return;
    s_batch_t *b = calloc(1, sizeof *b);
    if (!b) return;  // the next tick tries again
    b->task = (worker_dbq_task_t){.run = s_task_run, .done = s_task_done};
    b->self = self;
    b->head = self->head;  // the thread's now
    self->head = self->tail = NULL;
    self->in_flight = true;
    worker_dbq_submit(self->dbq, &b->task);
}

// Commits and reports what is queued or on the thread (waiting for it), then frees.
static void s_destroy(worker_sink_t **self_p)
{
    if (!self_p || !*self_p) return;
    s_commit_t *self = (s_commit_t *)*self_p;
    s_end(*self_p);
    worker_dbq_drain(self->dbq);
    s_end(*self_p);  // what queued while the last batch ran
    worker_dbq_drain(self->dbq);
    if (self->head) {             // left by an allocation failure: on the loop's connection
        s_entry_t *e = self->head;
        self->head = self->tail = NULL;
        s_run(self, self->db, e);
        s_report_all(self, e);
    }
    free(*self_p);
    *self_p = NULL;
}

worker_sink_t *worker_commit_new(lull_db_t *db, worker_dbq_t *dbq, lull_metrics_t *metrics, worker_report_fn *report,
                                void *arg)
{
    s_commit_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->sink = (worker_sink_t){s_begin, s_emit, s_end, s_destroy};
    self->db = db;
    self->dbq = dbq;
    self->report = report;
    self->arg = arg;
    self->m_cas_conflict = lull_metrics_counter(metrics, "lull_worker_cas_conflicts_total", NULL,
                                                "replies not committed because the compare-and-swap found a newer state");
    self->m_by_person = lull_metrics_counter(metrics, "lull_worker_superseded_by_person_total", NULL,
                                             "replies not committed because a person answered the conversation");
    self->m_db_errors = lull_metrics_counter(metrics, "lull_worker_db_errors_total", NULL, "database statements that failed");
    return &self->sink;
}
