/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Web Push message encryption: RFC 8291 key derivation over the "aes128gcm" content coding of
 * RFC 8188, with OpenSSL 3. One message is one record (Web Push bodies are at most 4096 bytes),
 * so the plaintext is at most ECE_PLAINTEXT_MAX bytes. Also the parsing and checking of a
 * browser's subscription keys (base64url, length, point on P-256), which is outside input.
 *
 * Pure functions of their arguments (plus the CSPRNG in ece_encrypt): any thread.
 */
#ifndef PUSH_ECE_H
#define PUSH_ECE_H

#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"

#define ECE_PUBKEY_LEN  65 /* uncompressed P-256 point: 0x04 || X || Y */
#define ECE_PRIVKEY_LEN 32 /* a P-256 scalar */
#define ECE_AUTH_LEN    16 /* the subscription's auth secret */
#define ECE_SALT_LEN    16
#define ECE_RECORD_SIZE 4096 /* rs in the header; Web Push limits the body to 4096 bytes */
#define ECE_HEADER_LEN  (ECE_SALT_LEN + 4 + 1 + ECE_PUBKEY_LEN) /* 86 */
#define ECE_TAG_LEN     16
#define ECE_BODY_MAX    4096
/* 4096 - 86 header - 16 tag - 1 delimiter: the most a push message can carry (RFC 8291 4). */
#define ECE_PLAINTEXT_MAX (ECE_BODY_MAX - ECE_HEADER_LEN - ECE_TAG_LEN - 1)

/*
 * Decode base64url (with or without '=' padding; the standard alphabet's '+' and '/' are
 * refused) into `out`. Returns the decoded length, or -EINVAL for a bad character, a bad
 * length or more than `outlen` bytes.
 */
MUST_CHECK int ece_b64url_decode(const char *s, size_t len, uint8_t *out, size_t outlen);

/*
 * Check a subscription's keys as browsers send them in PushSubscription.toJSON(): `p256dh` is
 * base64url of a 65-byte uncompressed point that lies on P-256, `auth` base64url of 16 bytes.
 * Fills `pub` and `auth` and returns 0, or -EINVAL naming the bad key in `*field` ("p256dh" or
 * "auth").
 */
MUST_CHECK int ece_keys_parse(const char *p256dh, const char *auth, uint8_t pub[ECE_PUBKEY_LEN],
                              uint8_t auth_out[ECE_AUTH_LEN], const char **field);

/* A fixed sender key pair and salt, for test vectors only (ece_encrypt). */
struct ece_sender {
    uint8_t priv[ECE_PRIVKEY_LEN];
    uint8_t pub[ECE_PUBKEY_LEN];
    uint8_t salt[ECE_SALT_LEN];
};

/*
 * Encrypt `plain` (len ≤ ECE_PLAINTEXT_MAX) for the user agent key `ua_pub` and secret `auth`:
 * the whole aes128gcm body (header, one record with `pad` zero bytes of padding after the
 * delimiter) into `out` (ECE_BODY_MAX bytes), its length in `*outlen`. A fresh ephemeral key
 * and salt per call unless `snd` is fixed (tests). Returns 0, -EMSGSIZE when the plaintext plus
 * padding does not fit in one record, -EINVAL for a key not on the curve, -EIO if OpenSSL fails.
 */
MUST_CHECK int ece_encrypt(const uint8_t ua_pub[ECE_PUBKEY_LEN], const uint8_t auth[ECE_AUTH_LEN],
                           const void *plain, size_t len, size_t pad, const struct ece_sender *snd,
                           uint8_t out[ECE_BODY_MAX], size_t *outlen);

/*
 * Decrypt an aes128gcm body for the user agent (`ua_priv`, `ua_pub`, `auth`): what a browser
 * does, for our own tests. Writes the plaintext without padding into `out` (outlen bytes) and
 * its length in `*plainlen`. Returns 0, -EBADMSG when the message does not authenticate or is
 * malformed, -EIO if OpenSSL fails.
 */
MUST_CHECK int ece_decrypt(const uint8_t ua_priv[ECE_PRIVKEY_LEN],
                           const uint8_t ua_pub[ECE_PUBKEY_LEN], const uint8_t auth[ECE_AUTH_LEN],
                           const uint8_t *body, size_t len, uint8_t *out, size_t outlen,
                           size_t *plainlen);

#endif
