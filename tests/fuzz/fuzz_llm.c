// libFuzzer target for the worker's parsers of LLM answers (OpenAI, Anthropic, Gemini) and of the structured
// analysis: whatever a provider (or something pretending to be one) answers must never crash the worker.
#include "../../worker/worker_analysis.h"
#include "../../worker/worker_llm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    // The first byte picks the parser; the rest is the answer body.
    const worker_provider_t *providers[] = {&WORKER_OPENAI, &WORKER_ANTHROPIC, &WORKER_GEMINI};
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] < 3 * 64) {
        worker_llm_result_t res;
        memset(&res, 0, sizeof res);
        providers[data[0] % 3]->parse(body, len, &res);
        worker_llm_result_clear(&res);
    } else {
        char *text = malloc(len + 1);
        if (!text) return 0;
        memcpy(text, body, len);
        text[len] = '\0';
        worker_analysis_t a;
        memset(&a, 0, sizeof a);
        char err[160];
        (void)worker_analysis_parse(text, "[{\"name\":\"product_name\",\"description\":\"x\"}]", &a, err, sizeof err);
        worker_analysis_clear(&a);
        free(text);
    }
    return 0;
}
