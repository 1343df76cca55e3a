// Minimal unit-test harness: LULL_TEST defines a test, LULL_CHECK* record failures, LULL_RUN runs one.
// Each test prints "PASS name" or "FAIL name: file:line: what"; tests/run counts those lines.
#ifndef LULL_TEST_H
#define LULL_TEST_H

#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <stdbool.h>

static int lull_test_passed_ = 0;
static int lull_test_failed_ = 0;
static int lull_test_cur_failed_ = 0;
static const char *lull_test_cur_name_ = "";

#define LULL_TEST(name) static void test_##name(void)

#define LULL_FAIL_AT_(fmt, ...)                                                          \
    do {                                                                                 \
        if (!lull_test_cur_failed_)                                                      \
            printf("FAIL %s: %s:%d: " fmt "\n", lull_test_cur_name_, __FILE__, __LINE__, \
                   __VA_ARGS__);                                                         \
        lull_test_cur_failed_ = 1;                                                       \
    } while (0)

#define LULL_CHECK(cond)                                       \
    do {                                                       \
        if (!(cond)) LULL_FAIL_AT_("check failed: %s", #cond); \
    } while (0)

#define LULL_CHECK_EQ_INT(a, b)                                                              \
    do {                                                                                     \
        long long a_ = (long long)(a), b_ = (long long)(b);                                  \
        if (a_ != b_) LULL_FAIL_AT_("%s == %s: %lld != %lld", #a, #b, a_, b_);               \
    } while (0)

#define LULL_CHECK_EQ_STR(a, b)                                                              \
    do {                                                                                     \
        const char *a_ = (a), *b_ = (b);                                                     \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                               \
            LULL_FAIL_AT_("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)",          \
                          b_ ? b_ : "(null)");                                               \
    } while (0)

#define LULL_RUN(name)                                                     \
    do {                                                                   \
        lull_test_cur_name_ = #name;                                       \
        lull_test_cur_failed_ = 0;                                         \
        test_##name();                                                     \
        if (lull_test_cur_failed_) lull_test_failed_++;                    \
        else { lull_test_passed_++; printf("PASS %s\n", #name); }          \
        fflush(stdout);                                                    \
    } while (0)

// Prints the per-file tally and returns the process exit status (0 when nothing failed).
static inline int lull_test_summary(void)
{
    printf("# %d passed, %d failed\n", lull_test_passed_, lull_test_failed_);
    return lull_test_failed_ ? 1 : 0;
}

#endif
