/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Helpers shared by the resource files of api/. api/ only. */
#ifndef API_API_INT_H
#define API_API_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "http/http.h"
#include "store/store.h"

struct posts_cache;
struct pages_cache;
struct alerts_cache;

struct api_loop {
    struct store_reader *reader;
    struct http_loop *loop;
    struct posts_cache *posts_cache;   /* api/posts.c: this loop's cache of public post pages */
    struct pages_cache *pages_cache;   /* api/pages.c: this loop's rendered /c/{handle} pages */
    struct fanout_loop *fanout;        /* api/stream.c: this loop's side of the hub, or NULL */
    struct alerts_cache *alerts_cache; /* api/stream_alerts.c: alert status per org, or NULL */
};

/* Free a loop's cache of alert statuses (api/stream_alerts.c). NULL-safe. */
void api__alerts_cache_free(struct alerts_cache *c);
/* An alert event is about to be published (the event sink, any thread): statuses are stale. */
void api__stream_alerts_changed(void);
/* Free a loop's cache of public post pages (api/posts.c). NULL-safe. */
void api__posts_cache_free(struct posts_cache *c);
/* Free a loop's cache of rendered channel pages (api/pages.c). NULL-safe. */
void api__pages_cache_free(struct pages_cache *c);

/* This loop's side of the live-stream hub, made on first use (api/stream.c). Loop thread. */
struct fanout_loop *api__stream_loop_hub(struct http_req *r);

static inline struct api_app *api__app(struct http_req *r)
{
    return http_req_app(r);
}

static inline struct store_reader *api__reader(struct http_req *r)
{
    return ((struct api_loop *)http_req_loop_ctx(r))->reader;
}

/* Answer with `v` encoded (takes the reference). */
void api__json(struct http_req *r, int status, json_t *v);
/*
 * Map a store/-errno to the right status and error body (STYLE.md example 4): -EINVAL 400,
 * -EACCES 403, -ENOENT 404, -EEXIST 409, -EMSGSIZE 413, -EAGAIN 429, -ENOSPC 507 storage_full
 * (disk full, with Retry-After), -ENOBUFS and -ESHUTDOWN 503 (queue full or closing, with
 * Retry-After), anything else 500.
 */
void api__errno(struct http_req *r, int err, const char *what);
/*
 * The service's address for absolute links (feeds, invite posters, QR codes): public_url, or
 * "http://<listen address>" when it is unset (allowed on loopback only, cmd_serve.c). Never
 * the request's Host or X-Forwarded-Proto: these links are cached publicly.
 */
void api__base_url(struct http_req *r, char *out, size_t outlen);

/*
 * Parse the request body as a JSON object whose keys are all in `allowed` (NULL-terminated).
 * On failure answers 400 (malformed JSON with line and column, not an object, or an unknown
 * field) and returns NULL; the caller just returns.
 */
json_t *api__body_object(struct http_req *r, const char *const *allowed);
/* A field of a resource that PATCH can never change, and why (NULL: just "cannot be changed"). */
struct api_immutable {
    const char *field;
    const char *why; /* appended to "'field' cannot be changed", starting with ':' */
};
/*
 * A PATCH body, by the rules every resource shares (docs/API.md, Conventions): keys in
 * `changeable` pass; one in `imm` (ended by { NULL, NULL }) is 400 immutable_field naming it;
 * `{}` is 400 empty_patch; anything else 400 unknown_field. Returns the object, or answers and
 * returns NULL.
 */
json_t *api__patch_body(struct http_req *r, const char *const *changeable,
                        const struct api_immutable *imm);
/*
 * Read string member `key`: required or not, length in chars between min and max. Answers 400
 * naming the field and returns false on failure. *out is NULL when absent and optional.
 */
bool api__string(struct http_req *r, json_t *obj, const char *key, bool required, size_t min,
                 size_t max, const char **out);
/*
 * api__string() for a name or description shown on pages: also refuses (400 invalid_value
 * naming the field) control characters, line breaks unless `multiline`, and bidirectional
 * overrides (format_label_ok()).
 */
bool api__label(struct http_req *r, json_t *obj, const char *key, bool required, size_t min,
                size_t max, bool multiline, const char **out);

/*
 * Staff authentication by API token (Authorization: Bearer ...) or by session cookie, which on
 * unsafe methods (POST, PUT, PATCH, DELETE) also needs the X-CSRF-Token header. Disabled
 * accounts are refused. Returns true with `out` filled, or answers 401 (403 csrf_failed) and
 * returns false. `token_id` (may be NULL) is 0 for a session.
 */
bool api__staff(struct http_req *r, struct store_user *out, int64_t *token_id);
/* The same, telling how the caller signed in (api/auth.c; `how` may be NULL). */
struct api_auth {
    int64_t token_id;   /* API token, or 0 */
    int64_t session_id; /* session cookie, or 0 */
};
bool api__staff_auth(struct http_req *r, struct store_user *out, struct api_auth *how);
/*
 * The admit hook of every API route that has none of its own (api_routes()): on GET and HEAD,
 * credentials that are sent (a bearer token, staff or follower, or the session cookie) must be
 * valid, even where none are needed; otherwise answers 401 (invalid_token, session_expired)
 * and returns false. Anything else, or no credentials: true.
 */
bool api__admit(struct http_req *r);
/* Value of cookie `name` into `out`; false if absent or longer than outlen - 1. */
bool api__cookie(struct http_req *r, const char *name, char *out, size_t outlen);
/* The CSRF token that goes with session token `session` (≥ 44 bytes of `out`). */
void api__csrf_token(const char *session, char *out, size_t outlen);
#define API_SESSION_COOKIE "araldo_session"
/* api/session.c's handlers, listed in api/orgs.c's api_accounts_routes (one set per owner). */
void api__session_create(struct http_req *r);
void api__session_get(struct http_req *r);
void api__session_delete(struct http_req *r);
void api__password_change(struct http_req *r);
/* The threads that hash passwords off the event loops (api/session.c; started on first use). */
struct workpool;
struct workpool *api__hash_pool(void);

/*
 * A store write whose answer is sent on the request's loop once it is durable. Allocate with
 * api__pending_new(), pass api__pending_done and the pending as the store's done/ctx; `finish`
 * then runs on the loop with the outcome. If the store call itself returns an error, free the
 * pending with api__pending_free() and answer at once.
 */
struct api_pending;
typedef void api_finish_fn(struct http_req *r, int err, int64_t id, void *data);
struct api_pending *api__pending_new(struct http_req *r, api_finish_fn *finish, void *data);
void api__pending_done(void *ctx, int err, int64_t id);
void api__pending_free(struct api_pending *p);

/*
 * Whether `id` names an image uploaded for the Comune `org_id` or by an operator: what a
 * channel's icon and an org's logo may be (api/media.c). `org_id` 0 (an org not created yet)
 * accepts only an operator's uploads. Reads with the request's loop reader. Loop thread.
 */
bool api__media_image_of(struct http_req *r, const char *id, int64_t org_id);

/*
 * Whether `a` and `b` (valid emoji, store_emoji_valid) are the same emoji as reactions count
 * them: equal once every VS16 (U+FE0F) is left out, so "❤" and "❤️" are one. The one rule for
 * a reaction's match in its channel's set and for duplicates within a set (api/reactions.c).
 * Pure; any thread.
 */
bool api__same_emoji(const char *a, size_t alen, const char *b, size_t blen);

/* The routes of one resource file (api/ops.c exports api_ops_routes, and so on). */
struct api_route_set {
    const struct http_route *routes;
    size_t n;
};
#define API_ROUTE_SET(name, array) \
    const struct api_route_set name = { array, sizeof(array) / sizeof((array)[0]) }

extern const struct api_route_set api_ops_routes;
extern const struct api_route_set api_tokens_routes;

/*
 * A lease on background work that runs once per cluster (api/lease.c; docs/DEPLOY.md,
 * "Several nodes"): scheduled posts and retention ("jobs"), the counts coalescer ("counts"),
 * alert-source polling and warnings ("sources"). Owned by the one thread that does the work.
 * Members private; zero-initialise with the name.
 */
struct api_lease {
    const char *name;
    int64_t until_ms; /* held until then (this node's clock); 0: not held */
};

/*
 * Whether this node holds `l` now, taking or renewing it in the store when a third of its
 * time has gone (a blocking write: background threads only). A node that cannot reach the
 * store holds nothing. Logs when this node gains or loses it.
 */
bool api__lease_hold(struct api_app *a, struct api_lease *l);
/* Give `l` up if held (at stop), so another node takes over at once. Blocking. */
void api__lease_release(struct api_app *a, struct api_lease *l);

/*
 * Report `id` of org `org_id` changed durably (a notice.report marker reached the event sink):
 * its public view is published, encoded once, to the streams that follow it and to those of its
 * merged duplicates, by a thread of its own (api_report_notices_start). Any thread; never waits.
 */
void api__report_notice(int64_t org_id, int64_t id);

#endif
