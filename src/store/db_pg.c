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
 *   53100 disk_full -ENOSPC, 40P01 deadlock_detected and 40001 serialization_failure -EDEADLK
 *   (the transaction must be run again), anything else -EIO. A lost connection is -EIO, and
 *   the next use resets it (PQreset) and prepares the statements again on the new session.
 * - Round trips: BEGIN, SAVEPOINT and RELEASE return nothing the caller reads, so db_exec()
 *   only notes them, and they travel in one libpq pipeline with the next statement that does
 *   (a step, COMMIT, ROLLBACK TO). The writer's per-write SAVEPOINT ... RELEASE thus costs no
 *   round trip of its own: a batch of writes of one statement each is one round trip per write
 *   plus the COMMIT. Such a statement fails only when the transaction is already lost (it is
 *   then rolled back whole, and the statement it travelled with fails with -EIO), so an error
 *   still belongs to the write that made it and rolls back to that write's savepoint only.
 */
#include "store/db.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "store/db_int.h"
#include "store/store.h"

#define INT8OID   20
#define FLOAT8OID 701
#define BYTEAOID  17
#define TEXTOID   25

/* Control statements noted and not yet sent (more are sent at once, in one pipeline). */
#define DEFER_MAX 32

/*
 * What a connection string leaves unsaid, so that a dead or unreachable server is noticed in
 * seconds, not minutes (docs/CONFIG.md, database_url, says so; the URL may set each one):
 * connecting gives up after connect_timeout seconds; an idle TCP connection is probed after
 * 10 s, every 5 s, given up after 3 probes unanswered; data unacknowledged for 10 s
 * (tcp_user_timeout) ends the connection. Unix sockets ignore the TCP ones.
 */
static const char *const default_keys[] = {
    "connect_timeout",     "keepalives",       "keepalives_idle",
    "keepalives_interval", "keepalives_count", "tcp_user_timeout",
};
static const char *const default_values[] = { "5", "1", "10", "5", "3", "10000" };

/*
 * Reconnecting does not hold a thread for the whole connect: a call waits this long for it
 * (enough for a server that is there), then fails (-EIO) and leaves the attempt running for
 * the next call to finish. Readers run on the event loops, which must not stall.
 */
#define RECONNECT_WAIT_MS 50
/* After an attempt failed, calls fail at once for this long before the next one is made. */
#define RECONNECT_BACKOFF_MS 1000

/* The process's PostgreSQL connections, for store_db_stats() (/metrics). */
static _Atomic uint64_t pg_busy;
static _Atomic uint64_t pg_round_trips;
static _Atomic uint64_t pg_reconnects;
static _Atomic uint64_t pg_connect_failures;
static _Atomic bool pg_down;

struct pg {
    struct db base; /* first: db.c knows only this part */
    PGconn *conn;
    unsigned generation; /* bumped by every reset: statements prepared before are gone */
    unsigned listen_gen; /* generation + 1 when db_pg_listen() last succeeded */
    unsigned next_name;
    int64_t changes;
    char errmsg[512];
    /* BEGIN, SAVEPOINT, RELEASE noted by db_exec(), sent with the next statement (in order) */
    const char *deferred[DEFER_MAX];
    int ndeferred;
    bool broken;    /* the session is out of step with us (a pipeline went wrong): reset it */
    bool resetting; /* a reconnection is under way (PQresetStart) */
    int64_t reset_started_ms, reset_driven_ms, retry_at_ms; /* monotonic */
    int connect_timeout_ms;
    PostgresPollingStatusType reset_ps; /* what the reconnection waits for */
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
    if (!strcmp(state, "40P01") || !strcmp(state, "40001"))
        return -EDEADLK;
    return -EIO;
}

static int run(struct pg *p, const char *sql);

/*
 * The session is gone: its prepared statements with it, and the control statements noted for
 * its transaction. Only a transaction not yet begun (the list starts with BEGIN) is still
 * whole, and runs on the next session as it would have on this one.
 */
static void lost(struct pg *p)
{
    atomic_store(&pg_down, true); /* until a session is made again */
    p->generation++;
    if (p->ndeferred && strcmp(p->deferred[0], "BEGIN") != 0)
        p->ndeferred = 0;
}

/* Around every wait for the server: the busy gauge and the round-trip count. */
static void busy_begin(void)
{
    atomic_fetch_add_explicit(&pg_busy, 1, memory_order_relaxed);
}

static void busy_end(void)
{
    atomic_fetch_sub_explicit(&pg_busy, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&pg_round_trips, 1, memory_order_relaxed);
}

static int64_t mono_ms(void)
{
    return (int64_t)(clock_mono_us() / 1000);
}

static int reset_failed(struct pg *p, const char *why)
{
    char msg[sizeof(p->errmsg)];

    p->resetting = false;
    p->retry_at_ms = mono_ms() + RECONNECT_BACKOFF_MS;
    atomic_fetch_add_explicit(&pg_connect_failures, 1, memory_order_relaxed);
    atomic_store(&pg_down, true);
    snprintf(msg, sizeof(msg), "cannot reconnect to PostgreSQL: %s", why);
    set_err(p, msg);
    return -EIO;
}

/* Take the reconnection on as far as it goes within RECONNECT_WAIT_MS. */
static int drive_reset(struct pg *p, PostgresPollingStatusType ps)
{
    int64_t until = mono_ms() + RECONNECT_WAIT_MS;

    for (;;) {
        struct pollfd pfd = { .fd = PQsocket(p->conn) };
        int64_t now = mono_ms();
        int64_t left = until - now;

        if (ps == PGRES_POLLING_OK) {
            p->resetting = false;
            atomic_fetch_add_explicit(&pg_reconnects, 1, memory_order_relaxed);
            atomic_store(&pg_down, false);
            return 0;
        }
        if (ps == PGRES_POLLING_FAILED)
            return reset_failed(p, PQerrorMessage(p->conn));
        /* libpq's own connect_timeout holds for blocking connects only */
        if (now - p->reset_started_ms >= p->connect_timeout_ms)
            return reset_failed(p, "timeout expired");
        if (left <= 0) {
            p->reset_ps = ps;
            p->reset_driven_ms = now;
            set_err(p, "still connecting to PostgreSQL");
            return -EIO;
        }
        pfd.events = ps == PGRES_POLLING_READING ? POLLIN : POLLOUT;
        if (pfd.fd < 0)
            return reset_failed(p, "no socket");
        if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
            return reset_failed(p, strerror(errno));
        if (pfd.revents)
            ps = PQresetPoll(p->conn);
    }
}

/*
 * A lost connection is made again at its next use; its prepared statements are gone with it.
 * The attempt runs in the background of the calls (PQresetStart, PQresetPoll): a call waits
 * RECONNECT_WAIT_MS for it at most, and after a failed attempt calls fail at once for
 * RECONNECT_BACKOFF_MS, so nobody waits long on a dead server.
 */
static int ensure_conn(struct pg *p)
{
    /* an attempt nobody took on for a connect timeout (an idle reader) is stale: start again */
    if (p->resetting && mono_ms() - p->reset_driven_ms >= p->connect_timeout_ms)
        p->resetting = false;
    if (p->resetting)
        return drive_reset(p, p->reset_ps);
    if (PQstatus(p->conn) == CONNECTION_OK && !p->broken)
        return 0;
    if (mono_ms() < p->retry_at_ms) {
        set_err(p, "PostgreSQL is unreachable (tried again within a second)");
        return -EIO;
    }
    p->broken = false;
    lost(p);
    p->reset_started_ms = p->reset_driven_ms = mono_ms();
    if (!PQresetStart(p->conn))
        return reset_failed(p, PQerrorMessage(p->conn));
    p->resetting = true;
    /* as libpq says: act as if the first poll said "writing" */
    return drive_reset(p, PGRES_POLLING_WRITING);
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
        busy_begin();
        PQclear(PQexec(p->conn, sql));
        busy_end();
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
        busy_begin();
        res = PQprepare(p->conn, st->name, st->sql, st->nparams, types);
        busy_end();
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

/* The bound values as libpq takes them (it copies them into its buffer at once). */
struct args {
    const char **values;
    int *lens;
    int *formats;
};

static void args_init(struct args *a, const struct pg_stmt *st)
{
    a->values = xcalloc((size_t)st->nparams + 1, sizeof(*a->values));
    a->lens = xcalloc((size_t)st->nparams + 1, sizeof(*a->lens));
    a->formats = xcalloc((size_t)st->nparams + 1, sizeof(*a->formats));
    for (int i = 0; i < st->nparams; i++) {
        a->values[i] = st->params[i].value;
        a->lens[i] = st->params[i].len;
        a->formats[i] = st->params[i].format;
    }
}

static void args_release(struct args *a)
{
    free(a->values);
    free(a->lens);
    free(a->formats);
}

/* A statement's result (owned from here): kept for the steps, or mapped to an error. */
static int take_result(struct pg *p, struct pg_stmt *st, PGresult *res)
{
    ExecStatusType status = PQresultStatus(res);
    int err;

    st->res = res;
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
    return err;
}

static int execute(struct pg *p, struct pg_stmt *st)
{
    struct args a;
    int err;

    args_init(&a, st);
    busy_begin();
    err = take_result(
        p, st, PQexecPrepared(p->conn, st->name, st->nparams, a.values, a.lens, a.formats, 0));
    busy_end();
    args_release(&a);
    if (err && PQstatus(p->conn) != CONNECTION_OK)
        lost(p);
    return err;
}

/* A failed BEGIN, SAVEPOINT or RELEASE: the transaction cannot go on, so none of it stays. */
static int control_failed(struct pg *p, const PGresult *res, const char *sql)
{
    char msg[sizeof(p->errmsg) + 32];
    int err = map_result(p, res);

    snprintf(msg, sizeof(msg), "%.24s: %s", sql, p->errmsg);
    if (PQtransactionStatus(p->conn) == PQTRANS_INERROR ||
        PQtransactionStatus(p->conn) == PQTRANS_INTRANS) {
        busy_begin();
        PQclear(PQexec(p->conn, "ROLLBACK"));
        busy_end();
    }
    set_err(p, msg);
    return err == -ENOSPC ? -ENOSPC : -EIO;
}

/* pipeline()'s first half: into pipeline mode, every query, the sync. false: it failed. */
static bool send_pipeline(struct pg *p, const char *sql, struct pg_stmt *st)
{
    bool ok = PQenterPipelineMode(p->conn);

    for (int i = 0; ok && i < p->ndeferred; i++)
        ok = PQsendQueryParams(p->conn, p->deferred[i], 0, NULL, NULL, NULL, NULL, 0);
    if (ok && sql)
        ok = PQsendQueryParams(p->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
    if (ok && st) {
        struct args a;

        args_init(&a, st);
        ok = PQsendQueryPrepared(p->conn, st->name, st->nparams, a.values, a.lens, a.formats, 0);
        args_release(&a);
    }
    return ok && PQpipelineSync(p->conn);
}

/*
 * Send the noted control statements, then `sql` (one more statement without parameters) or
 * `st` (its prepared statement with the values bound now) or neither, in one pipeline: one
 * round trip. 0 with st's result in st->res, or -errno. After a failed control statement the
 * rest did not run (the pipeline is aborted), the transaction is rolled back whole and the
 * answer is -EIO: as if that statement had been sent alone and failed.
 */
static int pipeline(struct pg *p, const char *sql, struct pg_stmt *st)
{
    int n = p->ndeferred, total = n + (sql || st ? 1 : 0);
    const PGresult *failed = NULL;
    PGresult *ctl_res = NULL, *res;
    const char *failed_sql = NULL;
    int err = 0;
    bool ok;

    busy_begin();
    ok = send_pipeline(p, sql, st);
    for (int i = 0; ok && i < total; i++) {
        res = PQgetResult(p->conn); /* each query's results, then a NULL */
        if (!res || PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            ok = false; /* the connection is lost */
            break;
        }
        if (i < n) {
            if (!failed && PQresultStatus(res) != PGRES_COMMAND_OK) {
                failed = ctl_res = res;
                failed_sql = p->deferred[i];
                res = NULL;
            }
            PQclear(res);
        } else if (st && !failed) {
            err = take_result(p, st, res);
        } else {
            if (!failed && PQresultStatus(res) != PGRES_COMMAND_OK &&
                PQresultStatus(res) != PGRES_TUPLES_OK)
                err = map_result(p, res);
            PQclear(res);
        }
        while ((res = PQgetResult(p->conn)) != NULL) {
            if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) { /* not expected before the end */
                PQclear(res);
                ok = false;
                break;
            }
            PQclear(res);
        }
    }
    if (ok) {
        res = PQgetResult(p->conn);
        ok = PQresultStatus(res) == PGRES_PIPELINE_SYNC;
        PQclear(res);
    }
    ok = PQexitPipelineMode(p->conn) && ok;
    busy_end();
    if (!ok) {
        if (st)
            clear_result(st);
        set_err(p, PQerrorMessage(p->conn));
        err = -EIO;
        if (PQstatus(p->conn) != CONNECTION_OK) {
            lost(p);
        } else {
            p->ndeferred = 0;
            p->broken = true; /* in a state we did not make: a new session at the next use */
        }
    } else {
        p->ndeferred = 0;
        if (failed) {
            if (st)
                clear_result(st);
            err = control_failed(p, failed, failed_sql);
        }
    }
    PQclear(ctl_res);
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
         * a transaction nothing is lost with it (a noted BEGIN has not run yet), so reconnect
         * and run the statement once more rather than fail one reader's request per
         * connection after every restart.
         */
        bool idle = PQtransactionStatus(p->conn) == PQTRANS_IDLE;

        for (int tries = 0; tries < 2; tries++) {
            err = ensure_conn(p);
            /* what was noted goes first: prepare_now may need a savepoint of its own */
            if (!err && st->prepared_gen != p->generation + 1 && p->ndeferred)
                err = pipeline(p, NULL, NULL);
            if (!err && st->prepared_gen != p->generation + 1)
                err = prepare_now(p, st);
            if (!err)
                err = p->ndeferred ? pipeline(p, NULL, st) : execute(p, st);
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
    if (p->ndeferred)
        return pipeline(p, sql, NULL);
    busy_begin();
    res = PQexec(p->conn, sql);
    busy_end();
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        err = map_result(p, res);
    PQclear(res);
    if (err && PQstatus(p->conn) != CONNECTION_OK)
        lost(p);
    return err;
}

/* BEGIN, SAVEPOINT x, RELEASE x: nothing to read back, and a failure means the transaction is
 * lost, which the next statement can tell as well (see pipeline()). */
static bool deferrable(const char *sql)
{
    return !strcmp(sql, "BEGIN") || !strncmp(sql, "SAVEPOINT ", 10) || !strncmp(sql, "RELEASE ", 8);
}

static int pg_exec(struct db *db, const char *sql)
{
    struct pg *p = pg_of(db);
    const char *text = db__text(db, sql);
    int err;

    if (!strcmp(text, "ROLLBACK") && p->ndeferred && !strcmp(p->deferred[0], "BEGIN")) {
        p->ndeferred = 0; /* that transaction never reached the server: nothing to undo */
        return 0;
    }
    if (!deferrable(text))
        return run(p, text);
    if (p->ndeferred == DEFER_MAX) {
        err = ensure_conn(p);
        if (!err)
            err = pipeline(p, NULL, NULL);
        if (err)
            return err;
    }
    p->deferred[p->ndeferred++] = text;
    return 0;
}

static int pg_exec_script(struct db *db, const char *sql)
{
    struct pg *p = pg_of(db);
    int err = 0;

    /* several statements cannot join a pipeline: what was noted goes first, alone */
    if (p->ndeferred) {
        err = ensure_conn(p);
        if (!err)
            err = pipeline(p, NULL, NULL);
    }
    if (!err)
        err = run(p, sql);
    return err;
}

static bool pg_in_tx(struct db *db)
{
    struct pg *p = pg_of(db);
    PGTransactionStatusType t = PQtransactionStatus(p->conn);

    for (int i = 0; i < p->ndeferred; i++) {
        if (!strcmp(p->deferred[i], "BEGIN"))
            return true; /* noted, not yet sent: the caller's transaction is open */
    }
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

/* The connect_timeout the connection ended up with, in ms (0 or none: libpq waits forever). */
static int connect_timeout_ms(PGconn *conn)
{
    PQconninfoOption *opts = PQconninfo(conn);
    long s = 0;

    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (!strcmp(o->keyword, "connect_timeout") && o->val)
            s = strtol(o->val, NULL, 10);
    }
    PQconninfoFree(opts);
    if (s <= 0 || s > 24L * 3600)
        return 24 * 3600 * 1000;
    return (int)(s < 2 ? 2000 : s * 1000); /* libpq's floor: 2 s */
}

int db_pg_open(const char *conninfo, struct db **out, char *err, size_t errlen)
{
    enum { N = sizeof(default_keys) / sizeof(default_keys[0]) };
    const char *keys[N + 2], *values[N + 2];
    PGconn *conn;
    struct pg *p;

    /* The defaults first: what the connection string says comes after them, and wins. */
    for (size_t i = 0; i < N; i++) {
        keys[i] = default_keys[i];
        values[i] = default_values[i];
    }
    keys[N] = "dbname";
    values[N] = conninfo;
    keys[N + 1] = values[N + 1] = NULL;
    *out = NULL;
    conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        /* libpq's message names host and database, never the password */
        snprintf(err, errlen, "store: cannot connect to PostgreSQL: %s",
                 conn ? PQerrorMessage(conn) : "out of memory");
        PQfinish(conn);
        atomic_fetch_add_explicit(&pg_connect_failures, 1, memory_order_relaxed);
        atomic_store(&pg_down, true);
        return -EIO;
    }
    atomic_store(&pg_down, false);
    PQsetNoticeProcessor(conn, quiet, NULL);
    p = xcalloc(1, sizeof(*p));
    db__init(&p->base, &pg_ops, DB_PG);
    p->conn = conn;
    p->connect_timeout_ms = connect_timeout_ms(conn);
    *out = &p->base;
    return 0;
}

void db__pg_stats(struct store_db_stats *out)
{
    out->busy = atomic_load_explicit(&pg_busy, memory_order_relaxed);
    out->round_trips = atomic_load_explicit(&pg_round_trips, memory_order_relaxed);
    out->reconnects = atomic_load_explicit(&pg_reconnects, memory_order_relaxed);
    out->connect_failures = atomic_load_explicit(&pg_connect_failures, memory_order_relaxed);
    out->unreachable = atomic_load(&pg_down);
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
