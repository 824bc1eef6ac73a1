/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Organizations (a Comune), their staff accounts and their audit log. Operators create orgs
 * and manage every one; an org's org_admin manages their own; an org's public profile is open
 * to anyone. This file also lists api/session.c's routes: api_accounts_routes is one set.
 */
#include "api/api_int.h"
#include "api/counts_int.h"
#include "api/tiles_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/password.h"
#include "core/workpool.h"
#include "store/orgs.h"

#define EMAIL_MAX        255
#define BODY_MAX         8192
#define AUDIT_LIMIT_DEF  50  /* entries per page when ?limit= is absent */
#define AUDIT_LIMIT_MAX  200 /* most entries per page */
#define AUDIT_ACTION_MAX 64  /* the longest action name the store keeps */
#define ZONEINFO_DIR     "/usr/share/zoneinfo"

/* ---- helpers ---- */

static json_t *str_or_null(const char *s)
{
    return *s ? json_string(s) : json_null();
}

static json_t *org_json(const struct store_org *o)
{
    char id[24];
    char created[32];

    snprintf(id, sizeof(id), "%lld", (long long)o->id);
    clock_rfc3339(o->created_ms, created, sizeof(created));
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:s}", "id", id,
                     "slug", o->slug, "name", o->name, "istat_code", str_or_null(o->istat_code),
                     "jurisdiction_id", str_or_null(o->jurisdiction_id), "timezone", o->timezone,
                     "logo", str_or_null(o->logo), "privacy_controller",
                     str_or_null(o->privacy_controller), "privacy_dpo", str_or_null(o->privacy_dpo),
                     "accessibility_url", str_or_null(o->accessibility_url), "accessibility_email",
                     str_or_null(o->accessibility_email), "created_at", created);
}

/* The org named by the route's {slug} into a heap struct, or answer 404 and return NULL. */
static struct store_org *load_org(struct http_req *r)
{
    struct store_org *o = xmalloc(sizeof(*o));
    int err = store_org_get(api__reader(r), http_req_param(r, "slug"), o);

    if (!err)
        return o;
    free(o);
    if (err == -ENOENT) {
        http_respond_error(r, 404, "org_not_found",
                           "No organization has this slug: check the address.", "slug");
    } else {
        api__errno(r, err, "org lookup");
    }
    return NULL;
}

static bool is_admin_of(const struct store_user *u, const struct store_org *o)
{
    return u->role == STORE_ROLE_OPERATOR ||
           (u->role == STORE_ROLE_ORG_ADMIN && u->org_id == o->id);
}

static void forbidden(struct http_req *r, const char *what)
{
    char msg[200];

    snprintf(msg, sizeof(msg), "Only an operator or this organization's admins may %s.", what);
    http_respond_error(r, 403, "forbidden", msg, NULL);
}

/* IANA names are files under the zoneinfo directory; without one, trust the pattern. */
static bool tz_exists(const char *tz)
{
    char path[sizeof(ZONEINFO_DIR) + STORE_ORG_TZ_MAX + 2];
    struct stat st;

    if (!store_org_tz_valid(tz))
        return false;
    if (stat(ZONEINFO_DIR, &st) != 0)
        return true;
    snprintf(path, sizeof(path), "%s/%s", ZONEINFO_DIR, tz);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool bad(struct http_req *r, const char *code, const char *msg, const char *field)
{
    http_respond_error(r, 400, code, msg, field);
    return false;
}

static bool email_ok(const char *e);

/* An http(s) URL with a host and nothing a page could not hold: no spaces, quotes or controls. */
static bool web_url_ok(const char *u)
{
    size_t scheme = !strncmp(u, "https://", 8) ? 8 : !strncmp(u, "http://", 7) ? 7 : 0;

    if (!scheme || !u[scheme] || u[scheme] == '/')
        return false;
    for (; *u; u++) {
        if ((unsigned char)*u <= ' ' || *u == '"' || *u == '<' || *u == '>' || *u == '\\' ||
            (unsigned char)*u >= 0x7f)
            return false;
    }
    return true;
}

/*
 * The fields of the public pages (privacy notice, footer): each optional, null clears it on
 * PATCH. Answers 400 on failure.
 */
static bool read_page_fields(struct http_req *r, json_t *body, bool patch,
                             struct store_org_fields *f)
{
    const char *v;

    if (!api__string(r, body, "privacy_controller", false, 1, STORE_ORG_PRIVACY_MAX, &v))
        return false;
    if (v || (patch && json_object_get(body, "privacy_controller"))) {
        f->set |= STORE_ORG_F_CONTROLLER;
        f->privacy_controller = v;
    }
    if (!api__string(r, body, "privacy_dpo", false, 1, STORE_ORG_PRIVACY_MAX, &v))
        return false;
    if (v || (patch && json_object_get(body, "privacy_dpo"))) {
        f->set |= STORE_ORG_F_DPO;
        f->privacy_dpo = v;
    }
    if (!api__string(r, body, "accessibility_url", false, 1, STORE_ORG_URL_MAX, &v))
        return false;
    if (v && (strlen(v) > STORE_ORG_URL_MAX || !web_url_ok(v))) {
        return bad(r, "invalid_value",
                   "'accessibility_url' must be an http(s) address such as "
                   "https://form.agid.gov.it/view/... (at most 500 characters).",
                   "accessibility_url");
    }
    if (v || (patch && json_object_get(body, "accessibility_url"))) {
        f->set |= STORE_ORG_F_A11Y_URL;
        f->accessibility_url = v;
    }
    if (!api__string(r, body, "accessibility_email", false, 3, STORE_ORG_EMAIL_MAX, &v))
        return false;
    if (v && (strlen(v) > STORE_ORG_EMAIL_MAX || !email_ok(v) || strchr(v, '?'))) {
        return bad(r, "invalid_value", "'accessibility_email' must be an e-mail address.",
                   "accessibility_email");
    }
    if (v || (patch && json_object_get(body, "accessibility_email"))) {
        f->set |= STORE_ORG_F_A11Y_EMAIL;
        f->accessibility_email = v;
    }
    return true;
}

/*
 * `istat_code`: absent or null (`*out` NULL), or exactly 6 digits. Whatever else is sent (a
 * number, a shorter or longer string, letters) gets one answer, 400 invalid_value, so a client
 * need not tell the cases apart.
 */
static bool istat_member(struct http_req *r, json_t *body, const char **out)
{
    json_t *v = json_object_get(body, "istat_code");
    const char *s;

    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    s = json_string_value(v);
    if (!s || json_string_length(v) != STORE_ORG_ISTAT_LEN ||
        strspn(s, "0123456789") != STORE_ORG_ISTAT_LEN) {
        return bad(r, "invalid_value", "'istat_code' must be the 6 digits of the ISTAT code.",
                   "istat_code");
    }
    *out = s;
    return true;
}

/*
 * Read the org fields present in `body` into `f` (strings borrowed from body). `patch`: null
 * clears an optional field; on create null is the same as absent. `org_id` is the org being
 * changed, 0 on create (then only an operator's upload can be its logo). Answers 400 on failure.
 */
static bool read_fields(struct http_req *r, json_t *body, bool patch, int64_t org_id,
                        struct store_org_fields *f)
{
    const char *v;

    memset(f, 0, sizeof(*f));
    if (!api__label(r, body, "name", !patch, 1, STORE_ORG_NAME_MAX, false, &v))
        return false;
    if (v) {
        f->set |= STORE_ORG_F_NAME;
        f->name = v;
    } else if (patch && json_object_get(body, "name")) {
        return bad(r, "missing_field", "'name' cannot be removed.", "name");
    }
    if (!istat_member(r, body, &v))
        return false;
    if (v || (patch && json_object_get(body, "istat_code"))) {
        f->set |= STORE_ORG_F_ISTAT;
        f->istat_code = v;
    }
    if (!api__string(r, body, "jurisdiction_id", false, 1, STORE_ORG_JURIS_MAX, &v))
        return false;
    if (v || (patch && json_object_get(body, "jurisdiction_id"))) {
        f->set |= STORE_ORG_F_JURIS;
        f->jurisdiction_id = v;
    }
    if (!api__string(r, body, "timezone", false, 1, STORE_ORG_TZ_MAX, &v))
        return false;
    if (v && !tz_exists(v)) {
        return bad(r, "invalid_timezone",
                   "'timezone' must be an IANA time zone name such as Europe/Rome.", "timezone");
    }
    if (v) {
        f->set |= STORE_ORG_F_TZ;
        f->timezone = v;
    } else if (patch && json_object_get(body, "timezone")) {
        return bad(r, "missing_field", "'timezone' cannot be removed.", "timezone");
    }
    if (!api__string(r, body, "logo", false, 1, STORE_ORG_LOGO_MAX, &v))
        return false;
    /* Like a channel's icon: an image uploaded for this Comune, or by an operator. */
    if (v && !api__media_image_of(r, v, org_id)) {
        return bad(r, "invalid_value",
                   "'logo' must be the id of an image uploaded for this Comune (POST "
                   "/api/v1/media), or by an operator.",
                   "logo");
    }
    if (v || (patch && json_object_get(body, "logo"))) {
        f->set |= STORE_ORG_F_LOGO;
        f->logo = v;
    }
    return read_page_fields(r, body, patch, f);
}

/* Answer with the org `id` as it is now (after a committed write). */
static void answer_org(struct http_req *r, int status, int64_t id)
{
    struct store_org *o = xmalloc(sizeof(*o));
    int err = store_org_get_id(api__reader(r), id, o);

    if (err) {
        api__errno(r, err, "org read");
    } else {
        api__json(r, status, org_json(o));
    }
    free(o);
}

/* ---- POST /api/v1/orgs ---- */

static void org_created(struct http_req *r, int err, int64_t id, void *data)
{
    (void)data;
    if (err == -EEXIST) {
        http_respond_error(r, 409, "slug_taken",
                           "An organization with this slug already exists: choose another.",
                           "slug");
        return;
    }
    if (err) {
        api__errno(r, err, "org create");
        return;
    }
    answer_org(r, 201, id);
}

static void orgs_create(struct http_req *r)
{
    static const char *const allowed[] = { "slug",
                                           "name",
                                           "istat_code",
                                           "jurisdiction_id",
                                           "timezone",
                                           "logo",
                                           "privacy_controller",
                                           "privacy_dpo",
                                           "accessibility_url",
                                           "accessibility_email",
                                           NULL };
    struct store_org_fields f;
    struct api_pending *p;
    struct store_user me;
    const char *slug;
    json_t *body;
    int err;

    if (!api__staff(r, &me, NULL))
        return;
    if (me.role != STORE_ROLE_OPERATOR) {
        http_respond_error(r, 403, "forbidden", "Only operators create organizations.", NULL);
        return;
    }
    body = api__body_object(r, allowed);
    if (!body)
        return;
    if (!api__string(r, body, "slug", true, STORE_ORG_SLUG_MIN, STORE_ORG_SLUG_MAX, &slug) ||
        !read_fields(r, body, false, 0, &f))
        goto out;
    if (!store_org_slug_valid(slug)) {
        bad(r, "invalid_slug",
            "'slug' may hold only lower-case letters a-z, digits and '-' (2 to 64).", "slug");
        goto out;
    }
    p = api__pending_new(r, org_created, NULL);
    err = store_org_add(api__app(r)->store, me.id, slug, &f, api__pending_done, p, NULL);
    if (err) {
        api__pending_free(p);
        org_created(r, err, 0, NULL);
    }
out:
    json_decref(body);
}

/* ---- GET /api/v1/orgs, GET /api/v1/orgs/{slug} ---- */

static void list_one(void *ctx, const struct store_org *o)
{
    json_array_append_new(ctx, org_json(o));
}

static void orgs_list(struct http_req *r)
{
    struct store_user me;
    json_t *arr;
    int err;

    if (!api__staff(r, &me, NULL))
        return;
    arr = json_array();
    if (me.role == STORE_ROLE_OPERATOR) {
        err = store_org_list(api__reader(r), 0, list_one, arr);
    } else {
        err = me.org_id ? store_org_list(api__reader(r), me.org_id, list_one, arr) : 0;
    }
    if (err) {
        json_decref(arr);
        api__errno(r, err, "org list");
        return;
    }
    api__json(r, 200, json_pack("{s:o}", "orgs", arr));
}

static void orgs_get(struct http_req *r)
{
    struct store_org *o = load_org(r);
    json_t *v;

    if (!o)
        return;
    v = org_json(o);
    json_object_set_new(v, "map", api__map_json(api__app(r))); /* the web app's map, or null */
    api__json(r, 200, v);
    free(o);
}

/* ---- PATCH /api/v1/orgs/{slug} ---- */

static void org_updated(struct http_req *r, int err, int64_t id, void *data)
{
    (void)data;
    if (err) {
        api__errno(r, err, "org update");
        return;
    }
    answer_org(r, 200, id);
}

static void orgs_patch(struct http_req *r)
{
    static const char *const allowed[] = { "name",
                                           "istat_code",
                                           "jurisdiction_id",
                                           "timezone",
                                           "logo",
                                           "privacy_controller",
                                           "privacy_dpo",
                                           "accessibility_url",
                                           "accessibility_email",
                                           NULL };
    static const struct api_immutable imm[] = {
        { "id", NULL },
        { "slug", ": links and feeds depend on it." },
        { "created_at", NULL },
        { NULL, NULL },
    };
    struct store_org *o = NULL;
    struct store_org_fields f;
    struct api_pending *p;
    struct store_user me;
    json_t *body = NULL;
    int err;

    if (!api__staff(r, &me, NULL))
        return;
    o = load_org(r);
    if (!o)
        return;
    if (!is_admin_of(&me, o)) {
        forbidden(r, "change it");
        goto out;
    }
    body = api__patch_body(r, allowed, imm);
    if (!body)
        goto out;
    if (!read_fields(r, body, true, o->id, &f))
        goto out;
    if (!f.set) {
        api__json(r, 200, org_json(o));
        goto out;
    }
    p = api__pending_new(r, org_updated, NULL);
    err = store_org_update(api__app(r)->store, me.id, o->id, &f, api__pending_done, p);
    if (err) {
        api__pending_free(p);
        org_updated(r, err, 0, NULL);
    }
out:
    json_decref(body);
    free(o);
}

/* ---- staff ---- */

static json_t *staff_json(const struct store_user *u, int64_t disabled_ms)
{
    char id[24];
    char created[32];

    snprintf(id, sizeof(id), "%lld", (long long)u->id);
    clock_rfc3339(u->created_ms, created, sizeof(created));
    return json_pack("{s:s, s:s, s:s, s:b, s:b, s:s}", "id", id, "email", u->email, "role",
                     store_role_name(u->role), "must_change_password", u->must_change_password,
                     "disabled", disabled_ms != 0, "created_at", created);
}

/* A new account's one-time password, hashed off the loop, then the store write. */
struct staff_new {
    struct http_req *req;
    struct http_loop *loop;
    int64_t actor_id, org_id;
    enum store_role role;
    int hash_err;
    char email[EMAIL_MAX + 1];
    char password[32];
    char hash[PASSWORD_HASH_MAX];
};

static void staff_new_free(struct staff_new *s)
{
    explicit_bzero(s, sizeof(*s));
    free(s);
}

static void staff_added(struct http_req *r, int err, int64_t id, void *data)
{
    struct staff_new *s = data;
    struct store_user u;

    if (err == -EEXIST) {
        http_respond_error(r, 409, "email_taken", "An account with this e-mail already exists.",
                           "email");
    } else if (err) {
        api__errno(r, err, "staff add");
    } else if ((err = store_user_get(api__reader(r), id, &u, NULL)) != 0) {
        api__errno(r, err, "staff read");
    } else {
        json_t *v = staff_json(&u, 0);

        /* Shown once: only its argon2id hash is kept, and there is no e-mail sending. */
        json_object_set_new(v, "password", json_string(s->password));
        api__json(r, 201, v);
    }
    staff_new_free(s);
}

static void staff_hashed(void *arg)
{
    struct staff_new *s = arg;
    struct http_req *r = s->req;
    struct api_pending *p;
    int err;

    if (s->hash_err) {
        api__errno(r, -EIO, "password hash");
        staff_new_free(s);
        return;
    }
    p = api__pending_new(r, staff_added, s);
    err = store_staff_add(api__app(r)->store, s->actor_id, s->org_id, s->email, s->role, s->hash,
                          true, api__pending_done, p, NULL);
    if (err) {
        api__pending_free(p);
        staff_added(r, err, 0, s);
    }
}

static void staff_hash_work(void *arg)
{
    struct staff_new *s = arg;

    s->hash_err = password_hash(s->password, s->hash, sizeof(s->hash));
    if (http_loop_post(s->loop, staff_hashed, s) != 0)
        staff_new_free(s);
}

static bool email_ok(const char *e)
{
    const char *at = strchr(e, '@');

    if (!at || at == e || !at[1] || strchr(at + 1, '@'))
        return false;
    for (; *e; e++) {
        unsigned char c = (unsigned char)*e;

        if (c <= ' ' || c == '"' || c == '\\' || c >= 0x7f)
            return false;
    }
    return true;
}

static void staff_create(struct http_req *r)
{
    static const char *const allowed[] = { "email", "role", NULL };
    struct store_org *o = NULL;
    struct staff_new *s = NULL;
    struct store_user me;
    const char *email, *role;
    enum store_role rv;
    json_t *body = NULL;
    int err;

    if (!api__staff(r, &me, NULL))
        return;
    o = load_org(r);
    if (!o)
        return;
    if (!is_admin_of(&me, o)) {
        forbidden(r, "add staff");
        goto out;
    }
    body = api__body_object(r, allowed);
    if (!body)
        goto out;
    if (!api__string(r, body, "email", true, 3, EMAIL_MAX, &email) ||
        !api__string(r, body, "role", true, 1, 16, &role))
        goto out;
    if (!email_ok(email)) {
        bad(r, "invalid_email", "'email' must be an e-mail address like ufficio@comune.it.",
            "email");
        goto out;
    }
    if (store_role_parse(role, &rv) || rv == STORE_ROLE_OPERATOR) {
        bad(r, "invalid_value", "'role' must be org_admin or staff.", "role");
        goto out;
    }
    s = xcalloc(1, sizeof(*s));
    s->req = r;
    s->loop = http_req_loop(r);
    s->actor_id = me.id;
    s->org_id = o->id;
    s->role = rv;
    snprintf(s->email, sizeof(s->email), "%s", email);
    password_generate(s->password, sizeof(s->password));
    err = workpool_submit(api__hash_pool(), staff_hash_work, s);
    if (err) {
        staff_new_free(s);
        api__errno(r, -ENOBUFS, "password hash");
    }
out:
    json_decref(body);
    free(o);
}

static void staff_one(void *ctx, const struct store_user *u, int64_t disabled_ms)
{
    json_array_append_new(ctx, staff_json(u, disabled_ms));
}

static void staff_list(struct http_req *r)
{
    struct store_org *o = NULL;
    struct store_user me;
    json_t *arr;
    int err;

    if (!api__staff(r, &me, NULL))
        return;
    o = load_org(r);
    if (!o)
        return;
    if (!is_admin_of(&me, o)) {
        forbidden(r, "list its staff");
        free(o);
        return;
    }
    arr = json_array();
    err = store_staff_list(api__reader(r), o->id, staff_one, arr);
    free(o);
    if (err) {
        json_decref(arr);
        api__errno(r, err, "staff list");
        return;
    }
    api__json(r, 200, json_pack("{s:o}", "staff", arr));
}

static void staff_disabled(struct http_req *r, int err, int64_t id, void *data)
{
    (void)id;
    (void)data;
    if (err == -ENOENT) {
        http_respond_error(r, 404, "staff_not_found",
                           "This organization has no active account with this id.", "id");
        return;
    }
    if (err) {
        api__errno(r, err, "staff disable");
        return;
    }
    http_respond(r, 204, NULL, NULL, 0);
}

static bool parse_id(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (*end || errno || v <= 0)
        return false;
    *out = v;
    return true;
}

static void staff_delete(struct http_req *r)
{
    struct store_org *o = NULL;
    struct api_pending *p;
    struct store_user me;
    int64_t id = 0;
    int err;

    if (!api__staff(r, &me, NULL))
        return;
    o = load_org(r);
    if (!o)
        return;
    if (!is_admin_of(&me, o)) {
        forbidden(r, "remove staff");
        goto out;
    }
    if (!parse_id(http_req_param(r, "id"), &id)) {
        staff_disabled(r, -ENOENT, 0, NULL);
        goto out;
    }
    /* Only one's own account in this org; anyone else not in it is 404 (the store's -ENOENT). */
    if (id == me.id && me.org_id == o->id) {
        http_respond_error(r, 409, "cannot_remove_self",
                           "You cannot remove your own account: ask another admin.", "id");
        goto out;
    }
    p = api__pending_new(r, staff_disabled, NULL);
    err = store_user_disable(api__app(r)->store, me.id, o->id, id, api__pending_done, p);
    if (err) {
        api__pending_free(p);
        staff_disabled(r, err, 0, NULL);
    }
out:
    free(o);
}

/* ---- GET /api/v1/orgs/{slug}/audit ---- */

struct audit_page {
    json_t *arr;
    int64_t last_id;
};

static void audit_one(void *ctx, const struct store_audit_entry *e)
{
    struct audit_page *pg = ctx;
    char id[24], uid[24], at[32];
    json_t *actor = json_null();
    json_t *detail = json_null();

    snprintf(id, sizeof(id), "%lld", (long long)e->id);
    clock_rfc3339(e->created_ms, at, sizeof(at));
    if (e->user_id) {
        snprintf(uid, sizeof(uid), "%lld", (long long)e->user_id);
        actor = json_pack("{s:s, s:s}", "id", uid, "email", e->actor_email);
    }
    if (e->detail_json) {
        json_t *d = json_parse(e->detail_json, strlen(e->detail_json), NULL, 0);

        if (d) {
            json_decref(detail);
            detail = d;
        }
    }
    json_array_append_new(pg->arr, json_pack("{s:s, s:s, s:o, s:s, s:s, s:o}", "id", id, "at", at,
                                             "actor", actor, "action", e->action, "target",
                                             e->target, "detail", detail));
    pg->last_id = e->id;
}

static bool query_int(struct http_req *r, const char *name, int64_t *out)
{
    const char *v = http_req_query(r, name);
    char msg[120];

    if (!v)
        return true;
    if (!parse_id(v, out)) {
        snprintf(msg, sizeof(msg), "'%s' must be a positive whole number.", name);
        http_respond_error(r, 400, "invalid_value", msg, name);
        return false;
    }
    return true;
}

/* An RFC 3339 time in the query (absent: 0). */
static bool query_time(struct http_req *r, const char *name, int64_t *out)
{
    const char *v = http_req_query(r, name);
    char msg[120];

    if (!v)
        return true;
    if (!api__rfc3339_parse(v, out) || *out <= 0) {
        snprintf(msg, sizeof(msg), "'%s' must be an RFC 3339 time (2026-12-01T00:00:00+01:00).",
                 name);
        http_respond_error(r, 400, "invalid_value", msg, name);
        return false;
    }
    return true;
}

static void audit_list(struct http_req *r)
{
    struct audit_page pg = { 0 };
    struct store_audit_filter filter = { 0 };
    struct store_org *o = NULL;
    struct store_user me;
    int64_t limit = AUDIT_LIMIT_DEF, before = 0;
    char next[24];
    int err;

    if (!api__staff(r, &me, NULL))
        return;
    o = load_org(r);
    if (!o)
        return;
    if (!is_admin_of(&me, o)) {
        forbidden(r, "read its audit log");
        goto out;
    }
    if (!query_int(r, "limit", &limit) || !query_int(r, "before", &before) ||
        !query_int(r, "actor", &filter.user_id) || !query_time(r, "from", &filter.from_ms) ||
        !query_time(r, "to", &filter.to_ms))
        goto out;
    filter.action = http_req_query(r, "action");
    if (filter.action && (!*filter.action || strlen(filter.action) > AUDIT_ACTION_MAX)) {
        bad(r, "invalid_value", "'action' must be one of the actions listed in docs/API.md.",
            "action");
        goto out;
    }
    if (limit > AUDIT_LIMIT_MAX) {
        bad(r, "invalid_value", "'limit' must be 1 to 200.", "limit");
        goto out;
    }
    pg.arr = json_array();
    err = store_audit_find(api__reader(r), o->id, before, (unsigned)limit, &filter, audit_one, &pg);
    if (err) {
        json_decref(pg.arr);
        api__errno(r, err, "audit list");
        goto out;
    }
    snprintf(next, sizeof(next), "%lld", (long long)pg.last_id);
    api__json(r, 200,
              json_pack("{s:o, s:o}", "entries", pg.arr, "next_before",
                        (json_array_size(pg.arr) == (size_t)limit && pg.last_id > 1)
                            ? json_string(next)
                            : json_null()));
out:
    free(o);
}

static const struct http_route routes[] = {
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/orgs", orgs_create, BODY_MAX, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs", orgs_list, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}", orgs_get, 0, NULL },
    { HTTP_M_PATCH, HTTP_ROUTE_JSON, "/api/v1/orgs/{slug}", orgs_patch, BODY_MAX, NULL },
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/orgs/{slug}/staff", staff_create, BODY_MAX, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/staff", staff_list, 0, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/orgs/{slug}/staff/{id}", staff_delete, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/audit", audit_list, 0, NULL },
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/session", api__session_create, BODY_MAX, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/session", api__session_get, 0, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/session", api__session_delete, 0, NULL },
    { HTTP_M_PUT, HTTP_ROUTE_JSON, "/api/v1/me/password", api__password_change, BODY_MAX, NULL },
};
API_ROUTE_SET(api_accounts_routes, routes);
