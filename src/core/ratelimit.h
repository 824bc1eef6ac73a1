/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Rate limits: token buckets keyed by a string ("acct:ana@comune.it", "ip:192.0.2.1",
 * "react:<follower hash>"), in a fixed-size table so that memory stays bounded whatever the
 * number of distinct keys. Each bucket holds up to `capacity` tokens and refills at
 * capacity / window_ms; an action takes one token and is refused when none is left.
 *
 * Keys are hashed with a per-table random salt (SHA-256), so an attacker cannot aim many keys
 * at one slot. When the table is full, the least useful bucket (the fullest after refill, i.e.
 * the one that would allow the most) is recycled: bounded memory means a flood of new keys can
 * make an old, mostly refilled bucket be forgotten, never a nearly empty one before the others.
 *
 * Thread-safe: one mutex per table; every call is O(probe length).
 */
#ifndef CORE_RATELIMIT_H
#define CORE_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"

struct ratelimit; /* opaque */

/*
 * A table of `slots` buckets (rounded up to a power of two, at least 16) of `capacity` tokens
 * each, refilled over `window_ms`. Aborts on OOM (STYLE.md 3.4). Free with ratelimit_free().
 */
struct ratelimit *ratelimit_new(size_t slots, unsigned capacity, int64_t window_ms);
void ratelimit_free(struct ratelimit *rl); /* NULL-safe */

/*
 * Whether `key` (`len` bytes) has a token left at `now_ms`, without taking it. Returns 0, or
 * -EAGAIN with `*retry_after_ms` (may be NULL) set to the wait until one token is back.
 */
MUST_CHECK int ratelimit_check(struct ratelimit *rl, const char *key, size_t len, int64_t now_ms,
                               int64_t *retry_after_ms);
/*
 * Take one token from `key`'s bucket at `now_ms`. Returns 0, or -EAGAIN (nothing taken) with
 * `*retry_after_ms` set as above.
 */
MUST_CHECK int ratelimit_take(struct ratelimit *rl, const char *key, size_t len, int64_t now_ms,
                              int64_t *retry_after_ms);
/*
 * Give back one token taken from `key` at `now_ms` (a reservation that turned out not to count,
 * e.g. a sign-in that succeeded). Never fills a bucket past `capacity`; a bucket that was
 * recycled in between is left alone.
 */
void ratelimit_give(struct ratelimit *rl, const char *key, size_t len, int64_t now_ms);
/* Forget `key`'s bucket (full again), e.g. after a successful sign-in. */
void ratelimit_reset(struct ratelimit *rl, const char *key, size_t len);

#endif
