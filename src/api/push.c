/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Web Push endpoints: the VAPID public key, a follower's subscriptions (as the browser's
 * PushSubscription.toJSON() sends them), per-channel opt-out, and a post's campaign progress
 * for its channel's staff. Thin: the rules live in push/ (keys, addresses) and store/push.c.
 *
 * A subscription's endpoint URL is a secret of its follower (anyone holding it can push to that
 * browser): it is never logged and only ever returned to that follower. Its address check
 * resolves a name, which can take seconds, so it runs on a small work pool, never on a loop.
 */
#include "api/push_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/alerts_int.h"
#include "api/channels_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/workpool.h"
#include "push/subscription.h"
#include "store/posts.h"
#include "store/push.h"

static struct api_push *push_of(struct http_req *r)
{
    struct api_push *p = api__app(r)->push;

    if (!p) {
        http_respond_error(r, 503, "push_unavailable",
                           "Push notifications are not available on this server.", NULL);
    }
    return p;
}

/* ---- GET /api/v1/push/key ---- */

static void key_get(struct http_req *r)
{
    struct api_push *p = push_of(r);

    if (!p)
        return;
    http_resp_header(r, "Cache-Control", "public, max-age=3600");
    api__json(r, 200, json_pack("{s:s}", "public_key", vapid_public_key(p->vapid)));
}

/* ---- subscriptions ---- */

struct sub_job {
    struct http_req *r;
    struct http_loop *loop;
    struct api_push *push;
    uint8_t hash[SECRET_HASH_LEN];
    struct store_push_sub_new sub;
    char endpoint[PUSH_ENDPOINT_MAX + 1];
    char origin[PUSH_ORIGIN_MAX + 1];
    int err; /* the address check's */
};

static void sub_job_free(struct sub_job *j)
{
    explicit_bzero(j, sizeof(*j));
    free(j);
}

static void not_allowed(struct http_req *r, int err)
{
    http_respond_error(r, 422, "endpoint_not_allowed",
                       err == -EHOSTUNREACH
                           ? "The endpoint's host name does not resolve: use your browser's "
                             "own push service."
                           : "The endpoint's host is not a public address: use your browser's "
                             "own push service.",
                       "endpoint");
}

static void add_finish(struct http_req *r, int err, int64_t id, void *data)
{
    struct sub_job *j = data;

    if (!err) {
        api__json(r, id ? 201 : 200, json_pack("{s:s}", "endpoint", j->endpoint));
    } else if (err == -EDQUOT) {
        char msg[160];

        snprintf(msg, sizeof(msg),
                 "At most %u push subscriptions per follower: delete one you no longer use.",
                 j->push->set.push_subscriptions_per_follower);
        http_respond_error(r, 409, "too_many_subscriptions", msg, NULL);
    } else {
        api__errno(r, err, "push subscribe");
    }
    sub_job_free(j);
}

/* Back on the request's loop after the address check. */
static void check_done(void *arg)
{
    struct sub_job *j = arg;
    struct http_req *r = j->r;
    struct api_pending *pend;
    int err = j->err;

    if (err) {
        not_allowed(r, err);
        sub_job_free(j);
        return;
    }
    pend = api__pending_new(r, add_finish, j);
    err = store_push_sub_add(api__app(r)->store, j->hash, &j->sub,
                             j->push->set.push_subscriptions_per_follower, api__pending_done, pend);
    if (err) {
        api__pending_free(pend);
        add_finish(r, err, 0, j);
    }
}

/* On a pool thread: resolve and check every address of the endpoint's host. */
static void check_work(void *arg)
{
    struct sub_job *j = arg;

    j->err = outbound_url_check(j->push->policy, j->endpoint);
    if (http_loop_post(j->loop, check_done, j) != 0)
        sub_job_free(j); /* the loop is stopping: its requests are gone */
}

static void subs_create(struct http_req *r)
{
    static const char *const allowed[] = { "endpoint", "expirationTime", "keys", NULL };
    struct api_push *p = push_of(r);
    struct sub_job *j = NULL;
    struct push_sub sub;
    const char *field = NULL;
    const char *why = NULL;
    json_t *body = NULL;
    int err;

    if (!p)
        return;
    j = xcalloc(1, sizeof(*j));
    if (!api__follower(r, j->hash))
        goto out;
    body = api__body_object(r, allowed);
    if (!body)
        goto out;
    if (push_sub_parse(body, PUSH_ENDPOINT_MAX, &sub, &field, &why) != 0) {
        http_respond_error(r, 400, "invalid_value", why, *field ? field : NULL);
        goto out;
    }
    memcpy(j->sub.p256dh, sub.p256dh, sizeof(sub.p256dh));
    memcpy(j->sub.auth, sub.auth, sizeof(sub.auth));
    snprintf(j->endpoint, sizeof(j->endpoint), "%s", sub.endpoint);
    snprintf(j->origin, sizeof(j->origin), "%s", sub.url.origin);
    j->sub.endpoint = j->endpoint;
    j->sub.origin = j->origin;
    j->r = r;
    j->loop = http_req_loop(r);
    j->push = p;
    err = workpool_submit(p->checks, check_work, j);
    if (err) {
        api__errno(r, -ENOSPC, "push address check");
        goto out;
    }
    j = NULL; /* the check owns it now */
out:
    if (j)
        sub_job_free(j);
    json_decref(body);
}

static void delete_finish(struct http_req *r, int err, int64_t id, void *data)
{
    (void)id;
    (void)data;
    if (err == -ENOENT) {
        http_respond_error(r, 404, "subscription_not_found",
                           "You have no push subscription with this endpoint.", "endpoint");
    } else if (err) {
        api__errno(r, err, "push unsubscribe");
    } else {
        http_respond(r, 204, NULL, NULL, 0);
    }
}

static void subs_delete(struct http_req *r)
{
    static const char *const allowed[] = { "endpoint", NULL };
    uint8_t hash[SECRET_HASH_LEN];
    struct api_pending *pend;
    const char *endpoint = NULL;
    json_t *body = NULL;
    int err;

    if (!api__follower(r, hash))
        return;
    body = api__body_object(r, allowed);
    if (!body || !api__string(r, body, "endpoint", true, 1, PUSH_ENDPOINT_MAX, &endpoint))
        goto out;
    pend = api__pending_new(r, delete_finish, NULL);
    err = store_push_sub_delete(api__app(r)->store, hash, endpoint, api__pending_done, pend);
    if (err) {
        api__pending_free(pend);
        delete_finish(r, err, 0, NULL);
    }
out:
    json_decref(body);
}

static void sub_one(void *ctx, const struct store_push_sub *sub)
{
    char t[32];

    clock_rfc3339(sub->created_ms, t, sizeof(t));
    json_array_append_new(ctx, json_pack("{s:s, s:s}", "endpoint", sub->endpoint, "created_at", t));
}

static void subs_list(struct http_req *r)
{
    uint8_t hash[SECRET_HASH_LEN];
    json_t *arr;
    int err;

    if (!api__follower(r, hash))
        return;
    arr = json_array();
    err = store_push_subs(api__reader(r), hash, sub_one, arr);
    if (err) {
        json_decref(arr);
        api__errno(r, err, "push subscriptions");
        return;
    }
    http_resp_header(r, "Cache-Control", "no-store");
    api__json(r, 200, json_pack("{s:o}", "subscriptions", arr));
}

/* ---- per-channel opt-out ---- */

/*
 * The channel of a per-channel push request: as for mute, an unlisted channel the follower does
 * not follow is answered 404, like a handle that does not exist.
 */
static bool push_channel(struct http_req *r, uint8_t hash[SECRET_HASH_LEN],
                         struct store_channel *ch, bool *follows)
{
    int err;

    if (!api__follower(r, hash))
        return false;
    err = store_channel_get(api__reader(r), http_req_param(r, "handle"), ch);
    if (!err)
        err = store_follower_follows(api__reader(r), hash, ch->id, follows);
    if (err == -ENOENT || (!err && !ch->listed && !*follows)) {
        http_respond_error(r, 404, "channel_not_found",
                           "There is no channel with this handle: check the address.", "handle");
        return false;
    }
    if (err) {
        api__errno(r, err, "channel load");
        return false;
    }
    return true;
}

static void not_following(struct http_req *r)
{
    http_respond_error(r, 409, "not_following", "Follow the channel first.", NULL);
}

static void set_finish(struct http_req *r, int err, int64_t id, void *data)
{
    (void)id;
    (void)data;
    if (err == -ENOENT) {
        not_following(r);
    } else if (err) {
        api__errno(r, err, "channel push");
    } else {
        http_respond(r, 204, NULL, NULL, 0);
    }
}

static void channel_push_set(struct http_req *r, bool on)
{
    struct store_channel *ch = xmalloc(sizeof(*ch));
    uint8_t hash[SECRET_HASH_LEN];
    struct api_pending *pend;
    bool follows = false;
    int err;

    if (push_channel(r, hash, ch, &follows)) {
        pend = api__pending_new(r, set_finish, NULL);
        err = store_push_channel_set(api__app(r)->store, hash, ch->id, on, api__pending_done, pend);
        if (err) {
            api__pending_free(pend);
            set_finish(r, err, 0, NULL);
        }
    }
    free(ch);
}

static void channel_push_put(struct http_req *r)
{
    channel_push_set(r, true);
}

static void channel_push_delete(struct http_req *r)
{
    channel_push_set(r, false);
}

static void channel_push_get(struct http_req *r)
{
    struct store_channel *ch = xmalloc(sizeof(*ch));
    uint8_t hash[SECRET_HASH_LEN];
    bool follows = false, on = false, muted = false;
    int err;

    if (!push_channel(r, hash, ch, &follows))
        goto out;
    err = store_push_channel_get(api__reader(r), hash, ch->id, &on, &muted);
    if (err == -ENOENT) {
        not_following(r);
        goto out;
    }
    if (err) {
        api__errno(r, err, "channel push");
        goto out;
    }
    http_resp_header(r, "Cache-Control", "no-store");
    api__json(r, 200,
              json_pack("{s:b, s:b, s:b}", "push", on, "muted", muted, "effective", on && !muted));
out:
    free(ch);
}

/* 200 with campaign progress `pr` of the post or alert `ids` (`key`: "post_id", "alert_id"). */
static void progress_answer(struct http_req *r, const char *key, const char *ids,
                            const struct store_push_progress *pr)
{
    char started[32], updated[32];

    clock_rfc3339(pr->created_ms, started, sizeof(started));
    clock_rfc3339(pr->updated_ms, updated, sizeof(updated));
    http_resp_header(r, "Cache-Control", "no-store");
    api__json(r, 200,
              json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:b, s:o, s:o}", key, ids, "pushed",
                        pr->exists, "total", (json_int_t)pr->total, "sent", (json_int_t)pr->sent,
                        "failed", (json_int_t)pr->failed, "remaining", (json_int_t)pr->remaining,
                        "running", pr->remaining > 0, "started_at",
                        pr->exists ? json_string(started) : json_null(), "updated_at",
                        pr->exists ? json_string(updated) : json_null()));
}

/* ---- GET /api/v1/posts/{id}/push: campaign progress ---- */

static void post_push(struct http_req *r)
{
    struct store_post *p = xmalloc(sizeof(*p));
    struct store_channel *ch = xmalloc(sizeof(*ch));
    struct store_push_progress pr;
    struct store_user me;
    const char *ids = http_req_param(r, "id");
    char *end = NULL;
    long long id = ids ? strtoll(ids, &end, 10) : 0;
    int err;

    if (!api__staff(r, &me, NULL))
        goto out;
    err = id > 0 && end && !*end ? store_post_get(api__reader(r), id, p) : -ENOENT;
    if (!err)
        err = store_channel_get_id(api__reader(r), p->channel_id, ch);
    if (!err && !api__channel_visible(r, ch, &me))
        err = -ENOENT; /* a post of a channel `me` may not know of: as if missing */
    if (err == -ENOENT) {
        api__post_hidden(r);
        goto out;
    }
    if (err) {
        api__errno(r, err, "post get");
        goto out;
    }
    if (!api__channel_admin(r, ch, &me, false))
        goto out;
    err = store_push_progress(api__reader(r), id, &pr);
    if (err) {
        api__errno(r, err, "push progress");
        goto out;
    }
    progress_answer(r, "post_id", ids, &pr);
out:
    free(p);
    free(ch);
}

/* ---- GET /api/v1/alerts/{id}/push: an alert's campaign, for the org's staff ---- */

static void alert_push(struct http_req *r)
{
    struct store_org *o = xmalloc(sizeof(*o));
    struct store_push_progress pr;
    struct store_user me;
    const char *ids = http_req_param(r, "id");
    char *end = NULL;
    long long id = ids ? strtoll(ids, &end, 10) : 0;
    int64_t org_id = 0;
    json_t *a = id > 0 && end && !*end ? api__alert_load(api__reader(r), id, &org_id) : NULL;
    int err;

    /* Not the org's staff: as if there were no such alert (like a pending one's GET). */
    if (!a || store_org_get_id(api__reader(r), org_id, o) != 0 ||
        !api__alert_org_staff(r, o, &me)) {
        http_respond_error(r, 404, "alert_not_found", "No alert has this id.", "id");
        goto out;
    }
    err = store_push_progress(api__reader(r), -id, &pr); /* an alert's campaign key */
    if (err) {
        api__errno(r, err, "push progress");
        goto out;
    }
    progress_answer(r, "alert_id", ids, &pr);
out:
    json_decref(a);
    free(o);
}

static const struct http_route routes[] = {
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/push/key", key_get, 0, NULL },
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/push/subscriptions", subs_create, 8192, NULL },
    { HTTP_M_DELETE, HTTP_ROUTE_JSON, "/api/v1/push/subscriptions", subs_delete, 4096, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/push/subscriptions", subs_list, 0, NULL },
    { HTTP_M_PUT, 0, "/api/v1/channels/{handle}/push", channel_push_put, 0, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/channels/{handle}/push", channel_push_delete, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/channels/{handle}/push", channel_push_get, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/posts/{id}/push", post_push, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/alerts/{id}/push", alert_push, 0, NULL },
};
API_ROUTE_SET(api_push_routes, routes);
