/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Posts over the JSON API: create (now or scheduled), the channel's list (the public preview
 * for readable channels, scheduled posts too for its admins), one post, edit within
 * POST_EDIT_WINDOW_MS with the history for admins, delete for everyone, pin, and views
 * reported by followers. A post never names who wrote it; the audit log does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api_int.h"
#include "api/channels_int.h"
#include "api/counts_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/json.h"
#include "store/media.h"
#include "store/posts.h"

/* ---- helpers ---- */

/* A positive decimal id ("123"); 0 if `s` is not one. */
static int64_t parse_id(const char *s)
{
    char *end;
    long long v;

    if (!s || *s < '1' || *s > '9' || strlen(s) > 18)
        return 0;
    v = strtoll(s, &end, 10);
    return *end ? 0 : v;
}

static int two(const char *p)
{
    return p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' ? (p[0] - '0') * 10 + p[1] - '0'
                                                                    : -1;
}

/*
 * RFC 3339 date-time ("2026-12-01T09:30:00Z", "2026-12-01T10:30:00.5+01:00") to ms since the
 * epoch. Returns false for anything else.
 */
bool api__rfc3339_parse(const char *s, int64_t *ms)
{
    struct tm tm = { 0 };
    int year, off = 0;
    int64_t frac = 0;
    const char *p;
    time_t t;

    if (strlen(s) < 20 || two(s) < 0 || two(s + 2) < 0 || s[4] != '-' || s[7] != '-' ||
        (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
        return false;
    year = two(s) * 100 + two(s + 2);
    tm.tm_year = year - 1900;
    tm.tm_mon = two(s + 5) - 1;
    tm.tm_mday = two(s + 8);
    tm.tm_hour = two(s + 11);
    tm.tm_min = two(s + 14);
    tm.tm_sec = two(s + 17);
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour < 0 ||
        tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
        return false;
    p = s + 19;
    if (*p == '.') {
        int digits = 0;

        for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
            if (digits < 3)
                frac = frac * 10 + (*p - '0');
        }
        if (!digits)
            return false;
        for (; digits < 3; digits++)
            frac *= 10;
    }
    if ((*p == 'Z' || *p == 'z') && !p[1]) {
        off = 0;
    } else if ((*p == '+' || *p == '-') && two(p + 1) >= 0 && p[3] == ':' && two(p + 4) >= 0 &&
               !p[6] && two(p + 1) < 24 && two(p + 4) < 60) {
        off = (two(p + 1) * 60 + two(p + 4)) * (*p == '-' ? -1 : 1);
    } else {
        return false;
    }
    t = timegm(&tm);
    *ms = ((int64_t)t - (int64_t)off * 60) * 1000 + frac;
    return true;
}

/*
 * Whether the caller is staff who may manage the channel, without answering when not: the
 * public and followers are simply not admins. Staff credentials that do not work are answered
 * 401 (the caller returns on -1), so a mistyped token is not silently treated as anonymous.
 */
static int viewer_admin(struct http_req *r, const struct store_channel *ch)
{
    const char *h = http_req_header(r, "Authorization");
    char cookie[128];
    struct store_user me;
    int role = STORE_CHANNEL_NONE;

    if (h) {
        if (strncasecmp(h, "Bearer ", 7) != 0)
            return 0;
        for (h += 7; *h == ' ';)
            h++;
        if (!strncmp(h, "follower_", 9))
            return 0;
    } else if (!api__cookie(r, API_SESSION_COOKIE, cookie, sizeof(cookie))) {
        return 0;
    }
    if (!api__staff(r, &me, NULL))
        return -1;
    if (api__channel_steward(ch, &me))
        return 1;
    if (store_channel_role(api__reader(r), ch->id, me.id, &role))
        return 0;
    return role != STORE_CHANNEL_NONE;
}

/* Characters, not bytes: jansson has already checked the UTF-8. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/*
 * A media's optional text `key` ("alt" or "transcript"): a string of 1..POST_ALT_MAX
 * characters when present. Answers 400 naming `field` and returns false otherwise.
 */
static bool text_ok(struct http_req *r, json_t *item, const char *key, const char *field,
                    const char **out, size_t *chars)
{
    json_t *v = json_object_get(item, key);
    char msg[96];

    *out = json_string_value(v);
    *chars = 0;
    if (!v || json_is_null(v)) {
        *out = NULL;
        return true;
    }
    if (!*out || strlen(*out) != json_string_length(v)) {
        snprintf(msg, sizeof(msg), "'%s' must be a string without NUL.", key);
        http_respond_error(r, 400, "wrong_type", msg, field);
        return false;
    }
    *chars = utf8_chars(*out);
    if (*chars < 1 || *chars > POST_ALT_MAX) {
        snprintf(msg, sizeof(msg), "'%s' must be 1 to 1000 characters long.", key);
        http_respond_error(r, 400, *chars < 1 ? "too_short" : "too_long", msg, field);
        return false;
    }
    return true;
}

/*
 * One media reference: the media must exist (uploaded through POST /api/v1/media), an image
 * needs its alt text, a voice note may carry a transcript instead of (or with) an alt text.
 * Alt and transcript together stay within POST_ALT_MAX characters, the stored budget of one
 * reference (POST_MEDIA_BYTES). Appends the clean reference to `clean`; answers 400 naming the
 * field otherwise.
 */
static bool media_ref_ok(struct http_req *r, json_t *item, size_t i, int64_t org_id, json_t *clean)
{
    struct store_media m;
    char field[40];
    const char *id;
    const char *alt;
    const char *tr;
    size_t na, nt;
    json_t *ref;
    int err;

    snprintf(field, sizeof(field), "media[%zu].id", i);
    id = json_string_value(json_object_get(item, "id"));
    if (!id || !*id || strlen(id) > POST_MEDIA_ID_MAX) {
        http_respond_error(r, 400, "invalid_value",
                           "Each media needs its 'id' (a string of 1 to 64 bytes).", field);
        return false;
    }
    err = store_media_get(api__reader(r), id, &m);
    /*
     * Another Comune's upload is as good as absent (its id says nothing of it); what operators
     * upload (org 0) may go anywhere.
     */
    if (!err && m.org_id && m.org_id != org_id)
        err = -ENOENT;
    if (err == -ENOENT) {
        http_respond_error(r, 400, "media_not_found",
                           "No media has this id: upload the file first (POST /api/v1/media).",
                           field);
        return false;
    }
    if (err) {
        api__errno(r, err, "post media");
        return false;
    }
    snprintf(field, sizeof(field), "media[%zu].alt", i);
    if (!text_ok(r, item, "alt", field, &alt, &na))
        return false;
    if (!alt && !strcmp(m.kind, "image")) {
        http_respond_error(r, 400, "alt_required",
                           "Each image needs its 'alt' text, for people who cannot see it.", field);
        return false;
    }
    snprintf(field, sizeof(field), "media[%zu].transcript", i);
    if (!text_ok(r, item, "transcript", field, &tr, &nt))
        return false;
    if (tr && strcmp(m.kind, "voice") != 0) {
        http_respond_error(r, 400, "invalid_value", "Only voice notes have a 'transcript'.", field);
        return false;
    }
    if (na + nt > POST_ALT_MAX) {
        http_respond_error(r, 400, "too_long",
                           "'alt' and 'transcript' together must be at most 1000 characters.",
                           field);
        return false;
    }
    ref = json_pack("{s:s}", "id", id);
    if (alt)
        json_object_set_new(ref, "alt", json_string(alt));
    if (tr)
        json_object_set_new(ref, "transcript", json_string(tr));
    json_array_append_new(clean, ref);
    return true;
}

/*
 * `media`: an array of at most POST_MEDIA_MAX {"id", "alt", "transcript"} objects naming
 * media uploaded for the Comune `org_id` (media_ref_ok). On success *out is the array as JSON text
 * (caller frees; NULL when absent). Answers 400 naming the field otherwise.
 */
static bool parse_media(struct http_req *r, json_t *body, int64_t org_id, char **out)
{
    static const char *const allowed[] = { "id", "alt", "transcript", NULL };
    json_t *m = json_object_get(body, "media");
    json_t *clean;
    char field[32];
    size_t i;
    json_t *item;

    *out = NULL;
    if (!m || json_is_null(m))
        return true;
    if (!json_is_array(m)) {
        http_respond_error(r, 400, "wrong_type", "'media' must be an array of {id, alt}.", "media");
        return false;
    }
    if (json_array_size(m) > POST_MEDIA_MAX) {
        http_respond_error(r, 400, "too_many_media", "A post can have at most 10 media.", "media");
        return false;
    }
    clean = json_array();
    json_array_foreach(m, i, item)
    {
        const char *key;
        json_t *val;
        bool ok = json_is_object(item);

        snprintf(field, sizeof(field), "media[%zu]", i);
        if (!ok) {
            http_respond_error(r, 400, "wrong_type", "Each media must be an object {id, alt}.",
                               field);
            goto fail;
        }
        json_object_foreach(item, key, val)
        {
            bool known = false;

            for (size_t k = 0; allowed[k]; k++)
                known = known || !strcmp(allowed[k], key);
            if (!known) {
                http_respond_error(r, 400, "unknown_field",
                                   "A media has only 'id', 'alt' and 'transcript'.", field);
                goto fail;
            }
        }
        if (!media_ref_ok(r, item, i, org_id, clean))
            goto fail;
    }
    *out = json_dumps(clean, JSON_COMPACT);
    json_decref(clean);
    return true;
fail:
    json_decref(clean);
    return false;
}

/* The post fields of a create or edit body; answers 400 and returns false on a bad one. */
static bool parse_fields(struct http_req *r, json_t *body, bool create, int64_t org_id,
                         struct store_post_fields *f, char **media)
{
    const char *imp = NULL;
    const char *at = NULL;
    int64_t now = clock_now_ms();

    memset(f, 0, sizeof(*f));
    if (!api__string(r, body, "text", create, 1, POST_TEXT_MAX, &f->text) ||
        !parse_media(r, body, org_id, media))
        return false;
    f->media_json = *media;
    if (!api__string(r, body, "importance", false, 1, 16, &imp))
        return false;
    if (imp) {
        if (store_importance_parse(imp, &f->importance)) {
            http_respond_error(r, 400, "invalid_value",
                               "'importance' is one of silent, normal, important.", "importance");
            return false;
        }
        f->has_importance = true;
    }
    if (!create)
        return true;
    if (!api__string(r, body, "publish_at", false, 1, 40, &at))
        return false;
    if (at && !api__rfc3339_parse(at, &f->publish_at_ms)) {
        http_respond_error(r, 400, "invalid_value",
                           "'publish_at' must be an RFC 3339 time, e.g. 2026-12-01T09:30:00Z.",
                           "publish_at");
        return false;
    }
    if (at && f->publish_at_ms > now + POST_SCHEDULE_MAX_MS) {
        http_respond_error(r, 400, "invalid_value", "'publish_at' can be at most a year ahead.",
                           "publish_at");
        return false;
    }
    return true;
}

/* Post `id` and its channel; answers 404 (post_not_found) and returns false if either is gone. */
static bool load_post(struct http_req *r, struct store_post *p, struct store_channel *ch)
{
    int64_t id = parse_id(http_req_param(r, "id"));
    int err = id ? store_post_get(api__reader(r), id, p) : -ENOENT;

    if (!err)
        err = store_channel_get_id(api__reader(r), p->channel_id, ch);
    if (err == -ENOENT) {
        api__post_hidden(r);
        return false;
    }
    if (err) {
        api__errno(r, err, "post get");
        return false;
    }
    return true;
}

/*
 * Post `id`, its channel, and whether staff `me` may manage it (api__channel_admin). A post of
 * an unlisted channel `me` cannot see is answered as a missing post, not 403 or a missing
 * channel, so post ids do not reveal unlisted channels.
 */
static bool load_post_admin(struct http_req *r, const struct store_user *me, struct store_post *p,
                            struct store_channel *ch)
{
    if (!load_post(r, p, ch))
        return false;
    if (!api__channel_visible(r, ch, me)) {
        api__post_hidden(r);
        return false;
    }
    return api__channel_admin(r, ch, me, false);
}

/* Answer `status` with post `id` as it is now (after a committed write). */
static void answer_post(struct http_req *r, int status, int64_t id)
{
    struct store_post *p = xmalloc(sizeof(*p));
    char loc[64];
    int err = store_post_get(api__reader(r), id, p);

    if (err) {
        api__errno(r, err, "post reload");
    } else {
        if (status == 201) {
            snprintf(loc, sizeof(loc), "/api/v1/posts/%lld", (long long)id);
            http_resp_header(r, "Location", loc);
        }
        api__json(r, status, store_post_json(p));
    }
    free(p);
}

/* ---- create ---- */

static void create_finish(struct http_req *r, int err, int64_t id, void *data)
{
    (void)data;
    if (err == -ENOENT) {
        http_respond_error(r, 404, "channel_not_found", "This channel no longer exists.", NULL);
        return;
    }
    if (err) {
        api__errno(r, err, "post create");
        return;
    }
    answer_post(r, 201, id);
}

static void posts_create(struct http_req *r)
{
    static const char *const allowed[] = {
        "text", "media", "importance", "publish_at", "poll", NULL
    };
    struct store_channel *ch = xmalloc(sizeof(*ch));
    struct store_poll_new poll;
    bool has_poll = false;
    struct store_post_fields f;
    struct store_user me;
    struct api_pending *p;
    json_t *body = NULL;
    char *media = NULL;
    int err;

    if (!api__staff(r, &me, NULL) || api__channel_load(r, http_req_param(r, "handle"), ch) ||
        !api__channel_admin(r, ch, &me, false))
        goto out;
    body = api__body_object(r, allowed);
    if (!body || !parse_fields(r, body, true, ch->org_id, &f, &media) ||
        !api__poll_parse(r, body, f.publish_at_ms, &poll, &has_poll))
        goto out;
    f.poll = has_poll ? &poll : NULL;
    p = api__pending_new(r, create_finish, NULL);
    err = store_post_create(api__app(r)->store, ch->id, me.id, &f, api__pending_done, p, NULL);
    if (err) {
        api__pending_free(p);
        create_finish(r, err, 0, NULL);
    }
out:
    free(media);
    json_decref(body);
    free(ch);
}

/* ---- list ---- */

static void list_one(void *ctx, const struct store_post *p)
{
    json_array_append_new(ctx, store_post_json(p));
}

static bool parse_uint_query(struct http_req *r, const char *name, unsigned def, unsigned max,
                             unsigned *out)
{
    const char *s = http_req_query(r, name);
    char msg[96];
    int64_t v;

    if (!s) {
        *out = def;
        return true;
    }
    v = parse_id(s);
    if (v < 1 || v > max) {
        snprintf(msg, sizeof(msg), "'%s' must be a number from 1 to %u.", name, max);
        http_respond_error(r, 400, "invalid_value", msg, name);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

/*
 * On a flood day every citizen opens the same channel at once: the public first page is read
 * thousands of times between two changes. Each loop keeps the encoded answers of recent public
 * pages (no locks: one cache per loop thread). An entry is valid while the channel's last event
 * seq is unchanged — every post created, edited, deleted or published bumps it, so new content
 * shows at once — and for at most POSTS_CACHE_TTL_MS, which bounds how stale the counters
 * (views, later reactions) may be. Staff who see scheduled posts bypass it.
 */
#define POSTS_CACHE_SLOTS  32
#define POSTS_CACHE_TTL_MS 1000

struct posts_cache_entry {
    int64_t channel_id; /* 0: empty */
    int64_t before_id;
    unsigned limit;
    int64_t seq;
    int64_t made_ms;
    char etag[24];
    char *body;
    size_t len;
};

struct posts_cache {
    struct posts_cache_entry e[POSTS_CACHE_SLOTS];
    unsigned next; /* round-robin victim */
};

void api__posts_cache_free(struct posts_cache *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < POSTS_CACHE_SLOTS; i++)
        free(c->e[i].body);
    free(c);
}

static struct posts_cache_entry *cache_find(struct http_req *r, const struct store_post_query *q,
                                            int64_t seq, int64_t now_ms)
{
    struct posts_cache *c = ((struct api_loop *)http_req_loop_ctx(r))->posts_cache;

    for (unsigned i = 0; c && i < POSTS_CACHE_SLOTS; i++) {
        struct posts_cache_entry *e = &c->e[i];

        if (e->channel_id == q->channel_id && e->before_id == q->before_id &&
            e->limit == q->limit && e->seq == seq && now_ms - e->made_ms < POSTS_CACHE_TTL_MS)
            return e;
    }
    return NULL;
}

/* FNV-1a: a strong-enough validator for bytes we made ourselves. */
static void etag_of(const char *p, size_t n, char out[24])
{
    uint64_t h = 14695981039346656037ULL;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    snprintf(out, 24, "\"%016llx\"", (unsigned long long)h);
}

/* Keep `body` (taking ownership) as the answer for `q`; returns the entry. */
static struct posts_cache_entry *cache_put(struct http_req *r, const struct store_post_query *q,
                                           int64_t seq, int64_t now_ms, char *body, size_t len)
{
    struct api_loop *l = http_req_loop_ctx(r);
    struct posts_cache_entry *e;

    if (!l->posts_cache)
        l->posts_cache = xcalloc(1, sizeof(*l->posts_cache));
    e = &l->posts_cache->e[l->posts_cache->next++ % POSTS_CACHE_SLOTS];
    free(e->body);
    e->channel_id = q->channel_id;
    e->before_id = q->before_id;
    e->limit = q->limit;
    e->seq = seq;
    e->made_ms = now_ms;
    e->body = body;
    e->len = len;
    etag_of(body, len, e->etag);
    return e;
}

static void respond_cached(struct http_req *r, const struct posts_cache_entry *e)
{
    const char *inm = http_req_header(r, "If-None-Match");

    http_resp_header(r, "Cache-Control", "no-cache");
    http_resp_header(r, "ETag", e->etag);
    if (inm && strstr(inm, e->etag)) {
        http_respond(r, 304, NULL, NULL, 0);
        return;
    }
    http_respond(r, 200, "application/json", e->body, e->len);
}

static void posts_list(struct http_req *r)
{
    struct store_channel *ch = xmalloc(sizeof(*ch));
    struct store_post_query q = { 0 };
    const char *before = http_req_query(r, "before");
    struct posts_cache_entry *hit;
    char next[24];
    json_t *arr = NULL;
    json_t *page;
    int64_t now_ms;
    char *body;
    size_t len;
    bool more = false;
    int admin;
    int err;

    if (api__channel_load(r, http_req_param(r, "handle"), ch) || !api__channel_readable(r, ch))
        goto out;
    admin = viewer_admin(r, ch);
    if (admin < 0 || !parse_uint_query(r, "limit", POST_LIST_DEFAULT, POST_LIST_MAX, &q.limit))
        goto out;
    q.before_id = before ? parse_id(before) : 0;
    if (before && !q.before_id) {
        http_respond_error(r, 400, "invalid_value", "'before' must be a post id.", "before");
        goto out;
    }
    q.channel_id = ch->id;
    q.include_scheduled = admin == 1;
    now_ms = clock_now_ms();
    if (!admin && (hit = cache_find(r, &q, ch->last_seq, now_ms)) != NULL) {
        respond_cached(r, hit);
        goto out;
    }
    /* The preview shows the retention window (DESIGN.md: "its last 30 days"). */
    q.since_ms = now_ms - ch->retention_days * POST_DAY_MS;
    arr = json_array();
    err = store_post_list(api__reader(r), &q, list_one, arr, &more);
    if (err == -ENOENT) {
        http_respond_error(r, 400, "invalid_cursor",
                           "The post given in 'before' is gone: reload the list from the start.",
                           "before");
        goto out;
    }
    if (err) {
        api__errno(r, err, "post list");
        goto out;
    }
    if (more && json_array_size(arr)) {
        snprintf(next, sizeof(next), "%s",
                 json_string_value(
                     json_object_get(json_array_get(arr, json_array_size(arr) - 1), "id")));
    }
    page = json_pack("{s:o, s:o}", "posts", arr, "next", more ? json_string(next) : json_null());
    arr = NULL;
    if (admin) {
        api__json(r, 200, page);
    } else {
        body = json_encode(page, &len);
        json_decref(page);
        respond_cached(r, cache_put(r, &q, ch->last_seq, now_ms, body, len));
    }
out:
    json_decref(arr);
    free(ch);
}

/* ---- one post ---- */

static void post_get(struct http_req *r)
{
    struct store_post *p = xmalloc(sizeof(*p));
    struct store_channel *ch = xmalloc(sizeof(*ch));
    int admin;

    if (!load_post(r, p, ch) || !api__post_readable(r, ch))
        goto out;
    admin = viewer_admin(r, ch);
    if (admin < 0)
        goto out;
    /* Scheduled, or past the retention the sweeper is about to apply: admins only. */
    if (!admin &&
        (p->scheduled || p->published_ms < clock_now_ms() - ch->retention_days * POST_DAY_MS)) {
        http_respond_error(r, 404, "post_not_found",
                           "There is no post with this id: it may have been deleted.", "id");
        goto out;
    }
    api__json(r, 200, store_post_json(p));
out:
    free(p);
    free(ch);
}

static void edit_finish(struct http_req *r, int err, int64_t id, void *data)
{
    (void)data;
    if (err == -EKEYEXPIRED) {
        http_respond_error(r, 409, "edit_window_closed",
                           "Posts can be edited for 30 days after publication: delete it and "
                           "post again instead.",
                           NULL);
        return;
    }
    if (err == -ENOENT) {
        http_respond_error(r, 404, "post_not_found", "This post no longer exists.", "id");
        return;
    }
    if (err) {
        api__errno(r, err, "post edit");
        return;
    }
    answer_post(r, 200, id);
}

static void post_edit(struct http_req *r)
{
    static const char *const allowed[] = { "text", "media", "importance", NULL };
    static const struct api_immutable imm[] = {
        { "id", NULL },
        { "channel", ": delete the post and post it in the other channel." },
        /* Decided (docs/API.md): a poll is final once posted, so no vote ever changes meaning. */
        { "poll", " once posted: delete the post and post a new one instead." },
        { "published_at", NULL },
        { "scheduled", NULL },
        { "html", ": it is made from 'text'." },
        { "edited", NULL },
        { "edited_at", NULL },
        { "pinned", ": pin it with PUT /api/v1/channels/{handle}/pin." },
        { "views", NULL },
        { "reactions", NULL },
        { NULL, NULL },
    };
    struct store_post *p = xmalloc(sizeof(*p));
    struct store_channel *ch = xmalloc(sizeof(*ch));
    struct store_post_fields f;
    struct store_user me;
    struct api_pending *pend;
    json_t *body = NULL;
    char *media = NULL;
    int err;

    if (!api__staff(r, &me, NULL) || !load_post_admin(r, &me, p, ch))
        goto out;
    body = api__patch_body(r, allowed, imm);
    if (!body)
        goto out;
    if (!parse_fields(r, body, false, ch->org_id, &f, &media))
        goto out;
    pend = api__pending_new(r, edit_finish, NULL);
    err = store_post_edit(api__app(r)->store, p->id, me.id, &f, api__pending_done, pend);
    if (err) {
        api__pending_free(pend);
        edit_finish(r, err, 0, NULL);
    }
out:
    free(media);
    json_decref(body);
    free(p);
    free(ch);
}

static void done_204(struct http_req *r, int err, int64_t id, void *data)
{
    const char *what = data;

    (void)id;
    if (err == -ENOENT) {
        http_respond_error(r, 404, "post_not_found",
                           "There is no such post in this channel: it may have been deleted.",
                           !strcmp(what, "post pin") ? "post_id" : "id");
        return;
    }
    if (err) {
        api__errno(r, err, what);
        return;
    }
    http_respond(r, 204, NULL, NULL, 0);
}

static void post_delete(struct http_req *r)
{
    static char what[] = "post delete";
    struct store_post *p = xmalloc(sizeof(*p));
    struct store_channel *ch = xmalloc(sizeof(*ch));
    struct store_user me;
    struct api_pending *pend;
    int err;

    if (!api__staff(r, &me, NULL) || !load_post_admin(r, &me, p, ch))
        goto out;
    pend = api__pending_new(r, done_204, what);
    err = store_post_delete(api__app(r)->store, p->id, me.id, api__pending_done, pend);
    if (err) {
        api__pending_free(pend);
        done_204(r, err, 0, what);
    }
out:
    free(p);
    free(ch);
}

static void edit_one(void *ctx, const struct store_post_edit *e)
{
    json_t *media = json_loads(e->media_json, 0, NULL);
    char id[24];
    char at[32];

    snprintf(id, sizeof(id), "%lld", (long long)e->id);
    clock_rfc3339(e->edited_ms, at, sizeof(at));
    json_array_append_new(ctx,
                          json_pack("{s:s, s:s?, s:s, s:o, s:s, s:s}", "id", id, "editor_email",
                                    *e->editor_email ? e->editor_email : NULL, "text", e->text,
                                    "media", media ? media : json_array(), "importance",
                                    store_importance_name(e->importance), "edited_at", at));
}

static void post_edits(struct http_req *r)
{
    struct store_post *p = xmalloc(sizeof(*p));
    struct store_channel *ch = xmalloc(sizeof(*ch));
    struct store_user me;
    json_t *arr;
    int err;

    if (!api__staff(r, &me, NULL) || !load_post_admin(r, &me, p, ch))
        goto out;
    arr = json_array();
    err = store_post_edits(api__reader(r), p->id, edit_one, arr);
    if (err) {
        json_decref(arr);
        api__errno(r, err, "post edits");
        goto out;
    }
    api__json(r, 200, json_pack("{s:s, s:o}", "post_id", http_req_param(r, "id"), "edits", arr));
out:
    free(p);
    free(ch);
}

/* ---- pin ---- */

static void pin(struct http_req *r)
{
    static const char *const allowed[] = { "post_id", NULL };
    static char what[] = "post pin";
    struct store_channel *ch = xmalloc(sizeof(*ch));
    bool put = http_req_method(r) == HTTP_M_PUT;
    struct store_user me;
    struct api_pending *pend;
    json_t *body = NULL;
    const char *idtext = NULL;
    int64_t post_id = 0;
    int err;

    if (!api__staff(r, &me, NULL) || api__channel_load(r, http_req_param(r, "handle"), ch) ||
        !api__channel_admin(r, ch, &me, false))
        goto out;
    if (put) {
        body = api__body_object(r, allowed);
        if (!body || !api__string(r, body, "post_id", true, 1, 20, &idtext))
            goto out;
        post_id = parse_id(idtext);
        if (!post_id) {
            http_respond_error(r, 400, "invalid_value", "'post_id' must be a post id.", "post_id");
            goto out;
        }
    }
    pend = api__pending_new(r, done_204, what);
    err = store_post_pin(api__app(r)->store, ch->id, post_id, me.id, api__pending_done, pend);
    if (err) {
        api__pending_free(pend);
        done_204(r, err, 0, what);
    }
out:
    json_decref(body);
    free(ch);
}

/* ---- views ---- */

static void views(struct http_req *r)
{
    static const char *const allowed[] = { "posts", NULL };
    static char what[] = "views";
    uint8_t hash[SECRET_HASH_LEN];
    int64_t ids[POST_VIEWS_MAX];
    struct api_pending *pend;
    json_t *body = NULL;
    json_t *arr;
    json_t *item;
    size_t i;
    int err;

    if (!api__follower(r, hash))
        return;
    body = api__body_object(r, allowed);
    if (!body)
        return;
    arr = json_object_get(body, "posts");
    if (!json_is_array(arr) || json_array_size(arr) < 1 || json_array_size(arr) > POST_VIEWS_MAX) {
        http_respond_error(r, 400, arr ? "invalid_value" : "missing_field",
                           "'posts' must be an array of 1 to 100 post ids.", "posts");
        goto out;
    }
    json_array_foreach(arr, i, item)
    {
        ids[i] = parse_id(json_string_value(item));
        if (!ids[i]) {
            http_respond_error(r, 400, "invalid_value", "Each of 'posts' must be a post id.",
                               "posts");
            goto out;
        }
    }
    pend = api__pending_new(r, done_204, what);
    err = store_views_add(api__app(r)->store, hash, ids, json_array_size(arr), api__pending_done,
                          pend);
    if (err) {
        api__pending_free(pend);
        done_204(r, err, 0, what);
    }
out:
    json_decref(body);
}

/* GET /channels/{handle}/feed.atom, in api/feeds.c. */
void api__feed_atom(struct http_req *r);

/* Bodies: a post's text (16 KiB of UTF-8) and 10 media with long alt texts fit in 128 KiB. */
#define POST_BODY_MAX ((size_t)128 * 1024)

static const struct http_route routes[] = {
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/channels/{handle}/posts", posts_create, POST_BODY_MAX,
      NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/channels/{handle}/posts", posts_list, 0, NULL },
    { HTTP_M_PUT | HTTP_M_DELETE, HTTP_ROUTE_JSON, "/api/v1/channels/{handle}/pin", pin, 1024,
      NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/posts/{id}", post_get, 0, NULL },
    { HTTP_M_PATCH, HTTP_ROUTE_JSON, "/api/v1/posts/{id}", post_edit, POST_BODY_MAX, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/posts/{id}", post_delete, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/posts/{id}/edits", post_edits, 0, NULL },
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/views", views, 8192, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/channels/{handle}/feed.atom", api__feed_atom, 0, NULL },
};
API_ROUTE_SET(api_posts_routes, routes);
