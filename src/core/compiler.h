/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Compiler attributes and tiny macros used everywhere. Depends on nothing. */
#ifndef CORE_COMPILER_H
#define CORE_COMPILER_H

#define MUST_CHECK            __attribute__((warn_unused_result))
#define PRINTF_LIKE(f, a)     __attribute__((format(printf, f, a)))
#define UNUSED                __attribute__((unused))
#define NORETURN              __attribute__((noreturn))
#define ARRAY_SIZE(a)         (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)             ((a) < (b) ? (a) : (b))
#define MAX(a, b)             ((a) > (b) ? (a) : (b))
#define container_of(p, T, m) ((T *)((char *)(p) - __builtin_offsetof(T, m)))

#endif
