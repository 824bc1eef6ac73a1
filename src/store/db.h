/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The store's statement layer: one small API over the SQL engines the store runs on (SQLite,
 * and PostgreSQL in db_pg.c), shaped like what the store did with sqlite3 directly, so the
 * store's files are the same code on either engine. store/ only; docs/STORE.md explains the
 * dialect rules.
 *
 * A connection (struct db) belongs to one thread at a time. Its statements are prepared on
 * first use and cached by the SQL text's ADDRESS: every query is a `static const char[]`, so
 * the address is a perfect key. Where the dialects differ, DB_SQL() puts both texts in one
 * string (one address) and the connection prepares the one for its engine.
 *
 * Errors are negative errno values, mapped the same way on every engine: a UNIQUE or PRIMARY
 * KEY violation is -EEXIST, a FOREIGN KEY violation -ENOENT, a full disk -ENOSPC, anything
 * else -EIO (db_errmsg() then says what, naming columns, never values).
 */
#ifndef STORE_DB_H
#define STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"

enum db_backend {
    DB_SQLITE,
    DB_PG,
};

/* db_step(): a row is ready, or the statement has finished. Errors are negative. */
#define DB_ROW  1
#define DB_DONE 0

/*
 * One statement, two dialects: `DB_SQL("INSERT OR IGNORE ...", "INSERT ... ON CONFLICT DO
 * NOTHING")`. Both texts live in one static string (a 0x01 marker, the SQLite text, a NUL, the
 * PostgreSQL text), so the cache's key is still one address. Use it only where the common
 * subset cannot say it (docs/STORE.md).
 */
#define DB_SQL(sqlite_text, pg_text) "\x01" sqlite_text "\0" pg_text

struct db;      /* a connection */
struct db_stmt; /* a prepared statement of one connection */

/* This connection's engine. */
enum db_backend db_backend(const struct db *db);

/*
 * The statement for `sql` (a string with static storage: the cache is keyed by its address),
 * prepared on first use and kept until db_close(). It is reset and unbound: bind, step, then
 * db_reset(). NULL (logged) if it cannot be prepared, which is a bug in the SQL.
 */
struct db_stmt *db_stmt(struct db *db, const char *sql);
/* A statement for SQL built at run time (`len` bytes), not cached: db_finalize() it. */
struct db_stmt *db_prepare(struct db *db, const char *sql, size_t len);
void db_finalize(struct db_stmt *st); /* NULL-safe; only for db_prepare()'s statements */
/* Reset and unbind `st` (NULL-safe) so it holds no read snapshot while idle. */
void db_reset(struct db_stmt *st);

/*
 * Bind parameter `i` (1-based, `?` or `?N` in order). Text and blobs are NOT copied: they must
 * stay valid until the statement is reset. A NULL text binds SQL NULL.
 */
void db_bind_i64(struct db_stmt *st, int i, int64_t v);
void db_bind_double(struct db_stmt *st, int i, double v);
void db_bind_text(struct db_stmt *st, int i, const char *s); /* NUL-terminated */
void db_bind_textn(struct db_stmt *st, int i, const char *s, size_t len);
void db_bind_blob(struct db_stmt *st, int i, const void *p, size_t len);
void db_bind_null(struct db_stmt *st, int i);

/* DB_ROW, DB_DONE, or a negative errno as above (not logged: see store__errno()). */
MUST_CHECK int db_step(struct db_stmt *st);

/*
 * Column `i` (0-based) of the current row. Pointers stay valid until the next step or reset.
 * NULL reads as 0, 0.0, a NULL text or blob; db_col_is_null() tells NULL apart.
 */
int64_t db_col_i64(struct db_stmt *st, int i);
int db_col_int(struct db_stmt *st, int i);
double db_col_double(struct db_stmt *st, int i);
const char *db_col_text(struct db_stmt *st, int i);
const void *db_col_blob(struct db_stmt *st, int i);
size_t db_col_bytes(struct db_stmt *st, int i); /* of the text or blob */
bool db_col_is_null(struct db_stmt *st, int i);

/* Rows the last finished INSERT, UPDATE or DELETE changed (not counting its triggers'). */
int db_changes(struct db *db);

/*
 * Run a statement that returns no rows and takes no parameters: BEGIN, COMMIT, SAVEPOINT,
 * RELEASE, ROLLBACK TO, a PRAGMA or SET. `sql` has static storage (an engine may cache it).
 * 0 or a negative errno as db_step().
 */
int db_exec(struct db *db, const char *sql);
/* Run `sql`, possibly several statements, never cached (migrations). 0 or -errno. */
MUST_CHECK int db_exec_script(struct db *db, const char *sql);
/* Whether a transaction is open (the engine may have rolled one back on its own). */
bool db_in_tx(struct db *db);

/* The engine's message for the last error on `db`, for logs. */
const char *db_errmsg(struct db *db);

/* Finalize every cached statement and close. NULL-safe. */
void db_close(struct db *db);

/* ---- SQLite (store/db_sqlite.c) ---- */

struct sqlite3;

/*
 * Open the SQLite database at `path`, read-only or read-write (which does not create it), with
 * the settings every connection shares: extended result codes, a busy timeout, defensive mode,
 * foreign keys on. 0 with *out, or -EIO with one line in `err`.
 */
MUST_CHECK int db_sqlite_open(const char *path, bool readonly, struct db **out, char *err,
                              size_t errlen);
/* The sqlite3 handle of a SQLite connection, for what only SQLite has (backup, PRAGMAs). */
struct sqlite3 *db_sqlite_handle(struct db *db);

/* ---- PostgreSQL (store/db_pg.c) ---- */

/*
 * Connect to PostgreSQL with a libpq connection string or URI (`postgresql://...`). 0 with
 * *out, or -EIO with one line in `err` (libpq's message, which never includes the password).
 */
MUST_CHECK int db_pg_open(const char *conninfo, struct db **out, char *err, size_t errlen);

/*
 * LISTEN on `name` (an identifier; static storage). 0, -EIO, or -ENOTSUP on SQLite. What is
 * listened for lasts as long as this session: db_pg_wait_notify() says when it was lost.
 */
MUST_CHECK int db_pg_listen(struct db *db, const char *name);
/*
 * Wait up to `timeout_ms` for notifications, then call `each` with each one's payload, in the
 * order the server sent them. 0 (none is fine), or -EIO when the connection broke or was reset
 * since db_pg_listen() (a LISTEN does not survive a reconnect): listen again, then look for what
 * was missed meanwhile.
 */
typedef void db_notify_fn(void *ctx, const char *payload);
MUST_CHECK int db_pg_wait_notify(struct db *db, int timeout_ms, db_notify_fn *each, void *ctx);

#endif
