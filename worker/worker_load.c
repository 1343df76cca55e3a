// Loading a job into named fields. The tenant's columns are one list (S_TENANT_COLS) read by one function,
// for a job's load and for a dry run's alike.
#include "worker_load.h"
#include "lull_channel.h"
#include "lull_tenant_limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_STR2(x) #x
#define S_STR(x) S_STR2(x)

// The tenant's settings, in the order of the T_* indexes below (p = prompts, t = tenants).
#define S_TENANT_COLS                                                                                        \
    " t.company_name, t.agent_name, p.template, t.provider_chain::text, t.model, t.models::text,"           \
    " t.temperature, t.confidence_threshold, t.max_tokens, t.max_attempts, t.escalation_keywords::text,"    \
    " t.blocked_patterns::text, t.safe_reply, t.apology_reply, t.daily_limit_tenant, t.daily_limit_contact," \
    " t.extraction_fields::text, t.callback_url, t.tiktok_business_id, t.llm_mode, t.history_tokens"
enum {
    T_COMPANY, T_AGENT, T_TEMPLATE, T_CHAIN, T_MODEL, T_MODELS, T_TEMP, T_THRESHOLD, T_MAXTOK, T_MAXATT,
    T_KEYWORDS, T_BLOCKED, T_SAFE, T_APOLOGY, T_LIM_T, T_LIM_C, T_FIELDS, T_CALLBACK, T_TIKTOK, T_LLM_MODE, T_HIST_TOK,
    T_NCOLS
};

// The conversation's columns come first, then the tenant's.
enum {
    C_TENANT, C_CONTACT, C_CHANNEL, C_STATUS, C_ANSWERED, C_LAST, C_BUSINESS, C_EXTCONV, C_EXTID, C_CUSTOMER,
    C_LIMITED, C_USED_T, C_USED_C, C_NCOLS
};

// The conversation's, contact's and tenant's columns of the load (C_* then T_*), FROM and joins; c = the conversation.
#define S_LOAD_FROM                                                                                          \
    " c.tenant_id, c.contact_id, c.channel, c.status, c.answered_upto, c.last_inbound_id,"                  \
    " c.business_address, c.external_conversation_id, ct.external_id,"                                       \
    " coalesce(nullif(ct.first_name, ''), nullif(ct.profile_name, ''), ''),"                                 \
    " coalesce(ct.limited_until > now(), false),"                                                            \
    " CASE WHEN t.daily_limit_tenant IS NULL THEN 0 ELSE (SELECT coalesce(sum(requests), 0) FROM usage_tenant_day u" \
    "   WHERE u.tenant_id = c.tenant_id AND u.day = current_date) END," /* the running total of usage (026) */ \
    " CASE WHEN t.daily_limit_contact IS NULL THEN 0 ELSE (SELECT coalesce(sum(requests), 0) FROM usage u"    \
    "   WHERE u.tenant_id = c.tenant_id AND u.contact_id = c.contact_id AND u.day = current_date) END,"      \
    S_TENANT_COLS                                                                                            \
    " FROM conversations c JOIN contacts ct ON ct.id = c.contact_id JOIN tenants t ON t.id = c.tenant_id"   \
    " LEFT JOIN prompts p ON p.id = t.prompt_id"

// The rows of a batch's jobs, keyed and ordered by the job's position in $1 (as the histories are), so that
// the split into jobs is one merge, not a search per job.
const lull_db_stmt_t WORKER_LOAD_ROWS = {
    "lull_w_load_rows",
    "SELECT j.ord," S_LOAD_FROM " JOIN unnest($1::bigint[]) WITH ORDINALITY AS j(conv, ord) ON j.conv = c.id"
    " ORDER BY j.ord",
    1,
};

// The newest history_len messages up to the job's upto, and never fewer than the messages not answered yet
// (after answered_upto): a burst longer than history_len is shown whole, so the model never answers a message
// it did not see. history_len is bounded by the tenant limits (a CHECK); the same bounds cap the burst.
// (S_HIST(conv, upto): the rows of one job, newest first; the statement puts them oldest first.)
#define S_HIST(conv, upto)                                                                                        \
    "SELECT id, direction, body, media, transcript FROM messages WHERE conversation_id = " conv " AND id <= " upto \
    " ORDER BY id DESC LIMIT (SELECT least(greatest(t.history_len, " S_STR(LULL_TENANT_HISTORY_LEN_MIN)          \
    ", (SELECT count(*) FROM messages u WHERE u.conversation_id = " conv " AND u.id > c.answered_upto"           \
    " AND u.id <= " upto ")), " S_STR(LULL_TENANT_HISTORY_LEN_MAX) ")"                                           \
    " FROM conversations c JOIN tenants t ON t.id = c.tenant_id WHERE c.id = " conv ")"

const lull_db_stmt_t WORKER_LOAD_HISTORIES = {
    "lull_w_histories",
    "SELECT j.ord, h.id, h.direction, h.body, h.media::text, h.transcript"
    " FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS j(conv, upto, ord)"
    " CROSS JOIN LATERAL (" S_HIST("j.conv", "j.upto") ") h ORDER BY j.ord, h.id",
    2,
};

static const char *const s_try_sql =
    "SELECT" S_TENANT_COLS " FROM tenants t LEFT JOIN prompts p ON p.id = t.prompt_id WHERE t.id = $1";

static double s_real(const PGresult *r, int c, double lo, double hi, double def)
{
    const char *v = lull_db_text(r, 0, c);
    double d = v ? strtod(v, NULL) : def;
    return d >= lo && d <= hi ? d : def;
}

static int s_int(const PGresult *r, int c, int64_t lo, int64_t hi, int def)
{
    bool ok = false;
    int64_t v = lull_db_int(r, 0, c, &ok);
    return ok && v >= lo && v <= hi ? (int)v : def;
}

// Reads the tenant's columns of row 0 of r, starting at column base. A value outside the tenant limits (a
// row changed by hand past the CHECKs) falls back to the column's default.
static void s_read_tenant(worker_load_t *l, const PGresult *r, int base)
{
    l->company_name = lull_db_text(r, 0, base + T_COMPANY);
    l->agent_name = lull_db_text(r, 0, base + T_AGENT);
    l->template = lull_db_text(r, 0, base + T_TEMPLATE);
    l->provider_chain = lull_db_text(r, 0, base + T_CHAIN);
    l->model = lull_db_text(r, 0, base + T_MODEL);
    l->models = lull_db_text(r, 0, base + T_MODELS);
    l->temperature = s_real(r, base + T_TEMP, 0, LULL_TENANT_TEMPERATURE_MAX, 0.7);
    // The column is NOT NULL with default 0.7: only another value tells that the tenant chose one.
    l->temperature_set = lull_db_text(r, 0, base + T_TEMP) && l->temperature != 0.7;
    l->confidence_threshold = s_real(r, base + T_THRESHOLD, 0, LULL_TENANT_CONFIDENCE_MAX, 0.5);
    l->max_tokens = s_int(r, base + T_MAXTOK, 1, LULL_TENANT_MAX_TOKENS_MAX, 512);
    l->max_attempts = s_int(r, base + T_MAXATT, 0, LULL_TENANT_MAX_ATTEMPTS_MAX, 3);
    l->escalation_keywords = lull_db_text(r, 0, base + T_KEYWORDS);
    l->blocked_patterns = lull_db_text(r, 0, base + T_BLOCKED);
    l->safe_reply = lull_db_text(r, 0, base + T_SAFE);
    l->apology_reply = lull_db_text(r, 0, base + T_APOLOGY);
    l->limit_tenant = lull_db_int(r, 0, base + T_LIM_T, &l->has_limit_tenant);
    l->limit_contact = lull_db_int(r, 0, base + T_LIM_C, &l->has_limit_contact);
    const char *fields = lull_db_text(r, 0, base + T_FIELDS);
    l->extraction_fields = fields ? fields : "[]";
    const char *callback = lull_db_text(r, 0, base + T_CALLBACK);
    l->callback_url = callback && *callback ? callback : NULL;
    l->tiktok_business_id = lull_db_text(r, 0, base + T_TIKTOK);
    const char *mode = lull_db_text(r, 0, base + T_LLM_MODE);
    l->llm_mode = mode && strcmp(mode, "separate") == 0 ? WORKER_LLM_SEPARATE
                  : mode && strcmp(mode, "off") == 0    ? WORKER_LLM_OFF
                                                        : WORKER_LLM_COMBINED;
    l->history_tokens = s_int(r, base + T_HIST_TOK, LULL_TENANT_HISTORY_TOKENS_MIN, LULL_TENANT_HISTORY_TOKENS_MAX, 3000);
}

worker_load_rc_t worker_load_read(worker_load_t *out, PGresult *row, PGresult *history)
{
    memset(out, 0, sizeof *out);
    out->res_row = row;
    out->res_hist = history;
    if (!row || !history) return WORKER_LOAD_DB_ERROR;
    if (PQntuples(row) != 1 || PQnfields(row) != C_NCOLS + T_NCOLS) return WORKER_LOAD_NOT_FOUND;
    bool ok[4];
    out->tenant_id = lull_db_int(row, 0, C_TENANT, &ok[0]);
    out->contact_id = lull_db_int(row, 0, C_CONTACT, &ok[1]);
    out->answered_upto = lull_db_int(row, 0, C_ANSWERED, &ok[2]);
    out->last_inbound_id = lull_db_int(row, 0, C_LAST, &ok[3]);
    out->channel = lull_db_text(row, 0, C_CHANNEL);
    out->status = lull_db_text(row, 0, C_STATUS);
    if (!ok[0] || !ok[1] || !ok[2] || !ok[3] || !out->channel || !out->status) return WORKER_LOAD_INVALID;
    out->business_address = lull_db_text(row, 0, C_BUSINESS);
    out->external_conversation_id = lull_db_text(row, 0, C_EXTCONV);
    out->external_id = lull_db_text(row, 0, C_EXTID);
    const char *customer = lull_db_text(row, 0, C_CUSTOMER);
    out->customer_name = customer ? customer : "";
    const char *limited = lull_db_text(row, 0, C_LIMITED);
    out->contact_limited = limited && strcmp(limited, "t") == 0;
    out->used_tenant = lull_db_int(row, 0, C_USED_T, NULL);
    out->used_contact = lull_db_int(row, 0, C_USED_C, NULL);
    s_read_tenant(out, row, C_NCOLS);
    int n = PQntuples(history);
    out->history = n > 0 ? calloc((size_t)n, sizeof *out->history) : NULL;
    if (n > 0 && !out->history) return WORKER_LOAD_NO_MEMORY;
    for (int i = 0; i < n; i++) {
        bool okv = false;
        worker_hist_t *h = &out->history[out->nhistory];
        h->id = lull_db_int(history, i, 0, &okv);
        const char *dir = lull_db_text(history, i, 1);
        h->body = lull_db_text(history, i, 2);
        h->media = PQnfields(history) > 4 ? lull_db_text(history, i, 3) : NULL;
        h->transcript = PQnfields(history) > 4 ? lull_db_text(history, i, 4) : NULL;
        if (!okv || !dir || !h->body) continue;  // an unusable row is left out
        h->inbound = strcmp(dir, "in") == 0;
        out->nhistory++;
    }
    return WORKER_LOAD_OK;
}

worker_load_rc_t worker_load_try(worker_load_t *out, lull_db_t *db, int64_t tenant_id, const char *text)
{
    memset(out, 0, sizeof *out);
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", (long long)tenant_id);
    const char *p[] = {tid};
    out->res_row = lull_db_exec(db, s_try_sql, 1, p);
    if (!out->res_row) return WORKER_LOAD_DB_ERROR;
    if (PQntuples(out->res_row) != 1 || PQnfields(out->res_row) != T_NCOLS) return WORKER_LOAD_NOT_FOUND;
    out->history = calloc(1, sizeof *out->history);
    if (!out->history) return WORKER_LOAD_NO_MEMORY;
    out->tenant_id = tenant_id;
    out->answered_upto = 0;
    out->last_inbound_id = 1;
    out->channel = lull_channel_name(LULL_CH_GENERIC);
    out->status = "open";
    out->customer_name = "";
    s_read_tenant(out, out->res_row, 0);
    out->has_limit_tenant = out->has_limit_contact = false;
    out->callback_url = NULL;
    out->history[0] = (worker_hist_t){.id = 1, .inbound = true, .body = text};
    out->nhistory = 1;
    return WORKER_LOAD_OK;
}

void worker_load_clear(worker_load_t *l)
{
    if (!l) return;
    PQclear(l->res_row);
    PQclear(l->res_hist);
    free(l->history);
    memset(l, 0, sizeof *l);
}
