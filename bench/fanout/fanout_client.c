/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Fan-out load client: opens N SSE or WebSocket subscribers on one channel from several
 * processes (each bound to its own 127.0.0.x source address, so 19,000 connections never run
 * out of ephemeral ports), publishes posts that carry their publish time, and measures
 * publish-to-receipt latency, the time until the last subscriber had each post, deliveries per
 * second, the server's CPU time per delivery and its RSS per subscriber.
 *
 * It speaks to araldo (GET /api/v1/stream?channels=H, GET /api/v1/ws plus a subscribe message,
 * POST /api/v1/channels/H/posts) and to nginx + Nchan (eventsource / websocket subscriber, a
 * publisher location) with the same code: only the URLs, the WebSocket subscribe message and
 * the publish body differ. With --sub-ports the subscribers are spread over several servers
 * (child process i subscribes on the i-th port, round robin) while posts go to --port: the
 * nodes of one cluster (bench/cluster). A message counts when it carries "bench t=<µs> n=<k> ";
 * anything else (heartbeats, other events) is ignored. It is also a correctness test: the exit
 * status is 1 when any subscriber missed any post or could not subscribe.
 *
 * Not part of araldo: a standalone program built with gcc -O2 by bench/fanout/run.sh.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS     16
#define MAX_POSTS     64 /* warm-up + paced + burst: one bit each in a uint64_t */
#define HEAD_MAX      8192
#define PEND_MAX      (256 * 1024)
#define CONNECT_BURST 256 /* handshakes in flight per process: stays under the listen backlog */
#define MARKER        "bench t="

enum target { T_ARALDO, T_NCHAN };
enum proto { P_SSE, P_WS };
enum cstate { C_IDLE, C_CONNECTING, C_HEAD, C_OPEN, C_DEAD };
enum chunk_state { CK_SIZE, CK_EXT, CK_DATA, CK_CR, CK_LF, CK_END };

struct opts {
    enum target target;
    enum proto proto;
    const char *host;
    int port;
    const char *sub_path;
    const char *pub_path;
    const char *token;
    const char *channel;
    unsigned n;
    unsigned procs;
    unsigned src_base;
    unsigned paced;
    unsigned interval_ms;
    unsigned burst;
    unsigned payload;
    const char *alert_zone; /* araldo: publish civil-protection alerts in this zone, not posts */
    unsigned timeout_s;
    const char *label;
    pid_t server_pids[16];
    unsigned nserver_pids;
    int sub_ports[MAX_PROCS]; /* --sub-ports: child i subscribes on sub_ports[i % n] */
    unsigned nsub_ports;
};

/* One subscriber. Members are kept small: 19,000 of them live in one process. */
struct conn {
    int fd;
    uint8_t state;
    uint8_t chunked;
    uint8_t ck_state;
    uint32_t ck_left;
    uint64_t seen; /* bit k: post k received */
    char *pend;    /* bytes of an incomplete head, SSE event or WebSocket frame */
    uint32_t plen;
};

/* Small messages from a child to the parent, each one write() below PIPE_BUF. */
struct msg {
    char kind; /* 'R' all subscribed, 'W' warm-up seen by all, 'D' every post seen, 'E' results */
    uint32_t child;
    uint32_t a, b;
};

struct result {
    uint32_t conns;
    uint32_t subscribed;
    uint32_t failed;
    uint32_t dropped;
    uint32_t dups;
    uint32_t k;
};

struct child {
    const struct opts *o;
    unsigned idx;
    unsigned nconns;
    uint32_t k; /* posts expected: 1 warm-up + paced + burst */
    struct conn *c;
    uint32_t *lat; /* nconns × k, latency in µs + 1; 0 = not received */
    int ep;
    int ctl;
    int out;
    unsigned next;     /* next connection to open */
    unsigned inflight; /* connecting or waiting for the response head */
    unsigned open;     /* subscribed and alive */
    unsigned failed;   /* never subscribed */
    unsigned dropped;  /* closed after subscribing */
    unsigned warm;     /* alive subscribers that saw post 0 */
    unsigned full;     /* subscribers that saw every post */
    unsigned dups;
    struct sockaddr_in src, dst;
    char req[1024];
    size_t reqlen;
    char wsub[256];
    size_t wsublen;
};

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what)
{
    fprintf(stderr, "fanout_client: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p) {
        fprintf(stderr, "fanout_client: out of memory\n");
        exit(2);
    }
    return p;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *b = p;

    while (n) {
        ssize_t w = write(fd, b, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n)
{
    char *b = p;

    while (n) {
        ssize_t r = read(fd, b, n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

static void send_msg(struct child *ch, char kind, uint32_t a, uint32_t b)
{
    struct msg m = { kind, ch->idx, a, b };

    if (write_all(ch->out, &m, sizeof(m)))
        _exit(3);
}

/* ---- per-connection parsing ------------------------------------------------------------ */

static void conn_close(struct child *ch, struct conn *c)
{
    if (c->fd >= 0) {
        /* An abortive close (RST) leaves no TIME_WAIT behind on either side between runs. */
        struct linger l = { 1, 0 };

        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        close(c->fd);
        c->fd = -1;
    }
    free(c->pend);
    c->pend = NULL;
    c->plen = 0;
    if (c->state == C_OPEN) {
        ch->open--;
        ch->dropped++;
        if (c->seen & 1)
            ch->warm--;
    } else if (c->state != C_DEAD) {
        ch->failed++;
        if (c->state == C_CONNECTING || c->state == C_HEAD)
            ch->inflight--;
    }
    c->state = C_DEAD;
}

/* A message (SSE event or WebSocket frame payload): record the first marker it carries. */
static void on_message(struct child *ch, struct conn *c, const char *p, size_t n, int64_t t)
{
    const char *m = memmem(p, n, MARKER, sizeof(MARKER) - 1);
    const char *end = p + n;
    uint64_t pub = 0;
    uint64_t k = 0;
    uint64_t full = ch->k == 64 ? UINT64_MAX : (((uint64_t)1 << ch->k) - 1);
    size_t i = (size_t)(c - ch->c);

    if (!m)
        return;
    for (m += sizeof(MARKER) - 1; m < end && *m >= '0' && *m <= '9'; m++)
        pub = pub * 10 + (uint64_t)(*m - '0');
    if (end - m < 4 || memcmp(m, " n=", 3))
        return;
    for (m += 3; m < end && *m >= '0' && *m <= '9'; m++)
        k = k * 10 + (uint64_t)(*m - '0');
    if (k >= ch->k)
        return;
    if (c->seen & ((uint64_t)1 << k)) {
        ch->dups++;
        return;
    }
    c->seen |= (uint64_t)1 << k;
    ch->lat[i * ch->k + k] = (uint32_t)((t > (int64_t)pub ? (uint64_t)t - pub : 0) + 1);
    if (k == 0)
        ch->warm++;
    if (c->seen == full)
        ch->full++;
}

/* SSE (text/event-stream): events end with a blank line; returns the bytes consumed. */
static size_t sse_feed(struct child *ch, struct conn *c, const char *p, size_t n, int64_t t)
{
    size_t done = 0;

    for (;;) {
        const char *e = memmem(p + done, n - done, "\n\n", 2);

        if (!e)
            break;
        on_message(ch, c, p + done, (size_t)(e - (p + done)), t);
        done = (size_t)(e - p) + 2;
    }
    return done;
}

static void ws_send(struct conn *c, unsigned opcode, const char *p, size_t n)
{
    unsigned char f[14 + 256];
    static const unsigned char mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
    size_t h = 0;

    if (n > 256)
        return;
    f[h++] = (unsigned char)(0x80 | opcode);
    if (n < 126) {
        f[h++] = (unsigned char)(0x80 | n);
    } else {
        f[h++] = 0x80 | 126;
        f[h++] = (unsigned char)(n >> 8);
        f[h++] = (unsigned char)n;
    }
    memcpy(f + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < n; i++)
        f[h + i] = (unsigned char)p[i] ^ mask[i & 3];
    /*
     * Tiny frames on a connection whose send buffer is empty: a short write only happens to a
     * dead peer, which the next read reports.
     */
    (void)!write(c->fd, f, h + n);
}

/* WebSocket (RFC 6455 §5.2) server frames: unmasked, FIN/opcode/length. Returns bytes used. */
static size_t ws_feed(struct child *ch, struct conn *c, const char *p, size_t n, int64_t t,
                      bool *closed)
{
    size_t done = 0;

    while (n - done >= 2) {
        const unsigned char *u = (const unsigned char *)p + done;
        unsigned op = u[0] & 0x0f;
        bool masked = u[1] & 0x80;
        uint64_t len = u[1] & 0x7f;
        size_t h = 2;

        if (len == 126) {
            if (n - done < 4)
                break;
            len = ((uint64_t)u[2] << 8) | u[3];
            h = 4;
        } else if (len == 127) {
            if (n - done < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = (len << 8) | u[2 + i];
            h = 10;
        }
        if (masked)
            h += 4;
        if (len > PEND_MAX) {
            *closed = true;
            return done;
        }
        if (n - done < h + len)
            break;
        if (op == 0x8) {
            *closed = true;
            return done;
        }
        if (op == 0x9)
            ws_send(c, 0xA, (const char *)u + h, (size_t)len);
        else if (op <= 0x2)
            on_message(ch, c, (const char *)u + h, (size_t)len, t);
        done += h + (size_t)len;
    }
    return done;
}

/*
 * Chunked transfer coding (RFC 9112 §7.1), decoded in place: the output never outgrows the
 * input. Returns the decoded length, or -1 on a malformed or finished body.
 */
static ssize_t dechunk(struct conn *c, char *p, size_t n)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        char x = p[i];

        switch (c->ck_state) {
        case CK_SIZE:
            if (x >= '0' && x <= '9')
                c->ck_left = c->ck_left * 16 + (uint32_t)(x - '0');
            else if ((x | 0x20) >= 'a' && (x | 0x20) <= 'f')
                c->ck_left = c->ck_left * 16 + (uint32_t)((x | 0x20) - 'a' + 10);
            else if (x == ';' || x == '\r')
                c->ck_state = CK_EXT;
            else if (x == '\n')
                c->ck_state = c->ck_left ? CK_DATA : CK_END;
            else
                return -1;
            if (c->ck_left > PEND_MAX)
                return -1;
            break;
        case CK_EXT:
            if (x == '\n')
                c->ck_state = c->ck_left ? CK_DATA : CK_END;
            break;
        case CK_DATA: {
            size_t take = n - i < c->ck_left ? n - i : c->ck_left;

            memmove(p + o, p + i, take);
            o += take;
            c->ck_left -= (uint32_t)take;
            i += take - 1;
            if (!c->ck_left)
                c->ck_state = CK_CR;
            break;
        }
        case CK_CR:
            c->ck_state = x == '\r' ? CK_LF : CK_SIZE;
            if (x == '\n')
                c->ck_state = CK_SIZE;
            break;
        case CK_LF:
            if (x != '\n')
                return -1;
            c->ck_state = CK_SIZE;
            break;
        default:
            return -1;
        }
    }
    return c->ck_state == CK_END ? -1 : (ssize_t)o;
}

static bool pend_append(struct conn *c, const char *p, size_t n)
{
    char *q;

    if (c->plen + n > PEND_MAX)
        return false;
    q = realloc(c->pend, c->plen + n);
    if (!q && c->plen + n)
        return false;
    c->pend = q;
    memcpy(c->pend + c->plen, p, n);
    c->plen += (uint32_t)n;
    return true;
}

/* Bytes of the stream body (after the head and the chunked coding). False: close it. */
static bool body_feed(struct child *ch, struct conn *c, char *p, size_t n, int64_t t)
{
    bool closed = false;
    size_t used;
    char *buf = p;
    size_t len = n;

    if (c->plen) {
        if (!pend_append(c, p, n))
            return false;
        buf = c->pend;
        len = c->plen;
    }
    if (ch->o->proto == P_SSE)
        used = sse_feed(ch, c, buf, len, t);
    else
        used = ws_feed(ch, c, buf, len, t, &closed);
    if (closed)
        return false;
    if (buf == c->pend) {
        memmove(c->pend, c->pend + used, len - used);
        c->plen = (uint32_t)(len - used);
        if (!c->plen) {
            free(c->pend);
            c->pend = NULL;
        }
        return true;
    }
    return used == len || pend_append(c, buf + used, len - used);
}

static bool head_has(const char *h, size_t n, const char *name, const char *value)
{
    size_t nl = strlen(name);
    size_t vl = strlen(value);

    for (const char *l = h; l && l < h + n;) {
        const char *e = memmem(l, (size_t)(h + n - l), "\r\n", 2);
        size_t ll = e ? (size_t)(e - l) : (size_t)(h + n - l);

        if (ll > nl + 1 && !strncasecmp(l, name, nl) && l[nl] == ':') {
            for (size_t i = nl + 1; i + vl <= ll; i++) {
                if (!strncasecmp(l + i, value, vl))
                    return true;
            }
        }
        l = e ? e + 2 : NULL;
    }
    return false;
}

/* The response head: 200 for SSE, 101 for WebSocket; then the subscriber is live. */
static bool head_feed(struct child *ch, struct conn *c, char *p, size_t n, int64_t t)
{
    const char *e;
    size_t hl;
    int status;
    char *rest;
    size_t restn;

    if (!pend_append(c, p, n))
        return false;
    e = memmem(c->pend, c->plen, "\r\n\r\n", 4);
    if (!e)
        return c->plen < HEAD_MAX;
    hl = (size_t)(e - c->pend) + 4;
    if (c->plen < 12 || memcmp(c->pend, "HTTP/1.", 7))
        return false;
    status = (c->pend[9] - '0') * 100 + (c->pend[10] - '0') * 10 + (c->pend[11] - '0');
    if (status != (ch->o->proto == P_SSE ? 200 : 101)) {
        fprintf(stderr, "fanout_client: subscribe answered %.*s\n",
                (int)(memchr(c->pend, '\r', c->plen)
                          ? (char *)memchr(c->pend, '\r', c->plen) - c->pend
                          : 12),
                c->pend);
        return false;
    }
    c->chunked = ch->o->proto == P_SSE && head_has(c->pend, hl, "transfer-encoding", "chunked");
    c->state = C_OPEN;
    ch->inflight--;
    ch->open++;
    if (ch->o->proto == P_WS && ch->wsublen)
        ws_send(c, 0x1, ch->wsub, ch->wsublen);
    restn = c->plen - hl;
    rest = xmalloc(restn);
    memcpy(rest, c->pend + hl, restn);
    free(c->pend);
    c->pend = NULL;
    c->plen = 0;
    if (restn) {
        ssize_t d = c->chunked ? dechunk(c, rest, restn) : (ssize_t)restn;
        bool ok = d >= 0 && body_feed(ch, c, rest, (size_t)d, t);

        free(rest);
        return ok;
    }
    free(rest);
    return true;
}

static void conn_readable(struct child *ch, struct conn *c, char *buf, size_t cap)
{
    for (;;) {
        ssize_t r = read(c->fd, buf, cap);
        int64_t t;
        bool ok;

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            return;
        if (r <= 0) {
            conn_close(ch, c);
            return;
        }
        t = now_us();
        if (c->state == C_HEAD) {
            ok = head_feed(ch, c, buf, (size_t)r, t);
        } else {
            ssize_t d = c->chunked ? dechunk(c, buf, (size_t)r) : r;

            ok = d >= 0 && body_feed(ch, c, buf, (size_t)d, t);
        }
        if (!ok) {
            conn_close(ch, c);
            return;
        }
        if ((size_t)r < cap)
            return;
    }
}

static void conn_writable(struct child *ch, struct conn *c)
{
    int err = 0;
    socklen_t el = sizeof(err);
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)(c - ch->c) };

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) || err ||
        write(c->fd, ch->req, ch->reqlen) != (ssize_t)ch->reqlen) {
        conn_close(ch, c);
        return;
    }
    c->state = C_HEAD;
    epoll_ctl(ch->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_open(struct child *ch, struct conn *c)
{
    int one = 1;
    struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.u32 = (uint32_t)(c - ch->c) };

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ch->inflight++;
    c->state = C_CONNECTING;
    if (c->fd < 0) {
        conn_close(ch, c);
        return;
    }
    /* The port is chosen at connect() for the whole 4-tuple, not reserved at bind(). */
    setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    if (bind(c->fd, (struct sockaddr *)&ch->src, sizeof(ch->src)) ||
        (connect(c->fd, (struct sockaddr *)&ch->dst, sizeof(ch->dst)) && errno != EINPROGRESS) ||
        epoll_ctl(ch->ep, EPOLL_CTL_ADD, c->fd, &ev)) {
        conn_close(ch, c);
    }
}

/* ---- one child process ----------------------------------------------------------------- */

static void child_requests(struct child *ch)
{
    const struct opts *o = ch->o;
    int n;

    if (o->proto == P_SSE)
        n = snprintf(ch->req, sizeof(ch->req),
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n"
                     "Cache-Control: no-cache\r\n\r\n",
                     o->sub_path, o->host, o->port);
    else
        n = snprintf(ch->req, sizeof(ch->req),
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\nOrigin: http://%s:%d\r\n\r\n",
                     o->sub_path, o->host, o->port, o->host, o->port);
    if (n < 0 || (size_t)n >= sizeof(ch->req)) {
        fprintf(stderr, "fanout_client: subscribe path too long\n");
        exit(2);
    }
    ch->reqlen = (size_t)n;
    ch->wsublen = 0;
    if (o->proto == P_WS && o->target == T_ARALDO) {
        n = snprintf(ch->wsub, sizeof(ch->wsub), "{\"type\":\"subscribe\",\"channels\":[\"%s\"]}",
                     o->channel);
        if (n < 0 || (size_t)n >= sizeof(ch->wsub)) {
            fprintf(stderr, "fanout_client: channel name too long\n");
            exit(2);
        }
        ch->wsublen = (size_t)n;
    }
}

static void child_run(struct child *ch)
{
    static char buf[64 * 1024];
    struct epoll_event evs[512];
    struct epoll_event cev = { .events = EPOLLIN, .data.u32 = UINT32_MAX };
    bool sent_r = false, sent_w = false, sent_d = false, quit = false;
    struct result res;

    ch->ep = epoll_create1(EPOLL_CLOEXEC);
    if (ch->ep < 0 || epoll_ctl(ch->ep, EPOLL_CTL_ADD, ch->ctl, &cev))
        die("epoll");
    child_requests(ch);
    while (!quit) {
        int ne;

        while (ch->next < ch->nconns && ch->inflight < CONNECT_BURST)
            conn_open(ch, &ch->c[ch->next++]);
        ne = epoll_wait(ch->ep, evs, 512, 50);
        for (int i = 0; i < ne; i++) {
            uint32_t id = evs[i].data.u32;
            struct conn *c;

            if (id == UINT32_MAX) {
                char q;

                if (read(ch->ctl, &q, 1) != 1 || q == 'q')
                    quit = true;
                continue;
            }
            c = &ch->c[id];
            if (c->state == C_DEAD)
                continue;
            if (c->state == C_CONNECTING) {
                if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                    conn_writable(ch, c);
                continue;
            }
            conn_readable(ch, c, buf, sizeof(buf));
        }
        if (!sent_r && ch->next == ch->nconns && !ch->inflight) {
            send_msg(ch, 'R', ch->open, ch->failed);
            sent_r = true;
        }
        if (sent_r && !sent_w && ch->warm == ch->open) {
            send_msg(ch, 'W', ch->warm, 0);
            sent_w = true;
        }
        if (sent_w && !sent_d && ch->full + ch->dropped + ch->failed == ch->nconns) {
            send_msg(ch, 'D', ch->full, 0);
            sent_d = true;
        }
    }
    res = (struct result){ ch->nconns, ch->nconns - ch->failed, ch->failed, ch->dropped, ch->dups,
                           ch->k };
    send_msg(ch, 'E', 0, 0);
    if (write_all(ch->out, &res, sizeof(res)) ||
        write_all(ch->out, ch->lat, (size_t)ch->nconns * ch->k * sizeof(uint32_t)))
        _exit(3);
    for (unsigned i = 0; i < ch->nconns; i++)
        conn_close(ch, &ch->c[i]);
    _exit(0);
}

/* ---- the parent: publisher and statistics ---------------------------------------------- */

struct sstat {
    uint64_t ticks;
    uint64_t rss_kb;
};

static struct sstat server_stat(const struct opts *o)
{
    struct sstat s = { 0, 0 };
    char path[64], line[4096];

    for (unsigned i = 0; i < o->nserver_pids; i++) {
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)o->server_pids[i]);
        f = fopen(path, "r");
        if (f) {
            if (fgets(line, sizeof(line), f)) {
                /* Fields after the command name (which may hold spaces): 14 utime, 15 stime. */
                char *p = strrchr(line, ')');
                unsigned long long ut = 0, st = 0;

                if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                                &st) == 2)
                    s.ticks += ut + st;
            }
            fclose(f);
        }
        snprintf(path, sizeof(path), "/proc/%d/status", (int)o->server_pids[i]);
        f = fopen(path, "r");
        if (f) {
            while (fgets(line, sizeof(line), f)) {
                unsigned long long kb;

                if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
                    s.rss_kb += kb;
            }
            fclose(f);
        }
    }
    return s;
}

/*
 * One post through the publisher API on a fresh connection (Connection: close); the body
 * carries the publish time taken just before the request is written. Returns 0 on a 2xx.
 */
static int publish(const struct opts *o, unsigned k, int64_t *t_out)
{
    char text[4096], body[4400], req[5200], resp[4096];
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o->port) };
    struct timeval tv = { 10, 0 };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int64_t t;
    int n, bl, rc = -1;
    size_t got = 0;
    static const char filler[] =
        "Avviso del Comune: per lavori urgenti sulla rete idrica la via Roma resta chiusa al "
        "traffico dalle 8 alle 18; i residenti possono accedere dal lato di piazza Garibaldi. "
        "Grazie per la collaborazione e la pazienza. ";

    inet_pton(AF_INET, o->host, &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
        goto out;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    t = now_us();
    n = snprintf(text, sizeof(text), "bench t=%" PRId64 " n=%u ", t, k);
    for (size_t i = 0; n < (int)o->payload && n < (int)sizeof(text) - 1; i++)
        text[n++] = filler[i % (sizeof(filler) - 1)];
    text[n] = '\0';
    if (o->target == T_ARALDO && o->alert_zone) {
        /* An alert: the marker leads the headline (at most 160 characters), the text follows
         * as the description, so the event is about as big as the post's. */
        char exp[32];
        time_t e = time(NULL) + 86400;
        struct tm tm;

        gmtime_r(&e, &tm);
        strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", &tm);
        bl = snprintf(body, sizeof(body),
                      "{\"zones\":[\"%s\"],\"risk\":\"idraulico\",\"level\":\"arancione\","
                      "\"expires\":\"%s\",\"info\":[{\"language\":\"it\",\"headline\":"
                      "\"%.*s\",\"description\":\"%s\"}]}",
                      o->alert_zone, exp, 60, text, text);
    } else if (o->target == T_ARALDO) {
        bl = snprintf(body, sizeof(body), "{\"text\":\"%s\"}", text);
    } else
        bl = snprintf(body, sizeof(body), "%s", text);
    n = snprintf(req, sizeof(req),
                 "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
                 "%s%s%sConnection: close\r\n\r\n%s",
                 o->pub_path, o->host, o->port,
                 o->target == T_ARALDO ? "application/json" : "text/plain", bl,
                 o->token ? "Authorization: Bearer " : "", o->token ? o->token : "",
                 o->token ? "\r\n" : "", body);
    if (n < 0 || (size_t)n >= sizeof(req) || write_all(fd, req, (size_t)n))
        goto out;
    *t_out = t;
    while (got < sizeof(resp) - 1) {
        ssize_t r = read(fd, resp + got, sizeof(resp) - 1 - got);

        if (r <= 0)
            break;
        got += (size_t)r;
    }
    resp[got] = '\0';
    if (got >= 12 && !memcmp(resp, "HTTP/1.", 7) && resp[9] == '2')
        rc = 0;
    else
        fprintf(stderr, "fanout_client: publish %u answered: %.200s\n", k, resp);
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

/* Waits for one message of `kind` from every child; false on timeout or a dead child. */
static bool wait_all(int *fds, unsigned nf, char kind, struct msg *got, int timeout_ms)
{
    int64_t end = mono_us() + (int64_t)timeout_ms * 1000;
    bool have[MAX_PROCS] = { false };
    unsigned left = nf;

    while (left) {
        struct pollfd p[MAX_PROCS];
        int64_t rem = (end - mono_us()) / 1000;

        if (rem <= 0)
            return false;
        for (unsigned i = 0; i < nf; i++)
            p[i] = (struct pollfd){ .fd = have[i] ? -1 : fds[i], .events = POLLIN };
        if (poll(p, nf, (int)rem) < 0 && errno != EINTR)
            return false;
        for (unsigned i = 0; i < nf; i++) {
            struct msg m;

            if (!(p[i].revents & (POLLIN | POLLHUP)))
                continue;
            if (read_all(fds[i], &m, sizeof(m)))
                return false;
            if (m.kind == kind) {
                have[i] = true;
                got[i] = m;
                left--;
            }
        }
    }
    return true;
}

struct totals {
    unsigned conns, failed, dropped, dups;
    bool ok_ready, ok_warm, ok_done;
    int warm_tries;
    double connect_s;
    double client_cpu_s; /* the subscriber processes' user + system time, whole run */
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double pct_ms(const uint32_t *v, size_t n, double q)
{
    size_t i;

    if (!n)
        return 0;
    i = (size_t)(q * (double)(n - 1) + 0.5);
    return (double)v[i] / 1000.0;
}

/*
 * One JSON line on standard output for the run; a human summary on standard error. Latency
 * percentiles and last-subscriber times come from the paced posts (one post at a time, the
 * realistic case); deliveries per second from the burst (posts published back to back, each
 * after the previous one was acknowledged), from the first burst publish to the last receipt.
 */
static int print_stats(const struct opts *o, const uint32_t *lat, const int64_t *pub, unsigned k,
                       const struct totals *tt, struct sstat s_before, struct sstat s_idle,
                       struct sstat s_cpu0, struct sstat s_cpu1, int64_t cpu_wall_us)
{
    uint32_t *tmp = xmalloc((size_t)o->n * (o->paced ? o->paced : 1) * sizeof(uint32_t));
    double last[MAX_POSTS];
    size_t nt = 0;
    uint64_t expected = (uint64_t)o->n * (k - 1), received = 0, burst_recv = 0;
    int64_t burst_end = 0;
    double cpu_s, burst_s = 0, dps = 0, rss_per_sub, last_med = 0, last_max = 0, last_p99 = 0;
    long hz = sysconf(_SC_CLK_TCK);
    bool pass;

    for (unsigned p = 1; p < k; p++) {
        uint32_t mx = 0;

        for (unsigned c = 0; c < o->n; c++) {
            uint32_t v = lat[(size_t)c * k + p];

            if (!v)
                continue;
            received++;
            if (v > mx)
                mx = v;
            if (p <= o->paced)
                tmp[nt++] = v - 1;
            else
                burst_recv++;
        }
        if (p <= o->paced)
            last[p - 1] = (double)(mx ? mx - 1 : 0) / 1000.0;
        else if (mx && pub[p] + (int64_t)mx - 1 > burst_end)
            burst_end = pub[p] + (int64_t)mx - 1;
    }
    qsort(tmp, nt, sizeof(uint32_t), cmp_u32);
    if (o->paced) {
        qsort(last, o->paced, sizeof(double), cmp_double);
        last_med = last[(o->paced - 1) / 2];
        last_max = last[o->paced - 1];
        last_p99 = last[(size_t)(0.99 * (o->paced - 1) + 0.5)];
    }
    if (o->burst && burst_end > pub[o->paced + 1]) {
        burst_s = (double)(burst_end - pub[o->paced + 1]) / 1e6;
        dps = (double)burst_recv / burst_s;
    }
    cpu_s = (double)(s_cpu1.ticks - s_cpu0.ticks) / (double)hz;
    rss_per_sub = ((double)s_idle.rss_kb - (double)s_before.rss_kb) * 1024.0 / o->n;
    pass = tt->ok_ready && tt->ok_warm && tt->ok_done && !tt->failed && !tt->dropped &&
           received == expected;
    printf("{\"label\":\"%s\",\"target\":\"%s\",\"proto\":\"%s\",\"n\":%u,\"procs\":%u,"
           "\"paced\":%u,\"interval_ms\":%u,\"burst\":%u,\"payload\":%u,"
           "\"connect_s\":%.2f,\"failed\":%u,\"dropped\":%u,\"dups\":%u,\"warm_tries\":%d,"
           "\"expected\":%" PRIu64 ",\"received\":%" PRIu64 ",\"missed\":%" PRIu64 ","
           "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,"
           "\"last_ms_median\":%.2f,\"last_ms_p99\":%.2f,\"last_ms_max\":%.2f,"
           "\"burst_s\":%.3f,\"deliveries_per_s\":%.0f,"
           "\"cpu_s\":%.2f,\"cpu_wall_s\":%.2f,\"cpu_us_per_delivery\":%.3f,"
           "\"client_cpu_s\":%.2f,"
           "\"rss_before_kb\":%" PRIu64 ",\"rss_idle_kb\":%" PRIu64 ",\"rss_per_sub_b\":%.0f,"
           "\"pass\":%s}\n",
           o->label, o->target == T_ARALDO ? "araldo" : "nchan", o->proto == P_SSE ? "sse" : "ws",
           o->n, o->procs, o->paced, o->interval_ms, o->burst, o->payload, tt->connect_s,
           tt->failed, tt->dropped, tt->dups, tt->warm_tries, expected, received,
           expected - received, pct_ms(tmp, nt, 0.5), pct_ms(tmp, nt, 0.99), pct_ms(tmp, nt, 1.0),
           last_med, last_p99, last_max, burst_s, dps, cpu_s, (double)cpu_wall_us / 1e6,
           received ? cpu_s * 1e6 / (double)received : 0, tt->client_cpu_s, s_before.rss_kb,
           s_idle.rss_kb, rss_per_sub, pass ? "true" : "false");
    fflush(stdout);
    fprintf(stderr,
            "fanout_client: %s %s n=%u: received %" PRIu64 "/%" PRIu64 ", p50 %.2f ms, p99 %.2f "
            "ms, last subscriber median %.2f ms (max %.2f), burst %.0f deliveries/s, %.3f µs "
            "CPU per delivery, %.0f B RSS per subscriber%s\n",
            o->target == T_ARALDO ? "araldo" : "nchan", o->proto == P_SSE ? "sse" : "ws", o->n,
            received, expected, pct_ms(tmp, nt, 0.5), pct_ms(tmp, nt, 0.99), last_med, last_max,
            dps, received ? cpu_s * 1e6 / (double)received : 0, rss_per_sub, pass ? "" : " — FAIL");
    free(tmp);
    return pass ? 0 : 1;
}

static void usage(void)
{
    fprintf(
        stderr,
        "usage: fanout_client --target araldo|nchan --proto sse|ws --port P --sub PATH\n"
        "         --pub PATH [--token T] [--channel H] [--host 127.0.0.1] [--n 10000]\n"
        "         [--procs 2] [--src-base 2] [--paced 20] [--interval-ms 500] [--burst 20]\n"
        "         [--payload 200] [--timeout 60] [--server-pids PID,PID] [--label X]\n"
        "         [--alert-zone CODE]   (araldo: --pub is .../alerts, alerts not posts)\n"
        "         [--sub-ports P,P,P]   (child i subscribes on the i-th port; posts to --port)\n");
    exit(2);
}

static void parse_opts(struct opts *o, int argc, char **argv)
{
    static const struct option lo[] = {
        { "target", 1, 0, 'T' },      { "proto", 1, 0, 'P' },       { "host", 1, 0, 'h' },
        { "port", 1, 0, 'p' },        { "sub", 1, 0, 's' },         { "pub", 1, 0, 'u' },
        { "token", 1, 0, 't' },       { "channel", 1, 0, 'c' },     { "n", 1, 0, 'n' },
        { "procs", 1, 0, 'j' },       { "src-base", 1, 0, 'b' },    { "paced", 1, 0, 'm' },
        { "interval-ms", 1, 0, 'i' }, { "burst", 1, 0, 'B' },       { "payload", 1, 0, 'L' },
        { "timeout", 1, 0, 'x' },     { "server-pids", 1, 0, 'S' }, { "label", 1, 0, 'l' },
        { "alert-zone", 1, 0, 'z' },  { "sub-ports", 1, 0, 'Q' },   { 0, 0, 0, 0 },
    };
    int ch;

    *o = (struct opts){ .host = "127.0.0.1",
                        .n = 10000,
                        .procs = 2,
                        .src_base = 2,
                        .paced = 20,
                        .interval_ms = 500,
                        .burst = 20,
                        .payload = 200,
                        .timeout_s = 60,
                        .channel = "bench",
                        .label = "" };
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        char *end = NULL;
        unsigned long v = 0;

        if (strchr("pnjbmiBLx", ch)) {
            errno = 0;
            v = strtoul(optarg, &end, 10);
            if (errno || !*optarg || *end || v > 10000000)
                usage();
        }
        switch (ch) {
        case 'T':
            o->target = !strcmp(optarg, "nchan") ? T_NCHAN : T_ARALDO;
            break;
        case 'P':
            o->proto = !strcmp(optarg, "ws") ? P_WS : P_SSE;
            break;
        case 'h':
            o->host = optarg;
            break;
        case 'p':
            o->port = (int)v;
            break;
        case 's':
            o->sub_path = optarg;
            break;
        case 'u':
            o->pub_path = optarg;
            break;
        case 't':
            o->token = optarg;
            break;
        case 'c':
            o->channel = optarg;
            break;
        case 'n':
            o->n = (unsigned)v;
            break;
        case 'j':
            o->procs = (unsigned)v;
            break;
        case 'b':
            o->src_base = (unsigned)v;
            break;
        case 'm':
            o->paced = (unsigned)v;
            break;
        case 'i':
            o->interval_ms = (unsigned)v;
            break;
        case 'B':
            o->burst = (unsigned)v;
            break;
        case 'L':
            o->payload = (unsigned)v;
            break;
        case 'x':
            o->timeout_s = (unsigned)v;
            break;
        case 'l':
            o->label = optarg;
            break;
        case 'z':
            o->alert_zone = optarg;
            break;
        case 'Q':
            for (char *s = optarg; *s && o->nsub_ports < MAX_PROCS;) {
                long port = strtol(s, &end, 10);

                if (end == s || port <= 0 || port > 65535)
                    usage();
                o->sub_ports[o->nsub_ports++] = (int)port;
                s = *end == ',' ? end + 1 : end;
            }
            break;
        case 'S':
            for (char *s = optarg; *s && o->nserver_pids < 16;) {
                long pid = strtol(s, &end, 10);

                if (end == s || pid <= 0)
                    usage();
                o->server_pids[o->nserver_pids++] = (pid_t)pid;
                s = *end == ',' ? end + 1 : end;
            }
            break;
        default:
            usage();
        }
    }
    if (!o->port || !o->sub_path || !o->pub_path || !o->n || !o->procs || o->procs > MAX_PROCS ||
        o->procs > o->n || 1 + o->paced + o->burst > MAX_POSTS || o->payload < 40 ||
        o->payload > 3000 || o->src_base + o->procs > 255)
        usage();
}

static void raise_nofile(unsigned need)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl))
        die("getrlimit");
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl))
        die("setrlimit");
    if (rl.rlim_cur < need + 16) {
        fprintf(stderr,
                "fanout_client: %u connections per process need %u open files, the "
                "limit is %llu: use more --procs\n",
                need, need + 16, (unsigned long long)rl.rlim_cur);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    struct opts o;
    unsigned k;
    int outs[MAX_PROCS], ctls[MAX_PROCS];
    pid_t pids[MAX_PROCS];
    struct msg got[MAX_PROCS];
    int64_t pub[MAX_POSTS] = { 0 };
    int64_t t0, t_ready;
    struct sstat s_before, s_idle, s_cpu0, s_cpu1;
    uint32_t *lat;
    unsigned conns_total = 0, failed = 0, dropped = 0, dups = 0;
    bool ok_ready, ok_warm, ok_done;
    int64_t cpu_t0, cpu_t1;
    int warm_tries = 0;
    struct rusage ru;
    int rc;

    parse_opts(&o, argc, argv);
    k = 1 + o.paced + o.burst;
    raise_nofile((o.n + o.procs - 1) / o.procs);
    signal(SIGPIPE, SIG_IGN);
    s_before = server_stat(&o);
    lat = xmalloc((size_t)o.n * k * sizeof(uint32_t));
    t0 = mono_us();
    for (unsigned i = 0; i < o.procs; i++) {
        int po[2], pc[2];
        unsigned first = (unsigned)((uint64_t)o.n * i / o.procs);
        unsigned last = (unsigned)((uint64_t)o.n * (i + 1) / o.procs);

        if (pipe2(po, O_CLOEXEC) || pipe2(pc, O_CLOEXEC))
            die("pipe");
        pids[i] = fork();
        if (pids[i] < 0)
            die("fork");
        if (!pids[i]) {
            struct child ch = { .o = &o, .idx = i, .nconns = last - first, .k = k };
            char ip[32];

            close(po[0]);
            close(pc[1]);
            ch.out = po[1];
            ch.ctl = pc[0];
            ch.c = xmalloc(sizeof(struct conn) * ch.nconns);
            for (unsigned j = 0; j < ch.nconns; j++)
                ch.c[j] = (struct conn){ .fd = -1, .state = C_IDLE };
            ch.lat = calloc((size_t)ch.nconns * k, sizeof(uint32_t));
            if (!ch.lat)
                die("calloc");
            snprintf(ip, sizeof(ip), "127.0.0.%u", o.src_base + i);
            ch.src = (struct sockaddr_in){ .sin_family = AF_INET };
            inet_pton(AF_INET, ip, &ch.src.sin_addr);
            ch.dst = (struct sockaddr_in){
                .sin_family = AF_INET,
                .sin_port = htons((uint16_t)(o.nsub_ports ? o.sub_ports[i % o.nsub_ports] : o.port))
            };
            inet_pton(AF_INET, o.host, &ch.dst.sin_addr);
            child_run(&ch);
        }
        close(po[1]);
        close(pc[0]);
        outs[i] = po[0];
        ctls[i] = pc[1];
    }

    ok_ready = wait_all(outs, o.procs, 'R', got, (int)o.timeout_s * 1000);
    t_ready = mono_us();
    for (unsigned i = 0; ok_ready && i < o.procs; i++)
        failed += got[i].b;
    fprintf(stderr, "fanout_client: %s %s n=%u: %s in %.2f s (%u failed)\n",
            o.target == T_ARALDO ? "araldo" : "nchan", o.proto == P_SSE ? "sse" : "ws", o.n,
            ok_ready ? "all connected" : "TIMEOUT connecting", (double)(t_ready - t0) / 1e6,
            failed);
    /* Idle RSS: once every subscriber is connected and nothing has been published yet. */
    usleep(2000000);
    s_idle = server_stat(&o);

    /*
     * Warm-up post 0, repeated each second until every subscriber has it: proves that every
     * subscription is live before anything is measured, whatever the server does
     * asynchronously after its response head.
     */
    ok_warm = false;
    if (ok_ready) {
        int64_t wend = mono_us() + (int64_t)o.timeout_s * 1000000;

        while (!ok_warm && mono_us() < wend) {
            int64_t t;

            if (publish(&o, 0, &t) == 0 && !pub[0])
                pub[0] = t;
            warm_tries++;
            ok_warm = wait_all(outs, o.procs, 'W', got, 1000);
            if (ok_warm)
                break;
        }
    }
    usleep(200000);
    s_cpu0 = server_stat(&o);
    cpu_t0 = mono_us();
    for (unsigned i = 1; ok_warm && i < k; i++) {
        if (i <= o.paced && i > 1)
            usleep(o.interval_ms * 1000);
        if (i == o.paced + 1)
            usleep(o.interval_ms * 1000);
        if (publish(&o, i, &pub[i]))
            break;
    }
    ok_done = ok_warm && wait_all(outs, o.procs, 'D', got, (int)o.timeout_s * 1000);
    cpu_t1 = mono_us();
    s_cpu1 = server_stat(&o);
    for (unsigned i = 0; i < o.procs; i++) {
        if (write_all(ctls[i], "q", 1))
            die("write");
    }

    /* Results: skip any message still in the pipe up to 'E', then the raw latencies. */
    for (unsigned i = 0, off = 0; i < o.procs; i++) {
        struct msg m = { 0 };
        struct result r;

        do {
            if (read_all(outs[i], &m, sizeof(m))) {
                fprintf(stderr, "fanout_client: child %u died\n", i);
                return 2;
            }
        } while (m.kind != 'E');
        if (read_all(outs[i], &r, sizeof(r)) ||
            read_all(outs[i], lat + (size_t)off * k, (size_t)r.conns * k * sizeof(uint32_t))) {
            fprintf(stderr, "fanout_client: child %u died\n", i);
            return 2;
        }
        conns_total += r.conns;
        dropped += r.dropped;
        dups += r.dups;
        if (!ok_ready)
            failed += r.failed;
        off += r.conns;
        waitpid(pids[i], NULL, 0);
    }

    /* Statistics over the measured posts (1..k-1); post 0 was the warm-up. */
    getrusage(RUSAGE_CHILDREN, &ru);
    rc = print_stats(
        &o, lat, pub, k,
        &(struct totals){ conns_total, failed, dropped, dups, ok_ready, ok_warm, ok_done,
                          warm_tries, (double)(t_ready - t0) / 1e6,
                          (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                              (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6 },
        s_before, s_idle, s_cpu0, s_cpu1, cpu_t1 - cpu_t0);
    free(lat);
    return rc;
}
