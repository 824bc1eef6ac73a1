/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Leases and sign-in failures (store/cluster.h): the state nodes of a cluster share. Both are
 * single statements that are atomic on either engine: on PostgreSQL, INSERT ... ON CONFLICT DO
 * UPDATE locks the conflicting row and evaluates its WHERE against the latest committed
 * version, so two nodes racing for a lease cannot both win; on SQLite there is one writer.
 */
#include "store/cluster.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/store_int.h"

/* ---- leases ---- */

struct lease_write {
    struct store_write w;
    int64_t ttl_ms; /* 0: release */
    char name[LEASE_NAME_MAX + 1];
    char owner[LEASE_OWNER_MAX + 1];
};

static int lease_take_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    /*
     * Free (no row), expired, or ours: the row becomes ours until now + ttl. Otherwise the
     * WHERE leaves it alone and nothing changes.
     */
    static const char sql[] = "INSERT INTO leases (name, owner, until_ms) VALUES (?1, ?2, ?3)"
                              " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner,"
                              " until_ms = excluded.until_ms"
                              " WHERE leases.until_ms <= ?4 OR leases.owner = excluded.owner";
    struct lease_write *l = container_of(w, struct lease_write, w);
    struct db_stmt *st = db_stmt(tx->db, sql);
    int64_t until = tx->now_ms + l->ttl_ms;
    int err;

    if (st) {
        db_bind_text(st, 1, l->name);
        db_bind_text(st, 2, l->owner);
        db_bind_i64(st, 3, until);
        db_bind_i64(st, 4, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "lease_take");
    if (err)
        return err;
    if (db_changes(tx->db) < 1)
        return -EBUSY;
    *id = until;
    return 0;
}

static int lease_release_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "UPDATE leases SET until_ms = 0 WHERE name = ?1 AND owner = ?2";
    struct lease_write *l = container_of(w, struct lease_write, w);
    struct db_stmt *st = db_stmt(tx->db, sql);

    *id = 0;
    if (st) {
        db_bind_text(st, 1, l->name);
        db_bind_text(st, 2, l->owner);
    }
    return store__step_done(tx->db, st, "lease_release");
}

static void lease_free(struct store_write *w)
{
    free(container_of(w, struct lease_write, w));
}

static const struct store_write_op lease_take_op = { "lease_take", lease_take_apply, lease_free };
static const struct store_write_op lease_release_op = { "lease_release", lease_release_apply,
                                                        lease_free };

static struct lease_write *lease_new(const char *name, const char *owner)
{
    struct lease_write *l;
    size_t n = name ? strlen(name) : 0;
    size_t o = owner ? strlen(owner) : 0;

    if (n < 1 || n > LEASE_NAME_MAX || o < 1 || o > LEASE_OWNER_MAX)
        return NULL;
    l = xcalloc(1, sizeof(*l));
    memcpy(l->name, name, n);
    memcpy(l->owner, owner, o);
    return l;
}

int store_lease_take(struct store *s, const char *name, const char *owner, int64_t ttl_ms,
                     int64_t *until_ms)
{
    struct lease_write *l = ttl_ms > 0 ? lease_new(name, owner) : NULL;

    if (!l)
        return -EINVAL;
    l->w.op = &lease_take_op;
    l->ttl_ms = ttl_ms;
    return store__submit(s, &l->w, NULL, NULL, until_ms);
}

int store_lease_release(struct store *s, const char *name, const char *owner)
{
    struct lease_write *l = lease_new(name, owner);

    if (!l)
        return -EINVAL;
    l->w.op = &lease_release_op;
    return store__submit(s, &l->w, NULL, NULL, NULL);
}

/* ---- sign-in failures ---- */

int store_signin_failures(struct store_reader *r, const uint8_t key[SECRET_HASH_LEN],
                          int64_t now_ms, int64_t window_ms, int64_t *fails, int64_t *since_ms)
{
    static const char sql[] =
        "SELECT fails, since_ms FROM signin_failures WHERE key = ?1 AND since_ms > ?2";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc;

    *fails = 0;
    *since_ms = 0;
    if (!st)
        return -EIO;
    db_bind_blob(st, 1, key, SECRET_HASH_LEN);
    db_bind_i64(st, 2, now_ms - window_ms);
    rc = db_step(st);
    if (rc == DB_ROW) {
        *fails = db_col_i64(st, 0);
        *since_ms = db_col_i64(st, 1);
    }
    db_reset(st);
    return rc == DB_ROW || rc == DB_DONE ? 0 : store__errno(r->db, rc, "signin_failures");
}

struct signin_write {
    struct store_write w;
    int n;          /* keys; 0 for a clear */
    int64_t window; /* ms */
    uint8_t key[2][SECRET_HASH_LEN];
};

static int signin_fail_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char upsert[] =
        "INSERT INTO signin_failures (key, fails, since_ms) VALUES (?1, 1, ?2)"
        " ON CONFLICT (key) DO UPDATE SET"
        " fails = CASE WHEN signin_failures.since_ms <= ?3 THEN 1"
        " ELSE signin_failures.fails + 1 END,"
        " since_ms = CASE WHEN signin_failures.since_ms <= ?3 THEN ?2"
        " ELSE signin_failures.since_ms END";
    static const char ended[] = "DELETE FROM signin_failures WHERE since_ms <= ?1";
    struct signin_write *s = container_of(w, struct signin_write, w);
    struct db_stmt *st;
    int err = 0;

    *id = 0;
    for (int i = 0; i < s->n && !err; i++) {
        st = db_stmt(tx->db, upsert);
        if (st) {
            db_bind_blob(st, 1, s->key[i], SECRET_HASH_LEN);
            db_bind_i64(st, 2, tx->now_ms);
            db_bind_i64(st, 3, tx->now_ms - s->window);
        }
        err = store__step_done(tx->db, st, "signin_fail");
    }
    if (err)
        return err;
    st = db_stmt(tx->db, ended);
    if (st)
        db_bind_i64(st, 1, tx->now_ms - s->window);
    return store__step_done(tx->db, st, "signin_ended");
}

static int signin_clear_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "DELETE FROM signin_failures WHERE key = ?1";
    struct signin_write *s = container_of(w, struct signin_write, w);
    struct db_stmt *st = db_stmt(tx->db, sql);

    *id = 0;
    if (st)
        db_bind_blob(st, 1, s->key[0], SECRET_HASH_LEN);
    return store__step_done(tx->db, st, "signin_clear");
}

static void signin_free(struct store_write *w)
{
    free(container_of(w, struct signin_write, w));
}

static const struct store_write_op signin_fail_op = { "signin_fail", signin_fail_apply,
                                                      signin_free };
static const struct store_write_op signin_clear_op = { "signin_clear", signin_clear_apply,
                                                       signin_free };

int store_signin_fail(struct store *s, const uint8_t (*keys)[SECRET_HASH_LEN], int n,
                      int64_t window_ms, store_done_fn *done, void *ctx)
{
    struct signin_write *w;

    if (!keys || n < 1 || n > 2 || window_ms < 1)
        return -EINVAL;
    w = xcalloc(1, sizeof(*w));
    w->w.op = &signin_fail_op;
    w->n = n;
    w->window = window_ms;
    memcpy(w->key, keys, (size_t)n * SECRET_HASH_LEN);
    return store__submit(s, &w->w, done, ctx, NULL);
}

int store_signin_clear(struct store *s, const uint8_t key[SECRET_HASH_LEN], store_done_fn *done,
                       void *ctx)
{
    struct signin_write *w;

    if (!key)
        return -EINVAL;
    w = xcalloc(1, sizeof(*w));
    w->w.op = &signin_clear_op;
    memcpy(w->key[0], key, SECRET_HASH_LEN);
    return store__submit(s, &w->w, done, ctx, NULL);
}
