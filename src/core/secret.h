/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Random secrets and their digests: API tokens, follower tokens, one-time passwords. A token is
 * 32 random bytes shown once as "<prefix>_<base64url>"; only its SHA-256 is ever stored (the
 * token's entropy makes a slow hash unnecessary; passwords use argon2id instead).
 */
#ifndef CORE_SECRET_H
#define CORE_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"

#define SECRET_HASH_LEN 32

/* Fill `p` with `n` bytes from the kernel CSPRNG. Aborts if it is unavailable. */
void secret_random(void *p, size_t n);
/* base64url without padding; `out` needs 4*ceil(n/3)+1 bytes. Returns the length written. */
size_t secret_b64url(const void *p, size_t n, char *out, size_t outlen);
/* New token "prefix_XXXX" (prefix ≤ 8 chars) in `out` (≥ 56 bytes). */
void secret_token(const char *prefix, char *out, size_t outlen);
/* SHA-256 of `n` bytes. */
void secret_sha256(const void *p, size_t n, uint8_t out[SECRET_HASH_LEN]);
/* Constant-time comparison; returns true when equal. */
int secret_equal(const void *a, const void *b, size_t n);
/* Lower-case hex of `n` bytes into `out` (≥ 2n+1 bytes). */
void secret_hex(const void *p, size_t n, char *out);

#endif
