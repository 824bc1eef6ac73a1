/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The engine-neutral half of store/db.h: per-connection prepared statements keyed by their SQL
 * text's address, the choice of a DB_SQL() pair's half, and the calls into the engine's table.
 * Every query in store/ is a static string, so its address is a perfect key: no enum of
 * statements to keep in step, and adding a query is writing it where it is used.
 */
#include "store/db.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "store/db_int.h"
#include "store/store.h"

struct db_slot {
    const char *sql; /* NULL: empty slot */
    struct db_stmt *st;
};

/* Connections open in this process, either engine (store_db_stats). */
static _Atomic uint64_t open_connections;

void db__init(struct db *db, const struct db_ops *ops, enum db_backend backend)
{
    db->ops = ops;
    db->backend = backend;
    db->slot = NULL;
    db->cap = 0;
    db->len = 0;
    atomic_fetch_add_explicit(&open_connections, 1, memory_order_relaxed);
}

const char *db__text(const struct db *db, const char *sql)
{
    if (sql[0] != '\x01')
        return sql;
    /* "\x01" SQLITE "\0" PG: the SQLite text starts after the marker, PG's after its NUL */
    return db->backend == DB_SQLITE ? sql + 1 : sql + 1 + strlen(sql + 1) + 1;
}

enum db_backend db_backend(const struct db *db)
{
    return db->backend;
}

static size_t slot_of(const struct db *db, const char *sql)
{
    /* Pointers to strings are at least byte-aligned and clustered: mix the bits (Fibonacci). */
    uint64_t h = (uint64_t)(uintptr_t)sql * UINT64_C(0x9E3779B97F4A7C15);
    size_t i = (size_t)(h >> 32) & (db->cap - 1);

    while (db->slot[i].sql && db->slot[i].sql != sql)
        i = (i + 1) & (db->cap - 1);
    return i;
}

static void grow(struct db *db)
{
    struct db_slot *old = db->slot;
    size_t oldcap = db->cap;

    db->cap = oldcap ? oldcap * 2 : 32;
    db->slot = xcalloc(db->cap, sizeof(*db->slot));
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].sql)
            db->slot[slot_of(db, old[i].sql)] = old[i];
    }
    free(old);
}

struct db_stmt *db_stmt(struct db *db, const char *sql)
{
    struct db_stmt *st = NULL;
    const char *text;
    size_t i;

    if (2 * (db->len + 1) > db->cap) /* keep the load at most 1/2: probes stay short */
        grow(db);
    i = slot_of(db, sql);
    if (db->slot[i].sql)
        return db->slot[i].st;
    text = db__text(db, sql);
    if (db->ops->prepare(db, text, strlen(text), true, &st)) {
        log_error("store: cannot prepare statement: %s", db->ops->errmsg(db));
        return NULL;
    }
    db->slot[i].sql = sql;
    db->slot[i].st = st;
    db->len++;
    return st;
}

struct db_stmt *db_prepare(struct db *db, const char *sql, size_t len)
{
    struct db_stmt *st = NULL;

    if (db->ops->prepare(db, sql, len, false, &st)) {
        log_error("store: cannot prepare statement: %s", db->ops->errmsg(db));
        return NULL;
    }
    return st;
}

void db_finalize(struct db_stmt *st)
{
    if (st)
        st->db->ops->finalize(st);
}

void db_reset(struct db_stmt *st)
{
    if (st)
        st->db->ops->reset(st);
}

void db_bind_i64(struct db_stmt *st, int i, int64_t v)
{
    st->db->ops->bind_i64(st, i, v);
}

void db_bind_double(struct db_stmt *st, int i, double v)
{
    st->db->ops->bind_double(st, i, v);
}

void db_bind_text(struct db_stmt *st, int i, const char *s)
{
    if (s) {
        st->db->ops->bind_text(st, i, s, strlen(s), true);
    } else {
        st->db->ops->bind_null(st, i);
    }
}

void db_bind_textn(struct db_stmt *st, int i, const char *s, size_t len)
{
    if (s) {
        st->db->ops->bind_text(st, i, s, len, false);
    } else {
        st->db->ops->bind_null(st, i);
    }
}

void db_bind_blob(struct db_stmt *st, int i, const void *p, size_t len)
{
    st->db->ops->bind_blob(st, i, p, len);
}

void db_bind_null(struct db_stmt *st, int i)
{
    st->db->ops->bind_null(st, i);
}

int db_step(struct db_stmt *st)
{
    return st->db->ops->step(st);
}

int64_t db_col_i64(struct db_stmt *st, int i)
{
    return st->db->ops->col_i64(st, i);
}

int db_col_int(struct db_stmt *st, int i)
{
    return (int)st->db->ops->col_i64(st, i);
}

double db_col_double(struct db_stmt *st, int i)
{
    return st->db->ops->col_double(st, i);
}

const char *db_col_text(struct db_stmt *st, int i)
{
    return st->db->ops->col_text(st, i);
}

const void *db_col_blob(struct db_stmt *st, int i)
{
    return st->db->ops->col_blob(st, i);
}

size_t db_col_bytes(struct db_stmt *st, int i)
{
    return st->db->ops->col_bytes(st, i);
}

bool db_col_is_null(struct db_stmt *st, int i)
{
    return st->db->ops->col_is_null(st, i);
}

int db_changes(struct db *db)
{
    return db->ops->changes(db);
}

int db_exec(struct db *db, const char *sql)
{
    return db->ops->exec(db, sql);
}

int db_exec_script(struct db *db, const char *sql)
{
    return db->ops->exec_script(db, sql);
}

bool db_in_tx(struct db *db)
{
    return db->ops->in_tx(db);
}

const char *db_errmsg(struct db *db)
{
    return db->ops->errmsg(db);
}

void db_close(struct db *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->cap; i++) {
        if (db->slot[i].sql)
            db->ops->finalize(db->slot[i].st);
    }
    free(db->slot);
    db->slot = NULL;
    db->cap = 0;
    db->len = 0;
    db->ops->close(db);
    atomic_fetch_sub_explicit(&open_connections, 1, memory_order_relaxed);
}

void store_db_stats(struct store_db_stats *out)
{
    *out = (struct store_db_stats){ 0 };
    db__pg_stats(out);
    out->open = atomic_load_explicit(&open_connections, memory_order_relaxed);
}

bool store_db_unreachable(void)
{
    struct store_db_stats st = { 0 };

    db__pg_stats(&st);
    return st.unreachable;
}
