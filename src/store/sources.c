/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Alert sources and norme-di-comportamento templates (store/sources.h). A source's health is
 * written by the poller with store_source_polled, outside the audit log: it changes every few
 * minutes and says nothing about what a person did.
 */
#include "store/sources.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/shared_int.h"
#include "store/store_int.h"

static const char *col_or_null(struct db_stmt *st, int i)
{
    return db_col_is_null(st, i) ? NULL : db_col_text(st, i);
}

/* ---- sources ---- */

struct source_w {
    struct store_write w;
    int64_t actor_id, org_id, id;
    bool del;
    struct store_source_conf c; /* owned copies */
};

static int source_count(struct store_tx *tx, int64_t org_id, int64_t *n)
{
    struct db_stmt *st = db_stmt(tx->db, "SELECT count(*) FROM alert_sources WHERE org_id = ?1");
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    rc = db_step(st);
    *n = rc == DB_ROW ? db_col_i64(st, 0) : 0;
    db_reset(st);
    return rc == DB_ROW ? 0 : store__errno(tx->db, rc, "source count");
}

static void bind_conf(struct db_stmt *st, const struct store_source_conf *c)
{
    db_bind_text(st, 3, c->kind);
    db_bind_text(st, 4, c->url);
    db_bind_text(st, 5, c->data_url);
    db_bind_i64(st, 6, c->interval_s);
    db_bind_text(st, 7, c->on_change);
    db_bind_text(st, 8, c->up_to);
    db_bind_text(st, 9, c->comune);
    db_bind_text(st, 10, c->zone);
    db_bind_i64(st, 11, c->official ? 1 : 0);
}

static int source_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char ins[] =
        "INSERT INTO alert_sources (org_id, kind, url, data_url, interval_s,"
        " on_change, up_to, comune, zone, official, created_ms, updated_ms)"
        " VALUES (?1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12) RETURNING id";
    static const char upd[] = "UPDATE alert_sources SET kind = ?3, url = ?4, data_url = ?5,"
                              " interval_s = ?6, on_change = ?7, up_to = ?8, comune = ?9,"
                              " zone = ?10, official = ?11, updated_ms = ?12"
                              " WHERE org_id = ?1 AND id = ?2";
    static const char del[] = "DELETE FROM alert_sources WHERE org_id = ?1 AND id = ?2";
    struct source_w *s = container_of(w, struct source_w, w);
    struct db_stmt *st;
    char target[40];
    int64_t n = 0;
    int err;

    if (!s->id && !s->del) {
        err = source_count(tx, s->org_id, &n);
        if (err)
            return err;
        if (n >= STORE_SOURCES_MAX)
            return -EMLINK;
    }
    st = db_stmt(tx->db, s->del ? del : s->id ? upd : ins);
    if (st) {
        db_bind_i64(st, 1, s->org_id);
        db_bind_i64(st, 2, s->id);
        if (!s->del) {
            bind_conf(st, &s->c);
            db_bind_i64(st, 12, tx->now_ms);
        }
    }
    err = store__step_id(tx->db, st, "alert_source", id);
    if (!err && s->id && db_changes(tx->db) == 0)
        err = -ENOENT;
    if (err)
        return err == -EEXIST ? -EINVAL : err;
    if (s->id)
        *id = s->id;
    snprintf(target, sizeof(target), "alert_source:%lld", (long long)*id);
    return store__audit(tx, s->org_id, s->actor_id,
                        s->del  ? "alert_source.delete"
                        : s->id ? "alert_source.update"
                                : "alert_source.create",
                        target, NULL);
}

static void source_free(struct store_write *w)
{
    struct source_w *s = container_of(w, struct source_w, w);

    free((char *)s->c.kind);
    free((char *)s->c.url);
    free((char *)s->c.data_url);
    free((char *)s->c.on_change);
    free((char *)s->c.up_to);
    free((char *)s->c.comune);
    free((char *)s->c.zone);
    free(s);
}

static const struct store_write_op source_op = { "alert_source", source_apply, source_free };

static bool conf_ok(const struct store_source_conf *c)
{
    return c->kind && c->url && strlen(c->url) <= STORE_SOURCE_URL_MAX &&
           (!c->data_url || strlen(c->data_url) <= STORE_SOURCE_URL_MAX) && c->on_change &&
           c->comune && *c->comune && c->interval_s >= 60 && c->interval_s <= 86400;
}

int store_source_put(struct store *s, int64_t actor_id, int64_t org_id, int64_t id,
                     const struct store_source_conf *c, store_done_fn *done, void *ctx)
{
    struct source_w *w;

    if (!conf_ok(c) || id < 0)
        return -EINVAL;
    w = xcalloc(1, sizeof(*w));
    w->w.op = &source_op;
    w->actor_id = actor_id;
    w->org_id = org_id;
    w->id = id;
    w->c = (struct store_source_conf){
        .kind = xstrdup(c->kind),
        .url = xstrdup(c->url),
        .data_url = xstrdup_opt(c->data_url),
        .interval_s = c->interval_s,
        .on_change = xstrdup(c->on_change),
        .up_to = xstrdup_opt(c->up_to),
        .comune = xstrdup(c->comune),
        .zone = xstrdup_opt(c->zone),
        .official = c->official,
    };
    return store__submit(s, &w->w, done, ctx, NULL);
}

int store_source_delete(struct store *s, int64_t actor_id, int64_t org_id, int64_t id,
                        store_done_fn *done, void *ctx)
{
    struct source_w *w;

    if (id <= 0)
        return -ENOENT;
    w = xcalloc(1, sizeof(*w));
    w->w.op = &source_op;
    w->actor_id = actor_id;
    w->org_id = org_id;
    w->id = id;
    w->del = true;
    return store__submit(s, &w->w, done, ctx, NULL);
}

struct source_cb {
    store_source_fn *each;
    void *ctx;
};

int store_source_list(struct store_reader *r, int64_t org_id, int64_t id, store_source_fn *each,
                      void *ctx)
{
    static const char sql[] =
        "SELECT id, org_id, kind, url, data_url, interval_s, on_change, up_to, comune, zone,"
        " official, etag, last_modified, last_bulletin, last_error, coalesce(last_ok_ms, 0),"
        " coalesce(last_change_ms, 0), coalesce(last_error_ms, 0), created_ms, updated_ms,"
        " coalesce(warned_ms, 0) FROM alert_sources WHERE (?1 = 0 OR org_id = ?1) AND (?2 = 0 OR "
        "id = ?2) ORDER BY id";
    struct db_stmt *st = db_stmt(r->db, sql);
    unsigned n = 0;
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    db_bind_i64(st, 2, id);
    while ((rc = db_step(st)) == DB_ROW) {
        struct store_source src = {
            .id = db_col_i64(st, 0),
            .org_id = db_col_i64(st, 1),
            .conf = {
                .kind = col_or_null(st, 2),
                .url = col_or_null(st, 3),
                .data_url = col_or_null(st, 4),
                .interval_s = db_col_i64(st, 5),
                .on_change = col_or_null(st, 6),
                .up_to = col_or_null(st, 7),
                .comune = col_or_null(st, 8),
                .zone = col_or_null(st, 9),
                .official = db_col_int(st, 10) != 0,
            },
            .etag = col_or_null(st, 11),
            .last_modified = col_or_null(st, 12),
            .last_bulletin = col_or_null(st, 13),
            .last_error = col_or_null(st, 14),
            .last_ok_ms = db_col_i64(st, 15),
            .last_change_ms = db_col_i64(st, 16),
            .last_error_ms = db_col_i64(st, 17),
            .created_ms = db_col_i64(st, 18),
            .updated_ms = db_col_i64(st, 19),
            .warned_ms = db_col_i64(st, 20),
        };

        each(ctx, &src);
        n++;
    }
    db_reset(st);
    if (rc != DB_DONE)
        return store__errno(r->db, rc, "alert_source list");
    return id && !n ? -ENOENT : 0;
}

/* ---- a poll's outcome ---- */

struct polled_w {
    struct store_write w;
    int64_t id;
    bool ok, changed;
    char *error, *etag, *last_modified, *bulletin;
};

static int polled_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char ok[] =
        "UPDATE alert_sources SET last_ok_ms = ?2, etag = ?3, last_modified = ?4,"
        " last_bulletin = coalesce(?5, last_bulletin),"
        " last_change_ms = CASE WHEN ?6 <> 0 THEN ?2 ELSE last_change_ms END WHERE id = ?1";
    static const char bad[] = "UPDATE alert_sources SET last_error = ?7, last_error_ms = ?2"
                              " WHERE id = ?1";
    struct polled_w *p = container_of(w, struct polled_w, w);
    struct db_stmt *st = db_stmt(tx->db, p->ok ? ok : bad);
    int err;

    if (st) {
        db_bind_i64(st, 1, p->id);
        db_bind_i64(st, 2, tx->now_ms);
        if (p->ok) {
            db_bind_text(st, 3, p->etag);
            db_bind_text(st, 4, p->last_modified);
            db_bind_text(st, 5, p->bulletin);
            db_bind_i64(st, 6, p->changed ? 1 : 0);
        } else {
            db_bind_text(st, 7, p->error ? p->error : "error");
        }
    }
    err = store__step_done(tx->db, st, "alert_source poll");
    if (!err && db_changes(tx->db) == 0)
        err = -ENOENT;
    *id = p->id;
    return err;
}

static void polled_free(struct store_write *w)
{
    struct polled_w *p = container_of(w, struct polled_w, w);

    free(p->error);
    free(p->etag);
    free(p->last_modified);
    free(p->bulletin);
    free(p);
}

static const struct store_write_op polled_op = { "alert_source_poll", polled_apply, polled_free };

int store_source_polled(struct store *s, int64_t id, const struct store_source_poll *p,
                        store_done_fn *done, void *ctx)
{
    struct polled_w *w = xcalloc(1, sizeof(*w));

    w->w.op = &polled_op;
    w->id = id;
    w->ok = p->ok;
    w->changed = p->changed;
    if (p->error) {
        size_t n = strnlen(p->error, STORE_SOURCE_ERROR_MAX);

        while (n && n < strlen(p->error) && ((unsigned char)p->error[n] & 0xc0) == 0x80)
            n--; /* never cut a UTF-8 sequence */
        w->error = xcalloc(1, n + 1);
        memcpy(w->error, p->error, n);
    }
    w->etag = xstrdup_opt(p->etag);
    w->last_modified = xstrdup_opt(p->last_modified);
    w->bulletin = xstrdup_opt(p->bulletin);
    return store__submit(s, &w->w, done, ctx, NULL);
}

/* ---- the e-mail warning of an episode ---- */

struct warned_w {
    struct store_write w;
    int64_t id, warned_ms;
};

static int warned_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "UPDATE alert_sources SET warned_ms = nullif(?2, 0) WHERE id = ?1";
    struct warned_w *p = container_of(w, struct warned_w, w);
    struct db_stmt *st = db_stmt(tx->db, sql);
    int err;

    if (st) {
        db_bind_i64(st, 1, p->id);
        db_bind_i64(st, 2, p->warned_ms);
    }
    err = store__step_done(tx->db, st, "alert_source warned");
    if (!err && db_changes(tx->db) == 0)
        err = -ENOENT;
    *id = p->id;
    return err;
}

static void warned_free(struct store_write *w)
{
    free(container_of(w, struct warned_w, w));
}

static const struct store_write_op warned_op = { "alert_source_warned", warned_apply, warned_free };

int store_source_warned(struct store *s, int64_t id, int64_t warned_ms, store_done_fn *done,
                        void *ctx)
{
    struct warned_w *w;

    if (id <= 0 || warned_ms < 0)
        return -EINVAL;
    w = xcalloc(1, sizeof(*w));
    w->w.op = &warned_op;
    w->id = id;
    w->warned_ms = warned_ms;
    return store__submit(s, &w->w, done, ctx, NULL);
}

/* ---- templates ---- */

struct template_w {
    struct store_write w;
    int64_t actor_id, org_id;
    char *risk, *level, *language, *instruction; /* instruction NULL: delete */
};

static int template_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char put[] =
        "INSERT INTO alert_templates (org_id, risk, level, language, instruction, updated_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (org_id, risk, level, language)"
        " DO UPDATE SET instruction = excluded.instruction, updated_ms = excluded.updated_ms";
    static const char del[] = "DELETE FROM alert_templates WHERE org_id = ?1 AND risk = ?2"
                              " AND level = ?3 AND language = ?4";
    struct template_w *t = container_of(w, struct template_w, w);
    struct db_stmt *st = db_stmt(tx->db, t->instruction ? put : del);
    char target[128];
    int err;

    if (st) {
        db_bind_i64(st, 1, t->org_id);
        db_bind_text(st, 2, t->risk);
        db_bind_text(st, 3, t->level);
        db_bind_text(st, 4, t->language);
        if (t->instruction) {
            db_bind_text(st, 5, t->instruction);
            db_bind_i64(st, 6, tx->now_ms);
        }
    }
    err = store__step_done(tx->db, st, "alert_template");
    if (err)
        return err;
    *id = 0;
    snprintf(target, sizeof(target), "alert_template:%s/%s/%s", t->risk, t->level, t->language);
    return store__audit(tx, t->org_id, t->actor_id,
                        t->instruction ? "alert_template.put" : "alert_template.delete", target,
                        NULL);
}

static void template_free(struct store_write *w)
{
    struct template_w *t = container_of(w, struct template_w, w);

    free(t->risk);
    free(t->level);
    free(t->language);
    free(t->instruction);
    free(t);
}

static const struct store_write_op template_op = { "alert_template", template_apply,
                                                   template_free };

int store_template_put(struct store *s, int64_t actor_id, int64_t org_id, const char *risk,
                       const char *level, const char *language, const char *instruction,
                       store_done_fn *done, void *ctx)
{
    struct template_w *t;

    if (!risk || !*risk || !level || !language || strlen(language) < 2 ||
        strlen(language) > STORE_TEMPLATE_LANG_MAX || (instruction && !*instruction))
        return -EINVAL;
    t = xcalloc(1, sizeof(*t));
    t->w.op = &template_op;
    t->actor_id = actor_id;
    t->org_id = org_id;
    t->risk = xstrdup(risk);
    t->level = xstrdup(level);
    t->language = xstrdup(language);
    t->instruction = xstrdup_opt(instruction);
    return store__submit(s, &t->w, done, ctx, NULL);
}

int store_template_list(struct store_reader *r, int64_t org_id, store_template_fn *each, void *ctx)
{
    static const char sql[] = "SELECT risk, level, language, instruction FROM alert_templates"
                              " WHERE org_id = ?1 ORDER BY risk, level, language";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    while ((rc = db_step(st)) == DB_ROW)
        each(ctx, col_or_null(st, 0), col_or_null(st, 1), col_or_null(st, 2), col_or_null(st, 3));
    db_reset(st);
    return rc == DB_DONE ? 0 : store__errno(r->db, rc, "alert_template list");
}
