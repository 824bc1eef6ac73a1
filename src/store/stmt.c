/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Per-connection prepared statements. Every query in store/ is a static string, so its address
 * is a perfect key: no enum of statements to keep in step, and adding a query is writing it
 * where it is used. Statements are prepared on first use with SQLITE_PREPARE_PERSISTENT (they
 * live as long as the connection) and finalized with the cache.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/log.h"

struct stmt_slot {
    const char *sql; /* NULL: empty slot */
    sqlite3_stmt *st;
};

void store__stmt_cache_init(struct stmt_cache *c, sqlite3 *db)
{
    c->db = db;
    c->slot = NULL;
    c->cap = 0;
    c->len = 0;
}

void store__stmt_cache_release(struct stmt_cache *c)
{
    for (size_t i = 0; i < c->cap; i++)
        sqlite3_finalize(c->slot[i].st);
    free(c->slot);
    c->slot = NULL;
    c->cap = 0;
    c->len = 0;
}

static size_t slot_of(const struct stmt_cache *c, const char *sql)
{
    /* Pointers to strings are at least byte-aligned and clustered: mix the bits (Fibonacci). */
    uint64_t h = (uint64_t)(uintptr_t)sql * UINT64_C(0x9E3779B97F4A7C15);
    size_t i = (size_t)(h >> 32) & (c->cap - 1);

    while (c->slot[i].sql && c->slot[i].sql != sql)
        i = (i + 1) & (c->cap - 1);
    return i;
}

static void grow(struct stmt_cache *c)
{
    struct stmt_cache old = *c;

    c->cap = old.cap ? old.cap * 2 : 32;
    c->slot = xcalloc(c->cap, sizeof(*c->slot));
    for (size_t i = 0; i < old.cap; i++) {
        if (old.slot[i].sql)
            c->slot[slot_of(c, old.slot[i].sql)] = old.slot[i];
    }
    free(old.slot);
}

sqlite3_stmt *store__stmt(struct stmt_cache *c, const char *sql)
{
    sqlite3_stmt *st = NULL;
    size_t i;
    int rc;

    if (2 * (c->len + 1) > c->cap) /* keep the load at most 1/2: probes stay short */
        grow(c);
    i = slot_of(c, sql);
    if (c->slot[i].sql)
        return c->slot[i].st;
    rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        log_error("store: cannot prepare statement: %s", sqlite3_errmsg(c->db));
        sqlite3_finalize(st);
        return NULL;
    }
    c->slot[i].sql = sql;
    c->slot[i].st = st;
    c->len++;
    return st;
}

void store__stmt_done(sqlite3_stmt *st)
{
    if (!st)
        return;
    /* reset's return repeats the step's error, which the caller has already handled */
    (void)sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

int store__errno(sqlite3 *db, int rc, const char *what)
{
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return -EEXIST;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return -ENOENT;
    case SQLITE_FULL:
        return -ENOSPC; /* logged once by the writer (sqlite.c), not once per write */
    default:
        /* In WAL mode a full disk mostly shows as an I/O error on the -wal file (growing it
         * fails), with ENOSPC underneath: that is the operator's problem, not a bug. */
        if ((rc & 0xff) == SQLITE_IOERR &&
            (sqlite3_system_errno(db) == ENOSPC || sqlite3_system_errno(db) == EDQUOT))
            return -ENOSPC;
        log_warn("store: %s: %s (%s)", what, sqlite3_errmsg(db), sqlite3_errstr(rc));
        return -EIO;
    }
}

int store__step_done(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
    int rc, err;

    if (!st)
        return -EIO;
    rc = sqlite3_step(st);
    err = rc == SQLITE_DONE ? 0 : store__errno(db, rc, what); /* before reset: errmsg is ours */
    store__stmt_done(st);
    return err;
}
