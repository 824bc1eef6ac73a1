/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "core/password.h"

#include <argon2.h>
#include <errno.h>
#include <string.h>

#include "core/secret.h"

#define T_COST   2
#define M_COST   19456
#define LANES    1
#define SALT_LEN 16
#define HASH_LEN 32

int password_hash(const char *pw, char *out, size_t outlen)
{
    unsigned char salt[SALT_LEN];
    size_t n = strlen(pw);

    if (n < PASSWORD_MIN_LEN || n > PASSWORD_MAX_LEN)
        return -EINVAL;
    secret_random(salt, sizeof(salt));
    if (argon2id_hash_encoded(T_COST, M_COST, LANES, pw, n, salt, sizeof(salt), HASH_LEN, out,
                              outlen) != ARGON2_OK)
        return -EIO;
    return 0;
}

bool password_verify(const char *pw, const char *encoded)
{
    return argon2id_verify(encoded, pw, strlen(pw)) == ARGON2_OK;
}

void password_generate(char *out, size_t outlen)
{
    unsigned char raw[15];

    secret_random(raw, sizeof(raw));
    secret_b64url(raw, sizeof(raw), out, outlen);
}
