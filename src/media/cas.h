/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Content-addressed files: DATA_DIR/media/ab/cdef... named by the SHA-256 of their bytes, so
 * the same photo uploaded twice is stored once and a file never changes once written. Blocking
 * file I/O: call from a work pool or the jobs thread, never from an event loop.
 */
#ifndef MEDIA_CAS_H
#define MEDIA_CAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"

#define MEDIA_HASH_HEX 65 /* 64 hex digits and the NUL */

/*
 * Store `len` bytes under `root` (created 0700 if missing) and put their hex SHA-256 in `hex`.
 * Written to a temporary file, fsynced, renamed into place and the directory fsynced, so a
 * crash leaves the old state or the whole file, never part of it. A file already present is
 * kept (deduplication) and its time refreshed, so the orphan sweep's grace period starts over.
 * Returns 0 or a negative errno (-ENOSPC when the disk is full).
 */
MUST_CHECK int media_cas_put(const char *root, const void *p, size_t len, char hex[MEDIA_HASH_HEX]);
/* The path of `hex` under `root` in `out`. -EINVAL if `hex` is not 64 lower-case hex digits. */
MUST_CHECK int media_cas_path(const char *root, const char *hex, char *out, size_t outlen);
/* Whether `s` is 64 lower-case hex digits. */
bool media_cas_hex_valid(const char *s);

/* Whether some row still references file `hex` (the sweep keeps it then). */
typedef bool media_cas_used_fn(void *ctx, const char *hex);
/*
 * Delete the files under `root` that `used` says nobody references and whose modification time
 * is before `before_s` (seconds since the epoch; the grace period protects an upload that
 * wrote its file and has not yet recorded it), and leftover temporary files as old. `*deleted`
 * counts them. Returns 0 or a negative errno; a missing root is 0.
 */
MUST_CHECK int media_cas_sweep(const char *root, int64_t before_s, media_cas_used_fn *used,
                               void *ctx, unsigned *deleted);

#endif
