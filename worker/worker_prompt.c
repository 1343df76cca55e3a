// System prompt rendering and phrase matching (content filter, escalation keywords).
#include "worker_prompt.h"
#include "lull_buf.h"
#include "lull_channel.h"

#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *worker_prompt_length_hint(const char *channel)
{
    switch (lull_channel_parse(channel)) {
    case LULL_CH_SMS:
    case LULL_CH_TIKTOK: return "Keep every reply very short: one or two sentences, under 300 characters.";
    case LULL_CH_WHATSAPP: return "Keep replies short: a few sentences at most.";
    default: return "Keep replies concise: a few sentences unless the customer asks for detail.";
    }
}

static const char *s_var(const worker_prompt_vars_t *v, const char *name, size_t n)
{
    struct {
        const char *name;
        const char *value;
    } vars[] = {{"company_name", v->company_name}, {"agent_name", v->agent_name},
                {"customer_name", v->customer_name}, {"channel", v->channel}};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (strlen(vars[i].name) == n && strncmp(vars[i].name, name, n) == 0) return vars[i].value ? vars[i].value : "";
    return NULL;
}

char *worker_prompt_render(const char *tmpl, const worker_prompt_vars_t *vars)
{
    lull_buf_t b;
    lull_buf_init(&b, WORKER_PROMPT_MAX, true);
    const char *p = tmpl ? tmpl : "";
    while (*p) {
        const char *open = strstr(p, "{{");
        const char *close = open ? strstr(open + 2, "}}") : NULL;
        if (!open || !close || close - open > 66) {
            if (!open || !close) {
                (void)lull_buf_append(&b, p, strlen(p));
                break;
            }
            (void)lull_buf_append(&b, p, (size_t)(open - p) + 2);  // not a variable: keep the braces as text
            p = open + 2;
            continue;
        }
        (void)lull_buf_append(&b, p, (size_t)(open - p));
        const char *s = open + 2, *e = close;
        while (s < e && isspace((unsigned char)*s)) s++;
        while (e > s && isspace((unsigned char)e[-1])) e--;
        const char *value = s_var(vars, s, (size_t)(e - s));
        if (value) (void)lull_buf_append(&b, value, strlen(value));  // unknown variables are removed
        p = close + 2;
    }
    (void)lull_buf_append(&b, "\n\n", 2);
    const char *hint = worker_prompt_length_hint(vars->channel);
    (void)lull_buf_append(&b, hint, strlen(hint));
    if (b.failed || !b.data) {
        lull_buf_reset(&b);
        return NULL;
    }
    return lull_buf_take(&b);
}

bool worker_text_contains(const char *text, const char *needle)
{
    if (!text || !needle || !*needle) return false;
    size_t n = strlen(needle);
    for (const char *p = text; *p; p++)
        if (strncasecmp(p, needle, n) == 0) return true;
    return false;
}

int worker_text_match_array(const char *text, const char *arr, char *found, size_t found_len)
{
    if (!text || !arr || arr[0] != '{') return -1;
    char item[256];
    int index = 0;
    const char *p = arr + 1;
    while (*p && *p != '}') {
        size_t n = 0;
        bool quoted = *p == '"', overflow = false;
        if (quoted) p++;
        while (*p) {
            if (quoted && *p == '\\' && p[1]) p++;
            else if (quoted && *p == '"') break;
            else if (!quoted && (*p == ',' || *p == '}')) break;
            if (n + 1 < sizeof item) item[n++] = *p;
            else overflow = true;
            p++;
        }
        if (quoted) {
            if (*p != '"') return -1;
            p++;
        }
        item[n] = '\0';
        if (!overflow && !(!quoted && strcmp(item, "NULL") == 0) && worker_text_contains(text, item)) {
            if (found && found_len) snprintf(found, found_len, "%s", item);
            return index;
        }
        index++;
        if (*p == ',') p++;
        else if (*p != '}') return -1;
    }
    return -1;
}
