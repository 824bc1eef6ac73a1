/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Citizen reports forwarded to another body (store/reports.h "forwarding"; migration 016): the
 * org's forward targets and the record of each forward that body accepted. The targets' API
 * keys are the Comune's credentials for those bodies: read back only for the forwarder, never
 * written to the audit log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/reports.h"
#include "store/shared_int.h"
#include "store/store_int.h"

static const char *text_or_null(struct db_stmt *st, int col)
{
    return db_col_is_null(st, col) ? NULL : db_col_text(st, col);
}

static size_t chars(const char *s)
{
    size_t n = 0;

    for (; s && *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* ---- reads ---- */

#define TARGET_COLS                                                                           \
    "SELECT id, name, endpoint, jurisdiction_id, api_key, service_map, default_service_code," \
    " created_ms, kind, email FROM report_forward_targets"

static int targets_read(struct store_reader *r, struct db_stmt *st, store_forward_target_fn *each,
                        void *ctx, bool one)
{
    int rc;
    bool any = false;

    while ((rc = db_step(st)) == DB_ROW) {
        struct store_forward_target t = {
            .id = db_col_i64(st, 0),
            .name = db_col_text(st, 1),
            .endpoint = text_or_null(st, 2),
            .kind = db_col_text(st, 8),
            .email = text_or_null(st, 9),
            .jurisdiction_id = text_or_null(st, 3),
            .api_key = text_or_null(st, 4),
            .service_map_json = db_col_text(st, 5),
            .default_service_code = text_or_null(st, 6),
            .created_ms = db_col_i64(st, 7),
        };

        any = true;
        each(ctx, &t);
    }
    rc = rc == DB_DONE ? 0 : store__errno(r->db, rc, "forward targets");
    db_reset(st);
    return !rc && one && !any ? -ENOENT : rc;
}

int store_forward_targets_list(struct store_reader *r, int64_t org_id,
                               store_forward_target_fn *each, void *ctx)
{
    static const char sql[] = TARGET_COLS " WHERE org_id = ?1 ORDER BY name";
    struct db_stmt *st = db_stmt(r->db, sql);

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    return targets_read(r, st, each, ctx, false);
}

int store_forward_target_get(struct store_reader *r, int64_t org_id, int64_t id,
                             store_forward_target_fn *each, void *ctx)
{
    static const char sql[] = TARGET_COLS " WHERE org_id = ?1 AND id = ?2";
    struct db_stmt *st = db_stmt(r->db, sql);

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    db_bind_i64(st, 2, id);
    return targets_read(r, st, each, ctx, true);
}

int store_report_forwards(struct store_reader *r, int64_t id, store_report_forward_fn *each,
                          void *ctx)
{
    static const char sql[] = "SELECT target_name, remote_id, remote_token, created_ms"
                              " FROM report_forwards WHERE report_id = ?1 ORDER BY id";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, id);
    while ((rc = db_step(st)) == DB_ROW) {
        struct store_report_forward f = {
            .target_name = db_col_text(st, 0),
            .remote_id = text_or_null(st, 1),
            .remote_token = text_or_null(st, 2),
            .created_ms = db_col_i64(st, 3),
        };

        each(ctx, &f);
    }
    rc = rc == DB_DONE ? 0 : store__errno(r->db, rc, "report forwards");
    db_reset(st);
    return rc;
}

/* ---- writes ---- */

int store__report_forward_record(struct store_tx *tx, int64_t report_id, int64_t target_id,
                                 const char *name, const char *remote_id, const char *remote_token,
                                 int64_t user_id)
{
    static const char sql[] =
        "INSERT INTO report_forwards (report_id, target_id, target_name, remote_id,"
        " remote_token, user_id, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, nullif(?6, 0), ?7)";
    struct db_stmt *st = db_stmt(tx->db, sql);

    if (st) {
        db_bind_i64(st, 1, report_id);
        db_bind_i64(st, 2, target_id);
        db_bind_text(st, 3, name ? name : "");
        db_bind_text(st, 4, remote_id);
        db_bind_text(st, 5, remote_token);
        db_bind_i64(st, 6, user_id);
        db_bind_i64(st, 7, tx->now_ms);
    }
    return store__step_done(tx->db, st, "report_forward");
}

enum fw_kind { FW_ADD, FW_UPDATE, FW_DELETE };

struct fw {
    struct store_write w; /* first */
    enum fw_kind kind;
    int64_t actor_id, org_id, id;
    unsigned set; /* FW_UPDATE: STORE_FWD_F_* */
    char *s[8];   /* name, endpoint, jurisdiction_id, api_key, service_map, default code, kind,
                     email */
};

static void fw_free(struct store_write *w)
{
    struct fw *f = container_of(w, struct fw, w);

    if (f->s[3])
        explicit_bzero(f->s[3], strlen(f->s[3])); /* a credential */
    for (int i = 0; i < 8; i++)
        free(f->s[i]);
    free(f);
}

static int fw_add(struct fw *f, struct store_tx *tx, int64_t *id)
{
    static const char count[] = "SELECT count(*) FROM report_forward_targets WHERE org_id = ?1";
    static const char sql[] =
        "INSERT INTO report_forward_targets (org_id, name, endpoint, jurisdiction_id, api_key,"
        " service_map, default_service_code, kind, email, created_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id";
    struct db_stmt *st = db_stmt(tx->db, count);
    char target[40];
    int64_t n = 0;
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, f->org_id);
    if (db_step(st) == DB_ROW)
        n = db_col_i64(st, 0);
    db_reset(st);
    if (n >= STORE_FWD_MAX)
        return -EDQUOT;
    st = db_stmt(tx->db, sql);
    if (st) {
        db_bind_i64(st, 1, f->org_id);
        for (int i = 0; i < 8; i++)
            db_bind_text(st, i + 2, f->s[i]);
        db_bind_i64(st, 10, tx->now_ms);
    }
    rc = store__step_id(tx->db, st, "forward_target", id); /* unknown org: FK, -ENOENT */
    if (rc)
        return rc;
    snprintf(target, sizeof(target), "forward_target:%lld", (long long)*id);
    return store__audit(tx, f->org_id, f->actor_id, "forward_target.create", target, NULL);
}

static int fw_update(struct fw *f, struct store_tx *tx)
{
    static const char kind_sql[] =
        "SELECT kind = 'email' FROM report_forward_targets WHERE org_id = ?1 AND id = ?2";
    /* A field is changed when its bit is set (?9), else kept. */
    static const char sql[] =
        "UPDATE report_forward_targets SET"
        " name = CASE WHEN (?9 & 1) <> 0 THEN ?3 ELSE name END,"
        " endpoint = CASE WHEN (?9 & 2) <> 0 THEN ?4 ELSE endpoint END,"
        " jurisdiction_id = CASE WHEN (?9 & 4) <> 0 THEN ?5 ELSE jurisdiction_id END,"
        " api_key = CASE WHEN (?9 & 8) <> 0 THEN ?6 ELSE api_key END,"
        " service_map = CASE WHEN (?9 & 16) <> 0 THEN ?7 ELSE service_map END,"
        " default_service_code = CASE WHEN (?9 & 32) <> 0 THEN ?8 ELSE default_service_code END,"
        " email = CASE WHEN (?9 & 64) <> 0 THEN ?10 ELSE email END"
        " WHERE org_id = ?1 AND id = ?2";
    static const char *const names[] = { "name",    "endpoint",    "jurisdiction_id",
                                         "api_key", "service_map", "default_service_code",
                                         "email" };
    struct db_stmt *st = db_stmt(tx->db, kind_sql);
    char target[40], detail[192];
    bool email;
    size_t n;
    int rc;

    /* An e-mail target has a name and an address; every other field is an Open311 one. */
    if (!st)
        return -EIO;
    db_bind_i64(st, 1, f->org_id);
    db_bind_i64(st, 2, f->id);
    rc = db_step(st);
    email = rc == DB_ROW && db_col_i64(st, 0) != 0;
    db_reset(st);
    if (rc != DB_ROW)
        return rc == DB_DONE ? -ENOENT : store__errno(tx->db, rc, "forward_target_kind");
    if (email ? (f->set & ~(unsigned)(STORE_FWD_F_NAME | STORE_FWD_F_EMAIL)) != 0
              : (f->set & STORE_FWD_F_EMAIL) != 0)
        return -EPROTOTYPE;
    st = db_stmt(tx->db, sql);
    if (st) {
        db_bind_i64(st, 1, f->org_id);
        db_bind_i64(st, 2, f->id);
        for (int i = 0; i < 6; i++)
            db_bind_text(st, i + 3, f->s[i]);
        db_bind_i64(st, 9, f->set);
        db_bind_text(st, 10, f->s[7]);
    }
    rc = store__step_done(tx->db, st, "forward_target_update");
    if (rc)
        return rc;
    if (db_changes(tx->db) == 0)
        return -ENOENT;
    /* The names of the fields changed, never their values (the key is a credential). */
    n = (size_t)snprintf(detail, sizeof(detail), "{\"fields\":[");
    for (int i = 0; i < 7; i++) {
        if (f->set & (1U << i)) {
            n += (size_t)snprintf(detail + n, sizeof(detail) - n, "%s\"%s\"",
                                  detail[n - 1] == '[' ? "" : ",", names[i]);
        }
    }
    snprintf(detail + n, sizeof(detail) - n, "]}");
    snprintf(target, sizeof(target), "forward_target:%lld", (long long)f->id);
    return store__audit(tx, f->org_id, f->actor_id, "forward_target.update", target, detail);
}

static int fw_delete(struct fw *f, struct store_tx *tx)
{
    static const char sql[] = "DELETE FROM report_forward_targets WHERE org_id = ?1 AND id = ?2";
    struct db_stmt *st = db_stmt(tx->db, sql);
    char target[40];
    int rc;

    if (st) {
        db_bind_i64(st, 1, f->org_id);
        db_bind_i64(st, 2, f->id);
    }
    rc = store__step_done(tx->db, st, "forward_target_delete");
    if (rc)
        return rc;
    if (db_changes(tx->db) == 0)
        return -ENOENT;
    snprintf(target, sizeof(target), "forward_target:%lld", (long long)f->id);
    return store__audit(tx, f->org_id, f->actor_id, "forward_target.delete", target, NULL);
}

static int fw_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    struct fw *f = container_of(w, struct fw, w);

    if (f->kind == FW_ADD)
        return fw_add(f, tx, id);
    return f->kind == FW_UPDATE ? fw_update(f, tx) : fw_delete(f, tx);
}

static const struct store_write_op fw_op = { "forward_target", fw_apply, fw_free };

int store_forward_target_add(struct store *st, int64_t actor_id, int64_t org_id,
                             const struct store_forward_target *t, store_done_fn *done, void *ctx,
                             int64_t *id_out)
{
    bool email = t->kind && !strcmp(t->kind, "email");
    struct fw *f;

    if (t->kind && !email && strcmp(t->kind, "open311") != 0)
        return -EINVAL;
    if (email ? !t->email || t->endpoint || strlen(t->email) > STORE_FWD_EMAIL_MAX
              : t->email || !t->endpoint || strlen(t->endpoint) > STORE_FWD_URL_MAX ||
                    strncmp(t->endpoint, "https://", 8) != 0)
        return -EINVAL;
    if (!t->name || !*t->name || chars(t->name) > STORE_FWD_NAME_MAX ||
        chars(t->jurisdiction_id) > STORE_FWD_NAME_MAX || chars(t->api_key) > STORE_FWD_KEY_MAX ||
        (t->default_service_code && !store_service_code_valid(t->default_service_code)) ||
        (t->service_map_json && strlen(t->service_map_json) > STORE_SVC_ATTRS_MAX))
        return -EINVAL;
    f = xcalloc(1, sizeof(*f));
    f->w.op = &fw_op;
    f->kind = FW_ADD;
    f->actor_id = actor_id;
    f->org_id = org_id;
    f->s[0] = xstrdup(t->name);
    f->s[1] = xstrdup_opt(t->endpoint);
    f->s[2] = xstrdup_opt(t->jurisdiction_id);
    f->s[3] = xstrdup_opt(t->api_key);
    f->s[4] = xstrdup(t->service_map_json ? t->service_map_json : "{}");
    f->s[5] = xstrdup_opt(t->default_service_code);
    f->s[6] = xstrdup(email ? "email" : "open311");
    f->s[7] = xstrdup_opt(t->email);
    return store__submit(st, &f->w, done, ctx, id_out);
}

int store_forward_target_update(struct store *st, int64_t actor_id, int64_t org_id, int64_t id,
                                const struct store_forward_target *t, unsigned set,
                                store_done_fn *done, void *ctx)
{
    struct fw *f;

    if (set == 0 || set >= (1U << 7) ||
        ((set & STORE_FWD_F_NAME) &&
         (!t->name || !*t->name || chars(t->name) > STORE_FWD_NAME_MAX)) ||
        ((set & STORE_FWD_F_ENDPOINT) && (!t->endpoint || strlen(t->endpoint) > STORE_FWD_URL_MAX ||
                                          strncmp(t->endpoint, "https://", 8) != 0)) ||
        ((set & STORE_FWD_F_MAP) &&
         (!t->service_map_json || strlen(t->service_map_json) > STORE_SVC_ATTRS_MAX)) ||
        chars(t->jurisdiction_id) > STORE_FWD_NAME_MAX || chars(t->api_key) > STORE_FWD_KEY_MAX ||
        (t->default_service_code && !store_service_code_valid(t->default_service_code)) ||
        ((set & STORE_FWD_F_EMAIL) && (!t->email || strlen(t->email) > STORE_FWD_EMAIL_MAX)))
        return -EINVAL;
    f = xcalloc(1, sizeof(*f));
    f->w.op = &fw_op;
    f->kind = FW_UPDATE;
    f->actor_id = actor_id;
    f->org_id = org_id;
    f->id = id;
    f->set = set;
    f->s[0] = (set & STORE_FWD_F_NAME) ? xstrdup(t->name) : NULL;
    f->s[1] = (set & STORE_FWD_F_ENDPOINT) ? xstrdup(t->endpoint) : NULL;
    f->s[2] = (set & STORE_FWD_F_JURIS) && t->jurisdiction_id ? xstrdup(t->jurisdiction_id) : NULL;
    f->s[3] = (set & STORE_FWD_F_KEY) && t->api_key ? xstrdup(t->api_key) : NULL;
    f->s[4] = (set & STORE_FWD_F_MAP) ? xstrdup(t->service_map_json) : NULL;
    f->s[5] = (set & STORE_FWD_F_DEFAULT) && t->default_service_code
                  ? xstrdup(t->default_service_code)
                  : NULL;
    f->s[7] = (set & STORE_FWD_F_EMAIL) ? xstrdup(t->email) : NULL;
    return store__submit(st, &f->w, done, ctx, NULL);
}

int store_forward_target_delete(struct store *st, int64_t actor_id, int64_t org_id, int64_t id,
                                store_done_fn *done, void *ctx)
{
    struct fw *f = xcalloc(1, sizeof(*f));

    f->w.op = &fw_op;
    f->kind = FW_DELETE;
    f->actor_id = actor_id;
    f->org_id = org_id;
    f->id = id;
    return store__submit(st, &f->w, done, ctx, NULL);
}
