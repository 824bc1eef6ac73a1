/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Client addresses behind reverse proxies: trusted ranges, X-Forwarded-For, Forwarded. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "http/http.h"

static struct http_cidr trusted[HTTP_TRUSTED_MAX];
static size_t ntrusted;

static void trust(const char *list)
{
    char err[128];

    ntrusted = 0;
    if (http_cidr_parse_list(list, trusted, HTTP_TRUSTED_MAX, &ntrusted, err, sizeof(err)))
        ntrusted = 0;
}

/*
 * Resolve with `peer` and up to two header lines of `hdr` (X-Forwarded-For unless rfc7239);
 * returns the client as text in a static buffer, `https` set from the proto.
 */
static const char *client(const char *peer, bool rfc7239, const char *l1, const char *l2,
                          const char *proto, bool *https)
{
    static char text[64];
    const char *lines[2] = { l1, l2 };
    const char *protos[1] = { proto };
    uint8_t p[16];
    struct http_client out;
    struct http_fwd_in in = { .peer = p,
                              .trusted = trusted,
                              .ntrusted = ntrusted,
                              .rfc7239 = rfc7239,
                              .fwd = lines,
                              .nfwd = l1 ? (l2 ? 2 : 1) : 0,
                              .proto = protos,
                              .nproto = proto ? 1 : 0 };

    if (!http_addr_parse(peer, p))
        return "(bad peer)";
    http_client_resolve(&in, &out);
    http_addr_text(out.addr, text, sizeof(text));
    if (https)
        *https = out.https;
    return text;
}

TEST(cidr_lists)
{
    uint8_t a[16];

    trust("127.0.0.1/8, ::1 10.0.0.0/8,192.168.1.7");
    CHECK_INT(ntrusted, ==, 4);
    CHECK(http_addr_parse("127.9.9.9", a) && http_cidr_match(trusted, ntrusted, a));
    CHECK(http_addr_parse("::1", a) && http_cidr_match(trusted, ntrusted, a));
    CHECK(http_addr_parse("10.255.0.1", a) && http_cidr_match(trusted, ntrusted, a));
    CHECK(http_addr_parse("192.168.1.7", a) && http_cidr_match(trusted, ntrusted, a));
    CHECK(http_addr_parse("192.168.1.8", a) && !http_cidr_match(trusted, ntrusted, a));
    CHECK(http_addr_parse("11.0.0.1", a) && !http_cidr_match(trusted, ntrusted, a));
    CHECK(http_addr_parse("::2", a) && !http_cidr_match(trusted, ntrusted, a));
    /* An IPv4 range never matches an IPv6 address that merely shares bits. */
    CHECK(http_addr_parse("a00::1", a) && !http_cidr_match(trusted, ntrusted, a));
    trust("2001:db8::/32, 172.16.0.0/12");
    CHECK(http_addr_parse("2001:db8:ffff::1", a) && http_cidr_match(trusted, ntrusted, a));
    CHECK(http_addr_parse("2001:db9::1", a) && !http_cidr_match(trusted, ntrusted, a));
    CHECK(http_addr_parse("172.31.255.255", a) && http_cidr_match(trusted, ntrusted, a));
    CHECK(http_addr_parse("172.32.0.0", a) && !http_cidr_match(trusted, ntrusted, a));
    trust("0.0.0.0/0");
    CHECK(http_addr_parse("8.8.8.8", a) && http_cidr_match(trusted, ntrusted, a));
    CHECK(http_addr_parse("::1", a) && !http_cidr_match(trusted, ntrusted, a));
    trust("");
    CHECK_INT(ntrusted, ==, 0);
    CHECK(!http_cidr_match(trusted, ntrusted, a));
}

TEST(cidr_bad)
{
    static const char *const bad[] = { "x",          "1.2.3.4/33", "::1/129",
                                       "1.2.3.4/",   "1.2.3/8",    "1.2.3.4/-1",
                                       "1.2.3.4/1a", "localhost",  "1.2.3.4 nope" };
    char err[128];
    size_t n;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(http_cidr_parse_list(bad[i], trusted, HTTP_TRUSTED_MAX, &n, err, sizeof(err)), ==,
                  -EINVAL);
    }
}

TEST(untrusted_peer_headers_ignored)
{
    bool https = true;

    trust("");
    CHECK_STR(client("127.0.0.1", false, "203.0.113.9", NULL, "https", &https), "127.0.0.1");
    CHECK(!https);
    trust("10.0.0.1");
    CHECK_STR(client("198.51.100.2", false, "203.0.113.9", NULL, "https", &https), "198.51.100.2");
    CHECK(!https);
    CHECK_STR(client("198.51.100.2", true, "for=203.0.113.9;proto=https", NULL, NULL, &https),
              "198.51.100.2");
    CHECK(!https);
}

TEST(xff_rightmost_untrusted)
{
    bool https = false;

    trust("127.0.0.1, 10.0.0.0/8");
    /* nginx appended the client's address to what the client sent. */
    CHECK_STR(client("127.0.0.1", false, "6.6.6.6, 203.0.113.9", NULL, "https", &https),
              "203.0.113.9");
    CHECK(https);
    /* Two proxies in a row: skip both. */
    CHECK_STR(client("127.0.0.1", false, "6.6.6.6, 203.0.113.9, 10.1.2.3", NULL, "http", &https),
              "203.0.113.9");
    CHECK(!https);
    /* Several header lines are one list, in order. */
    CHECK_STR(client("127.0.0.1", false, "6.6.6.6", "203.0.113.9", NULL, NULL), "203.0.113.9");
    /* IPv6 and bracketed IPv6. */
    CHECK_STR(client("127.0.0.1", false, "2001:db8::7", NULL, NULL, NULL), "2001:db8::7");
    CHECK_STR(client("127.0.0.1", false, " [2001:db8::7] ", NULL, NULL, NULL), "2001:db8::7");
    /* A hop that does not parse stops the walk at the last good address. */
    CHECK_STR(client("127.0.0.1", false, "203.0.113.9, garbage", NULL, NULL, NULL), "127.0.0.1");
    CHECK_STR(client("127.0.0.1", false, "garbage, 203.0.113.9", NULL, NULL, NULL), "203.0.113.9");
    CHECK_STR(client("127.0.0.1", false, "", NULL, NULL, NULL), "127.0.0.1");
    CHECK_STR(client("127.0.0.1", false, ",,,", NULL, NULL, NULL), "127.0.0.1");
    /* Every hop trusted: the leftmost one is the client. */
    CHECK_STR(client("127.0.0.1", false, "10.0.0.5, 127.0.0.1", NULL, NULL, NULL), "10.0.0.5");
    /* No header from a trusted peer: the peer itself. */
    CHECK_STR(client("127.0.0.1", false, NULL, NULL, NULL, NULL), "127.0.0.1");
    /* X-Forwarded-Proto: what the nearest proxy wrote, the last item. */
    client("127.0.0.1", false, "203.0.113.9", NULL, "https, http", &https);
    CHECK(!https);
    client("127.0.0.1", false, "203.0.113.9", NULL, "http,HTTPS", &https);
    CHECK(https);
}

TEST(xff_many_hops)
{
    char line[4096];
    size_t n = 0;

    trust("127.0.0.1");
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(line + n, sizeof(line) - n, "10.0.%d.%d, ", i / 250, i % 250);
    snprintf(line + n, sizeof(line) - n, "203.0.113.9");
    CHECK_STR(client("127.0.0.1", false, line, NULL, NULL, NULL), "203.0.113.9");
}

TEST(forwarded_rfc7239)
{
    bool https = false;

    trust("127.0.0.1, 10.0.0.0/8");
    CHECK_STR(client("127.0.0.1", true, "for=203.0.113.9;proto=https", NULL, NULL, &https),
              "203.0.113.9");
    CHECK(https);
    CHECK_STR(client("127.0.0.1", true, "for=6.6.6.6, For=\"203.0.113.9:4711\";proto=http", NULL,
                     NULL, &https),
              "203.0.113.9");
    CHECK(!https);
    CHECK_STR(client("127.0.0.1", true, "for=\"[2001:db8:cafe::17]:4711\"", NULL, NULL, NULL),
              "2001:db8:cafe::17");
    CHECK_STR(
        client("127.0.0.1", true, "for=203.0.113.9;by=10.0.0.1, for=10.0.0.2", NULL, NULL, NULL),
        "203.0.113.9");
    /* Obfuscated or unknown nodes stop the walk. */
    CHECK_STR(client("127.0.0.1", true, "for=unknown", NULL, NULL, NULL), "127.0.0.1");
    CHECK_STR(client("127.0.0.1", true, "for=_hidden", NULL, NULL, NULL), "127.0.0.1");
    /* Malformed elements, unquoted IPv6, two for= in one element. */
    CHECK_STR(client("127.0.0.1", true, "for=2001:db8::1", NULL, NULL, NULL), "127.0.0.1");
    CHECK_STR(client("127.0.0.1", true, "for=\"[2001:db8::1]x\"", NULL, NULL, NULL), "127.0.0.1");
    CHECK_STR(client("127.0.0.1", true, "for=1.2.3.4;for=5.6.7.8", NULL, NULL, NULL), "127.0.0.1");
    CHECK_STR(client("127.0.0.1", true, "for=\"1.2.3.4", NULL, NULL, NULL), "127.0.0.1");
    CHECK_STR(client("127.0.0.1", true, "garbage", NULL, NULL, NULL), "127.0.0.1");
    /* An element without for= (only proto=) has no address either. */
    CHECK_STR(client("127.0.0.1", true, "proto=https", NULL, NULL, &https), "127.0.0.1");
    CHECK(https);
}

TEST(loopback_and_text)
{
    uint8_t a[16];
    char t[64];

    CHECK(http_addr_parse("127.3.2.1", a) && http_addr_is_loopback(a));
    CHECK(http_addr_parse("::1", a) && http_addr_is_loopback(a));
    CHECK(http_addr_parse("0.0.0.0", a) && !http_addr_is_loopback(a));
    CHECK(http_addr_parse("::", a) && !http_addr_is_loopback(a));
    CHECK(http_addr_parse("128.0.0.1", a) && !http_addr_is_loopback(a));
    CHECK(!http_addr_parse("localhost", a));
    CHECK(!http_addr_parse(NULL, a));
    CHECK(http_addr_parse("192.0.2.1", a));
    http_addr_text(a, t, sizeof(t));
    CHECK_STR(t, "192.0.2.1");
    CHECK(http_addr_parse("2001:DB8::1", a));
    http_addr_text(a, t, sizeof(t));
    CHECK_STR(t, "2001:db8::1");
}
