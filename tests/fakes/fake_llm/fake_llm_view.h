// The neutral facts the fake LLM needs from a request in any provider's wire format: analysis or combined
// (and its schema), tools offered, the last customer text, the item an earlier text named, the last tool
// result.
#ifndef FAKE_LLM_VIEW_H
#define FAKE_LLM_VIEW_H

#include <cJSON.h>
#include <stdbool.h>

typedef struct {
    bool analysis;       // an analysis request, or the final answer of a combined one (JSON following schema)
    bool combined;       // a combined request: the schema holds "reply" (tool calls may come first)
    bool tools;
    const cJSON *schema;
    char user[8192];     // last user text
    const char *earlier_item;  // the item the user texts before the last one named last (static), or NULL
    char *tool_result;   // last message's tool result (owned), when the conversation ends with one
} fake_view_t;

// Reads the view of request req of provider p (0 openai, 1 anthropic, 2 gemini) into v (zeroed first);
// 0, or -1 for a request the provider would refuse. v->tool_result is the caller's to free either way.
int fake_view(int p, const cJSON *req, fake_view_t *v);

#endif
