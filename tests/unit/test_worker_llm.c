// Unit tests of worker_llm and the three provider adapters: request building from a neutral conversation
// (tools, tool calls and results, analysis), answer parsing (text, tool calls, usage), malformed answers
// and the classification of HTTP errors.
#include "lull_test.h"
#include "lull_json.h"
#include "../../worker/worker_llm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_conv(worker_conv_t *c, worker_mode_t mode)
{
    memset(c, 0, sizeof *c);
    c->mode = mode;
    c->system = "be nice";
    c->model = "m-1";
    c->temperature = 0.5;
    c->max_tokens = 100;
    c->tools = mode == WORKER_MODE_REPLY;
    c->schema = "{\"type\":\"object\",\"properties\":{\"x\":{\"type\":[\"string\",\"null\"]}},\"required\":[\"x\"],"
                "\"additionalProperties\":false}";
    if (worker_conv_add(c, WORKER_ITEM_ASSISTANT, "earlier bot text", NULL, NULL, NULL) != 0 ||
        worker_conv_add(c, WORKER_ITEM_USER, "hi", NULL, NULL, NULL) != 0 ||
        worker_conv_add(c, WORKER_ITEM_USER, "boots?", NULL, NULL, NULL) != 0)
        return;
    if (mode == WORKER_MODE_REPLY &&
        (worker_conv_add(c, WORKER_ITEM_TOOL_CALL, NULL, "c1", "search_inventory", "{\"query\":\"boots\"}") != 0 ||
         worker_conv_add(c, WORKER_ITEM_TOOL_RESULT, "{\"items\":[]}", "c1", "search_inventory", NULL) != 0))
        return;
}

static cJSON *s_build(const worker_provider_t *p, const worker_conv_t *c)
{
    char *body = p->build(c);
    cJSON *j = body ? cJSON_Parse(body) : NULL;
    free(body);
    return j;
}

static char *s_path(cJSON *j, const char *path)  // tiny dotted-path printer for assertions
{
    cJSON *n = j;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok && n; tok = strtok_r(NULL, ".", &save))
        n = cJSON_IsArray(n) ? cJSON_GetArrayItem(n, atoi(tok)) : cJSON_GetObjectItem(n, tok);
    return n ? cJSON_PrintUnformatted(n) : strdup("missing");
}

#define CHECK_PATH(j, path, expected)           \
    do {                                        \
        char *v_ = s_path(j, path);             \
        LULL_CHECK_EQ_STR(v_, expected);        \
        free(v_);                               \
    } while (0)

LULL_TEST(openai_build)
{
    worker_conv_t c;
    s_conv(&c, WORKER_MODE_REPLY);
    cJSON *j = s_build(&WORKER_OPENAI, &c);
    LULL_CHECK(j != NULL);
    CHECK_PATH(j, "messages.0.role", "\"system\"");
    CHECK_PATH(j, "messages.1.role", "\"assistant\"");
    CHECK_PATH(j, "messages.3.content", "\"boots?\"");
    CHECK_PATH(j, "messages.4.tool_calls.0.function.arguments", "\"{\\\"query\\\":\\\"boots\\\"}\"");
    CHECK_PATH(j, "messages.4.content", "missing");
    CHECK_PATH(j, "messages.5.role", "\"tool\"");
    CHECK_PATH(j, "messages.5.tool_call_id", "\"c1\"");
    CHECK_PATH(j, "tools.0.function.name", "\"search_inventory\"");
    CHECK_PATH(j, "tool_choice", "\"auto\"");
    cJSON_Delete(j);
    worker_conv_clear(&c);
    s_conv(&c, WORKER_MODE_ANALYSIS);
    j = s_build(&WORKER_OPENAI, &c);
    CHECK_PATH(j, "response_format.type", "\"json_schema\"");
    CHECK_PATH(j, "response_format.json_schema.strict", "true");
    CHECK_PATH(j, "tools", "missing");
    cJSON_Delete(j);
    worker_conv_clear(&c);
    char url[128], hdrs[WORKER_LLM_MAX_HEADERS][256];
    LULL_CHECK_EQ_INT(WORKER_OPENAI.url("http://h/v1/", "m", url, sizeof url), 0);
    LULL_CHECK_EQ_STR(url, "http://h/v1/chat/completions");
    LULL_CHECK_EQ_INT(WORKER_OPENAI.headers("k", NULL, hdrs), 2);
    LULL_CHECK_EQ_STR(hdrs[0], "Authorization: Bearer k");
}

// Requests today's models accept: max_completion_tokens, no temperature for reasoning models (by prefix,
// overridable), max_tokens for OpenAI-compatible servers that need it; Anthropic's temperature only when the
// tenant chose one, its API version a setting.
LULL_TEST(provider_options)
{
    worker_conv_t c;
    s_conv(&c, WORKER_MODE_REPLY);
    cJSON *j = s_build(&WORKER_OPENAI, &c);
    CHECK_PATH(j, "max_completion_tokens", "100");
    CHECK_PATH(j, "max_tokens", "missing");
    CHECK_PATH(j, "temperature", "0.5");
    cJSON_Delete(j);
    c.model = "gpt-5-mini";
    j = s_build(&WORKER_OPENAI, &c);
    CHECK_PATH(j, "temperature", "missing");
    CHECK_PATH(j, "max_completion_tokens", "100");
    cJSON_Delete(j);
    c.model = "o4-mini";
    LULL_CHECK(worker_llm_is_reasoning(NULL, c.model));
    LULL_CHECK(!worker_llm_is_reasoning(NULL, "gpt-4o-mini"));
    char *prefixes[] = {"my-reasoner"};
    worker_llm_opts_t opts = {true, prefixes, 1, "2099-01-01"};
    c.opts = &opts;
    j = s_build(&WORKER_OPENAI, &c);  // the prefixes replace the defaults: o4-mini is not one of them now
    CHECK_PATH(j, "temperature", "0.5");
    CHECK_PATH(j, "max_tokens", "100");
    CHECK_PATH(j, "max_completion_tokens", "missing");
    cJSON_Delete(j);
    c.model = "my-reasoner-2";
    j = s_build(&WORKER_OPENAI, &c);
    CHECK_PATH(j, "temperature", "missing");
    cJSON_Delete(j);
    j = s_build(&WORKER_ANTHROPIC, &c);
    CHECK_PATH(j, "temperature", "missing");
    CHECK_PATH(j, "max_tokens", "100");
    cJSON_Delete(j);
    c.temperature_set = true;
    c.temperature = 1.5;
    j = s_build(&WORKER_ANTHROPIC, &c);
    CHECK_PATH(j, "temperature", "1");
    cJSON_Delete(j);
    worker_conv_clear(&c);
    char hdrs[WORKER_LLM_MAX_HEADERS][256];
    LULL_CHECK_EQ_INT(WORKER_ANTHROPIC.headers("k", &opts, hdrs), 3);
    LULL_CHECK_EQ_STR(hdrs[1], "anthropic-version: 2099-01-01");
}

LULL_TEST(anthropic_build)
{
    worker_conv_t c;
    s_conv(&c, WORKER_MODE_REPLY);
    cJSON *j = s_build(&WORKER_ANTHROPIC, &c);
    LULL_CHECK(j != NULL);
    CHECK_PATH(j, "system.0.text", "\"be nice\"");
    CHECK_PATH(j, "system.0.cache_control.type", "\"ephemeral\"");  // the cache breakpoint after tools + system
    CHECK_PATH(j, "messages.0.role", "\"user\"");  // a leading assistant turn is dropped
    CHECK_PATH(j, "messages.0.content.1.text", "\"boots?\"");  // consecutive user items merge
    CHECK_PATH(j, "messages.1.content.0.type", "\"tool_use\"");
    CHECK_PATH(j, "messages.1.content.0.input.query", "\"boots\"");
    CHECK_PATH(j, "messages.2.content.0.type", "\"tool_result\"");
    CHECK_PATH(j, "messages.2.content.0.tool_use_id", "\"c1\"");
    CHECK_PATH(j, "tools.0.input_schema.type", "\"object\"");
    cJSON_Delete(j);
    worker_conv_clear(&c);
    // without a system prompt the breakpoint is on the last tool, of this request only: the tool table is
    // shared by every request, so the next one carries it once and the one with a system prompt not at all
    s_conv(&c, WORKER_MODE_REPLY);
    c.system = NULL;
    for (int round = 0; round < 2; round++) {
        j = s_build(&WORKER_ANTHROPIC, &c);
        cJSON *tools = cJSON_GetObjectItemCaseSensitive(j, "tools");
        int n = cJSON_GetArraySize(tools), marks = 0;
        for (int i = 0; i < n; i++) {
            const cJSON *t = cJSON_GetArrayItem(tools, i), *k;
            cJSON_ArrayForEach(k, t) marks += strcmp(k->string, "cache_control") == 0;
        }
        LULL_CHECK(n >= 1);
        LULL_CHECK_EQ_INT(marks, 1);
        LULL_CHECK(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(tools, n - 1), "cache_control") != NULL);
        CHECK_PATH(j, "system", "missing");
        cJSON_Delete(j);
    }
    c.system = "be nice";
    j = s_build(&WORKER_ANTHROPIC, &c);
    cJSON *tools = cJSON_GetObjectItemCaseSensitive(j, "tools");
    LULL_CHECK(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(tools, cJSON_GetArraySize(tools) - 1),
                                                "cache_control") == NULL);
    CHECK_PATH(j, "system.0.cache_control.type", "\"ephemeral\"");
    cJSON_Delete(j);
    worker_conv_clear(&c);
    s_conv(&c, WORKER_MODE_ANALYSIS);
    j = s_build(&WORKER_ANTHROPIC, &c);
    CHECK_PATH(j, "tool_choice.name", "\"" WORKER_ANALYSIS_TOOL "\"");
    CHECK_PATH(j, "tools.0.name", "\"" WORKER_ANALYSIS_TOOL "\"");
    cJSON_Delete(j);
    worker_conv_clear(&c);
    char hdrs[WORKER_LLM_MAX_HEADERS][256];
    LULL_CHECK_EQ_INT(WORKER_ANTHROPIC.headers("k", NULL, hdrs), 3);
    LULL_CHECK_EQ_STR(hdrs[1], "anthropic-version: 2023-06-01");
}

LULL_TEST(gemini_build)
{
    worker_conv_t c;
    s_conv(&c, WORKER_MODE_REPLY);
    cJSON *j = s_build(&WORKER_GEMINI, &c);
    LULL_CHECK(j != NULL);
    CHECK_PATH(j, "systemInstruction.parts.0.text", "\"be nice\"");
    CHECK_PATH(j, "contents.0.role", "\"user\"");
    CHECK_PATH(j, "contents.1.role", "\"model\"");
    CHECK_PATH(j, "contents.1.parts.0.functionCall.name", "\"search_inventory\"");
    CHECK_PATH(j, "contents.2.parts.0.functionResponse.response", "{\"items\":[]}");
    CHECK_PATH(j, "tools.0.functionDeclarations.0.parameters.additionalProperties", "missing");
    CHECK_PATH(j, "generationConfig.maxOutputTokens", "100");
    cJSON_Delete(j);
    worker_conv_clear(&c);
    s_conv(&c, WORKER_MODE_ANALYSIS);
    j = s_build(&WORKER_GEMINI, &c);
    CHECK_PATH(j, "generationConfig.responseMimeType", "\"application/json\"");
    CHECK_PATH(j, "generationConfig.responseSchema.properties.x.type", "\"STRING\"");  // the Type enum's name
    CHECK_PATH(j, "generationConfig.responseSchema.type", "\"OBJECT\"");
    CHECK_PATH(j, "generationConfig.responseSchema.properties.x.nullable", "true");
    cJSON_Delete(j);
    worker_conv_clear(&c);
    char url[128];
    LULL_CHECK_EQ_INT(WORKER_GEMINI.url("http://h/v1beta", "gemini-3.1-flash-lite", url, sizeof url), 0);
    LULL_CHECK_EQ_STR(url, "http://h/v1beta/models/gemini-3.1-flash-lite:generateContent");
    LULL_CHECK_EQ_INT(WORKER_GEMINI.url("http://h", "../admin?x", url, sizeof url), -1);
}

static void s_parse(const worker_provider_t *p, const char *body, worker_llm_result_t *r)
{
    memset(r, 0, sizeof *r);
    p->parse(body, strlen(body), r);
}

LULL_TEST(parse_answers)
{
    worker_llm_result_t r;
    s_parse(&WORKER_OPENAI, "{\"choices\":[{\"message\":{\"content\":\"hello\"}}],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3}}", &r);
    LULL_CHECK(r.cls == WORKER_LLM_OK && r.text && strcmp(r.text, "hello") == 0);
    LULL_CHECK(r.tokens_in == 7 && r.tokens_out == 3);
    worker_llm_result_clear(&r);
    s_parse(&WORKER_OPENAI, "{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[{\"id\":\"a\",\"function\":{\"name\":\"search_inventory\",\"arguments\":\"{}\"}}]}}]}", &r);
    LULL_CHECK(r.cls == WORKER_LLM_OK && r.ncalls == 1 && strcmp(r.calls[0].id, "a") == 0);
    worker_llm_result_clear(&r);
    s_parse(&WORKER_ANTHROPIC, "{\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"},"
                               "{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"search_inventory\",\"input\":{\"query\":\"x\"}}],"
                               "\"usage\":{\"input_tokens\":5,\"output_tokens\":2}}", &r);
    LULL_CHECK(r.cls == WORKER_LLM_OK && r.text && strcmp(r.text, "ab") == 0 && r.ncalls == 1);
    LULL_CHECK(strcmp(r.calls[0].args, "{\"query\":\"x\"}") == 0 && r.tokens_in == 5);
    worker_llm_result_clear(&r);
    s_parse(&WORKER_ANTHROPIC, "{\"content\":[{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"" WORKER_ANALYSIS_TOOL "\",\"input\":{\"k\":1}}]}", &r);
    LULL_CHECK(r.cls == WORKER_LLM_OK && r.text && strcmp(r.text, "{\"k\":1}") == 0 && r.ncalls == 0);
    worker_llm_result_clear(&r);
    s_parse(&WORKER_GEMINI, "{\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"search_inventory\",\"args\":{\"query\":\"b\"}}}]}}],"
                            "\"usageMetadata\":{\"promptTokenCount\":9,\"candidatesTokenCount\":4}}", &r);
    LULL_CHECK(r.cls == WORKER_LLM_OK && r.ncalls == 1 && strcmp(r.calls[0].id, "call_1") == 0 && r.tokens_out == 4);
    worker_llm_result_clear(&r);
}

LULL_TEST(parse_malformed)
{
    const char *bad[] = {"", "not json", "{\"choices\":[]}", "{\"choices\":[{\"message\":{}}]}", "{\"content\":\"x\"}",
                         "{\"candidates\":[]}", "[1]", "{\"choices\":[{\"message\":{\"content\":5}}]}", "{\"truncated\":"};
    const worker_provider_t *ps[] = {&WORKER_OPENAI, &WORKER_ANTHROPIC, &WORKER_GEMINI};
    for (size_t p = 0; p < 3; p++)
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            worker_llm_result_t r;
            s_parse(ps[p], bad[i], &r);
            LULL_CHECK(r.cls == WORKER_LLM_NEXT);
            LULL_CHECK(strstr(r.error, "malformed") != NULL);
            worker_llm_result_clear(&r);
        }
}

LULL_TEST(classify)
{
    char err[128];
    LULL_CHECK(worker_llm_classify(0, NULL, 0, err, sizeof err) == WORKER_LLM_RETRY);
    LULL_CHECK(worker_llm_classify(429, "{}", 2, err, sizeof err) == WORKER_LLM_RETRY);
    const char *quota = "{\"error\":{\"code\":\"insufficient_quota\"}}";
    LULL_CHECK(worker_llm_classify(429, quota, strlen(quota), err, sizeof err) == WORKER_LLM_NEXT);
    LULL_CHECK(strstr(err, "insufficient_quota") != NULL);
    LULL_CHECK(worker_llm_classify(500, NULL, 0, err, sizeof err) == WORKER_LLM_RETRY);
    LULL_CHECK(worker_llm_classify(503, NULL, 0, err, sizeof err) == WORKER_LLM_RETRY);
    LULL_CHECK(worker_llm_classify(529, NULL, 0, err, sizeof err) == WORKER_LLM_RETRY);
    LULL_CHECK(worker_llm_classify(408, NULL, 0, err, sizeof err) == WORKER_LLM_RETRY);
    LULL_CHECK(worker_llm_classify(400, NULL, 0, err, sizeof err) == WORKER_LLM_NEXT);
    LULL_CHECK(worker_llm_classify(401, NULL, 0, err, sizeof err) == WORKER_LLM_NEXT);
    LULL_CHECK(worker_llm_classify(403, NULL, 0, err, sizeof err) == WORKER_LLM_NEXT);
    LULL_CHECK(worker_llm_classify(404, NULL, 0, err, sizeof err) == WORKER_LLM_NEXT);
    LULL_CHECK(worker_provider_find("openai") == &WORKER_OPENAI);
    LULL_CHECK(worker_provider_find("mistral") == NULL);
}

LULL_TEST(conv_limits)
{
    worker_conv_t c;
    memset(&c, 0, sizeof c);
    for (int i = 0; i < WORKER_LLM_MAX_ITEMS; i++) LULL_CHECK_EQ_INT(worker_conv_add(&c, WORKER_ITEM_USER, "x", NULL, NULL, NULL), 0);
    LULL_CHECK_EQ_INT(worker_conv_add(&c, WORKER_ITEM_USER, "x", NULL, NULL, NULL), -1);
    worker_conv_clear(&c);
    LULL_CHECK_EQ_INT((int)c.nitems, 0);
    worker_llm_result_t r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < WORKER_LLM_MAX_CALLS; i++) LULL_CHECK_EQ_INT(worker_llm_result_add_call(&r, NULL, "t", NULL), 0);
    LULL_CHECK_EQ_INT(worker_llm_result_add_call(&r, NULL, "t", NULL), -1);
    worker_llm_result_clear(&r);
}

// Every provider's body is written by hand after a cached head: it must be exactly what cJSON prints for the
// same document (parse and print again gives the same bytes), whatever the texts hold, and the head must follow
// every setting it depends on (a cached head of other settings never comes back).
static void s_check_reprint_of(const worker_provider_t *p, const worker_conv_t *c)
{
    char *body = p->build(c);
    cJSON *j = body ? cJSON_Parse(body) : NULL;
    char *again = j ? cJSON_PrintUnformatted(j) : NULL;
    LULL_CHECK(again != NULL);
    if (again) LULL_CHECK_EQ_STR(body, again);
    free(again);
    cJSON_Delete(j);
    free(body);
}

static void s_check_reprint(const worker_conv_t *c)
{
    for (int p = 0; p < WORKER_NPROVIDERS; p++) s_check_reprint_of(WORKER_PROVIDERS[p], c);
}

LULL_TEST(body_bytes_of_every_provider)
{
    worker_llm_opts_t legacy = {.openai_max_tokens = true};
    for (int mode = WORKER_MODE_REPLY; mode <= WORKER_MODE_COMBINED; mode++) {
        worker_conv_t c;
        s_conv(&c, (worker_mode_t)mode);
        c.system = "quote \" backslash \\ slash / tab \t nl \n cr \r bell \a del \x7f caf\xc3\xa9 \xe2\x82\xac";
        c.cache_key = "lull-t\"7";
        LULL_CHECK(worker_conv_add(&c, WORKER_ITEM_USER, "\x01\x1f end", NULL, NULL, NULL) == 0);
        LULL_CHECK(worker_conv_add(&c, WORKER_ITEM_IMAGE, "aGk=", NULL, "image/png", NULL) == 0);
        LULL_CHECK(worker_conv_add(&c, WORKER_ITEM_TOOL_CALL, NULL, "c\"2", "search_inventory", "{\"q\":\"a\\\"b\"}") == 0);
        LULL_CHECK(worker_conv_add(&c, WORKER_ITEM_TOOL_CALL, NULL, NULL, NULL, NULL) == 0);
        LULL_CHECK(worker_conv_add(&c, WORKER_ITEM_TOOL_RESULT, NULL, NULL, NULL, NULL) == 0);
        LULL_CHECK(worker_conv_add(&c, WORKER_ITEM_ASSISTANT, "", NULL, NULL, NULL) == 0);
        s_check_reprint(&c);
        c.tool_choice_none = true;
        c.opts = &legacy;
        s_check_reprint(&c);
        c.system = NULL;
        c.cache_key = NULL;
        s_check_reprint(&c);
        worker_conv_clear(&c);
    }
    worker_conv_t c;
    s_conv(&c, WORKER_MODE_COMBINED);
    cJSON *j = s_build(&WORKER_OPENAI, &c);
    CHECK_PATH(j, "temperature", "0.5");
    CHECK_PATH(j, "max_completion_tokens", "100");
    cJSON_Delete(j);
    c.temperature = 0.25;
    c.max_tokens = 77;
    j = s_build(&WORKER_OPENAI, &c);
    CHECK_PATH(j, "temperature", "0.25");
    CHECK_PATH(j, "max_completion_tokens", "77");
    CHECK_PATH(j, "response_format.json_schema.schema.required", "[\"x\"]");
    cJSON_Delete(j);
    c.schema = "{\"type\":\"object\",\"properties\":{},\"required\":[],\"additionalProperties\":false}";
    c.model = "o3-mini";
    j = s_build(&WORKER_OPENAI, &c);
    CHECK_PATH(j, "response_format.json_schema.schema.required", "[]");
    CHECK_PATH(j, "temperature", "missing");
    CHECK_PATH(j, "model", "\"o3-mini\"");
    cJSON_Delete(j);
    worker_conv_clear(&c);
}

static int s_heads_made;

static char *s_make_head(const worker_conv_t *conv)
{
    (void)conv;
    char buf[32];
    snprintf(buf, sizeof buf, "head %d", ++s_heads_made);
    return strdup(buf);
}

// A kept head is found again by the same parts only: parts whose bytes run together alike ("a\x01b" + "c" and
// "a" + "b\x01c"; a NULL part and an empty one) are different settings, so they get heads of their own.
LULL_TEST(heads_are_keyed_by_their_parts)
{
    const char *p1[] = {"a\001b", "c"}, *p2[] = {"a", "b\001c"}, *p3[] = {NULL, "c"}, *p4[] = {"", "c"};
    char h1[32], h2[32], h3[32], h4[32];
    snprintf(h1, sizeof h1, "%s", worker_llm_head(1, p1, 2, s_make_head, NULL));
    snprintf(h2, sizeof h2, "%s", worker_llm_head(1, p2, 2, s_make_head, NULL));
    snprintf(h3, sizeof h3, "%s", worker_llm_head(1, p3, 2, s_make_head, NULL));
    snprintf(h4, sizeof h4, "%s", worker_llm_head(1, p4, 2, s_make_head, NULL));
    LULL_CHECK(strcmp(h1, h2) != 0 && strcmp(h1, h3) != 0 && strcmp(h1, h4) != 0 && strcmp(h2, h3) != 0 &&
               strcmp(h2, h4) != 0 && strcmp(h3, h4) != 0);
    LULL_CHECK_EQ_STR(worker_llm_head(1, p1, 2, s_make_head, NULL), h1);  // the same parts: kept, not made again
    LULL_CHECK_EQ_INT(s_heads_made, 4);
}

int main(void)
{
    LULL_RUN(openai_build);
    LULL_RUN(provider_options);
    LULL_RUN(body_bytes_of_every_provider);
    LULL_RUN(heads_are_keyed_by_their_parts);
    LULL_RUN(anthropic_build);
    LULL_RUN(gemini_build);
    LULL_RUN(parse_answers);
    LULL_RUN(parse_malformed);
    LULL_RUN(classify);
    LULL_RUN(conv_limits);
    return lull_test_summary();
}
