/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A channel's admins and admin invitations: reading them, and the writes that invite, accept,
 * dismiss, remove and transfer the ownership. The writes re-check what a race could break: the
 * roles, the admin cap (CHANNEL_ADMINS_MAX) and an invitation's expiry.
 */
#include "store/channels.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/channels_int.h"
#include "store/events.h"
#include "store/shared_int.h"
#include "store/store_int.h"

/* ---- reads ---- */

int store_channel_admins(struct store_reader *r, int64_t channel_id, store_admin_fn *each,
                         void *ctx)
{
    static const char sql[] =
        "SELECT a.user_id, u.email, a.role, a.added_ms"
        " FROM channel_admins a JOIN users u ON u.id = a.user_id"
        " WHERE a.channel_id = ?1 ORDER BY a.role DESC, a.added_ms, a.user_id";
    struct db_stmt *st = db_stmt(r->db, sql);
    struct store_channel_admin a;
    int err = -EIO;

    if (!st)
        goto out;
    db_bind_i64(st, 1, channel_id);
    while ((err = store__channel_step_row(r, st, "channel_admins")) == 1) {
        a.user_id = db_col_i64(st, 0);
        store__channel_copy_text(a.email, sizeof(a.email), st, 1);
        a.role = db_col_int(st, 2);
        a.added_ms = db_col_i64(st, 3);
        each(ctx, &a);
    }
out:
    db_reset(st);
    return err;
}

#define INVITATION_COLS                                                                    \
    "i.id, i.channel_id, c.handle, c.name, i.user_id, u.email, coalesce(i.invited_by, 0)," \
    " i.created_ms, i.expires_ms FROM admin_invitations i"                                 \
    " JOIN channels c ON c.id = i.channel_id JOIN users u ON u.id = i.user_id"

static void invitation_from_row(struct db_stmt *st, struct store_invitation *out)
{
    memset(out, 0, sizeof(*out));
    out->id = db_col_i64(st, 0);
    out->channel_id = db_col_i64(st, 1);
    store__channel_copy_text(out->channel_handle, sizeof(out->channel_handle), st, 2);
    store__channel_copy_text(out->channel_name, sizeof(out->channel_name), st, 3);
    out->user_id = db_col_i64(st, 4);
    store__channel_copy_text(out->email, sizeof(out->email), st, 5);
    out->invited_by = db_col_i64(st, 6);
    out->created_ms = db_col_i64(st, 7);
    out->expires_ms = db_col_i64(st, 8);
}

int store_invitation_get(struct store_reader *r, int64_t id, struct store_invitation *out)
{
    static const char sql[] = "SELECT " INVITATION_COLS " WHERE i.id = ?1";
    struct db_stmt *st = db_stmt(r->db, sql);
    int err = -EIO;

    if (!st)
        goto out;
    db_bind_i64(st, 1, id);
    err = store__channel_step_row(r, st, "invitation_get");
    if (err == 1) {
        invitation_from_row(st, out);
        err = 0;
    } else if (err == 0) {
        err = -ENOENT;
    }
out:
    db_reset(st);
    return err;
}

int store_invitation_list(struct store_reader *r, int64_t user_id, int64_t channel_id,
                          store_invitation_fn *each, void *ctx)
{
    static const char sql[] = "SELECT " INVITATION_COLS
                              " WHERE (?1 = 0 OR i.user_id = ?1) AND (?2 = 0 OR i.channel_id = ?2)"
                              " ORDER BY i.id DESC";
    struct db_stmt *st = db_stmt(r->db, sql);
    struct store_invitation inv;
    int err = -EIO;

    if (!st)
        goto out;
    db_bind_i64(st, 1, user_id);
    db_bind_i64(st, 2, channel_id);
    while ((err = store__channel_step_row(r, st, "invitation_list")) == 1) {
        invitation_from_row(st, &inv);
        each(ctx, &inv);
    }
out:
    db_reset(st);
    return err;
}

/* ---- write helpers ---- */

static int role_of(struct store_tx *tx, int64_t channel_id, int64_t user_id, int *role)
{
    static const char sql[] = "SELECT role FROM channel_admins"
                              " WHERE channel_id = ?1 AND user_id = ?2";
    struct db_stmt *st = db_stmt(tx->db, sql);
    int err;

    if (st) {
        db_bind_i64(st, 1, channel_id);
        db_bind_i64(st, 2, user_id);
    }
    err = store__channel_tx_row(tx, st, "channel_role");
    *role = err == 1 ? db_col_int(st, 0) : STORE_CHANNEL_NONE;
    db_reset(st);
    return err < 0 ? err : 0;
}

static int admin_count(struct store_tx *tx, int64_t channel_id, int64_t *n)
{
    static const char sql[] = "SELECT count(*) FROM channel_admins"
                              " WHERE channel_id = ?1 AND role = 1";
    struct db_stmt *st = db_stmt(tx->db, sql);
    int err;

    if (st)
        db_bind_i64(st, 1, channel_id);
    err = store__channel_tx_row(tx, st, "admin_count");
    *n = err == 1 ? db_col_i64(st, 0) : 0;
    db_reset(st);
    return err < 0 ? err : 0;
}

/* ---- admins ---- */

struct admin_write {
    struct store_write w;
    int64_t channel_id;
    int64_t by_user;
    int64_t user_id;
    int64_t invitation_id;
    char detail[96];
};

static void admin_write_free(struct store_write *w)
{
    free(container_of(w, struct admin_write, w));
}

static struct admin_write *admin_write_new(const struct store_write_op *op, int64_t channel_id,
                                           int64_t by_user, int64_t user_id)
{
    struct admin_write *a = xcalloc(1, sizeof(*a));

    a->w.op = op;
    a->channel_id = channel_id;
    a->by_user = by_user;
    a->user_id = user_id;
    snprintf(a->detail, sizeof(a->detail), "{\"user_id\":\"%lld\"}", (long long)user_id);
    return a;
}

static int admin_invite_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char purge[] = "DELETE FROM admin_invitations"
                                " WHERE channel_id = ?1 AND user_id = ?2 AND expires_ms <= ?3";
    static const char ins[] =
        "INSERT INTO admin_invitations (channel_id, user_id, invited_by, created_ms, expires_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id";
    struct admin_write *a = container_of(w, struct admin_write, w);
    struct db_stmt *st;
    int64_t n = 0, iid;
    int role, err;

    err = role_of(tx, a->channel_id, a->user_id, &role);
    if (!err && role != STORE_CHANNEL_NONE)
        err = -EEXIST;
    if (!err)
        err = admin_count(tx, a->channel_id, &n);
    if (!err && n >= CHANNEL_ADMINS_MAX)
        err = -EMLINK;
    if (err)
        return err;
    st = db_stmt(tx->db, purge);
    if (st) {
        db_bind_i64(st, 1, a->channel_id);
        db_bind_i64(st, 2, a->user_id);
        db_bind_i64(st, 3, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "invitation_purge");
    if (err)
        return err;
    st = db_stmt(tx->db, ins);
    if (st) {
        db_bind_i64(st, 1, a->channel_id);
        db_bind_i64(st, 2, a->user_id);
        db_bind_i64(st, 3, a->by_user);
        db_bind_i64(st, 4, tx->now_ms);
        db_bind_i64(st, 5, tx->now_ms + (int64_t)CHANNEL_INVITATION_DAYS * 86400000);
    }
    err = store__step_id(tx->db, st, "invitation_add", &iid);
    if (err)
        return err;
    err = store__channel_audit(tx, a->channel_id, a->by_user, "admin.invite", a->detail);
    if (!err)
        *id = iid;
    return err;
}

static const struct store_write_op admin_invite_op = { "admin_invite", admin_invite_apply,
                                                       admin_write_free };

int store_admin_invite(struct store *s, int64_t channel_id, int64_t by_user, int64_t invitee_id,
                       store_done_fn *done, void *ctx, int64_t *id_out)
{
    struct admin_write *a = admin_write_new(&admin_invite_op, channel_id, by_user, invitee_id);

    return store__submit(s, &a->w, done, ctx, id_out);
}

static int invitation_accept_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char get[] = "SELECT channel_id, user_id, expires_ms FROM admin_invitations"
                              " WHERE id = ?1";
    static const char add[] = "INSERT INTO channel_admins (channel_id, user_id, role, added_ms)"
                              " VALUES (?1, ?2, 1, ?3)";
    static const char del[] = "DELETE FROM admin_invitations WHERE id = ?1";
    struct admin_write *a = container_of(w, struct admin_write, w);
    struct db_stmt *st = db_stmt(tx->db, get);
    int64_t cid = 0, uid = 0, expires = 0, n = 0;
    int err;

    if (st)
        db_bind_i64(st, 1, a->invitation_id);
    err = store__channel_tx_row(tx, st, "invitation_get");
    if (err == 1) {
        cid = db_col_i64(st, 0);
        uid = db_col_i64(st, 1);
        expires = db_col_i64(st, 2);
    }
    db_reset(st);
    if (err < 0)
        return err;
    if (err == 0 || uid != a->user_id)
        return -ENOENT; /* someone else's invitation looks like none */
    if (expires <= tx->now_ms)
        return -ETIME;
    err = admin_count(tx, cid, &n);
    if (!err && n >= CHANNEL_ADMINS_MAX)
        err = -EMLINK;
    if (err)
        return err;
    st = db_stmt(tx->db, add);
    if (st) {
        db_bind_i64(st, 1, cid);
        db_bind_i64(st, 2, uid);
        db_bind_i64(st, 3, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "admin_add");
    if (err)
        return err;
    st = db_stmt(tx->db, del);
    if (st)
        db_bind_i64(st, 1, a->invitation_id);
    err = store__step_done(tx->db, st, "invitation_del");
    if (!err)
        err = store__channel_audit(tx, cid, uid, "admin.add", a->detail);
    if (!err)
        *id = cid;
    return err;
}

static const struct store_write_op invitation_accept_op = { "invitation_accept",
                                                            invitation_accept_apply,
                                                            admin_write_free };

int store_invitation_accept(struct store *s, int64_t id, int64_t user_id, store_done_fn *done,
                            void *ctx)
{
    struct admin_write *a = admin_write_new(&invitation_accept_op, 0, user_id, user_id);

    a->invitation_id = id;
    return store__submit(s, &a->w, done, ctx, NULL);
}

static int invitation_delete_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "DELETE FROM admin_invitations WHERE id = ?1";
    struct admin_write *a = container_of(w, struct admin_write, w);
    struct db_stmt *st = db_stmt(tx->db, sql);
    int err;

    if (st)
        db_bind_i64(st, 1, a->invitation_id);
    err = store__step_done(tx->db, st, "invitation_delete");
    if (!err && db_changes(tx->db) == 0)
        err = -ENOENT;
    if (!err)
        *id = a->invitation_id;
    return err;
}

static const struct store_write_op invitation_delete_op = { "invitation_delete",
                                                            invitation_delete_apply,
                                                            admin_write_free };

int store_invitation_delete(struct store *s, int64_t id, store_done_fn *done, void *ctx)
{
    struct admin_write *a = admin_write_new(&invitation_delete_op, 0, 0, 0);

    a->invitation_id = id;
    return store__submit(s, &a->w, done, ctx, NULL);
}

static int admin_remove_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "DELETE FROM channel_admins WHERE channel_id = ?1 AND user_id = ?2";
    struct admin_write *a = container_of(w, struct admin_write, w);
    struct db_stmt *st;
    int role, err;

    err = role_of(tx, a->channel_id, a->user_id, &role);
    if (!err && role == STORE_CHANNEL_NONE)
        err = -ENOENT;
    if (!err && role == STORE_CHANNEL_OWNER)
        err = -EBUSY;
    if (err)
        return err;
    st = db_stmt(tx->db, sql);
    if (st) {
        db_bind_i64(st, 1, a->channel_id);
        db_bind_i64(st, 2, a->user_id);
    }
    err = store__step_done(tx->db, st, "admin_remove");
    if (!err) {
        store__access(tx, a->channel_id, STORE_ACCESS_ADMIN_REMOVED,
                      store_access_key(&a->user_id, sizeof(a->user_id)));
        err = store__channel_audit(tx, a->channel_id, a->by_user,
                                   a->by_user == a->user_id ? "admin.leave" : "admin.remove",
                                   a->detail);
    }
    if (!err)
        *id = a->user_id;
    return err;
}

static const struct store_write_op admin_remove_op = { "admin_remove", admin_remove_apply,
                                                       admin_write_free };

int store_admin_remove(struct store *s, int64_t channel_id, int64_t by_user, int64_t user_id,
                       store_done_fn *done, void *ctx)
{
    struct admin_write *a = admin_write_new(&admin_remove_op, channel_id, by_user, user_id);

    return store__submit(s, &a->w, done, ctx, NULL);
}

static int owner_transfer_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "UPDATE channel_admins SET role = ?3"
                              " WHERE channel_id = ?1 AND user_id = ?2";
    struct admin_write *a = container_of(w, struct admin_write, w);
    int64_t users[2] = { a->by_user, a->user_id };
    int roles[2] = { STORE_CHANNEL_ADMIN, STORE_CHANNEL_OWNER };
    int role, err;

    err = role_of(tx, a->channel_id, a->by_user, &role);
    if (!err && role != STORE_CHANNEL_OWNER)
        err = -EACCES;
    if (!err)
        err = role_of(tx, a->channel_id, a->user_id, &role);
    if (!err && role != STORE_CHANNEL_ADMIN)
        err = -ENOENT;
    /* Demote first: the one-owner index would refuse two owners even for a moment. */
    for (int i = 0; i < 2 && !err; i++) {
        struct db_stmt *st = db_stmt(tx->db, sql);

        if (st) {
            db_bind_i64(st, 1, a->channel_id);
            db_bind_i64(st, 2, users[i]);
            db_bind_i64(st, 3, roles[i]);
        }
        err = store__step_done(tx->db, st, "owner_transfer");
    }
    if (!err)
        err = store__channel_audit(tx, a->channel_id, a->by_user, "owner.transfer", a->detail);
    if (!err)
        *id = a->user_id;
    return err;
}

static const struct store_write_op owner_transfer_op = { "owner_transfer", owner_transfer_apply,
                                                         admin_write_free };

int store_owner_transfer(struct store *s, int64_t channel_id, int64_t from_user, int64_t to_user,
                         store_done_fn *done, void *ctx)
{
    struct admin_write *a = admin_write_new(&owner_transfer_op, channel_id, from_user, to_user);

    if (from_user == to_user) {
        admin_write_free(&a->w);
        return -EINVAL;
    }
    return store__submit(s, &a->w, done, ctx, NULL);
}
