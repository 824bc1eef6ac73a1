/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Live streams: GET /api/v1/stream (Server-Sent Events) and GET /api/v1/ws (WebSocket), the
 * glue between http/ (the connection), fanout/ (live events, encoded once for everyone) and
 * store/ (the events a resuming client missed). This file: the stream, live delivery and SSE;
 * api/stream_ws.c the WebSocket side, api/stream_access.c ending what lost its access,
 * api/stream_parse.c the parsers. docs/FANOUT.md explains the design; docs/API.md the wire
 * format.
 *
 * Gap-free resume. Each event has its channel's seq. A stream keeps, per channel, the last seq
 * it sent. On (re)connection it joins the live channel FIRST, then replays from the store what
 * followed the client's position, synchronously on this loop: no live message can be delivered
 * to it in between (deliveries run on this same loop), so every event is either in the replay
 * or arrives live afterwards, and live ones with a seq already sent are dropped. A live seq
 * that skips ahead (an event that could not be encoded, a loop that registered late) is filled
 * from the store before it is sent. A position older than what the store keeps gets an
 * explicit `reset`, never a silent gap.
 *
 * The SSE event id is the resume cursor "channel:seq[,channel:seq...]" (api/stream_int.h). A
 * stream of one channel sends the shared bytes as they are (their id line is that cursor); a
 * stream of several writes its own id line (its whole cursor) before the shared rest.
 */
#include "api/stream_live_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"
#include "api/channels_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "fanout/fanout.h"
#include "store/events.h"

_Static_assert(FANOUT_RUN_MAX <= HTTP_WRITEV_MAX, "a run must fit one vectored write");

/* The SSE reconnection delay we suggest to clients, in ms (the `retry:` line). */
#define SSE_RETRY_MS 3000

/* ---- streams ---- */

void api__stream_free(struct stream *st)
{
    fanout_sub_free(st->sub);
    free(st->ch);
    free(st->invite);
    free(st);
}

void api__stream_enter(struct stream *st)
{
    st->depth++;
}

/* Leave a call that may have ended the stream. Returns false when `st` is gone. */
bool api__stream_leave(struct stream *st)
{
    if (--st->depth || !st->closed)
        return !st->closed;
    api__stream_free(st);
    return false;
}

/* The connection ended (any reason): stop hearing events; free unless a call is in progress. */
void api__stream_closed(struct stream *st)
{
    st->closed = true;
    fanout_sub_free(st->sub);
    st->sub = NULL;
    if (!st->depth)
        api__stream_free(st);
}

struct stream_ch *api__stream_find(struct stream *st, int64_t channel_id)
{
    for (unsigned i = 0; i < st->n; i++) {
        if (st->ch[i].id == channel_id)
            return &st->ch[i];
    }
    return NULL;
}

struct stream_ch *api__stream_add(struct stream *st, int64_t id, const char *handle, int64_t seq)
{
    struct stream_ch *c;

    if (st->n == st->cap) {
        st->cap = st->cap ? 2 * st->cap : 1; /* most streams carry one channel */
        st->ch = xrealloc(st->ch, st->cap * sizeof(*st->ch));
    }
    c = &st->ch[st->n++];
    c->id = id;
    c->seq = seq;
    snprintf(c->handle, sizeof(c->handle), "%s", handle);
    c->why = API_ACCESS_LISTED;
    return c;
}

void api__stream_drop(struct stream *st, unsigned i)
{
    (void)!fanout_sub_leave(st->sub, st->ch[i].id);
    st->ch[i] = st->ch[--st->n];
}

static int stream_cursor(const struct stream *st, char *out, size_t outlen)
{
    struct api_pos pos[8];
    size_t o = 0;

    /* Chunks of eight keep the stack small whatever stream_max_channels is. */
    for (unsigned i = 0; i < st->n; i += ARRAY_SIZE(pos)) {
        size_t k = MIN(ARRAY_SIZE(pos), st->n - i);
        int w;

        for (size_t j = 0; j < k; j++) {
            snprintf(pos[j].handle, sizeof(pos[j].handle), "%s", st->ch[i + j].handle);
            pos[j].seq = st->ch[i + j].seq;
        }
        if (o && o + 1 < outlen)
            out[o++] = ',';
        w = api__cursor_format(pos, k, out + o, outlen - o);
        if (w < 0)
            return w;
        o += (size_t)w;
    }
    if (!st->n && outlen)
        out[0] = '\0';
    return (int)o;
}

/* A message's bytes wait in a socket's queue: keep the message until they are written. */
static void msg_hold(void *m)
{
    (void)fanout_msg_ref(m);
}

static const struct http_shared msg_shared = { msg_hold, fanout_msg_release };

/* SSE: "id: <this stream's cursor>\n" (+ `tail`), copied: for several channels and resets. */
int api__stream_sse_id_line(struct stream *st, const char *tail)
{
    char line[API_CURSOR_MAX_BYTES + 256];
    int n;

    // NOLINTNEXTLINE(bugprone-not-null-terminated-result): stream_cursor() adds the NUL
    memcpy(line, "id: ", 4);
    n = stream_cursor(st, line + 4, sizeof(line) - 4 - 200);
    if (n < 0)
        return n;
    n += 4;
    n += snprintf(line + n, sizeof(line) - (size_t)n, "\n%s", tail ? tail : "");
    return http_stream_write(st->req, line, (size_t)n);
}

/* Send event `m` of channel `c` (its seq is c->seq + 1). Returns 0 or -EPIPE. */
static int send_event(struct stream *st, struct stream_ch *c, struct fanout_msg *m)
{
    bool chunked;
    const char *p;
    size_t len;

    c->seq = fanout_msg_seq(m);
    if (st->ws) {
        p = fanout_msg_bytes(m, FANOUT_WS, &len);
        return http_ws_send_frame_ref(st->ws, p, len, &msg_shared, m);
    }
    chunked = http_stream_chunked(st->req);
    if (st->n > 1) {
        if (api__stream_sse_id_line(st, NULL))
            return -EPIPE;
        p = fanout_msg_bytes(m, chunked ? FANOUT_SSE_NOID_CHUNK : FANOUT_SSE_NOID, &len);
    } else {
        p = fanout_msg_bytes(m, chunked ? FANOUT_SSE_CHUNK : FANOUT_SSE, &len);
    }
    return http_stream_write_ref(st->req, p, len, &msg_shared, m);
}

/* The client must reload channel `c`: what followed its position is gone. */
static int send_reset(struct stream *st, struct stream_ch *c, int64_t last_seq)
{
    char body[256];
    int n;

    c->seq = last_seq;
    if (st->ws) {
        n = snprintf(body, sizeof(body), "{\"type\":\"reset\",\"channel\":\"%s\",\"seq\":%lld}",
                     c->handle, (long long)last_seq);
        return http_ws_send_text(st->ws, body, (size_t)n);
    }
    snprintf(body, sizeof(body), "event: reset\ndata: {\"channel\":\"%s\",\"seq\":%lld}\n\n",
             c->handle, (long long)last_seq);
    return api__stream_sse_id_line(st, body);
}

struct replay {
    struct stream *st;
    struct stream_ch *c;
    unsigned n;
    bool failed;
};

static void replay_one(void *ctx, const struct store_event *ev)
{
    struct replay *rp = ctx;
    struct fanout_event fe = {
        .channel_id = rp->c->id,
        .channel = rp->c->handle,
        .seq = ev->seq,
        .kind = ev->kind,
        .payload = ev->payload,
        .payload_len = ev->payload_len,
        .created_ms = ev->created_ms,
    };
    struct fanout_msg *m;

    if (rp->failed || rp->st->closed)
        return;
    rp->n++;
    m = fanout_msg_new(&fe);
    if (!m) {
        log_warn("stream: event %lld of '%s' cannot be encoded; skipped", (long long)ev->seq,
                 rp->c->handle);
        rp->c->seq = ev->seq;
        return;
    }
    if (send_event(rp->st, rp->c, m))
        rp->failed = true;
    fanout_msg_unref(m);
}

/*
 * api__stream_replay(), but only up to seq `upto` when it is not 0: a live seq that skips
 * ahead is filled with the events before it and no further, because what the store holds
 * after it may have been committed after an access marker this stream has not seen yet.
 */
static int replay_to(struct stream *st, struct stream_ch *c, int64_t upto)
{
    struct replay rp = { .st = st, .c = c };
    unsigned limit = st->app->set.stream_replay_max;
    bool bounded = false;
    int64_t last = 0;
    int err;

    if (upto > c->seq && upto - c->seq <= (int64_t)limit) {
        limit = (unsigned)(upto - c->seq);
        bounded = true;
    }
    err = store_events_since(st->al->reader, c->id, c->seq, limit, replay_one, &rp, &last);
    if (st->closed || rp.failed)
        return -EPIPE;
    if (err == -ERANGE)
        return send_reset(st, c, last) ? -EPIPE : 0;
    if (err) {
        log_warn("stream: cannot replay '%s': %s", c->handle, strerror(-err));
        return err;
    }
    return !bounded && rp.n >= limit ? 1 : 0;
}

int api__stream_replay(struct stream *st, struct stream_ch *c)
{
    return replay_to(st, c, 0);
}

/* ---- a follower's follows, kept up to date ---- */

/*
 * The hub key under which the streams of a follower hear that its follows changed, from the
 * follower's access key (store_access_key() of its token hash, which a STORE_NOTICE_FOLLOWS
 * marker carries): a negative number, never a channel id. Two followers sharing a key (one
 * chance in 2^63) would only refresh needlessly.
 */
static int64_t notice_key(int64_t access_key)
{
    return -access_key - 1;
}

static int64_t follows_key(const uint8_t hash[SECRET_HASH_LEN])
{
    return notice_key(store_access_key(hash, SECRET_HASH_LEN));
}

struct follow_list {
    struct store_follow *f;
    unsigned n, max;
};

static void collect_follow(void *ctx, const struct store_follow *f)
{
    struct follow_list *fl = ctx;

    if (fl->n < fl->max)
        fl->f[fl->n++] = *f;
}

/*
 * The follower of this SSE stream followed or unfollowed a channel: join the new ones from
 * where they stood when followed (so what was committed since, before this stream heard of the
 * follow, is replayed: on PostgreSQL the notice comes a moment after the follow's answer), leave
 * the others, and send the new cursor as an id line. A follower that is gone ("forget me")
 * ends the stream. Call between api__stream_enter() and api__stream_leave().
 */
void api__stream_refresh_follows(struct stream *st)
{
    struct follow_list fl = { .max = st->app->set.stream_max_channels };
    bool changed = false;
    unsigned n_new = 0;
    int err;

    if (!st->follows || st->closed)
        return;
    fl.f = xcalloc(fl.max, sizeof(*fl.f));
    err = store_follower_channels(st->al->reader, st->hash, clock_now_ms(), collect_follow, &fl);
    if (err == -ENOENT) {
        api__stream_end(st, 1000, "The follower is gone.");
        goto out;
    }
    if (err) {
        log_warn("stream: cannot read a follower's channels: %s", strerror(-err));
        goto out;
    }
    for (unsigned i = 0; i < st->n;) {
        unsigned j = 0;

        while (j < fl.n && fl.f[j].ch.id != st->ch[i].id)
            j++;
        if (j < fl.n) {
            i++;
            continue;
        }
        api__stream_drop(st, i);
        changed = true;
    }
    for (unsigned j = 0; j < fl.n && !st->closed; j++) {
        struct stream_ch *c;
        int64_t from = fl.f[j].ch.last_seq;

        if (api__stream_find(st, fl.f[j].ch.id))
            continue;
        if (store_events_seq_before(st->al->reader, fl.f[j].ch.id, fl.f[j].followed_ms, &from))
            from = fl.f[j].ch.last_seq;
        c = api__stream_add(st, fl.f[j].ch.id, fl.f[j].ch.handle, MIN(from, fl.f[j].ch.last_seq));
        c->why = API_ACCESS_FOLLOWER;
        (void)!fanout_sub_join(st->sub, fl.f[j].ch.id);
        (void)!api__stream_replay(st, c); /* joined first: nothing falls between (FANOUT.md) */
        fl.f[n_new++].ch.org_id = fl.f[j].ch.org_id; /* j >= n_new: reuse the list's front */
        changed = true;
    }
    if (changed)
        (void)!api__stream_sse_id_line(st, "\n"); /* EventSource keeps it as its Last-Event-ID */
    /* The civil-protection status of each org a new channel belongs to (api/stream_alerts.c). */
    for (unsigned j = 0; j < n_new && !st->closed; j++) {
        bool seen = false;

        for (unsigned k = 0; k < j; k++)
            seen = seen || fl.f[k].ch.org_id == fl.f[j].ch.org_id;
        if (!seen)
            (void)api__stream_alerts_org(st, fl.f[j].ch.org_id);
    }
out:
    free(fl.f);
}

/* ---- live delivery (fanout callbacks; the loop's thread) ---- */

static size_t op_unsent(void *ctx)
{
    struct stream *st = ctx;

    return st->ws ? http_ws_unsent(st->ws) : http_stream_unsent(st->req);
}

void api__stream_end(struct stream *st, unsigned ws_code, const char *why)
{
    if (st->closed)
        return;
    if (st->ws) {
        http_ws_close(st->ws, ws_code, why);
    } else {
        http_stream_end(st->req);
    }
}

static void heartbeat(struct stream *st, struct fanout_msg *m)
{
    const char *p;
    size_t len;

    if (st->ws) {
        if (!http_ws_heard(st->ws)) {
            api__stream_end(st, 1001, "No answer to pings.");
            return;
        }
        p = fanout_msg_bytes(m, FANOUT_WS, &len);
        (void)!http_ws_send_frame_ref(st->ws, p, len, &msg_shared, m);
        return;
    }
    p = fanout_msg_bytes(m, http_stream_chunked(st->req) ? FANOUT_SSE_CHUNK : FANOUT_SSE, &len);
    (void)!http_stream_write_ref(st->req, p, len, &msg_shared, m);
}

/* send_run() for an SSE stream of several channels, where `c` is one of them. */
static void send_run_apart(struct stream *st, struct stream_ch *c, struct fanout_msg *const *m,
                           size_t n)
{
    int rc = 0;

    /* Several channels: each event gets this stream's own id line, written apart. */
    for (size_t i = 0; i < n && !st->closed; i++) {
        int64_t seq = fanout_msg_seq(m[i]);

        if (seq <= c->seq)
            continue;
        if (seq > c->seq + 1 && ((rc = replay_to(st, c, seq - 1)) != 0 || seq <= c->seq)) {
            if (rc > 0)
                api__stream_end(st, 1013, "Too far behind; reconnect to resume.");
            if (rc)
                return;
            continue;
        }
        (void)!send_event(st, c, m[i]);
    }
}

/*
 * Events m[0 .. n-1] of one channel, in order: those this stream has not sent go out in one
 * write (a WebSocket, or an SSE stream of one channel, whose bytes are shared as they are);
 * a seq that skips ahead is filled from the store first.
 */
static void send_run(struct stream *st, struct fanout_msg *const *m, size_t n)
{
    struct stream_ch *c = api__stream_find(st, fanout_msg_channel_id(m[0]));
    struct http_ref_buf b[FANOUT_RUN_MAX];
    enum fanout_wire w = FANOUT_WS;
    size_t k = 0;
    int rc = 0;

    if (!c)
        return; /* not ours (any more) */
    if (!st->ws) {
        if (st->n > 1) {
            send_run_apart(st, c, m, n);
            return;
        }
        w = http_stream_chunked(st->req) ? FANOUT_SSE_CHUNK : FANOUT_SSE;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t seq = fanout_msg_seq(m[i]);

        if (seq <= c->seq)
            continue; /* already sent by the replay */
        if (seq > c->seq + 1) {
            /* Out what is gathered, then fill the gap from the store. */
            if (k && (st->ws ? http_ws_send_frames_ref(st->ws, b, k, &msg_shared)
                             : http_stream_writev_ref(st->req, b, k, &msg_shared)))
                return;
            k = 0;
            rc = replay_to(st, c, seq - 1);
            if (rc > 0)
                api__stream_end(st, 1013, "Too far behind; reconnect to resume.");
            if (rc || st->closed)
                return;
            if (seq <= c->seq)
                continue;
        }
        b[k].p = fanout_msg_bytes(m[i], w, &b[k].len);
        b[k].arg = m[i];
        k++;
        c->seq = seq;
    }
    if (k) {
        (void)!(st->ws ? http_ws_send_frames_ref(st->ws, b, k, &msg_shared)
                       : http_stream_writev_ref(st->req, b, k, &msg_shared));
    }
}

static void op_write(void *ctx, struct fanout_msg *const *m, size_t n)
{
    struct stream *st = ctx;

    api__stream_enter(st);
    if (fanout_msg_type(m[0]) == FANOUT_HEARTBEAT) {
        heartbeat(st, m[0]);
    } else if (fanout_msg_type(m[0]) == FANOUT_NOTICE) {
        api__stream_refresh_follows(st);
    } else if (fanout_msg_type(m[0]) == FANOUT_ACCESS) {
        api__stream_access(st, m[0]);
    } else {
        send_run(st, m, n);
    }
    (void)api__stream_leave(st);
}

static void op_cutoff(void *ctx)
{
    struct stream *st = ctx;

    /* The hub needs the subscriber gone before this returns, whatever the close does. */
    fanout_sub_free(st->sub);
    st->sub = NULL;
    api__stream_enter(st);
    api__stream_end(st, 1013, "Too slow to keep up; reconnect and resume with 'since'.");
    (void)api__stream_leave(st);
}

static const struct fanout_sub_ops sub_ops = {
    .unsent = op_unsent,
    .write = op_write,
    .cutoff = op_cutoff,
};

static int post_to_loop(void *post_ctx, void (*fn)(void *arg), void *arg)
{
    return http_loop_post(post_ctx, fn, arg);
}

/* The loop's side of the hub, made on the loop's first stream. */
static struct fanout_loop *loop_hub(struct http_req *r)
{
    struct api_loop *al = http_req_loop_ctx(r);

    if (!al->fanout)
        al->fanout = fanout_loop_new(api__app(r)->fanout, post_to_loop, http_req_loop(r));
    return al->fanout;
}

struct fanout_loop *api__stream_loop_hub(struct http_req *r)
{
    return loop_hub(r);
}

void api_stream_sink(void *ctx, const struct store_event *ev, size_t n)
{
    struct fanout_event fe[32];

    for (size_t i = 0; i < n;) {
        size_t k = 0;

        /* An access marker (seq 0) goes out in its place among the events (store/events.h). */
        if (!ev[i].seq) {
            if (!strcmp(ev[i].kind, STORE_NOTICE_FOLLOWS)) {
                fanout_notify(ctx, notice_key(ev[i].key)); /* a follow, or forget me */
            } else if (!strcmp(ev[i].kind, STORE_NOTICE_REPORT)) {
                api__report_notice(ev[i].channel_id, ev[i].key); /* its org, the report */
            } else {
                fanout_access(ctx, ev[i].channel_id, ev[i].kind, ev[i].key);
            }
            i++;
            continue;
        }
        for (; i < n && ev[i].seq && k < ARRAY_SIZE(fe); i++, k++) {
            /* Before it is published: a status cached since is stale (api/stream_alerts.c). */
            if (!strcmp(ev[i].kind, "alert"))
                api__stream_alerts_changed();
            fe[k] = (struct fanout_event){
                .channel_id = ev[i].channel_id,
                .channel = ev[i].channel,
                .seq = ev[i].seq,
                .kind = ev[i].kind,
                .payload = ev[i].payload,
                .payload_len = ev[i].payload_len,
                .created_ms = ev[i].created_ms,
            };
        }
        fanout_publish(ctx, fe, k);
    }
}

/* ---- starting a stream ---- */

struct stream *api__stream_new(struct http_req *r)
{
    struct stream *st = xcalloc(1, sizeof(*st));

    st->app = api__app(r);
    st->al = http_req_loop_ctx(r);
    st->req = r;
    return st;
}

/*
 * Join every channel, then replay each one that has a position (in that order: see the top
 * of this file). Returns false when the stream ended meanwhile (or must: replay limit).
 */
bool api__stream_go_live(struct stream *st, const bool *resume)
{
    bool more = false;
    int rc;

    st->sub = fanout_sub_new(loop_hub(st->req), &sub_ops, st);
    for (unsigned i = 0; i < st->n; i++)
        (void)!fanout_sub_join(st->sub, st->ch[i].id);
    if (st->follows)
        (void)!fanout_sub_join(st->sub, follows_key(st->hash));
    api__stream_enter(st);
    for (unsigned i = 0; i < st->n && !st->closed; i++) {
        if (!resume[i])
            continue;
        rc = api__stream_replay(st, &st->ch[i]);
        if (rc < 0 && rc != -EPIPE)
            continue; /* logged; live events still flow */
        if (rc)
            more = more || rc > 0;
    }
    if (more)
        api__stream_end(st, 1013, "Too far behind; reconnect to resume.");
    return api__stream_leave(st);
}

struct follows {
    struct stream *st;
    unsigned max;
    bool over;
};

static void add_follow(void *ctx, const struct store_follow *f)
{
    struct follows *fw = ctx;

    if (fw->st->n >= fw->max) {
        fw->over = true;
        return;
    }
    api__stream_add(fw->st, f->ch.id, f->ch.handle, f->ch.last_seq)->why = API_ACCESS_FOLLOWER;
}

static void bad_request(struct http_req *r, const char *code, const char *msg, const char *field)
{
    http_respond_error(r, 400, code, msg, field);
}

const char *api__stream_follower_bearer(struct http_req *r)
{
    const char *h = http_req_header(r, "Authorization");

    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return strncmp(h, "follower_", 9) != 0 ? NULL : h;
}

/*
 * A follower token that came along with a stream of channels it did not need for (listed
 * ones): remember the follower, quietly, so that the stream keeps a channel it follows when
 * the channel turns unlisted (api/stream_access.c). A bad token changes nothing here.
 */
static void quiet_follower(struct http_req *r, struct stream *st)
{
    const char *h = api__stream_follower_bearer(r);
    uint8_t hash[SECRET_HASH_LEN];

    if (st->follower || !h)
        return;
    secret_sha256(h, strlen(h), hash);
    if (!store_follower_exists(st->al->reader, hash)) {
        memcpy(st->hash, hash, sizeof(st->hash));
        st->follower = true;
    }
}

bool api__stream_named_channels(struct http_req *r, struct stream *st, const char *list)
{
    unsigned max = st->app->set.stream_max_channels;
    struct api_pos *want = xcalloc(max, sizeof(*want));
    struct store_channel *ch = xmalloc(sizeof(*ch));
    struct api_access a;
    char msg[160];
    bool ok = false;
    int n = api__channel_list_parse(list, want, max);

    if (n == -E2BIG) {
        snprintf(msg, sizeof(msg), "At most %u channels per stream.", max);
        bad_request(r, "too_many_channels", msg, "channels");
        goto out;
    }
    if (n < 0) {
        bad_request(r, "invalid_channels",
                    "'channels' must be channel handles separated by commas, such as "
                    "?channels=comune-news,meteo.",
                    "channels");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        if (api__channel_load(r, want[i].handle, ch) || !api__channel_access(r, ch, &a))
            goto out; /* answered: 404 (an unlisted channel is not revealed) or 401 */
        api__stream_admitted(st, api__stream_add(st, ch->id, ch->handle, ch->last_seq), &a);
    }
    quiet_follower(r, st);
    ok = true;
out:
    free(ch);
    free(want);
    return ok;
}

static bool follower_channels(struct http_req *r, struct stream *st)
{
    struct follows fw = { .st = st, .max = st->app->set.stream_max_channels };
    uint8_t hash[SECRET_HASH_LEN];
    char msg[200];
    int err;

    if (!http_req_header(r, "Authorization")) {
        bad_request(r, "missing_channels",
                    "Name the channels to stream (?channels=comune-news) or send your follower "
                    "token (Authorization: Bearer follower_...) to stream the channels you follow.",
                    "channels");
        return false;
    }
    if (!api__follower(r, hash))
        return false;
    memcpy(st->hash, hash, sizeof(st->hash));
    st->follows = true;
    st->follower = true;
    err = store_follower_channels(st->al->reader, hash, clock_now_ms(), add_follow, &fw);
    if (err) {
        api__errno(r, err, "follower channels");
        return false;
    }
    if (fw.over) {
        snprintf(msg, sizeof(msg),
                 "You follow more than %u channels: name the ones to stream with ?channels=.",
                 fw.max);
        bad_request(r, "too_many_channels", msg, "channels");
        return false;
    }
    return true;
}

/* Apply a resume cursor: channels it names start from its position and replay. */
static bool apply_cursor(struct http_req *r, struct stream *st, const char *cursor, bool *resume,
                         const char *field)
{
    unsigned max = st->app->set.stream_max_channels;
    struct api_pos *pos = xcalloc(max, sizeof(*pos));
    int n = api__cursor_parse(cursor, pos, max);

    if (n < 0) {
        free(pos);
        bad_request(r, "invalid_last_event_id",
                    "The resume position must be the id of the last event received, such as "
                    "comune-news:12 (or comune-news:12,meteo:7).",
                    field);
        return false;
    }
    for (int i = 0; i < n; i++) {
        for (unsigned j = 0; j < st->n; j++) {
            if (!strcmp(st->ch[j].handle, pos[i].handle)) {
                st->ch[j].seq = pos[i].seq;
                resume[j] = true;
            }
        }
    }
    free(pos);
    return true;
}

/*
 * GET /api/v1/stream[?channels=a,b][&last_event_id=a:12] — Server-Sent Events. Browsers'
 * EventSource cannot send headers: the follower token goes in Authorization, so the web app
 * streams with fetch(); an anonymous preview needs no token (?channels= of listed channels).
 */
static void on_sse_close(struct http_req *r, void *ctx)
{
    (void)r;
    api__stream_closed(ctx);
}

static void stream_get(struct http_req *r)
{
    struct stream *st = api__stream_new(r);
    const char *list = http_req_query(r, "channels");
    const char *cursor = http_req_header(r, "Last-Event-ID");
    const char *field = "Last-Event-ID";
    bool *resume = NULL;
    char first[64];
    int n;

    if (!cursor || !*cursor) {
        cursor = http_req_query(r, "last_event_id");
        field = "last_event_id";
    }
    if (list ? !api__stream_named_channels(r, st, list) : !follower_channels(r, st))
        goto fail;
    if (!st->n) {
        bad_request(r, "no_channels",
                    "You follow no channel yet: follow one, or name channels with ?channels=.",
                    "channels");
        goto fail;
    }
    resume = xcalloc(st->n, sizeof(*resume));
    if (cursor && *cursor && !apply_cursor(r, st, cursor, resume, field))
        goto fail;
    http_resp_header(r, "X-Accel-Buffering", "no");
    if (http_stream_start(r, 200, "text/event-stream; charset=utf-8", on_sse_close, st))
        goto fail; /* answered 503; on_sse_close will not run */
    n = snprintf(first, sizeof(first), "retry: %d\n\n", SSE_RETRY_MS);
    api__stream_enter(st);
    /* The starting cursor, so a client that drops before any event resumes from here. */
    if (!http_stream_write(r, first, (size_t)n))
        (void)!api__stream_sse_id_line(st, "\n");
    if (api__stream_leave(st) && api__stream_go_live(st, resume)) {
        api__stream_enter(st);
        (void)api__stream_alerts_start(st); /* civil-protection status: after joining */
        if (api__stream_leave(st))
            http_stream_trim(r); /* the request is read: keep only the connection */
    }
    free(resume);
    return;
fail:
    free(resume);
    api__stream_free(st);
}

static const struct http_route routes[] = {
    { HTTP_M_GET, 0, "/api/v1/stream", stream_get, 0, NULL },
    { HTTP_M_GET, 0, "/api/v1/ws", api__stream_ws_get, 0, NULL },
};

API_ROUTE_SET(api_stream_routes, routes);
