/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Streamed responses (SSE, and WebSocket after its 101): a head without Content-Length, then
 * bytes for as long as the application writes them. The stream is the last use of its
 * connection. Its on_close runs exactly once, whatever ends it, so a subscriber list never
 * keeps a pointer to a request that is gone; graceful shutdown ends every stream at once.
 *
 * Shared bytes (http_stream_write_ref) are how the fan-out sends one encoded event to every
 * subscriber: the socket usually takes them at once (nothing allocated, nothing copied); when
 * it does not, the rest is queued as a reference to the shared buffer, released when written.
 */
#include "http/http_int.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* A queued write of shared bytes: a reference, released when written or dropped. */
struct refw {
    uv_write_t req;
    size_t len;
    const struct http_shared *sh;
    void *arg;
};

static void run_on_close(struct http_req *r)
{
    http_stream_close_fn *fn = r->on_close;

    r->streaming = false;
    r->on_close = NULL;
    r->on_data = NULL;
    if (fn)
        fn(r, r->stream_ctx);
}

/* http_stream_start, and the WebSocket's 101 (`raw`: no chunk framing). */
int http__stream_start(struct http_req *r, int status, const char *content_type, bool raw,
                       http_stream_close_fn *on_close, void *ctx)
{
    struct http__conn *c = r->c;

    assert(!r->answered && !r->streaming); /* a handler answers exactly once */
    if (c->closed || c->closing || c->gone || c->loop->stopping) {
        http_resp_header(r, "Retry-After", "5");
        http_respond_error(r, 503, "overloaded", "The server is stopping; retry shortly.", NULL);
        return -EPIPE;
    }
    if (r->method == HTTP_M_HEAD) {
        /*
         * RFC 9110 section 9.3.2: HEAD gets the head a GET would, never a body. For an endless
         * stream that means the answer ends with its head: the stream never starts, and the
         * connection stays free for the next (pipelined) request. Enforced here, for every
         * streaming route, not in each handler.
         */
        http_resp_header(r, "Cache-Control", "no-store");
        http__respond_ex(r, status, content_type, NULL, 0, -1);
        return -EPIPE;
    }
    r->raw = raw;
    if (http__stream_head(r, status, content_type, raw)) {
        r->raw = false;
        http_respond_error(r, 500, "internal", "The response headers are too large.", NULL);
        return -EPIPE;
    }
    r->answered = true;
    r->streaming = true;
    r->on_close = on_close;
    r->stream_ctx = ctx;
    http__conn_request_done(c); /* the connection enters CS_STREAM */
    return 0;
}

int http_stream_start(struct http_req *r, int status, const char *content_type,
                      http_stream_close_fn *on_close, void *ctx)
{
    return http__stream_start(r, status, content_type, false, on_close, ctx);
}

bool http_stream_chunked(const struct http_req *r)
{
    return !r->raw && r->c->parse.http_minor >= 1;
}

int http_stream_write(struct http_req *r, const void *p, size_t len)
{
    struct http__conn *c = r->c;
    char size[24];
    int n;

    if (!r->streaming || c->closing || c->gone)
        return -EPIPE;
    if (c->wbytes > HTTP_STREAM_BACKLOG) {
        http_stream_end(r);
        return -ENOBUFS;
    }
    if (!len)
        return 0; /* a zero-length chunk would end the body */
    if (http_stream_chunked(r)) {
        /* One chunk, one write: frame it in the loop's scratch buffer. */
        struct buf *o = &c->loop->out;

        n = snprintf(size, sizeof(size), "%zx\r\n", len);
        buf_reset(o);
        if (buf_append(o, size, (size_t)n) || buf_append(o, p, len) || buf_append(o, "\r\n", 2))
            return -EMSGSIZE;
        http__conn_send(c, o->data, o->len);
    } else {
        http__conn_send(c, p, len);
    }
    return c->closing ? -EPIPE : 0;
}

static void on_ref_written(uv_write_t *req, int status)
{
    struct refw *w = container_of(req, struct refw, req);
    struct http__conn *c = req->handle->data;

    c->nwrites--;
    c->wbytes -= w->len;
    w->sh->release(w->arg);
    free(w);
    if (status < 0) {
        c->gone = true;
        http__conn_close(c);
    }
}

/* Queue piece `b` from byte `off` behind the connection's other writes, holding its bytes. */
static int queue_ref(struct http__conn *c, const struct http_ref_buf *b, size_t off,
                     const struct http_shared *sh)
{
    struct refw *w = xmalloc(sizeof(*w));
    uv_buf_t ub;

    w->len = b->len - off;
    w->sh = sh;
    w->arg = b->arg;
    ub = uv_buf_init((char *)b->p + off, (unsigned)w->len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &ub, 1, on_ref_written) < 0) {
        free(w);
        return -EPIPE;
    }
    sh->hold(b->arg);
    c->nwrites++;
    c->wbytes += w->len;
    return 0;
}

int http_stream_writev_ref(struct http_req *r, const struct http_ref_buf *b, size_t n,
                           const struct http_shared *sh)
{
    struct http__conn *c = r->c;
    uv_buf_t ub[HTTP_WRITEV_MAX];
    size_t total = 0, done;
    int w = UV_EAGAIN;

    assert(n >= 1 && n <= HTTP_WRITEV_MAX);
    if (!r->streaming || c->closing || c->gone)
        return -EPIPE;
    for (size_t i = 0; i < n; i++) {
        ub[i] = uv_buf_init((char *)b[i].p, (unsigned)b[i].len);
        total += b[i].len;
    }
    /* Behind queued writes the bytes must queue too, or they would overtake them. */
    if (!c->nwrites)
        w = uv_try_write((uv_stream_t *)&c->tcp, ub, (unsigned)n);
    if (w == (int)total)
        return 0; /* the fast path: no allocation, no reference taken */
    if (w < 0 && w != UV_EAGAIN) {
        c->gone = true;
        http__conn_close(c);
        return -EPIPE;
    }
    done = w < 0 ? 0 : (size_t)w;
    for (size_t i = 0; i < n; i++) {
        if (done >= b[i].len) {
            done -= b[i].len; /* taken whole by the socket */
            continue;
        }
        if (queue_ref(c, &b[i], done, sh)) {
            c->gone = true;
            http__conn_close(c);
            return -EPIPE;
        }
        done = 0;
    }
    return 0;
}

int http_stream_write_ref(struct http_req *r, const void *p, size_t len,
                          const struct http_shared *sh, void *arg)
{
    struct http_ref_buf b = { p, len, arg };

    return http_stream_writev_ref(r, &b, 1, sh);
}

void http_stream_trim(struct http_req *r)
{
    struct http__conn *c = r->c;

    if (!r->streaming)
        return;
    /* What served the request: its head, decoded path, router scratch, query copies. */
    for (size_t i = 0; i < r->nowned; i++)
        free(r->owned[i]);
    free(r->owned);
    r->owned = NULL;
    r->nowned = 0;
    r->query = NULL;
    memset(&r->match, 0, sizeof(r->match));
    buf_release(&r->path);
    buf_release(&r->scratch);
    buf_release(&r->resp_hdrs);
    http_parse_release(&c->parse); /* keeps the version, which framing needs */
    c->parse.nhdrs = 0;
    c->parse.target = NULL;
    if (!c->in.len)
        buf_release(&c->in);
}

size_t http_stream_unsent(const struct http_req *r)
{
    return r->c->wbytes;
}

bool http_req_server_stopping(const struct http_req *r)
{
    return r->c->loop->stopping;
}

uint64_t http_req_now_ms(const struct http_req *r)
{
    return uv_now(&r->c->loop->uv);
}

void http_stream_end(struct http_req *r)
{
    struct http__conn *c = r->c;

    if (!r->streaming)
        return;
    if (http_stream_chunked(r))
        http__conn_send(c, "0\r\n\r\n", 5);
    run_on_close(r);
    c->state = CS_HEAD; /* leave CS_STREAM so finishing shuts down politely */
    http__conn_finish(c);
}

void http__stream_closed(struct http_req *r)
{
    run_on_close(r);
}

void http__stream_set_reader(struct http_req *r, http_stream_data_fn *fn)
{
    r->on_data = fn;
}

void http__stream_input(struct http_req *r, const char *p, size_t len)
{
    if (r->streaming && r->on_data)
        r->on_data(r, r->stream_ctx, p, len);
}
