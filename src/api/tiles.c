/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * GET /tiles/{z}/{x}/{y}.png: the map's tiles, through this server's proxy and cache
 * (tiles/tiles.h), so that a citizen's browser never calls a third party. This file only
 * turns requests into tiles_get calls and answers into HTTP; the map's settings reach the web
 * app as the `map` member of GET /api/v1/orgs/{slug} (api__map_json).
 */
#include "api/tiles_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "tiles/tiles.h"

#define BROWSER_MAX_AGE_S (7LL * 24 * 3600) /* the browser revalidates at least weekly */
#define BROWSER_MIN_AGE_S 60                /* a stale tile served while the upstream is down */

json_t *api__map_json(struct api_app *app)
{
    if (!app->tiles)
        return json_null();
    return json_pack("{s:s, s:i, s:s}", "tile_url", "/tiles/{z}/{x}/{y}.png", "max_zoom",
                     (int)tiles_max_zoom(app->tiles), "attribution",
                     app->set.map_attribution ? app->set.map_attribution : "");
}

int api__tiles_metrics(struct api_app *app, struct buf *out)
{
    struct tiles_stats s;

    if (!app->tiles)
        return 0;
    tiles_stats(app->tiles, &s);
    return buf_printf(
        out,
        "# HELP araldo_tiles_hits_total Map tiles answered from the cache.\n"
        "# TYPE araldo_tiles_hits_total counter\n"
        "araldo_tiles_hits_total %llu\n"
        "# HELP araldo_tiles_misses_total Map tiles fetched or revalidated from the tile server.\n"
        "# TYPE araldo_tiles_misses_total counter\n"
        "araldo_tiles_misses_total %llu\n"
        "# HELP araldo_tiles_errors_total Tile fetches that failed or were refused (not a PNG).\n"
        "# TYPE araldo_tiles_errors_total counter\n"
        "araldo_tiles_errors_total %llu\n"
        "# HELP araldo_tiles_limited_total Tile requests refused by the per-address limit.\n"
        "# TYPE araldo_tiles_limited_total counter\n"
        "araldo_tiles_limited_total %llu\n"
        "# HELP araldo_tiles_evicted_total Cached tiles deleted past map_tile_cache_mb.\n"
        "# TYPE araldo_tiles_evicted_total counter\n"
        "araldo_tiles_evicted_total %llu\n"
        "# HELP araldo_tiles_cache_bytes Bytes of cached tiles on disk.\n"
        "# TYPE araldo_tiles_cache_bytes gauge\n"
        "araldo_tiles_cache_bytes %llu\n",
        (unsigned long long)s.hits, (unsigned long long)s.misses, (unsigned long long)s.errors,
        (unsigned long long)s.limited, (unsigned long long)s.evicted,
        (unsigned long long)s.cache_bytes);
}

/* A coordinate as the path spells it: 1 to 7 digits, no sign, no leading zero. */
static bool coord(const char *s, size_t len, long *out)
{
    long v = 0;

    if (len == 0 || len > 7 || (s[0] == '0' && len > 1))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static void send_answer(struct http_req *r, struct tiles_answer *a)
{
    char cc[64];
    int64_t left;

    switch (a->err) {
    case 0:
        break;
    case -ENOENT:
        http_respond_error(r, 404, "tile_not_found", "The tile server has no such tile.", NULL);
        return;
    case -EPROTO:
        http_respond_error(r, 502, "tile_upstream_invalid",
                           "The tile server did not answer with a PNG image.", NULL);
        return;
    case -ESHUTDOWN:
        api__errno(r, -ESHUTDOWN, "tile");
        return;
    default:
        http_respond_error(r, 502, "tile_upstream_failed",
                           "The tile server could not be reached or failed: retry later.", NULL);
        return;
    }
    left = a->fresh_until_s - clock_now_ms() / 1000;
    if (left > BROWSER_MAX_AGE_S)
        left = BROWSER_MAX_AGE_S;
    if (left < BROWSER_MIN_AGE_S)
        left = BROWSER_MIN_AGE_S;
    snprintf(cc, sizeof(cc), "public, max-age=%lld", (long long)left);
    http_resp_header(r, "Cache-Control", cc);
    http_respond_file(r, 200, "image/png", a->fd, a->off, a->len); /* takes the fd */
    a->fd = -1;
}

/* A fetched tile on its way back to the request's loop. */
struct tile_wait {
    struct http_req *r;
    struct http_loop *loop;
    struct tiles_answer a;
};

static void tile_answer(void *arg)
{
    struct tile_wait *w = arg;

    send_answer(w->r, &w->a);
    free(w);
}

/* tiles_done_fn, on a fetch thread. */
static void tile_done(void *ctx, struct tiles_answer *a)
{
    struct tile_wait *w = ctx;

    w->a = *a;
    if (http_loop_post(w->loop, tile_answer, w) != 0) {
        if (w->a.fd >= 0)
            close(w->a.fd); /* the loop is stopping: its connections are closed */
        free(w);
    }
}

static void tile_get(struct http_req *r)
{
    struct api_app *app = api__app(r);
    const char *ys = http_req_param(r, "y");
    size_t ylen = strlen(ys);
    struct tiles_answer a;
    struct tile_wait *w;
    int64_t retry_ms = 0;
    long z;
    long x;
    long y;
    int rc;

    if (!app->tiles) {
        http_respond_error(r, 404, "map_off",
                           "This server shows no map (map_tile_url is empty): give the position "
                           "by GPS or address.",
                           NULL);
        return;
    }
    if (ylen < 5 || strcmp(ys + ylen - 4, ".png") != 0 ||
        !coord(http_req_param(r, "z"), strlen(http_req_param(r, "z")), &z) ||
        !coord(http_req_param(r, "x"), strlen(http_req_param(r, "x")), &x) ||
        !coord(ys, ylen - 4, &y) || !tiles_in_range(app->tiles, z, x, y)) {
        char msg[160];

        snprintf(msg, sizeof(msg),
                 "A tile is /tiles/{z}/{x}/{y}.png with z from 0 to %u and x, y from 0 to "
                 "2^z - 1.",
                 tiles_max_zoom(app->tiles));
        http_respond_error(r, 400, "invalid_tile", msg, NULL);
        return;
    }
    w = xcalloc(1, sizeof(*w));
    w->r = r;
    w->loop = http_req_loop(r);
    rc = tiles_get(app->tiles, (unsigned)z, (unsigned)x, (unsigned)y, http_req_peer(r), tile_done,
                   w, &a, &retry_ms);
    if (rc == 0)
        return; /* tile_done answers */
    free(w);
    if (rc == 1) {
        send_answer(r, &a);
    } else if (rc == -EAGAIN) {
        char secs[24];
        long long s = (long long)(retry_ms + 999) / 1000;

        snprintf(secs, sizeof(secs), "%lld", s < 1 ? 1 : s);
        http_resp_header(r, "Retry-After", secs);
        http_respond_error(r, 429, "rate_limited",
                           "Too many new map tiles from this address in a short time: wait the "
                           "seconds in Retry-After.",
                           NULL);
    } else {
        api__errno(r, -ENOBUFS, "tile");
    }
}

static const struct http_route routes[] = {
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/tiles/{z}/{x}/{y}", tile_get, 0, NULL },
};
API_ROUTE_SET(api_tiles_routes, routes);
