/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A tiny test harness (picotest/testhelp.h in spirit). TEST(name) registers itself; CHECK*
 * report file, line and both values, then end that test. main() runs every test whose name
 * contains argv[1] (all if absent) and ends with "<suite>: N passed, N failed".
 */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <stdint.h>
#include <string.h>

typedef void test_fn(void);

void harness_register(const char *name, test_fn *fn);
void harness_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A fresh directory under $TMPDIR for this test; removed when the suite ends. */
const char *harness_tmpdir(void);

#define TEST(name)                                                 \
    static void test_##name(void);                                 \
    __attribute__((constructor)) static void register_##name(void) \
    {                                                              \
        harness_register(#name, test_##name);                      \
    }                                                              \
    static void test_##name(void)

#define CHECK(cond)                                        \
    do {                                                   \
        if (!(cond)) {                                     \
            harness_fail(__FILE__, __LINE__, "%s", #cond); \
            return;                                        \
        }                                                  \
    } while (0)

#define CHECK_INT(a, op, b)                                                                  \
    do {                                                                                     \
        long long a_ = (long long)(a), b_ = (long long)(b);                                  \
        if (!(a_ op b_)) {                                                                   \
            harness_fail(__FILE__, __LINE__, "%s %s %s: %lld vs %lld", #a, #op, #b, a_, b_); \
            return;                                                                          \
        }                                                                                    \
    } while (0)

#define CHECK_STR(a, b)                                                            \
    do {                                                                           \
        const char *a_ = (a), *b_ = (b);                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                   \
            harness_fail(__FILE__, __LINE__, "%s == %s: \"%s\" vs \"%s\"", #a, #b, \
                         a_ ? a_ : "(null)", b_ ? b_ : "(null)");                  \
            return;                                                                \
        }                                                                          \
    } while (0)

#endif
