/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The tile proxy (tiles.h): lookups on the caller's thread, fetches on a few threads of their
 * own (a fetch blocks for up to timeout_ms; an event loop never waits on one). Concurrent
 * requests for a tile being fetched wait for that one fetch (a "flight") instead of starting
 * their own, so a tile is asked of the tile server once however many people pan over it.
 */
#include "tiles/tiles.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "core/workpool.h"
#include "push/outbound.h"
#include "tiles/tiles_int.h"

#define WAITING_PER_FETCHER 64   /* fetches queued per fetch thread; past it -ENOBUFS */
#define RATE_SLOTS          4096 /* client addresses whose fetch budget is remembered */
#define EVICT_TO_PERCENT    90   /* evicting goes below the cap, so it does not run per fetch */

struct waiter {
    tiles_done_fn *done;
    void *ctx;
    struct waiter *next;
};

struct flight {
    struct tiles *t;
    uint64_t key;
    unsigned z, x, y;
    struct waiter *waiters;
    struct flight *next;
};

struct tiles {
    char *tmpl;
    char *dir;
    uint64_t cache_bytes;
    unsigned max_zoom;
    int64_t min_fresh_s;
    size_t max_tile_bytes;
    struct outbound_policy *policy;
    struct ratelimit *rl;
    struct workpool *pool;
    pthread_mutex_t mu; /* guards everything below */
    bool stopping;
    struct tiles_index ix;
    struct flight *flights;
    struct tiles_stats st;
};

static void expand(const char *tmpl, unsigned z, unsigned x, unsigned y, char *out, size_t outlen);

/* Each of {z} {x} {y} exactly once, and an https URL once they are filled in. */
static bool template_ok(const char *tmpl)
{
    static const char *const marks[] = { "{z}", "{x}", "{y}" };
    char url[OUTBOUND_URL_MAX + 1];
    struct outbound_url u;

    if (strlen(tmpl) > OUTBOUND_URL_MAX - 3 * 8)
        return false;
    for (size_t i = 0; i < ARRAY_SIZE(marks); i++) {
        const char *p = strstr(tmpl, marks[i]);

        if (!p || strstr(p + 3, marks[i]))
            return false;
    }
    expand(tmpl, TILES_MAX_ZOOM, 4194303, 4194303, url, sizeof(url));
    return outbound_url_parse(url, &u) == 0;
}

/* The template with z, x and y filled in. */
static void expand(const char *tmpl, unsigned z, unsigned x, unsigned y, char *out, size_t outlen)
{
    size_t o = 0;

    for (const char *p = tmpl; *p && o + 1 < outlen;) {
        bool mark =
            p[0] == '{' && p[1] && p[2] == '}' && (p[1] == 'z' || p[1] == 'x' || p[1] == 'y');
        int n;

        if (!mark) {
            out[o++] = *p++;
            continue;
        }
        n = snprintf(out + o, outlen - o, "%u", p[1] == 'z' ? z : p[1] == 'x' ? x : y);
        if (n < 0 || (size_t)n >= outlen - o)
            break;
        o += (size_t)n;
        p += 3;
    }
    out[o] = '\0';
}

struct tiles *tiles_new(const struct tiles_opts *o, char *err, size_t errlen)
{
    struct tiles *t = NULL;
    int e;

    if (!template_ok(o->url_template)) {
        snprintf(err, errlen,
                 "map_tile_url: '%.100s' must be an https URL with {z}, {x} and {y} once each",
                 o->url_template);
        return NULL;
    }
    t = xcalloc(1, sizeof(*t));
    pthread_mutex_init(&t->mu, NULL);
    t->tmpl = xstrdup(o->url_template);
    t->dir = xstrdup(o->dir);
    t->cache_bytes = o->cache_bytes;
    t->max_zoom = o->max_zoom > TILES_MAX_ZOOM ? TILES_MAX_ZOOM : o->max_zoom;
    t->min_fresh_s = o->min_fresh_s;
    t->max_tile_bytes = o->max_tile_bytes;
    t->policy = outbound_policy_new(
        &(struct outbound_opts){
            .allow_hosts = o->allow_hosts,
            .ca_file = o->ca_file,
            .connect_timeout_ms = o->timeout_ms,
            .timeout_ms = o->timeout_ms,
            .max_response_bytes = o->max_tile_bytes,
            .user_agent = o->user_agent,
        },
        err, errlen);
    if (!t->policy)
        goto fail;
    e = tiles__scan(t->dir, t->max_zoom, t->min_fresh_s, &t->ix);
    if (e) {
        snprintf(err, errlen, "tiles: cannot use '%s': %s", t->dir, strerror(-e));
        goto fail;
    }
    t->rl = ratelimit_new(RATE_SLOTS, o->misses_per_minute, 60000);
    t->pool = workpool_new(o->fetchers, (size_t)o->fetchers * WAITING_PER_FETCHER);
    if (!t->pool) {
        snprintf(err, errlen, "%s", "tiles: cannot start the fetch threads");
        goto fail;
    }
    tiles__evict(t->dir, &t->ix, t->cache_bytes); /* the cap may have been lowered */
    return t;
fail:
    tiles_free(t);
    return NULL;
}

void tiles_free(struct tiles *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->stopping = true; /* queued fetches end at once */
    pthread_mutex_unlock(&t->mu);
    workpool_free(t->pool);
    ratelimit_free(t->rl);
    outbound_policy_free(t->policy);
    tiles__index_release(&t->ix);
    pthread_mutex_destroy(&t->mu);
    free(t->tmpl);
    free(t->dir);
    free(t);
}

bool tiles_in_range(const struct tiles *t, long z, long x, long y)
{
    return z >= 0 && z <= (long)t->max_zoom && x >= 0 && y >= 0 && x < (1L << z) && y < (1L << z);
}

unsigned tiles_max_zoom(const struct tiles *t)
{
    return t->max_zoom;
}

void tiles_stats(struct tiles *t, struct tiles_stats *out)
{
    pthread_mutex_lock(&t->mu);
    *out = t->st;
    out->cache_bytes = t->ix.bytes;
    out->cache_tiles = t->ix.n;
    pthread_mutex_unlock(&t->mu);
}

/* Open the cached tile `key` into `a`. Returns 0 or -errno (gone, or not a tile file). */
static int open_tile(struct tiles *t, uint64_t key, int64_t fresh_until_s, struct tiles_answer *a)
{
    char path[TILES__PATH_MAX];
    struct stat st;
    int fd;

    tiles__path(t->dir, key, path, sizeof(path));
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0 || st.st_size <= TILES__HDR) {
        close(fd);
        return -EIO;
    }
    a->err = 0;
    a->fd = fd;
    a->off = TILES__HDR;
    a->len = (uint64_t)st.st_size - TILES__HDR;
    a->fresh_until_s = fresh_until_s;
    return 0;
}

static void fetch_job(void *arg);

/* Serve the cached entry `key` if there is one; with `fresh_only`, only while fresh. */
static int try_cached(struct tiles *t, uint64_t key, bool fresh_only, int64_t now_ms,
                      struct tiles_answer *a)
{
    struct tiles_entry *e;
    int64_t fresh = 0;

    pthread_mutex_lock(&t->mu);
    e = tiles__index_get(&t->ix, key);
    if (e && (!fresh_only || e->fresh_until_s * 1000 > now_ms)) {
        e->used_ms = now_ms;
        fresh = e->fresh_until_s;
    } else {
        e = NULL;
    }
    pthread_mutex_unlock(&t->mu);
    if (!e)
        return -ENOENT;
    if (open_tile(t, key, fresh, a) != 0) {
        pthread_mutex_lock(&t->mu);
        tiles__index_del(&t->ix, key); /* deleted behind our back: fetch it again */
        pthread_mutex_unlock(&t->mu);
        return -ENOENT;
    }
    pthread_mutex_lock(&t->mu);
    t->st.hits++;
    pthread_mutex_unlock(&t->mu);
    return 0;
}

/* Join the flight of `key` if there is one, else start one. Called with t->mu held. */
static int board(struct tiles *t, unsigned z, unsigned x, unsigned y, const char *client,
                 int64_t now_ms, struct waiter *w, int64_t *retry_after_ms)
{
    uint64_t key = tiles__key(z, x, y);
    struct flight *f;
    int err;

    for (f = t->flights; f; f = f->next) {
        if (f->key == key) {
            w->next = f->waiters; /* already asked of the tile server: no fetch of its own */
            f->waiters = w;
            return 0;
        }
    }
    err = ratelimit_take(t->rl, client, strlen(client), now_ms, retry_after_ms);
    if (err)
        return err;
    f = xcalloc(1, sizeof(*f));
    *f = (struct flight){ .t = t, .key = key, .z = z, .x = x, .y = y, .waiters = w };
    err = workpool_submit(t->pool, fetch_job, f);
    if (err) {
        ratelimit_give(t->rl, client, strlen(client), now_ms);
        free(f);
        return -ENOBUFS;
    }
    f->next = t->flights;
    t->flights = f;
    return 0;
}

int tiles_get(struct tiles *t, unsigned z, unsigned x, unsigned y, const char *client,
              tiles_done_fn *done, void *ctx, struct tiles_answer *a, int64_t *retry_after_ms)
{
    uint64_t key = tiles__key(z, x, y);
    int64_t now_ms = clock_now_ms();
    struct waiter *w;
    int err;

    a->fd = -1;
    a->err = 0;
    if (try_cached(t, key, true, now_ms, a) == 0)
        return 1;
    w = xcalloc(1, sizeof(*w));
    w->done = done;
    w->ctx = ctx;
    pthread_mutex_lock(&t->mu);
    err = t->stopping ? -ENOBUFS : board(t, z, x, y, client, now_ms, w, retry_after_ms);
    if (err == -EAGAIN)
        t->st.limited++;
    pthread_mutex_unlock(&t->mu);
    if (!err)
        return 0;
    free(w);
    /* Out of fetches: a stale copy still beats an empty square on the map. */
    if (err == -EAGAIN && try_cached(t, key, false, now_ms, a) == 0)
        return 1;
    return err;
}

/* ---- the fetch threads ---- */

/* s-maxage (we are a shared cache) or max-age in `cc`, in seconds; -1 when neither. */
static int64_t max_age(const char *cc)
{
    static const char *const names[] = { "s-maxage=", "max-age=" };

    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        const char *p = cc;

        while ((p = strcasestr(p, names[i]))) {
            bool start = p == cc || p[-1] == ' ' || p[-1] == ',';
            char *end;
            long long v;

            p += strlen(names[i]);
            v = strtoll(p, &end, 10);
            if (start && end != p && v >= 0)
                return v;
        }
    }
    return -1;
}

int64_t tiles__lifetime_s(const char *cache_control, const char *expires, const char *date,
                          int64_t now_ms, int64_t min_fresh_s)
{
    int64_t life = max_age(cache_control);

    if (life < 0 && expires[0]) {
        time_t exp = curl_getdate(expires, NULL);
        time_t day = date[0] ? curl_getdate(date, NULL) : (time_t)(now_ms / 1000);

        if (exp > 0 && day > 0)
            life = exp > day ? (int64_t)exp - (int64_t)day : 0;
    }
    if (life < min_fresh_s)
        life = min_fresh_s;
    return life > TILES__LIFETIME_MAX_S ? TILES__LIFETIME_MAX_S : life;
}

static int64_t lifetime_s(const struct tiles *t, const struct outbound_fetch *f, int64_t now_ms)
{
    return tiles__lifetime_s(f->cache_control, f->expires, f->date, now_ms, t->min_fresh_s);
}

static bool is_png(const struct outbound_fetch *f)
{
    static const char sig[8] = "\x89PNG\r\n\x1a\n";
    const char *ct = f->content_type;

    return !strncasecmp(ct, "image/png", 9) && (ct[9] == '\0' || ct[9] == ';' || ct[9] == ' ') &&
           f->len > sizeof(sig) && !memcmp(f->body, sig, sizeof(sig));
}

/* Ask the tile server; 0 when the cache now holds a fresh tile `f->key`. */
static int fetch_one(struct tiles *t, struct flight *f, bool *have_old)
{
    char path[TILES__PATH_MAX];
    char url[OUTBOUND_URL_MAX + 64];
    char etag[TILES__ETAG_MAX];
    char lmod[TILES__LMOD_MAX];
    char why[256];
    struct outbound_fetch out;
    struct tiles_entry *e;
    int64_t now_ms = clock_now_ms();
    int64_t fresh;
    int err;

    tiles__path(t->dir, f->key, path, sizeof(path));
    pthread_mutex_lock(&t->mu);
    *have_old = tiles__index_get(&t->ix, f->key) != NULL;
    t->st.misses++;
    pthread_mutex_unlock(&t->mu);
    if (!*have_old || tiles__read_validators(path, etag, lmod) != 0) {
        etag[0] = '\0';
        lmod[0] = '\0';
    }
    expand(t->tmpl, f->z, f->x, f->y, url, sizeof(url));
    err = outbound_fetch(t->policy, url, etag, lmod, t->max_tile_bytes, &out, why, sizeof(why));
    if (err) {
        log_warn("tiles: cannot fetch tile %u/%u/%u: %s", f->z, f->x, f->y, why);
        return err == -EMSGSIZE ? -EPROTO : -EIO;
    }
    fresh = now_ms / 1000 + lifetime_s(t, &out, now_ms);
    if (out.status == 304 && *have_old) {
        err = tiles__set_fresh(path, fresh) ? -EIO : 0; /* evicted meanwhile: fetch next time */
    } else if (out.status == 200 && is_png(&out)) {
        err = tiles__write(t->dir, f->key, out.body, out.len, out.etag, out.last_modified, fresh);
    } else {
        log_warn("tiles: tile %u/%u/%u: the tile server answered %ld%s", f->z, f->x, f->y,
                 out.status, out.status == 200 ? " with something that is not a PNG" : "");
        err = out.status == 404 ? -ENOENT : out.status == 200 ? -EPROTO : -EIO;
    }
    if (!err) {
        pthread_mutex_lock(&t->mu);
        e = tiles__index_put(&t->ix, f->key);
        if (out.status == 200)
            tiles__index_set_size(&t->ix, e, TILES__HDR + out.len);
        e->fresh_until_s = fresh;
        e->used_ms = now_ms;
        pthread_mutex_unlock(&t->mu);
    } else if (err != -ENOENT && err != -EPROTO) {
        log_warn("tiles: cannot store tile %u/%u/%u: %s", f->z, f->x, f->y, strerror(-err));
    }
    outbound_fetch_release(&out);
    return err;
}

static void fetch_job(void *arg)
{
    struct flight *f = arg;
    struct tiles *t = f->t;
    struct waiter *w;
    struct flight **pp;
    bool stopping;
    bool have_old = false;
    int64_t fresh = 0;
    int err;

    pthread_mutex_lock(&t->mu);
    stopping = t->stopping;
    pthread_mutex_unlock(&t->mu);
    err = stopping ? -ESHUTDOWN : fetch_one(t, f, &have_old);
    if (err && err != -ESHUTDOWN && have_old)
        err = 0; /* the tile server failed: the copy we have, stale, is better than nothing */
    pthread_mutex_lock(&t->mu);
    if (err && err != -ESHUTDOWN)
        t->st.errors++;
    for (pp = &t->flights; *pp != f; pp = &(*pp)->next)
        ;
    *pp = f->next; /* from now on a request for this tile finds the cache */
    w = f->waiters;
    if (!err) {
        struct tiles_entry *e = tiles__index_get(&t->ix, f->key);

        fresh = e ? e->fresh_until_s : 0;
    }
    /*
     * Past the cap, before answering (an answer is then a cache that keeps its cap): the tile
     * just fetched is the most recently used, so it is the last to go, and a tile is at most
     * map_tile_max_kb, well under the cap.
     */
    if (t->ix.bytes > t->cache_bytes)
        t->st.evicted += tiles__evict(t->dir, &t->ix, t->cache_bytes / 100 * EVICT_TO_PERCENT);
    pthread_mutex_unlock(&t->mu);
    while (w) {
        struct waiter *next = w->next;
        struct tiles_answer a = { .err = err, .fd = -1 };

        if (!err && open_tile(t, f->key, fresh, &a) != 0)
            a.err = -EIO;
        w->done(w->ctx, &a);
        free(w);
        w = next;
    }
    free(f);
}
