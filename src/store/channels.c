/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Channels: their rows, admins and admin invitations, invite links, and the directory search.
 * Followers and follows are in followers.c, the event stream in events.c. Authorization is the
 * API's job; the write ops here re-check only what a race between the API's read and the write
 * could break (the owner, the admin cap, an invite's uses).
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

static bool handle_char(char c, bool first)
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
        if (!handle_char(h[i], i == 0))
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

/* ---- reads ---- */

static int step_row(struct store_reader *r, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return store__errno(r->db, rc, what);
}

static void copy_text(char *dst, size_t dstlen, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    snprintf(dst, dstlen, "%s", t ? (const char *)t : "");
}

#define CHANNEL_COLS                                                                   \
    "c.id, c.org_id, c.handle, c.name, c.description, c.icon, c.category, c.language," \
    " c.visibility, c.verified, c.reaction_policy, c.reactions, c.retention_days,"     \
    " c.pinned_post_id, c.followers_count, c.posts_count, c.last_post_ms, c.last_seq," \
    " c.created_ms, c.updated_ms, o.slug, o.name"
#define CHANNEL_FROM  " FROM channels c JOIN orgs o ON o.id = c.org_id"
#define CHANNEL_NCOLS 22

static void channel_from_row(sqlite3_stmt *st, int base, struct store_channel *out)
{
    const unsigned char *t;
    int i = base;

    memset(out, 0, sizeof(*out));
    out->id = sqlite3_column_int64(st, i++);
    out->org_id = sqlite3_column_int64(st, i++);
    copy_text(out->handle, sizeof(out->handle), st, i++);
    copy_text(out->name, sizeof(out->name), st, i++);
    copy_text(out->description, sizeof(out->description), st, i++);
    copy_text(out->icon, sizeof(out->icon), st, i++);
    copy_text(out->category, sizeof(out->category), st, i++);
    copy_text(out->language, sizeof(out->language), st, i++);
    t = sqlite3_column_text(st, i++);
    out->listed = t && !strcmp((const char *)t, "listed");
    out->verified = sqlite3_column_int(st, i++) != 0;
    t = sqlite3_column_text(st, i++);
    if (store_reaction_policy_parse((const char *)t, &out->reaction_policy))
        out->reaction_policy = STORE_REACT_ANY;
    copy_text(out->reactions_json, sizeof(out->reactions_json), st, i++);
    out->retention_days = sqlite3_column_int(st, i++);
    out->pinned_post_id = sqlite3_column_int64(st, i++);
    out->followers_count = sqlite3_column_int64(st, i++);
    out->posts_count = sqlite3_column_int64(st, i++);
    out->last_post_ms = sqlite3_column_int64(st, i++);
    out->last_seq = sqlite3_column_int64(st, i++);
    out->created_ms = sqlite3_column_int64(st, i++);
    out->updated_ms = sqlite3_column_int64(st, i++);
    copy_text(out->org_slug, sizeof(out->org_slug), st, i++);
    copy_text(out->org_name, sizeof(out->org_name), st, i++);
}

int store_channel_get(struct store_reader *r, const char *handle, struct store_channel *out)
{
    /* The column's NOCASE collation makes "News" find "news", through the UNIQUE index. */
    static const char sql[] = "SELECT " CHANNEL_COLS CHANNEL_FROM " WHERE c.handle = ?1";
    sqlite3_stmt *st = store__stmt(&r->stmts, sql);
    int err = -EIO;

    if (!st)
        goto out;
    if (!handle || strlen(handle) > CHANNEL_HANDLE_MAX) {
        err = -ENOENT;
        goto out;
    }
    sqlite3_bind_text(st, 1, handle, -1, SQLITE_STATIC);
    err = step_row(r, st, "channel_get");
    if (err == 1) {
        channel_from_row(st, 0, out);
        err = 0;
    } else if (err == 0) {
        err = -ENOENT;
    }
out:
    store__stmt_done(st);
    return err;
}

int store_channel_get_id(struct store_reader *r, int64_t id, struct store_channel *out)
{
    static const char sql[] = "SELECT " CHANNEL_COLS CHANNEL_FROM " WHERE c.id = ?1";
    sqlite3_stmt *st = store__stmt(&r->stmts, sql);
    int err = -EIO;

    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, id);
    err = step_row(r, st, "channel_get_id");
    if (err == 1) {
        channel_from_row(st, 0, out);
        err = 0;
    } else if (err == 0) {
        err = -ENOENT;
    }
out:
    store__stmt_done(st);
    return err;
}

int store_channel_role(struct store_reader *r, int64_t channel_id, int64_t user_id, int *role)
{
    static const char sql[] = "SELECT role FROM channel_admins"
                              " WHERE channel_id = ?1 AND user_id = ?2";
    sqlite3_stmt *st = store__stmt(&r->stmts, sql);
    int err = -EIO;

    *role = STORE_CHANNEL_NONE;
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, channel_id);
    sqlite3_bind_int64(st, 2, user_id);
    err = step_row(r, st, "channel_role");
    if (err == 1)
        *role = sqlite3_column_int(st, 0);
    if (err >= 0)
        err = 0;
out:
    store__stmt_done(st);
    return err;
}

/*
 * Turn what a person typed into an FTS5 query that cannot be a syntax error: every term is
 * quoted (inner quotes doubled), terms without a letter or digit are dropped (they would be
 * empty phrases), the last term matches as a prefix ("citt" finds "Città"), and at most
 * DIR_TERMS_MAX terms are kept. Returns false when nothing searchable is left.
 */
#define DIR_TERMS_MAX 8
#define DIR_QUERY_MAX 1024 /* bytes of the built query; the API caps q at 100 characters */

static bool fts_query(const char *q, char *out, size_t outlen)
{
    size_t o = 0, terms = 0, last_end = 0;
    const char *p = q;

    while (*p && terms < DIR_TERMS_MAX) {
        const char *s;
        bool alnum = false;

        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        s = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            p++;
        for (const char *c = s; c < p; c++) {
            unsigned char u = (unsigned char)*c;

            alnum |=
                u >= 0x80 || (u >= '0' && u <= '9') || ((u | 0x20) >= 'a' && (u | 0x20) <= 'z');
        }
        if (!alnum)
            continue;
        if (o + 2 * (size_t)(p - s) + 6 >= outlen)
            break;
        if (o)
            out[o++] = ' ';
        out[o++] = '"';
        for (const char *c = s; c < p; c++) {
            if (*c == '"')
                out[o++] = '"';
            out[o++] = *c;
        }
        out[o++] = '"';
        last_end = o;
        terms++;
    }
    if (!terms)
        return false;
    out[last_end] = '*';
    out[last_end + 1] = '\0';
    return true;
}

/* A cursor is "<sort letter><key>.<id>": opaque to clients, checked strictly here. */
static const char sort_letters[] = "pna";

static bool cursor_parse(const char *c, enum store_dir_sort sort, int64_t *key, int64_t *id)
{
    char *end;
    long long k, i;

    if (!c || c[0] != sort_letters[sort] || strlen(c) >= STORE_CURSOR_MAX)
        return false;
    k = strtoll(c + 1, &end, 10);
    if (end == c + 1 || *end != '.')
        return false;
    c = end + 1;
    i = strtoll(c, &end, 10);
    if (end == c || *end || i <= 0 || k < 0)
        return false;
    *key = k;
    *id = i;
    return true;
}

#define DIR_WHERE                                                                               \
    " WHERE c.visibility = 'listed'"                                                            \
    " AND (?1 IS NULL OR c.id IN (SELECT rowid FROM channels_fts WHERE channels_fts MATCH ?1))" \
    " AND (?2 IS NULL OR c.category = ?2) AND (?3 IS NULL OR o.slug = ?3)"

int store_channel_search(struct store_reader *r, const struct store_dir_query *q,
                         store_channel_fn *each, void *ctx, char next[STORE_CURSOR_MAX])
{
    static const char popular[] =
        "SELECT " CHANNEL_COLS ", c.followers_count" CHANNEL_FROM DIR_WHERE
        " AND (?4 IS NULL OR (c.followers_count, c.id) < (?4, ?5))"
        " ORDER BY c.followers_count DESC, c.id DESC LIMIT ?6";
    static const char newest[] = "SELECT " CHANNEL_COLS ", c.created_ms" CHANNEL_FROM DIR_WHERE
                                 " AND (?4 IS NULL OR (c.created_ms, c.id) < (?4, ?5))"
                                 " ORDER BY c.created_ms DESC, c.id DESC LIMIT ?6";
    static const char active[] =
        "SELECT " CHANNEL_COLS ", coalesce(c.last_post_ms, 0)" CHANNEL_FROM DIR_WHERE
        " AND (?4 IS NULL OR (coalesce(c.last_post_ms, 0), c.id) < (?4, ?5))"
        " ORDER BY coalesce(c.last_post_ms, 0) DESC, c.id DESC LIMIT ?6";
    const char *sqls[] = { popular, newest, active };
    struct store_channel *ch = NULL;
    char fq[DIR_QUERY_MAX];
    sqlite3_stmt *st = NULL;
    unsigned n = 0;
    int64_t key = 0, id = 0, last_key = 0, last_id = 0;
    int err = -EINVAL;

    next[0] = '\0';
    if ((unsigned)q->sort > STORE_DIR_ACTIVE || q->limit < 1)
        goto out;
    if (q->cursor && !cursor_parse(q->cursor, q->sort, &key, &id))
        goto out;
    err = -EIO;
    st = store__stmt(&r->stmts, sqls[q->sort]);
    if (!st)
        goto out;
    if (q->q && fts_query(q->q, fq, sizeof(fq)))
        sqlite3_bind_text(st, 1, fq, -1, SQLITE_STATIC);
    if (q->category)
        sqlite3_bind_text(st, 2, q->category, -1, SQLITE_STATIC);
    if (q->org_slug)
        sqlite3_bind_text(st, 3, q->org_slug, -1, SQLITE_STATIC);
    if (q->cursor) {
        sqlite3_bind_int64(st, 4, key);
        sqlite3_bind_int64(st, 5, id);
    }
    /* One more than asked: whether there is a next page without a second query. */
    sqlite3_bind_int64(st, 6, (int64_t)q->limit + 1);
    ch = xmalloc(sizeof(*ch));
    while ((err = step_row(r, st, "channel_search")) == 1) {
        if (n == q->limit) {
            snprintf(next, STORE_CURSOR_MAX, "%c%lld.%lld", sort_letters[q->sort],
                     (long long)last_key, (long long)last_id);
            break;
        }
        channel_from_row(st, 0, ch);
        last_key = sqlite3_column_int64(st, CHANNEL_NCOLS);
        last_id = ch->id;
        each(ctx, ch);
        n++;
    }
    if (err > 0)
        err = 0;
out:
    free(ch);
    store__stmt_done(st);
    return err;
}

int store_channel_admins(struct store_reader *r, int64_t channel_id, store_admin_fn *each,
                         void *ctx)
{
    static const char sql[] =
        "SELECT a.user_id, u.email, a.role, a.added_ms"
        " FROM channel_admins a JOIN users u ON u.id = a.user_id"
        " WHERE a.channel_id = ?1 ORDER BY a.role DESC, a.added_ms, a.user_id";
    sqlite3_stmt *st = store__stmt(&r->stmts, sql);
    struct store_channel_admin a;
    int err = -EIO;

    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, channel_id);
    while ((err = step_row(r, st, "channel_admins")) == 1) {
        a.user_id = sqlite3_column_int64(st, 0);
        copy_text(a.email, sizeof(a.email), st, 1);
        a.role = sqlite3_column_int(st, 2);
        a.added_ms = sqlite3_column_int64(st, 3);
        each(ctx, &a);
    }
out:
    store__stmt_done(st);
    return err;
}

#define INVITATION_COLS                                                                    \
    "i.id, i.channel_id, c.handle, c.name, i.user_id, u.email, coalesce(i.invited_by, 0)," \
    " i.created_ms, i.expires_ms FROM admin_invitations i"                                 \
    " JOIN channels c ON c.id = i.channel_id JOIN users u ON u.id = i.user_id"

static void invitation_from_row(sqlite3_stmt *st, struct store_invitation *out)
{
    memset(out, 0, sizeof(*out));
    out->id = sqlite3_column_int64(st, 0);
    out->channel_id = sqlite3_column_int64(st, 1);
    copy_text(out->channel_handle, sizeof(out->channel_handle), st, 2);
    copy_text(out->channel_name, sizeof(out->channel_name), st, 3);
    out->user_id = sqlite3_column_int64(st, 4);
    copy_text(out->email, sizeof(out->email), st, 5);
    out->invited_by = sqlite3_column_int64(st, 6);
    out->created_ms = sqlite3_column_int64(st, 7);
    out->expires_ms = sqlite3_column_int64(st, 8);
}

int store_invitation_get(struct store_reader *r, int64_t id, struct store_invitation *out)
{
    static const char sql[] = "SELECT " INVITATION_COLS " WHERE i.id = ?1";
    sqlite3_stmt *st = store__stmt(&r->stmts, sql);
    int err = -EIO;

    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, id);
    err = step_row(r, st, "invitation_get");
    if (err == 1) {
        invitation_from_row(st, out);
        err = 0;
    } else if (err == 0) {
        err = -ENOENT;
    }
out:
    store__stmt_done(st);
    return err;
}

int store_invitation_list(struct store_reader *r, int64_t user_id, int64_t channel_id,
                          store_invitation_fn *each, void *ctx)
{
    static const char sql[] = "SELECT " INVITATION_COLS
                              " WHERE (?1 = 0 OR i.user_id = ?1) AND (?2 = 0 OR i.channel_id = ?2)"
                              " ORDER BY i.id DESC";
    sqlite3_stmt *st = store__stmt(&r->stmts, sql);
    struct store_invitation inv;
    int err = -EIO;

    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int64(st, 2, channel_id);
    while ((err = step_row(r, st, "invitation_list")) == 1) {
        invitation_from_row(st, &inv);
        each(ctx, &inv);
    }
out:
    store__stmt_done(st);
    return err;
}

#define INVITE_COLS                                                                       \
    "code, channel_id, created_ms, coalesce(expires_ms, 0), coalesce(max_uses, 0), uses," \
    " coalesce(revoked_ms, 0) FROM invites"

static void invite_from_row(sqlite3_stmt *st, struct store_invite *out)
{
    memset(out, 0, sizeof(*out));
    copy_text(out->code, sizeof(out->code), st, 0);
    out->channel_id = sqlite3_column_int64(st, 1);
    out->created_ms = sqlite3_column_int64(st, 2);
    out->expires_ms = sqlite3_column_int64(st, 3);
    out->max_uses = sqlite3_column_int64(st, 4);
    out->uses = sqlite3_column_int64(st, 5);
    out->revoked_ms = sqlite3_column_int64(st, 6);
}

int store_invite_get(struct store_reader *r, const char *code, struct store_invite *out)
{
    static const char sql[] = "SELECT " INVITE_COLS " WHERE code = ?1";
    sqlite3_stmt *st = store__stmt(&r->stmts, sql);
    int err = -EIO;

    if (!st)
        goto out;
    if (!code || strlen(code) > CHANNEL_INVITE_CODE_MAX) {
        err = -ENOENT;
        goto out;
    }
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    err = step_row(r, st, "invite_get");
    if (err == 1) {
        invite_from_row(st, out);
        err = 0;
    } else if (err == 0) {
        err = -ENOENT;
    }
out:
    store__stmt_done(st);
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
    sqlite3_stmt *st = store__stmt(&r->stmts, sql);
    struct store_invite inv;
    int err = -EIO;

    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, channel_id);
    while ((err = step_row(r, st, "invite_list")) == 1) {
        invite_from_row(st, &inv);
        each(ctx, &inv);
    }
out:
    store__stmt_done(st);
    return err;
}

/* ---- write helpers ---- */

/* A row-returning step inside a write: 1 row, 0 none, or -errno. */
static int tx_row(struct store_tx *tx, sqlite3_stmt *st, const char *what)
{
    int rc;

    if (!st)
        return -EIO;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return store__errno(tx->db, rc, what);
}

/* The channel's org (for the audit log) and "channel:<handle>" as the audit target. */
static int channel_audit_target(struct store_tx *tx, int64_t channel_id, int64_t *org_id,
                                char *target, size_t targetlen)
{
    static const char sql[] = "SELECT org_id, handle FROM channels WHERE id = ?1";
    sqlite3_stmt *st = store__stmt(tx->stmts, sql);
    int err;

    if (st)
        sqlite3_bind_int64(st, 1, channel_id);
    err = tx_row(tx, st, "channel_org");
    if (err == 1) {
        *org_id = sqlite3_column_int64(st, 0);
        snprintf(target, targetlen, "channel:%s", (const char *)sqlite3_column_text(st, 1));
        err = 0;
    } else if (err == 0) {
        err = -ENOENT;
    }
    store__stmt_done(st);
    return err;
}

static int audit_channel(struct store_tx *tx, int64_t channel_id, int64_t user_id,
                         const char *action, const char *detail_json)
{
    char target[64];
    int64_t org_id;
    int err = channel_audit_target(tx, channel_id, &org_id, target, sizeof(target));

    if (!err)
        err = store__audit(tx, org_id, user_id, action, target, detail_json);
    return err;
}

static int role_of(struct store_tx *tx, int64_t channel_id, int64_t user_id, int *role)
{
    static const char sql[] = "SELECT role FROM channel_admins"
                              " WHERE channel_id = ?1 AND user_id = ?2";
    sqlite3_stmt *st = store__stmt(tx->stmts, sql);
    int err;

    if (st) {
        sqlite3_bind_int64(st, 1, channel_id);
        sqlite3_bind_int64(st, 2, user_id);
    }
    err = tx_row(tx, st, "channel_role");
    *role = err == 1 ? sqlite3_column_int(st, 0) : STORE_CHANNEL_NONE;
    store__stmt_done(st);
    return err < 0 ? err : 0;
}

static int admin_count(struct store_tx *tx, int64_t channel_id, int64_t *n)
{
    static const char sql[] = "SELECT count(*) FROM channel_admins"
                              " WHERE channel_id = ?1 AND role = 1";
    sqlite3_stmt *st = store__stmt(tx->stmts, sql);
    int err;

    if (st)
        sqlite3_bind_int64(st, 1, channel_id);
    err = tx_row(tx, st, "admin_count");
    *n = err == 1 ? sqlite3_column_int64(st, 0) : 0;
    store__stmt_done(st);
    return err < 0 ? err : 0;
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

static void bind_opt_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
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
    sqlite3_stmt *st = store__stmt(tx->stmts, sql);
    bool allowed;
    int err;

    if (st)
        sqlite3_bind_int64(st, 1, user_id);
    err = tx_row(tx, st, "channel_owner_check");
    if (err == 1) {
        allowed = store_channel_owner_allowed((enum store_role)sqlite3_column_int(st, 0),
                                              sqlite3_column_int64(st, 1), org_id);
        err = allowed ? 0 : -EPERM;
    } else if (err == 0) {
        err = -ENOENT;
    }
    store__stmt_done(st);
    return err;
}

static int channel_create_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char ins[] =
        "INSERT INTO channels (org_id, handle, name, description, icon, category, language,"
        " visibility, verified, reaction_policy, reactions, retention_days, created_ms,"
        " updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)";
    static const char owner[] = "INSERT INTO channel_admins (channel_id, user_id, role, added_ms)"
                                " VALUES (?1, ?2, 2, ?3)";
    struct channel_write *c = container_of(w, struct channel_write, w);
    sqlite3_stmt *st;
    int64_t cid;
    int err = owner_check(tx, c->user_id, c->org_id);

    if (err)
        return err;
    st = store__stmt(tx->stmts, ins);
    if (st) {
        sqlite3_bind_int64(st, 1, c->org_id);
        sqlite3_bind_text(st, 2, c->handle, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, c->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, c->description ? c->description : "", -1, SQLITE_STATIC);
        bind_opt_text(st, 5, c->icon && *c->icon ? c->icon : NULL);
        sqlite3_bind_text(st, 6, c->category, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, c->language, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, c->visibility, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 9, c->verified > 0);
        sqlite3_bind_text(st, 10, c->policy, -1, SQLITE_STATIC);
        bind_opt_text(st, 11, c->reactions);
        sqlite3_bind_int(st, 12, c->retention);
        sqlite3_bind_int64(st, 13, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "channel_create");
    if (err)
        return err;
    cid = sqlite3_last_insert_rowid(tx->db);
    st = store__stmt(tx->stmts, owner);
    if (st) {
        sqlite3_bind_int64(st, 1, cid);
        sqlite3_bind_int64(st, 2, c->user_id);
        sqlite3_bind_int64(st, 3, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "channel_owner");
    if (!err)
        err = audit_channel(tx, cid, c->user_id, "channel.create", NULL);
    if (!err)
        *id = cid;
    return err;
}

static const struct store_write_op channel_create_op = { "channel_create", channel_create_apply,
                                                         channel_write_free };

static char *dup_opt(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

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
    c->name = dup_opt(f->name);
    c->description = dup_opt(f->description);
    c->icon = dup_opt(f->icon);
    c->category = dup_opt(f->category);
    c->language = dup_opt(f->language);
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
    sqlite3_stmt *st = store__stmt(tx->stmts, sql);
    int err;

    if (st) {
        sqlite3_bind_int64(st, 1, c->channel_id);
        bind_opt_text(st, 2, c->name);
        bind_opt_text(st, 3, c->description);
        bind_opt_text(st, 4, c->icon);
        bind_opt_text(st, 5, c->category);
        bind_opt_text(st, 6, c->language);
        bind_opt_text(st, 7, c->visibility);
        if (c->verified >= 0)
            sqlite3_bind_int(st, 8, c->verified);
        bind_opt_text(st, 9, c->policy);
        bind_opt_text(st, 10, c->reactions);
        if (c->retention)
            sqlite3_bind_int(st, 11, c->retention);
        sqlite3_bind_int64(st, 12, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "channel_update");
    if (!err && sqlite3_changes(tx->db) == 0)
        err = -ENOENT;
    /* Before the event: a stream admitted as "listed" ends without hearing of the change. */
    if (!err && c->visibility && !strcmp(c->visibility, "unlisted"))
        store__access(tx, c->channel_id, STORE_ACCESS_UNLISTED, 0);
    if (!err)
        err = store__event(tx, c->channel_id, "channel.updated", c->event, NULL);
    if (!err)
        err = audit_channel(tx, c->channel_id, c->user_id, "channel.update", c->event);
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
    sqlite3_stmt *st;
    int err;

    /* Audit first: afterwards the channel's handle and org are gone. */
    err = audit_channel(tx, c->channel_id, c->user_id, "channel.delete", NULL);
    if (err)
        return err;
    st = store__stmt(tx->stmts, sql);
    if (st)
        sqlite3_bind_int64(st, 1, c->channel_id);
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
        " VALUES (?1, ?2, ?3, ?4, ?5)";
    struct admin_write *a = container_of(w, struct admin_write, w);
    sqlite3_stmt *st;
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
    st = store__stmt(tx->stmts, purge);
    if (st) {
        sqlite3_bind_int64(st, 1, a->channel_id);
        sqlite3_bind_int64(st, 2, a->user_id);
        sqlite3_bind_int64(st, 3, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "invitation_purge");
    if (err)
        return err;
    st = store__stmt(tx->stmts, ins);
    if (st) {
        sqlite3_bind_int64(st, 1, a->channel_id);
        sqlite3_bind_int64(st, 2, a->user_id);
        sqlite3_bind_int64(st, 3, a->by_user);
        sqlite3_bind_int64(st, 4, tx->now_ms);
        sqlite3_bind_int64(st, 5, tx->now_ms + (int64_t)CHANNEL_INVITATION_DAYS * 86400000);
    }
    err = store__step_done(tx->db, st, "invitation_add");
    if (err)
        return err;
    iid = sqlite3_last_insert_rowid(tx->db);
    err = audit_channel(tx, a->channel_id, a->by_user, "admin.invite", a->detail);
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
    sqlite3_stmt *st = store__stmt(tx->stmts, get);
    int64_t cid = 0, uid = 0, expires = 0, n = 0;
    int err;

    if (st)
        sqlite3_bind_int64(st, 1, a->invitation_id);
    err = tx_row(tx, st, "invitation_get");
    if (err == 1) {
        cid = sqlite3_column_int64(st, 0);
        uid = sqlite3_column_int64(st, 1);
        expires = sqlite3_column_int64(st, 2);
    }
    store__stmt_done(st);
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
    st = store__stmt(tx->stmts, add);
    if (st) {
        sqlite3_bind_int64(st, 1, cid);
        sqlite3_bind_int64(st, 2, uid);
        sqlite3_bind_int64(st, 3, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "admin_add");
    if (err)
        return err;
    st = store__stmt(tx->stmts, del);
    if (st)
        sqlite3_bind_int64(st, 1, a->invitation_id);
    err = store__step_done(tx->db, st, "invitation_del");
    if (!err)
        err = audit_channel(tx, cid, uid, "admin.add", a->detail);
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
    sqlite3_stmt *st = store__stmt(tx->stmts, sql);
    int err;

    if (st)
        sqlite3_bind_int64(st, 1, a->invitation_id);
    err = store__step_done(tx->db, st, "invitation_delete");
    if (!err && sqlite3_changes(tx->db) == 0)
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
    sqlite3_stmt *st;
    int role, err;

    err = role_of(tx, a->channel_id, a->user_id, &role);
    if (!err && role == STORE_CHANNEL_NONE)
        err = -ENOENT;
    if (!err && role == STORE_CHANNEL_OWNER)
        err = -EBUSY;
    if (err)
        return err;
    st = store__stmt(tx->stmts, sql);
    if (st) {
        sqlite3_bind_int64(st, 1, a->channel_id);
        sqlite3_bind_int64(st, 2, a->user_id);
    }
    err = store__step_done(tx->db, st, "admin_remove");
    if (!err) {
        store__access(tx, a->channel_id, STORE_ACCESS_ADMIN_REMOVED,
                      store_access_key(&a->user_id, sizeof(a->user_id)));
        err = audit_channel(tx, a->channel_id, a->by_user,
                            a->by_user == a->user_id ? "admin.leave" : "admin.remove", a->detail);
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
        sqlite3_stmt *st = store__stmt(tx->stmts, sql);

        if (st) {
            sqlite3_bind_int64(st, 1, a->channel_id);
            sqlite3_bind_int64(st, 2, users[i]);
            sqlite3_bind_int(st, 3, roles[i]);
        }
        err = store__step_done(tx->db, st, "owner_transfer");
    }
    if (!err)
        err = audit_channel(tx, a->channel_id, a->by_user, "owner.transfer", a->detail);
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
    sqlite3_stmt *st = store__stmt(tx->stmts, sql);
    int err;

    if (st) {
        sqlite3_bind_text(st, 1, v->code, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, v->channel_id);
        sqlite3_bind_int64(st, 3, v->user_id);
        sqlite3_bind_int64(st, 4, tx->now_ms);
        if (v->expires_ms)
            sqlite3_bind_int64(st, 5, v->expires_ms);
        if (v->max_uses)
            sqlite3_bind_int64(st, 6, v->max_uses);
    }
    err = store__step_done(tx->db, st, "invite_add");
    /* The code is a capability: the audit log says an invite was made, not which. */
    if (!err)
        err = audit_channel(tx, v->channel_id, v->user_id, "invite.create", NULL);
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
        if (!handle_char(code[i], false))
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
    sqlite3_stmt *st = store__stmt(tx->stmts, sql);
    int err;

    if (st) {
        sqlite3_bind_text(st, 1, v->code, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, v->channel_id);
        sqlite3_bind_int64(st, 3, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "invite_revoke");
    if (!err && sqlite3_changes(tx->db) == 0)
        err = -ENOENT;
    if (!err) {
        store__access(tx, v->channel_id, STORE_ACCESS_INVITE_REVOKED,
                      store_access_key(v->code, strlen(v->code)));
    }
    if (!err)
        err = audit_channel(tx, v->channel_id, v->user_id, "invite.revoke", NULL);
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
