/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Stepping helpers on top of store/db.h that every store file uses: the one place that decides
 * which failed steps are worth a log line. Constraint violations and a full disk are the
 * caller's answer (409, 404, 507), not news; anything else is logged with what was being done.
 */
#include "store/store_int.h"

#include <errno.h>

#include "core/log.h"

int store__errno(struct db *db, int rc, const char *what)
{
    if (rc < 0 && rc != -EIO)
        return rc; /* -ENOSPC is logged once by the writer (sqlite.c), not once per write */
    log_warn("store: %s: %s", what, rc < 0 ? db_errmsg(db) : "unexpected result");
    return -EIO;
}

int store__step_done(struct db *db, struct db_stmt *st, const char *what)
{
    int rc, err;

    if (!st)
        return -EIO;
    rc = db_step(st);
    err = rc == DB_DONE ? 0 : store__errno(db, rc, what); /* before reset: errmsg is ours */
    db_reset(st);
    return err;
}

int store__step_id(struct db *db, struct db_stmt *st, const char *what, int64_t *id)
{
    int rc, err = 0;

    *id = 0;
    if (!st)
        return -EIO;
    rc = db_step(st);
    if (rc == DB_ROW) {
        *id = db_col_i64(st, 0);
        rc = db_step(st); /* one row: finish the statement, so the insert is complete */
    }
    if (rc != DB_DONE)
        err = store__errno(db, rc, what);
    db_reset(st);
    return err;
}
