/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Level-gated logging: one `level: module: message` line per event on stderr, written with a
 * single write() so lines from several threads never interleave. The macros test the level
 * before evaluating their arguments. Never log tokens, passwords, push keys or bodies.
 */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include "core/compiler.h"

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_max_level;

/* Parse "error", "warn", "info" or "debug". Returns 0 or -EINVAL. */
MUST_CHECK int log_level_parse(const char *s, enum log_level *out);
void log_write(enum log_level level, const char *fmt, ...) PRINTF_LIKE(2, 3);

#define log_at(level, ...)                   \
    do {                                     \
        if ((level) <= log_max_level)        \
            log_write((level), __VA_ARGS__); \
    } while (0)
#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_at(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)

#endif
