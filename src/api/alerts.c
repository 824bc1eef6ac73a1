/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Civil-protection alerts: the vocabulary, who may publish, publishing (Alert, Update,
 * Cancel), approval (two-person rule), history, one alert, and the current status per zone and
 * risk; the route set of every alerts endpoint. Zones, risks and settings are in
 * api/alerts_org.c; CAP export, Atom and import in api/alerts_cap.c. Reads that the public may
 * make answer 404 to whoever may not read what they ask for.
 *
 * Push: an alert that goes out (published at once, or approved) is where Web Push to every
 * follower of the org's channels will be enqueued: submit_done() and decided() below, once
 * push/ exists (docs/ALERTS.md, Reach).
 */
#include "api/alerts_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cap/cap.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/secret.h"

#define BODY_MAX      65536
#define ZONES_MAX     200 /* zones per org, and per alert */
#define INFO_MAX      8
#define HEADLINE_MAX  160
#define TEXT_MAX      4000
#define LIST_LIMIT    50
#define LIST_LIMIT_MX 200

/* ---- vocabulary (docs/ALERTS.md) ---- */

const struct api_level api__levels[4] = {
    { "verde", "green", "Minor", "nessuna", 1 },
    { "giallo", "yellow", "Moderate", "attenzione", 2 },
    { "arancione", "orange", "Severe", "preallarme", 3 },
    { "rosso", "red", "Extreme", "preallarme", 4 },
};

const struct api_risk api__risks[] = {
    { "idrogeologico", "Idrogeologico", "Met", "13; rain-flood" },
    { "idraulico", "Idraulico", "Met", "12; flooding" },
    { "temporali", "Temporali", "Met", "3; thunderstorm" },
    { "vento", "Vento", "Met", "1; wind" },
    { "mareggiate", "Mareggiate", "Met", "7; coastalevent" },
    { "neve", "Neve", "Met", "2; snow-ice" },
    { "ghiaccio", "Ghiaccio / pioggia che gela", "Met", "2; snow-ice" },
    { "ondate_di_calore", "Ondate di calore", "Met", "5; high-temperature" },
    { "incendi_boschivi", "Incendi boschivi", "Fire", "8; forest-fire" },
    { "valanghe", "Valanghe", "Geo", "9; avalanches" },
    { "altro", "Altro", "Other", NULL },
};
const size_t api__n_risks = sizeof(api__risks) / sizeof(api__risks[0]);

static const char *const phases[] = { "nessuna", "attenzione", "preallarme", "allarme", NULL };
static const char *const statuses[] = { "Actual", "Exercise", "Test", NULL };
static const char *const msg_types[] = { "Alert", "Update", "Cancel", NULL };

static bool in_list(const char *s, const char *const *l)
{
    for (; s && *l; l++) {
        if (!strcmp(s, *l))
            return true;
    }
    return false;
}

const struct api_level *api__level(const char *name)
{
    for (size_t i = 0; name && i < 4; i++) {
        if (!strcmp(api__levels[i].name, name))
            return &api__levels[i];
    }
    return NULL;
}

const struct api_risk *api__risk(const char *code)
{
    for (size_t i = 0; code && i < api__n_risks; i++) {
        if (!strcmp(api__risks[i].code, code))
            return &api__risks[i];
    }
    return NULL;
}

bool api__phase_valid(const char *s)
{
    return in_list(s, phases);
}

/* ---- access ---- */

bool api__alert_org(struct http_req *r, struct store_org *o)
{
    int err = store_org_get(api__reader(r), http_req_param(r, "slug"), o);

    if (!err)
        return true;
    if (err == -ENOENT) {
        http_respond_error(r, 404, "org_not_found",
                           "No organization has this slug: check the address.", "slug");
    } else {
        api__errno(r, err, "org lookup");
    }
    return false;
}

/* Staff credentials sent with a public read (checked valid by api__admit already). */
static bool staff_sent(struct http_req *r)
{
    const char *h = http_req_header(r, "Authorization");
    char tok[128];

    if (h)
        return !strncasecmp(h, "Bearer araldo_", 14);
    return api__cookie(r, API_SESSION_COOKIE, tok, sizeof(tok));
}

bool api__alert_org_staff(struct http_req *r, const struct store_org *o, struct store_user *me)
{
    if (!staff_sent(r) || !api__staff(r, me, NULL))
        return false;
    return me->role == STORE_ROLE_OPERATOR || me->org_id == o->id;
}

bool api__alert_publisher(struct http_req *r, const struct store_user *me,
                          const struct store_org *o)
{
    bool yes = false;

    if (me->role == STORE_ROLE_OPERATOR ||
        (me->org_id == o->id && me->role == STORE_ROLE_ORG_ADMIN))
        return true;
    if (me->org_id == o->id && !store_alert_publisher(api__reader(r), o->id, me->id, &yes) && yes)
        return true;
    http_respond_error(r, 403, "not_alert_publisher",
                       "Only this organization's admins and the staff they granted the"
                       " civil_protection permission may do this.",
                       NULL);
    return false;
}

static bool bad(struct http_req *r, const char *code, const char *msg, const char *field)
{
    http_respond_error(r, 400, code, msg, field);
    return false;
}

/* ---- answers with an ETag ---- */

void api__alerts_answer(struct http_req *r, const char *type, const char *body, size_t len,
                        const char *tag, size_t tag_len, bool shared)
{
    const char *inm = http_req_header(r, "If-None-Match");
    uint8_t hash[SECRET_HASH_LEN];
    char hex[2 * 12 + 1];
    char etag[sizeof(hex) + 2];

    if (tag) {
        secret_sha256(tag, tag_len, hash);
    } else {
        secret_sha256(body, len, hash);
    }
    secret_hex(hash, 12, hex);
    snprintf(etag, sizeof(etag), "\"%s\"", hex);
    http_resp_header(r, "ETag", etag);
    http_resp_header(r, "Cache-Control", shared ? "public, no-cache" : "private, no-cache");
    if (inm && (strstr(inm, etag) || !strcmp(inm, "*"))) {
        http_respond(r, 304, NULL, NULL, 0);
    } else {
        http_respond(r, 200, type, body, len);
    }
}

void api__alerts_answer_json(struct http_req *r, json_t *v, bool shared)
{
    size_t len;
    char *body = json_encode(v, &len);

    json_decref(v);
    api__alerts_answer(r, "application/json", body, len, NULL, 0, shared);
    free(body);
}

/* ---- one alert ---- */

struct alert_read {
    json_t *v;
    int64_t org_id;
};

static void alert_read_one(void *ctx, const struct store_alert *a)
{
    struct alert_read *ar = ctx;

    ar->v = store_alert_json(a);
    ar->org_id = a->org_id;
}

json_t *api__alert_load(struct store_reader *rd, int64_t id, int64_t *a_org)
{
    struct alert_read ar = { NULL, 0 };

    if (store_alert_get(rd, id, alert_read_one, &ar))
        return NULL;
    if (a_org)
        *a_org = ar.org_id;
    return ar.v;
}

/* Whether the public sees alert `v`: Actual, published (in force, replaced or expired). */
static bool alert_public(json_t *v)
{
    return !strcmp(json_string_value(json_object_get(v, "status")), "Actual") &&
           !strcmp(json_string_value(json_object_get(v, "state")), "published");
}

static bool parse_id(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (!s || *s < '1' || *s > '9')
        return false;
    v = strtoll(s, &end, 10);
    if (*end && strcmp(end, ".cap") != 0)
        return false;
    *out = v;
    return true;
}

static void alert_hidden(struct http_req *r)
{
    http_respond_error(r, 404, "alert_not_found", "No alert has this id.", "id");
}

/*
 * The alert {id} if this request may read it: public ones to anyone, the others (pending,
 * withdrawn, Exercise, Test) to staff of its org. Otherwise answers 404 and returns NULL.
 */
static json_t *readable_alert(struct http_req *r, int64_t id, int64_t *org_id)
{
    struct store_org o = { 0 };
    struct store_user me;
    json_t *v = api__alert_load(api__reader(r), id, org_id);

    if (!v) {
        alert_hidden(r);
        return NULL;
    }
    o.id = *org_id;
    if (alert_public(v) || api__alert_org_staff(r, &o, &me))
        return v;
    json_decref(v);
    alert_hidden(r);
    return NULL;
}

static void alert_get(struct http_req *r)
{
    const char *s = http_req_param(r, "id");
    int64_t id, org_id;
    json_t *v;

    if (!parse_id(s, &id)) {
        alert_hidden(r);
        return;
    }
    if (strstr(s, ".cap")) {
        api__alert_cap_get(r, id);
        return;
    }
    v = readable_alert(r, id, &org_id);
    if (v)
        api__alerts_answer_json(r, v, alert_public(v));
}

/* ---- publishing ---- */

static void submit_done(struct http_req *r, int err, int64_t id, void *data)
{
    bool pending = data != NULL;
    json_t *v;

    if (err == -ENOENT) {
        http_respond_error(r, 422, "invalid_reference",
                           "A referenced alert is not a published, current alert of this"
                           " organization (already updated or cancelled?).",
                           "references");
        return;
    }
    if (err) {
        api__errno(r, err, "alert publish");
        return;
    }
    v = api__alert_load(api__reader(r), id, NULL);
    if (!v) {
        api__errno(r, -EIO, "alert read");
        return;
    }
    /* Its Web Push campaign was written with it (store__push_alert, docs/ALERTS.md). */
    api__json(r, pending ? 202 : 201, v);
}

void api__alert_submit(struct http_req *r, const struct store_org *o, const struct store_user *me,
                       struct store_alert_new *a)
{
    struct api_pending *p;
    int err;

    a->pending = api__two_person_rule(api__reader(r), o->id) && a->level && a->status &&
                 a->msg_type && !strcmp(a->level, "rosso") && !strcmp(a->status, "Actual") &&
                 strcmp(a->msg_type, "Cancel") != 0;
    a->org_id = o->id;
    a->actor_id = me->id;
    p = api__pending_new(r, submit_done, a->pending ? (void *)1 : NULL);
    err = store_alert_add(api__app(r)->store, a, api__pending_done, p, NULL);
    if (err) {
        api__pending_free(p);
        submit_done(r, err, 0, NULL);
    }
}

/* `info`: 1..8 of {language, headline, description, instruction}; one must be Italian. */
static bool read_info(struct http_req *r, json_t *body, json_t **out)
{
    static const char *const keys[] = { "language", "headline", "description", "instruction",
                                        NULL };
    json_t *v = json_object_get(body, "info");
    json_t *res = json_array();
    bool italian = false;
    json_t *it;
    size_t i;

    if (!json_is_array(v) || !json_array_size(v) || json_array_size(v) > INFO_MAX) {
        json_decref(res);
        return bad(r, v ? "invalid_value" : "missing_field",
                   "'info' is a list of 1 to 8 {language, headline, description, instruction},"
                   " one of them in Italian.",
                   "info");
    }
    json_array_foreach(v, i, it)
    {
        const char *lang, *head, *desc = NULL, *instr = NULL;
        const char *k;
        json_t *x;

        if (!json_is_object(it)) {
            json_decref(res);
            return bad(r, "wrong_type", "Each 'info' entry is an object.", "info");
        }
        json_object_foreach(it, k, x)
        {
            if (!in_list(k, keys)) {
                json_decref(res);
                return bad(r, "unknown_field",
                           "'info' entries hold language, headline,"
                           " description and instruction.",
                           "info");
            }
        }
        if (!api__string(r, it, "language", true, 2, 15, &lang) ||
            !api__label(r, it, "headline", true, 1, HEADLINE_MAX, false, &head) ||
            !api__label(r, it, "description", false, 0, TEXT_MAX, true, &desc) ||
            !api__label(r, it, "instruction", false, 0, TEXT_MAX, true, &instr)) {
            json_decref(res);
            return false;
        }
        if (strspn(lang, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-") != strlen(lang)) {
            json_decref(res);
            return bad(r, "invalid_value", "'language' is a language tag: it, en, de-AT ...",
                       "info");
        }
        italian = italian || !strncasecmp(lang, "it", 2);
        json_array_append_new(res, json_pack("{s:s, s:s, s:s, s:s}", "language", lang, "headline",
                                             head, "description", desc ? desc : "", "instruction",
                                             instr ? instr : ""));
    }
    if (!italian) {
        json_decref(res);
        return bad(r, "invalid_value", "One 'info' entry must be in Italian (language \"it\").",
                   "info");
    }
    *out = res;
    return true;
}

struct zone_pick {
    json_t *areas;
    const char *code;
};

static void zone_area(void *ctx, const struct store_zone *z)
{
    struct zone_pick *zp = ctx;
    json_t *geo = json_loads(z->geocodes_json, 0, NULL);

    json_array_append_new(zp->areas,
                          json_pack("{s:s, s:s, s:o, s:s?}", "code", z->code, "name", z->name,
                                    "geocodes", geo ? geo : json_array(), "polygon", z->polygon));
}

/* `zones`: 1..200 codes of the org's zones, frozen into `areas` with their names and shapes. */
static bool read_zones(struct http_req *r, int64_t org_id, json_t *v, json_t **areas)
{
    struct zone_pick zp = { json_array(), NULL };
    json_t *it;
    size_t i;

    if (!json_is_array(v) || !json_array_size(v) || json_array_size(v) > ZONES_MAX) {
        json_decref(zp.areas);
        return bad(r, v ? "invalid_value" : "missing_field",
                   "'zones' is a list of the codes of this org's alert zones (1 to 200).", "zones");
    }
    json_array_foreach(v, i, it)
    {
        const char *code = json_string_value(it);
        size_t before = json_array_size(zp.areas);
        int err;

        if (!code || !*code || strlen(code) > STORE_ZONE_CODE_MAX) {
            json_decref(zp.areas);
            return bad(r, "invalid_value", "'zones' holds zone codes (strings).", "zones");
        }
        for (size_t j = 0; j < before; j++) {
            if (!strcmp(json_string_value(json_object_get(json_array_get(zp.areas, j), "code")),
                        code))
                goto next;
        }
        err = store_zone_list(api__reader(r), org_id, code, zone_area, &zp);
        if (err) {
            char msg[96];

            json_decref(zp.areas);
            if (err != -ENOENT) {
                api__errno(r, err, "zone read");
                return false;
            }
            snprintf(msg, sizeof(msg), "This org has no zone '%s'.", code);
            return bad(r, "unknown_zone", msg, "zones");
        }
next:;
    }
    *areas = zp.areas;
    return true;
}

/* api__string() that leaves `*out` (a default) as it is when the member is absent. */
static bool opt_string(struct http_req *r, json_t *body, const char *key, bool required, size_t max,
                       const char **out)
{
    const char *v = NULL;

    if (!api__string(r, body, key, required, 1, max, &v))
        return false;
    if (v)
        *out = v;
    return true;
}

static bool read_time(struct http_req *r, json_t *body, const char *key, int64_t *ms)
{
    json_t *v = json_object_get(body, key);
    char msg[128];

    if (!v)
        return true;
    if (!json_is_string(v) || cap_time_parse(json_string_value(v), ms)) {
        snprintf(msg, sizeof(msg), "'%s' is an RFC 3339 time: 2026-11-27T21:00:00Z.", key);
        return bad(r, "invalid_value", msg, key);
    }
    return true;
}

static const char *str_of(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/*
 * `status`, `msg_type` and `references` of a new alert into `a` and `refs`; `*base` gets the
 * first referenced alert (its fields are the defaults of an Update or a Cancel). Answers and
 * returns false on error.
 */
static bool read_kind(struct http_req *r, const struct store_org *o, json_t *body,
                      struct store_alert_new *a, int64_t *refs, json_t **base)
{
    json_t *v = json_object_get(body, "references");
    json_t *it;
    size_t i;

    a->status = "Actual";
    a->msg_type = "Alert";
    if (!opt_string(r, body, "status", false, 10, &a->status) ||
        !opt_string(r, body, "msg_type", false, 10, &a->msg_type))
        return false;
    if (!in_list(a->status, statuses))
        return bad(r, "invalid_value", "'status' is Actual, Exercise or Test.", "status");
    if (!in_list(a->msg_type, msg_types))
        return bad(r, "invalid_value", "'msg_type' is Alert, Update or Cancel.", "msg_type");
    if (!strcmp(a->msg_type, "Alert") != !v) {
        return bad(r, v ? "invalid_value" : "missing_field",
                   "An Update or a Cancel names the alerts it replaces in 'references'; an"
                   " Alert names none.",
                   "references");
    }
    if (v &&
        (!json_is_array(v) || !json_array_size(v) || json_array_size(v) > STORE_ALERT_REFS_MAX)) {
        return bad(r, "invalid_value", "'references' is a list of 1 to 16 alert ids.",
                   "references");
    }
    json_array_foreach(v, i, it)
    {
        const char *s = json_string_value(it);
        int64_t org_id = 0;
        json_t *x;

        if (!parse_id(s, &refs[i]) || strstr(s, ".cap")) {
            return bad(r, "invalid_value", "'references' is a list of 1 to 16 alert ids.",
                       "references");
        }
        x = api__alert_load(api__reader(r), refs[i], &org_id);
        if (!x || org_id != o->id) {
            json_decref(x);
            http_respond_error(r, 422, "invalid_reference",
                               "A referenced alert is not an alert of this organization.",
                               "references");
            return false;
        }
        if (!*base) {
            *base = x;
        } else {
            json_decref(x);
        }
        a->n_refs = i + 1;
    }
    return true;
}

/* risk, level, phase, onset, expires (defaults from `base`). Answers and returns false. */
static bool read_what(struct http_req *r, json_t *body, json_t *base, struct store_alert_new *a)
{
    int64_t now = clock_now_ms();
    bool cancel = !strcmp(a->msg_type, "Cancel");

    a->risk = base ? str_of(base, "risk") : NULL;
    a->level = base ? str_of(base, "level") : NULL;
    a->phase = base ? (cancel ? "nessuna" : str_of(base, "phase")) : NULL;
    a->onset_ms = now;
    a->expires_ms = 0;
    if (base) {
        (void)!cap_time_parse(str_of(base, "onset"), &a->onset_ms);
        (void)!cap_time_parse(str_of(base, "expires"), &a->expires_ms);
    }
    if (!opt_string(r, body, "risk", !base, STORE_RISK_CODE_MAX, &a->risk) ||
        !opt_string(r, body, "level", !base, 10, &a->level) ||
        !opt_string(r, body, "phase", false, 12, &a->phase) ||
        !read_time(r, body, "onset", &a->onset_ms) ||
        !read_time(r, body, "expires", &a->expires_ms))
        return false;
    if (!api__level(a->level))
        return bad(r, "invalid_value", "'level' is verde, giallo, arancione or rosso.", "level");
    /* Without a phase: the referenced alert's when the level stays, else the level's own. */
    if (!json_object_get(body, "phase") && !cancel &&
        (!a->phase || !base || strcmp(a->level, str_of(base, "level")) != 0))
        a->phase = api__level(a->level)->phase;
    if (!api__phase_valid(a->phase)) {
        return bad(r, "invalid_value", "'phase' is nessuna, attenzione, preallarme or allarme.",
                   "phase");
    }
    if (!a->expires_ms && !json_object_get(body, "expires"))
        return bad(r, "missing_field", "'expires' is required: when the alert ends.", "expires");
    if (cancel && a->expires_ms <= now) {
        /* A Cancel of what already ended still goes out, valid for an hour. */
        a->expires_ms = now + 3600LL * 1000;
        a->onset_ms = a->onset_ms < now ? a->onset_ms : now;
    }
    if (a->expires_ms <= a->onset_ms || a->expires_ms <= now) {
        return bad(r, "invalid_value", "'expires' must be after 'onset' and in the future.",
                   "expires");
    }
    return true;
}

/*
 * The CAP identity of the org's own alerts: identifiers "urn:araldo:<host>:<org>:" + id, and
 * the sender: the org's jurisdiction_id, else its address on this server.
 */
static void identity(struct http_req *r, const struct store_org *o, char *prefix, size_t plen,
                     char *sender, size_t slen)
{
    char base_url[200];
    const char *host;

    api__base_url(r, base_url, sizeof(base_url));
    host = strstr(base_url, "://") ? strstr(base_url, "://") + 3 : base_url;
    snprintf(prefix, plen, "urn:araldo:%s:%s:", host, o->slug);
    for (char *c = prefix; *c; c++) {
        if (*c == '/' || *c == ' ' || *c == ',')
            *c = '-';
    }
    if (*o->jurisdiction_id && !strpbrk(o->jurisdiction_id, " ,<&")) {
        snprintf(sender, slen, "%s", o->jurisdiction_id);
    } else {
        snprintf(sender, slen, "%s/api/v1/orgs/%s", base_url, o->slug);
    }
}

static void publish_body(struct http_req *r, const struct store_org *o, const struct store_user *me,
                         json_t *body)
{
    struct store_alert_new a = { 0 };
    int64_t refs[STORE_ALERT_REFS_MAX];
    json_t *base = NULL, *areas = NULL, *info = NULL, *doc = NULL, *risks = NULL, *risk;
    char prefix[400], sender[1100];
    char *doc_s = NULL;

    if (!read_kind(r, o, body, &a, refs, &base) || !read_what(r, body, base, &a))
        goto out;
    risks = api__risks_of(api__reader(r), o->id);
    risk = api__risk_find(risks, a.risk);
    if (!risk) {
        bad(r, "unknown_risk", "'risk' is one of GET /api/v1/orgs/{org}/risks.", "risk");
        goto out;
    }
    if (json_object_get(body, "zones") || !base) {
        if (!read_zones(r, o->id, json_object_get(body, "zones"), &areas))
            goto out;
    } else {
        areas = json_incref(json_object_get(base, "areas"));
    }
    if (json_object_get(body, "info") || !base) {
        if (!read_info(r, body, &info))
            goto out;
    } else {
        info = json_incref(json_object_get(base, "info"));
    }
    doc = json_pack("{s:O, s:O, s:O}", "risk_name", json_object_get(risk, "name"), "areas", areas,
                    "info", info);
    doc_s = json_dumps(doc, JSON_COMPACT);
    identity(r, o, prefix, sizeof(prefix), sender, sizeof(sender));
    a.id_prefix = prefix;
    a.sender = sender;
    a.doc_json = doc_s;
    a.refs = refs;
    api__alert_submit(r, o, me, &a);
out:
    free(doc_s);
    json_decref(doc);
    json_decref(areas);
    json_decref(info);
    json_decref(risks);
    json_decref(base);
}

static void alerts_create(struct http_req *r)
{
    static const char *const allowed[] = { "zones",      "risk",    "level",  "phase",
                                           "onset",      "expires", "status", "msg_type",
                                           "references", "info",    NULL };
    struct store_org o;
    struct store_user me;
    json_t *body;

    if (!api__staff(r, &me, NULL) || !api__alert_org(r, &o) || !api__alert_publisher(r, &me, &o))
        return;
    body = api__body_object(r, allowed);
    if (!body)
        return;
    publish_body(r, &o, &me, body);
    json_decref(body);
}

/* ---- approve, withdraw ---- */

static void decided(struct http_req *r, int err, int64_t id, void *data)
{
    json_t *v;

    (void)data;
    if (err == -EALREADY) {
        http_respond_error(r, 409, "not_pending", "This alert is not waiting for approval.", NULL);
    } else if (err == -EPERM) {
        http_respond_error(r, 403, "same_person",
                           "The two-person rule: someone other than who wrote it must approve a"
                           " rosso alert.",
                           NULL);
    } else if (err == -ENOENT) {
        alert_hidden(r);
    } else if (err) {
        api__errno(r, err, "alert approve");
    } else if ((v = api__alert_load(api__reader(r), id, NULL)) != NULL) {
        /* Approved: its events and Web Push were written with the approval. */
        api__json(r, 200, v);
    } else {
        api__errno(r, -EIO, "alert read");
    }
}

static void decide(struct http_req *r, bool approve)
{
    struct store_org o = { 0 };
    struct store_user me;
    struct api_pending *p;
    int64_t id, org_id;
    json_t *v;
    int err;

    if (!api__staff(r, &me, NULL))
        return;
    if (!parse_id(http_req_param(r, "id"), &id) || strstr(http_req_param(r, "id"), ".cap")) {
        alert_hidden(r);
        return;
    }
    v = readable_alert(r, id, &org_id);
    if (!v)
        return;
    json_decref(v);
    o.id = org_id;
    if (!api__alert_org_staff(r, &o, &me)) {
        alert_hidden(r);
        return;
    }
    if (!api__alert_publisher(r, &me, &o))
        return;
    p = api__pending_new(r, decided, NULL);
    err = approve ? store_alert_approve(api__app(r)->store, me.id, o.id, id, api__pending_done, p)
                  : store_alert_withdraw(api__app(r)->store, me.id, o.id, id, api__pending_done, p);
    if (err) {
        api__pending_free(p);
        decided(r, err, 0, NULL);
    }
}

static void alert_approve(struct http_req *r)
{
    decide(r, true);
}

static void alert_withdraw(struct http_req *r)
{
    decide(r, false);
}

/* ---- history ---- */

static void list_one(void *ctx, const struct store_alert *a)
{
    json_t *v = store_alert_json(a);

    if (v)
        json_array_append_new(ctx, v);
}

static void alerts_list(struct http_req *r)
{
    struct store_alert_query q = { 0 };
    struct store_org o;
    struct store_user me;
    const char *s;
    json_t *arr;
    bool staff;
    int err;

    if (!api__alert_org(r, &o))
        return;
    staff = api__alert_org_staff(r, &o, &me);
    q.org_id = o.id;
    q.status = http_req_query(r, "status");
    q.zone = http_req_query(r, "zone");
    q.risk = http_req_query(r, "risk");
    q.limit = LIST_LIMIT;
    if (q.status && !in_list(q.status, statuses)) {
        bad(r, "invalid_parameter", "'status' is Actual, Exercise or Test.", "status");
        return;
    }
    if (!staff) {
        /* The public sees Actual, published alerts; other statuses exist only for staff. */
        if (q.status && strcmp(q.status, "Actual") != 0) {
            api__json(r, 200, json_pack("{s:[]}", "alerts"));
            return;
        }
        q.status = "Actual";
        q.state = "published";
    } else if ((s = http_req_query(r, "state")) != NULL) {
        q.state = s;
    }
    if ((s = http_req_query(r, "from")) && cap_time_parse(s, &q.from_ms)) {
        bad(r, "invalid_parameter", "'from' is an RFC 3339 time.", "from");
        return;
    }
    if ((s = http_req_query(r, "to")) && cap_time_parse(s, &q.to_ms)) {
        bad(r, "invalid_parameter", "'to' is an RFC 3339 time.", "to");
        return;
    }
    if ((s = http_req_query(r, "before")) && !parse_id(s, &q.before_id)) {
        bad(r, "invalid_parameter", "'before' is an alert id.", "before");
        return;
    }
    if ((s = http_req_query(r, "limit"))) {
        char *end;
        long l = strtol(s, &end, 10);

        if (*end || l < 1 || l > LIST_LIMIT_MX) {
            bad(r, "invalid_parameter", "'limit' is 1 to 200.", "limit");
            return;
        }
        q.limit = (unsigned)l;
    }
    arr = json_array();
    err = store_alert_list(api__reader(r), &q, list_one, arr);
    if (err) {
        json_decref(arr);
        api__errno(r, err, "alert list");
        return;
    }
    api__alerts_answer_json(r, json_pack("{s:o}", "alerts", arr), !staff);
}

/* ---- current status ---- */

struct live {
    json_t *in_force, *upcoming;
    int64_t now;
};

static void live_one(void *ctx, const struct store_alert *a)
{
    struct live *l = ctx;
    json_t *v = store_alert_json(a);

    if (v)
        json_array_append_new(a->onset_ms <= l->now ? l->in_force : l->upcoming, v);
}

/* The alert in force that sets zone × risk: the highest level, then the latest sent. */
static json_t *setter(json_t *in_force, const char *zone, const char *risk)
{
    json_t *best = NULL, *it, *z;
    size_t i, j;

    json_array_foreach(in_force, i, it)
    {
        if (strcmp(str_of(it, "risk"), risk) != 0)
            continue;
        json_array_foreach(json_object_get(it, "zones"), j, z)
        {
            if (strcmp(json_string_value(z), zone) != 0)
                continue;
            if (!best ||
                api__level(str_of(it, "level"))->rank > api__level(str_of(best, "level"))->rank ||
                (api__level(str_of(it, "level"))->rank == api__level(str_of(best, "level"))->rank &&
                 strcmp(str_of(it, "sent"), str_of(best, "sent")) > 0))
                best = it;
        }
    }
    return best;
}

json_t *api__alerts_current(struct store_reader *rd, const struct store_org *o, const char *status,
                            int64_t now_ms)
{
    struct live l = { json_array(), json_array(), now_ms };
    json_t *zones = json_array(), *risks = api__risks_of(rd, o->id), *table = json_array();
    const char *highest = "verde";
    char now_s[40];
    json_t *z, *k;
    size_t i, j;
    int err = store_zone_list(rd, o->id, NULL, api__zone_one, zones);

    if (!err)
        err = store_alert_live(rd, o->id, status, now_ms, live_one, &l);
    if (err) {
        log_warn("alerts: cannot read the current status of '%s': %s", o->slug, strerror(-err));
        json_decref(l.in_force);
        json_decref(l.upcoming);
        json_decref(zones);
        json_decref(risks);
        json_decref(table);
        return NULL;
    }
    json_array_foreach(zones, i, z)
    {
        json_t *row = json_array();
        const char *zone_high = "verde";

        json_array_foreach(risks, j, k)
        {
            json_t *a = setter(l.in_force, str_of(z, "code"), str_of(k, "code"));
            const char *level = a ? str_of(a, "level") : "verde";

            if (api__level(level)->rank > api__level(zone_high)->rank)
                zone_high = level;
            json_array_append_new(
                row, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "risk", str_of(k, "code"),
                               "risk_name", str_of(k, "name"), "level", level, "phase",
                               a ? str_of(a, "phase") : "nessuna", "alert",
                               a ? json_incref(json_object_get(a, "id")) : json_null(), "until",
                               a ? json_incref(json_object_get(a, "expires")) : json_null()));
        }
        if (api__level(zone_high)->rank > api__level(highest)->rank)
            highest = zone_high;
        json_array_append_new(table,
                              json_pack("{s:s, s:s, s:s, s:o}", "code", str_of(z, "code"), "name",
                                        str_of(z, "name"), "level", zone_high, "risks", row));
    }
    clock_rfc3339(now_ms, now_s, sizeof(now_s));
    json_decref(zones);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "org", o->slug, "status",
                     status, "timezone", o->timezone, "generated_at", now_s, "level", highest,
                     "zones", table, "risks", risks, "alerts", l.in_force, "upcoming", l.upcoming);
}

/*
 * The status with an ETag of what it says, not of when it was made: `generated_at` is left out
 * of the tag, so a client revalidating an unchanged status gets 304.
 */
static void answer_status(struct http_req *r, json_t *v, bool shared)
{
    json_t *at = json_incref(json_object_get(v, "generated_at"));
    size_t tag_len, len;
    char *tag, *body;

    json_object_del(v, "generated_at");
    tag = json_encode(v, &tag_len);
    json_object_set_new(v, "generated_at", at);
    body = json_encode(v, &len);
    json_decref(v);
    api__alerts_answer(r, "application/json", body, len, tag, tag_len, shared);
    free(tag);
    free(body);
}

static void alerts_current(struct http_req *r)
{
    const char *status = http_req_query(r, "status");
    struct store_org o;
    struct store_user me;
    json_t *v;

    if (!api__alert_org(r, &o))
        return;
    if (!status)
        status = "Actual";
    if (!in_list(status, statuses)) {
        bad(r, "invalid_parameter", "'status' is Actual, Exercise or Test.", "status");
        return;
    }
    if (strcmp(status, "Actual") != 0 && !api__alert_org_staff(r, &o, &me)) {
        http_respond_error(r, 404, "not_found",
                           "Exercises and tests are shown to the organization's staff only.",
                           "status");
        return;
    }
    v = api__alerts_current(api__reader(r), &o, status, clock_now_ms());
    if (!v) {
        api__errno(r, -EIO, "alert status");
        return;
    }
    answer_status(r, v, !strcmp(status, "Actual"));
}

static const struct http_route routes[] = {
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/orgs/{slug}/zones", api__zones_create, BODY_MAX,
      NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/zones", api__zones_list, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/zones/{code}", api__zone_get, 0, NULL },
    { HTTP_M_PATCH, HTTP_ROUTE_JSON, "/api/v1/orgs/{slug}/zones/{code}", api__zone_patch, BODY_MAX,
      NULL },
    { HTTP_M_DELETE, 0, "/api/v1/orgs/{slug}/zones/{code}", api__zone_delete, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/risks", api__risks_list, 0, NULL },
    { HTTP_M_PUT, HTTP_ROUTE_JSON, "/api/v1/orgs/{slug}/risks/{code}", api__risk_put, 8192, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/orgs/{slug}/risks/{code}", api__risk_delete, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/alerts/settings", api__alert_settings_get,
      0, NULL },
    { HTTP_M_PUT, HTTP_ROUTE_JSON, "/api/v1/orgs/{slug}/alerts/settings", api__alert_settings_put,
      BODY_MAX, NULL },
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/orgs/{slug}/alerts", alerts_create, BODY_MAX, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/alerts", alerts_list, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/alerts/current", alerts_current, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/alerts.atom", api__alerts_atom, 0, NULL },
    { HTTP_M_POST, 0, "/api/v1/orgs/{slug}/alerts/import", api__alerts_import, CAP_MAX_BYTES,
      NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/alerts/{id}", alert_get, 0, NULL },
    { HTTP_M_POST, 0, "/api/v1/alerts/{id}/approve", alert_approve, 0, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/alerts/{id}", alert_withdraw, 0, NULL },
};

API_ROUTE_SET(api_alerts_routes, routes);
