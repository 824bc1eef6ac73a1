/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A channel's invite links: reading one (and whether it still opens), listing a channel's,
 * adding and revoking them. A code is a capability: the audit log never names it.
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

#define INVITE_COLS                                                                       \
    "code, channel_id, created_ms, coalesce(expires_ms, 0), coalesce(max_uses, 0), uses," \
    " coalesce(revoked_ms, 0) FROM invites"

static void invite_from_row(struct db_stmt *st, struct store_invite *out)
{
    memset(out, 0, sizeof(*out));
    store__channel_copy_text(out->code, sizeof(out->code), st, 0);
    out->channel_id = db_col_i64(st, 1);
    out->created_ms = db_col_i64(st, 2);
    out->expires_ms = db_col_i64(st, 3);
    out->max_uses = db_col_i64(st, 4);
    out->uses = db_col_i64(st, 5);
    out->revoked_ms = db_col_i64(st, 6);
}

int store_invite_get(struct store_reader *r, const char *code, struct store_invite *out)
{
    static const char sql[] = "SELECT " INVITE_COLS " WHERE code = ?1";
    struct db_stmt *st = db_stmt(r->db, sql);
    int err = -EIO;

    if (!st)
        goto out;
    if (!code || strlen(code) > CHANNEL_INVITE_CODE_MAX) {
        err = -ENOENT;
        goto out;
    }
    db_bind_text(st, 1, code);
    err = store__channel_step_row(r, st, "invite_get");
    if (err == 1) {
        invite_from_row(st, out);
        err = 0;
    } else if (err == 0) {
        err = -ENOENT;
    }
out:
    db_reset(st);
    return err;
}

int store_invite_state(const struct store_invite *inv, int64_t now_ms)
{
    if (inv->revoked_ms)
        return -ECANCELED;
    if (inv->expires_ms && inv->expires_ms <= now_ms)
        return -ETIME;
    if (inv->max_uses && inv->uses >= inv->max_uses)
        return -EDQUOT;
    return 0;
}

int store_invite_list(struct store_reader *r, int64_t channel_id, store_invite_fn *each, void *ctx)
{
    static const char sql[] = "SELECT " INVITE_COLS " WHERE channel_id = ?1"
                              " AND revoked_ms IS NULL ORDER BY created_ms DESC, code";
    struct db_stmt *st = db_stmt(r->db, sql);
    struct store_invite inv;
    int err = -EIO;

    if (!st)
        goto out;
    db_bind_i64(st, 1, channel_id);
    while ((err = store__channel_step_row(r, st, "invite_list")) == 1) {
        invite_from_row(st, &inv);
        each(ctx, &inv);
    }
out:
    db_reset(st);
    return err;
}

/* ---- invite links ---- */

struct invite_write {
    struct store_write w;
    int64_t channel_id;
    int64_t user_id;
    char code[CHANNEL_INVITE_CODE_MAX + 1];
    int64_t expires_ms;
    int64_t max_uses;
};

static void invite_write_free(struct store_write *w)
{
    free(container_of(w, struct invite_write, w));
}

static int invite_add_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "INSERT INTO invites (code, channel_id, created_by, created_ms,"
                              " expires_ms, max_uses) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    struct invite_write *v = container_of(w, struct invite_write, w);
    struct db_stmt *st = db_stmt(tx->db, sql);
    int err;

    if (st) {
        db_bind_text(st, 1, v->code);
        db_bind_i64(st, 2, v->channel_id);
        db_bind_i64(st, 3, v->user_id);
        db_bind_i64(st, 4, tx->now_ms);
        if (v->expires_ms)
            db_bind_i64(st, 5, v->expires_ms);
        if (v->max_uses)
            db_bind_i64(st, 6, v->max_uses);
    }
    err = store__step_done(tx->db, st, "invite_add");
    /* The code is a capability: the audit log says an invite was made, not which. */
    if (!err)
        err = store__channel_audit(tx, v->channel_id, v->user_id, "invite.create", NULL);
    if (!err)
        *id = tx->now_ms; /* the creation time, for the answer */
    return err;
}

static const struct store_write_op invite_add_op = { "invite_add", invite_add_apply,
                                                     invite_write_free };

static bool code_valid(const char *code)
{
    size_t n = code ? strlen(code) : 0;

    if (n < 10 || n > CHANNEL_INVITE_CODE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!store__channel_handle_char(code[i], false))
            return false;
    }
    return true;
}

int store_invite_add(struct store *s, int64_t channel_id, int64_t user_id, const char *code,
                     int64_t expires_ms, int64_t max_uses, store_done_fn *done, void *ctx)
{
    struct invite_write *v;

    if (!code_valid(code) || expires_ms < 0 || max_uses < 0)
        return -EINVAL;
    v = xcalloc(1, sizeof(*v));
    v->w.op = &invite_add_op;
    v->channel_id = channel_id;
    v->user_id = user_id;
    snprintf(v->code, sizeof(v->code), "%s", code);
    v->expires_ms = expires_ms;
    v->max_uses = max_uses;
    return store__submit(s, &v->w, done, ctx, NULL);
}

static int invite_revoke_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "UPDATE invites SET revoked_ms = ?3"
                              " WHERE code = ?1 AND channel_id = ?2 AND revoked_ms IS NULL";
    struct invite_write *v = container_of(w, struct invite_write, w);
    struct db_stmt *st = db_stmt(tx->db, sql);
    int err;

    if (st) {
        db_bind_text(st, 1, v->code);
        db_bind_i64(st, 2, v->channel_id);
        db_bind_i64(st, 3, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "invite_revoke");
    if (!err && db_changes(tx->db) == 0)
        err = -ENOENT;
    if (!err) {
        store__access(tx, v->channel_id, STORE_ACCESS_INVITE_REVOKED,
                      store_access_key(v->code, strlen(v->code)));
    }
    if (!err)
        err = store__channel_audit(tx, v->channel_id, v->user_id, "invite.revoke", NULL);
    if (!err)
        *id = v->channel_id;
    return err;
}

static const struct store_write_op invite_revoke_op = { "invite_revoke", invite_revoke_apply,
                                                        invite_write_free };

int store_invite_revoke(struct store *s, int64_t channel_id, int64_t user_id, const char *code,
                        store_done_fn *done, void *ctx)
{
    struct invite_write *v;

    if (!code || strlen(code) > CHANNEL_INVITE_CODE_MAX)
        return -ENOENT;
    v = xcalloc(1, sizeof(*v));
    v->w.op = &invite_revoke_op;
    v->channel_id = channel_id;
    v->user_id = user_id;
    snprintf(v->code, sizeof(v->code), "%s", code);
    return store__submit(s, &v->w, done, ctx, NULL);
}
