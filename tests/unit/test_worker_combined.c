// Unit tests of the combined answer (worker_combined) and of what goes with it in the adapters and the
// price table: the combined request body of each provider (strict schema, stable prefix for the prompt
// cache), the validation of combined answers (good and malformed), cached-token parsing per provider, the
// cost of cached and cache-written tokens, provider capability, and the history trimmed to a token budget.
#include "lull_test.h"
#include "lull_json.h"
#include "lull_log.h"
#include "../../worker/worker_combined.h"
#include "../../worker/worker_llm.h"
#include "../../worker/worker_config.h"
#include "../../worker/worker_price.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// The default of one of lull-worker's settings (NULL when the table has no such setting).
static const char *s_default(const char *name)
{
    for (size_t i = 0; i < WORKER_PROC.nsettings; i++)
        if (strcmp(WORKER_PROC.settings[i].name, name) == 0) return WORKER_PROC.settings[i].def;
    return NULL;
}

static const char *s_fields = "[{\"name\":\"product_name\",\"description\":\"the product\"}]";

// A combined conversation of the same tenant with its own history (first), optionally in its last round.
static void s_conv(worker_conv_t *c, const char *schema, const char *first, bool last_round)
{
    memset(c, 0, sizeof *c);
    c->mode = WORKER_MODE_COMBINED;
    c->system = "You are Ada of Acme.";
    c->model = "m-1";
    c->temperature = 0.5;
    c->max_tokens = 600;
    c->tools = true;
    c->tool_choice_none = last_round;
    c->schema = schema;
    c->cache_key = "lull-t7";
    if (worker_conv_add(c, WORKER_ITEM_USER, first, NULL, NULL, NULL) != 0 ||
        worker_conv_add(c, WORKER_ITEM_ASSISTANT, "a bot answer", NULL, NULL, NULL) != 0 ||
        worker_conv_add(c, WORKER_ITEM_USER, "and boots?", NULL, NULL, NULL) != 0)
        return;
}

static char *s_path(cJSON *j, const char *path)
{
    cJSON *n = j;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok && n; tok = strtok_r(NULL, ".", &save))
        n = cJSON_IsArray(n) ? cJSON_GetArrayItem(n, atoi(tok)) : cJSON_GetObjectItem(n, tok);
    return n ? cJSON_PrintUnformatted(n) : strdup("missing");
}

#define CHECK_PATH(j, path, expected)    \
    do {                                 \
        char *v_ = s_path(j, path);      \
        LULL_CHECK_EQ_STR(v_, expected); \
        free(v_);                        \
    } while (0)

// Two requests of one tenant (different histories, one in its last tool round) are byte-identical up to
// marker (where the history starts), which comes after the schema and the tools.
static void s_check_prefix(const worker_provider_t *p, const char *schema, const char *marker)
{
    worker_conv_t a, b;
    s_conv(&a, schema, "hello, a jacket please", false);
    s_conv(&b, schema, "something else entirely, and longer", true);
    char *ba = p->build(&a), *bb = p->build(&b);
    LULL_CHECK(ba && bb);
    const char *ma = ba ? strstr(ba, marker) : NULL, *mb = bb ? strstr(bb, marker) : NULL;
    LULL_CHECK(ma && mb);
    if (ma && mb) {
        LULL_CHECK_EQ_INT((long)(ma - ba), (long)(mb - bb));
        LULL_CHECK(memcmp(ba, bb, (size_t)(ma - ba)) == 0);
        LULL_CHECK(strstr(ba, "reply_with_analysis") < ma || strstr(ba, "\"reply\"") < ma);  // the schema first
        LULL_CHECK(strstr(ba, "search_inventory") && strstr(ba, "search_inventory") < ma);   // the tools first
        LULL_CHECK(strstr(ba, "hello, a jacket") > ma);
    }
    free(ba);
    free(bb);
    worker_conv_clear(&a);
    worker_conv_clear(&b);
}

LULL_TEST(combined_schema)
{
    char *schema = worker_combined_schema(s_fields);
    LULL_CHECK(schema != NULL);
    cJSON *j = cJSON_Parse(schema);
    CHECK_PATH(j, "required.0", "\"reply\"");
    CHECK_PATH(j, "properties.reply.type", "\"string\"");
    CHECK_PATH(j, "additionalProperties", "false");
    CHECK_PATH(j, "properties.extracted.properties.product_name.type", "[\"string\",\"null\"]");
    // strict: every property is required
    LULL_CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "required")),
                      cJSON_GetArraySize(cJSON_GetObjectItem(j, "properties")));
    cJSON_Delete(j);
    free(schema);
}

LULL_TEST(openai_combined_body)
{
    char *schema = worker_combined_schema(s_fields);
    worker_conv_t c;
    s_conv(&c, schema, "hi", false);
    char *body = WORKER_OPENAI.build(&c);
    cJSON *j = body ? cJSON_Parse(body) : NULL;
    CHECK_PATH(j, "response_format.type", "\"json_schema\"");
    CHECK_PATH(j, "response_format.json_schema.name", "\"reply_with_analysis\"");
    CHECK_PATH(j, "response_format.json_schema.strict", "true");
    CHECK_PATH(j, "response_format.json_schema.schema.properties.reply.type", "\"string\"");
    CHECK_PATH(j, "tools.0.function.name", "\"search_inventory\"");
    CHECK_PATH(j, "prompt_cache_key", "\"lull-t7\"");
    CHECK_PATH(j, "messages.0.role", "\"system\"");
    LULL_CHECK(strstr(body, "\"tool_choice\"") > strstr(body, "\"messages\""));  // what changes per round, last
    cJSON_Delete(j);
    free(body);
    worker_conv_clear(&c);
    s_check_prefix(&WORKER_OPENAI, schema, "{\"role\":\"user\"");
    free(schema);
}

LULL_TEST(anthropic_combined_body)
{
    char *schema = worker_combined_schema(s_fields);
    worker_conv_t c;
    s_conv(&c, schema, "hi", false);
    char *body = WORKER_ANTHROPIC.build(&c);
    cJSON *j = body ? cJSON_Parse(body) : NULL;
    CHECK_PATH(j, "tools.0.name", "\"search_inventory\"");
    CHECK_PATH(j, "tools.1.name", "\"reply_with_analysis\"");
    CHECK_PATH(j, "tools.1.input_schema.properties.reply.type", "\"string\"");
    CHECK_PATH(j, "tool_choice.type", "\"any\"");  // a tool round may come first
    CHECK_PATH(j, "system.0.cache_control.type", "\"ephemeral\"");
    cJSON_Delete(j);
    free(body);
    worker_conv_clear(&c);
    s_conv(&c, schema, "hi", true);  // the last round: the answer tool is forced
    body = WORKER_ANTHROPIC.build(&c);
    j = body ? cJSON_Parse(body) : NULL;
    CHECK_PATH(j, "tool_choice.type", "\"tool\"");
    CHECK_PATH(j, "tool_choice.name", "\"reply_with_analysis\"");
    cJSON_Delete(j);
    free(body);
    worker_conv_clear(&c);
    s_check_prefix(&WORKER_ANTHROPIC, schema, "\"messages\":");
    free(schema);
}

LULL_TEST(gemini_combined_body)
{
    char *schema = worker_combined_schema(s_fields);
    worker_conv_t c;
    s_conv(&c, schema, "hi", false);
    char *body = WORKER_GEMINI.build(&c);
    cJSON *j = body ? cJSON_Parse(body) : NULL;
    CHECK_PATH(j, "generationConfig.responseMimeType", "\"application/json\"");
    CHECK_PATH(j, "generationConfig.responseSchema.properties.reply.type", "\"STRING\"");  // the Type enum's name
    CHECK_PATH(j, "generationConfig.responseSchema.additionalProperties", "missing");  // Gemini's subset
    CHECK_PATH(j, "generationConfig.responseSchema.properties.extracted.properties.product_name.nullable", "true");
    CHECK_PATH(j, "systemInstruction.parts.0.text", "\"You are Ada of Acme.\"");
    cJSON_Delete(j);
    free(body);
    worker_conv_clear(&c);
    s_check_prefix(&WORKER_GEMINI, schema, "\"contents\":");
    free(schema);
}

static const char *s_good =
    "{\"reply\":\"We have boots in 42.\",\"sentiment\":\"neutral\",\"confidence\":0.9,\"intent\":\"inquiry\","
    "\"priority\":\"normal\",\"escalate\":false,\"escalate_reason\":\"\",\"entities\":{\"names\":[],\"emails\":[],"
    "\"phones\":[],\"order_numbers\":[]},\"moderation\":{\"flagged\":false,\"categories\":[]},"
    "\"extracted\":{\"product_name\":\"boots\"}}";

LULL_TEST(combined_parse)
{
    char *reply = NULL, err[160];
    worker_analysis_t a;
    LULL_CHECK_EQ_INT(worker_combined_parse(s_good, s_fields, &reply, &a, err, sizeof err), 0);
    LULL_CHECK_EQ_STR(reply ? reply : "", "We have boots in 42.");
    LULL_CHECK_EQ_STR(a.intent, "inquiry");
    LULL_CHECK_EQ_STR(a.extracted ? a.extracted : "", "{\"product_name\":\"boots\"}");
    free(reply);
    worker_analysis_clear(&a);
    struct {
        const char *text, *why;
    } bad[] = {
        {"Sure! Here is your answer.", "not a JSON object"},
        {"[1,2]", "not a JSON object"},
        {"{\"sentiment\":\"neutral\"}", "no reply"},
        {"{\"reply\":42}", "reply is not a string"},
        {"{\"reply\":\"  \"}", "empty reply"},
        {"{\"reply\":\"{\\\"reply\\\":\\\"hi\\\"}\"}", "the reply is itself JSON"},
        {"{\"reply\":\"hi\",\"sentiment\":\"neutral\",\"confidence\":\"high\",\"intent\":\"inquiry\","
         "\"priority\":\"normal\",\"escalate\":false}", "confidence"},
        {"", "no answer"},
        {NULL, "no answer"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        reply = (char *)"untouched";
        err[0] = '\0';
        LULL_CHECK_EQ_INT(worker_combined_parse(bad[i].text, s_fields, &reply, &a, err, sizeof err), -1);
        LULL_CHECK(reply == NULL);
        LULL_CHECK(a.raw == NULL);
        if (!strstr(err, bad[i].why)) LULL_FAIL_AT_("case %zu: '%s' does not say '%s'", i, err, bad[i].why);
    }
}

LULL_TEST(cached_tokens)
{
    const char *oa = "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"hi\"}}],\"usage\":{"
                     "\"prompt_tokens\":1500,\"completion_tokens\":20,\"prompt_tokens_details\":{\"cached_tokens\":1280}}}";
    const char *an = "{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}],\"usage\":{\"input_tokens\":50,"
                     "\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":1200,\"output_tokens\":20}}";
    const char *an_write = "{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}],\"usage\":{\"input_tokens\":50,"
                           "\"cache_creation_input_tokens\":1200,\"output_tokens\":20}}";
    const char *ge = "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"hi\"}]}}],\"usageMetadata\":{"
                     "\"promptTokenCount\":1500,\"candidatesTokenCount\":20,\"cachedContentTokenCount\":1024}}";
    const char *none = "{\"choices\":[{\"message\":{\"content\":\"hi\"}}],\"usage\":{\"prompt_tokens\":10,"
                       "\"completion_tokens\":2,\"prompt_tokens_details\":{\"cached_tokens\":-5}}}";
    worker_llm_result_t r = {0};
    WORKER_OPENAI.parse(oa, strlen(oa), &r);
    LULL_CHECK_EQ_INT(r.tokens_in, 1500);
    LULL_CHECK_EQ_INT(r.tokens_cached, 1280);
    worker_llm_result_clear(&r);
    WORKER_ANTHROPIC.parse(an, strlen(an), &r);
    LULL_CHECK_EQ_INT(r.tokens_in, 1250);  // input_tokens leaves the cached ones out
    LULL_CHECK_EQ_INT(r.tokens_cached, 1200);
    LULL_CHECK_EQ_INT(r.tokens_cache_write, 0);
    worker_llm_result_clear(&r);
    WORKER_ANTHROPIC.parse(an_write, strlen(an_write), &r);
    LULL_CHECK_EQ_INT(r.tokens_in, 1250);
    LULL_CHECK_EQ_INT(r.tokens_cached, 0);
    LULL_CHECK_EQ_INT(r.tokens_cache_write, 1200);
    worker_llm_result_clear(&r);
    WORKER_GEMINI.parse(ge, strlen(ge), &r);
    LULL_CHECK_EQ_INT(r.tokens_in, 1500);
    LULL_CHECK_EQ_INT(r.tokens_cached, 1024);
    worker_llm_result_clear(&r);
    WORKER_OPENAI.parse(none, strlen(none), &r);  // an absurd count is ignored
    LULL_CHECK_EQ_INT(r.tokens_cached, 0);
    worker_llm_result_clear(&r);
}

static bool s_near(double a, double b)
{
    return fabs(a - b) < 1e-12;
}

LULL_TEST(cost_with_cache)
{
    const char *url = getenv("LULL_TEST_DATABASE_URL");
    lull_db_t *db = url ? lull_db_new(url) : NULL;
    LULL_CHECK(db != NULL);
    if (!db) return;
    PGresult *r = lull_db_exec(db,
                               "INSERT INTO llm_prices (provider, model_prefix, input_usd_per_mtok, output_usd_per_mtok,"
                               " cached_input_usd_per_mtok, cache_write_usd_per_mtok) VALUES"
                               " ('anthropic', 'claude-unit', 1.0, 5.0, 0.1, NULL),"
                               " ('openai', 'gpt-unit', 2.0, 8.0, 0.5, NULL),"
                               " ('gemini', 'gemini-unit', 1.0, 4.0, NULL, 3.0)",
                               0, NULL);
    LULL_CHECK(r != NULL);
    PQclear(r);
    worker_prices_t *p = worker_prices_new();
    LULL_CHECK_EQ_INT(worker_prices_load(p, db), 0);
    // Anthropic: 200 uncached at 1.0, 600 cached at 0.1, 200 written at 1.25 × 1.0, 100 out at 5.0
    LULL_CHECK(s_near(worker_prices_cost(p, "anthropic", "claude-unit-1", 1000, 600, 200, 100), 1010e-6));
    // OpenAI: no cache-write surcharge; 400 at 2.0 + 600 at 0.5 + 100 at 8.0
    LULL_CHECK(s_near(worker_prices_cost(p, "openai", "gpt-unit", 1000, 600, 0, 100), 1900e-6));
    LULL_CHECK(s_near(worker_prices_cost(p, "openai", "gpt-unit", 1000, 0, 0, 100), 2800e-6));
    // Gemini: no cached price set (input price), an explicit cache write price
    LULL_CHECK(s_near(worker_prices_cost(p, "gemini", "gemini-unit", 1000, 500, 100, 0), (400 + 500 + 300) * 1e-6));
    // cached and written counts beyond the prompt are clamped
    LULL_CHECK(s_near(worker_prices_cost(p, "openai", "gpt-unit", 100, 500, 500, 0), 50e-6));
    // migration 022 priced the seeded models' cached input
    LULL_CHECK(worker_prices_cost(p, "openai", "gpt-4o-mini", 1000000, 1000000, 0, 0) < 0.15);
    // migration 028 priced the default Gemini model: 1M in (half of it cached) and 1M out
    const char *gemini = s_default("LULL_GEMINI_MODEL");
    LULL_CHECK(gemini && s_near(worker_prices_cost(p, "gemini", gemini, 1000000, 500000, 0, 1000000),
                                0.5 * 0.25 + 0.5 * 0.025 + 1.50));
    worker_prices_destroy(&p);
    r = lull_db_exec(db, "DELETE FROM llm_prices WHERE model_prefix LIKE '%-unit'", 0, NULL);
    PQclear(r);
    lull_db_destroy(&db);
}

LULL_TEST(gemini_default)
{
    // gemini-1.5 and gemini-2.0 are shut down (Gemini API deprecations): the default is a current model, and one
    // that answers a burst in one combined call with tools
    const char *m = s_default("LULL_GEMINI_MODEL");
    LULL_CHECK(m != NULL);
    if (!m) return;
    LULL_CHECK_EQ_STR(m, "gemini-3.1-flash-lite");
    LULL_CHECK(strncmp(m, "gemini-1.", 9) != 0 && strncmp(m, "gemini-2.", 9) != 0);
    LULL_CHECK(worker_combined_capable(2, m, true));
}

LULL_TEST(capable)
{
    LULL_CHECK(worker_combined_capable(0, "gpt-4o-mini", true));
    LULL_CHECK(worker_combined_capable(0, "gpt-5-mini", true));
    LULL_CHECK(!worker_combined_capable(0, "gpt-3.5-turbo", true));
    LULL_CHECK(!worker_combined_capable(0, "gpt-4-turbo", false));
    LULL_CHECK(worker_combined_capable(1, "claude-haiku-4-5", true));
    LULL_CHECK(!worker_combined_capable(2, "gemini-2.0-flash", true));
    LULL_CHECK(worker_combined_capable(2, "gemini-2.0-flash", false));
    LULL_CHECK(worker_combined_capable(2, "gemini-3-pro-preview", true));
}

LULL_TEST(history_budget)
{
    char big[401];
    memset(big, 'x', 400);
    big[400] = '\0';  // 400 bytes: 104 tokens estimated (with the framing)
    worker_hist_t h[6] = {{1, true, big, NULL, NULL}, {2, false, big, NULL, NULL}, {3, true, big, NULL, NULL}, {4, false, big, NULL, NULL}, {5, true, big, NULL, NULL}, {6, true, big, NULL, NULL}};
    LULL_CHECK_EQ_INT(worker_tokens_estimate(big), 104);
    // answered up to 4: messages 5 and 6 are the burst; a budget of 300 tokens fits no older message (208 + 104 > 300)
    LULL_CHECK_EQ_INT((long)worker_history_first(h, 6, 4, 300), 4);
    LULL_CHECK_EQ_INT((long)worker_history_first(h, 6, 4, 320), 3);  // one older message fits, the next does not
    LULL_CHECK_EQ_INT((long)worker_history_first(h, 6, 4, 1000000), 0);  // everything fits
    // the burst always goes, even past the budget
    LULL_CHECK_EQ_INT((long)worker_history_first(h, 6, 0, 100), 0);
    LULL_CHECK_EQ_INT((long)worker_history_first(h, 6, 5, 100), 5);
    LULL_CHECK_EQ_INT((long)worker_history_first(h, 0, 0, 100), 0);
}

// The second validation of the same answer (the job's finish after the chain's check) gives the same results
// as the first, and another tenant's fields are not served from the first one's results.
LULL_TEST(combined_parse_again)
{
    char *r1 = NULL, *r2 = NULL, *r3 = NULL, err[160];
    worker_analysis_t a1, a2, a3;
    LULL_CHECK_EQ_INT(worker_combined_parse(s_good, s_fields, &r1, &a1, err, sizeof err), 0);
    LULL_CHECK_EQ_INT(worker_combined_parse(s_good, s_fields, &r2, &a2, err, sizeof err), 0);
    LULL_CHECK(r1 != r2 && a1.raw != a2.raw);  // the caller's own copies
    LULL_CHECK_EQ_STR(r2 ? r2 : "", r1 ? r1 : "");
    LULL_CHECK_EQ_STR(a2.raw ? a2.raw : "", a1.raw ? a1.raw : "");
    LULL_CHECK_EQ_STR(a2.extracted ? a2.extracted : "", "{\"product_name\":\"boots\"}");
    LULL_CHECK_EQ_INT(worker_combined_parse(s_good, NULL, &r3, &a3, err, sizeof err), 0);
    LULL_CHECK_EQ_STR(a3.extracted ? a3.extracted : "", "{}");
    free(r1);
    free(r2);
    free(r3);
    worker_analysis_clear(&a1);
    worker_analysis_clear(&a2);
    worker_analysis_clear(&a3);
    // A schema text asked for twice is the same text, a caller's own copy.
    char *s1 = worker_combined_schema(s_fields), *s2 = worker_combined_schema(s_fields), *s3 = worker_combined_schema(NULL);
    LULL_CHECK(s1 && s2 && s3 && s1 != s2);
    LULL_CHECK_EQ_STR(s2 ? s2 : "", s1 ? s1 : "");
    LULL_CHECK(s1 && s3 && strstr(s1, "product_name") && !strstr(s3, "product_name"));
    free(s1);
    free(s2);
    free(s3);
}

int main(void)
{
    lull_log_set_level(LULL_LOG_ERROR);
    LULL_RUN(combined_schema);
    LULL_RUN(openai_combined_body);
    LULL_RUN(anthropic_combined_body);
    LULL_RUN(gemini_combined_body);
    LULL_RUN(combined_parse);
    LULL_RUN(combined_parse_again);
    LULL_RUN(cached_tokens);
    LULL_RUN(cost_with_cache);
    LULL_RUN(capable);
    LULL_RUN(gemini_default);
    LULL_RUN(history_budget);
    return lull_test_summary();
}
