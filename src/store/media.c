/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Media rows and the list of their files (see store/media.h and migrations/005_media.sql). */
#include "store/media.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/store_int.h"

struct media_write {
    struct store_write w;
    struct store_media m;
};

static int media_add_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char ins[] =
        "INSERT INTO media (public_id, org_id, user_id, kind, mime, width, height, bytes,"
        " created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id";
    static const char file[] = "INSERT INTO media_files (media_id, variant, sha256, mime, bytes)"
                               " VALUES (?1, ?2, ?3, ?4, ?5)";
    struct media_write *v = container_of(w, struct media_write, w);
    struct db_stmt *st = db_stmt(tx->db, ins);
    int64_t row;
    int err;

    if (st) {
        db_bind_text(st, 1, v->m.public_id);
        if (v->m.org_id)
            db_bind_i64(st, 2, v->m.org_id);
        db_bind_i64(st, 3, v->m.user_id);
        db_bind_text(st, 4, v->m.kind);
        db_bind_text(st, 5, v->m.mime);
        db_bind_i64(st, 6, v->m.width);
        db_bind_i64(st, 7, v->m.height);
        db_bind_i64(st, 8, v->m.bytes);
        db_bind_i64(st, 9, tx->now_ms);
    }
    err = store__step_id(tx->db, st, "media_add", &row);
    if (err)
        return err;
    for (unsigned i = 0; i < v->m.nfiles && !err; i++) {
        const struct store_media_file *f = &v->m.files[i];

        st = db_stmt(tx->db, file);
        if (st) {
            db_bind_i64(st, 1, row);
            db_bind_text(st, 2, f->variant);
            db_bind_text(st, 3, f->sha256);
            db_bind_text(st, 4, f->mime);
            db_bind_i64(st, 5, f->bytes);
        }
        err = store__step_done(tx->db, st, "media_add");
    }
    *id = row;
    return err;
}

static void media_write_free(struct store_write *w)
{
    free(container_of(w, struct media_write, w));
}

static const struct store_write_op media_add_op = { "media_add", media_add_apply,
                                                    media_write_free };

static bool kind_valid(const char *k)
{
    return !strcmp(k, "image") || !strcmp(k, "voice") || !strcmp(k, "document");
}

int store_media_add(struct store *s, const struct store_media *m, store_done_fn *done, void *ctx,
                    int64_t *id_out)
{
    struct media_write *v;

    if (!m || strlen(m->public_id) < 16 || !kind_valid(m->kind) ||
        m->nfiles > STORE_MEDIA_FILES_MAX || !*m->mime)
        return -EINVAL;
    for (unsigned i = 0; i < m->nfiles; i++) {
        if (strlen(m->files[i].sha256) != 64 || !*m->files[i].variant)
            return -EINVAL;
    }
    v = xcalloc(1, sizeof(*v));
    v->w.op = &media_add_op;
    v->m = *m;
    return store__submit(s, &v->w, done, ctx, id_out);
}

static void copy_text(char *dst, size_t dstlen, struct db_stmt *st, int col)
{
    const char *t = db_col_text(st, col);

    snprintf(dst, dstlen, "%s", t ? (const char *)t : "");
}

static int media_files(struct store_reader *r, struct store_media *m)
{
    static const char sql[] = "SELECT variant, sha256, mime, bytes FROM media_files"
                              " WHERE media_id = ?1 ORDER BY variant";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc;
    int err = 0;

    m->nfiles = 0;
    if (!st)
        return -EIO;
    db_bind_i64(st, 1, m->id);
    while ((rc = db_step(st)) == DB_ROW) {
        struct store_media_file *f = &m->files[m->nfiles];

        if (m->nfiles == STORE_MEDIA_FILES_MAX)
            break;
        copy_text(f->variant, sizeof(f->variant), st, 0);
        copy_text(f->sha256, sizeof(f->sha256), st, 1);
        copy_text(f->mime, sizeof(f->mime), st, 2);
        f->bytes = db_col_i64(st, 3);
        m->nfiles++;
    }
    if (rc != DB_ROW && rc != DB_DONE)
        err = store__errno(r->db, rc, "media_get");
    db_reset(st);
    return err;
}

int store_media_get(struct store_reader *r, const char *public_id, struct store_media *out)
{
    static const char sql[] = "SELECT id, public_id, org_id, user_id, kind, mime, width, height,"
                              " bytes, created_ms FROM media WHERE public_id = ?1";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc;
    int err = -EIO;

    memset(out, 0, sizeof(*out));
    if (!st)
        goto out;
    if (!public_id || !*public_id || strlen(public_id) > STORE_MEDIA_ID_MAX) {
        err = -ENOENT;
        goto out;
    }
    db_bind_text(st, 1, public_id);
    rc = db_step(st);
    if (rc == DB_DONE) {
        err = -ENOENT;
        goto out;
    }
    if (rc != DB_ROW) {
        err = store__errno(r->db, rc, "media_get");
        goto out;
    }
    out->id = db_col_i64(st, 0);
    copy_text(out->public_id, sizeof(out->public_id), st, 1);
    out->org_id = db_col_i64(st, 2);
    out->user_id = db_col_i64(st, 3);
    copy_text(out->kind, sizeof(out->kind), st, 4);
    copy_text(out->mime, sizeof(out->mime), st, 5);
    out->width = db_col_int(st, 6);
    out->height = db_col_int(st, 7);
    out->bytes = db_col_i64(st, 8);
    out->created_ms = db_col_i64(st, 9);
    db_reset(st);
    st = NULL;
    err = media_files(r, out);
out:
    db_reset(st);
    return err;
}

int store_media_file_used(struct store_reader *r, const char *sha256, bool *used)
{
    static const char sql[] = "SELECT 1 FROM media_files WHERE sha256 = ?1 LIMIT 1";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc;
    int err = 0;

    *used = true; /* on any doubt the file stays */
    if (!st)
        return -EIO;
    db_bind_text(st, 1, sha256);
    rc = db_step(st);
    if (rc == DB_DONE) {
        *used = false;
    } else if (rc != DB_ROW) {
        err = store__errno(r->db, rc, "media_file_used");
    }
    db_reset(st);
    return err;
}
