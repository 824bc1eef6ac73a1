/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Organizations, staff accounts and sessions: write ops (validated before queuing, applied on
 * the writer thread with their audit entry in the same savepoint) and reads. The audit log's
 * own append and list live in audit.c.
 */
#include "store/orgs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/shared_int.h"
#include "store/store_int.h"

#define EMAIL_MAX 255 /* bytes, as in writes.c */

/* Characters of a UTF-8 string (callers hand us valid UTF-8: jansson checked it). */
static size_t chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

bool store_org_slug_valid(const char *slug)
{
    size_t n = slug ? strlen(slug) : 0;

    if (n < STORE_ORG_SLUG_MIN || n > STORE_ORG_SLUG_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = slug[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

bool store_org_tz_valid(const char *tz)
{
    size_t n = tz ? strlen(tz) : 0;

    if (n < 1 || n > STORE_ORG_TZ_MAX || tz[0] == '/' || strstr(tz, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = tz[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '-' || c == '/'))
            return false;
    }
    return true;
}

static bool istat_valid(const char *s)
{
    if (strlen(s) != STORE_ORG_ISTAT_LEN)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
    }
    return true;
}

static bool text_ok(const char *s, size_t max)
{
    size_t n = chars(s);

    return n >= 1 && n <= max;
}

/* Validate the fields a write sets; `adding` requires a name. */
static int fields_valid(const struct store_org_fields *f, bool adding)
{
    unsigned set = f->set;

    if (adding && (!(set & STORE_ORG_F_NAME) || !f->name))
        return -EINVAL;
    if ((set & STORE_ORG_F_NAME) && (!f->name || !text_ok(f->name, STORE_ORG_NAME_MAX)))
        return -EINVAL;
    if ((set & STORE_ORG_F_ISTAT) && f->istat_code && !istat_valid(f->istat_code))
        return -EINVAL;
    if ((set & STORE_ORG_F_JURIS) && f->jurisdiction_id &&
        !text_ok(f->jurisdiction_id, STORE_ORG_JURIS_MAX))
        return -EINVAL;
    if ((set & STORE_ORG_F_TZ) && !adding && !f->timezone)
        return -EINVAL;
    if ((set & STORE_ORG_F_TZ) && f->timezone && !store_org_tz_valid(f->timezone))
        return -EINVAL;
    if ((set & STORE_ORG_F_LOGO) && f->logo && !text_ok(f->logo, STORE_ORG_LOGO_MAX))
        return -EINVAL;
    if ((set & STORE_ORG_F_CONTROLLER) && f->privacy_controller &&
        !text_ok(f->privacy_controller, STORE_ORG_PRIVACY_MAX))
        return -EINVAL;
    if ((set & STORE_ORG_F_DPO) && f->privacy_dpo &&
        !text_ok(f->privacy_dpo, STORE_ORG_PRIVACY_MAX))
        return -EINVAL;
    if ((set & STORE_ORG_F_A11Y_URL) && f->accessibility_url &&
        (!text_ok(f->accessibility_url, STORE_ORG_URL_MAX) ||
         strlen(f->accessibility_url) > STORE_ORG_URL_MAX))
        return -EINVAL;
    if ((set & STORE_ORG_F_A11Y_EMAIL) && f->accessibility_email &&
        (strlen(f->accessibility_email) < 3 ||
         strlen(f->accessibility_email) > STORE_ORG_EMAIL_MAX))
        return -EINVAL;
    return 0;
}

/* ---- org_add / org_update ---- */

struct org_write {
    struct store_write w;
    int64_t actor_id;
    int64_t org_id; /* update */
    char *slug;     /* add */
    unsigned set;
    char *name, *istat_code, *jurisdiction_id, *timezone, *logo;
    char *privacy_controller, *privacy_dpo, *accessibility_url, *accessibility_email;
};

static void org_write_free(struct store_write *w)
{
    struct org_write *o = container_of(w, struct org_write, w);

    free(o->slug);
    free(o->name);
    free(o->istat_code);
    free(o->jurisdiction_id);
    free(o->timezone);
    free(o->logo);
    free(o->privacy_controller);
    free(o->privacy_dpo);
    free(o->accessibility_url);
    free(o->accessibility_email);
    free(o);
}

static struct org_write *org_write_new(int64_t actor_id, const struct store_org_fields *f)
{
    struct org_write *o = xcalloc(1, sizeof(*o));

    o->actor_id = actor_id;
    o->set = f->set;
    o->name = (f->set & STORE_ORG_F_NAME) ? xstrdup_opt(f->name) : NULL;
    o->istat_code = (f->set & STORE_ORG_F_ISTAT) ? xstrdup_opt(f->istat_code) : NULL;
    o->jurisdiction_id = (f->set & STORE_ORG_F_JURIS) ? xstrdup_opt(f->jurisdiction_id) : NULL;
    o->timezone = (f->set & STORE_ORG_F_TZ) ? xstrdup_opt(f->timezone) : NULL;
    o->logo = (f->set & STORE_ORG_F_LOGO) ? xstrdup_opt(f->logo) : NULL;
    o->privacy_controller =
        (f->set & STORE_ORG_F_CONTROLLER) ? xstrdup_opt(f->privacy_controller) : NULL;
    o->privacy_dpo = (f->set & STORE_ORG_F_DPO) ? xstrdup_opt(f->privacy_dpo) : NULL;
    o->accessibility_url =
        (f->set & STORE_ORG_F_A11Y_URL) ? xstrdup_opt(f->accessibility_url) : NULL;
    o->accessibility_email =
        (f->set & STORE_ORG_F_A11Y_EMAIL) ? xstrdup_opt(f->accessibility_email) : NULL;
    return o;
}

static int org_add_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "INSERT INTO orgs (slug, name, istat_code, jurisdiction_id,"
                              " timezone, logo, created_ms, privacy_controller, privacy_dpo,"
                              " accessibility_url, accessibility_email)"
                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING id";
    struct org_write *o = container_of(w, struct org_write, w);
    struct db_stmt *st = db_stmt(tx->db, sql);
    char target[96];
    int err;

    if (st) {
        db_bind_text(st, 1, o->slug);
        db_bind_text(st, 2, o->name);
        db_bind_text(st, 3, o->istat_code);
        db_bind_text(st, 4, o->jurisdiction_id);
        db_bind_text(st, 5, o->timezone ? o->timezone : STORE_ORG_TZ_DEFAULT);
        db_bind_text(st, 6, o->logo);
        db_bind_i64(st, 7, tx->now_ms);
        db_bind_text(st, 8, o->privacy_controller);
        db_bind_text(st, 9, o->privacy_dpo);
        db_bind_text(st, 10, o->accessibility_url);
        db_bind_text(st, 11, o->accessibility_email);
    }
    err = store__step_id(tx->db, st, "org_add", id);
    if (err)
        return err;
    snprintf(target, sizeof(target), "org:%s", o->slug);
    return store__audit(tx, *id, o->actor_id, "org.create", target, NULL);
}

static const struct store_write_op org_add_op = { "org_add", org_add_apply, org_write_free };

int store_org_add(struct store *s, int64_t actor_id, const char *slug,
                  const struct store_org_fields *f, store_done_fn *done, void *ctx, int64_t *id_out)
{
    struct org_write *o;
    int err;

    if (!f || !store_org_slug_valid(slug))
        return -EINVAL;
    err = fields_valid(f, true);
    if (err)
        return err;
    o = org_write_new(actor_id, f);
    o->w.op = &org_add_op;
    o->slug = xstrdup(slug);
    return store__submit(s, &o->w, done, ctx, id_out);
}

/* The names of the changed fields, as a JSON object {"fields":[...]} for the audit entry. */
static void changed_fields(unsigned set, char *out, size_t outlen)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        { STORE_ORG_F_NAME, "name" },
        { STORE_ORG_F_ISTAT, "istat_code" },
        { STORE_ORG_F_JURIS, "jurisdiction_id" },
        { STORE_ORG_F_TZ, "timezone" },
        { STORE_ORG_F_LOGO, "logo" },
        { STORE_ORG_F_CONTROLLER, "privacy_controller" },
        { STORE_ORG_F_DPO, "privacy_dpo" },
        { STORE_ORG_F_A11Y_URL, "accessibility_url" },
        { STORE_ORG_F_A11Y_EMAIL, "accessibility_email" },
    };
    size_t len = (size_t)snprintf(out, outlen, "{\"fields\":[");
    bool first = true;

    for (size_t i = 0; i < ARRAY_SIZE(names) && len < outlen; i++) {
        if (!(set & names[i].bit))
            continue;
        len +=
            (size_t)snprintf(out + len, outlen - len, "%s\"%s\"", first ? "" : ",", names[i].name);
        first = false;
    }
    if (len < outlen)
        snprintf(out + len, outlen - len, "]}");
}

static int org_update_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    /* ?N is the flag "this field is set", ?N+1 its new value. */
    static const char sql[] =
        "UPDATE orgs SET name = CASE WHEN ?2 <> 0 THEN ?3 ELSE name END,"
        " istat_code = CASE WHEN ?4 <> 0 THEN ?5 ELSE istat_code END,"
        " jurisdiction_id = CASE WHEN ?6 <> 0 THEN ?7 ELSE jurisdiction_id END,"
        " timezone = CASE WHEN ?8 <> 0 THEN ?9 ELSE timezone END, logo = CASE WHEN ?10 <> 0 THEN "
        "?11 ELSE logo END,"
        " privacy_controller = CASE WHEN ?12 <> 0 THEN ?13 ELSE privacy_controller END,"
        " privacy_dpo = CASE WHEN ?14 <> 0 THEN ?15 ELSE privacy_dpo END,"
        " accessibility_url = CASE WHEN ?16 <> 0 THEN ?17 ELSE accessibility_url END,"
        " accessibility_email = CASE WHEN ?18 <> 0 THEN ?19 ELSE accessibility_email END"
        " WHERE id = ?1 RETURNING slug";
    struct org_write *o = container_of(w, struct org_write, w);
    struct db_stmt *st = db_stmt(tx->db, sql);
    char target[96];
    char detail[256];
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, o->org_id);
    db_bind_i64(st, 2, !!(o->set & STORE_ORG_F_NAME));
    db_bind_text(st, 3, o->name);
    db_bind_i64(st, 4, !!(o->set & STORE_ORG_F_ISTAT));
    db_bind_text(st, 5, o->istat_code);
    db_bind_i64(st, 6, !!(o->set & STORE_ORG_F_JURIS));
    db_bind_text(st, 7, o->jurisdiction_id);
    db_bind_i64(st, 8, !!(o->set & STORE_ORG_F_TZ));
    db_bind_text(st, 9, o->timezone);
    db_bind_i64(st, 10, !!(o->set & STORE_ORG_F_LOGO));
    db_bind_text(st, 11, o->logo);
    db_bind_i64(st, 12, !!(o->set & STORE_ORG_F_CONTROLLER));
    db_bind_text(st, 13, o->privacy_controller);
    db_bind_i64(st, 14, !!(o->set & STORE_ORG_F_DPO));
    db_bind_text(st, 15, o->privacy_dpo);
    db_bind_i64(st, 16, !!(o->set & STORE_ORG_F_A11Y_URL));
    db_bind_text(st, 17, o->accessibility_url);
    db_bind_i64(st, 18, !!(o->set & STORE_ORG_F_A11Y_EMAIL));
    db_bind_text(st, 19, o->accessibility_email);
    rc = db_step(st);
    if (rc == DB_ROW) {
        snprintf(target, sizeof(target), "org:%s", db_col_text(st, 0));
        rc = db_step(st);
    } else if (rc == DB_DONE) {
        db_reset(st);
        return -ENOENT;
    }
    if (rc != DB_DONE) {
        int err = store__errno(tx->db, rc, "org_update");

        db_reset(st);
        return err;
    }
    db_reset(st);
    *id = o->org_id;
    changed_fields(o->set, detail, sizeof(detail));
    return store__audit(tx, o->org_id, o->actor_id, "org.update", target, detail);
}

static const struct store_write_op org_update_op = { "org_update", org_update_apply,
                                                     org_write_free };

int store_org_update(struct store *s, int64_t actor_id, int64_t org_id,
                     const struct store_org_fields *f, store_done_fn *done, void *ctx)
{
    struct org_write *o;
    int err;

    if (!f || org_id <= 0)
        return -EINVAL;
    err = fields_valid(f, false);
    if (err)
        return err;
    o = org_write_new(actor_id, f);
    o->w.op = &org_update_op;
    o->org_id = org_id;
    return store__submit(s, &o->w, done, ctx, NULL);
}

/* ---- staff_add ---- */

struct staff_add {
    struct store_write w;
    int64_t actor_id;
    int64_t org_id;
    char *email;
    char *password_hash;
    enum store_role role;
    bool must_change;
};

static int org_exists(struct store_tx *tx, int64_t org_id)
{
    static const char sql[] = "SELECT 1 FROM orgs WHERE id = ?1";
    struct db_stmt *st = db_stmt(tx->db, sql);
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    rc = db_step(st);
    db_reset(st);
    if (rc == DB_ROW)
        return 0;
    return rc == DB_DONE ? -ENOENT : store__errno(tx->db, rc, "org_exists");
}

static int staff_add_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] =
        "INSERT INTO users (email, role, org_id, password_hash, must_change_password,"
        " created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id";
    struct staff_add *a = container_of(w, struct staff_add, w);
    struct db_stmt *st;
    char target[32];
    char detail[EMAIL_MAX * 2 + 64];
    size_t len;
    int err;

    err = org_exists(tx, a->org_id);
    if (err)
        return err;
    st = db_stmt(tx->db, sql);
    if (st) {
        db_bind_text(st, 1, a->email);
        db_bind_i64(st, 2, (int)a->role);
        db_bind_i64(st, 3, a->org_id);
        db_bind_text(st, 4, a->password_hash);
        db_bind_i64(st, 5, a->must_change);
        db_bind_i64(st, 6, tx->now_ms);
    }
    err = store__step_id(tx->db, st, "staff_add", id);
    if (err)
        return err;
    snprintf(target, sizeof(target), "user:%lld", (long long)*id);
    /* The e-mail was validated to hold no quote or backslash, so it needs no JSON escaping. */
    len = (size_t)snprintf(detail, sizeof(detail), "{\"email\":\"%s\",\"role\":\"%s\"}", a->email,
                           store_role_name(a->role));
    if (len >= sizeof(detail))
        return -EIO;
    return store__audit(tx, a->org_id, a->actor_id, "staff.add", target, detail);
}

static void staff_add_free(struct store_write *w)
{
    struct staff_add *a = container_of(w, struct staff_add, w);

    free(a->email);
    if (a->password_hash) {
        explicit_bzero(a->password_hash, strlen(a->password_hash));
        free(a->password_hash);
    }
    free(a);
}

static const struct store_write_op staff_add_op = { "staff_add", staff_add_apply, staff_add_free };

/* As writes.c, plus no characters that would need escaping in JSON or a header. */
static bool staff_email_valid(const char *email)
{
    size_t n = email ? strlen(email) : 0;
    const char *at = n ? strchr(email, '@') : NULL;

    if (n < 3 || n > EMAIL_MAX || !at || at == email || !at[1])
        return false;
    for (const char *p = email; *p; p++) {
        unsigned char c = (unsigned char)*p;

        if (c <= ' ' || c == '"' || c == '\\' || c == 0x7f || c >= 0x80)
            return false;
    }
    return true;
}

int store_staff_add(struct store *s, int64_t actor_id, int64_t org_id, const char *email,
                    enum store_role role, const char *password_hash, bool must_change,
                    store_done_fn *done, void *ctx, int64_t *id_out)
{
    struct staff_add *a;

    if (org_id <= 0 || !staff_email_valid(email) ||
        (role != STORE_ROLE_ORG_ADMIN && role != STORE_ROLE_STAFF) || !password_hash ||
        !*password_hash)
        return -EINVAL;
    a = xcalloc(1, sizeof(*a));
    a->w.op = &staff_add_op;
    a->actor_id = actor_id;
    a->org_id = org_id;
    a->email = xstrdup(email);
    for (char *p = a->email; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    }
    a->password_hash = xstrdup(password_hash);
    a->role = role;
    a->must_change = must_change;
    return store__submit(s, &a->w, done, ctx, id_out);
}

/* ---- user_disable ---- */

struct user_disable {
    struct store_write w;
    int64_t actor_id, org_id, user_id;
};

static int exec_user(struct store_tx *tx, const char *sql, int64_t user_id, const char *what)
{
    struct db_stmt *st = db_stmt(tx->db, sql);

    if (st) {
        db_bind_i64(st, 1, user_id);
        db_bind_i64(st, 2, tx->now_ms);
    }
    return store__step_done(tx->db, st, what);
}

static int user_disable_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql_user[] = "UPDATE users SET disabled_ms = ?2"
                                   " WHERE id = ?1 AND org_id = ?3 AND disabled_ms IS NULL";
    static const char sql_sessions[] = "UPDATE sessions SET ended_ms = ?2"
                                       " WHERE user_id = ?1 AND ended_ms IS NULL";
    static const char sql_tokens[] = "UPDATE api_tokens SET revoked_ms = ?2"
                                     " WHERE user_id = ?1 AND revoked_ms IS NULL";
    struct user_disable *d = container_of(w, struct user_disable, w);
    struct db_stmt *st = db_stmt(tx->db, sql_user);
    char target[32];
    int err;

    if (st) {
        db_bind_i64(st, 1, d->user_id);
        db_bind_i64(st, 2, tx->now_ms);
        db_bind_i64(st, 3, d->org_id);
    }
    err = store__step_done(tx->db, st, "user_disable");
    if (!err && db_changes(tx->db) == 0)
        err = -ENOENT;
    if (!err)
        err = exec_user(tx, sql_sessions, d->user_id, "user_disable sessions");
    if (!err)
        err = exec_user(tx, sql_tokens, d->user_id, "user_disable tokens");
    if (err)
        return err;
    *id = d->user_id;
    snprintf(target, sizeof(target), "user:%lld", (long long)d->user_id);
    return store__audit(tx, d->org_id, d->actor_id, "staff.disable", target, NULL);
}

static void plain_free(struct store_write *w)
{
    free(w); /* every struct using this has its store_write first and owns nothing else */
}

static const struct store_write_op user_disable_op = { "user_disable", user_disable_apply,
                                                       plain_free };

int store_user_disable(struct store *s, int64_t actor_id, int64_t org_id, int64_t user_id,
                       store_done_fn *done, void *ctx)
{
    struct user_disable *d;

    if (org_id <= 0 || user_id <= 0)
        return -EINVAL;
    d = xcalloc(1, sizeof(*d));
    d->w.op = &user_disable_op;
    d->actor_id = actor_id;
    d->org_id = org_id;
    d->user_id = user_id;
    return store__submit(s, &d->w, done, ctx, NULL);
}

/* ---- user_set_password ---- */

struct set_password {
    struct store_write w;
    int64_t user_id, keep_session_id;
    char *password_hash;
};

static int set_password_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql_user[] = "UPDATE users SET password_hash = ?2,"
                                   " must_change_password = 0"
                                   " WHERE id = ?1 AND disabled_ms IS NULL";
    static const char sql_sessions[] = "UPDATE sessions SET ended_ms = ?2"
                                       " WHERE user_id = ?1 AND id <> ?3 AND ended_ms IS NULL";
    struct set_password *p = container_of(w, struct set_password, w);
    struct db_stmt *st = db_stmt(tx->db, sql_user);
    int err;

    if (st) {
        db_bind_i64(st, 1, p->user_id);
        db_bind_text(st, 2, p->password_hash);
    }
    err = store__step_done(tx->db, st, "user_set_password");
    if (!err && db_changes(tx->db) == 0)
        err = -ENOENT;
    if (err)
        return err;
    st = db_stmt(tx->db, sql_sessions);
    if (st) {
        db_bind_i64(st, 1, p->user_id);
        db_bind_i64(st, 2, tx->now_ms);
        db_bind_i64(st, 3, p->keep_session_id);
    }
    err = store__step_done(tx->db, st, "user_set_password sessions");
    if (!err)
        *id = p->user_id;
    return err;
}

static void set_password_free(struct store_write *w)
{
    struct set_password *p = container_of(w, struct set_password, w);

    if (p->password_hash) {
        explicit_bzero(p->password_hash, strlen(p->password_hash));
        free(p->password_hash);
    }
    free(p);
}

static const struct store_write_op set_password_op = { "user_set_password", set_password_apply,
                                                       set_password_free };

int store_user_set_password(struct store *s, int64_t user_id, const char *password_hash,
                            int64_t keep_session_id, store_done_fn *done, void *ctx)
{
    struct set_password *p;

    if (user_id <= 0 || !password_hash || !*password_hash)
        return -EINVAL;
    p = xcalloc(1, sizeof(*p));
    p->w.op = &set_password_op;
    p->user_id = user_id;
    p->keep_session_id = keep_session_id;
    p->password_hash = xstrdup(password_hash);
    return store__submit(s, &p->w, done, ctx, NULL);
}

/* ---- sessions ---- */

struct session_add {
    struct store_write w;
    int64_t user_id, expires_ms;
    uint8_t hash[SECRET_HASH_LEN];
};

static int session_add_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "INSERT INTO sessions (user_id, hash, created_ms, last_seen_ms,"
                              " expires_ms) SELECT ?1, ?2, ?3, ?3, ?4 FROM users"
                              " WHERE id = ?1 AND disabled_ms IS NULL RETURNING id";
    struct session_add *a = container_of(w, struct session_add, w);
    struct db_stmt *st = db_stmt(tx->db, sql);
    int err;

    if (st) {
        db_bind_i64(st, 1, a->user_id);
        db_bind_blob(st, 2, a->hash, SECRET_HASH_LEN);
        db_bind_i64(st, 3, tx->now_ms);
        db_bind_i64(st, 4, a->expires_ms);
    }
    err = store__step_id(tx->db, st, "session_add", id);
    /* Disabled between the password check and now: no session. */
    if (!err && db_changes(tx->db) == 0)
        err = -ENOENT;
    return err;
}

static void session_add_free(struct store_write *w)
{
    struct session_add *a = container_of(w, struct session_add, w);

    explicit_bzero(a->hash, sizeof(a->hash));
    free(a);
}

static const struct store_write_op session_add_op = { "session_add", session_add_apply,
                                                      session_add_free };

int store_session_add(struct store *s, int64_t user_id, const uint8_t hash[SECRET_HASH_LEN],
                      int64_t expires_ms, store_done_fn *done, void *ctx, int64_t *id_out)
{
    struct session_add *a;

    if (user_id <= 0 || !hash)
        return -EINVAL;
    a = xcalloc(1, sizeof(*a));
    a->w.op = &session_add_op;
    a->user_id = user_id;
    a->expires_ms = expires_ms;
    memcpy(a->hash, hash, SECRET_HASH_LEN);
    return store__submit(s, &a->w, done, ctx, id_out);
}

struct session_op {
    struct store_write w;
    int64_t session_id;
};

static int session_set(struct store_write *w, struct store_tx *tx, int64_t *id, const char *sql,
                       const char *what)
{
    struct session_op *o = container_of(w, struct session_op, w);
    struct db_stmt *st = db_stmt(tx->db, sql);
    int err;

    if (st) {
        db_bind_i64(st, 1, o->session_id);
        db_bind_i64(st, 2, tx->now_ms);
    }
    err = store__step_done(tx->db, st, what);
    if (!err && db_changes(tx->db) == 0)
        err = -ENOENT;
    if (!err)
        *id = o->session_id;
    return err;
}

static int session_touch_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "UPDATE sessions SET last_seen_ms = CASE WHEN last_seen_ms > ?2 THEN "
                              "last_seen_ms ELSE ?2 END"
                              " WHERE id = ?1 AND ended_ms IS NULL";

    return session_set(w, tx, id, sql, "session_touch");
}

static int session_end_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "UPDATE sessions SET ended_ms = ?2"
                              " WHERE id = ?1 AND ended_ms IS NULL";

    return session_set(w, tx, id, sql, "session_end");
}

static const struct store_write_op session_touch_op = { "session_touch", session_touch_apply,
                                                        plain_free };
static const struct store_write_op session_end_op = { "session_end", session_end_apply,
                                                      plain_free };

static int session_submit(struct store *s, const struct store_write_op *op, int64_t id,
                          store_done_fn *done, void *ctx)
{
    struct session_op *o;

    if (id <= 0)
        return -EINVAL;
    o = xcalloc(1, sizeof(*o));
    o->w.op = op;
    o->session_id = id;
    return store__submit(s, &o->w, done, ctx, NULL);
}

int store_session_touch(struct store *s, int64_t id, store_done_fn *done, void *ctx)
{
    return session_submit(s, &session_touch_op, id, done, ctx);
}

int store_session_end(struct store *s, int64_t id, store_done_fn *done, void *ctx)
{
    return session_submit(s, &session_end_op, id, done, ctx);
}

/* ---- reads ---- */

static int step_row(struct store_reader *r, struct db_stmt *st, const char *what)
{
    int rc = db_step(st);

    if (rc == DB_ROW)
        return 1;
    if (rc == DB_DONE)
        return 0;
    return store__errno(r->db, rc, what);
}

static void copy_text(char *dst, size_t dstlen, struct db_stmt *st, int col)
{
    const char *t = db_col_text(st, col);

    snprintf(dst, dstlen, "%s", t ? (const char *)t : "");
}

#define ORG_COLS                                                               \
    "id, slug, name, istat_code, jurisdiction_id, timezone, logo, created_ms," \
    " privacy_controller, privacy_dpo, accessibility_url, accessibility_email"

static void org_from_row(struct db_stmt *st, struct store_org *o)
{
    memset(o, 0, sizeof(*o));
    o->id = db_col_i64(st, 0);
    copy_text(o->slug, sizeof(o->slug), st, 1);
    copy_text(o->name, sizeof(o->name), st, 2);
    copy_text(o->istat_code, sizeof(o->istat_code), st, 3);
    copy_text(o->jurisdiction_id, sizeof(o->jurisdiction_id), st, 4);
    copy_text(o->timezone, sizeof(o->timezone), st, 5);
    copy_text(o->logo, sizeof(o->logo), st, 6);
    o->created_ms = db_col_i64(st, 7);
    copy_text(o->privacy_controller, sizeof(o->privacy_controller), st, 8);
    copy_text(o->privacy_dpo, sizeof(o->privacy_dpo), st, 9);
    copy_text(o->accessibility_url, sizeof(o->accessibility_url), st, 10);
    copy_text(o->accessibility_email, sizeof(o->accessibility_email), st, 11);
}

static int org_one(struct store_reader *r, struct db_stmt *st, struct store_org *out)
{
    int err = step_row(r, st, "org_get");

    if (err == 1) {
        org_from_row(st, out);
        err = 0;
    } else if (err == 0) {
        err = -ENOENT;
    }
    db_reset(st);
    return err;
}

int store_org_get(struct store_reader *r, const char *slug, struct store_org *out)
{
    static const char sql[] = "SELECT " ORG_COLS " FROM orgs WHERE slug = ?1";
    struct db_stmt *st;

    if (!store_org_slug_valid(slug))
        return -ENOENT;
    st = db_stmt(r->db, sql);
    if (!st)
        return -EIO;
    db_bind_text(st, 1, slug);
    return org_one(r, st, out);
}

int store_org_get_id(struct store_reader *r, int64_t id, struct store_org *out)
{
    static const char sql[] = "SELECT " ORG_COLS " FROM orgs WHERE id = ?1";
    struct db_stmt *st = db_stmt(r->db, sql);

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, id);
    return org_one(r, st, out);
}

int store_org_list(struct store_reader *r, int64_t only_id, store_org_fn *each, void *ctx)
{
    static const char sql[] = "SELECT " ORG_COLS " FROM orgs"
                              " WHERE ?1 = 0 OR id = ?1 ORDER BY slug";
    struct db_stmt *st = db_stmt(r->db, sql);
    struct store_org *o;
    int err;

    if (!st)
        return -EIO;
    o = xmalloc(sizeof(*o)); /* ~2 KB: off the loop's stack */
    db_bind_i64(st, 1, only_id);
    while ((err = step_row(r, st, "org_list")) == 1) {
        org_from_row(st, o);
        each(ctx, o);
    }
    db_reset(st);
    free(o);
    return err;
}

#define USER_COLS                                                            \
    "u.id, u.email, u.role, u.org_id, u.must_change_password, u.created_ms," \
    " coalesce(u.disabled_ms, 0)"

static void user_from_row(struct db_stmt *st, struct store_user *out, int64_t *disabled_ms)
{
    memset(out, 0, sizeof(*out));
    out->id = db_col_i64(st, 0);
    copy_text(out->email, sizeof(out->email), st, 1);
    out->role = (enum store_role)db_col_int(st, 2);
    out->org_id = db_col_i64(st, 3);
    out->must_change_password = db_col_int(st, 4) != 0;
    out->created_ms = db_col_i64(st, 5);
    if (disabled_ms)
        *disabled_ms = db_col_i64(st, 6);
}

int store_user_get(struct store_reader *r, int64_t id, struct store_user *out, int64_t *disabled_ms)
{
    static const char sql[] = "SELECT " USER_COLS " FROM users u WHERE u.id = ?1";
    struct db_stmt *st = db_stmt(r->db, sql);
    int err;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, id);
    err = step_row(r, st, "user_get");
    if (err == 1) {
        user_from_row(st, out, disabled_ms);
        err = 0;
    } else if (err == 0) {
        err = -ENOENT;
    }
    db_reset(st);
    return err;
}

int store_staff_list(struct store_reader *r, int64_t org_id, store_staff_fn *each, void *ctx)
{
    static const char sql[] = "SELECT " USER_COLS " FROM users u WHERE u.org_id = ?1"
                              " ORDER BY u.id";
    struct db_stmt *st = db_stmt(r->db, sql);
    struct store_user u;
    int64_t disabled_ms;
    int err;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, org_id);
    while ((err = step_row(r, st, "staff_list")) == 1) {
        user_from_row(st, &u, &disabled_ms);
        each(ctx, &u, disabled_ms);
    }
    db_reset(st);
    return err;
}

int store_session_find(struct store_reader *r, const uint8_t hash[SECRET_HASH_LEN], int64_t now_ms,
                       int64_t idle_ms, struct store_user *out, int64_t *session_id,
                       int64_t *last_seen_ms)
{
    static const char sql[] = "SELECT " USER_COLS ", s.id, s.last_seen_ms FROM sessions s"
                              " JOIN users u ON u.id = s.user_id"
                              " WHERE s.hash = ?1 AND s.ended_ms IS NULL AND s.expires_ms > ?2"
                              " AND s.last_seen_ms > ?3 AND u.disabled_ms IS NULL";
    struct db_stmt *st = db_stmt(r->db, sql);
    int err;

    if (!st)
        return -EIO;
    db_bind_blob(st, 1, hash, SECRET_HASH_LEN);
    db_bind_i64(st, 2, now_ms);
    db_bind_i64(st, 3, now_ms - idle_ms);
    err = step_row(r, st, "session_find");
    if (err == 1) {
        user_from_row(st, out, NULL);
        if (session_id)
            *session_id = db_col_i64(st, 7);
        if (last_seen_ms)
            *last_seen_ms = db_col_i64(st, 8);
        err = 0;
    } else if (err == 0) {
        err = -ENOENT;
    }
    db_reset(st);
    return err;
}
