/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Request parsing: our own scan of the head (size limit, CRLF discipline, control characters),
 * then http-parser over the complete head, then our framing rules, then the body through the
 * same http-parser instance with the route's size limit. Works on byte slices only, so the
 * fuzzer and the unit tests drive it without sockets.
 *
 * Why scan the head ourselves first: http-parser is lenient where leniency enables smuggling
 * (bare LF line ends, a lone CR inside a value), and scanning first lets us answer 431 for an
 * oversized head before parsing any of it.
 */
#include "http/parse.h"

#include <errno.h>
#include <http_parser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"

_Static_assert(sizeof(http_parser) <= HTTP_PARSE_HP_BYTES, "HTTP_PARSE_HP_BYTES too small");
_Static_assert(_Alignof(http_parser) <= 8, "http_parser alignment");

enum { ST_HEAD, ST_BODY, ST_DONE, ST_ERROR };

#define NO_VALUE SIZE_MAX

static int hexval(int c);

static http_parser *hp_of(struct http_parse *p)
{
    return (http_parser *)(void *)p->hp;
}

static int fail(struct http_parse *p, int status, const char *code, const char *message)
{
    if (!p->err_status) {
        p->err_status = status;
        p->err_code = code;
        p->err_message = message;
    }
    p->state = ST_ERROR;
    return HTTP_PARSE_ERROR;
}

static int bad(struct http_parse *p, const char *message)
{
    return fail(p, 400, "bad_request", message);
}

void http_parse_init(struct http_parse *p, size_t max_header_bytes, size_t max_body_bytes)
{
    memset(p, 0, sizeof(*p));
    p->max_header_bytes = max_header_bytes;
    p->max_body_bytes = max_body_bytes;
    p->body_limit = max_body_bytes;
    buf_init(&p->head, max_header_bytes);
    buf_init(&p->body, max_body_bytes);
    p->state = ST_HEAD;
}

static void shrink(struct buf *b, size_t keep)
{
    if (b->alloc > keep) {
        buf_release(b);
    } else {
        buf_reset(b);
    }
}

void http_parse_reset(struct http_parse *p, size_t keep)
{
    struct buf head = p->head, body = p->body;
    size_t mh = p->max_header_bytes, mb = p->max_body_bytes;
    struct http_hdr *hdrs = p->hdrs;
    size_t hdrs_alloc = p->hdrs_alloc;

    shrink(&head, keep);
    shrink(&body, keep);
    if (hdrs_alloc * sizeof(*hdrs) > keep) {
        free(hdrs);
        hdrs = NULL;
        hdrs_alloc = 0;
    }
    memset(p, 0, sizeof(*p));
    p->hdrs = hdrs;
    p->hdrs_alloc = hdrs_alloc;
    p->max_header_bytes = mh;
    p->max_body_bytes = mb;
    p->head = head;
    p->body = body;
    http_parse_set_body_limit(p, mb);
    p->state = ST_HEAD;
}

void http_parse_release(struct http_parse *p)
{
    free(p->hdrs);
    p->hdrs = NULL;
    p->hdrs_alloc = 0;
    buf_release(&p->head);
    buf_release(&p->body);
}

void http_parse_set_body_limit(struct http_parse *p, size_t limit)
{
    p->body_limit = limit;
    p->body.limit = limit;
}

bool http_parse_complete(const struct http_parse *p)
{
    return p->state == ST_DONE;
}

const char *http_parse_header(const struct http_parse *p, const char *name)
{
    for (size_t i = 0; i < p->nhdrs; i++) {
        if (!strcasecmp(p->hdrs[i].name, name))
            return p->hdrs[i].value;
    }
    return NULL;
}

/* ---- http-parser callbacks ---- */

static int on_url(http_parser *hp, const char *at, size_t len)
{
    struct http_parse *p = hp->data;

    if (!p->url_len)
        p->url_off = (size_t)(at - p->head.data);
    p->url_len += len;
    return 0;
}

/* http-parser may report one field or value in pieces; pieces of one head are contiguous. */
static int on_hdr(http_parser *hp, const char *at, size_t len, int kind)
{
    struct http_parse *p = hp->data;
    size_t i;

    if (p->in_trailers)
        return 0; /* chunked trailers: parsed for framing, otherwise ignored */
    if (kind == 0 && p->hdr_cb_last != 1) {
        if (p->nhdrs == HTTP_PARSE_MAX_HEADERS) {
            fail(p, 431, "headers_too_large",
                 "The request has too many header fields; send at most 100.");
            return 1;
        }
        if (p->nhdrs == p->hdrs_alloc) {
            p->hdrs_alloc = MIN(HTTP_PARSE_MAX_HEADERS, MAX(8, 2 * p->hdrs_alloc));
            p->hdrs = xrealloc(p->hdrs, p->hdrs_alloc * sizeof(*p->hdrs));
        }
        i = p->nhdrs++;
        p->hdrs[i].off[0] = (size_t)(at - p->head.data);
        p->hdrs[i].len[0] = 0;
        p->hdrs[i].off[1] = NO_VALUE;
        p->hdrs[i].len[1] = 0;
    }
    i = p->nhdrs - 1;
    if (kind == 1 && p->hdrs[i].off[1] == NO_VALUE)
        p->hdrs[i].off[1] = (size_t)(at - p->head.data);
    p->hdrs[i].len[kind] += len;
    p->hdr_cb_last = kind + 1;
    return 0;
}

static int on_header_field(http_parser *hp, const char *at, size_t len)
{
    return on_hdr(hp, at, len, 0);
}

static int on_header_value(http_parser *hp, const char *at, size_t len)
{
    struct http_parse *p = hp->data;

    if (!p->in_trailers && p->hdr_cb_last == 0)
        return 1; /* a value before any field cannot happen; refuse rather than index -1 */
    return on_hdr(hp, at, len, 1);
}

static int on_headers_complete(http_parser *hp)
{
    struct http_parse *p = hp->data;

    p->in_trailers = true;
    p->keep_alive = http_should_keep_alive(hp) != 0;
    p->chunked = (hp->flags & F_CHUNKED) != 0;
    if (!p->chunked && (hp->flags & F_CONTENTLENGTH))
        p->content_length = hp->content_length;
    p->has_body = p->chunked || p->content_length > 0;
    return 0;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
    struct http_parse *p = hp->data;

    if (buf_append(&p->body, at, len)) {
        fail(p, 413, "body_too_large", "The request body is larger than this endpoint accepts.");
        return 1;
    }
    return 0;
}

static int on_message_complete(http_parser *hp)
{
    struct http_parse *p = hp->data;

    p->state = ST_DONE;
    /* Stop right here: the following bytes are the next request (pipelining). */
    http_parser_pause(hp, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- the head ---- */

static unsigned method_bit(unsigned m)
{
    /* The bits of enum http_method in http.h (test_http_parse checks they agree). */
    switch (m) {
    case HTTP_GET:
        return 1u << 0;
    case HTTP_HEAD:
        return 1u << 1;
    case HTTP_POST:
        return 1u << 2;
    case HTTP_PUT:
        return 1u << 3;
    case HTTP_PATCH:
        return 1u << 4;
    case HTTP_DELETE:
        return 1u << 5;
    case HTTP_OPTIONS:
        return 1u << 6;
    default:
        return 1u << 7;
    }
}

static int parse_error(struct http_parse *p, enum http_errno e)
{
    if (p->err_status)
        return fail(p, p->err_status, p->err_code, p->err_message);
    switch (e) {
    case HPE_HEADER_OVERFLOW:
        return fail(p, 431, "headers_too_large",
                    "The request headers are too large; send fewer or shorter headers.");
    case HPE_INVALID_METHOD:
        return bad(p, "The request method is not valid HTTP.");
    case HPE_INVALID_URL:
    case HPE_INVALID_PATH:
    case HPE_INVALID_QUERY_STRING:
    case HPE_INVALID_FRAGMENT:
        return bad(p, "The request target is not a valid URL path.");
    case HPE_INVALID_VERSION:
        return bad(p, "The request line must end with HTTP/1.1 or HTTP/1.0.");
    case HPE_INVALID_CONTENT_LENGTH:
    case HPE_UNEXPECTED_CONTENT_LENGTH:
        return bad(p, "The Content-Length header is invalid, repeated, or combined with "
                      "Transfer-Encoding; send exactly one length or use chunked encoding.");
    case HPE_INVALID_TRANSFER_ENCODING:
        return bad(p, "Only 'Transfer-Encoding: chunked' is accepted.");
    case HPE_INVALID_CHUNK_SIZE:
        return bad(p, "A chunk size line in the request body is invalid.");
    case HPE_INVALID_HEADER_TOKEN:
        return bad(p, "A header name or value contains a character HTTP does not allow.");
    default:
        return bad(p, "The request is not valid HTTP/1.1; check the client that sent it.");
    }
}

static void split_head(struct http_parse *p)
{
    char *h = p->head.data;

    h[p->url_off + p->url_len] = '\0'; /* was the space before the version */
    p->target = h + p->url_off;
    for (size_t i = 0; i < p->nhdrs; i++) {
        char *name = h + p->hdrs[i].off[0];
        char *value = NULL;
        size_t vlen = p->hdrs[i].len[1];

        name[p->hdrs[i].len[0]] = '\0'; /* was the colon */
        if (p->hdrs[i].off[1] != NO_VALUE) {
            value = h + p->hdrs[i].off[1];
            while (vlen && (value[0] == ' ' || value[0] == '\t')) {
                value++;
                vlen--;
            }
            while (vlen && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
                vlen--;
            value[vlen] = '\0'; /* whitespace or the CR of the line end */
        }
        p->hdrs[i].name = name;
        p->hdrs[i].value = value ? value : "";
    }
}

/* RFC 9110 section 5.6.2: a field name is a token. */
static bool is_token(const char *s)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";

    if (!*s)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
              (c && strchr(extra, c))))
            return false;
    }
    return true;
}

/* Our framing rules, on top of http-parser's (see parse.h for why). */
static int check_framing(struct http_parse *p)
{
    unsigned ncl = 0, nte = 0, nhost = 0;
    const char *te = NULL, *expect;

    for (size_t i = 0; i < p->nhdrs; i++) {
        const char *n = p->hdrs[i].name;

        if (!is_token(n))
            return bad(p, "A header name is not a valid token (no spaces before the colon).");
        if (!strcasecmp(n, "content-length")) {
            ncl++;
        } else if (!strcasecmp(n, "transfer-encoding")) {
            nte++;
            te = p->hdrs[i].value;
        } else if (!strcasecmp(n, "host")) {
            nhost++;
        }
    }
    if (ncl > 1)
        return bad(p, "The request has more than one Content-Length header; send exactly one.");
    if (nte > 1 || (te && strcasecmp(te, "chunked") != 0))
        return bad(p, "Only 'Transfer-Encoding: chunked' is accepted, in a single header.");
    if (nte && ncl)
        return bad(p, "Content-Length and Transfer-Encoding cannot be combined; send one.");
    if (nte && p->http_minor == 0)
        return bad(p, "HTTP/1.0 requests cannot use Transfer-Encoding; send Content-Length.");
    /*
     * RFC 9112 section 3.2: an HTTP/1.1 request without a Host header, or any request with more
     * than one, is answered 400. HTTP/1.0 predates Host, so it may omit it. An empty value is
     * valid (a target without an authority), so only the count is checked.
     */
    if (nhost > 1)
        return bad(p, "The request has more than one Host header; send exactly one.");
    if (!nhost && p->http_minor >= 1)
        return bad(p, "HTTP/1.1 requests must carry a Host header; add one.");
    expect = http_parse_header(p, "expect");
    p->expect_continue = expect && !strcasecmp(expect, "100-continue");
    return 0;
}

static int parse_head(struct http_parse *p)
{
    http_parser *hp = hp_of(p);
    size_t n;
    enum http_errno e;

    http_parser_init(hp, HTTP_REQUEST);
    hp->data = p;
    n = http_parser_execute(hp, &settings, p->head.data, p->head.len);
    e = HTTP_PARSER_ERRNO(hp);
    if ((e != HPE_OK && e != HPE_PAUSED) || p->err_status)
        return parse_error(p, e);
    if (!p->in_trailers || n != p->head.len)
        return bad(p, "The request head is incomplete or malformed.");
    if (hp->http_major != 1 || hp->http_minor > 1) {
        return fail(p, 505, "http_version_not_supported",
                    "Only HTTP/1.1 and HTTP/1.0 are supported.");
    }
    p->http_major = hp->http_major;
    p->http_minor = hp->http_minor;
    p->method = method_bit(hp->method);
    p->method_name = http_method_str((enum http_method)hp->method);
    p->upgrade = hp->upgrade != 0;
    split_head(p);
    if (check_framing(p))
        return HTTP_PARSE_ERROR;
    if (p->state != ST_DONE)
        p->state = ST_BODY;
    return HTTP_PARSE_HEAD;
}

/*
 * Scan for the blank line that ends the head, enforcing CRLF line ends and the byte rules as we
 * go, so a violation is answered as soon as it arrives. `crlf` counts the bytes of "\r\n\r\n"
 * matched; 2 means "at the start of a header line".
 */
static int feed_head(struct http_parse *p, const char *data, size_t len, size_t *used)
{
    size_t start = 0, end, i;
    bool found = false;

    if (!p->head.len) {
        /* RFC 9112 section 2.2: ignore empty lines before the request line. */
        while (start < len && (data[start] == '\r' || data[start] == '\n'))
            start++;
    }
    /* Never look past the limit, so the verdict does not depend on how reads were split. */
    end = MIN(len, start + (p->max_header_bytes - p->head.len));
    for (i = start; i < end && !found; i++) {
        unsigned char ch = (unsigned char)data[i];

        if (ch == '\r') {
            if (p->crlf == 1 || p->crlf == 3)
                return bad(p, "The request head contains a bare CR; end lines with CRLF.");
            p->crlf++;
        } else if (ch == '\n') {
            if (p->crlf != 1 && p->crlf != 3)
                return bad(p, "The request head contains a bare LF; end lines with CRLF.");
            found = ++p->crlf == 4;
        } else {
            if (p->crlf == 1 || p->crlf == 3)
                return bad(p, "The request head contains a bare CR; end lines with CRLF.");
            if (p->crlf == 2 && (ch == ' ' || ch == '\t')) {
                return bad(p, "Folded header lines are not accepted; send each header on one "
                              "line.");
            }
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                return bad(p, "The request head contains a control character or NUL.");
            p->crlf = 0;
        }
    }
    if ((!found && end < len) || buf_append(&p->head, data + start, i - start)) {
        return fail(p, 431, "headers_too_large",
                    "The request line and headers are too large; send fewer or shorter "
                    "headers (large cookies are a common cause).");
    }
    *used = i;
    return found ? parse_head(p) : HTTP_PARSE_MORE;
}

/*
 * Chunked bodies are decoded here, not by http-parser, which is lenient after the head: it
 * takes any two bytes after chunk data as its CRLF, a bare LF at the end of a trailer line, and
 * a bare LF inside a chunk extension. A front end that reads those differently would see a
 * different number of requests (smuggling), so every line of the body is held to the head's
 * rules (RFC 9112 section 7.1): CRLF line ends only, no control characters, a size of 1 to 16
 * hex digits, extensions as `;` followed by visible characters, spaces and tabs, trailer lines
 * that are `name:value` fields (read for framing, then ignored), at most max_header_bytes of
 * size lines and trailers together. Byte at a time, so the verdict never depends on how the
 * bytes were split into reads.
 */
enum {
    CK_SIZE,     /* hex digits of a chunk size */
    CK_SIZE_WS,  /* spaces or tabs after the size: ';' or CR must follow */
    CK_EXT,      /* a chunk extension, up to CR */
    CK_SIZE_LF,  /* the LF of the size line */
    CK_DATA,     /* chunk data */
    CK_DATA_CR,  /* the CR after chunk data */
    CK_DATA_LF,  /* the LF after chunk data */
    CK_TR_START, /* the start of a trailer line, or the final CRLF */
    CK_TR_NAME,  /* a trailer field name, up to ':' */
    CK_TR_VALUE, /* a trailer field value, up to CR */
    CK_TR_LF,    /* the LF of a trailer line */
    CK_END_LF,   /* the LF of the final empty line */
};

#define CHUNK_SIZE_DIGITS 16 /* 64 bits; more is an overlong size line */

static bool is_tchar(unsigned char c)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";

    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
           (c && strchr(extra, c));
}

/* Visible characters, space, tab and obs-text: what a field value or an extension may hold. */
static bool is_text(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int chunk_too_large(struct http_parse *p)
{
    return fail(p, 413, "body_too_large", "The request body is larger than this endpoint accepts.");
}

/* After a chunk size (and any spaces): an extension, or the end of the line. */
static int chunk_size_end(struct http_parse *p, unsigned char ch)
{
    if (ch == ';') {
        p->ck_state = CK_EXT;
    } else if (ch == '\r') {
        p->ck_state = CK_SIZE_LF;
    } else {
        return bad(p, "A chunk size line in the request body is invalid.");
    }
    return 0;
}

/* A byte of a chunk-size line. Returns 0 or HTTP_PARSE_ERROR. */
static int chunk_size_byte(struct http_parse *p, unsigned char ch)
{
    int h;

    switch (p->ck_state) {
    case CK_SIZE:
        h = hexval(ch);
        if (h < 0 && !p->ck_digits)
            return bad(p, "A chunk size line in the request body does not start with a size.");
        /* The size is complete: refuse an oversized chunk before its bytes arrive. */
        if (h < 0 && p->ck_size > p->body_limit - p->body.len)
            return chunk_too_large(p);
        if (h < 0 && (ch == ' ' || ch == '\t')) {
            p->ck_state = CK_SIZE_WS;
            return 0;
        }
        if (h < 0)
            return chunk_size_end(p, ch);
        if (++p->ck_digits > CHUNK_SIZE_DIGITS)
            return bad(p, "A chunk size in the request body has more than 16 hex digits.");
        p->ck_size = p->ck_size * 16 + (unsigned)h;
        return 0;
    case CK_SIZE_WS:
        if (ch == ' ' || ch == '\t')
            return 0;
        return chunk_size_end(p, ch);
    case CK_EXT:
        if (ch == '\r') {
            p->ck_state = CK_SIZE_LF;
        } else if (!is_text(ch)) {
            return bad(p, "A chunk extension contains a bare LF or a control character.");
        }
        return 0;
    default: /* CK_SIZE_LF */
        if (ch != '\n')
            return bad(p, "A chunk size line contains a bare CR; end lines with CRLF.");
        p->ck_state = p->ck_size ? CK_DATA : CK_TR_START;
        return 0;
    }
}

/* A byte of the trailer section (after the last chunk). Returns 0 or HTTP_PARSE_ERROR. */
static int chunk_trailer_byte(struct http_parse *p, unsigned char ch)
{
    switch (p->ck_state) {
    case CK_TR_START:
        if (ch == '\r') {
            p->ck_state = CK_END_LF;
        } else if (is_tchar(ch)) {
            p->ck_state = CK_TR_NAME;
        } else {
            return bad(p, "A trailer line of the request body is not a header field.");
        }
        return 0;
    case CK_TR_NAME:
        if (ch == ':') {
            p->ck_state = CK_TR_VALUE;
        } else if (!is_tchar(ch)) {
            return bad(p, "A trailer field name is not a valid token.");
        }
        return 0;
    case CK_TR_VALUE:
        if (ch == '\r') {
            p->ck_state = CK_TR_LF;
        } else if (!is_text(ch)) {
            return bad(p, "A trailer line contains a bare LF, a control character or NUL.");
        }
        return 0;
    case CK_TR_LF:
        if (ch != '\n')
            return bad(p, "A trailer line contains a bare CR; end lines with CRLF.");
        p->ck_state = CK_TR_START;
        return 0;
    default: /* CK_END_LF */
        if (ch != '\n')
            return bad(p, "The chunked body must end with CRLF; found a bare CR.");
        p->state = ST_DONE;
        return 0;
    }
}

/* One byte of framing (not chunk data). Returns 0 or HTTP_PARSE_ERROR. */
static int chunk_byte(struct http_parse *p, unsigned char ch)
{
    if (++p->ck_line_bytes > p->max_header_bytes) {
        return fail(p, 431, "headers_too_large",
                    "The chunk size lines and trailers of the request body are too large.");
    }
    switch (p->ck_state) {
    case CK_DATA_CR:
        if (ch != '\r')
            return bad(p, "Chunk data must be followed by CRLF; the chunk size is wrong.");
        p->ck_state = CK_DATA_LF;
        return 0;
    case CK_DATA_LF:
        if (ch != '\n')
            return bad(p, "Chunk data must be followed by CRLF; found a bare CR.");
        p->ck_state = CK_SIZE;
        p->ck_size = 0;
        p->ck_digits = 0;
        return 0;
    case CK_SIZE:
    case CK_SIZE_WS:
    case CK_EXT:
    case CK_SIZE_LF:
        return chunk_size_byte(p, ch);
    default:
        return chunk_trailer_byte(p, ch);
    }
}

static int feed_chunked(struct http_parse *p, const char *data, size_t len, size_t *used)
{
    size_t i = 0;

    while (i < len && p->state == ST_BODY) {
        if (p->ck_state == CK_DATA) {
            size_t n = (size_t)MIN((uint64_t)(len - i), p->ck_size);

            if (buf_append(&p->body, data + i, n))
                return chunk_too_large(p); /* cannot happen: the size was checked */
            i += n;
            p->ck_size -= n;
            if (!p->ck_size)
                p->ck_state = CK_DATA_CR;
            continue;
        }
        if (chunk_byte(p, (unsigned char)data[i++]))
            return HTTP_PARSE_ERROR;
    }
    *used = i;
    return p->state == ST_DONE ? HTTP_PARSE_DONE : HTTP_PARSE_MORE;
}

static int feed_body(struct http_parse *p, const char *data, size_t len, size_t *used)
{
    http_parser *hp = hp_of(p);
    size_t n;
    enum http_errno e;

    if (p->chunked)
        return feed_chunked(p, data, len, used);
    if (p->content_length > p->body_limit) {
        return fail(p, 413, "body_too_large",
                    "The request body is larger than this endpoint accepts.");
    }
    if (!len)
        return HTTP_PARSE_MORE; /* http-parser takes an empty buffer as end of stream */
    n = http_parser_execute(hp, &settings, data, len);
    *used = n;
    e = HTTP_PARSER_ERRNO(hp);
    if (p->err_status)
        return fail(p, p->err_status, p->err_code, p->err_message);
    if (p->state == ST_DONE)
        return HTTP_PARSE_DONE;
    if (e != HPE_OK)
        return parse_error(p, e);
    return HTTP_PARSE_MORE;
}

enum http_parse_status http_parse_feed(struct http_parse *p, const char *data, size_t len,
                                       size_t *used)
{
    *used = 0;
    switch (p->state) {
    case ST_HEAD:
        return (enum http_parse_status)feed_head(p, data, len, used);
    case ST_BODY:
        return (enum http_parse_status)feed_body(p, data, len, used);
    case ST_DONE:
        return HTTP_PARSE_DONE;
    default:
        return HTTP_PARSE_ERROR;
    }
}

/* ---- targets ---- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode %XX at `s` (which has at least `left` bytes). Returns the byte or -1. */
static int pct(const char *s, size_t left)
{
    int hi, lo;

    if (left < 3)
        return -1;
    hi = hexval((unsigned char)s[1]);
    lo = hexval((unsigned char)s[2]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

static bool dot_segment(const struct buf *out, size_t seg)
{
    size_t n = out->len - seg;
    const char *s = out->data + seg;

    return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

int http_path_decode(const char *target, struct buf *out, const char **query)
{
    const char *p = target, *end;
    size_t seg = 0;
    int err = 0;

    *query = NULL;
    buf_reset(out);
    if (p[0] != '/') {
        if (!strncasecmp(p, "http://", 7)) {
            p += 7;
        } else if (!strncasecmp(p, "https://", 8)) {
            p += 8;
        } else {
            return -EINVAL;
        }
        p += strcspn(p, "/?#");
        if (*p != '/')
            return -EINVAL;
    }
    end = p + strcspn(p, "?#");
    if (*end == '?')
        *query = end + 1;
    for (const char *s = p; s < end && !err; s++) {
        int c = (unsigned char)*s;

        if (c == '/') {
            if (out->len && dot_segment(out, seg))
                return -EINVAL;
            err = buf_append(out, "/", 1);
            seg = out->len;
            continue;
        }
        if (c == '%') {
            c = pct(s, (size_t)(end - s));
            if (c <= 0 || c == '/')
                return -EINVAL; /* bad escape, NUL, or a slash hidden inside a segment */
            s += 2;
        }
        err = buf_append(out, &(char){ (char)c }, 1);
    }
    if (!err && dot_segment(out, seg))
        return -EINVAL;
    return err;
}

int http_query_decode(const char *p, size_t len, struct buf *out)
{
    int err = 0;

    buf_reset(out);
    for (size_t i = 0; i < len && !err; i++) {
        int c = (unsigned char)p[i];

        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            c = pct(p + i, len - i);
            if (c <= 0)
                return -EINVAL;
            i += 2;
        }
        err = buf_append(out, &(char){ (char)c }, 1);
    }
    if (!err && !out->data)
        err = buf_append(out, "", 0);
    return err;
}

bool http_content_type_is_json(const char *ct)
{
    size_t n = strlen("application/json");

    if (!ct || strncasecmp(ct, "application/json", n) != 0)
        return false;
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';'; /* parameters such as charset=utf-8 are fine */
}
