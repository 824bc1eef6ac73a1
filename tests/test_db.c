/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The tests' backend switch (test_db.h). */
#include "test_db.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool test_on_pg(void)
{
    const char *pg = getenv("ARALDO_TEST_PG");

    return pg && *pg;
}

const char *test_database_url(const char *dir)
{
    static char url[1024];
    const char *base = getenv("ARALDO_TEST_PG");
    uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a of the directory */
    char sql[128], name[40];
    PGresult *res;
    PGconn *c;

    if (!test_on_pg())
        return NULL;
    for (const char *p = dir; *p; p++)
        h = (h ^ (unsigned char)*p) * UINT64_C(1099511628211);
    snprintf(name, sizeof(name), "t%016llx", (unsigned long long)h);
    c = PQconnectdb(base);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "test_db: cannot connect to '%s': %s", base, PQerrorMessage(c));
        abort();
    }
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
    res = PQexec(c, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

        if (!state || strcmp(state, "42P04") != 0) { /* duplicate_database: reopened */
            fprintf(stderr, "test_db: %s: %s", sql, PQresultErrorMessage(res));
            abort();
        }
    }
    PQclear(res);
    PQfinish(c);
    /* in a libpq connection string, a repeated keyword's last value wins */
    snprintf(url, sizeof(url), "%s dbname=%s", base, name);
    return url;
}

int test_db_exec(const char *dir, const char *sql)
{
    char path[1024];
    sqlite3 *db = NULL;
    PGresult *res;
    PGconn *c;
    int ret = 0;

    if (test_on_pg()) {
        c = PQconnectdb(test_database_url(dir));
        res = PQexec(c, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
            fprintf(stderr, "  test_db_exec: %s", PQerrorMessage(c));
            ret = -1;
        }
        PQclear(res);
        PQfinish(c);
        return ret;
    }
    snprintf(path, sizeof(path), "%s/araldo.db", dir);
    if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, NULL)) {
        fprintf(stderr, "  test_db_exec: %s\n", db ? sqlite3_errmsg(db) : "out of memory");
        ret = -1;
    }
    sqlite3_close(db);
    return ret;
}

long long test_db_int(const char *dir, const char *sql)
{
    char path[1024];
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    long long n = -1;
    PGresult *res;
    PGconn *c;

    if (test_on_pg()) {
        c = PQconnectdb(test_database_url(dir));
        res = PQexec(c, sql);
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
            n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        PQfinish(c);
        return n;
    }
    snprintf(path, sizeof(path), "%s/araldo.db", dir);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

int test_db_text(const char *dir, const char *sql, const char *sep, char *out, size_t outlen)
{
    char path[1024];
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    size_t off = 0;
    PGresult *res;
    PGconn *c;
    int ret = -1, rc;

    out[0] = '\0';
    if (test_on_pg()) {
        c = PQconnectdb(test_database_url(dir));
        res = PQexec(c, sql);
        if (PQresultStatus(res) == PGRES_TUPLES_OK) {
            for (int i = 0; i < PQntuples(res) && off < outlen; i++)
                off +=
                    (size_t)snprintf(out + off, outlen - off, "%s%s", PQgetvalue(res, i, 0), sep);
            ret = 0;
        }
        PQclear(res);
        PQfinish(c);
        return ret;
    }
    snprintf(path, sizeof(path), "%s/araldo.db", dir);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && off < outlen)
            off += (size_t)snprintf(out + off, outlen - off, "%s%s",
                                    (const char *)sqlite3_column_text(st, 0), sep);
        ret = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ret;
}
