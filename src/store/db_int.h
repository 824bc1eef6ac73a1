/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * What an engine implements for store/db.h: a table of operations, and the two structs it
 * embeds as the first member of its own connection and statement. db.c holds what every
 * engine shares (the statement cache keyed by SQL address, choosing a DB_SQL() text, the
 * calls through the table). store/db*.c only.
 */
#ifndef STORE_DB_INT_H
#define STORE_DB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"

struct db_ops {
    /*
     * Prepare `len` bytes of `sql` (already this engine's text). `cached`: it will live as
     * long as the connection. 0 with *out, or -errno with the message in db_errmsg().
     */
    int (*prepare)(struct db *db, const char *sql, size_t len, bool cached, struct db_stmt **out);
    void (*finalize)(struct db_stmt *st);
    void (*reset)(struct db_stmt *st);
    void (*bind_i64)(struct db_stmt *st, int i, int64_t v);
    void (*bind_double)(struct db_stmt *st, int i, double v);
    /* `terminated`: s[len] is a NUL (the engine may send it without a copy) */
    void (*bind_text)(struct db_stmt *st, int i, const char *s, size_t len, bool terminated);
    void (*bind_blob)(struct db_stmt *st, int i, const void *p, size_t len);
    void (*bind_null)(struct db_stmt *st, int i);
    int (*step)(struct db_stmt *st);
    int64_t (*col_i64)(struct db_stmt *st, int i);
    double (*col_double)(struct db_stmt *st, int i);
    const char *(*col_text)(struct db_stmt *st, int i);
    const void *(*col_blob)(struct db_stmt *st, int i);
    size_t (*col_bytes)(struct db_stmt *st, int i);
    bool (*col_is_null)(struct db_stmt *st, int i);
    int (*changes)(struct db *db);
    /* `sql` as the caller gave it (its address may key a cache): db__text() gives the text */
    int (*exec)(struct db *db, const char *sql);
    int (*exec_script)(struct db *db, const char *sql);
    bool (*in_tx)(struct db *db);
    const char *(*errmsg)(struct db *db);
    void (*close)(struct db *db); /* after db.c finalized the cached statements */
};

struct db {
    /* members are private to store/db*.c */
    const struct db_ops *ops;
    enum db_backend backend;
    struct db_slot *slot; /* the statement cache: open addressing, `cap` a power of two */
    size_t cap, len;
};

struct db_stmt {
    struct db *db;
};

struct store_db_stats;
/* db_pg.c's counters (the PostgreSQL fields of store_db_stats). Any thread. */
void db__pg_stats(struct store_db_stats *out);

/* Set up the shared part of a new connection. */
void db__init(struct db *db, const struct db_ops *ops, enum db_backend backend);
/* This engine's text of `sql` (plain, or its half of a DB_SQL() pair). */
const char *db__text(const struct db *db, const char *sql);

#endif
