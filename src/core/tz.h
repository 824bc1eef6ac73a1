/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * UTC offsets of IANA time zones, for documents that must carry a numeric offset (CAP 1.2's
 * `+01:00`), without touching the process's TZ (not thread-safe). Reads the zone's TZif file
 * under /usr/share/zoneinfo and evaluates its POSIX TZ footer ("CET-1CEST,M3.5.0,M10.5.0/3"),
 * which describes every time after the file's last transition: all of the present and future.
 */
#ifndef CORE_TZ_H
#define CORE_TZ_H

#include <stdint.h>

#include "core/compiler.h"

/*
 * The offset from UTC, in minutes east, of zone `zone` ("Europe/Rome") at `ms` (Unix ms).
 * Returns 0 with `*off_min` set, -EINVAL for a name that is not a plausible zone, -ENOENT if
 * there is no such file, -EPROTO for a file or footer this code cannot read. Any thread.
 */
MUST_CHECK int tz_offset_min(const char *zone, int64_t ms, int *off_min);
/*
 * Evaluate POSIX TZ string `spec` ("CET-1CEST,M3.5.0,M10.5.0/3") at `ms`. Same returns.
 * Only the M-form of rules is understood (what tzdata writes).
 */
MUST_CHECK int tz_posix_offset_min(const char *spec, int64_t ms, int *off_min);

#endif
