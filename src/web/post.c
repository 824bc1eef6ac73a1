/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "web/post.h"

#include <stdio.h>
#include <string.h>

#define MINUTE_MS (60LL * 1000)
#define HOUR_MS   (60 * MINUTE_MS)
#define DAY_MS    (24 * HOUR_MS)

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int64_t num(const json_t *o, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(o, key));
}

void web_relative_time(struct html *h, enum web_lang l, int64_t age_ms)
{
    if (age_ms < MINUTE_MS) {
        web_text(h, l, "common.time.now");
    } else if (age_ms < HOUR_MS) {
        web_tn(h, l, "common.time.minutes_ago", age_ms / MINUTE_MS);
    } else if (age_ms < DAY_MS) {
        web_tn(h, l, "common.time.hours_ago", age_ms / HOUR_MS);
    } else if (age_ms < 2 * DAY_MS) {
        web_text(h, l, "common.time.yesterday");
    } else {
        web_tn(h, l, "common.time.days_ago", age_ms / DAY_MS);
    }
}

void web_size(enum web_lang l, int64_t bytes, char *out, size_t outlen)
{
    char mark = l == WEB_LANG_EN ? '.' : ',';

    if (bytes < 1000) {
        snprintf(out, outlen, "%lld B", (long long)(bytes < 0 ? 0 : bytes));
    } else if (bytes < 1000000) {
        snprintf(out, outlen, "%lld kB", (long long)((bytes + 500) / 1000));
    } else {
        snprintf(out, outlen, "%lld%c%lld MB", (long long)(bytes / 1000000), mark,
                 (long long)(bytes % 1000000 / 100000));
    }
}

/*
 * One media item as the API gives it (docs/API.md, the post object): `kind` image, voice or
 * document; an image links its large size and shows its small one, with its dimensions so
 * the page does not jump; a voice note or document has `url` and `bytes`.
 */
static void media_item(struct html *h, const json_t *m, enum web_lang l)
{
    const char *kind = str(m, "kind");
    const char *alt = str(m, "alt");
    char size[32];

    if (!kind)
        return; /* its file is gone: nothing to show */
    if (!strcmp(kind, "image")) {
        if (!html_url_ok(str(m, "large_url"), 0) || !html_url_ok(str(m, "small_url"), 0))
            return;
        html_tag(h, "<a class=\"media-image\"");
        html_attr_url(h, "href", str(m, "large_url"), 0);
        html_tag(h, "><img");
        html_attr_url(h, "src", str(m, "small_url"), 0);
        /* Never an image without alt: the API requires it, and a missing one says so. */
        html_attr(h, "alt", alt && *alt ? alt : web_t(l, "post.image_no_alt"));
        if (num(m, "width") > 0 && num(m, "height") > 0) {
            html_attr_int(h, "width", num(m, "width"));
            html_attr_int(h, "height", num(m, "height"));
        }
        html_tag(h, " loading=\"lazy\"></a>\n");
        return;
    }
    if (!html_url_ok(str(m, "url"), 0))
        return;
    if (!strcmp(kind, "voice")) {
        html_tag(h, "<audio class=\"media-audio\" controls preload=\"none\"");
        html_attr_url(h, "src", str(m, "url"), 0);
        html_attr(h, "aria-label", alt && *alt ? alt : web_t(l, "post.voice_note"));
        html_tag(h, "></audio>\n");
        return;
    }
    html_tag(h, "<a class=\"media-doc\"");
    html_attr_url(h, "href", str(m, "url"), 0);
    html_tag(h, " download>");
    html_text(h, alt && *alt ? alt : web_t(l, "post.document"));
    if (json_is_integer(json_object_get(m, "bytes"))) {
        web_size(l, num(m, "bytes"), size, sizeof(size));
        html_tag(h, " <span class=\"media-size\">");
        html_text(h, size);
        html_tag(h, "</span>");
    }
    html_tag(h, "</a>\n");
}

static void poll(struct html *h, const json_t *p, const char *post_id, enum web_lang l)
{
    const json_t *opts = json_object_get(p, "options");
    bool multi = json_is_true(json_object_get(p, "multiple"));
    bool closed = json_is_true(json_object_get(p, "closed"));
    int64_t total = num(p, "total_voters");
    char name[48];
    const char *closes = str(p, "closes_at");
    size_t i;
    const json_t *o;

    snprintf(name, sizeof(name), "poll-%s", post_id);
    html_tag(h, "<form class=\"poll\"");
    html_attr(h, "data-multi", multi ? "true" : "false");
    if (closed)
        html_tag(h, " data-closed=\"true\"");
    html_tag(h, "><fieldset><legend>");
    html_text(h, str(p, "question"));
    html_tag(h, "</legend>\n<p class=\"poll-kind\">");
    web_text(h, l, multi ? "post.poll.multiple" : "post.poll.single");
    html_tag(h, "</p>\n");
    json_array_foreach(opts, i, o)
    {
        int64_t votes = num(o, "votes");
        int64_t pct = total > 0 ? (votes * 100 + total / 2) / total : 0;

        html_tag(h, "<label class=\"poll-option\"><input");
        html_attr(h, "type", multi ? "checkbox" : "radio");
        html_attr(h, "name", name);
        html_attr_int(h, "value", (int64_t)i);
        if (closed)
            html_tag(h, " disabled");
        html_tag(h, "> <span class=\"poll-text\">");
        html_text(h, str(o, "text"));
        html_tag(h, "</span> <meter min=\"0\"");
        html_attr_int(h, "max", total > 0 ? total : 1);
        html_attr_int(h, "value", votes);
        html_tag(h, ">");
        html_int(h, pct);
        html_tag(h, "%</meter> <span class=\"poll-pct\">");
        html_int(h, pct);
        html_tag(h, "%</span></label>\n");
    }
    html_tag(h, "<p class=\"poll-meta\">");
    web_tn(h, l, "post.poll.voters", total);
    if (closed) {
        html_tag(h, " · ");
        web_text(h, l, "post.poll.closed");
    } else if (closes) {
        html_tag(h, " · ");
        web_text(h, l, "post.poll.closes");
        html_tag(h, " <time");
        html_attr(h, "datetime", closes);
        html_tag(h, ">");
        /* "2026-12-11T..." shown as 11/12/2026, the order both languages' readers use */
        if (strlen(closes) >= 10) {
            html_textn(h, closes + 8, 2);
            html_tag(h, "/");
            html_textn(h, closes + 5, 2);
            html_tag(h, "/");
            html_textn(h, closes, 4);
        }
        html_tag(h, "</time>");
    }
    html_tag(h, "</p></fieldset></form>\n");
}

static void reactions(struct html *h, const json_t *r, enum web_lang l)
{
    const char *emoji;
    const json_t *n;

    html_tag(h, "<ul class=\"reactions\"");
    html_attr(h, "aria-label", web_t(l, "post.reactions"));
    html_tag(h, ">");
    json_object_foreach((json_t *)r, emoji, n)
    {
        html_tag(h, "<li><button type=\"button\" class=\"reaction\" aria-pressed=\"false\"");
        html_attr(h, "data-emoji", emoji);
        html_tag(h, ">");
        html_text(h, emoji);
        html_tag(h, " <span class=\"count\">");
        html_int(h, (int64_t)json_integer_value(n));
        html_tag(h, "</span></button></li>");
    }
    html_tag(h, "</ul>\n");
}

void web_post(struct html *h, const json_t *post, const struct web_post_opts *o)
{
    const char *id = str(post, "id");
    const char *html = str(post, "html");
    const json_t *media = json_object_get(post, "media");
    const json_t *p = json_object_get(post, "poll");
    const json_t *m;
    char anchor[48];
    size_t i;

    if (!id)
        return;
    snprintf(anchor, sizeof(anchor), "p-%s", id);
    html_tag(h, "<article class=\"post\"");
    html_attr(h, "id", anchor);
    html_attr(h, "data-id", id);
    if (json_is_integer(json_object_get(post, "seq")))
        html_attr_int(h, "data-seq", num(post, "seq"));
    html_attr(h, "lang", o->text_lang);
    html_tag(h, ">\n");
    if (json_is_true(json_object_get(post, "pinned"))) {
        html_tag(h, "<p class=\"post-pinned\">\xF0\x9F\x93\x8C ");
        web_text(h, o->lang, "post.pinned");
        html_tag(h, "</p>\n");
    }
    html_tag(h, "<div class=\"post-text\">");
    if (html)
        html_trusted(h, html, strlen(html));
    html_tag(h, "</div>\n");
    if (json_array_size(media)) {
        html_tag(h, "<div class=\"post-media\">\n");
        json_array_foreach(media, i, m) media_item(h, m, o->lang);
        html_tag(h, "</div>\n");
    }
    if (json_is_object(p))
        poll(h, p, id, o->lang);
    html_tag(h, "<footer class=\"post-meta\"><time");
    html_attr(h, "datetime", str(post, "published_at"));
    html_tag(h, ">");
    web_relative_time(h, o->lang, o->now_ms - o->published_ms);
    html_tag(h, "</time>");
    if (json_is_true(json_object_get(post, "edited"))) {
        html_tag(h, " <span class=\"post-edited\">");
        web_text(h, o->lang, "post.edited");
        html_tag(h, "</span>");
    }
    if (num(post, "views") > 0) {
        html_tag(h, " <span class=\"post-views\">");
        web_tn(h, o->lang, "post.views", num(post, "views"));
        html_tag(h, "</span>");
    }
    html_tag(h, "</footer>\n");
    if (o->reactions_enabled || json_object_size(json_object_get(post, "reactions")))
        reactions(h, json_object_get(post, "reactions"), o->lang);
    html_tag(h, "</article>\n");
}
