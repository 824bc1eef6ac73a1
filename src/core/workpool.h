/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A tiny work pool: a few threads and a bounded queue, for CPU work that must not run on an
 * event loop (argon2id password hashing takes tens of milliseconds on purpose). The job
 * carries its result back itself, typically with http_loop_post().
 */
#ifndef CORE_WORKPOOL_H
#define CORE_WORKPOOL_H

#include <stddef.h>

#include "core/compiler.h"

struct workpool; /* opaque */

typedef void workpool_fn(void *arg);

/*
 * Start `threads` threads (≥ 1) with room for `queue_max` waiting jobs. The threads inherit
 * the caller's signal mask. Returns NULL if a thread cannot be started.
 */
struct workpool *workpool_new(unsigned threads, size_t queue_max);
/*
 * Run `fn(arg)` on a pool thread soon. Returns 0, or -ENOBUFS when queue_max jobs are already
 * waiting (the caller answers 503), or -ESHUTDOWN once workpool_free() started; on error fn is
 * never called. Any thread.
 */
MUST_CHECK int workpool_submit(struct workpool *p, workpool_fn *fn, void *arg);
/* Run the jobs already queued, stop and join the threads, free. NULL-safe. */
void workpool_free(struct workpool *p);

#endif
