/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Channels: names and validation (handles, categories, reaction policies), reading a channel's
 * row and a staff member's role on it, and creating, changing and deleting a channel. The
 * directory search is in channels_directory.c, admins and admin invitations in
 * channels_admins.c, invite links in channels_invites.c (what they share: channels_int.h);
 * followers and follows are in followers.c, the event stream in events.c. Authorization is the
 * API's job; the write ops here re-check only what a race between the API's read and the write
 * could break (the owner, the admin cap, an invite's uses).
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

/* ---- names and validation ---- */

static const char *const policy_names[] = { "any", "set", "none" };

const char *store_reaction_policy_name(enum store_reaction_policy p)
{
    return (unsigned)p < ARRAY_SIZE(policy_names) ? policy_names[p] : "any";
}

int store_reaction_policy_parse(const char *s, enum store_reaction_policy *out)
{
    for (size_t i = 0; s && i < ARRAY_SIZE(policy_names); i++) {
        if (!strcmp(s, policy_names[i])) {
            *out = (enum store_reaction_policy)i;
            return 0;
        }
    }
    return -EINVAL;
}

bool store_channel_category_valid(const char *c)
{
    static const char *const cats[] = { "news",    "civil_protection", "culture",     "tourism",
                                        "schools", "transport",        "environment", "sport",
                                        "other" };

    for (size_t i = 0; c && i < ARRAY_SIZE(cats); i++) {
        if (!strcmp(c, cats[i]))
            return true;
    }
    return false;
}

/*
 * Words that would read as part of the site rather than a channel in a URL or a share text
 * ("araldo.example/c/admin"), or that we may want as paths later.
 */
static const char *const reserved_handles[] = {
    "about",   "admin",   "admins",    "api",       "app",      "araldo", "channel", "channels",
    "config",  "contact", "directory", "explore",   "feed",     "feeds",  "help",    "home",
    "invite",  "invites", "login",     "logout",    "me",       "new",    "null",    "official",
    "posts",   "privacy", "root",      "search",    "settings", "signin", "staff",   "static",
    "support", "system",  "terms",     "undefined", "www",
};

bool store__channel_handle_char(char c, bool first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return !first && (c == '_' || c == '-');
}

bool store_channel_handle_valid(const char *h, bool *reserved)
{
    char low[CHANNEL_HANDLE_MAX + 1];
    size_t n = h ? strlen(h) : 0;

    if (reserved)
        *reserved = false;
    if (n < CHANNEL_HANDLE_MIN || n > CHANNEL_HANDLE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!store__channel_handle_char(h[i], i == 0))
            return false;
        low[i] = (char)((h[i] >= 'A' && h[i] <= 'Z') ? h[i] - 'A' + 'a' : h[i]);
    }
    low[n] = '\0';
    for (size_t i = 0; i < ARRAY_SIZE(reserved_handles); i++) {
        if (!strcmp(low, reserved_handles[i])) {
            if (reserved)
                *reserved = true;
            return false;
        }
    }
    return true;
}

static char *fold(const char *s)
{
    char *d = xstrdup(s);

    for (char *p = d; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    }
    return d;
}

/* Characters, not bytes (the input is valid UTF-8: the API checked it). */
static size_t chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* ---- reads: the row helpers are shared (channels_int.h) ---- */

int store__channel_step_row(struct store_reader *r, struct db_stmt *st, const char *what)
{
    int rc = db_step(st);

    if (rc == DB_ROW)
        return 1;
    if (rc == DB_DONE)
        return 0;
    return store__errno(r->db, rc, what);
}

void store__channel_copy_text(char *dst, size_t dstlen, struct db_stmt *st, int col)
{
    const char *t = db_col_text(st, col);

    snprintf(dst, dstlen, "%s", t ? (const char *)t : "");
}

void store__channel_from_row(struct db_stmt *st, int base, struct store_channel *out)
{
    const char *t;
    int i = base;

    memset(out, 0, sizeof(*out));
    out->id = db_col_i64(st, i++);
    out->org_id = db_col_i64(st, i++);
    store__channel_copy_text(out->handle, sizeof(out->handle), st, i++);
    store__channel_copy_text(out->name, sizeof(out->name), st, i++);
    store__channel_copy_text(out->description, sizeof(out->description), st, i++);
    store__channel_copy_text(out->icon, sizeof(out->icon), st, i++);
    store__channel_copy_text(out->category, sizeof(out->category), st, i++);
    store__channel_copy_text(out->language, sizeof(out->language), st, i++);
    t = db_col_text(st, i++);
    out->listed = t && !strcmp((const char *)t, "listed");
    out->verified = db_col_int(st, i++) != 0;
    t = db_col_text(st, i++);
    if (store_reaction_policy_parse((const char *)t, &out->reaction_policy))
        out->reaction_policy = STORE_REACT_ANY;
    store__channel_copy_text(out->reactions_json, sizeof(out->reactions_json), st, i++);
    out->retention_days = db_col_int(st, i++);
    out->pinned_post_id = db_col_i64(st, i++);
    out->followers_count = db_col_i64(st, i++);
    out->posts_count = db_col_i64(st, i++);
    out->last_post_ms = db_col_i64(st, i++);
    out->last_seq = db_col_i64(st, i++);
    out->created_ms = db_col_i64(st, i++);
    out->updated_ms = db_col_i64(st, i++);
    store__channel_copy_text(out->org_slug, sizeof(out->org_slug), st, i++);
    store__channel_copy_text(out->org_name, sizeof(out->org_name), st, i++);
}

int store_channel_get(struct store_reader *r, const char *handle, struct store_channel *out)
{
    /*
     * Handles are stored lower-cased, so lower() makes "News" find "news" on both engines;
     * SQLite's NOCASE column still serves it through the UNIQUE index.
     */
    static const char sql[] = "SELECT " CHANNEL_COLS CHANNEL_FROM " WHERE c.handle = lower(?1)";
    struct db_stmt *st = db_stmt(r->db, sql);
    int err = -EIO;

    if (!st)
        goto out;
    if (!handle || strlen(handle) > CHANNEL_HANDLE_MAX) {
        err = -ENOENT;
        goto out;
    }
    db_bind_text(st, 1, handle);
    err = store__channel_step_row(r, st, "channel_get");
    if (err == 1) {
        store__channel_from_row(st, 0, out);
        err = 0;
    } else if (err == 0) {
        err = -ENOENT;
    }
out:
    db_reset(st);
    return err;
}

int store_channel_get_id(struct store_reader *r, int64_t id, struct store_channel *out)
{
    static const char sql[] = "SELECT " CHANNEL_COLS CHANNEL_FROM " WHERE c.id = ?1";
    struct db_stmt *st = db_stmt(r->db, sql);
    int err = -EIO;

    if (!st)
        goto out;
    db_bind_i64(st, 1, id);
    err = store__channel_step_row(r, st, "channel_get_id");
    if (err == 1) {
        store__channel_from_row(st, 0, out);
        err = 0;
    } else if (err == 0) {
        err = -ENOENT;
    }
out:
    db_reset(st);
    return err;
}

int store_channel_role(struct store_reader *r, int64_t channel_id, int64_t user_id, int *role)
{
    static const char sql[] = "SELECT role FROM channel_admins"
                              " WHERE channel_id = ?1 AND user_id = ?2";
    struct db_stmt *st = db_stmt(r->db, sql);
    int err = -EIO;

    *role = STORE_CHANNEL_NONE;
    if (!st)
        goto out;
    db_bind_i64(st, 1, channel_id);
    db_bind_i64(st, 2, user_id);
    err = store__channel_step_row(r, st, "channel_role");
    if (err == 1)
        *role = db_col_int(st, 0);
    if (err >= 0)
        err = 0;
out:
    db_reset(st);
    return err;
}

/* ---- write helpers (channels_int.h) ---- */

/* A row-returning step inside a write: 1 row, 0 none, or -errno. */
int store__channel_tx_row(struct store_tx *tx, struct db_stmt *st, const char *what)
{
    int rc;

    if (!st)
        return -EIO;
    rc = db_step(st);
    if (rc == DB_ROW)
        return 1;
    if (rc == DB_DONE)
        return 0;
    return store__errno(tx->db, rc, what);
}

/* The channel's org (for the audit log) and "channel:<handle>" as the audit target. */
static int channel_audit_target(struct store_tx *tx, int64_t channel_id, int64_t *org_id,
                                char *target, size_t targetlen)
{
    static const char sql[] = "SELECT org_id, handle FROM channels WHERE id = ?1";
    struct db_stmt *st = db_stmt(tx->db, sql);
    int err;

    if (st)
        db_bind_i64(st, 1, channel_id);
    err = store__channel_tx_row(tx, st, "channel_org");
    if (err == 1) {
        *org_id = db_col_i64(st, 0);
        snprintf(target, targetlen, "channel:%s", db_col_text(st, 1));
        err = 0;
    } else if (err == 0) {
        err = -ENOENT;
    }
    db_reset(st);
    return err;
}

int store__channel_audit(struct store_tx *tx, int64_t channel_id, int64_t user_id,
                         const char *action, const char *detail_json)
{
    char target[64];
    int64_t org_id;
    int err = channel_audit_target(tx, channel_id, &org_id, target, sizeof(target));

    if (!err)
        err = store__audit(tx, org_id, user_id, action, target, detail_json);
    return err;
}

/* ---- channel create / update / delete ---- */

struct channel_write {
    struct store_write w;
    int64_t channel_id; /* update, delete */
    int64_t org_id;     /* create */
    int64_t user_id;
    char *handle, *name, *description, *icon, *category, *language, *reactions, *event;
    const char *visibility; /* static strings */
    const char *policy;
    int verified;  /* -1: unchanged */
    int retention; /* 0: unchanged */
};

static void channel_write_free(struct store_write *w)
{
    struct channel_write *c = container_of(w, struct channel_write, w);

    free(c->handle);
    free(c->name);
    free(c->description);
    free(c->icon);
    free(c->category);
    free(c->language);
    free(c->reactions);
    free(c->event);
    free(c);
}

bool store_channel_owner_allowed(enum store_role role, int64_t user_org_id, int64_t org_id)
{
    return role == STORE_ROLE_OPERATOR || (org_id && user_org_id == org_id);
}

/* Whether live account `user_id` may own a channel of `org_id`: 0, -EPERM or -ENOENT. */
static int owner_check(struct store_tx *tx, int64_t user_id, int64_t org_id)
{
    static const char sql[] = "SELECT role, coalesce(org_id, 0) FROM users"
                              " WHERE id = ?1 AND disabled_ms IS NULL";
    struct db_stmt *st = db_stmt(tx->db, sql);
    bool allowed;
    int err;

    if (st)
        db_bind_i64(st, 1, user_id);
    err = store__channel_tx_row(tx, st, "channel_owner_check");
    if (err == 1) {
        allowed = store_channel_owner_allowed((enum store_role)db_col_int(st, 0), db_col_i64(st, 1),
                                              org_id);
        err = allowed ? 0 : -EPERM;
    } else if (err == 0) {
        err = -ENOENT;
    }
    db_reset(st);
    return err;
}

static int channel_create_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char ins[] =
        "INSERT INTO channels (org_id, handle, name, description, icon, category, language,"
        " visibility, verified, reaction_policy, reactions, retention_days, created_ms,"
        " updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13) "
        "RETURNING id";
    static const char owner[] = "INSERT INTO channel_admins (channel_id, user_id, role, added_ms)"
                                " VALUES (?1, ?2, 2, ?3)";
    struct channel_write *c = container_of(w, struct channel_write, w);
    struct db_stmt *st;
    int64_t cid;
    int err = owner_check(tx, c->user_id, c->org_id);

    if (err)
        return err;
    st = db_stmt(tx->db, ins);
    if (st) {
        db_bind_i64(st, 1, c->org_id);
        db_bind_text(st, 2, c->handle);
        db_bind_text(st, 3, c->name);
        db_bind_text(st, 4, c->description ? c->description : "");
        db_bind_text(st, 5, c->icon && *c->icon ? c->icon : NULL);
        db_bind_text(st, 6, c->category);
        db_bind_text(st, 7, c->language);
        db_bind_text(st, 8, c->visibility);
        db_bind_i64(st, 9, c->verified > 0);
        db_bind_text(st, 10, c->policy);
        db_bind_text(st, 11, c->reactions);
        db_bind_i64(st, 12, c->retention);
        db_bind_i64(st, 13, tx->now_ms);
    }
    err = store__step_id(tx->db, st, "channel_create", &cid);
    if (err)
        return err;
    st = db_stmt(tx->db, owner);
    if (st) {
        db_bind_i64(st, 1, cid);
        db_bind_i64(st, 2, c->user_id);
        db_bind_i64(st, 3, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "channel_owner");
    if (!err)
        err = store__channel_audit(tx, cid, c->user_id, "channel.create", NULL);
    if (!err)
        *id = cid;
    return err;
}

static const struct store_write_op channel_create_op = { "channel_create", channel_create_apply,
                                                         channel_write_free };

/* Check and copy the fields common to create and update. */
static int fields_copy(struct channel_write *c, const struct store_channel_fields *f)
{
    if (f->name && (chars(f->name) < 1 || chars(f->name) > CHANNEL_NAME_MAX))
        return -EINVAL;
    if (f->description && chars(f->description) > CHANNEL_DESC_MAX)
        return -EINVAL;
    if (f->icon && strlen(f->icon) > CHANNEL_ICON_MAX)
        return -EINVAL;
    if (f->category && !store_channel_category_valid(f->category))
        return -EINVAL;
    if (f->language && (strlen(f->language) < 2 || strlen(f->language) > CHANNEL_LANGUAGE_MAX))
        return -EINVAL;
    if (f->has_retention &&
        (f->retention_days < CHANNEL_RETENTION_MIN || f->retention_days > CHANNEL_RETENTION_MAX))
        return -EINVAL;
    if (f->has_reaction_policy && f->reaction_policy == STORE_REACT_SET &&
        (!f->reactions_json || f->reactions_json[0] != '[' ||
         strlen(f->reactions_json) >= sizeof(((struct store_channel *)0)->reactions_json)))
        return -EINVAL;
    c->name = xstrdup_opt(f->name);
    c->description = xstrdup_opt(f->description);
    c->icon = xstrdup_opt(f->icon);
    c->category = xstrdup_opt(f->category);
    c->language = xstrdup_opt(f->language);
    c->visibility = f->has_listed ? (f->listed ? "listed" : "unlisted") : NULL;
    c->verified = f->has_verified ? f->verified : -1;
    c->policy = f->has_reaction_policy ? store_reaction_policy_name(f->reaction_policy) : NULL;
    c->reactions = f->has_reaction_policy && f->reaction_policy == STORE_REACT_SET
                       ? xstrdup(f->reactions_json)
                       : NULL;
    c->retention = f->has_retention ? f->retention_days : 0;
    return 0;
}

int store_channel_create(struct store *s, int64_t org_id, int64_t user_id,
                         const struct store_channel_fields *f, store_done_fn *done, void *ctx,
                         int64_t *id_out)
{
    struct channel_write *c;
    int err;

    if (!store_channel_handle_valid(f->handle, NULL) || !f->name || !f->category || !f->language)
        return -EINVAL;
    c = xcalloc(1, sizeof(*c));
    c->w.op = &channel_create_op;
    err = fields_copy(c, f);
    if (err) {
        channel_write_free(&c->w);
        return err;
    }
    c->handle = fold(f->handle);
    c->org_id = org_id;
    c->user_id = user_id;
    if (!c->visibility)
        c->visibility = "listed";
    if (!c->policy)
        c->policy = "any";
    if (!c->retention)
        c->retention = CHANNEL_RETENTION_DEF;
    return store__submit(s, &c->w, done, ctx, id_out);
}

static int channel_update_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    /* One statement for every combination: an unbound (NULL) parameter keeps the column. */
    static const char sql[] =
        "UPDATE channels SET name = coalesce(?2, name),"
        " description = coalesce(?3, description),"
        " icon = CASE WHEN ?4 IS NULL THEN icon WHEN ?4 = '' THEN NULL ELSE ?4 END,"
        " category = coalesce(?5, category), language = coalesce(?6, language),"
        " visibility = coalesce(?7, visibility), verified = coalesce(?8, verified),"
        " reaction_policy = coalesce(?9, reaction_policy),"
        " reactions = CASE WHEN ?9 IS NULL THEN reactions WHEN ?9 = 'set' THEN ?10 ELSE NULL END,"
        " retention_days = coalesce(?11, retention_days), updated_ms = ?12 WHERE id = ?1";
    struct channel_write *c = container_of(w, struct channel_write, w);
    struct db_stmt *st = db_stmt(tx->db, sql);
    int err;

    if (st) {
        db_bind_i64(st, 1, c->channel_id);
        db_bind_text(st, 2, c->name);
        db_bind_text(st, 3, c->description);
        db_bind_text(st, 4, c->icon);
        db_bind_text(st, 5, c->category);
        db_bind_text(st, 6, c->language);
        db_bind_text(st, 7, c->visibility);
        if (c->verified >= 0)
            db_bind_i64(st, 8, c->verified);
        db_bind_text(st, 9, c->policy);
        db_bind_text(st, 10, c->reactions);
        if (c->retention)
            db_bind_i64(st, 11, c->retention);
        db_bind_i64(st, 12, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "channel_update");
    if (!err && db_changes(tx->db) == 0)
        err = -ENOENT;
    /* Before the event: a stream admitted as "listed" ends without hearing of the change. */
    if (!err && c->visibility && !strcmp(c->visibility, "unlisted"))
        store__access(tx, c->channel_id, STORE_ACCESS_UNLISTED, 0);
    if (!err)
        err = store__event(tx, c->channel_id, "channel.updated", c->event, NULL);
    if (!err)
        err = store__channel_audit(tx, c->channel_id, c->user_id, "channel.update", c->event);
    if (!err)
        *id = c->channel_id;
    return err;
}

static const struct store_write_op channel_update_op = { "channel_update", channel_update_apply,
                                                         channel_write_free };

int store_channel_update(struct store *s, int64_t channel_id, int64_t user_id,
                         const struct store_channel_fields *f, const char *event_json,
                         store_done_fn *done, void *ctx)
{
    struct channel_write *c;
    int err;

    if (!event_json || event_json[0] != '{')
        return -EINVAL;
    c = xcalloc(1, sizeof(*c));
    c->w.op = &channel_update_op;
    err = fields_copy(c, f);
    if (err) {
        channel_write_free(&c->w);
        return err;
    }
    c->channel_id = channel_id;
    c->user_id = user_id;
    c->event = xstrdup(event_json);
    return store__submit(s, &c->w, done, ctx, NULL);
}

static int channel_delete_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "DELETE FROM channels WHERE id = ?1";
    struct channel_write *c = container_of(w, struct channel_write, w);
    struct db_stmt *st;
    int err;

    /* Audit first: afterwards the channel's handle and org are gone. */
    err = store__channel_audit(tx, c->channel_id, c->user_id, "channel.delete", NULL);
    if (err)
        return err;
    st = db_stmt(tx->db, sql);
    if (st)
        db_bind_i64(st, 1, c->channel_id);
    err = store__step_done(tx->db, st, "channel_delete");
    if (!err)
        store__access(tx, c->channel_id, STORE_ACCESS_DELETED, 0);
    if (!err)
        *id = c->channel_id;
    return err;
}

static const struct store_write_op channel_delete_op = { "channel_delete", channel_delete_apply,
                                                         channel_write_free };

int store_channel_delete(struct store *s, int64_t channel_id, int64_t user_id, store_done_fn *done,
                         void *ctx)
{
    struct channel_write *c = xcalloc(1, sizeof(*c));

    c->w.op = &channel_delete_op;
    c->channel_id = channel_id;
    c->user_id = user_id;
    return store__submit(s, &c->w, done, ctx, NULL);
}
