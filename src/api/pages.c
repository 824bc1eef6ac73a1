/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The public pages citizens open from a link: /c/{handle} (a channel's preview) and the body of
 * /i/{code} (the same preview plus "Segui", once api/qr.c has checked the invite). Rendered by
 * the server as complete HTML, readable without JavaScript, with the social-card tags a link
 * pasted in a chat app shows; /app/page.js then makes them live (docs/WEB.md).
 *
 * What a page shows is exactly what the public API gives anyone: the channel object and the
 * post objects (store_post_json) of the retention window, rendered by web/post.c in the markup
 * the app shares. Unlisted channels have no /c page (404, as the API does); their invite link
 * is the way in.
 *
 * Caching: like the API's public reads, an ETag and "no-cache" (revalidate every time). The
 * ETag is made before rendering from what the page depends on — the channel's last event seq
 * (every post created, edited, deleted, pinned, reaction or vote count moves it), its and its
 * org's settings, the language and the minute (relative times: "5 minuti fa") — so a
 * conditional GET on a busy day costs two reads and no rendering.
 */
#include "api/pages_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/channels_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/media.h"
#include "store/posts.h"
#include "web/post.h"

#define PAGE_POSTS      50 /* posts on a preview page, newest first; the app loads older ones */
#define PAGE_SCRIPT     "/app/page.js"
#define CARD_TEXT_CHARS 200 /* the description in <meta> and the social card */

enum web_lang api__page_lang(struct http_req *r)
{
    return web_lang_pick(http_req_query(r, "lang"), http_req_header(r, "Accept-Language"));
}

void api__page_frame(struct web_page *p, enum web_lang lang, const struct store_org *org,
                     struct api_page_scratch *scratch)
{
    memset(p, 0, sizeof(*p));
    p->lang = lang;
    p->org_href = "/";
    p->privacy_url = "/privacy";
    if (!org)
        return;
    p->org_name = org->name;
    if (org->logo[0]) {
        snprintf(scratch->logo, sizeof(scratch->logo), "/media/%s/small", org->logo);
        p->org_logo = scratch->logo;
    }
    snprintf(scratch->privacy, sizeof(scratch->privacy), "/privacy?org=%s", org->slug);
    p->privacy_url = scratch->privacy;
    snprintf(scratch->report_stats, sizeof(scratch->report_stats), "/segnalazioni/statistiche/%s",
             org->slug);
    p->report_stats_url = scratch->report_stats;
    p->a11y_url = org->accessibility_url;
    p->a11y_email = org->accessibility_email;
}

static void send_body(struct http_req *r, int status, const char *body, size_t len,
                      enum web_lang lang)
{
    http_resp_header(r, "Vary", "Accept-Language");
    http_resp_header(r, "Content-Language", web_lang_code(lang));
    http_respond(r, status, "text/html; charset=utf-8", body, len);
}

/* The page of `h` (taken) or NULL after a 500 answered. */
static char *take_page(struct http_req *r, struct html *h, size_t *len)
{
    int err;
    char *body = html_take(h, len, &err);

    if (!body) {
        log_warn("pages: cannot render %s: %s", http_req_path(r), strerror(-err));
        http_respond_error(r, 500, "internal", "The page could not be made: try again in a moment.",
                           NULL);
    }
    return body;
}

void api__page_send(struct http_req *r, int status, struct html *h, enum web_lang lang)
{
    size_t len;
    char *body = take_page(r, h, &len);

    if (body)
        send_body(r, status, body, len, lang);
    free(body);
}

/*
 * On a flood day the link to one channel goes round every chat at once, and most readers
 * arrive without a validator. Each loop keeps its last rendered channel pages (no locks: one
 * cache per loop thread), keyed by the ETag — which changes with anything the page shows
 * except the view counts — and by the origin the links were made with; an entry serves for
 * PAGES_CACHE_TTL_MS at most, which bounds how stale the view counts may be, as the API's
 * cache of post pages does. Invite pages are never cached (each is its own capability).
 */
#define PAGES_CACHE_SLOTS  16
#define PAGES_CACHE_TTL_MS 1000

struct pages_cache_entry {
    char key[400]; /* etag + " " + origin; "" when empty */
    int64_t made_ms;
    char *body;
    size_t len;
};

struct pages_cache {
    struct pages_cache_entry e[PAGES_CACHE_SLOTS];
    unsigned next;
};

void api__pages_cache_free(struct pages_cache *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < PAGES_CACHE_SLOTS; i++)
        free(c->e[i].body);
    free(c);
}

static struct pages_cache_entry *cache_find(struct http_req *r, const char *key, int64_t now_ms)
{
    struct pages_cache *c = ((struct api_loop *)http_req_loop_ctx(r))->pages_cache;

    for (unsigned i = 0; c && i < PAGES_CACHE_SLOTS; i++) {
        if (c->e[i].body && !strcmp(c->e[i].key, key) && now_ms - c->e[i].made_ms >= 0 &&
            now_ms - c->e[i].made_ms < PAGES_CACHE_TTL_MS)
            return &c->e[i];
    }
    return NULL;
}

/* Keep `body` (taking it) under `key`; returns the entry. */
static struct pages_cache_entry *cache_put(struct http_req *r, const char *key, int64_t now_ms,
                                           char *body, size_t len)
{
    struct api_loop *l = http_req_loop_ctx(r);
    struct pages_cache_entry *e;

    if (!l->pages_cache)
        l->pages_cache = xcalloc(1, sizeof(*l->pages_cache));
    e = &l->pages_cache->e[l->pages_cache->next++ % PAGES_CACHE_SLOTS];
    free(e->body);
    snprintf(e->key, sizeof(e->key), "%s", key);
    e->made_ms = now_ms;
    e->body = body;
    e->len = len;
    return e;
}

struct only_org {
    struct store_org *org;
    unsigned n;
};

static void count_org(void *ctx, const struct store_org *o)
{
    struct only_org *c = ctx;

    if (!c->n++)
        *c->org = *o;
}

int api__page_orgs(struct http_req *r, struct store_org *first, unsigned *n)
{
    struct only_org c = { first, 0 };
    int err = store_org_list(api__reader(r), 0, count_org, &c);

    *n = err ? 0 : c.n;
    return err;
}

void api__page_not_found(struct http_req *r)
{
    enum web_lang lang = api__page_lang(r);
    struct store_org *org = xmalloc(sizeof(*org));
    struct api_page_scratch scratch;
    struct web_page p;
    struct html h;
    unsigned n;

    /* A server of one Comune wears its colours even on a wrong address. */
    if (api__page_orgs(r, org, &n) != 0)
        n = 0;
    api__page_frame(&p, lang, n == 1 ? org : NULL, &scratch);
    p.title = web_t(lang, "page.not_found.title");
    p.noindex = true;
    p.path = "/";
    html_init(&h, PAGE_BYTES_MAX);
    web_page_open(&h, &p);
    html_tag(&h, "<div class=\"page-error\" data-error=\"page_not_found\">\n<h1>");
    web_text(&h, lang, "page.not_found.title");
    html_tag(&h, "</h1>\n<p>");
    web_text(&h, lang, "page.not_found.text");
    html_tag(&h, "</p>\n<p><a class=\"btn btn-primary\" href=\"/\">");
    web_text(&h, lang, "page.not_found.home");
    html_tag(&h, "</a></p>\n</div>\n");
    web_page_close(&h, &p);
    http_resp_header(r, "Cache-Control", "no-store"); /* an error, like every other */
    api__page_send(r, 404, &h, lang);
    free(org);
}

/* ---- the channel preview ---- */

struct preview {
    struct http_req *r;
    struct html *h;
    const struct store_channel *ch;
    const struct store_invite *inv; /* NULL on /c/{handle} */
    enum web_lang lang;
    int64_t now_ms;
    int64_t skip_id; /* the pinned post, already shown on top */
    unsigned shown;
};

static void one_post(struct preview *pv, const struct store_post *p)
{
    struct web_post_opts o = {
        .lang = pv->lang,
        .text_lang = pv->ch->language,
        .published_ms = p->published_ms,
        .now_ms = pv->now_ms,
        .reactions_enabled = pv->ch->reaction_policy != STORE_REACT_NONE,
    };
    json_t *j = store_post_json(p);

    web_post(pv->h, j, &o);
    json_decref(j);
    pv->shown++;
}

static void list_post(void *ctx, const struct store_post *p)
{
    struct preview *pv = ctx;

    if (p->id != pv->skip_id)
        one_post(pv, p);
}

/* Bytes of the first UTF-8 character of `s` (0 for ""). */
static size_t first_char_len(const char *s)
{
    size_t n = *s ? 1 : 0;

    while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
        n++;
    return n;
}

static void channel_head(struct preview *pv, const char *icon_url)
{
    struct html *h = pv->h;
    const struct store_channel *ch = pv->ch;
    enum web_lang l = pv->lang;
    char follow[256];

    html_tag(h, "<section class=\"card channel-head\" aria-labelledby=\"channel-name\">\n");
    if (icon_url) {
        html_tag(h, "<img class=\"avatar\" alt=\"\" width=\"72\" height=\"72\"");
        html_attr(h, "src", icon_url);
        html_tag(h, ">\n");
    } else {
        /* No icon: the name's first letter, as messaging apps do. */
        html_tag(h, "<span class=\"avatar avatar-letter\" aria-hidden=\"true\">");
        html_textn(h, ch->name, first_char_len(ch->name));
        html_tag(h, "</span>\n");
    }
    html_tag(h, "<div>\n<h1 class=\"channel-name\" id=\"channel-name\">");
    html_text(h, ch->name);
    if (ch->verified) {
        html_tag(h, " <span class=\"badge badge-verified\">");
        web_text(h, l, "page.channel.verified");
        html_tag(h, "</span>");
    }
    html_tag(h, "</h1>\n<p class=\"channel-org\">");
    html_text(h, ch->org_name);
    html_tag(h, "</p>\n</div>\n");
    if (pv->inv) {
        html_tag(h, "<p class=\"notice channel-desc\"><strong>");
        web_text(h, l, "page.invite.title");
        html_tag(h, "</strong><br>");
        web_text(h, l, "page.invite.text");
        html_tag(h, "</p>\n");
    }
    if (ch->description[0]) {
        html_tag(h, "<p class=\"channel-desc\"");
        html_attr(h, "lang", ch->language);
        html_tag(h, ">");
        html_text(h, ch->description);
        html_tag(h, "</p>\n");
    }
    html_tag(h, "<p class=\"channel-meta\"><span class=\"followers-count\"");
    html_attr_int(h, "data-count", ch->followers_count);
    html_tag(h, ">");
    web_tn(h, l, "page.channel.followers", ch->followers_count);
    html_tag(h, "</span></p>\n<div class=\"channel-actions\">\n");
    /* The link opens the app on this channel (its hash route), where Segui is one tap; the
     * page's module, when it runs, follows right here instead. */
    snprintf(follow, sizeof(follow), "/#/c/%s%s%s", ch->handle, pv->inv ? "?invite=" : "",
             pv->inv ? pv->inv->code : "");
    html_tag(h, "<a class=\"btn btn-primary follow-button\" data-action=\"follow\"");
    html_attr(h, "href", follow);
    html_attr(h, "data-handle", ch->handle);
    if (pv->inv)
        html_attr(h, "data-invite", pv->inv->code);
    html_tag(h, ">");
    web_text(h, l, "page.channel.follow");
    html_tag(h, "</a>\n<noscript><p class=\"hint\">");
    web_text(h, l, "page.channel.follow_no_js");
    html_tag(h, "</p></noscript>\n<p class=\"hint\">");
    web_text(h, l, "page.channel.privacy_note");
    html_tag(h, "</p>\n</div>\n</section>\n");
}

/* The pinned post on top (when it is published and within the window), then the others. */
static int channel_posts(struct preview *pv)
{
    const struct store_channel *ch = pv->ch;
    struct store_post_query q = { 0 };
    struct store_post *pin = NULL;
    struct html *h = pv->h;
    int64_t since = pv->now_ms - ch->retention_days * POST_DAY_MS;
    int err = 0;

    html_tag(h, "<div class=\"posts-head\">\n<h2>");
    web_text(h, pv->lang, "page.channel.posts");
    html_tag(h, "</h2>\n<p class=\"muted\">");
    web_tn(h, pv->lang, "page.channel.window", ch->retention_days);
    html_tag(h, "</p>\n</div>\n<div class=\"posts\" aria-live=\"polite\"");
    html_attr(h, "data-channel", ch->handle);
    html_attr_int(h, "data-seq", ch->last_seq);
    html_tag(h, ">\n");
    if (ch->pinned_post_id) {
        pin = xmalloc(sizeof(*pin));
        err = store_post_get(api__reader(pv->r), ch->pinned_post_id, pin);
        if (!err && !pin->scheduled && pin->channel_id == ch->id && pin->published_ms >= since) {
            one_post(pv, pin);
            pv->skip_id = pin->id;
        }
        err = err == -ENOENT ? 0 : err;
    }
    q.channel_id = ch->id;
    q.limit = PAGE_POSTS;
    q.since_ms = since;
    if (!err)
        err = store_post_list(api__reader(pv->r), &q, list_post, pv, NULL);
    if (!pv->shown) {
        html_tag(h, "<p class=\"card muted posts-empty\">");
        web_text(h, pv->lang, "page.channel.no_posts");
        html_tag(h, "</p>\n");
    }
    html_tag(h, "</div>\n");
    free(pin);
    return err;
}

/* FNV-1a over the org's shown settings: they change the page without moving the seq. */
static uint64_t org_hash(const struct store_org *o)
{
    const char *parts[] = { o->name, o->logo, o->accessibility_url, o->accessibility_email };
    uint64_t h = 14695981039346656037ULL;

    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        for (const char *p = parts[i]; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
    }
    return h;
}

/* The addresses a preview's frame points into (kept while the page is written). */
struct preview_urls {
    struct api_page_scratch scratch;
    char canonical[400], image[520], icon[200], feed[400], path[200];
    char summary[CARD_TEXT_CHARS * 4 + 8];
};

/*
 * `s` cut to `max` characters at a space when one is near, with "…" when cut: a link card and
 * a search result show about this much, and a description may be 2,000 characters.
 */
static void summary(const char *s, size_t max, char *out, size_t outlen)
{
    size_t i = 0, chars = 0, space = 0;

    for (; s[i]; i++) {
        if (((unsigned char)s[i] & 0xC0) == 0x80)
            continue;
        if (chars++ == max)
            break;
        if (s[i] == ' ' || s[i] == '\n')
            space = i;
    }
    if (s[i] && space > i / 2)
        i = space;
    snprintf(out, outlen, "%.*s%s", (int)i, s, s[i] ? "\xE2\x80\xA6" : "");
}

/* The frame of the preview: social card, canonical address, feed, language switch. */
static void preview_frame(const struct preview *pv, const struct store_org *org, const char *origin,
                          struct preview_urls *u, struct web_page *p)
{
    const struct store_channel *ch = pv->ch;

    api__page_frame(p, pv->lang, org, &u->scratch);
    snprintf(u->canonical, sizeof(u->canonical), "%s/c/%s", origin, ch->handle);
    snprintf(u->icon, sizeof(u->icon), "/media/%s/small", ch->icon);
    if (ch->icon[0]) {
        snprintf(u->image, sizeof(u->image), "%s%s", origin, u->icon);
    } else if (org->logo[0]) {
        snprintf(u->image, sizeof(u->image), "%s/media/%s/small", origin, org->logo);
    } else {
        /* Never a card without a picture: the app's icon (web/icons/). */
        snprintf(u->image, sizeof(u->image), "%s/icons/icon-512.png", origin);
    }
    p->image = u->image;
    if (pv->inv) {
        snprintf(u->path, sizeof(u->path), "/i/%s", pv->inv->code);
    } else {
        snprintf(u->path, sizeof(u->path), "/c/%s", ch->handle);
        snprintf(u->feed, sizeof(u->feed), "%s/channels/%s/feed.atom", origin, ch->handle);
        p->feed_url = ch->listed ? u->feed : NULL;
    }
    p->title = ch->name;
    summary(ch->description[0] ? ch->description : ch->org_name, CARD_TEXT_CHARS, u->summary,
            sizeof(u->summary));
    p->description = u->summary;
    p->canonical = ch->listed ? u->canonical : NULL; /* an unlisted channel: no public address */
    p->og_type = "website";
    p->script = PAGE_SCRIPT;
    p->path = u->path;
    p->noindex = pv->inv != NULL || !ch->listed;
}

/*
 * Answer 304 or from the loop's cache when possible (true), after setting the caching
 * headers; else leave `key` for cache_put and return false.
 */
static bool answered_early(struct preview *pv, const struct store_org *org, const char *origin,
                           char *key, size_t keylen)
{
    struct http_req *r = pv->r;
    const char *inm = http_req_header(r, "If-None-Match");
    struct pages_cache_entry *hit;
    char etag[96];

    snprintf(etag, sizeof(etag), "W/\"c%lld-%lld-%lld-%016llx-%s-%lld\"", (long long)pv->ch->id,
             (long long)pv->ch->last_seq, (long long)pv->ch->updated_ms,
             (unsigned long long)org_hash(org), web_lang_code(pv->lang),
             (long long)(pv->now_ms / 60000));
    http_resp_header(r, "ETag", etag);
    if (pv->inv) {
        /* A capability in the address: not for shared caches, not for other sites' logs. */
        http_resp_header(r, "Cache-Control", "private, no-cache");
        http_resp_header(r, "Referrer-Policy", "no-referrer");
    } else {
        http_resp_header(r, "Cache-Control", "no-cache");
    }
    if (inm && strstr(inm, etag + 2)) {
        http_respond(r, 304, NULL, NULL, 0);
        return true;
    }
    snprintf(key, keylen, "%s %s", etag, origin);
    if (!pv->inv && (hit = cache_find(r, key, pv->now_ms)) != NULL) {
        send_body(r, 200, hit->body, hit->len, pv->lang);
        return true;
    }
    return false;
}

static void preview(struct http_req *r, const struct store_channel *ch,
                    const struct store_invite *inv)
{
    struct store_org *org = xmalloc(sizeof(*org));
    struct preview_urls *u = xmalloc(sizeof(*u));
    struct preview pv = { r, NULL, ch, inv, api__page_lang(r), clock_now_ms(), 0, 0 };
    struct pages_cache_entry *e;
    struct web_page p;
    struct html h;
    char origin[300], key[400];
    char *body;
    size_t len;
    int err = store_org_get_id(api__reader(r), ch->org_id, org);

    if (err) {
        api__errno(r, err, "channel page org");
        goto out;
    }
    api__base_url(r, origin, sizeof(origin));
    if (answered_early(&pv, org, origin, key, sizeof(key)))
        goto out;
    preview_frame(&pv, org, origin, u, &p);
    html_init(&h, PAGE_BYTES_MAX);
    pv.h = &h;
    web_page_open(&h, &p);
    channel_head(&pv, ch->icon[0] ? u->icon : NULL);
    err = channel_posts(&pv);
    web_page_close(&h, &p);
    if (err) {
        html_release(&h);
        api__errno(r, err, "channel page");
    } else if ((body = take_page(r, &h, &len)) != NULL) {
        if (inv) {
            send_body(r, 200, body, len, pv.lang);
            free(body);
        } else {
            e = cache_put(r, key, pv.now_ms, body, len); /* takes body */
            send_body(r, 200, e->body, e->len, pv.lang);
        }
    }
out:
    free(u);
    free(org);
}

static void channel_page(struct http_req *r)
{
    struct store_channel *ch = xmalloc(sizeof(*ch));
    int err = store_channel_get(api__reader(r), http_req_param(r, "handle"), ch);

    /* Unlisted: not revealed, as the API does; the invite link is the way in. */
    if (err == -ENOENT || (!err && !ch->listed)) {
        api__page_not_found(r);
    } else if (err) {
        api__errno(r, err, "channel page");
    } else {
        preview(r, ch, NULL);
    }
    free(ch);
}

void api__page_invite(struct http_req *r, const struct store_invite *inv,
                      const struct store_channel *ch)
{
    preview(r, ch, inv);
}

static const struct http_route routes[] = {
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/c/{handle}", channel_page, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/privacy", api__page_privacy, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/allerta/{slug}", api__page_alerts, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/segnalazioni/statistiche/{slug}", api__page_report_stats, 0,
      NULL },
};

API_ROUTE_SET(api_pages_routes, routes);
