/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Channels over the API: create, preview, change and delete a channel; the public directory;
 * a channel's admins (invitations, accept, dismiss, remove, transfer, leave) and its invite
 * links. The checks every channel-scoped resource shares (load, admin, readable) live here too
 * and are declared in api/channels_int.h.
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
#include <strings.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/secret.h"
#include "store/orgs.h"
#include "store/reactions.h"

#define DIR_LIMIT_DEF     20
#define DIR_LIMIT_MAX     50
#define DIR_QUERY_MAX     100 /* characters of ?q= */
#define INVITE_CODE_BYTES 12  /* random bytes: 16 base64url characters, 96 bits */
#define INVITE_USES_MAX   1000000
#define INVITE_DAYS_MAX   3650 /* expires_at at most ten years ahead */
#define BODY_MAX          ((size_t)64 * 1024)

/* ---- shared helpers (channels_int.h) ---- */

static void id_text(int64_t id, char *out, size_t outlen)
{
    snprintf(out, outlen, "%lld", (long long)id);
}

static json_t *time_json(int64_t ms)
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

    id_text(ch->id, id, sizeof(id));
    v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:o, s:o, s:{s:s, s:s},"
                  " s:s, s:i}",
                  "id", id, "handle", ch->handle, "name", ch->name, "description", ch->description,
                  "category", ch->category, "language", ch->language, "visibility",
                  ch->listed ? "listed" : "unlisted", "verified", ch->verified, "followers_count",
                  (json_int_t)ch->followers_count, "posts_count", (json_int_t)ch->posts_count,
                  "created_at", time_json(ch->created_ms), "last_post_at",
                  time_json(ch->last_post_ms), "org", "slug", ch->org_slug, "name", ch->org_name,
                  "reaction_policy", store_reaction_policy_name(ch->reaction_policy),
                  "retention_days", ch->retention_days);
    json_object_set_new(v, "icon", ch->icon[0] ? json_string(ch->icon) : json_null());
    if (ch->reaction_policy == STORE_REACT_SET && ch->reactions_json[0])
        reactions = json_parse(ch->reactions_json, strlen(ch->reactions_json), NULL, 0);
    json_object_set_new(v, "reactions", reactions ? reactions : json_null());
    return v;
}

int api__channel_load(struct http_req *r, const char *handle, struct store_channel *out)
{
    int err = store_channel_get(api__reader(r), handle, out);

    if (err == -ENOENT) {
        http_respond_error(r, 404, "channel_not_found",
                           "There is no channel with this handle: check the address.", "handle");
    } else if (err) {
        api__errno(r, err, "channel load");
    }
    return err;
}

static int role_on(struct http_req *r, const struct store_channel *ch, int64_t user_id)
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

bool api__channel_admin(struct http_req *r, const struct store_channel *ch,
                        const struct store_user *me, bool owner_only)
{
    int role;

    if (api__channel_steward(ch, me))
        return true;
    role = role_on(r, ch, me->id);
    if (role == STORE_CHANNEL_OWNER || (!owner_only && role == STORE_CHANNEL_ADMIN))
        return true;
    /* An unlisted channel is not revealed to staff who are not on it (as to anyone else). */
    if (!ch->listed && role == STORE_CHANNEL_NONE) {
        http_respond_error(r, 404, "channel_not_found",
                           "There is no channel with this handle: check the address.", "handle");
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

bool api__channel_readable(struct http_req *r, const struct store_channel *ch)
{
    uint8_t hash[SECRET_HASH_LEN];
    struct store_user me;
    bool yes = false;

    if (ch->listed || invite_opens(r, ch, http_req_query(r, "invite")))
        return true;
    if (bearer_is_follower(r)) {
        if (!api__follower(r, hash))
            return false;
        if (!store_follower_follows(api__reader(r), hash, ch->id, &yes) && yes)
            return true;
    } else if (has_staff_credentials(r)) {
        if (!api__staff(r, &me, NULL))
            return false;
        if (api__channel_steward(ch, &me) || role_on(r, ch, me.id) != STORE_CHANNEL_NONE)
            return true;
    }
    http_respond_error(r, 404, "channel_not_found",
                       "There is no channel with this handle: check the address.", "handle");
    return false;
}

/*
 * Answer a public read with an ETag (a hash of the body) so that a phone on a slow connection
 * revalidates instead of downloading again: a matching If-None-Match gets 304 with no body.
 * "no-cache" means "revalidate every time" (counts change); `shared` says whether a shared
 * cache may keep it: not for unlisted channels or anything reached through an invite code.
 */
static void answer_cached(struct http_req *r, json_t *v, bool shared)
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

__attribute__((format(printf, 4, 5))) static void bad(struct http_req *r, const char *code,
                                                      const char *field, const char *fmt, ...)
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
        bad(r, "invalid_reactions", "reactions", "'reactions' must be an array of 1 to 12 emoji.");
        return false;
    }
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e) || !emoji_valid(json_string_value(e))) {
            bad(r, "invalid_reactions", "reactions",
                "Each reaction must be a single emoji such as \"%s\".", "\xf0\x9f\x91\x8d");
            return false;
        }
        for (j = 0; j < i; j++) {
            json_t *d = json_array_get(v, j);

            /* "❤" and "❤️" too: a reaction with either counts as the first one listed. */
            if (api__same_emoji(json_string_value(d), json_string_length(d), json_string_value(e),
                                json_string_length(e))) {
                bad(r, "invalid_reactions", "reactions",
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
            bad(r, "invalid_reactions", "reactions",
                "Each reaction must be a single emoji such as \"%s\".", "\xf0\x9f\x91\x8d");
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
        bad(r, "wrong_type", key, "'%s' must be true or false.", key);
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
        bad(r, "invalid_value", "visibility", "'visibility' must be \"listed\" or \"unlisted\".");
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
        bad(r, "invalid_value", "retention_days",
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
        bad(r, "invalid_value", "reaction_policy",
            "'reaction_policy' must be \"any\", \"set\" or \"none\".");
        return false;
    }
    if (!pol && set && !json_is_null(set)) {
        if (!cur || cur->reaction_policy != STORE_REACT_SET) {
            bad(r, "invalid_value", "reactions",
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
            bad(r, "invalid_value", "reactions",
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
        bad(r, "missing_field", "reactions",
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

    if (!api__string(r, body, "name", create, 1, CHANNEL_NAME_MAX, &f->name) ||
        !api__string(r, body, "description", false, 0, CHANNEL_DESC_MAX, &f->description) ||
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
        bad(r, "invalid_value", "category",
            "'category' must be one of news, civil_protection, culture, tourism, schools, "
            "transport, environment, sport, other.");
        return false;
    }
    if (f->language && !language_valid(f->language)) {
        bad(r, "invalid_value", "language",
            "'language' must be a short language tag such as \"it\", \"en\" or \"de\".");
        return false;
    }
    if (f->icon && *f->icon && !api__media_image_of(r, f->icon, org_id)) {
        bad(r, "invalid_value", "icon",
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

static void create_finish(struct http_req *r, int err, int64_t id, void *data)
{
    (void)data;
    if (err == -EEXIST) {
        http_respond_error(r, 409, "handle_taken",
                           "This handle is already used by another channel: choose another.",
                           "handle");
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
        bad(r, reserved ? "handle_reserved" : "invalid_handle", "handle",
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
    if (me.role != STORE_ROLE_OPERATOR && me.org_id != org->id) {
        http_respond_error(r, 403, "not_org_staff",
                           "Only the organization's staff can create its channels.", "org");
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
        answer_cached(r, api__channel_json(ch), ch->listed);
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
    body = api__body_object(r, allowed);
    if (!body)
        goto out;
    if (!json_object_size(body)) {
        http_respond_error(r, 400, "nothing_to_change", "Send at least one field to change.", NULL);
        goto out;
    }
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

/* ---- directory ---- */

static void dir_one(void *ctx, const struct store_channel *ch)
{
    json_array_append_new(ctx, api__channel_json(ch));
}

static bool query_uint(struct http_req *r, const char *name, unsigned min, unsigned max,
                       unsigned *out)
{
    const char *s = http_req_query(r, name);
    char msg[160];
    char *end;
    long v;

    if (!s)
        return true;
    v = strtol(s, &end, 10);
    if (!*s || *end || v < (long)min || v > (long)max) {
        snprintf(msg, sizeof(msg), "'%s' must be a whole number from %u to %u.", name, min, max);
        http_respond_error(r, 400, "invalid_parameter", msg, name);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void channels_directory(struct http_req *r)
{
    static const char *const sorts[] = { "popular", "new", "active" };
    struct store_dir_query q = { .limit = DIR_LIMIT_DEF };
    const char *sort = http_req_query(r, "sort");
    char next[STORE_CURSOR_MAX];
    json_t *arr;
    int err;

    q.q = http_req_query(r, "q");
    q.category = http_req_query(r, "category");
    q.org_slug = http_req_query(r, "org");
    q.cursor = http_req_query(r, "cursor");
    if (q.q && utf8_chars(q.q) > DIR_QUERY_MAX) {
        http_respond_error(r, 400, "invalid_parameter", "'q' must be at most 100 characters.", "q");
        return;
    }
    if (q.category && !store_channel_category_valid(q.category)) {
        http_respond_error(r, 400, "invalid_parameter",
                           "'category' must be one of news, civil_protection, culture, tourism, "
                           "schools, transport, environment, sport, other.",
                           "category");
        return;
    }
    if (sort) {
        size_t i;

        for (i = 0; i < ARRAY_SIZE(sorts) && strcmp(sort, sorts[i]) != 0; i++)
            ;
        if (i == ARRAY_SIZE(sorts)) {
            http_respond_error(r, 400, "invalid_parameter",
                               "'sort' must be popular, new or active.", "sort");
            return;
        }
        q.sort = (enum store_dir_sort)i;
    }
    if (!query_uint(r, "limit", 1, DIR_LIMIT_MAX, &q.limit))
        return;
    arr = json_array();
    err = store_channel_search(api__reader(r), &q, dir_one, arr, next);
    if (err == -EINVAL) {
        json_decref(arr);
        http_respond_error(r, 400, "invalid_cursor",
                           "This cursor is not valid for this listing: start from the first page.",
                           "cursor");
        return;
    }
    if (err) {
        json_decref(arr);
        api__errno(r, err, "directory");
        return;
    }
    answer_cached(r,
                  json_pack("{s:o, s:o}", "channels", arr, "next_cursor",
                            next[0] ? json_string(next) : json_null()),
                  true);
}

/* ---- admins ---- */

static void admin_one(void *ctx, const struct store_channel_admin *a)
{
    char id[24];
    char t[32];

    id_text(a->user_id, id, sizeof(id));
    clock_rfc3339(a->added_ms, t, sizeof(t));
    json_array_append_new(ctx, json_pack("{s:s, s:s, s:s, s:s}", "user_id", id, "email", a->email,
                                         "role", a->role == STORE_CHANNEL_OWNER ? "owner" : "admin",
                                         "added_at", t));
}

static json_t *invitation_json(const struct store_invitation *inv)
{
    char id[24], uid[24];

    id_text(inv->id, id, sizeof(id));
    id_text(inv->user_id, uid, sizeof(uid));
    return json_pack("{s:s, s:{s:s, s:s}, s:s, s:s, s:o, s:o}", "id", id, "channel", "handle",
                     inv->channel_handle, "name", inv->channel_name, "user_id", uid, "email",
                     inv->email, "created_at", time_json(inv->created_ms), "expires_at",
                     time_json(inv->expires_ms));
}

static void invitation_one(void *ctx, const struct store_invitation *inv)
{
    if (inv->expires_ms > clock_now_ms())
        json_array_append_new(ctx, invitation_json(inv));
}

static void admins_list(struct http_req *r)
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

static void admins_invite(struct http_req *r)
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

static void my_invitations(struct http_req *r)
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

static void invitations_accept(struct http_req *r)
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

static void invitations_delete(struct http_req *r)
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

static void admins_leave(struct http_req *r)
{
    struct store_channel *ch = xmalloc(sizeof(*ch));
    struct store_user me;

    if (api__staff(r, &me, NULL) && !api__channel_load(r, http_req_param(r, "handle"), ch))
        admin_remove(r, ch, me.id, me.id);
    free(ch);
}

static void admins_delete(struct http_req *r)
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

static void owner_transfer(struct http_req *r)
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
        bad(r, "invalid_value", "user_id", "'user_id' must be a user id such as \"%s\".", "12");
        goto out;
    }
    from = me.id;
    if (role_on(r, ch, me.id) != STORE_CHANNEL_OWNER) {
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

/* ---- invite links ---- */

static json_t *invite_json(const struct store_invite *inv)
{
    char path[CHANNEL_INVITE_CODE_MAX + 8];
    const char *state = "active";

    switch (store_invite_state(inv, clock_now_ms())) {
    case -ECANCELED:
        state = "revoked";
        break;
    case -ETIME:
        state = "expired";
        break;
    case -EDQUOT:
        state = "used_up";
        break;
    default:
        break;
    }
    snprintf(path, sizeof(path), "/i/%s", inv->code);
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:I, s:s}", "code", inv->code, "url_path", path,
                     "created_at", time_json(inv->created_ms), "expires_at",
                     time_json(inv->expires_ms), "max_uses",
                     inv->max_uses ? json_integer(inv->max_uses) : json_null(), "uses",
                     (json_int_t)inv->uses, "state", state);
}

/* The link to print or put in a QR code: absolute when public_url is set, else null. */
static json_t *with_url(struct http_req *r, json_t *inv)
{
    const char *pub = api__app(r)->set.public_url;
    const char *path = json_string_value(json_object_get(inv, "url_path"));
    char url[512];

    if (pub && *pub && path) {
        snprintf(url, sizeof(url), "%s%s", pub, path);
        json_object_set_new(inv, "url", json_string(url));
    } else {
        json_object_set_new(inv, "url", json_null());
    }
    return inv;
}

/*
 * The `width` (< 8) characters at s as a number, or -1 unless they are all ASCII digits: no
 * sign, space or NUL among them.
 */
static int fixed_digits(const char *s, size_t width)
{
    char tmp[8];
    char *end;
    long v;

    if (width >= sizeof(tmp) || strnlen(s, width) < width || s[0] < '0' || s[0] > '9')
        return -1;
    snprintf(tmp, sizeof(tmp), "%.*s", (int)width, s);
    errno = 0;
    v = strtol(tmp, &end, 10);
    if (errno || end != tmp + width)
        return -1;
    return (int)v;
}

/* "2026-12-01T10:00:00Z", "...:00.123Z" or "...+01:00" to ms since the epoch. */
static bool rfc3339_parse(const char *s, int64_t *ms)
{
    struct tm tm = { 0 };
    int y, mo, d, h, mi, sec, frac = 0, fdig = 0;
    int64_t off = 0;
    const char *p;
    time_t t;

    if (strnlen(s, 19) < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':')
        return false;
    y = fixed_digits(s, 4);
    mo = fixed_digits(s + 5, 2);
    d = fixed_digits(s + 8, 2);
    h = fixed_digits(s + 11, 2);
    mi = fixed_digits(s + 14, 2);
    sec = fixed_digits(s + 17, 2);
    if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0)
        return false;
    p = s + 19;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, fdig++) {
            if (fdig < 3)
                frac = frac * 10 + (*p - '0');
        }
        if (!fdig)
            return false;
        for (int i = fdig; i < 3; i++)
            frac *= 10;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if ((*p == '+' || *p == '-') && p[1] && p[2] && p[3] == ':' && p[4] && p[5]) {
        int oh = fixed_digits(p + 1, 2), om = fixed_digits(p + 4, 2);

        if (oh < 0 || om < 0 || oh > 23 || om > 59)
            return false;
        off = (int64_t)(oh * 60 + om) * 60000 * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return false;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t == (time_t)-1)
        return false;
    *ms = (int64_t)t * 1000 + frac - off;
    return true;
}

struct invite_new {
    struct store_invite inv;
};

static void invite_create_finish(struct http_req *r, int err, int64_t id, void *data)
{
    struct invite_new *n = data;

    (void)id;
    if (err) {
        api__errno(r, err, "invite create");
    } else {
        api__json(r, 201, with_url(r, invite_json(&n->inv)));
    }
    free(n);
}

static void invites_create(struct http_req *r)
{
    static const char *const allowed[] = { "expires_at", "max_uses", NULL };
    struct store_channel *ch = xmalloc(sizeof(*ch));
    uint8_t rnd[INVITE_CODE_BYTES];
    struct invite_new *n = NULL;
    struct store_user me;
    struct api_pending *p;
    const char *exp = NULL;
    json_t *body = NULL, *mu;
    size_t len;
    int err;

    if (!api__staff(r, &me, NULL) || api__channel_load(r, http_req_param(r, "handle"), ch) ||
        !api__channel_admin(r, ch, &me, false))
        goto out;
    n = xcalloc(1, sizeof(*n));
    n->inv.channel_id = ch->id;
    n->inv.created_ms = clock_now_ms();
    http_req_body(r, &len);
    if (len) {
        body = api__body_object(r, allowed);
        if (!body || !api__string(r, body, "expires_at", false, 1, 40, &exp))
            goto out;
        mu = json_object_get(body, "max_uses");
        if (mu && !json_is_null(mu)) {
            if (!json_is_integer(mu) || json_integer_value(mu) < 1 ||
                json_integer_value(mu) > INVITE_USES_MAX) {
                bad(r, "invalid_value", "max_uses",
                    "'max_uses' must be a whole number from 1 to 1000000.");
                goto out;
            }
            n->inv.max_uses = json_integer_value(mu);
        }
    }
    if (exp && (!rfc3339_parse(exp, &n->inv.expires_ms) || n->inv.expires_ms <= n->inv.created_ms ||
                n->inv.expires_ms > n->inv.created_ms + INVITE_DAYS_MAX * 86400000LL)) {
        bad(r, "invalid_value", "expires_at",
            "'expires_at' must be a future time within ten years, such as "
            "\"%s\".",
            "2030-01-31T23:00:00Z");
        goto out;
    }
    secret_random(rnd, sizeof(rnd));
    secret_b64url(rnd, sizeof(rnd), n->inv.code, sizeof(n->inv.code));
    p = api__pending_new(r, invite_create_finish, n);
    err = store_invite_add(api__app(r)->store, ch->id, me.id, n->inv.code, n->inv.expires_ms,
                           n->inv.max_uses, api__pending_done, p);
    if (err) {
        api__pending_free(p);
        invite_create_finish(r, err, 0, n);
    }
    n = NULL; /* the finish function frees it */
out:
    free(n);
    json_decref(body);
    free(ch);
}

static void invite_one(void *ctx, const struct store_invite *inv)
{
    json_array_append_new(ctx, invite_json(inv));
}

static void invites_list(struct http_req *r)
{
    struct store_channel *ch = xmalloc(sizeof(*ch));
    struct store_user me;
    json_t *arr;
    int err;

    if (!api__staff(r, &me, NULL) || api__channel_load(r, http_req_param(r, "handle"), ch) ||
        !api__channel_admin(r, ch, &me, false))
        goto out;
    arr = json_array();
    err = store_invite_list(api__reader(r), ch->id, invite_one, arr);
    if (err) {
        json_decref(arr);
        api__errno(r, err, "invite list");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(arr); i++)
        with_url(r, json_array_get(arr, i));
    api__json(r, 200, json_pack("{s:o}", "invites", arr));
out:
    free(ch);
}

static void invite_revoke_finish(struct http_req *r, int err, int64_t id, void *data)
{
    (void)id;
    (void)data;
    if (err == -ENOENT) {
        http_respond_error(r, 404, "invite_not_found",
                           "This channel has no live invite link with this code.", "code");
    } else if (err) {
        api__errno(r, err, "invite revoke");
    } else {
        http_respond(r, 204, NULL, NULL, 0);
    }
}

static void invites_revoke(struct http_req *r)
{
    struct store_channel *ch = xmalloc(sizeof(*ch));
    struct store_user me;
    struct api_pending *p;
    int err;

    if (!api__staff(r, &me, NULL) || api__channel_load(r, http_req_param(r, "handle"), ch) ||
        !api__channel_admin(r, ch, &me, false))
        goto out;
    p = api__pending_new(r, invite_revoke_finish, NULL);
    err = store_invite_revoke(api__app(r)->store, ch->id, me.id, http_req_param(r, "code"),
                              api__pending_done, p);
    if (err) {
        api__pending_free(p);
        invite_revoke_finish(r, err, 0, NULL);
    }
out:
    free(ch);
}

/* The public face of an invite link: the channel's preview, no credentials needed. */
static void invites_resolve(struct http_req *r)
{
    struct store_channel *ch = NULL;
    struct store_invite inv;
    int err = store_invite_get(api__reader(r), http_req_param(r, "code"), &inv);

    if (err == -ENOENT) {
        http_respond_error(r, 404, "invite_not_found",
                           "This invite link does not exist: check that it was copied whole.",
                           "code");
        return;
    }
    if (err) {
        api__errno(r, err, "invite lookup");
        return;
    }
    switch (store_invite_state(&inv, clock_now_ms())) {
    case -ECANCELED:
        http_respond_error(r, 410, "invite_revoked",
                           "This invite link was revoked: ask the channel for a new one.", "code");
        return;
    case -ETIME:
        http_respond_error(r, 410, "invite_expired",
                           "This invite link has expired: ask the channel for a new one.", "code");
        return;
    case -EDQUOT:
        http_respond_error(r, 410, "invite_used_up",
                           "This invite link has been used as many times as allowed: ask the "
                           "channel for a new one.",
                           "code");
        return;
    default:
        break;
    }
    ch = xmalloc(sizeof(*ch));
    err = store_channel_get_id(api__reader(r), inv.channel_id, ch);
    if (err) {
        api__errno(r, err, "channel read");
    } else {
        answer_cached(r,
                      json_pack("{s:o, s:o, s:o}", "channel", api__channel_json(ch), "expires_at",
                                time_json(inv.expires_ms), "max_uses",
                                inv.max_uses ? json_integer(inv.max_uses) : json_null()),
                      false);
    }
    free(ch);
}

/*
 * Order matters where a literal and a {parameter} share a position: the router takes the first
 * match, so ".../admins/me" comes before ".../admins/{user_id}".
 */
static const struct http_route routes[] = {
    { HTTP_M_GET, 0, "/api/v1/channels", channels_directory, 0, NULL },
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/channels", channels_create, BODY_MAX, NULL },
    { HTTP_M_GET, 0, "/api/v1/channels/{handle}", channels_get, 0, NULL },
    { HTTP_M_PATCH, HTTP_ROUTE_JSON, "/api/v1/channels/{handle}", channels_patch, BODY_MAX, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/channels/{handle}", channels_delete, 0, NULL },
    { HTTP_M_GET, 0, "/api/v1/channels/{handle}/admins", admins_list, 0, NULL },
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/channels/{handle}/admins", admins_invite, 4096, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/channels/{handle}/admins/me", admins_leave, 0, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/channels/{handle}/admins/{user_id}", admins_delete, 0, NULL },
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/channels/{handle}/owner", owner_transfer, 4096, NULL },
    { HTTP_M_GET, 0, "/api/v1/me/invitations", my_invitations, 0, NULL },
    { HTTP_M_POST, 0, "/api/v1/invitations/{id}/accept", invitations_accept, 0, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/invitations/{id}", invitations_delete, 0, NULL },
    { HTTP_M_GET, 0, "/api/v1/channels/{handle}/invites", invites_list, 0, NULL },
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/channels/{handle}/invites", invites_create, 4096,
      NULL },
    { HTTP_M_DELETE, 0, "/api/v1/channels/{handle}/invites/{code}", invites_revoke, 0, NULL },
    { HTTP_M_GET, 0, "/api/v1/invites/{code}", invites_resolve, 0, NULL },
};
API_ROUTE_SET(api_channels_routes, routes);
