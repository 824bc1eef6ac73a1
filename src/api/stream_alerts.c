/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The civil-protection status at stream start: a stream sends, once it is live, the current
 * status (api__alerts_current) of every org among its channels, as an `alerts.current` event
 * without an id (SSE) or a {"type":"alerts.current"} message (WebSocket), so a client that
 * connects after an alert still shows its banner. Later changes arrive as `alert` events of
 * the channels themselves (store/alerts.c writes them).
 *
 * Encoded once: each loop keeps, per org, the status's SSE bytes and WebSocket text, valid
 * while no alert was published since (a generation the event sink bumps BEFORE it publishes an
 * `alert` event), for at most a second, and never past the next onset or expiry. A stream
 * joins its channels before it looks here, so a status computed before a publish is either
 * replaced (the generation moved) or followed by that alert's live event (it did not yet).
 * On a reconnect storm each loop computes an org's status once a second, not once a client.
 */
#include "api/stream_live_int.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/alerts_int.h"
#include "cap/cap.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "store/channels.h"

#define CACHE_SLOTS   16
#define CACHE_MAX_MS  1000
#define ORGS_PER_LIST 64

static _Atomic uint64_t alerts_gen;

void api__stream_alerts_changed(void)
{
    atomic_fetch_add(&alerts_gen, 1);
}

struct alerts_slot {
    int64_t org_id;
    uint64_t gen;
    int64_t until_ms;
    char *sse, *ws; /* "event: alerts.current\ndata: ...\n\n", {"type":"alerts.current",...} */
    size_t sse_len, ws_len;
};

struct alerts_cache {
    struct alerts_slot slot[CACHE_SLOTS];
    unsigned next;
};

void api__alerts_cache_free(struct alerts_cache *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < CACHE_SLOTS; i++) {
        free(c->slot[i].sse);
        free(c->slot[i].ws);
    }
    free(c);
}

/* The earliest onset or expiry after `now` among the status's alerts: it changes then. */
static int64_t next_change(json_t *doc, int64_t now)
{
    static const char *const lists[] = { "alerts", "upcoming" };
    int64_t best = now + CACHE_MAX_MS;
    json_t *a;
    size_t i;

    for (size_t l = 0; l < 2; l++) {
        json_array_foreach(json_object_get(doc, lists[l]), i, a)
        {
            int64_t t;

            if (!cap_time_parse(json_string_value(json_object_get(a, "onset")), &t) && t > now &&
                t < best)
                best = t;
            if (!cap_time_parse(json_string_value(json_object_get(a, "expires")), &t) && t > now &&
                t < best)
                best = t;
        }
    }
    return best;
}

static struct alerts_slot *status_of(struct stream *st, int64_t org_id)
{
    struct api_loop *al = st->al;
    struct alerts_cache *c = al->alerts_cache;
    uint64_t gen = atomic_load(&alerts_gen);
    int64_t now = clock_now_ms();
    struct alerts_slot *s = NULL;
    struct store_org o;
    json_t *doc;
    char *data;
    size_t len;

    if (!c)
        c = al->alerts_cache = xcalloc(1, sizeof(*c));
    for (unsigned i = 0; i < CACHE_SLOTS; i++) {
        if (c->slot[i].org_id == org_id)
            s = &c->slot[i];
    }
    if (s && s->gen == gen && now < s->until_ms)
        return s;
    if (store_org_get_id(al->reader, org_id, &o))
        return NULL;
    doc = api__alerts_current(al->reader, &o, "Actual", now);
    if (!doc)
        return NULL;
    if (!s) {
        s = &c->slot[c->next];
        c->next = (c->next + 1) % CACHE_SLOTS;
    }
    free(s->sse);
    free(s->ws);
    data = json_encode(doc, &len);
    s->sse_len = len + 32;
    s->sse = xmalloc(s->sse_len + 1);
    s->sse_len =
        (size_t)snprintf(s->sse, s->sse_len + 1, "event: alerts.current\ndata: %s\n\n", data);
    s->ws_len = len + strlen(o.slug) + 64;
    s->ws = xmalloc(s->ws_len + 1);
    s->ws_len =
        (size_t)snprintf(s->ws, s->ws_len + 1,
                         "{\"type\":\"alerts.current\",\"org\":\"%s\",\"data\":%s}", o.slug, data);
    free(data);
    s->org_id = org_id;
    s->gen = gen;
    s->until_ms = next_change(doc, now);
    json_decref(doc);
    return s;
}

int api__stream_alerts_org(struct stream *st, int64_t org_id)
{
    struct alerts_slot *s = status_of(st, org_id);

    if (!s)
        return 0; /* logged: the stream goes on without it */
    if (st->ws)
        return http_ws_send_text(st->ws, s->ws, s->ws_len) ? -EPIPE : 0;
    return http_stream_write(st->req, s->sse, s->sse_len) ? -EPIPE : 0;
}

int api__stream_alerts_start(struct stream *st)
{
    int64_t orgs[ORGS_PER_LIST];
    struct store_channel *ch = xmalloc(sizeof(*ch));
    size_t n = 0;
    int err = 0;

    for (unsigned i = 0; i < st->n && n < ORGS_PER_LIST; i++) {
        bool seen = false;

        if (store_channel_get_id(st->al->reader, st->ch[i].id, ch))
            continue;
        for (size_t j = 0; j < n; j++)
            seen = seen || orgs[j] == ch->org_id;
        if (!seen)
            orgs[n++] = ch->org_id;
    }
    free(ch);
    for (size_t j = 0; j < n && !err && !st->closed; j++)
        err = api__stream_alerts_org(st, orgs[j]);
    return err;
}
