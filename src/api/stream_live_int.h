/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * What the live stream files share: api/stream.c (the stream, live delivery, SSE),
 * api/stream_ws.c (WebSocket) and api/stream_access.c (ending what lost its access). api/
 * only; the loop's thread only. docs/FANOUT.md explains the design.
 */
#ifndef API_STREAM_LIVE_INT_H
#define API_STREAM_LIVE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "api/api_int.h"
#include "api/channels_int.h"
#include "api/stream_int.h"
#include "core/secret.h"

struct fanout_msg;
struct store_channel;

/* One channel of a stream: 64 bytes. */
struct stream_ch {
    int64_t id;
    int64_t seq; /* the last seq this stream sent (or its starting position) */
    char handle[API_HANDLE_MAX + 1];
    uint8_t why; /* enum api_access_why: the right it was admitted by */
};

struct stream {
    struct api_app *app;
    struct api_loop *al;
    struct http_req *req; /* SSE; for a WebSocket, the upgraded request */
    struct http_ws *ws;   /* WebSocket, or NULL */
    struct fanout_sub *sub;
    struct stream_ch *ch;
    unsigned n, cap;
    unsigned depth;  /* calls in progress that may end the stream: free after the last */
    bool closed;     /* the connection ended: nothing more may be written */
    bool follower;   /* a follower token came with the request: `hash` is valid */
    bool follows;    /* an SSE stream of the follows of `hash`, kept up to date */
    int64_t user_id; /* staff admitted as admin or steward of one of its channels, or 0 */
    char *invite;    /* the ?invite= code that admitted a channel, or NULL */
    uint8_t hash[SECRET_HASH_LEN];
};

struct stream *api__stream_new(struct http_req *r);
void api__stream_free(struct stream *st);
/* Around a call that may end the stream: leave() returns false when `st` is gone. */
void api__stream_enter(struct stream *st);
bool api__stream_leave(struct stream *st);
/* The connection ended (any reason): stop hearing events; free unless a call is in progress. */
void api__stream_closed(struct stream *st);
/* End the stream (SSE: chunked end; WebSocket: close `ws_code` with `why`). */
void api__stream_end(struct stream *st, unsigned ws_code, const char *why);

struct stream_ch *api__stream_find(struct stream *st, int64_t channel_id);
struct stream_ch *api__stream_add(struct stream *st, int64_t id, const char *handle, int64_t seq);
/* Leave channel st->ch[i] (the hub too). */
void api__stream_drop(struct stream *st, unsigned i);

/* SSE: "id: <this stream's cursor>\n" (+ `tail`). */
int api__stream_sse_id_line(struct stream *st, const char *tail);
/*
 * Send what channel `c` had after c->seq, from the store. Returns 0, 1 when the replay limit
 * was reached (end the stream: the client resumes from there), or a negative errno (-EPIPE:
 * the stream is gone or going). Between enter() and leave().
 */
int api__stream_replay(struct stream *st, struct stream_ch *c);

/*
 * The channels named in ?channels=, each one readable by this request, with why; the stream
 * remembers who the request is (follower, staff, invite) for api__stream_access(). Answers
 * and returns false otherwise.
 */
bool api__stream_named_channels(struct http_req *r, struct stream *st, const char *list);
/* The follower token in Authorization ("Bearer follower_..."), or NULL: staff or none. */
const char *api__stream_follower_bearer(struct http_req *r);
/* Join every channel, then replay those with resume[i]. False when the stream ended. */
bool api__stream_go_live(struct stream *st, const bool *resume);
/* The follower's follows changed: take them up (follows streams). Between enter/leave. */
void api__stream_refresh_follows(struct stream *st);

/* GET /api/v1/ws (api/stream_ws.c). */
void api__stream_ws_get(struct http_req *r);
/* WebSocket: send a JSON object (reference taken). */
void api__stream_ws_reply(struct stream *st, json_t *v);

/* ---- civil-protection status at start (api/stream_alerts.c) ---- */

/*
 * Send the current alert status of every org among the stream's channels (after going live).
 * Returns 0 or -EPIPE (the stream is gone). Between enter() and leave().
 */
int api__stream_alerts_start(struct stream *st);
/* The same for org `org_id` alone (a WebSocket subscribe). */
int api__stream_alerts_org(struct stream *st, int64_t org_id);

/* ---- access (api/stream_access.c) ---- */

/* Remember why the request may read `ch` (from api__channel_access) on channel `c`. */
void api__stream_admitted(struct stream *st, struct stream_ch *c, const struct api_access *a);
/*
 * An access marker `m` (FANOUT_ACCESS) of one of this stream's channels arrived, in order with
 * the channel's events: if it takes away the right this stream was admitted by and no other
 * right is left, the channel leaves the stream now (WebSocket: `unsubscribed` with a reason;
 * SSE: an `unsubscribed` event, or the end of a stream left with no channel). Between enter()
 * and leave().
 */
void api__stream_access(struct stream *st, struct fanout_msg *m);

#endif
