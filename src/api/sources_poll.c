/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The alert-source poller: one thread of its own (fetches block for seconds; an event loop
 * never waits on them), which polls each source every interval_s, and at once when staff ask
 * (POST …/alert-sources/{id}/poll). Outgoing requests follow push/outbound's rules, the same
 * allow-list and CA as Web Push. What a bulletin becomes is in docs/ALERTS.md, "Official
 * sources"; in short, one alert per validity day, zone and risk whose level changed, as an
 * Update of the one it replaces, pending for a person or published per the source's on_change.
 *
 * Idempotent by construction: an alert's CAP identity (sender, identifier, sent) comes from the
 * bulletin (its id, day, zone, risk; sent = its issue time), never from the clock, and the store
 * refuses a second one (-EEXIST). The source's last_bulletin is recorded only after every alert
 * of the bulletin is stored, so a restart in the middle of a poll polls again and adds only
 * what is missing.
 *
 * Once per cluster: every node runs the thread, and only the node holding the "sources" lease
 * (api/lease.c) polls on schedule and sends the stale-source warnings (api/sources_warn.c);
 * another takes over after cluster_lease_s when it dies. A poll staff ask for runs on the node
 * they asked, lease or not: it is idempotent, as above.
 */
#include "api/sources_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/alerts_int.h"
#include "cap/cap.h"
#include "cap/dpc.h"
#include "cap/feed.h"
#include "cap/lamma.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/tz.h"
#include "push/outbound.h"

#define TICK_MS     1000 /* how often due sources are looked for */
#define MAX_TRACKED 1024 /* sources whose next poll time is remembered */
#define NOW_QUEUE   64   /* "poll now" requests waiting */
#define DAY_MS      (24LL * 3600 * 1000)

struct tracked {
    int64_t id, next_ms;
};

struct api_sources {
    struct api_app *app;
    struct store_reader *rd;
    struct outbound_policy *policy;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stop;
    struct api_lease lease;
    int64_t now_ids[NOW_QUEUE];
    size_t n_now;
    struct tracked t[MAX_TRACKED];
    size_t n_t;
};

/* A source copied out of the store's callback. */
struct src {
    int64_t id, org_id, interval_s;
    char kind[16], on_change[16], up_to[16];
    char *url, *data_url, *comune, *zone, *etag, *last_modified, *last_bulletin;
    bool official;
};

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void src_release(struct src *s)
{
    free(s->url);
    free(s->data_url);
    free(s->comune);
    free(s->zone);
    free(s->etag);
    free(s->last_modified);
    free(s->last_bulletin);
}

struct src_list {
    struct src *v;
    size_t n;
};

static void src_copy(void *ctx, const struct store_source *s)
{
    struct src_list *l = ctx;
    struct src *d;

    l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
    d = &l->v[l->n++];
    memset(d, 0, sizeof(*d));
    d->id = s->id;
    d->org_id = s->org_id;
    d->interval_s = s->conf.interval_s;
    snprintf(d->kind, sizeof(d->kind), "%s", s->conf.kind);
    snprintf(d->on_change, sizeof(d->on_change), "%s", s->conf.on_change);
    snprintf(d->up_to, sizeof(d->up_to), "%s", s->conf.up_to ? s->conf.up_to : "");
    d->url = xstrdup(s->conf.url);
    d->data_url = dup_or_null(s->conf.data_url);
    d->comune = xstrdup(s->conf.comune);
    d->zone = dup_or_null(s->conf.zone);
    d->etag = dup_or_null(s->etag);
    d->last_modified = dup_or_null(s->last_modified);
    d->last_bulletin = dup_or_null(s->last_bulletin);
    d->official = s->conf.official;
}

/* ---- what a level becomes ---- */

static int rank_of(const char *level)
{
    const struct api_level *l = level ? api__level(level) : NULL;

    return l ? l->rank : 0;
}

/* Whether an alert at `level` from `s` waits for a person (the source's on_change). */
static bool needs_person(const struct src *s, const char *level)
{
    if (!s->official || !strcmp(s->on_change, "draft"))
        return true;
    if (!strcmp(s->on_change, "publish-up-to"))
        return rank_of(level) > rank_of(s->up_to);
    return false;
}

/* Local midnight (the org's time zone) starting civil day y-m-d, as Unix ms. */
static int64_t local_midnight(const char *tz, int y, int m, int d)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d };
    int64_t utc = (int64_t)timegm(&tm) * 1000;
    int off = 0;

    if (tz_offset_min(tz, utc, &off) != 0)
        off = 0;
    if (tz_offset_min(tz, utc - (int64_t)off * 60000, &off) != 0)
        off = 0;
    return utc - (int64_t)off * 60000;
}

/* "YYYYMMDD" of the civil day starting at local midnight `ms`. */
static void day_key(const char *tz, int64_t ms, char *out, size_t outlen)
{
    int off = 0;
    time_t t;
    struct tm tm;

    if (tz_offset_min(tz, ms, &off) != 0)
        off = 0;
    t = (time_t)((ms + (int64_t)off * 60000) / 1000);
    gmtime_r(&t, &tm);
    snprintf(out, outlen, "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* One level of one zone and risk for one day, as the readers found it. */
struct reading {
    const char *zone_name; /* the source's name of the zone (DPC "Nome zona", LaMMA Comune) */
    const char *risk;
    int rank; /* 1 verde … 4 rosso */
    int64_t onset_ms, expires_ms;
    const char *text; /* the source's own words, for the description; may be NULL */
};

/* What one poll is applying: the bulletin and where its alerts go. */
struct apply {
    struct api_sources *ps;
    const struct src *s;
    struct store_org o;
    const char *bulletin; /* "20261204_1430", or the LaMMA update time */
    int64_t sent_ms;      /* the bulletin's issue time: part of every alert's identity */
    char sender[1200], prefix[400];
    bool changed;
};

/* The org zone for a source zone: "src-<name>" made of [A-Za-z0-9-], created when missing. */
static int zone_for(struct apply *ap, const char *name, char *code, size_t codelen)
{
    json_t *found = json_array();
    size_t o = (size_t)snprintf(code, codelen, "%s", "src-");
    int err;

    for (const char *c = name; *c && o + 1 < codelen && o < STORE_ZONE_CODE_MAX; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9');

        if (ok || (o > 4 && code[o - 1] != '-'))
            code[o++] = (char)(ok ? *c : '-');
    }
    while (o > 4 && code[o - 1] == '-')
        o--;
    code[o] = '\0';
    err = store_zone_list(ap->ps->rd, ap->o.id, code, api__zone_one, found);
    json_decref(found);
    if (err != -ENOENT)
        return err;
    err = store_zone_put(ap->ps->app->store, 0, ap->o.id, code, true, name, NULL, NULL, NULL, NULL);
    return err == -EEXIST ? 0 : err;
}

struct prev {
    const char *match; /* identifier infix: "src<id>-<day>-<zone>-<risk>-" */
    int64_t id;
    char level[16], state[16];
    bool replaced;
};

static void prev_one(void *ctx, const struct store_alert *a)
{
    struct prev *p = ctx;

    if (p->id || !strstr(a->identifier, p->match) || !strcmp(a->state, "withdrawn"))
        return;
    p->id = a->id;
    snprintf(p->level, sizeof(p->level), "%s", a->level);
    snprintf(p->state, sizeof(p->state), "%s", a->state);
    p->replaced = a->replaced_by != 0;
}

/* The alert's document: areas, risk name, info (it, en), and the source with its credit. */
static char *alert_doc(struct apply *ap, const struct reading *rd, const char *code)
{
    static const char *const it_words[] = { "", "verde", "gialla", "arancione", "rossa" };
    static const char *const en_words[] = { "", "Green", "Yellow", "Orange", "Red" };
    const struct api_risk *risk = api__risk(rd->risk);
    const char *credit = api__source_credit(ap->s->kind);
    char *ins_it =
        api__template_text(ap->ps->rd, ap->o.id, rd->risk, dpc_level_name[rd->rank], "it");
    char *ins_en =
        api__template_text(ap->ps->rd, ap->o.id, rd->risk, dpc_level_name[rd->rank], "en");
    char head_it[300], head_en[300], desc_it[600], desc_en[600];
    json_t *doc;
    char *out;

    snprintf(head_it, sizeof(head_it), "%s %s per rischio %s - %s",
             rd->rank == 1 ? "Nessuna allerta" : "Allerta", rd->rank == 1 ? "" : it_words[rd->rank],
             rd->risk, rd->zone_name);
    snprintf(head_en, sizeof(head_en), "%s %s risk - %s",
             rd->rank == 1 ? "No alert:" : en_words[rd->rank], rd->risk, rd->zone_name);
    snprintf(desc_it, sizeof(desc_it), "Bollettino %s%s%.200s%s. %s", ap->bulletin,
             rd->text ? ": " : "", rd->text ? rd->text : "",
             ap->s->official ? "" : " (non ufficiale)", credit ? credit : "");
    snprintf(desc_en, sizeof(desc_en), "Bulletin %s%s. %s", ap->bulletin,
             ap->s->official ? "" : " (not official)", credit ? credit : "");
    doc = json_pack(
        "{s:s, s:[{s:s, s:s, s:[], s:n}], s:[{s:s, s:s, s:s, s:s?}, {s:s, s:s, s:s, s:s?}],"
        " s:{s:s, s:I, s:s?, s:b, s:s}}",
        "risk_name", risk ? risk->name : rd->risk, "areas", "code", code, "name", rd->zone_name,
        "geocodes", "polygon", "info", "language", "it", "headline", head_it, "description",
        desc_it, "instruction", ins_it, "language", "en", "headline", head_en, "description",
        desc_en, "instruction", ins_en, "source", "kind", ap->s->kind, "id", (json_int_t)ap->s->id,
        "credit", credit, "official", ap->s->official, "bulletin", ap->bulletin);
    out = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    free(ins_it);
    free(ins_en);
    return out;
}

/*
 * One reading: nothing when the last alert this source made for that day, zone and risk has
 * the same level (or there is none and it is verde); else a new alert, an Update of that one.
 */
static int apply_reading(struct apply *ap, const struct reading *rd)
{
    char code[STORE_ZONE_CODE_MAX + 1], day[40], match[160], ident[1024];
    struct store_alert_query q = { 0 };
    struct prev prev = { match, 0, "", "", false };
    struct store_alert_new a = { 0 };
    const char *level = dpc_level_name[rd->rank];
    char *doc;
    int err = zone_for(ap, rd->zone_name, code, sizeof(code));

    if (err)
        return err;
    day_key(ap->o.timezone, rd->onset_ms, day, sizeof(day));
    if (rd->onset_ms < rd->expires_ms && rd->expires_ms - rd->onset_ms <= DAY_MS)
        day_key(ap->o.timezone, rd->expires_ms - 1, day, sizeof(day));
    snprintf(match, sizeof(match), "src%lld-%s-%s-%s-", (long long)ap->s->id, day, code, rd->risk);
    q = (struct store_alert_query){
        .org_id = ap->o.id, .zone = code, .risk = rd->risk, .limit = 50
    };
    err = store_alert_list(ap->ps->rd, &q, prev_one, &prev);
    if (err)
        return err;
    if (prev.id ? !strcmp(prev.level, level) : rd->rank == 1)
        return 0;
    snprintf(ident, sizeof(ident), "%s%s%s", ap->prefix, match, ap->bulletin);
    doc = alert_doc(ap, rd, code);
    if (!doc)
        return -ENOMEM;
    a = (struct store_alert_new){
        .org_id = ap->o.id,
        .actor_id = 0,
        .identifier = ident,
        .sender = ap->sender,
        .sent_ms = ap->sent_ms,
        .status = "Actual",
        .msg_type = prev.id ? "Update" : "Alert",
        .risk = rd->risk,
        .level = level,
        .phase = api__level(level)->phase,
        .onset_ms = rd->onset_ms,
        .expires_ms = rd->expires_ms,
        .doc_json = doc,
        .refs = prev.id && !prev.replaced ? &prev.id : NULL,
        .n_refs = prev.id && !prev.replaced ? 1 : 0,
    };
    a.pending =
        needs_person(ap->s, level) || (rd->rank == 4 && api__two_person_rule(ap->ps->rd, ap->o.id));
    err = store_alert_add(ap->ps->app->store, &a, NULL, NULL, NULL);
    free(doc);
    if (err == -EEXIST)
        return 0; /* this bulletin's alert was stored by an earlier, interrupted poll */
    if (!err) {
        ap->changed = true;
        /*
         * Published (not pending): store_alert_add wrote its events and its push campaign to
         * every follower of the org's channels in the same savepoint (store__push_alert).
         */
        log_info("sources: source %lld: %s %s %s for %s%s", (long long)ap->s->id, a.msg_type,
                 rd->risk, level, day, a.pending ? " (waiting for a person)" : "");
    }
    return err;
}

/* ---- fetching ---- */

static int fetch(struct api_sources *ps, const char *url, const char *etag, const char *lm,
                 struct outbound_fetch *f, char *why, size_t whylen)
{
    char reason[200];
    int err = outbound_fetch(ps->policy, url, etag, lm, (size_t)ps->app->set.alert_source_max_bytes,
                             f, reason, sizeof(reason));

    if (err) {
        snprintf(why, whylen, "%.300s: %s", url, reason);
        return err;
    }
    if (f->status != 200 && f->status != 304) {
        snprintf(why, whylen, "%.300s: HTTP %ld", url, f->status);
        return -EIO;
    }
    return 0;
}

/* ---- DPC ---- */

static int dpc_day(struct apply *ap, const char *id, int idx, int64_t onset, int64_t expires,
                   char *why, size_t whylen)
{
    static const char *const days[] = { "today", "tomorrow" };
    struct outbound_fetch f;
    struct dpc_zone z[DPC_MAX_ZONES];
    char url[STORE_SOURCE_URL_MAX + 64];
    size_t n = 0;
    int err;

    if (dpc_url_fill(ap->s->data_url, id, days[idx], url, sizeof(url)))
        return snprintf(why, whylen, "data_url is too long"), -EINVAL;
    err = fetch(ap->ps, url, NULL, NULL, &f, why, whylen);
    if (err)
        return err;
    if (f.status != 200) {
        outbound_fetch_release(&f);
        return snprintf(why, whylen, "%.300s: HTTP %ld", url, f.status), -EIO;
    }
    err = dpc_day_parse(f.body, f.len, ap->s->zone ? NULL : ap->s->comune, ap->s->zone, z,
                        DPC_MAX_ZONES, &n, why, whylen);
    outbound_fetch_release(&f);
    for (size_t i = 0; !err && i < n; i++) {
        for (size_t r = 0; !err && r < DPC_N_RISKS; r++) {
            struct reading rd = {
                z[i].name, dpc_risk_code[r], z[i].level[r], onset, expires, NULL
            };

            err = apply_reading(ap, &rd);
        }
    }
    return err;
}

static int poll_dpc(struct apply *ap, struct outbound_fetch *page, char *why, size_t whylen)
{
    char id[DPC_ID_LEN + 1];
    int y, mo, d, h, mi;
    int64_t midnight, next, after;
    int err;

    if (dpc_find_id(page->body, page->len, id) || dpc_id_parse(id, &y, &mo, &d, &h, &mi)) {
        return snprintf(why, whylen, "no bulletin id (YYYYMMDD_HHMM) in %.300s", ap->s->url),
               -EPROTO;
    }
    if (!ap->s->data_url)
        return snprintf(why, whylen, "a dpc-bulletin source needs data_url"), -EINVAL;
    if (ap->s->last_bulletin && !strcmp(ap->s->last_bulletin, id)) {
        ap->bulletin = NULL; /* nothing new */
        return 0;
    }
    midnight = local_midnight(ap->o.timezone, y, mo, d);
    ap->sent_ms = midnight + ((int64_t)h * 60 + mi) * 60000;
    next = local_midnight(ap->o.timezone, y, mo, d + 1);
    after = local_midnight(ap->o.timezone, y, mo, d + 2);
    ap->bulletin = xstrdup(id);
    /* "Oggi" is the level for the whole day: an update of the day replaces it from midnight. */
    err = dpc_day(ap, id, 0, midnight, next, why, whylen);
    if (!err)
        err = dpc_day(ap, id, 1, next, after, why, whylen);
    return err;
}

/* ---- LaMMA ---- */

static int poll_lamma(struct apply *ap, struct outbound_fetch *page, char *why, size_t whylen)
{
    struct lamma_bulletin b;
    int64_t now = clock_now_ms();
    char today[40];
    int y, mo, d;
    int err = lamma_parse(page->body, page->len, &b, why, whylen);

    if (err)
        return err;
    day_key(ap->o.timezone, now, today, sizeof(today));
    y = (int)strtol(today, NULL, 10) / 10000; /* day_key wrote 8 digits */
    mo = (int)strtol(today, NULL, 10) / 100 % 100;
    d = (int)strtol(today, NULL, 10) % 100;
    /* Its identity: the file's own update time, else today's date. */
    ap->bulletin = xstrdup(*b.updated ? b.updated : today);
    for (char *c = (char *)ap->bulletin; *c; c++) {
        if (*c == ' ' || *c == ',' || *c == '/' || *c == ':')
            *c = '_';
    }
    if (ap->s->last_bulletin && !strcmp(ap->s->last_bulletin, ap->bulletin)) {
        free((char *)ap->bulletin);
        ap->bulletin = NULL;
        return 0;
    }
    ap->sent_ms = local_midnight(ap->o.timezone, y, mo, d); /* one issue per day and update */
    for (size_t i = 0; !err && i < b.n_day; i++) {
        int64_t onset = local_midnight(ap->o.timezone, y, mo, d + b.day[i].idday - 1);
        int64_t expires = local_midnight(ap->o.timezone, y, mo, d + b.day[i].idday);

        for (size_t r = 0; !err && r < LAMMA_N_RISKS; r++) {
            struct reading rd = { ap->s->comune,     lamma_risk_code[r],
                                  b.day[i].level[r], onset,
                                  expires,           NULL };

            if (rd.rank == 0)
                continue; /* NA: not issued yet; never verde */
            err = apply_reading(ap, &rd);
        }
    }
    return err;
}

/* ---- CAP feeds ---- */

static int import_one(struct apply *ap, const char *url, char *why, size_t whylen)
{
    struct outbound_fetch f;
    struct cap_msg m;
    struct api_cap_import x;
    char where[128];
    int err = fetch(ap->ps, url, NULL, NULL, &f, why, whylen);

    if (err)
        return err;
    if (f.status != 200) {
        outbound_fetch_release(&f);
        return snprintf(why, whylen, "%.300s: HTTP %ld", url, f.status), -EIO;
    }
    err = cap_parse(f.body, f.len, &m, why, whylen, where, sizeof(where));
    outbound_fetch_release(&f);
    if (err)
        return err;
    err = api__cap_import_map(ap->ps->rd, &ap->o, &m, &x);
    if (err == -EALREADY) {
        err = 0; /* imported before */
    } else if (err == -EINVAL) {
        snprintf(why, whylen, "%.200s: %s (%s)", url, x.why ? x.why : "invalid",
                 x.where ? x.where : "");
    } else if (!err) {
        x.a.org_id = ap->o.id;
        x.a.actor_id = 0;
        x.a.pending =
            needs_person(ap->s, x.a.level) || (x.a.level && !strcmp(x.a.level, "rosso") &&
                                               api__two_person_rule(ap->ps->rd, ap->o.id));
        err = store_alert_add(ap->ps->app->store, &x.a, NULL, NULL, NULL);
        if (err == -EEXIST) {
            err = 0;
        } else if (!err) {
            ap->changed = true;
        }
    }
    api__cap_import_release(&x);
    cap_msg_release(&m);
    return err;
}

static int poll_feed(struct apply *ap, struct outbound_fetch *page, char *why, size_t whylen)
{
    static struct cap_feed_entry e[CAP_FEED_MAX_ENTRIES]; /* the poller's thread only */
    size_t n = 0;
    int err = cap_feed_parse(page->body, page->len, e, CAP_FEED_MAX_ENTRIES, &n, why, whylen);

    for (size_t i = n; !err && i-- > 0;) { /* oldest first: an Update finds what it updates */
        if (strncmp(e[i].url, "https://", 8) != 0) {
            snprintf(why, whylen, "feed entry link '%.200s' is not an absolute https URL",
                     e[i].url);
            err = -EPROTO;
            break;
        }
        err = import_one(ap, e[i].url, why, whylen);
    }
    ap->bulletin = err ? NULL : xstrdup("feed");
    return err;
}

/* ---- one poll ---- */

static void record(struct api_sources *ps, const struct src *s, const struct store_source_poll *p)
{
    int err = store_source_polled(ps->app->store, s->id, p, NULL, NULL);

    if (err && err != -ENOENT) {
        log_warn("sources: cannot record the poll of source %lld: %s", (long long)s->id,
                 strerror(-err));
    }
}

static void poll_one(struct api_sources *ps, const struct src *s)
{
    struct apply ap = { .ps = ps, .s = s };
    struct outbound_fetch page = { 0 };
    struct store_source_poll p = { 0 };
    char why[600] = "";
    char base[300];
    int err;

    err = store_org_get_id(ps->rd, s->org_id, &ap.o);
    if (err)
        return;
    snprintf(base, sizeof(base), "%s", *ps->app->set.public_url ? ps->app->set.public_url : "");
    if (!*base && ps->app->server)
        snprintf(base, sizeof(base), "http://%s", http_server_address(ps->app->server));
    if (*ap.o.jurisdiction_id && !strpbrk(ap.o.jurisdiction_id, " ,<&")) {
        snprintf(ap.sender, sizeof(ap.sender), "%s", ap.o.jurisdiction_id);
    } else {
        snprintf(ap.sender, sizeof(ap.sender), "%.300s/api/v1/orgs/%s", base, ap.o.slug);
    }
    snprintf(ap.prefix, sizeof(ap.prefix),
             "urn:araldo:%.300s:%s:", strstr(base, "://") ? strstr(base, "://") + 3 : base,
             ap.o.slug);
    for (char *c = ap.prefix; *c; c++) {
        if (*c == '/' || *c == ' ' || *c == ',')
            *c = '-';
    }
    err = fetch(ps, s->url, s->etag, s->last_modified, &page, why, sizeof(why));
    if (!err && page.status == 200) {
        if (!strcmp(s->kind, "dpc-bulletin")) {
            err = poll_dpc(&ap, &page, why, sizeof(why));
        } else if (!strcmp(s->kind, "lamma-comune")) {
            err = poll_lamma(&ap, &page, why, sizeof(why));
        } else {
            err = poll_feed(&ap, &page, why, sizeof(why));
        }
    }
    if (err) {
        p.error = why;
        log_warn("sources: source %lld of org %lld: %s", (long long)s->id, (long long)s->org_id,
                 why);
    } else {
        p.ok = true;
        p.changed = ap.changed;
        p.etag = *page.etag ? page.etag : (page.status == 304 ? s->etag : NULL);
        p.last_modified = *page.last_modified ? page.last_modified
                                              : (page.status == 304 ? s->last_modified : NULL);
        p.bulletin = ap.bulletin;
    }
    record(ps, s, &p);
    free((char *)ap.bulletin);
    outbound_fetch_release(&page);
}

/* ---- the thread ---- */

static int64_t *next_of(struct api_sources *ps, int64_t id)
{
    for (size_t i = 0; i < ps->n_t; i++) {
        if (ps->t[i].id == id)
            return &ps->t[i].next_ms;
    }
    if (ps->n_t == MAX_TRACKED)
        return NULL;
    ps->t[ps->n_t] = (struct tracked){ id, 0 };
    return &ps->t[ps->n_t++].next_ms;
}

static bool asked_now(struct api_sources *ps, int64_t id)
{
    bool yes = false;

    pthread_mutex_lock(&ps->mu);
    for (size_t i = 0; i < ps->n_now; i++) {
        if (ps->now_ids[i] == id) {
            ps->now_ids[i] = ps->now_ids[--ps->n_now];
            yes = true;
            break;
        }
    }
    pthread_mutex_unlock(&ps->mu);
    return yes;
}

static void round_once(struct api_sources *ps)
{
    struct src_list l = { NULL, 0 };
    int64_t now = clock_now_ms();
    bool leader = false;

    if (store_source_list(ps->rd, 0, 0, src_copy, &l) == 0) {
        /* No sources, no lease: a cluster without them writes nothing here. */
        leader = l.n && api__lease_hold(ps->app, &ps->lease);
        for (size_t i = 0; i < l.n; i++) {
            int64_t *next = next_of(ps, l.v[i].id);
            bool now_asked = asked_now(ps, l.v[i].id);
            bool due = leader && ps->app->set.alert_source_schedule && next && *next <= now;

            if (now_asked || due) {
                poll_one(ps, &l.v[i]);
                if (next)
                    *next = clock_now_ms() + l.v[i].interval_s * 1000;
            }
        }
    }
    for (size_t i = 0; i < l.n; i++)
        src_release(&l.v[i]);
    free(l.v);
    if (leader)
        api__sources_warn(ps->app, ps->rd); /* e-mail staff about sources gone bad or recovered */
}

static void *run(void *arg)
{
    struct api_sources *ps = arg;
    struct timespec ts;

    pthread_mutex_lock(&ps->mu);
    while (!ps->stop) {
        pthread_mutex_unlock(&ps->mu);
        round_once(ps);
        pthread_mutex_lock(&ps->mu);
        if (ps->stop || ps->n_now)
            continue;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += TICK_MS / 1000;
        pthread_cond_timedwait(&ps->cond, &ps->mu, &ts);
    }
    pthread_mutex_unlock(&ps->mu);
    api__lease_release(ps->app, &ps->lease);
    return NULL;
}

struct api_sources *api_sources_start(struct api_app *app, char *err, size_t errlen)
{
    struct api_sources *ps = xcalloc(1, sizeof(*ps));

    ps->app = app;
    ps->lease.name = "sources";
    ps->rd = store_reader_open(app->store, err, errlen);
    ps->policy = outbound_policy_new(
        &(struct outbound_opts){
            .allow_hosts = app->set.push_allow_hosts,
            .ca_file = app->set.push_ca_file,
            .connect_timeout_ms = app->set.alert_source_timeout_s * 1000,
            .timeout_ms = app->set.alert_source_timeout_s * 1000,
            .max_response_bytes = (size_t)app->set.alert_source_max_bytes,
        },
        err, errlen);
    if (!ps->rd || !ps->policy)
        goto fail;
    pthread_mutex_init(&ps->mu, NULL);
    pthread_cond_init(&ps->cond, NULL);
    if (pthread_create(&ps->thread, NULL, run, ps) != 0) {
        snprintf(err, errlen, "sources: cannot start the poller thread");
        pthread_mutex_destroy(&ps->mu);
        pthread_cond_destroy(&ps->cond);
        goto fail;
    }
    app->sources = ps;
    return ps;
fail:
    store_reader_close(ps->rd);
    outbound_policy_free(ps->policy);
    free(ps);
    return NULL;
}

void api_sources_stop(struct api_sources *ps)
{
    if (!ps)
        return;
    pthread_mutex_lock(&ps->mu);
    ps->stop = true;
    pthread_cond_signal(&ps->cond);
    pthread_mutex_unlock(&ps->mu);
    pthread_join(ps->thread, NULL);
    ps->app->sources = NULL;
    pthread_mutex_destroy(&ps->mu);
    pthread_cond_destroy(&ps->cond);
    store_reader_close(ps->rd);
    outbound_policy_free(ps->policy);
    free(ps);
}

bool api__sources_poll_now(struct api_app *app, int64_t id)
{
    struct api_sources *ps = app->sources;
    bool ok = false;

    if (!ps)
        return false;
    pthread_mutex_lock(&ps->mu);
    for (size_t i = 0; i < ps->n_now; i++) {
        if (ps->now_ids[i] == id)
            ok = true;
    }
    if (!ok && ps->n_now < NOW_QUEUE) {
        ps->now_ids[ps->n_now++] = id;
        ok = true;
    }
    pthread_cond_signal(&ps->cond);
    pthread_mutex_unlock(&ps->mu);
    return ok;
}
