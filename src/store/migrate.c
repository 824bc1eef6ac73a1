/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Schema migrations: src/store/migrations/NNN_name.sql, embedded in the binary in order
 * (store/migrations.h). The database records what it has in schema_migrations, which this
 * file creates itself because it is the bookkeeping, not the schema.
 *
 * Each migration runs in its own BEGIN IMMEDIATE transaction together with its bookkeeping
 * row, so a crash or a failing statement leaves the database at the previous version, never
 * half-migrated. The version is read again inside that transaction: if two processes start at
 * once (`araldo migrate` next to a starting server), the second one sees the first one's work
 * and skips it instead of failing halfway.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdio.h>

#include "core/clock.h"
#include "core/log.h"
#include "store/migrations.h"

static const char sql_bookkeeping[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                      " version INTEGER PRIMARY KEY,"
                                      " name TEXT NOT NULL,"
                                      " applied_ms INTEGER NOT NULL"
                                      ") STRICT";

static int read_version(sqlite3 *db, int *version, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc;

    rc = sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1, &st,
                            NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        snprintf(err, errlen, "store: cannot read the schema version: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -EIO;
    }
    *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

static int record(sqlite3 *db, const struct store_migration *m)
{
    sqlite3_stmt *st = NULL;
    int rc;

    rc = sqlite3_prepare_v2(
        db, "INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?1, ?2, ?3)", -1,
        &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int(st, 1, m->version);
        sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, clock_now_ms());
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Apply `m` unless someone already has. Sets *done when this call applied it. */
static int apply_one(sqlite3 *db, const struct store_migration *m, bool *done, char *err,
                     size_t errlen)
{
    int version = 0;
    int ret = 0;

    *done = false;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "store: cannot start migration %s: %s", m->name, sqlite3_errmsg(db));
        return -EIO;
    }
    ret = read_version(db, &version, err, errlen);
    if (ret || version >= m->version)
        goto out;
    if (sqlite3_exec(db, m->sql, NULL, NULL, NULL) != SQLITE_OK || record(db, m) != SQLITE_OK) {
        snprintf(err, errlen, "store: migration %s failed: %s", m->name, sqlite3_errmsg(db));
        ret = -EIO;
        goto out;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "store: cannot commit migration %s: %s", m->name, sqlite3_errmsg(db));
        ret = -EIO;
        goto out;
    }
    *done = true;
out:
    if (!sqlite3_get_autocommit(db))
        (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return ret;
}

int store__migrate(sqlite3 *db, int *version, int *applied, char *err, size_t errlen)
{
    int known = (int)store_migration_count;
    int ret;

    *applied = 0;
    /* The table is sorted by file name; a gap or a duplicate number is a packaging bug. */
    for (int i = 0; i < known; i++) {
        if (store_migrations[i].version != i + 1) {
            snprintf(err, errlen, "store: migration %s is out of sequence (expected %03d)",
                     store_migrations[i].name, i + 1);
            return -EINVAL;
        }
    }
    if (sqlite3_exec(db, sql_bookkeeping, NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "store: cannot create schema_migrations: %s", sqlite3_errmsg(db));
        return -EIO;
    }
    ret = read_version(db, version, err, errlen);
    if (ret)
        return ret;
    if (*version > known) {
        snprintf(err, errlen,
                 "store: the database has schema version %d but this araldo knows only up to "
                 "%d; run a newer araldo or restore a backup",
                 *version, known);
        return -EPROTO;
    }
    for (int i = *version; i < known; i++) {
        bool done;

        ret = apply_one(db, &store_migrations[i], &done, err, errlen);
        if (ret)
            return ret;
        if (done) {
            log_info("store: applied migration %s", store_migrations[i].name);
            ++*applied;
        }
        *version = store_migrations[i].version;
    }
    return 0;
}
