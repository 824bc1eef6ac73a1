/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `araldo export` (store/export.h): every table the schema holds, from one read snapshot, as
 * the dump's lines. The table list is read from the engine's catalog, not written down here,
 * so a table a later migration adds is exported (and imported) with no change to this file.
 *
 * The snapshot: SQLite's read transaction pins one WAL snapshot from its first SELECT; on
 * PostgreSQL a REPEATABLE READ, READ ONLY transaction does the same. Either way the servers go
 * on writing. PostgreSQL's rows come through a cursor, a batch at a time, since the statement
 * layer reads a result whole.
 */
#include "store/export.h"

#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "store/export_int.h"
#include "store/store_int.h"

#define FETCH_BATCH "1000" /* PostgreSQL rows per cursor fetch */

/* Every table but the bookkeeping, SQLite's own and FTS5's (virtual and shadow) tables. */
static const char sql_tables[] = DB_SQL(
    "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table'"
    " AND name NOT LIKE 'sqlite!_%' ESCAPE '!' AND name <> 'schema_migrations' ORDER BY name",
    "SELECT c.relname::text FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace"
    " AND c.relkind IN ('r', 'p') AND c.relname <> 'schema_migrations' ORDER BY 1");
/* name, declared type, place in the primary key, generated (hidden) */
static const char sql_columns[] = DB_SQL(
    "SELECT name, lower(type), pk, hidden FROM pragma_table_xinfo(?1) ORDER BY cid",
    "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod),"
    " coalesce((SELECT k.n FROM pg_index i, unnest(i.indkey::int2[]) WITH ORDINALITY k(att, n)"
    "  WHERE i.indrelid = a.attrelid AND i.indisprimary AND k.att = a.attnum), 0),"
    " CASE WHEN a.attgenerated <> '' THEN 2 ELSE 0 END"
    " FROM pg_attribute a"
    " WHERE a.attrelid = to_regclass(quote_ident(current_schema()) || '.' || quote_ident(?1))"
    " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum");
static const char sql_deps[] = DB_SQL(
    "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)",
    "SELECT DISTINCT r.relname::text FROM pg_constraint k JOIN pg_class r ON r.oid = k.confrelid"
    " WHERE k.contype = 'f'"
    " AND k.conrelid = to_regclass(quote_ident(current_schema()) || '.' || quote_ident(?1))");
static const char sql_version[] = "SELECT coalesce(max(version), 0) FROM schema_migrations";
/* The largest id a table's counter handed out (PostgreSQL: its identity sequence's name). */
static const char sql_counter[] = DB_SQL(
    "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?1), 0), ?2",
    "SELECT 0, pg_get_serial_sequence(quote_ident(current_schema()) || '.' || quote_ident(?1),"
    " ?2)");

/* The column types the format carries, by the names each engine's catalog gives them. */
static int type_of(const char *decl, enum store_dump_type *t)
{
    static const struct {
        const char *decl;
        enum store_dump_type type;
    } map[] = {
        { "integer", STORE_DUMP_INTEGER }, { "int", STORE_DUMP_INTEGER },
        { "bigint", STORE_DUMP_INTEGER },  { "smallint", STORE_DUMP_INTEGER },
        { "real", STORE_DUMP_REAL },       { "double precision", STORE_DUMP_REAL },
        { "text", STORE_DUMP_TEXT },       { "blob", STORE_DUMP_BLOB },
        { "bytea", STORE_DUMP_BLOB },
    };

    for (size_t i = 0; decl && i < ARRAY_SIZE(map); i++) {
        if (!strcmp(decl, map[i].decl)) {
            *t = map[i].type;
            return 0;
        }
    }
    return -EINVAL;
}

void store__xtable_release(struct store__xtable *t)
{
    for (size_t i = 0; i < t->ncols; i++)
        free(t->cols[i].name);
    for (size_t i = 0; i < t->ndeps; i++)
        free(t->deps[i]);
    free(t->cols);
    free(t->deps);
    free(t->name);
}

void store__xschema_release(struct store__xschema *x)
{
    for (size_t i = 0; i < x->n; i++)
        store__xtable_release(&x->t[i]);
    free(x->t);
    x->t = NULL;
    x->n = 0;
}

const struct store__xtable *store__xschema_find(const struct store__xschema *x, const char *name)
{
    for (size_t i = 0; i < x->n; i++) {
        if (!strcmp(x->t[i].name, name))
            return &x->t[i];
    }
    return NULL;
}

int store__xschema_version(struct db *db, int *version)
{
    struct db_stmt *st = db_stmt(db, sql_version);
    int rc = st ? db_step(st) : -EIO;

    if (rc == DB_ROW)
        *version = db_col_int(st, 0);
    rc = rc == DB_ROW ? 0 : store__errno(db, rc, "export_version");
    db_reset(st);
    return rc;
}

static int read_columns(struct db *db, struct store__xtable *t, char *err, size_t errlen)
{
    struct db_stmt *st = db_stmt(db, sql_columns);
    size_t cap = 0, npk = 0;
    int rc, ret = 0;

    if (!st)
        return -EIO;
    t->id_col = -1;
    db_bind_text(st, 1, t->name);
    while ((rc = db_step(st)) == DB_ROW && !ret) {
        const char *name = db_col_text(st, 0), *decl = db_col_text(st, 1);
        struct store__xcol c = { 0 };

        if (db_col_int(st, 3) != 0)
            continue; /* generated: the import makes it again */
        if (!name || !store__dump_name_ok(name) || type_of(decl, &c.type)) {
            snprintf(err, errlen,
                     "store: export: table '%s' has column '%s' of type '%s', which "
                     "the export format cannot carry",
                     t->name, name ? name : "?", decl ? decl : "?");
            ret = -ENOTSUP;
            break;
        }
        if (t->ncols == cap) {
            cap = cap ? cap * 2 : 16;
            t->cols = xrealloc(t->cols, cap * sizeof(*t->cols));
        }
        c.name = xstrdup(name);
        c.pk = db_col_int(st, 2);
        npk += c.pk > 0;
        t->cols[t->ncols++] = c;
    }
    if (!ret && rc != DB_DONE)
        ret = store__errno(db, rc, "export_columns");
    db_reset(st);
    for (size_t i = 0; !ret && npk == 1 && i < t->ncols; i++) {
        if (t->cols[i].pk && t->cols[i].type == STORE_DUMP_INTEGER)
            t->id_col = (int)i;
    }
    return ret;
}

static int read_deps(struct db *db, struct store__xtable *t)
{
    struct db_stmt *st = db_stmt(db, sql_deps);
    size_t cap = 0;
    int rc;

    if (!st)
        return -EIO;
    db_bind_text(st, 1, t->name);
    while ((rc = db_step(st)) == DB_ROW) {
        const char *d = db_col_text(st, 0);

        if (!d || !strcmp(d, t->name))
            continue; /* a row pointing at its own table orders nothing */
        if (t->ndeps == cap) {
            cap = cap ? cap * 2 : 4;
            t->deps = xrealloc(t->deps, cap * sizeof(*t->deps));
        }
        t->deps[t->ndeps++] = xstrdup(d);
    }
    rc = rc == DB_DONE ? 0 : store__errno(db, rc, "export_deps");
    db_reset(st);
    return rc;
}

static bool placed(const struct store__xtable *done, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(done[i].name, name))
            return true;
    }
    return false;
}

/*
 * Order `x` so that every table comes after the tables it points to: each round takes the
 * first table (by name) whose dependencies are all placed, so both engines give one order.
 */
static int sort_tables(struct store__xschema *x, char *err, size_t errlen)
{
    struct store__xtable *out = xcalloc(x->n ? x->n : 1, sizeof(*out));
    bool *taken = xcalloc(x->n ? x->n : 1, sizeof(*taken));
    size_t n = 0;

    while (n < x->n) {
        size_t pick = x->n;

        for (size_t i = 0; i < x->n && pick == x->n; i++) {
            bool ready = !taken[i];

            for (size_t d = 0; ready && d < x->t[i].ndeps; d++) {
                ready = placed(out, n, x->t[i].deps[d]) || !store__xschema_find(x, x->t[i].deps[d]);
            }
            if (ready)
                pick = i;
        }
        if (pick == x->n) {
            snprintf(err, errlen,
                     "store: export: the foreign keys between the tables form a "
                     "cycle; the export cannot order them");
            free(out);
            free(taken);
            return -ENOTSUP;
        }
        taken[pick] = true;
        out[n++] = x->t[pick];
    }
    free(x->t);
    free(taken);
    x->t = out;
    return 0;
}

int store__xschema_read(struct db *db, struct store__xschema *x, char *err, size_t errlen)
{
    struct db_stmt *st = db_stmt(db, sql_tables);
    size_t cap = 0;
    int rc, ret = 0;

    memset(x, 0, sizeof(*x));
    if (!st) {
        snprintf(err, errlen, "store: cannot list the tables: %s", db_errmsg(db));
        return -EIO;
    }
    while ((rc = db_step(st)) == DB_ROW) {
        const char *name = db_col_text(st, 0);

        if (!name || !store__dump_name_ok(name)) {
            snprintf(err, errlen,
                     "store: export: a table is named '%s', which the export "
                     "format cannot carry",
                     name ? name : "?");
            ret = -ENOTSUP;
            break;
        }
        if (x->n == cap) {
            cap = cap ? cap * 2 : 64;
            x->t = xrealloc(x->t, cap * sizeof(*x->t));
        }
        x->t[x->n++] = (struct store__xtable){ .name = xstrdup(name), .id_col = -1 };
    }
    if (!ret && rc != DB_DONE) {
        ret = store__errno(db, rc, "export_tables");
        snprintf(err, errlen, "store: cannot list the tables: %s", db_errmsg(db));
    }
    db_reset(st);
    for (size_t i = 0; !ret && i < x->n; i++) {
        ret = read_columns(db, &x->t[i], err, errlen);
        if (!ret && read_deps(db, &x->t[i]) != 0) {
            snprintf(err, errlen, "store: cannot read the foreign keys of '%s': %s", x->t[i].name,
                     db_errmsg(db));
            ret = -EIO;
        }
    }
    if (!ret)
        ret = sort_tables(x, err, errlen);
    if (ret)
        store__xschema_release(x);
    return ret;
}

void store__xsql_add(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    assert(rc == 0);
    (void)rc;
}

/* ---- writing ---- */

struct exporter {
    struct db *db;
    store_dump_write_fn *write;
    store_dump_progress_fn *progress;
    void *ctx;
    char *err;
    size_t errlen;
};

/* One JSON value and its newline. Takes the reference to `v`. */
static int put(struct exporter *e, json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
    int ret;

    json_decref(v);
    if (!s) {
        snprintf(e->err, e->errlen, "store: export: cannot encode a line");
        return -EIO;
    }
    ret = e->write(e->ctx, s, strlen(s));
    if (!ret)
        ret = e->write(e->ctx, "\n", 1);
    free(s);
    if (ret)
        snprintf(e->err, e->errlen, "store: export: cannot write: %s", strerror(-ret));
    return ret;
}

static json_t *hex(const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *s = xmalloc(2 * n + 1);
    json_t *v;

    for (size_t i = 0; i < n; i++) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 15];
    }
    v = json_stringn(s, 2 * n);
    free(s);
    return v;
}

/* The current row of `st` as a JSON array; NULL (with `err`) for text that is not UTF-8. */
static json_t *row_json(struct exporter *e, const struct store__xtable *t, struct db_stmt *st,
                        int64_t *max_id)
{
    json_t *row = json_array();

    for (size_t i = 0; i < t->ncols; i++) {
        json_t *v;

        if (db_col_is_null(st, (int)i)) {
            json_array_append_new(row, json_null());
            continue;
        }
        switch (t->cols[i].type) {
        case STORE_DUMP_INTEGER:
            v = json_integer(db_col_i64(st, (int)i));
            if ((int)i == t->id_col && db_col_i64(st, (int)i) > *max_id)
                *max_id = db_col_i64(st, (int)i);
            break;
        case STORE_DUMP_REAL:
            v = json_real(db_col_double(st, (int)i));
            break;
        case STORE_DUMP_TEXT:
            v = json_stringn(db_col_text(st, (int)i), db_col_bytes(st, (int)i));
            break;
        default:
            v = hex(db_col_blob(st, (int)i), db_col_bytes(st, (int)i));
            break;
        }
        if (!v) {
            snprintf(e->err, e->errlen,
                     "store: export: table '%s' column '%s' holds a value "
                     "that is not valid UTF-8 text",
                     t->name, t->cols[i].name);
            json_decref(row);
            return NULL;
        }
        json_array_append_new(row, v);
    }
    return row;
}

/* SELECT the columns, in primary-key order (all columns when there is no key): one order. */
static char *select_sql(const struct store__xtable *t)
{
    struct buf b;
    bool any = false;

    buf_init(&b, STORE__XSQL_MAX);
    store__xsql_add(&b, "SELECT ");
    for (size_t i = 0; i < t->ncols; i++)
        store__xsql_add(&b, "%s\"%s\"", i ? ", " : "", t->cols[i].name);
    store__xsql_add(&b, " FROM \"%s\" ORDER BY ", t->name);
    for (int k = 1; k <= (int)t->ncols; k++) {
        for (size_t i = 0; i < t->ncols; i++) {
            if (t->cols[i].pk == k) {
                store__xsql_add(&b, "%s\"%s\"", any ? ", " : "", t->cols[i].name);
                any = true;
            }
        }
    }
    for (size_t i = 0; !any && i < t->ncols; i++)
        store__xsql_add(&b, "%s%zu", i ? ", " : "", i + 1);
    return buf_take(&b, NULL);
}

/* Step `st` to its end, writing each row. */
static int put_rows(struct exporter *e, const struct store__xtable *t, struct db_stmt *st,
                    uint64_t *rows, int64_t *max_id)
{
    int rc;

    while ((rc = db_step(st)) == DB_ROW) {
        json_t *row = row_json(e, t, st, max_id);
        int ret = row ? put(e, row) : -EILSEQ;

        if (ret)
            return ret;
        if (++*rows % 1000 == 0 && e->progress)
            e->progress(e->ctx, t->name, *rows, false);
    }
    if (rc != DB_DONE) {
        snprintf(e->err, e->errlen, "store: export: reading '%s': %s", t->name, db_errmsg(e->db));
        return -EIO;
    }
    return 0;
}

/* PostgreSQL: through a cursor, FETCH_BATCH rows at a time. */
static int put_rows_pg(struct exporter *e, const struct store__xtable *t, const char *select,
                       uint64_t *rows, int64_t *max_id)
{
    static const char fetch[] = "FETCH " FETCH_BATCH " FROM araldo_export";
    static const char close_sql[] = "CLOSE araldo_export";
    struct db_stmt *st = NULL;
    char *declare = NULL;
    size_t n = strlen(select) + 64;
    uint64_t before;
    int ret;

    declare = xmalloc(n);
    snprintf(declare, n, "DECLARE araldo_export NO SCROLL CURSOR FOR %s", select);
    st = db_prepare(e->db, declare, strlen(declare));
    ret = st ? db_step(st) : -EIO;
    db_finalize(st);
    free(declare);
    st = ret == DB_DONE ? db_prepare(e->db, fetch, sizeof(fetch) - 1) : NULL;
    if (!st) {
        snprintf(e->err, e->errlen, "store: export: reading '%s': %s", t->name, db_errmsg(e->db));
        return -EIO;
    }
    do {
        before = *rows;
        ret = put_rows(e, t, st, rows, max_id);
        db_reset(st);
    } while (!ret && *rows > before);
    db_finalize(st);
    st = db_prepare(e->db, close_sql, sizeof(close_sql) - 1);
    if (!ret && (!st || db_step(st) != DB_DONE)) {
        snprintf(e->err, e->errlen, "store: export: %s", db_errmsg(e->db));
        ret = -EIO;
    }
    db_finalize(st);
    return ret;
}

/*
 * The largest id `t` handed out: SQLite's AUTOINCREMENT record, PostgreSQL's identity sequence
 * (past the ids in the table when rows at the end were deleted); at least `max_id`.
 */
static int last_id(struct exporter *e, const struct store__xtable *t, int64_t *max_id)
{
    struct db_stmt *st = db_stmt(e->db, sql_counter);
    char *seq = NULL, *sql = NULL;
    int rc;

    if (!st)
        return -EIO;
    db_bind_text(st, 1, t->name);
    db_bind_text(st, 2, t->cols[t->id_col].name);
    rc = db_step(st);
    if (rc == DB_ROW) {
        if (db_col_i64(st, 0) > *max_id)
            *max_id = db_col_i64(st, 0);
        if (db_backend(e->db) == DB_PG && !db_col_is_null(st, 1))
            seq = xstrdup(db_col_text(st, 1));
    }
    rc = rc == DB_ROW ? 0 : store__errno(e->db, rc, "export_counter");
    db_reset(st);
    if (!rc && seq) {
        /* the catalog quotes and qualifies the name; is_called false: not handed out yet */
        struct buf b;

        buf_init(&b, STORE__XSQL_MAX);
        store__xsql_add(&b, "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM %s", seq);
        sql = buf_take(&b, NULL);
        st = db_prepare(e->db, sql, strlen(sql));
        rc = st ? db_step(st) : -EIO;
        if (rc == DB_ROW && db_col_i64(st, 0) > *max_id)
            *max_id = db_col_i64(st, 0);
        rc = rc == DB_ROW ? 0 : store__errno(e->db, rc, "export_sequence");
        db_finalize(st);
    }
    free(seq);
    free(sql);
    return rc;
}

static json_t *columns_json(const struct store__xtable *t)
{
    static const char *const types[] = { "integer", "real", "text", "blob" };
    json_t *cols = json_array();

    for (size_t i = 0; i < t->ncols; i++)
        json_array_append_new(cols, json_pack("[ss]", t->cols[i].name, types[t->cols[i].type]));
    return cols;
}

static int put_table(struct exporter *e, const struct store__xtable *t, uint64_t *total)
{
    char *select = select_sql(t);
    struct db_stmt *st = NULL;
    uint64_t rows = 0;
    int64_t max_id = 0;
    json_t *end;
    int ret;

    ret = put(e, json_pack("{s:s, s:o}", "table", t->name, "columns", columns_json(t)));
    if (ret)
        goto out;
    if (db_backend(e->db) == DB_PG) {
        ret = put_rows_pg(e, t, select, &rows, &max_id);
    } else {
        st = db_prepare(e->db, select, strlen(select));
        ret = st ? put_rows(e, t, st, &rows, &max_id) : -EIO;
        if (!st)
            snprintf(e->err, e->errlen, "store: export: %s", db_errmsg(e->db));
    }
    if (!ret && t->id_col >= 0 && last_id(e, t, &max_id) != 0) {
        snprintf(e->err, e->errlen, "store: export: reading the id counter of '%s': %s", t->name,
                 db_errmsg(e->db));
        ret = -EIO;
    }
    if (ret)
        goto out;
    end = json_pack("{s:s, s:I}", "table_end", t->name, "rows", (json_int_t)rows);
    if (t->id_col >= 0)
        json_object_set_new(end, "last_id", json_integer(max_id));
    ret = put(e, end);
    *total += rows;
    if (!ret && e->progress)
        e->progress(e->ctx, t->name, rows, true);
out:
    db_finalize(st);
    free(select);
    return ret;
}

static int put_header(struct exporter *e, const struct store__xschema *x, int version)
{
    json_t *tables = json_array();

    for (size_t i = 0; i < x->n; i++)
        json_array_append_new(tables, json_string(x->t[i].name));
    return put(e, json_pack("{s:s, s:i, s:i, s:s, s:I, s:o}", "format", "araldo-export", "version",
                            STORE_EXPORT_FORMAT, "schema", version, "engine",
                            db_backend(e->db) == DB_PG ? "postgresql" : "sqlite", "created_ms",
                            (json_int_t)clock_now_ms(), "tables", tables));
}

int store_export(struct store *s, store_dump_write_fn *write, store_dump_progress_fn *progress,
                 void *ctx, struct store_dump_stats *stats, char *err, size_t errlen)
{
    static const char sql_begin[] =
        DB_SQL("BEGIN", "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    struct exporter e = {
        .write = write, .progress = progress, .ctx = ctx, .err = err, .errlen = errlen
    };
    struct store__xschema x = { 0 };
    uint64_t total = 0;
    int version = 0;
    int ret;

    memset(stats, 0, sizeof(*stats));
    ret = store__connect(s, true, &e.db, err, errlen);
    if (ret)
        return ret;
    if (db_exec(e.db, sql_begin)) {
        snprintf(err, errlen, "store: export: cannot begin: %s", db_errmsg(e.db));
        ret = -EIO;
        goto out;
    }
    /* the first read pins the snapshot: everything after sees the same database */
    ret = store__xschema_version(e.db, &version);
    if (ret) {
        snprintf(err, errlen, "store: export: cannot read the schema version: %s", db_errmsg(e.db));
        goto out;
    }
    ret = store__xschema_read(e.db, &x, err, errlen);
    if (!ret)
        ret = put_header(&e, &x, version);
    for (size_t i = 0; !ret && i < x.n; i++)
        ret = put_table(&e, &x.t[i], &total);
    if (!ret) {
        ret = put(&e, json_pack("{s:b, s:I, s:I}", "end", 1, "tables", (json_int_t)x.n, "rows",
                                (json_int_t)total));
    }
    if (!ret) {
        stats->schema = version;
        stats->tables = x.n;
        stats->rows = total;
    }
out:
    if (db_in_tx(e.db))
        (void)db_exec(e.db, "ROLLBACK"); /* read only: nothing to keep */
    store__xschema_release(&x);
    db_close(e.db);
    return ret;
}
