// Neutral conversation helpers, answer classification and the provider registry.
#include "worker_llm.h"
#include "lull_buf.h"
#include "lull_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const worker_provider_t *const WORKER_PROVIDERS[WORKER_NPROVIDERS] = {&WORKER_OPENAI, &WORKER_ANTHROPIC, &WORKER_GEMINI};

int worker_provider_index(const char *name)
{
    for (int i = 0; name && i < WORKER_NPROVIDERS; i++)
        if (strcmp(WORKER_PROVIDERS[i]->name, name) == 0) return i;
    return -1;
}

const worker_provider_t *worker_provider_find(const char *name)
{
    int i = worker_provider_index(name);
    return i < 0 ? NULL : WORKER_PROVIDERS[i];
}

static char *s_dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

int worker_conv_add(worker_conv_t *conv, worker_item_kind_t kind, const char *text, const char *id,
                    const char *name, const char *args)
{
    if (conv->nitems >= WORKER_LLM_MAX_ITEMS) return -1;
    if (conv->nitems == conv->cap) {
        size_t cap = conv->cap ? conv->cap * 2 : 16;
        if (cap > WORKER_LLM_MAX_ITEMS) cap = WORKER_LLM_MAX_ITEMS;
        worker_item_t *items = realloc(conv->items, cap * sizeof *items);
        if (!items) return -1;
        conv->items = items;
        conv->cap = cap;
    }
    worker_item_t *it = &conv->items[conv->nitems];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->text = s_dup(text);
    it->id = s_dup(id);
    it->name = s_dup(name);
    it->args = s_dup(args);
    if ((text && !it->text) || (id && !it->id) || (name && !it->name) || (args && !it->args)) {
        free(it->text);
        free(it->id);
        free(it->name);
        free(it->args);
        return -1;
    }
    conv->nitems++;
    return 0;
}

void worker_conv_clear(worker_conv_t *conv)
{
    for (size_t i = 0; i < conv->nitems; i++) {
        free(conv->items[i].text);
        free(conv->items[i].id);
        free(conv->items[i].name);
        free(conv->items[i].args);
    }
    free(conv->items);
    conv->items = NULL;
    conv->nitems = conv->cap = 0;
}

worker_llm_class_t worker_llm_classify(long status, const char *body, size_t len, char *err, size_t errlen)
{
    if (status == 0) {
        snprintf(err, errlen, "no response (connection error or timeout)");
        return WORKER_LLM_RETRY;
    }
    if (status == 429) {
        // A spend limit (OpenAI insufficient_quota) will not pass by retrying.
        if (body && len > 0) {
            char perr[64];
            cJSON *doc = lull_json_parse(body, len, LULL_JSON_MAX_DEPTH, perr, sizeof perr);
            const cJSON *e = doc ? cJSON_GetObjectItemCaseSensitive(doc, "error") : NULL;
            const cJSON *code = e ? cJSON_GetObjectItemCaseSensitive(e, "code") : NULL;
            const cJSON *type = e ? cJSON_GetObjectItemCaseSensitive(e, "type") : NULL;
            bool quota = (cJSON_IsString(code) && strcmp(code->valuestring, "insufficient_quota") == 0) ||
                         (cJSON_IsString(type) && strcmp(type->valuestring, "insufficient_quota") == 0);
            cJSON_Delete(doc);
            if (quota) {
                snprintf(err, errlen, "http 429 insufficient_quota");
                return WORKER_LLM_NEXT;
            }
        }
        snprintf(err, errlen, "http 429 rate limited");
        return WORKER_LLM_RETRY;
    }
    snprintf(err, errlen, "http %ld", status);
    if (status == 408 || status == 409 || status >= 500) return WORKER_LLM_RETRY;
    return WORKER_LLM_NEXT;
}

void worker_llm_result_clear(worker_llm_result_t *res)
{
    if (!res) return;
    free(res->text);
    for (size_t i = 0; i < res->ncalls; i++) free(res->calls[i].args);
    memset(res, 0, sizeof *res);
}

int worker_llm_result_add_call(worker_llm_result_t *res, const char *id, const char *name, const char *args)
{
    if (res->ncalls >= WORKER_LLM_MAX_CALLS || !name) return -1;
    worker_call_t *c = &res->calls[res->ncalls];
    snprintf(c->id, sizeof c->id, "%s", id && *id ? id : "call");
    if (!id || !*id) snprintf(c->id, sizeof c->id, "call_%zu", res->ncalls + 1);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->args = strdup(args ? args : "{}");
    if (!c->args) return -1;
    res->ncalls++;
    return 0;
}

int worker_llm_result_set_text(worker_llm_result_t *res, const char *text)
{
    free(res->text);
    res->text = NULL;
    if (!text) return 0;
    size_t n = strlen(text);
    if (n > WORKER_LLM_MAX_TEXT) n = WORKER_LLM_MAX_TEXT;
    res->text = strndup(text, n);
    return res->text ? 0 : -1;
}

int worker_llm_url(const char *base, const char *suffix, char *buf, size_t len)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/') n--;
    int w = snprintf(buf, len, "%.*s%s", (int)n, base, suffix);
    return w > 0 && (size_t)w < len ? 0 : -1;
}

cJSON *worker_llm_turn(cJSON *list, const char *role, const char *items_key)
{
    cJSON *last = cJSON_GetArrayItem(list, cJSON_GetArraySize(list) - 1);
    const cJSON *r = last ? cJSON_GetObjectItemCaseSensitive(last, "role") : NULL;
    if (cJSON_IsString(r) && strcmp(r->valuestring, role) == 0) return cJSON_GetObjectItemCaseSensitive(last, items_key);
    cJSON *turn = cJSON_CreateObject(), *items = cJSON_CreateArray();
    if (!turn || !items) {
        cJSON_Delete(turn);
        cJSON_Delete(items);
        return NULL;
    }
    cJSON_AddStringToObject(turn, "role", role);
    cJSON_AddItemToObject(turn, items_key, items);
    cJSON_AddItemToArray(list, turn);
    return items;
}

void worker_llm_usage(const cJSON *obj, const char *in_key, const char *out_key, worker_llm_result_t *res)
{
    const cJSON *in = obj ? cJSON_GetObjectItemCaseSensitive(obj, in_key) : NULL;
    const cJSON *out = obj ? cJSON_GetObjectItemCaseSensitive(obj, out_key) : NULL;
    if (cJSON_IsNumber(in) && in->valuedouble >= 0 && in->valuedouble < 1e9) res->tokens_in = (int64_t)in->valuedouble;
    if (cJSON_IsNumber(out) && out->valuedouble >= 0 && out->valuedouble < 1e9) res->tokens_out = (int64_t)out->valuedouble;
}

void worker_llm_finish(worker_llm_result_t *res, const struct cJSON *usage, const char *in_key, const char *out_key,
                       const char *missing)
{
    if (!res->text && res->ncalls == 0) {
        res->cls = WORKER_LLM_NEXT;
        snprintf(res->error, sizeof res->error, "malformed answer: %s", missing);
        return;
    }
    worker_llm_usage(usage, in_key, out_key, res);
    res->cls = WORKER_LLM_OK;
}

int64_t worker_llm_count(const cJSON *obj, const char *const *path)
{
    for (size_t i = 0; obj && path[i]; i++) obj = cJSON_GetObjectItemCaseSensitive(obj, path[i]);
    return cJSON_IsNumber(obj) && obj->valuedouble >= 0 && obj->valuedouble < 1e9 ? (int64_t)obj->valuedouble : 0;
}

void worker_llm_move_last(cJSON *obj, const char *key)
{
    cJSON *item = cJSON_DetachItemFromObjectCaseSensitive(obj, key);
    if (item) cJSON_AddItemToObject(obj, key, item);
}

bool worker_llm_is_reasoning(const worker_llm_opts_t *opts, const char *model)
{
    static const char *const defaults[] = {"o1", "o3", "o4", "gpt-5"};
    if (!model) return false;
    size_t n = opts ? opts->nreasoning : sizeof defaults / sizeof defaults[0];
    for (size_t i = 0; i < n; i++) {
        const char *p = opts ? opts->reasoning_prefixes[i] : defaults[i];
        if (p && *p && strncmp(model, p, strlen(p)) == 0) return true;
    }
    return false;
}

const char *worker_llm_anthropic_version(const worker_llm_opts_t *opts)
{
    return opts && opts->anthropic_version && *opts->anthropic_version ? opts->anthropic_version
                                                                       : WORKER_LLM_ANTHROPIC_VERSION;
}

cJSON *worker_llm_tools_ref(int slot, cJSON *(*build)(void))
{
    static cJSON *s_tables[WORKER_NPROVIDERS];  // the worker's one loop thread builds and reads them
    if (slot < 0 || slot >= WORKER_NPROVIDERS) return NULL;
    if (!s_tables[slot]) s_tables[slot] = build();
    return s_tables[slot] ? cJSON_CreateArrayReference(s_tables[slot]->child) : NULL;
}

#define HEADS_MAX 64  // heads kept per provider (a tenant's settings each); the oldest goes first

typedef struct {
    char *key;   // the parts, each as "<length>:<bytes>" ("-" for a NULL part): no two part lists share a key
    size_t keylen;
    char *head;
} s_head_t;

const char *worker_llm_head(int slot, const char *const *parts, size_t nparts,
                            char *(*make)(const worker_conv_t *conv), const worker_conv_t *conv)
{
    static s_head_t s_heads[WORKER_NPROVIDERS][HEADS_MAX];
    static size_t s_next[WORKER_NPROVIDERS];
    static lull_buf_t s_key;  // reused: one allocation for the worker's life
    if (slot < 0 || slot >= WORKER_NPROVIDERS) return NULL;
    s_key.len = 0;
    s_key.failed = false;
    for (size_t i = 0; i < nparts; i++) {  // length-prefixed: a part holding any byte cannot pose as two
        if (!parts[i]) {
            lull_buf_append(&s_key, "-", 1);
            continue;
        }
        size_t n = strlen(parts[i]);
        lull_buf_printf(&s_key, "%zu:", n);
        lull_buf_append(&s_key, parts[i], n);
    }
    if (s_key.failed || !s_key.data) return NULL;
    for (size_t i = 0; i < HEADS_MAX; i++) {
        const s_head_t *h = &s_heads[slot][i];
        if (h->key && h->keylen == s_key.len && memcmp(h->key, s_key.data, s_key.len) == 0) return h->head;
    }
    char *head = make(conv), *key = malloc(s_key.len + 1);
    if (!head || !key) {
        free(head);
        free(key);
        return NULL;
    }
    memcpy(key, s_key.data, s_key.len + 1);
    s_head_t *h = &s_heads[slot][s_next[slot]++ % HEADS_MAX];
    free(h->key);
    free(h->head);
    *h = (s_head_t){.key = key, .keylen = s_key.len, .head = head};
    return head;
}

char *worker_llm_head_print(const cJSON *root)
{
    char *out = lull_json_print(root);
    size_t n = out ? strlen(out) : 0;
    if (n > 0 && out[n - 1] == '}') out[n - 1] = '\0';
    return out;
}

void worker_llm_body_init(lull_buf_t *b, const worker_conv_t *conv)
{
    lull_buf_init(b, 0, false);
    size_t guess = 256;
    for (size_t i = 0; i < conv->nitems; i++)
        guess += 96 + (conv->items[i].text ? strlen(conv->items[i].text) * 9 / 8 : 0) +
                 (conv->items[i].args ? strlen(conv->items[i].args) * 9 / 8 : 0);
    lull_buf_reserve(b, guess);
}

void worker_llm_put_object(lull_buf_t *b, const char *json)
{
    cJSON *obj = json ? cJSON_Parse(json) : NULL;
    char *text = cJSON_IsObject(obj) ? lull_json_print(obj) : NULL;
    if (cJSON_IsObject(obj) && !text) b->failed = true;
    lull_buf_puts(b, text ? text : "{}");
    free(text);
    cJSON_Delete(obj);
}

char *worker_llm_splice(const char *head, lull_buf_t *b)
{
    char *out = NULL;
    size_t hn = head ? strlen(head) : 0;
    if (head && !b->failed && (out = malloc(hn + b->len + 1))) {
        memcpy(out, head, hn);
        memcpy(out + hn, b->data, b->len + 1);
    }
    lull_buf_reset(b);
    return out;
}
