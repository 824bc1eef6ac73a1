/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The HTTP/1.1 server: libuv loops (one per worker thread) sharing the listening port with
 * SO_REUSEPORT, requests parsed with http-parser, limits enforced before any handler runs,
 * static files from the web root, security headers on every response. It knows nothing of
 * channels: the application hands it a route table and handlers.
 *
 * Threads: everything here runs on the worker loop that owns the connection, except
 * http_loop_post() (any thread) and http_server_stop() (any thread, async-signal context not
 * allowed; use it from the main thread after a signal was caught).
 */
#ifndef HTTP_HTTP_H
#define HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/compiler.h"
#include "core/metrics.h"

struct http_server; /* opaque: one per process */
struct http_loop;   /* opaque: one per worker thread */
struct http_req;    /* opaque: one request, owned by its connection */

enum http_method {
    HTTP_M_GET = 1 << 0,
    HTTP_M_HEAD = 1 << 1,
    HTTP_M_POST = 1 << 2,
    HTTP_M_PUT = 1 << 3,
    HTTP_M_PATCH = 1 << 4,
    HTTP_M_DELETE = 1 << 5,
    HTTP_M_OPTIONS = 1 << 6,
    HTTP_M_OTHER = 1 << 7,
};

/*
 * A handler must eventually answer the request exactly once with http_respond*(), either before
 * it returns or later on the same loop (for instance after a store write committed, via
 * http_loop_post()). The request stays valid until then even if the client went away; answering
 * a request whose client left just frees it.
 */
typedef void http_handler_fn(struct http_req *req);

enum http_route_flags {
    HTTP_ROUTE_JSON = 1 << 0, /* a body, if any, must be application/json (else 415) */
};

/*
 * Runs when a request's head is in, before any of its body is read (loop thread). Returns
 * true to go on reading the body, or answers the request itself (http_respond*) and returns
 * false: the body is then never read and the connection closes after the answer. For routes
 * with large bodies, so that a caller without credentials cannot make the server buffer
 * megabytes before being told 401.
 */
typedef bool http_admit_fn(struct http_req *req);

struct http_route {
    unsigned methods; /* enum http_method bits */
    unsigned flags;   /* enum http_route_flags */
    /*
     * "/api/v1/orgs/{slug}": {name} matches one non-empty segment. "{code:secret}" is the
     * parameter `code` that is a bearer capability (an invite code, a media id): the access log
     * prints it as "…", for any method.
     */
    const char *pattern;
    http_handler_fn *handler;
    size_t max_body;      /* 0: the server's default max_body_bytes */
    http_admit_fn *admit; /* NULL: every request within the limits is read whole */
};

/* Per-worker hooks: run on the worker's thread as it starts and stops. */
typedef void *http_loop_init_fn(void *app, struct http_loop *loop);
typedef void http_loop_fini_fn(void *app, void *loop_ctx);

struct http_opts {
    const char *listen;      /* "127.0.0.1:8080", "[::1]:0" */
    unsigned workers;        /* ≥ 1 */
    size_t max_header_bytes; /* request line + headers; past it 431 */
    size_t max_body_bytes;   /* default per-route body cap; past it 413 */
    uint64_t header_timeout_ms;
    uint64_t body_timeout_ms;
    uint64_t idle_timeout_ms;
    uint64_t send_timeout_ms; /* a file body that makes no progress this long is dropped */
    unsigned max_connections;
    unsigned max_connections_per_ip; /* not applied to trusted proxies (they carry many) */
    /*
     * Peers whose X-Forwarded-For (or, with forwarded_rfc7239, Forwarded) header names the
     * client; copied. Nobody else's forwarding headers are read.
     */
    const struct http_cidr *trusted_proxies;
    size_t ntrusted_proxies;
    bool forwarded_rfc7239;
    uint64_t shutdown_timeout_ms;
    const char *web_root;        /* NULL: no static files */
    const char *frame_ancestors; /* CSP frame-ancestors value, e.g. "'none'" */
    unsigned static_max_age_s;
    bool access_log;
    const struct http_route *routes;
    size_t nroutes;
    void *app; /* handed to handlers through http_req_app() */
    http_loop_init_fn *loop_init;
    http_loop_fini_fn *loop_fini;
};

/*
 * Bind the listening sockets and start the worker threads. Returns NULL with one line in `err`
 * (e.g. "listen: cannot bind 127.0.0.1:80: permission denied"). `opts` is copied.
 */
struct http_server *http_server_start(const struct http_opts *opts, char *err, size_t errlen);
struct sockaddr_storage;
/*
 * Parse a `listen` setting ("127.0.0.1:8080", "[::1]:8080", ":8080", "localhost:0") into `ss`.
 * Returns 0, or -EINVAL with one line in `err` (so a command can refuse it before starting).
 */
MUST_CHECK int http_listen_parse(const char *listen, struct sockaddr_storage *ss, char *err,
                                 size_t errlen);
/* The bound address as "127.0.0.1:43121" (useful when the port was 0). */
const char *http_server_address(const struct http_server *s);
/*
 * Graceful stop: stop accepting, let in-flight requests finish for up to shutdown_timeout_ms,
 * close streams and idle connections, join the workers. Blocks until done. Any thread.
 */
void http_server_stop(struct http_server *s);
void http_server_free(struct http_server *s);

struct http_stats {
    uint64_t connections_open;
    uint64_t connections_total;
    uint64_t connections_refused;    /* over max_connections or the per-IP cap */
    uint64_t accept_paused;          /* times accepting paused on EMFILE/ENFILE */
    uint64_t requests_by_class[6];   /* [1]..[5]: 1xx..5xx */
    const struct histogram *latency; /* request latency, handler start to response queued */
};
void http_server_stats(const struct http_server *s, struct http_stats *out);

/*
 * Run `fn(arg)` on `loop`'s thread soon. Callable from any thread. Returns 0, or -ESHUTDOWN when
 * the loop is stopping (then fn is never called).
 */
MUST_CHECK int http_loop_post(struct http_loop *loop, void (*fn)(void *arg), void *arg);

/* ---- requests (loop thread only) ---- */

unsigned http_req_method(const struct http_req *r);         /* one enum http_method bit */
const char *http_req_method_name(const struct http_req *r); /* "GET" */
/* The percent-decoded path, without the query string. */
const char *http_req_path(const struct http_req *r);
/* Route parameter `{name}`, decoded; NULL if the route has none by that name. */
const char *http_req_param(const struct http_req *r, const char *name);
/* First query parameter `name`, decoded ('+' is a space); NULL if absent. */
const char *http_req_query(const struct http_req *r, const char *name);
/* Header value by case-insensitive name; NULL if absent. */
const char *http_req_header(const struct http_req *r, const char *name);
/* The whole body (NUL-terminated, `len` excludes the NUL); "" and 0 when there is none. */
const char *http_req_body(const struct http_req *r, size_t *len);
/*
 * The client's address as text ("192.0.2.1"): the TCP peer, or, when the peer is a trusted
 * proxy, the address its forwarding header gives (http_client_resolve()). For rate limits
 * only, never logged or stored. The string lives until the request ends.
 */
const char *http_req_peer(const struct http_req *r);
/* Whether a trusted proxy says the client came over TLS (X-Forwarded-Proto or proto=). */
bool http_req_https(const struct http_req *r);
/* The address the server listens on, as http_server_address() ("127.0.0.1:43121"). */
const char *http_req_server_address(const struct http_req *r);
struct http_loop *http_req_loop(const struct http_req *r);
void *http_req_app(const struct http_req *r);
void *http_req_loop_ctx(const struct http_req *r); /* what loop_init returned */
/* True once the client has gone away (answering is still required, and cheap). */
bool http_req_abandoned(const struct http_req *r);

/* Add a response header (before responding). Values with CR or LF are dropped. */
void http_resp_header(struct http_req *r, const char *name, const char *value);
/* Answer with `len` bytes of `body` (copied). HEAD requests get the headers only. */
void http_respond(struct http_req *r, int status, const char *content_type, const void *body,
                  size_t len);
/*
 * Answer with bytes [off, off + len) of the open regular file `fd` as the body, Content-Length
 * `len` (takes ownership of `fd`: it is closed once the body is out, or at once for HEAD, a
 * status without a body, or a client that left). The bytes go from the page cache to the
 * socket with sendfile(); a socket that is full gets one 64 KiB chunk read at a time, so the
 * memory a download costs does not depend on the file's size, however slow the client. The
 * caller checked (fstat) that the range lies within the file: a file that shrinks while it is
 * sent ends the connection, as the announced Content-Length can no longer be kept. The request
 * stays with its handler until the body is out, so pipelined requests wait for it.
 */
void http_respond_file(struct http_req *r, int status, const char *content_type, int fd,
                       uint64_t off, uint64_t len);
/*
 * Answer with a JSON error body {"error":{"code","message","field"}}; `field` may be NULL.
 * Always `Cache-Control: no-store`, replacing any Cache-Control the handler had set.
 */
void http_respond_error(struct http_req *r, int status, const char *code, const char *message,
                        const char *field);

/* ---- streaming responses (loop thread only) ---- */

/*
 * A response of unknown length that stays open (SSE now, the same hook serves WebSocket later).
 * `on_close` runs exactly once when the stream ends for any reason: http_stream_end(), the
 * client leaving, a write backlog, or the server shutting down (graceful shutdown ends every
 * stream at once, so long-lived subscribers never hold it up). Once on_close returned, the
 * request is gone.
 */
typedef void http_stream_close_fn(struct http_req *req, void *ctx);
/* Input arriving on a stream that reads (a WebSocket); `p` is borrowed for the call. */
typedef void http_stream_data_fn(struct http_req *req, void *ctx, const char *p, size_t len);
/*
 * Send the head of a streamed answer: chunked on HTTP/1.1, delimited by closing the connection
 * on HTTP/1.0. Returns 0, or -EPIPE if the client is gone or the server is stopping; on error
 * on_close is never called and the request is already finished. A HEAD request gets the head
 * alone and -EPIPE (the request is finished; its connection may serve the next request).
 */
MUST_CHECK int http_stream_start(struct http_req *r, int status, const char *content_type,
                                 http_stream_close_fn *on_close, void *ctx);
/*
 * Queue `len` bytes of the stream (copied). Returns 0, -EPIPE once the stream has ended, or
 * -ENOBUFS when more than HTTP_STREAM_BACKLOG bytes are still unsent: a subscriber that cannot
 * keep up is cut off, and the stream ends (on_close runs before this returns).
 */
#define HTTP_STREAM_BACKLOG ((size_t)256 * 1024)
MUST_CHECK int http_stream_write(struct http_req *r, const void *p, size_t len);
/* End the stream cleanly; on_close runs before this returns. */
void http_stream_end(struct http_req *r);

/*
 * Shared bytes (the fan-out): queue `len` bytes at `p` WITHOUT copying them. When the socket
 * takes them at once (the common case for a live stream) nothing is allocated, copied or
 * counted: neither callback runs, and the bytes need only be valid during the call. Otherwise
 * `sh->hold(arg)` runs before this returns (keep the bytes alive) and `sh->release(arg)` runs
 * exactly once later, when the queued write completes or the connection drops it. The bytes go
 * out as they are: on a chunked stream they must carry their own chunk framing. No backlog
 * check here: the caller applies its own limit with http_stream_unsent(). Returns 0, or -EPIPE
 * once the stream has ended (nothing held).
 */
struct http_shared {
    void (*hold)(void *arg);
    void (*release)(void *arg);
};
MUST_CHECK int http_stream_write_ref(struct http_req *r, const void *p, size_t len,
                                     const struct http_shared *sh, void *arg);

/*
 * One byte range of a `size`-byte body from a Range header (RFC 9110 14.1.2): "bytes=a-b",
 * "bytes=a-" or "bytes=-n". Returns 1 with [*from, *to] set (from <= to < size), 0 to ignore
 * the header (not bytes=, or several ranges: answering the whole body is allowed), or -1 when
 * unsatisfiable (answer 416). Outside input: fuzzed (tests/fuzz/fuzz_range.c).
 */
int http_range_parse(const char *h, uint64_t size, uint64_t *from, uint64_t *to);

/* ---- client addresses behind reverse proxies (addr.c; pure, any thread) ---- */

/* An address range: `addr` with IPv4 mapped into IPv6 (::ffff:a.b.c.d), `bits` over 128. */
struct http_cidr {
    uint8_t addr[16];
    unsigned bits;
};
/* Most ranges in trusted_proxies. */
#define HTTP_TRUSTED_MAX 32
/*
 * Parse a list of addresses and ranges separated by commas or spaces ("127.0.0.1/8, ::1,
 * 10.0.0.0/8") into out[0 .. *n). Returns 0, or -EINVAL / -EMSGSIZE (more than `max`) with one
 * line in `err`.
 */
MUST_CHECK int http_cidr_parse_list(const char *s, struct http_cidr *out, size_t max, size_t *n,
                                    char *err, size_t errlen);
/* Whether `a` (16 bytes, IPv4 mapped) lies in one of the `n` ranges. */
bool http_cidr_match(const struct http_cidr *list, size_t n, const uint8_t a[16]);
/* An IPv4 or IPv6 literal into the mapped 16-byte form; false if it is not one. */
bool http_addr_parse(const char *s, uint8_t out[16]);
/* The text form ("192.0.2.1", "2001:db8::1") of a 16-byte address. */
void http_addr_text(const uint8_t a[16], char *out, size_t outlen);
/* 127.0.0.0/8 or ::1. */
bool http_addr_is_loopback(const uint8_t a[16]);

/* What http_client_resolve() reads: the TCP peer and the request's forwarding headers. */
struct http_fwd_in {
    const uint8_t *peer; /* 16 bytes */
    const struct http_cidr *trusted;
    size_t ntrusted;
    bool rfc7239;           /* read Forwarded (for=, proto=) instead of X-Forwarded-For/-Proto */
    const char *const *fwd; /* every X-Forwarded-For (or Forwarded) line, in arrival order */
    size_t nfwd;
    const char *const *proto; /* every X-Forwarded-Proto line (X-Forwarded-For mode only) */
    size_t nproto;
};
struct http_client {
    uint8_t addr[16]; /* the client: the rightmost address that is not a trusted proxy */
    bool https;       /* a trusted proxy says the client reached it over TLS */
    bool via_proxy;   /* addr came from a forwarding header */
};
/*
 * The client's address: the peer itself unless it is a trusted proxy; then, walking the
 * forwarding header from the right, the first hop that is not a trusted proxy (a hop that does
 * not parse stops the walk at the last good one). Headers from an untrusted peer are ignored
 * entirely, as is X-Forwarded-Proto. Outside input: fuzzed (tests/fuzz/fuzz_addr.c).
 */
void http_client_resolve(const struct http_fwd_in *in, struct http_client *out);

/* One piece of a vectored shared write: bytes and the argument that keeps them alive. */
struct http_ref_buf {
    const void *p;
    size_t len;
    void *arg;
};
/* Most pieces in one http_stream_writev_ref() call. */
#define HTTP_WRITEV_MAX 64
/*
 * http_stream_write_ref() for `n` (1 ... HTTP_WRITEV_MAX) pieces in order, in ONE system call
 * when the socket takes them all (several events due to one subscriber cost one writev and,
 * on the wire, one segment). What the socket does not take is queued piece by piece, each held
 * through `sh` with its own arg as above.
 */
MUST_CHECK int http_stream_writev_ref(struct http_req *r, const struct http_ref_buf *b, size_t n,
                                      const struct http_shared *sh);
/*
 * A long-lived stream keeps nothing of its request: once the handler has read what it needs,
 * this frees the request head, path, query copies and header scratch (an idle subscriber is
 * then the connection alone). Afterwards the request's headers, path and query read as absent.
 */
void http_stream_trim(struct http_req *r);
/* Bytes of this stream queued for the socket but not yet taken by it. */
size_t http_stream_unsent(const struct http_req *r);
/* Whether the stream's body is HTTP/1.1 chunked (else bytes go out as they are). */
bool http_stream_chunked(const struct http_req *r);
/* Whether the server is shutting down (a stream ending now says "going away"). */
bool http_req_server_stopping(const struct http_req *r);
/* uv_now() of the request's loop, in ms: cheap, for timeouts. */
uint64_t http_req_now_ms(const struct http_req *r);

/* ---- WebSocket (RFC 6455, framing by wslay; ws.c; loop thread only) ---- */

struct http_ws; /* opaque: one per WebSocket connection */

struct http_ws_ops {
    /* A complete text message (valid UTF-8, at most max_msg bytes; `p` borrowed). */
    void (*on_text)(struct http_ws *ws, void *ctx, const char *p, size_t len);
    /* The connection ended, for any reason; runs exactly once; `ws` is freed right after. */
    void (*on_close)(struct http_ws *ws, void *ctx);
};

/*
 * Answer the request with the WebSocket handshake (101, Sec-WebSocket-Accept) when it is a
 * valid upgrade: GET, "Upgrade: websocket", "Connection: upgrade", Sec-WebSocket-Version 13
 * and a 16-byte Sec-WebSocket-Key. Client messages over `max_msg` bytes close the connection
 * with 1009; a protocol error closes it with 1002; pings are answered with pongs.
 * Returns the new WebSocket, or NULL after answering 400 (not an upgrade) / 426 (wrong
 * version) / 503 (stopping); then on_close is never called.
 */
struct http_ws *http_ws_accept(struct http_req *r, size_t max_msg, const struct http_ws_ops *ops,
                               void *ctx);
/* Send a text message (copied). Returns 0 or -EPIPE once closing. */
MUST_CHECK int http_ws_send_text(struct http_ws *ws, const char *p, size_t len);
/*
 * Send a frame already encoded by the caller (an unmasked server frame, shared by many
 * connections); as http_stream_write_ref(). Returns 0 or -EPIPE once closing (nothing held).
 */
MUST_CHECK int http_ws_send_frame_ref(struct http_ws *ws, const void *p, size_t len,
                                      const struct http_shared *sh, void *arg);
/* Several such frames in one write, as http_stream_writev_ref(). */
MUST_CHECK int http_ws_send_frames_ref(struct http_ws *ws, const struct http_ref_buf *b, size_t n,
                                       const struct http_shared *sh);
/* Bytes queued for the socket but not yet taken. */
size_t http_ws_unsent(const struct http_ws *ws);
/*
 * Start the closing handshake with `code` (1000 normal, 1001 going away, 1008 policy ...) and a
 * short `reason` (may be NULL; cut at 123 bytes). The connection ends once the close frame is
 * written (on_close runs then, or after the current callback returns). Idempotent.
 */
void http_ws_close(struct http_ws *ws, unsigned code, const char *reason);
/*
 * Whether anything (a pong, any frame) arrived since the last call; clears the flag. A peer
 * that answered none of a ping interval is dead (heartbeats use this to reap).
 */
bool http_ws_heard(struct http_ws *ws);
struct http_req *http_ws_req(struct http_ws *ws);

#endif
