/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "core/secret.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

void secret_random(void *p, size_t n)
{
    unsigned char *q = p;

    while (n) {
        ssize_t got = getrandom(q, n, 0);

        if (got < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "fatal: getrandom: %s\n", strerror(errno));
            abort();
        }
        q += got;
        n -= (size_t)got;
    }
}

size_t secret_b64url(const void *p, size_t n, char *out, size_t outlen)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *s = p;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;

    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | s[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            if (o + 1 < outlen)
                out[o++] = tab[(acc >> bits) & 63];
        }
    }
    if (bits > 0 && o + 1 < outlen)
        out[o++] = tab[(acc << (6 - bits)) & 63];
    if (outlen)
        out[o] = '\0';
    return o;
}

void secret_token(const char *prefix, char *out, size_t outlen)
{
    unsigned char raw[32];
    int n = snprintf(out, outlen, "%.8s_", prefix);

    secret_random(raw, sizeof(raw));
    secret_b64url(raw, sizeof(raw), out + n, outlen - (size_t)n);
    OPENSSL_cleanse(raw, sizeof(raw));
}

void secret_sha256(const void *p, size_t n, uint8_t out[SECRET_HASH_LEN])
{
    SHA256(p, n, out);
}

int secret_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void secret_hex(const void *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = p;

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[s[i] >> 4];
        out[2 * i + 1] = hex[s[i] & 15];
    }
    out[2 * n] = '\0';
}
