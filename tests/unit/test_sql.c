/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The statement layer (store/db.h) as the writer uses it: a batch of writes, each in its own
 * savepoint, on either engine (tests/pg/postgres.sh run sets ARALDO_TEST_PG). On PostgreSQL
 * BEGIN, SAVEPOINT and RELEASE travel with the next statement (one pipeline), so these tests
 * pin what that must not change: an error belongs to the statement that made it, a failed
 * statement rolls back to its own savepoint only, a failed control statement loses the
 * transaction, and a session lost while idle costs no write.
 */
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "store/db.h"
#include "store/store.h"
#include "test_db.h"

static const char sql_begin[] = DB_SQL("BEGIN IMMEDIATE", "BEGIN");
static const char sql_savepoint[] = "SAVEPOINT w";
static const char sql_release[] = "RELEASE w";
static const char sql_rollback_to[] = "ROLLBACK TO w";
static const char sql_commit[] = "COMMIT";
static const char sql_insert[] = "INSERT INTO t (id) VALUES (?1)";
static const char sql_count[] = "SELECT count(*) FROM t";
static const char sql_pid[] = "SELECT pg_backend_pid()";

/* A connection to a new database of this test's own, with an empty table t. */
static struct db *open_db(const char *dir)
{
    struct db *db = NULL;
    char path[512], err[256];
    int fd;

    if (test_on_pg()) {
        if (db_pg_open(test_database_url(dir), &db, err, sizeof(err)))
            fprintf(stderr, "  %s\n", err);
    } else {
        snprintf(path, sizeof(path), "%s/sql.db", dir);
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0)
            close(fd);
        if (db_sqlite_open(path, false, &db, err, sizeof(err)))
            fprintf(stderr, "  %s\n", err);
    }
    if (db && db_exec_script(db, "CREATE TABLE t (id INTEGER PRIMARY KEY)")) {
        db_close(db);
        db = NULL;
    }
    return db;
}

static int insert(struct db *db, long long id)
{
    struct db_stmt *st = db_stmt(db, sql_insert);
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, id);
    rc = db_step(st);
    db_reset(st);
    return rc == DB_DONE ? 0 : rc;
}

static long long count(struct db *db)
{
    struct db_stmt *st = db_stmt(db, sql_count);
    long long n = -1;

    if (st && db_step(st) == DB_ROW)
        n = db_col_i64(st, 0);
    db_reset(st);
    return n;
}

/* One write as the writer runs it (store/sqlite.c apply_one): its outcome, or the batch's loss
 * as 1. `id` 0: a write that fails before any statement (bad input). */
static int write_one(struct db *db, long long id, int *outcome)
{
    int err = db_exec(db, sql_savepoint);

    if (err)
        return 1;
    *outcome = id ? insert(db, id) : -EINVAL;
    if (*outcome) {
        if (!db_in_tx(db))
            return 1;
        if (db_exec(db, sql_rollback_to))
            return 1;
    }
    return db_exec(db, sql_release) ? 1 : 0;
}

TEST(a_failed_write_rolls_back_to_its_own_savepoint_only)
{
    struct db *db = open_db(harness_tmpdir());
    int out[5];

    CHECK(db);
    CHECK_INT(db_exec(db, sql_begin), ==, 0);
    CHECK_INT(write_one(db, 1, &out[0]), ==, 0);
    CHECK_INT(write_one(db, 1, &out[1]), ==, 0); /* the same id again */
    CHECK_INT(write_one(db, 0, &out[2]), ==, 0); /* refused before any SQL */
    CHECK_INT(write_one(db, 2, &out[3]), ==, 0);
    CHECK_INT(write_one(db, 3, &out[4]), ==, 0);
    CHECK_INT(db_exec(db, sql_commit), ==, 0);
    CHECK_INT(out[0], ==, 0);
    CHECK_INT(out[1], ==, -EEXIST); /* its own error, not a neighbour's */
    CHECK_INT(out[2], ==, -EINVAL);
    CHECK_INT(out[3], ==, 0);
    CHECK_INT(out[4], ==, 0);
    CHECK(!db_in_tx(db));
    CHECK_INT(count(db), ==, 3);
    db_close(db);
}

TEST(a_failed_control_statement_is_reported_and_loses_the_transaction)
{
    struct db *db = open_db(harness_tmpdir());
    int err;

    CHECK(db);
    CHECK_INT(db_exec(db, sql_begin), ==, 0);
    CHECK_INT(insert(db, 1), ==, 0);
    /* No such savepoint: SQLite says so at once; PostgreSQL (which sends it with the next
     * statement) by failing that statement, and the transaction is gone. */
    err = db_exec(db, "RELEASE nosuch");
    if (!err)
        err = insert(db, 2);
    CHECK_INT(err, <, 0);
    CHECK(err != -EEXIST && err != -ENOENT); /* not mistaken for the statement's own answer */
    if (test_on_pg()) {
        CHECK_INT(err, ==, -EIO);
        CHECK(!db_in_tx(db));
        CHECK_INT(count(db), ==, 0);
        CHECK(strstr(db_errmsg(db), "RELEASE nosuch"));
    }
    db_close(db);
}

TEST(a_one_statement_write_is_one_round_trip_on_postgresql)
{
    enum { N = 50 };
    struct store_db_stats before, after;
    struct db *db = open_db(harness_tmpdir());
    int out = 0;

    CHECK(db);
    if (!test_on_pg()) {
        db_close(db);
        return; /* SQLite has no round trips */
    }
    CHECK_INT(insert(db, 1000), ==, 0); /* prepared once, outside the measure */
    store_db_stats(&before);
    CHECK_INT(db_exec(db, sql_begin), ==, 0);
    for (int i = 0; i < N; i++) {
        CHECK_INT(write_one(db, i + 1, &out), ==, 0);
        CHECK_INT(out, ==, 0);
    }
    CHECK_INT(db_exec(db, sql_commit), ==, 0);
    store_db_stats(&after);
    /* each INSERT carries the RELEASE before it and its SAVEPOINT; COMMIT the last RELEASE */
    CHECK_INT(after.round_trips - before.round_trips, ==, N + 1);
    CHECK_INT(count(db), ==, N + 1);
    db_close(db);
}

TEST(a_session_lost_while_idle_costs_no_write)
{
    struct store_db_stats before, after;
    const char *dir = harness_tmpdir();
    struct db *db = open_db(dir);
    struct db_stmt *st;
    char sql[64];
    long long pid;
    int out = 0;

    CHECK(db);
    if (!test_on_pg()) {
        db_close(db);
        return; /* an SQLite connection is a file */
    }
    st = db_stmt(db, sql_pid);
    CHECK(st);
    CHECK_INT(db_step(st), ==, DB_ROW);
    pid = db_col_i64(st, 0);
    db_reset(st);
    /* the server ends the session (as a restart would) while the connection is idle */
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%lld)::int", pid);
    CHECK_INT(test_db_int(dir, sql), ==, 1);
    usleep(100 * 1000);
    store_db_stats(&before);
    /* a batch begins: BEGIN and SAVEPOINT are noted, the INSERT finds the session gone */
    CHECK_INT(db_exec(db, sql_begin), ==, 0);
    CHECK_INT(write_one(db, 7, &out), ==, 0);
    CHECK_INT(out, ==, 0);
    CHECK_INT(db_exec(db, sql_commit), ==, 0);
    store_db_stats(&after);
    CHECK_INT(after.reconnects - before.reconnects, ==, 1);
    CHECK(!after.unreachable);
    CHECK_INT(count(db), ==, 1);
    db_close(db);
}

/* Run `sql` on the server's first database (not the test's: that one is being renamed). */
static int on_server(const char *sql)
{
    PGconn *c = PQconnectdb(getenv("ARALDO_TEST_PG"));
    PGresult *res = PQexec(c, sql);
    int ret = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;

    if (!ret)
        fprintf(stderr, "  %s: %s", sql, PQerrorMessage(c));
    PQclear(res);
    PQfinish(c);
    return ret ? 0 : -1;
}

TEST(a_batch_that_finds_the_server_gone_leaves_nothing_behind)
{
    struct store_db_stats st;
    const char *dir = harness_tmpdir();
    struct db *db = open_db(dir);
    const char *name;
    char sql[160];
    int out = 0;

    CHECK(db);
    if (!test_on_pg()) {
        db_close(db);
        return;
    }
    name = strrchr(test_database_url(dir), '=') + 1; /* the last dbname= */
    /* the session ends and its database is gone: reconnecting fails until it is back */
    snprintf(sql, sizeof(sql),
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'", name);
    CHECK_INT(on_server(sql), ==, 0);
    usleep(100 * 1000);
    snprintf(sql, sizeof(sql), "ALTER DATABASE %s RENAME TO %s_away", name, name);
    CHECK_INT(on_server(sql), ==, 0);

    /* the writer's batch, as store/sqlite.c runs it: the write fails, then the batch */
    CHECK_INT(db_exec(db, sql_begin), ==, 0);
    CHECK_INT(write_one(db, 1, &out), ==, 1);
    CHECK_INT(out, ==, -EIO);
    store_db_stats(&st);
    CHECK(st.unreachable);
    CHECK(store_db_unreachable());
    if (db_in_tx(db))
        CHECK_INT(db_exec(db, "ROLLBACK"), ==, 0); /* nothing reached the server */
    CHECK(!db_in_tx(db));

    snprintf(sql, sizeof(sql), "ALTER DATABASE %s_away RENAME TO %s", name, name);
    CHECK_INT(on_server(sql), ==, 0);
    usleep(1100 * 1000); /* past the back-off after a failed attempt */
    /* the next batch starts clean: nothing of the failed one is replayed */
    CHECK_INT(db_exec(db, sql_begin), ==, 0);
    CHECK_INT(write_one(db, 2, &out), ==, 0);
    CHECK_INT(out, ==, 0);
    CHECK_INT(db_exec(db, sql_commit), ==, 0);
    CHECK_INT(count(db), ==, 1);
    store_db_stats(&st);
    CHECK(!st.unreachable);
    db_close(db);
}
