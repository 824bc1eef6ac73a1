/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The store backend the unit tests run on (issue 16). SQLite in the test's directory unless
 * ARALDO_TEST_PG names a PostgreSQL server (tests/pg/postgres.sh run sets it): then each data
 * directory gets a database of its own on that server, created on first use, so tests stay
 * as independent as their directories and reopening a directory reopens its database.
 */
#ifndef TESTS_TEST_DB_H
#define TESTS_TEST_DB_H

#include <stdbool.h>
#include <stddef.h>

/*
 * store_opts.database_url for a store in `dir`: NULL for SQLite, else a connection string
 * (static storage, valid until the next call). Aborts the test run if the server refuses.
 */
const char *test_database_url(const char *dir);
/* Whether the tests run on PostgreSQL (for the few that read SQLite's file themselves). */
bool test_on_pg(void);
/*
 * Run `sql` (no parameters, no rows wanted) on the database of the store in `dir`, beside the
 * store's own connections: SQLite's DIR/araldo.db or that directory's PostgreSQL database.
 * 0, or -1 with the engine's message on stderr.
 */
int test_db_exec(const char *dir, const char *sql);
/* The first column of the first row of `sql` on that database as an integer (-1: failed). */
long long test_db_int(const char *dir, const char *sql);
/*
 * The first column of every row of `sql` on that database, each followed by `sep`, into `out`
 * (truncated to `outlen`). 0, or -1 if the query failed.
 */
int test_db_text(const char *dir, const char *sql, const char *sep, char *out, size_t outlen);

#endif
