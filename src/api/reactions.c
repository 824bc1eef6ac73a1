/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Emoji reactions over the JSON API: PUT /api/v1/posts/{id}/reaction {"emoji"} to react or
 * change one's reaction, DELETE to remove it. Only followers of the post's channel react (a
 * preview reader has no follower token; a follower of other channels gets 403, or 404 when the
 * channel is unlisted, as for a post that does not exist), once per post,
 * within the channel's policy (any emoji, a set of emoji, or none). Also the checks and the
 * answer that votes share (api/polls.c).
 *
 * The hot path of a flood day: one read (the post, the policy, the caller's follow, in one
 * statement), two O(1) rate-limit buckets, one queued write, a 204. No JSON is built per
 * reaction; the new counts reach everyone through the coalesced "counts" events (api/counts.c)
 * and every post read.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/channels_int.h"
#include "api/counts_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/ratelimit.h"
#include "store/posts.h"

/* ---- shared with votes ---- */

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

static void too_many(struct http_req *r, int64_t retry_ms)
{
    char secs[24];
    long long s = (long long)(retry_ms + 999) / 1000;

    snprintf(secs, sizeof(secs), "%lld", s < 1 ? 1 : s);
    http_resp_header(r, "Retry-After", secs);
    http_respond_error(r, 429, "rate_limited",
                       "Too many reactions and votes in a short time: wait the seconds in "
                       "Retry-After, then try again.",
                       NULL);
}

/*
 * One token from the follower's bucket and one from the address's. The address is checked
 * first without taking, so a refused request costs the follower nothing.
 */
static bool rate_ok(struct http_req *r, const uint8_t hash[SECRET_HASH_LEN])
{
    struct api_app *a = api__app(r);
    const char *peer = http_req_peer(r);
    int64_t now = clock_now_ms();
    int64_t retry = 0;

    if (ratelimit_check(a->reactions_by_ip, peer, strlen(peer), now, &retry) ||
        ratelimit_take(a->reactions_by_token, (const char *)hash, SECRET_HASH_LEN, now, &retry) ||
        ratelimit_take(a->reactions_by_ip, peer, strlen(peer), now, &retry)) {
        too_many(r, retry);
        return false;
    }
    return true;
}

static void post_gone(struct http_req *r)
{
    http_respond_error(r, 404, "post_not_found",
                       "There is no post with this id: it may have been deleted.", "id");
}

bool api__interaction_begin(struct http_req *r, uint8_t hash[SECRET_HASH_LEN], int64_t *post_id,
                            struct store_post_target *t)
{
    int err;

    if (!api__follower(r, hash) || !rate_ok(r, hash))
        return false;
    *post_id = parse_id(http_req_param(r, "id"));
    err = *post_id ? store_post_target(api__reader(r), *post_id, hash, t) : -ENOENT;
    if (err == -ENOENT ||
        (!err &&
         (!t->published || t->published_ms < clock_now_ms() - t->retention_days * POST_DAY_MS))) {
        post_gone(r);
        return false;
    }
    if (err) {
        api__errno(r, err, "post target");
        return false;
    }
    if (!t->follows && !t->listed) {
        /* A post of an unlisted channel the caller does not follow: as if it did not exist. */
        post_gone(r);
        return false;
    }
    if (!t->follows) {
        http_respond_error(r, 403, "not_following",
                           "Only followers of this channel can react and vote: follow it first "
                           "(PUT /api/v1/channels/{handle}/follow).",
                           NULL);
        return false;
    }
    return true;
}

void api__interaction_done(struct http_req *r, int err, int64_t id, void *data)
{
    (void)data;
    switch (err) {
    case 0:
        (void)id; /* the store marked the post for the coalescer (api/counts.c) */
        http_respond(r, 204, NULL, NULL, 0);
        return;
    case -ENOENT:
        post_gone(r);
        return;
    case -ETIME:
        http_respond_error(r, 409, "poll_closed",
                           "This poll is closed: its results are final and votes are no longer "
                           "accepted or changed.",
                           NULL);
        return;
    case -EINVAL:
        http_respond_error(r, 400, "invalid_options",
                           "'options' does not fit this poll: pick option numbers from 0 to the "
                           "number of options minus one (just one unless the poll is multiple).",
                           "options");
        return;
    default:
        api__errno(r, err, "reaction or vote");
        return;
    }
}

/* ---- reactions ---- */

/* Whether `a` and `b` are the same emoji, ignoring VS16 (U+FE0F: "❤" and "❤️" are one). */
bool api__same_emoji(const char *a, size_t alen, const char *b, size_t blen)
{
    static const char vs16[] = "\xef\xb8\x8f";
    size_t i = 0;
    size_t j = 0;

    for (;;) {
        if (alen - i >= 3 && !memcmp(a + i, vs16, 3)) {
            i += 3;
            continue;
        }
        if (blen - j >= 3 && !memcmp(b + j, vs16, 3)) {
            j += 3;
            continue;
        }
        if (i == alen || j == blen)
            return i == alen && j == blen;
        if (a[i++] != b[j++])
            return false;
    }
}

/*
 * The channel's spelling of `emoji` when it is in its reaction set (`set_json`), so one emoji
 * counts once however the phone spelled it; NULL when not in the set. Borrowed from `set`.
 */
static const char *in_set(json_t *set, const char *emoji, size_t len)
{
    size_t i;
    json_t *e;

    json_array_foreach(set, i, e)
    {
        const char *s = json_string_value(e);

        if (s && api__same_emoji(s, json_string_length(e), emoji, len))
            return s;
    }
    return NULL;
}

/* Answers 409 emoji_not_allowed, listing the channel's set. */
static void not_in_set(struct http_req *r, json_t *set)
{
    char msg[64 + CHANNEL_REACTIONS_MAX * (1 + CHANNEL_EMOJI_MAX)]; /* the longest set whole */
    size_t off;
    size_t i;
    json_t *e;

    off = (size_t)snprintf(msg, sizeof(msg), "This channel allows only these reactions:");
    json_array_foreach(set, i, e)
    {
        if (off < sizeof(msg))
            off += (size_t)snprintf(msg + off, sizeof(msg) - off, " %s", json_string_value(e));
    }
    http_respond_error(r, 409, "emoji_not_allowed", msg, "emoji");
}

static void reaction_put(struct http_req *r)
{
    static const char *const allowed[] = { "emoji", NULL };
    struct store_post_target t;
    uint8_t hash[SECRET_HASH_LEN];
    struct api_pending *pend;
    char canon_buf[REACTION_EMOJI_MAX_BYTES + 1];
    json_t *body = NULL;
    json_t *set = NULL;
    json_t *v;
    const char *emoji;
    size_t len;
    int64_t post_id = 0;
    int err;

    if (!api__interaction_begin(r, hash, &post_id, &t))
        goto out;
    body = api__body_object(r, allowed);
    if (!body)
        goto out;
    v = json_object_get(body, "emoji");
    if (!json_is_string(v)) {
        http_respond_error(
            r, 400, v ? "wrong_type" : "missing_field",
            "'emoji' is required: one emoji as a string, such as \"\xf0\x9f\x91\x8d\".", "emoji");
        goto out;
    }
    emoji = json_string_value(v);
    len = json_string_length(v);
    if (!store_emoji_valid(emoji, len)) {
        http_respond_error(r, 400, "invalid_emoji",
                           "'emoji' must be exactly one emoji (such as \"\xf0\x9f\x91\x8d\" or a "
                           "flag), not text or several emoji.",
                           "emoji");
        goto out;
    }
    if (t.reaction_policy == STORE_REACT_NONE) {
        http_respond_error(r, 403, "reactions_disabled", "This channel does not take reactions.",
                           NULL);
        goto out;
    }
    if (t.reaction_policy == STORE_REACT_SET) {
        const char *canon;

        set = json_loads(t.reactions_json, 0, NULL);
        canon = in_set(set, emoji, len);
        if (!canon) {
            not_in_set(r, set);
            goto out;
        }
        emoji = canon;
        len = strlen(canon);
    } else {
        /* One spelling per emoji ("❤" and "❤️" are one), so counts never split. */
        int n = store_emoji_canonical(emoji, len, canon_buf);

        if (n < 0) {
            http_respond_error(r, 400, "invalid_emoji",
                               "'emoji' is too long once written in full; choose another.",
                               "emoji");
            goto out;
        }
        emoji = canon_buf;
        len = (size_t)n;
    }
    pend = api__pending_new(r, api__interaction_done, NULL);
    err =
        store_reaction_put(api__app(r)->store, hash, post_id, emoji, len, api__pending_done, pend);
    if (err) {
        api__pending_free(pend);
        api__interaction_done(r, err, 0, NULL);
    }
out:
    explicit_bzero(hash, sizeof(hash));
    json_decref(set);
    json_decref(body);
}

static void reaction_delete(struct http_req *r)
{
    struct store_post_target t;
    uint8_t hash[SECRET_HASH_LEN];
    struct api_pending *pend;
    int64_t post_id = 0;
    int err;

    if (!api__interaction_begin(r, hash, &post_id, &t))
        goto out;
    pend = api__pending_new(r, api__interaction_done, NULL);
    err = store_reaction_delete(api__app(r)->store, hash, post_id, api__pending_done, pend);
    if (err) {
        api__pending_free(pend);
        api__interaction_done(r, err, 0, NULL);
    }
out:
    explicit_bzero(hash, sizeof(hash));
}

static const struct http_route routes[] = {
    { HTTP_M_PUT, HTTP_ROUTE_JSON, "/api/v1/posts/{id}/reaction", reaction_put, 1024, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/posts/{id}/reaction", reaction_delete, 0, NULL },
};
API_ROUTE_SET(api_reactions_routes, routes);
