// fake_llm: a fake of the OpenAI, Anthropic and Gemini HTTP APIs for tests and benchmarks (libmicrohttpd).
//
// Routes: POST /v1/chat/completions and /chat/completions (OpenAI), POST /v1/messages (Anthropic),
// POST /v1beta/models/{model}:generateContent and /models/{model}:generateContent (Gemini),
// POST /_fake/faults {"provider","mode","count","retry_after","kind"}, POST /_fake/config {"latency_ms",
// "hold"} (hold: requests wait until released, whatever the latency), POST /_fake/release (every request
// waiting now is answered now), POST /_fake/reset, GET /_fake/ledger (JSON array of {provider, path, kind, combined, t_ms, body}),
// GET /_fake/stats. Fault kinds: "reply" (reply and combined requests), "analysis", "combined"; modes: an
// HTTP status, "hang", "insufficient_quota", "malformed", "truncated", and for combined requests
// "combined_not_json", "combined_no_reply", "combined_json_reply", "combined_wrong_types".
//
// Deterministic answers: a reply asks for search_inventory when the last customer text names an item as a
// whole word ("jacket", "boots" …, plural or not), asks for a size ("do you have that in size M?": the item an
// earlier text named, and the size) or about stock ("have you got", "in stock"), and tools are offered; then it
// answers from the tool result with what it returned (name, SKU, size, price); an analysis request (OpenAI response_format, Anthropic forced tool, Gemini
// responseSchema) gets JSON whose sentiment/intent/priority/escalate follow keywords in the text; a combined
// request (a schema with "reply": OpenAI response_format, Anthropic's reply_with_analysis tool forced or
// under tool_choice "any", Gemini responseSchema) gets the reply text and that analysis in one object.
// Usage counts the request and answer bytes / 4; a stable prefix seen before (fake_llm/fake_llm_cache) is
// reported as cached tokens in each provider's usage fields.
// Latency without a thread per request: finished requests are suspended and a timer thread resumes them
// when due (a binary heap).
#include <cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY (1 << 20)
#define NPROV 3
#define HANG_MS (3600 * 1000)

typedef struct {
    char mode[32];
    int count;
    char retry_after[32];
    char kind[16];  // "", "reply" or "analysis"
} s_fault_t;

typedef struct {
    char *body;
    size_t len, cap;
    bool too_large;
    bool suspended;
    int status;
    char *resp;        // response body
    char retry_after[32];
    bool done;         // response ready
} s_req_t;

typedef struct {
    int64_t due_us;
    struct MHD_Connection *conn;
} s_timer_t;

static pthread_mutex_t s_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t s_cv;  // on CLOCK_MONOTONIC (set up in main)
static s_timer_t *s_heap;
static size_t s_nheap, s_capheap;
static volatile sig_atomic_t s_stop;
static bool s_timer_quit;
static int64_t s_latency_ms;
static bool s_hold;  // requests wait for POST /_fake/release (a test's person answers while the bot waits)
static s_fault_t s_faults[NPROV][8];
static char **s_ledger;
static size_t s_nledger, s_ledger_max = 20000;
static FILE *s_ledger_file;
static bool s_ledger_on = true;
static uint64_t s_requests, s_completed;
static const char *const s_provs[NPROV] = {"openai", "anthropic", "gemini"};

static int64_t s_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t s_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// ---- timer heap (guarded by s_mu) ----

static void s_heap_push(int64_t due, struct MHD_Connection *conn)
{
    if (s_nheap == s_capheap) {
        size_t cap = s_capheap ? s_capheap * 2 : 1024;
        s_timer_t *h = realloc(s_heap, cap * sizeof *h);
        if (!h) return;
        s_heap = h;
        s_capheap = cap;
    }
    size_t i = s_nheap++;
    s_heap[i] = (s_timer_t){due, conn};
    while (i > 0 && s_heap[(i - 1) / 2].due_us > s_heap[i].due_us) {
        s_timer_t t = s_heap[i];
        s_heap[i] = s_heap[(i - 1) / 2];
        s_heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static s_timer_t s_heap_pop(void)
{
    s_timer_t top = s_heap[0];
    s_heap[0] = s_heap[--s_nheap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s_nheap && s_heap[l].due_us < s_heap[m].due_us) m = l;
        if (r < s_nheap && s_heap[r].due_us < s_heap[m].due_us) m = r;
        if (m == i) break;
        s_timer_t t = s_heap[i];
        s_heap[i] = s_heap[m];
        s_heap[m] = t;
        i = m;
    }
    return top;
}

static void *s_timer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&s_mu);
    while (!s_timer_quit) {
        int64_t now = s_now_us();
        if (s_nheap > 0 && s_heap[0].due_us <= now) {
            s_timer_t t = s_heap_pop();
            MHD_resume_connection(t.conn);
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t wait_us = s_nheap > 0 ? s_heap[0].due_us - now : 100000;
        if (wait_us > 100000) wait_us = 100000;
        ts.tv_nsec += (long)(wait_us % 1000000) * 1000;
        ts.tv_sec += wait_us / 1000000 + ts.tv_nsec / 1000000000;
        ts.tv_nsec %= 1000000000;
        pthread_cond_timedwait(&s_cv, &s_mu, &ts);
    }
    pthread_mutex_unlock(&s_mu);
    return NULL;
}

#include "fake_llm/fake_llm_cache.h"
#include "fake_llm/fake_llm_text.h"
#include "fake_llm/fake_llm_view.h"
#include "lull_httpd.h"

// The combined answer: the reply text first, then the analysis; fault (a "combined_*" mode, or NULL) makes it
// malformed the way a model can: not JSON (analysis NULL, *text set), no reply, a reply that is itself JSON,
// wrong types.
static cJSON *s_combined(const fake_view_t *v, const char *fault, char **text)
{
    cJSON *a = fake_analysis(v->user, v->schema);
    char *reply = fake_reply_text(v->user, v->tool_result);
    if (!a || !reply) {
        cJSON_Delete(a);
        free(reply);
        return NULL;
    }
    cJSON *r = NULL;
    if (!fault || strcmp(fault, "combined_no_reply") != 0) {
        if (fault && strcmp(fault, "combined_json_reply") == 0) {
            char *inner = cJSON_PrintUnformatted(a);
            r = cJSON_CreateString(inner ? inner : "{}");
            free(inner);
        } else if (fault && strcmp(fault, "combined_wrong_types") == 0) {
            r = cJSON_CreateNumber(42);
            cJSON_ReplaceItemInObjectCaseSensitive(a, "confidence", cJSON_CreateString("high"));
        } else {
            r = cJSON_CreateString(reply);
        }
    }
    if (r) {
        cJSON_InsertItemInArray(a, 0, r);
        r->string = strdup("reply");
    }
    if (fault && strcmp(fault, "combined_not_json") == 0) {
        cJSON_Delete(a);
        a = NULL;
        *text = strdup("Sure! Here is what I found for you.");
    }
    free(reply);
    return a;
}

// Builds the provider-format answer for the request (body_len bytes; fault: a combined_* fault mode or NULL).
static char *s_answer(int p, const cJSON *req, size_t body_len, const char *fault, int *status)
{
    fake_view_t v;
    if (fake_view(p, req, &v) != 0) {
        free(v.tool_result);
        *status = 400;
        return strdup("{\"error\":{\"type\":\"invalid_request_error\",\"message\":\"malformed request\"}}");
    }
    *status = 200;
    cJSON *root = cJSON_CreateObject();
    char *text = NULL, query[64] = "";
    cJSON *analysis = NULL;
    bool call_tool = false;
    if (v.tools && (!v.analysis || v.combined) && !v.tool_result &&
        fake_item_query(v.user, v.earlier_item, query, sizeof query))
        call_tool = true;
    else if (v.combined) analysis = s_combined(&v, fault, &text);
    else if (v.analysis) analysis = fake_analysis(v.user, v.schema);
    else text = fake_reply_text(v.user, v.tool_result);
    // Tokens as a provider counts them, roughly: the whole request and the whole answer, bytes / 4; the
    // stable prefix seen before is cached (fake_llm_cache).
    fake_cache_t cache = fake_cache_lookup(p, req);
    char *printed = analysis ? cJSON_PrintUnformatted(analysis) : NULL;
    int64_t tin = (int64_t)body_len / 4 + 1;
    int64_t tout = (int64_t)strlen(printed ? printed : text ? text : query) / 4 + 1;
    int64_t cached = cache.prefix_tokens < tin ? cache.prefix_tokens : tin;
    free(printed);
    if (p == 0) {
        cJSON_AddStringToObject(root, "id", "chatcmpl-fake");
        cJSON_AddStringToObject(root, "object", "chat.completion");
        cJSON_AddNumberToObject(root, "created", (double)(s_wall_ms() / 1000));
        cJSON_AddStringToObject(root, "model", "fake");
        cJSON *choice = cJSON_CreateObject(), *msg = cJSON_AddObjectToObject(choice, "message");
        cJSON_AddNumberToObject(choice, "index", 0);
        cJSON_AddStringToObject(msg, "role", "assistant");
        if (analysis) {
            char *a = cJSON_PrintUnformatted(analysis);
            cJSON_AddStringToObject(msg, "content", a);
            free(a);
        } else if (call_tool) {
            cJSON_AddNullToObject(msg, "content");
            cJSON *calls = cJSON_AddArrayToObject(msg, "tool_calls"), *call = cJSON_CreateObject();
            cJSON_AddStringToObject(call, "id", "call_fake_1");
            cJSON_AddStringToObject(call, "type", "function");
            cJSON *fn = cJSON_AddObjectToObject(call, "function");
            cJSON_AddStringToObject(fn, "name", "search_inventory");
            char args[128];
            snprintf(args, sizeof args, "{\"query\":\"%s\"}", query);
            cJSON_AddStringToObject(fn, "arguments", args);
            cJSON_AddItemToArray(calls, call);
        } else {
            cJSON_AddStringToObject(msg, "content", text);
        }
        cJSON_AddStringToObject(choice, "finish_reason", call_tool ? "tool_calls" : "stop");
        cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "choices"), choice);
        cJSON *u = cJSON_AddObjectToObject(root, "usage");
        cJSON_AddNumberToObject(u, "prompt_tokens", (double)tin);
        cJSON_AddNumberToObject(u, "completion_tokens", (double)tout);
        cJSON_AddNumberToObject(u, "total_tokens", (double)(tin + tout));
        cJSON_AddNumberToObject(cJSON_AddObjectToObject(u, "prompt_tokens_details"), "cached_tokens",
                                cache.hit ? (double)cached : 0);
    } else if (p == 1) {
        cJSON_AddStringToObject(root, "id", "msg_fake");
        cJSON_AddStringToObject(root, "type", "message");
        cJSON_AddStringToObject(root, "role", "assistant");
        cJSON_AddStringToObject(root, "model", "fake");
        cJSON *content = cJSON_AddArrayToObject(root, "content"), *b = cJSON_CreateObject();
        if (analysis || call_tool) {
            cJSON_AddStringToObject(b, "type", "tool_use");
            cJSON_AddStringToObject(b, "id", "toolu_fake_1");
            cJSON_AddStringToObject(b, "name", analysis ? (v.combined ? "reply_with_analysis" : "record_analysis") : "search_inventory");
            if (analysis) {
                cJSON_AddItemToObject(b, "input", analysis);
                analysis = NULL;
            } else {
                cJSON_AddStringToObject(cJSON_AddObjectToObject(b, "input"), "query", query);
            }
        } else {
            cJSON_AddStringToObject(b, "type", "text");
            cJSON_AddStringToObject(b, "text", text);
        }
        cJSON_AddItemToArray(content, b);
        cJSON_AddStringToObject(root, "stop_reason", call_tool || v.analysis ? "tool_use" : "end_turn");
        cJSON *u = cJSON_AddObjectToObject(root, "usage");
        // input_tokens leaves out what was read from or written to the cache (Anthropic's counting).
        int64_t part = cache.cacheable ? cached : 0;
        cJSON_AddNumberToObject(u, "input_tokens", (double)(tin - part));
        cJSON_AddNumberToObject(u, "cache_creation_input_tokens", cache.cacheable && !cache.hit ? (double)part : 0);
        cJSON_AddNumberToObject(u, "cache_read_input_tokens", cache.hit ? (double)part : 0);
        cJSON_AddNumberToObject(u, "output_tokens", (double)tout);
    } else {
        cJSON *cand = cJSON_CreateObject(), *content = cJSON_AddObjectToObject(cand, "content");
        cJSON_AddStringToObject(content, "role", "model");
        cJSON *parts = cJSON_AddArrayToObject(content, "parts"), *part = cJSON_CreateObject();
        if (analysis) {
            char *a = cJSON_PrintUnformatted(analysis);
            cJSON_AddStringToObject(part, "text", a);
            free(a);
        } else if (call_tool) {
            cJSON *fc = cJSON_AddObjectToObject(part, "functionCall");
            cJSON_AddStringToObject(fc, "name", "search_inventory");
            cJSON_AddStringToObject(cJSON_AddObjectToObject(fc, "args"), "query", query);
        } else {
            cJSON_AddStringToObject(part, "text", text);
        }
        cJSON_AddItemToArray(parts, part);
        cJSON_AddStringToObject(cand, "finishReason", "STOP");
        cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "candidates"), cand);
        cJSON *u = cJSON_AddObjectToObject(root, "usageMetadata");
        cJSON_AddNumberToObject(u, "promptTokenCount", (double)tin);
        cJSON_AddNumberToObject(u, "candidatesTokenCount", (double)tout);
        cJSON_AddNumberToObject(u, "totalTokenCount", (double)(tin + tout));
        if (cache.hit) cJSON_AddNumberToObject(u, "cachedContentTokenCount", (double)cached);
    }
    char *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    cJSON_Delete(analysis);
    free(text);
    free(v.tool_result);
    return out;
}

// ---- faults and ledger (guarded by s_mu) ----

// A fault of kind "reply" hits reply and combined requests, "analysis" analysis requests, "combined" only
// combined ones, "" every request.
static bool s_take_fault(int p, bool analysis, bool combined, s_fault_t *out)
{
    for (int i = 0; i < 8; i++) {
        s_fault_t *f = &s_faults[p][i];
        if (f->count <= 0) continue;
        if (f->kind[0] && strcmp(f->kind, combined ? "reply" : analysis ? "analysis" : "reply") != 0 &&
            !(combined && strcmp(f->kind, "combined") == 0))
            continue;
        f->count--;
        *out = *f;
        return true;
    }
    return false;
}

static void s_ledger_add(int p, const char *path, bool analysis, bool combined, const char *body)
{
    if (!s_ledger_on) return;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "provider", s_provs[p]);
    cJSON_AddStringToObject(e, "path", path);
    cJSON_AddStringToObject(e, "kind", analysis && !combined ? "analysis" : "reply");  // a combined request is the reply
    cJSON_AddBoolToObject(e, "combined", combined);
    cJSON_AddNumberToObject(e, "t_ms", (double)s_wall_ms());
    cJSON *b = cJSON_Parse(body);
    if (b) cJSON_AddItemToObject(e, "body", b);
    else cJSON_AddStringToObject(e, "body", body);
    char *line = cJSON_PrintUnformatted(e);
    cJSON_Delete(e);
    if (!line) return;
    if (s_ledger_file) {
        fprintf(s_ledger_file, "%s\n", line);
        fflush(s_ledger_file);
    }
    if (s_nledger < s_ledger_max) {
        char **l = realloc(s_ledger, (s_nledger + 1) * sizeof *l);
        if (l) {
            s_ledger = l;
            s_ledger[s_nledger++] = line;
            return;
        }
    }
    free(line);
}

static char *s_ledger_json(void)
{
    size_t total = 3;
    for (size_t i = 0; i < s_nledger; i++) total += strlen(s_ledger[i]) + 1;
    char *out = malloc(total), *p = out;
    if (!out) return NULL;
    *p++ = '[';
    for (size_t i = 0; i < s_nledger; i++) {
        if (i) *p++ = ',';
        size_t n = strlen(s_ledger[i]);
        memcpy(p, s_ledger[i], n);
        p += n;
    }
    *p++ = ']';
    *p = '\0';
    return out;
}

static void s_reset(void)
{
    for (size_t i = 0; i < s_nledger; i++) free(s_ledger[i]);
    free(s_ledger);
    s_ledger = NULL;
    s_nledger = 0;
    memset(s_faults, 0, sizeof s_faults);
    fake_cache_reset();
}

// ---- HTTP ----

static enum MHD_Result s_queue(struct MHD_Connection *conn, int status, const char *body, const char *retry_after)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (retry_after && *retry_after) MHD_add_response_header(r, "Retry-After", retry_after);
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static int s_provider_of(const char *url)
{
    if (strcmp(url, "/v1/chat/completions") == 0 || strcmp(url, "/chat/completions") == 0) return 0;
    if (strcmp(url, "/v1/messages") == 0) return 1;
    if ((strncmp(url, "/v1beta/models/", 15) == 0 || strncmp(url, "/models/", 8) == 0) &&
        strlen(url) > 16 && strcmp(url + strlen(url) - 16, ":generateContent") == 0)
        return 2;
    return -1;
}

static bool s_auth_ok(struct MHD_Connection *conn, int p)
{
    const char *name = p == 0 ? "Authorization" : p == 1 ? "x-api-key" : "x-goog-api-key";
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
    if (!v || !*v) return false;
    if (p == 0 && strncmp(v, "Bearer ", 7) != 0) return false;
    if (p == 1 && !MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "anthropic-version")) return false;
    return true;
}

// Prepares the response of a provider request into st (status, body, retry_after).
static void s_provider_request(struct MHD_Connection *conn, const char *url, int p, s_req_t *st, int64_t *delay_ms)
{
    cJSON *req = st->body ? cJSON_ParseWithLength(st->body, st->len) : NULL;
    fake_view_t v;
    bool analysis = false, combined = false;
    if (req && fake_view(p, req, &v) == 0) {
        analysis = v.analysis;
        combined = v.combined;
    }
    if (req) free(v.tool_result);
    s_fault_t f;
    pthread_mutex_lock(&s_mu);
    s_requests++;
    s_ledger_add(p, url, analysis, combined, st->body ? st->body : "");
    bool faulty = s_take_fault(p, analysis, combined, &f);
    *delay_ms = s_hold ? HANG_MS : s_latency_ms;
    pthread_mutex_unlock(&s_mu);
    if (!s_auth_ok(conn, p)) {
        st->status = 401;
        st->resp = strdup("{\"error\":{\"type\":\"authentication_error\",\"message\":\"missing or invalid API key\"}}");
    } else if (!req) {
        st->status = 400;
        st->resp = strdup("{\"error\":{\"type\":\"invalid_request_error\",\"message\":\"body is not JSON\"}}");
    } else if (faulty && strcmp(f.mode, "hang") == 0) {
        *delay_ms = HANG_MS;
        st->status = 500;
        st->resp = strdup("{}");
    } else if (faulty && strcmp(f.mode, "insufficient_quota") == 0) {
        st->status = 429;
        st->resp = strdup("{\"error\":{\"message\":\"You exceeded your current quota\",\"type\":\"insufficient_quota\","
                          "\"param\":null,\"code\":\"insufficient_quota\"}}");
    } else if (faulty && (strcmp(f.mode, "malformed") == 0 || strcmp(f.mode, "truncated") == 0)) {
        st->status = 200;
        if (f.mode[0] == 'm') st->resp = strdup("{\"this is\": not json at all");
        else {
            int status;
            st->resp = s_answer(p, req, st->len, NULL, &status);
            if (st->resp) st->resp[strlen(st->resp) / 2] = '\0';
        }
    } else if (faulty && strncmp(f.mode, "combined_", 9) == 0) {
        st->resp = s_answer(p, req, st->len, combined ? f.mode : NULL, &st->status);
    } else if (faulty) {
        st->status = atoi(f.mode);
        if (st->status < 400 || st->status > 599) st->status = 500;
        snprintf(st->retry_after, sizeof st->retry_after, "%s", f.retry_after);
        st->resp = strdup(p == 1 && st->status == 529
                              ? "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}"
                              : "{\"error\":{\"message\":\"injected fault\",\"type\":\"server_error\"}}");
    } else {
        st->resp = s_answer(p, req, st->len, NULL, &st->status);
    }
    cJSON_Delete(req);
}

static enum MHD_Result s_control(struct MHD_Connection *conn, const char *method, const char *url, s_req_t *st)
{
    if (strcmp(method, "GET") == 0 && strcmp(url, "/_fake/ledger") == 0) {
        pthread_mutex_lock(&s_mu);
        char *body = s_ledger_json();
        pthread_mutex_unlock(&s_mu);
        enum MHD_Result rc = s_queue(conn, body ? 200 : 500, body ? body : "{}", NULL);
        free(body);
        return rc;
    }
    if (strcmp(method, "GET") == 0 && strcmp(url, "/_fake/stats") == 0) {
        char body[128];
        pthread_mutex_lock(&s_mu);
        snprintf(body, sizeof body, "{\"requests\":%llu,\"completed\":%llu,\"pending\":%zu}",
                 (unsigned long long)s_requests, (unsigned long long)s_completed, s_nheap);
        pthread_mutex_unlock(&s_mu);
        return s_queue(conn, 200, body, NULL);
    }
    if (strcmp(method, "POST") == 0 && strcmp(url, "/_fake/reset") == 0) {
        pthread_mutex_lock(&s_mu);
        s_reset();
        pthread_mutex_unlock(&s_mu);
        return s_queue(conn, 200, "{\"ok\":true}", NULL);
    }
    if (strcmp(method, "POST") == 0 && strcmp(url, "/_fake/release") == 0) {
        pthread_mutex_lock(&s_mu);
        size_t n = s_nheap;
        int64_t now = s_now_us();
        for (size_t i = 0; i < s_nheap; i++) s_heap[i].due_us = now;  // all equal: still a heap
        pthread_cond_signal(&s_cv);
        pthread_mutex_unlock(&s_mu);
        char out[64];
        snprintf(out, sizeof out, "{\"released\":%zu}", n);
        return s_queue(conn, 200, out, NULL);
    }
    cJSON *j = st->body ? cJSON_ParseWithLength(st->body, st->len) : NULL;
    enum MHD_Result rc;
    if (strcmp(method, "POST") == 0 && strcmp(url, "/_fake/config") == 0 && j) {
        const cJSON *lat = cJSON_GetObjectItemCaseSensitive(j, "latency_ms");
        const cJSON *hold = cJSON_GetObjectItemCaseSensitive(j, "hold");
        pthread_mutex_lock(&s_mu);
        if (cJSON_IsNumber(lat) && lat->valuedouble >= 0) s_latency_ms = (int64_t)lat->valuedouble;
        if (cJSON_IsBool(hold)) s_hold = cJSON_IsTrue(hold);
        pthread_mutex_unlock(&s_mu);
        rc = s_queue(conn, 200, "{\"ok\":true}", NULL);
    } else if (strcmp(method, "POST") == 0 && strcmp(url, "/_fake/faults") == 0 && j) {
        const cJSON *prov = cJSON_GetObjectItemCaseSensitive(j, "provider");
        const cJSON *mode = cJSON_GetObjectItemCaseSensitive(j, "mode");
        const cJSON *count = cJSON_GetObjectItemCaseSensitive(j, "count");
        const cJSON *ra = cJSON_GetObjectItemCaseSensitive(j, "retry_after");
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(j, "kind");
        int p = -1;
        for (int i = 0; i < NPROV; i++)
            if (cJSON_IsString(prov) && strcmp(prov->valuestring, s_provs[i]) == 0) p = i;
        bool added = false;
        if (p >= 0 && cJSON_IsString(mode)) {
            pthread_mutex_lock(&s_mu);
            for (int i = 0; i < 8 && !added; i++) {
                s_fault_t *f = &s_faults[p][i];
                if (f->count > 0) continue;
                snprintf(f->mode, sizeof f->mode, "%s", mode->valuestring);
                snprintf(f->retry_after, sizeof f->retry_after, "%s", cJSON_IsString(ra) ? ra->valuestring : "");
                snprintf(f->kind, sizeof f->kind, "%s", cJSON_IsString(kind) ? kind->valuestring : "");
                f->count = cJSON_IsNumber(count) ? (int)count->valuedouble : 1;
                added = true;
            }
            pthread_mutex_unlock(&s_mu);
        }
        rc = s_queue(conn, added ? 200 : 400, added ? "{\"ok\":true}" : "{\"error\":\"bad fault\"}", NULL);
    } else {
        rc = s_queue(conn, 404, "{\"error\":\"not found\"}", NULL);
    }
    cJSON_Delete(j);
    return rc;
}

static enum MHD_Result s_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)version;
    s_req_t *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st) return MHD_NO;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (st->too_large || st->len + n > MAX_BODY) {
            st->too_large = true;
            return MHD_YES;
        }
        if (st->len + n + 1 > st->cap) {
            size_t cap = st->cap ? st->cap * 2 : 4096;
            while (cap < st->len + n + 1) cap *= 2;
            char *b = realloc(st->body, cap);
            if (!b) return MHD_NO;
            st->body = b;
            st->cap = cap;
        }
        memcpy(st->body + st->len, upload_data, n);
        st->len += n;
        st->body[st->len] = '\0';
        return MHD_YES;
    }
    if (st->done) {  // resumed after the latency
        pthread_mutex_lock(&s_mu);
        s_completed++;
        pthread_mutex_unlock(&s_mu);
        return s_queue(conn, st->status, st->resp ? st->resp : "{}", st->retry_after);
    }
    if (st->too_large) return s_queue(conn, 413, "{\"error\":\"too large\"}", NULL);
    if (strncmp(url, "/_fake/", 7) == 0) return s_control(conn, method, url, st);
    int p = s_provider_of(url);
    if (p < 0 || strcmp(method, "POST") != 0) return s_queue(conn, 404, "{\"error\":{\"message\":\"not found\"}}", NULL);
    int64_t delay_ms = 0;
    s_provider_request(conn, url, p, st, &delay_ms);
    st->done = true;
    if (delay_ms <= 0) {
        pthread_mutex_lock(&s_mu);
        s_completed++;
        pthread_mutex_unlock(&s_mu);
        return s_queue(conn, st->status, st->resp ? st->resp : "{}", st->retry_after);
    }
    MHD_suspend_connection(conn);
    pthread_mutex_lock(&s_mu);
    s_heap_push(s_now_us() + delay_ms * 1000, conn);
    pthread_cond_signal(&s_cv);
    pthread_mutex_unlock(&s_mu);
    return MHD_YES;
}

static void s_completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    s_req_t *st = *con_cls;
    if (!st) return;
    free(st->body);
    free(st->resp);
    free(st);
    *con_cls = NULL;
}

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: fake_llm --port N [--bind IPV4] [--latency-ms N] [--threads N] [--ledger FILE] [--ledger-max N] [--no-ledger]\n"
            "                [--fault PROVIDER:MODE:COUNT[:RETRY_AFTER]]...\n"
            "Fake OpenAI/Anthropic/Gemini server for lull's tests and benchmarks. Listens on 127.0.0.1 (or --bind).\n"
            "Control: POST /_fake/faults {\"provider\",\"mode\",\"count\",\"retry_after\",\"kind\"},\n"
            "POST /_fake/config {\"latency_ms\",\"hold\"}, POST /_fake/release, POST /_fake/reset, GET /_fake/ledger, GET /_fake/stats.\n"
            "Modes: 429 500 503 529 hang malformed truncated insufficient_quota.\n");
}

int main(int argc, char **argv)
{
    int port = 0, threads = 1;
    const char *bind_addr = "127.0.0.1";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            s_usage(stdout);
            return 0;
        } else if (strcmp(a, "--port") == 0 && v) port = atoi(argv[++i]);
        else if (strcmp(a, "--bind") == 0 && v) bind_addr = argv[++i];
        else if (strcmp(a, "--latency-ms") == 0 && v) s_latency_ms = atoll(argv[++i]);
        else if (strcmp(a, "--threads") == 0 && v) threads = atoi(argv[++i]);
        else if (strcmp(a, "--ledger-max") == 0 && v) s_ledger_max = (size_t)atoll(argv[++i]);
        else if (strcmp(a, "--no-ledger") == 0) s_ledger_on = false;
        else if (strcmp(a, "--ledger") == 0 && v) {
            s_ledger_file = fopen(argv[++i], "a");
            if (!s_ledger_file) {
                fprintf(stderr, "fake_llm: cannot open %s\n", argv[i]);
                return 73;
            }
        } else if (strcmp(a, "--fault") == 0 && v) {
            char spec[128], *save = NULL;
            snprintf(spec, sizeof spec, "%s", argv[++i]);
            char *prov = strtok_r(spec, ":", &save), *mode = strtok_r(NULL, ":", &save);
            char *count = strtok_r(NULL, ":", &save), *ra = strtok_r(NULL, ":", &save);
            int p = -1;
            for (int k = 0; k < NPROV && prov; k++)
                if (strcmp(prov, s_provs[k]) == 0) p = k;
            if (p < 0 || !mode) {
                fprintf(stderr, "fake_llm: bad --fault %s\n", argv[i]);
                return 64;
            }
            for (int k = 0; k < 8; k++)
                if (s_faults[p][k].count <= 0) {
                    snprintf(s_faults[p][k].mode, sizeof s_faults[p][k].mode, "%s", mode);
                    snprintf(s_faults[p][k].retry_after, sizeof s_faults[p][k].retry_after, "%s", ra ? ra : "");
                    s_faults[p][k].count = count ? atoi(count) : 1;
                    break;
                }
        } else {
            s_usage(stderr);
            return 64;
        }
    }
    if (port <= 0 || port > 65535 || threads < 1 || threads > 16) {
        s_usage(stderr);
        return 64;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {0};
    sa.sa_handler = s_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_t timer;
    if (pthread_create(&timer, NULL, s_timer_main, NULL) != 0) return 71;
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, bind_addr, &addr.sin_addr) != 1) {
        fprintf(stderr, "fake_llm: --bind %s is not an IPv4 address\n", bind_addr);
        return 64;
    }
    // lull's own servers' mode (common/lull_httpd.h): in epoll mode Debian 12's libmicrohttpd stops answering when
    // 128 or more connections have a request at once, which the worker benchmark's 2,048 connections do.
    unsigned flags = LULL_HTTPD_POLLING | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, s_handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)19000, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)4096, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_NOTIFY_COMPLETED, s_completed_cb, NULL,
        threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (unsigned)threads, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "fake_llm: cannot listen on %s:%d\n", bind_addr, port);
        pthread_mutex_lock(&s_mu);
        s_timer_quit = true;
        pthread_cond_signal(&s_cv);
        pthread_mutex_unlock(&s_mu);
        pthread_join(timer, NULL);
        return 1;
    }
    fprintf(stderr, "fake_llm: listening on %s:%d latency %lld ms\n", bind_addr, port, (long long)s_latency_ms);
    while (!s_stop) usleep(50000);
    // resume everything still waiting so MHD can close those connections
    pthread_mutex_lock(&s_mu);
    while (s_nheap > 0) MHD_resume_connection(s_heap_pop().conn);
    s_timer_quit = true;
    pthread_cond_signal(&s_cv);
    pthread_mutex_unlock(&s_mu);
    pthread_join(timer, NULL);
    MHD_stop_daemon(d);
    pthread_mutex_lock(&s_mu);
    s_reset();
    free(s_heap);
    pthread_mutex_unlock(&s_mu);
    if (s_ledger_file) fclose(s_ledger_file);
    return 0;
}
