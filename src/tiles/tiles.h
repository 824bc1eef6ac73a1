/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The map tile proxy (issue 15, point 6): the citizen's browser asks this server for
 * /tiles/{z}/{x}/{y}.png and never a third party; the server fetches each tile once from the
 * configured tile server (map_tile_url), keeps it on disk under a size cap, and serves it from
 * there. It is built to respect OpenStreetMap's tile usage policy
 * (https://operations.osmfoundation.org/policies/tiles/): a User-Agent naming the deployment,
 * tiles kept at least as long as the upstream says (and at least min_fresh_s, 7 days by
 * default), revalidated with a conditional GET once stale, fetched only when a person looks at
 * them (no prefetch), a per-address limit on the fetches a client can cause, and a few fetch
 * threads (one request per tile however many people ask for it at once).
 *
 * Outgoing requests follow push/outbound.h's rules (https, TLS verified, public addresses
 * unless allow-listed). Knows nothing of HTTP servers: the caller gets a file descriptor.
 * Thread-safe: any thread may call tiles_get; `done` callbacks run on the fetch threads.
 * docs/WEB.md, "Map", describes the cache.
 */
#ifndef TILES_TILES_H
#define TILES_TILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"

#define TILES_MAX_ZOOM 22 /* the highest zoom any tile server renders; x, y then fit 22 bits */

struct tiles_opts {
    const char *url_template; /* "https://tile.example/{z}/{x}/{y}.png"; each of {z} {x} {y} once */
    const char *dir;          /* the cache directory, created if missing */
    uint64_t cache_bytes;     /* past it the least recently used tiles are deleted */
    unsigned max_zoom;        /* ≤ TILES_MAX_ZOOM */
    int64_t min_fresh_s;      /* a tile is fresh at least this long after a fetch */
    unsigned misses_per_minute; /* fetches one client address may cause per minute */
    unsigned fetchers;          /* fetch threads; fetchers * 64 fetches may wait */
    long timeout_ms;            /* one request to the tile server */
    size_t max_tile_bytes;      /* a bigger tile is refused */
    const char *user_agent;     /* sent with every request */
    const char *allow_hosts;    /* push/outbound.h's allow-list and CA file */
    const char *ca_file;
};

struct tiles; /* opaque */

/*
 * Check the options, create the cache directory, index the tiles already in it (a restart keeps
 * the cache) and start the fetch threads. Returns NULL with one line in `err` (a template that
 * is not an https URL with {z}, {x} and {y}, a directory that cannot be made). Main thread.
 */
struct tiles *tiles_new(const struct tiles_opts *o, char *err, size_t errlen);
/*
 * Stop: fetches still waiting end with -ESHUTDOWN (their `done` runs), the one in progress
 * ends within timeout_ms; then free. NULL-safe. Main thread.
 */
void tiles_free(struct tiles *t);

/* Whether z ≤ max_zoom and x, y < 2^z. Pure. */
bool tiles_in_range(const struct tiles *t, long z, long x, long y);
unsigned tiles_max_zoom(const struct tiles *t);

/* A tile to send: bytes [off, off + len) of the open file `fd`. */
struct tiles_answer {
    int err;               /* 0, or why there is no tile (below); then fd is -1 */
    int fd;                /* the receiver closes it */
    uint64_t off, len;     /* the PNG within the file */
    int64_t fresh_until_s; /* Unix time until which the tile is fresh (browser caching) */
};

/*
 * Called once per tiles_get that returned 0, on a fetch thread, with the answer (which the
 * callee owns: it closes a->fd). a->err: 0; -ENOENT the tile server has no such tile (404);
 * -EPROTO the answer was not a PNG (or too big); -EIO the tile server failed or was
 * unreachable; -ESHUTDOWN stopping.
 */
typedef void tiles_done_fn(void *ctx, struct tiles_answer *a);

/*
 * The tile z/x/y (tiles_in_range) for the client at address `client` (rate-limit key only,
 * never stored or logged). Returns 1 with `a` filled when the cache can answer now (a fresh
 * tile; or a stale one when `client` has used up its fetches, answered so that the map still
 * shows); 0 when the tile is being fetched: `done(ctx, …)` is called once, later, from a fetch
 * thread; or -EAGAIN (the client's fetches are used up, nothing cached; `*retry_after_ms` set)
 * or -ENOBUFS (too many fetches waiting): then `done` is never called.
 */
MUST_CHECK int tiles_get(struct tiles *t, unsigned z, unsigned x, unsigned y, const char *client,
                         tiles_done_fn *done, void *ctx, struct tiles_answer *a,
                         int64_t *retry_after_ms);

struct tiles_stats {
    uint64_t hits;        /* answered from the cache */
    uint64_t misses;      /* fetched (or revalidated) from the tile server */
    uint64_t errors;      /* fetches that failed or were refused */
    uint64_t limited;     /* refused by the per-address limit */
    uint64_t evicted;     /* tiles deleted past the size cap */
    uint64_t cache_bytes; /* on disk now */
    uint64_t cache_tiles;
};
void tiles_stats(struct tiles *t, struct tiles_stats *out);

#endif
