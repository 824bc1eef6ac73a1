/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `araldo import` (store/export.h): a dump into an empty database, in one transaction.
 *
 * The rows carry everything, derived ones included (follower and post counts, reaction and poll
 * counts, media references, each org's report catalogue), so the triggers that would derive them
 * again are held off while rows go in: SQLite has no switch for that, so its triggers are dropped
 * and created again from their own text inside the transaction; PostgreSQL's are disabled per
 * table (ALTER TABLE ... DISABLE TRIGGER USER: foreign keys stay checked). Then what is not in
 * the dump is rebuilt: SQLite's FTS5 index ('rebuild'), PostgreSQL's identity counters (setval);
 * PostgreSQL's search column is generated, so its inserts made it. Any error rolls it all back.
 */
#include "store/export.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "store/export_int.h"
#include "store/store_int.h"

/*
 * Tables a new, empty database already fills: migrations seed the report service templates, and
 * a server that started once wrote meta (its ping). The import replaces their rows with the
 * dump's; rows in any other table mean the database is in use, and the import refuses it.
 */
static const char *const seeded[] = { "meta", "report_service_templates" };

struct trigger {
    char *name;
    char *sql;
};

struct importer {
    struct db *db;
    struct store_dump_parser *parser;
    store_dump_read_fn *read;
    store_dump_progress_fn *progress;
    void *ctx;
    char *err;
    size_t errlen;
    struct store__xschema x;
    struct trigger *triggers; /* SQLite's, dropped while loading */
    size_t ntriggers;
    struct db_stmt *insert; /* the current table's */
    const struct store__xtable *table;
    int64_t *last_ids; /* per table of x, from the dump */
};

static char *sqlf(const char *fmt, ...) PRINTF_LIKE(1, 2);
static char *sqlf(const char *fmt, ...)
{
    struct buf b;
    va_list ap;

    buf_init(&b, STORE__XSQL_MAX);
    va_start(ap, fmt);
    if (buf_vprintf(&b, fmt, ap) != 0)
        abort(); /* names are bounded: a bug (export_int.h) */
    va_end(ap);
    return buf_take(&b, NULL);
}

/* Run a statement built at run time that returns no row, or one row (SELECT setval). */
static int run(struct importer *im, char *sql, const char *what)
{
    struct db_stmt *st = db_prepare(im->db, sql, strlen(sql));
    int rc = st ? db_step(st) : -EIO;

    db_finalize(st);
    free(sql);
    if (rc == DB_ROW || rc == DB_DONE)
        return 0;
    snprintf(im->err, im->errlen, "store: import: %s: %s", what, db_errmsg(im->db));
    return rc < 0 && rc != -EIO ? rc : -EIO;
}

/* The next record; the end of the stream before the end line is a truncated dump. */
static int next(struct importer *im, struct store_dump_record *rec)
{
    const char *line = NULL;
    size_t len = 0;
    char where[160];
    int rc = im->read(im->ctx, &line, &len);

    if (rc < 0) {
        snprintf(im->err, im->errlen, "store: import: cannot read the export: %s",
                 rc == -EMSGSIZE ? "a line is too long" : strerror(-rc));
        return rc;
    }
    if (rc == 0) {
        snprintf(im->err, im->errlen, "store: import: the export is truncated (it ends %s)",
                 store_dump_parser_where(im->parser, where, sizeof(where)));
        return -EINVAL;
    }
    rc = store_dump_parse(im->parser, line, len, rec, where, sizeof(where));
    if (rc)
        snprintf(im->err, im->errlen, "store: import: the export is damaged: %s", where);
    return rc;
}

static bool is_seeded(const char *table)
{
    for (size_t i = 0; i < ARRAY_SIZE(seeded); i++) {
        if (!strcmp(seeded[i], table))
            return true;
    }
    return false;
}

/*
 * Every table of the dump must be in this schema (else its rows would be lost). A table of this
 * schema that the dump lacks belongs to this engine only (the same schema version has the same
 * tables otherwise): it is left as the migrations made it, and the import works on the dump's.
 */
static int check_tables(struct importer *im, const struct store_dump_record *h)
{
    for (size_t i = 0; i < h->ntables; i++) {
        if (!store__xschema_find(&im->x, h->tables[i])) {
            snprintf(im->err, im->errlen,
                     "store: import: the export has table '%s', which this database lacks",
                     h->tables[i]);
            return -EPROTO;
        }
    }
    size_t kept = 0;

    for (size_t i = 0; i < im->x.n; i++) {
        bool found = false;

        for (size_t j = 0; j < h->ntables && !found; j++)
            found = !strcmp(h->tables[j], im->x.t[i].name);
        if (found) {
            im->x.t[kept++] = im->x.t[i]; /* in the same (dependency) order */
        } else {
            store__xtable_release(&im->x.t[i]);
        }
    }
    im->x.n = kept;
    return 0;
}

static int check_empty(struct importer *im)
{
    for (size_t i = 0; i < im->x.n; i++) {
        const char *t = im->x.t[i].name;
        char *sql = sqlf("SELECT 1 FROM \"%s\" LIMIT 1", t);
        struct db_stmt *st;
        int rc;

        if (is_seeded(t)) {
            free(sql);
            continue;
        }
        st = db_prepare(im->db, sql, strlen(sql));
        free(sql);
        rc = st ? db_step(st) : -EIO;
        db_finalize(st);
        if (rc == DB_ROW) {
            snprintf(im->err, im->errlen,
                     "store: import: the database is not empty (table '%s' has rows): import "
                     "only into a new database",
                     t);
            return -ENOTEMPTY;
        }
        if (rc != DB_DONE) {
            snprintf(im->err, im->errlen, "store: import: reading '%s': %s", t, db_errmsg(im->db));
            return -EIO;
        }
    }
    return 0;
}

static int hold_sqlite_triggers(struct importer *im)
{
    static const char sql[] = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                              " AND sql IS NOT NULL ORDER BY name";
    struct db_stmt *st = db_stmt(im->db, sql);
    size_t cap = 0;
    int rc;

    if (!st)
        return -EIO;
    while ((rc = db_step(st)) == DB_ROW) {
        const char *name = db_col_text(st, 0);

        if (!name || !store__dump_name_ok(name)) {
            db_reset(st);
            snprintf(im->err, im->errlen, "store: import: a trigger has an unexpected name");
            return -ENOTSUP;
        }
        if (im->ntriggers == cap) {
            cap = cap ? cap * 2 : 32;
            im->triggers = xrealloc(im->triggers, cap * sizeof(*im->triggers));
        }
        im->triggers[im->ntriggers++] =
            (struct trigger){ .name = xstrdup(name), .sql = xstrdup(db_col_text(st, 1)) };
    }
    db_reset(st);
    if (rc != DB_DONE)
        return store__errno(im->db, rc, "import_triggers");
    for (size_t i = 0; i < im->ntriggers; i++) {
        rc = run(im, sqlf("DROP TRIGGER \"%s\"", im->triggers[i].name), "holding triggers");
        if (rc)
            return rc;
    }
    return 0;
}

/* Hold (enable = false) or restore the triggers that derive rows. */
static int triggers(struct importer *im, bool enable)
{
    int rc = 0;

    if (db_backend(im->db) == DB_SQLITE && !enable)
        return hold_sqlite_triggers(im);
    if (db_backend(im->db) == DB_SQLITE) {
        for (size_t i = 0; i < im->ntriggers && !rc; i++) {
            rc = db_exec_script(im->db, im->triggers[i].sql);
            if (rc) {
                snprintf(im->err, im->errlen, "store: import: restoring trigger '%s': %s",
                         im->triggers[i].name, db_errmsg(im->db));
            }
        }
        return rc;
    }
    for (size_t i = 0; i < im->x.n && !rc; i++) {
        rc = run(im,
                 sqlf("ALTER TABLE \"%s\" %s TRIGGER USER", im->x.t[i].name,
                      enable ? "ENABLE" : "DISABLE"),
                 enable ? "enabling triggers"
                        : "disabling triggers (the database user must own "
                          "the tables)");
    }
    return rc;
}

static int begin(struct importer *im)
{
    static const char sql_begin[] = DB_SQL("BEGIN IMMEDIATE", "BEGIN");
    int rc;

    if (db_exec(im->db, sql_begin)) {
        snprintf(im->err, im->errlen, "store: import: cannot begin: %s", db_errmsg(im->db));
        return -EIO;
    }
    /* SQLite: foreign keys checked at COMMIT, so a row may point at a later row of its table */
    if (db_backend(im->db) == DB_SQLITE && db_exec(im->db, "PRAGMA defer_foreign_keys = ON")) {
        snprintf(im->err, im->errlen, "store: import: %s", db_errmsg(im->db));
        return -EIO;
    }
    rc = check_empty(im);
    if (!rc)
        rc = triggers(im, false);
    /* the seeded tables' rows give way to the dump's; the others are empty */
    for (size_t i = im->x.n; !rc && i-- > 0;) {
        if (is_seeded(im->x.t[i].name))
            rc = run(im, sqlf("DELETE FROM \"%s\"", im->x.t[i].name), "clearing a seeded table");
    }
    return rc;
}

/* A table begins: its columns must be this schema's, with the same types. */
static int start_table(struct importer *im, const struct store_dump_record *rec)
{
    const struct store__xtable *t = store__xschema_find(&im->x, rec->table);
    struct buf b;
    char *sql;

    if (rec->ncols != t->ncols)
        goto differs;
    for (size_t i = 0; i < rec->ncols; i++) {
        bool found = false;

        for (size_t j = 0; j < t->ncols && !found; j++) {
            found =
                !strcmp(t->cols[j].name, rec->cols[i].name) && t->cols[j].type == rec->cols[i].type;
        }
        if (!found)
            goto differs;
    }
    buf_init(&b, STORE__XSQL_MAX);
    store__xsql_add(&b, "INSERT INTO \"%s\" (", t->name);
    for (size_t i = 0; i < rec->ncols; i++)
        store__xsql_add(&b, "%s\"%s\"", i ? ", " : "", rec->cols[i].name);
    store__xsql_add(&b, ") VALUES (");
    for (size_t i = 0; i < rec->ncols; i++)
        store__xsql_add(&b, "%s?%zu", i ? ", " : "", i + 1);
    store__xsql_add(&b, ")");
    sql = buf_take(&b, NULL);
    db_finalize(im->insert);
    im->insert = db_prepare(im->db, sql, strlen(sql));
    free(sql);
    im->table = t;
    if (!im->insert) {
        snprintf(im->err, im->errlen, "store: import: %s", db_errmsg(im->db));
        return -EIO;
    }
    return 0;
differs:
    snprintf(im->err, im->errlen,
             "store: import: the export's columns of '%s' differ from this database's", rec->table);
    return -EPROTO;
}

static int put_row(struct importer *im, const struct store_dump_record *rec, uint64_t n)
{
    struct db_stmt *st = im->insert;
    int rc;

    for (size_t i = 0; i < rec->ncols; i++) {
        const struct store_dump_value *v = &rec->values[i];
        int k = (int)i + 1;

        if (v->null) {
            db_bind_null(st, k);
            continue;
        }
        switch (rec->cols[i].type) {
        case STORE_DUMP_INTEGER:
            db_bind_i64(st, k, v->i);
            break;
        case STORE_DUMP_REAL:
            db_bind_double(st, k, v->d);
            break;
        case STORE_DUMP_TEXT:
            db_bind_textn(st, k, v->p, v->len);
            break;
        default:
            db_bind_blob(st, k, v->p, v->len);
            break;
        }
    }
    rc = db_step(st);
    db_reset(st);
    if (rc == DB_DONE)
        return 0;
    snprintf(im->err, im->errlen, "store: import: table '%s', row %llu: %s", rec->table,
             (unsigned long long)n, db_errmsg(im->db));
    return rc < 0 ? rc : -EIO;
}

/* Every record after the header, up to and including the end line. */
static int load(struct importer *im, struct store_dump_stats *stats)
{
    struct store_dump_record rec;
    uint64_t n = 0;
    int rc;

    for (;;) {
        rc = next(im, &rec);
        if (rc)
            return rc;
        switch (rec.kind) {
        case STORE_DUMP_TABLE:
            rc = start_table(im, &rec);
            n = 0;
            break;
        case STORE_DUMP_ROW:
            rc = put_row(im, &rec, ++n);
            if (!rc && n % 1000 == 0 && im->progress)
                im->progress(im->ctx, rec.table, n, false);
            break;
        case STORE_DUMP_TABLE_END:
            im->last_ids[im->table - im->x.t] = rec.last_id;
            stats->tables++;
            stats->rows += rec.rows;
            if (im->progress)
                im->progress(im->ctx, rec.table, rec.rows, true);
            break;
        case STORE_DUMP_END:
            return 0;
        default:
            rc = -EINVAL;
            break;
        }
        if (rc)
            return rc;
    }
}

/* Nothing may follow the end line (a second dump pasted after it, garbage). */
static int check_tail(struct importer *im)
{
    struct store_dump_record rec;
    const char *line = NULL;
    size_t len = 0;
    char why[160];
    int rc = im->read(im->ctx, &line, &len);

    if (rc == 0)
        return 0;
    if (rc > 0 && store_dump_parse(im->parser, line, len, &rec, why, sizeof(why)) != 0) {
        snprintf(im->err, im->errlen, "store: import: the export is damaged: %s", why);
    } else {
        snprintf(im->err, im->errlen, "store: import: cannot read the export: %s", strerror(-rc));
    }
    return rc > 0 ? -EINVAL : rc;
}

/*
 * Ids: PostgreSQL's identity sequences continue past the largest id loaded (or the dump's
 * counter, if larger); SQLite's AUTOINCREMENT record likewise. Other SQLite tables take the
 * next id after the largest, as SQLite always does.
 */
static int counters(struct importer *im)
{
    static const char sql_autoinc[] =
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1"
        " AND sql LIKE '%AUTOINCREMENT%'";
    int rc = 0;

    for (size_t i = 0; i < im->x.n && !rc; i++) {
        const struct store__xtable *t = &im->x.t[i];
        const char *id;
        int64_t last = im->last_ids[i];
        struct db_stmt *st;

        if (t->id_col < 0)
            continue;
        id = t->cols[t->id_col].name;
        if (db_backend(im->db) == DB_PG) {
            rc = run(im,
                     sqlf("SELECT setval(pg_get_serial_sequence('\"%s\"', '%s')::regclass,"
                          " greatest(coalesce(max(\"%s\"), 0), %lld, 1),"
                          " greatest(coalesce(max(\"%s\"), 0), %lld) > 0) FROM \"%s\"",
                          t->name, id, id, (long long)last, id, (long long)last, t->name),
                     "moving an id counter");
            continue;
        }
        st = db_stmt(im->db, sql_autoinc);
        if (!st)
            return -EIO;
        db_bind_text(st, 1, t->name);
        rc = db_step(st);
        db_reset(st);
        if (rc == DB_DONE || last <= 0) {
            rc = rc < 0 ? rc : 0;
            continue;
        }
        rc = run(im,
                 sqlf("INSERT INTO sqlite_sequence (name, seq) SELECT '%s', %lld WHERE NOT EXISTS"
                      " (SELECT 1 FROM sqlite_sequence WHERE name = '%s')",
                      t->name, (long long)last, t->name),
                 "setting an id counter");
        if (!rc) {
            rc = run(im,
                     sqlf("UPDATE sqlite_sequence SET seq = %lld WHERE name = '%s' AND seq < %lld",
                          (long long)last, t->name, (long long)last),
                     "setting an id counter");
        }
    }
    return rc;
}

/* SQLite's FTS5 indexes over a content table: made again from the rows loaded. */
static int rebuild_search(struct importer *im)
{
    static const char sql[] = "SELECT name FROM sqlite_master WHERE type = 'table'"
                              " AND sql LIKE 'CREATE VIRTUAL TABLE%USING fts5%' ORDER BY name";
    struct db_stmt *st;
    char **names = NULL;
    size_t n = 0;
    int rc;

    if (db_backend(im->db) != DB_SQLITE)
        return 0;
    st = db_stmt(im->db, sql);
    if (!st)
        return -EIO;
    while ((rc = db_step(st)) == DB_ROW) {
        if (store__dump_name_ok(db_col_text(st, 0) ? db_col_text(st, 0) : "")) {
            names = xrealloc(names, (n + 1) * sizeof(*names));
            names[n++] = xstrdup(db_col_text(st, 0));
        }
    }
    db_reset(st);
    rc = rc == DB_DONE ? 0 : store__errno(im->db, rc, "import_fts");
    for (size_t i = 0; i < n; i++) {
        if (!rc) {
            rc = run(im, sqlf("INSERT INTO \"%s\" (\"%s\") VALUES ('rebuild')", names[i], names[i]),
                     "rebuilding the search index");
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

static int header(struct importer *im, struct store_dump_stats *stats)
{
    struct store_dump_record rec;
    int version = 0;
    int rc = next(im, &rec);

    if (rc)
        return rc;
    rc = store__xschema_version(im->db, &version);
    if (rc) {
        snprintf(im->err, im->errlen, "store: import: cannot read the schema version: %s",
                 db_errmsg(im->db));
        return rc;
    }
    if (rec.schema != version) {
        snprintf(im->err, im->errlen,
                 "store: import: the export has schema version %d, this database %d: import "
                 "it with the araldo release that wrote it (schema %d), or first run 'araldo "
                 "migrate' with this release on the source and export again",
                 rec.schema, version, rec.schema);
        return -EPROTO;
    }
    stats->schema = version;
    rc = store__xschema_read(im->db, &im->x, im->err, im->errlen);
    if (!rc)
        rc = check_tables(im, &rec);
    if (!rc)
        im->last_ids = xcalloc(im->x.n, sizeof(*im->last_ids));
    return rc;
}

int store_import(struct store *s, store_dump_read_fn *read, store_dump_progress_fn *progress,
                 void *ctx, struct store_dump_stats *stats, char *err, size_t errlen)
{
    struct importer im = {
        .read = read, .progress = progress, .ctx = ctx, .err = err, .errlen = errlen
    };
    int rc;

    memset(stats, 0, sizeof(*stats));
    rc = store__connect(s, false, &im.db, err, errlen);
    if (rc)
        return rc;
    im.parser = store_dump_parser_new();
    rc = header(&im, stats);
    if (!rc)
        rc = begin(&im);
    if (!rc)
        rc = load(&im, stats);
    if (!rc)
        rc = check_tail(&im);
    db_finalize(im.insert);
    im.insert = NULL;
    if (!rc)
        rc = triggers(&im, true);
    if (!rc)
        rc = rebuild_search(&im);
    if (!rc)
        rc = counters(&im);
    if (!rc && db_exec(im.db, "COMMIT")) {
        snprintf(err, errlen, "store: import: cannot commit: %s", db_errmsg(im.db));
        rc = -EIO;
    }
    if (db_in_tx(im.db))
        (void)db_exec(im.db, "ROLLBACK");
    for (size_t i = 0; i < im.ntriggers; i++) {
        free(im.triggers[i].name);
        free(im.triggers[i].sql);
    }
    free(im.triggers);
    free(im.last_ids);
    store__xschema_release(&im.x);
    store_dump_parser_free(im.parser);
    db_close(im.db);
    if (rc)
        memset(stats, 0, sizeof(*stats));
    return rc;
}
