/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Who is calling: staff by API token (Authorization: Bearer) or by session cookie. A cookie is
 * sent by the browser on its own, even on a request another site made it send, so with a
 * cookie every unsafe method must also carry the CSRF token (X-CSRF-Token), which only our own
 * pages can read. A bearer token is never sent implicitly, so it needs no CSRF token.
 */
#include "api/api_int.h"
#include "api/channels_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/secret.h"
#include "store/orgs.h"

/*
 * A session ends after SESSION_IDLE_MS without use (12 hours: a working day, so an unattended
 * office PC does not stay signed in overnight); its absolute limit is set at sign-in
 * (api/session.c). Use is recorded at most every SESSION_TOUCH_MS (5 minutes), so a busy
 * session costs one write per 5 minutes, not one per request.
 */
#define SESSION_IDLE_MS   (12LL * 3600 * 1000)
#define SESSION_TOUCH_MS  (5LL * 60 * 1000)
#define SESSION_TOKEN_MAX 64
#define CSRF_TOKEN_MAX    64

bool api__cookie(struct http_req *r, const char *name, char *out, size_t outlen)
{
    const char *h = http_req_header(r, "Cookie");
    size_t nlen = strlen(name);

    /* RFC 6265 section 5.4: "name=value" pairs separated by "; ". */
    while (h && *h) {
        const char *end;
        size_t vlen;

        while (*h == ' ' || *h == ';')
            h++;
        end = strchr(h, ';');
        if (!end)
            end = h + strlen(h);
        if ((size_t)(end - h) > nlen && !strncmp(h, name, nlen) && h[nlen] == '=') {
            h += nlen + 1;
            vlen = (size_t)(end - h);
            while (vlen && h[vlen - 1] == ' ')
                vlen--;
            if (vlen == 0 || vlen >= outlen)
                return false;
            memcpy(out, h, vlen);
            out[vlen] = '\0';
            return true;
        }
        h = end;
    }
    return false;
}

/*
 * The CSRF token is derived from the session token (SHA-256 under a fixed label), so nothing
 * more is stored, a page reload can get it again (GET /api/v1/session), and knowing it reveals
 * nothing of the cookie. The database keeps SHA-256(session token) only, from which the CSRF
 * token cannot be computed either.
 */
void api__csrf_token(const char *session, char *out, size_t outlen)
{
    static const char label[] = "araldo-csrf-v1:";
    char buf[sizeof(label) + SESSION_TOKEN_MAX];
    uint8_t h[SECRET_HASH_LEN];
    int n = snprintf(buf, sizeof(buf), "%s%s", label, session);

    secret_sha256(buf, n > 0 ? (size_t)n : 0, h);
    secret_b64url(h, sizeof(h), out, outlen);
    explicit_bzero(buf, sizeof(buf));
}

static bool unsafe_method(const struct http_req *r)
{
    return (http_req_method(r) & (HTTP_M_POST | HTTP_M_PUT | HTTP_M_PATCH | HTTP_M_DELETE)) != 0;
}

static void touch_done(void *ctx, int err, int64_t id)
{
    (void)ctx;
    (void)err;
    (void)id;
}

static bool by_token(struct http_req *r, const char *h, struct store_user *out,
                     struct api_auth *how)
{
    uint8_t hash[SECRET_HASH_LEN];
    const char *tok = h + 7;
    int err;

    while (*tok == ' ')
        tok++;
    secret_sha256(tok, strnlen(tok, 512), hash);
    err = store_token_find(api__reader(r), hash, out, &how->token_id);
    if (err == -ENOENT) {
        http_resp_header(r, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        http_respond_error(r, 401, "invalid_token",
                           "This token is unknown or revoked: create a new one.", NULL);
        return false;
    }
    if (err) {
        api__errno(r, err, "token lookup");
        return false;
    }
    return true;
}

/* `record_use`: note the session's use (the real check), or only validate it (api__admit). */
static bool by_cookie(struct http_req *r, const char *tok, struct store_user *out,
                      struct api_auth *how, bool record_use)
{
    uint8_t hash[SECRET_HASH_LEN];
    char want[CSRF_TOKEN_MAX];
    const char *got;
    int64_t now = clock_now_ms();
    int64_t last_seen = 0;
    int err;

    secret_sha256(tok, strlen(tok), hash);
    err = store_session_find(api__reader(r), hash, now, SESSION_IDLE_MS, out, &how->session_id,
                             &last_seen);
    if (err == -ENOENT) {
        http_respond_error(r, 401, "session_expired",
                           "Your session has ended (12 hours without use, 7 days after sign-in, "
                           "or signed out) or is not valid: sign in again.",
                           NULL);
        return false;
    }
    if (err) {
        api__errno(r, err, "session lookup");
        return false;
    }
    if (unsafe_method(r)) {
        got = http_req_header(r, "X-CSRF-Token");
        api__csrf_token(tok, want, sizeof(want));
        if (!got || strlen(got) != strlen(want) || !secret_equal(got, want, strlen(want))) {
            http_respond_error(r, 403, "csrf_failed",
                               "Missing or wrong X-CSRF-Token header: reload the page and "
                               "try again.",
                               NULL);
            return false;
        }
    }
    /* Fire and forget: failing to record use only makes the session end a little sooner. */
    if (record_use && now - last_seen > SESSION_TOUCH_MS &&
        store_session_touch(api__app(r)->store, how->session_id, touch_done, NULL) != 0) {
        /* queue full or shutting down: try again on the next request */
    }
    return true;
}

bool api__staff_auth(struct http_req *r, struct store_user *out, struct api_auth *how)
{
    const char *h = http_req_header(r, "Authorization");
    struct api_auth local;
    char tok[SESSION_TOKEN_MAX];
    bool ok;

    if (!how)
        how = &local;
    memset(how, 0, sizeof(*how));
    if (h && !strncasecmp(h, "Bearer ", 7))
        return by_token(r, h, out, how);
    if (api__cookie(r, API_SESSION_COOKIE, tok, sizeof(tok))) {
        ok = by_cookie(r, tok, out, how, true);
        explicit_bzero(tok, sizeof(tok));
        return ok;
    }
    http_resp_header(r, "WWW-Authenticate", "Bearer");
    http_respond_error(r, 401, "unauthenticated",
                       "Sign in or send an API token (Authorization: Bearer ...).", NULL);
    return false;
}

bool api__staff(struct http_req *r, struct store_user *out, int64_t *token_id)
{
    struct api_auth how;

    if (!api__staff_auth(r, out, &how))
        return false;
    if (token_id)
        *token_id = how.token_id;
    return true;
}

/*
 * Public reads answer without credentials, so a handler that needs none never looks at them,
 * and a client whose token or session went stale would never learn it. This check runs before
 * every GET and HEAD of the API (wired in api_routes()): credentials that are sent must be
 * valid. Unsafe methods need no such check: each of them authenticates, except the two that
 * hand out credentials (sign-in, new follower), which must work for a client holding stale ones.
 */
bool api__admit(struct http_req *r)
{
    const char *h = http_req_header(r, "Authorization");
    const char *tok;
    uint8_t hash[SECRET_HASH_LEN];
    char cookie[SESSION_TOKEN_MAX];
    struct store_user u;
    struct api_auth how = { 0 };
    bool ok = true;

    if (!(http_req_method(r) & (HTTP_M_GET | HTTP_M_HEAD)))
        return true;
    if (h && !strncasecmp(h, "Bearer ", 7)) {
        tok = h + 7;
        while (*tok == ' ')
            tok++;
        if (!strncmp(tok, "follower_", 9))
            return api__follower(r, hash);
        return by_token(r, h, &u, &how);
    }
    if (api__cookie(r, API_SESSION_COOKIE, cookie, sizeof(cookie))) {
        ok = by_cookie(r, cookie, &u, &how, false);
        explicit_bzero(cookie, sizeof(cookie));
    }
    return ok;
}
