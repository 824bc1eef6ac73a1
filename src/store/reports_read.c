/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Citizen reports: the reads (store/reports.h). Contact data only in store_report_contact(). */
#include "store/reports.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "store/store_int.h"

static const char *text(struct db_stmt *st, int col)
{
    const char *t = db_col_text(st, col);

    return t ? (const char *)t : "";
}

static const char *text_or_null(struct db_stmt *st, int col)
{
    return db_col_is_null(st, col) ? NULL : db_col_text(st, col);
}

static int finish(struct store_reader *r, struct db_stmt *st, int rc, const char *what)
{
    rc = rc == DB_DONE ? 0 : store__errno(r->db, rc, what);
    db_reset(st);
    return rc;
}

/* ---- services ---- */

#define SVC_COLS                                                                             \
    "id, code, name, description, keywords, group_name, agency, attributes, first_answer_h," \
    " resolution_h, ord, active"

static void service_row(struct db_stmt *st, struct store_service *s)
{
    s->id = db_col_i64(st, 0);
    s->code = text(st, 1);
    s->name = text(st, 2);
    s->description = text(st, 3);
    s->keywords = text(st, 4);
    s->group = text(st, 5);
    s->agency = text(st, 6);
    s->attributes_json = text(st, 7);
    s->first_answer_h = db_col_int(st, 8);
    s->resolution_h = db_col_int(st, 9);
    s->ord = db_col_int(st, 10);
    s->active = db_col_int(st, 11) != 0;
}

int store_services_list(struct store_reader *r, int64_t org_id, bool all, store_service_fn *each,
                        void *ctx)
{
    static const char sql[] = "SELECT " SVC_COLS " FROM report_services WHERE org_id = ?1"
                              " AND (?2 <> 0 OR active = 1) ORDER BY ord, code";
    struct db_stmt *st = db_stmt(r->db, sql);
    struct store_service s;
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    db_bind_i64(st, 2, all);
    while ((rc = db_step(st)) == DB_ROW) {
        service_row(st, &s);
        each(ctx, &s);
    }
    return finish(r, st, rc, "services_list");
}

int store_service_get(struct store_reader *r, int64_t org_id, const char *code,
                      store_service_fn *each, void *ctx)
{
    static const char sql[] = "SELECT " SVC_COLS " FROM report_services WHERE org_id = ?1"
                              " AND code = ?2";
    struct db_stmt *st;
    struct store_service s;
    int rc;

    if (!store_service_code_valid(code))
        return -ENOENT;
    st = db_stmt(r->db, sql);
    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    db_bind_text(st, 2, code);
    rc = db_step(st);
    if (rc == DB_ROW) {
        service_row(st, &s);
        each(ctx, &s);
        db_reset(st);
        return 0;
    }
    rc = rc == DB_DONE ? -ENOENT : store__errno(r->db, rc, "service_get");
    db_reset(st);
    return rc;
}

/* ---- settings, keys ---- */

int store_report_settings_get(struct store_reader *r, int64_t org_id,
                              struct store_report_settings *out)
{
    static const char sql[] = "SELECT photos_moderated, retention_days, contact, key_service"
                              " FROM report_settings WHERE org_id = ?1";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc;

    memset(out, 0, sizeof(*out));
    out->photos_moderated = true;
    out->retention_days = 365;
    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    rc = db_step(st);
    if (rc == DB_ROW) {
        out->photos_moderated = db_col_int(st, 0) != 0;
        out->retention_days = db_col_int(st, 1);
        snprintf(out->contact, sizeof(out->contact), "%s", text(st, 2));
        snprintf(out->key_service, sizeof(out->key_service), "%s", text(st, 3));
    }
    return finish(r, st, rc == DB_ROW ? DB_DONE : rc, "report_settings");
}

int store_api_key_find(struct store_reader *r, const uint8_t hash[SECRET_HASH_LEN], int64_t *id,
                       int64_t *org_id, int *rate_per_minute)
{
    static const char sql[] = "SELECT id, org_id, rate_per_minute FROM report_api_keys"
                              " WHERE hash = ?1 AND revoked_ms IS NULL";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc;

    if (!st)
        return -EIO;
    db_bind_blob(st, 1, hash, SECRET_HASH_LEN);
    rc = db_step(st);
    if (rc == DB_ROW) {
        *id = db_col_i64(st, 0);
        *org_id = db_col_i64(st, 1);
        *rate_per_minute = db_col_int(st, 2);
        db_reset(st);
        return 0;
    }
    rc = rc == DB_DONE ? -ENOENT : store__errno(r->db, rc, "api_key_find");
    db_reset(st);
    return rc;
}

int store_api_keys_list(struct store_reader *r, int64_t org_id, store_api_key_fn *each, void *ctx)
{
    static const char sql[] = "SELECT id, org_id, name, rate_per_minute, created_ms"
                              " FROM report_api_keys WHERE org_id = ?1 AND revoked_ms IS NULL"
                              " ORDER BY id";
    struct db_stmt *st = db_stmt(r->db, sql);
    struct store_api_key k;
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    while ((rc = db_step(st)) == DB_ROW) {
        k.id = db_col_i64(st, 0);
        k.org_id = db_col_i64(st, 1);
        k.name = text(st, 2);
        k.rate_per_minute = db_col_int(st, 3);
        k.created_ms = db_col_i64(st, 4);
        each(ctx, &k);
    }
    return finish(r, st, rc, "api_keys_list");
}

/* ---- reports ---- */

#define REPORT_COLS                                                                           \
    "r.id, r.org_id, s.code, s.name, r.status, r.close_reason, r.description, r.text_hidden," \
    " r.lat, r.lon, r.address, r.address_id, r.attributes, r.media_url, r.media_id,"          \
    " r.photo_state, r.status_notes, r.agency, r.service_notice, r.forwarded_to,"             \
    " coalesce(r.duplicate_of, 0), r.created_ms, r.updated_ms, coalesce(r.expected_ms, 0),"   \
    " coalesce(r.first_answer_ms, 0), coalesce(r.resolved_ms, 0), coalesce(r.closed_ms, 0),"  \
    " r.reopened, (SELECT count(*) FROM report_followers f WHERE f.report_id = r.id)"

static void report_row(struct db_stmt *st, struct store_report *p)
{
    p->id = db_col_i64(st, 0);
    p->org_id = db_col_i64(st, 1);
    p->service_code = text(st, 2);
    p->service_name = text(st, 3);
    p->status = text(st, 4);
    p->close_reason = text_or_null(st, 5);
    p->description = text(st, 6);
    p->text_hidden = db_col_int(st, 7) != 0;
    p->has_pos = !db_col_is_null(st, 8);
    p->lat = db_col_double(st, 8);
    p->lon = db_col_double(st, 9);
    p->address = text_or_null(st, 10);
    p->address_id = text_or_null(st, 11);
    p->attributes_json = text(st, 12);
    p->media_url = text_or_null(st, 13);
    p->media_id = text_or_null(st, 14);
    p->photo_state = text(st, 15);
    p->status_notes = text(st, 16);
    p->agency = text(st, 17);
    p->service_notice = text(st, 18);
    p->forwarded_to = text_or_null(st, 19);
    p->duplicate_of = db_col_i64(st, 20);
    p->created_ms = db_col_i64(st, 21);
    p->updated_ms = db_col_i64(st, 22);
    p->expected_ms = db_col_i64(st, 23);
    p->first_answer_ms = db_col_i64(st, 24);
    p->resolved_ms = db_col_i64(st, 25);
    p->closed_ms = db_col_i64(st, 26);
    p->reopened = db_col_int(st, 27);
    p->followers = db_col_int(st, 28);
}

/* The SQL of a list query: only the filters `q` uses; every value is a bound parameter. */
static int list_sql(const struct store_report_query *q, struct buf *sql)
{
    int rc = buf_puts(sql, "SELECT " REPORT_COLS " FROM reports r JOIN report_services s"
                           " ON s.id = r.service_id WHERE r.org_id = ?1");

    if (!rc && q->nids) {
        rc = buf_puts(sql, " AND r.id IN (");
        for (size_t k = 0; k < q->nids && !rc; k++)
            rc = buf_printf(sql, "%s?%zu", k ? ", " : "", 20 + k);
        rc = rc ? rc : buf_puts(sql, ")");
    }
    if (!rc && q->service_code)
        rc = buf_puts(sql, " AND s.code = ?2");
    if (!rc && q->ncodes) {
        rc = buf_puts(sql, " AND s.code IN (");
        for (size_t k = 0; k < q->ncodes && !rc; k++)
            rc = buf_printf(sql, "%s?%zu", k ? ", " : "", 130 + k);
        rc = rc ? rc : buf_puts(sql, ")");
    }
    if (!rc && q->status) {
        if (!strcmp(q->status, "open")) {
            rc = buf_puts(sql, " AND r.status IN ('nuova', 'presa_in_carico', 'in_lavorazione')");
        } else if (!strcmp(q->status, "closed")) {
            rc = buf_puts(sql, " AND r.status IN ('risolta', 'chiusa')");
        } else {
            rc = buf_puts(sql, " AND r.status = ?3");
        }
    }
    if (!rc && q->agency)
        rc = buf_puts(sql, " AND r.agency = ?4");
    if (!rc && q->from_ms)
        rc = buf_puts(sql, " AND r.created_ms >= ?5");
    if (!rc && q->to_ms)
        rc = buf_puts(sql, " AND r.created_ms < ?6");
    if (!rc && q->has_box)
        rc = buf_puts(sql, " AND r.lat BETWEEN ?7 AND ?8 AND r.lon BETWEEN ?9 AND ?10");
    if (!rc) {
        rc = buf_printf(sql, " ORDER BY r.created_ms %s, r.id %s LIMIT ?11 OFFSET ?12",
                        q->oldest_first ? "ASC" : "DESC", q->oldest_first ? "ASC" : "DESC");
    }
    return rc;
}

static void list_bind(struct db_stmt *st, const struct store_report_query *q)
{
    db_bind_i64(st, 1, q->org_id);
    for (size_t k = 0; k < q->nids; k++)
        db_bind_i64(st, (int)(20 + k), q->ids[k]);
    if (q->service_code)
        db_bind_text(st, 2, q->service_code);
    for (size_t k = 0; k < q->ncodes; k++)
        db_bind_text(st, (int)(130 + k), q->codes[k]);
    if (q->status)
        db_bind_text(st, 3, q->status);
    if (q->agency)
        db_bind_text(st, 4, q->agency);
    db_bind_i64(st, 5, q->from_ms);
    db_bind_i64(st, 6, q->to_ms);
    db_bind_double(st, 7, q->min_lat);
    db_bind_double(st, 8, q->max_lat);
    db_bind_double(st, 9, q->min_lon);
    db_bind_double(st, 10, q->max_lon);
    db_bind_i64(st, 11, q->limit);
    db_bind_i64(st, 12, q->offset);
}

int store_reports_list(struct store_reader *r, const struct store_report_query *q,
                       store_report_fn *each, void *ctx)
{
    /*
     * The query is built per call (its filters vary), so it is prepared here rather than
     * cached; every value is bound, never pasted.
     */
    struct buf sql;
    struct db_stmt *st = NULL;
    struct store_report p;
    int rc;

    if (q->nids > 100 || q->ncodes > 50)
        return -EINVAL;
    buf_init(&sql, 8192);
    if (list_sql(q, &sql)) {
        buf_release(&sql);
        return -EINVAL;
    }
    st = db_prepare(r->db, sql.data, sql.len);
    buf_release(&sql);
    if (!st)
        return -EIO; /* logged */
    list_bind(st, q);
    while ((rc = db_step(st)) == DB_ROW) {
        report_row(st, &p);
        each(ctx, &p);
    }
    rc = rc == DB_DONE ? 0 : store__errno(r->db, rc, "reports_list");
    db_finalize(st);
    return rc;
}

int store_report_get(struct store_reader *r, int64_t org_id, int64_t id, store_report_fn *each,
                     void *ctx)
{
    static const char sql[] = "SELECT " REPORT_COLS " FROM reports r JOIN report_services s"
                              " ON s.id = r.service_id WHERE r.org_id = ?1 AND r.id = ?2";
    struct db_stmt *st = db_stmt(r->db, sql);
    struct store_report p;
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    db_bind_i64(st, 2, id);
    rc = db_step(st);
    if (rc == DB_ROW) {
        report_row(st, &p);
        each(ctx, &p);
        db_reset(st);
        return 0;
    }
    rc = rc == DB_DONE ? -ENOENT : store__errno(r->db, rc, "report_get");
    db_reset(st);
    return rc;
}

int store_report_duplicates(struct store_reader *r, int64_t id, int64_t *out, size_t max, size_t *n)
{
    static const char sql[] = "SELECT id FROM reports WHERE duplicate_of = ?1 ORDER BY id";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc;

    *n = 0;
    if (!st)
        return -EIO;
    db_bind_i64(st, 1, id);
    while ((rc = db_step(st)) == DB_ROW && *n < max)
        out[(*n)++] = db_col_i64(st, 0);
    return finish(r, st, rc == DB_ROW ? DB_DONE : rc, "report_duplicates");
}

int store_report_by_token(struct store_reader *r, const uint8_t hash[SECRET_HASH_LEN], int64_t *id,
                          int64_t *org_id)
{
    static const char sql[] = "SELECT id, org_id FROM reports WHERE token_hash = ?1";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc;

    if (!st)
        return -EIO;
    db_bind_blob(st, 1, hash, SECRET_HASH_LEN);
    rc = db_step(st);
    if (rc == DB_ROW) {
        *id = db_col_i64(st, 0);
        *org_id = db_col_i64(st, 1);
        db_reset(st);
        return 0;
    }
    rc = rc == DB_DONE ? -ENOENT : store__errno(r->db, rc, "report_by_token");
    db_reset(st);
    return rc;
}

/* Metres between two points (haversine on a 6,371 km sphere: a few metres off at 100 m). */
static double distance_m(double lat1, double lon1, double lat2, double lon2)
{
    const double rad = M_PI / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);

    return 6371000.0 * 2 * atan2(sqrt(a), sqrt(1 - a));
}

struct near {
    struct store_report rep;
    double d;
};

int store_reports_nearby(struct store_reader *r, int64_t org_id, const char *code, double lat,
                         double lon, double radius_m, unsigned limit, store_report_fn *each,
                         void *ctx)
{
    /* A bounding box first (indexable, cheap), then the exact distance. */
    static const char sql[] = "SELECT " REPORT_COLS " FROM reports r JOIN report_services s"
                              " ON s.id = r.service_id WHERE r.org_id = ?1 AND s.code = ?2"
                              " AND r.status IN ('nuova', 'presa_in_carico', 'in_lavorazione')"
                              " AND r.lat BETWEEN ?3 AND ?4 AND r.lon BETWEEN ?5 AND ?6"
                              " ORDER BY r.id LIMIT 500";
    double dlat = radius_m / 111320.0;
    double dlon = radius_m / (111320.0 * fmax(cos(lat * M_PI / 180.0), 0.01));
    struct db_stmt *st = db_stmt(r->db, sql);
    struct store_report p;
    unsigned found = 0;
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    db_bind_text(st, 2, code);
    db_bind_double(st, 3, lat - dlat);
    db_bind_double(st, 4, lat + dlat);
    db_bind_double(st, 5, lon - dlon);
    db_bind_double(st, 6, lon + dlon);
    while (found < limit && (rc = db_step(st)) == DB_ROW) {
        report_row(st, &p);
        if (distance_m(lat, lon, p.lat, p.lon) <= radius_m) {
            each(ctx, &p);
            found++;
        }
    }
    if (found >= limit)
        rc = DB_DONE;
    return finish(r, st, rc, "reports_nearby");
}

int store_report_contact(struct store_reader *r, int64_t id, struct store_report_contact *out)
{
    static const char sql[] = "SELECT email, phone, first_name, last_name, device_id, account_id"
                              " FROM report_contacts WHERE report_id = ?1";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc;

    memset(out, 0, sizeof(*out));
    if (!st)
        return -EIO;
    db_bind_i64(st, 1, id);
    rc = db_step(st);
    if (rc == DB_ROW) {
        out->any = true;
        snprintf(out->email, sizeof(out->email), "%s", text(st, 0));
        snprintf(out->phone, sizeof(out->phone), "%s", text(st, 1));
        snprintf(out->first_name, sizeof(out->first_name), "%s", text(st, 2));
        snprintf(out->last_name, sizeof(out->last_name), "%s", text(st, 3));
        snprintf(out->device_id, sizeof(out->device_id), "%s", text(st, 4));
        snprintf(out->account_id, sizeof(out->account_id), "%s", text(st, 5));
        rc = DB_DONE;
    }
    return finish(r, st, rc, "report_contact");
}

int store_report_notes(struct store_reader *r, int64_t id, bool public_only,
                       store_report_note_fn *each, void *ctx)
{
    static const char sql[] = "SELECT n.id, coalesce(n.user_id, 0), coalesce(u.email, ''),"
                              " n.public, n.status, n.text, n.created_ms FROM report_notes n"
                              " LEFT JOIN users u ON u.id = n.user_id"
                              " WHERE n.report_id = ?1 AND (?2 = 0 OR n.public = 1)"
                              " ORDER BY n.id LIMIT 1000";
    struct db_stmt *st = db_stmt(r->db, sql);
    struct store_report_note n;
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, id);
    db_bind_i64(st, 2, public_only);
    while ((rc = db_step(st)) == DB_ROW) {
        n.id = db_col_i64(st, 0);
        n.user_id = db_col_i64(st, 1);
        n.author_email = text(st, 2);
        n.public = db_col_int(st, 3) != 0;
        n.status = text_or_null(st, 4);
        n.text = text(st, 5);
        n.created_ms = db_col_i64(st, 6);
        each(ctx, &n);
    }
    return finish(r, st, rc, "report_notes");
}

/* ---- statistics ---- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static int64_t median_s(int64_t *v, size_t n)
{
    if (!n)
        return -1;
    qsort(v, n, sizeof(*v), cmp_i64);
    return (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) / 1000;
}

int store_report_stats(struct store_reader *r, int64_t org_id, int64_t since_ms,
                       store_report_stat_fn *each, void *ctx)
{
    static const char svc_sql[] = "SELECT id, code, name FROM report_services"
                                  " WHERE org_id = ?1 AND active = 1 ORDER BY ord, code";
    static const char sql[] = "SELECT first_answer_ms - created_ms, resolved_ms - created_ms"
                              " FROM reports WHERE service_id = ?1 AND created_ms >= ?2"
                              " AND duplicate_of IS NULL LIMIT 100000";
    struct db_stmt *svc = db_stmt(r->db, svc_sql);
    struct db_stmt *st = NULL;
    int64_t *fa = NULL, *res = NULL;
    size_t cap = 0;
    int rc, rc2;

    if (!svc)
        return -EIO;
    db_bind_i64(svc, 1, org_id);
    while ((rc = db_step(svc)) == DB_ROW) {
        struct store_report_stat s = { 0 };
        size_t nfa = 0, nres = 0;

        s.service_code = text(svc, 1);
        s.service_name = text(svc, 2);
        st = db_stmt(r->db, sql);
        if (!st) {
            rc = -EIO;
            break;
        }
        db_bind_i64(st, 1, db_col_i64(svc, 0));
        db_bind_i64(st, 2, since_ms);
        while ((rc2 = db_step(st)) == DB_ROW) {
            if ((size_t)s.received == cap) {
                cap = cap ? cap * 2 : 64;
                fa = xrealloc(fa, cap * sizeof(*fa));
                res = xrealloc(res, cap * sizeof(*res));
            }
            s.received++;
            if (!db_col_is_null(st, 0))
                fa[nfa++] = db_col_i64(st, 0);
            if (!db_col_is_null(st, 1))
                res[nres++] = db_col_i64(st, 1);
        }
        db_reset(st);
        if (rc2 != DB_DONE) {
            rc = rc2;
            break;
        }
        s.answered = (int64_t)nfa;
        s.resolved = (int64_t)nres;
        s.median_first_answer_s = median_s(fa, nfa);
        s.median_resolution_s = median_s(res, nres);
        each(ctx, &s);
    }
    free(fa);
    free(res);
    return finish(r, svc, rc, "report_stats");
}
