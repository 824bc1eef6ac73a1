/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Citizen reports, second half (see api/reports.c for who may do what): the staff queue and a
 * report's detail, the workflow PATCH, the CSV export, and the public helpers: open reports
 * nearby (the "È già stato segnalato?" check), statistics, "Anche io", and the reporter's
 * follow link with "Non è risolto". The CSV export is in api/reports_csv.c.
 */
#include "api/reports_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/channels_int.h"
#include "api/counts_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/secret.h"

#define PAGE_DEF     50
#define PAGE_MAX     200
#define CSV_ROWS_MAX 10000
#define NEARBY_DEF_M 100.0
#define NEARBY_MAX_M 1000.0
#define NEARBY_LIMIT 20
#define TOKEN_MAX    80
#define DAY_MS       (86400LL * 1000)

/* ---- JSON ---- */

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *time_or_null(int64_t ms)
{
    char t[32];

    if (!ms)
        return json_null();
    clock_rfc3339(ms, t, sizeof(t));
    return json_string(t);
}

static json_t *id_json(int64_t id)
{
    char s[24];

    snprintf(s, sizeof(s), "%lld", (long long)id);
    return json_string(s);
}

/* A report as its org's staff see it (contact data added separately, for members only). */
static json_t *staff_json(const struct store_report *p, const char *base)
{
    json_t *attrs = json_loads(p->attributes_json, 0, NULL);
    json_t *o = json_object();
    json_t *photo = json_null();
    char url[600];

    if (p->media_id) {
        photo = json_object();
        json_object_set_new(photo, "state", json_string(p->photo_state));
        snprintf(url, sizeof(url), "%s/media/%s/small", base, p->media_id);
        json_object_set_new(photo, "small_url", json_string(url));
        snprintf(url, sizeof(url), "%s/media/%s/large", base, p->media_id);
        json_object_set_new(photo, "large_url", json_string(url));
    } else if (p->media_url) {
        photo = json_pack("{s:s, s:s}", "state", p->photo_state, "url", p->media_url);
    }
    json_object_set_new(o, "id", id_json(p->id));
    json_object_set_new(o, "service_code", json_string(p->service_code));
    json_object_set_new(o, "service_name", json_string(p->service_name));
    json_object_set_new(o, "status", json_string(p->status));
    json_object_set_new(o, "open311_status", json_string(api__open311_status(p->status)));
    json_object_set_new(o, "close_reason", str_or_null(p->close_reason));
    json_object_set_new(o, "description", json_string(p->description));
    json_object_set_new(o, "text_hidden", json_boolean(p->text_hidden));
    json_object_set_new(o, "lat", p->has_pos ? json_real(p->lat) : json_null());
    json_object_set_new(o, "long", p->has_pos ? json_real(p->lon) : json_null());
    json_object_set_new(o, "address", str_or_null(p->address));
    json_object_set_new(o, "address_id", str_or_null(p->address_id));
    json_object_set_new(o, "attributes", attrs ? attrs : json_object());
    json_object_set_new(o, "photo", photo);
    json_object_set_new(o, "status_notes", str_or_null(p->status_notes));
    json_object_set_new(o, "agency", str_or_null(p->agency));
    json_object_set_new(o, "service_notice", str_or_null(p->service_notice));
    json_object_set_new(o, "forwarded_to", str_or_null(p->forwarded_to));
    json_object_set_new(o, "duplicate_of",
                        p->duplicate_of ? id_json(p->duplicate_of) : json_null());
    json_object_set_new(o, "followers", json_integer(p->followers));
    json_object_set_new(o, "reopened", json_integer(p->reopened));
    json_object_set_new(o, "created_at", time_or_null(p->created_ms));
    json_object_set_new(o, "updated_at", time_or_null(p->updated_ms));
    json_object_set_new(o, "expected_at", time_or_null(p->expected_ms));
    json_object_set_new(o, "first_answer_at", time_or_null(p->first_answer_ms));
    json_object_set_new(o, "resolved_at", time_or_null(p->resolved_ms));
    json_object_set_new(o, "closed_at", time_or_null(p->closed_ms));
    return o;
}

static json_t *contact_json(const struct store_report_contact *c)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "email", str_or_null(c->email), "phone",
                     str_or_null(c->phone), "first_name", str_or_null(c->first_name), "last_name",
                     str_or_null(c->last_name), "device_id", str_or_null(c->device_id),
                     "account_id", str_or_null(c->account_id));
}

/* ---- the queue ---- */

static bool bad(struct http_req *r, const char *msg, const char *field)
{
    http_respond_error(r, 400, "invalid_value", msg, field);
    return false;
}

static bool query_num(const char *s, double *out)
{
    char *end;

    if (!s || !*s)
        return false;
    *out = strtod(s, &end);
    return *end == '\0' && isfinite(*out);
}

/* The queue's filters from the query string; answers 400 and returns false on a bad one. */
bool api__rep_filters(struct http_req *r, int64_t org_id, struct store_report_query *q, bool csv)
{
    static const char *const statuses[] = {
        "nuova", "presa_in_carico", "in_lavorazione", "risolta", "chiusa", "open", "closed", NULL
    };
    const char *status = http_req_query(r, "status");
    const char *older = http_req_query(r, "older_than_days");
    const char *newer = http_req_query(r, "newer_than_days");
    const char *bbox = http_req_query(r, "bbox");
    const char *page = http_req_query(r, "page");
    const char *size = http_req_query(r, "page_size");
    const char *order = http_req_query(r, "order");
    int64_t n = 0, pg = 1, ps = PAGE_DEF;
    bool ok = !status;

    memset(q, 0, sizeof(*q));
    q->org_id = org_id;
    for (int i = 0; statuses[i] && status; i++)
        ok = ok || !strcmp(statuses[i], status);
    if (!ok) {
        return bad(r,
                   "'status' is a status (nuova, presa_in_carico, in_lavorazione, risolta, "
                   "chiusa) or open or closed.",
                   "status");
    }
    q->status = status;
    q->service_code = http_req_query(r, "service_code");
    q->agency = http_req_query(r, "agency");
    if (older) {
        if (!api__rep_id(older, &n) || n > 3650)
            return bad(r, "'older_than_days' is a whole number from 1 to 3650.", "older_than_days");
        q->to_ms = clock_now_ms() - n * DAY_MS;
    }
    if (newer) {
        if (!api__rep_id(newer, &n) || n > 3650)
            return bad(r, "'newer_than_days' is a whole number from 1 to 3650.", "newer_than_days");
        q->from_ms = clock_now_ms() - n * DAY_MS;
    }
    if (bbox) {
        char b[200];
        char *save = NULL;
        double v[4];
        int k = 0;

        snprintf(b, sizeof(b), "%s", bbox);
        for (char *t = strtok_r(b, ",", &save); t && k < 4; t = strtok_r(NULL, ",", &save)) {
            if (query_num(t, &v[k]))
                k++;
        }
        if (k != 4 || v[0] > v[2] || v[1] > v[3])
            return bad(r, "'bbox' is min_lat,min_long,max_lat,max_long.", "bbox");
        q->has_box = true;
        q->min_lat = v[0];
        q->min_lon = v[1];
        q->max_lat = v[2];
        q->max_lon = v[3];
    }
    if ((page && !api__rep_id(page, &pg)) || pg > 100000 ||
        (size && (!api__rep_id(size, &ps) || ps > PAGE_MAX)))
        return bad(r, "'page' starts at 1; 'page_size' is 1 to 200.", "page");
    q->oldest_first = !order || strcmp(order, "newest") != 0;
    q->limit = csv ? CSV_ROWS_MAX : (unsigned)ps;
    q->offset = csv ? 0 : (unsigned)((pg - 1) * ps);
    return true;
}

struct queue_ctx {
    json_t *list;
    const char *base;
};

static void queue_one(void *ctx, const struct store_report *p)
{
    struct queue_ctx *c = ctx;

    json_array_append_new(c->list, staff_json(p, c->base));
}

void api__reports_queue(struct http_req *r)
{
    struct store_report_query q;
    struct store_org o;
    struct store_user me;
    struct queue_ctx c;
    char base[512];
    int err;

    if (!api__rep_org(r, &o) || !api__rep_staff(r, &o, &me) ||
        !api__rep_filters(r, o.id, &q, false))
        return;
    api__base_url(r, base, sizeof(base));
    c.list = json_array();
    c.base = base;
    err = store_reports_list(api__reader(r), &q, queue_one, &c);
    if (err) {
        json_decref(c.list);
        api__errno(r, err, "reports queue");
        return;
    }
    api__json(r, 200, json_pack("{s:o}", "reports", c.list));
}

/* ---- detail ---- */

struct one_ctx {
    json_t *v;
    int64_t duplicate_of;
    const char *base;
    const char *tz;
    bool public_view;
    char status[32];
    int64_t resolved_ms;
};

static void one(void *ctx, const struct store_report *p)
{
    struct one_ctx *c = ctx;

    c->v = c->public_view ? api__report_public_json(p, c->tz, c->base) : staff_json(p, c->base);
    c->duplicate_of = p->duplicate_of;
    snprintf(c->status, sizeof(c->status), "%s", p->status);
    c->resolved_ms = p->resolved_ms;
}

static void note_one(void *ctx, const struct store_report_note *n)
{
    json_t *v = json_pack("{s:o, s:b, s:o, s:s, s:o}", "id", id_json(n->id), "public", n->public,
                          "status", str_or_null(n->status), "text", n->text, "created_at",
                          time_or_null(n->created_ms));

    json_object_set_new(v, "author", str_or_null(n->author_email));
    json_array_append_new(ctx, v);
}

static void public_note_one(void *ctx, const struct store_report_note *n)
{
    json_array_append_new(ctx,
                          json_pack("{s:o, s:s, s:o}", "status", str_or_null(n->status), "text",
                                    n->text, "created_at", time_or_null(n->created_ms)));
}

void api__report_get(struct http_req *r)
{
    struct store_report_contact contact;
    struct store_org o;
    struct store_user me;
    struct one_ctx c = { 0 };
    char base[512];
    json_t *notes;
    int64_t id;
    int err;

    if (!api__rep_org(r, &o) || !api__rep_staff(r, &o, &me))
        return;
    if (!api__rep_id(http_req_param(r, "id"), &id)) {
        http_respond_error(r, 404, "report_not_found", "No such report.", "id");
        return;
    }
    api__base_url(r, base, sizeof(base));
    c.base = base;
    err = store_report_get(api__reader(r), o.id, id, one, &c);
    if (err == -ENOENT) {
        http_respond_error(r, 404, "report_not_found", "No such report.", "id");
        return;
    }
    if (err) {
        api__errno(r, err, "report get");
        return;
    }
    notes = json_array();
    err = store_report_notes(api__reader(r), id, false, note_one, notes);
    /* Contact data: this org's own staff only, never an operator of the server. */
    if (!err && api__org_member(&me, o.id)) {
        err = store_report_contact(api__reader(r), id, &contact);
        json_object_set_new(c.v, "contact",
                            !err && contact.any ? contact_json(&contact) : json_null());
        explicit_bzero(&contact, sizeof(contact));
    }
    json_object_set_new(c.v, "notes", notes);
    if (!err) {
        json_t *fw = api__report_forwards_json(r, id);

        err = fw ? 0 : -EIO;
        json_object_set_new(c.v, "forwards", fw ? fw : json_array());
    }
    if (err) {
        json_decref(c.v);
        api__errno(r, err, "report get");
        return;
    }
    api__json(r, 200, c.v);
}

/* ---- the workflow ---- */

static bool opt_string(struct http_req *r, json_t *body, const char *key, size_t max,
                       bool multiline, unsigned bit, unsigned *set, const char **out)
{
    if (!json_object_get(body, key))
        return true;
    if (!api__label(r, body, key, false, 0, max, multiline, out))
        return false;
    *set |= bit;
    return true;
}

static bool one_of(const char *s, const char *const *list)
{
    for (; *list; list++) {
        if (!strcmp(s, *list))
            return true;
    }
    return false;
}

/* The string members of a change. Answers 400 and returns false on a bad one. */
static bool change_strings(struct http_req *r, json_t *body, struct store_report_change *ch)
{
    static const char *const statuses[] = { "nuova",   "presa_in_carico", "in_lavorazione",
                                            "risolta", "chiusa",          NULL };
    static const char *const reasons[] = { "non_di_competenza", "duplicato", "non_riproducibile",
                                           NULL };

    if (!opt_string(r, body, "status", 32, false, STORE_RS_STATUS, &ch->set, &ch->status) ||
        !api__string(r, body, "close_reason", false, 1, 32, &ch->close_reason) ||
        !opt_string(r, body, "note", STORE_REPORT_NOTE_MAX, true, STORE_RS_NOTE, &ch->set,
                    &ch->note) ||
        !opt_string(r, body, "agency", STORE_REPORT_AGENCY_MAX, false, STORE_RS_AGENCY, &ch->set,
                    &ch->agency) ||
        !opt_string(r, body, "service_notice", STORE_REPORT_NOTICE_MAX, true, STORE_RS_NOTICE,
                    &ch->set, &ch->service_notice) ||
        !opt_string(r, body, "photo", 16, false, STORE_RS_PHOTO, &ch->set, &ch->photo_state) ||
        !opt_string(r, body, "forwarded_to", 200, false, STORE_RS_FORWARD, &ch->set,
                    &ch->forwarded_to))
        return false;
    if (ch->status && !one_of(ch->status, statuses)) {
        return bad(r, "'status' is nuova, presa_in_carico, in_lavorazione, risolta or chiusa.",
                   "status");
    }
    if (ch->status && !strcmp(ch->status, "chiusa") &&
        (!ch->close_reason || !one_of(ch->close_reason, reasons))) {
        return bad(r,
                   "Closing needs 'close_reason': non_di_competenza, duplicato or "
                   "non_riproducibile (a duplicate is better merged with 'duplicate_of').",
                   "close_reason");
    }
    if (ch->photo_state && strcmp(ch->photo_state, "approved") != 0 &&
        strcmp(ch->photo_state, "hidden") != 0)
        return bad(r, "'photo' is approved or hidden.", "photo");
    if (ch->note && !*ch->note)
        return bad(r, "'note' must not be empty.", "note");
    return true;
}

/* The other members: note_public, text_hidden, expected_datetime, duplicate_of. */
static bool change_others(struct http_req *r, json_t *body, int64_t id,
                          struct store_report_change *ch)
{
    json_t *v = json_object_get(body, "note_public");

    if (v && !json_is_boolean(v))
        return bad(r, "'note_public' is true or false.", "note_public");
    ch->note_public = json_is_true(v);
    v = json_object_get(body, "text_hidden");
    if (v && !json_is_boolean(v))
        return bad(r, "'text_hidden' is true or false.", "text_hidden");
    if (v) {
        ch->set |= STORE_RS_TEXT;
        ch->text_hidden = json_is_true(v);
    }
    v = json_object_get(body, "expected_datetime");
    if (v && !json_is_null(v) &&
        (!json_is_string(v) || !api__rfc3339_parse(json_string_value(v), &ch->expected_ms)))
        return bad(r, "'expected_datetime' is an RFC 3339 time or null.", "expected_datetime");
    if (v)
        ch->set |= STORE_RS_EXPECTED;
    v = json_object_get(body, "duplicate_of");
    if (v && (!json_is_string(v) || !api__rep_id(json_string_value(v), &ch->merge_into) ||
              ch->merge_into == id)) {
        return bad(r, "'duplicate_of' is the id of another report of this organization.",
                   "duplicate_of");
    }
    if (v)
        ch->set |= STORE_RS_MERGE;
    if (!ch->set)
        return bad(r, "Nothing to change: send status, note, agency, ... (see docs/API.md).", NULL);
    return true;
}

void api__report_patch(struct http_req *r)
{
    static const char *const allowed[] = { "status",
                                           "close_reason",
                                           "note",
                                           "note_public",
                                           "agency",
                                           "service_notice",
                                           "expected_datetime",
                                           "photo",
                                           "text_hidden",
                                           "duplicate_of",
                                           "forwarded_to",
                                           NULL };
    struct store_report_change ch = { 0 };
    struct api_pending *p;
    struct store_org o;
    struct store_user me;
    json_t *body;
    int64_t id;
    int err;

    if (!api__rep_org(r, &o) || !api__rep_staff(r, &o, &me))
        return;
    if (!api__rep_id(http_req_param(r, "id"), &id)) {
        http_respond_error(r, 404, "report_not_found", "No such report.", "id");
        return;
    }
    body = api__body_object(r, allowed);
    if (!body)
        return;
    if (!change_strings(r, body, &ch) || !change_others(r, body, id, &ch))
        goto out;
    /* once durable, the report's streams hear it from the store (STORE_NOTICE_REPORT) */
    p = api__pending_new(r, api__rep_done, NULL);
    err = store_report_update(api__app(r)->store, me.id, o.id, id, &ch, api__pending_done, p);
    if (err) {
        api__pending_free(p);
        api__rep_done(r, err, 0, NULL);
    }
out:
    json_decref(body);
}

/* ---- public helpers ---- */

struct near_ctx {
    json_t *list;
    const char *tz, *base;
    double lat, lon;
};

static void near_one(void *ctx, const struct store_report *p)
{
    struct near_ctx *c = ctx;

    json_array_append_new(c->list, api__report_public_json(p, c->tz, c->base));
}

void api__reports_nearby(struct http_req *r)
{
    struct store_org o;
    struct near_ctx c;
    const char *code = http_req_query(r, "service_code");
    const char *rad = http_req_query(r, "radius");
    double radius = NEARBY_DEF_M;
    char base[512];
    int err;

    if (!api__rep_org(r, &o))
        return;
    if (!code || !store_service_code_valid(code)) {
        bad(r, "'service_code' is required.", "service_code");
        return;
    }
    if (!query_num(http_req_query(r, "lat"), &c.lat) ||
        !query_num(http_req_query(r, "long"), &c.lon) || c.lat < -90 || c.lat > 90 ||
        c.lon < -180 || c.lon > 180) {
        bad(r, "'lat' and 'long' are decimal degrees (lat -90..90, long -180..180).", "lat");
        return;
    }
    if (rad && (!query_num(rad, &radius) || radius < 1 || radius > NEARBY_MAX_M)) {
        bad(r, "'radius' is 1 to 1000 metres.", "radius");
        return;
    }
    api__base_url(r, base, sizeof(base));
    c.list = json_array();
    c.tz = o.timezone;
    c.base = base;
    err = store_reports_nearby(api__reader(r), o.id, code, c.lat, c.lon, radius, NEARBY_LIMIT,
                               near_one, &c);
    if (err) {
        json_decref(c.list);
        api__errno(r, err, "reports nearby");
        return;
    }
    api__json(r, 200, json_pack("{s:o}", "requests", c.list));
}

void api__reports_stats(struct http_req *r)
{
    struct store_org o;
    json_t *stats;
    json_t *v;
    char *body;
    size_t len;

    if (!api__rep_org(r, &o))
        return;
    stats = api__report_stats_json(r, o.id);
    if (!stats) {
        api__errno(r, -EIO, "report statistics");
        return;
    }
    v = json_pack("{s:s, s:s, s:i, s:o}", "org", o.slug, "name", o.name, "period_days", 365,
                  "services", stats);
    body = json_encode(v, &len);
    json_decref(v);
    /* Public aggregates: caches may keep them a few minutes (api__json would say no-store). */
    http_resp_header(r, "Cache-Control", "public, max-age=300");
    http_respond(r, 200, "application/json", body, len);
    free(body);
}

/* PUT /api/v1/orgs/{slug}/reports/{id}/follow: a follower follows an open report too. */
void api__report_follow(struct http_req *r)
{
    uint8_t hash[SECRET_HASH_LEN];
    struct one_ctx c = { 0 };
    struct store_org o;
    int64_t id;
    int err;

    if (!api__rep_org(r, &o) || !api__follower(r, hash))
        return;
    c.public_view = true;
    c.base = "";
    c.tz = o.timezone;
    if (!api__rep_id(http_req_param(r, "id"), &id) ||
        store_report_get(api__reader(r), o.id, id, one, &c) != 0) {
        http_respond_error(r, 404, "report_not_found", "No such report.", "id");
        goto out;
    }
    json_decref(c.v);
    API_REP_SUBMIT(r, store_report_follow(api__app(r)->store, hash, id, api__pending_done, p_));
    (void)err;
out:
    explicit_bzero(hash, sizeof(hash));
}

/* The report behind a reporter's follow token, in `c` (public view). */
static int by_token(struct http_req *r, struct one_ctx *c, struct store_org *o,
                    uint8_t hash[SECRET_HASH_LEN], int64_t *id)
{
    const char *tok = http_req_param(r, "token");
    int64_t org_id;
    int err;

    if (strlen(tok) > TOKEN_MAX)
        return -ENOENT;
    secret_sha256(tok, strlen(tok), hash);
    err = store_report_by_token(api__reader(r), hash, id, &org_id);
    if (!err)
        err = store_org_get_id(api__reader(r), org_id, o);
    if (!err) {
        c->tz = o->timezone;
        err = store_report_get(api__reader(r), org_id, *id, one, c);
    }
    return err;
}

void api__reporter_view(struct http_req *r)
{
    uint8_t hash[SECRET_HASH_LEN];
    struct one_ctx c = { 0 }, orig = { 0 };
    struct store_org o;
    char base[512];
    json_t *notes;
    int64_t id = 0;
    int err;

    api__base_url(r, base, sizeof(base));
    c.public_view = orig.public_view = true;
    c.base = orig.base = base;
    err = by_token(r, &c, &o, hash, &id);
    explicit_bzero(hash, sizeof(hash));
    if (err) {
        if (err == -ENOENT) {
            http_respond_error(r, 404, "report_not_found", "No report has this follow link.",
                               "token");
        } else {
            api__errno(r, err, "reporter view");
        }
        return;
    }
    notes = json_array();
    err = store_report_notes(api__reader(r), id, true, public_note_one, notes);
    /* A merged duplicate: its reporter follows the original from now on. */
    if (c.duplicate_of) {
        orig.tz = o.timezone;
        if (!err)
            err = store_report_get(api__reader(r), o.id, c.duplicate_of, one, &orig);
    }
    if (err) {
        json_decref(notes);
        json_decref(c.v);
        json_decref(orig.v);
        api__errno(r, err, "reporter view");
        return;
    }
    api__json(r, 200,
              json_pack("{s:o, s:s, s:s, s:b, s:o, s:o}", "request", c.v, "status_detail", c.status,
                        "org", o.slug, "can_reopen",
                        !strcmp(c.status, "risolta") &&
                            clock_now_ms() - c.resolved_ms <= STORE_REPORT_REOPEN_MS,
                        "notes", notes, "merged_into", orig.v ? orig.v : json_null()));
}

static void reopened(struct http_req *r, int err, int64_t id, void *data)
{
    (void)id;
    (void)data;
    if (err == -EPERM) {
        http_respond_error(r, 409, "not_reopenable",
                           "Only a report marked solved within the last 14 days can be reopened.",
                           NULL);
    } else if (err == -ENOENT) {
        http_respond_error(r, 404, "report_not_found", "No report has this follow link.", "token");
    } else if (err) {
        api__errno(r, err, "reopen");
    } else {
        http_respond(r, 204, NULL, NULL, 0);
    }
}

void api__reporter_reopen(struct http_req *r)
{
    static const char *const allowed[] = { "note", NULL };
    const char *tok = http_req_param(r, "token");
    uint8_t hash[SECRET_HASH_LEN];
    const char *note = NULL;
    int64_t report_id = 0, org_id = 0;
    struct api_pending *p;
    json_t *body = NULL;
    size_t len;
    int err;

    (void)http_req_body(r, &len);
    if (len) {
        body = api__body_object(r, allowed);
        if (!body || !api__label(r, body, "note", false, 1, STORE_REPORT_NOTE_MAX, true, &note))
            goto out;
    }
    if (strlen(tok) > TOKEN_MAX) {
        reopened(r, -ENOENT, 0, NULL);
        goto out;
    }
    secret_sha256(tok, strlen(tok), hash);
    err = store_report_by_token(api__reader(r), hash, &report_id, &org_id);
    if (err) {
        explicit_bzero(hash, sizeof(hash));
        reopened(r, err, 0, NULL);
        goto out;
    }
    p = api__pending_new(r, reopened, NULL);
    err = store_report_reopen(api__app(r)->store, hash, note ? note : "Non è risolto.",
                              api__pending_done, p);
    explicit_bzero(hash, sizeof(hash));
    if (err) {
        api__pending_free(p);
        reopened(r, err, 0, NULL);
    }
out:
    json_decref(body);
}
