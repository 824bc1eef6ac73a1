/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The fan-out hub: committed events in, the same encoded bytes out to every subscriber.
 *
 * Each event is encoded ONCE per wire format (Server-Sent Events, with and without HTTP/1.1
 * chunk framing, and one WebSocket text frame) into an immutable, refcounted struct fanout_msg
 * shared by every subscriber on every loop thread: no per-subscriber allocation, copy or JSON
 * encoding on the way out. fanout_publish() (any thread; the store's writer calls it from its
 * event sink) hands the messages to each loop's inbox and wakes the loop with the loop's own
 * post function (uv_async underneath); each loop then walks its channel -> subscribers index,
 * FANOUT_SLICE deliveries at a time, so that a loop keeps answering requests during a long
 * fan-out. Events of one channel that queued up meanwhile (a burst of posts, count updates)
 * reach each subscriber together, in one write: under load the hub makes fewer, fuller writes
 * instead of falling further behind.
 *
 * A subscriber that cannot keep up is cut off, not waited for: one slow phone on a bad network
 * must not delay a flood warning to everyone else. Before each run of messages the hub asks
 * the subscriber how many bytes it still has unsent; one already behind whose unsent bytes and
 * the run would pass queue_bytes is cut off (it reconnects and resumes with Last-Event-ID /
 * since, losing nothing).
 *
 * The hub knows nothing of HTTP or of the store: a subscriber is three callbacks (struct
 * fanout_sub_ops) and an opaque context. Depends on core/ only (docs/FANOUT.md).
 */
#ifndef FANOUT_FANOUT_H
#define FANOUT_FANOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"

struct fanout;      /* opaque: one per process */
struct fanout_loop; /* opaque: one per loop thread */
struct fanout_sub;  /* opaque: one per subscriber (a stream) */
struct fanout_msg;  /* opaque, refcounted, immutable once published */

struct fanout_opts {
    size_t queue_bytes;    /* most unsent bytes per subscriber before it is cut off (> 0) */
    uint64_t heartbeat_ms; /* a heartbeat message to every subscriber this often (0: none) */
};

/* Create the hub (starts the heartbeat thread when heartbeat_ms > 0). NULL on failure. */
struct fanout *fanout_new(const struct fanout_opts *o);
/* Stop the heartbeat thread and free. Every loop must be freed first. NULL is a no-op. */
void fanout_free(struct fanout *f);

/* ---- messages ---- */

enum fanout_msg_type {
    FANOUT_EVENT = 1,     /* a committed channel event */
    FANOUT_HEARTBEAT = 2, /* SSE comment ":\n\n" / WebSocket ping, to every subscriber */
    FANOUT_NOTICE = 3,    /* "something about you changed", to the subscribers of one key */
    FANOUT_ACCESS = 4,    /* a channel's access rules changed, to the channel's subscribers */
};

/* The byte views of one message; each is a slice of the message's single buffer. */
enum fanout_wire {
    FANOUT_SSE = 0,        /* "id: <handle>:<seq>\nevent: <kind>\ndata: <json>\n\n" */
    FANOUT_SSE_NOID,       /* the same without its id line (the stream writes its own cursor) */
    FANOUT_SSE_CHUNK,      /* FANOUT_SSE framed as one HTTP/1.1 chunk ("<hex>\r\n...\r\n") */
    FANOUT_SSE_NOID_CHUNK, /* FANOUT_SSE_NOID framed as one chunk */
    FANOUT_WS,             /* one unmasked WebSocket text frame (RFC 6455 section 5.2) */
    FANOUT_WIRE_COUNT,
};

/*
 * The WebSocket frame's payload for an event:
 *   {"type":"event","channel":"<handle>","seq":N,"event":"<kind>","data":<payload>}
 * A heartbeat's FANOUT_WS view is a ping frame with an empty payload; its SSE views are the
 * comment ":\n\n".
 */

/* One committed event as handed to fanout_publish (strings borrowed for the call). */
struct fanout_event {
    int64_t channel_id;
    const char *channel; /* handle */
    int64_t seq;
    const char *kind;
    const char *payload; /* a JSON value on one line (compact encoding) */
    size_t payload_len;
    int64_t created_ms;
};

/*
 * Encode `ev` into a new message (refcount 1): for tests, replay and the publisher. Returns
 * NULL when a field is out of bounds (channel handle over 63 bytes, kind over 31 bytes, payload
 * over 1 MiB). Any thread.
 */
struct fanout_msg *fanout_msg_new(const struct fanout_event *ev);
/* Take / drop a reference. Any thread; unref frees on the last one. NULL-safe. */
struct fanout_msg *fanout_msg_ref(struct fanout_msg *m);
void fanout_msg_unref(struct fanout_msg *m);
/* fanout_msg_unref with the signature of a release callback (struct http_shared). */
void fanout_msg_release(void *m);

enum fanout_msg_type fanout_msg_type(const struct fanout_msg *m);
int64_t fanout_msg_channel_id(const struct fanout_msg *m);  /* 0 for a heartbeat */
int64_t fanout_msg_seq(const struct fanout_msg *m);         /* 0 for a heartbeat */
const char *fanout_msg_channel(const struct fanout_msg *m); /* handle; "" for a heartbeat */
const char *fanout_msg_kind(const struct fanout_msg *m);    /* "" for a heartbeat */
int64_t fanout_msg_key(const struct fanout_msg *m);         /* FANOUT_ACCESS: its key; else 0 */
/* The bytes of view `w` (valid as long as a reference is held). */
const char *fanout_msg_bytes(const struct fanout_msg *m, enum fanout_wire w, size_t *len);

/*
 * Publish committed events, in commit order (per channel the seqs must increase). Encodes each
 * once and queues it on every registered loop; returns without waiting for any subscriber.
 * Any thread (the store's writer thread, through its event sink). Events that cannot be
 * encoded are logged and skipped (streams then see a seq gap and resume from the store).
 */
void fanout_publish(struct fanout *f, const struct fanout_event *ev, size_t n);

/*
 * Tell the subscribers that joined `key` that something about them changed (a follower's
 * follows, say): nothing is encoded, stored or replayed; each one's write op gets a message of
 * type FANOUT_NOTICE whose fanout_msg_channel_id() is `key`, in order with the events around
 * it. `key` must be negative, so that it is never a channel id. Any thread.
 */
void fanout_notify(struct fanout *f, int64_t key);

/*
 * Tell the subscribers of channel `channel_id` that someone's right to read it ended (the
 * store's access markers: `kind` such as "access.unlisted", `key` whose right; both opaque to
 * the hub). Nothing is encoded: each subscriber's write op gets one message of type
 * FANOUT_ACCESS, alone, in order with the channel's events around it — published after the
 * events committed before the change and before those committed after it, so a subscriber
 * that ends its subscription there never gets a later event. Any thread (the event sink).
 */
void fanout_access(struct fanout *f, int64_t channel_id, const char *kind, int64_t key);

/* ---- loops ---- */

/*
 * How the hub wakes a loop: run fn(arg) on the loop's thread soon (http_loop_post). Returns 0,
 * or a negative errno when the loop is stopping (then fn is never called).
 */
typedef int fanout_post_fn(void *post_ctx, void (*fn)(void *arg), void *arg);

/*
 * Register the calling loop thread with the hub. From now on published messages are queued for
 * it and delivered on it. Loop thread; cannot fail.
 */
struct fanout_loop *fanout_loop_new(struct fanout *f, fanout_post_fn *post, void *post_ctx);
/*
 * Unregister and free (queued messages are dropped). Every subscriber of the loop must be
 * freed first. The loop's thread, after its event loop stopped (or from its last callback).
 * NULL is a no-op.
 */
void fanout_loop_free(struct fanout_loop *l);
/* Subscribers on this loop, and channels (or notice keys) with at least one (tests). */
size_t fanout_loop_subscribers(const struct fanout_loop *l);
size_t fanout_loop_channels(const struct fanout_loop *l);

/* ---- subscribers (the loop's thread only) ---- */

/* Most messages handed to one subscriber in one write (a run of one channel's events). */
#define FANOUT_RUN_MAX 32

/*
 * Deliveries a loop makes before it lets its other work run (new connections, requests, the
 * next publish): a fan-out to 19,000 subscribers never holds a loop for its whole length.
 */
#define FANOUT_SLICE 256

struct fanout_sub_ops {
    /* Bytes this subscriber has queued but not yet written to its socket. */
    size_t (*unsent)(void *ctx);
    /*
     * Send messages m[0 .. n-1] (borrowed: take fanout_msg_ref() to keep one until its write
     * completes), best in one write: the hub hands a subscriber every message of a channel that
     * is due to it at once (n <= FANOUT_RUN_MAX), in publish order; a heartbeat comes alone
     * (n = 1). Called for events of the channels joined and for heartbeats. May free the
     * subscriber (fanout_sub_free) when the write fails.
     */
    void (*write)(void *ctx, struct fanout_msg *const *m, size_t n);
    /*
     * The subscriber fell behind (unsent bytes plus the run past queue_bytes): end its stream now
     * (it will resume from the store). Must call fanout_sub_free() before returning.
     */
    void (*cutoff)(void *ctx);
};

/* A new subscriber on loop `l`, in no channel yet. `ops` must outlive it. Cannot fail. */
struct fanout_sub *fanout_sub_new(struct fanout_loop *l, const struct fanout_sub_ops *ops,
                                  void *ctx);
/*
 * Join channel `channel_id`: its messages published from now on (as seen by this loop) reach
 * the subscriber. Returns 0, or -EEXIST if already joined.
 */
MUST_CHECK int fanout_sub_join(struct fanout_sub *s, int64_t channel_id);
/* Leave the channel: returns 0, or -ENOENT if not joined. */
MUST_CHECK int fanout_sub_leave(struct fanout_sub *s, int64_t channel_id);
/* Leave every channel and free. Safe from inside the subscriber's own ops. NULL is a no-op. */
void fanout_sub_free(struct fanout_sub *s);
/* The queue limit that applies to every subscriber of this hub (fanout_opts.queue_bytes). */
size_t fanout_queue_bytes(const struct fanout *f);
struct fanout *fanout_loop_hub(const struct fanout_loop *l);

/* Counters since start (any thread; relaxed): for /metrics and the benchmark. */
struct fanout_stats {
    uint64_t published;   /* events published */
    uint64_t delivered;   /* messages handed to subscribers' write (events and heartbeats) */
    uint64_t cutoffs;     /* subscribers cut off for falling behind */
    uint64_t subscribers; /* now, over every loop */
};
void fanout_stats(struct fanout *f, struct fanout_stats *out);

#endif
