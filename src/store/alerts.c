/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Civil-protection alerts: the writes (zones, risks, settings, alerts and their publication).
 * Reads are in store/alerts_read.c. Publishing an alert writes its "alert" event on every
 * channel of the org inside the same savepoint: the alert, what it replaces and the events
 * commit together or not at all.
 */
#include "store/alerts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/alerts_int.h"
#include "store/shared_int.h"
#include "store/store_int.h"

/* ---- zones ---- */

struct zone_w {
    struct store_write w;
    int64_t actor_id, org_id;
    bool create, del;
    char *code, *name, *geocodes, *polygon;
};

static int zone_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char ins[] =
        "INSERT INTO alert_zones (org_id, code, name, geocodes, polygon,"
        " created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) RETURNING id";
    static const char upd[] = "UPDATE alert_zones SET name = ?3, geocodes = ?4, polygon = ?5,"
                              " updated_ms = ?6 WHERE org_id = ?1 AND code = ?2";
    static const char del[] = "DELETE FROM alert_zones WHERE org_id = ?1 AND code = ?2";
    struct zone_w *z = container_of(w, struct zone_w, w);
    struct db_stmt *st = db_stmt(tx->db, z->del ? del : z->create ? ins : upd);
    char target[64];
    int err;

    if (st) {
        db_bind_i64(st, 1, z->org_id);
        db_bind_text(st, 2, z->code);
        if (!z->del) {
            db_bind_text(st, 3, z->name);
            db_bind_text(st, 4, z->geocodes ? z->geocodes : "[]");
            db_bind_text(st, 5, z->polygon);
            db_bind_i64(st, 6, tx->now_ms);
        }
    }
    err = store__step_id(tx->db, st, "zone", id);
    if (!err && !z->create && db_changes(tx->db) == 0)
        err = -ENOENT;
    if (err)
        return err;
    snprintf(target, sizeof(target), "zone:%s", z->code);
    return store__audit(tx, z->org_id, z->actor_id,
                        z->del      ? "zone.delete"
                        : z->create ? "zone.create"
                                    : "zone.update",
                        target, NULL);
}

static void zone_free(struct store_write *w)
{
    struct zone_w *z = container_of(w, struct zone_w, w);

    free(z->code);
    free(z->name);
    free(z->geocodes);
    free(z->polygon);
    free(z);
}

static const struct store_write_op zone_op = { "zone", zone_apply, zone_free };

int store_zone_put(struct store *s, int64_t actor_id, int64_t org_id, const char *code, bool create,
                   const char *name, const char *geocodes_json, const char *polygon,
                   store_done_fn *done, void *ctx)
{
    struct zone_w *z;

    if (!code || !*code || strlen(code) > STORE_ZONE_CODE_MAX || !name || !*name ||
        (polygon && strlen(polygon) > STORE_ZONE_POLYGON_MAX))
        return -EINVAL;
    z = xcalloc(1, sizeof(*z));
    z->w.op = &zone_op;
    z->actor_id = actor_id;
    z->org_id = org_id;
    z->create = create;
    z->code = xstrdup(code);
    z->name = xstrdup(name);
    z->geocodes = xstrdup_opt(geocodes_json);
    z->polygon = xstrdup_opt(polygon);
    return store__submit(s, &z->w, done, ctx, NULL);
}

int store_zone_delete(struct store *s, int64_t actor_id, int64_t org_id, const char *code,
                      store_done_fn *done, void *ctx)
{
    struct zone_w *z;

    if (!code || !*code || strlen(code) > STORE_ZONE_CODE_MAX)
        return -EINVAL;
    z = xcalloc(1, sizeof(*z));
    z->w.op = &zone_op;
    z->actor_id = actor_id;
    z->org_id = org_id;
    z->del = true;
    z->code = xstrdup(code);
    return store__submit(s, &z->w, done, ctx, NULL);
}

/* ---- risks ---- */

struct risk_w {
    struct store_write w;
    int64_t actor_id, org_id;
    char *code, *name, *category; /* name NULL: delete */
};

static int risk_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char put[] = "INSERT INTO alert_risks (org_id, code, name, category, created_ms)"
                              " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (org_id, code)"
                              " DO UPDATE SET name = ?3, category = ?4";
    static const char del[] = "DELETE FROM alert_risks WHERE org_id = ?1 AND code = ?2";
    struct risk_w *k = container_of(w, struct risk_w, w);
    struct db_stmt *st = db_stmt(tx->db, k->name ? put : del);
    char target[64];
    int err;

    *id = 0;
    if (st) {
        db_bind_i64(st, 1, k->org_id);
        db_bind_text(st, 2, k->code);
        if (k->name) {
            db_bind_text(st, 3, k->name);
            db_bind_text(st, 4, k->category);
            db_bind_i64(st, 5, tx->now_ms);
        }
    }
    err = store__step_done(tx->db, st, "risk");
    if (!err && db_changes(tx->db) == 0)
        err = -ENOENT;
    if (err)
        return err;
    snprintf(target, sizeof(target), "risk:%s", k->code);
    return store__audit(tx, k->org_id, k->actor_id, k->name ? "risk.put" : "risk.delete", target,
                        NULL);
}

static void risk_free(struct store_write *w)
{
    struct risk_w *k = container_of(w, struct risk_w, w);

    free(k->code);
    free(k->name);
    free(k->category);
    free(k);
}

static const struct store_write_op risk_op = { "risk", risk_apply, risk_free };

int store_risk_put(struct store *s, int64_t actor_id, int64_t org_id, const char *code,
                   const char *name, const char *category, store_done_fn *done, void *ctx)
{
    struct risk_w *k;

    if (!code || !*code || strlen(code) > STORE_RISK_CODE_MAX || !name || !*name || !category)
        return -EINVAL;
    k = xcalloc(1, sizeof(*k));
    k->w.op = &risk_op;
    k->actor_id = actor_id;
    k->org_id = org_id;
    k->code = xstrdup(code);
    k->name = xstrdup(name);
    k->category = xstrdup(category);
    return store__submit(s, &k->w, done, ctx, NULL);
}

int store_risk_delete(struct store *s, int64_t actor_id, int64_t org_id, const char *code,
                      store_done_fn *done, void *ctx)
{
    struct risk_w *k;

    if (!code || !*code || strlen(code) > STORE_RISK_CODE_MAX)
        return -EINVAL;
    k = xcalloc(1, sizeof(*k));
    k->w.op = &risk_op;
    k->actor_id = actor_id;
    k->org_id = org_id;
    k->code = xstrdup(code);
    return store__submit(s, &k->w, done, ctx, NULL);
}

/* ---- settings ---- */

struct settings_w {
    struct store_write w;
    int64_t actor_id, org_id;
    int two_person;
    char *rules;
    int64_t *pubs; /* NULL: unchanged */
    size_t n;
};

static int set_publishers(struct store_tx *tx, const struct settings_w *p)
{
    static const char clear[] = "DELETE FROM alert_publishers WHERE org_id = ?1";
    static const char add[] = "INSERT INTO alert_publishers (org_id, user_id, granted_ms)"
                              " SELECT ?1, id, ?3 FROM users WHERE id = ?2 AND org_id = ?1"
                              " AND role = 3 AND disabled_ms IS NULL ON CONFLICT DO NOTHING";
    struct db_stmt *st = db_stmt(tx->db, clear);
    int err;

    if (st)
        db_bind_i64(st, 1, p->org_id);
    err = store__step_done(tx->db, st, "publishers");
    for (size_t i = 0; !err && i < p->n; i++) {
        st = db_stmt(tx->db, add);
        if (st) {
            db_bind_i64(st, 1, p->org_id);
            db_bind_i64(st, 2, p->pubs[i]);
            db_bind_i64(st, 3, tx->now_ms);
        }
        err = store__step_done(tx->db, st, "publishers");
        /* Not a live staff account of this org (or listed twice: ignored the second time). */
        if (!err && db_changes(tx->db) == 0) {
            bool twice = false;

            for (size_t j = 0; j < i; j++)
                twice = twice || p->pubs[j] == p->pubs[i];
            if (!twice)
                err = -ENOENT;
        }
    }
    return err;
}

static int settings_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] =
        "INSERT INTO alert_settings (org_id, two_person_rule, import_rules, updated_ms)"
        " VALUES (?1, CASE WHEN ?2 < 0 THEN 0 ELSE ?2 END, coalesce(?3, '{}'), ?4) ON CONFLICT "
        "(org_id) DO UPDATE SET"
        " two_person_rule = CASE WHEN ?2 < 0 THEN alert_settings.two_person_rule ELSE ?2 END,"
        " import_rules = coalesce(?3, alert_settings.import_rules), updated_ms = ?4";
    struct settings_w *p = container_of(w, struct settings_w, w);
    struct db_stmt *st = db_stmt(tx->db, sql);
    int err;

    *id = p->org_id;
    if (st) {
        db_bind_i64(st, 1, p->org_id);
        db_bind_i64(st, 2, p->two_person);
        db_bind_text(st, 3, p->rules);
        db_bind_i64(st, 4, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "alert_settings");
    if (!err && p->pubs)
        err = set_publishers(tx, p);
    if (!err)
        err = store__audit(tx, p->org_id, p->actor_id, "alerts.settings", "alerts", NULL);
    return err;
}

static void settings_free(struct store_write *w)
{
    struct settings_w *p = container_of(w, struct settings_w, w);

    free(p->rules);
    free(p->pubs);
    free(p);
}

static const struct store_write_op settings_op = { "alert_settings", settings_apply,
                                                   settings_free };

int store_alert_settings_set(struct store *s, int64_t actor_id, int64_t org_id, int two_person,
                             const char *import_rules, const int64_t *publishers, size_t n,
                             store_done_fn *done, void *ctx)
{
    struct settings_w *p;

    if (n > STORE_PUBLISHERS_MAX || two_person > 1)
        return -EINVAL;
    p = xcalloc(1, sizeof(*p));
    p->w.op = &settings_op;
    p->actor_id = actor_id;
    p->org_id = org_id;
    p->two_person = two_person < 0 ? -1 : two_person;
    p->rules = xstrdup_opt(import_rules);
    if (publishers) {
        p->pubs = xcalloc(n ? n : 1, sizeof(*p->pubs));
        memcpy(p->pubs, publishers, n * sizeof(*p->pubs));
        p->n = n;
    }
    return store__submit(s, &p->w, done, ctx, NULL);
}

/* ---- publishing ---- */

/*
 * The "alert" event of alert `id`, on every channel of its org (not for status Test), and its
 * Web Push campaign (store/push.c: Actual alerts only).
 */
static int alert_events(struct store_tx *tx, int64_t id)
{
    static const char chans[] = "SELECT c.id FROM channels c JOIN alerts a ON a.org_id = c.org_id"
                                " WHERE a.id = ?1 AND a.status <> 'Test' AND c.id > ?2"
                                " ORDER BY c.id LIMIT 64";
    char *payload = NULL;
    struct db_stmt *st;
    int64_t ch[64];
    int64_t after = 0;
    int err = store__alert_payload(tx->db, id, &payload);
    int rc;

    if (err)
        return err;
    /* Channels in pages of 64: store__event uses statements of its own between pages. */
    for (;;) {
        size_t n = 0;

        st = db_stmt(tx->db, chans);
        if (!st) {
            err = -EIO;
            break;
        }
        db_bind_i64(st, 1, id);
        db_bind_i64(st, 2, after);
        while ((rc = db_step(st)) == DB_ROW)
            ch[n++] = db_col_i64(st, 0);
        db_reset(st);
        if (rc != DB_DONE) {
            err = store__errno(tx->db, rc, "alert_events");
            break;
        }
        for (size_t i = 0; i < n && !err; i++)
            err = store__event(tx, ch[i], "alert", payload, NULL);
        if (err || n < 64)
            break;
        after = ch[n - 1];
    }
    /* Web Push in the same savepoint as the events: it exists exactly if the alert went out. */
    if (!err)
        err = store__push_alert(tx, id, payload);
    free(payload);
    return err;
}

/*
 * Alert `id` goes out: what it references is replaced by it (strict: every reference must be
 * an alert of the org, published and not replaced yet), then its events.
 */
static int publish(struct store_tx *tx, int64_t org_id, int64_t id, const int64_t *refs, size_t n,
                   bool strict)
{
    static const char repl[] = "UPDATE alerts SET replaced_by = ?3 WHERE id = ?1 AND org_id = ?2"
                               " AND state = 'published' AND replaced_by IS NULL";
    int err = 0;

    for (size_t i = 0; i < n && !err; i++) {
        struct db_stmt *st = db_stmt(tx->db, repl);

        if (st) {
            db_bind_i64(st, 1, refs[i]);
            db_bind_i64(st, 2, org_id);
            db_bind_i64(st, 3, id);
        }
        err = store__step_done(tx->db, st, "alert_replace");
        if (!err && strict && db_changes(tx->db) == 0)
            err = -ENOENT;
    }
    return err ? err : alert_events(tx, id);
}

struct alert_w {
    struct store_write w;
    struct store_alert_new a; /* strings and refs owned */
};

static int alert_insert(struct store_tx *tx, const struct store_alert_new *a, int64_t *id)
{
    static const char sql[] =
        "INSERT INTO alerts (org_id, identifier, sender, sent_ms, status, msg_type, risk, level,"
        " phase, onset_ms, expires_ms, doc, refs, state, imported, created_by, created_ms,"
        " published_ms) VALUES (?1, coalesce(?2, ?3 || 'new'), ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
        " ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) RETURNING id";
    static const char ident[] = "UPDATE alerts SET identifier = ?2 || id WHERE id = ?1";
    struct db_stmt *st = db_stmt(tx->db, sql);
    json_t *refs = json_array();
    char *refs_s;
    int i = 1;
    int err;

    for (size_t k = 0; k < a->n_refs; k++)
        json_array_append_new(refs, json_integer(a->refs[k]));
    refs_s = json_dumps(refs, JSON_COMPACT);
    json_decref(refs);
    if (st && refs_s) {
        db_bind_i64(st, i++, a->org_id);
        db_bind_text(st, i++, a->identifier);
        db_bind_text(st, i++, a->id_prefix ? a->id_prefix : "");
        db_bind_text(st, i++, a->sender);
        db_bind_i64(st, i++, a->sent_ms ? a->sent_ms : tx->now_ms);
        db_bind_text(st, i++, a->status);
        db_bind_text(st, i++, a->msg_type);
        db_bind_text(st, i++, a->risk);
        db_bind_text(st, i++, a->level);
        db_bind_text(st, i++, a->phase);
        db_bind_i64(st, i++, a->onset_ms);
        db_bind_i64(st, i++, a->expires_ms);
        db_bind_text(st, i++, a->doc_json);
        db_bind_text(st, i++, refs_s);
        db_bind_text(st, i++, a->pending ? "pending" : "published");
        db_bind_i64(st, i++, a->imported);
        if (a->actor_id > 0) {
            db_bind_i64(st, i++, a->actor_id);
        } else {
            db_bind_null(st, i++);
        }
        db_bind_i64(st, i++, tx->now_ms);
        if (a->pending) {
            db_bind_null(st, i);
        } else {
            db_bind_i64(st, i, tx->now_ms);
        }
    }
    err = refs_s ? store__step_id(tx->db, st, "alert_add", id) : -EIO;
    free(refs_s);
    if (err)
        return err;
    if (a->identifier)
        return 0;
    st = db_stmt(tx->db, ident);
    if (st) {
        db_bind_i64(st, 1, *id);
        db_bind_text(st, 2, a->id_prefix ? a->id_prefix : "");
    }
    return store__step_done(tx->db, st, "alert_ident");
}

static int alert_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    struct alert_w *p = container_of(w, struct alert_w, w);
    const struct store_alert_new *a = &p->a;
    char target[40];
    char detail[96];
    int err = alert_insert(tx, a, id);

    if (err)
        return err;
    if (!a->pending)
        err = publish(tx, a->org_id, *id, a->refs, a->n_refs, !a->imported);
    if (err)
        return err;
    snprintf(target, sizeof(target), "alert:%lld", (long long)*id);
    snprintf(detail, sizeof(detail), "{\"level\":\"%s\",\"status\":\"%s\",\"msg_type\":\"%s\"}",
             a->level, a->status, a->msg_type);
    return store__audit(tx, a->org_id, a->actor_id,
                        a->imported  ? "alert.import"
                        : a->pending ? "alert.submit"
                                     : "alert.publish",
                        target, detail);
}

static void alert_free(struct store_write *w)
{
    struct alert_w *p = container_of(w, struct alert_w, w);

    free((char *)p->a.identifier);
    free((char *)p->a.id_prefix);
    free((char *)p->a.sender);
    free((char *)p->a.status);
    free((char *)p->a.msg_type);
    free((char *)p->a.risk);
    free((char *)p->a.level);
    free((char *)p->a.phase);
    free((char *)p->a.doc_json);
    free((int64_t *)p->a.refs);
    free(p);
}

static const struct store_write_op alert_op = { "alert_add", alert_apply, alert_free };

int store_alert_add(struct store *s, const struct store_alert_new *a, store_done_fn *done,
                    void *ctx, int64_t *id_out)
{
    struct alert_w *p;
    int64_t *refs;

    if (!a->sender || !*a->sender || strlen(a->sender) > STORE_ALERT_ID_MAX || !a->status ||
        !a->msg_type || !a->risk || !a->level || !a->phase || !a->doc_json ||
        a->n_refs > STORE_ALERT_REFS_MAX || a->expires_ms <= a->onset_ms ||
        (a->identifier && (!*a->identifier || strlen(a->identifier) > STORE_ALERT_ID_MAX)))
        return -EINVAL;
    p = xcalloc(1, sizeof(*p));
    p->w.op = &alert_op;
    p->a = *a;
    p->a.identifier = xstrdup_opt(a->identifier);
    p->a.id_prefix = xstrdup_opt(a->id_prefix);
    p->a.sender = xstrdup(a->sender);
    p->a.status = xstrdup(a->status);
    p->a.msg_type = xstrdup(a->msg_type);
    p->a.risk = xstrdup(a->risk);
    p->a.level = xstrdup(a->level);
    p->a.phase = xstrdup(a->phase);
    p->a.doc_json = xstrdup(a->doc_json);
    refs = xcalloc(a->n_refs ? a->n_refs : 1, sizeof(*refs));
    if (a->n_refs)
        memcpy(refs, a->refs, a->n_refs * sizeof(*refs));
    p->a.refs = refs;
    return store__submit(s, &p->w, done, ctx, id_out);
}

/* ---- approve, withdraw ---- */

struct decide_w {
    struct store_write w;
    int64_t actor_id, org_id, alert_id;
    bool approve;
};

/*
 * The refs (JSON array of ids) of alert `id` into `out` (at most STORE_ALERT_REFS_MAX), parsed
 * here rather than by the engine: SQLite's json_each and PostgreSQL's jsonb functions differ.
 */
static int load_refs(struct store_tx *tx, int64_t id, int64_t *out, size_t *n)
{
    static const char sql[] = "SELECT refs FROM alerts WHERE id = ?1";
    struct db_stmt *st = db_stmt(tx->db, sql);
    json_t *refs = NULL, *it;
    size_t i;
    int rc;

    *n = 0;
    if (!st)
        return -EIO;
    db_bind_i64(st, 1, id);
    rc = db_step(st);
    if (rc == DB_ROW && db_col_text(st, 0))
        refs = json_loads(db_col_text(st, 0), 0, NULL);
    db_reset(st);
    json_array_foreach(refs, i, it)
    {
        if (*n < STORE_ALERT_REFS_MAX && json_is_integer(it))
            out[(*n)++] = (int64_t)json_integer_value(it);
    }
    json_decref(refs);
    return rc == DB_ROW || rc == DB_DONE ? 0 : store__errno(tx->db, rc, "alert_refs");
}

static int decide_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char get[] = "SELECT state, coalesce(created_by, 0) FROM alerts"
                              " WHERE id = ?1 AND org_id = ?2";
    static const char pub[] = "UPDATE alerts SET state = 'published', approved_by = ?2,"
                              " published_ms = ?3, sent_ms = ?3 WHERE id = ?1";
    static const char wd[] = "UPDATE alerts SET state = 'withdrawn' WHERE id = ?1";
    struct decide_w *d = container_of(w, struct decide_w, w);
    struct db_stmt *st = db_stmt(tx->db, get);
    int64_t refs[STORE_ALERT_REFS_MAX];
    int64_t creator = 0;
    bool pending = false;
    char target[40];
    size_t n;
    int err;
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, d->alert_id);
    db_bind_i64(st, 2, d->org_id);
    rc = db_step(st);
    if (rc == DB_ROW) {
        pending = !strcmp(db_col_text(st, 0), "pending");
        creator = db_col_i64(st, 1);
    }
    db_reset(st);
    if (rc != DB_ROW)
        return rc == DB_DONE ? -ENOENT : store__errno(tx->db, rc, "alert_decide");
    if (!pending)
        return -EALREADY;
    if (d->approve && creator == d->actor_id)
        return -EPERM;
    st = db_stmt(tx->db, d->approve ? pub : wd);
    if (st) {
        db_bind_i64(st, 1, d->alert_id);
        if (d->approve) {
            db_bind_i64(st, 2, d->actor_id);
            db_bind_i64(st, 3, tx->now_ms);
        }
    }
    err = store__step_done(tx->db, st, "alert_decide");
    if (!err && d->approve)
        err = load_refs(tx, d->alert_id, refs, &n);
    if (!err && d->approve)
        err = publish(tx, d->org_id, d->alert_id, refs, n, true);
    if (err)
        return err;
    *id = d->alert_id;
    snprintf(target, sizeof(target), "alert:%lld", (long long)d->alert_id);
    return store__audit(tx, d->org_id, d->actor_id, d->approve ? "alert.approve" : "alert.withdraw",
                        target, NULL);
}

static void decide_free(struct store_write *w)
{
    free(container_of(w, struct decide_w, w));
}

static const struct store_write_op decide_op = { "alert_decide", decide_apply, decide_free };

static int decide(struct store *s, int64_t actor_id, int64_t org_id, int64_t alert_id, bool approve,
                  store_done_fn *done, void *ctx)
{
    struct decide_w *d = xcalloc(1, sizeof(*d));

    d->w.op = &decide_op;
    d->actor_id = actor_id;
    d->org_id = org_id;
    d->alert_id = alert_id;
    d->approve = approve;
    return store__submit(s, &d->w, done, ctx, NULL);
}

int store_alert_approve(struct store *s, int64_t actor_id, int64_t org_id, int64_t alert_id,
                        store_done_fn *done, void *ctx)
{
    return decide(s, actor_id, org_id, alert_id, true, done, ctx);
}

int store_alert_withdraw(struct store *s, int64_t actor_id, int64_t org_id, int64_t alert_id,
                         store_done_fn *done, void *ctx)
{
    return decide(s, actor_id, org_id, alert_id, false, done, ctx);
}
