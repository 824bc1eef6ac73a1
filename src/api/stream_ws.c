/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * GET /api/v1/ws: the live streams over WebSocket (api/stream.c has what both kinds share;
 * docs/API.md, Live streams, the messages).
 */
#include "api/stream_live_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "fanout/fanout.h"

void api__stream_ws_reply(struct stream *st, json_t *v)
{
    size_t len;
    char *s = json_encode(v, &len);

    json_decref(v);
    (void)!http_ws_send_text(st->ws, s, len);
    free(s);
}

static void ws_error(struct stream *st, const char *code, const char *channel, const char *msg)
{
    api__stream_ws_reply(st, json_pack("{s:s, s:s, s:s?, s:s}", "type", "error", "code", code,
                                       "channel", channel, "message", msg));
}

/* Whether this WebSocket may stream `ch`, and why: listed, or followed by its follower. */
static bool ws_readable(struct stream *st, const struct store_channel *ch, uint8_t *why)
{
    bool yes = false;

    *why = API_ACCESS_LISTED;
    if (ch->listed)
        return true;
    *why = API_ACCESS_FOLLOWER;
    return st->follower && !store_follower_follows(st->al->reader, st->hash, ch->id, &yes) && yes;
}

/*
 * Subscribe to one channel (from `pos.seq`, or live when -1). Returns false if `st` is gone.
 * `ch->org_id` is the channel's org when it was subscribed, else 0.
 */
static bool ws_subscribe_one(struct stream *st, const struct api_pos *pos, struct store_channel *ch)
{
    struct stream_ch *c;
    uint8_t why = API_ACCESS_LISTED;
    int rc = 0;

    if (store_channel_get(st->al->reader, pos->handle, ch) || !ws_readable(st, ch, &why)) {
        ch->org_id = 0; /* no status of its org either: that would tell it exists */
        ws_error(st, "channel_not_found", pos->handle,
                 "There is no channel with this handle: check it (an unlisted channel needs "
                 "your follower token and a follow).");
        return true;
    }
    c = api__stream_find(st, ch->id);
    if (!c) {
        if (st->n >= st->app->set.stream_max_channels) {
            ch->org_id = 0;
            ws_error(st, "too_many_channels", pos->handle,
                     "This stream carries the most channels it may: unsubscribe from one "
                     "first.");
            return true;
        }
        c = api__stream_add(st, ch->id, ch->handle, ch->last_seq);
        c->why = why;
        (void)!fanout_sub_join(st->sub, ch->id);
    }
    if (pos->seq >= 0) {
        c->seq = pos->seq;
        rc = api__stream_replay(st, c);
    }
    if (st->closed || rc == -EPIPE)
        return false;
    if (rc > 0) {
        api__stream_end(st, 1013, "Too far behind; reconnect to resume.");
        return false;
    }
    api__stream_ws_reply(st, json_pack("{s:s, s:s, s:I}", "type", "subscribed", "channel",
                                       c->handle, "seq", (json_int_t)c->seq));
    return !st->closed;
}

static void ws_unsubscribe_one(struct stream *st, const struct api_pos *pos)
{
    for (unsigned i = 0; i < st->n; i++) {
        if (!strcmp(st->ch[i].handle, pos->handle)) {
            api__stream_drop(st, i);
            break;
        }
    }
    api__stream_ws_reply(st,
                         json_pack("{s:s, s:s}", "type", "unsubscribed", "channel", pos->handle));
}

static void ws_on_text(struct http_ws *ws, void *ctx, const char *p, size_t len)
{
    struct stream *st = ctx;
    unsigned max = st->app->set.stream_max_channels;
    struct api_pos *pos = xcalloc(max, sizeof(*pos));
    struct store_channel *ch = NULL;
    int64_t *orgs = NULL;
    size_t n_orgs = 0;
    enum api_ws_type type = API_WS_SUBSCRIBE;
    char why[200];
    int n;

    (void)ws;
    api__stream_enter(st);
    n = api__ws_msg_parse(p, len, &type, pos, max, why, sizeof(why));
    if (n < 0) {
        /* A client that speaks another protocol: say why, then close (policy violation). */
        ws_error(st, n == -E2BIG ? "too_many_channels" : "invalid_message", NULL, why);
        api__stream_end(st, 1008, "Invalid message; see the error message before this close.");
        goto out;
    }
    ch = xmalloc(sizeof(*ch));
    orgs = xcalloc((size_t)n, sizeof(*orgs));
    for (int i = 0; i < n && !st->closed; i++) {
        ch->org_id = 0;
        if (type == API_WS_UNSUBSCRIBE) {
            ws_unsubscribe_one(st, &pos[i]);
        } else if (!ws_subscribe_one(st, &pos[i], ch)) {
            break;
        }
        for (size_t j = 0; ch->org_id && j <= n_orgs; j++) {
            if (j == n_orgs) {
                orgs[n_orgs++] = ch->org_id;
                break;
            }
            if (orgs[j] == ch->org_id)
                break;
        }
    }
    /* The civil-protection status of each org subscribed to, once, after the subscribed. */
    for (size_t j = 0; j < n_orgs && !st->closed; j++)
        (void)api__stream_alerts_org(st, orgs[j]);
out:
    free(orgs);
    free(ch);
    free(pos);
    (void)api__stream_leave(st);
}

static void ws_on_close(struct http_ws *ws, void *ctx)
{
    (void)ws;
    api__stream_closed(ctx);
}

static const struct http_ws_ops ws_ops = {
    .on_text = ws_on_text,
    .on_close = ws_on_close,
};

/*
 * GET /api/v1/ws — WebSocket. An optional follower token (Authorization: Bearer) opens the
 * unlisted channels it follows (a staff token, those it is staff of, in ?channels= only);
 * ?channels=a,b subscribes at once (live), as a subscribe message
 * without `since` would: each channel gets its `subscribed` with its starting seq.
 */
void api__stream_ws_get(struct http_req *r)
{
    struct stream *st = api__stream_new(r);
    const char *list = http_req_query(r, "channels");
    bool *resume = NULL;

    /* A staff token opens the channels it may read in ?channels= (as on the SSE endpoint). */
    if (http_req_header(r, "Authorization") && (api__stream_follower_bearer(r) || !list)) {
        if (!api__follower(r, st->hash))
            goto fail;
        st->follower = true;
    }
    if (list && !api__stream_named_channels(r, st, list))
        goto fail;
    st->ws = http_ws_accept(r, st->app->set.ws_max_message_bytes, &ws_ops, st);
    if (!st->ws)
        goto fail; /* answered 400 / 426 / 503 */
    resume = xcalloc(st->n ? st->n : 1, sizeof(*resume));
    if (api__stream_go_live(st, resume)) {
        api__stream_enter(st);
        for (unsigned i = 0; i < st->n && !st->closed; i++) {
            api__stream_ws_reply(st, json_pack("{s:s, s:s, s:I}", "type", "subscribed", "channel",
                                               st->ch[i].handle, "seq", (json_int_t)st->ch[i].seq));
        }
        if (!st->closed)
            (void)api__stream_alerts_start(st); /* civil-protection status: after joining */
        if (api__stream_leave(st))
            http_stream_trim(r); /* the request is read: keep only the connection */
    }
    free(resume);
    return;
fail:
    api__stream_free(st);
}
