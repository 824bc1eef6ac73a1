/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Live streams lose what they may no longer read. REST checks access on every request; a
 * stream checked it once, when it opened. So every change that takes a right away — the
 * channel turns unlisted, a follower unfollows it (or is forgotten), an invite link is
 * revoked, an admin is removed, the channel is deleted — commits an access marker in its own
 * transaction (store/events.h), which the fan-out delivers to the channel's subscribers in
 * commit order among the channel's events (fanout_access). Each channel of a stream remembers
 * the one right it was admitted by (`why`, one byte); the stream remembers who asked (follower
 * hash, staff user id, invite code). A marker for a right the channel does not hold costs one
 * comparison; one that matches makes the stream look for another right in the store (the
 * channel is listed again, the follower also holds the invite ...) and otherwise the channel
 * leaves the stream then and there, before any later event of it is written:
 *
 *   WebSocket  {"type":"unsubscribed","channel":"…","reason":"channel_unlisted"}
 *   SSE        event: unsubscribed / data: {"channel":"…","reason":"…"}, with the stream's
 *              new cursor as its id; a stream left with no channel ends after it.
 *
 * A follower's stream of its follows (no ?channels=) takes an unfollow or a deletion as a
 * change of its follows instead (api__stream_refresh_follows). docs/FANOUT.md, docs/API.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/stream_live_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/json.h"
#include "fanout/fanout.h"
#include "store/channels.h"
#include "store/events.h"

void api__stream_admitted(struct stream *st, struct stream_ch *c, const struct api_access *a)
{
    c->why = (uint8_t)a->why;
    switch (a->why) {
    case API_ACCESS_INVITE:
        if (!st->invite)
            st->invite = xstrdup(a->invite);
        break;
    case API_ACCESS_FOLLOWER:
        memcpy(st->hash, a->hash, sizeof(st->hash));
        st->follower = true;
        break;
    case API_ACCESS_ADMIN:
    case API_ACCESS_STEWARD:
        st->user_id = a->user_id;
        break;
    case API_ACCESS_LISTED:
        break;
    }
    /* A listed channel opened with an invite code keeps it: the code is a right of its own. */
    if (a->why == API_ACCESS_LISTED && a->invite && !st->invite &&
        strlen(a->invite) <= CHANNEL_INVITE_CODE_MAX)
        st->invite = xstrdup(a->invite);
}

/* Whether marker `kind`/`key` takes away the right channel `c` of `st` was admitted by. */
static const char *takes(const struct stream *st, const struct stream_ch *c, const char *kind,
                         int64_t key)
{
    if (!strcmp(kind, STORE_ACCESS_DELETED))
        return "channel_deleted";
    if (!strcmp(kind, STORE_ACCESS_UNLISTED))
        return c->why == API_ACCESS_LISTED ? "channel_unlisted" : NULL;
    if (!strcmp(kind, STORE_ACCESS_UNFOLLOWED)) {
        return (c->why == API_ACCESS_FOLLOWER || st->follows) && st->follower &&
                       key == store_access_key(st->hash, sizeof(st->hash))
                   ? "unfollowed"
                   : NULL;
    }
    if (!strcmp(kind, STORE_ACCESS_INVITE_REVOKED)) {
        return c->why == API_ACCESS_INVITE && st->invite &&
                       key == store_access_key(st->invite, strlen(st->invite))
                   ? "invite_revoked"
                   : NULL;
    }
    if (!strcmp(kind, STORE_ACCESS_ADMIN_REMOVED)) {
        return c->why == API_ACCESS_ADMIN && st->user_id &&
                       key == store_access_key(&st->user_id, sizeof(st->user_id))
                   ? "admin_removed"
                   : NULL;
    }
    return NULL;
}

/*
 * Another right this stream holds on channel `c`, read from the store now (after the change:
 * the marker is published once its commit is durable): the right, or -1 when none is left.
 */
static int other_right(struct stream *st, const struct stream_ch *c)
{
    struct store_channel *ch;
    struct store_invite inv;
    int why = -1, role = STORE_CHANNEL_NONE;
    bool yes = false;

    if (!st->follower && !st->user_id && !st->invite)
        return -1; /* anonymous: listed was its only right (no read for the many of them) */
    ch = xmalloc(sizeof(*ch));
    if (store_channel_get_id(st->al->reader, c->id, ch))
        goto out;
    if (ch->listed) {
        why = API_ACCESS_LISTED;
    } else if (st->invite && !store_invite_get(st->al->reader, st->invite, &inv) &&
               inv.channel_id == c->id && !store_invite_state(&inv, clock_now_ms())) {
        why = API_ACCESS_INVITE;
    } else if (st->follower && !store_follower_follows(st->al->reader, st->hash, c->id, &yes) &&
               yes) {
        why = API_ACCESS_FOLLOWER;
    } else if (st->user_id && c->why == API_ACCESS_STEWARD) {
        why = API_ACCESS_STEWARD; /* stewardship is not a channel's to take away */
    } else if (st->user_id && !store_channel_role(st->al->reader, c->id, st->user_id, &role) &&
               role != STORE_CHANNEL_NONE) {
        why = API_ACCESS_ADMIN;
    }
out:
    free(ch);
    return why;
}

/* Channel st->ch[i] leaves the stream, and the client is told why. */
static void lose(struct stream *st, unsigned i, const char *reason)
{
    char handle[API_HANDLE_MAX + 1], body[API_HANDLE_MAX + 128];
    int n;

    memcpy(handle, st->ch[i].handle, sizeof(handle));
    api__stream_drop(st, i);
    if (st->ws) {
        api__stream_ws_reply(st, json_pack("{s:s, s:s, s:s}", "type", "unsubscribed", "channel",
                                           handle, "reason", reason));
        return;
    }
    n = snprintf(body, sizeof(body),
                 "event: unsubscribed\ndata: {\"channel\":\"%s\",\"reason\":\"%s\"}\n\n", handle,
                 reason);
    if (st->n) {
        (void)!api__stream_sse_id_line(st, body); /* the cursor without the channel */
        return;
    }
    /* Nothing left to stream: say why, then end (EventSource's retry gets the REST answer). */
    if (!http_stream_write(st->req, body, (size_t)n))
        api__stream_end(st, 1000, reason);
}

void api__stream_access(struct stream *st, struct fanout_msg *m)
{
    struct stream_ch *c = api__stream_find(st, fanout_msg_channel_id(m));
    const char *reason;
    int why;

    if (!c || st->closed)
        return;
    reason = takes(st, c, fanout_msg_kind(m), fanout_msg_key(m));
    if (!reason)
        return;
    if (st->follows) {
        /* A stream of the follower's follows: its channels are what it follows now. */
        api__stream_refresh_follows(st);
        return;
    }
    why = strcmp(reason, "channel_deleted") != 0 ? other_right(st, c) : -1;
    if (why >= 0) {
        c->why = (uint8_t)why;
        return;
    }
    lose(st, (unsigned)(c - st->ch), reason);
}
