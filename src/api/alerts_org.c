/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Civil-protection alerts, what an org sets up before publishing: its alert zones, its risks
 * (the national vocabulary with its own names, plus custom ones) and its alert settings (who
 * may publish, the two-person rule, CAP import rules). Routes are listed in api/alerts.c.
 */
#include "api/alerts_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"

#define GEOCODES_MAX 16 /* per zone */

static const char *const categories[] = { "Geo",   "Met",    "Safety", "Security",  "Rescue",
                                          "Fire",  "Health", "Env",    "Transport", "Infra",
                                          "CBRNE", "Other",  NULL };

static bool in_list(const char *s, const char *const *l)
{
    for (; s && *l; l++) {
        if (!strcmp(s, *l))
            return true;
    }
    return false;
}

static bool bad(struct http_req *r, const char *code, const char *msg, const char *field)
{
    http_respond_error(r, 400, code, msg, field);
    return false;
}

static bool org_admin(struct http_req *r, const struct store_user *me, const struct store_org *o)
{
    if (me->role == STORE_ROLE_OPERATOR ||
        (me->role == STORE_ROLE_ORG_ADMIN && me->org_id == o->id))
        return true;
    http_respond_error(r, 403, "forbidden",
                       "Only an operator or this organization's admins may change this.", NULL);
    return false;
}

/* ---- zones ---- */

static json_t *zone_json(const struct store_zone *z)
{
    json_t *geo = json_loads(z->geocodes_json, 0, NULL);

    return json_pack("{s:s, s:s, s:o, s:s?}", "code", z->code, "name", z->name, "geocodes",
                     geo ? geo : json_array(), "polygon", z->polygon);
}

void api__zone_one(void *ctx, const struct store_zone *z)
{
    json_array_append_new(ctx, zone_json(z));
}

/* geocodes: array of {"valueName","value"}, each 1..64 characters; re-encoded into `*out`. */
static bool read_geocodes(struct http_req *r, json_t *body, char **out)
{
    json_t *v = json_object_get(body, "geocodes");
    json_t *it;
    size_t i;

    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_array(v) || json_array_size(v) > GEOCODES_MAX) {
        return bad(r, "invalid_value", "'geocodes' must be a list of at most 16 objects.",
                   "geocodes");
    }
    json_array_foreach(v, i, it)
    {
        const char *n = json_string_value(json_object_get(it, "valueName"));
        const char *val = json_string_value(json_object_get(it, "value"));

        if (!json_is_object(it) || json_object_size(it) != 2 || !n || !val || !*n || !*val ||
            strlen(n) > 64 || strlen(val) > 64 || strpbrk(n, "<&") || strpbrk(val, "<&")) {
            return bad(r, "invalid_value",
                       "Each geocode is {\"valueName\": \"ISTAT\", \"value\": \"048010\"}"
                       " (1 to 64 characters each).",
                       "geocodes");
        }
    }
    *out = json_dumps(v, JSON_COMPACT);
    return true;
}

/* A CAP polygon: at least 4 "lat,lon" pairs separated by spaces, first equal to last. */
static bool polygon_ok(const char *p)
{
    const char *first_end = strchr(p, ' ');
    const char *last = strrchr(p, ' ');
    unsigned pairs = 0;
    const char *q = p;

    if (!first_end || !last)
        return false;
    while (*q) {
        char *end;
        double lat = strtod(q, &end);
        double lon;

        if (end == q || *end != ',' || lat < -90 || lat > 90)
            return false;
        q = end + 1;
        lon = strtod(q, &end);
        if (end == q || lon < -180 || lon > 180 || (*end && *end != ' '))
            return false;
        pairs++;
        q = *end ? end + 1 : end;
    }
    return pairs >= 4 && (size_t)(first_end - p) == strlen(last + 1) &&
           !strncmp(p, last + 1, (size_t)(first_end - p));
}

static bool code_ok(const char *c)
{
    for (; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              strchr("_.-", *c)))
            return false;
    }
    return true;
}

struct zone_ctx {
    int64_t org_id;
    int status; /* 201 created, 200 replaced, 204 deleted */
    char code[STORE_ZONE_CODE_MAX + 1];
};

static void zone_done(struct http_req *r, int err, int64_t id, void *data)
{
    struct zone_ctx *zc = data;
    json_t *arr;

    (void)id;
    if (err == -EEXIST) {
        http_respond_error(r, 409, "zone_exists", "This org already has a zone with this code.",
                           "code");
    } else if (err == -ENOENT) {
        http_respond_error(r, 404, "zone_not_found", "This org has no zone with this code.",
                           "code");
    } else if (err) {
        api__errno(r, err, "zone write");
    } else if (zc->status == 204) {
        http_respond(r, 204, NULL, NULL, 0);
    } else {
        arr = json_array();
        err = store_zone_list(api__reader(r), zc->org_id, zc->code, api__zone_one, arr);
        if (err) {
            api__errno(r, err, "zone read");
        } else {
            api__json(r, zc->status, json_incref(json_array_get(arr, 0)));
        }
        json_decref(arr);
    }
    free(zc);
}

static void zone_write(struct http_req *r, bool create)
{
    static const char *const allowed[] = { "code", "name", "geocodes", "polygon", NULL };
    struct store_org o;
    struct store_user me;
    const char *code = create ? NULL : http_req_param(r, "code");
    const char *name = NULL, *polygon = NULL;
    char *geo = NULL;
    json_t *body = NULL;
    json_t *old = NULL;
    struct zone_ctx *zc;
    struct api_pending *p;
    int err;

    if (!api__staff(r, &me, NULL) || !api__alert_org(r, &o) || !api__alert_publisher(r, &me, &o))
        return;
    body = api__body_object(r, allowed);
    if (!body)
        return;
    if (!create) {
        old = json_array();
        err = store_zone_list(api__reader(r), o.id, code, api__zone_one, old);
        if (err) {
            if (err == -ENOENT) {
                http_respond_error(r, 404, "zone_not_found", "This org has no zone with this code.",
                                   "code");
            } else {
                api__errno(r, err, "zone read");
            }
            goto out;
        }
        if (json_object_get(body, "code")) {
            bad(r, "immutable_field", "A zone's 'code' cannot change: alerts name it.", "code");
            goto out;
        }
    }
    if ((create && !api__string(r, body, "code", true, 1, STORE_ZONE_CODE_MAX, &code)) ||
        !api__label(r, body, "name", create, 1, STORE_ZONE_NAME_MAX, false, &name) ||
        !api__string(r, body, "polygon", false, 7, STORE_ZONE_POLYGON_MAX, &polygon) ||
        !read_geocodes(r, body, &geo))
        goto out;
    if (!code_ok(code)) {
        bad(r, "invalid_value", "'code' may hold letters, digits, '_', '.' and '-'.", "code");
        goto out;
    }
    if (polygon && !polygon_ok(polygon)) {
        bad(r, "invalid_value",
            "'polygon' is CAP's \"lat,lon lat,lon ...\": at least 4 pairs, the last equal to the"
            " first.",
            "polygon");
        goto out;
    }
    if (old) {
        json_t *z = json_array_get(old, 0);

        if (!name)
            name = json_string_value(json_object_get(z, "name"));
        if (!json_object_get(body, "polygon"))
            polygon = json_string_value(json_object_get(z, "polygon"));
        if (!json_object_get(body, "geocodes"))
            geo = json_dumps(json_object_get(z, "geocodes"), JSON_COMPACT);
    }
    zc = xcalloc(1, sizeof(*zc));
    zc->org_id = o.id;
    zc->status = create ? 201 : 200;
    snprintf(zc->code, sizeof(zc->code), "%s", code);
    p = api__pending_new(r, zone_done, zc);
    err = store_zone_put(api__app(r)->store, me.id, o.id, code, create, name, geo, polygon,
                         api__pending_done, p);
    if (err) {
        api__pending_free(p);
        zone_done(r, err, 0, zc);
    }
out:
    free(geo);
    json_decref(old);
    json_decref(body);
}

void api__zones_create(struct http_req *r)
{
    zone_write(r, true);
}

void api__zone_patch(struct http_req *r)
{
    zone_write(r, false);
}

void api__zones_list(struct http_req *r)
{
    struct store_org o;
    json_t *arr;
    int err;

    if (!api__alert_org(r, &o))
        return;
    arr = json_array();
    err = store_zone_list(api__reader(r), o.id, NULL, api__zone_one, arr);
    if (err) {
        json_decref(arr);
        api__errno(r, err, "zone list");
        return;
    }
    api__alerts_answer_json(r, json_pack("{s:o}", "zones", arr), true);
}

void api__zone_get(struct http_req *r)
{
    struct store_org o;
    json_t *arr;
    int err;

    if (!api__alert_org(r, &o))
        return;
    arr = json_array();
    err = store_zone_list(api__reader(r), o.id, http_req_param(r, "code"), api__zone_one, arr);
    if (err == -ENOENT) {
        http_respond_error(r, 404, "zone_not_found", "This org has no zone with this code.",
                           "code");
    } else if (err) {
        api__errno(r, err, "zone read");
    } else {
        api__alerts_answer_json(r, json_incref(json_array_get(arr, 0)), true);
    }
    json_decref(arr);
}

void api__zone_delete(struct http_req *r)
{
    struct store_org o;
    struct store_user me;
    struct zone_ctx *zc;
    struct api_pending *p;
    int err;

    if (!api__staff(r, &me, NULL) || !api__alert_org(r, &o) || !api__alert_publisher(r, &me, &o))
        return;
    zc = xcalloc(1, sizeof(*zc));
    zc->status = 204;
    p = api__pending_new(r, zone_done, zc);
    err = store_zone_delete(api__app(r)->store, me.id, o.id, http_req_param(r, "code"),
                            api__pending_done, p);
    if (err) {
        api__pending_free(p);
        zone_done(r, err == -EINVAL ? -ENOENT : err, 0, zc);
    }
}

/* ---- risks: the national list with the org's own names, plus its custom ones ---- */

static void risk_custom(void *ctx, const char *code, const char *name, const char *category)
{
    json_t *arr = ctx;
    json_t *it;
    size_t i;

    json_array_foreach(arr, i, it)
    {
        if (!strcmp(json_string_value(json_object_get(it, "code")), code)) {
            json_object_set_new(it, "name", json_string(name));
            json_object_set_new(it, "category", json_string(category));
            return;
        }
    }
    json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b}", "code", code, "name", name,
                                         "category", category, "national", false));
}

/* Every risk of org `org_id` (national first), as [{code, name, category, national}]. */
json_t *api__risks_of(struct store_reader *rd, int64_t org_id)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < api__n_risks; i++) {
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b}", "code", api__risks[i].code,
                                             "name", api__risks[i].name, "category",
                                             api__risks[i].category, "national", true));
    }
    if (store_risk_list(rd, org_id, risk_custom, arr))
        log_warn("alerts: cannot read the custom risks of org %lld", (long long)org_id);
    return arr;
}

json_t *api__risk_find(json_t *risks, const char *code)
{
    json_t *it;
    size_t i;

    json_array_foreach(risks, i, it)
    {
        if (code && !strcmp(json_string_value(json_object_get(it, "code")), code))
            return it;
    }
    return NULL;
}

void api__risks_list(struct http_req *r)
{
    struct store_org o;

    if (!api__alert_org(r, &o))
        return;
    api__alerts_answer_json(r, json_pack("{s:o}", "risks", api__risks_of(api__reader(r), o.id)),
                            true);
}

static void risk_done(struct http_req *r, int err, int64_t id, void *data)
{
    (void)id;
    (void)data;
    if (err == -ENOENT) {
        http_respond_error(r, 404, "risk_not_found", "This org has no own entry for this risk.",
                           "code");
    } else if (err) {
        api__errno(r, err, "risk write");
    } else {
        http_respond(r, 204, NULL, NULL, 0);
    }
}

void api__risk_put(struct http_req *r)
{
    static const char *const allowed[] = { "name", "category", NULL };
    const char *code = http_req_param(r, "code");
    const char *name, *category = NULL;
    const struct api_risk *nat = api__risk(code);
    struct store_org o;
    struct store_user me;
    struct api_pending *p;
    json_t *body;
    int err;

    if (!api__staff(r, &me, NULL) || !api__alert_org(r, &o) || !api__alert_publisher(r, &me, &o))
        return;
    body = api__body_object(r, allowed);
    if (!body)
        return;
    if (!api__label(r, body, "name", true, 1, STORE_RISK_NAME_MAX, false, &name) ||
        !api__string(r, body, "category", false, 2, 10, &category))
        goto out;
    if (!category)
        category = nat ? nat->category : "Other";
    if (!in_list(category, categories)) {
        bad(r, "invalid_value", "'category' must be a CAP 1.2 category (Geo, Met, Fire, ...).",
            "category");
        goto out;
    }
    if (strlen(code) > STORE_RISK_CODE_MAX ||
        strspn(code, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(code)) {
        bad(r, "invalid_value", "A risk's code is 1 to 32 of a-z, 0-9 and '_'.", "code");
        goto out;
    }
    p = api__pending_new(r, risk_done, NULL);
    err =
        store_risk_put(api__app(r)->store, me.id, o.id, code, name, category, api__pending_done, p);
    if (err) {
        api__pending_free(p);
        risk_done(r, err, 0, NULL);
    }
out:
    json_decref(body);
}

void api__risk_delete(struct http_req *r)
{
    struct store_org o;
    struct store_user me;
    struct api_pending *p;
    int err;

    if (!api__staff(r, &me, NULL) || !api__alert_org(r, &o) || !api__alert_publisher(r, &me, &o))
        return;
    p = api__pending_new(r, risk_done, NULL);
    err = store_risk_delete(api__app(r)->store, me.id, o.id, http_req_param(r, "code"),
                            api__pending_done, p);
    if (err) {
        api__pending_free(p);
        risk_done(r, err == -EINVAL ? -ENOENT : err, 0, NULL);
    }
}

/* ---- settings ---- */

struct settings_read {
    json_t *v;
    json_t *pubs;
};

static void settings_got(void *ctx, const struct store_alert_settings *set)
{
    struct settings_read *sr = ctx;
    json_t *rules = json_loads(set->import_rules, 0, NULL);

    sr->v = json_pack("{s:b, s:o}", "two_person_rule", set->two_person_rule, "import_rules",
                      rules ? rules : json_object());
}

static void settings_pub(void *ctx, int64_t user_id)
{
    struct settings_read *sr = ctx;
    char id[24];

    snprintf(id, sizeof(id), "%lld", (long long)user_id);
    json_array_append_new(sr->pubs, json_string(id));
}

static void answer_settings(struct http_req *r, int64_t org_id)
{
    struct settings_read sr = { NULL, json_array() };
    int err = store_alert_settings_get(api__reader(r), org_id, settings_got, settings_pub, &sr);

    if (err || !sr.v) {
        json_decref(sr.v);
        json_decref(sr.pubs);
        api__errno(r, err ? err : -EIO, "alert settings");
        return;
    }
    json_object_set_new(sr.v, "publishers", sr.pubs);
    api__json(r, 200, sr.v);
}

void api__alert_settings_get(struct http_req *r)
{
    struct store_org o;
    struct store_user me;

    if (!api__alert_org(r, &o))
        return;
    if (!api__alert_org_staff(r, &o, &me)) {
        http_respond_error(r, 404, "not_found", "No such resource.", NULL);
        return;
    }
    answer_settings(r, o.id);
}

static void settings_done(struct http_req *r, int err, int64_t id, void *data)
{
    int64_t *org_id = data;

    (void)id;
    if (err == -ENOENT) {
        http_respond_error(r, 400, "invalid_value",
                           "Every publisher must be an active staff account (role staff) of"
                           " this organization.",
                           "publishers");
    } else if (err) {
        api__errno(r, err, "alert settings");
    } else {
        answer_settings(r, *org_id);
    }
    free(org_id);
}

/* import_rules: {"areas": {match: zone}, "events": {match: risk}, "levels": {match: level}}. */
static bool rules_ok(struct http_req *r, json_t *rules)
{
    static const char *const keys[] = { "areas", "events", "levels", NULL };
    const char *k;
    json_t *m, *v;

    if (!json_is_object(rules) || json_object_size(rules) > 3) {
        return bad(r, "invalid_value", "'import_rules' is {\"areas\", \"events\", \"levels\"}.",
                   "import_rules");
    }
    json_object_foreach(rules, k, m)
    {
        const char *mk;

        if (!in_list(k, keys) || !json_is_object(m) || json_object_size(m) > 200) {
            return bad(r, "invalid_value",
                       "'import_rules' is {\"areas\", \"events\", \"levels\"}, each an object of"
                       " at most 200 strings.",
                       "import_rules");
        }
        json_object_foreach(m, mk, v)
        {
            if (!json_is_string(v) || strlen(mk) > 200 || json_string_length(v) > 32 ||
                (!strcmp(k, "levels") && !api__level(json_string_value(v)))) {
                return bad(r, "invalid_value",
                           "Each rule maps a text to a zone code, a risk code or a level.",
                           "import_rules");
            }
        }
    }
    return true;
}

void api__alert_settings_put(struct http_req *r)
{
    static const char *const allowed[] = { "two_person_rule", "publishers", "import_rules", NULL };
    struct store_org o;
    struct store_user me;
    int64_t pubs[STORE_PUBLISHERS_MAX];
    size_t n = 0;
    bool set_pubs = false;
    char *rules = NULL;
    int two = -1;
    json_t *body, *v, *it;
    struct api_pending *p;
    int64_t *org_id;
    size_t i;
    int err;

    if (!api__staff(r, &me, NULL) || !api__alert_org(r, &o))
        return;
    if (!api__alert_org_staff(r, &o, &me)) {
        http_respond_error(r, 404, "not_found", "No such resource.", NULL);
        return;
    }
    if (!org_admin(r, &me, &o))
        return;
    body = api__body_object(r, allowed);
    if (!body)
        return;
    v = json_object_get(body, "two_person_rule");
    if (v && !json_is_boolean(v)) {
        bad(r, "wrong_type", "'two_person_rule' must be true or false.", "two_person_rule");
        goto out;
    }
    if (v)
        two = json_is_true(v);
    v = json_object_get(body, "publishers");
    if (v) {
        if (!json_is_array(v) || json_array_size(v) > STORE_PUBLISHERS_MAX) {
            bad(r, "invalid_value", "'publishers' is a list of staff ids (at most 200).",
                "publishers");
            goto out;
        }
        json_array_foreach(v, i, it)
        {
            const char *s = json_string_value(it);
            char *end;

            pubs[n] = s ? strtoll(s, &end, 10) : 0;
            if (!s || !*s || *end || pubs[n] <= 0) {
                bad(r, "invalid_value", "'publishers' is a list of staff ids (strings).",
                    "publishers");
                goto out;
            }
            n++;
        }
        set_pubs = true;
    }
    v = json_object_get(body, "import_rules");
    if (v) {
        if (!rules_ok(r, v))
            goto out;
        rules = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    }
    org_id = xmalloc(sizeof(*org_id));
    *org_id = o.id;
    p = api__pending_new(r, settings_done, org_id);
    err = store_alert_settings_set(api__app(r)->store, me.id, o.id, two, rules,
                                   set_pubs ? pubs : NULL, n, api__pending_done, p);
    if (err) {
        api__pending_free(p);
        settings_done(r, err, 0, org_id);
    }
out:
    free(rules);
    json_decref(body);
}

bool api__two_person_rule(struct store_reader *rd, int64_t org_id)
{
    struct settings_read sr = { NULL, NULL };
    bool on;

    if (store_alert_settings_get(rd, org_id, settings_got, NULL, &sr))
        return true; /* unreadable: the safer answer */
    on = json_is_true(json_object_get(sr.v, "two_person_rule"));
    json_decref(sr.v);
    return on;
}
