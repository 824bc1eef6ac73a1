/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A channel's invite links: create (optional expiry and use limit), list, revoke, and the
 * public face of a link (the channel's preview), plus the one vocabulary for a link that no
 * longer opens (api__invite_gone). The routes are in api/channels.c's table.
 */
#include "api/channels_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/secret.h"

#define INVITE_CODE_BYTES 12 /* random bytes: 16 base64url characters, 96 bits */
#define INVITE_USES_MAX   1000000
#define INVITE_DAYS_MAX   3650 /* expires_at at most ten years ahead */

static json_t *invite_json(const struct store_invite *inv)
{
    char path[CHANNEL_INVITE_CODE_MAX + 8];
    const char *state = "active";

    switch (store_invite_state(inv, clock_now_ms())) {
    case -ECANCELED:
        state = "revoked";
        break;
    case -ETIME:
        state = "expired";
        break;
    case -EDQUOT:
        state = "used_up";
        break;
    default:
        break;
    }
    snprintf(path, sizeof(path), "/i/%s", inv->code);
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:I, s:s}", "code", inv->code, "url_path", path,
                     "created_at", api__time_json(inv->created_ms), "expires_at",
                     api__time_json(inv->expires_ms), "max_uses",
                     inv->max_uses ? json_integer(inv->max_uses) : json_null(), "uses",
                     (json_int_t)inv->uses, "state", state);
}

/* The link to print or put in a QR code: absolute when public_url is set, else null. */
static json_t *with_url(struct http_req *r, json_t *inv)
{
    const char *pub = api__app(r)->set.public_url;
    const char *path = json_string_value(json_object_get(inv, "url_path"));
    char url[512];

    if (pub && *pub && path) {
        snprintf(url, sizeof(url), "%s%s", pub, path);
        json_object_set_new(inv, "url", json_string(url));
    } else {
        json_object_set_new(inv, "url", json_null());
    }
    return inv;
}

/*
 * The `width` (< 8) characters at s as a number, or -1 unless they are all ASCII digits: no
 * sign, space or NUL among them.
 */
static int fixed_digits(const char *s, size_t width)
{
    char tmp[8];
    char *end;
    long v;

    if (width >= sizeof(tmp) || strnlen(s, width) < width || s[0] < '0' || s[0] > '9')
        return -1;
    snprintf(tmp, sizeof(tmp), "%.*s", (int)width, s);
    errno = 0;
    v = strtol(tmp, &end, 10);
    if (errno || end != tmp + width)
        return -1;
    return (int)v;
}

/* "2026-12-01T10:00:00Z", "...:00.123Z" or "...+01:00" to ms since the epoch. */
static bool rfc3339_parse(const char *s, int64_t *ms)
{
    struct tm tm = { 0 };
    int y, mo, d, h, mi, sec, frac = 0, fdig = 0;
    int64_t off = 0;
    const char *p;
    time_t t;

    if (strnlen(s, 19) < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':')
        return false;
    y = fixed_digits(s, 4);
    mo = fixed_digits(s + 5, 2);
    d = fixed_digits(s + 8, 2);
    h = fixed_digits(s + 11, 2);
    mi = fixed_digits(s + 14, 2);
    sec = fixed_digits(s + 17, 2);
    if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0)
        return false;
    p = s + 19;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, fdig++) {
            if (fdig < 3)
                frac = frac * 10 + (*p - '0');
        }
        if (!fdig)
            return false;
        for (int i = fdig; i < 3; i++)
            frac *= 10;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if ((*p == '+' || *p == '-') && p[1] && p[2] && p[3] == ':' && p[4] && p[5]) {
        int oh = fixed_digits(p + 1, 2), om = fixed_digits(p + 4, 2);

        if (oh < 0 || om < 0 || oh > 23 || om > 59)
            return false;
        off = (int64_t)(oh * 60 + om) * 60000 * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return false;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t == (time_t)-1)
        return false;
    *ms = (int64_t)t * 1000 + frac - off;
    return true;
}

struct invite_new {
    struct store_invite inv;
};

static void invite_create_finish(struct http_req *r, int err, int64_t id, void *data)
{
    struct invite_new *n = data;

    (void)id;
    if (err) {
        api__errno(r, err, "invite create");
    } else {
        api__json(r, 201, with_url(r, invite_json(&n->inv)));
    }
    free(n);
}

void api__invites_create(struct http_req *r)
{
    static const char *const allowed[] = { "expires_at", "max_uses", NULL };
    struct store_channel *ch = xmalloc(sizeof(*ch));
    uint8_t rnd[INVITE_CODE_BYTES];
    struct invite_new *n = NULL;
    struct store_user me;
    struct api_pending *p;
    const char *exp = NULL;
    json_t *body = NULL, *mu;
    size_t len;
    int err;

    if (!api__staff(r, &me, NULL) || api__channel_load(r, http_req_param(r, "handle"), ch) ||
        !api__channel_admin(r, ch, &me, false))
        goto out;
    n = xcalloc(1, sizeof(*n));
    n->inv.channel_id = ch->id;
    n->inv.created_ms = clock_now_ms();
    http_req_body(r, &len);
    if (len) {
        body = api__body_object(r, allowed);
        if (!body || !api__string(r, body, "expires_at", false, 1, 40, &exp))
            goto out;
        mu = json_object_get(body, "max_uses");
        if (mu && !json_is_null(mu)) {
            if (!json_is_integer(mu) || json_integer_value(mu) < 1 ||
                json_integer_value(mu) > INVITE_USES_MAX) {
                api__channel_bad(r, "invalid_value", "max_uses",
                                 "'max_uses' must be a whole number from 1 to 1000000.");
                goto out;
            }
            n->inv.max_uses = json_integer_value(mu);
        }
    }
    if (exp && (!rfc3339_parse(exp, &n->inv.expires_ms) || n->inv.expires_ms <= n->inv.created_ms ||
                n->inv.expires_ms > n->inv.created_ms + INVITE_DAYS_MAX * 86400000LL)) {
        api__channel_bad(r, "invalid_value", "expires_at",
                         "'expires_at' must be a future time within ten years, such as "
                         "\"%s\".",
                         "2030-01-31T23:00:00Z");
        goto out;
    }
    secret_random(rnd, sizeof(rnd));
    secret_b64url(rnd, sizeof(rnd), n->inv.code, sizeof(n->inv.code));
    p = api__pending_new(r, invite_create_finish, n);
    err = store_invite_add(api__app(r)->store, ch->id, me.id, n->inv.code, n->inv.expires_ms,
                           n->inv.max_uses, api__pending_done, p);
    if (err) {
        api__pending_free(p);
        invite_create_finish(r, err, 0, n);
    }
    n = NULL; /* the finish function frees it */
out:
    free(n);
    json_decref(body);
    free(ch);
}

static void invite_one(void *ctx, const struct store_invite *inv)
{
    json_array_append_new(ctx, invite_json(inv));
}

void api__invites_list(struct http_req *r)
{
    struct store_channel *ch = xmalloc(sizeof(*ch));
    struct store_user me;
    json_t *arr;
    int err;

    if (!api__staff(r, &me, NULL) || api__channel_load(r, http_req_param(r, "handle"), ch) ||
        !api__channel_admin(r, ch, &me, false))
        goto out;
    arr = json_array();
    err = store_invite_list(api__reader(r), ch->id, invite_one, arr);
    if (err) {
        json_decref(arr);
        api__errno(r, err, "invite list");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(arr); i++)
        with_url(r, json_array_get(arr, i));
    api__json(r, 200, json_pack("{s:o}", "invites", arr));
out:
    free(ch);
}

static void invite_revoke_finish(struct http_req *r, int err, int64_t id, void *data)
{
    (void)id;
    (void)data;
    if (err == -ENOENT) {
        http_respond_error(r, 404, "invite_not_found",
                           "This channel has no live invite link with this code.", "code");
    } else if (err) {
        api__errno(r, err, "invite revoke");
    } else {
        http_respond(r, 204, NULL, NULL, 0);
    }
}

void api__invites_revoke(struct http_req *r)
{
    struct store_channel *ch = xmalloc(sizeof(*ch));
    struct store_user me;
    struct api_pending *p;
    int err;

    if (!api__staff(r, &me, NULL) || api__channel_load(r, http_req_param(r, "handle"), ch) ||
        !api__channel_admin(r, ch, &me, false))
        goto out;
    p = api__pending_new(r, invite_revoke_finish, NULL);
    err = store_invite_revoke(api__app(r)->store, ch->id, me.id, http_req_param(r, "code"),
                              api__pending_done, p);
    if (err) {
        api__pending_free(p);
        invite_revoke_finish(r, err, 0, NULL);
    }
out:
    free(ch);
}

static void invite_gone_error(int state, const char **code, const char **message)
{
    switch (state) {
    case -ECANCELED:
        *code = "invite_revoked";
        *message = "This invite link was revoked: ask the channel for a new one.";
        return;
    case -ETIME:
        *code = "invite_expired";
        *message = "This invite link has expired: ask the channel for a new one.";
        return;
    default: /* -EDQUOT */
        *code = "invite_used_up";
        *message = "This invite link has been used as many times as allowed: ask the channel "
                   "for a new one.";
        return;
    }
}

void api__invite_gone(struct http_req *r, int state, const char *field)
{
    const char *code;
    const char *message;

    invite_gone_error(state, &code, &message);
    http_respond_error(r, 410, code, message, field);
}

/* The public face of an invite link: the channel's preview, no credentials needed. */
void api__invites_resolve(struct http_req *r)
{
    struct store_channel *ch = NULL;
    struct store_invite inv;
    int err = store_invite_get(api__reader(r), http_req_param(r, "code"), &inv);

    if (err == -ENOENT) {
        http_respond_error(r, 404, "invite_not_found",
                           "This invite link does not exist: check that it was copied whole.",
                           "code");
        return;
    }
    if (err) {
        api__errno(r, err, "invite lookup");
        return;
    }
    err = store_invite_state(&inv, clock_now_ms());
    if (err) {
        api__invite_gone(r, err, "code");
        return;
    }
    ch = xmalloc(sizeof(*ch));
    err = store_channel_get_id(api__reader(r), inv.channel_id, ch);
    if (err) {
        api__errno(r, err, "channel read");
    } else {
        api__answer_cached(r,
                           json_pack("{s:o, s:o, s:o}", "channel", api__channel_json(ch),
                                     "expires_at", api__time_json(inv.expires_ms), "max_uses",
                                     inv.max_uses ? json_integer(inv.max_uses) : json_null()),
                           false);
    }
    free(ch);
}
