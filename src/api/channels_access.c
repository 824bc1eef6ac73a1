/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Who may see and who may manage a channel: loading a channel by handle, the roles (owner,
 * admin, steward) and the read check every channel-scoped route shares (listed, invite code,
 * follower, staff). Declared in api/channels_int.h; each check answers the request itself when
 * it fails.
 */
#include "api/channels_int.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"

/* The one answer for a missing channel and for one the caller may not know exists. */
void api__channel_hidden(struct http_req *r)
{
    http_respond_error(r, 404, "channel_not_found",
                       "There is no channel with this handle: check the address.", "handle");
}

void api__post_hidden(struct http_req *r)
{
    http_respond_error(r, 404, "post_not_found",
                       "There is no post with this id: it may have been deleted.", "id");
}

int api__channel_load(struct http_req *r, const char *handle, struct store_channel *out)
{
    int err = store_channel_get(api__reader(r), handle, out);

    if (err == -ENOENT) {
        api__channel_hidden(r);
    } else if (err) {
        api__errno(r, err, "channel load");
    }
    return err;
}

int api__channel_role(struct http_req *r, const struct store_channel *ch, int64_t user_id)
{
    int role = STORE_CHANNEL_NONE;

    if (store_channel_role(api__reader(r), ch->id, user_id, &role))
        role = STORE_CHANNEL_NONE;
    return role;
}

bool api__channel_steward(const struct store_channel *ch, const struct store_user *me)
{
    return me->role == STORE_ROLE_OPERATOR ||
           (me->role == STORE_ROLE_ORG_ADMIN && me->org_id == ch->org_id);
}

bool api__channel_visible(struct http_req *r, const struct store_channel *ch,
                          const struct store_user *me)
{
    return ch->listed || api__channel_steward(ch, me) ||
           api__channel_role(r, ch, me->id) != STORE_CHANNEL_NONE;
}

bool api__channel_admin(struct http_req *r, const struct store_channel *ch,
                        const struct store_user *me, bool owner_only)
{
    int role;

    if (api__channel_steward(ch, me))
        return true;
    role = api__channel_role(r, ch, me->id);
    if (role == STORE_CHANNEL_OWNER || (!owner_only && role == STORE_CHANNEL_ADMIN))
        return true;
    if (!ch->listed && role == STORE_CHANNEL_NONE) {
        /* Staff who cannot read an unlisted channel get what a missing handle gets. */
        api__channel_hidden(r);
        return false;
    }
    http_respond_error(r, 403, owner_only ? "owner_only" : "not_channel_admin",
                       owner_only ? "Only the channel's owner can do this."
                                  : "Only the channel's admins can do this: ask its owner to "
                                    "invite you.",
                       NULL);
    return false;
}

static bool bearer_is_follower(struct http_req *r)
{
    const char *h = http_req_header(r, "Authorization");

    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return false;
    h += 7;
    while (*h == ' ')
        h++;
    return !strncmp(h, "follower_", 9);
}

static bool has_staff_credentials(struct http_req *r)
{
    char cookie[80];

    if (http_req_header(r, "Authorization"))
        return !bearer_is_follower(r);
    return api__cookie(r, API_SESSION_COOKIE, cookie, sizeof(cookie));
}

static bool invite_opens(struct http_req *r, const struct store_channel *ch, const char *code)
{
    struct store_invite inv;

    return code && !store_invite_get(api__reader(r), code, &inv) && inv.channel_id == ch->id &&
           !store_invite_state(&inv, clock_now_ms());
}

/*
 * Whether the request may read `ch`, and why (`out`). When not, answers 404 (channel_not_found,
 * or post_not_found for a post's routes: whoever cannot read a channel must not learn it exists).
 */
static bool check_access(struct http_req *r, const struct store_channel *ch, bool as_post,
                         struct api_access *out)
{
    uint8_t *hash = out->hash;
    struct store_user me;
    bool yes = false;

    memset(out, 0, sizeof(*out));
    out->invite = http_req_query(r, "invite");
    if (ch->listed)
        return true;
    out->why = API_ACCESS_INVITE;
    if (invite_opens(r, ch, out->invite))
        return true;
    if (bearer_is_follower(r)) {
        if (!api__follower(r, hash))
            return false;
        out->why = API_ACCESS_FOLLOWER;
        if (!store_follower_follows(api__reader(r), hash, ch->id, &yes) && yes)
            return true;
    } else if (has_staff_credentials(r)) {
        if (!api__staff(r, &me, NULL))
            return false;
        out->user_id = me.id;
        out->why = api__channel_steward(ch, &me) ? API_ACCESS_STEWARD : API_ACCESS_ADMIN;
        if (out->why == API_ACCESS_STEWARD || api__channel_role(r, ch, me.id) != STORE_CHANNEL_NONE)
            return true;
    }
    if (as_post) {
        api__post_hidden(r);
    } else {
        api__channel_hidden(r);
    }
    return false;
}

bool api__channel_access(struct http_req *r, const struct store_channel *ch, struct api_access *out)
{
    return check_access(r, ch, false, out);
}

bool api__channel_readable(struct http_req *r, const struct store_channel *ch)
{
    struct api_access a;

    return check_access(r, ch, false, &a);
}

bool api__post_readable(struct http_req *r, const struct store_channel *ch)
{
    struct api_access a;

    return check_access(r, ch, true, &a);
}
