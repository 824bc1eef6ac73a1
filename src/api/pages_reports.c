/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * /segnalazioni/statistiche/{org}: the Comune's public statistics on citizen reports (issue 15,
 * point 4; docs/OPEN311.md "Statistics"). Complete HTML in the first response, readable without
 * JavaScript, in the frame and stylesheet of the other pages: per active service, over a stated
 * period (the last 30, 90 or 365 days, 365 by default), the reports received, the median time
 * to the first answer and to resolution, and the share solved — one accessible table with a
 * caption, column and row headers. The same numbers as GET /api/v1/orgs/{slug}/reports/statistics
 * and the Open311 discovery's `statistics`: aggregates only, never a report or a person.
 */
#include "api/pages_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/reports_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/tz.h"

#define DAY_MS (86400LL * 1000)

struct spage {
    struct html *h;
    enum web_lang lang;
    const struct store_org *org;
    int days;
    int64_t since_ms, now_ms;
    int64_t received; /* over every service */
    unsigned rows;
};

/* The period: ?giorni= 30, 90 or 365 (anything else: 365). */
static int period_days(struct http_req *r)
{
    const char *q = http_req_query(r, "giorni");

    if (q && !strcmp(q, "30"))
        return 30;
    if (q && !strcmp(q, "90"))
        return 90;
    return 365;
}

/* `ms` as a date in the org's time zone ("05/12/2026"). */
static void local_date(const struct store_org *o, int64_t ms, char *out, size_t outlen)
{
    int off = 0;
    time_t t;
    struct tm tm;

    if (tz_offset_min(o->timezone, ms, &off))
        off = 0;
    t = (time_t)(ms / 1000 + (int64_t)off * 60);
    if (!gmtime_r(&t, &tm) || !strftime(out, outlen, "%d/%m/%Y", &tm))
        snprintf(out, outlen, "%s", "");
}

/* A median duration in words: minutes under an hour, hours under three days, else days. */
static void duration(struct spage *pg, int64_t s)
{
    char n[24];

    if (s < 0) {
        html_tag(pg->h, "<span aria-hidden=\"true\">\xE2\x80\x94</span><span class=\"sr-only\">");
        web_text(pg->h, pg->lang, "page.rstats.none");
        html_tag(pg->h, "</span>");
        return;
    }
    if (s < 3600) {
        snprintf(n, sizeof(n), "%lld", (long long)(s < 60 ? 1 : (s + 30) / 60));
        web_tf(pg->h, pg->lang, "page.rstats.minutes", (const char *const[]){ "n", n, NULL });
    } else if (s < 72LL * 3600) {
        snprintf(n, sizeof(n), "%lld", (long long)((s + 1800) / 3600));
        web_tf(pg->h, pg->lang, "page.rstats.hours", (const char *const[]){ "n", n, NULL });
    } else {
        snprintf(n, sizeof(n), "%lld", (long long)((s + 43200) / 86400));
        web_tf(pg->h, pg->lang, "page.rstats.days", (const char *const[]){ "n", n, NULL });
    }
}

/* A cell that names its column, which a phone shows above the value (araldo.css). */
static void cell(struct spage *pg, const char *cls, const char *column_key)
{
    html_tag(pg->h, "<td");
    if (cls)
        html_attr(pg->h, "class", cls);
    html_attr(pg->h, "data-label", web_t(pg->lang, column_key));
    html_tag(pg->h, ">");
}

static void row(void *ctx, const struct store_report_stat *s)
{
    struct spage *pg = ctx;
    struct html *h = pg->h;
    char pct[16];

    pg->received += s->received;
    pg->rows++;
    html_tag(h, "<tr><th scope=\"row\">");
    html_text(h, s->service_name);
    html_tag(h, "</th>");
    cell(pg, "num", "page.rstats.col.received");
    html_int(h, s->received);
    html_tag(h, "</td>");
    cell(pg, NULL, "page.rstats.col.first_answer");
    duration(pg, s->median_first_answer_s);
    html_tag(h, "</td>");
    cell(pg, NULL, "page.rstats.col.resolution");
    duration(pg, s->median_resolution_s);
    html_tag(h, "</td>");
    cell(pg, "num", "page.rstats.col.solved");
    if (s->received > 0) {
        snprintf(pct, sizeof(pct), "%lld%%",
                 (long long)((s->resolved * 100 + s->received / 2) / s->received));
        html_text(h, pct);
    } else {
        html_tag(h, "<span aria-hidden=\"true\">\xE2\x80\x94</span><span class=\"sr-only\">");
        web_text(h, pg->lang, "page.rstats.none");
        html_tag(h, "</span>");
    }
    html_tag(h, "</td></tr>\n");
}

static void period_links(struct spage *pg)
{
    static const int choices[] = { 30, 90, 365 };
    struct html *h = pg->h;
    char href[160], n[8];

    html_tag(h, "<nav class=\"rstats-period\" aria-labelledby=\"rstats-period\"><h2 "
                "id=\"rstats-period\" class=\"sr-only\">");
    web_text(h, pg->lang, "page.rstats.period_choice");
    html_tag(h, "</h2><ul class=\"chips\">");
    for (size_t i = 0; i < sizeof(choices) / sizeof(choices[0]); i++) {
        snprintf(href, sizeof(href), "/segnalazioni/statistiche/%s?giorni=%d&lang=%s",
                 pg->org->slug, choices[i], web_lang_code(pg->lang));
        snprintf(n, sizeof(n), "%d", choices[i]);
        html_tag(h, "<li><a");
        html_attr(h, "href", href);
        if (choices[i] == pg->days)
            html_tag(h, " aria-current=\"page\"");
        html_tag(h, ">");
        web_tf(h, pg->lang, "page.rstats.last_days", (const char *const[]){ "n", n, NULL });
        html_tag(h, "</a></li>");
    }
    html_tag(h, "</ul></nav>\n");
}

/* The table: its rows are written as the store reads them, then the totals line. */
static int table(struct http_req *r, struct spage *pg)
{
    struct html *h = pg->h;
    char from[32], to[32], n[24];
    int err;

    local_date(pg->org, pg->since_ms, from, sizeof(from));
    local_date(pg->org, pg->now_ms, to, sizeof(to));
    snprintf(n, sizeof(n), "%d", pg->days);
    html_tag(h, "<div class=\"table-scroll\" role=\"region\" tabindex=\"0\" "
                "aria-labelledby=\"rstats-caption\"><table class=\"rstats-table\">\n"
                "<caption id=\"rstats-caption\">");
    web_tf(h, pg->lang, "page.rstats.caption",
           (const char *const[]){ "n", n, "from", from, "to", to, NULL });
    html_tag(h, "</caption>\n<thead><tr><th scope=\"col\">");
    web_text(h, pg->lang, "page.rstats.col.service");
    html_tag(h, "</th><th scope=\"col\" class=\"num\">");
    web_text(h, pg->lang, "page.rstats.col.received");
    html_tag(h, "</th><th scope=\"col\">");
    web_text(h, pg->lang, "page.rstats.col.first_answer");
    html_tag(h, "</th><th scope=\"col\">");
    web_text(h, pg->lang, "page.rstats.col.resolution");
    html_tag(h, "</th><th scope=\"col\" class=\"num\">");
    web_text(h, pg->lang, "page.rstats.col.solved");
    html_tag(h, "</th></tr></thead>\n<tbody>\n");
    err = store_report_stats(api__reader(r), pg->org->id, pg->since_ms, row, pg);
    html_tag(h, "</tbody>\n</table></div>\n");
    return err;
}

static void render(struct http_req *r, struct spage *pg, struct html *h)
{
    struct api_page_scratch scratch;
    struct web_page p;
    char origin[300], canonical[600], image[600], path[200], title[1200], total[24];
    int err;

    api__base_url(r, origin, sizeof(origin));
    api__page_frame(&p, pg->lang, pg->org, &scratch);
    snprintf(canonical, sizeof(canonical), "%s/segnalazioni/statistiche/%s", origin, pg->org->slug);
    if (pg->org->logo[0]) {
        snprintf(image, sizeof(image), "%s/media/%s/small", origin, pg->org->logo);
    } else {
        snprintf(image, sizeof(image), "%s/icons/icon-512.png", origin);
    }
    snprintf(path, sizeof(path), "/segnalazioni/statistiche/%s?giorni=%d", pg->org->slug, pg->days);
    snprintf(title, sizeof(title), "%s \xE2\x80\x94 %s", web_t(pg->lang, "page.rstats.title"),
             pg->org->name);
    p.title = title;
    p.description = web_t(pg->lang, "page.rstats.description");
    p.canonical = canonical;
    p.image = image;
    p.og_type = "website";
    p.path = path;
    pg->h = h;
    web_page_open(h, &p);
    html_tag(h, "<section class=\"card\" aria-labelledby=\"rstats-title\">\n<h1 "
                "id=\"rstats-title\">");
    web_tf(h, pg->lang, "page.rstats.heading", (const char *const[]){ "org", pg->org->name, NULL });
    html_tag(h, "</h1>\n<p>");
    web_text(h, pg->lang, "page.rstats.intro");
    html_tag(h, "</p>\n");
    period_links(pg);
    html_tag(h, "</section>\n");
    err = table(r, pg);
    if (err) {
        html_release(h);
        api__errno(r, err, "report statistics page");
        return;
    }
    snprintf(total, sizeof(total), "%lld", (long long)pg->received);
    html_tag(h, "<p class=\"muted\">");
    web_tf(h, pg->lang, "page.rstats.total", (const char *const[]){ "n", total, NULL });
    html_tag(h, " ");
    web_text(h, pg->lang, "page.rstats.how");
    html_tag(h, "</p>\n<p><a class=\"btn btn-primary\" href=\"/#/segnala\">");
    web_text(h, pg->lang, "page.rstats.report");
    html_tag(h, "</a></p>\n");
    web_page_close(h, &p);
    /* Aggregates that change slowly: caches may keep them a few minutes, like the API's. */
    http_resp_header(r, "Cache-Control", "public, max-age=300");
    api__page_send(r, 200, h, pg->lang);
}

void api__page_report_stats(struct http_req *r)
{
    struct store_org *org = xmalloc(sizeof(*org));
    struct spage pg = { .lang = api__page_lang(r), .org = org, .days = period_days(r) };
    struct html h;
    int err = store_org_get(api__reader(r), http_req_param(r, "slug"), org);

    if (err == -ENOENT) {
        api__page_not_found(r);
    } else if (err) {
        api__errno(r, err, "report statistics page");
    } else {
        pg.now_ms = clock_now_ms();
        pg.since_ms = pg.now_ms - pg.days * DAY_MS;
        html_init(&h, PAGE_BYTES_MAX);
        render(r, &pg, &h);
    }
    free(org);
}
