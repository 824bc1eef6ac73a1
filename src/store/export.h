/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `araldo export` / `araldo import`: the whole database as a portable stream of lines, to move a
 * deployment from one engine to the other (SQLite to PostgreSQL and back) or to a new database
 * of the same engine. Media files are not in it: they stay in data_dir/media (or media_dir).
 *
 * The format (version STORE_EXPORT_FORMAT; docs/DEPLOY.md "Moving to PostgreSQL"): UTF-8 JSON,
 * one value per line (the CLI gzips the stream):
 *
 *   {"format":"araldo-export","version":1,"schema":17,"engine":"sqlite","created_ms":...,
 *    "tables":["meta","users",...]}                       the header: every table, in order
 *   {"table":"users","columns":[["id","integer"],["email","text"],...]}   one table begins
 *   [1,"ana@comune.example.it",...]                        one row: a value per column
 *   {"table_end":"users","rows":12,"last_id":14}           its row count, and its id counter
 *   ...                                                    the next table
 *   {"end":true,"tables":41,"rows":5123}                   the end: a shorter file is truncated
 *
 * `schema` is the highest migration applied (the same number means the same tables on either
 * engine). Tables come in dependency order (a table after those its foreign keys point to),
 * rows in primary-key order. Column types are integer, real, text (a JSON string) and blob
 * (lower-case hex); any value may be null. `last_id`, for a table whose key is one integer
 * column, is the largest id it ever handed out, so ids freed by deletions are not handed out
 * again after the move where the source engine did not either.
 *
 * The dump holds everything, password, token and follower hashes and push subscriptions
 * included: treat the file as a secret (the CLI writes it 0600).
 */
#ifndef STORE_EXPORT_H
#define STORE_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"
#include "store/store.h"

#define STORE_EXPORT_FORMAT 1
/*
 * The longest line a reader accepts (a row with its largest text values: an event payload, a
 * post with its edits). A garbage file without newlines is refused at this size, not read into
 * memory whole.
 */
#define STORE_EXPORT_LINE_MAX ((size_t)32 << 20)
/* The most tables and columns per table a dump may name (ours: about 50 and 30). */
#define STORE_EXPORT_TABLES_MAX  512
#define STORE_EXPORT_COLUMNS_MAX 256
/* Table and column names: [a-z_][a-z0-9_]*, at most this long (PostgreSQL's NAMEDATALEN - 1). */
#define STORE_EXPORT_NAME_MAX 63

enum store_dump_type {
    STORE_DUMP_INTEGER,
    STORE_DUMP_REAL,
    STORE_DUMP_TEXT,
    STORE_DUMP_BLOB,
};

struct store_dump_column {
    const char *name;
    enum store_dump_type type;
};

/* One value of a row: `null`, or the member its column's type names. */
struct store_dump_value {
    bool null;
    int64_t i;
    double d;
    const char *p; /* text (NUL-terminated) or blob bytes */
    size_t len;
};

enum store_dump_kind {
    STORE_DUMP_HEADER,
    STORE_DUMP_TABLE,
    STORE_DUMP_ROW,
    STORE_DUMP_TABLE_END,
    STORE_DUMP_END,
};

/* What one line said. Pointers are the parser's, valid until its next call. */
struct store_dump_record {
    enum store_dump_kind kind;
    int schema;                            /* HEADER */
    const char *engine;                    /* HEADER: "sqlite" or "postgresql" */
    size_t ntables;                        /* HEADER */
    const char *const *tables;             /* HEADER */
    const char *table;                     /* TABLE, ROW, TABLE_END */
    size_t ncols;                          /* TABLE, ROW */
    const struct store_dump_column *cols;  /* TABLE, ROW */
    const struct store_dump_value *values; /* ROW: ncols of them */
    uint64_t rows;                         /* TABLE_END: the table's; END: all rows */
    int64_t last_id;                       /* TABLE_END: 0 when none */
};

/*
 * The line parser (store/export_parse.c): checks each line against the format and against
 * the lines before it (header first, tables in the header's order, each row's values against
 * its table's columns, the counts), so a truncated, reordered or foreign file is refused before
 * it reaches the database. No database needed: it is what the fuzz target drives.
 */
struct store_dump_parser;
struct store_dump_parser *store_dump_parser_new(void);
void store_dump_parser_free(struct store_dump_parser *p); /* NULL-safe */
/*
 * Parse one line (`len` bytes, without its newline) into `out`. Returns 0, or -EINVAL with one
 * line for a person in `err` (which line and what is wrong with it, never a value's content);
 * after an error the parser refuses everything.
 */
MUST_CHECK int store_dump_parse(struct store_dump_parser *p, const char *line, size_t len,
                                struct store_dump_record *out, char *err, size_t errlen);
/* Whether the end line was read: a stream that stops before it is truncated. */
bool store_dump_parser_done(const struct store_dump_parser *p);
/* Where the parser is, for messages: "in table users", "before the header" ... */
const char *store_dump_parser_where(const struct store_dump_parser *p, char *buf, size_t len);

/* Write `len` bytes of the stream (whole lines). 0 or a negative errno. */
typedef int store_dump_write_fn(void *ctx, const char *data, size_t len);
/*
 * Read the next line into *line (without its newline; the caller's buffer, valid until the next
 * call): 1, 0 at the end of the stream, or a negative errno (-EMSGSIZE for a line longer than
 * STORE_EXPORT_LINE_MAX).
 */
typedef int store_dump_read_fn(void *ctx, const char **line, size_t *len);
/* Rows of `table` done so far; `finished` once the table is complete. May be NULL. */
typedef void store_dump_progress_fn(void *ctx, const char *table, uint64_t rows, bool finished);

struct store_dump_stats {
    int schema;
    size_t tables;
    uint64_t rows;
};

/*
 * Write every durable table of `s`'s database (whatever the engine) to `write`, from one read
 * snapshot: safe while servers write, the dump is what was committed when it started. Tables are
 * read from the schema (sqlite_master, pg_catalog), so a table a later migration adds is in it
 * without a change here; a column of a type the format cannot carry fails the export. Blocks
 * (CLI thread). Returns 0 with `stats`, or a negative errno with one line in `err`.
 */
MUST_CHECK int store_export(struct store *s, store_dump_write_fn *write,
                            store_dump_progress_fn *progress, void *ctx,
                            struct store_dump_stats *stats, char *err, size_t errlen);

/*
 * Load a dump into `s`'s database, which must be empty (only what migrations create): all of it
 * in one transaction, or nothing. Refused: a dump of another schema version (-EPROTO: run the
 * araldo that matches, or migrate the source first), a database that already holds data
 * (-ENOTEMPTY), a table this schema lacks or whose columns differ (-EPROTO), anything the
 * parser refuses or a truncated stream (-EINVAL). A table of this schema that the dump lacks
 * (one engine's own) is left as the migrations made it. Triggers are held off while rows go in
 * (counters and derived rows come from the dump itself); afterwards the search index is rebuilt
 * (SQLite's FTS5; PostgreSQL's tsvector is a generated column) and PostgreSQL's identity counters
 * are moved past the ids loaded. Run it with no server on the database. Blocks (CLI thread).
 */
MUST_CHECK int store_import(struct store *s, store_dump_read_fn *read,
                            store_dump_progress_fn *progress, void *ctx,
                            struct store_dump_stats *stats, char *err, size_t errlen);

#endif
