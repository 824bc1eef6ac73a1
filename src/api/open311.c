/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Open311 GeoReport v2 under /open311/v2/ (docs/OPEN311.md): discovery, services, service
 * definitions, requests (GET and POST), one request, tokens; every resource in .json and .xml,
 * errors as the specification's list of {code, description}. The answer is built once as a
 * jansson value shaped like the specification's JSON and written as XML by open311/encode.h.
 *
 * Public answers never carry a reporter's contact data (email, phone, names, device_id,
 * account_id): those go to store/ report_contacts only, which these handlers never read.
 */
#include "api/reports_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/counts_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/secret.h"
#include "open311/encode.h"
#include "open311/form.h"
#include "store/channels.h"

#define O311_SPEC     "http://wiki.open311.org/GeoReport_v2"
#define WINDOW_MS     (90LL * 86400 * 1000) /* default and largest requests window */
#define PAGE_SIZE_DEF 50
#define PAGE_SIZE_MAX 200
#define IDS_MAX       100
#define CODES_MAX     50
#define FORM_BODY_MAX ((size_t)64 * 1024)
/* The media module's largest photo (media_image_max_bytes at most) and the form around it. */
#define UPLOAD_BODY_MAX   ((size_t)32 * 1024 * 1024 + (size_t)64 * 1024)
#define ANSWER_MAX        ((size_t)16 * 1024 * 1024)
#define NEARBY_RADIUS_DEF 100.0
#define NEARBY_RADIUS_MAX 1000.0
#define REPORT_TOKEN_MAX  80

enum fmt { FMT_JSON, FMT_XML };

/* ---- answers ---- */

/*
 * Encode `v` (taken) as JSON or as the specification's XML into `b`. Returns 0, or -EMSGSIZE
 * when the XML passes ANSWER_MAX.
 */
static int encode(json_t *v, bool xml, const char *root, const char *item, struct buf *b)
{
    char *s;
    int err;

    if (xml) {
        err = o311_xml_encode(v, root, item, b);
    } else {
        /* 12 significant digits: a position to the centimetre, without binary noise. */
        s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(12));
        err = buf_puts(b, s ? s : "null");
        free(s);
    }
    json_decref(v);
    return err;
}

static const char *ctype(bool xml)
{
    return xml ? "text/xml; charset=utf-8" : "application/json; charset=utf-8";
}

void api__o311_answer(struct http_req *r, int status, bool xml, json_t *v, const char *root,
                      const char *item)
{
    struct buf b;

    buf_init(&b, ANSWER_MAX);
    if (encode(v, xml, root, item, &b) == 0) {
        http_respond(r, status, ctype(xml), b.data, b.len);
    } else {
        http_respond_error(r, 500, "internal", "The answer is too large.", NULL);
    }
    buf_release(&b);
}

void api__o311_error(struct http_req *r, bool xml, int status, const char *description)
{
    json_t *list = json_pack("[{s:i, s:s}]", "code", status, "description", description);

    http_resp_header(r, "Cache-Control", "no-store");
    api__o311_answer(r, status, xml, list, "errors", "error");
}

/*
 * A public read's answer: caches may keep it for half a minute, and an ETag (a hash of the
 * body) lets a phone on a slow connection revalidate: a matching If-None-Match gets 304.
 */
static void answer(struct http_req *r, int status, enum fmt f, json_t *v, const char *root,
                   const char *item)
{
    const char *inm = http_req_header(r, "If-None-Match");
    uint8_t hash[SECRET_HASH_LEN];
    char hex[2 * 12 + 1];
    char etag[sizeof(hex) + 2];
    struct buf b;

    buf_init(&b, ANSWER_MAX);
    if (encode(v, f == FMT_XML, root, item, &b) != 0) {
        buf_release(&b);
        http_respond_error(r, 500, "internal", "The answer is too large.", NULL);
        return;
    }
    secret_sha256(b.data, b.len, hash);
    secret_hex(hash, 12, hex);
    snprintf(etag, sizeof(etag), "\"%s\"", hex);
    http_resp_header(r, "ETag", etag);
    http_resp_header(r, "Cache-Control", "public, max-age=30");
    if (status == 200 && inm && (strstr(inm, etag) || !strcmp(inm, "*"))) {
        http_respond(r, 304, NULL, NULL, 0);
    } else {
        http_respond(r, status, ctype(f == FMT_XML), b.data, b.len);
    }
    buf_release(&b);
}

static void o311_error(struct http_req *r, enum fmt f, int status, const char *description)
{
    api__o311_error(r, f == FMT_XML, status, description);
}

/* "services.json" -> "services", FMT_JSON; false for another extension. */
static bool split_ext(const char *seg, char *name, size_t namelen, enum fmt *f)
{
    const char *dot = strrchr(seg, '.');
    size_t n;

    if (!dot)
        return false;
    if (!strcmp(dot, ".json")) {
        *f = FMT_JSON;
    } else if (!strcmp(dot, ".xml")) {
        *f = FMT_XML;
    } else {
        return false;
    }
    n = (size_t)(dot - seg);
    if (n == 0 || n >= namelen)
        return false;
    memcpy(name, seg, n);
    name[n] = '\0';
    return true;
}

/* ---- the jurisdiction ---- */

struct pick {
    const char *want; /* jurisdiction_id, or NULL */
    struct store_org org;
    int n; /* orgs on the server */
    bool found;
};

static void pick_one(void *ctx, const struct store_org *o)
{
    struct pick *p = ctx;

    p->n++;
    if (p->found)
        return;
    if (p->want ? (!strcmp(o->jurisdiction_id, p->want) || !strcmp(o->slug, p->want)) : p->n == 1) {
        p->org = *o;
        p->found = !!p->want;
    }
}

/*
 * The org the request is for: `jurisdiction_id` (an org's jurisdiction_id or slug), which may
 * be left out only when the server hosts one org. Answers 400/404 and returns false otherwise.
 */
bool api__open311_org(struct http_req *r, const char *want, struct store_org *out, bool xml)
{
    enum fmt f = xml ? FMT_XML : FMT_JSON;
    struct pick p = { 0 };
    int err;

    p.want = want && *want ? want : NULL;
    err = store_org_list(api__reader(r), 0, pick_one, &p);
    if (err) {
        o311_error(r, f, 500, "The server could not read its organizations.");
        return false;
    }
    if (p.want && !p.found) {
        o311_error(r, f, 404, "jurisdiction_id: no such jurisdiction on this server.");
        return false;
    }
    if (!p.want && p.n != 1) {
        o311_error(r, f, p.n ? 400 : 404,
                   p.n ? "jurisdiction_id: required, this server hosts several jurisdictions."
                       : "jurisdiction_id: this server hosts no jurisdiction yet.");
        return false;
    }
    *out = p.org;
    return true;
}

/* ---- JSON of reports (shared with api/reports.c) ---- */

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *date_or_null(int64_t ms, const char *tz)
{
    char d[40];

    if (!ms)
        return json_null();
    o311_datetime(ms, tz, d, sizeof(d));
    return json_string(d);
}

void api__report_photo_url(const struct store_report *p, const char *base, char *out, size_t outlen)
{
    *out = '\0';
    if (strcmp(p->photo_state, "approved") != 0)
        return;
    if (p->media_id) {
        snprintf(out, outlen, "%s/media/%s/large", base, p->media_id);
    } else if (p->media_url) {
        snprintf(out, outlen, "%s", p->media_url);
    }
}

json_t *api__report_public_json(const struct store_report *p, const char *tz, const char *base)
{
    char id[24];
    char photo[2200];
    json_t *o = json_object();

    snprintf(id, sizeof(id), "%lld", (long long)p->id);
    api__report_photo_url(p, base, photo, sizeof(photo));
    json_object_set_new(o, "service_request_id", json_string(id));
    json_object_set_new(o, "status", json_string(api__open311_status(p->status)));
    json_object_set_new(o, "status_notes", str_or_null(p->status_notes));
    json_object_set_new(o, "service_name", json_string(p->service_name));
    json_object_set_new(o, "service_code", json_string(p->service_code));
    json_object_set_new(o, "description", json_string(p->text_hidden ? "" : p->description));
    json_object_set_new(o, "agency_responsible", str_or_null(p->agency));
    json_object_set_new(o, "service_notice", str_or_null(p->service_notice));
    json_object_set_new(o, "requested_datetime", date_or_null(p->created_ms, tz));
    json_object_set_new(o, "updated_datetime", date_or_null(p->updated_ms, tz));
    json_object_set_new(
        o, "expected_datetime",
        date_or_null(strcmp(api__open311_status(p->status), "open") != 0 ? 0 : p->expected_ms, tz));
    json_object_set_new(o, "address", str_or_null(p->address));
    json_object_set_new(o, "address_id", str_or_null(p->address_id));
    json_object_set_new(o, "zipcode", json_null());
    json_object_set_new(o, "lat", p->has_pos ? json_real(p->lat) : json_null());
    json_object_set_new(o, "long", p->has_pos ? json_real(p->lon) : json_null());
    json_object_set_new(o, "media_url", str_or_null(photo));
    return o;
}

/* ---- discovery ---- */

struct stats_ctx {
    json_t *list;
};

static void stat_one(void *ctx, const struct store_report_stat *s)
{
    struct stats_ctx *c = ctx;

    json_array_append_new(
        c->list,
        json_pack(
            "{s:s, s:s, s:I, s:o, s:o, s:f}", "service_code", s->service_code, "service_name",
            s->service_name, "received", (json_int_t)s->received, "median_first_answer_seconds",
            s->median_first_answer_s < 0 ? json_null() : json_integer(s->median_first_answer_s),
            "median_resolution_seconds",
            s->median_resolution_s < 0 ? json_null() : json_integer(s->median_resolution_s),
            "share_solved", s->received ? (double)s->resolved / (double)s->received : 0.0));
}

/* The public statistics per service over the last year (also GET .../statistics). */
json_t *api__report_stats_json(struct http_req *r, int64_t org_id)
{
    struct stats_ctx c = { json_array() };
    int64_t since = clock_now_ms() - 365LL * 86400 * 1000;

    if (store_report_stats(api__reader(r), org_id, since, stat_one, &c)) {
        json_decref(c.list);
        return NULL;
    }
    return c.list;
}

static void discovery(struct http_req *r, enum fmt f, const struct store_org *o)
{
    struct store_report_settings set;
    char base[512], url[600], changeset[40];
    json_t *stats;
    json_t *v;

    if (store_report_settings_get(api__reader(r), o->id, &set)) {
        o311_error(r, f, 500, "The server could not read its settings.");
        return;
    }
    api__base_url(r, base, sizeof(base));
    snprintf(url, sizeof(url), "%s/open311/v2", base);
    o311_datetime(o->created_ms, o->timezone, changeset, sizeof(changeset));
    stats = api__report_stats_json(r, o->id);
    v = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:[s, s]}]}", "changeset", changeset,
                  "contact", *set.contact ? set.contact : o->name, "key_service",
                  *set.key_service ? set.key_service : base, "endpoints", "specification",
                  O311_SPEC, "url", url, "changeset", changeset, "type", "production", "formats",
                  "application/json", "text/xml");
    /* Extension (docs/OPEN311.md): the public statistics per service. */
    json_object_set_new(v, "statistics", stats ? stats : json_array());
    answer(r, 200, f, v, "discovery", NULL);
}

/* ---- services ---- */

static void service_one(void *ctx, const struct store_service *s)
{
    json_t *attrs = json_loads(s->attributes_json, 0, NULL);

    json_array_append_new(ctx,
                          json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:s}", "service_code", s->code,
                                    "service_name", s->name, "description", s->description,
                                    "metadata", json_array_size(attrs) > 0, "type", "realtime",
                                    "keywords", s->keywords, "group", s->group));
    json_decref(attrs);
}

static void services(struct http_req *r, enum fmt f, const struct store_org *o)
{
    json_t *list = json_array();

    if (store_services_list(api__reader(r), o->id, false, service_one, list)) {
        json_decref(list);
        o311_error(r, f, 500, "The server could not read its services.");
        return;
    }
    answer(r, 200, f, list, "services", "service");
}

struct def_ctx {
    json_t *v;
    bool active;
};

static void definition_one(void *ctx, const struct store_service *s)
{
    struct def_ctx *c = ctx;
    json_t *attrs = json_loads(s->attributes_json, 0, NULL);

    c->active = s->active;
    c->v = json_pack("{s:s, s:o}", "service_code", s->code, "attributes",
                     json_is_array(attrs) ? attrs : json_array());
    if (!json_is_array(attrs))
        json_decref(attrs);
}

static void definition(struct http_req *r, enum fmt f, const struct store_org *o, const char *code)
{
    struct def_ctx c = { 0 };
    int err = store_service_get(api__reader(r), o->id, code, definition_one, &c);

    if (!err && !c.active)
        err = -ENOENT;
    if (err) {
        json_decref(c.v);
        o311_error(r, f, err == -ENOENT ? 404 : 500,
                   err == -ENOENT ? "service_code: no such service." : "Read failed.");
        return;
    }
    answer(r, 200, f, c.v, "service_definition", NULL);
}

/* ---- requests GET ---- */

struct list_ctx {
    json_t *list;
    const char *tz;
    const char *base;
};

static void request_one(void *ctx, const struct store_report *p)
{
    struct list_ctx *c = ctx;

    json_array_append_new(c->list, api__report_public_json(p, c->tz, c->base));
}

static bool parse_id(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 18)
        return false;
    v = strtoll(s, &end, 10);
    *out = v;
    return v > 0;
}

static bool query_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
    int64_t v;

    if (!parse_id(s, &v) || v < min || v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

/* Storage for a GET requests query's lists (the query points into it). */
struct query_bufs {
    int64_t ids[IDS_MAX];
    char codebuf[CODES_MAX * (STORE_SVC_CODE_MAX + 1)];
    const char *codev[CODES_MAX];
};

/* service_request_id=1,2,3: overrides every other parameter. Answers 400 on error. */
static bool ids_query(struct http_req *r, enum fmt f, const char *list, struct query_bufs *qb,
                      struct store_report_query *q)
{
    char buf[IDS_MAX * 20];
    char *save = NULL;

    snprintf(buf, sizeof(buf), "%s", list);
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (q->nids == IDS_MAX || !parse_id(t, &qb->ids[q->nids])) {
            o311_error(r, f, 400, "service_request_id: a comma-separated list of up to 100 ids.");
            return false;
        }
        q->nids++;
    }
    q->ids = qb->ids;
    q->limit = IDS_MAX;
    return true;
}

/* service_code and status lists. Answers 400 on error. */
static bool code_status_query(struct http_req *r, enum fmt f, struct query_bufs *qb,
                              struct store_report_query *q)
{
    const char *codes = http_req_query(r, "service_code");
    const char *status = http_req_query(r, "status");
    char *save = NULL;

    if (codes && *codes) {
        snprintf(qb->codebuf, sizeof(qb->codebuf), "%s", codes);
        for (char *t = strtok_r(qb->codebuf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (q->ncodes == CODES_MAX) {
                o311_error(r, f, 400, "service_code: at most 50, comma-separated.");
                return false;
            }
            qb->codev[q->ncodes++] = t;
        }
        q->codes = qb->codev;
    }
    if (!status || !*status)
        return true;
    if (!strcmp(status, "open") || !strcmp(status, "closed")) {
        q->status = status;
    } else if (strcmp(status, "open,closed") != 0 && strcmp(status, "closed,open") != 0) {
        o311_error(r, f, 400, "status: open, closed, or both comma-separated.");
        return false;
    }
    return true;
}

/* start_date, end_date (the 90-day window), page, page_size. Answers 400 on error. */
static bool window_query(struct http_req *r, enum fmt f, struct store_report_query *q)
{
    const char *start = http_req_query(r, "start_date");
    const char *end = http_req_query(r, "end_date");
    const char *page = http_req_query(r, "page");
    const char *size = http_req_query(r, "page_size");
    unsigned pg = 1, ps = PAGE_SIZE_DEF;

    q->to_ms = clock_now_ms() + 1;
    if (end && *end && !api__rfc3339_parse(end, &q->to_ms)) {
        o311_error(r, f, 400, "end_date: an ISO 8601 date and time with an offset.");
        return false;
    }
    q->from_ms = q->to_ms - WINDOW_MS;
    if (start && *start && !api__rfc3339_parse(start, &q->from_ms)) {
        o311_error(r, f, 400, "start_date: an ISO 8601 date and time with an offset.");
        return false;
    }
    if (start && *start && !(end && *end) && q->from_ms + WINDOW_MS < q->to_ms)
        q->to_ms = q->from_ms + WINDOW_MS;
    if (q->from_ms > q->to_ms || q->to_ms - q->from_ms > WINDOW_MS) {
        o311_error(r, f, 400,
                   "start_date, end_date: the window is at most 90 days, start before end.");
        return false;
    }
    if ((page && *page && !query_uint(page, 1, 100000, &pg)) ||
        (size && *size && !query_uint(size, 1, PAGE_SIZE_MAX, &ps))) {
        o311_error(r, f, 400, "page (from 1) and page_size (1 to 200) are whole numbers.");
        return false;
    }
    q->limit = ps;
    q->offset = (pg - 1) * ps;
    return true;
}

static void requests_get(struct http_req *r, enum fmt f, const struct store_org *o)
{
    struct store_report_query q = { 0 };
    const char *idlist = http_req_query(r, "service_request_id");
    struct query_bufs *qb = xmalloc(sizeof(*qb));
    struct list_ctx c;
    char base[512];
    int err;

    q.org_id = o->id;
    if (idlist && *idlist ? !ids_query(r, f, idlist, qb, &q)
                          : !code_status_query(r, f, qb, &q) || !window_query(r, f, &q))
        goto out;
    api__base_url(r, base, sizeof(base));
    c.list = json_array();
    c.tz = o->timezone;
    c.base = base;
    err = store_reports_list(api__reader(r), &q, request_one, &c);
    if (err) {
        json_decref(c.list);
        o311_error(r, f, 500, "The server could not read the requests.");
        goto out;
    }
    answer(r, 200, f, c.list, "service_requests", "request");
out:
    free(qb);
}

static void request_get(struct http_req *r, enum fmt f, const struct store_org *o,
                        const char *idstr)
{
    struct list_ctx c;
    char base[512];
    int64_t id;
    int err;

    if (!parse_id(idstr, &id)) {
        o311_error(r, f, 404, "service_request_id: no such request.");
        return;
    }
    api__base_url(r, base, sizeof(base));
    c.list = json_array();
    c.tz = o->timezone;
    c.base = base;
    err = store_report_get(api__reader(r), o->id, id, request_one, &c);
    if (err) {
        json_decref(c.list);
        o311_error(r, f, err == -ENOENT ? 404 : 500,
                   err == -ENOENT ? "service_request_id: no such request." : "Read failed.");
        return;
    }
    answer(r, 200, f, c.list, "service_requests", "request");
}

/* ---- routes ---- */

static const char *jur_query(struct http_req *r)
{
    return http_req_query(r, "jurisdiction_id");
}

static void get_resource(struct http_req *r)
{
    char name[32];
    enum fmt f = FMT_JSON;
    struct store_org o;

    if (!split_ext(http_req_param(r, "res"), name, sizeof(name), &f)) {
        o311_error(r, f, 404, "No such resource: use .json or .xml.");
        return;
    }
    if (strcmp(name, "discovery") != 0 && strcmp(name, "services") != 0 &&
        strcmp(name, "requests") != 0) {
        o311_error(r, f, 404, "No such resource.");
        return;
    }
    if (!api__open311_org(r, jur_query(r), &o, f == FMT_XML))
        return;
    if (!strcmp(name, "discovery")) {
        discovery(r, f, &o);
    } else if (!strcmp(name, "services")) {
        services(r, f, &o);
    } else {
        requests_get(r, f, &o);
    }
}

static void get_discovery_root(struct http_req *r)
{
    char name[32];
    enum fmt f = FMT_JSON;
    struct store_org o;

    if (!split_ext(http_req_param(r, "res"), name, sizeof(name), &f) ||
        strcmp(name, "discovery") != 0) {
        o311_error(r, f, 404, "No such resource.");
        return;
    }
    if (api__open311_org(r, jur_query(r), &o, f == FMT_XML))
        discovery(r, f, &o);
}

static void get_service(struct http_req *r)
{
    char code[STORE_SVC_CODE_MAX + 1];
    enum fmt f = FMT_JSON;
    struct store_org o;

    if (!split_ext(http_req_param(r, "code"), code, sizeof(code), &f)) {
        o311_error(r, f, 404, "service_code: no such service (use .json or .xml).");
        return;
    }
    if (api__open311_org(r, jur_query(r), &o, f == FMT_XML)) {
        definition(r, f, &o, code);
    }
}

static void get_request(struct http_req *r)
{
    char id[32];
    enum fmt f = FMT_JSON;
    struct store_org o;

    if (!split_ext(http_req_param(r, "id"), id, sizeof(id), &f)) {
        o311_error(r, f, 404, "service_request_id: no such request (use .json or .xml).");
        return;
    }
    if (api__open311_org(r, jur_query(r), &o, f == FMT_XML)) {
        request_get(r, f, &o, id);
    }
}

static void get_token(struct http_req *r)
{
    char tok[REPORT_TOKEN_MAX + 1];
    uint8_t hash[SECRET_HASH_LEN];
    enum fmt f = FMT_JSON;
    int64_t id = 0, org_id = 0;
    char idstr[24];
    struct store_org o;
    int err;

    if (!split_ext(http_req_param(r, "token"), tok, sizeof(tok), &f)) {
        o311_error(r, f, 404, "token: no such token (use .json or .xml).");
        return;
    }
    if (!api__open311_org(r, jur_query(r), &o, f == FMT_XML))
        return;
    secret_sha256(tok, strlen(tok), hash);
    err = store_report_by_token(api__reader(r), hash, &id, &org_id);
    if (!err && org_id != o.id)
        err = -ENOENT;
    if (err) {
        o311_error(r, f, err == -ENOENT ? 404 : 500,
                   err == -ENOENT ? "token: no such token." : "Read failed.");
        return;
    }
    snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
    http_resp_header(r, "Cache-Control", "no-store"); /* the token is a capability */
    api__o311_answer(r, 200, f == FMT_XML,
                     json_pack("[{s:s, s:s}]", "service_request_id", idstr, "token", tok),
                     "service_requests", "request");
}

/* The POST handler and its admit hook live in api/open311_post.c. */
void api__open311_post(struct http_req *r);
bool api__open311_post_admit(struct http_req *r);

static const struct http_route routes[] = {
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/open311/v2/{res}", get_resource, 0, NULL },
    /* A photo may be large; forms are held to 64 KiB and strangers refused by the admit hook. */
    { HTTP_M_POST, 0, "/open311/v2/{res}", api__open311_post, UPLOAD_BODY_MAX,
      api__open311_post_admit },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/open311/{res}", get_discovery_root, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/open311/v2/services/{code}", get_service, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/open311/v2/requests/{id}", get_request, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/open311/v2/tokens/{token:secret}", get_token, 0, NULL },
};
API_ROUTE_SET(api_open311_routes, routes);
