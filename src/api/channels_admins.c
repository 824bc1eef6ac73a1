/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A channel's admins: the list, invitations by e-mail (the invitee accepts or dismisses them in
 * the console, the owner cancels them), removing an admin, leaving, and transferring the
 * ownership. Managing admins is the owner's (or a steward's). The routes are in
 * api/channels.c's table.
 */
#include "api/channels_int.h"

#include <errno.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/clock.h"

static void admin_one(void *ctx, const struct store_channel_admin *a)
{
    char id[24];
    char t[32];

    api__id_text(a->user_id, id, sizeof(id));
    clock_rfc3339(a->added_ms, t, sizeof(t));
    json_array_append_new(ctx, json_pack("{s:s, s:s, s:s, s:s}", "user_id", id, "email", a->email,
                                         "role", a->role == STORE_CHANNEL_OWNER ? "owner" : "admin",
                                         "added_at", t));
}

static json_t *invitation_json(const struct store_invitation *inv)
{
    char id[24], uid[24];

    api__id_text(inv->id, id, sizeof(id));
    api__id_text(inv->user_id, uid, sizeof(uid));
    return json_pack("{s:s, s:{s:s, s:s}, s:s, s:s, s:o, s:o}", "id", id, "channel", "handle",
                     inv->channel_handle, "name", inv->channel_name, "user_id", uid, "email",
                     inv->email, "created_at", api__time_json(inv->created_ms), "expires_at",
                     api__time_json(inv->expires_ms));
}

static void invitation_one(void *ctx, const struct store_invitation *inv)
{
    if (inv->expires_ms > clock_now_ms())
        json_array_append_new(ctx, invitation_json(inv));
}

void api__admins_list(struct http_req *r)
{
    struct store_channel *ch = xmalloc(sizeof(*ch));
    struct store_user me;
    json_t *admins = NULL, *invs = NULL;
    int err;

    if (!api__staff(r, &me, NULL) || api__channel_load(r, http_req_param(r, "handle"), ch) ||
        !api__channel_admin(r, ch, &me, false))
        goto out;
    admins = json_array();
    invs = json_array();
    err = store_channel_admins(api__reader(r), ch->id, admin_one, admins);
    if (!err)
        err = store_invitation_list(api__reader(r), 0, ch->id, invitation_one, invs);
    if (err) {
        api__errno(r, err, "admins list");
        goto out;
    }
    api__json(r, 200,
              json_pack("{s:O, s:O, s:i}", "admins", admins, "invitations", invs, "admins_max",
                        CHANNEL_ADMINS_MAX));
out:
    json_decref(admins);
    json_decref(invs);
    free(ch);
}

static bool admin_errno(struct http_req *r, int err)
{
    switch (err) {
    case -EMLINK:
        http_respond_error(r, 409, "too_many_admins",
                           "This channel already has 16 admins besides its owner: remove one "
                           "first.",
                           NULL);
        return true;
    case -ETIME:
        http_respond_error(r, 410, "invitation_expired",
                           "This invitation has expired: ask the channel's owner for a new one.",
                           NULL);
        return true;
    case -EBUSY:
        http_respond_error(r, 409, "owner_must_transfer",
                           "The owner cannot leave or be removed: transfer the ownership to an "
                           "admin first.",
                           NULL);
        return true;
    default:
        return false;
    }
}

static void invite_admin_finish(struct http_req *r, int err, int64_t id, void *data)
{
    struct store_invitation inv;

    (void)data;
    if (err == -EEXIST) {
        http_respond_error(r, 409, "already_admin_or_invited",
                           "This person is already an admin of the channel or has a pending "
                           "invitation.",
                           "email");
        return;
    }
    if (admin_errno(r, err))
        return;
    if (err) {
        api__errno(r, err, "admin invite");
        return;
    }
    err = store_invitation_get(api__reader(r), id, &inv);
    if (err) {
        api__errno(r, err, "invitation read");
    } else {
        api__json(r, 201, invitation_json(&inv));
    }
}

void api__admins_invite(struct http_req *r)
{
    static const char *const allowed[] = { "email", NULL };
    struct store_channel *ch = xmalloc(sizeof(*ch));
    struct store_user me, who;
    struct api_pending *p;
    const char *email;
    json_t *body = NULL;
    int err;

    if (!api__staff(r, &me, NULL) || api__channel_load(r, http_req_param(r, "handle"), ch) ||
        !api__channel_admin(r, ch, &me, true))
        goto out;
    body = api__body_object(r, allowed);
    if (!body || !api__string(r, body, "email", true, 3, 255, &email))
        goto out;
    err = store_user_by_email(api__reader(r), email, &who, NULL, 0);
    if (err == -ENOENT || (!err && who.org_id != ch->org_id)) {
        http_respond_error(r, 404, "staff_not_found",
                           "No staff account of this channel's organization has this e-mail: "
                           "ask an org admin to add it first.",
                           "email");
        goto out;
    }
    if (err) {
        api__errno(r, err, "user lookup");
        goto out;
    }
    p = api__pending_new(r, invite_admin_finish, NULL);
    err = store_admin_invite(api__app(r)->store, ch->id, me.id, who.id, api__pending_done, p, NULL);
    if (err) {
        api__pending_free(p);
        invite_admin_finish(r, err, 0, NULL);
    }
out:
    json_decref(body);
    free(ch);
}

void api__my_invitations(struct http_req *r)
{
    struct store_user me;
    json_t *arr;
    int err;

    if (!api__staff(r, &me, NULL))
        return;
    arr = json_array();
    err = store_invitation_list(api__reader(r), me.id, 0, invitation_one, arr);
    if (err) {
        json_decref(arr);
        api__errno(r, err, "invitations");
        return;
    }
    api__json(r, 200, json_pack("{s:o}", "invitations", arr));
}

static bool id_param(struct http_req *r, const char *name, int64_t *out)
{
    const char *s = http_req_param(r, name);
    char *end;
    long long v = strtoll(s, &end, 10);

    if (!*s || *end || v <= 0)
        return false;
    *out = v;
    return true;
}

static void invitation_missing(struct http_req *r)
{
    http_respond_error(r, 404, "invitation_not_found",
                       "You have no invitation with this id: it may have been cancelled.", "id");
}

static void accept_finish(struct http_req *r, int err, int64_t id, void *data)
{
    struct store_channel *ch;

    (void)data;
    if (err == -ENOENT) {
        invitation_missing(r);
        return;
    }
    if (err == -EEXIST) {
        http_respond_error(r, 409, "already_admin", "You are already an admin of this channel.",
                           NULL);
        return;
    }
    if (admin_errno(r, err))
        return;
    if (err) {
        api__errno(r, err, "invitation accept");
        return;
    }
    ch = xmalloc(sizeof(*ch));
    err = store_channel_get_id(api__reader(r), id, ch);
    if (err) {
        api__errno(r, err, "channel read");
    } else {
        api__json(r, 200,
                  json_pack("{s:o, s:s}", "channel", api__channel_json(ch), "role", "admin"));
    }
    free(ch);
}

void api__invitations_accept(struct http_req *r)
{
    struct store_user me;
    struct api_pending *p;
    int64_t id;
    int err;

    if (!api__staff(r, &me, NULL))
        return;
    if (!id_param(r, "id", &id)) {
        invitation_missing(r);
        return;
    }
    p = api__pending_new(r, accept_finish, NULL);
    err = store_invitation_accept(api__app(r)->store, id, me.id, api__pending_done, p);
    if (err) {
        api__pending_free(p);
        accept_finish(r, err, 0, NULL);
    }
}

static void dismiss_finish(struct http_req *r, int err, int64_t id, void *data)
{
    (void)id;
    (void)data;
    if (err == -ENOENT) {
        invitation_missing(r);
    } else if (err) {
        api__errno(r, err, "invitation delete");
    } else {
        http_respond(r, 204, NULL, NULL, 0);
    }
}

void api__invitations_delete(struct http_req *r)
{
    struct store_invitation inv;
    struct store_user me;
    struct api_pending *p;
    int64_t id;
    int err;

    if (!api__staff(r, &me, NULL))
        return;
    if (!id_param(r, "id", &id) || store_invitation_get(api__reader(r), id, &inv)) {
        invitation_missing(r);
        return;
    }
    /* The invitee dismisses it, the owner (or an operator) cancels it; others see nothing. */
    if (inv.user_id != me.id && me.role != STORE_ROLE_OPERATOR) {
        int role = STORE_CHANNEL_NONE;

        if (store_channel_role(api__reader(r), inv.channel_id, me.id, &role) ||
            role != STORE_CHANNEL_OWNER) {
            invitation_missing(r);
            return;
        }
    }
    p = api__pending_new(r, dismiss_finish, NULL);
    err = store_invitation_delete(api__app(r)->store, id, api__pending_done, p);
    if (err) {
        api__pending_free(p);
        dismiss_finish(r, err, 0, NULL);
    }
}

static void admin_remove_finish(struct http_req *r, int err, int64_t id, void *data)
{
    (void)id;
    (void)data;
    if (err == -ENOENT) {
        http_respond_error(r, 404, "not_admin", "This person is not an admin of the channel.",
                           "user_id");
    } else if (admin_errno(r, err)) {
        return;
    } else if (err) {
        api__errno(r, err, "admin remove");
    } else {
        http_respond(r, 204, NULL, NULL, 0);
    }
}

static void admin_remove(struct http_req *r, const struct store_channel *ch, int64_t by,
                         int64_t user_id)
{
    struct api_pending *p = api__pending_new(r, admin_remove_finish, NULL);
    int err = store_admin_remove(api__app(r)->store, ch->id, by, user_id, api__pending_done, p);

    if (err) {
        api__pending_free(p);
        admin_remove_finish(r, err, 0, NULL);
    }
}

void api__admins_leave(struct http_req *r)
{
    struct store_channel *ch = xmalloc(sizeof(*ch));
    struct store_user me;

    if (!api__staff(r, &me, NULL) || api__channel_load(r, http_req_param(r, "handle"), ch))
        goto out;
    if (!api__channel_visible(r, ch, &me)) {
        api__channel_hidden(r);
        goto out;
    }
    admin_remove(r, ch, me.id, me.id);
out:
    free(ch);
}

void api__admins_delete(struct http_req *r)
{
    struct store_channel *ch = xmalloc(sizeof(*ch));
    struct store_user me;
    int64_t uid;

    if (!api__staff(r, &me, NULL) || api__channel_load(r, http_req_param(r, "handle"), ch) ||
        !api__channel_admin(r, ch, &me, true))
        goto out;
    if (!id_param(r, "user_id", &uid)) {
        admin_remove_finish(r, -ENOENT, 0, NULL);
        goto out;
    }
    admin_remove(r, ch, me.id, uid);
out:
    free(ch);
}

static void owner_finish(struct http_req *r, int err, int64_t id, void *data)
{
    (void)id;
    (void)data;
    if (err == -ENOENT) {
        http_respond_error(r, 409, "not_admin",
                           "Ownership goes to one of the channel's admins: invite this person "
                           "first.",
                           "user_id");
    } else if (err == -EINVAL) {
        http_respond_error(r, 409, "already_owner", "This person already owns the channel.",
                           "user_id");
    } else if (err) {
        api__errno(r, err, "owner transfer");
    } else {
        http_respond(r, 204, NULL, NULL, 0);
    }
}

/* The owner's id, for an operator acting in the owner's place. */
static void owner_one(void *ctx, const struct store_channel_admin *a)
{
    if (a->role == STORE_CHANNEL_OWNER)
        *(int64_t *)ctx = a->user_id;
}

void api__owner_transfer(struct http_req *r)
{
    static const char *const allowed[] = { "user_id", NULL };
    struct store_channel *ch = xmalloc(sizeof(*ch));
    struct store_user me;
    struct api_pending *p;
    const char *uid_text;
    json_t *body = NULL;
    int64_t from, to;
    char *end;
    int err;

    if (!api__staff(r, &me, NULL) || api__channel_load(r, http_req_param(r, "handle"), ch) ||
        !api__channel_admin(r, ch, &me, true))
        goto out;
    body = api__body_object(r, allowed);
    if (!body || !api__string(r, body, "user_id", true, 1, 20, &uid_text))
        goto out;
    to = strtoll(uid_text, &end, 10);
    if (*end || to <= 0) {
        api__channel_bad(r, "invalid_value", "user_id",
                         "'user_id' must be a user id such as \"%s\".", "12");
        goto out;
    }
    from = me.id;
    if (api__channel_role(r, ch, me.id) != STORE_CHANNEL_OWNER) {
        from = 0;
        err = store_channel_admins(api__reader(r), ch->id, owner_one, &from);
        if (err) {
            api__errno(r, err, "owner lookup");
            goto out;
        }
    }
    p = api__pending_new(r, owner_finish, NULL);
    err = store_owner_transfer(api__app(r)->store, ch->id, from, to, api__pending_done, p);
    if (err) {
        api__pending_free(p);
        owner_finish(r, err, 0, NULL);
    }
out:
    json_decref(body);
    free(ch);
}
