/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Web Push crypto: RFC 8291's Appendix A test vector byte for byte, round trips with fresh
 * keys, the subscription key checks (a point off the curve), and VAPID keys and JWTs (file
 * mode, ES256 signatures that verify, the per-origin cache).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/secret.h"
#include "harness.h"
#include "push/ece.h"
#include "push/outbound.h"
#include "push/vapid.h"

/* RFC 8291 Appendix A. */
static const char rfc_plain[] = "V2hlbiBJIGdyb3cgdXAsIEkgd2FudCB0byBiZSBhIHdhdGVybWVsb24";
static const char rfc_as_pub[] = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAm"
                                 "S6TlzAC8wEqKK6PBru3jl7A8";
static const char rfc_as_priv[] = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
static const char rfc_ua_pub[] = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bj"
                                 "yPjs7Vd8pZGH6SRpkNtoIAiw4";
static const char rfc_ua_priv[] = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
static const char rfc_salt[] = "DGv6ra1nlYgDCS1FRnbzlw";
static const char rfc_auth[] = "BTBZMqHH6r4Tts7J_aSIgg";
static const char rfc_body[] =
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS"
    "6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qul"
    "cy4a-fN";

static int dec(const char *s, uint8_t *out, size_t outlen)
{
    return ece_b64url_decode(s, strlen(s), out, outlen);
}

TEST(rfc8291_appendix_a_vector_encrypts_byte_for_byte)
{
    struct ece_sender snd;
    uint8_t ua_pub[ECE_PUBKEY_LEN], auth[ECE_AUTH_LEN], plain[64], out[ECE_BODY_MAX];
    char b64[ECE_BODY_MAX * 2];
    size_t outlen = 0;
    int n = dec(rfc_plain, plain, sizeof(plain));

    CHECK_INT(n, ==, 41);
    CHECK_INT(dec(rfc_as_pub, snd.pub, sizeof(snd.pub)), ==, 65);
    CHECK_INT(dec(rfc_as_priv, snd.priv, sizeof(snd.priv)), ==, 32);
    CHECK_INT(dec(rfc_salt, snd.salt, sizeof(snd.salt)), ==, 16);
    CHECK_INT(dec(rfc_ua_pub, ua_pub, sizeof(ua_pub)), ==, 65);
    CHECK_INT(dec(rfc_auth, auth, sizeof(auth)), ==, 16);
    CHECK_INT(ece_encrypt(ua_pub, auth, plain, (size_t)n, 0, &snd, out, &outlen), ==, 0);
    secret_b64url(out, outlen, b64, sizeof(b64));
    CHECK_STR(b64, rfc_body);
}

TEST(rfc8291_appendix_a_vector_decrypts)
{
    uint8_t ua_pub[ECE_PUBKEY_LEN], ua_priv[32], auth[ECE_AUTH_LEN], body[256], out[64];
    size_t len = 0;
    int n = dec(rfc_body, body, sizeof(body));

    CHECK_INT(n, >, 0);
    CHECK_INT(dec(rfc_ua_pub, ua_pub, sizeof(ua_pub)), ==, 65);
    CHECK_INT(dec(rfc_ua_priv, ua_priv, sizeof(ua_priv)), ==, 32);
    CHECK_INT(dec(rfc_auth, auth, sizeof(auth)), ==, 16);
    CHECK_INT(ece_decrypt(ua_priv, ua_pub, auth, body, (size_t)n, out, sizeof(out), &len), ==, 0);
    CHECK_INT(len, ==, 41);
    CHECK(!memcmp(out, "When I grow up, I want to be a watermelon", 41));
    body[n - 1] ^= 1; /* a flipped tag bit */
    CHECK_INT(ece_decrypt(ua_priv, ua_pub, auth, body, (size_t)n, out, sizeof(out), &len), ==,
              -EBADMSG);
}

TEST(fresh_keys_round_trip_with_padding_up_to_the_limit)
{
    uint8_t ua_pub[ECE_PUBKEY_LEN], ua_priv[32], auth[ECE_AUTH_LEN];
    static uint8_t plain[ECE_PLAINTEXT_MAX + 1], out[ECE_BODY_MAX], back[ECE_BODY_MAX];
    uint8_t first_salt[ECE_SALT_LEN];
    size_t outlen = 0, len = 0;

    CHECK_INT(dec(rfc_ua_pub, ua_pub, sizeof(ua_pub)), ==, 65);
    CHECK_INT(dec(rfc_ua_priv, ua_priv, sizeof(ua_priv)), ==, 32);
    CHECK_INT(dec(rfc_auth, auth, sizeof(auth)), ==, 16);
    for (size_t i = 0; i < sizeof(plain); i++)
        plain[i] = (uint8_t)(i * 7 + 1);
    CHECK_INT(ece_encrypt(ua_pub, auth, plain, 100, 28, NULL, out, &outlen), ==, 0);
    CHECK_INT(outlen, ==, ECE_HEADER_LEN + 100 + 1 + 28 + ECE_TAG_LEN);
    memcpy(first_salt, out, ECE_SALT_LEN);
    CHECK_INT(ece_decrypt(ua_priv, ua_pub, auth, out, outlen, back, sizeof(back), &len), ==, 0);
    CHECK_INT(len, ==, 100);
    CHECK(!memcmp(back, plain, 100));
    /* A fresh salt and ephemeral key each time. */
    CHECK_INT(ece_encrypt(ua_pub, auth, plain, 100, 28, NULL, out, &outlen), ==, 0);
    CHECK(memcmp(out, first_salt, ECE_SALT_LEN) != 0);
    /* 3993 bytes fill the 4096-byte body exactly; one more does not fit. */
    CHECK_INT(ece_encrypt(ua_pub, auth, plain, ECE_PLAINTEXT_MAX, 0, NULL, out, &outlen), ==, 0);
    CHECK_INT(outlen, ==, 4096);
    CHECK_INT(ECE_PLAINTEXT_MAX, ==, 3993);
    CHECK_INT(ece_decrypt(ua_priv, ua_pub, auth, out, outlen, back, sizeof(back), &len), ==, 0);
    CHECK_INT(len, ==, ECE_PLAINTEXT_MAX);
    CHECK_INT(ece_encrypt(ua_pub, auth, plain, ECE_PLAINTEXT_MAX + 1, 0, NULL, out, &outlen), ==,
              -EMSGSIZE);
    CHECK_INT(ece_encrypt(ua_pub, auth, plain, 3000, 994, NULL, out, &outlen), ==, -EMSGSIZE);
}

TEST(subscription_keys_are_checked)
{
    uint8_t pub[ECE_PUBKEY_LEN], auth[ECE_AUTH_LEN];
    char bad[100];
    const char *field = NULL;

    CHECK_INT(ece_keys_parse(rfc_ua_pub, rfc_auth, pub, auth, &field), ==, 0);
    CHECK(field == NULL);
    /* Padded base64url is what some browsers send. */
    CHECK_INT(ece_keys_parse(rfc_ua_pub, "BTBZMqHH6r4Tts7J_aSIgg==", pub, auth, &field), ==, 0);
    /* Off the curve: the last character of Y changed. */
    snprintf(bad, sizeof(bad), "%s", rfc_ua_pub);
    bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'A' ? 'B' : 'A';
    CHECK_INT(ece_keys_parse(bad, rfc_auth, pub, auth, &field), ==, -EINVAL);
    CHECK_STR(field, "p256dh");
    CHECK_INT(ece_keys_parse(rfc_auth, rfc_auth, pub, auth, &field), ==, -EINVAL);
    CHECK_STR(field, "p256dh");
    CHECK_INT(ece_keys_parse(rfc_ua_pub, "BTBZMqHH6r4Tts7J_aSI", pub, auth, &field), ==, -EINVAL);
    CHECK_STR(field, "auth");
    CHECK_INT(ece_keys_parse(rfc_ua_pub, "BTBZMqHH6r4Tts7J/aSIgg", pub, auth, &field), ==, -EINVAL);
    CHECK_INT(ece_keys_parse(NULL, rfc_auth, pub, auth, &field), ==, -EINVAL);
}

TEST(b64url_decode_refuses_junk)
{
    uint8_t out[8];

    CHECK_INT(ece_b64url_decode("QQ", 2, out, sizeof(out)), ==, 1);
    CHECK_INT(out[0], ==, 'A');
    CHECK_INT(ece_b64url_decode("QR", 2, out, sizeof(out)), ==, -EINVAL); /* non-zero tail bits */
    CHECK_INT(ece_b64url_decode("Q", 1, out, sizeof(out)), ==, -EINVAL);
    CHECK_INT(ece_b64url_decode("QUJD REVG", 9, out, sizeof(out)), ==, -EINVAL);
    CHECK_INT(ece_b64url_decode("QUJDREVGR0hJ", 12, out, sizeof(out)), ==, -EINVAL); /* 9 > 8 */
}

/* Verify an ES256 JWT with OpenSSL against the key in `pem`. */
static int jwt_verifies(const char *jwt, const char *pem)
{
    FILE *f = fopen(pem, "r");
    EVP_PKEY *key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    const char *dot = strrchr(jwt, '.');
    uint8_t rs[64], der[80], *p = der;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = 0;
    int n;

    if (f)
        fclose(f);
    if (!key || !dot || dec(dot + 1, rs, sizeof(rs)) != 64)
        goto out;
    ECDSA_SIG_set0(sig, BN_bin2bn(rs, 32, NULL), BN_bin2bn(rs + 32, 32, NULL));
    n = i2d_ECDSA_SIG(sig, &p);
    ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
         EVP_DigestVerify(md, der, (size_t)n, (const uint8_t *)jwt, (size_t)(dot - jwt)) == 1;
out:
    EVP_MD_CTX_free(md);
    ECDSA_SIG_free(sig);
    EVP_PKEY_free(key);
    return ok;
}

TEST(vapid_key_file_is_private_and_signs_verifiable_jwts)
{
    char path[512], jwt[1024], hdr[VAPID_HEADER_MAX], hdr2[VAPID_HEADER_MAX], err[256];
    char claims[512];
    uint8_t raw[512];
    struct stat st;
    bool created = false;
    struct vapid *v;
    const char *p;
    int n;

    snprintf(path, sizeof(path), "%s/vapid.pem", harness_tmpdir());
    v = vapid_open(path, true, &created, err, sizeof(err));
    CHECK(v != NULL);
    CHECK(created);
    CHECK_INT(stat(path, &st), ==, 0);
    CHECK_INT(st.st_mode & 0777, ==, 0600);
    CHECK_INT(strlen(vapid_public_key(v)), ==, VAPID_PUBLIC_B64_LEN);
    CHECK_INT(vapid_jwt(v, "https://push.example.net", "mailto:ops@comune.example.it", 1700000000,
                        jwt, sizeof(jwt)),
              ==, 0);
    CHECK(jwt_verifies(jwt, path));
    p = strchr(jwt, '.') + 1;
    n = ece_b64url_decode(p, (size_t)(strchr(p, '.') - p), raw, sizeof(raw) - 1);
    CHECK_INT(n, >, 0);
    snprintf(claims, sizeof(claims), "%.*s", n, (const char *)raw);
    CHECK_STR(claims, "{\"aud\":\"https://push.example.net\",\"exp\":1700000000,"
                      "\"sub\":\"mailto:ops@comune.example.it\"}");
    /* Cached per origin until close to expiry, then renewed. */
    CHECK_INT(vapid_header(v, "https://a.example", "mailto:x@y", 1000, hdr, sizeof(hdr)), ==, 0);
    CHECK(!strncmp(hdr, "vapid t=", 8));
    CHECK(strstr(hdr, vapid_public_key(v)) != NULL);
    CHECK_INT(vapid_header(v, "https://a.example", "mailto:x@y", 2000, hdr2, sizeof(hdr2)), ==, 0);
    CHECK_STR(hdr, hdr2);
    CHECK_INT(vapid_header(v, "https://a.example", "mailto:x@y", 1000 + VAPID_JWT_TTL_S, hdr2,
                           sizeof(hdr2)),
              ==, 0);
    CHECK(strcmp(hdr, hdr2) != 0);
    CHECK_INT(vapid_header(v, "https://b.example", "mailto:x@y", 2000, hdr2, sizeof(hdr2)), ==, 0);
    CHECK(strcmp(hdr, hdr2) != 0);
    CHECK_INT(vapid_jwt(v, "https://a\"b", "mailto:x@y", 1, jwt, sizeof(jwt)), ==, -EINVAL);
    vapid_free(v);
    /* Reopened: the same key. */
    v = vapid_open(path, true, &created, err, sizeof(err));
    CHECK(v != NULL);
    CHECK(!created);
    vapid_free(v);
    /* A key others can read is refused. */
    CHECK_INT(chmod(path, 0644), ==, 0);
    v = vapid_open(path, true, &created, err, sizeof(err));
    CHECK(v == NULL);
    CHECK(strstr(err, "chmod 600") != NULL);
}

/* Issue 16: the key as PEM text, for the database; the old file read as text to import it. */
TEST(vapid_key_as_pem_text_round_trips_and_old_files_are_read_for_import)
{
    char path[512], err[256] = "";
    char *pem = vapid_new_pem(err, sizeof(err));
    char *again = NULL;
    struct vapid *v, *w;

    CHECK(pem != NULL);
    CHECK(strstr(pem, "PRIVATE KEY") != NULL);
    v = vapid_from_pem(pem, err, sizeof(err));
    CHECK(v != NULL);
    CHECK_INT(strlen(vapid_public_key(v)), ==, VAPID_PUBLIC_B64_LEN);
    CHECK(vapid_from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", err,
                         sizeof(err)) == NULL);
    CHECK(strstr(err, "PRIVATE KEY-----\nAAAA") == NULL); /* the key's text is never echoed */
    snprintf(path, sizeof(path), "%s/none/vapid.pem", harness_tmpdir());
    CHECK_INT(vapid_read_pem(path, &again, err, sizeof(err)), ==, -ENOENT);
    CHECK(again == NULL);
    /* A file written by an older server: read back as the same key. */
    snprintf(path, sizeof(path), "%s/old-vapid.pem", harness_tmpdir());
    w = vapid_open(path, true, NULL, err, sizeof(err));
    CHECK(w != NULL);
    CHECK_INT(vapid_read_pem(path, &again, err, sizeof(err)), ==, 0);
    vapid_free(v);
    v = again ? vapid_from_pem(again, err, sizeof(err)) : NULL;
    CHECK(v != NULL);
    CHECK_STR(vapid_public_key(v), vapid_public_key(w));
    free(again);
    again = NULL;
    CHECK_INT(chmod(path, 0644), ==, 0);
    CHECK_INT(vapid_read_pem(path, &again, err, sizeof(err)), ==, -EINVAL);
    CHECK(strstr(err, "chmod 600") != NULL);
    vapid_free(v);
    vapid_free(w);
    free(pem);
}

static bool pub4(const char *ip)
{
    struct sockaddr_in a = { .sin_family = AF_INET };

    inet_pton(AF_INET, ip, &a.sin_addr);
    return outbound_addr_public((struct sockaddr *)&a);
}

static bool pub6(const char *ip)
{
    struct sockaddr_in6 a = { .sin6_family = AF_INET6 };

    inet_pton(AF_INET6, ip, &a.sin6_addr);
    return outbound_addr_public((struct sockaddr *)&a);
}

TEST(only_public_addresses_pass_the_ssrf_rule)
{
    static const char *const deny4[] = { "127.0.0.1",   "10.1.2.3",        "172.16.0.1",
                                         "192.168.1.1", "169.254.169.254", "100.64.0.1",
                                         "0.0.0.0",     "224.0.0.1",       "255.255.255.255",
                                         "198.18.0.1" };
    static const char *const deny6[] = { "::1",
                                         "::",
                                         "fe80::1",
                                         "fd00:ec2::254",
                                         "fc00::1",
                                         "ff02::1",
                                         "::ffff:127.0.0.1",
                                         "::ffff:10.0.0.1",
                                         "64:ff9b::a00:1",
                                         "2002:a00:1::1",
                                         "2001:db8::1" };

    for (size_t i = 0; i < sizeof(deny4) / sizeof(deny4[0]); i++) {
        if (pub4(deny4[i]))
            harness_fail(__FILE__, __LINE__, "%s passed", deny4[i]);
    }
    for (size_t i = 0; i < sizeof(deny6) / sizeof(deny6[0]); i++) {
        if (pub6(deny6[i]))
            harness_fail(__FILE__, __LINE__, "%s passed", deny6[i]);
    }
    CHECK(pub4("8.8.8.8"));
    CHECK(pub4("142.250.180.10"));
    CHECK(pub4("172.32.0.1"));
    CHECK(pub6("2a00:1450:4002:402::200a"));
    CHECK(pub6("::ffff:8.8.8.8"));
}

TEST(outbound_urls_are_https_with_a_plain_host)
{
    struct outbound_url u;
    char err[128];
    struct outbound_policy *p = outbound_policy_new(
        &(struct outbound_opts){ .allow_hosts = "Push.Example, [::1]" }, err, sizeof(err));

    CHECK(p != NULL);
    CHECK_INT(outbound_url_parse("https://fcm.googleapis.com/fcm/send/abc", &u), ==, 0);
    CHECK_STR(u.host, "fcm.googleapis.com");
    CHECK_STR(u.origin, "https://fcm.googleapis.com");
    CHECK_INT(outbound_url_parse("https://[::1]:8443/x", &u), ==, 0);
    CHECK_STR(u.host, "::1");
    CHECK_STR(u.origin, "https://[::1]:8443");
    CHECK(outbound_host_allowed(p, u.host));
    CHECK_INT(outbound_url_parse("HTTPS://push.example/x", &u), ==, -EINVAL);
    CHECK_INT(outbound_url_parse("https://Push.Example:443/x?y", &u), ==, 0);
    CHECK_STR(u.origin, "https://push.example");
    CHECK(outbound_host_allowed(p, u.host));
    CHECK_INT(outbound_url_parse("http://push.example/x", &u), ==, -EINVAL);
    CHECK_INT(outbound_url_parse("https://a@push.example/x", &u), ==, -EINVAL);
    CHECK_INT(outbound_url_parse("https://push.example:0/x", &u), ==, -EINVAL);
    CHECK_INT(outbound_url_parse("https://push.example:99999/x", &u), ==, -EINVAL);
    CHECK_INT(outbound_url_parse("https://push example/x", &u), ==, -EINVAL);
    CHECK_INT(outbound_url_parse("https:///x", &u), ==, -EINVAL);
    CHECK_INT(outbound_url_check(p, "https://127.0.0.1/x"), ==, -EPERM);
    CHECK_INT(outbound_url_check(p, "https://[::1]/x"), ==, 0); /* allow-listed */
    outbound_policy_free(p);
}
