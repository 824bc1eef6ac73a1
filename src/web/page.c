/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "web/page.h"

#include <stdio.h>
#include <string.h>

static bool set(const char *s)
{
    return s && *s;
}

static void meta(struct html *h, const char *attr, const char *name, const char *content)
{
    if (!set(content))
        return;
    html_tag(h, "<meta");
    html_attr(h, attr, name);
    html_attr(h, "content", content);
    html_tag(h, ">\n");
}

static void head(struct html *h, const struct web_page *p)
{
    const char *title = set(p->title) ? p->title : web_t(p->lang, "common.app_name");

    html_tag(h, "<!doctype html>\n<html");
    html_attr(h, "lang", web_lang_code(p->lang));
    html_tag(h, ">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                "<title>");
    html_text(h, title);
    html_tag(h, "</title>\n");
    meta(h, "name", "description", p->description);
    if (p->noindex)
        html_tag(h, "<meta name=\"robots\" content=\"noindex\">\n");
    /* The app's manifest and icons (web/manifest.webmanifest, web/icons/): a page opened
     * from a link can be installed as the app. */
    html_tag(h, "<meta name=\"theme-color\" content=\"#0066cc\">\n"
                "<link rel=\"stylesheet\" href=\"/css/araldo.css\">\n"
                /* The stylesheet's fonts, fetched with it rather than after it: the text
                 * does not reflow when they arrive (Lighthouse's layout shift). */
                "<link rel=\"preload\" href=\"/vendor/fonts/titillium-web-latin-400-normal.woff2\""
                " as=\"font\" type=\"font/woff2\" crossorigin>\n"
                "<link rel=\"preload\" href=\"/vendor/fonts/titillium-web-latin-600-normal.woff2\""
                " as=\"font\" type=\"font/woff2\" crossorigin>\n"
                "<link rel=\"manifest\" href=\"/manifest.webmanifest\">\n"
                "<link rel=\"icon\" href=\"/icons/icon.svg\" type=\"image/svg+xml\">\n"
                "<link rel=\"apple-touch-icon\" href=\"/icons/icon-192.png\">\n");
    if (html_url_ok(p->canonical, 0)) {
        html_tag(h, "<link rel=\"canonical\"");
        html_attr(h, "href", p->canonical);
        html_tag(h, ">\n");
    }
    if (html_url_ok(p->feed_url, 0)) {
        html_tag(h, "<link rel=\"alternate\" type=\"application/atom+xml\"");
        html_attr(h, "title", title);
        html_attr(h, "href", p->feed_url);
        html_tag(h, ">\n");
    }
    /* The card a link pasted in WhatsApp, Telegram or Facebook shows (OpenGraph, Twitter). */
    meta(h, "property", "og:type", set(p->og_type) ? p->og_type : "website");
    meta(h, "property", "og:site_name", set(p->org_name) ? p->org_name : "araldo");
    meta(h, "property", "og:title", title);
    meta(h, "property", "og:description", p->description);
    if (html_url_ok(p->canonical, 0))
        meta(h, "property", "og:url", p->canonical);
    if (html_url_ok(p->image, 0))
        meta(h, "property", "og:image", p->image);
    meta(h, "property", "og:locale", web_lang_locale(p->lang));
    meta(h, "name", "twitter:card", "summary");
    meta(h, "name", "twitter:title", title);
    meta(h, "name", "twitter:description", p->description);
    if (html_url_ok(p->image, 0))
        meta(h, "name", "twitter:image", p->image);
    if (html_url_ok(p->script, 0)) {
        html_tag(h, "<script type=\"module\"");
        html_attr(h, "src", p->script);
        html_tag(h, "></script>\n");
    }
    html_tag(h, "</head>\n");
}

/* The other language's link: this page with ?lang= (or &lang=) set. */
static void lang_switch(struct html *h, const struct web_page *p)
{
    enum web_lang other = p->lang == WEB_LANG_IT ? WEB_LANG_EN : WEB_LANG_IT;
    const char *path = set(p->path) ? p->path : "/";
    char href[512];

    if (path[0] != '/' || strlen(path) > 400)
        path = "/";
    snprintf(href, sizeof(href), "%s%slang=%s", path, strchr(path, '?') ? "&" : "?",
             web_lang_code(other));
    html_tag(h, "<a class=\"lang-switch\"");
    html_attr(h, "href", href);
    html_attr(h, "hreflang", web_lang_code(other));
    html_attr(h, "lang", web_lang_code(other));
    html_tag(h, ">");
    web_text(h, other, "common.language_name");
    html_tag(h, "</a>");
}

void web_page_open(struct html *h, const struct web_page *p)
{
    head(h, p);
    html_tag(h, "<body>\n<a class=\"skip-link\" href=\"#main\">");
    web_text(h, p->lang, "common.skip_to_content");
    html_tag(h, "</a>\n<header class=\"site-header\">\n<div class=\"wrap site-header-in\">\n"
                "<a class=\"brand\"");
    html_attr(h, "href", html_url_ok(p->org_href, 0) ? p->org_href : "/");
    html_tag(h, ">");
    if (html_url_ok(p->org_logo, 0)) {
        html_tag(h, "<img class=\"brand-logo\" alt=\"\" width=\"48\" height=\"48\"");
        html_attr(h, "src", p->org_logo);
        html_tag(h, ">");
    }
    html_tag(h, "<span class=\"brand-name\">");
    html_text(h, set(p->org_name) ? p->org_name : web_t(p->lang, "common.app_name"));
    html_tag(h, "</span></a>\n");
    lang_switch(h, p);
    html_tag(h, "\n</div>\n</header>\n<main id=\"main\" class=\"wrap\">\n");
}

void web_page_close(struct html *h, const struct web_page *p)
{
    char mailto[300];

    html_tag(
        h,
        "</main>\n<footer class=\"site-footer\">\n<div class=\"wrap\">\n<p class=\"footer-org\">");
    html_text(h, set(p->org_name) ? p->org_name : web_t(p->lang, "common.app_name"));
    html_tag(h, "</p>\n<ul class=\"footer-links\">\n");
    if (html_url_ok(p->a11y_url, 0)) {
        html_tag(h, "<li><a data-element=\"accessibility-link\"");
        html_attr(h, "href", p->a11y_url);
        html_tag(h, ">");
        web_text(h, p->lang, "common.footer.accessibility");
        html_tag(h, "</a></li>\n");
    }
    if (set(p->a11y_email) && strlen(p->a11y_email) < 250 && !strchr(p->a11y_email, '?')) {
        snprintf(mailto, sizeof(mailto), "mailto:%s", p->a11y_email);
        html_tag(h, "<li><a class=\"a11y-feedback\"");
        html_attr(h, "href", mailto);
        html_tag(h, ">");
        web_text(h, p->lang, "common.footer.accessibility_feedback");
        html_tag(h, "</a></li>\n");
    }
    html_tag(h, "<li><a data-element=\"privacy-policy-link\"");
    html_attr(h, "href", html_url_ok(p->privacy_url, 0) ? p->privacy_url : "/privacy");
    html_tag(h, ">");
    web_text(h, p->lang, "common.footer.privacy");
    html_tag(h, "</a></li>\n");
    if (html_url_ok(p->report_stats_url, 0)) {
        html_tag(h, "<li><a class=\"report-stats-link\"");
        html_attr(h, "href", p->report_stats_url);
        html_tag(h, ">");
        web_text(h, p->lang, "common.footer.report_stats");
        html_tag(h, "</a></li>\n");
    }
    html_tag(h, "</ul>\n<p class=\"footer-made\">");
    web_text(h, p->lang, "common.footer.made_with");
    html_tag(h, "</p>\n</div>\n</footer>\n</body>\n</html>\n");
}
