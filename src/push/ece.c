/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * RFC 8291 (Message Encryption for Web Push) over RFC 8188's aes128gcm. The steps, with the
 * section that asks for each, since a mistake here fails silently (the browser just drops the
 * message):
 *
 *   ecdh     = ECDH(as_private, ua_public)                         RFC 8291 3.1
 *   PRK_key  = HMAC-SHA-256(auth_secret, ecdh)                     3.3 (HKDF-Extract)
 *   IKM      = HMAC-SHA-256(PRK_key, "WebPush: info" 0x00 ua_public as_public 0x01)  3.3, 3.4
 *   PRK      = HMAC-SHA-256(salt, IKM)                             RFC 8188 2.2
 *   CEK      = HMAC-SHA-256(PRK, "Content-Encoding: aes128gcm" 0x00 0x01)[0..16]
 *   NONCE    = HMAC-SHA-256(PRK, "Content-Encoding: nonce" 0x00 0x01)[0..12]   (record 0)
 *   body     = salt || rs (uint32 BE) || idlen=65 || as_public ||
 *              AES-128-GCM(CEK, NONCE, plaintext || 0x02 || padding zeros) || tag
 *
 * 0x02 marks the last (here: only) record (RFC 8188 2); the key id is the sender's public key
 * (RFC 8291 4).
 */
#include "push/ece.h"

#include <errno.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <string.h>

/* ---- base64url ---- */

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int ece_b64url_decode(const char *s, size_t len, uint8_t *out, size_t outlen)
{
    uint32_t acc = 0;
    size_t n = 0;
    int bits = 0;

    while (len > 0 && s[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        int v = b64val((unsigned char)s[i]);

        if (v < 0)
            return -EINVAL;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= outlen)
                return -EINVAL;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    /* The unused low bits of the last character must be zero (one encoding per value). */
    if (bits > 0 && (acc & ((1U << bits) - 1)) != 0)
        return -EINVAL;
    return (int)n;
}

/* ---- keys ---- */

/*
 * A P-256 public key from its uncompressed point; NULL when the point is not on the curve.
 * `full_check` adds OpenSSL's public key check (which also multiplies by the group order):
 * costly, so done once when a subscription is accepted, not for every message.
 */
static EVP_PKEY *pub_from_point(const uint8_t pub[ECE_PUBKEY_LEN], bool full_check)
{
    OSSL_PARAM params[3];
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY_CTX *check = NULL;
    EVP_PKEY *key = NULL;

    if (!ctx || pub[0] != 0x04)
        goto fail;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"P-256", 0);
    params[1] =
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub, ECE_PUBKEY_LEN);
    params[2] = OSSL_PARAM_construct_end();
    if (EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        goto fail;
    /* fromdata decodes the point; the explicit check also refuses the point at infinity. */
    if (full_check) {
        check = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
        if (!check || EVP_PKEY_public_check(check) <= 0)
            goto fail;
    }
    EVP_PKEY_CTX_free(check);
    EVP_PKEY_CTX_free(ctx);
    return key;
fail:
    EVP_PKEY_CTX_free(check);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(key);
    return NULL;
}

/* A P-256 key pair from a private scalar and its public point (test vectors). */
static EVP_PKEY *pair_from_raw(const uint8_t priv[ECE_PRIVKEY_LEN],
                               const uint8_t pub[ECE_PUBKEY_LEN])
{
    OSSL_PARAM params[4];
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    BIGNUM *d = BN_bin2bn(priv, ECE_PRIVKEY_LEN, NULL);
    uint8_t le[ECE_PRIVKEY_LEN];
    EVP_PKEY *key = NULL;

    /* OSSL_PARAM integers are native-endian byte strings. */
    if (!ctx || !d || BN_bn2nativepad(d, le, sizeof(le)) < 0)
        goto out;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"P-256", 0);
    params[1] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_PRIV_KEY, le, sizeof(le));
    params[2] =
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub, ECE_PUBKEY_LEN);
    params[3] = OSSL_PARAM_construct_end();
    if (EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params) <= 0)
        key = NULL;
out:
    OPENSSL_cleanse(le, sizeof(le));
    BN_clear_free(d);
    EVP_PKEY_CTX_free(ctx);
    return key;
}

/* A fresh P-256 key pair and its uncompressed public point. */
static EVP_PKEY *pair_new(uint8_t pub[ECE_PUBKEY_LEN])
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    size_t n = 0;

    if (key && (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, ECE_PUBKEY_LEN,
                                                &n) <= 0 ||
                n != ECE_PUBKEY_LEN)) {
        EVP_PKEY_free(key);
        key = NULL;
    }
    return key;
}

int ece_keys_parse(const char *p256dh, const char *auth, uint8_t pub[ECE_PUBKEY_LEN],
                   uint8_t auth_out[ECE_AUTH_LEN], const char **field)
{
    EVP_PKEY *k;

    *field = "p256dh";
    if (!p256dh || ece_b64url_decode(p256dh, strlen(p256dh), pub, ECE_PUBKEY_LEN) != ECE_PUBKEY_LEN)
        return -EINVAL;
    k = pub_from_point(pub, true);
    if (!k)
        return -EINVAL;
    EVP_PKEY_free(k);
    *field = "auth";
    if (!auth || ece_b64url_decode(auth, strlen(auth), auth_out, ECE_AUTH_LEN) != ECE_AUTH_LEN)
        return -EINVAL;
    *field = NULL;
    return 0;
}

/*
 * ECDH between our `mine` and their point: 32 bytes into `out`. The peer is not validated again
 * here (set_peer_ex's 0): decoding the point checked it is on the curve, and the full check ran
 * when the subscription was accepted; doing it per message doubled the cost of a message.
 */
static int ecdh(EVP_PKEY *mine, const uint8_t peer_pub[ECE_PUBKEY_LEN], uint8_t out[32])
{
    EVP_PKEY *peer = pub_from_point(peer_pub, false);
    EVP_PKEY_CTX *ctx = peer ? EVP_PKEY_CTX_new_from_pkey(NULL, mine, NULL) : NULL;
    size_t n = 32;
    int err = -EIO;

    if (!peer) {
        err = -EINVAL;
        goto out;
    }
    if (ctx && EVP_PKEY_derive_init(ctx) > 0 && EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) > 0 &&
        EVP_PKEY_derive(ctx, out, &n) > 0 && n == 32)
        err = 0;
out:
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
    return err;
}

static int hmac(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t len, uint8_t out[32])
{
    unsigned int n = 32;

    return HMAC(EVP_sha256(), key, (int)keylen, msg, len, out, &n) && n == 32 ? 0 : -EIO;
}

/* CEK and NONCE from the ECDH secret, both public keys, auth secret and salt (see the top). */
static int derive(const uint8_t secret[32], const uint8_t ua_pub[ECE_PUBKEY_LEN],
                  const uint8_t as_pub[ECE_PUBKEY_LEN], const uint8_t auth[ECE_AUTH_LEN],
                  const uint8_t salt[ECE_SALT_LEN], uint8_t cek[16], uint8_t nonce[12])
{
    static const char key_info[] = "WebPush: info";
    static const char cek_info[] = "Content-Encoding: aes128gcm";
    static const char nonce_info[] = "Content-Encoding: nonce";
    uint8_t info[sizeof(key_info) + (size_t)2 * ECE_PUBKEY_LEN + 1];
    uint8_t prk_key[32], ikm[32], prk[32], t[32];
    uint8_t ci[sizeof(cek_info) + 1], ni[sizeof(nonce_info) + 1];
    size_t n = 0;
    int err;

    /* sizeof includes the NUL: exactly the 0x00 separator the RFCs put after each label. */
    memcpy(info, key_info, sizeof(key_info));
    n = sizeof(key_info);
    memcpy(info + n, ua_pub, ECE_PUBKEY_LEN);
    n += ECE_PUBKEY_LEN;
    memcpy(info + n, as_pub, ECE_PUBKEY_LEN);
    n += ECE_PUBKEY_LEN;
    info[n++] = 0x01;
    memcpy(ci, cek_info, sizeof(cek_info));
    ci[sizeof(cek_info)] = 0x01;
    memcpy(ni, nonce_info, sizeof(nonce_info));
    ni[sizeof(nonce_info)] = 0x01;
    err = hmac(auth, ECE_AUTH_LEN, secret, 32, prk_key);
    if (!err)
        err = hmac(prk_key, 32, info, n, ikm);
    if (!err)
        err = hmac(salt, ECE_SALT_LEN, ikm, 32, prk);
    if (!err)
        err = hmac(prk, 32, ci, sizeof(ci), t);
    if (!err) {
        memcpy(cek, t, 16);
        err = hmac(prk, 32, ni, sizeof(ni), t);
    }
    if (!err)
        memcpy(nonce, t, 12);
    OPENSSL_cleanse(prk_key, sizeof(prk_key));
    OPENSSL_cleanse(ikm, sizeof(ikm));
    OPENSSL_cleanse(prk, sizeof(prk));
    OPENSSL_cleanse(t, sizeof(t));
    return err;
}

/* AES-128-GCM of `in` (len) into `out` (len + 16: ciphertext then tag), or the reverse. */
static int gcm(bool enc, const uint8_t key[16], const uint8_t iv[12], const uint8_t *in, size_t len,
               uint8_t *out)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0;
    int fin = 0;
    int err = -EIO;

    if (!c || !EVP_CipherInit_ex(c, EVP_aes_128_gcm(), NULL, key, iv, enc ? 1 : 0))
        goto out;
    if (!enc && !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, ECE_TAG_LEN, (void *)(in + len)))
        goto out;
    if (!EVP_CipherUpdate(c, out, &n, in, (int)len))
        goto out;
    if (!EVP_CipherFinal_ex(c, out + n, &fin)) {
        err = enc ? -EIO : -EBADMSG;
        goto out;
    }
    if (enc && !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, ECE_TAG_LEN, out + len))
        goto out;
    err = 0;
out:
    EVP_CIPHER_CTX_free(c);
    return err;
}

int ece_encrypt(const uint8_t ua_pub[ECE_PUBKEY_LEN], const uint8_t auth[ECE_AUTH_LEN],
                const void *plain, size_t len, size_t pad, const struct ece_sender *snd,
                uint8_t out[ECE_BODY_MAX], size_t *outlen)
{
    uint8_t rec[ECE_BODY_MAX];
    uint8_t as_pub[ECE_PUBKEY_LEN];
    uint8_t salt[ECE_SALT_LEN];
    uint8_t secret[32], cek[16], nonce[12];
    size_t reclen = len + 1 + pad;
    EVP_PKEY *as = NULL;
    int err;

    if (len > ECE_PLAINTEXT_MAX || pad > ECE_PLAINTEXT_MAX - len)
        return -EMSGSIZE;
    if (snd) {
        memcpy(as_pub, snd->pub, ECE_PUBKEY_LEN);
        memcpy(salt, snd->salt, ECE_SALT_LEN);
        as = pair_from_raw(snd->priv, snd->pub);
    } else {
        as = pair_new(as_pub);
        if (RAND_bytes(salt, ECE_SALT_LEN) != 1) {
            err = -EIO;
            goto out;
        }
    }
    if (!as) {
        err = -EIO;
        goto out;
    }
    err = ecdh(as, ua_pub, secret);
    if (!err)
        err = derive(secret, ua_pub, as_pub, auth, salt, cek, nonce);
    if (err)
        goto out;
    memcpy(rec, plain, len);
    rec[len] = 0x02; /* the last record's delimiter (RFC 8188 2) */
    memset(rec + len + 1, 0, pad);
    memcpy(out, salt, ECE_SALT_LEN);
    out[16] = (uint8_t)(ECE_RECORD_SIZE >> 24);
    out[17] = (uint8_t)(ECE_RECORD_SIZE >> 16);
    out[18] = (uint8_t)(ECE_RECORD_SIZE >> 8);
    out[19] = (uint8_t)ECE_RECORD_SIZE;
    out[20] = ECE_PUBKEY_LEN;
    memcpy(out + 21, as_pub, ECE_PUBKEY_LEN);
    err = gcm(true, cek, nonce, rec, reclen, out + ECE_HEADER_LEN);
    if (!err)
        *outlen = ECE_HEADER_LEN + reclen + ECE_TAG_LEN;
out:
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(cek, sizeof(cek));
    OPENSSL_cleanse(rec, sizeof(rec));
    EVP_PKEY_free(as);
    return err;
}

int ece_decrypt(const uint8_t ua_priv[ECE_PRIVKEY_LEN], const uint8_t ua_pub[ECE_PUBKEY_LEN],
                const uint8_t auth[ECE_AUTH_LEN], const uint8_t *body, size_t len, uint8_t *out,
                size_t outlen, size_t *plainlen)
{
    uint8_t rec[ECE_BODY_MAX];
    uint8_t secret[32], cek[16], nonce[12];
    EVP_PKEY *ua = NULL;
    size_t reclen;
    size_t n;
    int err = -EBADMSG;

    if (len < ECE_HEADER_LEN + ECE_TAG_LEN + 1 || len > ECE_BODY_MAX || body[20] != ECE_PUBKEY_LEN)
        return -EBADMSG;
    reclen = len - ECE_HEADER_LEN - ECE_TAG_LEN;
    ua = pair_from_raw(ua_priv, ua_pub);
    if (!ua)
        return -EIO;
    err = ecdh(ua, body + 21, secret);
    if (!err)
        err = derive(secret, ua_pub, body + 21, auth, body, cek, nonce);
    if (!err)
        err = gcm(false, cek, nonce, body + ECE_HEADER_LEN, reclen, rec);
    if (err) {
        err = err == -EIO ? -EIO : -EBADMSG;
        goto out;
    }
    /* Padding is zeros after the delimiter: strip back to the 0x02 of the last record. */
    n = reclen;
    while (n > 0 && rec[n - 1] == 0)
        n--;
    if (n == 0 || rec[n - 1] != 0x02 || n - 1 > outlen) {
        err = -EBADMSG;
        goto out;
    }
    memcpy(out, rec, n - 1);
    *plainlen = n - 1;
out:
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(cek, sizeof(cek));
    OPENSSL_cleanse(rec, sizeof(rec));
    EVP_PKEY_free(ua);
    return err;
}
