// The neutral conversation the worker sends to any LLM provider, the parsed answer, and the small
// interface each provider adapter (worker_openai, worker_anthropic, worker_gemini) implements.
#ifndef WORKER_LLM_H
#define WORKER_LLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lull_buf.h"
#include "lull_tenant_limits.h"

// Items in one neutral conversation: the longest history a tenant may ask for, plus every tool round's
// calls and results (LULL_WORKER_TOOL_ROUNDS is at most 10), and the images of a job (LULL_MEDIA_MAX_PER_JOB ≤ 16).
#define WORKER_LLM_MAX_ITEMS (LULL_TENANT_HISTORY_LEN_MAX + 10 * 2 * WORKER_LLM_MAX_CALLS + 16)
#define WORKER_LLM_MAX_CALLS 8        // tool calls parsed from one answer
#define WORKER_LLM_MAX_TEXT (64 * 1024)  // bytes of answer text kept
#define WORKER_LLM_MAX_HEADERS 4

typedef enum {
    WORKER_ITEM_USER = 1,    // text from the customer
    WORKER_ITEM_ASSISTANT,   // text from the bot (history)
    WORKER_ITEM_TOOL_CALL,   // the model asked for a tool (id, name, args JSON)
    WORKER_ITEM_TOOL_RESULT, // the tool's answer (id, name, text = result JSON)
    WORKER_ITEM_IMAGE        // an image from the customer (name = MIME type, text = base64 data)
} worker_item_kind_t;

typedef struct {
    worker_item_kind_t kind;
    char *text;     // USER/ASSISTANT text, TOOL_RESULT content (owned)
    char *id;       // tool call id (owned; may be NULL)
    char *name;     // tool name (owned; may be NULL)
    char *args;     // tool call arguments as JSON object text (owned; may be NULL)
} worker_item_t;

typedef enum {
    WORKER_MODE_REPLY = 1,  // free text, tools offered
    WORKER_MODE_ANALYSIS,   // structured JSON following schema
    WORKER_MODE_COMBINED    // tools offered in the rounds before; the final answer is JSON following schema
} worker_mode_t;

// Provider options from the worker's settings (strings borrowed from the configuration for the worker's
// life). A conversation without options (NULL) gets the defaults below.
typedef struct {
    bool openai_max_tokens;            // send OpenAI's older max_tokens, not max_completion_tokens
    char **reasoning_prefixes;         // OpenAI model-name prefixes of reasoning models: no sampling settings
    size_t nreasoning;
    const char *anthropic_version;     // the anthropic-version header
} worker_llm_opts_t;

// Defaults of worker_llm_opts_t (and of the worker's settings).
#define WORKER_LLM_REASONING_PREFIXES "o1,o3,o4,gpt-5"
#define WORKER_LLM_ANTHROPIC_VERSION "2023-06-01"

// One request in provider-neutral form. Strings are borrowed (items are owned by the conversation).
typedef struct {
    worker_mode_t mode;
    const char *system;        // system prompt
    const char *model;
    double temperature;
    bool temperature_set;      // the tenant chose the temperature (Anthropic gets one only then)
    int max_tokens;
    bool tools;                // offer the tool table (REPLY)
    bool tool_choice_none;     // tools offered but the model must answer in text (last round)
    const char *schema;        // ANALYSIS, COMBINED: JSON Schema text of the answer object
    const char *cache_key;     // a stable, non-secret key per tenant for the provider's prompt cache (or NULL)
    const worker_llm_opts_t *opts;  // provider options (borrowed); NULL = defaults
    worker_item_t *items;      // owned, grown by worker_conv_add up to WORKER_LLM_MAX_ITEMS
    size_t nitems, cap;
} worker_conv_t;

typedef struct {
    char id[64];
    char name[64];
    char *args;  // JSON object text (owned)
} worker_call_t;

// How a provider request ended.
typedef enum {
    WORKER_LLM_OK = 0,   // text and/or tool calls parsed
    WORKER_LLM_RETRY,    // 429, 5xx, 529, timeout, connection error: retry this provider later
    WORKER_LLM_NEXT      // 400/401/403/404, spend limit, malformed answer: go to the next provider
} worker_llm_class_t;

typedef struct {
    worker_llm_class_t cls;
    char *text;                               // answer text (owned), NULL when none
    worker_call_t calls[WORKER_LLM_MAX_CALLS];
    size_t ncalls;
    int64_t tokens_in, tokens_out;                // tokens_in counts every prompt token, cached or not
    int64_t tokens_cached, tokens_cache_write;    // prompt tokens read from / written to the provider's cache
    char error[160];                          // short reason when cls != OK (no secrets, no bodies)
} worker_llm_result_t;

// The provider requests of one job at one provider, summed (usage rows, dry-run answers, job.done).
typedef struct {
    int64_t requests, tokens_in, tokens_out;
    int64_t cached_in, cache_write;  // of tokens_in: read from the prompt cache, written to it
    int64_t latency_ms;  // summed over the requests, milliseconds
} worker_usage_t;

// One provider: builds its request from the neutral conversation, parses its answer.
typedef struct {
    const char *name;  // "openai", "anthropic", "gemini"
    // Writes the request URL for base/model into buf. 0/-1 (too long).
    int (*url)(const char *base, const char *model, char *buf, size_t len);
    // Writes the auth and fixed headers ("Name: value") into hdrs (at most WORKER_LLM_MAX_HEADERS). Count.
    int (*headers)(const char *key, const worker_llm_opts_t *opts, char hdrs[][256]);
    // Builds the request body JSON; the caller frees. NULL on failure.
    char *(*build)(const worker_conv_t *conv);
    // Parses a 2xx body into out (zeroed by the caller): OK, or NEXT for a malformed answer.
    void (*parse)(const char *body, size_t len, worker_llm_result_t *out);
} worker_provider_t;

// The adapters (worker_openai.c, worker_anthropic.c, worker_gemini.c).
extern const worker_provider_t WORKER_OPENAI;
extern const worker_provider_t WORKER_ANTHROPIC;
extern const worker_provider_t WORKER_GEMINI;

// Name of the forced tool that carries the analysis for providers without a JSON response mode.
#define WORKER_ANALYSIS_TOOL "record_analysis"

// The providers, by index (the order of WORKER_PROVIDERS: openai, anthropic, gemini).
#define WORKER_NPROVIDERS 3
extern const worker_provider_t *const WORKER_PROVIDERS[WORKER_NPROVIDERS];
// The providers, by name; NULL when unknown.
const worker_provider_t *worker_provider_find(const char *name);
// The index of a provider in WORKER_PROVIDERS, by name; -1 when unknown.
int worker_provider_index(const char *name);

// Appends an item (strings copied; NULL allowed). 0/-1 when full or out of memory.
int worker_conv_add(worker_conv_t *conv, worker_item_kind_t kind, const char *text, const char *id,
                    const char *name, const char *args) __attribute__((warn_unused_result));
// The stable head of a request body (everything before its messages: model, settings, cache key, tools,
// schema), kept per provider slot and key: make(conv) builds it (a malloc'd text) the first time its key is
// seen. The key is the nparts texts that decide the head (NULL allowed). Borrowed until the next call; NULL
// when out of memory. The worker's one loop thread builds and reads them (as the tool tables).
const char *worker_llm_head(int slot, const char *const *parts, size_t nparts,
                            char *(*make)(const worker_conv_t *conv), const worker_conv_t *conv);
// Frees the items and empties the conversation (other fields untouched).
void worker_conv_clear(worker_conv_t *conv);

// Classifies a non-2xx answer (or a transport failure when status is 0): RETRY or NEXT, with a reason.
worker_llm_class_t worker_llm_classify(long status, const char *body, size_t len, char *err, size_t errlen);
// Frees what a result owns and zeroes it.
void worker_llm_result_clear(worker_llm_result_t *res);
// Adds a tool call to res (args copied). 0/-1 when full.
int worker_llm_result_add_call(worker_llm_result_t *res, const char *id, const char *name, const char *args);
// A request's "tools" array for a provider's static tool table: an array that references the table's JSON,
// built by build on first use and kept for the process's life (the table never changes), so a request
// neither parses the tools' schemas nor copies them. The caller owns the returned array (deleting it leaves
// the table alone); NULL when out of memory. slot: the provider's index in WORKER_PROVIDERS.
struct cJSON *worker_llm_tools_ref(int slot, struct cJSON *(*build)(void));
// True when model is an OpenAI reasoning model by the prefixes of opts (NULL = the default prefixes): such
// models refuse temperature and top_p.
bool worker_llm_is_reasoning(const worker_llm_opts_t *opts, const char *model);
// The anthropic-version header value of opts (NULL or empty = the default).
const char *worker_llm_anthropic_version(const worker_llm_opts_t *opts);
// Writes base (trailing slashes dropped) followed by suffix into buf. 0/-1 (too long).
int worker_llm_url(const char *base, const char *suffix, char *buf, size_t len);
// The item list (items_key: "content" or "parts") of the last turn of list when that turn has role, else of
// a new {"role": role, items_key: []} appended to list; NULL when out of memory. Borrowed from list.
struct cJSON *worker_llm_turn(struct cJSON *list, const char *role, const char *items_key);
// Ends an adapter's parse: NEXT with "malformed answer: <missing>" when the answer had neither text nor tool
// calls; otherwise the token counts from usage[in_key]/usage[out_key] and OK.
void worker_llm_finish(worker_llm_result_t *res, const struct cJSON *usage, const char *in_key, const char *out_key,
                       const char *missing);
// Reads the token counts obj[in_key] and obj[out_key] (obj may be NULL; absurd values ignored) into res.
void worker_llm_usage(const struct cJSON *obj, const char *in_key, const char *out_key, worker_llm_result_t *res);
// Moves obj[key] (when present) to the end of obj: the key order of a request body.
void worker_llm_move_last(struct cJSON *obj, const char *key);
// Reads a cached-token count at a path of keys under obj (NULL-terminated; absurd values ignored): 0 when absent.
int64_t worker_llm_count(const struct cJSON *obj, const char *const *path);
// Sets res->text to a copy of text truncated to WORKER_LLM_MAX_TEXT. 0/-1.
int worker_llm_result_set_text(worker_llm_result_t *res, const char *text);

// A kept head's text: root printed as cJSON prints it, without its closing brace (the body's other members follow
// it). NULL when memory ran out; root stays the caller's.
char *worker_llm_head_print(const struct cJSON *root);
// Initialises b for the part of a request body written after its kept head, with room for conv's items (their texts
// with a little escaping, and each item's own members).
void worker_llm_body_init(lull_buf_t *b, const worker_conv_t *conv);
// Writes the JSON object json holds as cJSON prints it (a tool call's arguments, a tool's result), else {}; an
// allocation failure marks b failed.
void worker_llm_put_object(lull_buf_t *b, const char *json);
// A request body: the kept head (worker_llm_head, "{…" unclosed), then what b holds after it; b is reset. NULL when
// the head is NULL, b failed or memory ran out.
char *worker_llm_splice(const char *head, lull_buf_t *b);

#endif
