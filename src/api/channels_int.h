/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Channel lookups and permission checks shared by the resource files that hang off a channel
 * (channels.c, followers.c, posts.c ...), and what the channel files themselves share: their
 * answer helpers and the handlers of api/channels.c's route table. Each check answers the
 * request itself when it fails, so a handler just returns. api/ only; loop thread only.
 */
#ifndef API_CHANNELS_INT_H
#define API_CHANNELS_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api_int.h"
#include "core/compiler.h"
#include "core/secret.h"
#include "store/channels.h"

/* ---- api/channels_access.c: lookups and permission checks ---- */

/*
 * Load the channel `handle` (case-insensitive). Returns 0, or answers 404 channel_not_found
 * (or the store error) and returns a negative errno.
 */
int api__channel_load(struct http_req *r, const char *handle, struct store_channel *out);

/*
 * True for staff who stand above every channel of the org without being named on it: the
 * server's operators (any channel) and the org admins of the channel's Comune. They may do
 * what an owner may — moderation, and rescuing a channel whose owner left the Comune — and
 * the audit log says who did it. Pure; any thread.
 */
bool api__channel_steward(const struct store_channel *ch, const struct store_user *me);

/*
 * Staff `user_id`'s role on `ch`: STORE_CHANNEL_OWNER, STORE_CHANNEL_ADMIN or
 * STORE_CHANNEL_NONE (also when it cannot be read). Answers nothing.
 */
int api__channel_role(struct http_req *r, const struct store_channel *ch, int64_t user_id);

/*
 * Whether staff `me` may know that the channel exists: it is listed, or `me` is a steward or
 * named on it (owner or admin). Answers nothing.
 */
bool api__channel_visible(struct http_req *r, const struct store_channel *ch,
                          const struct store_user *me);

/*
 * Whether staff `me` may manage the channel: its owner, or (unless `owner_only`) one of its
 * admins, or a steward (api__channel_steward). Otherwise answers 403 and returns false, or
 * 404 channel_not_found when the channel is not visible to `me` (api__channel_visible), the
 * same answer as for a handle that does not exist.
 */
bool api__channel_admin(struct http_req *r, const struct store_channel *ch,
                        const struct store_user *me, bool owner_only);

/*
 * Whether this request may see the channel: listed channels are public; an unlisted one only
 * to its followers (follower bearer token), its admins and operators (staff token), or with a
 * valid `?invite=CODE` of that channel. Otherwise answers 404 (an unlisted channel's existence
 * is not revealed) and returns false.
 */
bool api__channel_readable(struct http_req *r, const struct store_channel *ch);
/* The same for a post of `ch`, answering 404 post_not_found (as for an unknown post id). */
bool api__post_readable(struct http_req *r, const struct store_channel *ch);
/* Answer 404 post_not_found, the one answer for a missing post and a hidden one. */
void api__post_hidden(struct http_req *r);
/* Answer 404 channel_not_found: the one answer for a missing channel and a hidden one. */
void api__channel_hidden(struct http_req *r);

/* Why api__channel_access() let a request in (a live stream keeps it: api/stream_access.c). */
enum api_access_why {
    API_ACCESS_LISTED = 0,
    API_ACCESS_INVITE,   /* ?invite=CODE of this channel (`invite` points at the query's CODE) */
    API_ACCESS_FOLLOWER, /* the follower `hash` follows it */
    API_ACCESS_ADMIN,    /* staff `user_id` is its owner or an admin */
    API_ACCESS_STEWARD,  /* staff `user_id` is an operator or an org admin of its Comune */
};
struct api_access {
    enum api_access_why why;
    const char *invite;            /* the request's ?invite= (may be NULL), whatever `why` is */
    int64_t user_id;               /* ADMIN, STEWARD */
    uint8_t hash[SECRET_HASH_LEN]; /* FOLLOWER */
};
/* api__channel_readable(), saying why in `out` when it returns true. */
bool api__channel_access(struct http_req *r, const struct store_channel *ch,
                         struct api_access *out);

/* ---- api/channels_invites.c ---- */

/*
 * The error for an invite link that no longer lets anyone in: `state` is store_invite_state()'s
 * -ECANCELED, -ETIME or -EDQUOT, giving invite_revoked, invite_expired or invite_used_up (410)
 * with a sentence saying what to do. One vocabulary for every route that takes a code.
 */
void api__invite_gone(struct http_req *r, int state, const char *field);

/*
 * The follower making this request: the bearer token must start with "follower_" and belong
 * to a live follower. Fills `hash` (its SHA-256) and returns true, or answers 401 and returns
 * false.
 */
bool api__follower(struct http_req *r, uint8_t hash[SECRET_HASH_LEN]);

/* ---- api/channels.c ---- */

/*
 * The channel as anyone may see it (the preview): handle, name, description, icon, category,
 * language, visibility, verified, counts, org, reaction policy, created_at. New reference.
 */
json_t *api__channel_json(const struct store_channel *ch);

/* What the channel files share (api/channels.c). */

/* `id` as decimal text into `out`. */
void api__id_text(int64_t id, char *out, size_t outlen);
/* A time as RFC 3339 text, or JSON null for 0. New reference. */
json_t *api__time_json(int64_t ms);
/*
 * Answer a public read of `v` (reference taken) with 200 and an ETag, or 304 to a matching
 * If-None-Match; `shared` says whether a shared cache may keep it (not for unlisted channels or
 * anything reached through an invite code).
 */
void api__answer_cached(struct http_req *r, json_t *v, bool shared);
/* Answer 400 `code` for `field` with a printf-formatted message. */
PRINTF_LIKE(4, 5)
void api__channel_bad(struct http_req *r, const char *code, const char *field, const char *fmt,
                      ...);

/*
 * The handlers of api/channels.c's route table that live in the other channel files: the
 * directory (api/channels_directory.c), admins, invitations and ownership
 * (api/channels_admins.c), and invite links (api/channels_invites.c).
 */
void api__channels_directory(struct http_req *r);
void api__admins_list(struct http_req *r);
void api__admins_invite(struct http_req *r);
void api__admins_leave(struct http_req *r);
void api__admins_delete(struct http_req *r);
void api__owner_transfer(struct http_req *r);
void api__my_invitations(struct http_req *r);
void api__invitations_accept(struct http_req *r);
void api__invitations_delete(struct http_req *r);
void api__invites_create(struct http_req *r);
void api__invites_list(struct http_req *r);
void api__invites_revoke(struct http_req *r);
void api__invites_resolve(struct http_req *r);

#endif
