/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * VAPID keys and JWTs (RFC 8292, RFC 7515/7518 ES256). The JWS signature is the raw r || s
 * (32 bytes each, RFC 7518 3.4), not the DER that OpenSSL produces: converted here.
 */
#include "push/vapid.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/secret.h"

#define CACHE_SLOTS                                                              \
    32 /* origins whose JWT is kept; push services are few (FCM, Mozilla, Apple) \
        */
#define ORIGIN_MAX    255
#define JWT_MAX       700
#define VAPID_PEM_MAX 4096 /* a P-256 key in PEM is ~240 bytes */

struct jwt_slot {
    char origin[ORIGIN_MAX + 1];
    char sub[VAPID_SUB_MAX + 1];
    char jwt[JWT_MAX];
    int64_t exp_s;
};

struct vapid {
    EVP_PKEY *key;
    char pub_b64[VAPID_PUBLIC_B64_LEN + 1];
    pthread_mutex_t mu;
    struct jwt_slot slot[CACHE_SLOTS];
};

static struct vapid *from_key(EVP_PKEY *key, char *err, size_t errlen)
{
    uint8_t pub[65];
    size_t n = 0;
    char name[16] = "";
    struct vapid *v;

    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), NULL) <=
            0 ||
        (strcmp(name, "prime256v1") != 0 && strcmp(name, "P-256") != 0) ||
        EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &n) <= 0 ||
        n != sizeof(pub) || pub[0] != 0x04) {
        snprintf(err, errlen, "vapid: the key is not a P-256 key");
        return NULL;
    }
    v = xcalloc(1, sizeof(*v));
    v->key = key;
    secret_b64url(pub, sizeof(pub), v->pub_b64, sizeof(v->pub_b64));
    pthread_mutex_init(&v->mu, NULL);
    return v;
}

static struct vapid *load(const char *path, char *err, size_t errlen)
{
    struct stat st;
    EVP_PKEY *key = NULL;
    struct vapid *v;
    FILE *f = fopen(path, "re");

    if (!f) {
        snprintf(err, errlen, "vapid: cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0 || (st.st_mode & 077) != 0) {
        snprintf(err, errlen,
                 "vapid: '%s' is readable by others: chmod 600 it (it signs for this server)",
                 path);
        fclose(f);
        return NULL;
    }
    key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!key) {
        snprintf(err, errlen, "vapid: '%s' holds no PEM private key", path);
        return NULL;
    }
    v = from_key(key, err, errlen);
    if (!v)
        EVP_PKEY_free(key);
    return v;
}

static struct vapid *create(const char *path, char *err, size_t errlen)
{
    char tmp[4096];
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    struct vapid *v = NULL;
    FILE *f = NULL;
    int fd = -1;
    int ok;

    if (!key) {
        snprintf(err, errlen, "vapid: cannot make a P-256 key");
        return NULL;
    }
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
        snprintf(err, errlen, "vapid: path too long");
        goto fail;
    }
    (void)unlink(tmp); /* a leftover of a crash mid-write */
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        snprintf(err, errlen, "vapid: cannot create '%s': %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        goto fail;
    }
    ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1 && fflush(f) == 0 &&
         fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errlen, "vapid: cannot write '%s': %s", path, strerror(errno));
        (void)unlink(tmp);
        goto fail;
    }
    v = from_key(key, err, errlen);
    if (v)
        return v;
fail:
    EVP_PKEY_free(key);
    return NULL;
}

struct vapid *vapid_open(const char *path, bool create_missing, bool *created, char *err,
                         size_t errlen)
{
    if (created)
        *created = false;
    if (access(path, F_OK) != 0 && errno == ENOENT && create_missing) {
        if (created)
            *created = true;
        return create(path, err, errlen);
    }
    return load(path, err, errlen);
}

struct vapid *vapid_from_pem(const char *pem, char *err, size_t errlen)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    struct vapid *v;

    BIO_free(b);
    if (!key) {
        snprintf(err, errlen, "vapid: the stored key is not a PEM private key");
        return NULL;
    }
    v = from_key(key, err, errlen);
    if (!v)
        EVP_PKEY_free(key);
    return v;
}

char *vapid_new_pem(char *err, size_t errlen)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    char *pem = NULL;
    long n = 0;

    if (key && b && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1) {
        n = BIO_get_mem_data(b, &data);
        if (n > 0 && data) {
            pem = xmalloc((size_t)n + 1);
            memcpy(pem, data, (size_t)n);
            pem[n] = '\0';
        }
    }
    if (!pem)
        snprintf(err, errlen, "vapid: cannot make a P-256 key");
    /* a memory BIO's bytes are not NUL-terminated: wipe exactly the n it holds */
    if (data && n > 0)
        OPENSSL_cleanse(data, (size_t)n);
    BIO_free(b);
    EVP_PKEY_free(key);
    return pem;
}

int vapid_read_pem(const char *path, char **pem, char *err, size_t errlen)
{
    struct vapid *v = load(path, err, errlen); /* checks the mode and that it is a P-256 key */
    FILE *f;
    char *buf;
    size_t n;

    *pem = NULL;
    if (!v)
        return access(path, F_OK) != 0 && errno == ENOENT ? -ENOENT : -EINVAL;
    vapid_free(v);
    f = fopen(path, "re");
    if (!f) {
        snprintf(err, errlen, "vapid: cannot open '%s': %s", path, strerror(errno));
        return -errno;
    }
    buf = xcalloc(1, VAPID_PEM_MAX + 1);
    n = fread(buf, 1, VAPID_PEM_MAX + 1, f);
    fclose(f);
    if (n == 0 || n > VAPID_PEM_MAX) {
        snprintf(err, errlen, "vapid: '%s' is not a key file of this server", path);
        OPENSSL_cleanse(buf, VAPID_PEM_MAX + 1);
        free(buf);
        return -EINVAL;
    }
    *pem = buf;
    return 0;
}

void vapid_free(struct vapid *v)
{
    if (!v)
        return;
    EVP_PKEY_free(v->key);
    pthread_mutex_destroy(&v->mu);
    OPENSSL_cleanse(v->slot, sizeof(v->slot));
    free(v);
}

const char *vapid_public_key(const struct vapid *v)
{
    return v->pub_b64;
}

/* JSON string characters we accept in aud and sub without escaping (URLs and mailto:). */
static bool plain(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x21 || *s == '"' || *s == '\\' || (unsigned char)*s > 0x7e)
            return false;
    }
    return true;
}

/* ES256 over `in`: the 64-byte r || s. */
static int sign(EVP_PKEY *key, const char *in, size_t len, uint8_t rs[64])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t der[80];
    size_t n = sizeof(der);
    const uint8_t *p = der;
    ECDSA_SIG *sig = NULL;
    const BIGNUM *r, *s;
    int err = -EIO;

    if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) <= 0 ||
        EVP_DigestSign(md, der, &n, (const uint8_t *)in, len) <= 0)
        goto out;
    sig = d2i_ECDSA_SIG(NULL, &p, (long)n);
    if (!sig)
        goto out;
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_bn2binpad(r, rs, 32) == 32 && BN_bn2binpad(s, rs + 32, 32) == 32)
        err = 0;
out:
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(md);
    return err;
}

int vapid_jwt(struct vapid *v, const char *aud, const char *sub, int64_t exp_s, char *out,
              size_t outlen)
{
    /* {"typ":"JWT","alg":"ES256"} */
    static const char head[] = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9";
    char claims[600];
    char buf[JWT_MAX + 100];
    uint8_t rs[64];
    size_t n;
    int c;
    int err;

    if (!aud || !sub || strlen(aud) > ORIGIN_MAX || strlen(sub) > VAPID_SUB_MAX || !plain(aud) ||
        !plain(sub))
        return -EINVAL;
    c = snprintf(claims, sizeof(claims), "{\"aud\":\"%s\",\"exp\":%lld,\"sub\":\"%s\"}", aud,
                 (long long)exp_s, sub);
    if (c < 0 || (size_t)c >= sizeof(claims))
        return -EINVAL;
    n = (size_t)snprintf(buf, sizeof(buf), "%s.", head);
    n += secret_b64url(claims, (size_t)c, buf + n, sizeof(buf) - n);
    err = sign(v->key, buf, n, rs);
    if (err)
        return err;
    if (n + 1 + 87 + 1 > outlen)
        return -EMSGSIZE;
    memcpy(out, buf, n);
    out[n++] = '.';
    secret_b64url(rs, sizeof(rs), out + n, outlen - n);
    return 0;
}

int vapid_header(struct vapid *v, const char *origin, const char *sub, int64_t now_s, char *out,
                 size_t outlen)
{
    struct jwt_slot *s = NULL;
    struct jwt_slot *oldest = &v->slot[0];
    int err = 0;
    int c;

    if (strlen(origin) > ORIGIN_MAX || strlen(sub) > VAPID_SUB_MAX)
        return -EINVAL;
    pthread_mutex_lock(&v->mu);
    for (size_t i = 0; i < CACHE_SLOTS && !s; i++) {
        if (!strcmp(v->slot[i].origin, origin) && !strcmp(v->slot[i].sub, sub)) {
            s = &v->slot[i];
        } else if (v->slot[i].exp_s < oldest->exp_s) {
            oldest = &v->slot[i];
        }
    }
    if (!s || s->exp_s - VAPID_JWT_RENEW_S <= now_s) {
        if (!s)
            s = oldest;
        snprintf(s->origin, sizeof(s->origin), "%s", origin);
        snprintf(s->sub, sizeof(s->sub), "%s", sub);
        s->exp_s = now_s + VAPID_JWT_TTL_S;
        err = vapid_jwt(v, origin, sub, s->exp_s, s->jwt, sizeof(s->jwt));
        if (err)
            s->origin[0] = '\0';
    }
    if (!err) {
        c = snprintf(out, outlen, "vapid t=%s, k=%s", s->jwt, v->pub_b64);
        err = c < 0 || (size_t)c >= outlen ? -EMSGSIZE : 0;
    }
    pthread_mutex_unlock(&v->mu);
    return err;
}
