/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store/db.h on SQLite: thin calls into the sqlite3 API. Statements that live as long as the
 * connection are prepared with SQLITE_PREPARE_PERSISTENT. Control statements (BEGIN, SAVEPOINT
 * ...) go through the same cache, so the writer's per-write SAVEPOINT is not parsed each time.
 *
 * `INSERT ... RETURNING id` (how the store learns a new row's id on every engine) is run here
 * without its RETURNING clause, and its one row is made from sqlite3_last_insert_rowid():
 * SQLite implements RETURNING by collecting the rows in a temporary table, which made the
 * write path's token insert about 20% slower (tests/unit/test_store.c group commit, measured
 * against the sqlite3_last_insert_rowid() it replaced). Only single-row inserts use it.
 */
#include "store/db.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "store/db_int.h"

/* Waits for a lock held by another process (backup, sqlite3 shell, a checkpoint) this long. */
#define BUSY_TIMEOUT_MS 5000

struct lite {
    struct db base; /* first: db.c knows only this part */
    sqlite3 *h;
};

/* The suffix of an insert whose id is read from sqlite3_last_insert_rowid() instead. */
static const char returning_id[] = " RETURNING id";

struct lite_stmt {
    struct db_stmt base;
    sqlite3_stmt *st;
    bool rowid;       /* prepared without returning_id: make its row */
    bool rowid_given; /* that row was handed out: the next step is the end */
    int64_t id;
};

static sqlite3 *handle(struct db *db)
{
    return container_of(db, struct lite, base)->h;
}

static sqlite3_stmt *stmt(struct db_stmt *st)
{
    return container_of(st, struct lite_stmt, base)->st;
}

/* SQLite's result code in our error space (db.h). */
static int map_error(sqlite3 *h, int rc)
{
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return -EEXIST;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return -ENOENT;
    case SQLITE_FULL:
        return -ENOSPC;
    default:
        /* In WAL mode a full disk mostly shows as an I/O error on the -wal file (growing it
         * fails), with ENOSPC underneath: that is the operator's problem, not a bug. */
        if ((rc & 0xff) == SQLITE_IOERR &&
            (sqlite3_system_errno(h) == ENOSPC || sqlite3_system_errno(h) == EDQUOT))
            return -ENOSPC;
        return -EIO;
    }
}

static int lite_prepare(struct db *db, const char *sql, size_t len, bool cached,
                        struct db_stmt **out)
{
    const size_t suffix = sizeof(returning_id) - 1;
    sqlite3_stmt *raw = NULL;
    struct lite_stmt *st;
    bool rowid = false;
    int rc;

    if (len > suffix && !memcmp(sql + len - suffix, returning_id, suffix)) {
        rowid = true;
        len -= suffix;
    }
    rc = sqlite3_prepare_v3(handle(db), sql, (int)len, cached ? SQLITE_PREPARE_PERSISTENT : 0, &raw,
                            NULL);
    if (rc != SQLITE_OK || !raw) {
        sqlite3_finalize(raw);
        return rc == SQLITE_OK ? -EINVAL : map_error(handle(db), rc); /* empty SQL: a bug */
    }
    st = xcalloc(1, sizeof(*st));
    st->base.db = db;
    st->st = raw;
    st->rowid = rowid;
    *out = &st->base;
    return 0;
}

static void lite_finalize(struct db_stmt *st)
{
    sqlite3_finalize(stmt(st));
    free(container_of(st, struct lite_stmt, base));
}

static void lite_reset(struct db_stmt *st)
{
    container_of(st, struct lite_stmt, base)->rowid_given = false;
    /* reset's return repeats the step's error, which the caller has already handled */
    (void)sqlite3_reset(stmt(st));
    sqlite3_clear_bindings(stmt(st));
}

static void lite_bind_i64(struct db_stmt *st, int i, int64_t v)
{
    sqlite3_bind_int64(stmt(st), i, v);
}

static void lite_bind_double(struct db_stmt *st, int i, double v)
{
    sqlite3_bind_double(stmt(st), i, v);
}

static void lite_bind_text(struct db_stmt *st, int i, const char *s, size_t len, bool terminated)
{
    (void)terminated;
    sqlite3_bind_text(stmt(st), i, s, (int)len, SQLITE_STATIC);
}

static void lite_bind_blob(struct db_stmt *st, int i, const void *p, size_t len)
{
    sqlite3_bind_blob(stmt(st), i, p, (int)len, SQLITE_STATIC);
}

static void lite_bind_null(struct db_stmt *st, int i)
{
    sqlite3_bind_null(stmt(st), i);
}

static int lite_step(struct db_stmt *st)
{
    struct lite_stmt *l = container_of(st, struct lite_stmt, base);
    int rc;

    if (l->rowid_given)
        return DB_DONE;
    rc = sqlite3_step(l->st);
    if (rc == SQLITE_ROW)
        return DB_ROW;
    if (rc != SQLITE_DONE)
        return map_error(handle(st->db), rc);
    if (!l->rowid || sqlite3_changes(handle(st->db)) == 0)
        return DB_DONE; /* an insert that inserted nothing returns no row */
    /* the value outside any trigger's own inserts, as RETURNING would give */
    l->id = sqlite3_last_insert_rowid(handle(st->db));
    l->rowid_given = true;
    return DB_ROW;
}

static int64_t lite_col_i64(struct db_stmt *st, int i)
{
    struct lite_stmt *l = container_of(st, struct lite_stmt, base);

    return l->rowid_given ? l->id : sqlite3_column_int64(l->st, i);
}

static double lite_col_double(struct db_stmt *st, int i)
{
    return sqlite3_column_double(stmt(st), i);
}

static const char *lite_col_text(struct db_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(stmt(st), i);
}

static const void *lite_col_blob(struct db_stmt *st, int i)
{
    return sqlite3_column_blob(stmt(st), i);
}

static size_t lite_col_bytes(struct db_stmt *st, int i)
{
    return (size_t)sqlite3_column_bytes(stmt(st), i);
}

static bool lite_col_is_null(struct db_stmt *st, int i)
{
    return sqlite3_column_type(stmt(st), i) == SQLITE_NULL;
}

static int lite_changes(struct db *db)
{
    return sqlite3_changes(handle(db));
}

static int lite_exec(struct db *db, const char *sql)
{
    struct db_stmt *st = db_stmt(db, sql);
    int rc;

    if (!st)
        return -EIO;
    rc = lite_step(st);
    lite_reset(st);
    if (rc == DB_DONE)
        return 0;
    return rc < 0 ? rc : -EIO;
}

static int lite_exec_script(struct db *db, const char *sql)
{
    int rc = sqlite3_exec(handle(db), sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? 0 : map_error(handle(db), rc);
}

static bool lite_in_tx(struct db *db)
{
    return !sqlite3_get_autocommit(handle(db));
}

static const char *lite_errmsg(struct db *db)
{
    return sqlite3_errmsg(handle(db));
}

static void lite_close(struct db *db)
{
    struct lite *l = container_of(db, struct lite, base);

    if (sqlite3_close(l->h) != SQLITE_OK)
        log_warn("store: closing the database: %s", sqlite3_errmsg(l->h));
    free(l);
}

static const struct db_ops lite_ops = {
    .prepare = lite_prepare,
    .finalize = lite_finalize,
    .reset = lite_reset,
    .bind_i64 = lite_bind_i64,
    .bind_double = lite_bind_double,
    .bind_text = lite_bind_text,
    .bind_blob = lite_bind_blob,
    .bind_null = lite_bind_null,
    .step = lite_step,
    .col_i64 = lite_col_i64,
    .col_double = lite_col_double,
    .col_text = lite_col_text,
    .col_blob = lite_col_blob,
    .col_bytes = lite_col_bytes,
    .col_is_null = lite_col_is_null,
    .changes = lite_changes,
    .exec = lite_exec,
    .exec_script = lite_exec_script,
    .in_tx = lite_in_tx,
    .errmsg = lite_errmsg,
    .close = lite_close,
};

int db_sqlite_open(const char *path, bool readonly, struct db **out, char *err, size_t errlen)
{
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    struct lite *l;
    sqlite3 *h = NULL;

    *out = NULL;
    /* NOMUTEX: each connection belongs to one thread at a time, so SQLite's locks are waste. */
    if (sqlite3_open_v2(path, &h, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "store: cannot open %s: %s", path,
                 h ? sqlite3_errmsg(h) : "out of memory");
        sqlite3_close(h);
        return -EIO;
    }
    sqlite3_extended_result_codes(h, 1); /* UNIQUE vs FOREIGN KEY decide -EEXIST vs -ENOENT */
    sqlite3_busy_timeout(h, BUSY_TIMEOUT_MS);
    /* Defensive: no writable_schema or other ways of corrupting the file through SQL. The
     * schema itself is trusted (trusted_schema stays ON): it is ours, written by the embedded
     * migrations, and its CHECKs use json_valid(), which SQLite 3.40 does not mark innocuous. */
    sqlite3_db_config(h, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    if (sqlite3_exec(h, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "store: PRAGMA foreign_keys = ON: %s", sqlite3_errmsg(h));
        sqlite3_close(h);
        return -EIO;
    }
    l = xcalloc(1, sizeof(*l));
    db__init(&l->base, &lite_ops, DB_SQLITE);
    l->h = h;
    *out = &l->base;
    return 0;
}

struct sqlite3 *db_sqlite_handle(struct db *db)
{
    return db && db->backend == DB_SQLITE ? handle(db) : NULL;
}
