/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Web Push in the store: followers' push subscriptions, per-channel opt-out, the campaigns of
 * important posts and their durable send queue (store.h explains threads and done/ctx).
 *
 * A campaign is written in the same transaction as the post it announces: publishing an
 * important post (now, or by the scheduler) queues one delivery per subscription of every
 * follower of the channel who neither muted it nor opted out; deleting the post (by staff or
 * retention) drops its pending deliveries; an edit within PUSH_REPLACE_WINDOW_MS of publication
 * replaces the payload and sends again with the same Topic and tag, so a phone shows it once.
 *
 * Privacy: subscriptions are found by the follower's token hash and never listed for anyone
 * else. The sender (store_push_claim) sees endpoints and keys, and no follower.
 */
#ifndef STORE_PUSH_H
#define STORE_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"
#include "core/secret.h"
#include "store/store.h"

#define PUSH_ENDPOINT_MAX      2048 /* bytes */
#define PUSH_ORIGIN_MAX        300
#define PUSH_KEY_LEN           65 /* p256dh: uncompressed P-256 point */
#define PUSH_AUTH_LEN          16
#define PUSH_PAYLOAD_MAX       3993 /* bytes of plaintext: one aes128gcm record in 4096 bytes */
#define PUSH_TITLE_MAX         120  /* characters of the post's first line */
#define PUSH_TOPIC_MAX         32
#define PUSH_REPLACE_WINDOW_MS (15LL * 60 * 1000)
#define PUSH_CLAIM_MAX         4096 /* deliveries per claim */
/* Campaign keys: a post's id, minus an alert's id, or minus (this + a report's id). */
#define STORE_PUSH_REPORT_BASE (1LL << 40)

/* ---- subscriptions (follower side) ---- */

struct store_push_sub_new {
    const char *endpoint; /* https URL, ≤ PUSH_ENDPOINT_MAX */
    const char *origin;   /* its origin (push/outbound.h), for per-origin limits */
    uint8_t p256dh[PUSH_KEY_LEN];
    uint8_t auth[PUSH_AUTH_LEN];
};

/*
 * Add (or refresh: same endpoint, same follower, new keys) a subscription of the follower
 * `hash`, keeping at most `max` per follower. -ENOENT unknown follower, -EDQUOT when the
 * follower already has `max` others, -EEXIST when the endpoint belongs to another follower,
 * -EINVAL (before queuing) for a bad endpoint or origin. The id (done's) is 1 for a new
 * subscription, 0 for a refresh: nothing else leaves the store.
 */
MUST_CHECK int store_push_sub_add(struct store *s, const uint8_t hash[SECRET_HASH_LEN],
                                  const struct store_push_sub_new *sub, unsigned max,
                                  store_done_fn *done, void *ctx);
/* Delete the follower's subscription with this endpoint. -ENOENT if it has none such. */
MUST_CHECK int store_push_sub_delete(struct store *s, const uint8_t hash[SECRET_HASH_LEN],
                                     const char *endpoint, store_done_fn *done, void *ctx);
/*
 * Per-channel push on (true) or off for a channel the follower follows. -ENOENT if it does
 * not follow it.
 */
MUST_CHECK int store_push_channel_set(struct store *s, const uint8_t hash[SECRET_HASH_LEN],
                                      int64_t channel_id, bool on, store_done_fn *done, void *ctx);

/* The follower's own subscriptions (endpoints: only ever to their owner). */
struct store_push_sub {
    char endpoint[PUSH_ENDPOINT_MAX + 1];
    int64_t created_ms;
};
typedef void store_push_sub_fn(void *ctx, const struct store_push_sub *sub);
MUST_CHECK int store_push_subs(struct store_reader *r, const uint8_t hash[SECRET_HASH_LEN],
                               store_push_sub_fn *each, void *ctx);
/* Whether push is on for the follower and channel: `*on` (followed, not muted, not opted out). */
MUST_CHECK int store_push_channel_get(struct store_reader *r, const uint8_t hash[SECRET_HASH_LEN],
                                      int64_t channel_id, bool *push, bool *muted);

/* ---- campaigns (staff side) ---- */

struct store_push_progress {
    bool exists; /* false: the post pushed nothing (not important, or nobody subscribed) */
    int64_t total, sent, failed, remaining;
    int64_t created_ms, updated_ms;
};
/* Progress of post `post_id`'s campaign. 0 (exists false when there is none). */
MUST_CHECK int store_push_progress(struct store_reader *r, int64_t post_id,
                                   struct store_push_progress *out);

/* Campaigns with deliveries remaining, for /metrics: each(ctx, post_id, progress). */
typedef void store_push_campaign_fn(void *ctx, int64_t post_id,
                                    const struct store_push_progress *p);
MUST_CHECK int store_push_active(struct store_reader *r, unsigned limit,
                                 store_push_campaign_fn *each, void *ctx);

/* ---- the sender's queue (the push thread: blocking calls) ---- */

/* One delivery handed to the sender. */
struct store_push_job {
    int64_t queue_id;
    int64_t post_id;
    int64_t sub_id;
    int tries;          /* attempts before this one */
    int64_t created_ms; /* the campaign's (the TTL counts from there) */
    int64_t expires_ms; /* an alert's expiry: no TTL past it (0: a post's) */
    char endpoint[PUSH_ENDPOINT_MAX + 1];
    char origin[PUSH_ORIGIN_MAX + 1];
    uint8_t p256dh[PUSH_KEY_LEN];
    uint8_t auth[PUSH_AUTH_LEN];
    char urgency[12];
    char topic[PUSH_TOPIC_MAX + 1];
    char payload[PUSH_PAYLOAD_MAX + 1];
};

/*
 * Several nodes share one queue (docs/PUSH.md "Several nodes"). Each node names itself with a
 * `node` string (1..STORE_PUSH_NODE_MAX bytes, stable across its restarts): a claimed delivery
 * is leased to that node until due_ms (the lease's end). A lease that ends unanswered (its node
 * died) is due again and taken by whichever node claims next.
 */
#define STORE_PUSH_NODE_MAX 64

/*
 * Release the leases of `node` (its deliveries claimed before a crash or kill: due again now)
 * and those of no node (taken before leases had owners). Leases of other nodes are left to
 * expire: their node may be alive and sending. Once at start, before the first claim.
 * Blocking.
 */
MUST_CHECK int store_push_recover(struct store *s, const char *node, int *released);

/* The earliest due_ms in the queue (leases included), or INT64_MAX when it is empty. */
MUST_CHECK int store_push_next_due(struct store_reader *r, int64_t *due_ms);

/*
 * Extend the leases `node` holds on deliveries `ids[0..n)` (those it is sending) to the batch's
 * clock + `lease_ms` (a live node renews them every third of their length, so a short lease
 * never ends while it sends). Leases that ended and were taken over by another node are not
 * its any more and stay as they are. `*renewed` counts those renewed. Blocking (the push
 * thread).
 */
MUST_CHECK int store_push_renew(struct store *s, const char *node, const int64_t *ids, size_t n,
                                int64_t lease_ms, int *renewed);

/*
 * Claim for `node` up to `cap` (≤ PUSH_CLAIM_MAX) deliveries due at the batch's clock (never
 * leased, or their lease over), oldest first, skipping origins listed in `skip_origins_json` (a
 * JSON array of origins that are busy; NULL: none), leasing each for `lease_ms`. Rows another
 * node is claiming at the same moment are skipped (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite
 * has one writer). Fills `jobs[0..*n)`. Blocking (the push thread).
 */
MUST_CHECK int store_push_claim(struct store *s, const char *node, unsigned cap,
                                const char *skip_origins_json, int64_t lease_ms,
                                struct store_push_job *jobs, size_t *n);

enum store_push_outcome {
    STORE_PUSH_SENT = 0,   /* accepted by the push service: delete the delivery, count sent */
    STORE_PUSH_GONE = 1,   /* 404/410: delete the subscription, count failed */
    STORE_PUSH_RETRY = 2,  /* try again at retry_at_ms */
    STORE_PUSH_FAILED = 3, /* given up: delete the delivery, count failed */
};
struct store_push_result {
    int64_t queue_id, post_id, sub_id;
    enum store_push_outcome outcome;
    int64_t retry_at_ms;
};
/*
 * Record `n` outcomes of `node`'s sends in one transaction, each campaign's counts once per
 * batch. A delivery whose campaign changed while in flight (edited) is sent again instead of
 * deleted. Rows gone meanwhile (post or subscription deleted, or another node's outcome) are
 * skipped. A delivery sent, gone or given up is final whoever holds its lease now; a retry
 * only while `node` still holds the lease (else the node that took it over decides). Blocking
 * (the push thread).
 */
MUST_CHECK int store_push_results(struct store *s, const char *node,
                                  const struct store_push_result *res, size_t n);

/* ---- the cluster's VAPID key (a secret: never in a response, a log or an export) ---- */

#define STORE_PUSH_PEM_MAX 4096

/*
 * The VAPID private key (PEM) every node signs with: stores `candidate_pem` unless a key is
 * there already (INSERT ... ON CONFLICT DO NOTHING: nodes starting together agree), then reads
 * the stored one back into `*pem` (caller wipes it with explicit_bzero() and frees it,
 * whatever the return: a commit may fail after it was read).
 * `*stored` tells whether the candidate was the one stored. Blocking (start, CLI).
 */
MUST_CHECK int store_push_vapid(struct store *s, const char *candidate_pem, char **pem,
                                bool *stored);

#endif
