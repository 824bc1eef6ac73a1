/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "harness.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_TESTS 512

static struct {
    const char *name;
    test_fn *fn;
} tests[MAX_TESTS];
static int ntests;
static int failed_now;
static char tmpdir[256];

void harness_register(const char *name, test_fn *fn)
{
    if (ntests == MAX_TESTS) {
        fprintf(stderr, "harness: too many tests\n");
        abort();
    }
    tests[ntests].name = name;
    tests[ntests].fn = fn;
    ntests++;
}

void harness_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "  FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    failed_now = 1;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_tmpdir(void)
{
    if (tmpdir[0])
        nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    tmpdir[0] = '\0';
}

const char *harness_tmpdir(void)
{
    const char *base = getenv("TMPDIR");

    rm_tmpdir();
    snprintf(tmpdir, sizeof(tmpdir), "%s/araldo-test-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "harness: mkdtemp: %s\n", strerror(errno));
        abort();
    }
    return tmpdir;
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    const char *suite = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    int passed = 0;
    int failed = 0;

    if (!strncmp(suite, "test_", 5))
        suite += 5;
    for (int i = 0; i < ntests; i++) {
        if (filter && !strstr(tests[i].name, filter))
            continue;
        failed_now = 0;
        tests[i].fn();
        rm_tmpdir();
        if (failed_now) {
            fprintf(stderr, "%s: %s FAILED\n", suite, tests[i].name);
            failed++;
        } else {
            passed++;
        }
    }
    fflush(stderr);
    printf("%s: %d passed, %d failed\n", suite, passed, failed);
    return failed ? 1 : 0;
}
