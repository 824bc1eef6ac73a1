/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * WebSocket (RFC 6455) on top of a stream: the opening handshake, then client frames decoded by
 * wslay's event API (masking, fragmentation, UTF-8 checks, ping -> pong, the closing handshake,
 * close codes 1002 / 1007 / 1009 on bad input).
 *
 * Memory: a wslay event context costs about 9 KiB, four times what an idle subscriber may
 * cost in all. So it exists only while a client's frame is being read: it is made when bytes
 * arrive and freed as soon as every byte received belongs to a complete frame, no fragmented
 * message is half-read and nothing is queued to send. An idle WebSocket is this struct alone.
 *
 * What the server sends in bulk (events, pings) is encoded by the caller once for everyone and
 * written as shared bytes (http_ws_send_frame_ref); wslay only writes its own control frames
 * and the rare text answer, always whole, so the two never interleave inside a frame.
 */
#include "http/http_int.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wslay/wslay.h>

#include "core/alloc.h"
#include "core/log.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct http_ws {
    struct http_req *r;
    const struct http_ws_ops *ops;
    void *ctx;
    wslay_event_context_ptr wsl; /* only while a frame is being read (see above) */
    size_t max_msg;
    const char *in; /* the input being fed to wslay */
    size_t in_len;
    uint64_t fed, framed; /* bytes given to wslay; bytes of complete frames among them */
    uint64_t frame_size;  /* the frame being read: head and payload */
    bool fragmented;      /* a data message's final frame has not arrived */
    bool in_recv;         /* inside wslay: closing waits until it returns */
    bool want_end;        /* end the stream once back from wslay */
    bool close_sent;
    bool heard;
    /* frame_check(): the head of the client frame being read, and payload bytes to skip */
    uint8_t head[14];
    uint8_t head_len;
    uint64_t skip;
};

static bool has_token(const char *list, const char *token)
{
    size_t tl = strlen(token);

    /* A comma-separated header value containing `token`, case-insensitively (RFC 9110 5.6.1). */
    while (list && *list) {
        size_t n;

        list += strspn(list, " \t,");
        n = strcspn(list, ",");
        while (n && (list[n - 1] == ' ' || list[n - 1] == '\t'))
            n--;
        if (n == tl && !strncasecmp(list, token, tl))
            return true;
        list += strcspn(list, ",");
    }
    return false;
}

/* Sec-WebSocket-Accept for `key` (RFC 6455 4.2.2): base64(SHA-1(key + GUID)). */
static void accept_value(const char *key, char out[32])
{
    unsigned char md[SHA_DIGEST_LENGTH];
    char cat[128];
    int n = snprintf(cat, sizeof(cat), "%s%s", key, WS_GUID);

    SHA1((const unsigned char *)cat, (size_t)n, md);
    EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
}

/* A key is base64 of 16 bytes: 22 characters and "==". */
static bool key_ok(const char *key)
{
    return key && strlen(key) == 24 && !strcmp(key + 22, "==") &&
           strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") == 22;
}

/* ---- wslay callbacks ---- */

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    struct http_ws *ws = user;
    size_t n = MIN(len, ws->in_len);

    (void)flags;
    if (!n) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    memcpy(buf, ws->in, n);
    ws->in += n;
    ws->in_len -= n;
    ws->fed += n;
    return (ssize_t)n;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    struct http_ws *ws = user;

    (void)ctx;
    (void)flags;
    /* Always take everything (copied): wslay never holds half a frame that ours could split. */
    if (ws->r)
        http__conn_send(ws->r->c, (const char *)data, len);
    return (ssize_t)len;
}

static void frame_start_cb(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_start_arg *a, void *user)
{
    struct http_ws *ws = user;
    uint64_t head = 2 + 4; /* client frames are masked */

    (void)ctx;
    if (a->payload_length >= 126)
        head += a->payload_length > 0xffff ? 8 : 2;
    ws->frame_size = head + a->payload_length;
    if (a->opcode < 0x8) /* data: continuation, text, binary */
        ws->fragmented = !a->fin;
}

static void frame_end_cb(wslay_event_context_ptr ctx, void *user)
{
    struct http_ws *ws = user;

    (void)ctx;
    ws->framed += ws->frame_size;
    ws->frame_size = 0;
}

static void msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a,
                   void *user)
{
    struct http_ws *ws = user;

    (void)ctx;
    ws->heard = true;
    if (a->opcode == WSLAY_TEXT_FRAME && ws->ops->on_text && !ws->close_sent) {
        ws->ops->on_text(ws, ws->ctx, (const char *)a->msg, a->msg_length);
    } else if (a->opcode == WSLAY_BINARY_FRAME && !ws->close_sent) {
        http_ws_close(ws, 1003, "Only text messages are accepted.");
    }
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = recv_cb,
    .send_callback = send_cb,
    .on_frame_recv_start_callback = frame_start_cb,
    .on_frame_recv_end_callback = frame_end_cb,
    .on_msg_recv_callback = msg_cb,
};

static bool wslay_ready(struct http_ws *ws)
{
    if (ws->wsl)
        return true;
    if (wslay_event_context_server_init(&ws->wsl, &callbacks, ws)) {
        ws->wsl = NULL;
        return false;
    }
    wslay_event_config_set_max_recv_msg_length(ws->wsl, ws->max_msg);
    ws->fed = ws->framed = 0;
    ws->fragmented = false;
    return true;
}

/* Free the wslay context when it holds nothing: no partial frame or message, nothing queued. */
static void wslay_idle(struct http_ws *ws)
{
    if (!ws->wsl || ws->fed != ws->framed || ws->fragmented ||
        wslay_event_get_queued_msg_count(ws->wsl) || wslay_event_get_close_sent(ws->wsl) ||
        wslay_event_get_close_received(ws->wsl))
        return;
    wslay_event_context_free(ws->wsl);
    ws->wsl = NULL;
}

/* Write what wslay queued. Returns true when the connection must end now. */
static bool flush(struct http_ws *ws)
{
    if (ws->wsl) {
        if (wslay_event_send(ws->wsl))
            ws->want_end = true;
        if (wslay_event_get_close_sent(ws->wsl))
            ws->close_sent = true;
    }
    if (ws->close_sent)
        ws->want_end = true;
    if (!ws->want_end)
        wslay_idle(ws);
    return ws->want_end;
}

/* Write what wslay queued; end the stream once a close frame is out or on failure. */
static void pump(struct http_ws *ws)
{
    if (flush(ws) && ws->r)
        http_stream_end(ws->r); /* runs on_stream_close: ws is freed */
}

/* A frame head's length so far: 2 until its second byte says more (RFC 6455 section 5.2). */
static size_t head_size(const struct http_ws *ws)
{
    size_t n = 2;

    if (ws->head_len < 2)
        return n;
    if ((ws->head[1] & 0x7f) == 126) {
        n += 2;
    } else if ((ws->head[1] & 0x7f) == 127) {
        n += 8;
    }
    return n + (ws->head[1] & 0x80 ? 4 : 0);
}

/* The payload length of a complete frame head, or UINT64_MAX when it breaks RFC 6455 5.2/5.5. */
static uint64_t head_payload(const struct http_ws *ws)
{
    unsigned opcode = ws->head[0] & 0x0f, len7 = ws->head[1] & 0x7f;
    uint64_t len = len7;

    if ((opcode & 0x8) && (len7 > 125 || !(ws->head[0] & 0x80)))
        return UINT64_MAX; /* a control frame is never fragmented and carries at most 125 */
    if (len7 >= 126) {
        len = 0;
        for (size_t i = 0; i < (len7 == 126 ? 2u : 8u); i++)
            len = len << 8 | ws->head[2 + i];
        /* The shortest form, and the most significant bit clear. */
        if (len < (len7 == 126 ? 126u : 65536u) || len >> 63)
            return UINT64_MAX;
    }
    return len;
}

/*
 * Walk the frame heads in the input ahead of wslay. On a frame head wslay would refuse as a
 * bare protocol error (a fragmented or over-long control frame, a length with bit 63 set or not
 * in its shortest form), it closes without a status code, or, for bit 63, without a word: we
 * answer 1002 instead. Returns how many bytes of `p` come before the bad head (all of them when
 * there is none) and sets *bad.
 */
static size_t frame_check(struct http_ws *ws, const char *p, size_t len, bool *bad)
{
    size_t i = 0, start = 0;

    *bad = false;
    while (i < len) {
        uint64_t n;

        if (ws->skip) {
            n = MIN(ws->skip, (uint64_t)(len - i));
            i += (size_t)n;
            ws->skip -= n;
            continue;
        }
        if (!ws->head_len)
            start = i;
        ws->head[ws->head_len++] = (uint8_t)p[i++];
        if (ws->head_len < head_size(ws))
            continue;
        n = head_payload(ws);
        ws->head_len = 0;
        if (n == UINT64_MAX) {
            *bad = true;
            return start;
        }
        ws->skip = n;
    }
    return len;
}

/* Queue a close frame with `code` ourselves, without ending the stream yet (feed's caller does). */
static void send_close(struct http_ws *ws, unsigned code, const char *reason)
{
    unsigned char f[2 + 2 + 123];
    size_t rl = reason ? MIN(strlen(reason), 123) : 0;

    if (ws->close_sent)
        return;
    ws->close_sent = true;
    if (!ws->r)
        return; /* detached (fuzzing): nothing to write to */
    f[0] = 0x88;
    f[1] = (unsigned char)(2 + rl);
    f[2] = (unsigned char)(code >> 8);
    f[3] = (unsigned char)code;
    if (rl) {
        // NOLINTNEXTLINE(bugprone-not-null-terminated-result): frame bytes, sent by length
        memcpy(f + 4, reason, rl);
    }
    http__conn_send(ws->r->c, (const char *)f, 4 + rl);
}

/* Decode `len` received bytes (frames, pings, closes). Returns true when ending. */
static bool feed(struct http_ws *ws, const char *p, size_t len)
{
    bool bad;
    size_t ok = frame_check(ws, p, len, &bad);
    int rc = 0;

    ws->heard = true;
    if (!wslay_ready(ws)) {
        ws->want_end = true;
        return flush(ws);
    }
    if (ok) {
        ws->in = p;
        ws->in_len = ok;
        ws->in_recv = true;
        rc = wslay_event_recv(ws->wsl);
        ws->in_recv = false;
        ws->in = NULL;
        ws->in_len = 0;
    }
    if (rc)
        ws->want_end = true;
    if (bad && !rc && !wslay_event_get_close_sent(ws->wsl) &&
        !wslay_event_get_queued_msg_count(ws->wsl)) {
        send_close(ws, 1002, "Invalid frame header.");
        ws->want_end = true;
    }
    return flush(ws);
}

static void on_input(struct http_req *r, void *ctx, const char *p, size_t len)
{
    if (feed(ctx, p, len))
        http_stream_end(r); /* runs on_stream_close: ws is freed */
}

static void on_stream_close(struct http_req *r, void *ctx)
{
    struct http_ws *ws = ctx;
    struct http__conn *c = r->c;

    /* Ended by us or by shutdown without a close frame yet: say why while we still can. */
    if (!ws->close_sent && !c->closing && !c->gone) {
        unsigned code = c->loop->stopping ? 1001 : 1000;
        unsigned char f[4] = { 0x88, 2, (unsigned char)(code >> 8), (unsigned char)code };

        http__conn_send(c, (const char *)f, sizeof(f));
    }
    if (ws->ops->on_close)
        ws->ops->on_close(ws, ws->ctx);
    if (ws->wsl)
        wslay_event_context_free(ws->wsl);
    free(ws);
}

/* ---- public ---- */

struct http_ws *http_ws_accept(struct http_req *r, size_t max_msg, const struct http_ws_ops *ops,
                               void *ctx)
{
    const char *up = http_req_header(r, "upgrade");
    const char *conn = http_req_header(r, "connection");
    const char *ver = http_req_header(r, "sec-websocket-version");
    const char *key = http_req_header(r, "sec-websocket-key");
    struct http_ws *ws;
    char acc[32];

    /* A refused upgrade ends the connection: the client is not speaking plain HTTP after it. */
    r->c->keep_alive = false;
    if (http_req_method(r) != HTTP_M_GET || !has_token(up, "websocket") ||
        !has_token(conn, "upgrade") || r->c->parse.http_minor < 1) {
        http_resp_header(r, "Upgrade", "websocket");
        http_respond_error(r, 426, "upgrade_required",
                           "This address speaks WebSocket only: connect with a WebSocket "
                           "client (GET with 'Upgrade: websocket').",
                           NULL);
        return NULL;
    }
    if (!ver || strcmp(ver, "13") != 0) {
        http_resp_header(r, "Sec-WebSocket-Version", "13");
        http_respond_error(r, 426, "upgrade_required",
                           "Only WebSocket version 13 (RFC 6455) is supported; update the "
                           "client.",
                           NULL);
        return NULL;
    }
    if (!key_ok(key)) {
        http_respond_error(r, 400, "bad_websocket_key",
                           "Sec-WebSocket-Key must be 16 random bytes in base64.", NULL);
        return NULL;
    }
    accept_value(key, acc);
    http_resp_header(r, "Upgrade", "websocket");
    http_resp_header(r, "Connection", "Upgrade");
    http_resp_header(r, "Sec-WebSocket-Accept", acc);
    ws = xcalloc(1, sizeof(*ws));
    ws->r = r;
    ws->ops = ops;
    ws->ctx = ctx;
    ws->max_msg = max_msg;
    ws->heard = true;
    if (http__stream_start(r, 101, NULL, true, on_stream_close, ws)) {
        free(ws);
        return NULL;
    }
    http__stream_set_reader(r, on_input);
    return ws;
}

int http_ws_send_text(struct http_ws *ws, const char *p, size_t len)
{
    unsigned char h[10];
    size_t hn;

    if (ws->close_sent || !ws->r->streaming || ws->r->c->closing)
        return -EPIPE;
    h[0] = 0x81;
    if (len < 126) {
        h[1] = (unsigned char)len;
        hn = 2;
    } else if (len <= 0xffff) {
        h[1] = 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
        hn = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
        hn = 10;
    }
    http__conn_send(ws->r->c, (const char *)h, hn);
    http__conn_send(ws->r->c, p, len);
    return ws->r->c->closing ? -EPIPE : 0;
}

int http_ws_send_frame_ref(struct http_ws *ws, const void *p, size_t len,
                           const struct http_shared *sh, void *arg)
{
    if (ws->close_sent)
        return -EPIPE;
    return http_stream_write_ref(ws->r, p, len, sh, arg);
}

int http_ws_send_frames_ref(struct http_ws *ws, const struct http_ref_buf *b, size_t n,
                            const struct http_shared *sh)
{
    if (ws->close_sent)
        return -EPIPE;
    return http_stream_writev_ref(ws->r, b, n, sh);
}

size_t http_ws_unsent(const struct http_ws *ws)
{
    return http_stream_unsent(ws->r);
}

void http_ws_close(struct http_ws *ws, unsigned code, const char *reason)
{
    if (ws->close_sent || ws->want_end)
        return;
    send_close(ws, code, reason);
    if (!ws->r)
        return;
    if (!ws->in_recv)
        pump(ws); /* ends the stream (and frees ws) now */
}

bool http_ws_heard(struct http_ws *ws)
{
    bool h = ws->heard;

    ws->heard = false;
    return h;
}

struct http_req *http_ws_req(struct http_ws *ws)
{
    return ws->r;
}

/* ---- detached decoding, for the fuzz target (http_int.h) ---- */

struct http_ws *http__ws_detached_new(size_t max_msg, const struct http_ws_ops *ops, void *ctx)
{
    struct http_ws *ws = xcalloc(1, sizeof(*ws));

    ws->ops = ops;
    ws->ctx = ctx;
    ws->max_msg = max_msg;
    return ws;
}

bool http__ws_detached_feed(struct http_ws *ws, const char *p, size_t len)
{
    return ws->want_end || feed(ws, p, len);
}

void http__ws_detached_free(struct http_ws *ws)
{
    if (!ws)
        return;
    if (ws->wsl)
        wslay_event_context_free(ws->wsl);
    free(ws);
}
