/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Anonymous followers: create one (a random bearer token, nothing asked), follow, unfollow,
 * mute, list what it follows, and "forget me". The token is shown once; the server keeps only
 * its SHA-256, and no answer ever carries a follower's id or token.
 */
#include "api/channels_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/counts_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/ratelimit.h"
#include "core/secret.h"

#define FOLLOWER_TOKEN_MAX 64
#define FOLLOWER_PREFIX    "follower_"

/* The token after "Bearer " in Authorization, or NULL when there is none. */
static const char *bearer(struct http_req *r)
{
    const char *h = http_req_header(r, "Authorization");

    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return h;
}

bool api__follower(struct http_req *r, uint8_t hash[SECRET_HASH_LEN])
{
    const char *tok = bearer(r);
    int err;

    if (!tok) {
        http_resp_header(r, "WWW-Authenticate", "Bearer");
        http_respond_error(r, 401, "unauthenticated",
                           "Send your follower token (Authorization: Bearer follower_...); get "
                           "one with POST /api/v1/followers.",
                           NULL);
        return false;
    }
    if (strncmp(tok, FOLLOWER_PREFIX, strlen(FOLLOWER_PREFIX)) != 0 ||
        strnlen(tok, FOLLOWER_TOKEN_MAX + 1) > FOLLOWER_TOKEN_MAX) {
        http_resp_header(r, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        http_respond_error(r, 401, "invalid_token",
                           "This is not a follower token: get one with POST /api/v1/followers.",
                           NULL);
        return false;
    }
    secret_sha256(tok, strlen(tok), hash);
    err = store_follower_exists(api__reader(r), hash);
    if (err == -ENOENT) {
        http_resp_header(r, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        http_respond_error(r, 401, "invalid_token",
                           "This follower token is unknown (perhaps forgotten): get a new one "
                           "with POST /api/v1/followers.",
                           NULL);
        return false;
    }
    if (err) {
        api__errno(r, err, "follower lookup");
        return false;
    }
    return true;
}

/* ---- create ---- */

struct follower_new {
    char token[FOLLOWER_TOKEN_MAX];
};

static void create_finish(struct http_req *r, int err, int64_t id, void *data)
{
    struct follower_new *f = data;

    (void)id;
    if (err) {
        api__errno(r, err, "follower create");
    } else {
        api__json(r, 201, json_pack("{s:s}", "token", f->token));
    }
    explicit_bzero(f->token, sizeof(f->token));
    free(f);
}

static void followers_create(struct http_req *r)
{
    const char *peer = http_req_peer(r);
    uint8_t hash[SECRET_HASH_LEN];
    struct follower_new *f;
    struct api_pending *p;
    int64_t retry_ms = 0;
    char retry[24];
    size_t len;
    int err;

    http_req_body(r, &len);
    if (len) {
        http_respond_error(r, 400, "unexpected_body",
                           "Creating a follower takes no data: send no body.", NULL);
        return;
    }
    /* New followers per address are capped (api_app_init explains the limit). */
    if (peer && ratelimit_take(api__app(r)->follower_signups, peer, strlen(peer), clock_now_ms(),
                               &retry_ms)) {
        snprintf(retry, sizeof(retry), "%lld", (long long)(retry_ms + 999) / 1000);
        http_resp_header(r, "Retry-After", retry);
        http_respond_error(r, 429, "rate_limited",
                           "Too many new followers from this network: retry later.", NULL);
        return;
    }
    f = xcalloc(1, sizeof(*f));
    secret_token("follower", f->token, sizeof(f->token));
    secret_sha256(f->token, strlen(f->token), hash);
    p = api__pending_new(r, create_finish, f);
    err = store_follower_add(api__app(r)->store, hash, api__pending_done, p, NULL);
    if (err) {
        api__pending_free(p);
        create_finish(r, err, 0, f);
    }
}

/* ---- follow, unfollow, mute ---- */

static void channel_hidden(struct http_req *r)
{
    http_respond_error(r, 404, "channel_not_found",
                       "There is no channel with this handle: check the address.", "handle");
}

static void follow_finish(struct http_req *r, int err, int64_t id, void *data)
{
    (void)id;
    (void)data;
    switch (err) {
    case 0: /* its streams of its follows heard of it from the store (STORE_NOTICE_FOLLOWS) */
        http_respond(r, 204, NULL, NULL, 0);
        return;
    case -EACCES:
        channel_hidden(r); /* an unlisted channel without an invite: do not reveal it */
        return;
    case -ETIME:
    case -ECANCELED:
    case -EDQUOT:
        api__invite_gone(r, err, "invite");
        return;
    case -ENOENT:
        http_respond_error(r, 404, "invite_not_found",
                           "This invite link does not exist for this channel.", "invite");
        return;
    default:
        api__errno(r, err, "follow");
        return;
    }
}

static void follow_put(struct http_req *r)
{
    static const char *const allowed[] = { "invite", NULL };
    struct store_channel *ch = xmalloc(sizeof(*ch));
    uint8_t hash[SECRET_HASH_LEN];
    struct api_pending *p;
    const char *invite = NULL;
    json_t *body = NULL;
    size_t len;
    int err;

    if (!api__follower(r, hash))
        goto out;
    err = store_channel_get(api__reader(r), http_req_param(r, "handle"), ch);
    if (err == -ENOENT) {
        channel_hidden(r);
        goto out;
    }
    if (err) {
        api__errno(r, err, "channel load");
        goto out;
    }
    http_req_body(r, &len);
    if (len) {
        body = api__body_object(r, allowed);
        if (!body || !api__string(r, body, "invite", false, 1, CHANNEL_INVITE_CODE_MAX, &invite))
            goto out;
    }
    if (!invite)
        invite = http_req_query(r, "invite");
    p = api__pending_new(r, follow_finish, NULL);
    err = store_follow(api__app(r)->store, hash, ch->id, invite, api__pending_done, p);
    if (err) {
        api__pending_free(p);
        follow_finish(r, err, 0, NULL);
    }
out:
    json_decref(body);
    free(ch);
}

/*
 * The channel for unfollow and mute: as for reading, an unlisted channel the follower does not
 * follow is answered 404, so these cannot probe for unlisted handles.
 */
static bool followed_channel(struct http_req *r, uint8_t hash[SECRET_HASH_LEN],
                             struct store_channel *ch, bool *follows)
{
    int err;

    if (!api__follower(r, hash))
        return false;
    err = store_channel_get(api__reader(r), http_req_param(r, "handle"), ch);
    if (!err)
        err = store_follower_follows(api__reader(r), hash, ch->id, follows);
    if (err == -ENOENT || (!err && !ch->listed && !*follows)) {
        channel_hidden(r);
        return false;
    }
    if (err) {
        api__errno(r, err, "channel load");
        return false;
    }
    return true;
}

static void simple_finish(struct http_req *r, int err, int64_t id, void *data)
{
    (void)id;
    if (err == -ENOENT) {
        http_respond_error(r, 409, "not_following", "Follow the channel first.", NULL);
    } else if (err) {
        api__errno(r, err, data);
    } else {
        http_respond(r, 204, NULL, NULL, 0);
    }
}

static void follow_delete(struct http_req *r)
{
    struct store_channel *ch = xmalloc(sizeof(*ch));
    uint8_t hash[SECRET_HASH_LEN];
    struct api_pending *p;
    bool follows = false;
    int err;

    if (followed_channel(r, hash, ch, &follows)) {
        p = api__pending_new(r, simple_finish, (void *)"unfollow");
        err = store_unfollow(api__app(r)->store, hash, ch->id, api__pending_done, p);
        if (err) {
            api__pending_free(p);
            simple_finish(r, err, 0, (void *)"unfollow");
        }
    }
    free(ch);
}

static void mute_set(struct http_req *r, bool muted)
{
    struct store_channel *ch = xmalloc(sizeof(*ch));
    uint8_t hash[SECRET_HASH_LEN];
    struct api_pending *p;
    bool follows = false;
    int err;

    if (followed_channel(r, hash, ch, &follows)) {
        p = api__pending_new(r, simple_finish, (void *)"mute");
        err = store_follow_mute(api__app(r)->store, hash, ch->id, muted, api__pending_done, p);
        if (err) {
            api__pending_free(p);
            simple_finish(r, err, 0, (void *)"mute");
        }
    }
    free(ch);
}

static void mute_put(struct http_req *r)
{
    mute_set(r, true);
}

static void mute_delete(struct http_req *r)
{
    mute_set(r, false);
}

/* ---- me ---- */

static void follow_one(void *ctx, const struct store_follow *f)
{
    json_t *v = api__channel_json(&f->ch);
    char t[32];

    clock_rfc3339(f->followed_ms, t, sizeof(t));
    json_object_set_new(v, "muted", json_boolean(f->muted));
    json_object_set_new(v, "push", json_boolean(f->push));
    json_object_set_new(v, "followed_at", json_string(t));
    json_object_set_new(v, "unread", json_integer(f->unread));
    if (f->last_id) {
        char id[24];

        snprintf(id, sizeof(id), "%lld", (long long)f->last_id);
        clock_rfc3339(f->last_ms, t, sizeof(t));
        json_object_set_new(
            v, "last_post",
            json_pack("{s:s, s:s, s:s}", "id", id, "text", f->last_text, "published_at", t));
    } else {
        json_object_set_new(v, "last_post", json_null());
    }
    json_array_append_new(ctx, v);
}

static void me_channels(struct http_req *r)
{
    uint8_t hash[SECRET_HASH_LEN];
    json_t *arr;
    int err;

    if (!api__follower(r, hash))
        return;
    arr = json_array();
    err = store_follower_channels(api__reader(r), hash, clock_now_ms(), follow_one, arr);
    if (err) {
        json_decref(arr);
        api__errno(r, err, "my channels");
        return;
    }
    api__json(r, 200, json_pack("{s:o}", "channels", arr));
}

/*
 * Forgetting a follower removes its reactions and votes, so the counts of those posts drop.
 * The store marks those posts for the counts coalescer in the same transaction, exactly as a
 * retracted reaction would be, so streams see the drop.
 */
static void forget_finish(struct http_req *r, int err, int64_t id, void *data)
{
    (void)id;
    (void)data;
    /* -ENOENT: forgotten meanwhile by another request; the outcome is the same. */
    if (err && err != -ENOENT) {
        api__errno(r, err, "forget me");
        return;
    }
    http_respond(r, 204, NULL, NULL, 0);
}

static void me_forget(struct http_req *r)
{
    uint8_t hash[SECRET_HASH_LEN];
    struct api_pending *p;
    int err;

    if (!api__follower(r, hash))
        return;
    p = api__pending_new(r, forget_finish, NULL);
    err = store_follower_forget(api__app(r)->store, hash, api__pending_done, p);
    if (err) {
        api__pending_free(p);
        forget_finish(r, err, 0, NULL);
    }
}

static const struct http_route routes[] = {
    { HTTP_M_POST, 0, "/api/v1/followers", followers_create, 0, NULL },
    { HTTP_M_PUT, HTTP_ROUTE_JSON, "/api/v1/channels/{handle}/follow", follow_put, 4096, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/channels/{handle}/follow", follow_delete, 0, NULL },
    { HTTP_M_PUT, 0, "/api/v1/channels/{handle}/mute", mute_put, 0, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/channels/{handle}/mute", mute_delete, 0, NULL },
    { HTTP_M_GET, 0, "/api/v1/me/channels", me_channels, 0, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/me", me_forget, 0, NULL },
};
API_ROUTE_SET(api_followers_routes, routes);
