/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Posts: the write ops (create, edit, delete, pin, views, the scheduler's publish) and the
 * reads. Every change a follower can see writes its event (store__event) and, when staff made
 * it, its audit entry (store__audit) in the same transaction, so a post never exists without
 * its "post.created" event, nor an event without its post. The retention sweeper lives in
 * retention.c.
 */
#include "store/posts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/format.h"
#include "store/reactions_int.h"
#include "store/shared_int.h"
#include "store/store_int.h"

/* ---- importance ---- */

static const char *const importance_names[] = {
    [STORE_SILENT] = "silent",
    [STORE_NORMAL] = "normal",
    [STORE_IMPORTANT] = "important",
};

const char *store_importance_name(enum store_importance i)
{
    return (int)i >= STORE_SILENT && i <= STORE_IMPORTANT ? importance_names[i] : "normal";
}

int store_importance_parse(const char *s, enum store_importance *out)
{
    for (int i = STORE_SILENT; s && i <= STORE_IMPORTANT; i++) {
        if (!strcmp(s, importance_names[i])) {
            *out = (enum store_importance)i;
            return 0;
        }
    }
    return -EINVAL;
}

/* ---- the post as JSON ---- */

/*
 * Where a follower's client fetches each media (the public routes of api/media.c): an image in
 * two sizes, anything else as its file. Sizes are only an image's.
 */
static void media_urls(json_t *media)
{
    char path[128];
    size_t i;
    json_t *item;

    json_array_foreach(media, i, item)
    {
        const char *id = json_string_value(json_object_get(item, "id"));
        const char *kind = json_string_value(json_object_get(item, "kind"));

        if (!id || !kind)
            continue; /* its media row is gone: nothing to fetch */
        if (!strcmp(kind, "image")) {
            snprintf(path, sizeof(path), "/media/%s/small", id);
            json_object_set_new(item, "small_url", json_string(path));
            snprintf(path, sizeof(path), "/media/%s/large", id);
            json_object_set_new(item, "large_url", json_string(path));
        } else {
            json_object_del(item, "width");
            json_object_del(item, "height");
            snprintf(path, sizeof(path), "/media/%s", id);
            json_object_set_new(item, "url", json_string(path));
        }
    }
}

json_t *store_post_json(const struct store_post *p)
{
    char id[24];
    char published[32];
    char edited[32];
    size_t n = strlen(p->text);
    struct buf html;
    json_t *media = json_loads(p->media_json, 0, NULL);
    json_t *reactions = json_loads(p->reactions_json, 0, NULL);
    json_t *poll = store_poll_json(p->poll_json, clock_now_ms());
    json_t *v;

    buf_init(&html, FORMAT_HTML_MAX(n));
    /* Sized with FORMAT_HTML_MAX, format_html() cannot fail; an empty html is the fallback. */
    if (format_html(p->text, n, &html) != 0)
        buf_reset(&html);
    if (!json_is_array(media)) {
        json_decref(media);
        media = json_array();
    }
    media_urls(media);
    if (!json_is_object(reactions)) {
        json_decref(reactions);
        reactions = json_object();
    }
    snprintf(id, sizeof(id), "%lld", (long long)p->id);
    clock_rfc3339(p->published_ms, published, sizeof(published));
    if (p->edited_ms)
        clock_rfc3339(p->edited_ms, edited, sizeof(edited));
    v = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:b, s:o, s:b, s:I, s:o, s:o, s:b}", "id",
                  id, "channel", p->channel, "text", p->text, "html", html.data ? html.data : "",
                  "media", media, "importance", store_importance_name(p->importance),
                  "published_at", published, "edited", p->edited_ms != 0, "edited_at",
                  p->edited_ms ? json_string(edited) : json_null(), "pinned", p->pinned, "views",
                  (json_int_t)p->views, "reactions", reactions, "poll", poll ? poll : json_null(),
                  "scheduled", p->scheduled);
    buf_release(&html);
    return v;
}

/* ---- rows ---- */

/* The post's reaction counts and poll (store/reactions_int.h), read in the same statement. */
#define POST_COUNTS    STORE_REACTIONS_SQL("p") ", " STORE_POLL_SQL("p")
#define POST_COUNTS_PG STORE_REACTIONS_SQL_PG("p") ", " STORE_POLL_SQL_PG("p")
/*
 * A post's media references joined with their rows, so every reader (REST, stream events)
 * learns what each one is without asking the staff-only media API. A LEFT JOIN keeps the
 * references' order (json_each drives the loop); json_patch drops the NULLs of a missing row.
 */
#define POST_MEDIA_COL                                                                 \
    "(SELECT json_group_array(json_patch(j.value, json_object('kind', m.kind, 'mime'," \
    " m.mime, 'bytes', m.bytes, 'width', m.width, 'height', m.height)))"               \
    " FROM json_each(p.media) j LEFT JOIN media m"                                     \
    " ON m.public_id = json_extract(j.value, '$.id'))"
/* The same on PostgreSQL: jsonb's || merges objects, jsonb_strip_nulls drops a missing row. */
#define POST_MEDIA_COL_PG                                                                      \
    "(SELECT coalesce(json_agg(j.v || jsonb_strip_nulls(jsonb_build_object('kind', m.kind,"    \
    " 'mime', m.mime, 'bytes', m.bytes, 'width', m.width, 'height', m.height)) ORDER BY j.k)," \
    " '[]')::text FROM jsonb_array_elements(p.media::jsonb) WITH ORDINALITY j(v, k)"           \
    " LEFT JOIN media m ON m.public_id = j.v ->> 'id')"
/* A post's columns (post_from_row) on each engine: use through POST_SELECT. */
#define POST_COLS_OF(MEDIA, COUNTS)                                           \
    "p.id, p.channel_id, c.handle, p.text, " MEDIA ", p.importance, p.state," \
    " p.published_ms,"                                                        \
    " coalesce(p.edited_ms, 0), p.views_count,"                               \
    " CASE WHEN c.pinned_post_id = p.id THEN 1 ELSE 0 END,"                   \
    " p.created_ms, " COUNTS " FROM posts p JOIN channels c ON c.id = p.channel_id"
#define POST_SELECT(REST)                                               \
    DB_SQL("SELECT " POST_COLS_OF(POST_MEDIA_COL, POST_COUNTS) REST "", \
           "SELECT " POST_COLS_OF(POST_MEDIA_COL_PG, POST_COUNTS_PG) REST "")

static void copy_text(char *dst, size_t dstlen, struct db_stmt *st, int col)
{
    const char *t = db_col_text(st, col);

    snprintf(dst, dstlen, "%s", t ? (const char *)t : "");
}

static void post_from_row(struct db_stmt *st, struct store_post *p)
{
    p->id = db_col_i64(st, 0);
    p->channel_id = db_col_i64(st, 1);
    copy_text(p->channel, sizeof(p->channel), st, 2);
    copy_text(p->text, sizeof(p->text), st, 3);
    copy_text(p->media_json, sizeof(p->media_json), st, 4);
    p->importance = (enum store_importance)db_col_int(st, 5);
    p->scheduled = db_col_int(st, 6) == 0;
    p->published_ms = db_col_i64(st, 7);
    p->edited_ms = db_col_i64(st, 8);
    p->views = db_col_i64(st, 9);
    p->pinned = db_col_int(st, 10) != 0;
    p->created_ms = db_col_i64(st, 11);
    copy_text(p->reactions_json, sizeof(p->reactions_json), st, 12);
    copy_text(p->poll_json, sizeof(p->poll_json), st, 13);
}

/* Post `id` through statement cache `c` on `db`: 0, -ENOENT or -EIO. */
static int post_load(struct db *db, int64_t id, struct store_post *out)
{
    static const char sql[] = POST_SELECT(" WHERE p.id = ?1");
    struct db_stmt *st = db_stmt(db, sql);
    int rc;
    int err = -EIO;

    if (!st)
        goto out;
    db_bind_i64(st, 1, id);
    rc = db_step(st);
    if (rc == DB_ROW) {
        post_from_row(st, out);
        err = 0;
    } else {
        err = rc == DB_DONE ? -ENOENT : store__errno(db, rc, "post_load");
    }
out:
    db_reset(st);
    return err;
}

/* The org of channel `channel_id` (for the audit log). -ENOENT if the channel is gone. */
static int channel_org(struct store_tx *tx, int64_t channel_id, int64_t *org_id)
{
    static const char sql[] = "SELECT org_id FROM channels WHERE id = ?1";
    struct db_stmt *st = db_stmt(tx->db, sql);
    int rc;
    int err = -EIO;

    if (!st)
        goto out;
    db_bind_i64(st, 1, channel_id);
    rc = db_step(st);
    if (rc == DB_ROW) {
        *org_id = db_col_i64(st, 0);
        err = 0;
    } else {
        err = rc == DB_DONE ? -ENOENT : store__errno(tx->db, rc, "channel_org");
    }
out:
    db_reset(st);
    return err;
}

/* The channel's handle into `out` (40 bytes). */
static int channel_handle(struct store_tx *tx, int64_t channel_id, char out[40])
{
    static const char sql[] = "SELECT handle FROM channels WHERE id = ?1";
    struct db_stmt *st = db_stmt(tx->db, sql);
    int rc;
    int err = -EIO;

    if (!st)
        goto out;
    db_bind_i64(st, 1, channel_id);
    rc = db_step(st);
    if (rc == DB_ROW) {
        snprintf(out, 40, "%s", db_col_text(st, 0));
        err = 0;
    } else {
        err = rc == DB_DONE ? -ENOENT : store__errno(tx->db, rc, "channel_handle");
    }
out:
    db_reset(st);
    return err;
}

/* Write event `kind` on the post's channel with the post as it now is. */
static int post_event(struct store_tx *tx, int64_t post_id, const char *kind)
{
    struct store_post *p = xmalloc(sizeof(*p));
    char *payload = NULL;
    json_t *v;
    int err = post_load(tx->db, post_id, p);

    if (err)
        goto out;
    v = store_post_json(p);
    if (!v) {
        err = -EIO;
        goto out;
    }
    payload = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    err = payload ? store__event(tx, p->channel_id, kind, payload, NULL) : -EIO;
out:
    free(payload);
    free(p);
    return err;
}

/*
 * What going out means, for a post published now or by the scheduler: the "post.created"
 * event and the channel's last_post_ms (the directory's "active" order).
 */
static int publish_side(struct store_tx *tx, int64_t post_id, int64_t channel_id,
                        int64_t published_ms)
{
    static const char sql[] = "UPDATE channels SET last_post_ms = ?2"
                              " WHERE id = ?1 AND coalesce(last_post_ms, 0) < ?2";
    struct db_stmt *st;
    int err = post_event(tx, post_id, "post.created");

    if (err)
        return err;
    st = db_stmt(tx->db, sql);
    if (st) {
        db_bind_i64(st, 1, channel_id);
        db_bind_i64(st, 2, published_ms);
    }
    err = store__step_done(tx->db, st, "post_publish");
    /* An important post's Web Push, in this transaction: exactly for the posts that went out. */
    return err ? err : store__push_post(tx, post_id, false);
}

static void post_target(char *out, size_t outlen, int64_t id)
{
    snprintf(out, outlen, "post:%lld", (long long)id);
}

/* ---- validation ---- */

static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static bool text_valid(const char *t)
{
    size_t n = t ? utf8_chars(t) : 0;

    return n >= 1 && n <= POST_TEXT_MAX && strlen(t) <= POST_TEXT_BYTES;
}

/* The shape of the media array (the API checked each field, this guards the store's sizes). */
static bool media_valid(const char *m)
{
    json_t *v;
    bool ok;

    if (!m)
        return true;
    if (strlen(m) > POST_MEDIA_BYTES)
        return false;
    v = json_loads(m, JSON_REJECT_DUPLICATES, NULL);
    ok = json_is_array(v) && json_array_size(v) <= POST_MEDIA_MAX;
    json_decref(v);
    return ok;
}

static bool importance_valid(const struct store_post_fields *f)
{
    return !f->has_importance ||
           ((int)f->importance >= STORE_SILENT && f->importance <= STORE_IMPORTANT);
}

/* ---- create ---- */

struct post_create {
    struct store_write w;
    int64_t channel_id;
    int64_t user_id;
    char *text;
    char *media;
    enum store_importance importance;
    int64_t publish_at_ms;
    struct store__poll *poll; /* NULL: none */
};

static int create_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] =
        "INSERT INTO posts (channel_id, text, media, importance, state,"
        " published_ms, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id";
    struct post_create *c = container_of(w, struct post_create, w);
    bool now = c->publish_at_ms <= tx->now_ms;
    int64_t published = now ? tx->now_ms : c->publish_at_ms;
    char target[32];
    int64_t org_id = 0;
    struct db_stmt *st;
    int err = channel_org(tx, c->channel_id, &org_id);

    if (err)
        return err;
    st = db_stmt(tx->db, sql);
    if (st) {
        db_bind_i64(st, 1, c->channel_id);
        db_bind_text(st, 2, c->text);
        db_bind_text(st, 3, c->media);
        db_bind_i64(st, 4, (int)c->importance);
        db_bind_i64(st, 5, now);
        db_bind_i64(st, 6, published);
        db_bind_i64(st, 7, tx->now_ms);
    }
    err = store__step_id(tx->db, st, "post_create", id);
    if (err)
        return err;
    /* Before the event: "post.created" carries the poll. */
    if (c->poll) {
        err = store__poll_insert(tx, *id, c->poll);
        if (err)
            return err;
    }
    post_target(target, sizeof(target), *id);
    err = store__audit(tx, org_id, c->user_id, "post.create", target,
                       now ? NULL : "{\"scheduled\":true}");
    if (!err && now)
        err = publish_side(tx, *id, c->channel_id, published);
    return err;
}

static void create_free(struct store_write *w)
{
    struct post_create *c = container_of(w, struct post_create, w);

    free(c->text);
    free(c->media);
    store__poll_free(c->poll);
    free(c);
}

static const struct store_write_op create_op = { "post_create", create_apply, create_free };

int store_post_create(struct store *s, int64_t channel_id, int64_t user_id,
                      const struct store_post_fields *f, store_done_fn *done, void *ctx,
                      int64_t *id_out)
{
    struct post_create *c;

    if (!f || !text_valid(f->text) || !media_valid(f->media_json) || !importance_valid(f) ||
        (f->poll && !store_poll_new_valid(f->poll)))
        return -EINVAL;
    c = xcalloc(1, sizeof(*c));
    c->w.op = &create_op;
    c->channel_id = channel_id;
    c->user_id = user_id;
    c->text = xstrdup(f->text);
    c->media = xstrdup(f->media_json ? f->media_json : "[]");
    c->importance = f->has_importance ? f->importance : STORE_NORMAL;
    c->publish_at_ms = f->publish_at_ms;
    c->poll = f->poll ? store__poll_copy(f->poll) : NULL;
    return store__submit(s, &c->w, done, ctx, id_out);
}

/* ---- edit ---- */

struct post_edit {
    struct store_write w;
    int64_t post_id;
    int64_t user_id;
    char *text;  /* NULL: unchanged */
    char *media; /* NULL: unchanged */
    bool has_importance;
    enum store_importance importance;
};

static int edit_history(struct store_tx *tx, const struct post_edit *e)
{
    static const char sql[] =
        "INSERT INTO post_edits (post_id, editor_id, text, media, importance, edited_ms)"
        " SELECT id, ?2, text, media, importance, ?3 FROM posts WHERE id = ?1";
    struct db_stmt *st = db_stmt(tx->db, sql);

    if (st) {
        db_bind_i64(st, 1, e->post_id);
        if (e->user_id > 0) {
            db_bind_i64(st, 2, e->user_id);
        } else {
            db_bind_null(st, 2);
        }
        db_bind_i64(st, 3, tx->now_ms);
    }
    return store__step_done(tx->db, st, "post_edit_history");
}

static int edit_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "UPDATE posts SET text = coalesce(?2, text),"
                              " media = coalesce(?3, media), importance = coalesce(?4, importance),"
                              " edited_ms = ?5 WHERE id = ?1";
    struct post_edit *e = container_of(w, struct post_edit, w);
    struct store_post *p = xmalloc(sizeof(*p));
    char target[32];
    int64_t org_id = 0;
    struct db_stmt *st;
    int err = post_load(tx->db, e->post_id, p);

    if (err)
        goto out;
    if (!p->scheduled && tx->now_ms > p->published_ms + POST_EDIT_WINDOW_MS) {
        err = -EKEYEXPIRED;
        goto out;
    }
    err = channel_org(tx, p->channel_id, &org_id);
    if (!err)
        err = edit_history(tx, e);
    if (err)
        goto out;
    st = db_stmt(tx->db, sql);
    if (st) {
        db_bind_i64(st, 1, e->post_id);
        db_bind_text(st, 2, e->text); /* NULL binds NULL */
        db_bind_text(st, 3, e->media);
        if (e->has_importance)
            db_bind_i64(st, 4, (int)e->importance);
        db_bind_i64(st, 5, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "post_edit");
    if (err)
        goto out;
    post_target(target, sizeof(target), e->post_id);
    err = store__audit(tx, org_id, e->user_id, "post.edit", target, NULL);
    if (!err && !p->scheduled)
        err = post_event(tx, e->post_id, "post.edited");
    if (!err && !p->scheduled)
        err = store__push_post(tx, e->post_id, true);
    *id = e->post_id;
out:
    free(p);
    return err;
}

static void edit_free(struct store_write *w)
{
    struct post_edit *e = container_of(w, struct post_edit, w);

    free(e->text);
    free(e->media);
    free(e);
}

static const struct store_write_op edit_op = { "post_edit", edit_apply, edit_free };

int store_post_edit(struct store *s, int64_t post_id, int64_t user_id,
                    const struct store_post_fields *f, store_done_fn *done, void *ctx)
{
    struct post_edit *e;

    if (!f || (f->text && !text_valid(f->text)) || !media_valid(f->media_json) ||
        !importance_valid(f))
        return -EINVAL;
    e = xcalloc(1, sizeof(*e));
    e->w.op = &edit_op;
    e->post_id = post_id;
    e->user_id = user_id;
    e->text = f->text ? xstrdup(f->text) : NULL;
    e->media = f->media_json ? xstrdup(f->media_json) : NULL;
    e->has_importance = f->has_importance;
    e->importance = f->importance;
    return store__submit(s, &e->w, done, ctx, NULL);
}

/* ---- delete ---- */

struct post_delete {
    struct store_write w;
    int64_t post_id;
    int64_t user_id;
};

static int delete_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "DELETE FROM posts WHERE id = ?1";
    struct post_delete *d = container_of(w, struct post_delete, w);
    struct store_post *p = xmalloc(sizeof(*p));
    char target[32];
    char payload[48];
    int64_t org_id = 0;
    struct db_stmt *st;
    int err = post_load(tx->db, d->post_id, p);

    if (!err)
        err = channel_org(tx, p->channel_id, &org_id);
    if (err)
        goto out;
    st = db_stmt(tx->db, sql);
    if (st)
        db_bind_i64(st, 1, d->post_id);
    /* views and edits go by cascade; the pin and posts_count by trigger (004_posts.sql) */
    err = store__step_done(tx->db, st, "post_delete");
    if (err)
        goto out;
    post_target(target, sizeof(target), d->post_id);
    err = store__audit(tx, org_id, d->user_id, "post.delete", target, NULL);
    if (!err && !p->scheduled) {
        snprintf(payload, sizeof(payload), "{\"id\":\"%lld\"}", (long long)d->post_id);
        err = store__event(tx, p->channel_id, "post.deleted", payload, NULL);
    }
    *id = d->post_id;
out:
    free(p);
    return err;
}

static void simple_free(struct store_write *w)
{
    free(w); /* the struct's first member: one allocation */
}

static const struct store_write_op delete_op = { "post_delete", delete_apply, simple_free };

int store_post_delete(struct store *s, int64_t post_id, int64_t user_id, store_done_fn *done,
                      void *ctx)
{
    struct post_delete *d = xcalloc(1, sizeof(*d));

    d->w.op = &delete_op;
    d->post_id = post_id;
    d->user_id = user_id;
    return store__submit(s, &d->w, done, ctx, NULL);
}

/* ---- pin ---- */

struct post_pin {
    struct store_write w;
    int64_t channel_id;
    int64_t post_id; /* 0: unpin */
    int64_t user_id;
};

static int pin_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char check[] = "SELECT 1 FROM posts WHERE id = ?1 AND channel_id = ?2"
                                " AND state = 1";
    static const char sql[] = "UPDATE channels SET pinned_post_id = ?2 WHERE id = ?1";
    struct post_pin *p = container_of(w, struct post_pin, w);
    char target[32];
    char handle[40];
    char payload[160];
    int64_t org_id = 0;
    struct db_stmt *st;
    int rc;
    int err = channel_org(tx, p->channel_id, &org_id);

    if (err)
        return err;
    if (p->post_id) {
        st = db_stmt(tx->db, check);
        if (!st)
            return -EIO;
        db_bind_i64(st, 1, p->post_id);
        db_bind_i64(st, 2, p->channel_id);
        rc = db_step(st);
        db_reset(st);
        if (rc != DB_ROW)
            return rc == DB_DONE ? -ENOENT : store__errno(tx->db, rc, "post_pin");
    }
    st = db_stmt(tx->db, sql);
    if (st) {
        db_bind_i64(st, 1, p->channel_id);
        if (p->post_id) {
            db_bind_i64(st, 2, p->post_id);
        } else {
            db_bind_null(st, 2);
        }
    }
    err = store__step_done(tx->db, st, "post_pin");
    if (err)
        return err;
    post_target(target, sizeof(target), p->post_id);
    err = store__audit(tx, org_id, p->user_id, p->post_id ? "post.pin" : "post.unpin",
                       p->post_id ? target : "", NULL);
    if (err)
        return err;
    /* The documented shape of channel.updated (docs/API.md, Events): apps find the channel by
     * its handle ([a-z0-9_-] only, so it needs no escaping). */
    err = channel_handle(tx, p->channel_id, handle);
    if (err)
        return err;
    if (p->post_id) {
        snprintf(payload, sizeof(payload),
                 "{\"handle\":\"%s\",\"changed\":{\"pinned_post_id\":\"%lld\"}}", handle,
                 (long long)p->post_id);
    } else {
        snprintf(payload, sizeof(payload),
                 "{\"handle\":\"%s\",\"changed\":{\"pinned_post_id\":null}}", handle);
    }
    *id = p->post_id;
    return store__event(tx, p->channel_id, "channel.updated", payload, NULL);
}

static const struct store_write_op pin_op = { "post_pin", pin_apply, simple_free };

int store_post_pin(struct store *s, int64_t channel_id, int64_t post_id, int64_t user_id,
                   store_done_fn *done, void *ctx)
{
    struct post_pin *p;

    if (post_id < 0)
        return -EINVAL;
    p = xcalloc(1, sizeof(*p));
    p->w.op = &pin_op;
    p->channel_id = channel_id;
    p->post_id = post_id;
    p->user_id = user_id;
    return store__submit(s, &p->w, done, ctx, NULL);
}

/* ---- views ---- */

struct views_add {
    struct store_write w;
    uint8_t hash[SECRET_HASH_LEN];
    size_t n;
    int64_t ids[POST_VIEWS_MAX];
};

static int views_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char who[] = "SELECT id FROM followers WHERE hash = ?1";
    /*
     * views_count follows by trigger, only when the row is new: once per follower. Only posts
     * the follower can read count: a listed channel's, or one of a channel it follows.
     */
    static const char sql[] = "INSERT INTO views (post_id, follower_id)"
                              " SELECT p.id, ?2 FROM posts p JOIN channels c ON c.id = p.channel_id"
                              " WHERE p.id = ?1 AND p.state = 1 AND (c.visibility = 'listed'"
                              " OR EXISTS (SELECT 1 FROM follows fo WHERE fo.follower_id = ?2"
                              " AND fo.channel_id = p.channel_id)) ON CONFLICT DO NOTHING";
    struct views_add *v = container_of(w, struct views_add, w);
    struct db_stmt *st = db_stmt(tx->db, who);
    int64_t follower = 0;
    int rc;
    int err = 0;

    if (!st)
        return -EIO;
    db_bind_blob(st, 1, v->hash, SECRET_HASH_LEN);
    rc = db_step(st);
    if (rc == DB_ROW)
        follower = db_col_i64(st, 0);
    db_reset(st);
    if (rc != DB_ROW)
        return rc == DB_DONE ? -ENOENT : store__errno(tx->db, rc, "views_who");
    for (size_t i = 0; i < v->n && !err; i++) {
        st = db_stmt(tx->db, sql);
        if (st) {
            db_bind_i64(st, 1, v->ids[i]);
            db_bind_i64(st, 2, follower);
        }
        err = store__step_done(tx->db, st, "views_add");
    }
    *id = 0; /* nothing about the follower leaves the store */
    return err;
}

static void views_free(struct store_write *w)
{
    struct views_add *v = container_of(w, struct views_add, w);

    explicit_bzero(v->hash, sizeof(v->hash));
    free(v);
}

static const struct store_write_op views_op = { "views_add", views_apply, views_free };

int store_views_add(struct store *s, const uint8_t hash[SECRET_HASH_LEN], const int64_t *post_ids,
                    size_t n, store_done_fn *done, void *ctx)
{
    struct views_add *v;

    if (!hash || !post_ids || n < 1 || n > POST_VIEWS_MAX)
        return -EINVAL;
    v = xcalloc(1, sizeof(*v));
    v->w.op = &views_op;
    memcpy(v->hash, hash, SECRET_HASH_LEN);
    memcpy(v->ids, post_ids, n * sizeof(*post_ids));
    v->n = n;
    return store__submit(s, &v->w, done, ctx, NULL);
}

/* ---- the scheduler ---- */

#define PUBLISH_BATCH_MAX 1000

struct publish_due {
    struct store_write w;
    int64_t now_ms;
    unsigned batch;
};

static int publish_one(struct store_tx *tx, int64_t post_id, int64_t channel_id,
                       int64_t published_ms)
{
    static const char sql[] = "UPDATE posts SET state = 1 WHERE id = ?1 AND state = 0";
    struct db_stmt *st = db_stmt(tx->db, sql);
    char target[32];
    int64_t org_id = 0;
    int err;

    if (st)
        db_bind_i64(st, 1, post_id);
    err = store__step_done(tx->db, st, "post_publish_due");
    if (!err)
        err = channel_org(tx, channel_id, &org_id);
    if (err)
        return err;
    post_target(target, sizeof(target), post_id);
    err = store__audit(tx, org_id, 0, "post.publish", target, NULL);
    return err ? err : publish_side(tx, post_id, channel_id, published_ms);
}

static int publish_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "SELECT id, channel_id, published_ms FROM posts"
                              " WHERE state = 0 AND published_ms <= ?1"
                              " ORDER BY published_ms, id LIMIT ?2";
    struct publish_due *d = container_of(w, struct publish_due, w);
    int64_t(*due)[3] = xcalloc(d->batch, sizeof(*due));
    struct db_stmt *st = db_stmt(tx->db, sql);
    unsigned n = 0;
    int rc = -EIO;
    int err = 0;

    /* Collected first: the statement must be finished before the rows it reads change. */
    if (st) {
        db_bind_i64(st, 1, d->now_ms);
        db_bind_i64(st, 2, (int)d->batch);
        while ((rc = db_step(st)) == DB_ROW && n < d->batch) {
            for (int c = 0; c < 3; c++)
                due[n][c] = db_col_i64(st, c);
            n++;
        }
    }
    db_reset(st);
    if (rc != DB_DONE && rc != DB_ROW)
        err = st ? store__errno(tx->db, rc, "post_due") : -EIO;
    for (unsigned i = 0; i < n && !err; i++)
        err = publish_one(tx, due[i][0], due[i][1], due[i][2]);
    *id = err ? 0 : n;
    free(due);
    return err;
}

static const struct store_write_op publish_op = { "post_publish_due", publish_apply, simple_free };

int store_posts_publish_due(struct store *s, int64_t now_ms, unsigned batch, int *published)
{
    struct publish_due *d;
    int64_t n = 0;
    int err;

    if (batch < 1 || batch > PUBLISH_BATCH_MAX || !published)
        return -EINVAL;
    d = xcalloc(1, sizeof(*d));
    d->w.op = &publish_op;
    d->now_ms = now_ms;
    d->batch = batch;
    err = store__submit(s, &d->w, NULL, NULL, &n);
    *published = err ? 0 : (int)n;
    return err;
}

/* ---- reads ---- */

int store_post_get(struct store_reader *r, int64_t id, struct store_post *out)
{
    return post_load(r->db, id, out);
}

/* (published_ms, id) of `before_id` in the channel: where the next page starts. */
static int cursor_of(struct store_reader *r, const struct store_post_query *q, int64_t *ms)
{
    static const char sql[] = "SELECT published_ms FROM posts WHERE id = ?1 AND channel_id = ?2"
                              " AND (state = 1 OR ?3 <> 0)";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc;
    int err = -EIO;

    if (!st)
        goto out;
    db_bind_i64(st, 1, q->before_id);
    db_bind_i64(st, 2, q->channel_id);
    db_bind_i64(st, 3, q->include_scheduled);
    rc = db_step(st);
    if (rc == DB_ROW) {
        *ms = db_col_i64(st, 0);
        err = 0;
    } else {
        err = rc == DB_DONE ? -ENOENT : store__errno(r->db, rc, "post_cursor");
    }
out:
    db_reset(st);
    return err;
}

int store_post_list(struct store_reader *r, const struct store_post_query *q, store_post_fn *each,
                    void *ctx, bool *more)
{
    static const char sql[] = POST_SELECT(" WHERE p.channel_id = ?1"
                                          " AND (p.state = 1 OR ?2 <> 0) AND p.published_ms >= ?3"
                                          " AND (p.published_ms, p.id) < (?4, ?5)"
                                          " ORDER BY p.published_ms DESC, p.id DESC LIMIT ?6");
    struct store_post *p = NULL;
    struct db_stmt *st = NULL;
    int64_t before_ms = INT64_MAX;
    int64_t before_id = INT64_MAX;
    unsigned n = 0;
    int rc;
    int err;

    if (more)
        *more = false;
    if (q->limit < 1 || q->limit > POST_LIST_MAX)
        return -EINVAL;
    if (q->before_id) {
        err = cursor_of(r, q, &before_ms);
        if (err)
            return err;
        before_id = q->before_id;
    }
    err = -EIO;
    st = db_stmt(r->db, sql);
    if (!st)
        goto out;
    p = xmalloc(sizeof(*p));
    db_bind_i64(st, 1, q->channel_id);
    db_bind_i64(st, 2, q->include_scheduled);
    db_bind_i64(st, 3, q->since_ms);
    db_bind_i64(st, 4, before_ms);
    db_bind_i64(st, 5, before_id);
    db_bind_i64(st, 6, (int)q->limit + 1); /* one more: is there a next page? */
    while ((rc = db_step(st)) == DB_ROW) {
        if (n == q->limit) {
            if (more)
                *more = true;
            rc = DB_DONE;
            break;
        }
        post_from_row(st, p);
        each(ctx, p);
        n++;
    }
    err = rc == DB_DONE ? 0 : store__errno(r->db, rc, "post_list");
out:
    db_reset(st);
    free(p);
    return err;
}

int store_post_edits(struct store_reader *r, int64_t post_id, store_post_edit_fn *each, void *ctx)
{
    static const char sql[] =
        "SELECT e.id, coalesce(u.email, ''), e.text, e.media, e.importance, e.edited_ms"
        " FROM post_edits e LEFT JOIN users u ON u.id = e.editor_id WHERE e.post_id = ?1"
        " ORDER BY e.id";
    struct db_stmt *st = db_stmt(r->db, sql);
    struct store_post_edit *e = NULL;
    int rc;
    int err = -EIO;

    if (!st)
        goto out;
    e = xmalloc(sizeof(*e));
    db_bind_i64(st, 1, post_id);
    while ((rc = db_step(st)) == DB_ROW) {
        e->id = db_col_i64(st, 0);
        copy_text(e->editor_email, sizeof(e->editor_email), st, 1);
        copy_text(e->text, sizeof(e->text), st, 2);
        copy_text(e->media_json, sizeof(e->media_json), st, 3);
        e->importance = (enum store_importance)db_col_int(st, 4);
        e->edited_ms = db_col_i64(st, 5);
        each(ctx, e);
    }
    err = rc == DB_DONE ? 0 : store__errno(r->db, rc, "post_edits");
out:
    db_reset(st);
    free(e);
    return err;
}
