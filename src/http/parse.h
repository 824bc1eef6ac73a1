/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The request parser without sockets: http-parser plus our framing rules and limits. The
 * connection code feeds it bytes as they arrive; the fuzzer feeds it arbitrary input. It owns a
 * copy of the request head (split into NUL-terminated strings) and the body, both bounded.
 *
 * Framing is made unambiguous before any byte of the body is read (request smuggling): the head
 * must use CRLF line ends only, contain no NUL, bare CR, bare LF or other control characters,
 * and no obsolete line folding; at most one Content-Length; Transfer-Encoding only as exactly
 * "chunked", never together with Content-Length, never in HTTP/1.0; at most one Host.
 * A chunked body is held to the same line rules (parse.c decodes it itself): CRLF after every
 * size line, chunk and trailer, 1 to 16 hex digits, no control characters in extensions or
 * trailers.
 */
#ifndef HTTP_PARSE_H
#define HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/compiler.h"

enum http_parse_status {
    HTTP_PARSE_MORE, /* all bytes used; feed more */
    HTTP_PARSE_HEAD, /* the head is complete: inspect it, set the body limit, feed again */
    HTTP_PARSE_DONE, /* the message is complete; bytes after it belong to the next request */
    HTTP_PARSE_ERROR /* see err_status, err_code, err_message; the connection must close */
};

struct http_hdr {
    const char *name;      /* NUL-terminated, inside the head copy */
    const char *value;     /* NUL-terminated, surrounding whitespace removed */
    size_t off[2], len[2]; /* private: name and value as offsets while parsing */
};

/* Upper bound on headers in one request; past it 431 (each header costs at least 4 bytes). */
#define HTTP_PARSE_MAX_HEADERS 100

/*
 * http_parser.h declares its own `enum http_method`, which clashes with http.h's, so the parser
 * state lives here as opaque storage (parse.c checks that it fits).
 */
#define HTTP_PARSE_HP_BYTES 40

struct http_parse {
    /* members are private except the results below, valid from HTTP_PARSE_HEAD on */
    _Alignas(8) unsigned char hp[HTTP_PARSE_HP_BYTES];
    size_t max_header_bytes;
    size_t max_body_bytes; /* the default body limit, restored by http_parse_reset() */
    size_t body_limit;
    int state;
    int crlf;         /* head scanner: bytes of "\r\n\r\n" matched so far */
    bool line_start;  /* head scanner: at the first byte of a line */
    bool in_trailers; /* chunked trailers are parsed and ignored */
    struct buf head;  /* request line + headers, then split in place */
    struct buf body;
    size_t url_off, url_len;
    int hdr_cb_last; /* 0 none, 1 field, 2 value: to join split callbacks */
    int ck_state;    /* chunked body decoder (parse.c) */
    unsigned ck_digits;
    uint64_t ck_size;     /* the current chunk's size, then its bytes still to come */
    size_t ck_line_bytes; /* bytes of size lines and trailers so far */

    /* results */
    unsigned method;         /* enum http_method (http.h) bit: GET 1, HEAD 2, POST 4 ... */
    const char *method_name; /* "GET" */
    const char *target;      /* the raw request-target, NUL-terminated */
    struct http_hdr *hdrs;   /* grown on demand: an idle connection holds no header table */
    size_t nhdrs, hdrs_alloc;
    unsigned http_major, http_minor;
    bool has_body; /* Content-Length > 0 or chunked */
    bool chunked;
    uint64_t content_length; /* declared, when not chunked */
    bool keep_alive;
    bool expect_continue;
    bool upgrade;

    int err_status;          /* 400, 413 or 431 */
    const char *err_code;    /* "bad_request" ... */
    const char *err_message; /* a static sentence for the client */
};

/* Prepare a parser (cannot fail; allocates nothing until bytes arrive). */
void http_parse_init(struct http_parse *p, size_t max_header_bytes, size_t max_body_bytes);
/*
 * Get ready for the next request on the same connection. Keeps allocations up to `keep` bytes
 * (so an idle keep-alive connection does not hold a large buffer).
 */
void http_parse_reset(struct http_parse *p, size_t keep);
void http_parse_release(struct http_parse *p);
/* Body cap for the current request (set after HTTP_PARSE_HEAD, before feeding again). */
void http_parse_set_body_limit(struct http_parse *p, size_t limit);
/*
 * Feed `len` bytes; `*used` gets how many were consumed (the rest belongs to a later call or to
 * the next request). Returns one of enum http_parse_status. After HTTP_PARSE_HEAD, call again
 * (with the remaining bytes, possibly none) to read the body.
 */
enum http_parse_status http_parse_feed(struct http_parse *p, const char *data, size_t len,
                                       size_t *used);
/* True once the whole message (head and body) has been read. */
bool http_parse_complete(const struct http_parse *p);
/* Header value by case-insensitive name (first one), or NULL. */
const char *http_parse_header(const struct http_parse *p, const char *name);

/*
 * Percent-decode the path of a request-target (origin-form "/a/b?q" or absolute-form
 * "http://host/a/b") into `out` (NUL-terminated), and point `*query` at the raw query string
 * inside `target` (NULL if none). Rejects with -EINVAL: targets of any other form, bad escapes,
 * a decoded NUL, an encoded '/' (%2F: it would change which segments the path has), and "." or
 * ".." segments, raw or encoded (they could climb out of a directory). Returns 0, -EINVAL or
 * -EMSGSIZE from `out`.
 */
MUST_CHECK int http_path_decode(const char *target, struct buf *out, const char **query);
/*
 * Percent-decode a query component ('+' is a space) of `len` bytes into `out`. Returns 0,
 * -EINVAL (bad escape or a NUL) or -EMSGSIZE.
 */
MUST_CHECK int http_query_decode(const char *p, size_t len, struct buf *out);
/* True for "application/json", with or without parameters (case-insensitive). */
bool http_content_type_is_json(const char *content_type);

#endif
