// Unit tests of worker_commit_rows_json: the row of one job in the set commit's JSON array, written without a
// cJSON tree, must be the JSON cJSON prints for it (parse and print again: the same bytes), whatever the texts
// hold, with every member the statement reads.
#include "lull_test.h"
#include "lull_json.h"
#include "../../worker/worker_commit_rows.h"

#include <stdlib.h>

static char *s_path(const char *json, const char *key)  // one member, printed
{
    cJSON *j = cJSON_Parse(json);
    const cJSON *n = j ? cJSON_GetObjectItemCaseSensitive(j, key) : NULL;
    char *out = n ? cJSON_PrintUnformatted(n) : strdup("missing");
    cJSON_Delete(j);
    return out;
}

#define CHECK_MEMBER(json, key, expected)  \
    do {                                   \
        char *v_ = s_path(json, key);      \
        LULL_CHECK_EQ_STR(v_, expected);   \
        free(v_);                          \
    } while (0)

static void s_check_reprint(const char *row)
{
    cJSON *j = row ? cJSON_Parse(row) : NULL;
    char *again = j ? cJSON_PrintUnformatted(j) : NULL;
    LULL_CHECK(again != NULL);
    if (again) LULL_CHECK_EQ_STR(row, again);
    free(again);
    cJSON_Delete(j);
}

LULL_TEST(row_bytes)
{
    static const char model[WORKER_NPROVIDERS][LULL_TENANT_MODEL_MAX + 1] = {"gpt-4o-mini", "", "gemini \"x\""};
    worker_usage_t usage[WORKER_NPROVIDERS] = {{.requests = 2, .tokens_in = 1234, .tokens_out = 56, .cached_in = 1024,
                                                .cache_write = 0, .latency_ms = 2001},
                                               {0},
                                               {.requests = 1, .tokens_in = 9000000000LL, .tokens_out = 1}};
    double cost[WORKER_NPROVIDERS] = {0.000123, 0, 1.5};
    worker_job_view_t j = {.done = {.conv_id = 812, .upto = 42}, .tenant_id = 1, .contact_id = 7,
                           .expected = 41, .max_wait = true, .channel = "sms", .recipient = "+1555\"0100",
                           .sender_address = NULL, .model = model, .usage = usage, .cost_usd = cost};
    worker_analysis_t a = {.sentiment = "neutral", .confidence = 0.87654, .intent = "inquiry", .priority = "low",
                           .escalate = false, .escalate_reason = "tab\there \\ \x01",
                           .entities = "{\"names\":[\"Ann\"],\"emails\":[],\"phones\":[],\"order_numbers\":[]}",
                           .moderation = "{\"flagged\":false,\"categories\":[]}", .extracted = "{}",
                           .raw = "{\"sentiment\":\"neutral\"}"};
    worker_outcome_t out = {.write = WORKER_WRITE_RESULT, .reply = "We open at 10 \"sharp\"\nSee you caf\xc3\xa9",
                            .analysis = &a, .analysis_provider = 0};
    char *row = worker_commit_rows_json(&j, &out);
    s_check_reprint(row);
    CHECK_MEMBER(row, "conv", "812");
    CHECK_MEMBER(row, "usage", "[{\"p\":\"openai\",\"mo\":\"gpt-4o-mini\",\"r\":2,\"ti\":1234,\"tou\":56,\"l\":2001,"
                               "\"c\":\"0.000123\",\"ca\":1024,\"cw\":0},{\"p\":\"gemini\",\"mo\":\"gemini \\\"x\\\"\","
                               "\"r\":1,\"ti\":9000000000,\"tou\":1,\"l\":0,\"c\":\"1.500000\",\"ca\":0,\"cw\":0}]");
    CHECK_MEMBER(row, "sender", "null");
    CHECK_MEMBER(row, "kind", "\"reply\"");
    CHECK_MEMBER(row, "mw", "true");
    CHECK_MEMBER(row, "conf", "\"0.8765\"");
    CHECK_MEMBER(row, "esc", "false");
    CHECK_MEMBER(row, "entities", "{\"names\":[\"Ann\"],\"emails\":[],\"phones\":[],\"order_numbers\":[]}");
    CHECK_MEMBER(row, "aprov", "\"openai\"");
    CHECK_MEMBER(row, "amodel", "\"gpt-4o-mini\"");
    free(row);
    // No analysis, no reply, no usage: those members are null or absent, the rest as before.
    memset(usage, 0, sizeof usage);
    out = (worker_outcome_t){.write = WORKER_WRITE_RESULT, .kind = "safe", .analysis_provider = -1};
    j.max_wait = false;
    row = worker_commit_rows_json(&j, &out);
    s_check_reprint(row);
    CHECK_MEMBER(row, "reply", "null");
    CHECK_MEMBER(row, "kind", "\"safe\"");
    CHECK_MEMBER(row, "usage", "[]");
    CHECK_MEMBER(row, "sentiment", "missing");
    CHECK_MEMBER(row, "mw", "false");
    free(row);
    // Ids beyond a double's 53 bits are written exactly (cJSON's numbers are doubles; a reprint would round).
    j.done.conv_id = 9007199254740993LL;
    row = worker_commit_rows_json(&j, &out);
    const char *want = "{\"conv\":9007199254740993,\"tenant\":1,";
    LULL_CHECK(row && strncmp(row, want, strlen(want)) == 0);
    free(row);
}

int main(void)
{
    LULL_RUN(row_bytes);
    return lull_test_summary();
}
