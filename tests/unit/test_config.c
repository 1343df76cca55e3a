// Unit tests of lull_config: parsing, bounds, errors, masking, help output.
#include "lull_test.h"
#include "lull_config.h"
#include "../../ingress/ingress_config.h"
#include "../../scheduler/sched_config.h"
#include "../../sender/sender_config.h"
#include "../../worker/worker_config.h"

#include <stdlib.h>

typedef struct {
    lull_common_cfg_t common;
    int64_t n;
    bool flag;
    double ratio;
    char *secret;
    lull_cfg_list_t eps;  // 1 to 3 items
    lull_cfg_list_t opt;  // any number, may be empty
} t_cfg_t;

static const lull_setting_t s_table[] = {
    LULL_COMMON_SETTINGS(t_cfg_t, "9999"),
    {"LULL_T_N", LULL_CFG_INT, "5", "a number", false, 1, 10, offsetof(t_cfg_t, n)},
    {"LULL_T_FLAG", LULL_CFG_BOOL, "no", "a flag", false, 0, 0, offsetof(t_cfg_t, flag)},
    {"LULL_T_RATIO", LULL_CFG_DOUBLE, "0.5", "a ratio", false, 0, 1, offsetof(t_cfg_t, ratio)},
    {"LULL_T_SECRET", LULL_CFG_STR, "", "a secret", true, 0, 0, offsetof(t_cfg_t, secret)},
    {"LULL_T_EPS", LULL_CFG_LIST, "tcp://a:1, tcp://b:2", "endpoints", false, 1, 3, offsetof(t_cfg_t, eps)},
    {"LULL_T_OPT", LULL_CFG_LIST, "", "optional list", false, 0, 0, offsetof(t_cfg_t, opt)},
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
    LULL_CHECK_EQ_INT(c.eps.n, 2);
    if (c.eps.n == 2) {
        LULL_CHECK_EQ_STR(c.eps.items[0], "tcp://a:1");
        LULL_CHECK_EQ_STR(c.eps.items[1], "tcp://b:2");
    }
    LULL_CHECK_EQ_INT(c.opt.n, 0);
    lull_config_free(s_table, N, &c);
    LULL_CHECK(c.common.log_level == NULL);
    LULL_CHECK(c.eps.items == NULL && c.eps.n == 0);
}

LULL_TEST(lists_are_split_once_and_trimmed)
{
    setenv("LULL_T_EPS", " ipc:///tmp/x ,\ttcp://h:5 , inproc://y\t", 1);
    setenv("LULL_T_OPT", "  \t ", 1);  // blank: no items
    t_cfg_t c = {0};
    char err[256] = "";
    LULL_CHECK_EQ_INT(s_load(&c, err, sizeof err), 0);
    LULL_CHECK_EQ_INT(c.eps.n, 3);
    if (c.eps.n == 3) {
        LULL_CHECK_EQ_STR(c.eps.items[0], "ipc:///tmp/x");
        LULL_CHECK_EQ_STR(c.eps.items[1], "tcp://h:5");
        LULL_CHECK_EQ_STR(c.eps.items[2], "inproc://y");
    }
    LULL_CHECK_EQ_INT(c.opt.n, 0);
    // loading again replaces the lists (no leak under the sanitizer build)
    setenv("LULL_T_OPT", "one", 1);
    LULL_CHECK_EQ_INT(s_load(&c, err, sizeof err), 0);
    LULL_CHECK_EQ_INT(c.opt.n, 1);
    if (c.opt.n == 1) LULL_CHECK_EQ_STR(c.opt.items[0], "one");
    // an unbounded list still holds at most LULL_CFG_LIST_MAX items; an item up to LULL_CFG_ITEM_MAX bytes
    char many[2 * LULL_CFG_LIST_MAX + 1], long_item[LULL_CFG_ITEM_MAX + 2];
    for (int i = 0; i < LULL_CFG_LIST_MAX; i++) memcpy(many + 2 * i, "x,", 2);
    many[2 * LULL_CFG_LIST_MAX - 1] = '\0';
    memset(long_item, 'y', LULL_CFG_ITEM_MAX);
    long_item[LULL_CFG_ITEM_MAX] = '\0';
    setenv("LULL_T_OPT", many, 1);
    setenv("LULL_T_EPS", long_item, 1);
    LULL_CHECK_EQ_INT(s_load(&c, err, sizeof err), 0);
    LULL_CHECK_EQ_INT(c.opt.n, LULL_CFG_LIST_MAX);
    LULL_CHECK_EQ_INT(c.eps.n, 1);
    char *j = lull_config_to_json(s_table, N, &c);
    LULL_CHECK(j && strstr(j, "\"LULL_T_OPT\":\"x,x,x,") != NULL);
    free(j);
    lull_config_free(s_table, N, &c);
    LULL_CHECK(c.opt.items == NULL && c.opt.n == 0);
    unsetenv("LULL_T_EPS");
    unsetenv("LULL_T_OPT");
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
    s_expect_error("LULL_T_EPS", "a,,b", "item 2 is empty");
    s_expect_error("LULL_T_EPS", "a, ,b", "item 2 is empty");
    s_expect_error("LULL_T_EPS", "a,b,", "item 3 is empty");
    s_expect_error("LULL_T_EPS", ",a", "item 1 is empty");
    s_expect_error("LULL_T_EPS", "a,b,c,d", "4 items, at most 3 allowed");
    s_expect_error("LULL_T_EPS", "", "0 items, at least 1 needed");
    s_expect_error("LULL_T_EPS", " ", "0 items, at least 1 needed");
    char long_item[LULL_CFG_ITEM_MAX + 8];
    memset(long_item, 'y', sizeof long_item - 1);
    long_item[sizeof long_item - 1] = '\0';
    long_item[2] = ',';
    s_expect_error("LULL_T_EPS", long_item, "item 2 is longer than 1024 bytes");
    char many[2 * LULL_CFG_LIST_MAX + 2];
    for (int i = 0; i <= LULL_CFG_LIST_MAX; i++) memcpy(many + 2 * i, "x,", 2);
    many[2 * LULL_CFG_LIST_MAX + 1] = '\0';
    s_expect_error("LULL_T_OPT", many, "257 items, at most 256 allowed");
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
    LULL_CHECK(strstr(buf, "| `LULL_T_EPS` | list | `tcp://a:1, tcp://b:2` | endpoints; a comma-separated list of 1 "
                           "to 3 items (each up to 1024 bytes) |") != NULL);
    LULL_CHECK(strstr(buf, "| `LULL_T_OPT` | list | (empty) | optional list; a comma-separated list of up to 256 "
                           "items (each up to 1024 bytes) |") != NULL);
    memset(buf, 0, sizeof buf);
    f = fmemopen(buf, sizeof buf, "w");
    lull_config_print_help(s_table, N, "prog", "about text", f);
    fclose(f);
    LULL_CHECK(strstr(buf, "LULL_T_EPS                     list     default tcp://a:1, tcp://b:2\n"
                           "      endpoints; a comma-separated list of 1 to 3 items (each up to 1024 bytes)\n") != NULL);
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
    LULL_CHECK(j && strstr(j, "\"LULL_T_EPS\":\"tcp://a:1,tcp://b:2\"") != NULL);
    LULL_CHECK(j && strstr(j, "\"LULL_T_OPT\":\"\"") != NULL);
    LULL_CHECK(j && strstr(j, "\"LULL_T_SECRET\":\"***\"") != NULL);
    LULL_CHECK(j && !strstr(j, "sk-very-secret"));
    LULL_CHECK(j && !strstr(j, "hunter2") && strstr(j, "db.example"));
    free(j);
    lull_config_free(s_table, N, &c);
    unsetenv("LULL_T_SECRET");
    unsetenv("LULL_DATABASE_URL");
    unsetenv("LULL_T_N");
}

LULL_TEST(tenant_references)
{
    LULL_CHECK(lull_config_tenant_ref_ok("LULL_TENANT_ACME_TWILIO_TOKEN"));
    LULL_CHECK(lull_config_tenant_ref_ok("LULL_TENANT_X"));
    LULL_CHECK(lull_config_tenant_ref_ok("LULL_TENANT_9_"));
    static const char *const bad[] = {"", "LULL_TENANT_", "LULL_TENANT_lower", "LULL_TENANT_A-B", "LULL_TENANT_A B",
                                      "LULL_ADMIN_TOKEN", "LULL_DATABASE_URL", "OPENAI_API_KEY", "HOME",
                                      "lull_tenant_x", "XLULL_TENANT_A", "LULL_TENANTX"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) LULL_CHECK(!lull_config_tenant_ref_ok(bad[i]));
    char name[LULL_TENANT_REF_MAX + 2];
    memset(name, 'A', sizeof name);
    memcpy(name, LULL_TENANT_REF_PREFIX, sizeof LULL_TENANT_REF_PREFIX - 1);
    name[LULL_TENANT_REF_MAX] = '\0';
    LULL_CHECK(lull_config_tenant_ref_ok(name));  // the longest
    name[LULL_TENANT_REF_MAX] = 'A';
    name[LULL_TENANT_REF_MAX + 1] = '\0';
    LULL_CHECK(!lull_config_tenant_ref_ok(name));
    // no setting of any process is a valid tenant reference: a tenant can never name one
    const lull_proc_spec_t *procs[] = {&INGRESS_PROC, &SCHED_PROC, &SENDER_PROC, &WORKER_PROC};
    for (size_t p = 0; p < sizeof procs / sizeof procs[0]; p++)
        for (size_t i = 0; i < procs[p]->nsettings; i++) LULL_CHECK(!lull_config_tenant_ref_ok(procs[p]->settings[i].name));
    // the tiers' reader: a non-reference is never read, even when set
    setenv("LULL_TENANT_UNIT_REF", "v", 1);
    bool refused = true;
    LULL_CHECK_EQ_STR(lull_config_tenant_env("LULL_TENANT_UNIT_REF", "t", 1, &refused), "v");
    LULL_CHECK(!refused);
    LULL_CHECK(lull_config_tenant_env("LULL_TENANT_UNSET_REF", "t", 1, &refused) == NULL);
    LULL_CHECK(!refused);
    setenv("NOT_A_TENANT_REF", "secret", 1);
    LULL_CHECK(lull_config_tenant_env("NOT_A_TENANT_REF", "t", 1, &refused) == NULL);
    LULL_CHECK(refused);
}

int main(void)
{
    LULL_RUN(defaults);
    LULL_RUN(values_from_environment);
    LULL_RUN(lists_are_split_once_and_trimmed);
    LULL_RUN(invalid_values_name_the_setting);
    LULL_RUN(mask);
    LULL_RUN(to_json_masks_secrets);
    LULL_RUN(main_handles_help_and_bad_arguments);
    LULL_RUN(help_lists_every_setting);
    LULL_RUN(tenant_references);
    return lull_test_summary();
}
