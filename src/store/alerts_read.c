/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Civil-protection alerts: the reads (zones, risks, settings, alerts) and the alert's JSON, the
 * one shape the API answers with and the "alert" event carries.
 */
#include "store/alerts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "store/alerts_int.h"
#include "store/store_int.h"

static const char *col_text(struct db_stmt *st, int i)
{
    const char *s = db_col_text(st, i);

    return s ? (const char *)s : "";
}

/* Step `st` (bound) to the end, calling `row(st, ctx)` per row. -ENOENT if `need` and none. */
static int each_row(struct db *db, struct db_stmt *st, bool need,
                    void (*row)(struct db_stmt *, void *), void *ctx, const char *what)
{
    unsigned n = 0;
    int rc;

    while ((rc = db_step(st)) == DB_ROW) {
        row(st, ctx);
        n++;
    }
    db_reset(st);
    if (rc != DB_DONE)
        return store__errno(db, rc, what);
    return need && !n ? -ENOENT : 0;
}

/* ---- zones ---- */

struct zone_cb {
    store_zone_fn *each;
    void *ctx;
};

static void zone_row(struct db_stmt *st, void *ctx)
{
    struct zone_cb *cb = ctx;
    struct store_zone z = {
        .id = db_col_i64(st, 0),
        .code = col_text(st, 1),
        .name = col_text(st, 2),
        .geocodes_json = col_text(st, 3),
        .polygon = db_col_is_null(st, 4) ? NULL : col_text(st, 4),
    };

    cb->each(cb->ctx, &z);
}

int store_zone_list(struct store_reader *r, int64_t org_id, const char *code, store_zone_fn *each,
                    void *ctx)
{
    static const char sql[] = "SELECT id, code, name, geocodes, polygon FROM alert_zones"
                              " WHERE org_id = ?1 AND (?2 IS NULL OR code = ?2) ORDER BY code";
    struct db_stmt *st = db_stmt(r->db, sql);
    struct zone_cb cb = { each, ctx };

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    if (code) {
        db_bind_text(st, 2, code);
    } else {
        db_bind_null(st, 2);
    }
    return each_row(r->db, st, code != NULL, zone_row, &cb, "zone_list");
}

/* ---- risks ---- */

struct risk_cb {
    store_risk_fn *each;
    void *ctx;
};

static void risk_row(struct db_stmt *st, void *ctx)
{
    struct risk_cb *cb = ctx;

    cb->each(cb->ctx, col_text(st, 0), col_text(st, 1), col_text(st, 2));
}

int store_risk_list(struct store_reader *r, int64_t org_id, store_risk_fn *each, void *ctx)
{
    static const char sql[] = "SELECT code, name, category FROM alert_risks WHERE org_id = ?1"
                              " ORDER BY code";
    struct db_stmt *st = db_stmt(r->db, sql);
    struct risk_cb cb = { each, ctx };

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    return each_row(r->db, st, false, risk_row, &cb, "risk_list");
}

/* ---- settings ---- */

struct pub_cb {
    store_publisher_fn *each;
    void *ctx;
};

static void pub_row(struct db_stmt *st, void *ctx)
{
    struct pub_cb *cb = ctx;

    cb->each(cb->ctx, db_col_i64(st, 0));
}

int store_alert_settings_get(struct store_reader *r, int64_t org_id, store_alert_settings_fn *got,
                             store_publisher_fn *each, void *ctx)
{
    static const char sql[] = "SELECT two_person_rule, import_rules FROM alert_settings"
                              " WHERE org_id = ?1";
    static const char pubs[] = "SELECT p.user_id FROM alert_publishers p JOIN users u"
                               " ON u.id = p.user_id WHERE p.org_id = ?1"
                               " AND u.disabled_ms IS NULL ORDER BY p.user_id";
    struct db_stmt *st = db_stmt(r->db, sql);
    struct store_alert_settings set = { false, "{}" };
    struct pub_cb cb = { each, ctx };
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    rc = db_step(st);
    if (rc == DB_ROW) {
        set.two_person_rule = db_col_int(st, 0) != 0;
        set.import_rules = col_text(st, 1);
    }
    if (rc == DB_ROW || rc == DB_DONE)
        got(ctx, &set);
    db_reset(st);
    if (rc != DB_ROW && rc != DB_DONE)
        return store__errno(r->db, rc, "alert_settings");
    if (!each)
        return 0;
    st = db_stmt(r->db, pubs);
    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    return each_row(r->db, st, false, pub_row, &cb, "alert_publishers");
}

int store_alert_publisher(struct store_reader *r, int64_t org_id, int64_t user_id, bool *yes)
{
    static const char sql[] = "SELECT 1 FROM alert_publishers WHERE org_id = ?1 AND user_id = ?2";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    db_bind_i64(st, 2, user_id);
    rc = db_step(st);
    *yes = rc == DB_ROW;
    db_reset(st);
    return rc == DB_ROW || rc == DB_DONE ? 0 : store__errno(r->db, rc, "alert_publisher");
}

/* ---- alerts ---- */

#define ALERT_COLS                                                                           \
    "a.id, a.org_id, o.slug, a.identifier, a.sender, a.sent_ms, a.onset_ms, a.expires_ms,"   \
    " a.created_ms, coalesce(a.published_ms, 0), a.status, a.msg_type, a.risk, a.level,"     \
    " a.phase, a.state, a.doc, a.refs, coalesce(a.replaced_by, 0), a.imported FROM alerts a" \
    " JOIN orgs o ON o.id = a.org_id"

struct alert_cb {
    store_alert_fn *each;
    void *ctx;
};

static void alert_row(struct db_stmt *st, void *ctx)
{
    struct alert_cb *cb = ctx;
    struct store_alert a = {
        .id = db_col_i64(st, 0),
        .org_id = db_col_i64(st, 1),
        .org = col_text(st, 2),
        .identifier = col_text(st, 3),
        .sender = col_text(st, 4),
        .sent_ms = db_col_i64(st, 5),
        .onset_ms = db_col_i64(st, 6),
        .expires_ms = db_col_i64(st, 7),
        .created_ms = db_col_i64(st, 8),
        .published_ms = db_col_i64(st, 9),
        .status = col_text(st, 10),
        .msg_type = col_text(st, 11),
        .risk = col_text(st, 12),
        .level = col_text(st, 13),
        .phase = col_text(st, 14),
        .state = col_text(st, 15),
        .doc_json = col_text(st, 16),
        .refs_json = col_text(st, 17),
        .replaced_by = db_col_i64(st, 18),
        .imported = db_col_int(st, 19) != 0,
    };

    cb->each(cb->ctx, &a);
}

static int alert_by_id(struct db *db, int64_t id, store_alert_fn *each, void *ctx)
{
    static const char sql[] = "SELECT " ALERT_COLS " WHERE a.id = ?1";
    struct db_stmt *st = db_stmt(db, sql);
    struct alert_cb cb = { each, ctx };

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, id);
    return each_row(db, st, true, alert_row, &cb, "alert_get");
}

int store_alert_get(struct store_reader *r, int64_t id, store_alert_fn *each, void *ctx)
{
    return alert_by_id(r->db, id, each, ctx);
}

int store_alert_find(struct store_reader *r, int64_t org_id, const char *sender,
                     const char *identifier, int64_t sent_ms, store_alert_fn *each, void *ctx)
{
    static const char sql[] = "SELECT " ALERT_COLS " WHERE a.org_id = ?1 AND a.sender = ?2"
                              " AND a.identifier = ?3 AND (?4 < 0 OR a.sent_ms = ?4)"
                              " ORDER BY a.id DESC LIMIT 1";
    struct db_stmt *st = db_stmt(r->db, sql);
    struct alert_cb cb = { each, ctx };

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    db_bind_text(st, 2, sender);
    db_bind_text(st, 3, identifier);
    db_bind_i64(st, 4, sent_ms);
    return each_row(r->db, st, true, alert_row, &cb, "alert_find");
}

int store_alert_list(struct store_reader *r, const struct store_alert_query *q,
                     store_alert_fn *each, void *ctx)
{
#define ALERT_LIST(AREA_CODE_IS_4)                                                               \
    "SELECT " ALERT_COLS " WHERE a.org_id = ?1 AND (?2 IS NULL OR a.status = ?2)"                \
    " AND (?3 IS NULL OR a.state = ?3) AND (?4 IS NULL OR EXISTS (SELECT 1 FROM " AREA_CODE_IS_4 \
    "))"                                                                                         \
    " AND (?5 IS NULL OR a.risk = ?5) AND (?6 = 0 OR a.expires_ms > ?6)"                         \
    " AND (?7 = 0 OR a.onset_ms < ?7) AND (?8 = 0 OR a.id < ?8)"                                 \
    " ORDER BY a.id DESC LIMIT ?9"
    /* An area of the alert's doc has code ?4: each engine reads JSON its own way. */
    static const char sql[] = DB_SQL(
        ALERT_LIST("json_each(a.doc, '$.areas') z WHERE json_extract(z.value, '$.code') = ?4"),
        ALERT_LIST("jsonb_array_elements(a.doc::jsonb -> 'areas') z WHERE z ->> 'code' = ?4"));
#undef ALERT_LIST
    struct db_stmt *st = db_stmt(r->db, sql);
    struct alert_cb cb = { each, ctx };

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, q->org_id);
    db_bind_text(st, 2, q->status);
    db_bind_text(st, 3, q->state);
    db_bind_text(st, 4, q->zone);
    db_bind_text(st, 5, q->risk);
    db_bind_i64(st, 6, q->from_ms);
    db_bind_i64(st, 7, q->to_ms);
    db_bind_i64(st, 8, q->before_id);
    db_bind_i64(st, 9, (int)(q->limit ? q->limit : 50));
    return each_row(r->db, st, false, alert_row, &cb, "alert_list");
}

int store_alert_live(struct store_reader *r, int64_t org_id, const char *status, int64_t now_ms,
                     store_alert_fn *each, void *ctx)
{
    static const char sql[] = "SELECT " ALERT_COLS " WHERE a.org_id = ?1 AND a.expires_ms > ?3"
                              " AND a.state = 'published' AND a.replaced_by IS NULL"
                              " AND a.msg_type <> 'Cancel' AND a.status = ?2"
                              " ORDER BY a.onset_ms, a.id";
    struct db_stmt *st = db_stmt(r->db, sql);
    struct alert_cb cb = { each, ctx };

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    db_bind_text(st, 2, status);
    db_bind_i64(st, 3, now_ms);
    return each_row(r->db, st, false, alert_row, &cb, "alert_live");
}

/* ---- the alert's JSON ---- */

static json_t *time_json(int64_t ms)
{
    char s[40];

    if (!ms)
        return json_null();
    clock_rfc3339(ms, s, sizeof(s));
    return json_string(s);
}

static json_t *id_json(int64_t id)
{
    char s[24];

    if (!id)
        return json_null();
    snprintf(s, sizeof(s), "%lld", (long long)id);
    return json_string(s);
}

json_t *store_alert_json(const struct store_alert *a)
{
    json_t *doc = json_loads(a->doc_json, 0, NULL);
    json_t *refs = json_loads(a->refs_json, 0, NULL);
    json_t *zones = json_array();
    json_t *refs_out = json_array();
    json_t *areas, *v, *it;
    char cap[64];
    size_t i;

    if (!json_is_object(doc) || !json_is_array(refs)) {
        json_decref(doc);
        json_decref(refs);
        json_decref(zones);
        json_decref(refs_out);
        return NULL;
    }
    areas = json_object_get(doc, "areas");
    json_array_foreach(areas, i, it) json_array_append(zones, json_object_get(it, "code"));
    json_array_foreach(refs, i, it)
        json_array_append_new(refs_out, id_json(json_integer_value(it)));
    snprintf(cap, sizeof(cap), "/api/v1/alerts/%lld.cap", (long long)a->id);
    v = json_pack("{s:o, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:O?, s:s, s:s, s:o, s:o, s:o, s:O?,"
                  " s:O?, s:o, s:s, s:o, s:b, s:s, s:O*}",
                  "id", id_json(a->id), "org", a->org, "identifier", a->identifier, "sender",
                  a->sender, "sent", time_json(a->sent_ms), "status", a->status, "msg_type",
                  a->msg_type, "risk", a->risk, "risk_name", json_object_get(doc, "risk_name"),
                  "level", a->level, "phase", a->phase, "onset", time_json(a->onset_ms), "expires",
                  time_json(a->expires_ms), "zones", zones, "areas", areas, "info",
                  json_object_get(doc, "info"), "references", refs_out, "state", a->state,
                  "replaced_by", id_json(a->replaced_by), "imported", a->imported, "cap_url", cap,
                  "source", json_object_get(doc, "source"));
    json_decref(doc);
    json_decref(refs);
    return v;
}

struct payload {
    char *out;
};

static void payload_one(void *ctx, const struct store_alert *a)
{
    struct payload *p = ctx;
    json_t *v = store_alert_json(a);

    if (v)
        p->out = json_dumps(v, JSON_COMPACT);
    json_decref(v);
}

int store__alert_payload(struct db *db, int64_t id, char **out)
{
    struct payload p = { NULL };
    int err = alert_by_id(db, id, payload_one, &p);

    if (!err && !p.out)
        err = -EIO;
    *out = p.out;
    return err;
}
