/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Readers: one connection per thread, opened read-only so that a bug here can never write.
 * In WAL mode a reader sees the last committed state as of its statement's first step and
 * never waits for the writer. Every read resets its statement before returning, because a
 * statement left mid-way keeps its snapshot open and stops checkpoints from finishing.
 */
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/store_int.h"

struct store_reader *store_reader_open(struct store *s, char *err, size_t errlen)
{
    struct store_reader *r;
    struct db *db;

    if (store__connect(s, true, &db, err, errlen))
        return NULL;
    r = xcalloc(1, sizeof(*r));
    r->db = db;
    return r;
}

void store_reader_close(struct store_reader *r)
{
    if (!r)
        return;
    db_close(r->db);
    free(r);
}

/* A read's step: DB_ROW -> 1, no more rows -> 0, error -> -EIO (logged). */
static int step_row(struct store_reader *r, struct db_stmt *st, const char *what)
{
    int rc = db_step(st);

    if (rc == DB_ROW)
        return 1;
    if (rc == DB_DONE)
        return 0;
    return store__errno(r->db, rc, what); /* reads violate no constraint: -EIO, logged */
}

static void copy_text(char *dst, size_t dstlen, struct db_stmt *st, int col)
{
    const char *t = db_col_text(st, col);

    snprintf(dst, dstlen, "%s", t ? (const char *)t : "");
}

/* Columns 0..5 of every user query: id, email, role, org_id, must_change_password, created. */
#define USER_COLS "u.id, u.email, u.role, u.org_id, u.must_change_password, u.created_ms"

static void user_from_row(struct db_stmt *st, struct store_user *out)
{
    memset(out, 0, sizeof(*out));
    out->id = db_col_i64(st, 0);
    copy_text(out->email, sizeof(out->email), st, 1);
    out->role = (enum store_role)db_col_int(st, 2);
    out->org_id = db_col_i64(st, 3); /* NULL reads as 0 */
    out->must_change_password = db_col_int(st, 4) != 0;
    out->created_ms = db_col_i64(st, 5);
}

int store_user_count(struct store_reader *r, int64_t *count)
{
    static const char sql[] = "SELECT count(*) FROM users";
    struct db_stmt *st = db_stmt(r->db, sql);
    int err = -EIO;

    if (!st)
        goto out;
    err = step_row(r, st, "user_count");
    if (err == 1) {
        *count = db_col_i64(st, 0);
        err = 0;
    } else if (err == 0) {
        err = -EIO; /* count(*) always has a row */
    }
out:
    db_reset(st);
    return err;
}

int store_user_by_email(struct store_reader *r, const char *email, struct store_user *out,
                        char *hash, size_t hashlen)
{
    /* E-mails are stored lower-cased: lower() on the argument makes the comparison on every
     * engine (ASCII, like SQLite's NOCASE), and the UNIQUE index serves it. */
    static const char sql[] = "SELECT " USER_COLS ", u.password_hash FROM users u"
                              " WHERE u.email = lower(?1) AND u.disabled_ms IS NULL";
    struct db_stmt *st = db_stmt(r->db, sql);
    const char *ph;
    int err = -EIO;

    if (!st)
        goto out;
    if (!email) {
        err = -ENOENT;
        goto out;
    }
    db_bind_text(st, 1, email);
    err = step_row(r, st, "user_by_email");
    if (err <= 0) {
        err = err ? err : -ENOENT;
        goto out;
    }
    ph = db_col_text(st, 6);
    if (hash && (!ph || db_col_bytes(st, 6) >= hashlen)) {
        err = -EMSGSIZE;
        goto out;
    }
    user_from_row(st, out);
    if (hash)
        memcpy(hash, ph, db_col_bytes(st, 6) + 1);
    err = 0;
out:
    db_reset(st);
    return err;
}

int store_token_find(struct store_reader *r, const uint8_t hash[SECRET_HASH_LEN],
                     struct store_user *out, int64_t *token_id)
{
    static const char sql[] = "SELECT " USER_COLS ", t.id FROM api_tokens t"
                              " JOIN users u ON u.id = t.user_id"
                              " WHERE t.hash = ?1 AND t.revoked_ms IS NULL"
                              " AND u.disabled_ms IS NULL";
    struct db_stmt *st = db_stmt(r->db, sql);
    int err = -EIO;

    if (!st)
        goto out;
    db_bind_blob(st, 1, hash, SECRET_HASH_LEN);
    err = step_row(r, st, "token_find");
    if (err <= 0) {
        err = err ? err : -ENOENT;
        goto out;
    }
    user_from_row(st, out);
    if (token_id)
        *token_id = db_col_i64(st, 6);
    err = 0;
out:
    db_reset(st);
    return err;
}

int store_token_list(struct store_reader *r, int64_t user_id, store_token_fn *each, void *ctx)
{
    static const char sql[] = "SELECT id, name, created_ms FROM api_tokens"
                              " WHERE user_id = ?1 AND revoked_ms IS NULL ORDER BY id DESC";
    struct db_stmt *st = db_stmt(r->db, sql);
    struct store_token tok;
    int err = -EIO;

    if (!st)
        goto out;
    db_bind_i64(st, 1, user_id);
    while ((err = step_row(r, st, "token_list")) == 1) {
        tok.id = db_col_i64(st, 0);
        copy_text(tok.name, sizeof(tok.name), st, 1);
        tok.created_ms = db_col_i64(st, 2);
        each(ctx, &tok);
    }
out:
    db_reset(st);
    return err;
}
