/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The map tile cache (tiles/cache.c): the index keeps every tile findable through adds and
 * deletions (backward shift), counts bytes, evicts the least recently used first; tile files
 * round-trip their validators and are indexed again after a restart; tiles_new refuses a
 * template that is not https with {z}, {x} and {y}.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "tiles/tiles.h"
#include "tiles/tiles_int.h"

TEST(index_finds_every_key_through_adds_and_deletes)
{
    struct tiles_index ix = { 0 };
    unsigned n = 5000;

    for (unsigned i = 0; i < n; i++) {
        struct tiles_entry *e = tiles__index_put(&ix, tiles__key(15, i, i * 7 % 32768));

        tiles__index_set_size(&ix, e, 10);
    }
    CHECK_INT(ix.n, ==, n);
    CHECK_INT(ix.bytes, ==, 10 * n);
    for (unsigned i = 0; i < n; i += 3)
        tiles__index_del(&ix, tiles__key(15, i, i * 7 % 32768));
    for (unsigned i = 0; i < n; i++) {
        struct tiles_entry *e = tiles__index_get(&ix, tiles__key(15, i, i * 7 % 32768));

        CHECK(i % 3 == 0 ? e == NULL : e != NULL && e->size == 10);
    }
    CHECK_INT(ix.n, ==, n - (n + 2) / 3);
    tiles__index_release(&ix);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_tree(char *dir)
{
    if (dir)
        nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

static char *temp_dir(void)
{
    char tmpl[] = "/tmp/araldo-tiles-XXXXXX";
    char *d = mkdtemp(tmpl);

    return d ? strdup(d) : NULL;
}

TEST(files_round_trip_and_a_rescan_finds_them_and_eviction_takes_the_oldest)
{
    char *dir = temp_dir();
    char path[TILES__PATH_MAX];
    char etag[TILES__ETAG_MAX];
    char lmod[TILES__LMOD_MAX];
    struct tiles_index ix = { 0 };
    struct tiles_entry *e;
    static const char png[] = "\x89PNG\r\n\x1a\n pretend";

    CHECK(dir);
    CHECK_INT(tiles__write(dir, tiles__key(3, 1, 2), png, sizeof(png), "\"abc\"",
                           "Sat, 05 Dec 2026 10:00:00 GMT", 2000000000),
              ==, 0);
    CHECK_INT(tiles__write(dir, tiles__key(3, 1, 3), png, sizeof(png), "", "", 1900000000), ==, 0);
    tiles__path(dir, tiles__key(3, 1, 2), path, sizeof(path));
    CHECK_INT(tiles__read_validators(path, etag, lmod), ==, 0);
    CHECK_STR(etag, "\"abc\"");
    CHECK_STR(lmod, "Sat, 05 Dec 2026 10:00:00 GMT");
    CHECK_INT(tiles__scan(dir, 19, 0, &ix), ==, 0);
    CHECK_INT(ix.n, ==, 2);
    e = tiles__index_get(&ix, tiles__key(3, 1, 2));
    CHECK(e && e->fresh_until_s == 2000000000 && e->size == TILES__HDR + sizeof(png));
    /* 3/1/3 is fresh for less long, so it was fetched earlier: the first to go. */
    CHECK_INT(tiles__evict(dir, &ix, ix.bytes - 1), ==, 1);
    CHECK(tiles__index_get(&ix, tiles__key(3, 1, 3)) == NULL);
    tiles__path(dir, tiles__key(3, 1, 3), path, sizeof(path));
    CHECK(access(path, F_OK) != 0);
    tiles__index_release(&ix);
    /* A zoom beyond max_zoom is not ours any more: not indexed. */
    CHECK_INT(tiles__scan(dir, 2, 0, &ix), ==, 0);
    CHECK_INT(ix.n, ==, 0);
    tiles__index_release(&ix);
    rm_tree(dir);
}

TEST(a_template_must_be_https_with_z_x_y)
{
    static const char *const bad[] = {
        "http://tile.example/{z}/{x}/{y}.png",
        "https://tile.example/{z}/{x}.png",
        "https://tile.example/{z}/{x}/{y}/{y}.png",
        "https://user@tile.example/{z}/{x}/{y}.png",
    };
    char err[256];
    char *dir = temp_dir();
    struct tiles_opts o = {
        .dir = dir,
        .cache_bytes = 1 << 20,
        .max_zoom = 19,
        .misses_per_minute = 10,
        .fetchers = 1,
        .timeout_ms = 1000,
        .max_tile_bytes = 1 << 16,
        .user_agent = "test",
    };
    struct tiles *t;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        o.url_template = bad[i];
        err[0] = '\0';
        CHECK(tiles_new(&o, err, sizeof(err)) == NULL);
        CHECK(strstr(err, "map_tile_url") != NULL);
    }
    o.url_template = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
    t = tiles_new(&o, err, sizeof(err));
    CHECK(t != NULL);
    CHECK(tiles_in_range(t, 19, 524287, 0));
    CHECK(!tiles_in_range(t, 20, 0, 0));
    CHECK(!tiles_in_range(t, 2, 4, 0));
    CHECK(!tiles_in_range(t, 2, 0, -1));
    tiles_free(t);
    rm_tree(dir);
}
