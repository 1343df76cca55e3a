// One structured answer per burst: the reply text and the analysis in one JSON object, its strict JSON
// Schema, the validation of an answer, which providers and models can give one, and the history bounded by
// a token budget.
#ifndef WORKER_COMBINED_H
#define WORKER_COMBINED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker_analysis.h"
#include "worker_load.h"

// The name of the structured answer: OpenAI's json_schema name, Anthropic's forced tool, Gemini's function.
#define WORKER_COMBINED_NAME "reply_with_analysis"
#define WORKER_COMBINED_MAX_REPLY (16 * 1024)  // bytes of the reply text of a combined answer

// The strict schema of a combined answer: {"reply": string} then the analysis properties of
// worker_analysis_schema(extraction_fields). Caller frees; NULL when out of memory.
char *worker_combined_schema(const char *extraction_fields);
// Splits and validates a combined answer: *reply gets a copy of the reply text (caller frees), a (zeroed
// first) the analysis as worker_analysis_parse makes it. 0, or -1 with a reason in err (nothing owned then):
// not a JSON object, no reply, an empty or over-long reply, a reply that is itself JSON, a bad analysis.
int worker_combined_parse(const char *text, const char *extraction_fields, char **reply, worker_analysis_t *a,
                          char *err, size_t errlen) __attribute__((warn_unused_result));
// True when provider index pi with model can give a combined answer (tools: tools are offered in the
// same request): OpenAI except gpt-3.5 and gpt-4 before 4o; Anthropic always; Gemini without tools, or from
// gemini-3 on (earlier Gemini models refuse function calling with a response schema).
bool worker_combined_capable(int pi, const char *model, bool tools);
// Estimated tokens of a text sent to a model: bytes / 4, plus a few tokens of message framing.
int64_t worker_tokens_estimate(const char *text);
// The index of the first history message to send: the newest messages whose estimated tokens fit budget,
// oldest dropped first; the messages after answered_upto (the burst being answered) are always kept.
size_t worker_history_first(const worker_hist_t *h, size_t n, int64_t answered_upto, int64_t budget);

#endif
