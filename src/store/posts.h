/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Posts (published or scheduled), their edit history, pins, views, the scheduler's publishing
 * and the retention sweeper, over the store (store.h explains the threading: writes go to the
 * writer thread and report through `done`, reads use the calling thread's struct store_reader).
 *
 * Privacy by construction: a post names no author (the audit log does); a follower is named
 * only by the SHA-256 of its token, and views come back as a count per post, never as who.
 */
#ifndef STORE_POSTS_H
#define STORE_POSTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"
#include "core/secret.h"
#include "store/reactions.h"
#include "store/store.h"

/* Limits (the API validates with these; the schema's CHECKs mirror them). */
#define POST_TEXT_MAX        4096 /* characters */
#define POST_MEDIA_MAX       10   /* media references per post */
#define POST_MEDIA_ID_MAX    64   /* bytes: an opaque media id */
#define POST_ALT_MAX         1000 /* characters of alt text, at least 1 */
#define POST_LIST_MAX        100  /* posts per page */
#define POST_LIST_DEFAULT    20
#define POST_VIEWS_MAX       100                        /* post ids in one views report */
#define POST_EDIT_WINDOW_MS  (30LL * 24 * 3600 * 1000)  /* editable 30 days after publication */
#define POST_SCHEDULE_MAX_MS (366LL * 24 * 3600 * 1000) /* publish_at at most a year ahead */
#define POST_DAY_MS          (24LL * 3600 * 1000)

/* Stored sizes: characters are at most 4 bytes of UTF-8. */
#define POST_TEXT_BYTES  ((size_t)POST_TEXT_MAX * 4)
#define POST_MEDIA_BYTES (POST_MEDIA_MAX * (POST_MEDIA_ID_MAX + POST_ALT_MAX * 6 + 32) + 2)
/* A read post's media, each reference with its details (kind, mime, bytes, width, height). */
#define POST_MEDIA_READ_BYTES (POST_MEDIA_BYTES + POST_MEDIA_MAX * 192)

enum store_importance {
    STORE_SILENT = 0,
    STORE_NORMAL = 1,
    STORE_IMPORTANT = 2, /* push notification, later */
};
/* "silent"/"normal"/"important" <-> enum; parse returns 0 or -EINVAL. */
const char *store_importance_name(enum store_importance i);
MUST_CHECK int store_importance_parse(const char *s, enum store_importance *out);

struct store_post {
    int64_t id;
    int64_t channel_id;
    char channel[40]; /* the channel's handle */
    char text[POST_TEXT_BYTES + 1];
    /* JSON array of {"id", "alt", "transcript"} with the media's details (store_post_json) */
    char media_json[POST_MEDIA_READ_BYTES + 1];
    enum store_importance importance;
    bool scheduled;       /* not yet published: only admins ever see it */
    int64_t published_ms; /* when it went out, or will go out when scheduled */
    int64_t edited_ms;    /* 0: never edited */
    int64_t views;
    bool pinned;
    int64_t created_ms;
    char reactions_json[REACTIONS_JSON_BYTES + 1]; /* {"emoji": n}, most used first */
    char poll_json[POLL_JSON_BYTES + 1];           /* "" or the raw poll (store_poll_json) */
};

/*
 * The post as followers and the public see it: id, channel, text, html (core/format), media
 * (each {id, alt?, transcript?, kind, mime, bytes} plus width, height, small_url and large_url
 * for an image, url for a voice note or document: docs/API.md, "The post object"),
 * importance, published_at, edited, edited_at (or null), pinned, views, reactions
 * ({"emoji": count}), poll (store_poll_json, or null), scheduled. Never an author, never who
 * reacted or voted. New reference; the "post.created" event carries exactly this. Any thread.
 */
json_t *store_post_json(const struct store_post *p);

/* ---- writes (any thread; see store.h for done/ctx/id_out) ---- */

/*
 * A new post or the fields of an edit. Strings are borrowed until the call returns (copied).
 * `media_json` is a JSON array of {"id","alt"} objects checked by the caller against the
 * POST_MEDIA_* limits ("[]" or NULL: none). `publish_at_ms` (create only): 0 or a time not in
 * the future publishes now; a future time schedules the post.
 */
struct store_post_fields {
    const char *text;
    const char *media_json;
    bool has_importance;
    enum store_importance importance;
    int64_t publish_at_ms;
    const struct store_poll_new *poll; /* create only: NULL or a poll (store_poll_new_valid) */
};

/*
 * Create a post in channel `channel_id` by staff `user_id` (audit "post.create"). Published
 * now: writes the "post.created" event and sets the channel's last_post_ms in the same
 * transaction. -ENOENT if the channel is gone, -EINVAL for a field out of its limits. The id
 * is the post's.
 */
MUST_CHECK int store_post_create(struct store *s, int64_t channel_id, int64_t user_id,
                                 const struct store_post_fields *f, store_done_fn *done, void *ctx,
                                 int64_t *id_out);
/*
 * Edit post `post_id` (the fields set in `f`; publish_at_ms is ignored) as `user_id`: the
 * previous version goes to the edit history, edited_ms is set, "post.edited" is written when
 * published, audit "post.edit". -ENOENT if gone, -EKEYEXPIRED past POST_EDIT_WINDOW_MS after
 * publication (scheduled posts are always editable).
 */
MUST_CHECK int store_post_edit(struct store *s, int64_t post_id, int64_t user_id,
                               const struct store_post_fields *f, store_done_fn *done, void *ctx);
/*
 * Delete post `post_id` for everyone, with its views and history: "post.deleted" {"id"} when it
 * was published, audit "post.delete". -ENOENT if gone.
 */
MUST_CHECK int store_post_delete(struct store *s, int64_t post_id, int64_t user_id,
                                 store_done_fn *done, void *ctx);
/*
 * Pin published post `post_id` in channel `channel_id` (0: unpin), replacing any pin; writes
 * "channel.updated" {"pinned_post_id"} and audit "post.pin"/"post.unpin". -ENOENT if the post
 * is not a published post of that channel.
 */
MUST_CHECK int store_post_pin(struct store *s, int64_t channel_id, int64_t post_id, int64_t user_id,
                              store_done_fn *done, void *ctx);
/*
 * Count views of the follower `hash` on `n` posts (1..POST_VIEWS_MAX): once per follower per
 * post, ignoring ids that are not published posts (deleted, swept or unknown) and posts the
 * follower cannot read (of an unlisted channel it does not follow). -ENOENT if the follower is
 * unknown.
 */
MUST_CHECK int store_views_add(struct store *s, const uint8_t hash[SECRET_HASH_LEN],
                               const int64_t *post_ids, size_t n, store_done_fn *done, void *ctx);

/*
 * The scheduler: publish up to `batch` scheduled posts due at `now_ms` (published_ms keeps the
 * scheduled time), each with its "post.created" event, audit "post.publish" by the system and
 * last_post_ms, in one transaction. Blocks until durable (the scheduler's own thread, never an
 * event loop); `*published` is how many went out. Returns 0 or a negative errno.
 */
MUST_CHECK int store_posts_publish_due(struct store *s, int64_t now_ms, unsigned batch,
                                       int *published);
/*
 * The retention sweeper: delete up to `batch` published posts older than their channel's
 * retention at `now_ms` (published + retention_days < now) with everything attached (views,
 * edits; reactions and votes by cascade), then up to `batch` events older than the retention,
 * in one transaction. Blocks until durable (the sweeper's thread); `*deleted` is how many rows
 * went (posts + events): call again until it is 0. Returns 0 or a negative errno.
 */
MUST_CHECK int store_retention_sweep(struct store *s, int64_t now_ms, unsigned batch, int *deleted);

/* ---- reads (the reader's own thread) ---- */

/* Post `id` (published or scheduled) into `out`. -ENOENT if none. */
MUST_CHECK int store_post_get(struct store_reader *r, int64_t id, struct store_post *out);

struct store_post_query {
    int64_t channel_id;
    int64_t before_id;      /* 0: from the newest; else posts after this one (-ENOENT if gone) */
    unsigned limit;         /* 1..POST_LIST_MAX */
    bool include_scheduled; /* admins: scheduled posts too, first */
    int64_t since_ms;       /* only posts published at or after this (the retention window) */
};
/*
 * The channel's posts newest first (scheduled ones, when asked, sort by their time, so they
 * come first), calling `each(ctx, post)` with a post borrowed for the call. `*more` (may be
 * NULL) tells whether a next page exists.
 */
typedef void store_post_fn(void *ctx, const struct store_post *p);
MUST_CHECK int store_post_list(struct store_reader *r, const struct store_post_query *q,
                               store_post_fn *each, void *ctx, bool *more);

struct store_post_edit {
    int64_t id;
    char editor_email[256]; /* "" when the account is gone */
    char text[POST_TEXT_BYTES + 1];
    char media_json[POST_MEDIA_BYTES + 1];
    enum store_importance importance;
    int64_t edited_ms;
};
/* Post `post_id`'s previous versions, oldest first. For channel admins only. */
typedef void store_post_edit_fn(void *ctx, const struct store_post_edit *e);
MUST_CHECK int store_post_edits(struct store_reader *r, int64_t post_id, store_post_edit_fn *each,
                                void *ctx);

#endif
