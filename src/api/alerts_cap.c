/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Civil-protection alerts as OASIS CAP 1.2: one alert's document, the org's Atom index of
 * them, and import of a CAP document with the org's mapping rules (docs/ALERTS.md has the
 * tables). The XML itself is src/cap/'s business.
 */
#include "api/alerts_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cap/cap.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/tz.h"

static const char *str_of(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* CAP time of RFC 3339 `rfc` at the org's offset then. */
static void cap_time(const struct store_org *o, const char *rfc, char *out, size_t outlen)
{
    int64_t ms = 0;
    int off = 0;

    (void)!cap_time_parse(rfc ? rfc : "", &ms);
    if (tz_offset_min(o->timezone, ms, &off))
        off = 0; /* logged nowhere: "+00:00" is still a correct time */
    cap_time_format(ms, off, out, outlen);
}

static const char *urgency(int64_t sent, int64_t onset, int64_t expires, const char *type)
{
    if (!strcmp(type, "Cancel") || expires <= sent)
        return "Past";
    if (onset <= sent)
        return "Immediate";
    return onset - sent <= 24LL * 3600 * 1000 ? "Expected" : "Future";
}

/* ---- GET /api/v1/alerts/{id}.cap ---- */

struct refs_ctx {
    const struct store_org *o;
    char *buf;
    size_t len, cap;
};

static void ref_one(void *ctx, const struct store_alert *a)
{
    struct refs_ctx *rc = ctx;
    char sent[40], rfc[40];
    int n;

    clock_rfc3339(a->sent_ms, rfc, sizeof(rfc));
    cap_time(rc->o, rfc, sent, sizeof(sent));
    n = snprintf(rc->buf + rc->len, rc->cap - rc->len, "%s%s,%s,%s", rc->len ? " " : "", a->sender,
                 a->identifier, sent);
    if (n > 0 && (size_t)n < rc->cap - rc->len)
        rc->len += (size_t)n;
}

/* What every <info> of an export shares, formatted once. */
struct cap_texts {
    char sent[40], onset[40], expires[40], aw_level[40], web[300];
    int64_t sent_ms, onset_ms, exp_ms;
};

/* One <info> per language of alert `v` (docs/ALERTS.md, CAP export). */
static void fill_infos(struct cap_msg *m, json_t *v, const struct store_org *o, struct cap_texts *t)
{
    const struct api_level *lv = api__level(str_of(v, "level"));
    const struct api_risk *risk = api__risk(str_of(v, "risk"));
    json_t *it;
    size_t i;

    json_array_foreach(json_object_get(v, "info"), i, it)
    {
        struct cap_info *in = &m->info[m->n_info];

        if (m->n_info == CAP_MAX_INFO)
            break;
        m->n_info++;
        in->language = (char *)str_of(it, "language");
        in->category = (char *)(risk ? risk->category : "Other");
        in->event = (char *)(str_of(v, "risk_name") ? str_of(v, "risk_name") : str_of(v, "risk"));
        in->urgency = (char *)urgency(t->sent_ms, t->onset_ms, t->exp_ms, str_of(v, "msg_type"));
        in->severity = (char *)lv->severity;
        in->certainty = (char *)(!strcmp(str_of(v, "phase"), "allarme") ? "Observed"
                                 : lv->rank == 1                        ? "Unlikely"
                                                                        : "Likely");
        in->onset = t->onset;
        in->expires = t->expires;
        in->sender_name = (char *)o->name;
        in->headline = (char *)str_of(it, "headline");
        in->description = *str_of(it, "description") ? (char *)str_of(it, "description") : NULL;
        in->instruction = *str_of(it, "instruction") ? (char *)str_of(it, "instruction") : NULL;
        in->web = t->web;
        in->param[in->n_param++] = (struct cap_kv){ (char *)"awareness_level", t->aw_level };
        if (risk && risk->awareness_type) {
            in->param[in->n_param++] =
                (struct cap_kv){ (char *)"awareness_type", (char *)risk->awareness_type };
        }
        in->param[in->n_param++] = (struct cap_kv){ (char *)"rischio", (char *)str_of(v, "risk") };
        in->param[in->n_param++] =
            (struct cap_kv){ (char *)"fase_operativa", (char *)str_of(v, "phase") };
    }
}

/* One <area> per zone of the alert (cap_encode repeats them in every <info>). */
static void fill_areas(struct cap_info *in, json_t *areas)
{
    json_t *it, *g;
    size_t i, j;

    json_array_foreach(areas, i, it)
    {
        struct cap_area *a = &in->area[in->n_area];

        if (in->n_area == CAP_MAX_AREA)
            break;
        in->n_area++;
        a->desc = (char *)str_of(it, "name");
        a->polygon = (char *)str_of(it, "polygon");
        json_array_foreach(json_object_get(it, "geocodes"), j, g)
        {
            if (a->n_geocode < CAP_MAX_KV) {
                a->geocode[a->n_geocode++] =
                    (struct cap_kv){ (char *)str_of(g, "valueName"), (char *)str_of(g, "value") };
            }
        }
    }
}

void api__alert_cap_get(struct http_req *r, int64_t id)
{
    struct store_org o;
    struct store_user me;
    struct cap_msg m = { 0 };
    struct cap_texts t = { 0 };
    char base[200];
    char refs[STORE_ALERT_REFS_MAX * 600] = "";
    struct refs_ctx rc = { &o, refs, 0, sizeof(refs) };
    const struct api_level *lv;
    int64_t org_id = 0;
    json_t *v = api__alert_load(api__reader(r), id, &org_id);
    json_t *it;
    char *doc = NULL;
    size_t i, len;

    if (!v || store_org_get_id(api__reader(r), org_id, &o) ||
        ((strcmp(str_of(v, "status"), "Actual") != 0 ||
          strcmp(str_of(v, "state"), "published") != 0) &&
         !api__alert_org_staff(r, &o, &me))) {
        http_respond_error(r, 404, "alert_not_found", "No alert has this id.", "id");
        goto out;
    }
    lv = api__level(str_of(v, "level"));
    cap_time(&o, str_of(v, "sent"), t.sent, sizeof(t.sent));
    cap_time(&o, str_of(v, "onset"), t.onset, sizeof(t.onset));
    cap_time(&o, str_of(v, "expires"), t.expires, sizeof(t.expires));
    (void)!cap_time_parse(str_of(v, "sent"), &t.sent_ms);
    (void)!cap_time_parse(str_of(v, "onset"), &t.onset_ms);
    (void)!cap_time_parse(str_of(v, "expires"), &t.exp_ms);
    snprintf(t.aw_level, sizeof(t.aw_level), "%d; %s; %s", lv->rank, lv->colour, lv->severity);
    api__base_url(r, base, sizeof(base));
    snprintf(t.web, sizeof(t.web), "%s/allerta/%s", base, o.slug);
    json_array_foreach(json_object_get(v, "references"), i, it)
    {
        (void)!store_alert_get(api__reader(r), strtoll(json_string_value(it), NULL, 10), ref_one,
                               &rc);
    }
    m.identifier = (char *)str_of(v, "identifier");
    m.sender = (char *)str_of(v, "sender");
    m.sent = t.sent;
    m.status = (char *)str_of(v, "status");
    m.msg_type = (char *)str_of(v, "msg_type");
    m.scope = (char *)"Public";
    /* An alert from an official source credits it (CC-BY): "Fonte: Dipartimento …". */
    m.source = (char *)json_string_value(json_object_get(json_object_get(v, "source"), "credit"));
    m.references = rc.len ? refs : NULL;
    fill_infos(&m, v, &o, &t);
    fill_areas(&m.info[0], json_object_get(v, "areas"));
    doc = cap_encode(&m, &len);
    if (!doc) {
        api__errno(r, -ENOMEM, "cap encode");
        goto out;
    }
    api__alerts_answer(r, "application/cap+xml; charset=utf-8", doc, len, NULL, 0,
                       !strcmp(str_of(v, "status"), "Actual") &&
                           !strcmp(str_of(v, "state"), "published"));
out:
    free(doc);
    json_decref(v);
}

/* ---- GET /api/v1/orgs/{slug}/alerts.atom ---- */

struct buf_out {
    char *p;
    size_t len, cap;
};

static void put(struct buf_out *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void put_str(struct buf_out *b, const char *s)
{
    put(b, s, strlen(s));
}

static void xml_escape(struct buf_out *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            put_str(b, "&lt;");
            break;
        case '>':
            put_str(b, "&gt;");
            break;
        case '&':
            put_str(b, "&amp;");
            break;
        case '"':
            put_str(b, "&quot;");
            break;
        default:
            put(b, s, 1);
        }
    }
}

struct atom_ctx {
    struct buf_out *b;
    const char *base;
    int64_t updated_ms; /* the newest entry's sent time: when the feed last changed */
};

static void atom_entry(void *ctx, const struct store_alert *a)
{
    struct atom_ctx *ac = ctx;
    json_t *v = store_alert_json(a);
    json_t *info = json_array_get(json_object_get(v, "info"), 0);
    char line[600];

    if (!v)
        return;
    if (a->sent_ms > ac->updated_ms)
        ac->updated_ms = a->sent_ms;
    put_str(ac->b, "<entry><id>");
    xml_escape(ac->b, a->identifier);
    put_str(ac->b, "</id><title>");
    xml_escape(ac->b, str_of(info, "headline"));
    put_str(ac->b, "</title><updated>");
    put_str(ac->b, str_of(v, "sent"));
    snprintf(line, sizeof(line),
             "</updated><link rel=\"alternate\" type=\"application/cap+xml\" href=\"%s/api/v1/"
             "alerts/%lld.cap\"/><summary>",
             ac->base, (long long)a->id);
    put_str(ac->b, line);
    xml_escape(ac->b, str_of(v, "level"));
    put_str(ac->b, " — ");
    xml_escape(ac->b, str_of(v, "risk_name"));
    put_str(ac->b, "</summary></entry>\n");
    json_decref(v);
}

void api__alerts_atom(struct http_req *r)
{
    struct store_alert_query q = { 0 };
    struct buf_out b = { NULL, 0, 0 };
    struct store_org o;
    char base[200], updated[40], line[800];
    struct atom_ctx ac = { &b, base, 0 };
    int err;

    if (!api__alert_org(r, &o))
        return;
    api__base_url(r, base, sizeof(base));
    put_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/"
                "Atom\">\n<title>");
    xml_escape(&b, o.name);
    snprintf(line, sizeof(line),
             " — allerte</title>\n<id>%s/api/v1/orgs/%s/alerts.atom</id>\n"
             "<link rel=\"self\" href=\"%s/api/v1/orgs/%s/alerts.atom\"/>\n",
             base, o.slug, base, o.slug);
    put_str(&b, line);
    q.org_id = o.id;
    q.status = "Actual";
    q.state = "published";
    q.limit = 50;
    err = store_alert_list(api__reader(r), &q, atom_entry, &ac);
    if (err) {
        free(b.p);
        api__errno(r, err, "atom");
        return;
    }
    /* After the entries (Atom allows any order): the newest one's time, so the body, and with
     * it the ETag, changes only when the feed does. */
    clock_rfc3339(ac.updated_ms ? ac.updated_ms : o.created_ms, updated, sizeof(updated));
    snprintf(line, sizeof(line), "<updated>%s</updated>\n</feed>\n", updated);
    put_str(&b, line);
    api__alerts_answer(r, "application/atom+xml; charset=utf-8", b.p, b.len, NULL, 0, true);
    free(b.p);
}

/* ---- POST /api/v1/orgs/{slug}/alerts/import ---- */

struct zones_all {
    json_t *arr;
};

static void zone_all(void *ctx, const struct store_zone *z)
{
    json_t *geo = json_loads(z->geocodes_json, 0, NULL);

    json_array_append_new(ctx,
                          json_pack("{s:s, s:s, s:o, s:s?}", "code", z->code, "name", z->name,
                                    "geocodes", geo ? geo : json_array(), "polygon", z->polygon));
}

static json_t *find_zone(json_t *zones, const char *code)
{
    json_t *z;
    size_t i;

    json_array_foreach(zones, i, z)
    {
        if (code && !strcmp(str_of(z, "code"), code))
            return z;
    }
    return NULL;
}

/* The org's zone for CAP area `a`: a rule, a shared geocode, then the name or code. */
static json_t *map_area(json_t *zones, json_t *rules, const struct cap_area *a)
{
    json_t *areas = json_object_get(rules, "areas");
    json_t *z, *g;
    size_t i, j;
    char key[300];

    for (size_t k = 0; k < a->n_geocode; k++) {
        snprintf(key, sizeof(key), "%s:%s", a->geocode[k].name, a->geocode[k].value);
        if ((z = find_zone(zones, str_of(areas, key))) != NULL)
            return z;
    }
    if ((z = find_zone(zones, str_of(areas, a->desc))) != NULL)
        return z;
    json_array_foreach(zones, i, z)
    {
        json_array_foreach(json_object_get(z, "geocodes"), j, g)
        {
            for (size_t k = 0; k < a->n_geocode; k++) {
                if (!strcmp(str_of(g, "valueName"), a->geocode[k].name) &&
                    !strcmp(str_of(g, "value"), a->geocode[k].value))
                    return z;
            }
        }
    }
    json_array_foreach(zones, i, z)
    {
        if (!strcasecmp(str_of(z, "name"), a->desc) || !strcasecmp(str_of(z, "code"), a->desc))
            return z;
    }
    return NULL;
}

static const char *param(const struct cap_info *in, const char *name)
{
    for (size_t i = 0; in && i < in->n_param; i++) {
        if (!strcasecmp(in->param[i].name, name))
            return in->param[i].value;
    }
    return NULL;
}

static const char *map_risk(json_t *rules, const struct cap_info *in)
{
    const char *s = in ? str_of(json_object_get(rules, "events"), in->event) : NULL;
    const char *at;

    if (s)
        return s;
    if (in && (s = param(in, "rischio")) != NULL)
        return s;
    if (in && (at = param(in, "awareness_type")) != NULL) {
        long n = strtol(at, NULL, 10);

        for (size_t i = 0; i < api__n_risks; i++) {
            if (api__risks[i].awareness_type && strtol(api__risks[i].awareness_type, NULL, 10) == n)
                return api__risks[i].code;
        }
    }
    for (size_t i = 0; in && i < api__n_risks; i++) {
        if (!strcasecmp(in->event, api__risks[i].name) ||
            !strcasecmp(in->event, api__risks[i].code))
            return api__risks[i].code;
    }
    return "altro";
}

static const char *map_level(json_t *rules, const struct cap_info *in)
{
    static const char *const by_sev[][2] = {
        { "Extreme", "rosso" }, { "Severe", "arancione" }, { "Moderate", "giallo" },
        { "Minor", "verde" },   { "Unknown", "giallo" },
    };
    json_t *levels = json_object_get(rules, "levels");
    const char *aw = param(in, "awareness_level");
    const char *s;

    if (!in)
        return "giallo";
    if (aw && (s = str_of(levels, aw)) != NULL)
        return s;
    if ((s = str_of(levels, in->severity)) != NULL)
        return s;
    if (aw && *aw >= '1' && *aw <= '4')
        return api__levels[*aw - '1'].name;
    for (size_t i = 0; i < sizeof(by_sev) / sizeof(by_sev[0]); i++) {
        if (!strcmp(in->severity, by_sev[i][0]))
            return by_sev[i][1];
    }
    return "giallo";
}

static void unprocessable(struct http_req *r, const char *why, const char *where)
{
    char msg[800];

    snprintf(msg, sizeof(msg), "%s%s%s", where, *where ? ": " : "", why);
    http_respond_error(r, 422, "invalid_cap", msg, *where ? where : NULL);
}

struct rules_read {
    json_t *rules;
};

static void rules_got(void *ctx, const struct store_alert_settings *set)
{
    ((struct rules_read *)ctx)->rules = json_loads(set->import_rules, 0, NULL);
}

struct found {
    int64_t id;
    json_t *v;
};

static void found_one(void *ctx, const struct store_alert *a)
{
    struct found *f = ctx;

    f->id = a->id;
    json_decref(f->v);
    f->v = store_alert_json(a);
}

/* The references "sender,identifier,sent ..." that name alerts this org has. */
static size_t map_refs(struct store_reader *rd, int64_t org_id, const char *refs, int64_t *out,
                       json_t **base)
{
    char *copy = xstrdup(refs ? refs : "");
    char *next = copy;
    size_t n = 0;

    while (n < STORE_ALERT_REFS_MAX && *next) {
        char *tok = next + strspn(next, " \t\r\n");
        char *end = tok + strcspn(tok, " \t\r\n");
        char *c1;

        next = *end ? end + 1 : end;
        *end = '\0';
        c1 = strchr(tok, ',');
        char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        struct found f = { 0, NULL };
        int64_t sent;

        if (!c2)
            continue;
        *c1 = *c2 = '\0';
        if (cap_time_parse(c2 + 1, &sent) ||
            store_alert_find(rd, org_id, tok, c1 + 1, sent, found_one, &f)) {
            json_decref(f.v);
            continue;
        }
        out[n++] = f.id;
        if (!*base) {
            *base = f.v;
        } else {
            json_decref(f.v);
        }
    }
    free(copy);
    return n;
}

/* Risk, level, phase, onset and expires of imported alert `a` (docs/ALERTS.md, Import). */
static void map_fields(struct store_alert_new *a, json_t *rules, const struct cap_info *in,
                       json_t *base, const char *msg_type, int64_t sent)
{
    a->risk = map_risk(rules, in);
    a->level = map_level(rules, in);
    a->phase = param(in, "fase_operativa");
    if (base && !strcmp(msg_type, "Cancel")) {
        a->risk = str_of(base, "risk");
        a->level = str_of(base, "level");
        a->phase = "nessuna";
    }
    if (!api__level(a->level))
        a->level = "giallo";
    if (!api__phase_valid(a->phase))
        a->phase = api__level(a->level)->phase;
    a->onset_ms = sent;
    if (in && (in->onset || in->effective))
        (void)!cap_time_parse(in->onset ? in->onset : in->effective, &a->onset_ms);
    a->expires_ms = a->onset_ms + API_ALERT_DEFAULT_SPAN_MS;
    if (in && in->expires)
        (void)!cap_time_parse(in->expires, &a->expires_ms);
}

/* The org's zones for the areas of `in`, each once (those of `base` when none matches). */
static void map_areas(json_t *areas, json_t *zones, json_t *rules, const struct cap_info *in,
                      json_t *base)
{
    for (size_t k = 0; in && k < in->n_area; k++) {
        json_t *z = map_area(zones, rules, &in->area[k]);
        bool dup = false;
        json_t *it;
        size_t j;

        json_array_foreach(areas, j, it)
        {
            dup = dup || (z && !strcmp(str_of(it, "code"), str_of(z, "code")));
        }
        if (z && !dup)
            json_array_append(areas, z);
    }
    if (base && !json_array_size(areas))
        json_array_extend(areas, json_object_get(base, "areas"));
}

/* One `info` entry per CAP <info> (headline: the event when there is none). */
static void map_info(json_t *info, const struct cap_msg *m)
{
    for (size_t i = 0; i < m->n_info; i++) {
        const struct cap_info *x = &m->info[i];

        json_array_append_new(info, json_pack("{s:s, s:s, s:s, s:s}", "language",
                                              x->language ? x->language : "en-US", "headline",
                                              x->headline ? x->headline : x->event, "description",
                                              x->description ? x->description : "", "instruction",
                                              x->instruction ? x->instruction : ""));
    }
}

/* Only what araldo shows is imported; else the reason in `x`. */
static bool importable(const struct cap_msg *m, struct api_cap_import *x)
{
    if (strcmp(m->status, "Actual") != 0 && strcmp(m->status, "Exercise") != 0 &&
        strcmp(m->status, "Test") != 0) {
        x->why = "araldo imports Actual, Exercise and Test alerts only.";
        x->where = "alert/status";
        return false;
    }
    if (strcmp(m->msg_type, "Alert") != 0 && strcmp(m->msg_type, "Update") != 0 &&
        strcmp(m->msg_type, "Cancel") != 0) {
        x->why = "araldo imports Alert, Update and Cancel messages only.";
        x->where = "alert/msgType";
        return false;
    }
    return true;
}

/* The rest of `x->a`; risk, level and phase may point into a referenced alert's JSON, which
 * is released before `x` is used: keep copies in `x`. */
static void fill_import(struct api_cap_import *x, const struct store_org *o,
                        const struct cap_msg *m, int64_t sent)
{
    struct store_alert_new *a = &x->a;

    snprintf(x->risk, sizeof(x->risk), "%s", a->risk);
    snprintf(x->level, sizeof(x->level), "%s", a->level);
    snprintf(x->phase, sizeof(x->phase), "%s", a->phase);
    a->risk = x->risk;
    a->level = x->level;
    a->phase = x->phase;
    a->org_id = o->id;
    a->identifier = m->identifier;
    a->sender = m->sender;
    a->sent_ms = sent;
    a->status = m->status;
    a->msg_type = m->msg_type;
    a->doc_json = x->doc;
    a->refs = x->refs;
    a->imported = true;
}

int api__cap_import_map(struct store_reader *rd, const struct store_org *o, const struct cap_msg *m,
                        struct api_cap_import *x)
{
    struct rules_read rr = { NULL };
    const struct cap_info *in = NULL;
    json_t *zones = json_array(), *areas = json_array(), *info = json_array(), *base = NULL;
    json_t *doc = NULL, *risk_j = NULL;
    struct store_alert_new *a = &x->a;
    struct found f = { 0, NULL };
    int64_t sent = 0;
    int err = -EINVAL;

    memset(x, 0, sizeof(*x));
    if (!importable(m, x))
        goto out;
    (void)!cap_time_parse(m->sent, &sent);
    /* The same document again: the alert the first import made. */
    if (!store_alert_find(rd, o->id, m->sender, m->identifier, sent, found_one, &f)) {
        x->existing = f.id;
        err = -EALREADY;
        goto out;
    }
    err = store_alert_settings_get(rd, o->id, rules_got, NULL, &rr);
    if (!err)
        err = store_zone_list(rd, o->id, NULL, zone_all, zones);
    if (err)
        goto out;
    for (size_t i = 0; i < m->n_info && !in; i++) {
        if (m->info[i].language && !strncasecmp(m->info[i].language, "it", 2))
            in = &m->info[i];
    }
    if (!in && m->n_info)
        in = &m->info[0];
    a->n_refs = map_refs(rd, o->id, m->references, x->refs, &base);
    map_fields(a, rr.rules, in, base, m->msg_type, sent);
    if (a->expires_ms <= a->onset_ms) {
        x->why = "<expires> is not after <onset>.";
        x->where = "alert/info/expires";
        err = -EINVAL;
        goto out;
    }
    map_areas(areas, zones, rr.rules, in, base);
    map_info(info, m);
    risk_j = json_string(api__risk(a->risk) ? api__risk(a->risk)->name : a->risk);
    doc = json_pack("{s:O, s:O, s:O}", "risk_name", risk_j, "areas", areas, "info", info);
    x->doc = json_dumps(doc, JSON_COMPACT);
    fill_import(x, o, m, sent);
    err = x->doc ? 0 : -ENOMEM;
out:
    json_decref(doc);
    json_decref(risk_j);
    json_decref(f.v);
    json_decref(base);
    json_decref(zones);
    json_decref(areas);
    json_decref(info);
    json_decref(rr.rules);
    return err;
}

void api__cap_import_release(struct api_cap_import *x)
{
    free(x->doc);
    x->doc = NULL;
}

static void import_msg(struct http_req *r, const struct store_org *o, const struct store_user *me,
                       const struct cap_msg *m)
{
    struct api_cap_import x;
    json_t *v;
    int err = api__cap_import_map(api__reader(r), o, m, &x);

    if (err == -EALREADY && (v = api__alert_load(api__reader(r), x.existing, NULL)) != NULL) {
        api__json(r, 200, v); /* idempotent: what the first import made */
    } else if (err == -EINVAL) {
        unprocessable(r, x.why, x.where);
    } else if (err) {
        api__errno(r, err == -EALREADY ? -EIO : err, "alert import");
    } else {
        api__alert_submit(r, o, me, &x.a);
    }
    api__cap_import_release(&x);
}

void api__alerts_import(struct http_req *r)
{
    const char *ct = http_req_header(r, "Content-Type");
    struct store_org o;
    struct store_user me;
    struct cap_msg m;
    char why[300], where[128];
    const char *body;
    size_t len;
    int err;

    if (!api__staff(r, &me, NULL) || !api__alert_org(r, &o) || !api__alert_publisher(r, &me, &o))
        return;
    if (!ct ||
        (strncasecmp(ct, "application/cap+xml", 19) != 0 &&
         strncasecmp(ct, "application/xml", 15) != 0 && strncasecmp(ct, "text/xml", 8) != 0)) {
        http_respond_error(r, 415, "unsupported_media_type",
                           "Send the CAP document as application/cap+xml or application/xml.",
                           NULL);
        return;
    }
    body = http_req_body(r, &len);
    err = cap_parse(body ? body : "", body ? len : 0, &m, why, sizeof(why), where, sizeof(where));
    if (err == -EMSGSIZE) {
        http_respond_error(r, 413, "too_large", "The CAP document is over 512 KiB.", NULL);
        return;
    }
    if (err) {
        unprocessable(r, why, where);
        return;
    }
    import_msg(r, &o, &me, &m);
    cap_msg_release(&m);
}
