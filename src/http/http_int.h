/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Internals shared by the files of src/http/ (server.c, conn.c, router.c, response.c,
 * static.c, stream.c). Nothing outside src/http/ includes this, except unit tests.
 */
#ifndef HTTP_HTTP_INT_H
#define HTTP_HTTP_INT_H

/*
 * core/compiler.h comes before uv.h: uv.h pulls in <sys/param.h>, whose MIN/MAX would otherwise
 * be redefined by ours with a warning (a system header's redefinition is silent).
 */
#include "core/compiler.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <uv.h>

#include "core/buf.h"
#include "core/metrics.h"
#include "http/http.h"
#include "http/parse.h"

/* ---- router ---- */

#define HTTP_MAX_SEGS   32 /* path segments in a pattern or a routed path */
#define HTTP_MAX_PARAMS 8

struct http__seg {
    const char *s; /* literal text, or the parameter name */
    size_t len;
    bool param;
};

struct http__croute { /* a compiled route */
    const struct http_route *route;
    uint32_t secret; /* bit i: segment i is a {name:secret} parameter */
    unsigned nseg;
    struct http__seg seg[HTTP_MAX_SEGS];
};

struct http__router {
    struct http__croute *r;
    size_t n;
};

struct http__match {
    const struct http_route *route; /* NULL if none matched path and method */
    unsigned allow;                 /* methods of routes matching the path (with HEAD for GET) */
    uint32_t secret;                /* segments any route matching the path calls secret */
    unsigned nparams;
    const struct http__seg *pname[HTTP_MAX_PARAMS];
    const char *pval[HTTP_MAX_PARAMS];
};

/* Compile `routes` (borrowed; must outlive the router). Returns 0 or -EINVAL with `err`. */
MUST_CHECK int http__router_init(struct http__router *rt, const struct http_route *routes, size_t n,
                                 char *err, size_t errlen);
void http__router_release(struct http__router *rt);
/*
 * Match the decoded `path` for `method`. `scratch` receives a copy of the path split into
 * NUL-terminated segments; the match's parameter values point into it. Returns m->route.
 */
const struct http_route *http__route_match(const struct http__router *rt, unsigned method,
                                           const char *path, struct buf *scratch,
                                           struct http__match *m);
/*
 * The raw request `target` as the access log prints it: the path without query or authority,
 * each segment whose bit is set in `secret` (struct http__match) replaced by "…". Always
 * NUL-terminates `out`; a path longer than `outlen` is cut at a segment boundary.
 */
void http__log_target(const char *target, uint32_t secret, char *out, size_t outlen);
/* "GET, HEAD, POST" for an Allow header, into `out` (at least 64 bytes). */
void http__allow_string(unsigned methods, char *out, size_t outlen);

/* ---- requests and connections ---- */

enum http__target { T_NONE, T_ROUTE, T_STATIC };

struct http_req {
    struct http__conn *c;
    const struct http_route *route;
    enum http__target target;
    unsigned method;
    bool answered;
    bool streaming;
    uint64_t start_us;
    bool https;           /* a trusted proxy says the client came over TLS */
    char client_text[48]; /* the client's address (http_client_resolve), set with the head */
    struct buf path;      /* decoded */
    struct buf scratch;   /* router: split path; param values point here */
    const char *query;    /* raw query string inside the parser's head copy, or NULL */
    struct http__match match;
    struct buf resp_hdrs; /* extra response headers, "Name: value\r\n" each */
    char **owned;         /* strings handed out by http_req_query(), freed with the request */
    size_t nowned;
    /* streaming responses (stream.c) */
    http_stream_close_fn *on_close;
    void *stream_ctx;
    bool raw;                     /* no chunk framing: a WebSocket after its 101 */
    http_stream_data_fn *on_data; /* input of a stream that reads (WebSocket), else closes */
};

enum http__cstate {
    CS_HEAD,    /* reading a request head (or idle between requests) */
    CS_BODY,    /* reading a request body */
    CS_HANDLER, /* the request is with its handler; later input is buffered */
    CS_STREAM,  /* a streaming response is open */
    CS_LINGER,  /* last response sent; draining input until the peer closes */
};

struct http__conn {
    uv_tcp_t tcp;
    struct http_loop *loop;
    struct http__conn *prev, *next;   /* loop->conns */
    struct http__conn *tprev, *tnext; /* loop->timed, while a timeout runs (deadline_ms) */
    struct http__conn *resume_next;   /* loop->resume, when queued */
    struct http_parse parse;
    struct http_req req;
    struct buf in;        /* bytes received after the current request (pipelining) */
    uint64_t deadline_ms; /* uv_now() time of the current timeout, 0 for none (set_timeout) */
    size_t wbytes;        /* bytes queued in uv_write()s */
    unsigned nwrites;
    enum http__cstate state;
    bool got_bytes;   /* some byte of the current request arrived */
    bool served;      /* a request was answered: the next one is a keep-alive follow-up */
    bool keep_alive;  /* may serve another request after this one */
    bool eof;         /* the peer finished sending */
    bool gone;        /* the peer reset the connection or a write failed */
    bool closing;     /* uv_close() called */
    bool closed;      /* the socket is closed; the struct may wait for an answer */
    bool read_paused; /* uv_read_stop() because `in` is full */
    bool in_drive;
    bool resume_queued;
    uint8_t addr[16]; /* peer address, IPv4 mapped into IPv6, for the per-IP cap */
    int file_fd;      /* a file body being sent after its head (http__conn_send_file), or -1 */
    uint64_t file_off, file_end;
};

struct http__post {
    void (*fn)(void *arg);
    void *arg;
    struct http__post *next;
};

struct http__static_cache; /* static.c */

struct http_loop {
    struct http_server *srv;
    unsigned id;
    uv_loop_t uv;
    uv_thread_t thread;
    void *ctx; /* what loop_init returned */

    uv_async_t async; /* posts and the stop request */
    uv_mutex_t post_mu;
    struct http__post *post_head, *post_tail;
    bool post_closed;
    atomic_bool stop_requested;

    int listen_fd;
    uv_poll_t listen_poll;
    uv_timer_t accept_timer; /* resumes accepting after EMFILE/ENFILE */
    uv_timer_t sweep_timer;  /* timeouts */
    uv_timer_t shutdown_timer;
    uv_prepare_t prepare; /* before-sleep pass: resume connections */
    bool accept_paused;
    bool stopping, forced, finished;

    struct http__conn *conns; /* every connection, including ones waiting for an answer */
    /*
     * Those with a timeout running: what the sweep walks. Open streams (most connections of a
     * busy server) have none, so the sweep costs nothing per subscriber.
     */
    struct http__conn *timed;
    size_t nconns;
    size_t nopen; /* connections whose socket is not yet closed */
    struct http__conn *resume;
    char *readbuf; /* one read buffer for every connection of the loop */

    int64_t date_sec;
    char date[64]; /* "Date: ...\r\n" */
    size_t date_len;
    struct buf out; /* response scratch */
    struct http__static_cache *cache;
};

struct http__ip; /* server.c */

struct http_server {
    struct http_opts opts;
    char *listen, *web_root, *frame_ancestors; /* owned copies for opts */
    char address[80];
    struct http__router router;
    char *sec_hdrs; /* pre-rendered security headers, each ending in CRLF */
    size_t sec_len;
    char *root_real; /* realpath of web_root, or NULL */
    size_t root_len;
    char *refusal; /* the pre-rendered 503 for connections over a cap */
    size_t refusal_len;
    struct http_loop **loops;
    unsigned nloops, nthreads;
    bool stopped;

    atomic_uint_fast64_t conns_open, conns_total, refused, accept_paused;
    atomic_uint_fast64_t by_class[6];
    struct histogram latency;

    uv_mutex_t ip_mu;
    struct http__ip **ip_tab;
    struct http_cidr *trusted; /* owned copy of opts.trusted_proxies */
};

/* READ_BUF_SIZE: one libuv read; INPUT_PAUSE: stop reading when this much input waits. */
#define HTTP_READ_BUF_SIZE ((size_t)64 * 1024)
#define HTTP_WRITE_BACKLOG ((size_t)1024 * 1024) /* stop reading requests with this much unsent */
#define HTTP_KEEP_BYTES    4096                  /* buffers kept across keep-alive requests */
#define HTTP_OUT_LIMIT     ((size_t)80 * 1024 * 1024) /* largest response assembled at once */

/* conn.c */
void http__conn_accept(struct http_loop *loop, int fd, const uint8_t addr[16]);
void http__conn_send(struct http__conn *c, const char *p, size_t n);
/*
 * Send bytes [off, off + len) of the open file `fd` (takes ownership) after everything queued,
 * with sendfile(), then finish the request (http__conn_request_done). The request stays with
 * its handler meanwhile, so pipelined requests wait. Never reads the file whole.
 */
void http__conn_send_file(struct http__conn *c, int fd, uint64_t off, uint64_t len);
/* The answer to the current request is queued: close, or get ready for the next one. */
void http__conn_request_done(struct http__conn *c);
void http__conn_close(struct http__conn *c);
/* No more requests on this connection: shut down after the queued writes, then close. */
void http__conn_finish(struct http__conn *c);
void http__conn_sweep(struct http_loop *loop);
void http__conn_resume_all(struct http_loop *loop);
/* Shutdown began: close idle connections, make the others close after their answer. */
void http__conn_stop_idle(struct http_loop *loop);
void http__conn_free(struct http__conn *c);
void http__req_reset(struct http_req *r);

/* server.c */
void http__ip_release(struct http_server *s, const uint8_t addr[16]);
void http__loop_maybe_finish(struct http_loop *loop);

/* response.c */
/*
 * Queue the answer. `clen` is the Content-Length to announce (-1: none, for 204/304 without a
 * representation); the body is sent only when `body` is non-NULL and the request is not HEAD.
 */
void http__respond_ex(struct http_req *r, int status, const char *content_type, const void *body,
                      size_t len, int64_t clen);
/* The error status for a request whose head could not be parsed (no handler involved). */
void http__respond_early(struct http__conn *c, int status, const char *code, const char *message);
const char *http__reason(int status);
/* Build the pre-rendered security header block. Returns 0 or -EINVAL with `err`. */
MUST_CHECK int http__security_headers(struct http_server *s, char *err, size_t errlen);
void http__date_line(struct http_loop *loop);

/* static.c */
void http__static_serve(struct http_req *r);
struct http__static_cache *http__static_cache_new(void);
void http__static_cache_free(struct http__static_cache *c);
/* Content type for a file name by its extension ("application/octet-stream" if unknown). */
const char *http__content_type(const char *name);
/*
 * Map the decoded request path onto a file under `root` (a realpath without trailing slash).
 * Refuses backslashes, hidden files, and anything resolving outside the root (symlinks).
 * On success writes the real path into `out` and its stat into `st`. Returns 0, -ENOENT or
 * -EACCES.
 */
MUST_CHECK int http__static_resolve(const char *root, size_t root_len, const char *path, char *out,
                                    size_t outlen, struct stat *st);

/* stream.c */
/* The connection of a stream closed: run its on_close. */
void http__stream_closed(struct http_req *r);
/*
 * response.c, for stream.c: send the head of a streamed answer; `raw` for a protocol switch
 * (101: no chunked framing, no "Connection: close"; the caller adds Upgrade and Connection).
 */
MUST_CHECK int http__stream_head(struct http_req *r, int status, const char *content_type,
                                 bool raw);
/* stream.c, for conn.c: input arrived on a stream that reads (req->on_data set). */
void http__stream_input(struct http_req *r, const char *p, size_t len);
/* stream.c, for ws.c: start a stream; `raw` for a protocol switch (see http__stream_head). */
MUST_CHECK int http__stream_start(struct http_req *r, int status, const char *content_type,
                                  bool raw, http_stream_close_fn *on_close, void *ctx);
/* stream.c, for ws.c: deliver this stream's input to `fn` instead of closing on it. */
void http__stream_set_reader(struct http_req *r, http_stream_data_fn *fn);

/*
 * ws.c, for the fuzz target: a WebSocket decoder with no connection (what it would send is
 * dropped). feed returns true once the connection would end (close frame, protocol error,
 * oversized message); further input is ignored then.
 */
struct http_ws *http__ws_detached_new(size_t max_msg, const struct http_ws_ops *ops, void *ctx);
bool http__ws_detached_feed(struct http_ws *ws, const char *p, size_t len);
void http__ws_detached_free(struct http_ws *ws);

#endif
