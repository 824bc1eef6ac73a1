/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Channel lookups and permission checks shared by the resource files that hang off a channel
 * (channels.c, followers.c, posts.c ...). Each check answers the request itself when it fails,
 * so a handler just returns. api/ only; loop thread only.
 */
#ifndef API_CHANNELS_INT_H
#define API_CHANNELS_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api_int.h"
#include "core/secret.h"
#include "store/channels.h"

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
 * Whether staff `me` may manage the channel: its owner, or (unless `owner_only`) one of its
 * admins, or a steward (api__channel_steward). Otherwise answers 403 and returns false, or 404
 * channel_not_found for an unlisted channel the caller is not on (its existence stays hidden).
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

/*
 * The follower making this request: the bearer token must start with "follower_" and belong
 * to a live follower. Fills `hash` (its SHA-256) and returns true, or answers 401 and returns
 * false.
 */
bool api__follower(struct http_req *r, uint8_t hash[SECRET_HASH_LEN]);

/*
 * The channel as anyone may see it (the preview): handle, name, description, icon, category,
 * language, visibility, verified, counts, org, reaction policy, created_at. New reference.
 */
json_t *api__channel_json(const struct store_channel *ch);

#endif
