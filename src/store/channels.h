/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Channels, their admins, invite links, anonymous followers and the directory, over the store
 * (store.h explains the threading: writes go to the writer thread and report through `done`,
 * reads use the calling thread's struct store_reader).
 *
 * Privacy by construction: a follower is named to the store only by the SHA-256 of its bearer
 * token (`hash`). Nothing here returns a follower's id, hash or token: only counts and the
 * calling follower's own follows.
 *
 * Contract for the tables of later migrations (posts, views, reactions, votes):
 *  - rows that belong to a channel reference channels(id) ON DELETE CASCADE: deleting a
 *    channel deletes everything attached to it in the same transaction;
 *  - rows that belong to a follower (views, reactions, votes) reference followers(id)
 *    ON DELETE CASCADE, and any per-post counter they feed (reaction counts, vote counts, view
 *    counts) is decremented by an AFTER DELETE trigger on that table, so that "forget me"
 *    (store_follower_forget, which deletes the followers row only) leaves every count exact;
 *  - the posts code keeps channels.posts_count, channels.last_post_ms (the directory's
 *    "active" order) and channels.pinned_post_id up to date in its own writes.
 */
#ifndef STORE_CHANNELS_H
#define STORE_CHANNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"
#include "core/secret.h"
#include "store/store.h"

/* Limits, in characters unless said otherwise (the API validates them with these). */
#define CHANNEL_HANDLE_MIN    3
#define CHANNEL_HANDLE_MAX    32
#define CHANNEL_NAME_MAX      100
#define CHANNEL_DESC_MAX      2000
#define CHANNEL_ICON_MAX      63 /* bytes: a media id */
#define CHANNEL_LANGUAGE_MAX  15 /* bytes: a short BCP 47 tag such as "it" or "de-AT" */
#define CHANNEL_REACTIONS_MAX 12 /* emoji in a reaction set */
/*
 * Bytes per emoji in a reaction set: whatever a follower may react with, so the same as
 * REACTION_EMOJI_MAX_BYTES (store/reactions.h checks it). The longest emoji of Unicode's
 * emoji-test.txt (15.0) are 35 bytes (kiss with two skin tones); the validator's 48 leaves room.
 */
#define CHANNEL_EMOJI_MAX 48
/*
 * A reaction set as stored, compact JSON with its NUL: "[" "\"e\"" ("," "\"e\"")* "]" NUL is at
 * most 12 x (48 + 3) + 2 = 614 bytes; an emoji has no character JSON escapes (no quote,
 * backslash or control character).
 */
#define CHANNEL_REACTIONS_JSON_BYTES (CHANNEL_REACTIONS_MAX * (CHANNEL_EMOJI_MAX + 3) + 4)
#define CHANNEL_RETENTION_DEF        30 /* days */
#define CHANNEL_CATEGORY_DEFAULT     "news"
#define CHANNEL_LANGUAGE_DEFAULT     "it"
#define CHANNEL_RETENTION_MIN        1
#define CHANNEL_RETENTION_MAX        365
#define CHANNEL_ADMINS_MAX           16 /* admins besides the owner */
#define CHANNEL_INVITATION_DAYS      7  /* an admin invitation expires after this */
#define CHANNEL_INVITE_CODE_MAX      64 /* bytes */

enum store_reaction_policy {
    STORE_REACT_ANY = 0,
    STORE_REACT_SET = 1,
    STORE_REACT_NONE = 2,
};

enum store_channel_role {
    STORE_CHANNEL_NONE = 0,
    STORE_CHANNEL_ADMIN = 1,
    STORE_CHANNEL_OWNER = 2,
};

struct store_channel {
    int64_t id;
    int64_t org_id;
    char handle[40]; /* lower-case, [a-z0-9][a-z0-9_-]{2,31} */
    char name[CHANNEL_NAME_MAX * 4 + 4];
    char description[CHANNEL_DESC_MAX * 4 + 4];
    char icon[CHANNEL_ICON_MAX + 1]; /* "" when none */
    char category[24];               /* "news", "civil_protection", ... */
    char language[CHANNEL_LANGUAGE_MAX + 1];
    bool listed; /* visibility: listed (directory) or unlisted */
    bool verified;
    enum store_reaction_policy reaction_policy;
    char reactions_json[CHANNEL_REACTIONS_JSON_BYTES]; /* "" or [..] */
    int retention_days;
    int64_t pinned_post_id; /* 0: none */
    int64_t followers_count;
    int64_t posts_count;
    int64_t last_post_ms; /* 0: never posted */
    int64_t last_seq;     /* the channel's last event seq */
    int64_t created_ms;
    int64_t updated_ms;
    char org_slug[64];
    char org_name[804];
};

/* "any"/"set"/"none" <-> enum; parse returns 0 or -EINVAL. */
const char *store_reaction_policy_name(enum store_reaction_policy p);
MUST_CHECK int store_reaction_policy_parse(const char *s, enum store_reaction_policy *out);
/* Whether `c` is one of the channel categories (news, civil_protection, ... other). */
bool store_channel_category_valid(const char *c);
/*
 * Whether `h` is a valid handle as typed ([A-Za-z0-9][A-Za-z0-9_-]{2,31}: upper case is folded
 * on create and lookup) and not a reserved word ("new", "admin", "api", ...). `reserved` (may be
 * NULL) is set when the only problem is that the handle is reserved.
 */
bool store_channel_handle_valid(const char *h, bool *reserved);

/* ---- reads (the reader's own thread) ---- */

/* The channel with this handle (case-insensitive), with its org. -ENOENT if none. */
MUST_CHECK int store_channel_get(struct store_reader *r, const char *handle,
                                 struct store_channel *out);
/* The channel with this id. -ENOENT if none. */
MUST_CHECK int store_channel_get_id(struct store_reader *r, int64_t id, struct store_channel *out);
/* `user_id`'s role on the channel: STORE_CHANNEL_NONE, _ADMIN or _OWNER (as an int). */
MUST_CHECK int store_channel_role(struct store_reader *r, int64_t channel_id, int64_t user_id,
                                  int *role);
/* Whether the follower whose token hashes to `hash` follows the channel (false if unknown). */
MUST_CHECK int store_follower_follows(struct store_reader *r, const uint8_t hash[SECRET_HASH_LEN],
                                      int64_t channel_id, bool *yes);
/* 0 if `hash` is a live follower, -ENOENT if not. */
MUST_CHECK int store_follower_exists(struct store_reader *r, const uint8_t hash[SECRET_HASH_LEN]);

/*
 * The directory: listed channels only, matching every term of `q` (NULL or "": all) in name or
 * description, ignoring case and accents (the last term matches as a prefix), and `category`,
 * `org_slug` when not NULL. `sort`: 0 popular (followers desc), 1 new (created desc), 2 active
 * (last post desc). Calls `each` for at most `limit` channels after the position `cursor`
 * (NULL: the start) and writes the position after the last one into `next` (next[0] = 0 when
 * there are no more). -EINVAL for a malformed cursor.
 */
enum store_dir_sort { STORE_DIR_POPULAR = 0, STORE_DIR_NEW = 1, STORE_DIR_ACTIVE = 2 };
#define STORE_CURSOR_MAX 64
struct store_dir_query {
    const char *q;
    const char *category;
    const char *org_slug;
    enum store_dir_sort sort;
    unsigned limit;
    const char *cursor;
};
typedef void store_channel_fn(void *ctx, const struct store_channel *ch);
MUST_CHECK int store_channel_search(struct store_reader *r, const struct store_dir_query *q,
                                    store_channel_fn *each, void *ctx, char next[STORE_CURSOR_MAX]);

/*
 * Every channel of org `org_id`, listed or not, by name, with `user_id`'s role on each
 * (enum store_channel_role): the staff console's list. At most `max` channels.
 */
typedef void store_org_channel_fn(void *ctx, const struct store_channel *ch, int role);
MUST_CHECK int store_channel_list_org(struct store_reader *r, int64_t org_id, int64_t user_id,
                                      unsigned max, store_org_channel_fn *each, void *ctx);
/*
 * The channel's follower count per UTC day ("YYYY-MM-DD") from `from_day` on, oldest first:
 * the last day before `from_day` that has a row (the count the period starts with), then each
 * day with a change. Days without a row had the count of the day before. Aggregates only.
 */
typedef void store_day_fn(void *ctx, const char *day, int64_t followers);
MUST_CHECK int store_channel_daily(struct store_reader *r, int64_t channel_id, const char *from_day,
                                   store_day_fn *each, void *ctx);

struct store_channel_admin {
    int64_t user_id;
    char email[256];
    int role; /* enum store_channel_role */
    int64_t added_ms;
};
typedef void store_admin_fn(void *ctx, const struct store_channel_admin *a);
/* The owner first, then the admins in the order they joined. */
MUST_CHECK int store_channel_admins(struct store_reader *r, int64_t channel_id,
                                    store_admin_fn *each, void *ctx);

struct store_invitation {
    int64_t id;
    int64_t channel_id;
    char channel_handle[40];
    char channel_name[CHANNEL_NAME_MAX * 4 + 4];
    int64_t user_id; /* the invitee */
    char email[256]; /* the invitee's */
    int64_t invited_by;
    int64_t created_ms;
    int64_t expires_ms;
};
typedef void store_invitation_fn(void *ctx, const struct store_invitation *inv);
/* One admin invitation by id. -ENOENT if none. */
MUST_CHECK int store_invitation_get(struct store_reader *r, int64_t id,
                                    struct store_invitation *out);
/* Invitations addressed to `user_id` (channel_id 0) or pending on a channel (user_id 0). */
MUST_CHECK int store_invitation_list(struct store_reader *r, int64_t user_id, int64_t channel_id,
                                     store_invitation_fn *each, void *ctx);

struct store_invite {
    char code[CHANNEL_INVITE_CODE_MAX + 1];
    int64_t channel_id;
    int64_t created_ms;
    int64_t expires_ms; /* 0: never */
    int64_t max_uses;   /* 0: unlimited */
    int64_t uses;
    int64_t revoked_ms; /* 0: live */
};
/* Invite link `code` (any state). -ENOENT if none. */
MUST_CHECK int store_invite_get(struct store_reader *r, const char *code, struct store_invite *out);
/*
 * Whether invite `inv` lets someone in at `now_ms`: 0, -ECANCELED (revoked), -ETIME (expired)
 * or -EDQUOT (used up).
 */
int store_invite_state(const struct store_invite *inv, int64_t now_ms);
typedef void store_invite_fn(void *ctx, const struct store_invite *inv);
/* A channel's invite links that are not revoked, newest first. */
MUST_CHECK int store_invite_list(struct store_reader *r, int64_t channel_id, store_invite_fn *each,
                                 void *ctx);

/* What "Aggiornamenti" shows of a followed channel's newest post: the start of its text. */
#define FOLLOW_PREVIEW_CHARS 160

struct store_follow {
    struct store_channel ch;
    bool muted;
    bool push; /* its pushes are on (store/push.h); a muted channel pushes nothing anyway */
    int64_t followed_ms;
    /* Published posts within retention, since the follow, the follower has not viewed. */
    int64_t unread;
    /* The newest published post within retention (last_id 0: none). */
    int64_t last_id;
    int64_t last_ms;
    char last_text[4 * FOLLOW_PREVIEW_CHARS + 1];
};
typedef void store_follow_fn(void *ctx, const struct store_follow *f);
/*
 * The follows of the follower `hash`, most recent first, each with its unread count and newest
 * post at `now_ms`. -ENOENT if `hash` is no follower.
 */
MUST_CHECK int store_follower_channels(struct store_reader *r, const uint8_t hash[SECRET_HASH_LEN],
                                       int64_t now_ms, store_follow_fn *each, void *ctx);

/* ---- writes (any thread; see store.h for done/ctx/id_out) ---- */

/*
 * A new channel or the fields of a change. For a change, each `has_*` says the field is being
 * set; strings are borrowed until the call returns (they are copied).
 */
struct store_channel_fields {
    const char *handle; /* create only */
    const char *name;
    const char *description;
    const char *icon; /* "" clears */
    const char *category;
    const char *language;
    bool has_listed, listed;
    bool has_verified, verified;
    bool has_reaction_policy;
    enum store_reaction_policy reaction_policy;
    const char *reactions_json; /* with policy set: a JSON array of 1..12 emoji strings */
    bool has_retention;
    int retention_days;
};

/*
 * The one rule for who may create, and so own, a channel of org `org_id`: an operator, or
 * staff (any role) of that org. The API checks it to answer early, the CLI to say why, and
 * store_channel_create() enforces it. Pure; any thread.
 */
bool store_channel_owner_allowed(enum store_role role, int64_t user_org_id, int64_t org_id);

/*
 * Create a channel in org `org_id`; `user_id` becomes its owner. Writes the audit entry
 * "channel.create". -EEXIST if the handle is taken, -ENOENT if the org or user is gone (or the
 * account is disabled), -EPERM if the user may not own a channel of that org
 * (store_channel_owner_allowed), -EINVAL for a field out of its limits. The id is the channel's.
 */
MUST_CHECK int store_channel_create(struct store *s, int64_t org_id, int64_t user_id,
                                    const struct store_channel_fields *f, store_done_fn *done,
                                    void *ctx, int64_t *id_out);
/*
 * Change the fields set in `f` of channel `channel_id` (`user_id` for the audit log). Writes a
 * "channel.updated" event with `event_json` (the changed public fields, a JSON object) and an
 * audit entry "channel.update". -ENOENT if the channel is gone.
 */
MUST_CHECK int store_channel_update(struct store *s, int64_t channel_id, int64_t user_id,
                                    const struct store_channel_fields *f, const char *event_json,
                                    store_done_fn *done, void *ctx);
/*
 * Delete the channel and, by FK cascade, everything attached to it; audit "channel.delete".
 * -ENOENT if it is gone.
 */
MUST_CHECK int store_channel_delete(struct store *s, int64_t channel_id, int64_t user_id,
                                    store_done_fn *done, void *ctx);

/*
 * Invite staff `invitee_id` to be an admin (expires CHANNEL_INVITATION_DAYS after now).
 * -EEXIST if already admin/owner or already invited (a pending invitation past its expiry is
 * replaced), -EMLINK past CHANNEL_ADMINS_MAX admins. The id is the invitation's.
 */
MUST_CHECK int store_admin_invite(struct store *s, int64_t channel_id, int64_t by_user,
                                  int64_t invitee_id, store_done_fn *done, void *ctx,
                                  int64_t *id_out);
/*
 * Accept invitation `id` as `user_id` (who must be its invitee: else -ENOENT). -ETIME if it
 * expired, -EMLINK past the cap. The id is the channel's.
 */
MUST_CHECK int store_invitation_accept(struct store *s, int64_t id, int64_t user_id,
                                       store_done_fn *done, void *ctx);
/* Delete invitation `id` (dismissed or cancelled). -ENOENT if none. */
MUST_CHECK int store_invitation_delete(struct store *s, int64_t id, store_done_fn *done, void *ctx);
/*
 * Remove `user_id` from the channel's admins (by the owner `by_user`, or the admin leaving).
 * -ENOENT if not an admin, -EBUSY if `user_id` is the owner (transfer first).
 */
MUST_CHECK int store_admin_remove(struct store *s, int64_t channel_id, int64_t by_user,
                                  int64_t user_id, store_done_fn *done, void *ctx);
/*
 * Make admin `to_user` the owner; the owner `from_user` becomes an admin. -ENOENT if `to_user`
 * is not an admin, -EACCES if `from_user` is not the owner.
 */
MUST_CHECK int store_owner_transfer(struct store *s, int64_t channel_id, int64_t from_user,
                                    int64_t to_user, store_done_fn *done, void *ctx);

/*
 * Add invite link `code` (10..64 URL-safe bytes, from the caller's CSPRNG) to the channel.
 * `expires_ms`, `max_uses` 0: none. -EEXIST if the code exists (retry with another).
 */
MUST_CHECK int store_invite_add(struct store *s, int64_t channel_id, int64_t user_id,
                                const char *code, int64_t expires_ms, int64_t max_uses,
                                store_done_fn *done, void *ctx);
/* Revoke the channel's invite `code`. -ENOENT if it has no live invite by that code. */
MUST_CHECK int store_invite_revoke(struct store *s, int64_t channel_id, int64_t user_id,
                                   const char *code, store_done_fn *done, void *ctx);

/* A new anonymous follower known by `hash` only. -EEXIST if the hash exists. */
MUST_CHECK int store_follower_add(struct store *s, const uint8_t hash[SECRET_HASH_LEN],
                                  store_done_fn *done, void *ctx, int64_t *id_out);
/*
 * Follow the channel. Idempotent: following again changes nothing (id 0; a new follow reports
 * id 1). `invite` (may be NULL) is checked and one use counted on a new follow; an unlisted
 * channel needs one: -EACCES without, -ETIME / -ECANCELED / -EDQUOT / -ENOENT for an expired,
 * revoked, used-up or unknown invite. -ENOENT if the follower or channel is gone.
 */
MUST_CHECK int store_follow(struct store *s, const uint8_t hash[SECRET_HASH_LEN],
                            int64_t channel_id, const char *invite, store_done_fn *done, void *ctx);
/* Unfollow (idempotent: not following is success). */
MUST_CHECK int store_unfollow(struct store *s, const uint8_t hash[SECRET_HASH_LEN],
                              int64_t channel_id, store_done_fn *done, void *ctx);
/* Mute or unmute a followed channel. -ENOENT if not following it. */
MUST_CHECK int store_follow_mute(struct store *s, const uint8_t hash[SECRET_HASH_LEN],
                                 int64_t channel_id, bool muted, store_done_fn *done, void *ctx);
/*
 * "Forget me": delete the follower and, by cascade, everything tied to it; counts adjust by
 * triggers (see the contract at the top), and each post whose reaction or poll counts drop is
 * marked for a "counts" event in the same transaction (store_counts_flush). -ENOENT if unknown.
 */
MUST_CHECK int store_follower_forget(struct store *s, const uint8_t hash[SECRET_HASH_LEN],
                                     store_done_fn *done, void *ctx);

#endif
