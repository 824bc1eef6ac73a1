/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Official alert sources an org follows (DPC bulletin, LaMMA per-Comune file, CAP feed): their
 * configuration, their health as staff see it, and the norme di comportamento that fill an
 * automatic alert's instruction. The readers are in src/cap/ (dpc.c, lamma.c, feed.c).
 * docs/ALERTS.md, "Official sources"; docs/API.md, "Alert sources".
 */
#include "api/alerts_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/sources_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "store/sources.h"

#define BODY_MAX 16384

const char api__dpc_credit[] = "Fonte: Dipartimento della Protezione Civile";
const char api__lamma_credit[] = "Fonte: Consorzio LaMMA - Regione Toscana";

static const char dpc_url[] =
    "https://mappe.protezionecivile.gov.it/it/mappe-rischi/bollettino-di-criticita";
static const char dpc_data_url[] =
    "https://raw.githubusercontent.com/pcm-dpc/DPC-Bollettini-Criticita-Idrogeologica-Idraulica/"
    "master/files/geojson/{id}_{day}.json";
static const char lamma_url[] =
    "https://www.lamma.rete.toscana.it/previ/ita/xml/comuni_web/dati/{comune}.xml";
static const char meteoalarm_url[] =
    "https://feeds.meteoalarm.org/feeds/meteoalarm-legacy-atom-italy";

static const char *const kinds[] = { "dpc-bulletin", "lamma-comune", "cap-feed", NULL };
static const char *const on_changes[] = { "draft", "publish", "publish-up-to", NULL };

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

bool api__source_gate(struct http_req *r, struct store_user *me, struct store_org *o)
{
    if (!api__staff(r, me, NULL) || !api__alert_org(r, o))
        return false;
    if (me->role != STORE_ROLE_OPERATOR && me->org_id != o->id) {
        http_respond_error(r, 404, "not_found", "No such resource.", NULL);
        return false;
    }
    return api__alert_publisher(r, me, o);
}

const char *api__source_credit(const char *kind)
{
    if (!strcmp(kind, "dpc-bulletin"))
        return api__dpc_credit;
    if (!strcmp(kind, "lamma-comune"))
        return api__lamma_credit;
    return NULL;
}

/* The org's Comune name: its name without a leading "Comune di ". */
void api__source_default_comune(const char *org_name, char *out, size_t outlen)
{
    static const char prefix[] = "Comune di ";
    size_t n;

    if (!strncasecmp(org_name, prefix, sizeof(prefix) - 1) && org_name[sizeof(prefix) - 1])
        org_name += sizeof(prefix) - 1;
    n = strlen(org_name);
    if (n >= outlen) {
        n = outlen - 1;
        while (n && ((unsigned char)org_name[n] & 0xc0) == 0x80)
            n--; /* cut between characters */
    }
    memcpy(out, org_name, n);
    out[n] = '\0';
}

static json_t *time_or_null(int64_t ms)
{
    char s[40];

    if (!ms)
        return json_null();
    clock_rfc3339(ms, s, sizeof(s));
    return json_string(s);
}

bool api__source_stale(const struct store_source *s, int64_t now_ms, long stale_hours)
{
    int64_t since = s->last_ok_ms ? s->last_ok_ms : s->created_ms;

    return now_ms - since > (int64_t)stale_hours * 3600 * 1000;
}

bool api__source_failing(const struct store_source *s)
{
    return s->last_error_ms && s->last_error_ms >= s->last_ok_ms;
}

struct list_ctx {
    json_t *arr;
    int64_t now_ms;
    long stale_hours;
};

json_t *api__source_json(const struct store_source *s, int64_t now_ms, long stale_hours)
{
    json_t *err = s->last_error_ms ? json_pack("{s:o, s:s}", "at", time_or_null(s->last_error_ms),
                                               "message", s->last_error ? s->last_error : "")
                                   : json_null();
    json_t *health =
        json_pack("{s:o, s:o, s:o, s:s?, s:b, s:b}", "last_success", time_or_null(s->last_ok_ms),
                  "last_change", time_or_null(s->last_change_ms), "last_error", err,
                  "last_bulletin", s->last_bulletin, "stale",
                  api__source_stale(s, now_ms, stale_hours), "failing", api__source_failing(s));
    const char *credit = api__source_credit(s->conf.kind);

    return json_pack("{s:I, s:s, s:s, s:s?, s:I, s:s, s:s?, s:s, s:s?, s:b, s:s?, s:o, s:o, s:o}",
                     "id", (json_int_t)s->id, "kind", s->conf.kind, "url", s->conf.url, "data_url",
                     s->conf.data_url, "interval_s", (json_int_t)s->conf.interval_s, "on_change",
                     s->conf.on_change, "up_to", s->conf.up_to, "comune", s->conf.comune, "zone",
                     s->conf.zone, "official", s->conf.official, "credit", credit, "health", health,
                     "created", time_or_null(s->created_ms), "updated",
                     time_or_null(s->updated_ms));
}

static void source_one(void *ctx, const struct store_source *s)
{
    struct list_ctx *l = ctx;

    json_array_append_new(l->arr, api__source_json(s, l->now_ms, l->stale_hours));
}

static bool url_ok(const char *u)
{
    if (strncmp(u, "https://", 8) != 0 || strlen(u) < 9)
        return false;
    for (; *u; u++) {
        if ((unsigned char)*u <= 0x20 || (unsigned char)*u == 0x7f)
            return false;
    }
    return true;
}

static bool source_id(struct http_req *r, int64_t *id)
{
    const char *s = http_req_param(r, "id");
    char *end;
    long long v = s ? strtoll(s, &end, 10) : 0;

    if (!s || !*s || *end || v <= 0) {
        http_respond_error(r, 404, "source_not_found", "This org has no alert source with this id.",
                           "id");
        return false;
    }
    *id = v;
    return true;
}

/* ---- create, change, delete ---- */

struct source_ctx {
    int64_t org_id;
    int status; /* 201, 200, 204 */
};

static void source_done(struct http_req *r, int err, int64_t id, void *data)
{
    struct source_ctx *sc = data;
    struct list_ctx l = { json_array(), clock_now_ms(), api__app(r)->set.alert_source_stale_hours };

    if (err == -ENOENT) {
        http_respond_error(r, 404, "source_not_found", "This org has no alert source with this id.",
                           "id");
    } else if (err == -EMLINK) {
        http_respond_error(r, 409, "too_many_sources", "An org may follow at most 16 sources.",
                           NULL);
    } else if (err) {
        api__errno(r, err, "alert source write");
    } else if (sc->status == 204) {
        http_respond(r, 204, NULL, NULL, 0);
    } else if ((err = store_source_list(api__reader(r), sc->org_id, id, source_one, &l)) != 0) {
        api__errno(r, err, "alert source read");
    } else {
        api__json(r, sc->status, json_incref(json_array_get(l.arr, 0)));
    }
    json_decref(l.arr);
    free(sc);
}

/* The configuration in `body` over `c` (the defaults, or the stored one for PATCH). */
static bool read_conf(struct http_req *r, json_t *body, bool create, struct store_source_conf *c)
{
    const json_t *v;
    const char *s = NULL;

    if ((create && !api__string(r, body, "kind", true, 1, 32, &c->kind)) ||
        !api__string(r, body, "url", false, 9, STORE_SOURCE_URL_MAX, &s))
        return false;
    if (!in_list(c->kind, kinds))
        return bad(r, "invalid_value", "'kind' is dpc-bulletin, lamma-comune or cap-feed.", "kind");
    if (s)
        c->url = s;
    if (!api__string(r, body, "data_url", false, 9, STORE_SOURCE_URL_MAX, &s))
        return false;
    if (s || json_is_null(json_object_get(body, "data_url")))
        c->data_url = s;
    if (!api__label(r, body, "comune", false, 1, STORE_SOURCE_NAME_MAX, false, &s))
        return false;
    if (s)
        c->comune = s;
    if (!api__label(r, body, "zone", false, 1, STORE_SOURCE_NAME_MAX, false, &s))
        return false;
    if (s || json_is_null(json_object_get(body, "zone")))
        c->zone = s;
    if (!api__string(r, body, "on_change", false, 1, 16, &s))
        return false;
    if (s)
        c->on_change = s;
    if (!in_list(c->on_change, on_changes)) {
        return bad(r, "invalid_value", "'on_change' is draft, publish or publish-up-to.",
                   "on_change");
    }
    if (!api__string(r, body, "up_to", false, 1, 16, &s))
        return false;
    if (s || json_is_null(json_object_get(body, "up_to")))
        c->up_to = s;
    if ((v = json_object_get(body, "interval_s"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 60 || json_integer_value(v) > 86400) {
            return bad(r, "invalid_value",
                       "'interval_s' is a whole number of seconds, 60 to 86400.", "interval_s");
        }
        c->interval_s = json_integer_value(v);
    }
    if ((v = json_object_get(body, "official"))) {
        if (!json_is_boolean(v))
            return bad(r, "invalid_value", "'official' is true or false.", "official");
        c->official = json_is_true(v);
    }
    return true;
}

/* What read_conf left that the rules refuse. */
static bool conf_valid(struct http_req *r, const struct store_source_conf *c)
{
    if (!url_ok(c->url))
        return bad(r, "invalid_url", "'url' must be an https URL without spaces.", "url");
    if (c->data_url && !url_ok(c->data_url))
        return bad(r, "invalid_url", "'data_url' must be an https URL without spaces.", "data_url");
    if ((strcmp(c->on_change, "publish-up-to") == 0) != (c->up_to != NULL)) {
        return bad(r, "invalid_value",
                   "'up_to' (a level) goes with on_change publish-up-to, and only with it.",
                   "up_to");
    }
    if (c->up_to && !api__level(c->up_to))
        return bad(r, "invalid_value", "'up_to' is verde, giallo, arancione or rosso.", "up_to");
    return true;
}

/* Fill the kind's defaults: url, data_url, comune (from the org), official for Meteoalarm. */
static void defaults(json_t *body, const struct store_org *o, struct store_source_conf *c,
                     char *comune, size_t comune_len, char *url, size_t url_len)
{
    api__source_default_comune(o->name, comune, comune_len);
    if (!c->comune)
        c->comune = comune;
    if (json_object_get(body, "url"))
        return;
    if (!strcmp(c->kind, "dpc-bulletin")) {
        c->url = dpc_url;
        if (!json_object_get(body, "data_url"))
            c->data_url = dpc_data_url;
    } else if (!strcmp(c->kind, "lamma-comune")) {
        char fold[STORE_SOURCE_NAME_MAX * 4 + 1];

        /* LaMMA names its files by the Comune's name, lower case, without accents. */
        api__source_file_name(c->comune, fold, sizeof(fold));
        snprintf(url, url_len, "%.*s%s%s", (int)(strstr(lamma_url, "{comune}") - lamma_url),
                 lamma_url, fold, strstr(lamma_url, "{comune}") + 8);
        c->url = url;
    } else {
        c->url = meteoalarm_url;
        if (!json_object_get(body, "official"))
            c->official = false; /* Meteoalarm says its Italian entries are not official */
    }
}

static void source_submit(struct http_req *r, const struct store_user *me,
                          const struct store_org *o, int64_t id, const struct store_source_conf *c)
{
    struct source_ctx *sc = xcalloc(1, sizeof(*sc));
    struct api_pending *p;
    int err;

    sc->org_id = o->id;
    sc->status = id ? 200 : 201;
    p = api__pending_new(r, source_done, sc);
    err = store_source_put(api__app(r)->store, me->id, o->id, id, c, api__pending_done, p);
    if (err) {
        api__pending_free(p);
        source_done(r, err, 0, sc);
    }
}

static void sources_create(struct http_req *r)
{
    static const char *const allowed[] = { "kind",  "url",    "data_url", "interval_s", "on_change",
                                           "up_to", "comune", "zone",     "official",   NULL };
    struct store_source_conf c = { .interval_s = 600, .on_change = "draft", .official = true };
    char comune[STORE_SOURCE_NAME_MAX * 4 + 1], url[STORE_SOURCE_URL_MAX + 1];
    struct store_org o;
    struct store_user me;
    json_t *body;

    if (!api__source_gate(r, &me, &o))
        return;
    body = api__body_object(r, allowed);
    if (!body)
        return;
    if (read_conf(r, body, true, &c)) {
        defaults(body, &o, &c, comune, sizeof(comune), url, sizeof(url));
        if (conf_valid(r, &c))
            source_submit(r, &me, &o, 0, &c);
    }
    json_decref(body);
}

struct one_ctx {
    json_t *conf; /* the stored source as JSON */
};

static void conf_of(void *ctx, const struct store_source *s)
{
    struct one_ctx *oc = ctx;

    oc->conf = api__source_json(s, 0, 0);
}

static void source_patch(struct http_req *r)
{
    static const char *const allowed[] = { "url",    "data_url", "interval_s", "on_change", "up_to",
                                           "comune", "zone",     "official",   NULL };
    static const struct api_immutable imm[] = { { "kind", ": make a new source for another kind" },
                                                { NULL, NULL } };
    struct store_source_conf c;
    struct one_ctx oc = { NULL };
    struct store_org o;
    struct store_user me;
    json_t *body = NULL;
    int64_t id;
    int err;

    if (!api__source_gate(r, &me, &o) || !source_id(r, &id))
        return;
    err = store_source_list(api__reader(r), o.id, id, conf_of, &oc);
    if (err == -ENOENT) {
        http_respond_error(r, 404, "source_not_found", "This org has no alert source with this id.",
                           "id");
        return;
    }
    if (err) {
        api__errno(r, err, "alert source read");
        return;
    }
    body = api__patch_body(r, allowed, imm);
    if (!body)
        goto out;
    c = (struct store_source_conf){
        .kind = json_string_value(json_object_get(oc.conf, "kind")),
        .url = json_string_value(json_object_get(oc.conf, "url")),
        .data_url = json_string_value(json_object_get(oc.conf, "data_url")),
        .interval_s = json_integer_value(json_object_get(oc.conf, "interval_s")),
        .on_change = json_string_value(json_object_get(oc.conf, "on_change")),
        .up_to = json_string_value(json_object_get(oc.conf, "up_to")),
        .comune = json_string_value(json_object_get(oc.conf, "comune")),
        .zone = json_string_value(json_object_get(oc.conf, "zone")),
        .official = json_is_true(json_object_get(oc.conf, "official")),
    };
    if (json_is_string(json_object_get(body, "on_change")) && !json_object_get(body, "up_to") &&
        strcmp(json_string_value(json_object_get(body, "on_change")), "publish-up-to") != 0)
        c.up_to = NULL; /* leaving publish-up-to drops its level */
    if (read_conf(r, body, false, &c) && conf_valid(r, &c))
        source_submit(r, &me, &o, id, &c);
out:
    json_decref(body);
    json_decref(oc.conf);
}

static void source_delete(struct http_req *r)
{
    struct store_org o;
    struct store_user me;
    struct source_ctx *sc;
    struct api_pending *p;
    int64_t id;
    int err;

    if (!api__source_gate(r, &me, &o) || !source_id(r, &id))
        return;
    sc = xcalloc(1, sizeof(*sc));
    sc->status = 204;
    p = api__pending_new(r, source_done, sc);
    err = store_source_delete(api__app(r)->store, me.id, o.id, id, api__pending_done, p);
    if (err) {
        api__pending_free(p);
        source_done(r, err, 0, sc);
    }
}

/* ---- reads (staff who may publish alerts: URLs and errors are not for the public) ---- */

static void sources_list(struct http_req *r)
{
    struct list_ctx l = { NULL, clock_now_ms(), api__app(r)->set.alert_source_stale_hours };
    struct store_org o;
    struct store_user me;
    int err;

    if (!api__source_gate(r, &me, &o))
        return;
    l.arr = json_array();
    err = store_source_list(api__reader(r), o.id, 0, source_one, &l);
    if (err) {
        json_decref(l.arr);
        api__errno(r, err, "alert source list");
        return;
    }
    api__json(r, 200, json_pack("{s:o}", "sources", l.arr));
}

static void source_get(struct http_req *r)
{
    struct list_ctx l = { NULL, clock_now_ms(), api__app(r)->set.alert_source_stale_hours };
    struct store_org o;
    struct store_user me;
    int64_t id;
    int err;

    if (!api__source_gate(r, &me, &o) || !source_id(r, &id))
        return;
    l.arr = json_array();
    err = store_source_list(api__reader(r), o.id, id, source_one, &l);
    if (err == -ENOENT) {
        http_respond_error(r, 404, "source_not_found", "This org has no alert source with this id.",
                           "id");
    } else if (err) {
        api__errno(r, err, "alert source read");
    } else {
        api__json(r, 200, json_incref(json_array_get(l.arr, 0)));
    }
    json_decref(l.arr);
}

/*
 * GET …/alert-sources/warnings: the sources that are stale or whose last poll failed, for every
 * member of the org's staff (the console's banner on every screen: a silent failure is the
 * worst outcome, and whoever is signed in should see it and tell the office). Kind and times
 * only: URLs and error texts stay with those who may manage the sources.
 */
struct warn_ctx {
    json_t *arr;
    int64_t now_ms;
    long stale_hours;
};

static void warn_one(void *ctx, const struct store_source *s)
{
    struct warn_ctx *w = ctx;
    bool stale = api__source_stale(s, w->now_ms, w->stale_hours);
    bool failing = api__source_failing(s);

    if (!stale && !failing)
        return;
    json_array_append_new(w->arr,
                          json_pack("{s:I, s:s, s:b, s:b, s:o, s:o}", "id", (json_int_t)s->id,
                                    "kind", s->conf.kind, "stale", stale, "failing", failing,
                                    "last_success", time_or_null(s->last_ok_ms), "last_error_at",
                                    time_or_null(s->last_error_ms)));
}

static void sources_warnings(struct http_req *r)
{
    struct warn_ctx w = { NULL, clock_now_ms(), api__app(r)->set.alert_source_stale_hours };
    struct store_org o;
    struct store_user me;
    int err;

    if (!api__staff(r, &me, NULL) || !api__alert_org(r, &o))
        return;
    if (me.role != STORE_ROLE_OPERATOR && me.org_id != o.id) {
        http_respond_error(r, 404, "not_found", "No such resource.", NULL);
        return;
    }
    w.arr = json_array();
    err = store_source_list(api__reader(r), o.id, 0, warn_one, &w);
    if (err) {
        json_decref(w.arr);
        api__errno(r, err, "alert source warnings");
        return;
    }
    api__json(r, 200,
              json_pack("{s:o, s:I}", "warnings", w.arr, "stale_hours", (json_int_t)w.stale_hours));
}

/* POST …/{id}/poll: the poller polls it now; answers at once (202), the health says when. */
static void source_poll(struct http_req *r)
{
    struct list_ctx l = { NULL, clock_now_ms(), api__app(r)->set.alert_source_stale_hours };
    struct store_org o;
    struct store_user me;
    int64_t id;
    int err;

    if (!api__source_gate(r, &me, &o) || !source_id(r, &id))
        return;
    l.arr = json_array();
    err = store_source_list(api__reader(r), o.id, id, source_one, &l);
    if (err == -ENOENT) {
        http_respond_error(r, 404, "source_not_found", "This org has no alert source with this id.",
                           "id");
    } else if (err) {
        api__errno(r, err, "alert source read");
    } else if (!api__sources_poll_now(api__app(r), id)) {
        http_respond_error(r, 503, "poller_busy",
                           "The poller is not running or has too many requests; try again.", NULL);
    } else {
        api__json(r, 202, json_incref(json_array_get(l.arr, 0)));
    }
    json_decref(l.arr);
}

/* ---- /metrics ---- */

struct metric_row {
    int64_t org_id, id, ok_ms, err_ms;
    char kind[16];
    bool stale;
};

struct metric_ctx {
    struct metric_row *v;
    size_t n;
    int64_t now_ms;
    long stale_hours;
};

static void metric_one(void *ctx, const struct store_source *s)
{
    struct metric_ctx *m = ctx;
    struct metric_row *r;

    m->v = xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
    r = &m->v[m->n++];
    r->org_id = s->org_id;
    r->id = s->id;
    r->ok_ms = s->last_ok_ms;
    r->err_ms = s->last_error_ms;
    snprintf(r->kind, sizeof(r->kind), "%s", s->conf.kind);
    r->stale = api__source_stale(s, m->now_ms, m->stale_hours);
}

int api__sources_metrics(struct api_app *app, struct store_reader *rd, struct buf *out)
{
    static const char *const fam[][2] = {
        { "araldo_alert_source_last_success_seconds",
          "Unix time of the source's last successful fetch (0: never)." },
        { "araldo_alert_source_last_error_seconds",
          "Unix time of the source's last error (0: none)." },
        { "araldo_alert_source_stale",
          "1 when the source has had no successful fetch for alert_source_stale_hours." },
    };
    struct metric_ctx m = { NULL, 0, clock_now_ms(), app->set.alert_source_stale_hours };
    int err = store_source_list(rd, 0, 0, metric_one, &m);

    for (size_t f = 0; !err && f < ARRAY_SIZE(fam); f++) {
        err = buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", fam[f][0], fam[f][1], fam[f][0]);
        for (size_t i = 0; !err && i < m.n; i++) {
            long long v = f == 0   ? m.v[i].ok_ms / 1000
                          : f == 1 ? m.v[i].err_ms / 1000
                                   : m.v[i].stale;

            err =
                buf_printf(out, "%s{org_id=\"%lld\",source=\"%lld\",kind=\"%s\"} %lld\n", fam[f][0],
                           (long long)m.v[i].org_id, (long long)m.v[i].id, m.v[i].kind, v);
        }
    }
    free(m.v);
    return err;
}

static const struct http_route routes[] = {
    { HTTP_M_POST, 0, "/api/v1/orgs/{slug}/alert-sources/{id}/poll", source_poll, 0, NULL },
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/orgs/{slug}/alert-sources", sources_create, BODY_MAX,
      NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/alert-sources", sources_list, 0, NULL },
    /* before …/{id}: the router takes the first route that matches */
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/alert-sources/warnings", sources_warnings,
      0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/alert-sources/{id}", source_get, 0, NULL },
    { HTTP_M_PATCH, HTTP_ROUTE_JSON, "/api/v1/orgs/{slug}/alert-sources/{id}", source_patch,
      BODY_MAX, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/orgs/{slug}/alert-sources/{id}", source_delete, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/alert-templates", api__templates_list, 0,
      NULL },
    { HTTP_M_PUT, HTTP_ROUTE_JSON, "/api/v1/orgs/{slug}/alert-templates/{risk}/{level}",
      api__template_put, BODY_MAX, NULL },
};

API_ROUTE_SET(api_sources_routes, routes);
