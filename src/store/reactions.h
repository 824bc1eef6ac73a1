/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Emoji reactions and polls on posts, and the coalesced "counts" events, over the store
 * (store.h explains the threading: writes go to the writer thread and report through `done`,
 * reads use the calling thread's struct store_reader).
 *
 * Counts, not people: a follower is named only by the SHA-256 of its token, going in. Nothing
 * here returns who reacted or voted, not even to the channel's owner or an operator: the
 * reactions and votes tables are read only to enforce one reaction / one vote per follower,
 * and every result is an aggregate kept exact by triggers in the writer's transaction
 * (migrations/006_reactions_polls.sql). No audit entry is ever written for a reaction or a
 * vote.
 */
#ifndef STORE_REACTIONS_H
#define STORE_REACTIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"
#include "core/secret.h"
#include "store/channels.h"
#include "store/store.h"

/* Limits (the API validates with these; the schema's CHECKs mirror them). */
#define REACTION_EMOJI_MAX_BYTES 48  /* the longest RGI sequences (kiss, skin tones) are 35 */
#define REACTIONS_SHOWN_MAX      50  /* distinct emoji in a post's "reactions", most used first */
#define POLL_QUESTION_MAX        255 /* characters */
#define POLL_OPTION_MAX          100 /* characters per option */
#define POLL_OPTIONS_MIN         2
#define POLL_OPTIONS_MAX         12
#define POLL_CLOSE_MAX_MS        (366LL * 24 * 3600 * 1000) /* closes_at at most a year ahead */
#define COUNTS_BATCH_MAX         1000                       /* posts per store_counts_events call */
/* A channel's reaction set (store/channels.h) takes every emoji a follower may react with. */
_Static_assert(CHANNEL_EMOJI_MAX == REACTION_EMOJI_MAX_BYTES,
               "a channel's reaction set takes every emoji a follower may react with");

/* Stored sizes of the aggregates as JSON text (struct store_post carries them). */
#define REACTIONS_JSON_BYTES (REACTIONS_SHOWN_MAX * (REACTION_EMOJI_MAX_BYTES + 24) + 4)
/* SQLite's JSON writes a character in at most 6 bytes (\u00XX) */
#define POLL_JSON_BYTES \
    ((POLL_QUESTION_MAX + POLL_OPTIONS_MAX * POLL_OPTION_MAX) * 6 + POLL_OPTIONS_MAX * 48 + 256)

/*
 * Whether `s` (`len` bytes) is exactly one emoji: one extended grapheme cluster made of emoji
 * code points, as UTS #51 spells them: a pictographic code point (Extended_Pictographic) with
 * an optional VS16 (U+FE0F) or skin-tone modifier (U+1F3FB..U+1F3FF); up to 10 of those joined
 * by ZWJ (U+200D); a keycap ([0-9#*] U+FE0F? U+20E3); a flag (two regional indicators); or a
 * tag sequence (U+1F3F4 tags U+E007F, e.g. Scotland). Strict UTF-8 (no overlong forms,
 * surrogates or NUL), 1..REACTION_EMOJI_MAX_BYTES bytes. Text, two emoji, a lone modifier or
 * VS15 (text presentation) are not. Pure; any thread.
 */
bool store_emoji_valid(const char *s, size_t len);

/*
 * The fully-qualified spelling of emoji `s` (UTS #51, as Unicode's emoji-test.txt lists it):
 * VS16 (U+FE0F) after each code point shown as text by default (e.g. U+2764 heavy black heart)
 * unless a skin tone follows, and nowhere else. A heart with or without VS16, a rainbow flag
 * with or without it on the white flag, become one, in the form phones show as emoji, so a
 * reaction counts once however it was typed. Writes the result and a NUL to `out`; returns its
 * length, -EINVAL when `s` is not one emoji (store_emoji_valid), or -E2BIG when the result
 * would pass REACTION_EMOJI_MAX_BYTES (no emoji of Unicode's does).
 * Pure; any thread.
 */
MUST_CHECK int store_emoji_canonical(const char *s, size_t len,
                                     char out[REACTION_EMOJI_MAX_BYTES + 1]);

/*
 * What a reaction or a vote needs to know before it is queued, in one read: the post, its
 * channel's reaction policy and retention, whether the caller (the follower `hash`) follows
 * that channel, and the post's poll if any. Only the caller's own follow is looked at.
 */
struct store_post_target {
    int64_t channel_id;
    bool published;
    int64_t published_ms;
    int retention_days;
    int reaction_policy; /* enum store_reaction_policy (store/channels.h) */
    char reactions_json[CHANNEL_REACTIONS_JSON_BYTES]; /* the policy's set, "" unless "set" */
    bool follows;                                      /* the caller follows the post's channel */
    bool listed;                                       /* the post's channel is listed */
    bool has_poll;
    unsigned n_options;
    bool multiple;
    int64_t closes_ms; /* 0: never closes */
};
/* Post `post_id` seen by the follower `hash`. -ENOENT if there is no such post. Reader's thread. */
MUST_CHECK int store_post_target(struct store_reader *r, int64_t post_id,
                                 const uint8_t hash[SECRET_HASH_LEN],
                                 struct store_post_target *out);

/* ---- polls ---- */

/* A new poll, made with its post (store_post_fields.poll). Strings borrowed for the call. */
struct store_poll_new {
    const char *question;                  /* 1..POLL_QUESTION_MAX characters */
    const char *options[POLL_OPTIONS_MAX]; /* 1..POLL_OPTION_MAX characters each */
    unsigned n_options;                    /* POLL_OPTIONS_MIN..POLL_OPTIONS_MAX */
    bool multiple;                         /* several options per vote */
    int64_t closes_ms;                     /* 0: never closes */
};
/* Whether `p` is within the limits above (lengths in characters, valid UTF-8 assumed). */
bool store_poll_new_valid(const struct store_poll_new *p);

/* What a vote needs to know about a poll. */
struct store_poll_info {
    unsigned n_options;
    bool multiple;
    int64_t closes_ms; /* 0: never closes */
};
/* Post `post_id`'s poll. -ENOENT if the post has none. Reader's thread. */
MUST_CHECK int store_poll_get(struct store_reader *r, int64_t post_id, struct store_poll_info *out);

/*
 * The poll as everyone sees it, from the stored aggregate `raw` (struct store_post.poll_json):
 * {question, options: [{text, votes}], multiple, closes_at (RFC 3339 or null), closed,
 * total_voters}, `closed` judged at `now_ms`. NULL for "" (no poll) or unreadable text. New
 * reference; any thread.
 */
json_t *store_poll_json(const char *raw, int64_t now_ms);

/* ---- writes (any thread; see store.h for done/ctx) ---- */

/*
 * React to post `post_id` with `emoji` as the follower `hash`, replacing its previous reaction
 * if any (the counts move in the same transaction). The caller has checked the channel's
 * policy and that the follower follows it. -ENOENT if the post or the follower is gone (or the
 * post is not published), -EINVAL (before queuing) for an emoji store_emoji_valid() refuses.
 * `id` reports the post id when something changed (the counts moved), 0 when it was already
 * this reaction.
 */
MUST_CHECK int store_reaction_put(struct store *s, const uint8_t hash[SECRET_HASH_LEN],
                                  int64_t post_id, const char *emoji, size_t len,
                                  store_done_fn *done, void *ctx);
/* Remove the follower's reaction to the post. Idempotent: `id` is the post id when one
 * was removed, else 0. */
MUST_CHECK int store_reaction_delete(struct store *s, const uint8_t hash[SECRET_HASH_LEN],
                                     int64_t post_id, store_done_fn *done, void *ctx);

/*
 * Vote in post `post_id`'s poll as the follower `hash`: `choices` is the bit set of the chosen
 * options (bit i: option i), replacing its previous vote. -ENOENT if the post, its poll or the
 * follower is gone; -ETIME when the poll is closed at the batch's time; -EINVAL for an option
 * out of range or several options in a single-choice poll (checked again in the transaction).
 * `id` is the post id when something changed, else 0.
 */
MUST_CHECK int store_vote_put(struct store *s, const uint8_t hash[SECRET_HASH_LEN], int64_t post_id,
                              uint32_t choices, store_done_fn *done, void *ctx);
/* Retract the follower's vote. -ETIME when the poll is closed; else idempotent (`id` as for
 * store_vote_put). */
MUST_CHECK int store_vote_delete(struct store *s, const uint8_t hash[SECRET_HASH_LEN],
                                 int64_t post_id, store_done_fn *done, void *ctx);

/*
 * The coalescer's write: for each of `n` (1..COUNTS_BATCH_MAX) posts, one "counts" event on
 * its channel with the counters as they are in this transaction:
 * {"post": "id", "reactions": {emoji: n}, "poll": {...} or null, "views": n}. Posts that are
 * gone or not published are skipped. `id` reports how many events were written.
 */
MUST_CHECK int store_counts_events(struct store *s, const int64_t *post_ids, size_t n,
                                   store_done_fn *done, void *ctx, int64_t *written);

/*
 * Whether any post is marked for a "counts" event (store/reactions.c marks posts in the
 * reaction's, vote's or forget's transaction). Any thread with its reader.
 */
MUST_CHECK int store_counts_pending(struct store_reader *r, bool *any);
/*
 * The coalescer's write: one "counts" event for each of up to `max` (1..COUNTS_BATCH_MAX)
 * marked posts, and their marks deleted, in one transaction. Blocks until durable; `*written`
 * is the number of marks taken (events for posts no longer published are skipped).
 */
MUST_CHECK int store_counts_flush(struct store *s, int max, int64_t *written);

#endif
