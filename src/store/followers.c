/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Anonymous followers and their follows. A follower is a row holding the SHA-256 of its token
 * and nothing else; every function takes that hash and resolves it inside the store, so a
 * follower's row id never leaves this file. followers_count is kept exact by the triggers of
 * migration 003, whichever way a follow goes away.
 */
#include "store/channels.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/events.h"
#include "store/shared_int.h"
#include "store/store_int.h"

/* ---- reads ---- */

int store_follower_exists(struct store_reader *r, const uint8_t hash[SECRET_HASH_LEN])
{
    static const char sql[] = "SELECT 1 FROM followers WHERE hash = ?1";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc, err = -EIO;

    if (!st)
        goto out;
    db_bind_blob(st, 1, hash, SECRET_HASH_LEN);
    rc = db_step(st);
    if (rc == DB_ROW) {
        err = 0;
    } else if (rc == DB_DONE) {
        err = -ENOENT;
    } else {
        err = store__errno(r->db, rc, "follower_exists");
    }
out:
    db_reset(st);
    return err;
}

int store_follower_follows(struct store_reader *r, const uint8_t hash[SECRET_HASH_LEN],
                           int64_t channel_id, bool *yes)
{
    static const char sql[] = "SELECT 1 FROM follows f JOIN followers u ON u.id = f.follower_id"
                              " WHERE u.hash = ?1 AND f.channel_id = ?2";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc, err = -EIO;

    *yes = false;
    if (!st)
        goto out;
    db_bind_blob(st, 1, hash, SECRET_HASH_LEN);
    db_bind_i64(st, 2, channel_id);
    rc = db_step(st);
    if (rc == DB_ROW || rc == DB_DONE) {
        *yes = rc == DB_ROW;
        err = 0;
    } else {
        err = store__errno(r->db, rc, "follower_follows");
    }
out:
    db_reset(st);
    return err;
}

int store_follower_channels(struct store_reader *r, const uint8_t hash[SECRET_HASH_LEN],
                            int64_t now_ms, store_follow_fn *each, void *ctx)
{
    /*
     * ?2 is now: a post counts while it is within its channel's retention, as in the list.
     * Unread: published since the follow and not reported viewed (POST /api/v1/views).
     */
    static const char sql[] =
        "SELECT c.handle, f.muted, f.created_ms,"
        " (SELECT count(*) FROM posts p WHERE p.channel_id = c.id AND p.state = 1"
        "   AND p.published_ms >= f.created_ms"
        "   AND p.published_ms >= ?2 - c.retention_days * 86400000"
        "   AND NOT EXISTS (SELECT 1 FROM views v"
        "                   WHERE v.post_id = p.id AND v.follower_id = f.follower_id)),"
        " lp.id, lp.published_ms, substr(lp.text, 1, CAST(?3 AS integer)), f.push"
        " FROM follows f"
        " JOIN followers u ON u.id = f.follower_id"
        " JOIN channels c ON c.id = f.channel_id"
        " LEFT JOIN posts lp ON lp.id = (SELECT p2.id FROM posts p2 WHERE p2.channel_id = c.id"
        "   AND p2.state = 1 AND p2.published_ms >= ?2 - c.retention_days * 86400000"
        "   ORDER BY p2.published_ms DESC, p2.id DESC LIMIT 1)"
        " WHERE u.hash = ?1 ORDER BY f.created_ms DESC, c.id DESC";
    struct store_follow *fl = NULL;
    struct db_stmt *st;
    char(*handles)[40] = NULL;
    size_t n = 0, cap = 0;
    int rc, err;

    err = store_follower_exists(r, hash);
    if (err)
        return err;
    /*
     * Collect first, then load each channel: store_channel_get() uses its own statement on
     * this connection, and reading while this one is mid-way would be fine for SQLite but
     * keeps the code simple to reason about. A follower follows a bounded number of channels
     * (they are a Comune's few), so this is small.
     */
    st = db_stmt(r->db, sql);
    if (!st)
        return -EIO;
    db_bind_blob(st, 1, hash, SECRET_HASH_LEN);
    db_bind_i64(st, 2, now_ms);
    db_bind_i64(st, 3, FOLLOW_PREVIEW_CHARS);
    while ((rc = db_step(st)) == DB_ROW) {
        const char *text = db_col_text(st, 6);

        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            handles = xrealloc(handles, cap * sizeof(*handles));
            fl = xrealloc(fl, cap * sizeof(*fl));
        }
        snprintf(handles[n], sizeof(handles[n]), "%s", db_col_text(st, 0));
        fl[n].muted = db_col_int(st, 1) != 0;
        fl[n].followed_ms = db_col_i64(st, 2);
        fl[n].unread = db_col_i64(st, 3);
        fl[n].last_id = db_col_i64(st, 4); /* 0 when NULL: no post */
        fl[n].last_ms = db_col_i64(st, 5);
        snprintf(fl[n].last_text, sizeof(fl[n].last_text), "%s", text ? (const char *)text : "");
        fl[n].push = db_col_int(st, 7) != 0;
        n++;
    }
    err = rc == DB_DONE ? 0 : store__errno(r->db, rc, "follower_channels");
    db_reset(st);
    for (size_t i = 0; i < n && !err; i++) {
        err = store_channel_get(r, handles[i], &fl[i].ch);
        if (err == -ENOENT) {
            err = 0; /* deleted meanwhile */
            continue;
        }
        if (err)
            break;
        each(ctx, &fl[i]);
    }
    free(fl);
    free(handles);
    return err;
}

/* ---- writes ---- */

struct follower_write {
    struct store_write w;
    uint8_t hash[SECRET_HASH_LEN];
    int64_t channel_id;
    bool muted;
    bool has_invite;
    char invite[CHANNEL_INVITE_CODE_MAX + 1];
};

static void follower_write_free(struct store_write *w)
{
    struct follower_write *f = container_of(w, struct follower_write, w);

    explicit_bzero(f->hash, sizeof(f->hash));
    free(f);
}

static struct follower_write *follower_write_new(const struct store_write_op *op,
                                                 const uint8_t hash[SECRET_HASH_LEN],
                                                 int64_t channel_id)
{
    struct follower_write *f = xcalloc(1, sizeof(*f));

    f->w.op = op;
    memcpy(f->hash, hash, SECRET_HASH_LEN);
    f->channel_id = channel_id;
    return f;
}

int store__follower_id(struct store_tx *tx, const uint8_t hash[SECRET_HASH_LEN], int64_t *id)
{
    static const char sql[] = "SELECT id FROM followers WHERE hash = ?1";
    struct db_stmt *st = db_stmt(tx->db, sql);
    int rc;

    if (!st)
        return -EIO;
    db_bind_blob(st, 1, hash, SECRET_HASH_LEN);
    rc = db_step(st);
    if (rc == DB_ROW)
        *id = db_col_i64(st, 0);
    db_reset(st);
    if (rc == DB_ROW)
        return 0;
    return rc == DB_DONE ? -ENOENT : store__errno(tx->db, rc, "follower_id");
}

static int follower_add_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "INSERT INTO followers (hash, created_ms) VALUES (?1, ?2)";
    struct follower_write *f = container_of(w, struct follower_write, w);
    struct db_stmt *st = db_stmt(tx->db, sql);
    int err;

    if (st) {
        db_bind_blob(st, 1, f->hash, SECRET_HASH_LEN);
        db_bind_i64(st, 2, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "follower_add");
    if (!err)
        *id = 1; /* the row id stays inside the store */
    return err;
}

static const struct store_write_op follower_add_op = { "follower_add", follower_add_apply,
                                                       follower_write_free };

int store_follower_add(struct store *s, const uint8_t hash[SECRET_HASH_LEN], store_done_fn *done,
                       void *ctx, int64_t *id_out)
{
    struct follower_write *f;

    if (!hash)
        return -EINVAL;
    f = follower_write_new(&follower_add_op, hash, 0);
    return store__submit(s, &f->w, done, ctx, id_out);
}

/* Check invite `code` for the channel at `now` and count one use. */
static int invite_use(struct store_tx *tx, const char *code, int64_t channel_id)
{
    static const char get[] = "SELECT channel_id, coalesce(expires_ms, 0), coalesce(max_uses, 0),"
                              " uses, coalesce(revoked_ms, 0) FROM invites WHERE code = ?1";
    static const char use[] = "UPDATE invites SET uses = uses + 1 WHERE code = ?1";
    struct store_invite inv = { 0 };
    struct db_stmt *st = db_stmt(tx->db, get);
    int rc, err;

    if (!st)
        return -EIO;
    db_bind_text(st, 1, code);
    rc = db_step(st);
    if (rc == DB_ROW) {
        inv.channel_id = db_col_i64(st, 0);
        inv.expires_ms = db_col_i64(st, 1);
        inv.max_uses = db_col_i64(st, 2);
        inv.uses = db_col_i64(st, 3);
        inv.revoked_ms = db_col_i64(st, 4);
    }
    db_reset(st);
    if (rc != DB_ROW)
        return rc == DB_DONE ? -ENOENT : store__errno(tx->db, rc, "invite_use");
    if (inv.channel_id != channel_id)
        return -ENOENT; /* another channel's invite opens nothing here */
    err = store_invite_state(&inv, tx->now_ms);
    if (err)
        return err;
    st = db_stmt(tx->db, use);
    if (st)
        db_bind_text(st, 1, code);
    return store__step_done(tx->db, st, "invite_use");
}

static int follow_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char vis[] = "SELECT visibility = 'listed' FROM channels WHERE id = ?1";
    static const char ins[] = "INSERT INTO follows (follower_id, channel_id, created_ms)"
                              " VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING";
    struct follower_write *f = container_of(w, struct follower_write, w);
    struct db_stmt *st;
    int64_t fid = 0;
    int listed = 0, rc, err;

    err = store__follower_id(tx, f->hash, &fid);
    if (err)
        return err;
    st = db_stmt(tx->db, vis);
    if (!st)
        return -EIO;
    db_bind_i64(st, 1, f->channel_id);
    rc = db_step(st);
    if (rc == DB_ROW)
        listed = db_col_int(st, 0);
    db_reset(st);
    if (rc != DB_ROW)
        return rc == DB_DONE ? -ENOENT : store__errno(tx->db, rc, "follow_channel");
    st = db_stmt(tx->db, ins);
    if (st) {
        db_bind_i64(st, 1, fid);
        db_bind_i64(st, 2, f->channel_id);
        db_bind_i64(st, 3, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "follow");
    if (err)
        return err;
    if (db_changes(tx->db) == 0) {
        *id = 0; /* already following: nothing changes, no use of the invite is counted */
        return 0;
    }
    /* A listed channel needs no invite; one given anyway is still checked and counted. */
    if (f->has_invite) {
        err = invite_use(tx, f->invite, f->channel_id);
    } else if (!listed) {
        err = -EACCES;
    }
    if (!err) {
        *id = 1;
        store__access(tx, f->channel_id, STORE_NOTICE_FOLLOWS,
                      store_access_key(f->hash, SECRET_HASH_LEN));
    }
    return err;
}

static const struct store_write_op follow_op = { "follow", follow_apply, follower_write_free };

int store_follow(struct store *s, const uint8_t hash[SECRET_HASH_LEN], int64_t channel_id,
                 const char *invite, store_done_fn *done, void *ctx)
{
    struct follower_write *f;

    if (invite && strlen(invite) > CHANNEL_INVITE_CODE_MAX)
        return -ENOENT;
    f = follower_write_new(&follow_op, hash, channel_id);
    if (invite) {
        f->has_invite = true;
        snprintf(f->invite, sizeof(f->invite), "%s", invite);
    }
    return store__submit(s, &f->w, done, ctx, NULL);
}

static int unfollow_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "DELETE FROM follows WHERE follower_id = ?1 AND channel_id = ?2";
    struct follower_write *f = container_of(w, struct follower_write, w);
    struct db_stmt *st;
    int64_t fid = 0;
    int err = store__follower_id(tx, f->hash, &fid);

    if (err)
        return err;
    st = db_stmt(tx->db, sql);
    if (st) {
        db_bind_i64(st, 1, fid);
        db_bind_i64(st, 2, f->channel_id);
    }
    err = store__step_done(tx->db, st, "unfollow");
    if (!err && db_changes(tx->db) > 0) {
        store__access(tx, f->channel_id, STORE_ACCESS_UNFOLLOWED,
                      store_access_key(f->hash, SECRET_HASH_LEN));
    }
    if (!err)
        *id = db_changes(tx->db);
    return err;
}

static const struct store_write_op unfollow_op = { "unfollow", unfollow_apply,
                                                   follower_write_free };

int store_unfollow(struct store *s, const uint8_t hash[SECRET_HASH_LEN], int64_t channel_id,
                   store_done_fn *done, void *ctx)
{
    struct follower_write *f = follower_write_new(&unfollow_op, hash, channel_id);

    return store__submit(s, &f->w, done, ctx, NULL);
}

static int mute_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "UPDATE follows SET muted = ?3"
                              " WHERE follower_id = ?1 AND channel_id = ?2";
    struct follower_write *f = container_of(w, struct follower_write, w);
    struct db_stmt *st;
    int64_t fid = 0;
    int err = store__follower_id(tx, f->hash, &fid);

    if (err)
        return err;
    st = db_stmt(tx->db, sql);
    if (st) {
        db_bind_i64(st, 1, fid);
        db_bind_i64(st, 2, f->channel_id);
        db_bind_i64(st, 3, f->muted);
    }
    err = store__step_done(tx->db, st, "mute");
    if (!err && db_changes(tx->db) == 0)
        err = -ENOENT;
    if (!err)
        *id = f->channel_id;
    return err;
}

static const struct store_write_op mute_op = { "mute", mute_apply, follower_write_free };

int store_follow_mute(struct store *s, const uint8_t hash[SECRET_HASH_LEN], int64_t channel_id,
                      bool muted, store_done_fn *done, void *ctx)
{
    struct follower_write *f = follower_write_new(&mute_op, hash, channel_id);

    f->muted = muted;
    return store__submit(s, &f->w, done, ctx, NULL);
}

/*
 * The posts whose counts drop when the follower's reactions and votes go: marked for a
 * "counts" event in this transaction (store_counts_flush), as a retracted reaction would be.
 */
static int forget_marks(struct store_tx *tx, const uint8_t hash[SECRET_HASH_LEN])
{
    static const char sql[] = "INSERT INTO counts_dirty (post_id) SELECT t.post_id FROM"
                              " (SELECT r.post_id FROM reactions r JOIN followers u"
                              " ON u.id = r.follower_id WHERE u.hash = ?1"
                              " UNION SELECT v.post_id FROM votes v JOIN followers u"
                              " ON u.id = v.follower_id WHERE u.hash = ?1) t WHERE t.post_id > 0"
                              " ON CONFLICT (post_id) DO NOTHING";
    struct db_stmt *st = db_stmt(tx->db, sql);

    if (st)
        db_bind_blob(st, 1, hash, SECRET_HASH_LEN);
    return store__step_done(tx->db, st, "forget_marks");
}

/* "Forget me" unfollows everything: one access marker per channel the follower followed. */
static int forget_unfollows(struct store_tx *tx, const uint8_t hash[SECRET_HASH_LEN])
{
    static const char sql[] = "SELECT f.channel_id FROM follows f JOIN followers u"
                              " ON u.id = f.follower_id WHERE u.hash = ?1";
    struct db_stmt *st = db_stmt(tx->db, sql);
    int64_t key = store_access_key(hash, SECRET_HASH_LEN);
    int rc;

    if (!st)
        return -EIO;
    db_bind_blob(st, 1, hash, SECRET_HASH_LEN);
    while ((rc = db_step(st)) == DB_ROW)
        store__access(tx, db_col_i64(st, 0), STORE_ACCESS_UNFOLLOWED, key);
    db_reset(st);
    return rc == DB_DONE ? 0 : store__errno(tx->db, rc, "forget_unfollows");
}

static int forget_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    /* Everything tied to a follower references followers(id) ON DELETE CASCADE. */
    static const char sql[] = "DELETE FROM followers WHERE hash = ?1";
    struct follower_write *f = container_of(w, struct follower_write, w);
    struct db_stmt *st;
    int err;

    err = forget_marks(tx, f->hash);
    if (!err)
        err = forget_unfollows(tx, f->hash);
    if (err)
        return err;
    st = db_stmt(tx->db, sql);
    if (st)
        db_bind_blob(st, 1, f->hash, SECRET_HASH_LEN);
    err = store__step_done(tx->db, st, "forget");
    if (!err && db_changes(tx->db) == 0)
        err = -ENOENT;
    if (!err) {
        *id = 0;
        /* its streams read its follows again, find it gone, and end */
        store__access(tx, 0, STORE_NOTICE_FOLLOWS, store_access_key(f->hash, SECRET_HASH_LEN));
    }
    return err;
}

static const struct store_write_op forget_op = { "forget", forget_apply, follower_write_free };

int store_follower_forget(struct store *s, const uint8_t hash[SECRET_HASH_LEN], store_done_fn *done,
                          void *ctx)
{
    struct follower_write *f = follower_write_new(&forget_op, hash, 0);

    return store__submit(s, &f->w, done, ctx, NULL);
}
