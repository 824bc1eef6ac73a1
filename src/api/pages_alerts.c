/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * /allerta/{org}: the civil-protection alert page (issue 13, docs/ALERTS.md). Complete HTML in
 * the first response, readable without JavaScript, in the frame and stylesheet of /c/{handle}:
 * the level in force per zone × risk (text, an icon and a colour: never colour alone), its
 * phase and validity in the Comune's local time, what to do per alert in force, what is
 * announced, and the recent history. Only `Actual` published alerts: exercises and tests are
 * never on this page.
 *
 * It shows what the public API gives anyone (the current-status document of
 * GET …/alerts/current and the public history), so it cannot say more than the API. Caching:
 * an ETag of what the page says (not of when it was made) and "no-cache": a level must never
 * be stale, and a phone on a slow line revalidates in one small exchange.
 */
#include "api/pages_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/alerts_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/tz.h"

#define HISTORY_MAX   20 /* recent alerts listed; the API pages further back */
#define ALERTS_SCRIPT "/app/allerta.js"

struct apage {
    struct html *h;
    enum web_lang lang;
    const struct store_org *org;
    json_t *cur;     /* api__alerts_current(), Actual */
    json_t *history; /* the recent alert objects, newest first */
};

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

/* `iso` (RFC 3339) as "05/12/2026 14:30" in the org's time zone; "" when unreadable. */
static void local_time(const struct store_org *o, const char *iso, char *out, size_t outlen)
{
    int64_t ms = 0;
    int off = 0;
    time_t t;
    struct tm tm;

    out[0] = '\0';
    if (!iso || cap_time_parse(iso, &ms))
        return;
    if (tz_offset_min(o->timezone, ms, &off))
        off = 0; /* an unreadable zone: UTC, said as such by the page's note */
    t = (time_t)(ms / 1000 + (int64_t)off * 60);
    if (!gmtime_r(&t, &tm))
        return;
    snprintf(out, outlen, "%02d/%02d/%04d %02d:%02d", tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900,
             tm.tm_hour, tm.tm_min);
}

/* The level's badge: an icon whose shape differs per level, and its name. */
static void level_badge(struct apage *pg, const char *level)
{
    static const struct {
        const char *level, *icon;
    } icons[] = { { "verde", "\xE2\x9C\x93" }, /* ✓ */
                  { "giallo", "!" },
                  { "arancione", "!!" },
                  { "rosso", "!!!" } };
    const char *icon = "?";
    char key[48];

    for (size_t i = 0; i < sizeof(icons) / sizeof(icons[0]); i++) {
        if (!strcmp(icons[i].level, level))
            icon = icons[i].icon;
    }
    if (!api__level(level))
        level = "verde";
    html_tag(pg->h, "<span class=\"level");
    html_tag(pg->h, " level-");
    html_text(pg->h, level);
    html_tag(pg->h, "\"><span class=\"level-icon\" aria-hidden=\"true\">");
    html_text(pg->h, icon);
    html_tag(pg->h, "</span> ");
    snprintf(key, sizeof(key), "page.alerts.level.%s", level);
    web_text(pg->h, pg->lang, key);
    html_tag(pg->h, "</span>");
}

static void phase_text(struct apage *pg, const char *phase)
{
    char key[48];

    snprintf(key, sizeof(key), "page.alerts.phase.%s", api__phase_valid(phase) ? phase : "nessuna");
    web_text(pg->h, pg->lang, key);
}

/* The alert object `id` among those in force, or NULL. */
static json_t *in_force(struct apage *pg, const char *id)
{
    size_t i;
    json_t *a;

    json_array_foreach(json_object_get(pg->cur, "alerts"), i, a)
    {
        if (!strcmp(str(a, "id"), id))
            return a;
    }
    return NULL;
}

/* "dal … al …" of an alert; for a cell at verde, nothing. */
static void validity(struct apage *pg, json_t *a)
{
    char from[48], to[48];

    local_time(pg->org, str(a, "onset"), from, sizeof(from));
    local_time(pg->org, str(a, "expires"), to, sizeof(to));
    web_tf(pg->h, pg->lang, "page.alerts.valid",
           (const char *const[]){ "from", from, "to", to, NULL });
}

/* A cell that names its column, which a phone shows above the value (araldo.css). */
static void cell(struct apage *pg, const char *column_key)
{
    html_tag(pg->h, "<td");
    html_attr(pg->h, "data-label", web_t(pg->lang, column_key));
    html_tag(pg->h, ">");
}

static void source(struct apage *pg, json_t *a);

/* Under a zone's table, the credit of each source whose levels it shows, once each. */
static void zone_credits(struct apage *pg, json_t *z)
{
    const char *shown[8];
    size_t n = 0, i;
    json_t *k;

    json_array_foreach(json_object_get(z, "risks"), i, k)
    {
        json_t *a = in_force(pg, str(k, "alert"));
        const char *c = json_string_value(json_object_get(json_object_get(a, "source"), "credit"));
        bool seen = false;

        for (size_t j = 0; c && j < n; j++)
            seen = seen || !strcmp(shown[j], c);
        if (!c || seen || n == ARRAY_SIZE(shown))
            continue;
        shown[n++] = c;
        source(pg, a);
    }
}

static void zone_table(struct apage *pg, json_t *z, size_t n)
{
    struct html *h = pg->h;
    char id[32];
    size_t i;
    json_t *k;

    /* On a phone each risk becomes a block with its labels (araldo.css); in between, the
     * table may still be wider than the screen: its scrolling box is reachable by keyboard. */
    snprintf(id, sizeof(id), "zone-%zu", n);
    html_tag(h, "<section class=\"card alert-zone\">\n<h3");
    html_attr(h, "id", id);
    html_tag(h, ">");
    html_text(h, str(z, "name"));
    html_tag(h, " ");
    level_badge(pg, str(z, "level"));
    html_tag(h, "</h3>\n<div class=\"table-scroll\" role=\"region\" tabindex=\"0\"");
    html_attr(h, "aria-labelledby", id);
    html_tag(h, "><table class=\"alert-table\">\n<thead><tr><th scope=\"col\">");
    web_text(h, pg->lang, "page.alerts.col.risk");
    html_tag(h, "</th><th scope=\"col\">");
    web_text(h, pg->lang, "page.alerts.col.level");
    html_tag(h, "</th><th scope=\"col\">");
    web_text(h, pg->lang, "page.alerts.col.phase");
    html_tag(h, "</th><th scope=\"col\">");
    web_text(h, pg->lang, "page.alerts.col.validity");
    html_tag(h, "</th></tr></thead>\n<tbody>\n");
    json_array_foreach(json_object_get(z, "risks"), i, k)
    {
        json_t *a = in_force(pg, str(k, "alert"));

        html_tag(h, "<tr><th scope=\"row\">");
        html_text(h, str(k, "risk_name"));
        html_tag(h, "</th>");
        cell(pg, "page.alerts.col.level");
        level_badge(pg, str(k, "level"));
        html_tag(h, "</td>");
        cell(pg, "page.alerts.col.phase");
        phase_text(pg, str(k, "phase"));
        html_tag(h, "</td>");
        cell(pg, "page.alerts.col.validity");
        if (a)
            validity(pg, a);
        html_tag(h, "</td></tr>\n");
    }
    html_tag(h, "</tbody></table></div>\n");
    zone_credits(pg, z);
    html_tag(h, "</section>\n");
}

/* The `info` entry in the page's language, else the Italian one, else the first. */
static json_t *info_for(struct apage *pg, json_t *a)
{
    const char *want = web_lang_code(pg->lang);
    json_t *info = json_object_get(a, "info");
    json_t *it = NULL, *e;
    size_t i;

    json_array_foreach(info, i, e)
    {
        const char *l = str(e, "language");

        if (!strncmp(l, want, 2))
            return e;
        if (!it && !strncmp(l, "it", 2))
            it = e;
    }
    return it ? it : json_array_get(info, 0);
}

/* A paragraph of `cls` with text `s` in language `lang`; nothing when `s` is empty. */
static void para(struct html *h, const char *cls, const char *lang, const char *s)
{
    if (!*s)
        return;
    html_tag(h, "<p");
    html_attr(h, "class", cls);
    html_attr(h, "lang", lang);
    html_tag(h, ">");
    html_text(h, s);
    html_tag(h, "</p>\n");
}

static void zone_names(struct apage *pg, json_t *a)
{
    size_t i;
    json_t *z;

    html_tag(pg->h, "<p class=\"alert-zones\">");
    web_text(pg->h, pg->lang, "page.alerts.zones");
    html_tag(pg->h, " ");
    json_array_foreach(json_object_get(a, "areas"), i, z)
    {
        if (i)
            html_tag(pg->h, ", ");
        html_text(pg->h, str(z, "name"));
    }
    html_tag(pg->h, "</p>\n");
}

/*
 * The credit of an alert made from an official source (its licence asks for it: "Fonte:
 * Dipartimento della Protezione Civile"), said "non ufficiale" when the source is not; else of an
 * imported alert, its original sender (CAP `sender`).
 */
static void source(struct apage *pg, json_t *a)
{
    json_t *src = json_object_get(a, "source");
    const char *credit = json_string_value(json_object_get(src, "credit"));

    if (credit && *credit) {
        html_tag(pg->h, "<p class=\"alert-source muted\">");
        html_text(pg->h, credit);
        if (json_is_false(json_object_get(src, "official"))) {
            html_tag(pg->h, " (");
            web_text(pg->h, pg->lang, "page.alerts.unofficial");
            html_tag(pg->h, ")");
        }
        html_tag(pg->h, "</p>\n");
        return;
    }
    if (!json_is_true(json_object_get(a, "imported")))
        return;
    html_tag(pg->h, "<p class=\"alert-source muted\">");
    web_tf(pg->h, pg->lang, "page.alerts.source",
           (const char *const[]){ "sender", str(a, "sender"), NULL });
    html_tag(pg->h, "</p>\n");
}

/* One alert with what to do: headline, description, instruction, zones, validity, source. */
static void alert_card(struct apage *pg, json_t *a)
{
    struct html *h = pg->h;
    json_t *inf = info_for(pg, a);
    const char *lang = str(inf, "language");

    html_tag(h, "<article class=\"card alert-card\"");
    html_attr(h, "data-alert", str(a, "id"));
    html_tag(h, ">\n<h3>");
    html_text(h, str(a, "risk_name"));
    html_tag(h, " ");
    level_badge(pg, str(a, "level"));
    html_tag(h, "</h3>\n");
    para(h, "alert-headline", lang, str(inf, "headline"));
    para(h, "alert-description", lang, str(inf, "description"));
    if (*str(inf, "instruction")) {
        html_tag(h, "<div class=\"notice alert-instruction\"><h4>");
        web_text(h, pg->lang, "page.alerts.instruction");
        html_tag(h, "</h4>\n");
        para(h, "alert-instruction-text", lang, str(inf, "instruction"));
        html_tag(h, "</div>\n");
    }
    zone_names(pg, a);
    html_tag(h, "<p class=\"alert-validity\">");
    phase_text(pg, str(a, "phase"));
    html_tag(h, " · ");
    validity(pg, a);
    html_tag(h, "</p>\n");
    source(pg, a);
    html_tag(h, "<p class=\"alert-links\"><a");
    html_attr_url(h, "href", str(a, "cap_url"), 0);
    html_attr(h, "type", "application/cap+xml");
    html_tag(h, ">");
    web_text(h, pg->lang, "page.alerts.cap");
    html_tag(h, "</a></p>\n</article>\n");
}

static void alert_list(struct apage *pg, const char *key, const char *none_key, json_t *alerts)
{
    size_t i;
    json_t *a;

    html_tag(pg->h, "<h2>");
    web_text(pg->h, pg->lang, key);
    html_tag(pg->h, "</h2>\n");
    if (!json_array_size(alerts)) {
        html_tag(pg->h, "<p class=\"card muted\">");
        web_text(pg->h, pg->lang, none_key);
        html_tag(pg->h, "</p>\n");
    }
    json_array_foreach(alerts, i, a) alert_card(pg, a);
}

/* The history: one line per alert, newest first, with what became of it. */
static void history(struct apage *pg)
{
    struct html *h = pg->h;
    char sent[48];
    size_t i;
    json_t *a;

    html_tag(h, "<h2>");
    web_text(h, pg->lang, "page.alerts.history");
    html_tag(h, "</h2>\n<ol class=\"card alert-history\">\n");
    json_array_foreach(pg->history, i, a)
    {
        json_t *inf = info_for(pg, a);
        char key[48];

        local_time(pg->org, str(a, "sent"), sent, sizeof(sent));
        html_tag(h, "<li><time");
        html_attr(h, "datetime", str(a, "sent"));
        html_tag(h, ">");
        html_text(h, sent);
        html_tag(h, "</time> ");
        snprintf(key, sizeof(key), "page.alerts.type.%s", str(a, "msg_type"));
        web_text(h, pg->lang, key);
        html_tag(h, " · ");
        html_text(h, str(a, "risk_name"));
        html_tag(h, " ");
        level_badge(pg, str(a, "level"));
        html_tag(h, "<br><span");
        html_attr(h, "lang", str(inf, "language"));
        html_tag(h, ">");
        html_text(h, str(inf, "headline"));
        html_tag(h, "</span>");
        source(pg, a);
        html_tag(h, "</li>\n");
    }
    if (!json_array_size(pg->history)) {
        html_tag(h, "<li class=\"muted\">");
        web_text(h, pg->lang, "page.alerts.no_history");
        html_tag(h, "</li>\n");
    }
    html_tag(h, "</ol>\n");
}

/* The head: the highest level, when the page was made (local time), and the zones. */
static void head(struct apage *pg)
{
    struct html *h = pg->h;
    const char *at = str(pg->cur, "generated_at");
    char made[48];
    size_t i;
    json_t *z;

    local_time(pg->org, at, made, sizeof(made));
    html_tag(h, "<section class=\"card alert-head\" aria-labelledby=\"alert-title\">\n"
                "<h1 id=\"alert-title\">");
    web_tf(h, pg->lang, "page.alerts.title", (const char *const[]){ "org", pg->org->name, NULL });
    html_tag(h, "</h1>\n<p class=\"alert-overall\">");
    web_text(h, pg->lang, "page.alerts.highest");
    html_tag(h, " ");
    level_badge(pg, str(pg->cur, "level"));
    html_tag(h, "</p>\n<p class=\"muted alert-updated\"");
    html_attr(h, "data-generated", at);
    html_tag(h, ">");
    web_tf(h, pg->lang, "page.alerts.updated",
           (const char *const[]){ "time", made, "zone", pg->org->timezone, NULL });
    html_tag(h, "</p>\n<p class=\"notice alert-offline\" hidden");
    html_attr(h, "data-generated", at);
    html_tag(h, ">");
    web_tf(h, pg->lang, "page.alerts.offline", (const char *const[]){ "time", made, NULL });
    html_tag(h, " <span class=\"alert-age\"></span></p>\n</section>\n<h2>");
    web_text(h, pg->lang, "page.alerts.now");
    html_tag(h, "</h2>\n");
    json_array_foreach(json_object_get(pg->cur, "zones"), i, z) zone_table(pg, z, i);
    if (!json_array_size(json_object_get(pg->cur, "zones"))) {
        html_tag(h, "<p class=\"card muted\">");
        web_text(h, pg->lang, "page.alerts.no_zones");
        html_tag(h, "</p>\n");
    }
}

struct hist {
    json_t *arr;
};

static void hist_one(void *ctx, const struct store_alert *a)
{
    struct hist *c = ctx;
    json_t *v = store_alert_json(a);

    if (v)
        json_array_append_new(c->arr, v);
}

/* FNV-1a of `s` into `h`. */
static uint64_t fnv(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (h ^ 0xff) * 1099511628211ULL;
}

/*
 * The ETag: what the page says (the status without its `generated_at`, the history, the
 * org's shown settings, the language), and the minute, since "aggiornato alle" shows it.
 */
static void etag_of(struct apage *pg, int64_t now_ms, char *out, size_t outlen)
{
    const struct store_org *o = pg->org;
    json_t *at = json_incref(json_object_get(pg->cur, "generated_at"));
    uint64_t h = 14695981039346656037ULL;
    char *s;

    json_object_del(pg->cur, "generated_at");
    s = json_dumps(pg->cur, JSON_COMPACT | JSON_SORT_KEYS);
    h = fnv(h, s);
    free(s);
    json_object_set_new(pg->cur, "generated_at", at);
    s = json_dumps(pg->history, JSON_COMPACT | JSON_SORT_KEYS);
    h = fnv(h, s);
    free(s);
    h = fnv(fnv(fnv(fnv(fnv(h, o->name), o->logo), o->accessibility_url), o->accessibility_email),
            o->timezone);
    snprintf(out, outlen, "W/\"a%lld-%016llx-%s-%lld\"", (long long)o->id, (unsigned long long)h,
             web_lang_code(pg->lang), (long long)(now_ms / 60000));
}

/* The frame: social card, canonical address, the CAP feed, language switch. */
static void frame(struct http_req *r, struct apage *pg, struct web_page *p,
                  struct api_page_scratch *scratch, char urls[4][600])
{
    const struct store_org *o = pg->org;
    char origin[300];
    char key[48];

    api__base_url(r, origin, sizeof(origin));
    api__page_frame(p, pg->lang, o, scratch);
    snprintf(urls[0], 600, "%s/allerta/%s", origin, o->slug);
    if (o->logo[0]) {
        snprintf(urls[1], 600, "%s/media/%s/small", origin, o->logo);
    } else {
        snprintf(urls[1], 600, "%s/icons/icon-512.png", origin);
    }
    snprintf(urls[2], 600, "%s/api/v1/orgs/%s/alerts.atom", origin, o->slug);
    snprintf(urls[3], 600, "/allerta/%s", o->slug);
    snprintf(key, sizeof(key), "page.alerts.card.%s",
             api__level(str(pg->cur, "level")) ? str(pg->cur, "level") : "verde");
    p->title = web_t(pg->lang, "page.alerts.card_title");
    p->description = web_t(pg->lang, key);
    p->canonical = urls[0];
    p->image = urls[1];
    p->feed_url = urls[2];
    p->path = urls[3];
    p->og_type = "website";
    p->script = ALERTS_SCRIPT;
}

static void render(struct http_req *r, struct apage *pg)
{
    struct api_page_scratch scratch;
    struct web_page p;
    struct html h;
    char urls[4][600];
    char title[1400];
    json_t *upcoming = json_object_get(pg->cur, "upcoming");

    frame(r, pg, &p, &scratch, urls);
    /* "Allerta protezione civile — Comune di X: arancione" on a link card. */
    snprintf(title, sizeof(title), "%s \xE2\x80\x94 %s", p.title, pg->org->name);
    p.title = title;
    html_init(&h, PAGE_BYTES_MAX);
    pg->h = &h;
    web_page_open(&h, &p);
    head(pg);
    alert_list(pg, "page.alerts.in_force", "page.alerts.none_in_force",
               json_object_get(pg->cur, "alerts"));
    if (json_array_size(upcoming))
        alert_list(pg, "page.alerts.upcoming", "page.alerts.none_in_force", upcoming);
    history(pg);
    web_page_close(&h, &p);
    api__page_send(r, 200, &h, pg->lang);
}

void api__page_alerts(struct http_req *r)
{
    struct store_org *org = xmalloc(sizeof(*org));
    struct store_alert_query q = { 0 };
    struct apage pg = { NULL, api__page_lang(r), org, NULL, json_array() };
    struct hist hc = { pg.history };
    const char *inm = http_req_header(r, "If-None-Match");
    int64_t now = clock_now_ms();
    char etag[96];
    int err = store_org_get(api__reader(r), http_req_param(r, "slug"), org);

    if (err == -ENOENT) {
        api__page_not_found(r);
        goto out;
    }
    if (!err && !(pg.cur = api__alerts_current(api__reader(r), org, "Actual", now)))
        err = -EIO;
    q.org_id = org->id;
    q.status = "Actual";
    q.state = "published";
    q.limit = HISTORY_MAX;
    if (!err)
        err = store_alert_list(api__reader(r), &q, hist_one, &hc);
    if (err) {
        api__errno(r, err, "alert page");
        goto out;
    }
    etag_of(&pg, now, etag, sizeof(etag));
    http_resp_header(r, "ETag", etag);
    http_resp_header(r, "Cache-Control", "no-cache");
    if (inm && strstr(inm, etag + 2)) {
        http_respond(r, 304, NULL, NULL, 0);
        goto out;
    }
    render(r, &pg);
out:
    json_decref(pg.cur);
    json_decref(pg.history);
    free(org);
}
