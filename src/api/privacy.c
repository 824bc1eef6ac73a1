/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * /privacy: the privacy notice for followers, per org (the Comune is the data controller), in
 * plain Italian and English from the string catalogues and the org's own fields (data
 * controller, DPO). With one org it is that org's notice; with several, ?org=SLUG picks one and
 * the bare page lists them (every page's footer links to its org's notice with ?org=).
 *
 * The list of what is kept about a follower is every "page.privacy.item.*" string, in the
 * catalogue's order: one per store table that holds rows about a follower. The pages test
 * derives those tables from the migrations and fails when one has no item, so a new kind of
 * follower data cannot ship without being explained here.
 */
#include "api/pages_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

#define ORGS_LISTED 200 /* orgs on the chooser page */

struct orgs {
    unsigned n;
    struct html *h; /* the chooser: one link per org */
    enum web_lang lang;
};

static void link_org(void *ctx, const struct store_org *o)
{
    struct orgs *c = ctx;
    char href[120];

    if (c->n++ >= ORGS_LISTED)
        return;
    snprintf(href, sizeof(href), "/privacy?org=%s&lang=%s", o->slug, web_lang_code(c->lang));
    html_tag(c->h, "<li><a");
    html_attr(c->h, "href", href);
    html_tag(c->h, ">");
    html_text(c->h, o->name);
    html_tag(c->h, "</a></li>\n");
}

static void item(void *ctx, const char *key, const char *text)
{
    (void)key;
    html_tag(ctx, "<li>");
    html_text(ctx, text);
    html_tag(ctx, "</li>\n");
}

static void section(struct html *h, enum web_lang l, const char *heading, const char *text)
{
    html_tag(h, "<h2>");
    web_text(h, l, heading);
    html_tag(h, "</h2>\n<p>");
    web_text(h, l, text);
    html_tag(h, "</p>\n");
}

static void notice(struct html *h, enum web_lang l, const struct store_org *org)
{
    const char *kv[] = { "org",        org ? org->name : web_t(l, "common.app_name"),
                         "controller", org ? org->privacy_controller : "",
                         "dpo",        org ? org->privacy_dpo : "",
                         NULL };

    html_tag(h, "<p>");
    web_tf(h, l, "page.privacy.intro", kv);
    html_tag(h, "</p>\n<h2>");
    web_text(h, l, "page.privacy.controller.heading");
    html_tag(h, "</h2>\n<p class=\"privacy-controller\">");
    web_tf(h, l,
           org && org->privacy_controller[0] ? "page.privacy.controller.text"
                                             : "page.privacy.controller.unset",
           kv);
    html_tag(h, "</p>\n<p class=\"privacy-dpo\">");
    web_tf(h, l, org && org->privacy_dpo[0] ? "page.privacy.dpo.text" : "page.privacy.dpo.unset",
           kv);
    html_tag(h, "</p>\n<h2>");
    web_text(h, l, "page.privacy.data.heading");
    html_tag(h, "</h2>\n<p>");
    web_text(h, l, "page.privacy.data.intro");
    html_tag(h, "</p>\n<ul class=\"privacy-data\">\n");
    web_keys(l, "page.privacy.item.", item, h);
    html_tag(h, "</ul>\n");
    section(h, l, "page.privacy.why.heading", "page.privacy.why.text");
    section(h, l, "page.privacy.basis.heading", "page.privacy.basis.text");
    section(h, l, "page.privacy.retention.heading", "page.privacy.retention.text");
    section(h, l, "page.privacy.cookies.heading", "page.privacy.cookies.text");
    section(h, l, "page.privacy.forget.heading", "page.privacy.forget.text");
    section(h, l, "page.privacy.rights.heading", "page.privacy.rights.text");
}

void api__page_privacy(struct http_req *r)
{
    enum web_lang lang = api__page_lang(r);
    const char *slug = http_req_query(r, "org");
    struct store_org *org = xmalloc(sizeof(*org));
    struct orgs c = { 0, NULL, lang };
    struct api_page_scratch scratch;
    struct web_page p;
    struct html h;
    char path[120];
    int err;

    if (slug) {
        err = store_org_slug_valid(slug) ? store_org_get(api__reader(r), slug, org) : -ENOENT;
        c.n = err ? 0 : 1;
    } else {
        err = api__page_orgs(r, org, &c.n);
    }
    if (err == -ENOENT) {
        api__page_not_found(r);
        goto out;
    }
    if (err) {
        api__errno(r, err, "privacy page");
        goto out;
    }
    api__page_frame(&p, lang, c.n == 1 ? org : NULL, &scratch);
    snprintf(path, sizeof(path), "/privacy%s%s", c.n == 1 ? "?org=" : "",
             c.n == 1 ? org->slug : "");
    p.path = path;
    p.title = web_t(lang, "page.privacy.title");
    html_init(&h, PAGE_BYTES_MAX);
    web_page_open(&h, &p);
    html_tag(&h, "<article class=\"card prose\">\n<h1>");
    web_text(&h, lang, "page.privacy.title");
    html_tag(&h, "</h1>\n");
    if (c.n > 1) {
        html_tag(&h, "<p>");
        web_text(&h, lang, "page.privacy.choose_org");
        html_tag(&h, "</p>\n<ul class=\"org-list\">\n");
        c.n = 0;
        c.h = &h;
        err = store_org_list(api__reader(r), 0, link_org, &c);
        html_tag(&h, "</ul>\n");
    } else {
        notice(&h, lang, c.n == 1 ? org : NULL);
    }
    html_tag(&h, "</article>\n");
    web_page_close(&h, &p);
    http_resp_header(r, "Cache-Control", "no-cache");
    if (err) {
        html_release(&h);
        api__errno(r, err, "privacy page");
    } else {
        api__page_send(r, 200, &h, lang);
    }
out:
    free(org);
}
