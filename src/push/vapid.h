/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * VAPID (RFC 8292): the server's P-256 key pair, as PEM text (kept in the database and shared
 * by every node; a PEM file of mode 0600 before that), and the ES256-signed JWT that goes with
 * each push request, cached per push service origin until it is close to expiring (signing
 * costs more than the rest of a request).
 *
 * Threads: vapid_header() may be called from any thread (the cache has its own lock); the rest
 * from the thread that owns the struct.
 */
#ifndef PUSH_VAPID_H
#define PUSH_VAPID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"

#define VAPID_PUBLIC_B64_LEN 87           /* base64url of the 65-byte uncompressed point */
#define VAPID_JWT_TTL_S      (12L * 3600) /* RFC 8292 2: exp at most 24 h ahead */
#define VAPID_JWT_RENEW_S    3600L        /* a cached JWT is replaced this long before exp */
#define VAPID_HEADER_MAX     1024         /* "vapid t=<jwt>, k=<key>" for a 255-byte origin */
#define VAPID_SUB_MAX        255

struct vapid; /* opaque */

/*
 * Load the key pair from the PEM file `path`, or, when it does not exist and `create` is set,
 * make a new one and write it there (mode 0600, written to a temporary name and renamed, so a
 * crash never leaves half a key). A key file readable by group or others is refused: it signs
 * for this server. `*created` (may be NULL) tells whether it was made now. Returns NULL with
 * one line in `err`.
 */
struct vapid *vapid_open(const char *path, bool create, bool *created, char *err, size_t errlen);
void vapid_free(struct vapid *v);

/*
 * The same, from PEM text held elsewhere (the database: several nodes share one key). NULL
 * with one line in `err` (never the key's text) if it is not a P-256 private key.
 */
struct vapid *vapid_from_pem(const char *pem, char *err, size_t errlen);
/*
 * A new P-256 key pair as PEM text (caller wipes it with explicit_bzero() and frees it), or
 * NULL with one line in `err`.
 */
char *vapid_new_pem(char *err, size_t errlen);
/*
 * The PEM text of the key file `path` into `*pem` (caller wipes and frees), refused like
 * vapid_open() if group or others may read it. 0, -ENOENT if there is no such file, or another
 * negative errno with one line in `err`.
 */
MUST_CHECK int vapid_read_pem(const char *path, char **pem, char *err, size_t errlen);

/* The public key, base64url without padding (what PushManager.subscribe wants). */
const char *vapid_public_key(const struct vapid *v);

/*
 * The Authorization header value for a push request to `origin` ("https://host[:port]", the
 * JWT's aud) with contact `sub` ("mailto:..." or "https://..."), at wall-clock time `now_s`:
 * "vapid t=<jwt>, k=<public key>" into `out`. The JWT is reused for the same origin until
 * VAPID_JWT_RENEW_S before it expires. Returns 0, -EINVAL for an origin or sub too long, -EIO
 * if signing fails. Any thread.
 */
MUST_CHECK int vapid_header(struct vapid *v, const char *origin, const char *sub, int64_t now_s,
                            char *out, size_t outlen);

/*
 * Sign a fresh JWT {"aud","exp","sub"} (no cache), for tests and the header above. Returns 0,
 * -EINVAL, -EMSGSIZE if `out` is too small, or -EIO.
 */
MUST_CHECK int vapid_jwt(struct vapid *v, const char *aud, const char *sub, int64_t exp_s,
                         char *out, size_t outlen);

#endif
