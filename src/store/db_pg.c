/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store/db.h on PostgreSQL (libpq). Not yet reachable from `serve` (issue 16): the store's
 * unit suites run on it through tests/unit's PostgreSQL harness.
 *
 * - Placeholders: the store writes SQLite's `?N` (and `?`); prepare rewrites them to `$N`
 *   outside string literals and quoted identifiers.
 * - Named prepared statements per connection: PQprepare once (at the first step, when the
 *   bound values' types are known: integers are int8, doubles float8, blobs bytea, text and
 *   NULL "unknown" so the server infers them from context, as for a literal), then
 *   PQexecPrepared. Values travel as text, blobs as binary; results come back as text.
 * - A result is read whole (PQexecPrepared) and its rows handed out one db_step() at a time.
 *   The store's queries are bounded (LIMIT, one channel's page) so this stays small.
 * - Errors by SQLSTATE: 23505 unique_violation -EEXIST, 23503 foreign_key_violation -ENOENT,
 *   53100 disk_full -ENOSPC, anything else -EIO. A lost connection is -EIO, and the next use
 *   resets it (PQreset) and prepares the statements again on the new session.
 */
#include "store/db.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/db_int.h"

#define INT8OID   20
#define FLOAT8OID 701
#define BYTEAOID  17
#define TEXTOID   25

struct pg {
    struct db base; /* first: db.c knows only this part */
    PGconn *conn;
    unsigned generation; /* bumped by every reset: statements prepared before are gone */
    unsigned listen_gen; /* generation + 1 when db_pg_listen() last succeeded */
    unsigned next_name;
    int64_t changes;
    char errmsg[512];
};

struct pg_param {
    const char *value; /* NULL: SQL NULL */
    int len;
    int format; /* 0 text, 1 binary */
    unsigned oid;
    char num[32]; /* an integer's or double's text */
    char *owned;  /* a copy of text that was not NUL-terminated */
};

struct pg_stmt {
    struct db_stmt base;
    char *sql; /* with $N placeholders */
    char name[24];
    bool cached;
    unsigned prepared_gen; /* == pg->generation + 1 once prepared on this session */
    int nparams;
    struct pg_param *params;
    PGresult *res;
    int row, nrows;      /* the current row (-1 before the first step) */
    unsigned char *blob; /* the current row's decoded bytea (PQunescapeBytea) */
    int blob_col;
    size_t blob_len;
};

static struct pg *pg_of(struct db *db)
{
    return container_of(db, struct pg, base);
}

static struct pg_stmt *stmt_of(struct db_stmt *st)
{
    return container_of(st, struct pg_stmt, base);
}

static void set_err(struct pg *p, const char *msg)
{
    size_t n;

    snprintf(p->errmsg, sizeof(p->errmsg), "%s", msg ? msg : "unknown error");
    n = strlen(p->errmsg);
    while (n && (p->errmsg[n - 1] == '\n' || p->errmsg[n - 1] == ' '))
        p->errmsg[--n] = '\0';
}

/* A failed result (or none) in our error space; remembers the message. */
static int map_result(struct pg *p, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

    set_err(p, res ? PQresultErrorMessage(res) : PQerrorMessage(p->conn));
    if (!state)
        return -EIO; /* no server answer: the connection is lost */
    if (!strcmp(state, "23505"))
        return -EEXIST;
    if (!strcmp(state, "23503"))
        return -ENOENT;
    if (!strcmp(state, "53100"))
        return -ENOSPC;
    return -EIO;
}

static int run(struct pg *p, const char *sql);

/* A lost connection is reset at its next use; its prepared statements are gone with it. */
static int ensure_conn(struct pg *p)
{
    if (PQstatus(p->conn) == CONNECTION_OK)
        return 0;
    PQreset(p->conn);
    p->generation++;
    if (PQstatus(p->conn) != CONNECTION_OK) {
        set_err(p, PQerrorMessage(p->conn));
        return -EIO;
    }
    return 0;
}

/*
 * `?N` -> `$N` and `?` -> the next number, outside '...' literals and "..." identifiers.
 * Returns the new text (caller frees) and the highest parameter number in *nparams.
 */
static char *rewrite_params(const char *sql, size_t len, int *nparams)
{
    char *out = xmalloc(len * 2 + 1); /* "?" -> "$12" at worst doubles a short text */
    size_t o = 0;
    int next = 0, max = 0;
    char quote = 0;

    for (size_t i = 0; i < len; i++) {
        char c = sql[i];

        if (quote) {
            out[o++] = c;
            if (c == quote)
                quote = 0; /* a doubled quote re-opens at once: still correct */
            continue;
        }
        if (c == '\'' || c == '"') {
            quote = c;
            out[o++] = c;
            continue;
        }
        if (c != '?') {
            out[o++] = c;
            continue;
        }
        if (i + 1 < len && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
            int n = 0;

            while (i + 1 < len && sql[i + 1] >= '0' && sql[i + 1] <= '9')
                n = n * 10 + (sql[++i] - '0');
            next = n;
        } else {
            next++;
        }
        if (next > max)
            max = next;
        o += (size_t)snprintf(out + o, 12, "$%d", next);
    }
    out[o] = '\0';
    *nparams = max;
    return out;
}

static int pg_prepare(struct db *db, const char *sql, size_t len, bool cached, struct db_stmt **out)
{
    struct pg *p = pg_of(db);
    struct pg_stmt *st = xcalloc(1, sizeof(*st));

    st->base.db = db;
    st->sql = rewrite_params(sql, len, &st->nparams);
    st->cached = cached;
    snprintf(st->name, sizeof(st->name), "s%u", ++p->next_name);
    st->params = xcalloc((size_t)st->nparams + 1, sizeof(*st->params));
    st->row = -1;
    st->blob_col = -1;
    *out = &st->base;
    return 0; /* errors in the SQL show at the first step, when the server sees it */
}

static void clear_param(struct pg_param *pp)
{
    free(pp->owned);
    *pp = (struct pg_param){ 0 };
}

static void clear_result(struct pg_stmt *st)
{
    PQclear(st->res);
    st->res = NULL;
    st->row = -1;
    st->nrows = 0;
    PQfreemem(st->blob);
    st->blob = NULL;
    st->blob_col = -1;
}

static void pg_reset(struct db_stmt *base)
{
    struct pg_stmt *st = stmt_of(base);

    clear_result(st);
    for (int i = 0; i < st->nparams; i++)
        clear_param(&st->params[i]);
}

static void pg_finalize(struct db_stmt *base)
{
    struct pg_stmt *st = stmt_of(base);
    struct pg *p = pg_of(base->db);
    char sql[48];

    pg_reset(base);
    if (st->prepared_gen == p->generation + 1 && PQstatus(p->conn) == CONNECTION_OK) {
        snprintf(sql, sizeof(sql), "DEALLOCATE %s", st->name);
        PQclear(PQexec(p->conn, sql));
    }
    free(st->params);
    free(st->sql);
    free(st);
}

static struct pg_param *param(struct db_stmt *base, int i)
{
    struct pg_stmt *st = stmt_of(base);

    return i >= 1 && i <= st->nparams ? &st->params[i - 1] : NULL;
}

static void pg_bind_i64(struct db_stmt *st, int i, int64_t v)
{
    struct pg_param *pp = param(st, i);

    if (!pp)
        return;
    clear_param(pp);
    pp->len = snprintf(pp->num, sizeof(pp->num), "%lld", (long long)v);
    pp->value = pp->num;
    pp->format = 0;
    pp->oid = INT8OID;
}

static void pg_bind_double(struct db_stmt *st, int i, double v)
{
    struct pg_param *pp = param(st, i);

    if (!pp)
        return;
    clear_param(pp);
    pp->len = snprintf(pp->num, sizeof(pp->num), "%.17g", v);
    pp->value = pp->num;
    pp->format = 0;
    pp->oid = FLOAT8OID;
}

static void pg_bind_text(struct db_stmt *st, int i, const char *s, size_t len, bool terminated)
{
    struct pg_param *pp = param(st, i);

    if (!pp)
        return;
    clear_param(pp);
    /* Text format wants a NUL-terminated value: copy a slice that is not. */
    if (!terminated) {
        pp->owned = xmalloc(len + 1);
        memcpy(pp->owned, s, len);
        pp->owned[len] = '\0';
        s = pp->owned;
    }
    pp->value = s;
    pp->len = (int)len;
    pp->format = 0;
    pp->oid = 0;
}

static void pg_bind_blob(struct db_stmt *st, int i, const void *v, size_t len)
{
    struct pg_param *pp = param(st, i);

    if (!pp)
        return;
    clear_param(pp);
    pp->value = v ? v : "";
    pp->len = (int)len;
    pp->format = 1;
    pp->oid = BYTEAOID;
}

static void pg_bind_null(struct db_stmt *st, int i)
{
    struct pg_param *pp = param(st, i);

    if (pp)
        clear_param(pp);
}

/*
 * The parameter PostgreSQL could not give a type (SQLSTATE 42P18 or 42P08, "could not
 * determine data type of parameter $N"): its index from 0, or -1 for any other failure.
 */
static int indeterminate(const PGresult *res, int nparams)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *d;
    long n;

    if (!state || (strcmp(state, "42P18") != 0 && strcmp(state, "42P08") != 0) || !msg)
        return -1;
    d = strrchr(msg, '$');
    n = d ? strtol(d + 1, NULL, 10) : 0;
    return n >= 1 && n <= nparams ? (int)n - 1 : -1;
}

/*
 * PQprepare on this session, with the types of the values bound now. A parameter seen only
 * where nothing tells its type (`?4 IS NULL OR ?4 = ''`) and bound NULL or text this first
 * time is then declared text, which is what such a value is, and the statement prepared
 * again. Inside a transaction a failed prepare would abort it: a savepoint keeps it usable.
 */
static int prepare_now(struct pg *p, struct pg_stmt *st)
{
    Oid *types = xcalloc((size_t)st->nparams + 1, sizeof(*types));
    bool in_tx = PQtransactionStatus(p->conn) == PQTRANS_INTRANS;
    PGresult *res = NULL;
    int err = 0, bad;

    for (int i = 0; i < st->nparams; i++)
        types[i] = st->params[i].value ? st->params[i].oid : 0;
    if (in_tx)
        err = run(p, "SAVEPOINT araldo_prepare");
    for (int tries = 0; !err && tries <= st->nparams; tries++) {
        PQclear(res);
        res = PQprepare(p->conn, st->name, st->sql, st->nparams, types);
        bad = indeterminate(res, st->nparams);
        if (bad < 0 || types[bad])
            break;
        types[bad] = TEXTOID;
        if (in_tx)
            err = run(p, "ROLLBACK TO SAVEPOINT araldo_prepare");
    }
    free(types);
    if (!err && PQresultStatus(res) != PGRES_COMMAND_OK) {
        err = map_result(p, res);
        if (in_tx)
            (void)run(p, "ROLLBACK TO SAVEPOINT araldo_prepare");
    } else if (!err) {
        st->prepared_gen = p->generation + 1;
    }
    if (in_tx && PQstatus(p->conn) == CONNECTION_OK) {
        int e = run(p, "RELEASE SAVEPOINT araldo_prepare");

        err = err ? err : e;
    }
    PQclear(res);
    return err;
}

static int execute(struct pg *p, struct pg_stmt *st)
{
    const char **values = xcalloc((size_t)st->nparams + 1, sizeof(*values));
    int *lens = xcalloc((size_t)st->nparams + 1, sizeof(*lens));
    int *formats = xcalloc((size_t)st->nparams + 1, sizeof(*formats));
    ExecStatusType status;
    int err;

    for (int i = 0; i < st->nparams; i++) {
        values[i] = st->params[i].value;
        lens[i] = st->params[i].len;
        formats[i] = st->params[i].format;
    }
    st->res = PQexecPrepared(p->conn, st->name, st->nparams, values, lens, formats, 0);
    free(values);
    free(lens);
    free(formats);
    status = PQresultStatus(st->res);
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
        const char *cmd = PQcmdStatus(st->res);

        st->nrows = status == PGRES_TUPLES_OK ? PQntuples(st->res) : 0;
        /* As on SQLite: only an INSERT, UPDATE or DELETE (RETURNING or not) sets the count */
        if (!strncmp(cmd, "INSERT", 6) || !strncmp(cmd, "UPDATE", 6) || !strncmp(cmd, "DELETE", 6))
            p->changes = strtoll(PQcmdTuples(st->res), NULL, 10);
        return 0;
    }
    err = map_result(p, st->res);
    clear_result(st);
    if (PQstatus(p->conn) != CONNECTION_OK)
        p->generation++; /* the statements of that session are gone */
    return err;
}

static int pg_step(struct db_stmt *base)
{
    struct pg_stmt *st = stmt_of(base);
    struct pg *p = pg_of(base->db);
    int err;

    if (!st->res) {
        /*
         * A session lost while idle (the server restarted) shows only at the next use: outside
         * a transaction nothing is lost with it, so reconnect and run the statement once more
         * rather than fail one reader's request per connection after every restart.
         */
        bool idle = PQtransactionStatus(p->conn) == PQTRANS_IDLE;

        for (int tries = 0; tries < 2; tries++) {
            err = ensure_conn(p);
            if (!err && st->prepared_gen != p->generation + 1)
                err = prepare_now(p, st);
            if (!err)
                err = execute(p, st);
            if (!err || !idle || PQstatus(p->conn) == CONNECTION_OK)
                break;
        }
        if (err)
            return err;
    }
    PQfreemem(st->blob);
    st->blob = NULL;
    st->blob_col = -1;
    if (st->row + 1 >= st->nrows) {
        st->row = st->nrows;
        return DB_DONE;
    }
    st->row++;
    return DB_ROW;
}

static const char *value(struct pg_stmt *st, int i)
{
    if (!st->res || st->row < 0 || st->row >= st->nrows || i < 0 || i >= PQnfields(st->res) ||
        PQgetisnull(st->res, st->row, i))
        return NULL;
    return PQgetvalue(st->res, st->row, i);
}

static int64_t pg_col_i64(struct db_stmt *base, int i)
{
    const char *v = value(stmt_of(base), i);

    if (!v)
        return 0;
    if (*v == 't' || *v == 'f') /* a boolean expression */
        return *v == 't';
    return strtoll(v, NULL, 10);
}

static double pg_col_double(struct db_stmt *base, int i)
{
    const char *v = value(stmt_of(base), i);

    return v ? strtod(v, NULL) : 0.0;
}

static const char *pg_col_text(struct db_stmt *base, int i)
{
    return value(stmt_of(base), i);
}

static bool decode_blob(struct pg_stmt *st, int i)
{
    const char *v = value(st, i);

    if (!v)
        return false;
    if (PQftype(st->res, i) != BYTEAOID)
        return false;
    if (st->blob_col != i) {
        PQfreemem(st->blob);
        st->blob = PQunescapeBytea((const unsigned char *)v, &st->blob_len);
        st->blob_col = st->blob ? i : -1;
    }
    return st->blob != NULL;
}

static const void *pg_col_blob(struct db_stmt *base, int i)
{
    struct pg_stmt *st = stmt_of(base);

    if (decode_blob(st, i))
        return st->blob;
    return value(st, i);
}

static size_t pg_col_bytes(struct db_stmt *base, int i)
{
    struct pg_stmt *st = stmt_of(base);

    if (decode_blob(st, i))
        return st->blob_len;
    return value(st, i) ? (size_t)PQgetlength(st->res, st->row, i) : 0;
}

static bool pg_col_is_null(struct db_stmt *base, int i)
{
    return value(stmt_of(base), i) == NULL;
}

static int pg_changes(struct db *db)
{
    return (int)pg_of(db)->changes;
}

static int run(struct pg *p, const char *sql)
{
    PGresult *res;
    int err = 0;

    err = ensure_conn(p);
    if (err)
        return err;
    res = PQexec(p->conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        err = map_result(p, res);
    PQclear(res);
    if (err && PQstatus(p->conn) != CONNECTION_OK)
        p->generation++;
    return err;
}

static int pg_exec(struct db *db, const char *sql)
{
    return run(pg_of(db), db__text(db, sql));
}

static int pg_exec_script(struct db *db, const char *sql)
{
    return run(pg_of(db), sql);
}

static bool pg_in_tx(struct db *db)
{
    PGTransactionStatusType t = PQtransactionStatus(pg_of(db)->conn);

    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

static const char *pg_errmsg(struct db *db)
{
    return pg_of(db)->errmsg;
}

static void pg_close(struct db *db)
{
    struct pg *p = pg_of(db);

    PQfinish(p->conn);
    free(p);
}

static const struct db_ops pg_ops = {
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .reset = pg_reset,
    .bind_i64 = pg_bind_i64,
    .bind_double = pg_bind_double,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .col_i64 = pg_col_i64,
    .col_double = pg_col_double,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
    .col_bytes = pg_col_bytes,
    .col_is_null = pg_col_is_null,
    .changes = pg_changes,
    .exec = pg_exec,
    .exec_script = pg_exec_script,
    .in_tx = pg_in_tx,
    .errmsg = pg_errmsg,
    .close = pg_close,
};

/* Notices (e.g. "relation already exists, skipping") are not errors: keep them out of stderr. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

int db_pg_open(const char *conninfo, struct db **out, char *err, size_t errlen)
{
    PGconn *conn = PQconnectdb(conninfo);
    struct pg *p;

    *out = NULL;
    if (PQstatus(conn) != CONNECTION_OK) {
        /* libpq's message names host and database, never the password */
        snprintf(err, errlen, "store: cannot connect to PostgreSQL: %s",
                 conn ? PQerrorMessage(conn) : "out of memory");
        PQfinish(conn);
        return -EIO;
    }
    PQsetNoticeProcessor(conn, quiet, NULL);
    p = xcalloc(1, sizeof(*p));
    db__init(&p->base, &pg_ops, DB_PG);
    p->conn = conn;
    *out = &p->base;
    return 0;
}

/* ---- notifications (the listener thread, store/listen.c) ---- */

int db_pg_listen(struct db *db, const char *name)
{
    static const char prefix[] = "LISTEN ";
    char sql[96];
    struct pg *p;
    int err;

    if (db_backend(db) != DB_PG)
        return -ENOTSUP;
    p = pg_of(db);
    if (snprintf(sql, sizeof(sql), "%s%s", prefix, name) >= (int)sizeof(sql))
        return -EINVAL;
    err = run(p, sql);
    if (!err)
        p->listen_gen = p->generation + 1;
    return err;
}

/* Hand over the notifications libpq has already read. Returns how many. */
static size_t drain(struct pg *p, db_notify_fn *each, void *ctx)
{
    PGnotify *n;
    size_t count = 0;

    while ((n = PQnotifies(p->conn)) != NULL) {
        each(ctx, n->extra);
        PQfreemem(n);
        count++;
    }
    return count;
}

int db_pg_wait_notify(struct db *db, int timeout_ms, db_notify_fn *each, void *ctx)
{
    struct pg *p;
    struct pollfd pfd;

    if (db_backend(db) != DB_PG)
        return -ENOTSUP;
    p = pg_of(db);
    if (p->listen_gen != p->generation + 1 || PQstatus(p->conn) != CONNECTION_OK)
        return -EIO;
    /* What a query's answer brought along first; wait for the socket only if there was none. */
    if (!drain(p, each, ctx)) {
        pfd = (struct pollfd){ .fd = PQsocket(p->conn), .events = POLLIN };
        if (pfd.fd < 0)
            return -EIO;
        if (poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR)
            return -EIO;
        if (!PQconsumeInput(p->conn)) {
            set_err(p, PQerrorMessage(p->conn));
            return -EIO;
        }
        (void)drain(p, each, ctx);
    }
    return PQstatus(p->conn) == CONNECTION_OK ? 0 : -EIO;
}
