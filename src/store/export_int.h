/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Shared by store/export.c and store/export_import.c: the database's tables as the schema
 * describes them (SQLite's pragmas, PostgreSQL's catalogs), in dependency order.
 */
#ifndef STORE_EXPORT_INT_H
#define STORE_EXPORT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/compiler.h"
#include "store/db.h"
#include "store/export.h"

struct store__xcol {
    char *name;
    enum store_dump_type type;
    int pk; /* its place in the primary key from 1, or 0 */
};

struct store__xtable {
    char *name;
    struct store__xcol *cols; /* stored columns only: generated ones are made again */
    size_t ncols;
    char **deps; /* the tables its foreign keys point to */
    size_t ndeps;
    int id_col; /* the one integer primary-key column, or -1 */
};

struct store__xschema {
    struct store__xtable *t; /* dependency order, ties by name */
    size_t n;
};

/*
 * Read the tables of `db`'s schema (not schema_migrations, not SQLite's own or FTS5's tables).
 * 0, or a negative errno with one line in `err` (a cycle of foreign keys, a column type the
 * format cannot carry).
 */
MUST_CHECK int store__xschema_read(struct db *db, struct store__xschema *x, char *err,
                                   size_t errlen);
void store__xschema_release(struct store__xschema *x);
void store__xtable_release(struct store__xtable *t);
const struct store__xtable *store__xschema_find(const struct store__xschema *x, const char *name);
/* [a-z_][a-z0-9_]{0,62}: a name the format carries, safe between double quotes (export_parse.c). */
bool store__dump_name_ok(const char *s);
/*
 * Append to SQL built from the schema's names (bounded: names are at most 63 bytes, tables at
 * most PostgreSQL's 1,600 columns), so running past STORE__XSQL_MAX is a bug: it aborts.
 */
#define STORE__XSQL_MAX ((size_t)1 << 20)
struct buf;
void store__xsql_add(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* The schema version recorded in `db` (0 when none). 0 or a negative errno. */
MUST_CHECK int store__xschema_version(struct db *db, int *version);

#endif
