// Unit tests of lull_log: line format, escaping, levels, file output and reopen.
#include "lull_test.h"
#include "lull_log.h"
#include "lull_json.h"

#include <stdlib.h>
#include <unistd.h>

LULL_TEST(format_is_one_json_object)
{
    char buf[1024];
    int n = lull_log_format(buf, sizeof buf, 1795411396123LL, LULL_LOG_INFO, "llm.done", "done \"ok\"\n",
                            "conv", LI(812), "provider", LS("openai"), "ratio", LD(0.5), "ok", LB(true),
                            "raw", LJ("{\"a\":1}"), (const char *)NULL);
    LULL_CHECK_EQ_INT(n, (int)strlen(buf));
    LULL_CHECK(strncmp(buf, "{\"ts\":\"2026-11-23T", 18) == 0);
    char err[128];
    cJSON *j = lull_json_parse(buf, (size_t)n, 8, err, sizeof err);
    LULL_CHECK(j != NULL);
    LULL_CHECK_EQ_STR(cJSON_GetObjectItem(j, "lvl")->valuestring, "info");
    LULL_CHECK_EQ_STR(cJSON_GetObjectItem(j, "ev")->valuestring, "llm.done");
    LULL_CHECK_EQ_STR(cJSON_GetObjectItem(j, "msg")->valuestring, "done \"ok\"\n");
    LULL_CHECK_EQ_INT(cJSON_GetObjectItem(j, "conv")->valuedouble, 812);
    LULL_CHECK_EQ_INT(cJSON_GetObjectItem(j, "pid")->valuedouble, getpid());
    LULL_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")));
    LULL_CHECK_EQ_INT(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "raw"), "a")->valuedouble, 1);
    cJSON_Delete(j);
}

LULL_TEST(control_bytes_escaped_and_truncation_stays_json)
{
    char big[4000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    big[5] = '\x01';
    char buf[512];
    int n = lull_log_format(buf, sizeof buf, 0, LULL_LOG_WARN, "ev", big, (const char *)NULL);
    LULL_CHECK(n < (int)sizeof buf);
    LULL_CHECK(buf[n - 1] == '}');
    LULL_CHECK(strstr(buf, "\\u0001") != NULL);
}

// Found by fuzz_common: a line cut short inside a string, or holding bytes that are not UTF-8, was not JSON.
LULL_TEST(long_fields_and_bad_utf8_stay_json)
{
    char big[700];
    memset(big, '"', sizeof big - 1);  // each byte escaped to two
    big[sizeof big - 1] = '\0';
    char err[128];
    for (int cap = 40; cap <= 2048; cap += 7) {
        char buf[2048];
        int n = lull_log_format(buf, cap, 0, LULL_LOG_WARN, "ev", "m\xc3\xa9 \xff\xc0\xaf \xed\xa0\x80 \xe2\x82",
                                "a", LS(big), "n", LI(7), "b", LS(big), (const char *)NULL);
        LULL_CHECK(n > 0 && n < cap && n == (int)strlen(buf));
        cJSON *j = lull_json_parse(buf, (size_t)n, 8, err, sizeof err);
        LULL_CHECK(cJSON_IsObject(j));
        if (cap >= 200) LULL_CHECK(cJSON_GetObjectItem(j, "msg") != NULL);
        if (cap < 1500) LULL_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "truncated")));
        if (cap >= 200) LULL_CHECK_EQ_STR(cJSON_GetObjectItem(j, "msg")->valuestring,
                                          "m\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd");
        cJSON_Delete(j);
    }
    char buf[4096];
    int n = lull_log_format(buf, sizeof buf, 0, LULL_LOG_INFO, "ev", "short", "a", LS("x"), (const char *)NULL);
    LULL_CHECK(strstr(buf, "truncated") == NULL && buf[n - 1] == '}');
}

LULL_TEST(levels)
{
    LULL_CHECK_EQ_INT(lull_log_level_parse("debug"), LULL_LOG_DEBUG);
    LULL_CHECK_EQ_INT(lull_log_level_parse("error"), LULL_LOG_ERROR);
    LULL_CHECK_EQ_INT(lull_log_level_parse("loud"), -1);
    LULL_CHECK_EQ_INT(lull_log_level_parse(NULL), -1);
}

LULL_TEST(file_output_level_filter_and_reopen)
{
    char path[] = "/tmp/lull_test_log_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    LULL_CHECK_EQ_INT(lull_log_open("unit", path, LULL_LOG_INFO), 0);
    LOG_DEBUG("hidden", "not written");
    LOG_INFO("shown", "written", "conv", LI(1));
    char moved[64];
    snprintf(moved, sizeof moved, "%s.1", path);
    LULL_CHECK_EQ_INT(rename(path, moved), 0);
    LOG_INFO("after.rename", "goes to the moved file");
    LULL_CHECK_EQ_INT(lull_log_reopen(), 0);
    LOG_ERROR("after.reopen", "goes to the new file");
    lull_log_close();
    char buf[4096] = "";
    FILE *f = fopen(moved, "r");
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    LULL_CHECK(strstr(buf, "\"ev\":\"hidden\"") == NULL);
    LULL_CHECK(strstr(buf, "\"ev\":\"shown\"") != NULL);
    LULL_CHECK(strstr(buf, "\"ev\":\"after.rename\"") != NULL);
    LULL_CHECK(strstr(buf, "\"proc\":\"unit\"") != NULL);
    f = fopen(path, "r");
    LULL_CHECK(f != NULL);
    n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    LULL_CHECK(strstr(buf, "\"ev\":\"after.reopen\"") != NULL);
    LULL_CHECK(strstr(buf, "\"lvl\":\"error\"") != NULL);
    unlink(path);
    unlink(moved);
}

int main(void)
{
    LULL_RUN(format_is_one_json_object);
    LULL_RUN(control_bytes_escaped_and_truncation_stays_json);
    LULL_RUN(long_fields_and_bad_utf8_stay_json);
    LULL_RUN(levels);
    LULL_RUN(file_output_level_filter_and_reopen);
    return lull_test_summary();
}
