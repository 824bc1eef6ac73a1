/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Static files from the web root (the web app): content types, index.html, ETag and
 * Last-Modified with 304s, cache headers, and a small per-loop cache of file contents.
 *
 * Never a file outside the root: the path decoder already refused "." and ".." segments, NUL
 * and encoded slashes; here backslashes and hidden files are refused, and the candidate is
 * resolved with realpath() (every symlink followed) and must still lie under the root's own
 * realpath. The cache revalidates an entry at most once a second with one stat() of the
 * resolved path; if the file changed in any way (another inode included, as when a component
 * became a symlink), it is resolved again from scratch.
 */
#include "http/http_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"

#define CACHE_SLOTS     256
#define CACHE_MAX_FILE  (256 * 1024)       /* larger files are read per request */
#define STATIC_MAX_FILE (64 * 1024 * 1024) /* larger files are not served from memory */

struct entry {
    char *key;  /* the decoded request path */
    char *real; /* resolved file */
    char *data;
    size_t size;
    dev_t dev;
    ino_t ino;
    struct timespec mtime;
    int64_t checked_sec;
    const char *type;
    bool html;
    char etag[64];
    char lastmod[40];
};

struct http__static_cache {
    struct entry slot[CACHE_SLOTS];
};

static const struct {
    const char *ext, *type;
} types[] = {
    { "html", "text/html; charset=utf-8" },
    { "htm", "text/html; charset=utf-8" },
    { "css", "text/css; charset=utf-8" },
    { "js", "text/javascript; charset=utf-8" },
    { "mjs", "text/javascript; charset=utf-8" },
    { "json", "application/json" },
    { "svg", "image/svg+xml" },
    { "png", "image/png" },
    { "jpg", "image/jpeg" },
    { "jpeg", "image/jpeg" },
    { "webp", "image/webp" },
    { "gif", "image/gif" },
    { "ico", "image/x-icon" },
    { "webmanifest", "application/manifest+json" },
    { "txt", "text/plain; charset=utf-8" },
    { "woff2", "font/woff2" },
    { "wasm", "application/wasm" },
    { "xml", "application/xml" },
    { "map", "application/json" },
};

const char *http__content_type(const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash ? slash : name, '.');

    if (dot) {
        for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
            if (!strcasecmp(dot + 1, types[i].ext))
                return types[i].type;
        }
    }
    return "application/octet-stream";
}

struct http__static_cache *http__static_cache_new(void)
{
    return xcalloc(1, sizeof(struct http__static_cache));
}

static void entry_clear(struct entry *e)
{
    free(e->key);
    free(e->real);
    free(e->data);
    memset(e, 0, sizeof(*e));
}

void http__static_cache_free(struct http__static_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        entry_clear(&c->slot[i]);
    free(c);
}

static bool under_root(const char *root, size_t root_len, const char *real)
{
    return !strncmp(real, root, root_len) && (real[root_len] == '/' || real[root_len] == '\0');
}

int http__static_resolve(const char *root, size_t root_len, const char *path, char *out,
                         size_t outlen, struct stat *st)
{
    char cand[PATH_MAX];
    int n;

    if (path[0] != '/' || strchr(path, '\\') || strstr(path, "/.") || outlen < PATH_MAX)
        return -ENOENT; /* backslashes, hidden files and dot segments are never served */
    n = snprintf(cand, sizeof(cand), "%s%s%s", root, path,
                 path[strlen(path) - 1] == '/' ? "index.html" : "");
    if (n < 0 || (size_t)n >= sizeof(cand) || !realpath(cand, out))
        return -ENOENT;
    if (!under_root(root, root_len, out))
        return -EACCES;
    if (stat(out, st))
        return -ENOENT;
    if (S_ISDIR(st->st_mode)) {
        n = snprintf(cand, sizeof(cand), "%s/index.html", out);
        if (n < 0 || (size_t)n >= sizeof(cand) || !realpath(cand, out))
            return -ENOENT;
        if (!under_root(root, root_len, out))
            return -EACCES;
        if (stat(out, st))
            return -ENOENT;
    }
    return S_ISREG(st->st_mode) ? 0 : -ENOENT;
}

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

/* Read the whole regular file; NULL on error. O_NOFOLLOW: the resolved path has no symlinks. */
static char *read_file(const char *real, struct stat *st)
{
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    char *data = NULL;
    size_t got = 0;

    if (fd < 0)
        return NULL;
    if (fstat(fd, st) || !S_ISREG(st->st_mode) || st->st_size > STATIC_MAX_FILE)
        goto fail;
    data = xmalloc((size_t)st->st_size + 1);
    while (got < (size_t)st->st_size) {
        ssize_t n = read(fd, data + got, (size_t)st->st_size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto fail;
        got += (size_t)n;
    }
    close(fd);
    return data;
fail:
    free(data);
    close(fd);
    return NULL;
}

static void fill_meta(struct entry *e, const struct stat *st)
{
    char date[40];

    e->size = (size_t)st->st_size;
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->mtime = st->st_mtim;
    e->type = http__content_type(e->real);
    e->html = !strncmp(e->type, "text/html", 9);
    snprintf(e->etag, sizeof(e->etag), "\"%llx-%llx\"", (unsigned long long)st->st_size,
             (unsigned long long)st->st_mtim.tv_sec * 1000000000ull +
                 (unsigned long long)st->st_mtim.tv_nsec);
    clock_http_date((int64_t)st->st_mtim.tv_sec * 1000, date, sizeof(date));
    snprintf(e->lastmod, sizeof(e->lastmod), "%s", date);
}

static bool same_file(const struct entry *e, const struct stat *st)
{
    return e->dev == st->st_dev && e->ino == st->st_ino && (size_t)st->st_size == e->size &&
           e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec &&
           S_ISREG(st->st_mode);
}

/* If-None-Match wins over If-Modified-Since (RFC 9110 section 13.2.2). */
static bool not_modified(struct http_req *r, const struct entry *e)
{
    const char *inm = http_req_header(r, "if-none-match");
    const char *ims;
    struct tm tm;

    if (inm) {
        size_t elen = strlen(e->etag);

        for (const char *p = inm; *p;) {
            size_t n;

            p += strspn(p, " \t,");
            if (!strncmp(p, "W/", 2))
                p += 2; /* weak comparison is right for GET (RFC 9110 section 13.1.2) */
            n = strcspn(p, ",");
            while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
                n--;
            if ((n == elen && !memcmp(p, e->etag, elen)) || (n == 1 && *p == '*'))
                return true;
            p += strcspn(p, ",");
        }
        return false;
    }
    ims = http_req_header(r, "if-modified-since");
    memset(&tm, 0, sizeof(tm));
    if (ims && strptime(ims, "%a, %d %b %Y %H:%M:%S GMT", &tm))
        return timegm(&tm) >= e->mtime.tv_sec;
    return false;
}

static void not_found(struct http_req *r)
{
    http_respond_error(r, 404, "not_found", "Nothing exists at this address; check the link.",
                       NULL);
}

static void answer(struct http_req *r, const struct entry *e, const char *data, unsigned max_age)
{
    char cc[64];

    http_resp_header(r, "ETag", e->etag);
    http_resp_header(r, "Last-Modified", e->lastmod);
    if (e->html)
        snprintf(cc, sizeof(cc), "no-cache");
    else
        snprintf(cc, sizeof(cc), "public, max-age=%u", max_age);
    http_resp_header(r, "Cache-Control", cc);
    if (not_modified(r, e)) {
        /* The Content-Length a 200 would have had (RFC 9110 section 8.6), no body. */
        http__respond_ex(r, 304, NULL, NULL, 0, (int64_t)e->size);
        return;
    }
    http__respond_ex(r, 200, e->type, data, e->size, (int64_t)e->size);
}

/* Resolve and read into `e` (a cache slot or a temporary). Returns 0 or -ENOENT. */
static int load(struct http_server *s, const char *path, struct entry *e)
{
    char real[PATH_MAX];
    struct stat st;

    if (http__static_resolve(s->root_real, s->root_len, path, real, sizeof(real), &st))
        return -ENOENT;
    e->real = xstrdup(real);
    e->data = read_file(real, &st);
    if (!e->data)
        return -ENOENT;
    fill_meta(e, &st);
    return 0;
}

void http__static_serve(struct http_req *r)
{
    struct http_loop *loop = r->c->loop;
    struct http_server *s = loop->srv;
    const char *path = http_req_path(r);
    struct entry *e = &loop->cache->slot[hash(path) % CACHE_SLOTS];
    int64_t sec = clock_now_ms() / 1000;
    struct stat st;
    struct entry tmp;

    if (e->key && !strcmp(e->key, path)) {
        if (e->checked_sec == sec) {
            answer(r, e, e->data, s->opts.static_max_age_s);
            return;
        }
        if (!stat(e->real, &st) && same_file(e, &st)) {
            e->checked_sec = sec;
            answer(r, e, e->data, s->opts.static_max_age_s);
            return;
        }
    }
    memset(&tmp, 0, sizeof(tmp));
    if (load(s, path, &tmp)) {
        entry_clear(&tmp);
        not_found(r);
        return;
    }
    if (tmp.size <= CACHE_MAX_FILE) {
        entry_clear(e);
        *e = tmp;
        e->key = xstrdup(path);
        e->checked_sec = sec;
        answer(r, e, e->data, s->opts.static_max_age_s);
        return;
    }
    answer(r, &tmp, tmp.data, s->opts.static_max_age_s);
    entry_clear(&tmp);
}
