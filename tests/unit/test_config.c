// Unit tests of lull_config: parsing, bounds, errors, masking, help output.
#include "lull_test.h"
#include "lull_config.h"

#include <stdlib.h>

typedef struct {
    lull_common_cfg_t common;
    int64_t n;
    bool flag;
    double ratio;
    char *secret;
} t_cfg_t;

static const lull_setting_t s_table[] = {
    LULL_COMMON_SETTINGS(t_cfg_t, "9999"),
    {"LULL_T_N", LULL_CFG_INT, "5", "a number", false, 1, 10, offsetof(t_cfg_t, n)},
    {"LULL_T_FLAG", LULL_CFG_BOOL, "no", "a flag", false, 0, 0, offsetof(t_cfg_t, flag)},
    {"LULL_T_RATIO", LULL_CFG_DOUBLE, "0.5", "a ratio", false, 0, 1, offsetof(t_cfg_t, ratio)},
    {"LULL_T_SECRET", LULL_CFG_STR, "", "a secret", true, 0, 0, offsetof(t_cfg_t, secret)},
};
#define N (sizeof s_table / sizeof s_table[0])

static int s_load(t_cfg_t *c, char *err, size_t len)
{
    FILE *f = fmemopen(err, len, "w");
    int rc = lull_config_load(s_table, N, c, "test", f);
    fclose(f);
    return rc;
}

LULL_TEST(defaults)
{
    unsetenv("LULL_T_N");
    unsetenv("LULL_T_FLAG");
    unsetenv("LULL_T_RATIO");
    unsetenv("LULL_OPS_PORT");
    t_cfg_t c = {0};
    char err[256] = "";
    LULL_CHECK_EQ_INT(s_load(&c, err, sizeof err), 0);
    LULL_CHECK_EQ_INT(c.n, 5);
    LULL_CHECK(!c.flag);
    LULL_CHECK(c.ratio == 0.5);
    LULL_CHECK_EQ_INT(c.common.ops_port, 9999);
    LULL_CHECK_EQ_STR(c.common.log_level, "info");
    lull_config_free(s_table, N, &c);
    LULL_CHECK(c.common.log_level == NULL);
}

LULL_TEST(values_from_environment)
{
    setenv("LULL_T_N", "7", 1);
    setenv("LULL_T_FLAG", "ON", 1);
    setenv("LULL_T_RATIO", "0.25", 1);
    t_cfg_t c = {0};
    char err[256] = "";
    LULL_CHECK_EQ_INT(s_load(&c, err, sizeof err), 0);
    LULL_CHECK_EQ_INT(c.n, 7);
    LULL_CHECK(c.flag);
    LULL_CHECK(c.ratio == 0.25);
    lull_config_free(s_table, N, &c);
    unsetenv("LULL_T_N");
    unsetenv("LULL_T_FLAG");
    unsetenv("LULL_T_RATIO");
}

static void s_expect_error(const char *name, const char *value, const char *fragment)
{
    setenv(name, value, 1);
    t_cfg_t c = {0};
    char err[256] = "";
    LULL_CHECK_EQ_INT(s_load(&c, err, sizeof err), -1);
    LULL_CHECK(strstr(err, name) != NULL);
    LULL_CHECK(strstr(err, fragment) != NULL);
    LULL_CHECK(strchr(err, '\n') == err + strlen(err) - 1);  // exactly one line
    lull_config_free(s_table, N, &c);
    unsetenv(name);
}

LULL_TEST(invalid_values_name_the_setting)
{
    s_expect_error("LULL_T_N", "abc", "expected an integer");
    s_expect_error("LULL_T_N", "11", "out of range");
    s_expect_error("LULL_T_N", "", "expected an integer");
    s_expect_error("LULL_T_N", "5x", "expected an integer");
    s_expect_error("LULL_T_FLAG", "maybe", "expected 1/0");
    s_expect_error("LULL_T_RATIO", "2", "out of range");
    s_expect_error("LULL_T_RATIO", "nan", "expected a number");
    s_expect_error("LULL_OPS_PORT", "70000", "out of range");
}

LULL_TEST(mask)
{
    char *m = lull_config_mask("postgresql://lull:hunter2@db.example:5432/lull");
    LULL_CHECK_EQ_STR(m, "postgresql://lull:***@db.example:5432/lull");
    free(m);
    m = lull_config_mask("postgresql://lull@127.0.0.1:5432/lull");
    LULL_CHECK_EQ_STR(m, "postgresql://lull@127.0.0.1:5432/lull");
    free(m);
    m = lull_config_mask("sk-abcdef");
    LULL_CHECK_EQ_STR(m, "***");
    free(m);
    m = lull_config_mask("");
    LULL_CHECK_EQ_STR(m, "");
    free(m);
}

LULL_TEST(main_handles_help_and_bad_arguments)
{
    t_cfg_t c = {0};
    int code = -5;
    char *help[] = {"prog", "--help", NULL};
    FILE *saved = stdout;
    stdout = fopen("/dev/null", "w");
    LULL_CHECK_EQ_INT(lull_config_main(2, help, s_table, N, &c, "prog", "about", &code), -1);
    LULL_CHECK_EQ_INT(code, 0);
    char *md[] = {"prog", "--help-markdown", NULL};
    LULL_CHECK_EQ_INT(lull_config_main(2, md, s_table, N, &c, "prog", "about", &code), -1);
    LULL_CHECK_EQ_INT(code, 0);
    fclose(stdout);
    stdout = saved;
    FILE *saved_err = stderr;
    stderr = fopen("/dev/null", "w");
    char *bad[] = {"prog", "--frobnicate", NULL};
    LULL_CHECK_EQ_INT(lull_config_main(2, bad, s_table, N, &c, "prog", "about", &code), -1);
    LULL_CHECK_EQ_INT(code, 64);
    setenv("LULL_T_N", "0", 1);
    char *none[] = {"prog", NULL};
    LULL_CHECK_EQ_INT(lull_config_main(1, none, s_table, N, &c, "prog", "about", &code), -1);
    LULL_CHECK_EQ_INT(code, LULL_EXIT_CONFIG);
    unsetenv("LULL_T_N");
    fclose(stderr);
    stderr = saved_err;
    LULL_CHECK_EQ_INT(lull_config_main(1, none, s_table, N, &c, "prog", "about", &code), 0);
    lull_config_free(s_table, N, &c);
}

LULL_TEST(help_lists_every_setting)
{
    char buf[8192] = "";
    FILE *f = fmemopen(buf, sizeof buf, "w");
    lull_config_print_help(s_table, N, "prog", "about text", f);
    fclose(f);
    for (size_t i = 0; i < N; i++) LULL_CHECK(strstr(buf, s_table[i].name) != NULL);
    LULL_CHECK(strstr(buf, "about text") != NULL);
    memset(buf, 0, sizeof buf);
    f = fmemopen(buf, sizeof buf, "w");
    lull_config_print_markdown(s_table, N, f);
    fclose(f);
    LULL_CHECK(strncmp(buf, "| setting | type | default | meaning |", 38) == 0);
    LULL_CHECK(strstr(buf, "| `LULL_T_N` | integer | `5` | a number |") != NULL);
}

LULL_TEST(to_json_masks_secrets)
{
    setenv("LULL_T_SECRET", "sk-very-secret", 1);
    setenv("LULL_DATABASE_URL", "postgresql://lull:hunter2@db.example/lull", 1);
    setenv("LULL_T_N", "7", 1);
    t_cfg_t c = {0};
    char err[256] = "";
    LULL_CHECK_EQ_INT(s_load(&c, err, sizeof err), 0);
    char *j = lull_config_to_json(s_table, N, &c);
    LULL_CHECK(j != NULL);
    LULL_CHECK(j && strstr(j, "\"LULL_T_N\":\"7\"") != NULL);
    LULL_CHECK(j && strstr(j, "\"LULL_T_SECRET\":\"***\"") != NULL);
    LULL_CHECK(j && !strstr(j, "sk-very-secret"));
    LULL_CHECK(j && !strstr(j, "hunter2") && strstr(j, "db.example"));
    free(j);
    lull_config_free(s_table, N, &c);
    unsetenv("LULL_T_SECRET");
    unsetenv("LULL_DATABASE_URL");
    unsetenv("LULL_T_N");
}

int main(void)
{
    LULL_RUN(defaults);
    LULL_RUN(values_from_environment);
    LULL_RUN(invalid_values_name_the_setting);
    LULL_RUN(mask);
    LULL_RUN(to_json_masks_secrets);
    LULL_RUN(main_handles_help_and_bad_arguments);
    LULL_RUN(help_lists_every_setting);
    return lull_test_summary();
}
