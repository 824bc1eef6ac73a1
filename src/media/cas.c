/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Content-addressed files under DATA_DIR/media (see cas.h for the contract). */
#include "media/cas.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/secret.h"

bool media_cas_hex_valid(const char *s)
{
    size_t i;

    for (i = 0; s[i]; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return i == 64;
}

int media_cas_path(const char *root, const char *hex, char *out, size_t outlen)
{
    int n;

    if (!media_cas_hex_valid(hex))
        return -EINVAL;
    n = snprintf(out, outlen, "%s/%.2s/%s", root, hex, hex + 2);
    return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int err = 0;

    if (fd < 0)
        return -errno;
    if (fsync(fd))
        err = -errno;
    close(fd);
    return err;
}

/* mkdir that is fine with an existing directory; fsyncs the parent after creating one. */
static int ensure_dir(const char *path, const char *parent)
{
    if (!mkdir(path, 0700))
        return parent ? fsync_dir(parent) : 0;
    return errno == EEXIST ? 0 : -errno;
}

static int write_all(int fd, const void *p, size_t len)
{
    const char *c = p;

    while (len) {
        ssize_t n = write(fd, c, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        c += n;
        len -= (size_t)n;
    }
    return 0;
}

int media_cas_put(const char *root, const void *p, size_t len, char hex[MEDIA_HASH_HEX])
{
    uint8_t h[SECRET_HASH_LEN];
    char dir[4096];
    char path[4096];
    char tmp[4096];
    int fd = -1;
    int err;

    secret_sha256(p, len, h);
    secret_hex(h, sizeof(h), hex);
    tmp[0] = '\0';
    if ((size_t)snprintf(dir, sizeof(dir), "%s/%.2s", root, hex) >= sizeof(dir))
        return -ENAMETOOLONG;
    err = media_cas_path(root, hex, path, sizeof(path));
    if (err)
        return err;
    err = ensure_dir(root, NULL);
    if (!err)
        err = ensure_dir(dir, root);
    if (err)
        goto out;
    if (!utimensat(AT_FDCWD, path, NULL, 0))
        goto out; /* already stored: dedup, and the sweep's grace period starts over */
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.tmp-XXXXXX", dir) >= sizeof(tmp)) {
        tmp[0] = '\0';
        err = -ENAMETOOLONG;
        goto out;
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        err = -errno;
        tmp[0] = '\0';
        goto out;
    }
    err = write_all(fd, p, len);
    if (!err && fsync(fd))
        err = -errno;
    if (!err && fchmod(fd, 0600))
        err = -errno;
    if (close(fd) && !err)
        err = -errno;
    fd = -1;
    if (!err && rename(tmp, path))
        err = -errno;
    if (!err) {
        tmp[0] = '\0';
        err = fsync_dir(dir);
    }
out:
    if (fd >= 0)
        close(fd);
    if (tmp[0])
        unlink(tmp);
    return err;
}

/*
 * Delete the content file `path` (named `name` in `dir`) unless an upload touched it meanwhile.
 * Between the sweep's checks and an unlink, an upload of the same bytes may refresh the file
 * (deduplication) and record a row for it. So the file is first renamed aside, then its time
 * is checked again: refreshed, it goes back (any file by that name has the same bytes, so
 * putting it back over a fresh copy is harmless); else it is deleted. An upload that comes
 * after the rename finds no file and writes its own copy. Returns 0 when deleted.
 */
static int discard(const char *dir, const char *name, const char *path, int64_t before_s)
{
    char aside[4096];
    struct stat st;

    if ((size_t)snprintf(aside, sizeof(aside), "%s/.tmp-sweep-%s", dir, name) >= sizeof(aside))
        return -ENAMETOOLONG;
    if (rename(path, aside))
        return -errno;
    if (!lstat(aside, &st) && st.st_mtime >= before_s) {
        (void)rename(aside, path);
        return -EBUSY;
    }
    return unlink(aside) ? -errno : 0;
}

/* One two-hex-digit directory of the store. */
static int sweep_dir(const char *root, const char *sub, int64_t before_s, media_cas_used_fn *used,
                     void *ctx, unsigned *deleted)
{
    char dir[4096];
    char path[4096];
    char hex[MEDIA_HASH_HEX];
    struct dirent *de;
    struct stat st;
    DIR *d;

    snprintf(dir, sizeof(dir), "%s/%s", root, sub);
    d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    while ((de = readdir(d))) {
        bool tmp = !strncmp(de->d_name, ".tmp-", 5);

        if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
            continue;
        if (!tmp) {
            if (strlen(de->d_name) != 62)
                continue;
            snprintf(hex, sizeof(hex), "%s%s", sub, de->d_name);
            if (!media_cas_hex_valid(hex))
                continue;
        }
        if (lstat(path, &st) || !S_ISREG(st.st_mode) || st.st_mtime >= before_s)
            continue;
        if (!tmp && used(ctx, hex))
            continue;
        if (tmp ? !unlink(path) : !discard(dir, de->d_name, path, before_s))
            (*deleted)++;
    }
    closedir(d);
    return 0;
}

int media_cas_sweep(const char *root, int64_t before_s, media_cas_used_fn *used, void *ctx,
                    unsigned *deleted)
{
    struct dirent *de;
    DIR *d = opendir(root);
    int err = 0;

    *deleted = 0;
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    while (!err && (de = readdir(d))) {
        const char *n = de->d_name;

        if (strlen(n) == 2 && strchr("0123456789abcdef", n[0]) && strchr("0123456789abcdef", n[1]))
            err = sweep_dir(root, n, before_s, used, ctx, deleted);
    }
    closedir(d);
    return err;
}
