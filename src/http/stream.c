/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Streamed responses (SSE, and the hook for WebSocket later): a head without Content-Length,
 * then chunks for as long as the application writes them. The stream is the last use of its
 * connection. Its on_close runs exactly once, whatever ends it, so a subscriber list never
 * keeps a pointer to a request that is gone; graceful shutdown ends every stream at once.
 */
#include "http/http_int.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>

static void run_on_close(struct http_req *r)
{
    http_stream_close_fn *fn = r->on_close;

    r->streaming = false;
    r->on_close = NULL;
    if (fn)
        fn(r, r->stream_ctx);
}

int http_stream_start(struct http_req *r, int status, const char *content_type,
                      http_stream_close_fn *on_close, void *ctx)
{
    struct http__conn *c = r->c;

    assert(!r->answered && !r->streaming); /* a handler answers exactly once */
    if (c->closed || c->closing || c->gone || c->loop->stopping) {
        http_respond_error(r, 503, "overloaded", "The server is stopping; retry shortly.",
                           NULL);
        return -EPIPE;
    }
    if (http__stream_head(r, status, content_type)) {
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
    if (c->parse.http_minor >= 1) {
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

void http_stream_end(struct http_req *r)
{
    struct http__conn *c = r->c;

    if (!r->streaming)
        return;
    if (c->parse.http_minor >= 1)
        http__conn_send(c, "0\r\n\r\n", 5);
    run_on_close(r);
    c->state = CS_HEAD; /* leave CS_STREAM so finishing shuts down politely */
    http__conn_finish(c);
}

void http__stream_closed(struct http_req *r)
{
    run_on_close(r);
}
