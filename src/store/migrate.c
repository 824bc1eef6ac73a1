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
 *
 * Each engine has its own set with the same numbers and meaning: SQLite's migrations/NNN_*.sql,
 * PostgreSQL's migrations/pg/NNN_*.sql. On PostgreSQL, where nodes of a cluster start
 * together, the whole run also holds a session advisory lock (docs/STORE.md).
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdio.h>

#include "core/clock.h"
#include "core/log.h"
#include "store/migrations.h"

static const char sql_bookkeeping[] = DB_SQL("CREATE TABLE IF NOT EXISTS schema_migrations ("
                                             " version INTEGER PRIMARY KEY,"
                                             " name TEXT NOT NULL,"
                                             " applied_ms INTEGER NOT NULL"
                                             ") STRICT",
                                             "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                             " version bigint PRIMARY KEY,"
                                             " name text NOT NULL,"
                                             " applied_ms bigint NOT NULL"
                                             ")");
/*
 * PostgreSQL: nodes starting together each migrate; a session advisory lock (one number,
 * "araldo" in ASCII) makes them take turns, so the second finds the work done. Held from
 * before the bookkeeping table is created until every migration is applied.
 */
static const char sql_lock[] = "SELECT pg_advisory_lock(97114971081001111)";
static const char sql_unlock[] = "SELECT pg_advisory_unlock(97114971081001111)";
static const char sql_version[] = "SELECT coalesce(max(version), 0) FROM schema_migrations";
static const char sql_record[] =
    "INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?1, ?2, ?3)";
static const char sql_begin[] = DB_SQL("BEGIN IMMEDIATE", "BEGIN");
static const char sql_commit[] = "COMMIT";
static const char sql_rollback[] = "ROLLBACK";

static int read_version(struct db *db, int *version, char *err, size_t errlen)
{
    struct db_stmt *st = db_stmt(db, sql_version);
    int rc = st ? db_step(st) : -EIO;

    if (rc != DB_ROW) {
        snprintf(err, errlen, "store: cannot read the schema version: %s", db_errmsg(db));
        db_reset(st);
        return -EIO;
    }
    *version = db_col_int(st, 0);
    db_reset(st);
    return 0;
}

static int record(struct db *db, const struct store_migration *m)
{
    struct db_stmt *st = db_stmt(db, sql_record);
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, m->version);
    db_bind_text(st, 2, m->name);
    db_bind_i64(st, 3, clock_now_ms());
    rc = db_step(st);
    db_reset(st);
    return rc == DB_DONE ? 0 : rc < 0 ? rc : -EIO;
}

/* Apply `m` unless someone already has. Sets *done when this call applied it. */
static int apply_one(struct db *db, const struct store_migration *m, bool *done, char *err,
                     size_t errlen)
{
    int version = 0;
    int ret = 0;

    *done = false;
    if (db_exec(db, sql_begin)) {
        snprintf(err, errlen, "store: cannot start migration %s: %s", m->name, db_errmsg(db));
        return -EIO;
    }
    ret = read_version(db, &version, err, errlen);
    if (ret || version >= m->version)
        goto out;
    if (db_exec_script(db, m->sql) || record(db, m)) {
        snprintf(err, errlen, "store: migration %s failed: %s", m->name, db_errmsg(db));
        ret = -EIO;
        goto out;
    }
    if (db_exec(db, sql_commit)) {
        snprintf(err, errlen, "store: cannot commit migration %s: %s", m->name, db_errmsg(db));
        ret = -EIO;
        goto out;
    }
    *done = true;
out:
    if (db_in_tx(db))
        (void)db_exec(db, sql_rollback);
    return ret;
}

/* Check the set, then apply what the database lacks. The caller holds the engine's lock. */
static int migrate(struct db *db, const struct store_migration *set, int known, int *version,
                   int *applied, char *err, size_t errlen)
{
    int ret;

    /* The table is sorted by file name; a gap or a duplicate number is a packaging bug. */
    for (int i = 0; i < known; i++) {
        if (set[i].version != i + 1) {
            snprintf(err, errlen, "store: migration %s is out of sequence (expected %03d)",
                     set[i].name, i + 1);
            return -EINVAL;
        }
    }
    if (db_exec(db, sql_bookkeeping)) {
        snprintf(err, errlen, "store: cannot create schema_migrations: %s", db_errmsg(db));
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

        ret = apply_one(db, &set[i], &done, err, errlen);
        if (ret)
            return ret;
        if (done) {
            log_info("store: applied migration %s", set[i].name);
            ++*applied;
        }
        *version = set[i].version;
    }
    return 0;
}

int store__migrate(struct db *db, int *version, int *applied, char *err, size_t errlen)
{
    int ret;

    *applied = 0;
    if (db_backend(db) == DB_SQLITE) {
        return migrate(db, store_migrations, (int)store_migration_count, version, applied, err,
                       errlen);
    }
    if (db_exec(db, sql_lock)) {
        snprintf(err, errlen, "store: cannot take the migration lock: %s", db_errmsg(db));
        return -EIO;
    }
    ret = migrate(db, store_pg_migrations, (int)store_pg_migration_count, version, applied, err,
                  errlen);
    (void)db_exec(db, sql_unlock); /* also released when the session ends */
    return ret;
}
