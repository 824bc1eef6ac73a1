/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The per-channel event stream seen from outside store/: the sink that hears each batch's
 * events once they are durable, and the read that replays what a resuming stream missed.
 *
 * Every change a follower can see (post.created, post.edited, post.deleted, channel.updated,
 * counts) is an event written in the same transaction as the change, with the channel's next
 * sequence number: 1, 2, 3 ... per channel, no gaps, no duplicates (store/events.c). A write
 * whose savepoint is rolled back takes its events with it: they are never handed to the sink,
 * and their seq is reused by the next event of that channel.
 */
#ifndef STORE_EVENTS_H
#define STORE_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"
#include "store/store.h"

#define STORE_EVENT_KIND_MAX 31 /* bytes of `kind` ("post.created") */

/* One committed event. Strings are borrowed: valid only during the callback that gets them. */
struct store_event {
    int64_t channel_id;
    const char *channel; /* the channel's handle ("comune-news"), as the API names it */
    int64_t seq;         /* 1, 2, 3 ... per channel */
    const char *kind;    /* "post.created", "post.edited", "post.deleted", "counts", ... */
    const char *payload; /* the event's JSON object as followers see it (counts, never people) */
    size_t payload_len;
    int64_t created_ms; /* the batch's clock */
    int64_t key;        /* an access marker's subject (below); 0 for an event */
};

/*
 * Access markers. A change that takes away someone's right to read a channel — the channel
 * turns unlisted, a follower unfollows it (or is forgotten), an invite link is revoked, an
 * admin is removed, the channel is deleted — hands the sink, in commit order among the
 * batch's events, an entry with seq 0 and one of these kinds. Markers are not stored, not
 * numbered and never replayed: they let live streams end what the change revoked before they
 * deliver any later event of the channel (api/stream_access.c, docs/FANOUT.md). `payload` is
 * "{}"; `key` names whose right ended, as store_access_key() of: the follower's token hash
 * (unfollowed), the invite code (invite_revoked), the user id's 8 bytes (admin_removed); 0
 * for unlisted and deleted.
 */
#define STORE_ACCESS_UNLISTED       "access.unlisted"
#define STORE_ACCESS_UNFOLLOWED     "access.unfollowed"
#define STORE_ACCESS_INVITE_REVOKED "access.invite_revoked"
#define STORE_ACCESS_ADMIN_REMOVED  "access.admin_removed"
#define STORE_ACCESS_DELETED        "access.deleted"
/*
 * Not an access marker but travelling like one, in commit order: a follower's follows changed
 * (a follow, or "forget me"; an unfollow says so with its access.unfollowed). `key` is
 * store_access_key() of the follower's token hash, `channel_id` the channel followed (0 for
 * "forget me"). The sink turns it into the hub notice the follower's streams listen for
 * (docs/FANOUT.md, Notices), on every node.
 */
#define STORE_NOTICE_FOLLOWS "notice.follows"
/*
 * Also travelling like a marker: citizen report `key` of org `channel_id` changed (status, note,
 * merge, forward, reopening). The sink has the report's public view published to its live
 * streams (api/reports_stream.c), on every node.
 */
#define STORE_NOTICE_REPORT "notice.report"

/* 64-bit FNV-1a of `n` bytes: an access marker's key (collisions only cost a re-check). */
static inline int64_t store_access_key(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return (int64_t)(h >> 1); /* never negative */
}

/*
 * Called ON THE WRITER THREAD after a batch's COMMIT is durable, before any of the batch's
 * writes is reported to its caller, with that batch's committed events in commit order (`n` ≥
 * 1; batches without events do not call it). Keep it short and never call back into the store's
 * write path: hand the events to another thread (fanout_publish does).
 */
typedef void store_event_sink_fn(void *ctx, const struct store_event *ev, size_t n);

/*
 * Register the sink (NULL: none). Call before the first write that matters, from the thread
 * that opened the store, while no batch is running (at startup). Only one sink.
 */
void store_set_event_sink(struct store *s, store_event_sink_fn *sink, void *ctx);

/* One event read back from the store (strings valid during the callback only). */
typedef void store_event_fn(void *ctx, const struct store_event *ev);

/*
 * Replay: call `each` for the events of channel `channel_id` with seq > `after_seq`, in seq
 * order, at most `limit` of them, read in one snapshot. `*last_seq` (may be NULL) receives the
 * channel's last seq in that snapshot. `ev->channel` is NULL here (the caller knows the handle).
 *
 * Returns 0, -ENOENT if the channel does not exist, or -ERANGE when the events right after
 * `after_seq` are no longer there (purged by retention: the stream must send `reset`, never
 * skip silently) or `after_seq` is beyond the channel's last seq (a position this database
 * never gave out, e.g. after restoring an older backup); `each` is not called then, but
 * `*last_seq` is set. The reader's own thread.
 */
MUST_CHECK int store_events_since(struct store_reader *r, int64_t channel_id, int64_t after_seq,
                                  unsigned limit, store_event_fn *each, void *ctx,
                                  int64_t *last_seq);

/*
 * The position of channel `channel_id` just before `before_ms`: the seq of its last event
 * written earlier than that (0: none). A stream that takes up a channel its follower just
 * followed starts there, so an event committed after the follow is never skipped, whenever the
 * stream hears of the follow. 0 or -EIO. The reader's own thread.
 */
MUST_CHECK int store_events_seq_before(struct store_reader *r, int64_t channel_id,
                                       int64_t before_ms, int64_t *seq);

#endif
