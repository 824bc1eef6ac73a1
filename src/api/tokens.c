/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Staff identity and API tokens. A token is shown exactly once, in the answer that creates it;
 * the server keeps only its SHA-256, so a leaked database does not leak working tokens.
 */
#include "api/api_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/secret.h"

#define TOKEN_NAME_MAX 100
#define TOKEN_TEXT_MAX 64

static json_t *user_json(const struct store_user *u)
{
    char id[24];
    char created[32];

    snprintf(id, sizeof(id), "%lld", (long long)u->id);
    clock_rfc3339(u->created_ms, created, sizeof(created));
    return json_pack("{s:s, s:s, s:s, s:b, s:s}", "id", id, "email", u->email, "role",
                     store_role_name(u->role), "must_change_password", u->must_change_password,
                     "created_at", created);
}

static void me(struct http_req *r)
{
    struct store_user me;

    if (!api__staff(r, &me, NULL))
        return;
    api__json(r, 200, user_json(&me));
}

struct token_new {
    char text[TOKEN_TEXT_MAX];
    char name[TOKEN_NAME_MAX * 4 + 1];
    int64_t created_ms;
};

static void create_finish(struct http_req *r, int err, int64_t id, void *data)
{
    struct token_new *t = data;
    char idtext[24];
    char created[32];

    if (err) {
        api__errno(r, err, "token create");
    } else {
        snprintf(idtext, sizeof(idtext), "%lld", (long long)id);
        clock_rfc3339(t->created_ms, created, sizeof(created));
        api__json(r, 201,
                  json_pack("{s:s, s:s, s:s, s:s}", "id", idtext, "name", t->name, "token", t->text,
                            "created_at", created));
    }
    secret_random(t->text, sizeof(t->text)); /* do not leave the secret in freed memory */
    free(t);
}

static void tokens_create(struct http_req *r)
{
    static const char *const allowed[] = { "name", NULL };
    uint8_t hash[SECRET_HASH_LEN];
    struct store_user me;
    struct token_new *t;
    struct api_pending *p;
    const char *name;
    json_t *body;
    int err;

    if (!api__staff(r, &me, NULL))
        return;
    body = api__body_object(r, allowed);
    if (!body)
        return;
    if (!api__label(r, body, "name", true, 1, TOKEN_NAME_MAX, false, &name)) {
        json_decref(body);
        return;
    }
    t = xcalloc(1, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%s", name);
    json_decref(body);
    secret_token("araldo", t->text, sizeof(t->text));
    secret_sha256(t->text, strlen(t->text), hash);
    t->created_ms = clock_now_ms();
    p = api__pending_new(r, create_finish, t);
    err = store_token_add(api__app(r)->store, me.id, t->name, hash, api__pending_done, p, NULL);
    if (err) {
        api__pending_free(p);
        create_finish(r, err, 0, t);
    }
}

static void list_one(void *ctx, const struct store_token *tok)
{
    json_t *arr = ctx;
    char id[24];
    char created[32];

    snprintf(id, sizeof(id), "%lld", (long long)tok->id);
    clock_rfc3339(tok->created_ms, created, sizeof(created));
    json_array_append_new(
        arr, json_pack("{s:s, s:s, s:s}", "id", id, "name", tok->name, "created_at", created));
}

static void tokens_list(struct http_req *r)
{
    struct store_user me;
    json_t *arr;
    int err;

    if (!api__staff(r, &me, NULL))
        return;
    arr = json_array();
    err = store_token_list(api__reader(r), me.id, list_one, arr);
    if (err) {
        json_decref(arr);
        api__errno(r, err, "token list");
        return;
    }
    api__json(r, 200, json_pack("{s:o}", "tokens", arr));
}

static void revoke_finish(struct http_req *r, int err, int64_t id, void *data)
{
    (void)id;
    (void)data;
    if (err == -ENOENT) {
        http_respond_error(r, 404, "not_found", "You have no live token with this id.", "id");
        return;
    }
    if (err) {
        api__errno(r, err, "token revoke");
        return;
    }
    http_respond(r, 204, NULL, NULL, 0);
}

static void tokens_revoke(struct http_req *r)
{
    const char *idtext = http_req_param(r, "id");
    struct store_user me;
    struct api_pending *p;
    char *end;
    long long id;
    int err;

    if (!api__staff(r, &me, NULL))
        return;
    id = strtoll(idtext, &end, 10);
    if (*end || id <= 0) {
        http_respond_error(r, 404, "not_found", "You have no live token with this id.", "id");
        return;
    }
    p = api__pending_new(r, revoke_finish, NULL);
    err = store_token_revoke(api__app(r)->store, me.id, id, api__pending_done, p);
    if (err) {
        api__pending_free(p);
        revoke_finish(r, err, 0, NULL);
    }
}

static const struct http_route routes[] = {
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/me", me, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/tokens", tokens_list, 0, NULL },
    { HTTP_M_POST, HTTP_ROUTE_JSON, "/api/v1/tokens", tokens_create, 4096, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/tokens/{id}", tokens_revoke, 0, NULL },
};
API_ROUTE_SET(api_tokens_routes, routes);
