/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Citizen reports: the write operations (store/reports.h). One write struct serves every
 * report operation: a kind, a few numbers, and owned copies of the strings, so that each
 * operation is only its validation and its apply function.
 */
#include "store/reports.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/shared_int.h"
#include "store/store_int.h"

#define RW_STRINGS 16

enum rw_kind {
    RW_SERVICE_PUT,
    RW_SERVICE_DELETE,
    RW_SETTINGS_PUT,
    RW_KEY_ADD,
    RW_KEY_REVOKE,
    RW_REPORT_ADD,
    RW_REPORT_UPDATE,
    RW_REOPEN,
    RW_FOLLOW,
    RW_EXPORT,
    RW_ERASE,
};

struct rw {
    struct store_write w; /* first: the queue knows only this part */
    enum rw_kind kind;
    int64_t actor_id, org_id, id;
    int64_t n[4];
    double lat, lon;
    bool has_pos;
    bool flag;
    unsigned set;
    uint8_t hash[SECRET_HASH_LEN];
    bool has_hash;
    uint8_t hash2[SECRET_HASH_LEN];
    bool has_hash2;
    char *s[RW_STRINGS]; /* owned; meaning per kind */
};

static void rw_free(struct store_write *w)
{
    struct rw *c = container_of(w, struct rw, w);

    for (int i = 0; i < RW_STRINGS; i++) {
        if (c->s[i] && (c->kind == RW_REPORT_ADD && i >= 8))
            explicit_bzero(c->s[i], strlen(c->s[i])); /* personal data */
        free(c->s[i]);
    }
    explicit_bzero(c->hash, sizeof(c->hash));
    explicit_bzero(c->hash2, sizeof(c->hash2));
    free(c);
}

/* Characters of UTF-8 `s`. */
static size_t chars(const char *s)
{
    size_t n = 0;

    for (; s && *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static bool within(const char *s, size_t max)
{
    return !s || chars(s) <= max;
}

bool store_service_code_valid(const char *code)
{
    size_t n = code ? strlen(code) : 0;

    return n >= 1 && n <= STORE_SVC_CODE_MAX &&
           strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

static int one_changed(struct store_tx *tx, const char *what)
{
    (void)what;
    return db_changes(tx->db) == 1 ? 0 : -ENOENT;
}

/* ---- catalogue ---- */

static int service_put(struct rw *c, struct store_tx *tx, int64_t *id)
{
    static const char sql[] =
        "INSERT INTO report_services (org_id, code, name, description, keywords, group_name,"
        " attributes, first_answer_h, resolution_h, agency, ord, active)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
        " ON CONFLICT (org_id, code) DO UPDATE SET name = excluded.name,"
        " description = excluded.description, keywords = excluded.keywords,"
        " group_name = excluded.group_name, attributes = excluded.attributes,"
        " first_answer_h = excluded.first_answer_h, resolution_h = excluded.resolution_h,"
        " agency = excluded.agency, ord = excluded.ord, active = excluded.active"
        " RETURNING id";
    struct db_stmt *st = db_stmt(tx->db, sql);
    char target[96];
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, c->org_id);
    for (int i = 0; i < 6; i++)
        db_bind_text(st, 2 + i, c->s[i]);
    db_bind_i64(st, 8, c->n[0]);
    db_bind_i64(st, 9, c->n[1]);
    db_bind_text(st, 10, c->s[6]);
    db_bind_i64(st, 11, c->n[2]);
    db_bind_i64(st, 12, c->flag);
    rc = db_step(st);
    if (rc == DB_ROW) {
        *id = db_col_i64(st, 0);
        rc = 0;
    } else {
        rc = store__errno(tx->db, rc, "service_put");
    }
    db_reset(st);
    if (rc)
        return rc;
    snprintf(target, sizeof(target), "service:%s", c->s[0]);
    return store__audit(tx, c->org_id, c->actor_id, "service.put", target, NULL);
}

static int service_delete(struct rw *c, struct store_tx *tx)
{
    static const char sql[] = "UPDATE report_services SET active = 0"
                              " WHERE org_id = ?1 AND code = ?2 AND active = 1";
    struct db_stmt *st = db_stmt(tx->db, sql);
    char target[96];
    int err;

    if (st) {
        db_bind_i64(st, 1, c->org_id);
        db_bind_text(st, 2, c->s[0]);
    }
    err = store__step_done(tx->db, st, "service_delete");
    if (!err)
        err = one_changed(tx, "service_delete");
    if (err)
        return err;
    snprintf(target, sizeof(target), "service:%s", c->s[0]);
    return store__audit(tx, c->org_id, c->actor_id, "service.delete", target, NULL);
}

/* ---- settings and keys ---- */

static int settings_put(struct rw *c, struct store_tx *tx)
{
    static const char sql[] =
        "INSERT INTO report_settings (org_id, photos_moderated, retention_days, contact,"
        " key_service) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (org_id) DO UPDATE SET"
        " photos_moderated = excluded.photos_moderated, retention_days ="
        " excluded.retention_days, contact = excluded.contact, key_service ="
        " excluded.key_service";
    struct db_stmt *st = db_stmt(tx->db, sql);
    int err;

    if (st) {
        db_bind_i64(st, 1, c->org_id);
        db_bind_i64(st, 2, c->flag);
        db_bind_i64(st, 3, c->n[0]);
        db_bind_text(st, 4, c->s[0]);
        db_bind_text(st, 5, c->s[1]);
    }
    err = store__step_done(tx->db, st, "report_settings");
    return err ? err
               : store__audit(tx, c->org_id, c->actor_id, "reports.settings", "reports", NULL);
}

static int key_add(struct rw *c, struct store_tx *tx, int64_t *id)
{
    static const char sql[] =
        "INSERT INTO report_api_keys (org_id, hash, name, rate_per_minute,"
        " created_by, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id";
    struct db_stmt *st = db_stmt(tx->db, sql);
    char target[48];
    int err;

    if (st) {
        db_bind_i64(st, 1, c->org_id);
        db_bind_blob(st, 2, c->hash, SECRET_HASH_LEN);
        db_bind_text(st, 3, c->s[0]);
        db_bind_i64(st, 4, c->n[0]);
        if (c->actor_id > 0) {
            db_bind_i64(st, 5, c->actor_id);
        } else {
            db_bind_null(st, 5);
        }
        db_bind_i64(st, 6, tx->now_ms);
    }
    err = store__step_id(tx->db, st, "api_key_add", id);
    if (err)
        return err;
    snprintf(target, sizeof(target), "api_key:%lld", (long long)*id);
    return store__audit(tx, c->org_id, c->actor_id, "api_key.create", target, NULL);
}

static int key_revoke(struct rw *c, struct store_tx *tx)
{
    static const char sql[] = "UPDATE report_api_keys SET revoked_ms = ?3"
                              " WHERE id = ?1 AND org_id = ?2 AND revoked_ms IS NULL";
    struct db_stmt *st = db_stmt(tx->db, sql);
    char target[48];
    int err;

    if (st) {
        db_bind_i64(st, 1, c->id);
        db_bind_i64(st, 2, c->org_id);
        db_bind_i64(st, 3, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "api_key_revoke");
    if (!err)
        err = one_changed(tx, "api_key_revoke");
    if (err)
        return err;
    snprintf(target, sizeof(target), "api_key:%lld", (long long)c->id);
    return store__audit(tx, c->org_id, c->actor_id, "api_key.revoke", target, NULL);
}

/* ---- reports ---- */

/* The service a new report names: its id, resolution target, office, photo moderation. */
struct svc_row {
    int64_t id, resolution_h;
    bool moderated;
    char agency[STORE_REPORT_AGENCY_MAX * 4 + 1];
};

static int service_row(struct rw *c, struct store_tx *tx, struct svc_row *out)
{
    static const char sql[] =
        "SELECT s.id, s.resolution_h, s.agency, coalesce(t.photos_moderated, 1)"
        " FROM report_services s LEFT JOIN report_settings t ON t.org_id = s.org_id"
        " WHERE s.org_id = ?1 AND s.code = ?2 AND s.active = 1";
    struct db_stmt *st = db_stmt(tx->db, sql);
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, c->org_id);
    db_bind_text(st, 2, c->s[0]);
    rc = db_step(st);
    if (rc == DB_ROW) {
        out->id = db_col_i64(st, 0);
        out->resolution_h = db_col_i64(st, 1);
        snprintf(out->agency, sizeof(out->agency), "%s", db_col_text(st, 2));
        out->moderated = db_col_int(st, 3) != 0;
        rc = 0;
    } else {
        rc = rc == DB_DONE ? -ENOENT : store__errno(tx->db, rc, "report_service");
    }
    db_reset(st);
    return rc;
}

/* The reporter's contact data (s[8..13]), when any was given, in its own table. */
static int contact_add(struct rw *c, struct store_tx *tx, int64_t id)
{
    static const char sql[] =
        "INSERT INTO report_contacts (report_id, email, phone, first_name, last_name,"
        " device_id, account_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
    bool any = false;
    struct db_stmt *st;

    for (int i = 8; i < 14; i++)
        any = any || c->s[i];
    if (!any)
        return 0;
    st = db_stmt(tx->db, sql);
    if (st) {
        db_bind_i64(st, 1, id);
        for (int i = 8; i < 14; i++)
            db_bind_text(st, i - 6, c->s[i]);
    }
    return store__step_done(tx->db, st, "report_contact");
}

/* The posting follower (hash2) follows its report. */
static int reporter_follows(struct rw *c, struct store_tx *tx, int64_t id)
{
    static const char sql[] = "INSERT INTO report_followers (report_id, follower_id) VALUES (?1, "
                              "?2) ON CONFLICT DO NOTHING";
    struct db_stmt *st;
    int64_t fid;

    if (!c->has_hash2 || store__follower_id(tx, c->hash2, &fid) != 0)
        return 0;
    st = db_stmt(tx->db, sql);
    if (st) {
        db_bind_i64(st, 1, id);
        db_bind_i64(st, 2, fid);
    }
    return store__step_done(tx->db, st, "report_follow");
}

/* s[]: 0 code, 1 description, 2 address, 3 address_id, 4 attributes, 5 media_url, 6 media_id,
 * 8.. email, phone, first_name, last_name, device_id, account_id */
static int report_add(struct rw *c, struct store_tx *tx, int64_t *id)
{
    static const char sql[] =
        "INSERT INTO reports (org_id, service_id, description, lat, lon, address, address_id,"
        " attributes, media_url, media_id, photo_state, agency, token_hash, api_key_id,"
        " created_ms, updated_ms, expected_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16) "
        "RETURNING id";
    struct svc_row svc = { 0 };
    struct db_stmt *st;
    int rc = service_row(c, tx, &svc);

    if (rc)
        return rc;
    st = db_stmt(tx->db, sql);
    if (!st)
        return -EIO;
    db_bind_i64(st, 1, c->org_id);
    db_bind_i64(st, 2, svc.id);
    db_bind_text(st, 3, c->s[1] ? c->s[1] : "");
    if (c->has_pos) {
        db_bind_double(st, 4, c->lat);
        db_bind_double(st, 5, c->lon);
    }
    db_bind_text(st, 6, c->s[2]);
    db_bind_text(st, 7, c->s[3]);
    db_bind_text(st, 8, c->s[4] ? c->s[4] : "{}");
    db_bind_text(st, 9, c->s[5]);
    db_bind_text(st, 10, c->s[6]);
    db_bind_text(st, 11, !c->s[5] && !c->s[6] ? "none" : svc.moderated ? "pending" : "approved");
    db_bind_text(st, 12, svc.agency);
    db_bind_blob(st, 13, c->hash, SECRET_HASH_LEN);
    if (c->n[0] > 0)
        db_bind_i64(st, 14, c->n[0]);
    db_bind_i64(st, 15, tx->now_ms);
    db_bind_i64(st, 16, tx->now_ms + svc.resolution_h * 3600 * 1000);
    rc = store__step_id(tx->db, st, "report_add", id);
    if (rc)
        return rc;
    rc = contact_add(c, tx, *id);
    return rc ? rc : reporter_follows(c, tx, *id);
}

static int note_add(struct store_tx *tx, int64_t report_id, int64_t user_id, bool pub,
                    const char *status, const char *text)
{
    static const char sql[] = "INSERT INTO report_notes (report_id, user_id, public, status, text,"
                              " created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    struct db_stmt *st = db_stmt(tx->db, sql);

    if (st) {
        db_bind_i64(st, 1, report_id);
        if (user_id > 0)
            db_bind_i64(st, 2, user_id);
        db_bind_i64(st, 3, pub);
        db_bind_text(st, 4, status);
        db_bind_text(st, 5, text ? text : "");
        db_bind_i64(st, 6, tx->now_ms);
    }
    return store__step_done(tx->db, st, "report_note");
}

static int rank(const char *status)
{
    static const char *const order[] = { "nuova", "presa_in_carico", "in_lavorazione", "risolta",
                                         "chiusa" };

    for (int i = 0; i < 5; i++) {
        if (status && !strcmp(order[i], status))
            return i;
    }
    return -1;
}

static bool transition_ok(const char *from, const char *to)
{
    int a = rank(from), b = rank(to);

    if (a < 0 || b < 0 || a == 4)
        return false;
    if (a == 3) /* risolta: back to work, or closed */
        return b == 2 || b == 4;
    return b > a;
}

/* The status of report c->id of org c->org_id into `from`; -ENOENT if none. */
static int current_status(struct rw *c, struct store_tx *tx, char *from, size_t fromlen)
{
    static const char sql[] = "SELECT status FROM reports WHERE id = ?1 AND org_id = ?2";
    struct db_stmt *st = db_stmt(tx->db, sql);
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, c->id);
    db_bind_i64(st, 2, c->org_id);
    rc = db_step(st);
    if (rc == DB_ROW)
        snprintf(from, fromlen, "%s", db_col_text(st, 0));
    rc = rc == DB_ROW ? 0 : rc == DB_DONE ? -ENOENT : store__errno(tx->db, rc, "report");
    db_reset(st);
    return rc;
}

/* The merge target n[1]: another report of the same org; -ENOENT otherwise. */
static int merge_target(struct rw *c, struct store_tx *tx)
{
    static const char sql[] = "SELECT 1 FROM reports WHERE id = ?1 AND org_id = ?2"
                              " AND id <> ?3";
    struct db_stmt *st = db_stmt(tx->db, sql);
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, c->n[1]);
    db_bind_i64(st, 2, c->org_id);
    db_bind_i64(st, 3, c->id);
    rc = db_step(st);
    db_reset(st);
    if (rc == DB_ROW)
        return 0;
    return rc == DB_DONE ? -ENOENT : store__errno(tx->db, rc, "merge target");
}

/* The UPDATE itself: `status` (NULL: unchanged) and every field c->set names. */
static int update_row(struct rw *c, struct store_tx *tx, const char *status, const char *reason)
{
    static const char sql[] =
        "UPDATE reports SET updated_ms = ?2,"
        " status = coalesce(?3, status),"
        " close_reason = CASE WHEN ?3 IS NULL THEN close_reason WHEN ?3 = 'chiusa' THEN ?4"
        "   ELSE NULL END,"
        " status_notes = CASE WHEN ?5 IS NOT NULL THEN ?5 ELSE status_notes END,"
        " agency = coalesce(?6, agency), service_notice = coalesce(?7, service_notice),"
        " expected_ms = CASE WHEN ?8 <> 0 THEN ?9 ELSE expected_ms END,"
        " photo_state = CASE WHEN ?10 IS NOT NULL AND photo_state <> 'none' THEN ?10"
        "   ELSE photo_state END,"
        " text_hidden = CASE WHEN ?11 >= 0 THEN ?11 ELSE text_hidden END,"
        " duplicate_of = CASE WHEN ?12 > 0 THEN ?12 ELSE duplicate_of END,"
        " forwarded_to = coalesce(?13, forwarded_to),"
        " first_answer_ms = CASE WHEN first_answer_ms IS NULL AND (?3 IS NOT NULL OR ?5 IS NOT"
        "   NULL) THEN ?2 ELSE first_answer_ms END,"
        " resolved_ms = CASE WHEN ?3 = 'risolta' THEN ?2 WHEN ?3 IN ('nuova', 'presa_in_carico',"
        "   'in_lavorazione') THEN NULL ELSE resolved_ms END,"
        " closed_ms = CASE WHEN ?3 IN ('risolta', 'chiusa') THEN ?2 WHEN ?3 IS NOT NULL THEN"
        "   NULL ELSE closed_ms END"
        " WHERE id = ?1";
    struct db_stmt *st = db_stmt(tx->db, sql);

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, c->id);
    db_bind_i64(st, 2, tx->now_ms);
    db_bind_text(st, 3, status);
    db_bind_text(st, 4, status && !strcmp(status, "chiusa") ? reason : NULL);
    db_bind_text(st, 5, (c->set & STORE_RS_NOTE) && c->flag ? c->s[2] : NULL);
    db_bind_text(st, 6, c->set & STORE_RS_AGENCY ? c->s[3] : NULL);
    db_bind_text(st, 7, c->set & STORE_RS_NOTICE ? c->s[4] : NULL);
    db_bind_i64(st, 8, (c->set & STORE_RS_EXPECTED) != 0);
    if (c->n[0] > 0)
        db_bind_i64(st, 9, c->n[0]);
    db_bind_text(st, 10, c->set & STORE_RS_PHOTO ? c->s[5] : NULL);
    db_bind_i64(st, 11, c->set & STORE_RS_TEXT ? c->n[2] : -1);
    db_bind_i64(st, 12, c->set & STORE_RS_MERGE ? c->n[1] : 0);
    db_bind_text(st, 13, c->set & STORE_RS_FORWARD ? c->s[6] : NULL);
    return store__step_done(tx->db, st, "report_update");
}

/* A merged duplicate's followers (its reporter too) follow the original n[1]. */
static int move_followers(struct rw *c, struct store_tx *tx)
{
    static const char sql[] =
        "INSERT INTO report_followers (report_id, follower_id)"
        " SELECT ?2, follower_id FROM report_followers WHERE report_id = ?1 ON CONFLICT DO NOTHING";
    struct db_stmt *st = db_stmt(tx->db, sql);

    if (st) {
        db_bind_i64(st, 1, c->id);
        db_bind_i64(st, 2, c->n[1]);
    }
    return store__step_done(tx->db, st, "report_merge");
}

/* s[]: 0 status, 1 close_reason, 2 note, 3 agency, 4 notice, 5 photo_state, 6 forwarded_to */
static int report_update(struct rw *c, struct store_tx *tx)
{
    const char *status = c->s[0];
    const char *reason = c->s[1];
    char from[32] = "";
    char target[48];
    int rc = current_status(c, tx, from, sizeof(from));

    if (!rc && (c->set & STORE_RS_MERGE)) {
        rc = merge_target(c, tx);
        status = "chiusa";
        reason = "duplicato";
    }
    if (rc)
        return rc;
    if ((c->set & STORE_RS_FORWARD) && !status) {
        status = "chiusa";
        reason = "inoltrata";
    }
    if (status && strcmp(status, from) != 0 && !transition_ok(from, status))
        return -EPERM;
    if (status && !strcmp(status, from))
        status = NULL; /* the same status again: only the note */
    if (!strcmp(from, "chiusa") && (c->set & (STORE_RS_MERGE | STORE_RS_FORWARD)))
        return -EPERM;
    rc = update_row(c, tx, status, reason);
    if (!rc && (status || (c->set & STORE_RS_NOTE))) {
        rc = note_add(tx, c->id, c->actor_id, (c->set & STORE_RS_NOTE) ? c->flag : true, status,
                      (c->set & STORE_RS_NOTE) ? c->s[2] : "");
    }
    /* The followers hear of a new status or public note (before a merge moves them on). */
    if (!rc && (status || ((c->set & STORE_RS_NOTE) && c->flag)))
        rc = store__push_report(tx, c->id);
    if (!rc && (c->set & STORE_RS_MERGE))
        rc = move_followers(c, tx);
    if (!rc && (c->set & STORE_RS_FORWARD) && c->n[3] > 0) {
        rc = store__report_forward_record(tx, c->id, c->n[3], c->s[6], c->s[7], c->s[8],
                                          c->actor_id);
    }
    if (rc)
        return rc;
    store__access(tx, c->org_id, STORE_NOTICE_REPORT, c->id); /* its live streams, every node */
    snprintf(target, sizeof(target), "report:%lld", (long long)c->id);
    return store__audit(tx, c->org_id, c->actor_id, "report.update", target, NULL);
}

static int reopen(struct rw *c, struct store_tx *tx, int64_t *id)
{
    static const char get_sql[] = "SELECT id, status, coalesce(resolved_ms, 0), org_id"
                                  " FROM reports WHERE token_hash = ?1";
    static const char sql[] = "UPDATE reports SET status = 'nuova', close_reason = NULL,"
                              " resolved_ms = NULL, closed_ms = NULL, reopened = reopened + 1,"
                              " status_notes = ?2, updated_ms = ?3 WHERE id = ?1";
    struct db_stmt *st = db_stmt(tx->db, get_sql);
    int64_t org_id = 0;
    bool ok = false;
    int rc;

    if (!st)
        return -EIO;
    db_bind_blob(st, 1, c->hash, SECRET_HASH_LEN);
    rc = db_step(st);
    if (rc == DB_ROW) {
        *id = db_col_i64(st, 0);
        org_id = db_col_i64(st, 3);
        ok = !strcmp(db_col_text(st, 1), "risolta") &&
             tx->now_ms - db_col_i64(st, 2) <= STORE_REPORT_REOPEN_MS;
    }
    rc = rc == DB_ROW ? 0 : rc == DB_DONE ? -ENOENT : store__errno(tx->db, rc, "reopen");
    db_reset(st);
    if (rc)
        return rc;
    if (!ok)
        return -EPERM;
    st = db_stmt(tx->db, sql);
    if (st) {
        db_bind_i64(st, 1, *id);
        db_bind_text(st, 2, c->s[0]);
        db_bind_i64(st, 3, tx->now_ms);
    }
    rc = store__step_done(tx->db, st, "reopen");
    if (!rc)
        rc = note_add(tx, *id, 0, true, "nuova", c->s[0]);
    if (!rc)
        store__access(tx, org_id, STORE_NOTICE_REPORT, *id);
    return rc;
}

static int follow(struct rw *c, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "INSERT INTO report_followers (report_id, follower_id) VALUES (?1, "
                              "?2) ON CONFLICT DO NOTHING";
    struct db_stmt *st;
    int64_t fid;
    int rc = store__follower_id(tx, c->hash, &fid);

    if (rc)
        return rc;
    st = db_stmt(tx->db, sql);
    if (st) {
        db_bind_i64(st, 1, c->id);
        db_bind_i64(st, 2, fid);
    }
    *id = c->id;
    return store__step_done(tx->db, st, "report_follow"); /* unknown report: FK, -ENOENT */
}

/* Retention: the contact data of reports closed longer ago than their org keeps it. */
static int erase(struct rw *c, struct store_tx *tx, int64_t *id)
{
    static const char sql[] =
        "DELETE FROM report_contacts WHERE report_id IN (SELECT r.id FROM reports r"
        " JOIN report_settings s ON s.org_id = r.org_id WHERE r.closed_ms IS NOT NULL"
        " AND r.closed_ms < ?1 - s.retention_days * 86400000 LIMIT ?2)";
    struct db_stmt *st = db_stmt(tx->db, sql);
    int err;

    if (st) {
        db_bind_i64(st, 1, c->n[0]);
        db_bind_i64(st, 2, c->n[1]);
    }
    err = store__step_done(tx->db, st, "report_erase");
    if (!err)
        *id = db_changes(tx->db);
    return err;
}

static int rw_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    struct rw *c = container_of(w, struct rw, w);

    switch (c->kind) {
    case RW_SERVICE_PUT:
        return service_put(c, tx, id);
    case RW_SERVICE_DELETE:
        return service_delete(c, tx);
    case RW_SETTINGS_PUT:
        return settings_put(c, tx);
    case RW_KEY_ADD:
        return key_add(c, tx, id);
    case RW_KEY_REVOKE:
        return key_revoke(c, tx);
    case RW_REPORT_ADD:
        return report_add(c, tx, id);
    case RW_REPORT_UPDATE:
        *id = c->id;
        return report_update(c, tx);
    case RW_REOPEN:
        return reopen(c, tx, id);
    case RW_FOLLOW:
        return follow(c, tx, id);
    case RW_EXPORT:
        return store__audit(tx, c->org_id, c->actor_id, "report.export", "reports", c->s[0]);
    case RW_ERASE:
        return erase(c, tx, id);
    }
    return -EINVAL;
}

static const struct store_write_op rw_op = { "report", rw_apply, rw_free };

static struct rw *rw_new(enum rw_kind kind, int64_t actor_id, int64_t org_id)
{
    struct rw *c = xcalloc(1, sizeof(*c));

    c->w.op = &rw_op;
    c->kind = kind;
    c->actor_id = actor_id;
    c->org_id = org_id;
    return c;
}

int store_service_put(struct store *st, int64_t actor_id, int64_t org_id,
                      const struct store_service *s, store_done_fn *done, void *ctx,
                      int64_t *id_out)
{
    struct rw *c;

    if (!s || !store_service_code_valid(s->code) || !s->name || !*s->name ||
        !within(s->name, STORE_SVC_NAME_MAX) || !within(s->description, STORE_SVC_DESC_MAX) ||
        !within(s->keywords, STORE_SVC_KEYWORDS_MAX) || !within(s->group, STORE_SVC_NAME_MAX) ||
        !within(s->agency, STORE_REPORT_AGENCY_MAX) ||
        (s->attributes_json && strlen(s->attributes_json) > STORE_SVC_ATTRS_MAX) ||
        s->first_answer_h < 1 || s->first_answer_h > 8760 || s->resolution_h < 1 ||
        s->resolution_h > 8760)
        return -EINVAL;
    c = rw_new(RW_SERVICE_PUT, actor_id, org_id);
    c->s[0] = xstrdup(s->code);
    c->s[1] = xstrdup(s->name);
    c->s[2] = xstrdup(s->description ? s->description : "");
    c->s[3] = xstrdup(s->keywords ? s->keywords : "");
    c->s[4] = xstrdup(s->group ? s->group : "");
    c->s[5] = xstrdup(s->attributes_json ? s->attributes_json : "[]");
    c->s[6] = xstrdup(s->agency ? s->agency : "");
    c->n[0] = s->first_answer_h;
    c->n[1] = s->resolution_h;
    c->n[2] = s->ord;
    c->flag = s->active;
    return store__submit(st, &c->w, done, ctx, id_out);
}

int store_service_delete(struct store *st, int64_t actor_id, int64_t org_id, const char *code,
                         store_done_fn *done, void *ctx)
{
    struct rw *c;

    if (!store_service_code_valid(code))
        return -ENOENT;
    c = rw_new(RW_SERVICE_DELETE, actor_id, org_id);
    c->s[0] = xstrdup(code);
    return store__submit(st, &c->w, done, ctx, NULL);
}

int store_report_settings_put(struct store *st, int64_t actor_id, int64_t org_id,
                              const struct store_report_settings *set, store_done_fn *done,
                              void *ctx)
{
    struct rw *c;

    if (set->retention_days < 1 || set->retention_days > 3650 || chars(set->contact) > 500 ||
        chars(set->key_service) > 500)
        return -EINVAL;
    c = rw_new(RW_SETTINGS_PUT, actor_id, org_id);
    c->flag = set->photos_moderated;
    c->n[0] = set->retention_days;
    c->s[0] = *set->contact ? xstrdup(set->contact) : NULL;
    c->s[1] = *set->key_service ? xstrdup(set->key_service) : NULL;
    return store__submit(st, &c->w, done, ctx, NULL);
}

int store_api_key_add(struct store *st, int64_t actor_id, int64_t org_id,
                      const uint8_t hash[SECRET_HASH_LEN], const char *name, int rate_per_minute,
                      store_done_fn *done, void *ctx, int64_t *id_out)
{
    struct rw *c;

    if (rate_per_minute < 1 || rate_per_minute > 100000 || !within(name, 100))
        return -EINVAL;
    c = rw_new(RW_KEY_ADD, actor_id, org_id);
    memcpy(c->hash, hash, SECRET_HASH_LEN);
    c->s[0] = xstrdup(name ? name : "");
    c->n[0] = rate_per_minute;
    return store__submit(st, &c->w, done, ctx, id_out);
}

int store_api_key_revoke(struct store *st, int64_t actor_id, int64_t org_id, int64_t key_id,
                         store_done_fn *done, void *ctx)
{
    struct rw *c = rw_new(RW_KEY_REVOKE, actor_id, org_id);

    c->id = key_id;
    return store__submit(st, &c->w, done, ctx, NULL);
}

int store_report_add(struct store *st, const struct store_report_new *n, store_done_fn *done,
                     void *ctx, int64_t *id_out)
{
    const char *personal[6] = { n->email,     n->phone,     n->first_name,
                                n->last_name, n->device_id, n->account_id };
    static const size_t personal_max[6] = { 254, 40, 100, 100, 200, 200 };
    struct rw *c;

    if (!store_service_code_valid(n->service_code))
        return -ENOENT;
    if (!within(n->description, STORE_REPORT_DESC_MAX) ||
        !within(n->address, STORE_REPORT_ADDR_MAX) || !within(n->address_id, 100) ||
        (n->media_url && strlen(n->media_url) > 2000) ||
        (n->has_pos && (n->lat < -90 || n->lat > 90 || n->lon < -180 || n->lon > 180)))
        return -EINVAL;
    for (int i = 0; i < 6; i++) {
        if (!within(personal[i], personal_max[i]))
            return -EINVAL;
    }
    c = rw_new(RW_REPORT_ADD, 0, n->org_id);
    c->s[0] = xstrdup(n->service_code);
    c->s[1] = xstrdup_opt(n->description);
    c->s[2] = xstrdup_opt(n->address);
    c->s[3] = xstrdup_opt(n->address_id);
    c->s[4] = xstrdup_opt(n->attributes_json);
    c->s[5] = xstrdup_opt(n->media_url);
    c->s[6] = xstrdup_opt(n->media_id);
    for (int i = 0; i < 6; i++)
        c->s[8 + i] = personal[i] && *personal[i] ? xstrdup(personal[i]) : NULL;
    c->has_pos = n->has_pos;
    c->lat = n->lat;
    c->lon = n->lon;
    memcpy(c->hash, n->token_hash, SECRET_HASH_LEN);
    c->n[0] = n->api_key_id;
    if (n->follower_hash) {
        memcpy(c->hash2, n->follower_hash, SECRET_HASH_LEN);
        c->has_hash2 = true;
    }
    return store__submit(st, &c->w, done, ctx, id_out);
}

static bool status_valid(const char *s)
{
    return rank(s) >= 0;
}

int store_report_update(struct store *st, int64_t actor_id, int64_t org_id, int64_t id,
                        const struct store_report_change *ch, store_done_fn *done, void *ctx)
{
    static const char *const reasons[] = { "non_di_competenza", "duplicato", "non_riproducibile",
                                           "inoltrata", NULL };
    bool reason_ok = !ch->close_reason;
    struct rw *c;

    for (int i = 0; reasons[i] && !reason_ok; i++)
        reason_ok = !strcmp(reasons[i], ch->close_reason);
    if (!ch->set || ((ch->set & STORE_RS_STATUS) && !status_valid(ch->status)) || !reason_ok ||
        ((ch->set & STORE_RS_NOTE) && (!ch->note || !within(ch->note, STORE_REPORT_NOTE_MAX))) ||
        ((ch->set & STORE_RS_AGENCY) && !within(ch->agency, STORE_REPORT_AGENCY_MAX)) ||
        ((ch->set & STORE_RS_NOTICE) && !within(ch->service_notice, STORE_REPORT_NOTICE_MAX)) ||
        ((ch->set & STORE_RS_PHOTO) &&
         (!ch->photo_state ||
          (strcmp(ch->photo_state, "approved") != 0 && strcmp(ch->photo_state, "hidden") != 0))) ||
        ((ch->set & STORE_RS_FORWARD) &&
         (!ch->forwarded_to || !*ch->forwarded_to || !within(ch->forwarded_to, 200))) ||
        !within(ch->forward_remote_id, 200) || !within(ch->forward_remote_token, 200))
        return -EINVAL;
    c = rw_new(RW_REPORT_UPDATE, actor_id, org_id);
    c->id = id;
    c->set = ch->set;
    c->s[0] = ch->set & STORE_RS_STATUS ? xstrdup(ch->status) : NULL;
    c->s[1] = xstrdup_opt(ch->close_reason);
    c->s[2] = ch->set & STORE_RS_NOTE ? xstrdup(ch->note) : NULL;
    c->s[3] = ch->set & STORE_RS_AGENCY ? xstrdup(ch->agency ? ch->agency : "") : NULL;
    c->s[4] =
        ch->set & STORE_RS_NOTICE ? xstrdup(ch->service_notice ? ch->service_notice : "") : NULL;
    c->s[5] = ch->set & STORE_RS_PHOTO ? xstrdup(ch->photo_state) : NULL;
    c->s[6] = ch->set & STORE_RS_FORWARD ? xstrdup(ch->forwarded_to) : NULL;
    c->s[7] = xstrdup_opt(ch->forward_remote_id);
    c->s[8] = xstrdup_opt(ch->forward_remote_token);
    c->n[3] = ch->set & STORE_RS_FORWARD ? ch->forward_target_id : 0;
    c->flag = ch->note_public;
    c->n[0] = ch->expected_ms;
    c->n[1] = ch->merge_into;
    c->n[2] = ch->text_hidden;
    return store__submit(st, &c->w, done, ctx, NULL);
}

int store_report_reopen(struct store *st, const uint8_t hash[SECRET_HASH_LEN], const char *note,
                        store_done_fn *done, void *ctx)
{
    struct rw *c;

    if (!note || !*note || !within(note, STORE_REPORT_NOTE_MAX))
        return -EINVAL;
    c = rw_new(RW_REOPEN, 0, 0);
    memcpy(c->hash, hash, SECRET_HASH_LEN);
    c->s[0] = xstrdup(note);
    return store__submit(st, &c->w, done, ctx, NULL);
}

int store_report_follow(struct store *st, const uint8_t hash[SECRET_HASH_LEN], int64_t id,
                        store_done_fn *done, void *ctx)
{
    struct rw *c = rw_new(RW_FOLLOW, 0, 0);

    memcpy(c->hash, hash, SECRET_HASH_LEN);
    c->id = id;
    return store__submit(st, &c->w, done, ctx, NULL);
}

int store_report_export_audit(struct store *st, int64_t actor_id, int64_t org_id,
                              const char *detail_json, store_done_fn *done, void *ctx)
{
    struct rw *c = rw_new(RW_EXPORT, actor_id, org_id);

    c->s[0] = xstrdup_opt(detail_json);
    return store__submit(st, &c->w, done, ctx, NULL);
}

int store_reports_erase_personal(struct store *st, int64_t now_ms, unsigned limit, int64_t *erased)
{
    struct rw *c = rw_new(RW_ERASE, 0, 0);

    c->n[0] = now_ms;
    c->n[1] = limit;
    return store__submit(st, &c->w, NULL, NULL, erased);
}
