/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Atom 1.0 feeds (RFC 4287) of listed channels: GET /channels/{handle}/feed.atom, public, the
 * newest FEED_ENTRIES published posts within the channel's retention. Each entry's HTML
 * alternate is the post on the channel's page (/c/{handle}#p-{id}), so a feed reader opens
 * what a citizen would see. The post text goes in as
 * its rendered HTML (core/format), escaped once more for XML (content type="html", RFC 4287
 * section 3.1.1.2). Unlisted channels have no feed: a feed URL is made to be shared and
 * indexed, which is what unlisted means not to be.
 *
 * Cached with an ETag (a hash of the body: it changes with any edit, delete or new post) and
 * Last-Modified (the newest entry's update), answering 304 to a matching conditional GET.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/format.h"
#include "core/secret.h"
#include "store/channels.h"
#include "store/posts.h"

#define FEED_ENTRIES     20        /* newest posts in the feed */
#define FEED_TITLE_CHARS 80        /* an entry's title: its first line, this long at most */
#define FEED_BYTES_MAX   (4 << 20) /* a feed body; entries past it are left out */
#define FEED_MAX_AGE_S   60        /* Cache-Control max-age: readers poll, posts are rare */

struct feed {
    struct buf out;
    const struct store_channel *ch;
    char base[300]; /* "https://host" */
    char tag[300];  /* "tag:host,2026-11-27:" */
    int64_t updated_ms;
    int err;
};

static void put(struct feed *f, const char *s)
{
    if (!f->err)
        f->err = buf_puts(&f->out, s);
}

static void put_esc(struct feed *f, struct buf *b, const char *s, size_t n)
{
    if (!f->err)
        f->err = format_escape(s, n, b);
}

/*
 * The service's address (api__base_url: public_url, never the reader's Host, as feeds are
 * cached publicly and their ids must not change with the address a reader used).
 */
static void base_url(struct http_req *r, struct feed *f)
{
    const char *h;
    char auth[256];
    char day[32];
    size_t n;

    api__base_url(r, f->base, sizeof(f->base));
    h = strstr(f->base, "://");
    h = h ? h + 3 : f->base;
    /* The tag URI's authority is the host name alone (RFC 4151), dated by the channel's birth. */
    n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":");
    snprintf(auth, sizeof(auth), "%.*s", (int)n, h);
    clock_rfc3339(f->ch->created_ms, day, sizeof(day));
    snprintf(f->tag, sizeof(f->tag), "tag:%s,%.10s:", auth, day);
}

/*
 * The first non-empty line, at most FEED_TITLE_CHARS characters counting the "…" that marks a
 * cut: a longer line keeps FEED_TITLE_CHARS - 1 characters and the ellipsis.
 */
static void title_of(const char *text, struct buf *b, struct feed *f)
{
    const char *p = text + strspn(text, "\r\n \t");
    size_t n = strcspn(p, "\r\n");
    size_t keep = n; /* bytes kept if the line is cut */
    size_t chars = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (((unsigned char)p[i] & 0xC0) == 0x80)
            continue;
        if (++chars == FEED_TITLE_CHARS)
            keep = i; /* the 80th character starts here: the ellipsis takes its place */
        if (chars > FEED_TITLE_CHARS)
            break;
    }
    if (i == n) {
        put_esc(f, b, p, n);
        return;
    }
    put_esc(f, b, p, keep);
    if (!f->err)
        f->err = buf_puts(b, "\xE2\x80\xA6");
}

static void entry(void *ctx, const struct store_post *p)
{
    struct feed *f = ctx;
    size_t n = strlen(p->text);
    int64_t updated = p->edited_ms > p->published_ms ? p->edited_ms : p->published_ms;
    char published_at[32];
    char updated_at[32];
    struct buf html;
    struct buf e;

    buf_init(&html, FORMAT_HTML_MAX(n));
    buf_init(&e, FEED_BYTES_MAX);
    if (f->err || format_html(p->text, n, &html) != 0)
        goto out;
    clock_rfc3339(p->published_ms, published_at, sizeof(published_at));
    clock_rfc3339(updated, updated_at, sizeof(updated_at));
    if (buf_printf(&e, "<entry>\n<id>%spost:%lld</id>\n<title>", f->tag, (long long)p->id) != 0)
        goto out;
    title_of(p->text, &e, f);
    if (f->err || buf_printf(&e,
                             "</title>\n<link rel=\"alternate\" type=\"text/html\" "
                             "href=\"%s/c/%s#p-%lld\"/>\n"
                             "<link rel=\"alternate\" type=\"application/json\" "
                             "href=\"%s/api/v1/posts/%lld\"/>\n<published>%s</published>\n"
                             "<updated>%s</updated>\n<content type=\"html\">",
                             f->base, f->ch->handle, (long long)p->id, f->base, (long long)p->id,
                             published_at, updated_at) != 0)
        goto out;
    put_esc(f, &e, html.data ? html.data : "", html.len);
    if (f->err || buf_puts(&e, "</content>\n</entry>\n") != 0)
        goto out;
    /* Too big for what is left: this entry and older ones stay out, the feed stays valid. */
    if (buf_append(&f->out, e.data, e.len) != 0) {
        f->err = -EMSGSIZE;
    } else if (updated > f->updated_ms) {
        f->updated_ms = updated;
    }
out:
    buf_release(&html);
    buf_release(&e);
}

static void head(struct feed *f)
{
    const struct store_channel *ch = f->ch;
    char self[400];

    put(f, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
           "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"");
    put_esc(f, &f->out, ch->language, strlen(ch->language));
    put(f, "\">\n<id>");
    put(f, f->tag);
    put(f, "channel:");
    put(f, ch->handle);
    put(f, "</id>\n<title>");
    put_esc(f, &f->out, ch->name, strlen(ch->name));
    put(f, "</title>\n");
    if (*ch->description) {
        put(f, "<subtitle>");
        put_esc(f, &f->out, ch->description, strlen(ch->description));
        put(f, "</subtitle>\n");
    }
    snprintf(self, sizeof(self), "%s/channels/%s/feed.atom", f->base, ch->handle);
    put(f, "<link rel=\"self\" type=\"application/atom+xml\" href=\"");
    put(f, self);
    put(f, "\"/>\n<link rel=\"alternate\" type=\"text/html\" href=\"");
    snprintf(self, sizeof(self), "%s/c/%s", f->base, ch->handle);
    put(f, self);
    put(f, "\"/>\n<link rel=\"alternate\" type=\"application/json\" href=\"");
    snprintf(self, sizeof(self), "%s/api/v1/channels/%s/posts", f->base, ch->handle);
    put(f, self);
    put(f, "\"/>\n<author><name>");
    put_esc(f, &f->out, ch->name, strlen(ch->name));
    put(f, "</name></author>\n<generator>araldo</generator>\n<updated>");
}

static bool not_modified(struct http_req *r, const char *etag, const char *last_modified)
{
    const char *inm = http_req_header(r, "If-None-Match");
    const char *ims = http_req_header(r, "If-Modified-Since");

    if (inm) /* RFC 9110 13.1.2: If-None-Match wins over If-Modified-Since */
        return strstr(inm, etag) != NULL || !strcmp(inm, "*");
    return ims && !strcmp(ims, last_modified);
}

/* Listed in api/posts.c's route set (api_posts_routes), the one set this part exports. */
void api__feed_atom(struct http_req *r);

void api__feed_atom(struct http_req *r)
{
    struct store_channel *ch = xmalloc(sizeof(*ch));
    struct store_post_query q = { 0 };
    struct feed f;
    struct buf entries;
    uint8_t hash[SECRET_HASH_LEN];
    char updated[32];
    char etag[40];
    char last_modified[40];
    int err = store_channel_get(api__reader(r), http_req_param(r, "handle"), ch);

    memset(&f, 0, sizeof(f));
    buf_init(&f.out, FEED_BYTES_MAX);
    buf_init(&entries, FEED_BYTES_MAX);
    if (err == -ENOENT || (!err && !ch->listed)) {
        http_respond_error(r, 404, "channel_not_found",
                           "There is no public channel with this handle.", NULL);
        goto out;
    }
    if (err) {
        api__errno(r, err, "feed channel");
        goto out;
    }
    f.ch = ch;
    f.updated_ms = ch->created_ms;
    base_url(r, &f);
    /* Entries first, into their own buffer: the feed's <updated> is the newest of them. */
    f.out = entries;
    q.channel_id = ch->id;
    q.limit = FEED_ENTRIES;
    q.since_ms = clock_now_ms() - ch->retention_days * POST_DAY_MS;
    err = store_post_list(api__reader(r), &q, entry, &f, NULL);
    entries = f.out;
    buf_init(&f.out, FEED_BYTES_MAX);
    if (err) {
        api__errno(r, err, "feed posts");
        goto out;
    }
    f.err = 0; /* entries left out for size are not an error */
    head(&f);
    clock_rfc3339(f.updated_ms, updated, sizeof(updated));
    put(&f, updated);
    put(&f, "</updated>\n");
    if (!f.err && entries.len)
        f.err = buf_append(&f.out, entries.data, entries.len);
    put(&f, "</feed>\n");
    if (f.err) {
        api__errno(r, f.err == -EMSGSIZE ? -EIO : f.err, "feed render");
        goto out;
    }
    secret_sha256(f.out.data, f.out.len, hash);
    snprintf(etag, sizeof(etag), "\"%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x\"", hash[0],
             hash[1], hash[2], hash[3], hash[4], hash[5], hash[6], hash[7], hash[8], hash[9],
             hash[10], hash[11]);
    clock_http_date(f.updated_ms, last_modified, sizeof(last_modified));
    http_resp_header(r, "ETag", etag);
    http_resp_header(r, "Last-Modified", last_modified);
    snprintf(updated, sizeof(updated), "public, max-age=%d", FEED_MAX_AGE_S);
    http_resp_header(r, "Cache-Control", updated);
    if (not_modified(r, etag, last_modified)) {
        http_respond(r, 304, NULL, NULL, 0);
        goto out;
    }
    http_respond(r, 200, "application/atom+xml; charset=utf-8", f.out.data, f.out.len);
out:
    buf_release(&f.out);
    buf_release(&entries);
    free(ch);
}
