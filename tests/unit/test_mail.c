/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The mail message builder: RFC 5322 headers (Date, Message-ID), RFC 2047 subjects that decode
 * to the Italian text and fold within 76 characters, quoted-printable UTF-8 bodies with soft
 * breaks, and the refusal of a CR or LF in any header value (no header injection).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mail/mail.h"

#define NOW_MS 1796392800000LL /* 2026-12-04T14:00:00Z */

static char *build(const char *to, const char *subject, const char *body, int *err)
{
    struct buf b;

    buf_init(&b, 1 << 20);
    *err = mail_build("araldo@comune.example.it",
                      &(struct mail_msg){ .to = to, .subject = subject, .body = body }, NOW_MS, &b);
    return buf_take(&b, NULL);
}

/* The value of header `name` (first line only), into a static buffer. */
static const char *header(const char *msg, const char *name)
{
    static char v[512];
    char key[64];
    const char *p;

    snprintf(key, sizeof(key), "\r\n%s: ", name);
    p = strstr(msg, key);
    if (!p)
        return "";
    p += strlen(key);
    snprintf(v, sizeof(v), "%.*s", (int)strcspn(p, "\r"), p);
    return v;
}

static int b64(char c)
{
    const char *t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *f = strchr(t, c);

    return f && c ? (int)(f - t) : -1;
}

/* Decode every =?UTF-8?B?…?= word of the Subject header into `out`. */
static void subject_decoded(const char *msg, char *out, size_t outlen)
{
    const char *p = strstr(msg, "\r\nSubject:");
    const char *end = strstr(p + 2, "\r\nMIME-Version");
    size_t o = 0;

    while ((p = strstr(p, "=?UTF-8?B?")) && p < end) {
        unsigned acc = 0;
        int bits = 0;

        for (p += 10; *p != '?'; p++) {
            int v = b64(*p);

            if (v < 0)
                continue; /* '=' padding */
            acc = acc << 6 | (unsigned)v;
            bits += 6;
            if (bits >= 8 && o + 1 < outlen) {
                bits -= 8;
                out[o++] = (char)(acc >> bits & 0xff);
            }
        }
    }
    out[o] = '\0';
}

TEST(headers_date_message_id_and_mime)
{
    int err;
    char *m = build("ufficio@acque.example.it", "Prova", "Testo.\n", &err);

    CHECK_INT(err, ==, 0);
    CHECK(!strncmp(m, "From: araldo <araldo@comune.example.it>\r\n", 41));
    CHECK_STR(header(m, "To"), "<ufficio@acque.example.it>");
    CHECK_STR(header(m, "Date"), "Fri, 04 Dec 2026 14:00:00 +0000");
    CHECK(!strncmp(header(m, "Message-ID"), "<1796392800000.", 15));
    CHECK(strstr(header(m, "Message-ID"), "@comune.example.it>") != NULL);
    CHECK_STR(header(m, "Subject"), "Prova"); /* ASCII stays as it is */
    CHECK_STR(header(m, "Content-Type"), "text/plain; charset=UTF-8");
    CHECK_STR(header(m, "Content-Transfer-Encoding"), "quoted-printable");
    CHECK(strstr(m, "\r\n\r\nTesto.\r\n") != NULL);
    free(m);
}

TEST(italian_subject_is_encoded_words_that_decode_and_fold)
{
    const char *s = "Fonte di allerta non aggiornata: Bollettino di criticit\xC3\xA0 del "
                    "Dipartimento della Protezione Civile \xE2\x80\x94 Comune di Citt\xC3\xA0 "
                    "di Castello";
    char dec[512];
    int err;
    char *m = build("a@b.example.it", s, "x", &err);
    const char *p;

    CHECK_INT(err, ==, 0);
    subject_decoded(m, dec, sizeof(dec));
    CHECK_STR(dec, s);
    /* every line of the header block within 76 characters; no word cuts a character */
    for (p = m; *p && strncmp(p, "\r\n", 2) != 0;) {
        size_t n = strcspn(p, "\r");

        CHECK_INT(n, <=, 76);
        p += n + 2;
    }
    free(m);
}

TEST(body_is_quoted_printable_with_soft_breaks)
{
    char body[400];
    int err;
    char *m;
    const char *b;

    snprintf(
        body, sizeof(body), "Perch\xC3\xA8 = uguale, riga finale con spazio \nriga lunga %s\n",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    m = build("a@b.example.it", "x", body, &err);
    CHECK_INT(err, ==, 0);
    b = strstr(m, "\r\n\r\n") + 4;
    CHECK(!strncmp(b, "Perch=C3=A8 =3D uguale, riga finale con spazio=20\r\n", 51));
    CHECK(strstr(b, "=\r\n") != NULL); /* the long line is soft-broken */
    for (const char *p = b; *p;) {
        size_t n = strcspn(p, "\r");

        CHECK_INT(n, <=, 76);
        p += n;
        p += *p ? 2 : 0;
    }
    free(m);
}

TEST(cr_or_lf_in_a_header_value_is_refused)
{
    int err;

    free(build("a@b.example.it", "Avviso\r\nBcc: x@evil.example", "x", &err));
    CHECK_INT(err, ==, -EINVAL);
    free(build("a@b.example.it", "Avviso\nBcc: x@evil.example", "x", &err));
    CHECK_INT(err, ==, -EINVAL);
    free(build("a@b.example.it\r\nBcc: x@evil.example", "Avviso", "x", &err));
    CHECK_INT(err, ==, -EINVAL);
    free(build("a@b.example.it\n", "Avviso", "x", &err));
    CHECK_INT(err, ==, -EINVAL);
}

TEST(addresses)
{
    CHECK(mail_address_valid("segnalazioni@acque.example.it"));
    CHECK(mail_address_valid("araldo@localhost"));
    CHECK(!mail_address_valid("no-at.example.it"));
    CHECK(!mail_address_valid("a@@b.it"));
    CHECK(!mail_address_valid("a b@c.it"));
    CHECK(!mail_address_valid("<a@c.it>"));
    CHECK(!mail_address_valid("a@c..it"));
    CHECK(!mail_address_valid("a@.c.it"));
    CHECK(!mail_address_valid("a@c.it,b@d.it"));
    CHECK(!mail_address_valid("\xC3\xA8@c.it"));
    CHECK(!mail_address_valid(""));
}
