/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * What the staff console (/admin, docs/ADMIN.md) needs beyond the other resources: a post's
 * text rendered by the server's own formatter before it is published (so the preview is what
 * followers will see), every channel of an org that the caller may see with their role on it,
 * and a channel's followers per day over the last days (aggregates only).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "api/channels_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/format.h"
#include "store/orgs.h"
#include "store/posts.h"

#define ORG_CHANNELS_MAX 500 /* the console lists them all; a Comune has a few dozen at most */
#define STATS_DAYS_DEF   90
#define STATS_DAYS_MAX   365
#define DAY_MS           86400000LL

/* ---- POST /api/v1/preview ---- */

static void preview(struct http_req *r)
{
    static const char *const allowed[] = { "text", NULL };
    struct store_user me;
    struct buf out;
    const char *text;
    json_t *body;
    size_t len;

    if (!api__staff(r, &me, NULL))
        return;
    body = api__body_object(r, allowed);
    if (!body)
        return;
    if (!api__string(r, body, "text", true, 1, POST_TEXT_MAX, &text)) {
        json_decref(body);
        return;
    }
    len = strlen(text);
    buf_init(&out, FORMAT_HTML_MAX(len));
    if (format_html(text, len, &out)) {
        buf_release(&out);
        json_decref(body);
        api__errno(r, -ENOMEM, "preview");
        return;
    }
    api__json(r, 200, json_pack("{s:s%}", "html", out.data ? out.data : "", out.len));
    buf_release(&out);
    json_decref(body);
}

/* ---- GET /api/v1/orgs/{slug}/channels ---- */

struct org_list {
    json_t *arr;
    bool steward;
};

static const char *role_name(int role)
{
    if (role == STORE_CHANNEL_OWNER)
        return "owner";
    return role == STORE_CHANNEL_ADMIN ? "admin" : NULL;
}

static void org_channel_one(void *ctx, const struct store_channel *ch, int role)
{
    struct org_list *l = ctx;
    json_t *o;

    /* Plain staff see the listed channels and those they run; unlisted others stay hidden. */
    if (!ch->listed && !l->steward && role == STORE_CHANNEL_NONE)
        return;
    o = api__channel_json(ch);
    json_object_set_new(o, "my_role", role_name(role) ? json_string(role_name(role)) : json_null());
    json_object_set_new(o, "can_manage", json_boolean(l->steward || role != STORE_CHANNEL_NONE));
    json_array_append_new(l->arr, o);
}

static void org_channels(struct http_req *r)
{
    struct org_list l = { 0 };
    struct store_org *o;
    struct store_user me;
    int err;

    if (!api__staff(r, &me, NULL))
        return;
    o = xmalloc(sizeof(*o));
    err = store_org_get(api__reader(r), http_req_param(r, "slug"), o);
    if (err == -ENOENT) {
        http_respond_error(r, 404, "org_not_found",
                           "No organization has this slug: check the address.", "slug");
        goto out;
    }
    if (err) {
        api__errno(r, err, "org lookup");
        goto out;
    }
    if (me.role != STORE_ROLE_OPERATOR && me.org_id != o->id) {
        http_respond_error(r, 403, "not_org_staff",
                           "Only this organization's staff and operators may list its channels.",
                           NULL);
        goto out;
    }
    l.steward = me.role == STORE_ROLE_OPERATOR || me.role == STORE_ROLE_ORG_ADMIN;
    l.arr = json_array();
    err =
        store_channel_list_org(api__reader(r), o->id, me.id, ORG_CHANNELS_MAX, org_channel_one, &l);
    if (err) {
        json_decref(l.arr);
        api__errno(r, err, "org channels");
        goto out;
    }
    api__json(r, 200, json_pack("{s:o}", "channels", l.arr));
out:
    free(o);
}

/* ---- GET /api/v1/channels/{handle}/stats?days= ---- */

struct day_series {
    char (*days)[11];
    int64_t *followers;
    size_t n;
};

static void day_one(void *ctx, const char *day, int64_t followers)
{
    struct day_series *s = ctx;

    if (s->n == STATS_DAYS_MAX + 2)
        return;
    snprintf(s->days[s->n], sizeof(s->days[0]), "%s", day);
    s->followers[s->n++] = followers;
}

static void utc_day(int64_t ms, char out[11])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

static void channel_stats(struct http_req *r)
{
    struct store_channel *ch = xmalloc(sizeof(*ch));
    struct day_series s = { 0 };
    struct store_user me;
    const char *v = http_req_query(r, "days");
    int64_t now = clock_now_ms();
    long days = STATS_DAYS_DEF;
    char from[11], day[11];
    json_t *arr;
    size_t k = 0;
    int64_t count = 0;
    int err;

    if (!api__staff(r, &me, NULL) || api__channel_load(r, http_req_param(r, "handle"), ch) ||
        !api__channel_admin(r, ch, &me, false))
        goto out;
    if (v) {
        char *end;

        days = strtol(v, &end, 10);
        if (*v < '0' || *v > '9' || *end || days < 1 || days > STATS_DAYS_MAX) {
            http_respond_error(r, 400, "invalid_parameter", "'days' must be 1 to 365.", "days");
            goto out;
        }
    }
    s.days = xcalloc(STATS_DAYS_MAX + 2, sizeof(*s.days));
    s.followers = xcalloc(STATS_DAYS_MAX + 2, sizeof(*s.followers));
    utc_day(now - (days - 1) * DAY_MS, from);
    err = store_channel_daily(api__reader(r), ch->id, from, day_one, &s);
    if (err) {
        api__errno(r, err, "channel stats");
        goto out;
    }
    /* One point per day, carrying the last known count over days without a change. */
    arr = json_array();
    for (long i = days - 1; i >= 0; i--) {
        utc_day(now - i * DAY_MS, day);
        while (k < s.n && strcmp(s.days[k], day) <= 0)
            count = s.followers[k++];
        json_array_append_new(arr,
                              json_pack("{s:s, s:I}", "day", day, "followers", (json_int_t)count));
    }
    api__json(r, 200,
              json_pack("{s:s, s:I, s:I, s:o}", "channel", ch->handle, "followers_count",
                        (json_int_t)ch->followers_count, "posts_count", (json_int_t)ch->posts_count,
                        "days", arr));
out:
    free(s.days);
    free(s.followers);
    free(ch);
}

static const struct http_route routes[] = {
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/preview", preview, POST_TEXT_BYTES + 1024, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/orgs/{slug}/channels", org_channels, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/channels/{handle}/stats", channel_stats, 0, NULL },
};
API_ROUTE_SET(api_console_routes, routes);
