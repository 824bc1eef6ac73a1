/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Staff passwords: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane). Hashing takes
 * tens of milliseconds on purpose, so callers on an event loop run it on the thread pool.
 */
#ifndef CORE_PASSWORD_H
#define CORE_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/compiler.h"

#define PASSWORD_HASH_MAX 128 /* encoded hash length, with NUL */
#define PASSWORD_MIN_LEN  10
#define PASSWORD_MAX_LEN  256

/* Hash `pw` into `out` (PASSWORD_HASH_MAX bytes). Returns 0, or -EINVAL for a length outside
 * PASSWORD_MIN_LEN..PASSWORD_MAX_LEN. */
MUST_CHECK int password_hash(const char *pw, char *out, size_t outlen);
/* True if `pw` matches the encoded hash. */
bool password_verify(const char *pw, const char *encoded);
/* A new random one-time password of 20 characters (≈ 120 bits) into `out` (≥ 21 bytes). */
void password_generate(char *out, size_t outlen);

#endif
