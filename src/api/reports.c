/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Citizen reports over /api/v1 (docs/API.md, section Citizen reports): the catalogue and the
 * report settings of an org, its API keys, the staff queue (filters, detail, workflow, notes,
 * assignment, merge, hiding, forwarding, CSV export), and the public helpers the web app calls
 * (duplicates within 100 m, statistics, "Anche io", the reporter's follow link and "Non è
 * risolto"). The Open311 interface itself is api/open311.c.
 *
 * Who: the org's staff (any role) and operators work the queue; org admins and operators edit
 * the catalogue and settings and manage API keys. Reporters' contact data goes only to the
 * staff of the report's own org (not to operators), and into a CSV only when an org admin asks
 * for it; every export is audited before a byte of it is sent.
 */
#include "api/reports_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/counts_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/secret.h"
#include "open311/encode.h"
#include "store/channels.h"

#define BODY_MAX       65536
#define QUEUE_PAGE_DEF 50
#define QUEUE_PAGE_MAX 200
#define CSV_ROWS_MAX   10000
#define CSV_BYTES_MAX  ((size_t)32 * 1024 * 1024)
#define NEARBY_DEF_M   100.0
#define NEARBY_MAX_M   1000.0
#define NEARBY_LIMIT   20
#define KEY_RATE_DEF   600
#define TOKEN_MAX      80

/* ---- helpers ---- */

bool api__rep_org(struct http_req *r, struct store_org *o)
{
    int err = store_org_get(api__reader(r), http_req_param(r, "slug"), o);

    if (!err)
        return true;
    if (err == -ENOENT) {
        http_respond_error(r, 404, "org_not_found", "No organization has this slug.", "slug");
    } else {
        api__errno(r, err, "org lookup");
    }
    return false;
}

/* Staff of the org (any role) or an operator; answers 401/403 otherwise. */
bool api__rep_staff(struct http_req *r, const struct store_org *o, struct store_user *me)
{
    if (!api__staff(r, me, NULL))
        return false;
    if (me->role == STORE_ROLE_OPERATOR || me->org_id == o->id)
        return true;
    http_respond_error(r, 403, "forbidden", "Only this organization's staff may do this.", NULL);
    return false;
}

/* An org admin of the org or an operator. */
bool api__rep_admin(struct http_req *r, const struct store_org *o, struct store_user *me)
{
    if (!api__staff(r, me, NULL))
        return false;
    if (me->role == STORE_ROLE_OPERATOR ||
        (me->role == STORE_ROLE_ORG_ADMIN && me->org_id == o->id))
        return true;
    http_respond_error(r, 403, "forbidden",
                       "Only an operator or this organization's admins may do this.", NULL);
    return false;
}

bool api__rep_id(const char *s, int64_t *out)
{
    if (!s || !*s || strlen(s) > 18 || strspn(s, "0123456789") != strlen(s))
        return false;
    *out = strtoll(s, NULL, 10);
    return *out > 0;
}

void api__rep_done(struct http_req *r, int err, int64_t id, void *data)
{
    (void)id;
    (void)data;
    if (err == -ENOENT) {
        http_respond_error(r, 404, "not_found", "Not found: check the address or the id.", NULL);
    } else if (err == -EPERM) {
        http_respond_error(r, 409, "invalid_transition",
                           "This change is not allowed from the report's current status.", NULL);
    } else if (err) {
        api__errno(r, err, "reports write");
    } else {
        http_respond(r, 204, NULL, NULL, 0);
    }
}

/* ---- the catalogue ---- */

static void service_json(void *ctx, const struct store_service *s)
{
    json_t *attrs = json_loads(s->attributes_json, 0, NULL);

    json_array_append_new(
        ctx, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:i, s:i, s:s, s:i, s:b}", "service_code",
                       s->code, "name", s->name, "description", s->description, "keywords",
                       s->keywords, "group", s->group, "attributes", attrs ? attrs : json_array(),
                       "first_answer_hours", s->first_answer_h, "resolution_hours", s->resolution_h,
                       "agency", s->agency, "order", s->ord, "active", s->active));
}

static void services_list(struct http_req *r)
{
    struct store_org o;
    struct store_user me;
    json_t *list;
    int err;

    if (!api__rep_org(r, &o) || !api__rep_staff(r, &o, &me))
        return;
    list = json_array();
    err = store_services_list(api__reader(r), o.id, true, service_json, list);
    if (err) {
        json_decref(list);
        api__errno(r, err, "services list");
        return;
    }
    api__json(r, 200, json_pack("{s:o}", "services", list));
}

static bool attr_bad(struct http_req *r, size_t i, const char *msg)
{
    char m[300];

    snprintf(m, sizeof(m), "attributes[%zu]: %s", i, msg);
    http_respond_error(r, 400, "invalid_value", m, "attributes");
    return false;
}

/* A list attribute's `values`: 1-100 {key, name}, normalized into `o`. */
static bool parse_values(struct http_req *r, size_t i, json_t *values, json_t *o)
{
    json_t *vals;
    json_t *v;
    size_t k;

    if (!json_is_array(values) || !json_array_size(values) || json_array_size(values) > 100)
        return attr_bad(r, i, "a list needs 'values': 1 to 100 {key, name}.");
    vals = json_array();
    json_array_foreach(values, k, v)
    {
        const char *key = json_string_value(json_object_get(v, "key"));
        const char *name = json_string_value(json_object_get(v, "name"));

        if (!key || !*key || strlen(key) > 100 || !name || !*name || strlen(name) > 200) {
            json_decref(vals);
            return attr_bad(r, i, "each value is {key, name}, non-empty strings.");
        }
        json_array_append_new(vals, json_pack("{s:s, s:s}", "key", key, "name", name));
    }
    json_object_set_new(o, "values", vals);
    return true;
}

static bool type_known(const char *type)
{
    static const char *const types[] = { "string",          "number",         "datetime", "text",
                                         "singlevaluelist", "multivaluelist", NULL };

    for (int t = 0; types[t] && type; t++) {
        if (!strcmp(types[t], type))
            return true;
    }
    return false;
}

/* Attribute `a` at position `i`, normalized into the specification's member order. */
static json_t *parse_attribute(struct http_req *r, size_t i, json_t *a)
{
    const char *code = json_string_value(json_object_get(a, "code"));
    const char *type = json_string_value(json_object_get(a, "datatype"));
    const char *desc = json_string_value(json_object_get(a, "description"));
    const char *tdesc = json_string_value(json_object_get(a, "datatype_description"));
    json_t *variable = json_object_get(a, "variable");
    json_t *required = json_object_get(a, "required");
    json_t *order = json_object_get(a, "order");
    json_t *o;

    if (!json_is_object(a) || !code || !store_service_code_valid(code) || !type_known(type) ||
        !desc || strlen(desc) > 500 || (tdesc && strlen(tdesc) > 500) ||
        (variable && !json_is_boolean(variable)) || (required && !json_is_boolean(required)) ||
        (order && !json_is_integer(order))) {
        attr_bad(r, i,
                 "needs code ([A-Za-z0-9_.-]), datatype (string, number, datetime, text, "
                 "singlevaluelist, multivaluelist), description; variable and required are "
                 "booleans, order an integer.");
        return NULL;
    }
    o = json_pack("{s:b, s:s, s:s, s:b, s:s, s:I, s:s}", "variable",
                  variable ? json_is_true(variable) : true, "code", code, "datatype", type,
                  "required", json_is_true(required), "datatype_description", tdesc ? tdesc : "",
                  "order", order ? json_integer_value(order) : (json_int_t)(i + 1), "description",
                  desc);
    if ((!strcmp(type, "singlevaluelist") || !strcmp(type, "multivaluelist")) &&
        !parse_values(r, i, json_object_get(a, "values"), o)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/*
 * `attributes`: an array (at most 30) of Open311 attribute definitions, normalized into the
 * specification's member order. Answers 400 naming the attribute on error.
 */
static bool parse_attributes(struct http_req *r, json_t *in, char **out)
{
    json_t *norm;
    json_t *a;
    size_t i;

    *out = NULL;
    if (!in || json_is_null(in)) {
        *out = xstrdup("[]");
        return true;
    }
    if (!json_is_array(in) || json_array_size(in) > 30) {
        http_respond_error(r, 400, "invalid_value", "'attributes' is an array of at most 30.",
                           "attributes");
        return false;
    }
    norm = json_array();
    json_array_foreach(in, i, a)
    {
        json_t *o = parse_attribute(r, i, a);

        if (!o) {
            json_decref(norm);
            return false;
        }
        json_array_append_new(norm, o);
    }
    *out = json_dumps(norm, JSON_COMPACT);
    json_decref(norm);
    return true;
}

static bool hours(struct http_req *r, json_t *body, const char *key, int def, int *out)
{
    json_t *v = json_object_get(body, key);
    char msg[120];

    *out = def;
    if (!v)
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 8760) {
        snprintf(msg, sizeof(msg), "'%s' is a whole number of hours from 1 to 8760.", key);
        http_respond_error(r, 400, "invalid_value", msg, key);
        return false;
    }
    *out = (int)json_integer_value(v);
    return true;
}

static void service_put(struct http_req *r)
{
    static const char *const allowed[] = {
        "name",   "description",      "keywords", "group",  "attributes", "first_answer_hours",
        "agency", "resolution_hours", "order",    "active", NULL
    };
    struct store_service s = { 0 };
    struct store_org o;
    struct store_user me;
    char *attrs = NULL;
    json_t *body = NULL;
    json_t *v;

    if (!api__rep_org(r, &o) || !api__rep_admin(r, &o, &me))
        return;
    s.code = http_req_param(r, "code");
    if (!store_service_code_valid(s.code)) {
        http_respond_error(r, 400, "invalid_value",
                           "A service code is 1 to 64 of A-Z, a-z, 0-9, '_', '.', '-'.", "code");
        return;
    }
    body = api__body_object(r, allowed);
    if (!body)
        return;
    if (!api__label(r, body, "name", true, 1, STORE_SVC_NAME_MAX, false, &s.name) ||
        !api__label(r, body, "description", false, 0, STORE_SVC_DESC_MAX, true, &s.description) ||
        !api__label(r, body, "keywords", false, 0, STORE_SVC_KEYWORDS_MAX, false, &s.keywords) ||
        !api__label(r, body, "group", false, 0, STORE_SVC_NAME_MAX, false, &s.group) ||
        !api__label(r, body, "agency", false, 0, STORE_REPORT_AGENCY_MAX, false, &s.agency) ||
        !hours(r, body, "first_answer_hours", 48, &s.first_answer_h) ||
        !hours(r, body, "resolution_hours", 720, &s.resolution_h) ||
        !parse_attributes(r, json_object_get(body, "attributes"), &attrs))
        goto out;
    v = json_object_get(body, "order");
    if (v && !json_is_integer(v)) {
        http_respond_error(r, 400, "wrong_type", "'order' is an integer.", "order");
        goto out;
    }
    s.ord = v ? (int)json_integer_value(v) : 0;
    v = json_object_get(body, "active");
    if (v && !json_is_boolean(v)) {
        http_respond_error(r, 400, "wrong_type", "'active' is true or false.", "active");
        goto out;
    }
    s.active = !v || json_is_true(v);
    s.attributes_json = attrs;
    API_REP_SUBMIT(
        r, store_service_put(api__app(r)->store, me.id, o.id, &s, api__pending_done, p_, NULL));
out:
    free(attrs);
    json_decref(body);
}

static void service_delete(struct http_req *r)
{
    struct store_org o;
    struct store_user me;

    if (!api__rep_org(r, &o) || !api__rep_admin(r, &o, &me))
        return;
    API_REP_SUBMIT(r, store_service_delete(api__app(r)->store, me.id, o.id,
                                           http_req_param(r, "code"), api__pending_done, p_));
}

/* ---- settings ---- */

static void settings_get(struct http_req *r)
{
    struct store_report_settings s;
    struct store_org o;
    struct store_user me;
    int err;

    if (!api__rep_org(r, &o) || !api__rep_staff(r, &o, &me))
        return;
    err = store_report_settings_get(api__reader(r), o.id, &s);
    if (err) {
        api__errno(r, err, "report settings");
        return;
    }
    api__json(r, 200,
              json_pack("{s:b, s:i, s:s, s:s}", "report_photos_moderated", s.photos_moderated,
                        "report_retention_days", s.retention_days, "contact", s.contact,
                        "key_service", s.key_service));
}

static void settings_put(struct http_req *r)
{
    static const char *const allowed[] = { "report_photos_moderated", "report_retention_days",
                                           "contact", "key_service", NULL };
    struct store_report_settings s;
    struct store_org o;
    struct store_user me;
    const char *contact, *key_service;
    json_t *body;
    json_t *v;
    int err;

    if (!api__rep_org(r, &o) || !api__rep_admin(r, &o, &me))
        return;
    err = store_report_settings_get(api__reader(r), o.id, &s);
    if (err) {
        api__errno(r, err, "report settings");
        return;
    }
    body = api__body_object(r, allowed);
    if (!body)
        return;
    if (!api__label(r, body, "contact", false, 0, 500, false, &contact) ||
        !api__label(r, body, "key_service", false, 0, 500, false, &key_service))
        goto out;
    v = json_object_get(body, "report_photos_moderated");
    if (v && !json_is_boolean(v)) {
        http_respond_error(r, 400, "wrong_type", "'report_photos_moderated' is true or false.",
                           "report_photos_moderated");
        goto out;
    }
    if (v)
        s.photos_moderated = json_is_true(v);
    v = json_object_get(body, "report_retention_days");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 3650)) {
        http_respond_error(r, 400, "invalid_value",
                           "'report_retention_days' is a whole number from 1 to 3650.",
                           "report_retention_days");
        goto out;
    }
    if (v)
        s.retention_days = (int)json_integer_value(v);
    if (json_object_get(body, "contact"))
        snprintf(s.contact, sizeof(s.contact), "%s", contact ? contact : "");
    if (json_object_get(body, "key_service"))
        snprintf(s.key_service, sizeof(s.key_service), "%s", key_service ? key_service : "");
    API_REP_SUBMIT(
        r, store_report_settings_put(api__app(r)->store, me.id, o.id, &s, api__pending_done, p_));
out:
    json_decref(body);
}

/* ---- API keys ---- */

struct key_new {
    char key[64];
    char name[404];
    int rate;
};

static void key_created(struct http_req *r, int err, int64_t id, void *data)
{
    struct key_new *k = data;
    char idstr[24];

    if (err) {
        api__errno(r, err, "api key create");
    } else {
        snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
        api__json(r, 201,
                  json_pack("{s:s, s:s, s:s, s:i}", "id", idstr, "api_key", k->key, "name", k->name,
                            "rate_per_minute", k->rate));
    }
    explicit_bzero(k->key, sizeof(k->key));
    free(k);
}

static void keys_create(struct http_req *r)
{
    static const char *const allowed[] = { "name", "rate_per_minute", NULL };
    struct store_org o;
    struct store_user me;
    uint8_t hash[SECRET_HASH_LEN];
    struct key_new *k;
    struct api_pending *p;
    const char *name = NULL;
    size_t len;
    json_t *body = NULL;
    json_t *v;
    int err;

    if (!api__rep_org(r, &o) || !api__rep_admin(r, &o, &me))
        return;
    k = xcalloc(1, sizeof(*k));
    k->rate = KEY_RATE_DEF;
    (void)http_req_body(r, &len);
    if (len) {
        body = api__body_object(r, allowed);
        if (!body || !api__label(r, body, "name", false, 0, 100, false, &name))
            goto fail;
        v = json_object_get(body, "rate_per_minute");
        if (v &&
            (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 100000)) {
            http_respond_error(r, 400, "invalid_value",
                               "'rate_per_minute' is a whole number from 1 to 100000.",
                               "rate_per_minute");
            goto fail;
        }
        if (v)
            k->rate = (int)json_integer_value(v);
    }
    snprintf(k->name, sizeof(k->name), "%s", name ? name : "");
    secret_token("o311", k->key, sizeof(k->key));
    secret_sha256(k->key, strlen(k->key), hash);
    json_decref(body);
    p = api__pending_new(r, key_created, k);
    err = store_api_key_add(api__app(r)->store, me.id, o.id, hash, k->name, k->rate,
                            api__pending_done, p, NULL);
    explicit_bzero(hash, sizeof(hash));
    if (err) {
        api__pending_free(p);
        key_created(r, err, 0, k);
    }
    return;
fail:
    json_decref(body);
    free(k);
}

static void key_one(void *ctx, const struct store_api_key *k)
{
    char id[24], created[32];

    snprintf(id, sizeof(id), "%lld", (long long)k->id);
    clock_rfc3339(k->created_ms, created, sizeof(created));
    json_array_append_new(ctx,
                          json_pack("{s:s, s:s, s:i, s:s}", "id", id, "name", k->name,
                                    "rate_per_minute", k->rate_per_minute, "created_at", created));
}

static void keys_list(struct http_req *r)
{
    struct store_org o;
    struct store_user me;
    json_t *list;
    int err;

    if (!api__rep_org(r, &o) || !api__rep_admin(r, &o, &me))
        return;
    list = json_array();
    err = store_api_keys_list(api__reader(r), o.id, key_one, list);
    if (err) {
        json_decref(list);
        api__errno(r, err, "api keys");
        return;
    }
    api__json(r, 200, json_pack("{s:o}", "api_keys", list));
}

static void keys_delete(struct http_req *r)
{
    struct store_org o;
    struct store_user me;
    int64_t id;

    if (!api__rep_org(r, &o) || !api__rep_admin(r, &o, &me))
        return;
    if (!api__rep_id(http_req_param(r, "id"), &id)) {
        http_respond_error(r, 404, "not_found", "No such API key.", "id");
        return;
    }
    API_REP_SUBMIT(
        r, store_api_key_revoke(api__app(r)->store, me.id, o.id, id, api__pending_done, p_));
}

static const struct http_route routes[] = {
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/services", services_list, 0, NULL },
    { HTTP_M_PUT, HTTP_ROUTE_JSON, "/api/v1/orgs/{slug}/services/{code}", service_put, BODY_MAX,
      NULL },
    { HTTP_M_DELETE, 0, "/api/v1/orgs/{slug}/services/{code}", service_delete, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/report-settings", settings_get, 0, NULL },
    { HTTP_M_PATCH, HTTP_ROUTE_JSON, "/api/v1/orgs/{slug}/report-settings", settings_put, 8192,
      NULL },
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/orgs/{slug}/api-keys", keys_create, 4096, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/api-keys", keys_list, 0, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/orgs/{slug}/api-keys/{id}", keys_delete, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/report-forwards", api__forward_targets_list,
      0, NULL },
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/orgs/{slug}/report-forwards",
      api__forward_target_create, 32768, NULL },
    { HTTP_M_PATCH, HTTP_ROUTE_JSON, "/api/v1/orgs/{slug}/report-forwards/{id}",
      api__forward_target_update, 32768, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/orgs/{slug}/report-forwards/{id}", api__forward_target_delete, 0,
      NULL },
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/orgs/{slug}/reports/{id}/forward", api__report_forward,
      4096, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/reports", api__reports_queue, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/reports.csv", api__reports_csv, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/reports/nearby", api__reports_nearby, 0,
      NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/reports/statistics", api__reports_stats, 0,
      NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/reports/{id}", api__report_get, 0, NULL },
    { HTTP_M_PATCH, HTTP_ROUTE_JSON, "/api/v1/orgs/{slug}/reports/{id}", api__report_patch, 16384,
      NULL },
    { HTTP_M_PUT, 0, "/api/v1/orgs/{slug}/reports/{id}/follow", api__report_follow, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/reports/follow/{token:secret}", api__reporter_view, 0,
      NULL },
    { HTTP_M_GET, 0, "/api/v1/reports/follow/{token:secret}/stream", api__reporter_stream, 0,
      NULL },
    { HTTP_M_GET, 0, "/api/v1/orgs/{slug}/reports/{id}/stream", api__report_stream, 0, NULL },
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/reports/follow/{token:secret}/reopen",
      api__reporter_reopen, 8192, NULL },
};
API_ROUTE_SET(api_reports_routes, routes);
