/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The tile cache's files and index (tiles_int.h). The index is a flat hash table because a
 * full cache holds tens of thousands of tiles (256 MB of 10-30 KB PNGs) and every request
 * looks one up.
 */
#include "tiles/tiles_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"

static const char magic[] = "araldo-tile 1\n";

/* ---- index ---- */

static size_t slot_of(const struct tiles_index *ix, uint64_t key)
{
    uint64_t h = key * 0x9e3779b97f4a7c15ULL; /* Fibonacci hashing spreads the packed bits */

    return (size_t)(h >> 20) & (ix->cap - 1);
}

void tiles__index_release(struct tiles_index *ix)
{
    free(ix->slot);
    memset(ix, 0, sizeof(*ix));
}

struct tiles_entry *tiles__index_get(struct tiles_index *ix, uint64_t key)
{
    if (!ix->cap)
        return NULL;
    for (size_t i = slot_of(ix, key);; i = (i + 1) & (ix->cap - 1)) {
        if (ix->slot[i].key == key)
            return &ix->slot[i];
        if (!ix->slot[i].key)
            return NULL;
    }
}

static void grow(struct tiles_index *ix)
{
    struct tiles_index big = { .cap = ix->cap ? ix->cap * 2 : 1024, .bytes = ix->bytes };

    big.slot = xcalloc(big.cap, sizeof(*big.slot));
    for (size_t i = 0; i < ix->cap; i++) {
        const struct tiles_entry *e = &ix->slot[i];
        size_t j;

        if (!e->key)
            continue;
        for (j = slot_of(&big, e->key); big.slot[j].key; j = (j + 1) & (big.cap - 1))
            ;
        big.slot[j] = *e;
        big.n++;
    }
    free(ix->slot);
    *ix = big;
}

struct tiles_entry *tiles__index_put(struct tiles_index *ix, uint64_t key)
{
    struct tiles_entry *e = tiles__index_get(ix, key);
    size_t i;

    if (e)
        return e;
    if ((ix->n + 1) * 4 > ix->cap * 3) /* at most 3/4 full: probes stay short */
        grow(ix);
    for (i = slot_of(ix, key); ix->slot[i].key; i = (i + 1) & (ix->cap - 1))
        ;
    ix->slot[i] = (struct tiles_entry){ .key = key };
    ix->n++;
    return &ix->slot[i];
}

void tiles__index_set_size(struct tiles_index *ix, struct tiles_entry *e, uint64_t size)
{
    ix->bytes = ix->bytes - e->size + size;
    e->size = size;
}

void tiles__index_del(struct tiles_index *ix, uint64_t key)
{
    struct tiles_entry *e = tiles__index_get(ix, key);
    size_t i;
    size_t j;

    if (!e)
        return;
    ix->bytes -= e->size;
    ix->n--;
    i = (size_t)(e - ix->slot);
    /* Backward shift: pull later entries of the same probe run into the hole. */
    for (j = (i + 1) & (ix->cap - 1); ix->slot[j].key; j = (j + 1) & (ix->cap - 1)) {
        size_t home = slot_of(ix, ix->slot[j].key);

        /* The entry at j may move to i only if its home is not in (i, j] (cyclically). */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            ix->slot[i] = ix->slot[j];
            i = j;
        }
    }
    ix->slot[i].key = 0;
}

/* ---- files ---- */

static void unpack(uint64_t key, unsigned *z, unsigned *x, unsigned *y)
{
    *z = (unsigned)(key >> 44) - 1;
    *x = (unsigned)(key >> 22) & 0x3fffff;
    *y = (unsigned)key & 0x3fffff;
}

void tiles__path(const char *dir, uint64_t key, char *out, size_t outlen)
{
    unsigned z;
    unsigned x;
    unsigned y;

    unpack(key, &z, &x, &y);
    snprintf(out, outlen, "%s/%u/%u/%u.tile", dir, z, x, y);
}

static int mkdir_one(const char *path)
{
    return mkdir(path, 0750) == 0 || errno == EEXIST ? 0 : -errno;
}

int tiles__write(const char *dir, uint64_t key, const void *png, size_t len, const char *etag,
                 const char *last_modified, int64_t fresh_until_s)
{
    char path[TILES__PATH_MAX];
    char tmp[TILES__PATH_MAX + 16];
    char hdr[TILES__HDR];
    unsigned z;
    unsigned x;
    unsigned y;
    int fd = -1;
    int n;
    int err;

    unpack(key, &z, &x, &y);
    snprintf(path, sizeof(path), "%s/%u", dir, z);
    err = mkdir_one(path);
    if (!err) {
        snprintf(path, sizeof(path), "%s/%u/%u", dir, z, x);
        err = mkdir_one(path);
    }
    if (err)
        return err;
    memset(hdr, ' ', sizeof(hdr));
    n = snprintf(hdr, sizeof(hdr), "%s%s\n%s\n", magic, etag ? etag : "",
                 last_modified ? last_modified : "");
    if (n < 0 || (size_t)n >= sizeof(hdr) - 1)
        return -EINVAL;
    hdr[n] = ' '; /* snprintf's NUL becomes padding */
    hdr[sizeof(hdr) - 1] = '\n';
    tiles__path(dir, key, path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
        write(fd, png, len) != (ssize_t)len) {
        err = errno ? -errno : -EIO;
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        err = -errno;
        goto fail;
    }
    fd = -1;
    err = tiles__set_fresh(tmp, fresh_until_s);
    if (err)
        goto fail;
    if (rename(tmp, path) != 0) {
        err = -errno;
        goto fail;
    }
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return err;
}

int tiles__read_validators(const char *path, char etag[TILES__ETAG_MAX],
                           char last_modified[TILES__LMOD_MAX])
{
    char hdr[TILES__HDR + 1];
    const char *p;
    size_t n;
    ssize_t got;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    etag[0] = '\0';
    last_modified[0] = '\0';
    if (fd < 0)
        return -errno;
    got = read(fd, hdr, TILES__HDR);
    close(fd);
    if (got != TILES__HDR || memcmp(hdr, magic, sizeof(magic) - 1) != 0)
        return -EINVAL;
    hdr[TILES__HDR] = '\0';
    p = hdr + sizeof(magic) - 1;
    n = strcspn(p, "\n");
    if (n < TILES__ETAG_MAX) {
        memcpy(etag, p, n);
        etag[n] = '\0';
    }
    p += n + (p[n] == '\n');
    n = strcspn(p, "\n");
    if (n < TILES__LMOD_MAX) {
        memcpy(last_modified, p, n);
        last_modified[n] = '\0';
    }
    return 0;
}

int tiles__set_fresh(const char *path, int64_t fresh_until_s)
{
    struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = (time_t)fresh_until_s } };

    return utimensat(AT_FDCWD, path, ts, 0) == 0 ? 0 : -errno;
}

/* A whole decimal number below `limit`, nothing else. */
static bool number(const char *s, unsigned long limit, unsigned *out)
{
    char *end;
    unsigned long v;

    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1]))
        return false;
    v = strtoul(s, &end, 10);
    if (v >= limit)
        return false;
    *out = (unsigned)v;
    return *end == '\0' || !strcmp(end, ".tile");
}

/* Index the tiles of DIR/z/x. */
static void scan_x(int xfd, unsigned z, unsigned x, int64_t min_fresh_s, struct tiles_index *ix)
{
    DIR *d = fdopendir(xfd);
    struct dirent *de;

    if (!d) {
        close(xfd);
        return;
    }
    while ((de = readdir(d))) {
        struct stat st;
        struct tiles_entry *e;
        unsigned y;

        if (de->d_name[0] == '.')
            continue;
        if (!number(de->d_name, 1UL << z, &y) || !strstr(de->d_name, ".tile") ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
            st.st_size <= TILES__HDR) {
            unlinkat(dirfd(d), de->d_name, 0); /* a crash's temporary file, or not ours */
            continue;
        }
        e = tiles__index_put(ix, tiles__key(z, x, y));
        tiles__index_set_size(ix, e, (uint64_t)st.st_size);
        e->fresh_until_s = (int64_t)st.st_mtim.tv_sec;
        e->used_ms = (e->fresh_until_s - min_fresh_s) * 1000; /* about when it was fetched */
    }
    closedir(d);
}

/* Index DIR/z/x for every x. */
static void scan_z(int zfd, unsigned z, int64_t min_fresh_s, struct tiles_index *ix)
{
    DIR *d = fdopendir(zfd);
    struct dirent *de;

    if (!d) {
        close(zfd);
        return;
    }
    while ((de = readdir(d))) {
        unsigned x;
        int xfd;

        if (de->d_name[0] == '.' || !number(de->d_name, 1UL << z, &x) || strchr(de->d_name, '.'))
            continue;
        xfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (xfd >= 0)
            scan_x(xfd, z, x, min_fresh_s, ix);
    }
    closedir(d);
}

int tiles__scan(const char *dir, unsigned max_zoom, int64_t min_fresh_s, struct tiles_index *ix)
{
    DIR *d;
    struct dirent *de;

    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return -errno;
    d = opendir(dir);
    if (!d)
        return -errno;
    while ((de = readdir(d))) {
        unsigned z;
        int zfd;

        if (de->d_name[0] == '.' || !number(de->d_name, max_zoom + 1UL, &z) ||
            strchr(de->d_name, '.'))
            continue;
        zfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (zfd >= 0)
            scan_z(zfd, z, min_fresh_s, ix);
    }
    closedir(d);
    return 0;
}

static int by_use(const void *a, const void *b)
{
    const struct tiles_entry *x = a;
    const struct tiles_entry *y = b;

    return (x->used_ms > y->used_ms) - (x->used_ms < y->used_ms);
}

size_t tiles__evict(const char *dir, struct tiles_index *ix, uint64_t target)
{
    struct tiles_entry *v;
    size_t n = 0;
    size_t gone = 0;

    if (ix->bytes <= target)
        return 0;
    /* A copy sorted by last use: eviction is rare (the cache filled up), so O(n log n) is fine. */
    v = xmalloc(ix->n * sizeof(*v));
    for (size_t i = 0; i < ix->cap; i++) {
        if (ix->slot[i].key)
            v[n++] = ix->slot[i];
    }
    qsort(v, n, sizeof(*v), by_use);
    for (size_t i = 0; i < n && ix->bytes > target; i++) {
        char path[TILES__PATH_MAX];

        tiles__path(dir, v[i].key, path, sizeof(path));
        unlink(path); /* an open file stays readable for whoever is sending it */
        tiles__index_del(ix, v[i].key);
        gone++;
    }
    free(v);
    return gone;
}
