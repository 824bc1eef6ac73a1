/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Static files from the web root (the web app): content types, index.html, ETag and
 * Last-Modified with 304s, single byte ranges (206/416), cache headers, and a small per-loop
 * cache of file contents. Files over CACHE_MAX_FILE are never read into memory: their bytes go
 * from the page cache to the socket with sendfile() (conn.c), so twenty people downloading a
 * large file cost twenty open files, not twenty copies of it.
 *
 * Text files (HTML, CSS, JavaScript, JSON, SVG) that are cached are also kept gzip-compressed,
 * made once when the file is read: a client that accepts gzip gets those bytes (a citizen's
 * first visit is about 2.5 times smaller), with their own ETag and `Vary: Accept-Encoding`; a
 * range request always gets the identity bytes, which its offsets refer to.
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
#include <zlib.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"

/* Files over CACHE_MAX_FILE bytes are sent from an open file per request. */
#define CACHE_SLOTS    256
#define CACHE_MAX_FILE ((size_t)256 * 1024)

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
    bool text; /* compressible: gzip is offered, and the answer varies on Accept-Encoding */
    char etag[64];
    char lastmod[40];
    char *gz; /* the bytes gzip-compressed, when that saves something; NULL otherwise */
    size_t gz_size;
    char gz_etag[72];
};

/* answer()'s max_age for a versioned path: a year, immutable. */
#define MAX_AGE_VERSIONED UINT_MAX

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
    free(e->gz);
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

/* Read the `size` bytes of the open file `fd` (a cacheable one); NULL on error. */
static char *read_all(int fd, size_t size)
{
    char *data = xmalloc(size + 1);
    size_t got = 0;

    while (got < size) {
        ssize_t n = read(fd, data + got, size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(data);
            return NULL;
        }
        got += (size_t)n;
    }
    return data;
}

/* Text formats worth compressing (images, fonts and media already are). */
static bool compressible(const char *type)
{
    return !strncmp(type, "text/", 5) || strstr(type, "javascript") || strstr(type, "json") ||
           strstr(type, "svg") || strstr(type, "manifest");
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
    e->text = compressible(e->type);
    snprintf(e->etag, sizeof(e->etag), "\"%llx-%llx\"", (unsigned long long)st->st_size,
             (unsigned long long)st->st_mtim.tv_sec * 1000000000ull +
                 (unsigned long long)st->st_mtim.tv_nsec);
    clock_http_date((int64_t)st->st_mtim.tv_sec * 1000, date, sizeof(date));
    snprintf(e->lastmod, sizeof(e->lastmod), "%s", date);
}

/*
 * Keep a gzip copy of e->data when it saves at least a tenth: deflate with a gzip wrapper
 * (windowBits 15 + 16), at the best level, once per file and loop.
 */
static void make_gzip(struct entry *e)
{
    z_stream z;
    uLong cap;
    char *out;

    if (!e->text || e->size < 256)
        return;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return;
    cap = deflateBound(&z, (uLong)e->size);
    out = xmalloc(cap);
    z.next_in = (Bytef *)e->data;
    z.avail_in = (uInt)e->size;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END || z.total_out > e->size - e->size / 10) {
        free(out);
        (void)deflateEnd(&z);
        return;
    }
    e->gz = out;
    e->gz_size = z.total_out;
    (void)deflateEnd(&z);
    /* The same version, compressed: another representation, so another (strong) ETag. */
    snprintf(e->gz_etag, sizeof(e->gz_etag), "%.*s-gz\"", (int)strlen(e->etag) - 1, e->etag);
}

/* Whether Accept-Encoding allows gzip: listed, and not with q=0 (RFC 9110 section 12.5.3). */
static bool accepts_gzip(struct http_req *r)
{
    const char *ae = http_req_header(r, "accept-encoding");

    for (const char *p = ae; p && *p;) {
        size_t n;

        p += strspn(p, " \t,");
        n = strcspn(p, ";, \t");
        if ((n == 4 && !strncasecmp(p, "gzip", 4)) || (n == 1 && *p == '*')) {
            const char *q = p + n;

            q += strspn(q, " \t");
            if (*q != ';')
                return true;
            q = strcasestr(q, "q=");
            return !q || strtod(q + 2, NULL) > 0;
        }
        p += strcspn(p, ",");
    }
    return false;
}

static bool same_file(const struct entry *e, const struct stat *st)
{
    return e->dev == st->st_dev && e->ino == st->st_ino && (size_t)st->st_size == e->size &&
           e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec &&
           S_ISREG(st->st_mode);
}

/* If-None-Match wins over If-Modified-Since (RFC 9110 section 13.2.2). */
static bool not_modified(struct http_req *r, const struct entry *e, const char *etag)
{
    const char *inm = http_req_header(r, "if-none-match");
    const char *ims;
    struct tm tm;

    if (inm) {
        size_t elen = strlen(etag);

        for (const char *p = inm; *p;) {
            size_t n;

            p += strspn(p, " \t,");
            if (!strncmp(p, "W/", 2))
                p += 2; /* weak comparison is right for GET (RFC 9110 section 13.1.2) */
            n = strcspn(p, ",");
            while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
                n--;
            if ((n == elen && !memcmp(p, etag, elen)) || (n == 1 && *p == '*'))
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

/*
 * The range a GET asked for, if it still applies: If-Range must name this very version (our
 * ETag, or the Last-Modified date exactly), else the whole file is sent (RFC 9110 13.1.5).
 */
static int wanted_range(struct http_req *r, const struct entry *e, uint64_t *from, uint64_t *to)
{
    const char *range = http_req_header(r, "range");
    const char *if_range = http_req_header(r, "if-range");

    if (!range || r->method != HTTP_M_GET)
        return 0;
    if (if_range && strcmp(if_range, e->etag) != 0 && strcmp(if_range, e->lastmod) != 0)
        return 0;
    return http_range_parse(range, e->size, from, to);
}

/*
 * Answer with the file of `e`: from `data` (cached or small) or from the open file `fd`
 * (takes ownership; -1 when `data` is given).
 */
static void answer(struct http_req *r, const struct entry *e, const char *data, int fd,
                   unsigned max_age)
{
    char cc[64], cr[96];
    uint64_t from = 0, to = e->size ? e->size - 1 : 0, n = e->size;
    bool gz = e->gz && data && !http_req_header(r, "range") && accepts_gzip(r);
    int status = 200;
    int rr;

    http_resp_header(r, "ETag", gz ? e->gz_etag : e->etag);
    http_resp_header(r, "Last-Modified", e->lastmod);
    if (e->text)
        http_resp_header(r, "Vary", "Accept-Encoding");
    if (e->html) {
        snprintf(cc, sizeof(cc), "no-cache");
    } else if (max_age == MAX_AGE_VERSIONED) {
        snprintf(cc, sizeof(cc), "public, max-age=31536000, immutable");
    } else {
        snprintf(cc, sizeof(cc), "public, max-age=%u", max_age);
    }
    http_resp_header(r, "Cache-Control", cc);
    http_resp_header(r, "Accept-Ranges", "bytes");
    if (not_modified(r, e, gz ? e->gz_etag : e->etag)) {
        /* The Content-Length a 200 would have had (RFC 9110 section 8.6), no body. */
        http__respond_ex(r, 304, NULL, NULL, 0, (int64_t)(gz ? e->gz_size : e->size));
        goto out;
    }
    if (gz) {
        http_resp_header(r, "Content-Encoding", "gzip");
        http__respond_ex(r, 200, e->type, e->gz, e->gz_size, (int64_t)e->gz_size);
        return;
    }
    rr = wanted_range(r, e, &from, &to);
    if (rr < 0) {
        snprintf(cr, sizeof(cr), "bytes */%zu", e->size);
        http_resp_header(r, "Content-Range", cr);
        http_respond_error(r, 416, "range_not_satisfiable",
                           "The requested range is outside the file.", NULL);
        goto out;
    }
    if (rr > 0) {
        status = 206;
        n = to - from + 1;
        snprintf(cr, sizeof(cr), "bytes %llu-%llu/%zu", (unsigned long long)from,
                 (unsigned long long)to, e->size);
        http_resp_header(r, "Content-Range", cr);
    }
    if (fd >= 0) {
        http_respond_file(r, status, e->type, fd, from, n);
        return;
    }
    http__respond_ex(r, status, e->type, data + from, (size_t)n, (int64_t)n);
out:
    if (fd >= 0)
        close(fd);
}

/*
 * Resolve `path` and open its file into `e` (a cache slot or a temporary). A file of at most
 * CACHE_MAX_FILE bytes is read into e->data; a larger one is left open in *fd for sendfile().
 * Returns 0 or -ENOENT. O_NOFOLLOW: the resolved path has no symlinks left.
 */
static int load(struct http_server *s, const char *path, struct entry *e, int *fd)
{
    char real[PATH_MAX];
    struct stat st;
    int f;

    *fd = -1;
    if (http__static_resolve(s->root_real, s->root_len, path, real, sizeof(real), &st))
        return -ENOENT;
    e->real = xstrdup(real);
    f = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (f < 0)
        return -ENOENT;
    if (fstat(f, &st) || !S_ISREG(st.st_mode)) {
        close(f);
        return -ENOENT;
    }
    fill_meta(e, &st); /* from the open file: the bytes sent are the ones the ETag names */
    if (e->size > CACHE_MAX_FILE) {
        *fd = f;
        return 0;
    }
    e->data = read_all(f, e->size);
    close(f);
    if (!e->data)
        return -ENOENT;
    make_gzip(e);
    return 0;
}

/*
 * "/v/{version}/rest" names the file "/rest" under a version (docs/WEB.md): the web app's
 * pages link their scripts and styles this way, with a version that changes whenever any of
 * them does, so a browser may keep them for a year. The version is 1-64 letters, digits, '-'
 * or '_' and is not checked against anything. Returns "/rest", or NULL for another path.
 */
static const char *unversioned(const char *path)
{
    size_t n;

    if (strncmp(path, "/v/", 3) != 0)
        return NULL;
    n = strspn(path + 3, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_");
    if (n == 0 || n > 64 || path[3 + n] != '/')
        return NULL;
    return path + 3 + n;
}

void http__static_serve(struct http_req *r)
{
    struct http_loop *loop = r->c->loop;
    struct http_server *s = loop->srv;
    const char *path = http_req_path(r);
    const char *rest = unversioned(path);
    unsigned max_age = rest ? MAX_AGE_VERSIONED : s->opts.static_max_age_s;
    struct entry *e;
    int64_t sec = clock_now_ms() / 1000;
    struct stat st;
    struct entry tmp;
    int fd;

    if (rest)
        path = rest;
    e = &loop->cache->slot[hash(path) % CACHE_SLOTS];

    if (e->key && !strcmp(e->key, path)) {
        if (e->checked_sec == sec) {
            answer(r, e, e->data, -1, max_age);
            return;
        }
        if (!stat(e->real, &st) && same_file(e, &st)) {
            e->checked_sec = sec;
            answer(r, e, e->data, -1, max_age);
            return;
        }
    }
    memset(&tmp, 0, sizeof(tmp));
    if (load(s, path, &tmp, &fd)) {
        entry_clear(&tmp);
        not_found(r);
        return;
    }
    if (fd < 0) {
        entry_clear(e);
        *e = tmp;
        e->key = xstrdup(path);
        e->checked_sec = sec;
        answer(r, e, e->data, -1, max_age);
        return;
    }
    answer(r, &tmp, NULL, fd, max_age); /* sends from fd and closes it */
    entry_clear(&tmp);
}
