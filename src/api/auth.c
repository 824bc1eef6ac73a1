/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Who is calling: staff by API token (Authorization: Bearer), later by session cookie with a
 * CSRF token on unsafe methods.
 */
#include "api/api_int.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "core/secret.h"

bool api__staff(struct http_req *r, struct store_user *out, int64_t *token_id)
{
    const char *h = http_req_header(r, "Authorization");
    uint8_t hash[SECRET_HASH_LEN];
    const char *tok;
    int err;

    if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
        http_resp_header(r, "WWW-Authenticate", "Bearer");
        http_respond_error(r, 401, "unauthenticated",
                           "Sign in or send an API token (Authorization: Bearer ...).", NULL);
        return false;
    }
    tok = h + 7;
    while (*tok == ' ')
        tok++;
    secret_sha256(tok, strnlen(tok, 512), hash);
    err = store_token_find(api__reader(r), hash, out, token_id);
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

