/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Channels over the API: create, preview, change and delete a channel, the validation of its
 * settings, the channel's JSON form, and the route table of every /channels, /invitations and
 * /invites route. The routes' other handlers are in api/channels_directory.c (the public
 * directory), api/channels_admins.c (admins, invitations, ownership) and api/channels_invites.c
 * (invite links); the checks every channel-scoped resource shares are in api/channels_access.c.
 * All of them are declared in api/channels_int.h.
 *
 * Permissions: a channel is created by staff of its org or an operator, and the creator is its
 * owner. Settings change by the owner or an admin; deleting the channel and managing admins is
 * the owner's. Operators may act on any channel (moderation, and rescuing a channel whose owner
 * left). Only operators set `verified`.
 */
#include "api/channels_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/secret.h"
#include "store/orgs.h"
#include "store/reactions.h"

#define BODY_MAX ((size_t)64 * 1024)

/* ---- the channel as JSON, and answer helpers the channel files share (channels_int.h) ---- */

void api__id_text(int64_t id, char *out, size_t outlen)
{
    snprintf(out, outlen, "%lld", (long long)id);
}

json_t *api__time_json(int64_t ms)
{
    char t[32];

    if (!ms)
        return json_null();
    clock_rfc3339(ms, t, sizeof(t));
    return json_string(t);
}

json_t *api__channel_json(const struct store_channel *ch)
{
    char id[24];
    json_t *v;
    json_t *reactions = NULL;

    api__id_text(ch->id, id, sizeof(id));
    v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:o, s:o, s:{s:s, s:s},"
                  " s:s, s:i}",
                  "id", id, "handle", ch->handle, "name", ch->name, "description", ch->description,
                  "category", ch->category, "language", ch->language, "visibility",
                  ch->listed ? "listed" : "unlisted", "verified", ch->verified, "followers_count",
                  (json_int_t)ch->followers_count, "posts_count", (json_int_t)ch->posts_count,
                  "created_at", api__time_json(ch->created_ms), "last_post_at",
                  api__time_json(ch->last_post_ms), "org", "slug", ch->org_slug, "name",
                  ch->org_name, "reaction_policy", store_reaction_policy_name(ch->reaction_policy),
                  "retention_days", ch->retention_days);
    json_object_set_new(v, "icon", ch->icon[0] ? json_string(ch->icon) : json_null());
    if (ch->reaction_policy == STORE_REACT_SET && ch->reactions_json[0])
        reactions = json_parse(ch->reactions_json, strlen(ch->reactions_json), NULL, 0);
    json_object_set_new(v, "reactions", reactions ? reactions : json_null());
    return v;
}

/*
 * Answer a public read with an ETag (a hash of the body) so that a phone on a slow connection
 * revalidates instead of downloading again: a matching If-None-Match gets 304 with no body.
 * "no-cache" means "revalidate every time" (counts change); `shared` says whether a shared
 * cache may keep it: not for unlisted channels or anything reached through an invite code.
 */
void api__answer_cached(struct http_req *r, json_t *v, bool shared)
{
    const char *inm = http_req_header(r, "If-None-Match");
    uint8_t hash[SECRET_HASH_LEN];
    char hex[2 * 12 + 1];
    char etag[sizeof(hex) + 2];
    size_t len;
    char *body = json_encode(v, &len);

    json_decref(v);
    secret_sha256(body, len, hash);
    secret_hex(hash, 12, hex);
    snprintf(etag, sizeof(etag), "\"%s\"", hex);
    http_resp_header(r, "ETag", etag);
    http_resp_header(r, "Cache-Control", shared ? "public, no-cache" : "private, no-cache");
    if (inm && (strstr(inm, etag) || !strcmp(inm, "*"))) {
        http_respond(r, 304, NULL, NULL, 0);
    } else {
        http_respond(r, 200, "application/json", body, len);
    }
    free(body);
}

/* ---- input ---- */

void api__channel_bad(struct http_req *r, const char *code, const char *field, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    http_respond_error(r, 400, code, msg, field);
}

/* A short BCP 47 tag: a 2-3 letter language, then subtags of 2-8 letters or digits. */
static bool language_valid(const char *s)
{
    size_t n = strlen(s), run = 0, i;

    if (n < 2 || n > CHANNEL_LANGUAGE_MAX)
        return false;
    for (i = 0; i < n && s[i] != '-'; i++) {
        if (!((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))
            return false;
    }
    if (i < 2 || i > 3)
        return false;
    for (; i < n; i++) {
        if (s[i] == '-') {
            if (i + 1 == n || (run && (run < 2 || run > 8)))
                return false;
            run = 0;
            continue;
        }
        if (!((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z') && !(s[i] >= '0' && s[i] <= '9'))
            return false;
        run++;
    }
    return run == 0 || (run >= 2 && run <= 8);
}

/*
 * One emoji as a reaction: exactly what a follower may react with (store_emoji_valid), so a
 * channel's set never lists something nobody can send, within the set's CHANNEL_EMOJI_MAX.
 */
static bool emoji_valid(const char *s)
{
    size_t n = strlen(s);

    return n <= CHANNEL_EMOJI_MAX && store_emoji_valid(s, n);
}

/*
 * Validate `reactions` (an array of 1-12 emoji, distinct as reactions count them: "❤" and
 * "❤️" are one) and encode it compactly into `out`, each emoji in its fully-qualified spelling
 * (store_emoji_canonical), the form reactions are counted and shown in.
 */
static bool reactions_parse(struct http_req *r, json_t *v, char **out)
{
    char canon[REACTION_EMOJI_MAX_BYTES + 1];
    json_t *set;
    size_t i, j;
    json_t *e;

    if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > CHANNEL_REACTIONS_MAX) {
        api__channel_bad(r, "invalid_reactions", "reactions",
                         "'reactions' must be an array of 1 to 12 emoji.");
        return false;
    }
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e) || !emoji_valid(json_string_value(e))) {
            api__channel_bad(r, "invalid_reactions", "reactions",
                             "Each reaction must be a single emoji such as \"%s\".",
                             "\xf0\x9f\x91\x8d");
            return false;
        }
        for (j = 0; j < i; j++) {
            json_t *d = json_array_get(v, j);

            /* "❤" and "❤️" too: a reaction with either counts as the first one listed. */
            if (api__same_emoji(json_string_value(d), json_string_length(d), json_string_value(e),
                                json_string_length(e))) {
                api__channel_bad(
                    r, "invalid_reactions", "reactions",
                    "'reactions' lists the same emoji twice (%s and %s): keep one of them.",
                    json_string_value(d), json_string_value(e));
                return false;
            }
        }
    }
    set = json_array();
    json_array_foreach(v, i, e)
    {
        if (store_emoji_canonical(json_string_value(e), json_string_length(e), canon) < 0 ||
            strlen(canon) > CHANNEL_EMOJI_MAX) {
            json_decref(set);
            api__channel_bad(r, "invalid_reactions", "reactions",
                             "Each reaction must be a single emoji such as \"%s\".",
                             "\xf0\x9f\x91\x8d");
            return false;
        }
        json_array_append_new(set, json_string(canon));
    }
    *out = json_encode(set, NULL);
    json_decref(set);
    return true;
}

/* The settings a create or a change may carry; strings point into the request's body. */
struct channel_input {
    struct store_channel_fields f;
    char *reactions; /* json_encode'd; freed by input_release */
};

static void input_release(struct channel_input *in)
{
    free(in->reactions);
}

static bool bool_member(struct http_req *r, json_t *body, const char *key, bool *has, bool *out)
{
    json_t *v = json_object_get(body, key);

    *has = false;
    if (!v)
        return true;
    if (!json_is_boolean(v)) {
        api__channel_bad(r, "wrong_type", key, "'%s' must be true or false.", key);
        return false;
    }
    *has = true;
    *out = json_is_true(v);
    return true;
}

static bool visibility_member(struct http_req *r, json_t *body, struct store_channel_fields *f)
{
    const char *vis;

    if (!api__string(r, body, "visibility", false, 1, 16, &vis))
        return false;
    if (!vis)
        return true;
    if (strcmp(vis, "listed") != 0 && strcmp(vis, "unlisted") != 0) {
        api__channel_bad(r, "invalid_value", "visibility",
                         "'visibility' must be \"listed\" or \"unlisted\".");
        return false;
    }
    f->has_listed = true;
    f->listed = !strcmp(vis, "listed");
    return true;
}

static bool retention_member(struct http_req *r, json_t *body, struct store_channel_fields *f)
{
    json_t *v = json_object_get(body, "retention_days");

    if (!v)
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < CHANNEL_RETENTION_MIN ||
        json_integer_value(v) > CHANNEL_RETENTION_MAX) {
        api__channel_bad(r, "invalid_value", "retention_days",
                         "'retention_days' must be a whole number of days from 1 to 365.");
        return false;
    }
    f->has_retention = true;
    f->retention_days = (int)json_integer_value(v);
    return true;
}

/*
 * The reaction policy and its set. `cur` is the channel being changed (NULL on create): a
 * change may send only `reactions` for a channel whose policy is already "set".
 */
static bool reactions_members(struct http_req *r, json_t *body, const struct store_channel *cur,
                              struct channel_input *in)
{
    json_t *set = json_object_get(body, "reactions");
    const char *pol;
    enum store_reaction_policy p;

    if (!api__string(r, body, "reaction_policy", false, 1, 8, &pol))
        return false;
    if (pol && store_reaction_policy_parse(pol, &p)) {
        api__channel_bad(r, "invalid_value", "reaction_policy",
                         "'reaction_policy' must be \"any\", \"set\" or \"none\".");
        return false;
    }
    if (!pol && set && !json_is_null(set)) {
        if (!cur || cur->reaction_policy != STORE_REACT_SET) {
            api__channel_bad(r, "invalid_value", "reactions",
                             "'reactions' goes with \"reaction_policy\": \"set\".");
            return false;
        }
        p = STORE_REACT_SET;
        pol = "set";
    }
    if (!pol)
        return true;
    in->f.has_reaction_policy = true;
    in->f.reaction_policy = p;
    if (p != STORE_REACT_SET) {
        if (set && !json_is_null(set)) {
            api__channel_bad(r, "invalid_value", "reactions",
                             "'reactions' goes with \"reaction_policy\": \"set\".");
            return false;
        }
        return true;
    }
    if (!set || json_is_null(set)) {
        if (cur && cur->reaction_policy == STORE_REACT_SET && cur->reactions_json[0]) {
            in->reactions = xstrdup(cur->reactions_json);
            in->f.reactions_json = in->reactions;
            return true;
        }
        /* Documented: anything but 1-12 emoji with policy set is invalid_reactions. */
        api__channel_bad(
            r, "invalid_reactions", "reactions",
            "With \"reaction_policy\": \"set\", list the allowed emoji in 'reactions'.");
        return false;
    }
    if (!reactions_parse(r, set, &in->reactions))
        return false;
    in->f.reactions_json = in->reactions;
    return true;
}

/* Every settable field but org and handle, for create (`cur` NULL) and change. */
static bool settings_parse(struct http_req *r, json_t *body, const struct store_channel *cur,
                           int64_t org_id, const struct store_user *me, struct channel_input *in)
{
    struct store_channel_fields *f = &in->f;
    bool create = cur == NULL;

    if (!api__label(r, body, "name", create, 1, CHANNEL_NAME_MAX, false, &f->name) ||
        !api__label(r, body, "description", false, 0, CHANNEL_DESC_MAX, true, &f->description) ||
        !api__string(r, body, "icon", false, 0, CHANNEL_ICON_MAX, &f->icon) ||
        !api__string(r, body, "category", false, 1, 24, &f->category) ||
        !api__string(r, body, "language", false, 1, CHANNEL_LANGUAGE_MAX, &f->language))
        return false;
    /* A Comune's channel is most often Italian news: say so only when it is something else. */
    if (create && !f->category)
        f->category = CHANNEL_CATEGORY_DEFAULT;
    if (create && !f->language)
        f->language = CHANNEL_LANGUAGE_DEFAULT;
    if (f->category && !store_channel_category_valid(f->category)) {
        api__channel_bad(
            r, "invalid_value", "category",
            "'category' must be one of news, civil_protection, culture, tourism, schools, "
            "transport, environment, sport, other.");
        return false;
    }
    if (f->language && !language_valid(f->language)) {
        api__channel_bad(
            r, "invalid_value", "language",
            "'language' must be a short language tag such as \"it\", \"en\" or \"de\".");
        return false;
    }
    if (f->icon && *f->icon && !api__media_image_of(r, f->icon, org_id)) {
        api__channel_bad(
            r, "invalid_value", "icon",
            "'icon' must be the id of an image uploaded for this Comune (POST /api/v1/media).");
        return false;
    }
    if (f->icon && !*f->icon && create)
        f->icon = NULL;
    if (!visibility_member(r, body, f) || !retention_member(r, body, f) ||
        !bool_member(r, body, "verified", &f->has_verified, &f->verified) ||
        !reactions_members(r, body, cur, in))
        return false;
    if (f->has_verified && me->role != STORE_ROLE_OPERATOR) {
        http_respond_error(r, 403, "operator_only",
                           "Only the server's operators can mark a channel as verified.",
                           "verified");
        return false;
    }
    return true;
}

/* ---- create ---- */

struct channel_pending {
    int64_t channel_id;
    int status; /* answer on success */
};

static void answer_channel(struct http_req *r, int64_t id, int status)
{
    struct store_channel *ch = xmalloc(sizeof(*ch));
    int err = store_channel_get_id(api__reader(r), id, ch);

    if (err) {
        api__errno(r, err, "channel read");
    } else {
        api__json(r, status, api__channel_json(ch));
    }
    free(ch);
}

static void not_org_staff(struct http_req *r)
{
    http_respond_error(r, 403, "not_org_staff",
                       "Only the organization's staff can create its channels.", "org");
}

static void create_finish(struct http_req *r, int err, int64_t id, void *data)
{
    (void)data;
    if (err == -EEXIST) {
        http_respond_error(r, 409, "handle_taken",
                           "This handle is already used by another channel: choose another.",
                           "handle");
    } else if (err == -EPERM) {
        not_org_staff(r); /* store_channel_owner_allowed, enforced by the store */
    } else if (err) {
        api__errno(r, err, "channel create");
    } else {
        answer_channel(r, id, 201);
    }
}

static void channels_create(struct http_req *r)
{
    static const char *const allowed[] = {
        "org",       "handle",         "name",       "description", "icon",
        "category",  "language",       "visibility", "verified",    "reaction_policy",
        "reactions", "retention_days", NULL
    };
    struct channel_input in = { 0 };
    struct store_user me;
    struct store_org *org = NULL;
    struct api_pending *p;
    const char *slug;
    json_t *body = NULL;
    bool reserved;
    int err;

    if (!api__staff(r, &me, NULL))
        return;
    body = api__body_object(r, allowed);
    if (!body)
        return;
    if (!api__string(r, body, "org", true, 1, STORE_ORG_SLUG_MAX, &slug) ||
        !api__string(r, body, "handle", true, 1, 64, &in.f.handle))
        goto out;
    if (!store_channel_handle_valid(in.f.handle, &reserved)) {
        api__channel_bad(
            r, reserved ? "handle_reserved" : "invalid_handle", "handle",
            reserved ? "'%s' is reserved: choose another handle."
                     : "A handle is 3 to 32 letters, digits, '_' or '-', starting with a letter "
                       "or digit (%s is not).",
            in.f.handle);
        goto out;
    }
    org = xmalloc(sizeof(*org));
    err = store_org_get(api__reader(r), slug, org);
    if (err == -ENOENT) {
        http_respond_error(r, 404, "org_not_found", "There is no organization with this slug.",
                           "org");
        goto out;
    }
    if (err) {
        api__errno(r, err, "org lookup");
        goto out;
    }
    if (!store_channel_owner_allowed(me.role, me.org_id, org->id)) {
        not_org_staff(r);
        goto out;
    }
    if (!settings_parse(r, body, NULL, org->id, &me, &in))
        goto out;
    p = api__pending_new(r, create_finish, NULL);
    err =
        store_channel_create(api__app(r)->store, org->id, me.id, &in.f, api__pending_done, p, NULL);
    if (err) {
        api__pending_free(p);
        create_finish(r, err, 0, NULL);
    }
out:
    free(org);
    input_release(&in);
    json_decref(body);
}

/* ---- preview, change, delete ---- */

static void channels_get(struct http_req *r)
{
    struct store_channel *ch = xmalloc(sizeof(*ch));

    if (!api__channel_load(r, http_req_param(r, "handle"), ch) && api__channel_readable(r, ch))
        api__answer_cached(r, api__channel_json(ch), ch->listed);
    free(ch);
}

static void update_finish(struct http_req *r, int err, int64_t id, void *data)
{
    (void)data;
    if (err) {
        api__errno(r, err, "channel update");
    } else {
        answer_channel(r, id, 200);
    }
}

static void channels_patch(struct http_req *r)
{
    static const char *const allowed[] = {
        "name",     "description",     "icon",      "category",       "language", "visibility",
        "verified", "reaction_policy", "reactions", "retention_days", NULL
    };
    static const struct api_immutable imm[] = {
        { "id", NULL },
        { "handle", ": links, feeds and invites depend on it." },
        { "org", ": a channel stays in the organization that created it." },
        { "followers_count", NULL },
        { "posts_count", NULL },
        { "created_at", NULL },
        { "last_post_at", NULL },
        { NULL, NULL },
    };
    struct store_channel *ch = xmalloc(sizeof(*ch));
    struct channel_input in = { 0 };
    struct store_user me;
    struct api_pending *p;
    json_t *body = NULL, *event = NULL;
    char *ev = NULL;
    int err;

    if (!api__staff(r, &me, NULL) || api__channel_load(r, http_req_param(r, "handle"), ch) ||
        !api__channel_admin(r, ch, &me, false))
        goto out;
    body = api__patch_body(r, allowed, imm);
    if (!body)
        goto out;
    if (!settings_parse(r, body, ch, ch->org_id, &me, &in))
        goto out;
    /* What followers see change: the channel and the new values of the fields sent. */
    event = json_pack("{s:s, s:O}", "handle", ch->handle, "changed", body);
    if (in.reactions) {
        json_object_set_new(json_object_get(event, "changed"), "reactions",
                            json_parse(in.reactions, strlen(in.reactions), NULL, 0));
    }
    ev = json_encode(event, NULL);
    p = api__pending_new(r, update_finish, NULL);
    err = store_channel_update(api__app(r)->store, ch->id, me.id, &in.f, ev, api__pending_done, p);
    if (err) {
        api__pending_free(p);
        update_finish(r, err, 0, NULL);
    }
out:
    free(ev);
    json_decref(event);
    json_decref(body);
    input_release(&in);
    free(ch);
}

static void no_content_finish(struct http_req *r, int err, int64_t id, void *data)
{
    const char *what = data;

    (void)id;
    if (err) {
        api__errno(r, err, what);
    } else {
        http_respond(r, 204, NULL, NULL, 0);
    }
}

static void channels_delete(struct http_req *r)
{
    struct store_channel *ch = xmalloc(sizeof(*ch));
    struct store_user me;
    struct api_pending *p;
    int err;

    if (!api__staff(r, &me, NULL) || api__channel_load(r, http_req_param(r, "handle"), ch) ||
        !api__channel_admin(r, ch, &me, true))
        goto out;
    p = api__pending_new(r, no_content_finish, (void *)"channel delete");
    err = store_channel_delete(api__app(r)->store, ch->id, me.id, api__pending_done, p);
    if (err) {
        api__pending_free(p);
        no_content_finish(r, err, 0, (void *)"channel delete");
    }
out:
    free(ch);
}

/*
 * Order matters where a literal and a {parameter} share a position: the router takes the first
 * match, so ".../admins/me" comes before ".../admins/{user_id}".
 */
static const struct http_route routes[] = {
    { HTTP_M_GET, 0, "/api/v1/channels", api__channels_directory, 0, NULL },
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/channels", channels_create, BODY_MAX, NULL },
    { HTTP_M_GET, 0, "/api/v1/channels/{handle}", channels_get, 0, NULL },
    { HTTP_M_PATCH, HTTP_ROUTE_JSON, "/api/v1/channels/{handle}", channels_patch, BODY_MAX, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/channels/{handle}", channels_delete, 0, NULL },
    { HTTP_M_GET, 0, "/api/v1/channels/{handle}/admins", api__admins_list, 0, NULL },
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/channels/{handle}/admins", api__admins_invite, 4096,
      NULL },
    { HTTP_M_DELETE, 0, "/api/v1/channels/{handle}/admins/me", api__admins_leave, 0, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/channels/{handle}/admins/{user_id}", api__admins_delete, 0, NULL },
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/channels/{handle}/owner", api__owner_transfer, 4096,
      NULL },
    { HTTP_M_GET, 0, "/api/v1/me/invitations", api__my_invitations, 0, NULL },
    { HTTP_M_POST, 0, "/api/v1/invitations/{id}/accept", api__invitations_accept, 0, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/invitations/{id}", api__invitations_delete, 0, NULL },
    { HTTP_M_GET, 0, "/api/v1/channels/{handle}/invites", api__invites_list, 0, NULL },
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/channels/{handle}/invites", api__invites_create, 4096,
      NULL },
    { HTTP_M_DELETE, 0, "/api/v1/channels/{handle}/invites/{code:secret}", api__invites_revoke, 0,
      NULL },
    { HTTP_M_GET, 0, "/api/v1/invites/{code:secret}", api__invites_resolve, 0, NULL },
};
API_ROUTE_SET(api_channels_routes, routes);
