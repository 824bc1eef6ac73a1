/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * What the nodes of a cluster agree on through the database (issue 16; docs/STORE.md,
 * "Several nodes"): leases, so that a background job runs on one node at a time and another
 * takes over when its node dies, and sign-in failures, so that wrong passwords sent to node A
 * count on node B. The same tables and statements on SQLite, where there is one node.
 */
#ifndef STORE_CLUSTER_H
#define STORE_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/compiler.h"
#include "core/secret.h"
#include "store/store.h"

#define LEASE_NAME_MAX  32 /* bytes */
#define LEASE_OWNER_MAX 64 /* bytes */

/*
 * Take or renew the lease `name` for `owner` until now + `ttl_ms` (the writer's clock): one
 * statement that succeeds when the lease is free, expired, or already `owner`'s. Blocks until
 * durable (a background thread, never a loop). Returns 0 with `*until_ms` set when `owner`
 * holds it, -EBUSY when another owner holds it unexpired, -EINVAL for bad arguments, or the
 * write's error.
 */
MUST_CHECK int store_lease_take(struct store *s, const char *name, const char *owner,
                                int64_t ttl_ms, int64_t *until_ms);
/* Give the lease `name` up if `owner` holds it, so another node takes it at once. Blocks. */
MUST_CHECK int store_lease_release(struct store *s, const char *name, const char *owner);

/*
 * Sign-in failures of `key` (a SHA-256 of "acct:<e-mail>" or "ip:<address>") in the window
 * of `window_ms` that is still open at `now_ms`: `*fails` (0 when none) and when that window
 * started. Any thread with its reader.
 */
MUST_CHECK int store_signin_failures(struct store_reader *r, const uint8_t key[SECRET_HASH_LEN],
                                     int64_t now_ms, int64_t window_ms, int64_t *fails,
                                     int64_t *since_ms);
/*
 * Charge one failure to each of the `n` (1 or 2) keys: a window that ended starts again at
 * the writer's clock. Rows of windows that ended are deleted in the same write. Async as
 * store_ping (done NULL: blocks).
 */
MUST_CHECK int store_signin_fail(struct store *s, const uint8_t (*keys)[SECRET_HASH_LEN], int n,
                                 int64_t window_ms, store_done_fn *done, void *ctx);
/* Forget `key`'s failures (a successful sign-in on its account). Async as store_ping. */
MUST_CHECK int store_signin_clear(struct store *s, const uint8_t key[SECRET_HASH_LEN],
                                  store_done_fn *done, void *ctx);

#endif
