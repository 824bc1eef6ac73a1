/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Online backup and integrity check, each on a connection of its own so they work while the
 * writer is busy.
 *
 * The backup API copies pages in steps, and by default it restarts from page one whenever
 * another connection commits between two steps; on a busy server it might never finish. So
 * the source connection first opens a read transaction and keeps it for the whole copy: every
 * step reads the same WAL snapshot, nothing restarts, and the writer goes on committing (in
 * WAL mode a reader does not block it; it only holds checkpoints back to the snapshot).
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "store/store_int.h"

/* Pages per backup step, and the pause between steps that leaves the disk to serving. */
#define BACKUP_STEP_PAGES 256
#define BACKUP_PAUSE_NS   1000000L /* 1 ms */

static int fsync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    int err = 0;

    if (fd < 0)
        return -errno;
    if (fsync(fd))
        err = -errno;
    close(fd);
    return err;
}

/* fsync the directory holding `path`, so that the rename into it is durable too. */
static int fsync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    int err;

    if (!slash)
        return fsync_path(".", O_RDONLY | O_DIRECTORY);
    dir = xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
    err = fsync_path(dir, O_RDONLY | O_DIRECTORY);
    free(dir);
    return err;
}

/* Copy every page of src's open snapshot into dst, reporting progress. */
static int copy_pages(sqlite3 *src, sqlite3 *dst, store_progress_fn *progress, void *ctx, char *err,
                      size_t errlen)
{
    const struct timespec pause = { 0, BACKUP_PAUSE_NS };
    sqlite3_backup *bk;
    int rc;

    bk = sqlite3_backup_init(dst, "main", src, "main");
    if (!bk) {
        snprintf(err, errlen, "store: backup: %s", sqlite3_errmsg(dst));
        return -EIO;
    }
    do {
        rc = sqlite3_backup_step(bk, BACKUP_STEP_PAGES);
        if (progress) {
            int total = sqlite3_backup_pagecount(bk);

            progress(ctx, total - sqlite3_backup_remaining(bk), total);
        }
        if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            nanosleep(&pause, NULL);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    /* finish returns the step's error, if any */
    rc = sqlite3_backup_finish(bk);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "store: backup: %s", sqlite3_errstr(rc));
        return -EIO;
    }
    return 0;
}

int store_backup(struct store *s, const char *path, store_progress_fn *progress, void *ctx,
                 char *err, size_t errlen)
{
    sqlite3 *src = NULL, *dst = NULL;
    struct db *conn = NULL;
    char *tmp = NULL;
    size_t n;
    int fd, ret;

    if (store__database_url(s)) {
        /* PostgreSQL's own tools copy a live database consistently */
        snprintf(err, errlen, "store: backup: the database is PostgreSQL: use pg_dump");
        return -ENOTSUP;
    }
    n = strlen(path) + sizeof(".tmp-XXXXXX");
    tmp = xmalloc(n);
    snprintf(tmp, n, "%s.tmp-XXXXXX", path); /* same directory: rename() stays atomic */
    fd = mkstemp(tmp);
    if (fd < 0) {
        ret = -errno;
        snprintf(err, errlen, "store: backup: cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        return ret;
    }
    close(fd);

    ret = store__connect(s, true, &conn, err, errlen);
    if (ret)
        goto out;
    src = db_sqlite_handle(conn);
    /* BEGIN alone is lazy: the SELECT is what pins the snapshot for the whole copy. */
    if (sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL)) {
        snprintf(err, errlen, "store: backup: %s", sqlite3_errmsg(src));
        ret = -EIO;
        goto out;
    }
    if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL)) {
        snprintf(err, errlen, "store: backup: cannot open %s: %s", tmp,
                 dst ? sqlite3_errmsg(dst) : "out of memory");
        ret = -EIO;
        goto out;
    }
    ret = copy_pages(src, dst, progress, ctx, err, errlen);
    if (ret)
        goto out;
    if (sqlite3_close(dst) != SQLITE_OK) {
        snprintf(err, errlen, "store: backup: closing %s: %s", tmp, sqlite3_errmsg(dst));
        ret = -EIO;
        goto out;
    }
    dst = NULL;
    ret = fsync_path(tmp, O_RDONLY);
    if (!ret && rename(tmp, path))
        ret = -errno;
    if (!ret)
        ret = fsync_parent(path);
    if (ret)
        snprintf(err, errlen, "store: backup: cannot write %s: %s", path, strerror(-ret));
out:
    sqlite3_close(dst);
    db_close(conn); /* ends the read transaction */
    if (ret)
        unlink(tmp); /* harmless after a successful rename: then ret is 0 */
    free(tmp);
    return ret;
}

int store_integrity_check(struct store *s, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    struct db *conn = NULL;
    const unsigned char *msg;
    sqlite3 *db;
    int ret;

    ret = store__connect(s, true, &conn, err, errlen);
    if (ret)
        return ret;
    db = db_sqlite_handle(conn);
    if (!db) {
        /* PostgreSQL checks its pages itself (data checksums, amcheck): reachable is all */
        db_close(conn);
        return 0;
    }
    ret = -EIO;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check(1)", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        snprintf(err, errlen, "store: integrity check: %s", sqlite3_errmsg(db));
        goto out;
    }
    msg = sqlite3_column_text(st, 0);
    if (!msg || strcmp((const char *)msg, "ok") != 0) {
        snprintf(err, errlen, "store: integrity check: %s", msg ? (const char *)msg : "?");
        goto out;
    }
    ret = 0;
out:
    sqlite3_finalize(st);
    db_close(conn);
    return ret;
}
