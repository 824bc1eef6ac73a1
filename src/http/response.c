/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Responses: the status line, the cached Date, Content-Length, the application's headers, the
 * pre-rendered security headers, and the body, assembled into the loop's scratch buffer and
 * written with one try-write (conn.c). Also the access log and the request statistics.
 */
#include "http/http_int.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"

/*
 * The reason phrases of every status RFC 9110 section 15 defines, with RFC 6585's 428, 429 and
 * 431 and RFC 7725's 451, in status order: whatever status a handler picks, its status line
 * says what it is (a test checks the ones the code sends).
 */
static const struct {
    int status;
    const char *reason;
} reasons[] = {
    { 100, "Continue" },
    { 101, "Switching Protocols" },
    { 200, "OK" },
    { 201, "Created" },
    { 202, "Accepted" },
    { 203, "Non-Authoritative Information" },
    { 204, "No Content" },
    { 205, "Reset Content" },
    { 206, "Partial Content" },
    { 300, "Multiple Choices" },
    { 301, "Moved Permanently" },
    { 302, "Found" },
    { 303, "See Other" },
    { 304, "Not Modified" },
    { 305, "Use Proxy" },
    { 307, "Temporary Redirect" },
    { 308, "Permanent Redirect" },
    { 400, "Bad Request" },
    { 401, "Unauthorized" },
    { 402, "Payment Required" },
    { 403, "Forbidden" },
    { 404, "Not Found" },
    { 405, "Method Not Allowed" },
    { 406, "Not Acceptable" },
    { 407, "Proxy Authentication Required" },
    { 408, "Request Timeout" },
    { 409, "Conflict" },
    { 410, "Gone" },
    { 411, "Length Required" },
    { 412, "Precondition Failed" },
    { 413, "Content Too Large" },
    { 414, "URI Too Long" },
    { 415, "Unsupported Media Type" },
    { 416, "Range Not Satisfiable" },
    { 417, "Expectation Failed" },
    { 421, "Misdirected Request" },
    { 422, "Unprocessable Content" },
    { 426, "Upgrade Required" },
    { 428, "Precondition Required" },
    { 429, "Too Many Requests" },
    { 431, "Request Header Fields Too Large" },
    { 451, "Unavailable For Legal Reasons" },
    { 500, "Internal Server Error" },
    { 501, "Not Implemented" },
    { 502, "Bad Gateway" },
    { 503, "Service Unavailable" },
    { 504, "Gateway Timeout" },
    { 505, "HTTP Version Not Supported" },
};

/* RFC 9112 section 4: the reason phrase may be empty; an unknown status gets none. */
const char *http__reason(int status)
{
    for (size_t i = 0; i < ARRAY_SIZE(reasons); i++) {
        if (reasons[i].status == status)
            return reasons[i].reason;
    }
    return "";
}

int http__security_headers(struct http_server *s, char *err, size_t errlen)
{
    const char *fa = s->opts.frame_ancestors ? s->opts.frame_ancestors : "'none'";
    struct buf b;
    int e = 0;

    for (const char *p = fa; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == ';' || *p == ',') {
            snprintf(err, errlen, "http: frame_ancestors '%s' must be a CSP source list", fa);
            return -EINVAL;
        }
    }
    buf_init(&b, 4096);
    e |= buf_printf(&b,
                    "Content-Security-Policy: default-src 'self'; script-src 'self'; "
                    "style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
                    "object-src 'none'; base-uri 'none'; form-action 'self'; "
                    "frame-ancestors %s\r\n"
                    "X-Content-Type-Options: nosniff\r\n"
                    "Referrer-Policy: no-referrer\r\n",
                    fa);
    if (!strcmp(fa, "'none'"))
        e |= buf_puts(&b, "X-Frame-Options: DENY\r\n");
    if (e) {
        buf_release(&b);
        snprintf(err, errlen, "http: frame_ancestors is too long");
        return -EINVAL;
    }
    s->sec_hdrs = buf_take(&b, &s->sec_len);
    return 0;
}

/* The Date header changes once a second: format it once a second per loop. */
void http__date_line(struct http_loop *loop)
{
    int64_t ms = clock_now_ms();
    int64_t sec = ms / 1000;
    char d[40];
    int n;

    if (sec == loop->date_sec && loop->date_len)
        return;
    clock_http_date(ms, d, sizeof(d));
    n = snprintf(loop->date, sizeof(loop->date), "Date: %s\r\n", d);
    loop->date_len = n > 0 ? (size_t)n : 0;
    loop->date_sec = sec;
}

/* snprintf into the buffer without buf_printf's measuring pass (this is the hot path). */
static int put(struct buf *o, const char *fmt, ...) PRINTF_LIKE(2, 3);
static int put(struct buf *o, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return -EMSGSIZE;
    return buf_append(o, tmp, (size_t)n);
}

static void access_log(struct http_req *r, int status, size_t bytes, uint64_t us)
{
    const struct http_parse *p = &r->c->parse;
    char path[512];

    /*
     * The path without the query (it may carry tokens) and without the route's capability
     * segments ({name:secret}: invite codes, media ids); never headers, bodies or addresses.
     */
    if (p->target) {
        http__log_target(p->target, r->match.secret, path, sizeof(path));
    } else {
        path[0] = '-';
        path[1] = '\0';
    }
    log_info("access: %s %s %d %zu %lluus", p->method_name ? p->method_name : "-", path, status,
             bytes, (unsigned long long)us);
}

static void account(struct http_req *r, int status, size_t bytes)
{
    struct http_server *s = r->c->loop->srv;
    uint64_t us = r->start_us ? clock_mono_us() - r->start_us : 0;

    if (status >= 100 && status < 600)
        atomic_fetch_add_explicit(&s->by_class[status / 100], 1, memory_order_relaxed);
    histogram_observe(&s->latency, us);
    if (s->opts.access_log)
        access_log(r, status, bytes, us);
}

/* Whether the "Name: value\r\n" lines of `h` hold a header called `name` (`nlen` bytes). */
static bool has_header(const struct buf *h, const char *name, size_t nlen)
{
    for (const char *p = h->data, *end = h->data + h->len; p && p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));

        if ((size_t)(end - p) > nlen && p[nlen] == ':' && !strncasecmp(p, name, nlen))
            return true;
        p = eol ? eol + 1 : end;
    }
    return false;
}

/*
 * The security headers, except those the application set itself (http_resp_header): a
 * response carries each header once, the application's value winning (a page with a code in
 * its address says Referrer-Policy itself).
 */
static int put_security_headers(struct buf *o, const struct http_server *s, const struct buf *app)
{
    const char *p = s->sec_hdrs, *end = s->sec_hdrs + s->sec_len;
    int e = 0;

    if (!app->len)
        return buf_append(o, s->sec_hdrs, s->sec_len);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *colon = memchr(p, ':', (size_t)(end - p));
        size_t line = eol ? (size_t)(eol + 1 - p) : (size_t)(end - p);

        if (!colon || !has_header(app, p, (size_t)(colon - p)))
            e |= buf_append(o, p, line);
        p += line;
    }
    return e;
}

/* Head of every response, up to and including the blank line, into o. */
static int render_head(struct http_req *r, struct buf *o, int status, const char *content_type,
                       int64_t clen, bool keep, const char *framing)
{
    struct http__conn *c = r->c;
    struct http_loop *loop = c->loop;
    int e = 0;

    http__date_line(loop);
    e |= put(o, "HTTP/1.1 %d %s\r\n", status, http__reason(status));
    e |= buf_append(o, loop->date, loop->date_len);
    if (content_type)
        e |= put(o, "Content-Type: %s\r\n", content_type);
    if (clen >= 0)
        e |= put(o, "Content-Length: %lld\r\n", (long long)clen);
    if (framing)
        e |= buf_puts(o, framing);
    if (r->resp_hdrs.len)
        e |= buf_append(o, r->resp_hdrs.data, r->resp_hdrs.len);
    if (!keep) {
        e |= buf_puts(o, "Connection: close\r\n");
    } else if (c->parse.http_minor == 0) {
        e |= buf_puts(o, "Connection: keep-alive\r\n");
    }
    e |= put_security_headers(o, loop->srv, &r->resp_hdrs);
    e |= buf_append(o, "\r\n", 2);
    return e;
}

/* Whether the connection can carry another request after this answer. */
static bool can_keep(struct http__conn *c)
{
    return c->keep_alive && !c->gone && !c->closing && http_parse_complete(&c->parse) &&
           !c->loop->stopping;
}

void http__respond_ex(struct http_req *r, int status, const char *content_type, const void *body,
                      size_t len, int64_t clen)
{
    struct http__conn *c = r->c;
    struct buf *o = &c->loop->out;
    bool no_body = r->method == HTTP_M_HEAD || status == 304 || status == 204 || status < 200;
    size_t bytes = 0;
    int e;

    assert(!r->answered && !r->streaming); /* a handler answers exactly once */
    r->answered = true;
    c->keep_alive = can_keep(c);
    if (!c->closed && !c->gone) {
        buf_reset(o);
        e = render_head(r, o, status, content_type, clen, c->keep_alive, NULL);
        if (body && !no_body)
            e |= buf_append(o, body, len);
        if (e) {
            /* Only a body past the scratch limit gets here; answer something true instead. */
            log_error("http: response of %zu bytes is too large to send", len);
            buf_reset(o);
            c->keep_alive = false;
            (void)!render_head(r, o, 500, NULL, 0, false, NULL); /* small: cannot fail */
            status = 500;
        }
        bytes = o->len;
        http__conn_send(c, o->data, o->len);
    }
    account(r, status, bytes);
    http__conn_request_done(c);
}

void http_respond_file(struct http_req *r, int status, const char *content_type, int fd,
                       uint64_t off, uint64_t len)
{
    struct http__conn *c = r->c;
    struct buf *o = &c->loop->out;
    bool body = r->method != HTTP_M_HEAD && status >= 200 && status != 204 && status != 304 && len;
    size_t bytes = 0;

    assert(!r->answered && !r->streaming); /* a handler answers exactly once */
    assert(fd >= 0);
    r->answered = true;
    c->keep_alive = can_keep(c);
    if (!c->closed && !c->gone) {
        buf_reset(o);
        if (render_head(r, o, status, content_type, (int64_t)len, c->keep_alive, NULL)) {
            /* The head alone is far below the scratch limit; keep respond_ex's promise anyway. */
            buf_reset(o);
            c->keep_alive = false;
            (void)!render_head(r, o, 500, NULL, 0, false, NULL);
            status = 500;
            body = false;
        }
        bytes = o->len + (body ? len : 0);
        http__conn_send(c, o->data, o->len);
    }
    account(r, status, bytes);
    if (body && !c->closed && !c->gone && !c->closing) {
        http__conn_send_file(c, fd, off, len); /* finishes the request once the body is out */
        return;
    }
    close(fd);
    http__conn_request_done(c);
}

void http_respond(struct http_req *r, int status, const char *content_type, const void *body,
                  size_t len)
{
    http__respond_ex(r, status, content_type, body ? body : "", len,
                     status == 204 || status == 304 ? -1 : (int64_t)len);
}

/*
 * Drop the Cache-Control a handler set before it found the error (media sets "immutable" before
 * it reads the Range): the error's own no-store replaces it.
 */
static void drop_cache_control(struct http_req *r)
{
    static const char name[] = "Cache-Control:";
    const char *p = r->resp_hdrs.data;
    const char *end = p ? p + r->resp_hdrs.len : NULL;
    struct buf kept;

    if (!p || !strcasestr(p, name)) /* data is NUL-terminated (buf.h) */
        return;
    buf_init(&kept, r->resp_hdrs.limit);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t n = eol ? (size_t)(eol + 1 - p) : (size_t)(end - p);

        if (n < sizeof(name) - 1 || strncasecmp(p, name, sizeof(name) - 1) != 0)
            (void)!buf_append(&kept, p, n); /* no larger than what it came from */
        p += n;
    }
    buf_release(&r->resp_hdrs);
    r->resp_hdrs = kept;
}

void http_respond_error(struct http_req *r, int status, const char *code, const char *message,
                        const char *field)
{
    size_t len;
    char *body = json_error_body(code, message, field, &len);

    /*
     * No error is ever worth caching: a 404 or 410 must not outlive the thing coming back, and
     * a 401 or 429 is about this request only. Set here, the one place every error goes
     * through (API handlers and the connection's early answers), so no handler can forget it.
     */
    drop_cache_control(r);
    http_resp_header(r, "Cache-Control", "no-store");
    http__respond_ex(r, status, "application/json", body, len, (int64_t)len);
    free(body);
}

void http__respond_early(struct http__conn *c, int status, const char *code, const char *message)
{
    c->keep_alive = false;
    if (status == 503)
        http_resp_header(&c->req, "Retry-After", "5");
    http_respond_error(&c->req, status, code, message, NULL);
}

void http_resp_header(struct http_req *r, const char *name, const char *value)
{
    if (r->answered || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n")) {
        log_warn("http: response header '%.64s' dropped (bad characters or already answered)",
                 name);
        return;
    }
    if (buf_puts(&r->resp_hdrs, name) || buf_append(&r->resp_hdrs, ": ", 2) ||
        buf_puts(&r->resp_hdrs, value) || buf_append(&r->resp_hdrs, "\r\n", 2)) {
        log_warn("http: response headers past %zu bytes; '%.64s' dropped", r->resp_hdrs.limit,
                 name);
    }
}

int http__stream_head(struct http_req *r, int status, const char *content_type, bool raw)
{
    struct http__conn *c = r->c;
    struct buf *o = &c->loop->out;
    bool chunked = c->parse.http_minor >= 1 && !raw;
    int e;

    /* A stream is the last thing on its connection: no pipelining behind an endless body. */
    c->keep_alive = false;
    buf_reset(o);
    if (raw) {
        e = render_head(r, o, status, content_type, -1, true, NULL);
    } else {
        /* Say so: a client that pools connections must not send its next request on this one. */
        e = render_head(r, o, status, content_type, -1, false,
                        chunked ? "Transfer-Encoding: chunked\r\nCache-Control: no-store\r\n"
                                : "Cache-Control: no-store\r\n");
    }
    if (e)
        return -EMSGSIZE;
    http__conn_send(c, o->data, o->len);
    account(r, status, o->len);
    return 0;
}

/* Static files and media both answer ranges with this (http.h). */
int http_range_parse(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
    const char *p;
    char *end;
    unsigned long long a, b;

    if (strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return 0;
    p = h + 6;
    if (*p == '-') {
        if (p[1] < '0' || p[1] > '9')
            return -1;
        errno = 0;
        b = strtoull(p + 1, &end, 10);
        if (errno || *end || !b || !size)
            return -1;
        *from = b >= size ? 0 : size - b;
        *to = size - 1;
        return 1;
    }
    if (*p < '0' || *p > '9')
        return -1;
    errno = 0;
    a = strtoull(p, &end, 10);
    if (errno || *end != '-')
        return -1;
    p = end + 1;
    if (!*p) {
        b = size ? size - 1 : 0;
    } else {
        if (*p < '0' || *p > '9')
            return -1;
        b = strtoull(p, &end, 10);
        if (errno || *end || b < a)
            return -1;
    }
    if (a >= size)
        return -1;
    *from = a;
    *to = b >= size ? size - 1 : b;
    return 1;
}
