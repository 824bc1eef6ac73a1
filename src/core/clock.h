/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Time. Wall-clock times are int64 milliseconds since the Unix epoch (`*_ms`); durations use a
 * monotonic clock. The wall clock can be overridden for tests (retention, scheduling).
 */
#ifndef CORE_CLOCK_H
#define CORE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Wall clock in ms since the epoch, plus the offset set by clock_set_offset_ms(). */
int64_t clock_now_ms(void);
/* Monotonic clock in microseconds (for durations and latencies). */
uint64_t clock_mono_us(void);
/* Shift the wall clock by `ms` (tests only; thread-safe). */
void clock_set_offset_ms(int64_t ms);
/* "2026-11-27T21:43:27.123Z" into `out` (at least 32 bytes). */
void clock_rfc3339(int64_t ms, char *out, size_t outlen);
/* IMF-fixdate for HTTP ("Sun, 06 Nov 1994 08:49:37 GMT") into `out` (at least 32 bytes). */
void clock_http_date(int64_t ms, char *out, size_t outlen);

#endif
