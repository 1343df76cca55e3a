// The fake LLM's deterministic texts: which item a customer text asks about, the reply text, and the
// analysis object (tests/fakes/fake_llm.c answers with them in each provider's wire format).
#ifndef FAKE_LLM_TEXT_H
#define FAKE_LLM_TEXT_H

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>

// The first item the text names as a whole word ("jacket", "boots" …, plural or not), or NULL. Static.
const char *fake_item_named(const char *text);
// The search_inventory query for the last customer text (the item it names, else the item an earlier text
// named when it asks for a size or about stock, and the size), into q; false when it asks about no item.
bool fake_item_query(const char *text, const char *earlier_item, char *q, size_t len);
// The reply text to the last user text, or from the last tool result. Caller frees.
char *fake_reply_text(const char *user, const char *tool_result);
// The analysis object for the text; extracted fields from schema.properties.extracted.properties. Caller
// deletes.
cJSON *fake_analysis(const char *text, const cJSON *schema);
// True when text holds word, case-insensitively.
bool fake_has(const char *text, const char *word);

#endif
