/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The request parser without sockets: framing, smuggling, limits, and the target decoders. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "http/http.h"
#include "http/parse.h"

/* Parse all of `s` as one request (whole); returns the last status and leaves `p` inspectable. */
static enum http_parse_status parse_all(struct http_parse *p, const char *s, size_t *consumed)
{
    size_t len = strlen(s), off = 0, used;
    enum http_parse_status st;

    for (;;) {
        st = http_parse_feed(p, s + off, len - off, &used);
        off += used;
        if (st != HTTP_PARSE_HEAD)
            break;
    }
    if (consumed)
        *consumed = off;
    return st;
}

static int status_of(const char *req)
{
    struct http_parse p;
    enum http_parse_status st;
    int rc;

    http_parse_init(&p, 1024, 64);
    st = parse_all(&p, req, NULL);
    rc = st == HTTP_PARSE_ERROR ? p.err_status : st == HTTP_PARSE_DONE ? 200 : 0;
    http_parse_release(&p);
    return rc;
}

TEST(simple_get_parses_method_target_and_headers)
{
    struct http_parse p;

    http_parse_init(&p, 1024, 64);
    CHECK_INT(parse_all(&p, "GET /a/b?x=1 HTTP/1.1\r\nHost: h\r\nX-Pad:  v  \r\n\r\n", NULL), ==,
              HTTP_PARSE_DONE);
    CHECK_INT(p.method, ==, HTTP_M_GET);
    CHECK_STR(p.method_name, "GET");
    CHECK_STR(p.target, "/a/b?x=1");
    CHECK_STR(http_parse_header(&p, "host"), "h");
    CHECK_STR(http_parse_header(&p, "X-PAD"), "v");
    CHECK(p.keep_alive);
    CHECK(!p.has_body);
    http_parse_release(&p);
}

TEST(method_bits_agree_with_http_h)
{
    static const struct {
        const char *req;
        unsigned bit;
    } cases[] = {
        { "GET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_GET },
        { "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_HEAD },
        { "POST / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_POST },
        { "PUT / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_PUT },
        { "PATCH / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_PATCH },
        { "DELETE / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_DELETE },
        { "OPTIONS / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_OPTIONS },
        { "PROPFIND / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_M_OTHER },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct http_parse p;

        http_parse_init(&p, 1024, 64);
        CHECK_INT(parse_all(&p, cases[i].req, NULL), ==, HTTP_PARSE_DONE);
        CHECK_INT(p.method, ==, cases[i].bit);
        http_parse_release(&p);
    }
}

TEST(pipelined_requests_stop_at_each_message_end)
{
    const char *s = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /b "
                    "HTTP/1.1\r\nHost: a\r\n\r\n";
    struct http_parse p;
    size_t used;
    const char *body;

    http_parse_init(&p, 1024, 64);
    CHECK_INT(parse_all(&p, s, &used), ==, HTTP_PARSE_DONE);
    body = p.body.data;
    CHECK_STR(body, "abc");
    CHECK_STR(s + used, "GET /b HTTP/1.1\r\nHost: a\r\n\r\n");
    http_parse_reset(&p, 4096);
    CHECK_INT(parse_all(&p, s + used, NULL), ==, HTTP_PARSE_DONE);
    CHECK_STR(p.target, "/b");
    http_parse_release(&p);
}

TEST(byte_at_a_time_matches_whole)
{
    const char *s = "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
                    "chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n"
                    "0\r\nT: 1\r\n\r\n";
    struct http_parse p;
    enum http_parse_status st = HTTP_PARSE_MORE;
    size_t used;

    http_parse_init(&p, 1024, 64);
    for (size_t i = 0; s[i]; i++) {
        st = http_parse_feed(&p, s + i, 1, &used);
        if (st == HTTP_PARSE_HEAD)
            st = http_parse_feed(&p, s + i + 1, 0, &used);
        CHECK(st != HTTP_PARSE_ERROR);
    }
    CHECK_INT(st, ==, HTTP_PARSE_DONE);
    CHECK(p.chunked);
    CHECK_STR(p.body.data, "abcde");
    http_parse_release(&p);
}

TEST(smuggling_framings_are_400)
{
    static const char *const bad[] = {
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
        "chunked\r\n\r\n",
        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
        "GET / HTTP/1.1\nHost: a\n\n",
        "GET / HTTP/1.1\r\nHost: a\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n",
        "NOT A REQUEST\r\n\r\n",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int st = status_of(bad[i]);

        if (st != 400)
            harness_fail(__FILE__, __LINE__, "case %zu: %d", i, st);
        CHECK_INT(st, ==, 400);
    }
}

/* RFC 9112 section 3.2: HTTP/1.1 needs exactly one Host; HTTP/1.0 may omit it. */
TEST(host_header_is_required_once_on_http_1_1)
{
    CHECK_INT(status_of("GET / HTTP/1.1\r\n\r\n"), ==, 400);
    CHECK_INT(status_of("GET / HTTP/1.1\r\nX-Host: a\r\n\r\n"), ==, 400);
    CHECK_INT(status_of("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"), ==, 400);
    CHECK_INT(status_of("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), ==, 400);
    CHECK_INT(status_of("GET / HTTP/1.1\r\nHOST: a\r\n\r\n"), ==, 200);
    CHECK_INT(status_of("GET / HTTP/1.1\r\nHost:\r\n\r\n"), ==, 200);
    CHECK_INT(status_of("GET / HTTP/1.0\r\n\r\n"), ==, 200);
}

TEST(nul_in_header_is_400)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";
    struct http_parse p;
    size_t used;

    http_parse_init(&p, 1024, 64);
    CHECK_INT(http_parse_feed(&p, req, sizeof(req) - 1, &used), ==, HTTP_PARSE_ERROR);
    CHECK_INT(p.err_status, ==, 400);
    http_parse_release(&p);
}

TEST(head_over_limit_is_431_even_without_its_end)
{
    char req[2000];
    struct http_parse p;
    size_t used;

    memset(req, 'a', sizeof(req));
    memcpy(req, "GET / HTTP/1.1\r\nX: ", 19);
    http_parse_init(&p, 1024, 64);
    CHECK_INT(http_parse_feed(&p, req, sizeof(req), &used), ==, HTTP_PARSE_ERROR);
    CHECK_INT(p.err_status, ==, 431);
    CHECK_STR(p.err_code, "headers_too_large");
    http_parse_release(&p);
}

TEST(too_many_headers_is_431)
{
    char req[4096];
    size_t n = (size_t)snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\n");
    struct http_parse p;

    for (int i = 0; i < 110; i++)
        n += (size_t)snprintf(req + n, sizeof(req) - n, "X%d: 1\r\n", i);
    snprintf(req + n, sizeof(req) - n, "\r\n");
    http_parse_init(&p, 4096, 64);
    CHECK_INT(parse_all(&p, req, NULL), ==, HTTP_PARSE_ERROR);
    CHECK_INT(p.err_status, ==, 431);
    http_parse_release(&p);
}

TEST(body_limits_give_413_for_length_and_chunks)
{
    CHECK_INT(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 65\r\n\r\n"), ==, 413);
    CHECK_INT(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 64\r\n\r\n"), ==,
              0); /* waits */
    CHECK_INT(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n41\r\n"),
              ==, 413);
    CHECK_INT(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "20\r\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
                        "20\r\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n1\r\n"),
              ==, 413);
}

TEST(version_other_than_1x_is_505)
{
    CHECK_INT(status_of("GET / HTTP/2.0\r\n\r\n"), ==, 505);
    CHECK_INT(status_of("GET / HTTP/1.0\r\n\r\n"), ==, 200);
}

TEST(expect_continue_and_keep_alive_flags)
{
    struct http_parse p;

    http_parse_init(&p, 1024, 64);
    CHECK_INT(
        parse_all(&p,
                  "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n"
                  "Connection: close\r\n\r\n",
                  NULL),
        ==, HTTP_PARSE_MORE);
    CHECK(p.expect_continue);
    CHECK(!p.keep_alive);
    CHECK(p.has_body);
    CHECK_INT(p.content_length, ==, 1);
    http_parse_release(&p);
}

static int decode(const char *target, char *out, size_t outlen, const char **query)
{
    struct buf b;
    int err;

    buf_init(&b, 256);
    err = http_path_decode(target, &b, query);
    snprintf(out, outlen, "%s", b.data ? b.data : "");
    buf_release(&b);
    return err;
}

TEST(path_decoding_and_query)
{
    char out[256];
    const char *q;

    CHECK_INT(decode("/a%20b/c?x=1", out, sizeof(out), &q), ==, 0);
    CHECK_STR(out, "/a b/c");
    CHECK_STR(q, "x=1");
    CHECK_INT(decode("/", out, sizeof(out), &q), ==, 0);
    CHECK_STR(out, "/");
    CHECK(q == NULL);
    CHECK_INT(decode("http://h.example/p/q?z", out, sizeof(out), &q), ==, 0);
    CHECK_STR(out, "/p/q");
    CHECK_INT(decode("/%252e%252e/", out, sizeof(out), &q), ==, 0);
    CHECK_STR(out, "/%2e%2e/"); /* decoded once: a literal name, not a dot segment */
    CHECK_INT(decode("/a/.hidden", out, sizeof(out), &q), ==, 0);
}

TEST(path_decoding_refuses_escapes_out_of_the_tree)
{
    static const char *const bad[] = {
        "/../etc/passwd", "/a/..",     "/a/./b",          "/%2e%2e/x", "/.%2E/x",
        "/%2E/x",         "/..%2fetc", "/a%2Fb",          "/a%00b",    "/a%zz",
        "/a%4",           "*",         "example.org:443", "ftp://h/x", "http://h",
    };
    char out[256];
    const char *q;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int err = decode(bad[i], out, sizeof(out), &q);

        if (err != -EINVAL)
            harness_fail(__FILE__, __LINE__, "'%s' gave %d", bad[i], err);
        CHECK_INT(err, ==, -EINVAL);
    }
}

TEST(query_decoding)
{
    struct buf b;

    buf_init(&b, 64);
    CHECK_INT(http_query_decode("a+b%21", 6, &b), ==, 0);
    CHECK_STR(b.data, "a b!");
    CHECK_INT(http_query_decode("", 0, &b), ==, 0);
    CHECK_STR(b.data, "");
    CHECK_INT(http_query_decode("%00", 3, &b), ==, -EINVAL);
    CHECK_INT(http_query_decode("%g1", 3, &b), ==, -EINVAL);
    buf_release(&b);
}

TEST(content_type_json_check)
{
    CHECK(http_content_type_is_json("application/json"));
    CHECK(http_content_type_is_json("Application/JSON; charset=utf-8"));
    CHECK(http_content_type_is_json("application/json ;charset=utf-8"));
    CHECK(!http_content_type_is_json("application/jsonx"));
    CHECK(!http_content_type_is_json("text/plain"));
    CHECK(!http_content_type_is_json(NULL));
}

/*
 * Body framing is as strict as the head (issue 9, finding 4): a front end that reads line ends
 * differently must not see a different number of requests. Every chunk-size line, chunk end and
 * trailer line ends in CRLF; anything else is 400 and the connection closes.
 */
#define CHUNKED_HEAD "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"

TEST(chunked_body_framing_is_strict)
{
    static const char *const bad[] = {
        CHUNKED_HEAD "3\nabc\r\n0\r\n\r\n",                   /* size line ends in bare LF */
        CHUNKED_HEAD "3\rabc\r\n0\r\n\r\n",                   /* size line: bare CR */
        CHUNKED_HEAD "3;a\nb\r\nabc\r\n0\r\n\r\n",            /* extension with a bare LF */
        CHUNKED_HEAD "3;a\rb\r\nabc\r\n0\r\n\r\n",            /* extension with a bare CR */
        CHUNKED_HEAD "3;a\x01\r\nabc\r\n0\r\n\r\n",           /* control character in extension */
        CHUNKED_HEAD "3 x\r\nabc\r\n0\r\n\r\n",               /* junk after the size */
        CHUNKED_HEAD "\r\nabc\r\n0\r\n\r\n",                  /* no size at all */
        CHUNKED_HEAD "+3\r\nabc\r\n0\r\n\r\n",                /* sign */
        CHUNKED_HEAD "00000000000000003\r\nabc\r\n0\r\n\r\n", /* 17 digits: overlong */
        CHUNKED_HEAD "3\r\nabcxx0\r\n\r\n",                   /* data not followed by CRLF */
        CHUNKED_HEAD "3\r\nabc\n0\r\n\r\n",                   /* data followed by bare LF */
        CHUNKED_HEAD "3\r\nabc\rx0\r\n\r\n",                  /* data followed by bare CR */
        CHUNKED_HEAD "3\r\nabc\r\n0\n\r\n",                   /* last-chunk line: bare LF */
        CHUNKED_HEAD "3\r\nabc\r\n0\r\nX: y\n\r\n",           /* trailer ends in bare LF */
        CHUNKED_HEAD "3\r\nabc\r\n0\r\nX: y\r\n\n",           /* final line is a bare LF */
        CHUNKED_HEAD "3\r\nabc\r\n0\r\n\n",                   /* no trailers, bare LF end */
        CHUNKED_HEAD "3\r\nabc\r\n0\r\nX: a\rb\r\n\r\n",      /* trailer with a bare CR */
        CHUNKED_HEAD "3\r\nabc\r\n0\r\nX: a\x01\r\n\r\n",     /* trailer with a control char */
        CHUNKED_HEAD "3\r\nabc\r\n0\r\nX: a\r\n b\r\n\r\n",   /* folded trailer */
        CHUNKED_HEAD "3\r\nabc\r\n0\r\nno colon\r\n\r\n",     /* trailer that is no field */
        CHUNKED_HEAD "3\r\nabc\r\n0\r\n: v\r\n\r\n",          /* trailer with an empty name */
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int st = status_of(bad[i]);

        if (st != 400)
            harness_fail(__FILE__, __LINE__, "case %zu: %d", i, st);
        CHECK_INT(st, ==, 400);
    }
}

TEST(chunked_trailer_with_nul_is_400)
{
    static const char req[] = CHUNKED_HEAD "1\r\na\r\n0\r\nX: a\0b\r\n\r\n";
    struct http_parse p;
    size_t off = 0, used;
    enum http_parse_status st;

    http_parse_init(&p, 1024, 64);
    do {
        st = http_parse_feed(&p, req + off, sizeof(req) - 1 - off, &used);
        off += used;
    } while (st == HTTP_PARSE_HEAD);
    CHECK_INT(st, ==, HTTP_PARSE_ERROR);
    CHECK_INT(p.err_status, ==, 400);
    http_parse_release(&p);
}

TEST(chunked_body_valid_forms_parse_and_stop_at_the_end)
{
    const char *s = CHUNKED_HEAD "3;name=val;q=\"x y\" ; t\r\nabc\r\n"
                                 "0000000000000002\r\nde\r\nA\r\n0123456789\r\n"
                                 "0\r\nTrailer-X: 1\r\nY:\r\n\r\n"
                                 "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
    struct http_parse p;
    size_t used;

    http_parse_init(&p, 1024, 64);
    CHECK_INT(parse_all(&p, s, &used), ==, HTTP_PARSE_DONE);
    CHECK_STR(p.body.data, "abcde0123456789");
    CHECK_INT(p.body.len, ==, 15);
    CHECK_STR(s + used, "GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
    http_parse_release(&p);
    CHECK_INT(status_of(CHUNKED_HEAD "0\r\n\r\n"), ==, 200);
    CHECK_INT(status_of(CHUNKED_HEAD "1\r\nx\r\n0;e\r\n\r\n"), ==, 200);
}

TEST(chunked_trailers_are_bounded)
{
    char req[4096];
    size_t n = (size_t)snprintf(req, sizeof(req), CHUNKED_HEAD "1\r\nx\r\n0\r\n");

    while (n < 2000)
        n += (size_t)snprintf(req + n, sizeof(req) - n, "X: %s\r\n", "0123456789abcdef");
    snprintf(req + n, sizeof(req) - n, "\r\n");
    CHECK_INT(status_of(req), ==, 431); /* the trailers count against max_header_bytes */
}
