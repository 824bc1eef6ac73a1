/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The per-org audit log: who (staff, by id) did what to which target, appended by write ops in
 * their own transaction (so a change and its entry commit together) and read newest first.
 * Entries name staff, never followers; nothing secret goes into `detail`.
 */
#include "store/orgs.h"

#include <errno.h>
#include <string.h>

#include "store/shared_int.h"
#include "store/store_int.h"

#define AUDIT_ACTION_MAX 64
#define AUDIT_TARGET_MAX 300

int store__audit(struct store_tx *tx, int64_t org_id, int64_t user_id, const char *action,
                 const char *target, const char *detail_json)
{
    static const char sql[] = "INSERT INTO audit_log (org_id, user_id, action, target, detail,"
                              " created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    struct db_stmt *st;
    size_t n = action ? strlen(action) : 0;

    if (org_id <= 0 || n < 1 || n > AUDIT_ACTION_MAX ||
        (target && strlen(target) > AUDIT_TARGET_MAX))
        return -EINVAL;
    st = db_stmt(tx->db, sql);
    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    if (user_id > 0) {
        db_bind_i64(st, 2, user_id);
    } else {
        db_bind_null(st, 2);
    }
    db_bind_text(st, 3, action);
    db_bind_text(st, 4, target ? target : "");
    if (detail_json) {
        db_bind_text(st, 5, detail_json);
    } else {
        db_bind_null(st, 5);
    }
    db_bind_i64(st, 6, tx->now_ms);
    /* An unknown org or user is a FOREIGN KEY violation: -ENOENT. */
    return store__step_done(tx->db, st, "audit");
}

int store_audit_list(struct store_reader *r, int64_t org_id, int64_t before_id, unsigned limit,
                     store_audit_fn *each, void *ctx)
{
    static const struct store_audit_filter none = { 0 };

    return store_audit_find(r, org_id, before_id, limit, &none, each, ctx);
}

int store_audit_find(struct store_reader *r, int64_t org_id, int64_t before_id, unsigned limit,
                     const struct store_audit_filter *f, store_audit_fn *each, void *ctx)
{
    static const char sql[] = "SELECT a.id, a.created_ms, coalesce(a.user_id, 0),"
                              " coalesce(u.email, ''), a.action, a.target, a.detail"
                              " FROM audit_log a LEFT JOIN users u ON u.id = a.user_id"
                              " WHERE a.org_id = ?1 AND (?2 = 0 OR a.id < ?2)"
                              " AND (?4 IS NULL OR a.action = ?4)"
                              " AND (?5 = 0 OR a.user_id = ?5)"
                              " AND (?6 = 0 OR a.created_ms >= ?6)"
                              " AND (?7 = 0 OR a.created_ms < ?7)"
                              " ORDER BY a.id DESC LIMIT ?3";
    struct db_stmt *st = db_stmt(r->db, sql);
    struct store_audit_entry e;
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    db_bind_i64(st, 2, before_id > 0 ? before_id : 0);
    db_bind_i64(st, 3, limit);
    if (f->action)
        db_bind_text(st, 4, f->action);
    db_bind_i64(st, 5, f->user_id);
    db_bind_i64(st, 6, f->from_ms);
    db_bind_i64(st, 7, f->to_ms);
    while ((rc = db_step(st)) == DB_ROW) {
        e.id = db_col_i64(st, 0);
        e.created_ms = db_col_i64(st, 1);
        e.user_id = db_col_i64(st, 2);
        e.actor_email = db_col_text(st, 3);
        e.action = db_col_text(st, 4);
        e.target = db_col_text(st, 5);
        e.detail_json = db_col_text(st, 6); /* NULL stays NULL */
        each(ctx, &e);
    }
    rc = rc == DB_DONE ? 0 : store__errno(r->db, rc, "audit_list");
    db_reset(st);
    return rc;
}
