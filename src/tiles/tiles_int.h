/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The tile cache on disk and its index in memory (tiles/cache.c), for tiles/ only.
 *
 * One file per tile, DIR/z/x/y.tile: a TILES__HDR-byte text header (the upstream's ETag and
 * Last-Modified, for revalidation) and then the PNG exactly as the tile server sent it. The
 * file's mtime is the time until which the tile is fresh, so a restart rebuilds the index from
 * a directory walk with one stat per tile and reads no file. The index keeps per tile its size,
 * freshness and last use (for the least-recently-used eviction past the size cap). Not
 * thread-safe: tiles.c holds its mutex around every index call.
 */
#ifndef TILES_TILES_INT_H
#define TILES_TILES_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"

#define TILES__HDR      512 /* bytes before the PNG in a tile file */
#define TILES__ETAG_MAX 256 /* as push/outbound.h keeps them */
#define TILES__LMOD_MAX 64
#define TILES__PATH_MAX 4096

/* z, x, y packed into one nonzero number (z + 1 above two 22-bit coordinates). */
static inline uint64_t tiles__key(unsigned z, unsigned x, unsigned y)
{
    return (uint64_t)(z + 1) << 44 | (uint64_t)x << 22 | y;
}

/* The longest a tile is kept fresh, whatever the tile server says. */
#define TILES__LIFETIME_MAX_S (365LL * 24 * 3600)

/*
 * How long a tile is fresh, in seconds: what the tile server says (Cache-Control's s-maxage or
 * max-age, else Expires minus Date, or minus now when there is no Date), but never less than
 * `min_fresh_s` (OSM's policy: "according to HTTP Expiry Header, alternatively a minimum of 7
 * days") nor more than TILES__LIFETIME_MAX_S. The three header values are the tile server's,
 * as received ("" when absent): outside input (tests/fuzz/fuzz_tilehdr.c).
 */
int64_t tiles__lifetime_s(const char *cache_control, const char *expires, const char *date,
                          int64_t now_ms, int64_t min_fresh_s);

struct tiles_entry {
    uint64_t key; /* 0: an empty slot */
    uint64_t size;
    int64_t fresh_until_s;
    int64_t used_ms; /* last use, for the eviction order */
};

/* Open addressing, linear probing, deletion by backward shift. Members are private. */
struct tiles_index {
    struct tiles_entry *slot;
    size_t cap; /* a power of two, or 0 */
    size_t n;
    uint64_t bytes; /* the sizes' sum */
};

void tiles__index_release(struct tiles_index *ix);
struct tiles_entry *tiles__index_get(struct tiles_index *ix, uint64_t key);
/* The entry for `key`, added (size 0) when missing. The pointer lives until the next change. */
struct tiles_entry *tiles__index_put(struct tiles_index *ix, uint64_t key);
void tiles__index_set_size(struct tiles_index *ix, struct tiles_entry *e, uint64_t size);
void tiles__index_del(struct tiles_index *ix, uint64_t key);

/* DIR/z/x/y.tile into `out`. */
void tiles__path(const char *dir, uint64_t key, char *out, size_t outlen);

/*
 * Write the tile `key` (png, len bytes) with its validators and freshness: a temporary file in
 * the tile's directory (made if missing), renamed over the old one, so a reader never sees half
 * a tile. Returns 0 or -errno. Any thread.
 */
MUST_CHECK int tiles__write(const char *dir, uint64_t key, const void *png, size_t len,
                            const char *etag, const char *last_modified, int64_t fresh_until_s);
/* The validators of the tile file at `path` ("" when absent). Returns 0 or -errno. */
MUST_CHECK int tiles__read_validators(const char *path, char etag[TILES__ETAG_MAX],
                                      char last_modified[TILES__LMOD_MAX]);
/* Set the freshness (mtime) of the tile file at `path`. Returns 0 or -errno. */
MUST_CHECK int tiles__set_fresh(const char *path, int64_t fresh_until_s);
/*
 * Index every tile under `dir` (z ≤ max_zoom); temporary files left by a crash and files that
 * are not tiles of this cache are deleted. `min_fresh_s` dates each tile's last use from its
 * freshness. Returns 0 or -errno.
 */
MUST_CHECK int tiles__scan(const char *dir, unsigned max_zoom, int64_t min_fresh_s,
                           struct tiles_index *ix);
/*
 * Delete the least recently used tiles until the cache holds at most `target` bytes. Returns
 * how many were deleted.
 */
size_t tiles__evict(const char *dir, struct tiles_index *ix, uint64_t target);

#endif
