// Unit tests of worker_analysis: the strict schema with tenant fields, validation of good, partial and
// malformed answers.
#include "lull_test.h"
#include "lull_json.h"
#include "../../worker/worker_analysis.h"

#include <stdlib.h>

static const char *FIELDS = "[{\"name\":\"product_name\",\"description\":\"product\"},{\"name\":\"bad name!\"},{\"x\":1}]";

LULL_TEST(schema)
{
    char *s = worker_analysis_schema(FIELDS);
    LULL_CHECK(s != NULL);
    cJSON *j = cJSON_Parse(s);
    LULL_CHECK(j != NULL);
    const cJSON *props = cJSON_GetObjectItem(j, "properties");
    LULL_CHECK(cJSON_GetObjectItem(props, "sentiment") && cJSON_GetObjectItem(props, "entities"));
    LULL_CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "required")), cJSON_GetArraySize(props));
    LULL_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(j, "additionalProperties")));
    const cJSON *ext = cJSON_GetObjectItem(cJSON_GetObjectItem(props, "extracted"), "properties");
    LULL_CHECK_EQ_INT(cJSON_GetArraySize(ext), 1);  // invalid field entries skipped
    LULL_CHECK(cJSON_GetObjectItem(ext, "product_name") != NULL);
    cJSON_Delete(j);
    free(s);
    s = worker_analysis_schema("not json");
    LULL_CHECK(s != NULL);
    free(s);
}

LULL_TEST(valid_answer)
{
    worker_analysis_t a;
    char err[160];
    const char *ans = "{\"sentiment\":\"negative\",\"confidence\":0.8,\"intent\":\"complaint\",\"priority\":\"high\","
                      "\"escalate\":true,\"escalate_reason\":\"wants a manager\",\"entities\":{\"names\":[\"Ann\",5],"
                      "\"emails\":[\"a@b.c\"],\"phones\":[],\"order_numbers\":[\"123\"]},\"moderation\":{\"flagged\":false,"
                      "\"categories\":[]},\"extracted\":{\"product_name\":\"boots\",\"other\":\"x\"}}";
    LULL_CHECK_EQ_INT(worker_analysis_parse(ans, FIELDS, &a, err, sizeof err), 0);
    LULL_CHECK_EQ_STR(a.sentiment, "negative");
    LULL_CHECK_EQ_STR(a.intent, "complaint");
    LULL_CHECK_EQ_STR(a.priority, "high");
    LULL_CHECK(a.escalate && a.confidence > 0.79 && a.confidence < 0.81);
    LULL_CHECK_EQ_STR(a.escalate_reason, "wants a manager");
    LULL_CHECK(strstr(a.entities, "\"names\":[\"Ann\"]") != NULL);  // the number was dropped
    LULL_CHECK_EQ_STR(a.extracted, "{\"product_name\":\"boots\"}");  // unknown field dropped
    LULL_CHECK(a.raw && strstr(a.raw, "\"sentiment\":\"negative\""));
    worker_analysis_clear(&a);
    // optional parts missing → defaults
    LULL_CHECK_EQ_INT(worker_analysis_parse("{\"sentiment\":\"neutral\",\"confidence\":1,\"intent\":\"other\","
                                            "\"priority\":\"low\",\"escalate\":false}", NULL, &a, err, sizeof err), 0);
    LULL_CHECK_EQ_STR(a.escalate_reason, "");
    LULL_CHECK_EQ_STR(a.extracted, "{}");
    worker_analysis_clear(&a);
}

LULL_TEST(malformed_answers)
{
    worker_analysis_t a;
    char err[160];
    const char *bad[] = {
        NULL, "", "not json", "[1,2]", "{\"sentiment\":\"neutral\"}",
        "{\"sentiment\":\"furious\",\"confidence\":0.5,\"intent\":\"other\",\"priority\":\"low\",\"escalate\":false}",
        "{\"sentiment\":\"neutral\",\"confidence\":1.5,\"intent\":\"other\",\"priority\":\"low\",\"escalate\":false}",
        "{\"sentiment\":\"neutral\",\"confidence\":0.5,\"intent\":\"other\",\"priority\":\"low\",\"escalate\":\"yes\"}",
        "{\"sentiment\":\"neutral\",\"confidence\":0.5,\"intent\":\"shopping\",\"priority\":\"low\",\"escalate\":false}",
        "{\"sentiment\":\"neutral\",\"confidence\":0.5,\"intent\":\"other\",\"priority\":\"low\",\"escalate\":false,\"entities\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        LULL_CHECK_EQ_INT(worker_analysis_parse(bad[i], FIELDS, &a, err, sizeof err), -1);
        LULL_CHECK(err[0] != '\0');
        LULL_CHECK(a.raw == NULL && a.entities == NULL);
    }
}

// The parts are written without cJSON trees: each must be what cJSON prints for it (parse and print again: the
// same bytes), escapes, dropped entries, numbers and the tenant's fields included.
LULL_TEST(parts_bytes)
{
    const char *answers[] = {
        "{\"sentiment\":\"negative\",\"confidence\":0.8,\"intent\":\"complaint\",\"priority\":\"high\",\"escalate\":true,"
        "\"escalate_reason\":\"wants \\\"a\\\" manager\\n\\u0001 caf\\u00e9 /\",\"entities\":{\"names\":[\"Ann\",5,\"\",\"B\\\\o\"],"
        "\"phones\":[\"+1\"]},\"moderation\":{\"flagged\":true,\"categories\":[\"x\",\"y/z\"]},"
        "\"extracted\":{\"product_name\":\"boots \\\"x\\\"\",\"size\":7}}",
        "{\"sentiment\":\"neutral\",\"confidence\":0.1234567890123456789,\"intent\":\"other\",\"priority\":\"low\",\"escalate\":false}",
        "{\"sentiment\":\"neutral\",\"confidence\":1,\"intent\":\"other\",\"priority\":\"low\",\"escalate\":false,\"moderation\":{}}",
        "{\"sentiment\":\"neutral\",\"confidence\":0.3,\"intent\":\"other\",\"priority\":\"low\",\"escalate\":false}",
    };
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        worker_analysis_t a;
        char err[160];
        LULL_CHECK_EQ_INT(worker_analysis_parse(answers[i], FIELDS, &a, err, sizeof err), 0);
        const char *parts[] = {a.entities, a.moderation, a.extracted, a.raw};
        for (size_t k = 0; k < 4; k++) {
            cJSON *j = parts[k] ? cJSON_Parse(parts[k]) : NULL;
            char *again = j ? cJSON_PrintUnformatted(j) : NULL;
            LULL_CHECK(again != NULL);
            if (again) LULL_CHECK_EQ_STR(parts[k], again);
            free(again);
            cJSON_Delete(j);
        }
        worker_analysis_clear(&a);
    }
}

int main(void)
{
    LULL_RUN(schema);
    LULL_RUN(valid_answer);
    LULL_RUN(parts_bytes);
    LULL_RUN(malformed_answers);
    return lull_test_summary();
}
