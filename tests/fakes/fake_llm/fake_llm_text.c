// The fake LLM's deterministic texts (see fake_llm_text.h).
#include "fake_llm_text.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

// ---- text helpers ----

static bool s_has(const char *text, const char *word)
{
    if (!text) return false;
    size_t n = strlen(word);
    for (const char *p = text; *p; p++)
        if (strncasecmp(p, word, n) == 0) return true;
    return false;
}

static const char *const s_items[] = {"jacket", "boots", "dress", "shirt", "scarf", "hat", "jeans", "coat",
                                      "sneakers", "bag", "unicorn", NULL};

// The next word of text from *p on (a run of letters and digits); false at the end. Sets *w and *n.
static bool s_next_word(const char **p, const char **w, size_t *n)
{
    while (**p && !isalnum((unsigned char)**p)) (*p)++;
    if (!**p) return false;
    *w = *p;
    while (**p && isalnum((unsigned char)**p)) (*p)++;
    *n = (size_t)(*p - *w);
    return true;
}

// True when the n bytes at w are word, case-insensitive, allowing a simple plural either way:
// "jackets" is "jacket", "boot" is "boots".
static bool s_word_is(const char *w, size_t n, const char *word)
{
    size_t wn = strlen(word);
    if (n == wn) return strncasecmp(w, word, n) == 0;
    if (n == wn + 1) return tolower((unsigned char)w[wn]) == 's' && strncasecmp(w, word, wn) == 0;
    if (wn == n + 1) return tolower((unsigned char)word[n]) == 's' && strncasecmp(w, word, n) == 0;
    return false;
}

// True when text holds word as a whole word ("that" does not hold "hat").
static bool s_has_word(const char *text, const char *word)
{
    const char *p = text ? text : "", *w;
    size_t n;
    while (s_next_word(&p, &w, &n))
        if (s_word_is(w, n, word)) return true;
    return false;
}

// The first item of s_items the text names as a whole word, or NULL.
const char *fake_item_named(const char *text)
{
    for (size_t i = 0; s_items[i]; i++)
        if (s_has_word(text, s_items[i])) return s_items[i];
    return NULL;
}

// The size the text asks for ("… in size M?" → "M"), copied into buf; false when it asks for none.
static bool s_size_asked(const char *text, char *buf, size_t len)
{
    const char *p = text ? text : "", *w;
    size_t n;
    while (s_next_word(&p, &w, &n))
        if (s_word_is(w, n, "size") && s_next_word(&p, &w, &n) && n <= 8) {
            snprintf(buf, len, "%.*s", (int)n, w);
            return true;
        }
    return false;
}

static bool s_asks_stock(const char *text)
{
    return s_has(text, "have you got") || s_has(text, "in stock");
}

// The search_inventory query for the last customer text: the item it names (else, when it asks for a size
// or about stock, the item an earlier text named: "do you have that in size M?"), and the size it asks for.
// False when the text asks about no item.
bool fake_item_query(const char *text, const char *earlier_item, char *q, size_t len)
{
    const char *item = fake_item_named(text);
    char size[16] = "";
    bool sized = s_size_asked(text, size, sizeof size);
    if (!item && (sized || s_asks_stock(text))) item = earlier_item;
    if (item && sized) snprintf(q, len, "%s %s", item, size);
    else if (item || sized) snprintf(q, len, "%s", item ? item : size);
    else if (s_asks_stock(text)) snprintf(q, len, "%s", "item");
    else return false;
    return true;
}

// ---- answers ----

// Appends to buf (capacity cap, *len used so far), truncating at the end instead of overflowing.
static void s_appendf(char *buf, size_t cap, size_t *len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void s_appendf(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0) *len = (size_t)n < cap - *len ? *len + (size_t)n : cap - 1;
}

// The text of an answer to a reply request given the last user text or the last tool result: from a
// search_inventory result, each item as the tool returned it (name, SKU, size, price).
char *fake_reply_text(const char *user, const char *tool_result)
{
    char buf[2048];
    size_t len = 0;
    buf[0] = '\0';
    if (tool_result) {
        cJSON *r = cJSON_Parse(tool_result);
        cJSON *items = r ? cJSON_GetObjectItemCaseSensitive(r, "items") : NULL, *it;
        int n = cJSON_GetArraySize(items), i = 0;
        if (n > 0) {
            s_appendf(buf, sizeof buf, &len, "Yes, we have ");
            cJSON_ArrayForEach(it, items)
            {
                const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
                const cJSON *sku = cJSON_GetObjectItemCaseSensitive(it, "sku");
                const cJSON *size = cJSON_GetObjectItemCaseSensitive(it, "size");
                const cJSON *price = cJSON_GetObjectItemCaseSensitive(it, "price");
                const cJSON *cur = cJSON_GetObjectItemCaseSensitive(it, "currency");
                if (i++) s_appendf(buf, sizeof buf, &len, i == n ? " and " : ", ");
                s_appendf(buf, sizeof buf, &len, "the %.200s (%.40s)", cJSON_IsString(name) ? name->valuestring : "?",
                          cJSON_IsString(sku) ? sku->valuestring : "?");
                if (cJSON_IsString(size) && *size->valuestring)
                    s_appendf(buf, sizeof buf, &len, " in size %.20s", size->valuestring);
                if (cJSON_IsNumber(price))
                    s_appendf(buf, sizeof buf, &len, " for %.2f %.8s", price->valuedouble,
                              cJSON_IsString(cur) ? cur->valuestring : "");
                else
                    s_appendf(buf, sizeof buf, &len, ", ask us for the price");
            }
            s_appendf(buf, sizeof buf, &len, ".");
        } else {
            s_appendf(buf, sizeof buf, &len, "Sorry, we don't have that in stock right now.");
        }
        cJSON_Delete(r);
    } else {
        s_appendf(buf, sizeof buf, &len, "Thanks for your message! (fake reply to: %.60s)", user ? user : "");
    }
    return strdup(buf);
}

// The analysis object for the text; extracted fields from schema.properties.extracted.properties.
cJSON *fake_analysis(const char *text, const cJSON *schema)
{
    cJSON *a = cJSON_CreateObject();
    const char *sent = "neutral";
    if (s_has(text, "angry") || s_has(text, "terrible") || s_has(text, "awful") || s_has(text, "hate") ||
        s_has(text, "broken") || s_has(text, "worst"))
        sent = "negative";
    else if (s_has(text, "love") || s_has(text, "great") || s_has(text, "thank") || s_has(text, "awesome"))
        sent = "positive";
    const char *intent = "other";
    if (s_has(text, "terrible") || s_has(text, "broken") || s_has(text, "refund") || s_has(text, "complain")) intent = "complaint";
    else if (s_has(text, "book") || s_has(text, "appointment") || s_has(text, "reservation")) intent = "booking";
    else if (s_has(text, "buy") || s_has(text, "order")) intent = "purchase";
    else if (s_has(text, "feedback") || s_has(text, "review")) intent = "feedback";
    else if (s_has(text, "help") || s_has(text, "problem") || s_has(text, "issue")) intent = "support";
    else if (s_has(text, "have you got") || s_has(text, "in stock") || strchr(text ? text : "", '?')) intent = "inquiry";
    const char *prio = s_has(text, "urgent") || s_has(text, "asap") ? "urgent" : strcmp(sent, "negative") == 0 ? "high" : "normal";
    bool esc = s_has(text, "human") || s_has(text, "manager") || s_has(text, "real person");
    cJSON_AddStringToObject(a, "sentiment", sent);
    cJSON_AddNumberToObject(a, "confidence", s_has(text, "mumble") ? 0.2 : 0.9);
    cJSON_AddStringToObject(a, "intent", intent);
    cJSON_AddStringToObject(a, "priority", prio);
    cJSON_AddBoolToObject(a, "escalate", esc);
    cJSON_AddStringToObject(a, "escalate_reason", esc ? "customer asked for a person" : "");
    cJSON *ent = cJSON_AddObjectToObject(a, "entities");
    cJSON *names = cJSON_AddArrayToObject(ent, "names"), *emails = cJSON_AddArrayToObject(ent, "emails");
    cJSON_AddArrayToObject(ent, "phones");
    cJSON *orders = cJSON_AddArrayToObject(ent, "order_numbers");
    (void)names;
    // tokens: emails contain '@', order numbers start with '#'
    const char *p = text ? text : "";
    while (*p) {
        while (*p && isspace((unsigned char)*p)) p++;
        const char *s = p;
        while (*p && !isspace((unsigned char)*p)) p++;
        size_t n = (size_t)(p - s);
        while (n > 0 && strchr(".,!?;:", s[n - 1])) n--;
        if (n == 0 || n > 100) continue;
        char tok[101];
        memcpy(tok, s, n);
        tok[n] = '\0';
        if (strchr(tok, '@')) cJSON_AddItemToArray(emails, cJSON_CreateString(tok));
        else if (tok[0] == '#' && n > 1) cJSON_AddItemToArray(orders, cJSON_CreateString(tok + 1));
    }
    cJSON *mod = cJSON_AddObjectToObject(a, "moderation");
    bool flagged = s_has(text, "idiot");
    cJSON_AddBoolToObject(mod, "flagged", flagged);
    cJSON *cats = cJSON_AddArrayToObject(mod, "categories");
    if (flagged) cJSON_AddItemToArray(cats, cJSON_CreateString("harassment"));
    cJSON *ext = cJSON_AddObjectToObject(a, "extracted");
    const cJSON *props = schema ? cJSON_GetObjectItemCaseSensitive(schema, "properties") : NULL;
    const cJSON *exs = props ? cJSON_GetObjectItemCaseSensitive(props, "extracted") : NULL;
    const cJSON *exprops = exs ? cJSON_GetObjectItemCaseSensitive(exs, "properties") : NULL, *f;
    cJSON_ArrayForEach(f, exprops)
    {
        if (strcmp(f->string, "product_name") == 0 && (fake_item_named(text) || s_asks_stock(text)))
            cJSON_AddStringToObject(ext, f->string, fake_item_named(text) ? fake_item_named(text) : "item");
        else if (strcmp(f->string, "feedback") == 0 && strcmp(intent, "feedback") == 0) cJSON_AddStringToObject(ext, f->string, text);
        else cJSON_AddNullToObject(ext, f->string);
    }
    return a;
}

bool fake_has(const char *text, const char *word)
{
    return s_has(text, word);
}
