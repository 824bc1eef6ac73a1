/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * One client connection: reading, the request state machine (head, body, handler), timeouts,
 * writing with backpressure, and closing.
 *
 * Requests on a connection are served one at a time, in order: bytes that arrive while a
 * request is with its handler wait in `in` (pipelining), and reading stops when too much waits.
 * Responses are written in the order they are produced, so pipelined answers stay in order.
 *
 * Memory per idle connection is the struct alone (about 1.5 KiB with libuv's handle): every
 * read lands in one buffer per loop, and a connection only gets buffers of its own for bytes it
 * must keep (a partial head, a body, pipelined requests), grown on demand up to their limits.
 *
 * A connection is never freed inside its own callbacks: closing calls uv_close(), and the
 * struct is freed in the close callback, or later if its request is still with a handler (the
 * handler must answer; the answer to a client that left is just dropped).
 */
#include "http/http_int.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"

/*
 * A file body goes out with sendfile() straight from the page cache. When the socket is full,
 * this much of it is read and queued with uv_write() instead: libuv says when a write it owns
 * completes, but has no "writable" callback for a socket it owns (a second poll handle on the
 * same fd is not allowed), so that write's completion is the signal to go on with sendfile().
 * Memory per download is therefore at most one such chunk, whatever the file's size.
 */
#define FILE_CHUNK (64 * 1024)

/* How long a closing connection reads and discards what the client still sends. */
#define LINGER_MS      2000
#define LINGER_STOP_MS 250

struct wreq {
    uv_write_t req;
    size_t len;
    char data[];
};

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void begin_linger(struct http__conn *c);

static uint64_t now_ms(const struct http__conn *c)
{
    return uv_now(&c->loop->uv);
}

/* Start a timeout of `ms` (0: none), keeping loop->timed to the connections that have one. */
static void set_timeout(struct http__conn *c, uint64_t ms)
{
    struct http_loop *loop = c->loop;
    bool was = c->deadline_ms != 0;

    c->deadline_ms = ms ? now_ms(c) + ms : 0;
    if (c->deadline_ms && !was) {
        c->tprev = NULL;
        c->tnext = loop->timed;
        if (loop->timed)
            loop->timed->tprev = c;
        loop->timed = c;
    } else if (!c->deadline_ms && was) {
        if (c->tprev) {
            c->tprev->tnext = c->tnext;
        } else {
            loop->timed = c->tnext;
        }
        if (c->tnext)
            c->tnext->tprev = c->tprev;
        c->tprev = c->tnext = NULL;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct http__conn *c = h->data;

    (void)suggested;
    /* Shared by every connection of the loop: on_read() consumes or copies it at once. */
    *buf = uv_buf_init(c->loop->readbuf, HTTP_READ_BUF_SIZE);
}

void http__req_reset(struct http_req *r)
{
    for (size_t i = 0; i < r->nowned; i++)
        free(r->owned[i]);
    free(r->owned);
    r->owned = NULL;
    r->nowned = 0;
    r->route = NULL;
    r->target = T_NONE;
    r->method = 0;
    r->answered = false;
    r->streaming = false;
    r->start_us = 0;
    r->query = NULL;
    r->on_close = NULL;
    r->stream_ctx = NULL;
    r->raw = false;
    r->on_data = NULL;
    memset(&r->match, 0, sizeof(r->match));
    if (r->path.alloc > HTTP_KEEP_BYTES)
        buf_release(&r->path);
    buf_reset(&r->path);
    if (r->scratch.alloc > HTTP_KEEP_BYTES)
        buf_release(&r->scratch);
    buf_reset(&r->scratch);
    buf_release(&r->resp_hdrs);
}

void http__conn_accept(struct http_loop *loop, int fd, const uint8_t addr[16])
{
    struct http_server *s = loop->srv;
    struct http__conn *c = xcalloc(1, sizeof(*c));
    int err;

    c->loop = loop;
    c->file_fd = -1;
    memcpy(c->addr, addr, 16);
    http_parse_init(&c->parse, s->opts.max_header_bytes, s->opts.max_body_bytes);
    /* `in` holds at most one read beyond the pause threshold (see on_read). */
    buf_init(&c->in, s->opts.max_header_bytes + 2 * HTTP_READ_BUF_SIZE);
    c->req.c = c;
    buf_init(&c->req.path, s->opts.max_header_bytes);
    buf_init(&c->req.scratch, s->opts.max_header_bytes);
    buf_init(&c->req.resp_hdrs, (size_t)16 * 1024);
    uv_tcp_init(&loop->uv, &c->tcp);
    c->tcp.data = c;
    err = uv_tcp_open(&c->tcp, fd);
    if (err) {
        /* The handle holds no fd yet: close both separately; the close callback frees. */
        close(fd);
        log_warn("http: cannot adopt accepted socket: %s", uv_strerror(err));
    }
    c->next = loop->conns;
    if (loop->conns)
        loop->conns->prev = c;
    loop->conns = c;
    loop->nconns++;
    loop->nopen++;
    atomic_fetch_add_explicit(&s->conns_total, 1, memory_order_relaxed);
    if (err) {
        http__conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    c->state = CS_HEAD;
    c->keep_alive = true;
    set_timeout(c, s->opts.header_timeout_ms);
    err = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (err)
        http__conn_close(c);
}

void http__conn_free(struct http__conn *c)
{
    struct http_loop *loop = c->loop;

    set_timeout(c, 0);
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        loop->conns = c->next;
    }
    if (c->next)
        c->next->prev = c->prev;
    loop->nconns--;
    if (c->resume_queued) {
        struct http__conn **pp = &loop->resume;

        while (*pp && *pp != c)
            pp = &(*pp)->resume_next;
        if (*pp)
            *pp = c->resume_next;
    }
    if (c->file_fd >= 0)
        close(c->file_fd);
    http__req_reset(&c->req);
    buf_release(&c->req.path);
    buf_release(&c->req.scratch);
    http_parse_release(&c->parse);
    buf_release(&c->in);
    free(c);
    http__loop_maybe_finish(loop);
}

static void on_closed(uv_handle_t *h)
{
    struct http__conn *c = h->data;
    struct http_server *s = c->loop->srv;

    c->closed = true;
    c->loop->nopen--;
    atomic_fetch_sub_explicit(&s->conns_open, 1, memory_order_relaxed);
    http__ip_release(s, c->addr);
    if (c->req.streaming)
        http__stream_closed(&c->req);
    /* A request still with its handler keeps the struct until the handler answers. */
    if (c->state == CS_HANDLER && !c->req.answered) {
        http__loop_maybe_finish(c->loop);
        return;
    }
    http__conn_free(c);
}

void http__conn_close(struct http__conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    set_timeout(c, 0);
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

/* Run drive() again for this connection in the loop's before-sleep pass. */
static void queue_resume(struct http__conn *c)
{
    if (c->resume_queued || c->closing)
        return;
    c->resume_queued = true;
    c->resume_next = c->loop->resume;
    c->loop->resume = c;
}

/* ---- writing ---- */

static void on_write(uv_write_t *req, int status)
{
    struct wreq *w = container_of(req, struct wreq, req);
    struct http__conn *c = req->handle->data;
    bool was_full = c->wbytes > HTTP_WRITE_BACKLOG;

    c->nwrites--;
    c->wbytes -= w->len;
    free(w);
    if (status < 0) {
        c->gone = true;
        http__conn_close(c);
        return;
    }
    if (c->file_fd >= 0 ? !c->nwrites : (was_full && c->wbytes <= HTTP_WRITE_BACKLOG))
        queue_resume(c);
}

void http__conn_send(struct http__conn *c, const char *p, size_t n)
{
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
    struct wreq *w;
    int r = UV_EAGAIN;

    if (c->closing || c->gone || !n)
        return;
    /* Most answers fit the socket buffer: write them now and skip the copy. */
    if (!c->nwrites)
        r = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (r == (int)n)
        return;
    if (r < 0 && r != UV_EAGAIN) {
        c->gone = true;
        http__conn_close(c);
        return;
    }
    if (r < 0)
        r = 0;
    w = xmalloc(sizeof(*w) + n - (size_t)r);
    w->len = n - (size_t)r;
    memcpy(w->data, p + r, w->len);
    b = uv_buf_init(w->data, (unsigned)w->len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write) < 0) {
        free(w);
        c->gone = true;
        http__conn_close(c);
        return;
    }
    c->nwrites++;
    c->wbytes += w->len;
}

/* ---- file bodies ---- */

static void file_done(struct http__conn *c)
{
    close(c->file_fd);
    c->file_fd = -1;
    http__conn_request_done(c);
}

/* The socket is full: read one chunk of the file and queue it (see FILE_CHUNK). */
static int file_chunk(struct http__conn *c)
{
    size_t n = (size_t)MIN((uint64_t)FILE_CHUNK, c->file_end - c->file_off);
    struct wreq *w = xmalloc(sizeof(*w) + n);
    uv_buf_t b;
    ssize_t got;

    do {
        got = pread(c->file_fd, w->data, n, (off_t)c->file_off);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) {
        free(w);
        return got < 0 ? -errno : -EIO; /* shrank under us: the Content-Length cannot be kept */
    }
    w->len = (size_t)got;
    b = uv_buf_init(w->data, (unsigned)w->len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write) < 0) {
        free(w);
        return -EIO;
    }
    c->nwrites++;
    c->wbytes += w->len;
    c->file_off += w->len;
    return 0;
}

/*
 * Move the file body along: nothing while earlier writes (the head) are queued, then
 * sendfile() until the socket is full or the body is out. The loop thread; the file is read
 * from the page cache, as the whole file was before.
 */
static void file_pump(struct http__conn *c)
{
    int sock = -1;

    if (c->closing || c->gone || c->nwrites)
        return; /* closing frees it all; a write's completion resumes us */
    if (uv_fileno((uv_handle_t *)&c->tcp, &sock))
        goto fail;
    while (c->file_off < c->file_end) {
        off_t off = (off_t)c->file_off;
        size_t want = (size_t)MIN(c->file_end - c->file_off, (uint64_t)1 << 30);
        ssize_t n = sendfile(sock, c->file_fd, &off, want);

        if (n > 0) {
            c->file_off += (uint64_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (file_chunk(c))
                goto fail;
            /* The client must take this chunk in time; each step it takes restarts the clock. */
            set_timeout(c, c->loop->srv->opts.send_timeout_ms);
            return;
        }
        goto fail; /* an error, or the file shrank (0): the answer cannot be completed */
    }
    file_done(c);
    return;
fail:
    c->gone = true;
    http__conn_close(c);
}

void http__conn_send_file(struct http__conn *c, int fd, uint64_t off, uint64_t len)
{
    assert(c->file_fd < 0);
    c->file_fd = fd;
    c->file_off = off;
    c->file_end = off + len;
    file_pump(c);
}

/* ---- closing politely ---- */

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct http__conn *c = req->data;

    free(req);
    if (status < 0 || c->eof)
        http__conn_close(c);
}

/*
 * After the last answer: shut down our side once it is written, then read and discard until
 * the client closes (or LINGER_MS). Closing at once while the client is still sending (say, the
 * rest of a body we refused with 413) would make the kernel send a reset, which can destroy our
 * answer before the client reads it.
 */
static void begin_linger(struct http__conn *c)
{
    uv_shutdown_t *req;

    if (c->closing || c->state == CS_LINGER)
        return;
    c->state = CS_LINGER;
    buf_release(&c->in);
    /* uv_close() would cancel queued writes; the shutdown request waits for them. */
    req = xmalloc(sizeof(*req));
    req->data = c;
    if (uv_shutdown(req, (uv_stream_t *)&c->tcp, on_shutdown) < 0) {
        free(req);
        http__conn_close(c);
        return;
    }
    if (c->read_paused) {
        c->read_paused = false;
        if (!c->eof && uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
            http__conn_close(c);
            return;
        }
    }
    /* While stopping, do not let a quiet client hold the shutdown up. */
    set_timeout(c, c->loop->stopping ? LINGER_STOP_MS : LINGER_MS);
}

void http__conn_finish(struct http__conn *c)
{
    begin_linger(c);
}

void http__conn_request_done(struct http__conn *c)
{
    struct http_loop *loop = c->loop;

    if (c->closed) {
        /* The client left while the handler worked; this answer was the last use. */
        http__conn_free(c);
        return;
    }
    if (c->req.streaming) {
        c->state = CS_STREAM;
        set_timeout(c, 0);
        return;
    }
    if (!c->keep_alive || c->closing) {
        begin_linger(c);
        return;
    }
    http__req_reset(&c->req);
    http_parse_reset(&c->parse, HTTP_KEEP_BYTES);
    c->served = true;
    c->state = CS_HEAD;
    c->got_bytes = false;
    set_timeout(c, loop->srv->opts.idle_timeout_ms);
    if (!c->in_drive)
        queue_resume(c);
}

/* ---- requests ---- */

static bool is_api_path(const char *path)
{
    return !strncmp(path, "/api/", 5) || !strcmp(path, "/api");
}

/*
 * The head is in: decide where the request goes and whether its body is acceptable, before
 * reading any of the body. Returns false when an answer was already given.
 */
static bool route_request(struct http__conn *c)
{
    struct http_server *s = c->loop->srv;
    struct http_parse *p = &c->parse;
    struct http_req *r = &c->req;
    size_t limit = s->opts.max_body_bytes;
    char allow[96], msg[256];

    if (http_path_decode(p->target, &r->path, &r->query)) {
        http__respond_early(c, 400, "bad_request",
                            "The request path is not valid: it has a bad percent-escape, an "
                            "encoded NUL or slash, or a '.' or '..' segment.");
        return false;
    }
    if (http__route_match(&s->router, r->method, r->path.data, &r->scratch, &r->match)) {
        r->route = r->match.route;
        r->target = T_ROUTE;
        if (r->route->max_body)
            limit = r->route->max_body;
        if (p->has_body && (r->route->flags & HTTP_ROUTE_JSON) &&
            !http_content_type_is_json(http_parse_header(p, "content-type"))) {
            if (p->has_body)
                c->keep_alive = false;
            http_respond_error(r, 415, "unsupported_media_type",
                               "This endpoint accepts JSON only; send the body with "
                               "'Content-Type: application/json'.",
                               NULL);
            return false;
        }
        if (r->route->admit && !r->route->admit(r)) {
            if (p->has_body)
                c->keep_alive = false; /* the body is never read: this connection is done */
            return false;
        }
    } else if ((r->method & (HTTP_M_GET | HTTP_M_HEAD)) && !is_api_path(r->path.data) &&
               s->root_real) {
        r->target = T_STATIC;
    } else if (r->match.allow) {
        http__allow_string(r->match.allow, allow, sizeof(allow));
        http_resp_header(r, "Allow", allow);
        snprintf(msg, sizeof(msg),
                 "This address does not accept %s; use one of the methods in the Allow "
                 "header (%s).",
                 p->method_name, allow);
        http_respond_error(r, 405, "method_not_allowed", msg, NULL);
        return false;
    } else {
        http_respond_error(r, 404, "not_found",
                           is_api_path(r->path.data)
                               ? "No API endpoint has this address; check the path against "
                                 "the API documentation."
                               : "Nothing exists at this address; check the link.",
                           NULL);
        return false;
    }
    if (!p->chunked && p->content_length > limit) {
        snprintf(msg, sizeof(msg),
                 "The request body is larger than the %zu bytes this endpoint accepts; send a "
                 "smaller body.",
                 limit);
        http__respond_early(c, 413, "body_too_large", msg);
        return false;
    }
    http_parse_set_body_limit(p, limit);
    if (p->expect_continue && p->has_body && p->http_minor >= 1) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

        http__conn_send(c, cont, sizeof(cont) - 1);
    }
    return true;
}

/* Every value of header `name`, in arrival order (at most `max`). */
static size_t header_lines(const struct http_parse *p, const char *name, const char **out,
                           size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < p->nhdrs && n < max; i++) {
        if (!strcasecmp(p->hdrs[i].name, name))
            out[n++] = p->hdrs[i].value;
    }
    return n;
}

/*
 * Who the client is, once per request (a keep-alive connection from a proxy carries many
 * clients' requests): the peer, or what a trusted proxy's forwarding header says.
 */
static void resolve_client(struct http__conn *c)
{
    const struct http_opts *o = &c->loop->srv->opts;
    const char *fwd[8], *proto[8];
    struct http_fwd_in in = { .peer = c->addr,
                              .trusted = o->trusted_proxies,
                              .ntrusted = o->ntrusted_proxies,
                              .rfc7239 = o->forwarded_rfc7239,
                              .fwd = fwd,
                              .proto = proto };
    struct http_client cl;

    if (o->ntrusted_proxies) {
        in.nfwd =
            header_lines(&c->parse, o->forwarded_rfc7239 ? "forwarded" : "x-forwarded-for", fwd, 8);
        in.nproto = header_lines(&c->parse, "x-forwarded-proto", proto, 8);
    }
    http_client_resolve(&in, &cl);
    c->req.https = cl.https;
    http_addr_text(cl.addr, c->req.client_text, sizeof(c->req.client_text));
}

static void on_head(struct http__conn *c)
{
    struct http_parse *p = &c->parse;
    struct http_req *r = &c->req;

    r->method = p->method;
    r->start_us = clock_mono_us();
    resolve_client(c);
    c->keep_alive = p->keep_alive && !c->loop->stopping;
    c->state = CS_BODY;
    set_timeout(c, p->has_body ? c->loop->srv->opts.body_timeout_ms : 0);
    if (p->upgrade && !(r->method & (HTTP_M_GET | HTTP_M_HEAD)))
        c->keep_alive = false; /* no protocol switch here yet: one request, then close */
    route_request(c);
}

static void dispatch(struct http__conn *c)
{
    struct http_req *r = &c->req;

    c->state = CS_HANDLER;
    set_timeout(c, 0); /* the handler's time is the application's business */
    if (r->target == T_ROUTE) {
        r->route->handler(r);
    } else {
        http__static_serve(r);
    }
}

static void parse_failed(struct http__conn *c)
{
    struct http_parse *p = &c->parse;
    char msg[200];

    if (p->err_status == 413) {
        snprintf(msg, sizeof(msg),
                 "The request body is larger than the %zu bytes this endpoint accepts; send a "
                 "smaller body.",
                 p->body_limit);
        http__respond_early(c, 413, p->err_code, msg);
        return;
    }
    if (p->err_status == 431) {
        snprintf(msg, sizeof(msg),
                 "The request line and headers are larger than %zu bytes; send fewer or "
                 "shorter headers (large cookies are a common cause).",
                 p->max_header_bytes);
        http__respond_early(c, 431, p->err_code, msg);
        return;
    }
    http__respond_early(c, p->err_status, p->err_code, p->err_message);
}

/*
 * Feed input to the current request, and to the following ones while they are answered at
 * once. Returns how many bytes were used; the caller keeps the rest in `in`.
 */
static size_t drive(struct http__conn *c, const char *data, size_t len)
{
    size_t off = 0, used;

    c->in_drive = true;
    while (!c->closing && (c->state == CS_HEAD || c->state == CS_BODY) &&
           c->wbytes <= HTTP_WRITE_BACKLOG) {
        enum http_parse_status st = http_parse_feed(&c->parse, data + off, len - off, &used);

        if (used && c->state == CS_HEAD && !c->got_bytes) {
            /*
             * The head must arrive within header_timeout_ms of its first byte (of the accept,
             * for the first request: a client cannot buy time by waiting before it starts).
             */
            c->got_bytes = true;
            if (c->served)
                set_timeout(c, c->loop->srv->opts.header_timeout_ms);
        }
        off += used;
        if (st == HTTP_PARSE_MORE)
            break;
        if (st == HTTP_PARSE_ERROR) {
            parse_failed(c);
            break;
        }
        if (st == HTTP_PARSE_HEAD) {
            on_head(c);
            continue;
        }
        /* HTTP_PARSE_DONE: the request has not been answered early (or we would not be here). */
        if (c->state == CS_BODY && !c->req.answered)
            dispatch(c);
    }
    c->in_drive = false;
    return off;
}

/*
 * The peer is done sending and every complete request it sent is answered: close once the
 * answers are written (a client may half-close right after its last pipelined request).
 */
static void maybe_close_at_eof(struct http__conn *c)
{
    if (!c->eof || c->closing || (c->state != CS_HEAD && c->state != CS_BODY) || c->in.len)
        return;
    if (c->nwrites) {
        begin_linger(c);
    } else {
        http__conn_close(c);
    }
}

static void pause_reading_if_full(struct http__conn *c)
{
    if (!c->read_paused && !c->eof && c->in.len >= c->loop->srv->opts.max_header_bytes) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->read_paused = true;
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct http__conn *c = s->data;
    size_t n = nread > 0 ? (size_t)nread : 0, used;

    if (nread < 0) {
        uv_read_stop(s);
        if (nread != UV_EOF) {
            c->gone = true; /* reset: nobody will read an answer */
            http__conn_close(c);
            return;
        }
        c->eof = true;
        if (c->state == CS_LINGER || c->state == CS_STREAM) {
            http__conn_close(c);
        } else {
            maybe_close_at_eof(c);
        }
        return;
    }
    if (!n || c->closing)
        return;
    if (c->state == CS_LINGER)
        return; /* discarded */
    if (c->state == CS_STREAM) {
        if (c->req.on_data) {
            http__stream_input(&c->req, buf->base, n); /* a WebSocket: its frames */
            return;
        }
        http__conn_close(c); /* an SSE client has nothing to say; do not buffer it */
        return;
    }
    if (!c->in.len) {
        used = drive(c, buf->base, n);
        if (used < n && !c->closing && c->state != CS_LINGER &&
            buf_append(&c->in, buf->base + used, n - used))
            http__conn_close(c);
    } else {
        if (buf_append(&c->in, buf->base, n)) {
            http__conn_close(c);
            return;
        }
        used = drive(c, c->in.data, c->in.len);
        buf_consume(&c->in, used);
    }
    if (c->closing)
        return;
    if (c->state == CS_STREAM && c->req.on_data && c->in.len) {
        /* Frames a WebSocket client sent right behind its upgrade request. */
        http__stream_input(&c->req, c->in.data, c->in.len);
        buf_reset(&c->in);
        return;
    }
    pause_reading_if_full(c);
    maybe_close_at_eof(c);
}

/* Continue a connection whose answer came later, or whose write backlog drained. */
static void resume(struct http__conn *c)
{
    size_t used;

    if (c->closing || c->state == CS_LINGER)
        return;
    if (c->file_fd >= 0) {
        file_pump(c); /* the next request waits for this body */
        return;
    }
    if (c->in.len) {
        used = drive(c, c->in.data, c->in.len);
        buf_consume(&c->in, used);
        if (c->closing)
            return;
    }
    if (c->read_paused && c->in.len < c->loop->srv->opts.max_header_bytes) {
        c->read_paused = false;
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
            http__conn_close(c);
            return;
        }
    }
    maybe_close_at_eof(c);
}

void http__conn_resume_all(struct http_loop *loop)
{
    while (loop->resume) {
        struct http__conn *c = loop->resume;

        loop->resume = c->resume_next;
        c->resume_queued = false;
        resume(c);
    }
}

/* ---- timeouts and shutdown ---- */

static void timed_out(struct http__conn *c)
{
    set_timeout(c, 0);
    if (c->file_fd >= 0) {
        /* A file body the client stopped taking (send_timeout_ms): nothing more can be said. */
        c->gone = true;
        http__conn_close(c);
        return;
    }
    switch (c->state) {
    case CS_HEAD:
        if (!c->got_bytes) {
            http__conn_close(c); /* idle keep-alive, or never said anything: close silently */
            return;
        }
        /* fall through */
    case CS_BODY:
        http__respond_early(c, 408, "request_timeout",
                            "The request did not arrive in time; check the connection and "
                            "send it again.");
        return;
    case CS_LINGER:
        http__conn_close(c);
        return;
    default:
        return;
    }
}

void http__conn_sweep(struct http_loop *loop)
{
    uint64_t now = uv_now(&loop->uv);

    for (struct http__conn *c = loop->timed, *next; c; c = next) {
        next = c->tnext; /* timed_out() takes c off this list, and no other */
        if (!c->closing && now >= c->deadline_ms)
            timed_out(c);
    }
}

void http__conn_stop_idle(struct http_loop *loop)
{
    for (struct http__conn *c = loop->conns, *next; c; c = next) {
        next = c->next;
        if (c->closing)
            continue;
        c->keep_alive = false;
        if (c->state == CS_STREAM) {
            http_stream_end(&c->req);
        } else if (c->state == CS_HEAD && !c->got_bytes && !c->in.len) {
            http__conn_close(c);
        }
    }
}

/* ---- request accessors ---- */

unsigned http_req_method(const struct http_req *r)
{
    return r->method;
}

const char *http_req_method_name(const struct http_req *r)
{
    return r->c->parse.method_name;
}

const char *http_req_path(const struct http_req *r)
{
    return r->path.data ? r->path.data : "/";
}

const char *http_req_param(const struct http_req *r, const char *name)
{
    for (unsigned i = 0; i < r->match.nparams; i++) {
        const struct http__seg *s = r->match.pname[i];

        if (strlen(name) == s->len && !memcmp(name, s->s, s->len))
            return r->match.pval[i];
    }
    return NULL;
}

const char *http_req_query(const struct http_req *r, const char *name)
{
    struct http_req *w = (struct http_req *)r; /* owns the decoded copies it hands out */
    const char *q = r->query;
    size_t nlen = strlen(name);
    struct buf out;

    while (q && *q && *q != '#') {
        size_t len = strcspn(q, "&#"), klen = strcspn(q, "=&#");
        const char *v = q + klen < q + len ? q + klen + 1 : q + len;
        char *key;
        bool same;

        buf_init(&out, len + 1);
        same =
            !http_query_decode(q, klen, &out) && out.len == nlen && !memcmp(out.data, name, nlen);
        buf_release(&out);
        if (same) {
            buf_init(&out, len + 1);
            if (http_query_decode(v, (size_t)(q + len - v), &out)) {
                buf_release(&out);
                return NULL;
            }
            key = buf_take(&out, NULL);
            w->owned = xrealloc(w->owned, (w->nowned + 1) * sizeof(*w->owned));
            w->owned[w->nowned++] = key;
            return key;
        }
        q += len;
        if (*q == '&')
            q++;
    }
    return NULL;
}

const char *http_req_header(const struct http_req *r, const char *name)
{
    return http_parse_header(&r->c->parse, name);
}

const char *http_req_body(const struct http_req *r, size_t *len)
{
    const struct buf *b = &r->c->parse.body;

    if (len)
        *len = b->len;
    return b->data ? b->data : "";
}

const char *http_req_peer(const struct http_req *r)
{
    return r->client_text;
}

bool http_req_https(const struct http_req *r)
{
    return r->https;
}

const char *http_req_server_address(const struct http_req *r)
{
    return r->c->loop->srv->address;
}

struct http_loop *http_req_loop(const struct http_req *r)
{
    return r->c->loop;
}

void *http_req_app(const struct http_req *r)
{
    return r->c->loop->srv->opts.app;
}

void *http_req_loop_ctx(const struct http_req *r)
{
    return r->c->loop->ctx;
}

bool http_req_abandoned(const struct http_req *r)
{
    return r->c->closed || r->c->gone || r->c->closing;
}
